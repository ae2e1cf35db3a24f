//! The store's conformance suite: every test runs on SQLite, and on PostgreSQL too when
//! `DATABASE_URL` names a server (each run in its own schema, dropped afterwards).

use candor_file::ids::{Scheme, SubjectKey};
use candor_file::model::*;
use candor_file::retention::Retention;
use candor_store::{Batch, ClosureEntry, FileRead, Quarantined, ReportEntry, Store, StoreError, SubjectEntry};
use time::Date;

mod citus;

/// A store to test on, and what to remove when the test is done.
struct Backend {
    name: &'static str,
    url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let (Some(schema), Ok(url)) = (&self.schema, std::env::var("DATABASE_URL")) {
            if let Ok(mut client) = postgres::Client::connect(&url, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
            }
        }
    }
}

fn backends(test: &str) -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("file.db");
    let mut out = vec![Backend { name: "sqlite", url: path.display().to_string(), _dir: Some(dir), schema: None }];
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if url.starts_with("postgres") {
            let schema = format!("candor_store_{}_{test}", std::process::id());
            let sep = if url.contains('?') { '&' } else { '?' };
            out.push(Backend {
                name: "postgres",
                url: format!("{url}{sep}schema={schema}"),
                _dir: None,
                schema: Some(schema),
            });
        }
    }
    out
}

/// Runs `check` on a fresh store of every backend.
fn on_every_backend(test: &str, check: impl Fn(&mut Store, &str)) {
    on_every_backend_raw(test, |store, backend| check(store, backend.name));
}

fn on_every_backend_raw(test: &str, check: impl Fn(&mut Store, &Backend)) {
    for backend in backends(test) {
        let mut store = Store::open(&backend.url).unwrap_or_else(|e| panic!("{}: {e}", backend.name));
        check(&mut store, &backend);
    }
}

/// Runs SQL behind the store's back, as someone with database access could.
fn behind_the_back(backend: &Backend, sql: &str) {
    match &backend.schema {
        None => {
            let conn = rusqlite::Connection::open(&backend.url).expect("open");
            conn.execute_batch(sql).expect("tamper");
        }
        Some(schema) => {
            let url = std::env::var("DATABASE_URL").expect("url");
            let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
            client.batch_execute(&format!("SET search_path TO \"{schema}\"; {sql}")).expect("tamper");
        }
    }
}

fn d(s: &str) -> Date {
    parse_date(s).expect("date")
}

fn org(id: &str, kind: OrgKind) -> Organisation {
    Organisation { id: OrgId::parse(id).expect("org"), kind, name: format!("{id} Ltd") }
}

fn subject(n: u8) -> SubjectEntry {
    SubjectEntry {
        key: SubjectKey([n; 32]),
        scheme: Scheme::Generic,
        masked: format!("****{n:04}"),
        region: Some("110105".into()),
        name_sealed: None,
        birth_sealed: None,
    }
}

fn account(reference: &str, kind: AccountKind) -> Account {
    Account {
        furnisher: OrgId::parse("bank").expect("org"),
        reference: reference.into(),
        kind,
        opened: d("2020-01-10"),
        currency: Currency::parse("CNY").expect("cny"),
    }
}

fn report(record: usize, n: u8, reference: &str, month: &str, dpd: i64, balance: i64) -> ReportEntry {
    ReportEntry {
        record,
        subject: SubjectKey([n; 32]),
        reference: reference.into(),
        report: Report {
            month: YearMonth::parse(month).expect("month"),
            balance_minor: balance,
            limit_minor: 100_000,
            paid_minor: 1_000,
            dpd: Dpd::parse(dpd).expect("dpd"),
            status: Status::Open,
            delinquent_since: (dpd > 0).then(|| d("2020-02-01")),
        },
        derived: false,
    }
}

fn batch(tag: u8, reports: Vec<ReportEntry>) -> Batch {
    let mut b = Batch::new([tag; 32], org("bank", OrgKind::Lender), "jsonl");
    b.subjects = vec![subject(1), subject(2)];
    b.accounts = vec![
        (SubjectKey([1; 32]), account("A1", AccountKind::Card)),
        (SubjectKey([2; 32]), account("B1", AccountKind::Loan)),
    ];
    b.records = b.accounts.len() + reports.len();
    b.reports = reports;
    b
}

/// A consent to the shop, for deposit waivers, through 2026.
fn shop_consent() -> Consent {
    Consent {
        org: OrgId::parse("shop").expect("org"),
        purpose: Purpose::DepositWaiver,
        granted: d("2026-01-01"),
        until: d("2026-12-31"),
        revoked: None,
    }
}

fn read_at(known_ms: i64, today: &str) -> FileRead {
    FileRead { known_ms, today: d(today), retention: Retention::default() }
}

fn balances(store: &mut Store, n: u8, read: &FileRead) -> Vec<(String, i64, u16)> {
    let file = store.file(&SubjectKey([n; 32]), read).expect("read").expect("subject known");
    file.accounts
        .iter()
        .flat_map(|h| h.reports.iter().map(|r| (r.month.to_string(), r.balance_minor, r.dpd.days())))
        .collect()
}

#[test]
fn a_batch_reads_back_and_a_correction_is_a_new_version() {
    on_every_backend("correction", |store, name| {
        let first = batch(1, vec![report(3, 1, "A1", "2020-02", 0, 500), report(4, 1, "A1", "2020-03", 0, 700)]);
        let outcome = store.apply(&first, 1_000).expect("apply");
        assert_eq!((outcome.reports, outcome.duplicate), (2, false), "{name}");
        let now = read_at(i64::MAX, "2020-04-01");
        assert_eq!(balances(store, 1, &now), vec![("2020-02".into(), 500, 0), ("2020-03".into(), 700, 0)], "{name}");

        let mut fix = Batch::new([2; 32], org("bank", OrgKind::Lender), "jsonl");
        fix.subjects = vec![subject(1)];
        fix.reports = vec![report(1, 1, "A1", "2020-03", 0, 650)];
        store.apply(&fix, 2_000).expect("apply correction");
        assert_eq!(balances(store, 1, &now)[1], ("2020-03".into(), 650, 0), "{name}: the correction shows");
        let before = read_at(1_500, "2020-04-01");
        assert_eq!(
            balances(store, 1, &before)[1],
            ("2020-03".into(), 700, 0),
            "{name}: as of before it, the old value"
        );
        assert_eq!(store.file(&SubjectKey([1; 32]), &read_at(999, "2020-04-01")).expect("read"), None, "{name}");
    });
}

