//! Reading the file back: one subject, or every subject in chunks, as known at a time; and the
//! purge job.
//!
//! A chunk is a range of subject ids read with one ordered query per table, so memory is bounded
//! by the chunk whatever the size of the store, and the queries walk the primary keys in order.

use std::collections::HashMap;

use candor_file::ids::SubjectKey;
use candor_file::model::{
    Account, AccountHistory, AccountKind, Closure, CourtRecord, Currency, Dpd, Inquiry, OrgId, OrgKind, Organisation,
    Purpose, Report, Status, SubjectFile, YearMonth,
};
use candor_file::retention::Retention;
use time::Date;

use crate::conn::{Param, Row, Tx};
use crate::{fetch, from_day_number, transact, Store, StoreError};

/// Subjects read per chunk when walking the whole store.
pub const SUBJECTS_PER_CHUNK: i64 = 2_000;

/// What a read is as of: what the bureau knew at `known_ms`, with retention applied on `today`.
#[derive(Clone, Copy, Debug)]
pub struct FileRead {
    pub known_ms: i64,
    pub today: Date,
    pub retention: Retention,
}

/// A subject's file before retention, with the stored ids the purge needs.
struct Loaded {
    id: i64,
    key: SubjectKey,
    file: SubjectFile,
    account_ids: Vec<i64>,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn parse<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(corrupt)
}

pub(crate) fn subject_key(bytes: Option<Vec<u8>>) -> Result<SubjectKey, StoreError> {
    let bytes = bytes.ok_or_else(|| corrupt("subject without a key"))?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| corrupt("subject key of the wrong length"))?;
    Ok(SubjectKey(key))
}

/// One of the tables read for a person: what it is read from (`{p}` after a table partitioned by
/// subject, where one person's read may name the partition), the columns, the subject column it
/// is filtered by, whether it is read as known at a time (`recorded_ms`), and the
/// order of its rows (the primary key's, so later versions come last).
pub(crate) struct Part {
    from: &'static str,
    columns: &'static str,
    subject: &'static str,
    as_of: bool,
    order: &'static str,
}

impl Part {
    /// Its `WHERE` clause: one subject (`$1`), or a range (`$1`, `$2`), as known at the next
    /// parameter when `as_of`.
    fn filter(&self, range: bool) -> String {
        let subject = self.subject;
        match (range, self.as_of) {
            (false, false) => format!("{subject} = $1"),
            (false, true) => format!("{subject} = $1 AND recorded_ms <= $2"),
            (true, false) => format!("{subject} BETWEEN $1 AND $2"),
            (true, true) => format!("{subject} BETWEEN $1 AND $2 AND recorded_ms <= $3"),
        }
    }

    /// The query for one subject (`$1`, and `$2` the time when `as_of`).
    pub(crate) fn select_one(&self) -> String {
        self.select(false)
    }

    fn select(&self, range: bool) -> String {
        format!("SELECT {} FROM {} WHERE {} ORDER BY {}", self.columns, self.table(""), self.filter(range), self.order)
    }

    /// What it is read from, each partitioned table followed by `partition` (`""` for the
    /// whole table, `"_p3"` for one partition).
    fn table(&self, partition: &str) -> String {
        self.from.replace("{p}", partition)
    }
}

