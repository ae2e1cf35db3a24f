//! The record schema JSON Lines and CSV submissions share, and the conversion of each record
//! into the batch.
//!
//! A record is a flat set of fields; `type` says which. JSON Lines gives each record as one
//! object per line; CSV gives one record per row under a header naming the fields, a `type`
//! column first, with empty cells for fields a record does not have. The first record of a
//! submission is its `batch` record, naming the sender.

use std::collections::HashMap;

use candor_file::batch::{Batch, ClosureEntry, Quarantined, ReportEntry, SubjectEntry};
use candor_file::ids::{NationalId, SubjectKey};
use candor_file::model::*;
use candor_file::rules;
use serde_json::Value as Json;
use time::Date;

use crate::{Context, Errors, IngestError, MAX_RECORDS};

pub struct FieldSpec {
    pub name: &'static str,
    pub required: bool,
    pub meaning: &'static str,
}

pub struct RecordSpec {
    pub kind: &'static str,
    pub meaning: &'static str,
    pub fields: &'static [FieldSpec],
}

const fn f(name: &'static str, required: bool, meaning: &'static str) -> FieldSpec {
    FieldSpec { name, required, meaning }
}

const SCHEME: FieldSpec = f("scheme", true, "identifier scheme: cn_rid, us_ssn or generic");
const NUMBER: FieldSpec = f("number", true, "the national identifier (keyed at once, never stored)");

/// Every record type and every field it may carry: the allow-list.
pub const SCHEMA: &[RecordSpec] = &[
    RecordSpec {
        kind: "batch",
        meaning: "first record: who sends the submission",
        fields: &[
            f("type", true, "batch"),
            f("sender", true, "organisation id (a-z, 0-9, - _ .)"),
            f("sender_kind", true, "lender, utility, landlord, rental_service or court"),
            f("sender_name", true, "the organisation's name"),
        ],
    },
    RecordSpec {
        kind: "subject",
        meaning: "a person: name and birth date are sealed at once",
        fields: &[
            f("type", true, "subject"),
            SCHEME,
            NUMBER,
            f("name", false, "full name"),
            f("birth_date", false, "YYYY-MM-DD"),
            f("region", false, "coarse region for aggregate statistics, e.g. a state (resident IDs carry their own)"),
        ],
    },
    RecordSpec {
        kind: "account",
        meaning: "an obligation the sender reports on",
        fields: &[
            f("type", true, "account"),
            SCHEME,
            NUMBER,
            f("account", true, "the sender's reference for the account"),
            f("kind", true, "loan, mortgage, card, line, utility, telecom, rent or rental"),
            f("opened", true, "YYYY-MM-DD"),
            f("currency", true, "ISO 4217 code"),
        ],
    },
    RecordSpec {
        kind: "report",
        meaning: "one month of an account",
        fields: &[
            f("type", true, "report"),
            SCHEME,
            NUMBER,
            f("account", true, "the sender's reference for the account"),
            f("month", true, "YYYY-MM"),
            f("balance_minor", true, "balance in minor units"),
            f("limit_minor", false, "credit limit or original amount in minor units (0)"),
            f("paid_minor", false, "amount paid this month in minor units (0)"),
            f("dpd", true, "days past due: 0, 30, 60, 90, 120, 150 or 180"),
            f("status", true, "open, paid, closed, charged_off or collection"),
            f("delinquent_since", false, "date of first delinquency, required when delinquent"),
            f(
                "notice_given",
                false,
                "true: the sender attests the person was told before negative information was reported",
            ),
        ],
    },
    RecordSpec {
        kind: "inquiry",
        meaning: "the sender asked about the person",
        fields: &[
            f("type", true, "inquiry"),
            SCHEME,
            NUMBER,
            f("date", true, "YYYY-MM-DD"),
            f("purpose", true, "credit_application, account_review, deposit_waiver or tenancy"),
        ],
    },
    RecordSpec {
        kind: "court_record",
        meaning: "an enforcement record listed by the sending court",
        fields: &[
            f("type", true, "court_record"),
            SCHEME,
            NUMBER,
            f("case", true, "case number"),
            f("amount_minor", true, "amount in minor units"),
            f("currency", true, "ISO 4217 code"),
            f("grounds", true, "why, in a few words"),
            f("listed", true, "YYYY-MM-DD"),
        ],
    },
    RecordSpec {
        kind: "court_closure",
        meaning: "the sending court records that a case was performed or revoked: it leaves the file at once",
        fields: &[
            f("type", true, "court_closure"),
            f("case", true, "case number"),
            f("date", true, "YYYY-MM-DD"),
            f("outcome", true, "performed or revoked"),
        ],
    },
];

