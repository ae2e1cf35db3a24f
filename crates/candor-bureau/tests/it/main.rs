//! The bureau's workflows against a real store: on SQLite always, and on PostgreSQL too when
//! `DATABASE_URL` names a server (each run in its own schema, dropped afterwards).

use candor_bureau::policy::{Band, Decision, Policy};
use candor_bureau::{consent, dispute, gate, policy, replay, score, subject, BureauError, Deployed, Now, Page, Rules};
use candor_file::activation::ActivationCode;
use candor_file::disputes::Record;
use candor_file::features::compute;
use candor_file::ids::{NationalId, Scheme, SubjectKey};
use candor_file::model::{DisputeState, OrgId, OrgKind, Organisation, Purpose};
use candor_file::secret::Keys;
use candor_scorecard::{fit, Column, FitMeta, FitOptions, Values};
use candor_store::{FileRead, Store, SubjectEntry};

const DAY_MS: i64 = 86_400_000;
/// 2026-10-31T12:00:00Z: after the batches' months.
const START_MS: i64 = 1_793_448_000_000;
const PERSON: &str = "110105199003071239";

/// A store to test on; drops its PostgreSQL schema when done.
struct Backend {
    name: &'static str,
    url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let (Some(schema), Ok(url)) = (&self.schema, std::env::var("DATABASE_URL")) {
            if let Ok(mut client) = postgres_client(&url) {
                let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
            }
        }
    }
}

fn postgres_client(url: &str) -> Result<postgres::Client, postgres::Error> {
    postgres::Client::connect(url, postgres::NoTls)
}

fn on_every_backend(test: &str, check: impl Fn(&mut Store, &str)) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bureau.db").display().to_string();
    let mut backends = vec![Backend { name: "sqlite", url: path, _dir: Some(dir), schema: None }];
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if url.starts_with("postgres") {
            let schema = format!("candor_bureau_{}_{test}", std::process::id());
            let sep = if url.contains('?') { '&' } else { '?' };
            backends.push(Backend {
                name: "postgres",
                url: format!("{url}{sep}schema={schema}"),
                _dir: None,
                schema: Some(schema),
            });
        }
    }
    for b in &backends {
        let mut store = Store::open(&b.url).unwrap_or_else(|e| panic!("{}: {e}", b.name));
        check(&mut store, b.name);
    }
}

fn keys() -> Keys {
    Keys::from_hex(&"01".repeat(32), &"02".repeat(32)).expect("keys")
}

fn person() -> SubjectKey {
    keys().subject_key(&NationalId::parse(Scheme::CnRid, PERSON).expect("id"))
}

/// An organisation, under the name its batches give.
fn org(id: &str, kind: OrgKind) -> Organisation {
    let name = match id {
        "bank-one" => "Bank One",
        "court-1" => "Court One",
        other => other,
    };
    Organisation { id: OrgId::parse(id).expect("org"), kind, name: name.to_owned() }
}

fn at(ms: i64) -> Now {
    Now::at_ms(ms)
}

const LENDER_BATCH: &str = r#"{"type": "batch", "sender": "bank-one", "sender_kind": "lender", "sender_name": "Bank One"}
{"type": "subject", "scheme": "cn_rid", "number": "110105199003071239"}
{"type": "account", "scheme": "cn_rid", "number": "110105199003071239", "account": "CARD-001", "kind": "card", "opened": "2024-01-15", "currency": "CNY"}
{"type": "report", "scheme": "cn_rid", "number": "110105199003071239", "account": "CARD-001", "month": "2026-08", "balance_minor": 120000, "limit_minor": 500000, "paid_minor": 30000, "dpd": 0, "status": "open"}
{"type": "report", "scheme": "cn_rid", "number": "110105199003071239", "account": "CARD-001", "month": "2026-09", "balance_minor": 180000, "limit_minor": 500000, "paid_minor": 0, "dpd": 30, "status": "open", "delinquent_since": "2026-09-05", "notice_given": true}
{"type": "account", "scheme": "cn_rid", "number": "110105199003071239", "account": "LOAN-2", "kind": "loan", "opened": "2025-02-01", "currency": "CNY"}
{"type": "report", "scheme": "cn_rid", "number": "110105199003071239", "account": "LOAN-2", "month": "2026-09", "balance_minor": 900000, "limit_minor": 1200000, "paid_minor": 0, "dpd": 60, "status": "open", "delinquent_since": "2026-07-20", "notice_given": true}
"#;