/// The tables of a person's file, their disputes and statements, and their consents and freezes,
/// in the order [`load_range`], [`crate::Store::reported`] and [`crate::Store::standing`] read
/// them.
pub(crate) const PARTS: [Part; 9] = [
    Part {
        from: "subjects",
        columns: "subject_id, subject_key",
        subject: "subject_id",
        as_of: true,
        order: "subject_id",
    },
    Part {
        from: "account_versions{p}",
        columns: "subject_id, account_id, furnisher, reference, kind, opened, currency",
        subject: "subject_id",
        as_of: true,
        order: "subject_id, account_id, recorded_ms, batch_id",
    },
    Part {
        from: "reports{p}",
        columns: "account_id, month, balance_minor, limit_minor, paid_minor, dpd, status, delinquent_since",
        subject: "subject_id",
        as_of: true,
        order: "subject_id, account_id, month, recorded_ms, batch_id",
    },
    Part {
        from: "inquiries{p}",
        columns: "subject_id, org_id, day, purpose",
        subject: "subject_id",
        as_of: true,
        order: "subject_id, day, org_id",
    },
    Part {
        from: "court_records{p}",
        columns: "subject_id, court, case_number, amount_minor, currency, grounds, listed, closed, outcome",
        subject: "subject_id",
        as_of: true,
        order: "subject_id, court, case_number, recorded_ms, batch_id",
    },
    Part {
        from: "disputes{p} d JOIN dispute_steps{p} s ON s.subject_id = d.subject_id AND s.dispute_id = d.dispute_id",
        columns: "d.dispute_id, d.record_kind, d.record_ref, d.opened_ms, s.state, d.furnisher",
        subject: "d.subject_id",
        as_of: false,
        order: "d.dispute_id, s.recorded_ms, s.seq",
    },
    Part {
        from: "statements{p}",
        columns: "record_ref, text",
        subject: "subject_id",
        as_of: false,
        order: "record_ref, recorded_ms",
    },
    Part {
        from: "consents{p}",
        columns: "org_id, purpose, granted, until, revoked",
        subject: "subject_id",
        as_of: false,
        order: "org_id, purpose, recorded_ms",
    },
    Part { from: "freezes{p}", columns: "placed", subject: "subject_id", as_of: false, order: "recorded_ms DESC" },
];
const SUBJECTS: usize = 0;
const ACCOUNTS: usize = 1;
const REPORTS: usize = 2;
const INQUIRIES: usize = 3;
const COURT_RECORDS: usize = 4;
pub(crate) const DISPUTES: usize = 5;
pub(crate) const STATEMENTS: usize = 6;
const CONSENTS: usize = 7;
const FREEZES: usize = 8;
/// The parts of what a report shows.
const REPORTED: usize = 7;
/// The parts of the file itself.
const FILE: usize = 5;

/// The rows of the first `wanted` [`PARTS`] for a range of subjects: a query per table, or, for
/// one person on a server a round trip away, every table in one statement (each as a JSON array
/// of rows, in the same order), read back table by table as if queried alone.
pub(crate) struct FileParts<'t, T> {
    tx: &'t mut T,
    range: bool,
    params: [Param<'static>; 3],
    fetched: Option<Vec<Option<String>>>,
}

impl<'t, T: Tx> FileParts<'t, T> {
    pub(crate) fn new(
        tx: &'t mut T,
        lo: i64,
        hi: i64,
        known_ms: i64,
        wanted: usize,
    ) -> Result<FileParts<'t, T>, StoreError> {
        // One person's file is read by equality on the subject: the one hash partition that
        // holds it is all PostgreSQL reads (a range reads every partition), and a distributed
        // store routes the query to one shard. A walk reads a range.
        let range = lo != hi;
        let params = if range {
            [Param::Int(lo), Param::Int(hi), Param::Int(known_ms)]
        } else {
            [Param::Int(lo), Param::Int(known_ms), Param::Int(0)]
        };
        let fetched = if !range && tx.round_trips() {
            let read = |r: &dyn Row| (0..wanted).map(|k| r.opt_text(k)).collect::<Result<Vec<_>, _>>();
            let statement = all_in_one(wanted, crate::pg_partition(lo));
            Some(tx.query_one(statement, &params[..2], read)?.unwrap_or_default())
        } else {
            None
        };
        Ok(FileParts { tx, range, params, fetched })
    }

    /// Calls `each` on every row of part `k`, in order.
    pub(crate) fn each(
        &mut self,
        k: usize,
        each: &mut dyn FnMut(&dyn Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let part = &PARTS[k];
        let Some(fetched) = &self.fetched else {
            let used = usize::from(self.range) + 1 + usize::from(part.as_of);
            return self.tx.query(&part.select(self.range), &self.params[..used], each);
        };
        let Some(Some(text)) = fetched.get(k) else { return Ok(()) };
        let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(text).map_err(corrupt)?;
        for row in &rows {
            each(&JsonRow(row))?;
        }
        Ok(())
    }
}