/// A field's value as submitted.
#[derive(Clone, Debug)]
enum V {
    Str(String),
    Int(i64),
    Bool(bool),
}

/// Most fields a record may carry: no kind has more than a dozen, and a record's fields are
/// looked up by a scan.
const MAX_FIELDS: usize = 32;

/// A record's fields as submitted, each name once, in their order; a field given as JSON null
/// is absent, but its name is taken.
struct Fields(Vec<(String, Option<V>)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&V> {
        self.0.iter().find(|(n, _)| n == name).and_then(|(_, v)| v.as_ref())
    }

    fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Adds a field, or says why it cannot be: a repeated name (two readers could each keep a
    /// different one of the two) or one field too many.
    fn push(&mut self, no: usize, name: String, value: Option<V>) -> Result<(), IngestError> {
        let refuse =
            |name: &str, message: String| IngestError { record: no, field: Some(clip(name)), rule: None, message };
        if self.0.iter().any(|(n, _)| *n == name) {
            return Err(refuse(&name, "the field appears twice in the record".into()));
        }
        if self.0.len() == MAX_FIELDS {
            return Err(refuse(&name, format!("more than {MAX_FIELDS} fields: no record has that many")));
        }
        self.0.push((name, value));
        Ok(())
    }
}

/// One submitted record, its fields checked against the schema.
struct Rec {
    no: usize,
    spec: &'static RecordSpec,
    fields: Fields,
}

impl Rec {
    fn new(no: usize, fields: Fields, errors: &mut Errors) -> Option<Rec> {
        let kind = match fields.get("type") {
            Some(V::Str(s)) => s.clone(),
            _ => {
                errors.add(no, Some("type"), "every record needs a `type`");
                return None;
            }
        };
        let Some(spec) = SCHEMA.iter().find(|s| s.kind == kind) else {
            let kinds: Vec<&str> = SCHEMA.iter().map(|s| s.kind).collect();
            errors.add(
                no,
                Some("type"),
                format!("unknown record type `{}` (expected one of {})", clip(&kind), kinds.join(", ")),
            );
            return None;
        };
        let mut ok = true;
        let mut unknown: Vec<&String> = fields
            .0
            .iter()
            .filter(|(n, v)| v.is_some() && !spec.fields.iter().any(|f| f.name == n))
            .map(|(n, _)| n)
            .collect();
        unknown.sort();
        for name in unknown {
            let allowed: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
            errors.add(
                no,
                Some(&clip(name)),
                format!("unknown field: a {} record has only {}", spec.kind, allowed.join(", ")),
            );
            ok = false;
        }
        for field in spec.fields.iter().filter(|f| f.required) {
            if !fields.contains_key(field.name) {
                errors.add(no, Some(field.name), format!("required in a {} record: {}", spec.kind, field.meaning));
                ok = false;
            }
        }
        ok.then_some(Rec { no, spec, fields })
    }

    fn text(&self, name: &str, errors: &mut Errors) -> Option<String> {
        match self.fields.get(name)? {
            V::Str(s) => match candor_file::text::check(s, false) {
                Ok(()) => Some(s.clone()),
                Err(why) => {
                    errors.add(self.no, Some(name), why);
                    None
                }
            },
            other => {
                errors.add(self.no, Some(name), format!("expected text, found {other:?}"));
                None
            }
        }
    }

    fn int(&self, name: &str, errors: &mut Errors) -> Option<i64> {
        match self.fields.get(name)? {
            V::Int(v) => Some(*v),
            V::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| errors.add(self.no, Some(name), format!("expected a whole number, found {:?}", clip(s))))
                .ok(),
            V::Bool(b) => {
                errors.add(self.no, Some(name), format!("expected a whole number, found {b}"));
                None
            }
        }
    }

    fn flag(&self, name: &str, errors: &mut Errors) -> Option<bool> {
        match self.fields.get(name)? {
            V::Bool(b) => Some(*b),
            V::Str(s) if s == "true" => Some(true),
            V::Str(s) if s == "false" => Some(false),
            other => {
                errors.add(self.no, Some(name), format!("expected true or false, found {other:?}"));
                None
            }
        }
    }

    /// Parses a required or optional field with `parse`, reporting failures by field.
    fn with<T, E: std::fmt::Display>(
        &self,
        name: &str,
        errors: &mut Errors,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.text(name, errors)?;
        parse(&text).map_err(|e| errors.add(self.no, Some(name), e.to_string())).ok()
    }

    fn minor(&self, name: &str, errors: &mut Errors) -> Option<i64> {
        let v = self.int(name, errors)?;
        parse_minor(v).map_err(|e| errors.add(self.no, Some(name), e.to_string())).ok()
    }
}

