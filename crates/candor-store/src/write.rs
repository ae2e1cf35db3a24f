//! Applying a batch: every row it carries, in one transaction, or nothing.
//!
//! The checks that need the stored file happen here, and all of them run before the transaction
//! is given up, so a rejected batch comes back with every problem listed: a report for an account
//! never opened, an account reference that belongs to another subject, two reports for one account
//! and month, a closure for a case the court never listed.

use std::collections::{HashMap, HashSet};

use candor_file::ids::SubjectKey;
use candor_file::model::{CourtRecord, Currency, Organisation, YearMonth};
use time::Date;

use crate::conn::{Param, Tx};
use crate::{param_date, Batch, Problem, StoreError};

/// What applying a batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub batch_id: i64,
    /// The same bytes were applied before (as `batch_id`); nothing changed.
    pub duplicate: bool,
    pub records: usize,
    pub subjects: usize,
    pub accounts: usize,
    pub reports: usize,
    pub inquiries: usize,
    pub court_records: usize,
    pub closures: usize,
    pub quarantined: usize,
    /// The transparency-log leaf recording the batch.
    pub leaf: i64,
}

/// Rows per multi-row INSERT: one round trip for many rows, within both databases' parameter
/// limits (11 columns × 500 = 5,500 parameters).
const ROWS_PER_INSERT: usize = 500;

const REPORT_COLUMNS: [&str; 11] = [
    "subject_id",
    "account_id",
    "month",
    "recorded_ms",
    "batch_id",
    "balance_minor",
    "limit_minor",
    "paid_minor",
    "dpd",
    "status",
    "delinquent_since",
];

/// `head` followed by `rows` groups of `columns` numbered placeholders, then `tail`.
fn multi_row_sql(head: &str, tail: &str, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * columns * 6);
    sql.push_str(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * columns + c + 1).to_string());
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