/// The statement that reads the first `wanted` [`PARTS`] of one person (`$1`, as known at `$2`)
/// at once, each as a JSON array of its rows, from the `partition` that holds the person
/// ([`crate::pg_partition`]): naming it spares PostgreSQL locking every other partition and its
/// indexes on each execution. Written once per (`partition`, `wanted`).
fn all_in_one(wanted: usize, partition: u32) -> &'static str {
    static STATEMENTS: std::sync::OnceLock<Vec<Vec<String>>> = std::sync::OnceLock::new();
    let statements = STATEMENTS.get_or_init(|| {
        (0..crate::PG_PARTITIONS)
            .map(|k| {
                let suffix = format!("_p{k}");
                (1..=PARTS.len())
                    .map(|n| {
                        let parts: Vec<String> = PARTS[..n]
                            .iter()
                            .map(|p| {
                                format!(
                                    "(SELECT json_agg(json_build_array({}) ORDER BY {}) FROM {} WHERE {})::text",
                                    p.columns,
                                    p.order,
                                    p.table(&suffix),
                                    p.filter(false)
                                )
                            })
                            .collect();
                        format!("SELECT {}", parts.join(", "))
                    })
                    .collect()
            })
            .collect()
    });
    &statements[partition as usize % statements.len()][wanted.clamp(1, PARTS.len()) - 1]
}

/// A row PostgreSQL gave as a JSON array: integers as numbers, text as strings, bytes as
/// `\x`-prefixed hex strings.
struct JsonRow<'a>(&'a [serde_json::Value]);

impl JsonRow<'_> {
    fn value(&self, i: usize) -> Result<Option<&serde_json::Value>, StoreError> {
        match self.0.get(i) {
            None => Err(corrupt(format!("a row without column {i}"))),
            Some(serde_json::Value::Null) => Ok(None),
            Some(v) => Ok(Some(v)),
        }
    }
}

impl Row for JsonRow<'_> {
    fn any(&self, i: usize) -> Result<crate::conn::Any, StoreError> {
        use crate::conn::Any;
        Ok(match self.value(i)? {
            None => Any::Null,
            Some(serde_json::Value::String(s)) => Any::Text(s.clone()),
            Some(_) => Any::Int(self.int(i)?),
        })
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        self.opt_int(i)?.ok_or_else(|| corrupt(format!("column {i} is null")))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.value(i)?.map(|v| v.as_i64().ok_or_else(|| corrupt(format!("column {i} is not an integer")))).transpose()
    }
    fn text(&self, i: usize) -> Result<String, StoreError> {
        self.opt_text(i)?.ok_or_else(|| corrupt(format!("column {i} is null")))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        self.value(i)?
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| corrupt(format!("column {i} is not text"))))
            .transpose()
    }
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(text) = self.opt_text(i)? else { return Ok(None) };
        let digits = text.strip_prefix("\\x").ok_or_else(|| corrupt(format!("column {i} is not bytes")))?;
        hex::decode(digits).map(Some).map_err(corrupt)
    }
}

fn load_range<T: Tx>(tx: &mut T, lo: i64, hi: i64, known_ms: i64) -> Result<Vec<Loaded>, StoreError> {
    load_parts(&mut FileParts::new(tx, lo, hi, known_ms, FILE)?)
}