#[test]
fn the_same_batch_twice_changes_nothing() {
    on_every_backend("idempotent", |store, name| {
        let b = batch(1, vec![report(3, 1, "A1", "2020-02", 0, 500)]);
        let first = store.apply(&b, 1_000).expect("apply");
        let again = store.apply(&b, 2_000).expect("apply again");
        assert!(again.duplicate, "{name}");
        assert_eq!(again.batch_id, first.batch_id, "{name}");
        assert_eq!(balances(store, 1, &read_at(i64::MAX, "2020-04-01")).len(), 1, "{name}");
    });
}

#[test]
fn a_bad_batch_is_rejected_whole_with_every_problem() {
    on_every_backend("atomic", |store, name| {
        let mut b = batch(
            1,
            vec![
                report(3, 1, "A1", "2020-02", 0, 500),
                report(4, 1, "NOPE", "2020-02", 0, 500),
                report(5, 2, "A1", "2020-03", 0, 500),
                report(6, 1, "A1", "2020-02", 0, 900),
            ],
        );
        b.closures = vec![ClosureEntry {
            record: 7,
            case_number: "X".into(),
            day: d("2020-01-01"),
            outcome: Closure::Performed,
        }];
        let err = store.apply(&b, 1_000).expect_err("must be rejected");
        let StoreError::Rejected(problems) = err else { panic!("{name}: {err}") };
        let records: Vec<usize> = problems.iter().map(|p| p.record).collect();
        assert_eq!(records, vec![4, 5, 6, 7], "{name}: {problems:?}");
        assert!(problems[0].message.contains("never opened"), "{name}");
        assert!(problems[1].message.contains("another subject"), "{name}");
        assert!(problems[2].message.contains("second report"), "{name}");
        assert!(problems[3].message.contains("never listed"), "{name}");
        assert_eq!(store.subject_id(&SubjectKey([1; 32])).expect("read"), None, "{name}: nothing was applied");
        let fixed = batch(1, vec![report(3, 1, "A1", "2020-02", 0, 500)]);
        assert!(!store.apply(&fixed, 2_000).expect("apply").duplicate, "{name}: a rejected digest is not remembered");
    });
}

#[test]
fn negative_information_ages_off_and_the_purge_records_it() {
    on_every_backend("retention", |store, name| {
        let b = batch(
            1,
            vec![
                report(3, 1, "A1", "2020-02", 0, 500),
                report(4, 1, "A1", "2020-03", 30, 500),
                report(5, 1, "A1", "2020-04", 0, 500),
            ],
        );
        store.apply(&b, 1_000).expect("apply");
        // The delinquency ended in April 2020: it ages off on 2025-04-01.
        assert_eq!(balances(store, 1, &read_at(i64::MAX, "2025-03-31")).len(), 3, "{name}");
        assert_eq!(balances(store, 1, &read_at(i64::MAX, "2025-04-01")).len(), 2, "{name}");
        let early = store.purge(d("2025-03-31"), Retention::default(), 5_000).expect("purge");
        assert_eq!(early.reports_deleted, 0, "{name}");
        let purge = store.purge(d("2025-04-01"), Retention::default(), 6_000).expect("purge");
        assert_eq!(purge.reports_deleted, 1, "{name}");
        assert!(purge.purge_id > early.purge_id, "{name}: each purge leaves its record");
        assert_eq!(balances(store, 1, &read_at(i64::MAX, "2020-05-01")).len(), 2, "{name}: physically gone");
    });
}

/// A court's batch listing a judgment against person `n`, and its batch closing it.
fn court_case(n: u8, case_number: &str) -> (Batch, Batch) {
    let court = org("court-1", OrgKind::Court);
    let mut listing = Batch::new([9; 32], court.clone(), "jsonl");
    listing.subjects = vec![subject(n)];
    listing.court_records = vec![(
        SubjectKey([n; 32]),
        CourtRecord {
            court: court.id.clone(),
            case_number: case_number.into(),
            amount_minor: 500_000,
            currency: Currency::parse("CNY").expect("cny"),
            grounds: "unpaid loan".into(),
            listed: d("2024-05-01"),
            closed: None,
        },
    )];
    let mut closing = Batch::new([10; 32], court, "jsonl");
    closing.closures = vec![ClosureEntry {
        record: 1,
        case_number: case_number.into(),
        day: d("2024-06-01"),
        outcome: Closure::Performed,
    }];
    (listing, closing)
}

#[test]
fn a_court_record_leaves_the_file_when_closed() {
    on_every_backend("court", |store, name| {
        let (listing, closing) = court_case(1, "(2024)1");
        store.apply(&listing, 1_000).expect("list");
        store.apply(&closing, 2_000).expect("close");
        let open = store.file(&SubjectKey([1; 32]), &read_at(1_500, "2024-07-01")).expect("read").expect("known");
        assert_eq!(open.court_records.len(), 1, "{name}: as of before the closure it was listed");
        let now = store.file(&SubjectKey([1; 32]), &read_at(i64::MAX, "2024-07-01")).expect("read").expect("known");
        assert!(now.court_records.is_empty(), "{name}: gone at once");
        assert_eq!(
            store.purge(d("2024-07-01"), Retention::default(), 3_000).expect("purge").court_records_deleted,
            2,
            "{name}"
        );
    });
}

