//! The bytes of every kind of leaf, pinned; and leaves in the shape earlier versions wrote, read.

use expect_test::{expect, Expect};

use super::*;

const SUBJECT: &str = "5f1c2a";

fn check(leaf: Leaf, expected: Expect) {
    let text = leaf.to_text();
    expected.assert_eq(&text);
    assert_eq!(Leaf::parse(&text).expect("parses"), leaf, "a leaf reads back as it was written");
}

fn event() -> SubjectEvent {
    SubjectEvent { leaf_version: LEAF_VERSION, subject: SUBJECT.into(), recorded_ms: 7 }
}

fn read() -> Read {
    Read {
        leaf_version: LEAF_VERSION,
        subject: SUBJECT.into(),
        org: "demo-shop".into(),
        purpose: "deposit_waiver".into(),
        consent_until: "2030-12-31".into(),
        model_version: "ab12".into(),
        score: Some(612),
        pd: Some(0.012_345_678_901_234_5),
        reasons: vec!["R01".into(), "R07".into()],
        decision: None,
        policy: None,
        inputs: [("months_of_history".to_owned(), Some(14.0)), ("revolving_utilisation".to_owned(), None)]
            .into_iter()
            .collect(),
        as_of: "2026-11-30".into(),
        recorded_ms: 7,
    }
}