/// The files of the subjects `parts` reads.
fn load_parts<T: Tx>(parts: &mut FileParts<'_, T>) -> Result<Vec<Loaded>, StoreError> {
    let mut loaded: Vec<Loaded> = Vec::new();
    parts.each(SUBJECTS, &mut |r| {
        loaded.push(Loaded {
            id: r.int(0)?,
            key: subject_key(r.opt_bytes(1)?)?,
            file: SubjectFile::default(),
            account_ids: Vec::new(),
        });
        Ok(())
    })?;
    let position: HashMap<i64, usize> = loaded.iter().enumerate().map(|(i, l)| (l.id, i)).collect();
    let slot = |sid: i64| position.get(&sid).copied();

    // Latest version of each account, in account order per subject.
    let mut accounts: Vec<(i64, i64, Account)> = Vec::new();
    parts.each(ACCOUNTS, &mut |r| {
        let account = Account {
            furnisher: parse(OrgId::parse(&r.text(2)?))?,
            reference: r.text(3)?,
            kind: parse(AccountKind::parse(&r.text(4)?))?,
            opened: from_day_number(r.int(5)?)?,
            currency: parse(Currency::parse(&r.text(6)?))?,
        };
        let (sid, aid) = (r.int(0)?, r.int(1)?);
        match accounts.last_mut() {
            Some(last) if last.1 == aid => *last = (sid, aid, account),
            _ => accounts.push((sid, aid, account)),
        }
        Ok(())
    })?;
    let mut account_slot: HashMap<i64, (usize, usize)> = HashMap::with_capacity(accounts.len());
    for (sid, aid, account) in accounts {
        if let Some(i) = slot(sid) {
            let l = &mut loaded[i];
            account_slot.insert(aid, (i, l.file.accounts.len()));
            l.file.accounts.push(AccountHistory { account, reports: Vec::new() });
            l.account_ids.push(aid);
        }
    }

    // Latest version of each (account, month): rows arrive in key order, later versions last.
    let mut last_key: Option<(i64, i32)> = None;
    parts.each(REPORTS, &mut |r| {
        let aid = r.int(0)?;
        let Some(&(i, a)) = account_slot.get(&aid) else { return Ok(()) };
        let report = read_report(r)?;
        let reports = &mut loaded[i].file.accounts[a].reports;
        if last_key == Some((aid, report.month.0)) {
            if let Some(last) = reports.last_mut() {
                *last = report;
            }
        } else {
            last_key = Some((aid, report.month.0));
            reports.push(report);
        }
        Ok(())
    })?;

    parts.each(INQUIRIES, &mut |r| {
        if let Some(i) = slot(r.int(0)?) {
            loaded[i].file.inquiries.push(Inquiry {
                org: parse(OrgId::parse(&r.text(1)?))?,
                date: from_day_number(r.int(2)?)?,
                purpose: parse(Purpose::parse(&r.text(3)?))?,
            });
        }
        Ok(())
    })?;

    parts.each(COURT_RECORDS, &mut |r| {
        let Some(i) = slot(r.int(0)?) else { return Ok(()) };
        let closed = match (r.opt_int(7)?, r.opt_text(8)?) {
            (Some(day), Some(outcome)) => Some((from_day_number(day)?, parse(Closure::parse(&outcome))?)),
            _ => None,
        };
        let record = CourtRecord {
            court: parse(OrgId::parse(&r.text(1)?))?,
            case_number: r.text(2)?,
            amount_minor: r.int(3)?,
            currency: parse(Currency::parse(&r.text(4)?))?,
            grounds: r.text(5)?,
            listed: from_day_number(r.int(6)?)?,
            closed,
        };
        let records = &mut loaded[i].file.court_records;
        match records.last_mut() {
            Some(last) if last.court == record.court && last.case_number == record.case_number => *last = record,
            _ => records.push(record),
        }
        Ok(())
    })?;
    Ok(loaded)
}

fn read_report(r: &dyn Row) -> Result<Report, StoreError> {
    let month = i32::try_from(r.int(1)?).map_err(corrupt)?;
    Ok(Report {
        month: YearMonth(month),
        balance_minor: r.int(2)?,
        limit_minor: r.int(3)?,
        paid_minor: r.int(4)?,
        dpd: parse(Dpd::parse(r.int(5)?))?,
        status: parse(Status::parse(&r.text(6)?))?,
        delinquent_since: r.opt_int(7)?.map(from_day_number).transpose()?,
    })
}

pub(crate) fn organisation<T: Tx>(tx: &mut T, id: &OrgId) -> Result<Option<Organisation>, StoreError> {
    tx.query_one(
        "SELECT org_id, kind, name FROM organisations WHERE org_id = $1",
        &[Param::Text(id.as_str())],
        read_org,
    )
}

pub(crate) fn organisation_by_key<T: Tx>(tx: &mut T, hash: &[u8]) -> Result<Option<Organisation>, StoreError> {
    tx.query_one(
        "SELECT org_id, kind, name FROM organisations WHERE api_key_hash = $1",
        &[Param::Bytes(hash)],
        read_org,
    )
}

pub(crate) fn read_org(r: &dyn Row) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: parse(OrgId::parse(&r.text(0)?))?,
        kind: parse(OrgKind::parse(&r.text(1)?))?,
        name: r.text(2)?,
    })
}