/// A region code: 1-12 of A-Z and 0-9 (a state, a province, a division code).
pub(crate) fn parse_region(text: &str) -> Result<String, String> {
    let ok = (1..=12).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!("expected a region code of 1-12 characters A-Z, 0-9, found {:?}", clip(text)))
    }
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Builds the batch record by record; subjects are gathered by key.
pub(crate) struct Builder<'a, 'b> {
    pub ctx: &'a mut Context<'b>,
    pub batch: Batch,
    subjects: HashMap<SubjectKey, usize>,
    births: HashMap<SubjectKey, Date>,
    accounts: HashMap<String, Account>,
}

impl<'a, 'b> Builder<'a, 'b> {
    pub(crate) fn new(ctx: &'a mut Context<'b>, batch: Batch) -> Builder<'a, 'b> {
        Builder { ctx, batch, subjects: HashMap::new(), births: HashMap::new(), accounts: HashMap::new() }
    }

    /// Keys an identifier and makes sure the batch identifies the subject.
    pub(crate) fn subject(&mut self, id: &NationalId) -> SubjectKey {
        let key = self.ctx.keys.subject_key(id);
        if !self.subjects.contains_key(&key) {
            self.subjects.insert(key, self.batch.subjects.len());
            self.batch.subjects.push(SubjectEntry::of(key, id));
        }
        if let Some(birth) = id.birth_date() {
            self.births.insert(key, birth);
        }
        key
    }

    pub(crate) fn seal_details(&mut self, key: SubjectKey, name: Option<&str>, birth: Option<Date>) {
        let nonce = &mut self.ctx.nonce;
        let name_sealed = name.map(|n| self.ctx.keys.seal(&key, n, nonce()));
        let birth_sealed = birth.map(|b| self.ctx.keys.seal(&key, &b.to_string(), (self.ctx.nonce)()));
        if let Some(b) = birth {
            self.births.entry(key).or_insert(b);
        }
        if let Some(&i) = self.subjects.get(&key) {
            let entry = &mut self.batch.subjects[i];
            entry.name_sealed = name_sealed.or(entry.name_sealed.take());
            entry.birth_sealed = birth_sealed.or(entry.birth_sealed.take());
        }
    }

    /// A coarse region for a subject whose identifier carries none.
    pub(crate) fn set_region(&mut self, key: SubjectKey, region: String) {
        if let Some(&i) = self.subjects.get(&key) {
            let entry = &mut self.batch.subjects[i];
            if entry.region.is_none() {
                entry.region = Some(region);
            }
        }
    }