/// A case listed twice for one person, closed twice, or listed and closed in the same batch is
/// refused with the record and why, nothing applied; the same case number for two people (one
/// judgment, two debtors) is two listings, and its closure closes both.
#[test]
fn a_court_batch_that_names_a_case_twice_is_refused_whole() {
    on_every_backend("court_twice", |store, name| {
        let (mut listing, mut closing) = court_case(1, "(2024)7");
        let mut both = listing.clone();
        both.closures = closing.closures.clone();
        let twice = listing.court_records[0].clone();
        listing.court_records.push(twice);
        closing.closures.push(closing.closures[0].clone());
        for (batch, expected) in [
            (&listing, vec![(2, "case `(2024)7` is listed twice for one person in one batch")]),
            (&both, vec![(1, "case `(2024)7` is listed and closed in one batch: send the closure in a later batch")]),
        ] {
            let err = store.apply(batch, 1_000).expect_err("must be refused");
            let StoreError::Rejected(problems) = err else { panic!("{name}: {err}") };
            let got: Vec<(usize, &str)> = problems.iter().map(|p| (p.record, p.message.as_str())).collect();
            assert_eq!(got, expected, "{name}");
            assert_eq!(store.subject_id(&SubjectKey([1; 32])).expect("read"), None, "{name}: nothing was applied");
        }
        // Two debtors of one judgment; then the second closure of one case in a batch is refused.
        listing.court_records[1].0 = SubjectKey([2; 32]);
        listing.subjects.push(subject(2));
        store.apply(&listing, 1_000).expect("one case, two people");
        for n in [1, 2] {
            let file =
                store.file(&SubjectKey([n; 32]), &read_at(i64::MAX, "2024-05-02")).expect("read").expect("known");
            assert_eq!(file.court_records.len(), 1, "{name}: person {n}");
        }
        let err = store.apply(&closing, 2_000).expect_err("must be refused");
        let StoreError::Rejected(problems) = err else { panic!("{name}: {err}") };
        assert_eq!(problems.len(), 1, "{name}: {problems:?}");
        assert_eq!(problems[0].message, "case `(2024)7` is closed twice in one batch", "{name}");
        // The case's one closure closes it for both debtors.
        closing.closures.pop();
        store.apply(&closing, 2_000).expect("close");
        for n in [1, 2] {
            let file =
                store.file(&SubjectKey([n; 32]), &read_at(i64::MAX, "2024-07-01")).expect("read").expect("known");
            assert!(file.court_records.is_empty(), "{name}: person {n}'s judgment is closed too");
        }
    });
}

/// One person's file read alone (on PostgreSQL, every table in one statement) is the file a
/// walk reads for them (a query per table): accounts, corrected reports, inquiries, and a court
/// record open and then closed (read with its closure, then left out), as known before and
/// after each change; and what a report shows beside it (disputes, statements), and what a
/// lender's read needs (consents, freeze), read in one go equals each read on its own.
#[test]
fn a_file_read_alone_is_the_file_a_walk_reads() {
    on_every_backend("alone", |store, name| {
        let mut first = batch(1, vec![report(3, 1, "A1", "2020-01", 0, 500), report(4, 2, "B1", "2020-01", 30, 900)]);
        first.inquiries = vec![(
            SubjectKey([1; 32]),
            Inquiry {
                org: OrgId::parse("bank").expect("org"),
                date: d("2020-03-02"),
                purpose: Purpose::CreditApplication,
            },
        )];
        store.apply(&first, 1_000).expect("first");
        store.apply(&batch(2, vec![report(3, 1, "A1", "2020-01", 0, 450)]), 2_000).expect("correction");
        let (listing, closing) = court_case(2, "(2024)7");
        store.apply(&listing, 3_000).expect("listing");
        store.apply(&closing, 4_000).expect("closing");
        let one = SubjectKey([1; 32]);
        let id = store.open_dispute(&one, "report", "A1/2020-01", Some(&OrgId::parse("bank").expect("org")), 5_000);
        store.dispute_step(id.expect("dispute"), DisputeState::FurnisherAsked, 5_100).expect("step");
        store.put_statement(&one, "A1/2020-01", "paid on time, the bank's error", 5_200).expect("statement");
        store.put_statement(&one, "A1/2020-02", "withdrawn later", 5_300).expect("statement");
        store.put_statement(&one, "A1/2020-02", "", 5_400).expect("withdrawn");
        // Consents (one granted, a second granted then revoked) and a freeze placed and lifted.
        let consent = shop_consent();
        let bank = Consent { org: OrgId::parse("bank").expect("org"), ..consent.clone() };
        store.put_consent(&one, &consent, 5_500).expect("consent");
        store.put_consent(&one, &bank, 5_600).expect("consent");
        store.put_consent(&one, &Consent { revoked: Some(d("2026-03-01")), ..bank }, 5_700).expect("revoke");
        store.set_freeze(&one, true, 5_800).expect("freeze");
        store.set_freeze(&SubjectKey([2; 32]), true, 5_800).expect("freeze");
        store.set_freeze(&SubjectKey([2; 32]), false, 5_900).expect("lift");
        for known_ms in [500, 1_500, 2_500, 3_500, i64::MAX] {
            let read = read_at(known_ms, "2024-07-01");
            let walked = store.files_in_range(1, 2, &read).expect("walk");
            for n in [1u8, 2] {
                let key = SubjectKey([n; 32]);
                let alone = store.file(&key, &read).expect("alone");
                let in_walk = walked.iter().find(|(k, _)| *k == key).map(|(_, f)| f.clone());
                assert_eq!(alone, in_walk, "{name}: person {n} as known at {known_ms}");
                // What a report shows, in one read: the same file, disputes and statements.
                let reported = store.reported(&key, &read).expect("reported");
                let apart = alone.map(|file| candor_store::Reported {
                    file,
                    disputes: store.disputes(&key).expect("disputes"),
                    statements: store.statements(&key).expect("statements"),
                });
                assert_eq!(reported, apart, "{name}: person {n}'s report as known at {known_ms}");
                // What a lender's read needs, in one read: consents and freeze now, the report.
                let standing = store.standing(&key, &read).expect("standing");
                let alone = reported.map(|reported| candor_store::Standing {
                    consents: store.consents(&key, i64::MAX).expect("consents"),
                    frozen: store.is_frozen(&key).expect("frozen"),
                    reported,
                });
                assert_eq!(standing, alone, "{name}: person {n}'s standing as known at {known_ms}");
            }
        }
        let shown = store.reported(&one, &read_at(i64::MAX, "2024-07-01")).expect("read").expect("known");
        assert_eq!(
            (shown.disputes.len(), shown.disputes[0].state, shown.statements.len()),
            (1, DisputeState::FurnisherAsked, 1),
            "{name}: the dispute at its latest step, the withdrawn statement gone"
        );
        let standing = store.standing(&one, &read_at(i64::MAX, "2024-07-01")).expect("read").expect("known");
        assert_eq!((standing.consents.len(), standing.frozen), (2, true), "{name}");
        assert!(standing.consents[0].revoked.is_some() && standing.consents[1].revoked.is_none(), "{name}");
        let lifted = store.standing(&SubjectKey([2; 32]), &read_at(i64::MAX, "2024-07-01")).expect("read");
        assert!(!lifted.expect("known").frozen, "{name}: the freeze was lifted");
        let listed = store.file(&SubjectKey([2; 32]), &read_at(3_500, "2024-07-01")).expect("read").expect("known");
        assert_eq!(listed.court_records.len(), 1, "{name}: listed, not yet closed");
        let file = store.file(&SubjectKey([1; 32]), &read_at(i64::MAX, "2024-07-01")).expect("read").expect("known");
        assert_eq!((file.accounts[0].reports[0].balance_minor, file.inquiries.len()), (450, 1), "{name}");
    });
}