const COURT_BATCH: &str = r#"{"type": "batch", "sender": "court-1", "sender_kind": "court", "sender_name": "Court One"}
{"type": "court_record", "scheme": "cn_rid", "number": "110105199003071239", "case": "C-2025-1", "amount_minor": 4500000, "currency": "CNY", "grounds": "unpaid loan judgment", "listed": "2025-11-03"}
"#;

fn apply(store: &mut Store, sender: &Organisation, text: &str, now_ms: i64) {
    let keys = keys();
    let mut counter = 0u8;
    let mut nonce = move || {
        counter = counter.wrapping_add(1);
        [counter; candor_file::secret::NONCE_BYTES]
    };
    let mut ctx = candor_ingest::Context {
        keys: &keys,
        today: at(now_ms).today,
        nonce: &mut nonce,
        sender: Some(sender.clone()),
        notice_attested: false,
    };
    let batch = candor_ingest::parse(text.as_bytes(), candor_ingest::Format::JsonLines, &mut ctx).expect("batch");
    store.apply(&batch, now_ms).expect("applied");
}

/// The file above, its organisations, and the person enrolled.
fn setup(store: &mut Store) {
    for (id, kind) in [
        ("bank-one", OrgKind::Lender),
        ("court-1", OrgKind::Court),
        ("shop", OrgKind::Merchant),
        ("ombudsman", OrgKind::Ombudsman),
    ] {
        store.put_organisation(&org(id, kind), None, 0).expect("org");
    }
    apply(store, &org("bank-one", OrgKind::Lender), LENDER_BATCH, START_MS - DAY_MS);
    apply(store, &org("court-1", OrgKind::Court), COURT_BATCH, START_MS - DAY_MS);
    let id = NationalId::parse(Scheme::CnRid, PERSON).expect("id");
    enrol(store, &SubjectEntry::of(person(), &id), START_MS);
}

/// The person invited and enrolled the one way there is: with the activation code issued them.
fn enrol(store: &mut Store, entry: &SubjectEntry, now_ms: i64) -> candor_bureau::subject::Enrolled {
    let code = ActivationCode::from_random([now_ms as u8; candor_file::activation::RANDOM_BYTES]);
    subject::invite(store, &keys(), &Rules::default(), at(now_ms), entry, &code).expect("invite");
    subject::enrol(store, &keys(), &Rules::default(), at(now_ms), entry, &code, "$argon2id$stand-in").expect("enrol")
}

/// A small model over catalogue features, fit on a synthetic table (scale `min..=max`).
fn model_document(min_score: i32, max_score: i32, names: [&str; 2]) -> String {
    let mut state = 7u64;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut dpd, mut util, mut bad) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..2000 {
        let risk = next();
        dpd.push(if next() < risk * 0.6 { [30.0, 60.0, 90.0][(next() * 3.0) as usize] } else { 0.0 });
        util.push((risk * 0.8 + next() * 0.3).min(1.0));
        bad.push(next() < 0.05 + 0.5 * risk * risk);
    }
    let columns = vec![
        Column { name: names[0].into(), values: Values::Numeric(dpd) },
        Column { name: names[1].into(), values: Values::Numeric(util) },
    ];
    let meta = FitMeta {
        target: "bad".into(),
        id_column: None,
        data_digest: "test".into(),
        created_by: "test".into(),
        actionable: Default::default(),
        minimum: Vec::new(),
    };
    let mut options = FitOptions::default();
    options.scaling.min_score = min_score;
    options.scaling.max_score = max_score;
    let (model, _) = fit(&columns, &bad, meta, &options, &|_| {}).expect("fit");
    serde_json::to_string(&model).expect("json")
}

fn standard_model() -> String {
    model_document(300, 900, ["worst_dpd_12m", "revolving_utilisation"])
}