    pub(crate) fn account(&mut self, key: SubjectKey, account: Account) {
        self.accounts.insert(account.reference.clone(), account.clone());
        self.batch.accounts.push((key, account));
    }

    /// Adds a report after the consistency rules, quarantining negative information the sender
    /// did not attest notice for.
    /// `check` is false for copies of a report already checked (a joint holder's).
    pub(crate) fn report(
        &mut self,
        record: usize,
        key: SubjectKey,
        reference: String,
        report: Report,
        (notice, check): (bool, bool),
        errors: &mut Errors,
    ) {
        if let Some(account) = self.accounts.get(&reference).filter(|_| check) {
            for v in rules::check_report(account, &report, self.ctx.today) {
                errors.push(IngestError {
                    record,
                    field: Some(v.field.into()),
                    rule: Some(v.rule),
                    message: v.message,
                });
            }
        }
        if report.is_negative() && !notice {
            self.batch.quarantined.push(Quarantined {
                record,
                subject: key,
                rule: "negative_without_notice",
                message: format!(
                    "negative information for account `{}` month {} held back: the sender did not attest the person was notified beforehand",
                    reference, report.month
                ),
            });
            return;
        }
        self.batch.reports.push(ReportEntry { record, subject: key, reference, report, derived: false });
    }

    pub(crate) fn court_record(&mut self, record: usize, key: SubjectKey, court: CourtRecord, errors: &mut Errors) {
        for v in rules::check_court_record(&court, self.births.get(&key).copied()) {
            errors.push(IngestError { record, field: Some(v.field.into()), rule: Some(v.rule), message: v.message });
        }
        self.batch.court_records.push((key, court));
    }
}

fn identify(rec: &Rec, b: &mut Builder<'_, '_>, errors: &mut Errors) -> Option<SubjectKey> {
    let scheme = rec.text("scheme", errors)?;
    let number = rec.text("number", errors)?;
    match NationalId::parse_text(&scheme, &number) {
        Ok(id) => Some(b.subject(&id)),
        Err((field, e)) => {
            errors.add(rec.no, Some(field), e.to_string());
            None
        }
    }
}

fn sender(rec: &Rec, errors: &mut Errors) -> Option<Organisation> {
    let id = rec.with("sender", errors, OrgId::parse)?;
    let kind = rec.with("sender_kind", errors, OrgKind::parse)?;
    if !(kind.furnishes() || kind == OrgKind::Court) {
        errors.add(rec.no, Some("sender_kind"), format!("a {} does not submit to the file", kind.as_str()));
        return None;
    }
    let name = rec.text("sender_name", errors)?;
    Some(Organisation { id, kind, name })
}