/// Rows streamed in bulk (PostgreSQL's COPY) keep the semantics of row-by-row inserts: an
/// inquiry sent twice in one batch is one inquiry, sealed details and held-back records are kept,
/// the batch's leaf commits to exactly what was stored, and the audit agrees.
#[test]
fn a_bulk_batch_stores_each_row_once_and_its_leaf_agrees() {
    on_every_backend("bulk", |store, name| {
        let mut b = batch(
            1,
            (0..40)
                .map(|i| {
                    report(
                        3 + i,
                        1 + (i % 2) as u8,
                        ["A1", "B1"][i % 2],
                        &format!("20{:02}-{:02}", 18 + i / 24, 1 + (i / 2) % 12),
                        0,
                        100 * i as i64,
                    )
                })
                .collect(),
        );
        let inquiry = Inquiry {
            org: OrgId::parse("bank").expect("org"),
            date: d("2020-03-02"),
            purpose: Purpose::CreditApplication,
        };
        b.inquiries = vec![(SubjectKey([1; 32]), inquiry.clone()), (SubjectKey([1; 32]), inquiry.clone())];
        b.subjects[0].name_sealed = Some(vec![1, 2, 3]);
        b.quarantined = vec![Quarantined {
            record: 99,
            subject: SubjectKey([2; 32]),
            rule: "negative_without_notice",
            message: "held".into(),
        }];
        let outcome = store.apply(&b, 1_000).expect("apply");
        assert_eq!(outcome.reports, 40, "{name}");
        let file = store.file(&SubjectKey([1; 32]), &read_at(i64::MAX, "2020-12-01")).expect("read").expect("file");
        assert_eq!(file.inquiries, vec![inquiry], "{name}: sent twice, stored once");
        assert_eq!(file.accounts[0].reports.len(), 20, "{name}");
        assert_eq!(store.quarantine(outcome.batch_id).expect("held").len(), 1, "{name}");
        let audit = store.audit().expect("audit");
        assert!(audit.problems.is_empty(), "{name}: {:?}", audit.problems);
    });
}

/// Inside a read transaction the store looks a person up once and remembers them; reading two
/// people in one transaction still gives each their own records.
#[test]
fn one_transaction_reading_two_people_gives_each_their_own() {
    on_every_backend("memo", |store, name| {
        store.apply(&batch(1, vec![report(3, 1, "A1", "2020-02", 0, 500)]), 1_000).expect("apply");
        let (one, two) = (SubjectKey([1; 32]), SubjectKey([2; 32]));
        let consent = shop_consent();
        store.put_consent(&one, &consent, 2_000).expect("consent");
        store.set_freeze(&two, true, 2_000).expect("freeze");
        let seen = store
            .snapshot(|s| -> Result<_, StoreError> {
                Ok((
                    s.consents(&one, i64::MAX)?.len(),
                    s.is_frozen(&one)?,
                    s.consents(&two, i64::MAX)?.len(),
                    s.is_frozen(&two)?,
                    s.subject_id(&one)? != s.subject_id(&two)?,
                    s.subject_id(&SubjectKey([9; 32]))?,
                ))
            })
            .expect("snapshot");
        assert_eq!(seen, (1, false, 0, true, true, None), "{name}");
    });
}

/// A read transaction sees the file as it was when it began reading, whatever another
/// connection commits meanwhile (on PostgreSQL, one snapshot for all its statements).
#[test]
fn a_read_transaction_sees_one_moment_whatever_commits_meanwhile() {
    on_every_backend_raw("moment", |store, backend| {
        let name = backend.name;
        store.apply(&batch(1, vec![report(3, 1, "A1", "2020-02", 0, 500)]), 1_000).expect("apply");
        let one = SubjectKey([1; 32]);
        let mut other = Store::open(&backend.url).expect("another connection");
        let seen = store
            .snapshot(|s| -> Result<_, StoreError> {
                let before = (s.consents(&one, i64::MAX)?.len(), s.is_frozen(&one)?);
                other.put_consent(&one, &shop_consent(), 2_000)?;
                other.set_freeze(&one, true, 2_000)?;
                Ok((before, (s.consents(&one, i64::MAX)?.len(), s.is_frozen(&one)?)))
            })
            .expect("snapshot");
        assert_eq!(seen, ((0, false), (0, false)), "{name}: the second look sees what the first saw");
        let now = (store.consents(&one, i64::MAX).expect("consents").len(), store.is_frozen(&one).expect("freeze"));
        assert_eq!(now, (1, true), "{name}: and the next read sees the change");
    });
}

/// A connection kept for reads (the service's readers) reads what others write, in a snapshot
/// as any connection does, and refuses every write, leaving the store as it was.
#[test]
fn a_connection_that_refuses_writes_reads_and_changes_nothing() {
    on_every_backend_raw("reader", |store, backend| {
        let name = backend.name;
        store.apply(&batch(1, vec![report(3, 1, "A1", "2020-02", 0, 500)]), 1_000).expect("apply");
        let shop = org("shop", OrgKind::Merchant);
        store.put_organisation(&shop, Some(&[7; 32]), 1_000).expect("org");
        let orgs = store.organisations().expect("orgs");
        let mut reader = Store::open(&backend.url).expect("another connection");
        reader.refuse_writes().expect("refuse writes");
        let one = SubjectKey([1; 32]);
        let read = read_at(i64::MAX, "2021-01-01");
        assert_eq!(balances(&mut reader, 1, &read), balances(store, 1, &read), "{name}: the reader reads the file");
        let found = reader.organisation_by_key(&[7; 32]).expect("key");
        assert_eq!(found.map(|o| o.id), Some(shop.id.clone()), "{name}: and the caller's key");
        let standing = reader.snapshot(|s| s.standing(&one, &read)).expect("snapshot");
        assert!(standing.is_some_and(|s| !s.frozen), "{name}: and a lender's read in a snapshot");
        assert!(reader.put_consent(&one, &shop_consent(), 2_000).is_err(), "{name}: a consent is refused");
        assert!(reader.set_freeze(&one, true, 2_000).is_err(), "{name}: a freeze is refused");
        assert!(reader.apply(&batch(2, vec![report(3, 2, "B1", "2020-02", 0, 1)]), 2_000).is_err(), "{name}: a batch");
        let unit = reader.unit(|s| s.put_organisation(&org("other", OrgKind::Lender), None, 2_000));
        assert!(unit.is_err(), "{name}: a unit that writes is refused");
        assert!(!store.is_frozen(&one).expect("freeze"), "{name}: nothing was frozen");
        assert!(store.consents(&one, i64::MAX).expect("consents").is_empty(), "{name}: nothing was consented");
        assert_eq!(store.organisations().expect("orgs"), orgs, "{name}: no organisation added");
        assert!(balances(store, 2, &read).is_empty(), "{name}: no batch applied");
    });
}

