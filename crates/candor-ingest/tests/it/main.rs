//! Submissions end to end: the documented examples, every refusal, Metro 2, and the file that
//! results in the store.

use std::path::{Path, PathBuf};

use candor_file::ids::{NationalId, Scheme};
use candor_file::model::parse_date;
use candor_file::retention::Retention;
use candor_file::secret::{Keys, NONCE_BYTES};
use candor_ingest::{parse, Context, Format, Refused, SCHEMA};
use candor_store::{Batch, FileRead, Store};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn keys() -> Keys {
    Keys::from_hex(&"01".repeat(32), &"02".repeat(32)).expect("keys")
}

fn submit(bytes: &[u8], format: Format, attest: bool) -> Result<Batch, Refused> {
    let keys = keys();
    let mut counter = 0u8;
    let mut nonce = move || {
        counter = counter.wrapping_add(1);
        [counter; NONCE_BYTES]
    };
    let mut ctx = Context {
        keys: &keys,
        today: parse_date("2026-10-31").expect("date"),
        nonce: &mut nonce,
        sender: None,
        notice_attested: attest,
    };
    parse(bytes, format, &mut ctx)
}

fn example(name: &str) -> Vec<u8> {
    std::fs::read(repo(&format!("docs/examples/{name}"))).expect("example")
}

#[track_caller]
fn refused(text: &str) -> Vec<String> {
    submit(text.as_bytes(), Format::JsonLines, false)
        .expect_err("must be refused")
        .errors
        .iter()
        .map(|e| e.to_string())
        .collect()
}

const HEADER: &str = r#"{"type": "batch", "sender": "bank-one", "sender_kind": "lender", "sender_name": "Bank One"}"#;

#[test]
fn the_documented_examples_read_the_same_in_both_forms() {
    let jsonl = submit(&example("lender-batch.jsonl"), Format::JsonLines, false).expect("jsonl example");
    let csv = submit(&example("lender-batch.csv"), Format::Csv, false).expect("csv example");
    assert_eq!(jsonl.subjects.len(), 2);
    assert_eq!(jsonl.accounts.len(), 2);
    assert_eq!(jsonl.reports.len(), 2, "the unattested 60-day report is held back");
    assert_eq!(jsonl.quarantined.len(), 1);
    assert_eq!(jsonl.quarantined[0].record, 8);
    assert_eq!(jsonl.inquiries.len(), 1);
    // Same content, different bytes: equal but for the digest and the sealing nonces.
    assert_eq!(jsonl.reports, csv.reports);
    assert_eq!(jsonl.accounts, csv.accounts);
    assert_eq!(jsonl.quarantined, csv.quarantined);
    assert_ne!(jsonl.digest, csv.digest);
}

#[test]
fn a_csv_header_naming_a_column_twice_is_refused_whole() {
    let text = String::from_utf8(example("lender-batch.csv")).expect("utf-8");
    // The last column named again as the first field's: which of the two would a reader keep?
    let twice = text.replacen(",purpose\n", ",name\n", 1);
    assert_ne!(twice, text);
    let refused = submit(twice.as_bytes(), Format::Csv, false).expect_err("must be refused");
    let errors: Vec<String> = refused.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors, ["record 1, field `name`: the column appears twice in the CSV header"]);
}

#[test]
fn names_are_sealed_and_numbers_never_kept() {
    let batch = submit(&example("lender-batch.jsonl"), Format::JsonLines, false).expect("example");
    let k = keys();
    let id = NationalId::parse(Scheme::CnRid, "110105199003071239").expect("id");
    let entry = batch.subjects.iter().find(|s| s.key == k.subject_key(&id)).expect("subject");
    assert_eq!(entry.masked, "**************1239");
    assert_eq!(entry.region.as_deref(), Some("110105"));
    let ssn = NationalId::parse(Scheme::UsSsn, "123-45-6789").expect("id");
    let other = batch.subjects.iter().find(|s| s.key == k.subject_key(&ssn)).expect("subject");
    assert_eq!(other.region.as_deref(), Some("MI"), "a state given in the subject record");
    let sealed = entry.name_sealed.as_ref().expect("name sealed");
    assert_eq!(k.open(&entry.key, sealed).as_deref(), Ok("张伟"));
    let debug = format!("{batch:?}");
    assert!(!debug.contains("110105199003071239") && !debug.contains("张伟") && !debug.contains("123-45-6789"));
}