pub(crate) fn quarantine<T: Tx>(tx: &mut T, batch_id: i64) -> Result<Vec<(i64, String, String)>, StoreError> {
    let mut out = Vec::new();
    tx.query(
        "SELECT record_no, rule, message FROM quarantine WHERE batch_id = $1 ORDER BY seq",
        &[Param::Int(batch_id)],
        &mut |r| {
            out.push((r.int(0)?, r.text(1)?, r.text(2)?));
            Ok(())
        },
    )?;
    Ok(out)
}

/// A subject's file with what a report shows beside it ([`crate::Store::reported`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reported {
    pub file: SubjectFile,
    /// Every dispute at its latest state, oldest first.
    pub disputes: Vec<candor_file::model::Dispute>,
    /// The current statements: (record reference, text), by reference.
    pub statements: Vec<(String, String)>,
}

/// A person's consents and freeze now, beside what a report shows ([`crate::Store::standing`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    /// The latest state of each (organisation, purpose) consent.
    pub consents: Vec<candor_file::model::Consent>,
    /// Whether the person's file is frozen.
    pub frozen: bool,
    pub reported: Reported,
}

/// What the purge job removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurgeOutcome {
    pub purge_id: i64,
    pub reports_deleted: u64,
    pub court_records_deleted: u64,
}

impl Store {
    /// The highest subject id: the extent of a walk over the store, for progress bars.
    pub fn max_subject_id(&mut self) -> Result<i64, StoreError> {
        transact!(self, |tx| tx
            .query_one("SELECT COALESCE(MAX(subject_id), 0) FROM subjects", &[], |r| r.int(0))?
            .unwrap_or(0))
    }

    /// The subject's id, if the bureau knows them (inside a unit or snapshot, looked up once;
    /// once seen committed, never again on this connection).
    pub fn subject_id(&mut self, key: &SubjectKey) -> Result<Option<i64>, StoreError> {
        if let Some((known, id)) = self.memo.filter(|_| self.in_unit) {
            if known == *key {
                return Ok(Some(id));
            }
        }
        if let Some(&id) = self.ids.get(key) {
            return Ok(Some(id));
        }
        let id = fetch!(self, |tx| crate::records::known_subject(&mut tx, key)?)?;
        if let (Some(id), true) = (id, self.in_unit) {
            self.memo = Some((*key, id));
        }
        if let (Some(id), true) = (id, !self.in_unit || self.read_only) {
            self.keep_id(*key, id);
        }
        Ok(id)
    }

    /// Keeps a subject's id seen committed (see [`Store::subject_id`]).
    pub(crate) fn keep_id(&mut self, key: SubjectKey, id: i64) {
        if self.ids.len() >= crate::KEPT_IDS {
            self.ids.clear();
        }
        self.ids.insert(key, id);
    }

    /// Every subject's coarse region (as given at first sight; none if unknown): the only place
    /// the bureau holds about a person, for aggregate statistics.
    pub fn regions(&mut self) -> Result<std::collections::HashMap<SubjectKey, Option<String>>, StoreError> {
        transact!(self, |tx| {
            let mut out = std::collections::HashMap::new();
            tx.query("SELECT subject_key, region FROM subjects", &[], &mut |r| {
                out.insert(subject_key(r.opt_bytes(0)?)?, r.opt_text(1)?);
                Ok(())
            })?;
            out
        })
    }

    /// One subject's file as `read` says, or `None` if the bureau did not know the subject then.
    pub fn file(&mut self, key: &SubjectKey, read: &FileRead) -> Result<Option<SubjectFile>, StoreError> {
        let Some(id) = self.subject_id(key)? else { return Ok(None) };
        let mut loaded = fetch!(self, |tx| load_range(&mut tx, id, id, read.known_ms)?)?;
        Ok(loaded.pop().map(|mut l| {
            read.retention.apply(&mut l.file, read.today);
            l.file
        }))
    }

    /// One subject's file as `read` says, with their disputes (each at its latest state) and
    /// their current statements: what a report shows. `None` if the bureau did not know the
    /// subject then. On PostgreSQL one statement reads it all.
    pub fn reported(&mut self, key: &SubjectKey, read: &FileRead) -> Result<Option<Reported>, StoreError> {
        Ok(self.read_parts(key, read, REPORTED)?.map(|s| s.reported))
    }