fn ask(purpose: Purpose, policy: Option<&str>) -> consent::Ask<'_> {
    consent::Ask { purpose, policy }
}

fn bureau_error_code(e: &BureauError) -> &'static str {
    match e {
        BureauError::Invalid { code, .. } | BureauError::Conflict { code, .. } => code,
        BureauError::NotFound { .. } => "not_found",
        BureauError::Refused { .. } => "refused",
        BureauError::NoModel => "no_model",
        BureauError::Unproven => "unproven",
        BureauError::Closed { .. } => "closed",
        BureauError::Store(_) => "store",
    }
}

/// A record the ombudsman deleted, one suppressed for want of an answer and one blocked as
/// identity theft: gone from the person's reported file, from the lender's score and from the
/// walk `candor features` trains on — which gives exactly the reported file for the person.
#[test]
fn what_disputes_take_away_is_in_no_report_score_or_training_file() {
    on_every_backend("withheld", |store, backend| {
        setup(store);
        let rules = Rules { dispute_days: 10, ..Rules::default() };
        let deployed = score::deploy(store, at(START_MS), &standard_model()).expect("deploy");
        let key = person();
        let ombudsman = OrgId::parse("ombudsman").expect("org");
        let open = |store: &mut Store, kind: &str, reference: &str, theft: Option<&str>| {
            let record = Record::parse(kind, reference).expect("record");
            dispute::open(
                store,
                &rules,
                at(START_MS),
                &key,
                &dispute::Opening { record: &record, identity_theft_report: theft, claim: None },
                Some(&deployed),
            )
            .expect("opened")
            .dispute
            .id
        };
        let deleted = open(store, "report", "CARD-001 2026-09", None);
        dispute::decide(
            store,
            &rules,
            at(START_MS + 1),
            &ombudsman,
            deleted,
            &dispute::Ruling::of(DisputeState::Deleted),
            Some(&deployed),
        )
        .expect("deleted");
        open(store, "account", "LOAN-2", None);
        open(store, "court_record", "C-2025-1", Some("POLICE-7"));

        let later = at(START_MS + 11 * DAY_MS);
        let raw = store
            .file(&key, &FileRead { known_ms: later.ms, today: later.today, retention: rules.retention })
            .expect("read")
            .expect("file");
        assert_eq!(raw.accounts.len(), 2, "{backend}: the store still holds every record");
        assert_eq!(raw.court_records.len(), 1);

        let reported = gate::reported_file(store, &rules, later, &key, later.today).expect("reported");
        let months: Vec<String> =
            reported.file.accounts.iter().flat_map(|h| h.reports.iter().map(|r| r.month.to_string())).collect();
        assert_eq!(months, ["2026-08"], "{backend}: the deleted report and the suppressed account are out");
        assert!(reported.file.court_records.is_empty(), "{backend}: the blocked court record is out");
        assert_eq!(reported.disputed, ["C-2025-1"], "{backend}: the blocked record is still marked pending");

        let mut walked = Vec::new();
        gate::for_each_reported_file(
            store,
            &rules,
            later,
            gate::Walk { known_ms: later.ms, as_of: later.today, part: gate::Part::WHOLE },
            &mut |k, file| {
                walked.push((*k, file.clone()));
                Ok(())
            },
            &mut |_| {},
        )
        .expect("walk");
        assert_eq!(walked.len(), 1);
        assert_eq!(walked[0].0, key);
        assert_eq!(walked[0].1, reported.file, "{backend}: training sees the file reports show");
        assert_eq!(
            compute(&walked[0].1, later.today).map(f64::to_bits),
            compute(&reported.file, later.today).map(f64::to_bits)
        );

        let shop = org("shop", OrgKind::Merchant);
        consent::grant(store, &Rules::default(), later, &key, shop.id.clone(), Purpose::DepositWaiver, later.today)
            .expect("grant");
        let given =
            consent::consented_read(store, &rules, later, &shop, &key, ask(Purpose::DepositWaiver, None), &deployed)
                .expect("read");
        let from_raw = deployed.score_file(&raw, later.today).expect("raw score");
        assert_eq!(given.scoring.features.map(f64::to_bits), compute(&reported.file, later.today).map(f64::to_bits));
        assert!(given.scoring.score > from_raw.score, "{backend}: the withheld late months cost nothing");
    });
}