#[test]
fn every_refusal_names_record_field_and_why() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239", "religion": "none"}"#,
            "record 2, field `religion`: unknown field: a subject record has only type, scheme, number, name, birth_date, region",
        ),
        (
            r#"{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239", "location": "39.9,116.4"}"#,
            "record 2, field `location`: unknown field",
        ),
        (
            r#"{"type": "report", "scheme": "cn_rid", "number": "110105199003071239", "account": "A", "month": "2026-09", "dpd": 0, "status": "open"}"#,
            "record 2, field `balance_minor`: required in a report record",
        ),
        (r#"{"type": "subject", "scheme": "cn_rid", "number": "110105199003071238"}"#, "record 2, field `number`: the check character does not match"),
        (r#"{"type": "subject", "scheme": "passport", "number": "X"}"#, "record 2, field `scheme`: unknown identifier scheme `passport`"),
        (r#"{"type": "friends", "scheme": "cn_rid"}"#, "record 2, field `type`: unknown record type `friends`"),
        (
            r#"{"type": "report", "scheme": "cn_rid", "number": "110105199003071239", "account": "A", "month": "2026-09", "balance_minor": -5, "dpd": 0, "status": "open"}"#,
            "record 2, field `balance_minor`: expected an amount in minor units",
        ),
        (
            r#"{"type": "report", "scheme": "cn_rid", "number": "110105199003071239", "account": "A", "month": "2026-09", "balance_minor": 5, "dpd": 45, "status": "open"}"#,
            "record 2, field `dpd`: expected days past due as a bucket",
        ),
        (r#"{"type": "court_closure", "case": "1", "date": "2026-01-01", "outcome": "performed"}"#, "record 2, field `type`: only a court sends"),
        (r#"not json"#, "record 2: not JSON"),
        (r#"{"type": "subject", "scheme": "cn_rid", "number": {"nested": 1}}"#, "record 2, field `number`: fields are flat"),
        (r#"["type", "subject"]"#, "record 2: a record must be a JSON object"),
        (
            r#"{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239", "number": "310115198506124561"}"#,
            "record 2, field `number`: the field appears twice in the record",
        ),
        (
            r#"{"type": "subject", "scheme": "cn_rid", "number": null, "number": "310115198506124561"}"#,
            "record 2, field `number`: the field appears twice in the record",
        ),
        (
            &format!(
                r#"{{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239"{}}}"#,
                (0..40).map(|i| format!(r#", "f{i}": null"#)).collect::<String>()
            ),
            "record 2, field `f29`: more than 32 fields: no record has that many",
        ),
        (
            r#"{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239", "name": "Zhang\u0000Wei"}"#,
            "record 2, field `name`: text may not hold NUL or other control characters",
        ),
        (
            r#"{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239", "name": "Zhang\u202eieW"}"#,
            "record 2, field `name`: text may not hold bidirectional control characters",
        ),
    ];
    for (line, expected) in cases {
        let errors = refused(&format!("{HEADER}\n{line}\n"));
        assert!(errors.iter().any(|e| e.starts_with(expected)), "{line}\nexpected: {expected}\ngot: {errors:#?}");
    }
}

#[test]
fn every_error_of_a_batch_is_listed() {
    let text = format!(
        "{HEADER}\n{}\n{}\n{}\n",
        r#"{"type": "subject", "scheme": "cn_rid", "number": "1"}"#,
        r#"{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239", "health": "x"}"#,
        r#"{"type": "account", "scheme": "cn_rid", "number": "110105199003071239", "account": "A", "kind": "card", "opened": "2026-02-30", "currency": "CNY"}"#,
    );
    let errors = refused(&text);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].starts_with("record 2, field `number`"));
    assert!(errors[1].starts_with("record 3, field `health`"));
    assert!(errors[2].starts_with("record 4, field `opened`: expected a date YYYY-MM-DD"));
}

#[test]
fn consistency_rules_and_the_minor_rule_refuse_by_name() {
    let paid_with_balance = r#"{"type": "report", "scheme": "cn_rid", "number": "110105199003071239", "account": "A", "month": "2026-09", "balance_minor": 500, "dpd": 0, "status": "paid"}"#;
    let account = r#"{"type": "account", "scheme": "cn_rid", "number": "110105199003071239", "account": "A", "kind": "card", "opened": "2024-01-01", "currency": "CNY"}"#;
    let errors = refused(&format!("{HEADER}\n{account}\n{paid_with_balance}\n"));
    assert_eq!(errors, vec!["record 3, field `balance_minor` [balance_on_paid_account]: the account is reported paid but the balance is 500"]);

    // 440304201001017897 was born on 2010-01-01: under 18 when listed in 2025.
    let court = r#"{"type": "batch", "sender": "court-1", "sender_kind": "court", "sender_name": "Court"}"#;
    let minor = r#"{"type": "court_record", "scheme": "cn_rid", "number": "440304201001017897", "case": "C1", "amount_minor": 100, "currency": "CNY", "grounds": "debt", "listed": "2025-06-01"}"#;
    let errors = refused(&format!("{court}\n{minor}\n"));
    assert_eq!(errors, vec!["record 2, field `listed` [court_record_of_a_minor]: the person was under 18 on the listing date 2025-06-01"]);
}

#[test]
fn a_batch_applies_and_reads_back_from_the_store() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("f.db").display().to_string()).expect("store");
    let batch = submit(&example("lender-batch.jsonl"), Format::JsonLines, false).expect("example");
    let outcome = store.apply(&batch, 1_000).expect("apply");
    assert_eq!((outcome.reports, outcome.quarantined), (2, 1));
    assert!(store.apply(&batch, 2_000).expect("again").duplicate);
    let id = NationalId::parse(Scheme::CnRid, "110105199003071239").expect("id");
    let read = FileRead {
        known_ms: i64::MAX,
        today: parse_date("2026-10-31").expect("date"),
        retention: Retention::default(),
    };
    let file = store.file(&keys().subject_key(&id), &read).expect("read").expect("known");
    assert_eq!(file.accounts[0].reports.len(), 2);
    assert_eq!(file.accounts[0].reports[1].dpd.days(), 30);

    let court = submit(&example("court-batch.jsonl"), Format::JsonLines, false).expect("court example");
    store.apply(&court, 3_000).expect("court");
    let closure = submit(&example("court-closure.jsonl"), Format::JsonLines, false).expect("closure example");
    assert_eq!(store.apply(&closure, 4_000).expect("closure").closures, 1);
}

/// The peer's fixture is not a consistent account: reported paid (status 62) with a balance, and
/// its information dated 2002 for an account opened in 2019. Both are refused by name.
#[test]
fn the_peer_fixture_breaks_two_rules() {
    let raw = std::fs::read(repo("crates/candor-metro2/tests/fixtures/unpacked_fixed_file.dat")).expect("fixture");
    let err = submit(&raw, Format::Metro2, true).expect_err("refused");
    let rules: Vec<_> = err.errors.iter().map(|e| e.rule).collect();
    assert_eq!(rules, vec![Some("balance_on_paid_account"), Some("report_before_opened")]);
}

#[test]
fn metro2_files_map_onto_the_file() {
    let mut raw = std::fs::read(repo("crates/candor-metro2/tests/fixtures/unpacked_fixed_file.dat")).expect("fixture");
    // Mend the fixture (header is 470 bytes): balance 0, information dated October 2020, and a
    // history of one late month before three current ones.
    let base = 470;
    raw[base + 154..base + 163].copy_from_slice(b"000000000");
    raw[base + 181..base + 189].copy_from_slice(b"10152020");
    raw[base + 126..base + 150].copy_from_slice(b"0001BBBBBBBBBBBBBBBBBBBB");
    let batch = submit(&raw, Format::Metro2, true).expect("metro2");
    assert_eq!(batch.sender.id.as_str(), "metro2-6666666");
    assert_eq!(batch.subjects[0].region.as_deref(), Some("MI"), "the state of the address, for statistics");
    assert_eq!(batch.subjects[0].masked, "*****8759");
    let references: Vec<&str> = batch.accounts.iter().map(|(_, a)| a.reference.as_str()).collect();
    assert_eq!(references, ["553723456", "553723456~J1", "553723456~J2"], "the primary and the two joint consumers");
    let primary: Vec<_> = batch.reports.iter().filter(|r| r.reference == "553723456").collect();
    let months: Vec<(String, u16, bool)> =
        primary.iter().map(|r| (r.report.month.to_string(), r.report.dpd.days(), r.derived)).collect();
    assert_eq!(
        months,
        [
            ("2020-10".into(), 0, false),
            ("2020-09".into(), 0, true),
            ("2020-08".into(), 0, true),
            ("2020-07".into(), 0, true),
            ("2020-06".into(), 30, true)
        ]
    );
    // Without the attestation the late month is held back and the quarantine says so.
    let unattested = submit(&raw, Format::Metro2, false).expect("metro2");
    assert_eq!(unattested.reports.len(), batch.reports.len() - 3);
    assert_eq!(unattested.quarantined.len(), 3);
    assert!(unattested.quarantined[0].message.contains("1 negative months"));
}

#[test]
fn metro2_trailer_and_status_checks() {
    let mut raw = std::fs::read(repo("crates/candor-metro2/tests/fixtures/unpacked_fixed_file.dat")).expect("fixture");
    let trailer = raw.len() - 426;
    raw[trailer + 11..trailer + 20].copy_from_slice(b"000000002");
    let err = submit(&raw, Format::Metro2, true).expect_err("refused");
    assert_eq!(err.errors[0].rule, Some("trailer_count_mismatch"));
}

#[test]
fn the_schema_document_names_every_field() {
    let doc = std::fs::read_to_string(repo("docs/batch-format.md")).expect("docs/batch-format.md");
    for spec in SCHEMA {
        assert!(doc.contains(&format!("`{}`", spec.kind)), "record type {} is undocumented", spec.kind);
        for field in spec.fields {
            assert!(doc.contains(&format!("`{}`", field.name)), "field {}.{} is undocumented", spec.kind, field.name);
        }
    }
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    fn mutated(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..10).prop_map(move |edits| {
            let mut raw = seed.clone();
            for (at, byte) in edits {
                let i = at.index(raw.len());
                raw[i] = byte;
            }
            raw
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

        /// Damaged submissions in every format are refused or read; none panics.
        #[test]
        fn damaged_submissions_never_panic(
            jsonl in mutated(example("lender-batch.jsonl")),
            csv in mutated(example("lender-batch.csv")),
            noise in prop::collection::vec(any::<u8>(), 0..600),
        ) {
            let _ = submit(&jsonl, Format::JsonLines, false);
            let _ = submit(&csv, Format::Csv, false);
            let _ = submit(&noise, Format::Csv, false);
            let _ = submit(&noise, Format::JsonLines, false);
            let _ = submit(&noise, Format::Metro2, true);
        }
    }
}