#[test]
fn quarantine_and_a_walk_over_every_subject() {
    on_every_backend("walk", |store, name| {
        let mut b = batch(1, vec![report(3, 1, "A1", "2020-02", 0, 500), report(4, 2, "B1", "2020-02", 0, 800)]);
        b.quarantined = vec![Quarantined {
            record: 5,
            subject: SubjectKey([2; 32]),
            rule: "negative_without_notice",
            message: "held".into(),
        }];
        let outcome = store.apply(&b, 1_000).expect("apply");
        assert_eq!(
            store.quarantine(outcome.batch_id).expect("quarantine"),
            vec![(5, "negative_without_notice".into(), "held".into())],
            "{name}"
        );
        let mut seen = Vec::new();
        let mut last_progress = 0;
        let n = store
            .for_each_file(
                &read_at(i64::MAX, "2020-03-01"),
                &mut |key, file| {
                    seen.push((key.0[0], file.accounts.len(), file.accounts[0].reports[0].balance_minor));
                    Ok(())
                },
                &mut |p| last_progress = p,
            )
            .expect("walk");
        assert_eq!(n, 2, "{name}");
        assert_eq!(seen, vec![(1, 1, 500), (2, 1, 800)], "{name}");
        assert_eq!(last_progress, store.max_subject_id().expect("max"), "{name}");
    });
}

#[test]
fn consents_and_disputes_are_records_with_history() {
    on_every_backend("records", |store, name| {
        store.apply(&batch(1, vec![report(3, 1, "A1", "2020-02", 0, 500)]), 1_000).expect("apply");
        let key = SubjectKey([1; 32]);
        let consent = shop_consent();
        store.put_consent(&key, &consent, 2_000).expect("grant");
        store.put_consent(&key, &Consent { revoked: Some(d("2026-03-01")), ..consent.clone() }, 3_000).expect("revoke");
        let then = store.consents(&key, 2_500).expect("consents");
        assert_eq!(then, vec![consent.clone()], "{name}");
        assert!(then[0].is_live_on(d("2026-06-01")), "{name}");
        let now = store.consents(&key, i64::MAX).expect("consents");
        assert!(!now[0].is_live_on(d("2026-06-01")), "{name}: revoked");

        let bank = OrgId::parse("bank").expect("org");
        let id = store.open_dispute(&key, "report", "A1 2020-02", Some(&bank), 4_000).expect("open");
        let queue = store.undecided_disputes(None, 0, 100).expect("queue");
        assert_eq!(queue.len(), 1, "{name}");
        assert_eq!(
            (queue[0].0.state, queue[0].0.furnisher.as_ref()),
            (DisputeState::FurnisherAsked, Some(&bank)),
            "{name}"
        );
        store.dispute_step(id, DisputeState::FurnisherVerified, 4_500).expect("step");
        assert_eq!(
            store.undecided_disputes(None, 0, 100).expect("queue").len(),
            1,
            "{name}: answered, not yet decided"
        );
        store.dispute_step(id, DisputeState::Corrected, 5_000).expect("step");
        let disputes = store.disputes(&key).expect("disputes");
        assert_eq!(disputes.len(), 1, "{name}");
        assert_eq!((disputes[0].id, disputes[0].state), (id, DisputeState::Corrected), "{name}");
        assert!(store.undecided_disputes(None, 0, 100).expect("queue").is_empty(), "{name}");
        let review = store.open_dispute(&key, "decision", "leaf 3", None, 6_000).expect("open");
        assert_eq!(store.disputes(&key).expect("disputes")[1].state, DisputeState::Open, "{name}: no furnisher to ask");
        assert!(review > id, "{name}");
        let second = store.open_dispute(&key, "account", "A1", Some(&bank), 6_500).expect("open");
        let ids = |page: Vec<(Dispute, SubjectKey)>| page.iter().map(|(d, _)| d.id).collect::<Vec<_>>();
        assert_eq!(ids(store.undecided_disputes(None, 0, 100).expect("queue")), [review, second], "{name}");
        assert_eq!(ids(store.undecided_disputes(None, 0, 1).expect("page")), [review], "{name}: a page of one");
        assert_eq!(ids(store.undecided_disputes(None, review, 1).expect("page")), [second], "{name}: the next page");
        assert_eq!(
            ids(store.undecided_disputes(Some(&bank), 0, 100).expect("bank's")),
            [second],
            "{name}: the furnisher's"
        );
        assert_eq!(
            store.dispute(second).expect("one").map(|(d, k)| (d.state, k)),
            Some((DisputeState::FurnisherAsked, key))
        );
        assert!(store.dispute(999_999).expect("none").is_none(), "{name}");

        let shop = OrgId::parse("shop").expect("org");
        store.put_service_point(&shop, "p1", "{\"lat\":1}", 7_000).expect("point");
        store.put_service_point(&shop, "p2", "{\"lat\":2}", 7_000).expect("point");
        store.put_service_point(&shop, "p1", "", 7_000).expect("removed");
        assert_eq!(
            store.service_points().expect("points"),
            vec![("shop".into(), "p2".into(), "{\"lat\":2}".into())],
            "{name}"
        );
        assert_eq!(store.witness_key(&shop).expect("key"), None, "{name}");
        store.put_witness_key(&shop, "w", "aa", 8_000).expect("key");
        store.put_witness_key(&shop, "w", "bb", 8_000).expect("key");
        assert_eq!(store.witness_key(&shop).expect("key"), Some(("w".into(), "bb".into())), "{name}");
        store.put_cosignature(5, &shop, "five", 9_000).expect("cosign");
        store.put_cosignature(9, &shop, "nine", 9_000).expect("cosign");
        store.put_cosignature(7, &shop, "seven", 9_000).expect("cosign");
        assert_eq!(store.latest_cosigned().expect("latest").as_deref(), Some("nine"), "{name}");
        assert!(!store.is_frozen(&key).expect("frozen"), "{name}");
        store.set_freeze(&key, true, 10_000).expect("freeze");
        assert!(store.is_frozen(&key).expect("frozen"), "{name}");
        store.set_freeze(&key, false, 10_000).expect("lift");
        assert!(!store.is_frozen(&key).expect("frozen"), "{name}: lifted in the same millisecond");
        assert!(matches!(store.consents(&SubjectKey([9; 32]), 0), Err(StoreError::UnknownSubject)), "{name}");
    });
}