    /// What a lender's read needs of a person: their consents and freeze now, and what a report
    /// shows of their file as `read` says ([`Store::reported`]). `None` if the bureau did not
    /// know the subject then. On PostgreSQL one statement reads it all.
    pub fn standing(&mut self, key: &SubjectKey, read: &FileRead) -> Result<Option<Standing>, StoreError> {
        self.read_parts(key, read, PARTS.len())
    }

    /// The first `wanted` parts of one person's reads ([`PARTS`]), those not wanted left empty.
    fn read_parts(&mut self, key: &SubjectKey, read: &FileRead, wanted: usize) -> Result<Option<Standing>, StoreError> {
        let Some(id) = self.subject_id(key)? else { return Ok(None) };
        let (mut loaded, disputes, statements, consents, frozen) = fetch!(self, |tx| {
            let mut parts = FileParts::new(&mut tx, id, id, read.known_ms, wanted)?;
            let loaded = load_parts(&mut parts)?;
            let mut disputes = Vec::new();
            parts.each(DISPUTES, &mut |r| crate::records::fold_dispute(&mut disputes, r))?;
            let mut statements = Vec::new();
            parts.each(STATEMENTS, &mut |r| crate::records::fold_statement(&mut statements, r))?;
            statements.retain(|(_, text): &(String, String)| !text.is_empty());
            let (mut consents, mut frozen) = (Vec::new(), None);
            if wanted > FREEZES {
                parts.each(CONSENTS, &mut |r| crate::records::fold_consent(&mut consents, r))?;
                parts.each(FREEZES, &mut |r| {
                    frozen = frozen.or(Some(r.int(0)? == 1));
                    Ok(())
                })?;
            }
            (loaded, disputes, statements, consents, frozen.unwrap_or(false))
        })?;
        Ok(loaded.pop().map(|mut l| {
            read.retention.apply(&mut l.file, read.today);
            Standing { consents, frozen, reported: Reported { file: l.file, disputes, statements } }
        }))
    }

    /// The files of subjects `lo..=hi` (by subject id) as `read` says, in subject order: one
    /// chunk of a walk a caller paces itself, letting the store go between chunks.
    pub fn files_in_range(
        &mut self,
        lo: i64,
        hi: i64,
        read: &FileRead,
    ) -> Result<Vec<(SubjectKey, SubjectFile)>, StoreError> {
        let loaded = transact!(self, |tx| load_range(&mut tx, lo, hi, read.known_ms)?)?;
        Ok(loaded
            .into_iter()
            .map(|mut l| {
                read.retention.apply(&mut l.file, read.today);
                (l.key, l.file)
            })
            .collect())
    }

    /// Calls `each` with every subject's file as `read` says, in subject order, a chunk at a time;
    /// `progress` hears the highest subject id done. Returns how many subjects it read.
    pub fn for_each_file(
        &mut self,
        read: &FileRead,
        each: &mut dyn FnMut(&SubjectKey, &SubjectFile) -> Result<(), StoreError>,
        progress: &mut dyn FnMut(i64),
    ) -> Result<u64, StoreError> {
        let max = self.max_subject_id()?;
        let mut count = 0;
        let mut lo = 1;
        while lo <= max {
            let hi = lo + SUBJECTS_PER_CHUNK - 1;
            for (key, file) in self.files_in_range(lo, hi, read)? {
                each(&key, &file)?;
                count += 1;
            }
            progress(hi.min(max));
            lo = hi + 1;
        }
        Ok(count)
    }