#[test]
fn a_model_the_file_cannot_feed_is_refused_at_deploy() {
    on_every_backend("deploy_checks", |store, backend| {
        setup(store);
        let unknown = model_document(300, 900, ["worst_dpd_12m", "shoe_size"]);
        let e = score::deploy(store, at(START_MS), &unknown).map(|_| ()).expect_err("refused");
        assert_eq!(bureau_error_code(&e), "model_not_for_the_file", "{backend}: {e}");
        assert!(e.to_string().contains("shoe_size"), "{e}");
        assert!(store.current_model().expect("read").is_none(), "{backend}: nothing deployed");

        // A policy for the standard scale, then a model on another scale.
        score::deploy(store, at(START_MS), &standard_model()).expect("deploy");
        let bands = vec![
            Band { min_score: 300, decision: Decision::Decline },
            Band { min_score: 650, decision: Decision::Approve },
        ];
        let deployed = score::restore(store).expect("restore").expect("a model");
        policy::put(
            store,
            at(START_MS),
            &OrgId::parse("bank-one").expect("org"),
            "cards",
            &Policy { bands, no_score: None },
            Some(&deployed),
        )
        .expect("policy");
        let wide = model_document(0, 1000, ["worst_dpd_12m", "revolving_utilisation"]);
        let e = score::deploy(store, at(START_MS + 1), &wide).map(|_| ()).expect_err("refused");
        assert_eq!(bureau_error_code(&e), "policy_outside_scale", "{backend}: {e}");
        assert!(e.to_string().contains("cards") && e.to_string().contains("bank-one"), "{e}");
        assert_eq!(store.current_model().expect("read").map(|(v, _)| v), Some(deployed.version.clone()));

        // And a policy that does not reach the model's lowest score is refused when put.
        let narrow = Policy { bands: vec![Band { min_score: 400, decision: Decision::Approve }], no_score: None };
        let e =
            policy::put(store, at(START_MS), &OrgId::parse("bank-one").expect("org"), "x", &narrow, Some(&deployed))
                .map(|_| ())
                .expect_err("refused");
        assert_eq!(bureau_error_code(&e), "bad_policy");
        let above = Policy {
            bands: vec![
                Band { min_score: 300, decision: Decision::Decline },
                Band { min_score: 901, decision: Decision::Approve },
            ],
            no_score: None,
        };
        assert!(policy::put(
            store,
            at(START_MS),
            &OrgId::parse("bank-one").expect("org"),
            "y",
            &above,
            Some(&deployed)
        )
        .is_err());
    });
}