#[test]
fn the_audit_finds_every_change_made_behind_the_stores_back() {
    on_every_backend_raw("audit", |store, backend| {
        let name = backend.name;
        let b = batch(
            1,
            vec![
                report(3, 1, "A1", "2020-02", 0, 500),
                report(4, 1, "A1", "2020-03", 30, 500),
                report(5, 1, "A1", "2020-04", 0, 500),
            ],
        );
        let first = store.apply(&b, 1_000).expect("apply");
        assert_eq!(first.leaf, 0, "{name}");
        let mut kept = store.log_tree().expect("tree");
        assert_eq!(kept.size(), 1, "{name}");
        let second = store.apply(&batch(2, vec![report(3, 2, "B1", "2020-02", 0, 800)]), 2_000).expect("apply");
        assert_eq!(second.leaf, 1, "{name}");
        store.extend_log_tree(&mut kept).expect("extend");
        assert_eq!(
            (kept.size(), kept.root()),
            (2, store.log_tree().expect("tree").root()),
            "{name}: a kept tree catches up"
        );
        let clean = store.audit().expect("audit");
        assert_eq!((clean.leaves, clean.batches, clean.problems.clone()), (2, 2, vec![]), "{name}");
        assert_eq!(clean.root, store.log_tree().expect("tree").root(), "{name}");

        // A purge removes rows; the log accounts for them and stays clean.
        let purge = store.purge(d("2025-04-01"), Retention::default(), 3_000).expect("purge");
        assert_eq!(purge.reports_deleted, 1, "{name}");
        let after = store.audit().expect("audit");
        assert_eq!((after.leaves, after.problems.clone()), (3, vec![]), "{name}");
        assert!(store.log_leaf(2).expect("leaf").expect("purge leaf").contains("\"kind\":\"purge\""), "{name}");

        behind_the_back(backend, "UPDATE reports SET balance_minor = 1 WHERE balance_minor = 800");
        let found = store.audit().expect("audit").problems;
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert!(found[0].contains("batch 2: its rows were altered"), "{name}: {found:?}");

        behind_the_back(
            backend,
            "UPDATE reports SET balance_minor = 800 WHERE balance_minor = 1; DELETE FROM reports WHERE month = 24241",
        );
        let found = store.audit().expect("audit").problems;
        assert!(found.iter().any(|p| p.contains("batch 1: its rows were altered")), "{name}: a removed row: {found:?}");

        behind_the_back(backend, "UPDATE log_leaves SET body = replace(body, 'jsonl', 'csv') WHERE leaf_index = 1");
        let found = store.audit().expect("audit").problems;
        assert!(found.iter().any(|p| p.contains("leaf 1: its stored hash does not match")), "{name}: {found:?}");

        behind_the_back(backend, "DELETE FROM log_leaves WHERE leaf_index = 0");
        let found = store.audit().expect("audit").problems;
        assert!(found.iter().any(|p| p.contains("leaf 0 is missing")), "{name}: {found:?}");
        assert!(found.iter().any(|p| p.contains("batch 1 has no leaf")), "{name}: {found:?}");

        behind_the_back(backend, "DELETE FROM purged_rows");
        let found = store.audit().expect("audit").problems;
        assert!(
            found.iter().any(|p| p.contains("purge 1: the record of the rows it removed was altered")),
            "{name}: {found:?}"
        );
    });
}

/// A unit of work commits its writes and its leaves together, or none of them: a failure after
/// a write and a leaf leaves neither; a unit inside a unit is part of it.
#[test]
fn a_unit_of_work_commits_whole_or_not_at_all() {
    use candor_log::leaf::SubjectEvent;
    use candor_log::{Leaf, LEAF_VERSION};
    on_every_backend("unit", |store, name| {
        let id = candor_file::ids::NationalId::parse(Scheme::CnRid, "110105199003071239").expect("id");
        let key = SubjectKey([7; 32]);
        store.enrol(&SubjectEntry::of(key, &id), Some("hash"), candor_store::Proofing::Code, 1).expect("enrol");
        let event = |ms| {
            Leaf::FreezePlaced(SubjectEvent { leaf_version: LEAF_VERSION, subject: key.to_hex(), recorded_ms: ms })
        };
        let leaves = |store: &mut Store| store.log_tree().expect("tree").size();
        let before = leaves(store);
        let failed: Result<(), StoreError> = store.unit(|s| {
            s.set_freeze(&key, true, 2)?;
            s.log(&event(2))?;
            s.unit(|inner| inner.set_freeze(&key, true, 3))?;
            Err(StoreError::Corrupt("the workflow failed after its writes".into()))
        });
        assert!(failed.is_err());
        assert!(!store.is_frozen(&key).expect("read"), "{name}: the write rolled back");
        assert_eq!(leaves(store), before, "{name}: and its leaf with it");

        let index = store
            .unit(|s| {
                s.set_freeze(&key, true, 4)?;
                s.log(&event(4))
            })
            .expect("committed");
        assert!(store.is_frozen(&key).expect("read"), "{name}");
        assert_eq!(leaves(store), before + 1, "{name}");
        assert_eq!(
            store.log_leaf(index).expect("leaf"),
            Some(event(4).to_text()),
            "{name}: the bytes the log commits to"
        );
        let stranger =
            Leaf::Enrolment(SubjectEvent { leaf_version: LEAF_VERSION, subject: "00".repeat(32), recorded_ms: 5 });
        assert!(matches!(store.log(&stranger), Err(StoreError::UnknownSubject)), "{name}: a leaf about nobody on file");
    });
}