    /// Deletes every report retention hides on `today` and every closed court record, in one
    /// transaction; keeps the hashes of what it deleted, records the purge and logs it.
    pub fn purge(&mut self, today: Date, retention: Retention, now_ms: i64) -> Result<PurgeOutcome, StoreError> {
        transact!(self, |tx| {
            let max =
                tx.query_one("SELECT COALESCE(MAX(subject_id), 0) FROM subjects", &[], |r| r.int(0))?.unwrap_or(0);
            let purge_id =
                tx.query_one("SELECT COALESCE(MAX(purge_id), 0) + 1 FROM purges", &[], |r| r.int(0))?.unwrap_or(1);
            let mut outcome = PurgeOutcome { purge_id, ..PurgeOutcome::default() };
            let mut lo = 1;
            while lo <= max {
                let hi = lo + SUBJECTS_PER_CHUNK - 1;
                let (reports, courts) = purge_range(&mut tx, lo, hi, today, retention, purge_id)?;
                outcome.reports_deleted += reports;
                outcome.court_records_deleted += courts;
                lo = hi + 1;
            }
            tx.execute(
                "INSERT INTO purges (purge_id, recorded_ms, today, negative_years, reports_deleted, court_records_deleted) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    Param::Int(purge_id),
                    Param::Int(now_ms),
                    crate::param_date(today),
                    Param::Int(i64::from(retention.negative_years)),
                    Param::Int(outcome.reports_deleted as i64),
                    Param::Int(outcome.court_records_deleted as i64),
                ],
            )?;
            let purged = crate::log::purged_digest(&mut tx, purge_id)?;
            let leaf = candor_log::Leaf::Purge(candor_log::leaf::Purge {
                leaf_version: candor_log::LEAF_VERSION,
                purge_id,
                today: today.to_string(),
                negative_years: retention.negative_years,
                reports_deleted: outcome.reports_deleted,
                court_records_deleted: outcome.court_records_deleted,
                purged: hex::encode(purged),
                recorded_ms: now_ms,
            });
            crate::log::append(&mut tx, &leaf)?;
            outcome
        })
    }
}

/// Deletes the rows `select` finds, keeping each one's hash (and batch) in `purged_rows`.
fn delete_keeping_hashes<T: Tx>(
    tx: &mut T,
    table: &'static str,
    filter: &str,
    params: &[Param<'_>],
    purge_id: i64,
) -> Result<u64, StoreError> {
    let (_, columns) =
        crate::log::FACT_TABLES.iter().find(|(t, _)| *t == table).copied().unwrap_or((table, "batch_id"));
    let n = columns.split(',').count();
    let batch_column = columns.split(',').position(|c| c.trim() == "batch_id").unwrap_or(0);
    let mut kept: Vec<(i64, candor_log::Hash)> = Vec::new();
    tx.query(&format!("SELECT {columns} FROM {table} WHERE {filter}"), params, &mut |r| {
        kept.push((r.int(batch_column)?, crate::log::row_hash(table, r, n)?));
        Ok(())
    })?;
    for (batch, hash) in &kept {
        tx.execute(
            "INSERT INTO purged_rows (batch_id, table_name, row_hash, purge_id) VALUES ($1, $2, $3, $4)",
            &[Param::Int(*batch), Param::Text(table), Param::Bytes(hash), Param::Int(purge_id)],
        )?;
    }
    tx.execute(&format!("DELETE FROM {table} WHERE {filter}"), params)
}

fn purge_range<T: Tx>(
    tx: &mut T,
    lo: i64,
    hi: i64,
    today: Date,
    retention: Retention,
    purge_id: i64,
) -> Result<(u64, u64), StoreError> {
    let (mut reports, mut courts) = (0, 0);
    for l in load_range(tx, lo, hi, i64::MAX)? {
        for (history, &aid) in l.file.accounts.iter().zip(&l.account_ids) {
            for (report, day) in history.reports.iter().zip(retention.age_off_days(history)) {
                if day.is_some_and(|d| d <= today) {
                    reports += delete_keeping_hashes(
                        tx,
                        "reports",
                        "subject_id = $1 AND account_id = $2 AND month = $3",
                        &[Param::Int(l.id), Param::Int(aid), Param::Int(i64::from(report.month.0))],
                        purge_id,
                    )?;
                }
            }
        }
        for record in l.file.court_records.iter().filter(|c| c.closed.is_some()) {
            courts += delete_keeping_hashes(
                tx,
                "court_records",
                "subject_id = $1 AND court = $2 AND case_number = $3",
                &[Param::Int(l.id), Param::Text(record.court.as_str()), Param::Text(&record.case_number)],
                purge_id,
            )?;
        }
    }
    Ok((reports, courts))
}