fn apply(rec: &Rec, b: &mut Builder<'_, '_>, errors: &mut Errors) {
    let sender = b.batch.sender.clone();
    let is_court = sender.kind == OrgKind::Court;
    match rec.spec.kind {
        "batch" => errors.add(rec.no, Some("type"), "a second batch record: one submission has one sender"),
        "subject" => {
            let Some(key) = identify(rec, b, errors) else { return };
            let name = rec.text("name", errors);
            let birth =
                rec.fields.contains_key("birth_date").then(|| rec.with("birth_date", errors, parse_date)).flatten();
            b.seal_details(key, name.as_deref(), birth);
            if let Some(region) =
                rec.fields.contains_key("region").then(|| rec.with("region", errors, parse_region)).flatten()
            {
                b.set_region(key, region);
            }
        }
        "account" | "report" if is_court => {
            errors.add(rec.no, Some("type"), "a court sends court records, not accounts or reports")
        }
        "court_record" | "court_closure" if !is_court => {
            errors.add(rec.no, Some("type"), "only a court sends court records and closures")
        }
        "account" => {
            let key = identify(rec, b, errors);
            let reference = rec.with("account", errors, parse_reference);
            let kind = rec.with("kind", errors, AccountKind::parse);
            let opened = rec.with("opened", errors, parse_date);
            let currency = rec.with("currency", errors, Currency::parse);
            if let (Some(key), Some(reference), Some(kind), Some(opened), Some(currency)) =
                (key, reference, kind, opened, currency)
            {
                b.account(key, Account { furnisher: sender.id, reference, kind, opened, currency });
            }
        }
        "report" => {
            let key = identify(rec, b, errors);
            let reference = rec.with("account", errors, parse_reference);
            let month = rec.with("month", errors, YearMonth::parse);
            let balance = rec.minor("balance_minor", errors);
            let limit = if rec.fields.contains_key("limit_minor") { rec.minor("limit_minor", errors) } else { Some(0) };
            let paid = if rec.fields.contains_key("paid_minor") { rec.minor("paid_minor", errors) } else { Some(0) };
            let dpd = rec
                .int("dpd", errors)
                .and_then(|v| Dpd::parse(v).map_err(|e| errors.add(rec.no, Some("dpd"), e.to_string())).ok());
            let status = rec.with("status", errors, Status::parse);
            let since =
                rec.fields.contains_key("delinquent_since").then(|| rec.with("delinquent_since", errors, parse_date));
            let notice = rec.flag("notice_given", errors).unwrap_or(false);
            if let (
                Some(key),
                Some(reference),
                Some(month),
                Some(balance),
                Some(limit),
                Some(paid),
                Some(dpd),
                Some(status),
            ) = (key, reference, month, balance, limit, paid, dpd, status)
            {
                let Some(delinquent_since) = since.map_or(Some(None), |s| s.map(Some)) else { return };
                let report = Report {
                    month,
                    balance_minor: balance,
                    limit_minor: limit,
                    paid_minor: paid,
                    dpd,
                    status,
                    delinquent_since,
                };
                b.report(rec.no, key, reference, report, (notice, true), errors);
            }
        }
        "inquiry" => {
            let key = identify(rec, b, errors);
            let date = rec.with("date", errors, parse_date);
            let purpose = rec.with("purpose", errors, Purpose::parse);
            if let (Some(key), Some(date), Some(purpose)) = (key, date, purpose) {
                b.batch.inquiries.push((key, Inquiry { org: sender.id, date, purpose }));
            }
        }
        "court_record" => {
            let key = identify(rec, b, errors);
            let case = rec.with("case", errors, parse_reference);
            let amount = rec.minor("amount_minor", errors);
            let currency = rec.with("currency", errors, Currency::parse);
            let grounds = rec.text("grounds", errors);
            let listed = rec.with("listed", errors, parse_date);
            if let (Some(key), Some(case_number), Some(amount_minor), Some(currency), Some(grounds), Some(listed)) =
                (key, case, amount, currency, grounds, listed)
            {
                let record = CourtRecord {
                    court: sender.id,
                    case_number,
                    amount_minor,
                    currency,
                    grounds,
                    listed,
                    closed: None,
                };
                b.court_record(rec.no, key, record, errors);
            }
        }
        "court_closure" => {
            let case = rec.with("case", errors, parse_reference);
            let day = rec.with("date", errors, parse_date);
            let outcome = rec.with("outcome", errors, Closure::parse);
            if let (Some(case_number), Some(day), Some(outcome)) = (case, day, outcome) {
                b.batch.closures.push(ClosureEntry { record: rec.no, case_number, day, outcome });
            }
        }
        _ => unreachable!("every schema kind is handled"),
    }
}