#[test]
fn the_bytes_of_every_kind_are_pinned() {
    check(
        Leaf::Ingestion(Ingestion {
            leaf_version: LEAF_VERSION,
            batch_id: 3,
            sender: "demo-bank".into(),
            format: "jsonl".into(),
            submission: "aa".into(),
            rows: "bb".into(),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"ingestion","leaf_version":1,"batch_id":3,"sender":"demo-bank","format":"jsonl","submission":"aa","rows":"bb","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::Purge(Purge {
            leaf_version: LEAF_VERSION,
            purge_id: 1,
            today: "2026-12-01".into(),
            negative_years: 5,
            reports_deleted: 10,
            court_records_deleted: 2,
            purged: "cc".into(),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"purge","leaf_version":1,"purge_id":1,"today":"2026-12-01","negative_years":5,"reports_deleted":10,"court_records_deleted":2,"purged":"cc","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::Enrolment(event()),
        expect![[r#"{"kind":"enrolment","leaf_version":1,"subject":"5f1c2a","recorded_ms":7}"#]],
    );
    check(
        Leaf::Withdrawal(event()),
        expect![[r#"{"kind":"withdrawal","leaf_version":1,"subject":"5f1c2a","recorded_ms":7}"#]],
    );
    check(
        Leaf::FreezePlaced(event()),
        expect![[r#"{"kind":"freeze_placed","leaf_version":1,"subject":"5f1c2a","recorded_ms":7}"#]],
    );
    check(
        Leaf::FreezeLifted(event()),
        expect![[r#"{"kind":"freeze_lifted","leaf_version":1,"subject":"5f1c2a","recorded_ms":7}"#]],
    );
    let consent = ConsentChange {
        leaf_version: LEAF_VERSION,
        subject: SUBJECT.into(),
        org: "demo-shop".into(),
        purpose: "tenancy".into(),
        granted: "2026-12-01".into(),
        until: "2027-06-30".into(),
        revoked: None,
        recorded_ms: 7,
    };
    check(
        Leaf::ConsentGranted(consent.clone()),
        expect![[
            r#"{"kind":"consent_granted","leaf_version":1,"subject":"5f1c2a","org":"demo-shop","purpose":"tenancy","granted":"2026-12-01","until":"2027-06-30","revoked":null,"recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::ConsentRevoked(ConsentChange { revoked: Some("2026-12-02".into()), ..consent }),
        expect![[
            r#"{"kind":"consent_revoked","leaf_version":1,"subject":"5f1c2a","org":"demo-shop","purpose":"tenancy","granted":"2026-12-01","until":"2027-06-30","revoked":"2026-12-02","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::RefusedRead(RefusedRead {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            org: "demo-shop".into(),
            purpose: "tenancy".into(),
            reason: "no live consent".into(),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"refused_read","leaf_version":1,"subject":"5f1c2a","org":"demo-shop","purpose":"tenancy","reason":"no live consent","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::Read(read()),
        expect![[
            r#"{"kind":"read","leaf_version":1,"subject":"5f1c2a","org":"demo-shop","purpose":"deposit_waiver","consent_until":"2030-12-31","model_version":"ab12","score":612,"pd":0.0123456789012345,"reasons":["R01","R07"],"inputs":{"months_of_history":14.0,"revolving_utilisation":null},"as_of":"2026-11-30","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::Decision(Read {
            decision: Some("decline".into()),
            policy: Some(PolicyRef { name: "cards".into(), version: "dd".into() }),
            ..read()
        }),
        expect![[
            r#"{"kind":"decision","leaf_version":1,"subject":"5f1c2a","org":"demo-shop","purpose":"deposit_waiver","consent_until":"2030-12-31","model_version":"ab12","score":612,"pd":0.0123456789012345,"reasons":["R01","R07"],"decision":"decline","policy":{"name":"cards","version":"dd"},"inputs":{"months_of_history":14.0,"revolving_utilisation":null},"as_of":"2026-11-30","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::ModelDeployed(ModelDeployed { leaf_version: LEAF_VERSION, version: "ab12".into(), recorded_ms: 7 }),
        expect![[r#"{"kind":"model_deployed","leaf_version":1,"version":"ab12","recorded_ms":7}"#]],
    );
    check(
        Leaf::DisputeOpened(DisputeOpened {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            dispute: 4,
            record_kind: "report".into(),
            record_ref: "CARD-1 2026-09".into(),
            furnisher_asked: "demo-bank".into(),
            identity_theft_report: Some("POLICE-22".into()),
            blocked: true,
            due_ms: Some(2_592_000_007),
            claim_reason: None,
            claim_sha256: None,
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"dispute_opened","leaf_version":1,"subject":"5f1c2a","dispute":4,"record_kind":"report","record_ref":"CARD-1 2026-09","furnisher_asked":"demo-bank","identity_theft_report":"POLICE-22","blocked":true,"due_ms":2592000007,"recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::DisputeOpened(DisputeOpened {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            dispute: 5,
            record_kind: "report".into(),
            record_ref: "CARD-1 2026-09".into(),
            furnisher_asked: "demo-bank".into(),
            identity_theft_report: None,
            blocked: false,
            due_ms: Some(2_592_000_007),
            claim_reason: Some("paid".into()),
            claim_sha256: Some("00ff".into()),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"dispute_opened","leaf_version":1,"subject":"5f1c2a","dispute":5,"record_kind":"report","record_ref":"CARD-1 2026-09","furnisher_asked":"demo-bank","identity_theft_report":null,"blocked":false,"due_ms":2592000007,"claim_reason":"paid","claim_sha256":"00ff","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::StaffRegistered(StaffRegistered {
            leaf_version: LEAF_VERSION,
            org: "ombudsman".into(),
            staff: "alice".into(),
            recorded_ms: 7,
        }),
        expect![[r#"{"kind":"staff_registered","leaf_version":1,"org":"ombudsman","staff":"alice","recorded_ms":7}"#]],
    );
    check(
        Leaf::CaseOpened(CaseOpened {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            dispute: 5,
            org: "ombudsman".into(),
            staff: "alice".into(),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"case_opened","leaf_version":1,"subject":"5f1c2a","dispute":5,"org":"ombudsman","staff":"alice","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::DisputeAnswered(DisputeAnswered {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            dispute: 4,
            record_ref: "CARD-1 2026-09".into(),
            furnisher: "demo-bank".into(),
            answer: "furnisher_verified".into(),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"dispute_answered","leaf_version":1,"subject":"5f1c2a","dispute":4,"record_ref":"CARD-1 2026-09","furnisher":"demo-bank","answer":"furnisher_verified","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::DisputeSuppressed(DisputeSuppressed {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            dispute: 4,
            record_kind: "report".into(),
            record_ref: "CARD-1 2026-09".into(),
            furnisher: Some("demo-bank".into()),
            reason: "not verified by the deadline".into(),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"dispute_suppressed","leaf_version":1,"subject":"5f1c2a","dispute":4,"record_kind":"report","record_ref":"CARD-1 2026-09","furnisher":"demo-bank","reason":"not verified by the deadline","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::DisputeDecided(DisputeDecided {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            dispute: 5,
            record_kind: "decision".into(),
            record_ref: "leaf 12".into(),
            outcome: "overridden".into(),
            reviewer: "demo-ombudsman".into(),
            decision_leaf: Some(12),
            explanation: None,
            staff: None,
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"dispute_decided","leaf_version":1,"subject":"5f1c2a","dispute":5,"record_kind":"decision","record_ref":"leaf 12","outcome":"overridden","reviewer":"demo-ombudsman","decision_leaf":12,"recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::ReviewRequested(ReviewRequested {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            dispute: 5,
            decision_leaf: 12,
            org: "demo-bank".into(),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"review_requested","leaf_version":1,"subject":"5f1c2a","dispute":5,"decision_leaf":12,"org":"demo-bank","recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::Statement(Statement {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            record_ref: "CARD-1".into(),
            withdrawn: false,
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"statement","leaf_version":1,"subject":"5f1c2a","record_ref":"CARD-1","withdrawn":false,"recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::Notification(Notification {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            org: "demo-bank".into(),
            dispute: 5,
            outcome: "overridden".into(),
            new_score: Some(640),
            decision_leaf: Some(12),
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"notification","leaf_version":1,"subject":"5f1c2a","org":"demo-bank","dispute":5,"outcome":"overridden","new_score":640,"decision_leaf":12,"recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::ActivationIssued(ActivationIssued {
            leaf_version: LEAF_VERSION,
            subject: SUBJECT.into(),
            expires_ms: 99,
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"activation_issued","leaf_version":1,"subject":"5f1c2a","expires_ms":99,"recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::Reenrolment(event()),
        expect![[r#"{"kind":"reenrolment","leaf_version":1,"subject":"5f1c2a","recorded_ms":7}"#]],
    );
    check(
        Leaf::OrganisationRegistered(OrganisationRegistered {
            leaf_version: LEAF_VERSION,
            org: "demo-bank".into(),
            org_kind: "lender".into(),
            name: "Demo Bank".into(),
            key_issued: true,
            recorded_ms: 7,
        }),
        expect![[
            r#"{"kind":"organisation_registered","leaf_version":1,"org":"demo-bank","org_kind":"lender","name":"Demo Bank","key_issued":true,"recorded_ms":7}"#
        ]],
    );
    check(
        Leaf::ScoringSwitched(ScoringSwitched {
            leaf_version: LEAF_VERSION,
            suspended: true,
            by: "operator".into(),
            recorded_ms: 7,
        }),
        expect![[r#"{"kind":"scoring_switched","leaf_version":1,"suspended":true,"by":"operator","recorded_ms":7}"#]],
    );
}

/// Leaves exactly as the untyped versions wrote them (keys in their order, no version): each
/// reads as version 0 with every field it had.
#[test]
fn leaves_in_the_old_shape_still_read() {
    let old_read = r#"{"kind":"decision","subject":"5f1c2a","org":"demo-bank","purpose":"credit_application","consent_until":"2030-12-31","model_version":"ab12","score":588,"pd":0.0412,"reasons":["R03"],"recorded_ms":9,"decision":"decline","policy":{"name":"cards","version":"dd"},"inputs":{"months_of_history":30.0,"revolving_utilisation":null},"as_of":"2026-11-30"}"#;
    let Leaf::Decision(d) = Leaf::parse(old_read).expect("old decision") else { panic!("not a decision") };
    assert_eq!(d.leaf_version, 0);
    assert_eq!((d.score, d.pd, d.reasons.as_slice()), (Some(588), Some(0.0412), ["R03".to_owned()].as_slice()));
    assert_eq!(d.decision.as_deref(), Some("decline"));
    assert_eq!(d.policy, Some(PolicyRef { name: "cards".into(), version: "dd".into() }));
    assert_eq!(d.inputs.get("revolving_utilisation"), Some(&None));
    assert_eq!(d.inputs.get("months_of_history"), Some(&Some(30.0)));

    let old = [
        (r#"{"kind":"enrolment","subject":"5f1c2a","recorded_ms":1}"#, "enrolment"),
        (
            r#"{"org":"demo-shop","purpose":"tenancy","granted":"2026-12-01","until":"2027-06-30","revoked":null,"kind":"consent_granted","subject":"5f1c2a","recorded_ms":1}"#,
            "consent_granted",
        ),
        (
            r#"{"kind":"refused_read","subject":"5f1c2a","org":"demo-shop","purpose":"tenancy","reason":"file frozen","recorded_ms":1}"#,
            "refused_read",
        ),
        (
            r#"{"kind":"dispute_opened","subject":"5f1c2a","dispute":1,"record_kind":"account","record_ref":"CARD-1","furnisher_asked":"demo-bank","identity_theft_report":null,"blocked":false,"recorded_ms":1}"#,
            "dispute_opened",
        ),
        (
            r#"{"kind":"dispute_decided","subject":"5f1c2a","dispute":1,"record_kind":"account","record_ref":"CARD-1","outcome":"deleted","reviewer":"demo-ombudsman","recorded_ms":1}"#,
            "dispute_decided",
        ),
        (
            r#"{"kind":"review_requested","subject":"5f1c2a","dispute":2,"decision_leaf":12,"org":"demo-bank","recorded_ms":1}"#,
            "review_requested",
        ),
        (
            r#"{"kind":"notification","subject":"5f1c2a","org":"demo-bank","dispute":1,"outcome":"deleted","new_score":null,"recorded_ms":1}"#,
            "notification",
        ),
        (
            r#"{"kind":"ingestion","batch_id":1,"sender":"demo-bank","format":"jsonl","submission":"aa","rows":"bb","recorded_ms":1}"#,
            "ingestion",
        ),
        (
            r#"{"kind":"purge","purge_id":1,"today":"2026-12-01","negative_years":5,"reports_deleted":0,"court_records_deleted":0,"purged":"cc","recorded_ms":1}"#,
            "purge",
        ),
        (r#"{"kind":"model_deployed","version":"ab12","recorded_ms":1}"#, "model_deployed"),
    ];
    for (text, kind) in old {
        let leaf = Leaf::parse(text).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(leaf.kind(), kind);
        assert_eq!(leaf.recorded_ms(), 1);
    }
    assert!(Leaf::parse(r#"{"kind":"gossip","subject":"x","recorded_ms":1}"#).is_err(), "an unknown kind is refused");
    assert!(Leaf::parse("not json").is_err());
}