/// A review has no furnisher: it stays in the queue past the deadline until decided; overridden,
/// the decision is marked so in the person's reads and in replay, and the lender is told.
#[test]
fn a_review_waits_for_the_ombudsman_and_an_override_is_on_the_record() {
    on_every_backend("review", |store, backend| {
        setup(store);
        let rules = Rules { dispute_days: 10, ..Rules::default() };
        let deployed = score::deploy(store, at(START_MS), &standard_model()).expect("deploy");
        let key = person();
        let bank = org("bank-one", OrgKind::Lender);
        let bands = vec![Band { min_score: 300, decision: Decision::Decline }];
        policy::put(store, at(START_MS), &bank.id, "all", &Policy { bands, no_score: None }, Some(&deployed))
            .expect("policy");
        let until = at(START_MS + 60 * DAY_MS).today;
        consent::grant(
            store,
            &Rules::default(),
            at(START_MS),
            &key,
            bank.id.clone(),
            Purpose::CreditApplication,
            until,
        )
        .expect("grant");
        let given = consent::consented_read(
            store,
            &rules,
            at(START_MS),
            &bank,
            &key,
            ask(Purpose::CreditApplication, Some("all")),
            &deployed,
        )
        .expect("decision");
        assert_eq!(given.decision(), Some(Decision::Decline));
        let review = dispute::request_review(store, &rules, at(START_MS + 1), &key, given.leaf).expect("review");

        let late = at(START_MS + 30 * DAY_MS);
        let queue = dispute::queue(store, &rules, late, Page::new(None, None).expect("page"), Default::default())
            .expect("queue");
        let waiting = queue.items.iter().find(|v| v.dispute.id == review.dispute.id).expect("still queued");
        assert_eq!(waiting.state, DisputeState::Open, "{backend}: a review is never suppressed");
        assert!(waiting.overdue, "{backend}: past its due date, and marked so");
        assert_eq!(dispute::sweep_overdue(store, &rules, late, Some(&deployed)).expect("sweep"), 0);

        let ombudsman = OrgId::parse("ombudsman").expect("org");
        let e = dispute::decide(
            store,
            &rules,
            late,
            &ombudsman,
            review.dispute.id,
            &dispute::Ruling::of(DisputeState::Deleted),
            None,
        )
        .map(|_| ())
        .expect_err("a review is not deleted");
        assert_eq!(bureau_error_code(&e), "bad_outcome");
        dispute::decide(
            store,
            &rules,
            late,
            &ombudsman,
            review.dispute.id,
            &dispute::Ruling::of(DisputeState::Overridden),
            Some(&deployed),
        )
        .expect("overridden");

        let reads = subject::leaves_about(store, &key, Page::new(None, None).expect("page")).expect("reads").items;
        let decision = reads.iter().find(|l| l.index == given.leaf).expect("the decision");
        assert!(decision.overridden, "{backend}: the person sees the decision was overridden");
        assert!(reads.iter().filter(|l| l.index != given.leaf).all(|l| !l.overridden));
        let replayed = replay::replay(store, given.leaf).expect("replay");
        assert!(replayed.matches && replayed.overridden, "{backend}: {replayed:?}");
        let told = dispute::notifications(store, &bank.id, Page::new(None, None).expect("page")).expect("told").items;
        assert_eq!(told.len(), 1, "{backend}: the lender is told");
        assert_eq!(told[0].1.decision_leaf, Some(given.leaf));
        assert_eq!(told[0].1.outcome, "overridden");
        assert!(told[0].1.new_score.is_some(), "{backend}: still consented, so given the score now");
    });
}

/// A refused read is on the record even though the read fails; a consent to an organisation
/// is needed for each purpose, and a frozen file is read by nobody.
#[test]
fn the_consent_gate_logs_what_it_refuses() {
    on_every_backend("gate", |store, backend| {
        setup(store);
        let rules = Rules::default();
        let deployed = score::deploy(store, at(START_MS), &standard_model()).expect("deploy");
        let key = person();
        let shop = org("shop", OrgKind::Merchant);
        let read = |store: &mut Store, purpose| {
            consent::consented_read(store, &rules, at(START_MS), &shop, &key, ask(purpose, None), &deployed)
        };
        let refused = read(store, Purpose::Tenancy).map(|_| ()).expect_err("no consent");
        let BureauError::Refused { leaf, refusal } = refused else { panic!("{backend}: {refused}") };
        assert_eq!(refusal, consent::Refusal::NoConsent);
        let logged = store.log_leaf(leaf).expect("read").expect("the refusal is logged");
        assert!(logged.contains("refused_read") && logged.contains("no live consent"), "{logged}");
        consent::grant(
            store,
            &Rules::default(),
            at(START_MS),
            &key,
            shop.id.clone(),
            Purpose::Tenancy,
            at(START_MS).today,
        )
        .expect("grant");
        assert!(read(store, Purpose::Tenancy).is_ok(), "{backend}");
        assert!(read(store, Purpose::DepositWaiver).is_err(), "{backend}: another purpose needs its own consent");
        subject::set_freeze(store, &Rules::default(), at(START_MS), &key, true).expect("freeze");
        let e = read(store, Purpose::Tenancy).map(|_| ()).expect_err("frozen");
        assert!(matches!(e, BureauError::Refused { refusal: consent::Refusal::Frozen, .. }), "{backend}: {e}");
        let e = consent::grant(
            store,
            &Rules::default(),
            at(START_MS),
            &key,
            shop.id.clone(),
            Purpose::Tenancy,
            at(START_MS - 2 * DAY_MS).today,
        )
        .map(|_| ())
        .expect_err("past date");
        assert_eq!(bureau_error_code(&e), "bad_date");
    });
}