/// The audit holds person-level changes to their leaves: a freeze whose row is deleted, or a
/// consent row slipped in behind the bureau's back, shows.
#[test]
fn the_audit_finds_a_change_without_its_leaf_and_a_leaf_without_its_change() {
    use candor_log::leaf::SubjectEvent;
    use candor_log::{Leaf, LEAF_VERSION};
    on_every_backend_raw("audit_records", |store, backend| {
        let name = backend.name;
        let id = candor_file::ids::NationalId::parse(Scheme::CnRid, "110105199003071239").expect("id");
        let key = SubjectKey([9; 32]);
        let event = |ms| SubjectEvent { leaf_version: LEAF_VERSION, subject: key.to_hex(), recorded_ms: ms };
        store
            .unit(|s| {
                s.enrol(&SubjectEntry::of(key, &id), Some("hash"), candor_store::Proofing::Code, 1)?;
                s.log(&Leaf::Enrolment(event(1)))?;
                s.set_freeze(&key, true, 2)?;
                s.log(&Leaf::FreezePlaced(event(2)))
            })
            .expect("committed");
        let audit = store.audit().expect("audit");
        assert!(audit.problems.is_empty(), "{name}: {:?}", audit.problems);

        behind_the_back(backend, "DELETE FROM freezes");
        behind_the_back(
            backend,
            "INSERT INTO consents (subject_id, recorded_ms, org_id, purpose, granted, until, revoked) \
             SELECT subject_id, 5, 'shop', 'tenancy', 20000, 20100, NULL FROM subjects",
        );
        let problems = store.audit().expect("audit").problems;
        assert!(
            problems.iter().any(|p| p == "freezes: 1 leaf(s) whose change is not in the store"),
            "{name}: {problems:?}"
        );
        assert!(problems.iter().any(|p| p == "consents: 1 change(s) with no leaf in the log"), "{name}: {problems:?}");
        assert_eq!(problems.len(), 2, "{name}: {problems:?}");
    });
}

/// The group commit: many threads append at once through one writer; each is answered with its
/// own leaf's index, every index once, the log contiguous and each answered leaf's bytes there;
/// a leaf about nobody on file is refused alone, and the others in its group are not.
#[test]
fn a_group_commit_answers_each_caller_with_its_own_durable_leaf() {
    use candor_log::leaf::SubjectEvent;
    use candor_log::{Leaf, LEAF_VERSION};
    use candor_store::GroupLog;
    on_every_backend_raw("group", |store, backend| {
        let name = backend.name;
        let key = SubjectKey([5; 32]);
        enrol_logged(store, key);
        let before = store.log_tree().expect("tree").size();
        let group = GroupLog::start(Store::open(&backend.url).expect("writer")).expect("group");
        let (threads, each) = (8usize, 40usize);
        let answered: Vec<(i64, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let group = &group;
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        for i in 0..each {
                            let ms = (t * 1_000 + i) as i64;
                            let leaf = if i % 10 == 3 {
                                // About nobody on file: refused reads are logged about nobody.
                                refused_about_nobody(ms)
                            } else if i % 10 == 7 {
                                let stranger = SubjectEvent {
                                    leaf_version: LEAF_VERSION,
                                    subject: "00".repeat(32),
                                    recorded_ms: ms,
                                };
                                let refused = group.append(Leaf::FreezePlaced(stranger));
                                assert!(matches!(refused, Err(StoreError::UnknownSubject)), "{refused:?}");
                                continue;
                            } else {
                                // About the person on file (a read's leaf changes no row).
                                refused_about(&key, ms)
                            };
                            let text = leaf.to_text();
                            out.push((group.append(leaf).expect("appended"), text));
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("thread")).collect()
        });
        group.stop();
        assert_eq!(answered.len(), threads * (each - each / 10), "{name}");
        let mut indices: Vec<i64> = answered.iter().map(|a| a.0).collect();
        indices.sort_unstable();
        let expected: Vec<i64> = (before as i64..before as i64 + answered.len() as i64).collect();
        assert_eq!(indices, expected, "{name}: every index once, no gap");
        for (index, text) in &answered {
            assert_eq!(store.log_leaf(*index).expect("leaf").as_ref(), Some(text), "{name}: leaf {index}");
        }
        assert_eq!(store.log_tree().expect("tree").size(), before + answered.len() as u64, "{name}");
        let audit = store.audit().expect("audit");
        assert!(audit.problems.is_empty(), "{name}: {:?}", audit.problems);
        assert_eq!(store.leaves_about(&key).expect("leaves").len(), threads * (each - 2 * each / 10) + 1, "{name}");
        assert!(
            group
                .append(Leaf::FreezePlaced(SubjectEvent {
                    leaf_version: LEAF_VERSION,
                    subject: key.to_hex(),
                    recorded_ms: 9,
                }))
                .is_err(),
            "{name}: a stopped writer takes nothing"
        );
    });
}