/// Runs the records through the builder; the first must be the `batch` record.
fn build(
    records: impl Iterator<Item = Result<Fields, IngestError>>,
    digest: [u8; 32],
    format: &'static str,
    ctx: &mut Context<'_>,
    errors: &mut Errors,
) -> Option<Batch> {
    let mut builder: Option<Builder<'_, '_>> = None;
    let mut count = 0;
    for (i, fields) in records.enumerate() {
        let no = i + 1;
        count = no;
        if no > MAX_RECORDS {
            errors.add(no, None, format!("more than {MAX_RECORDS} records: split the submission"));
            break;
        }
        let fields = match fields {
            Ok(f) => f,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let Some(rec) = Rec::new(no, fields, errors) else { continue };
        match &mut builder {
            None if rec.spec.kind == "batch" => {
                let sender = sender(&rec, errors)?;
                builder = Some(Builder::new(ctx, Batch::new(digest, sender, format)));
            }
            None => {
                errors.add(no, Some("type"), "the first record must be the `batch` record naming the sender");
                return None;
            }
            Some(b) => apply(&rec, b, errors),
        }
    }
    let Some(mut builder) = builder else {
        errors.add(1, None, "the submission is empty");
        return None;
    };
    builder.batch.records = count;
    Some(builder.batch)
}

/// A JSON object's members in their order, a repeated name kept, so that it can be refused
/// (a JSON parser keeps one of the two silently, and another reader may keep the other).
struct Members(Vec<(String, Json)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Json>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

fn json_fields(no: usize, line: &str) -> Result<Fields, IngestError> {
    let err = |message: String| IngestError { record: no, field: None, rule: None, message };
    let Members(object) = serde_json::from_str(line).map_err(|e| match serde_json::from_str::<Json>(line) {
        Ok(_) => err("a record must be a JSON object".into()),
        Err(_) => err(format!("not JSON: {e}")),
    })?;
    let mut fields = Fields(Vec::with_capacity(object.len().min(MAX_FIELDS)));
    for (name, value) in object {
        let v = match value {
            Json::Null => None,
            Json::String(s) => Some(V::Str(s)),
            Json::Bool(b) => Some(V::Bool(b)),
            Json::Number(n) => match n.as_i64() {
                Some(v) => Some(V::Int(v)),
                None => {
                    return Err(IngestError {
                        record: no,
                        field: Some(clip(&name)),
                        rule: None,
                        message: format!("expected a whole number, found {n}"),
                    })
                }
            },
            other => {
                return Err(IngestError {
                    record: no,
                    field: Some(clip(&name)),
                    rule: None,
                    message: format!(
                        "fields are flat: expected text, a number or true/false, found {}",
                        clip(&other.to_string())
                    ),
                })
            }
        };
        fields.push(no, name, v)?;
    }
    Ok(fields)
}

pub(crate) fn parse_jsonl(bytes: &[u8], digest: [u8; 32], ctx: &mut Context<'_>, errors: &mut Errors) -> Option<Batch> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            errors.add(1, None, format!("not UTF-8 text: {e}"));
            return None;
        }
    };
    let lines = text.lines().filter(|l| !l.trim().is_empty()).enumerate().map(|(i, line)| json_fields(i + 1, line));
    build(lines, digest, "jsonl", ctx, errors)
}

pub(crate) fn parse_csv(bytes: &[u8], digest: [u8; 32], ctx: &mut Context<'_>, errors: &mut Errors) -> Option<Batch> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            errors.add(1, None, format!("unreadable CSV header: {e}"));
            return None;
        }
    };
    let mut named = std::collections::HashSet::with_capacity(header.len());
    if let Some(twice) = header.iter().find(|h| !named.insert(h.as_str())) {
        errors.add(1, Some(&clip(twice)), "the column appears twice in the CSV header");
        return None;
    }
    let rows = reader.into_records().enumerate().map(|(i, row)| {
        let row = row.map_err(|e| IngestError {
            record: i + 1,
            field: None,
            rule: None,
            message: format!("unreadable CSV row: {e}"),
        })?;
        let mut fields = Fields(Vec::new());
        for (name, cell) in header.iter().zip(row.iter()).filter(|(_, cell)| !cell.is_empty()) {
            fields.push(i + 1, name.clone(), Some(V::Str(cell.to_owned())))?;
        }
        Ok(fields)
    });
    build(rows, digest, "csv", ctx, errors)
}