/// Inserts `rows` (`head` ends in `VALUES `): on SQLite with as few statements as
/// [`ROWS_PER_INSERT`] allows; on PostgreSQL as one array a column, [`KEYS_PER_LOOKUP`] rows a
/// statement — one prepared statement whatever their number, where a `VALUES` list of 500 rows
/// is thousands of parameters parsed and planned afresh for each count of rows.
pub(crate) fn insert_rows<T: Tx, const N: usize>(
    tx: &mut T,
    head: &str,
    tail: &str,
    rows: &[[Param<'_>; N]],
) -> Result<(), StoreError> {
    insert_rows_then(tx, head, tail, rows, None)
}

/// What is called on each row a statement returns.
pub(crate) type EachRow<'e> = dyn FnMut(&dyn crate::conn::Row) -> Result<(), StoreError> + 'e;

/// [`insert_rows`], calling `each` on every row the statements return (a `tail` with `RETURNING`).
pub(crate) fn insert_rows_then<T: Tx, const N: usize>(
    tx: &mut T,
    head: &str,
    tail: &str,
    rows: &[[Param<'_>; N]],
    mut each: Option<&mut EachRow<'_>>,
) -> Result<(), StoreError> {
    let mut run = |tx: &mut T, sql: &str, params: &[Param<'_>]| match each.as_mut() {
        Some(each) => tx.query(sql, params, *each),
        None => tx.execute(sql, params).map(|_| ()),
    };
    if tx.round_trips() {
        let into = head
            .strip_suffix("VALUES ")
            .ok_or_else(|| StoreError::Corrupt("an insert's head ends in VALUES".into()))?;
        for chunk in rows.chunks(KEYS_PER_LOOKUP) {
            let mut params = Vec::with_capacity(N);
            let mut arrays = Vec::with_capacity(N);
            for c in 0..N {
                let (list, kind) = Param::list(chunk.iter().map(|row| &row[c]))
                    .ok_or_else(|| StoreError::Corrupt("an inserted column mixes kinds of value".into()))?;
                params.push(list);
                arrays.push(format!("${}::{kind}[]", c + 1));
            }
            run(tx, &format!("{into}SELECT * FROM unnest({}){tail}", arrays.join(", ")), &params)?;
        }
        return Ok(());
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = multi_row_sql(head, tail, chunk.len(), N);
        let params: Vec<Param<'_>> = chunk.iter().flat_map(|row| row.iter().cloned()).collect();
        run(tx, &sql, &params)?;
    }
    Ok(())
}

/// Values one lookup statement names at most on PostgreSQL, as one array.
const KEYS_PER_LOOKUP: usize = 5_000;

/// Where [`select_in`] looks rows up: `columns` of `table` whose `key` is one of the values and
/// that meet `filter` (a condition on the leading parameters ending in `AND`, or empty).
pub(crate) struct KeyLookup<'s> {
    pub columns: &'s str,
    pub table: &'s str,
    pub filter: &'s str,
    pub key: &'s str,
}

/// Calls `each` on the rows `lookup` finds for `values` (all of one kind: integers, text or
/// bytes), after the fixed `leading` parameters, in no particular order. On SQLite, an `IN`
/// list of [`ROWS_PER_INSERT`] values a statement. On PostgreSQL, the values are one array per
/// [`KEYS_PER_LOOKUP`] and each is looked up through the key's index on its own, whatever the
/// table's statistics say: as an `IN` list, a planner that still takes a table for small (one
/// filled by the batches of the last minute) scanned all of it for a batch's keys, 14 ms
/// against 3 for 500 subjects among 85,000.
pub(crate) fn select_in<T: Tx>(
    tx: &mut T,
    lookup: &KeyLookup<'_>,
    leading: &[Param<'_>],
    values: &[Param<'_>],
    each: &mut dyn FnMut(&dyn crate::conn::Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let KeyLookup { columns, table, filter, key } = lookup;
    if tx.round_trips() {
        for chunk in values.chunks(KEYS_PER_LOOKUP) {
            let Some((list, kind)) = Param::list(chunk) else {
                return Err(StoreError::Corrupt("a key lookup takes integers, text or bytes, all of one kind".into()));
            };
            let n = leading.len() + 1;
            // OFFSET 0 keeps the subquery a subquery: one index lookup per key.
            let sql = format!(
                "SELECT found.* FROM unnest(${n}::{kind}[]) AS wanted(k) CROSS JOIN LATERAL \
                 (SELECT {columns} FROM {table} WHERE {filter}{key} = wanted.k OFFSET 0) AS found"
            );
            let params: Vec<Param<'_>> = leading.iter().cloned().chain([list]).collect();
            tx.query(&sql, &params, each)?;
        }
        return Ok(());
    }
    for chunk in values.chunks(ROWS_PER_INSERT) {
        let mut sql = format!("SELECT {columns} FROM {table} WHERE {filter}{key} IN (");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(leading.len() + i + 1).to_string());
        }
        sql.push(')');
        let params: Vec<Param<'_>> = leading.iter().chain(chunk).cloned().collect();
        tx.query(&sql, &params, each)?;
    }
    Ok(())
}

/// The batch's sender as the bureau registered it: a sender the store has never seen is
/// registered as the batch names it (the operator's own ingestion of a new furnisher's file);
/// one it knows must be named with the kind and name it was registered with, which a batch
/// never changes.
fn sender_as_registered<T: Tx>(tx: &mut T, sender: &Organisation, now_ms: i64) -> Result<(), StoreError> {
    match crate::read::organisation(tx, &sender.id)? {
        None => put_organisation(tx, sender, None, now_ms),
        Some(registered) if registered.kind != sender.kind => Err(StoreError::SenderMismatch {
            field: "sender_kind",
            message: format!(
                "`{}` is registered as a {}, not a {}: only the operator registers an organisation's kind",
                sender.id.as_str(),
                registered.kind.as_str(),
                sender.kind.as_str()
            ),
        }),
        Some(registered) if registered.name != sender.name => Err(StoreError::SenderMismatch {
            field: "sender_name",
            message: format!(
                "`{}` is registered under another name than the batch gives: only the operator renames an organisation",
                sender.id.as_str()
            ),
        }),
        Some(_) => Ok(()),
    }
}

pub(crate) fn put_organisation<T: Tx>(
    tx: &mut T,
    org: &Organisation,
    api_key_hash: Option<&[u8]>,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO organisations (org_id, kind, name, api_key_hash, recorded_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
         api_key_hash = COALESCE(excluded.api_key_hash, organisations.api_key_hash)",
        &[
            Param::Text(org.id.as_str()),
            Param::Text(org.kind.as_str()),
            Param::Text(&org.name),
            Param::OptBytes(api_key_hash),
            Param::Int(now_ms),
        ],
    )?;
    Ok(())
}

pub(crate) fn apply<T: Tx>(tx: &mut T, batch: &Batch, now_ms: i64) -> Result<BatchOutcome, StoreError> {
    let digest = Param::Bytes(&batch.digest);
    if let Some(batch_id) =
        tx.query_one("SELECT batch_id FROM batches WHERE digest = $1", std::slice::from_ref(&digest), |r| r.int(0))?
    {
        return Ok(BatchOutcome { batch_id, duplicate: true, records: batch.records, ..BatchOutcome::default() });
    }
    let applied = batch.accounts.len()
        + batch.reports.len()
        + batch.inquiries.len()
        + batch.court_records.len()
        + batch.closures.len();
    let batch_id = tx
        .query_one(
            "INSERT INTO batches (digest, furnisher, format, recorded_ms, records, applied, quarantined) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING batch_id",
            &[
                digest,
                Param::Text(batch.sender.id.as_str()),
                Param::Text(batch.format),
                Param::Int(now_ms),
                Param::Int(batch.records as i64),
                Param::Int(applied as i64),
                Param::Int(batch.quarantined.len() as i64),
            ],
            |r| r.int(0),
        )?
        .ok_or_else(|| StoreError::Corrupt("no batch id returned".into()))?;
    let mut problems = Vec::new();
    // The hash of every row written, by table, for the batch's leaf in the log.
    let mut hashes = Hashes::new();

    sender_as_registered(tx, &batch.sender, now_ms)?;

    // Subjects: insert the new ones, then learn every id, a few hundred per statement.
    let rows: Vec<[Param<'_>; 5]> = batch
        .subjects
        .iter()
        .map(|e| {
            [
                Param::Bytes(&e.key.0),
                Param::Text(e.scheme.as_str()),
                Param::Text(&e.masked),
                Param::OptText(e.region.as_deref()),
                Param::Int(now_ms),
            ]
        })
        .collect();
    insert_rows(
        tx,
        "INSERT INTO subjects (subject_key, scheme, masked, region, recorded_ms) VALUES ",
        " ON CONFLICT (subject_key) DO NOTHING",
        &rows,
    )?;
    let mut subjects: HashMap<SubjectKey, i64> = HashMap::with_capacity(batch.subjects.len());
    let keys: Vec<Param<'_>> = batch.subjects.iter().map(|e| Param::Bytes(&e.key.0)).collect();
    let lookup = KeyLookup { columns: "subject_key, subject_id", table: "subjects", filter: "", key: "subject_key" };
    select_in(tx, &lookup, &[], &keys, &mut |r| {
        subjects.insert(crate::read::subject_key(r.opt_bytes(0)?)?, r.int(1)?);
        Ok(())
    })?;
    let mut details: Vec<[Param<'_>; 5]> = Vec::new();
    for e in batch.subjects.iter().filter(|e| e.name_sealed.is_some() || e.birth_sealed.is_some()) {
        let id = *subjects.get(&e.key).ok_or_else(|| StoreError::Corrupt("subject vanished after insert".into()))?;
        details.push([
            Param::Int(id),
            Param::Int(now_ms),
            Param::Int(batch_id),
            Param::OptBytes(e.name_sealed.as_deref()),
            Param::OptBytes(e.birth_sealed.as_deref()),
        ]);
    }
    note_all(&mut hashes, "subject_details", &details);
    tx.append_rows(
        "subject_details",
        ["subject_id", "recorded_ms", "batch_id", "name_sealed", "birth_sealed"],
        &details,
    )?;
    let subject_id = |key: &SubjectKey, record: usize, problems: &mut Vec<Problem>| -> Option<i64> {
        let id = subjects.get(key).copied();
        if id.is_none() {
            problems.push(Problem { record, message: "the record's subject is not identified in the batch".into() });
        }
        id
    };

    // Accounts: (reference) -> (account id, subject id), for this furnisher.
    let furnisher = batch.sender.id.as_str();
    let mut accounts: HashMap<String, (i64, i64)> = HashMap::new();
    let references: Vec<Param<'_>> = batch.accounts.iter().map(|(_, a)| Param::Text(&a.reference)).collect();
    select_in(
        tx,
        &KeyLookup {
            columns: "reference, account_id, subject_id",
            table: "accounts",
            filter: "furnisher = $1 AND ",
            key: "reference",
        },
        &[Param::Text(furnisher)],
        &references,
        &mut |r| {
            accounts.insert(r.text(0)?, (r.int(1)?, r.int(2)?));
            Ok(())
        },
    )?;
    let mut owners: HashMap<&str, i64> = HashMap::new();
    let mut fresh: Vec<[Param<'_>; 3]> = Vec::new();
    for (i, (key, account)) in batch.accounts.iter().enumerate() {
        let Some(sid) = subject_id(key, i + 1, &mut problems) else { continue };
        let owner = accounts
            .get(&account.reference)
            .map(|&(_, owner)| owner)
            .or_else(|| owners.get(account.reference.as_str()).copied());
        match owner {
            Some(owner) if owner != sid => problems.push(Problem {
                record: i + 1,
                message: format!("account `{}` is already reported for another subject", account.reference),
            }),
            Some(_) => {}
            None => {
                owners.insert(&account.reference, sid);
                fresh.push([Param::Int(sid), Param::Text(furnisher), Param::Text(&account.reference)]);
            }
        }
    }
    insert_rows_then(
        tx,
        "INSERT INTO accounts (subject_id, furnisher, reference) VALUES ",
        " RETURNING reference, account_id, subject_id",
        &fresh,
        Some(&mut |r| {
            accounts.insert(r.text(0)?, (r.int(1)?, r.int(2)?));
            Ok(())
        }),
    )?;
    let mut versions: Vec<[Param<'_>; 9]> = Vec::with_capacity(batch.accounts.len());
    for (_, account) in &batch.accounts {
        let Some(&(account_id, sid)) = accounts.get(&account.reference) else { continue };
        versions.push([
            Param::Int(sid),
            Param::Int(account_id),
            Param::Int(now_ms),
            Param::Int(batch_id),
            Param::Text(furnisher),
            Param::Text(&account.reference),
            Param::Text(account.kind.as_str()),
            param_date(account.opened),
            Param::Text(account.currency.as_str()),
        ]);
    }
    // One version per account and batch: a reference sent twice in one batch keeps the last.
    let mut last: HashMap<i64, usize> = HashMap::new();
    for (i, v) in versions.iter().enumerate() {
        if let Param::Int(id) = v[1] {
            last.insert(id, i);
        }
    }
    let versions: Vec<[Param<'_>; 9]> = versions
        .into_iter()
        .enumerate()
        .filter(|(i, v)| matches!(v[1], Param::Int(id) if last.get(&id) == Some(i)))
        .map(|(_, v)| v)
        .collect();
    note_all(&mut hashes, "account_versions", &versions);
    tx.append_rows(
        "account_versions",
        ["subject_id", "account_id", "recorded_ms", "batch_id", "furnisher", "reference", "kind", "opened", "currency"],
        &versions,
    )?;

    let mut seen: HashSet<(i64, YearMonth)> = HashSet::with_capacity(batch.reports.len());
    let mut rows: Vec<[Param<'_>; 11]> = Vec::with_capacity(batch.reports.len());
    // Reported months first, so a month reconstructed from a history never displaces one.
    let reported = batch.reports.iter().filter(|e| !e.derived);
    for entry in reported.chain(batch.reports.iter().filter(|e| e.derived)) {
        let Some(sid) = subject_id(&entry.subject, entry.record, &mut problems) else { continue };
        let known = match accounts.get(&entry.reference) {
            Some(&ids) => Some(ids),
            None => {
                let found = tx.query_one(
                    "SELECT account_id, subject_id FROM accounts WHERE furnisher = $1 AND reference = $2",
                    &[Param::Text(furnisher), Param::Text(&entry.reference)],
                    |r| Ok((r.int(0)?, r.int(1)?)),
                )?;
                if let Some(ids) = found {
                    accounts.insert(entry.reference.clone(), ids);
                }
                found
            }
        };
        let Some((account_id, owner)) = known else {
            problems.push(Problem {
                record: entry.record,
                message: format!(
                    "report for account `{}`, which was never opened (send an account record first)",
                    entry.reference
                ),
            });
            continue;
        };
        if owner != sid {
            problems.push(Problem {
                record: entry.record,
                message: format!("account `{}` belongs to another subject", entry.reference),
            });
            continue;
        }
        let r = &entry.report;
        if entry.derived {
            let stored = tx.query_one(
                "SELECT 1 FROM reports WHERE subject_id = $1 AND account_id = $2 AND month = $3 LIMIT 1",
                &[Param::Int(sid), Param::Int(account_id), Param::Int(i64::from(r.month.0))],
                |r| r.int(0),
            )?;
            if stored.is_some() || !seen.insert((account_id, r.month)) {
                continue;
            }
        } else if !seen.insert((account_id, r.month)) {
            problems.push(Problem {
                record: entry.record,
                message: format!(
                    "a second report for account `{}` and month {} in one batch",
                    entry.reference, r.month
                ),
            });
            continue;
        }
        rows.push([
            Param::Int(sid),
            Param::Int(account_id),
            Param::Int(i64::from(r.month.0)),
            Param::Int(now_ms),
            Param::Int(batch_id),
            Param::Int(r.balance_minor),
            Param::Int(r.limit_minor),
            Param::Int(r.paid_minor),
            Param::Int(i64::from(r.dpd.days())),
            Param::Text(r.status.as_str()),
            Param::OptInt(r.delinquent_since.map(crate::day_number)),
        ]);
    }
    note_all(&mut hashes, "reports", &rows);
    tx.append_rows("reports", REPORT_COLUMNS, &rows)?;

    // An inquiry sent twice in one batch is one inquiry.
    let mut once: HashSet<(i64, &str, Date, &str)> = HashSet::with_capacity(batch.inquiries.len());
    let mut inquiries: Vec<[Param<'_>; 6]> = Vec::with_capacity(batch.inquiries.len());
    for (i, (key, inquiry)) in batch.inquiries.iter().enumerate() {
        let Some(sid) = subject_id(key, i + 1, &mut problems) else { continue };
        if !once.insert((sid, inquiry.org.as_str(), inquiry.date, inquiry.purpose.as_str())) {
            continue;
        }
        inquiries.push([
            Param::Int(sid),
            Param::Int(now_ms),
            Param::Int(batch_id),
            Param::Text(inquiry.org.as_str()),
            param_date(inquiry.date),
            Param::Text(inquiry.purpose.as_str()),
        ]);
    }
    note_all(&mut hashes, "inquiries", &inquiries);
    tx.append_rows("inquiries", ["subject_id", "recorded_ms", "batch_id", "org_id", "day", "purpose"], &inquiries)?;

    // A court's listings go in together (before its closures, which may close one of them); a
    // case listed twice for one person in one batch is refused, not left to the primary key.
    let mut listed: HashSet<(i64, &str)> = HashSet::with_capacity(batch.court_records.len());
    let mut listings: Vec<[Param<'_>; 11]> = Vec::with_capacity(batch.court_records.len());
    for (i, (key, record)) in batch.court_records.iter().enumerate() {
        let Some(sid) = subject_id(key, i + 1, &mut problems) else { continue };
        if !listed.insert((sid, record.case_number.as_str())) {
            problems.push(Problem {
                record: i + 1,
                message: format!("case `{}` is listed twice for one person in one batch", record.case_number),
            });
            continue;
        }
        listings.push(court_row(sid, record, now_ms, batch_id));
    }
    note_all(&mut hashes, "court_records", &listings);
    tx.append_rows("court_records", COURT_COLUMNS, &listings)?;
    let cases: HashSet<&str> = listed.iter().map(|&(_, case)| case).collect();

    let mut closing: HashSet<&str> = HashSet::with_capacity(batch.closures.len());
    for closure in &batch.closures {
        // One row per case and batch: a second would collide with the first (or the listing).
        let case = closure.case_number.as_str();
        let twice = if cases.contains(case) {
            Some("listed and closed in one batch: send the closure in a later batch")
        } else if !closing.insert(case) {
            Some("closed twice in one batch")
        } else {
            None
        };
        if let Some(why) = twice {
            problems.push(Problem { record: closure.record, message: format!("case `{case}` is {why}") });
            continue;
        }
        // A closure names the court's case, not a person: it closes the latest listing of every
        // debtor the case was listed against (one judgment may bind several people).
        let mut latest: Vec<(i64, i64, String, String, i64)> = Vec::new();
        tx.query(
            "SELECT subject_id, amount_minor, currency, grounds, listed FROM court_records \
             WHERE court = $1 AND case_number = $2 ORDER BY subject_id, recorded_ms DESC, batch_id DESC",
            &[Param::Text(furnisher), Param::Text(&closure.case_number)],
            &mut |r| {
                let sid = r.int(0)?;
                if latest.last().is_none_or(|&(last, ..)| last != sid) {
                    latest.push((sid, r.int(1)?, r.text(2)?, r.text(3)?, r.int(4)?));
                }
                Ok(())
            },
        )?;
        if latest.is_empty() {
            problems.push(Problem {
                record: closure.record,
                message: format!("closure of case `{}`, which this court never listed", closure.case_number),
            });
            continue;
        }
        if latest.iter().any(|&(.., listed)| crate::day_number(closure.day) < listed) {
            problems.push(Problem {
                record: closure.record,
                message: format!("case `{}` cannot close before it was listed", closure.case_number),
            });
            continue;
        }
        for (sid, amount, currency, grounds, listed) in latest {
            let record = CourtRecord {
                court: batch.sender.id.clone(),
                case_number: closure.case_number.clone(),
                amount_minor: amount,
                currency: Currency::parse(&currency).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                grounds,
                listed: crate::from_day_number(listed)?,
                closed: Some((closure.day, closure.outcome)),
            };
            insert_court_record(tx, &mut hashes, sid, &record, now_ms, batch_id)?;
        }
    }

    let mut held: Vec<[Param<'_>; 6]> = Vec::with_capacity(batch.quarantined.len());
    for (seq, q) in batch.quarantined.iter().enumerate() {
        let Some(sid) = subject_id(&q.subject, q.record, &mut problems) else { continue };
        held.push([
            Param::Int(batch_id),
            Param::Int(seq as i64),
            Param::Int(q.record as i64),
            Param::Int(sid),
            Param::Text(q.rule),
            Param::Text(&q.message),
        ]);
    }
    tx.append_rows("quarantine", ["batch_id", "seq", "record_no", "subject_id", "rule", "message"], &held)?;

    if !problems.is_empty() {
        problems.sort_by_key(|p| p.record);
        return Err(StoreError::Rejected(problems));
    }
    let rows_digest =
        crate::log::combine(|table| hashes.remove(table).map(|set| set.into_iter().collect()).unwrap_or_default());
    let body = crate::log::ingestion_body(batch_id, furnisher, batch.format, &batch.digest, &rows_digest, now_ms);
    let leaf = crate::log::append(tx, &body)?;
    Ok(BatchOutcome {
        leaf,
        batch_id,
        duplicate: false,
        records: batch.records,
        subjects: batch.subjects.len(),
        accounts: batch.accounts.len(),
        reports: batch.reports.len(),
        inquiries: batch.inquiries.len(),
        court_records: batch.court_records.len(),
        closures: batch.closures.len(),
        quarantined: batch.quarantined.len(),
    })
}

/// The columns of `court_records`, in [`court_row`]'s order.
const COURT_COLUMNS: [&str; 11] = [
    "subject_id",
    "court",
    "case_number",
    "recorded_ms",
    "batch_id",
    "amount_minor",
    "currency",
    "grounds",
    "listed",
    "closed",
    "outcome",
];

/// A court record's row, in [`COURT_COLUMNS`]' order.
fn court_row(sid: i64, record: &CourtRecord, now_ms: i64, batch_id: i64) -> [Param<'_>; 11] {
    [
        Param::Int(sid),
        Param::Text(record.court.as_str()),
        Param::Text(&record.case_number),
        Param::Int(now_ms),
        Param::Int(batch_id),
        Param::Int(record.amount_minor),
        Param::Text(record.currency.as_str()),
        Param::Text(&record.grounds),
        param_date(record.listed),
        Param::OptInt(record.closed.map(|(d, _)| crate::day_number(d))),
        Param::OptText(record.closed.map(|(_, c)| c.as_str())),
    ]
}

fn insert_court_record<T: Tx>(
    tx: &mut T,
    hashes: &mut Hashes,
    sid: i64,
    record: &CourtRecord,
    now_ms: i64,
    batch_id: i64,
) -> Result<(), StoreError> {
    let row = court_row(sid, record, now_ms, batch_id);
    note_all(hashes, "court_records", std::slice::from_ref(&row));
    tx.append_rows("court_records", COURT_COLUMNS, std::slice::from_ref(&row))
}

/// Row hashes by table; a set, as identical rows in one batch are stored once.
type Hashes = HashMap<&'static str, HashSet<candor_log::Hash>>;

/// Notes the hashes of rows about to be inserted (their values in the table's column order).
fn note_all<const N: usize>(hashes: &mut Hashes, table: &'static str, rows: &[[Param<'_>; N]]) {
    let set = hashes.entry(table).or_default();
    for row in rows {
        set.insert(crate::log::params_hash(table, row));
    }
}