/// Writers on several connections append groups at once (several servers on one store, and a
/// unit that logs beside its writes): the log's lock orders them, so every group is appended
/// whole, every index is taken once with no gap, and each leaf is at the index it was given.
#[test]
fn writers_on_several_connections_each_append_whole_groups_in_turn() {
    use candor_log::Leaf;
    on_every_backend_raw("writers", |store, backend| {
        let name = backend.name;
        let key = SubjectKey([6; 32]);
        enrol_logged(store, key);
        let before = store.log_tree().expect("tree").size() as i64;
        let (writers, groups, size) = (3usize, 30usize, 7usize);
        let appended: Vec<(i64, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..writers)
                .map(|w| {
                    scope.spawn(move || {
                        let mut writer = Store::open(&backend.url).expect("writer");
                        let mut out = Vec::new();
                        for g in 0..groups {
                            let leaves: Vec<Leaf> = (0..size)
                                .map(|i| {
                                    let ms = (w * 100_000 + g * 100 + i) as i64;
                                    if i % 2 == 0 {
                                        refused_about_nobody(ms)
                                    } else {
                                        // About the person on file (a read's leaf changes no row).
                                        refused_about(&key, ms)
                                    }
                                })
                                .collect();
                            let indices = if w == 0 && g % 3 == 0 {
                                // In a unit: the same leaves inside a transaction of the caller's.
                                writer.unit(|s| s.log_all(&leaves.iter().collect::<Vec<_>>())).expect("unit")
                            } else {
                                writer.log_all(&leaves.iter().collect::<Vec<_>>()).expect("group")
                            };
                            let indices: Vec<i64> = indices.into_iter().map(|i| i.expect("leaf")).collect();
                            assert!(
                                indices.windows(2).all(|p| p[1] == p[0] + 1),
                                "{name}: a group is one run: {indices:?}"
                            );
                            out.extend(indices.into_iter().zip(leaves.iter().map(Leaf::to_text)));
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("writer")).collect()
        });
        let mut indices: Vec<i64> = appended.iter().map(|a| a.0).collect();
        indices.sort_unstable();
        assert_eq!(indices, (before..before + (writers * groups * size) as i64).collect::<Vec<_>>(), "{name}");
        for (index, text) in &appended {
            assert_eq!(store.log_leaf(*index).expect("leaf").as_ref(), Some(text), "{name}: leaf {index}");
        }
        assert_eq!(store.leaves_about(&key).expect("leaves").len(), writers * groups * (size / 2) + 1, "{name}");
        let audit = store.audit().expect("audit");
        assert!(audit.problems.is_empty(), "{name}: {:?}", audit.problems);
    });
}

/// Enrols a person (as a code-proofed enrolment) and logs it, so that leaves about them are taken.
fn enrol_logged(store: &mut Store, key: SubjectKey) {
    use candor_log::{leaf::SubjectEvent, Leaf, LEAF_VERSION};
    let id = candor_file::ids::NationalId::parse(Scheme::CnRid, "110105199003071239").expect("id");
    store
        .unit(|s| {
            s.enrol(&SubjectEntry::of(key, &id), Some("hash"), candor_store::Proofing::Code, 1)?;
            s.log(&Leaf::Enrolment(SubjectEvent { leaf_version: LEAF_VERSION, subject: key.to_hex(), recorded_ms: 1 }))
        })
        .expect("enrol");
}

/// A refused read about a person on file (a read's leaf changes no row).
fn refused_about(key: &SubjectKey, ms: i64) -> candor_log::Leaf {
    candor_log::Leaf::RefusedRead(candor_log::leaf::RefusedRead {
        leaf_version: candor_log::LEAF_VERSION,
        subject: key.to_hex(),
        org: "shop".into(),
        purpose: "tenancy".into(),
        reason: "file frozen".into(),
        recorded_ms: ms,
    })
}

/// A refused read about nobody on file, as a reader without consent leaves.
fn refused_about_nobody(ms: i64) -> candor_log::Leaf {
    candor_log::Leaf::RefusedRead(candor_log::leaf::RefusedRead {
        leaf_version: candor_log::LEAF_VERSION,
        subject: "00".repeat(32),
        org: "shop".into(),
        purpose: "tenancy".into(),
        reason: "no live consent".into(),
        recorded_ms: ms,
    })
}

/// A writer held up (another unit holds the log) lets its queue fill: past the bound, a submit
/// is refused at once with `Busy` rather than waiting, and every leaf it took is appended and
/// answered, in one contiguous run, once the log is free again.
#[test]
fn a_full_group_queue_says_busy_and_answers_every_leaf_it_took() {
    use candor_store::GroupLog;
    use std::sync::mpsc;
    use std::time::Duration;
    on_every_backend_raw("busy", |store, backend| {
        let name = backend.name;
        let before = store.log_tree().expect("tree").size() as i64;
        let group = GroupLog::with_queue(Store::open(&backend.url).expect("writer"), 2).expect("group");
        let mut holder = Store::open(&backend.url).expect("holder");
        let (held_tx, held) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let accepted = std::thread::scope(|scope| {
            scope.spawn(move || {
                holder
                    .unit(|s| {
                        s.log(&refused_about_nobody(0))?;
                        held_tx.send(()).expect("held");
                        released.recv().expect("release");
                        Ok::<_, StoreError>(())
                    })
                    .expect("the holder's unit");
            });
            held.recv().expect("the log is held");
            let (done, answers) = mpsc::channel();
            let mut accepted = 0;
            let busy = (1..=64).find_map(|ms| {
                let done = done.clone();
                match group.submit(refused_about_nobody(ms), Box::new(move |index| drop(done.send(index)))) {
                    Ok(()) => {
                        accepted += 1;
                        None
                    }
                    Err(e) => Some(e),
                }
            });
            // Released before anything is checked, so a failed check does not leave it waiting.
            release.send(()).expect("release");
            assert!(matches!(busy, Some(StoreError::Busy)), "{name}: {busy:?} after {accepted}");
            // The queue's two at least, and those the writer took into its waiting group.
            assert!((2..=2 + candor_store::MAX_GROUP).contains(&accepted), "{name}: {accepted}");
            let mut indices: Vec<i64> = (0..accepted)
                .map(|_| answers.recv_timeout(Duration::from_secs(10)).expect("answered").expect("appended"))
                .collect();
            indices.sort_unstable();
            let expected: Vec<i64> = (before + 1..before + 1 + accepted as i64).collect();
            assert_eq!(indices, expected, "{name}: after the holder's leaf, every taken leaf once");
            accepted as i64
        });
        group.stop();
        assert_eq!(store.log_tree().expect("tree").size() as i64, before + 1 + accepted, "{name}");
    });
}

/// A connection keeps the subjects' ids it has seen committed (an id never changes), but never
/// one seen inside a unit that writes: that unit may roll back, and the id then belongs to no
/// one, or on SQLite later to someone else.
#[test]
fn an_id_seen_in_a_unit_that_rolled_back_is_not_kept() {
    on_every_backend_raw("kept_ids", |store, backend| {
        let name = backend.name;
        let (one, two) = (SubjectKey([1; 32]), SubjectKey([2; 32]));
        let b = batch(1, vec![report(1, 1, "A1", "2020-02", 0, 500)]);
        let failed: Result<(), StoreError> = store.unit(|s| {
            s.apply(&b, 1_000)?;
            assert!(s.subject_id(&one)?.is_some(), "{name}: on file inside the unit");
            Err(StoreError::Busy)
        });
        assert!(failed.is_err(), "{name}");
        assert_eq!(store.subject_id(&one).expect("id"), None, "{name}: rolled back");
        // Another connection files the same people, the other one first: their ids are not
        // those the rolled-back unit saw.
        let mut other = Store::open(&backend.url).expect("open");
        let mut b = batch(2, vec![report(1, 1, "A1", "2020-02", 0, 500)]);
        b.subjects.reverse();
        other.apply(&b, 2_000).expect("apply");
        let id = other.subject_id(&one).expect("id").expect("on file");
        assert_eq!(store.subject_id(&one).expect("id"), Some(id), "{name}");
        assert_ne!(store.subject_id(&two).expect("id"), Some(id), "{name}");
        // Kept, it reads the person's own file.
        let standing = store.read_alone(|s| s.standing(&one, &read_at(i64::MAX, "2026-06-01"))).expect("read");
        let file = standing.expect("on file").reported.file;
        assert_eq!(file.accounts.len(), 1, "{name}: {file:?}");
        assert_eq!(file.accounts[0].account.reference, "A1", "{name}");
    });
}