#[test]
fn deployed_models_are_checked_before_they_parse_into_a_scorer() {
    let e = Deployed::parse("{}").map(|_| ()).expect_err("not a model");
    assert_eq!(bureau_error_code(&e), "bad_model");
    assert!(Deployed::parse(&standard_model()).is_ok());
}

/// Every list comes a page at a time, each page read by key; the key of the last item leads to
/// the next page, and a page has 1 to 500 items.
#[test]
fn lists_come_a_bounded_page_at_a_time() {
    on_every_backend("pages", |store, backend| {
        setup(store);
        let key = person();
        for i in 0..5 {
            subject::set_freeze(store, &Rules::default(), at(START_MS + i), &key, i % 2 == 0).expect("freeze");
        }
        let all = subject::leaves_about(store, &key, Page::new(None, None).expect("page")).expect("all");
        assert_eq!(all.items.len(), 7, "{backend}: the invitation, the enrolment and five freezes");
        assert_eq!(all.next, None, "{backend}: one page holds them");
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = subject::leaves_about(store, &key, Page::new(after, Some(4)).expect("page")).expect("page");
            assert!(page.items.len() <= 4);
            seen.extend(page.items.iter().map(|l| l.index));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(
            seen,
            all.items.iter().map(|l| l.index).collect::<Vec<_>>(),
            "{backend}: pages in order, none twice"
        );
        for bad in [Some(0), Some(501)] {
            let e = Page::new(None, bad).map(|_| ()).expect_err("refused");
            assert_eq!(bureau_error_code(&e), "bad_page");
        }
    });
}

/// The person's own score aims its recourse a fixed step above it; the perks map gives
/// distances no finer than the step it promises, and refuses a perk outside the model's scale.
#[test]
fn own_score_recourse_and_perks_distances() {
    on_every_backend("own", |store, backend| {
        setup(store);
        let deployed = score::deploy(store, at(START_MS), &standard_model()).expect("deploy");
        let (scoring, recourse) =
            subject::own_score(store, &Rules::default(), at(START_MS), &person(), &deployed).expect("own score");
        let (recourse, score) = (recourse.expect("a scored file has recourse"), scoring.score.expect("scored"));
        assert_eq!(recourse.target_score, score + subject::RECOURSE_STEP_POINTS, "{backend}");

        let shop = OrgId::parse("shop").expect("org");
        let place = candor_perks::Place::new(39.9, 116.4).expect("place");
        let perk = |min_score| candor_perks::Perk { min_score, deposit_waived: true, description: "no deposit".into() };
        let point = candor_bureau::perks::Point { place, perks: vec![perk(300)] };
        candor_bureau::perks::put_point(store, at(START_MS), &shop, "p1", &point, Some(&deployed)).expect("point");
        let outside = candor_bureau::perks::Point { place, perks: vec![perk(950)] };
        let e = candor_bureau::perks::put_point(store, at(START_MS), &shop, "p2", &outside, Some(&deployed))
            .map(|_| ())
            .expect_err("a threshold above the scale");
        assert_eq!(bureau_error_code(&e), "bad_perks");
        let map = candor_bureau::perks::PerksMap::build(store).expect("map");
        let near = candor_perks::Place::new(39.9011, 116.4).expect("near");
        let found = map.serving(&near, 500.0, Some(600)).expect("serving");
        assert_eq!(found.len(), 1, "{backend}");
        let step = candor_bureau::perks::DISTANCE_STEP_M;
        assert_eq!(found[0].distance_m % step, 0.0, "{backend}: {}", found[0].distance_m);
        assert!((found[0].distance_m - 122.0).abs() <= step, "{backend}: about 122 m, {}", found[0].distance_m);
    });
}

/// Enrolment by questions, on every backend: at most six organisations offered, the person's
/// own among them, the same each time; the answers checked against the file; wrong answers
/// counted in the store and capped; the enrolment waits out the cooling-off period.
#[test]
fn questions_from_the_file_prove_a_person_and_cap_guessing() {
    use candor_bureau::proofing::{self, Answers};
    on_every_backend("proofing", |store, _| {
        for (id, kind) in [("bank-one", OrgKind::Lender), ("court-1", OrgKind::Court), ("shop", OrgKind::Merchant)] {
            store.put_organisation(&org(id, kind), None, 0).expect("org");
        }
        for i in 0..8 {
            store.put_organisation(&org(&format!("lender-{i}"), OrgKind::Lender), None, 0).expect("org");
        }
        apply(store, &org("bank-one", OrgKind::Lender), LENDER_BATCH, START_MS - DAY_MS);
        let (rules, now) = (Rules::default(), at(START_MS));
        let asked = proofing::questions(store, &rules, now, &person()).expect("questions");
        assert_eq!(asked, proofing::questions(store, &rules, now, &person()).expect("again"), "stable");
        let offered: Vec<&str> = asked[0].choices.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(offered.len(), proofing::SHOWN_ORGANISATIONS, "{offered:?}");
        assert!(offered.contains(&"bank-one"), "{offered:?}");
        assert!(!offered.contains(&"court-1") && !offered.contains(&"shop"), "{offered:?}");
        let stranger_id = NationalId::parse(Scheme::CnRid, "110105199001010029").expect("id");
        let nobody = keys().subject_key(&stranger_id);
        let stranger = SubjectEntry::of(nobody, &stranger_id);
        let theirs = proofing::questions(store, &rules, now, &nobody).expect("questions for nobody");
        assert_eq!(theirs[0].choices.len(), proofing::SHOWN_ORGANISATIONS);
        assert_eq!(theirs.len(), asked.len());

        let entry = SubjectEntry::of(person(), &NationalId::parse(Scheme::CnRid, PERSON).expect("id"));
        let answer = |organisations: &[&str], limit: &str| Answers {
            organisations: organisations.iter().map(|s| (*s).to_owned()).collect(),
            largest_limit: limit.into(),
            oldest_account: "1_to_3".into(),
        };
        // The loan's amount is 12,000.00, the card opened 2024-01-15.
        let wrong = proofing::enrol(store, &rules, now, &entry, &answer(&["bank-one"], "up_to_5000"), "$argon2id$x");
        assert!(matches!(wrong, Err(BureauError::Unproven)), "{wrong:?}");
        assert_eq!(store.proofing_failures(&person(), 0).expect("count"), 1);
        let decoy = offered.iter().find(|o| **o != "bank-one").copied().expect("a decoy");
        let wrong = proofing::enrol(store, &rules, now, &entry, &answer(&["bank-one", decoy], "up_to_20000"), "$a");
        assert!(matches!(wrong, Err(BureauError::Unproven)), "{wrong:?}");
        let right = proofing::enrol(store, &rules, now, &entry, &answer(&["bank-one"], "up_to_20000"), "$argon2id$x");
        assert!(matches!(right, Ok(subject::Enrolled::Again { .. })), "{right:?}");
        let held = subject::check_cooling_off(store, &rules, now, &person());
        assert!(matches!(held, Err(BureauError::Conflict { code: "cooling_off", .. })), "{held:?}");
        let later = at(START_MS + 8 * DAY_MS);
        subject::check_cooling_off(store, &rules, later, &person()).expect("after the cooling-off period");

        for _ in 0..proofing::FAILURES_ALLOWED {
            let e = proofing::enrol(store, &rules, now, &stranger, &answer(&[], "none"), "$a");
            assert!(matches!(e, Err(BureauError::Unproven)), "{e:?}");
        }
        let e = proofing::enrol(store, &rules, now, &stranger, &answer(&[], "none"), "$a");
        assert!(matches!(e, Err(BureauError::Closed { .. })), "{e:?}");
        let after_window = at(START_MS + (proofing::FAILURE_WINDOW_DAYS + 1) * DAY_MS);
        let e = proofing::enrol(store, &rules, after_window, &stranger, &answer(&[], "none"), "$a");
        assert!(matches!(e, Err(BureauError::Unproven)), "open again after the window: {e:?}");
    });
}
