//! The service end to end, without a socket: every route × every role, the OpenAPI document, and
//! a furnisher → subject → lender scenario with consent, refusal, reads and a proof.

mod browser;
mod conformance;
mod pages;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use candor_file::model::{OrgId, OrgKind, Organisation};
use candor_file::secret::Keys;
use candor_scorecard::{fit, Column, FitMeta, FitOptions, Values};
use candor_server::{app, Settings, State, ROUTES};
use candor_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

/// Organisations of every kind, each with its API key.
const ORGS: [(&str, OrgKind); 8] = [
    ("bank-one", OrgKind::Lender),
    ("power-co", OrgKind::Utility),
    ("court-1", OrgKind::Court),
    ("shop", OrgKind::Merchant),
    ("ombudsman", OrgKind::Ombudsman),
    ("auditor", OrgKind::Auditor),
    ("operator", OrgKind::Operator),
    ("homes", OrgKind::Landlord),
];

/// The name the bureau registered an organisation under, as its batches give it.
fn org_name(id: &str) -> String {
    match id {
        "bank-one" => "Bank One".into(),
        "court-1" => "Court One".into(),
        "court-bj-chaoyang" => "Chaoyang District People's Court".into(),
        other => other.into(),
    }
}

fn api_key(org: &str) -> String {
    format!("cnd_test_{org}")
}

struct Fixture {
    app: Router,
    state: Arc<State>,
    /// The server's clock, in ms since 1970: tests move it forward.
    clock: Arc<AtomicI64>,
    _dir: tempfile::TempDir,
}

const DAY_MS: i64 = 86_400_000;

fn fixture() -> Fixture {
    fixture_with(Settings::default())
}

fn fixture_with(config: Settings) -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.db").display().to_string();
    let store = Store::open(&path).expect("store");
    let keys = Keys::from_hex(&"01".repeat(32), &"02".repeat(32)).expect("keys");
    let mut state = State::new(config, store, keys).expect("state");
    // As `candor serve` runs on SQLite: a reader beside the connection that writes, and reads'
    // leaves through the group commit.
    let mut reader = Store::open(&path).expect("store");
    reader.refuse_writes().expect("reader");
    state.store.add_reader(reader);
    state.log_writer = Some(candor_store::GroupLog::start(Store::open(&path).expect("store")).expect("log writer"));
    // 2026-10-31T12:00:00Z: after the example batch's months.
    let clock = Arc::new(AtomicI64::new(1_793_448_000_000));
    let c = clock.clone();
    state.clock = Box::new(move || c.load(Ordering::SeqCst));
    state.log_signer = Some(candor_log::Signer::from_seed(candor_server::LOG_ORIGIN, [9; 32]).expect("signer"));
    {
        let mut store = state.store.lock().expect("lock");
        for (id, kind) in ORGS {
            let org = Organisation { id: OrgId::parse(id).expect("id"), kind, name: org_name(id) };
            store.put_organisation(&org, Some(&state.keys.api_key_hash(&api_key(id))), 0).expect("org");
        }
    }
    let state = Arc::new(state);
    Fixture { app: app(state.clone()), state, clock, _dir: dir }
}

async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some((ct, bytes)) => req.header("content-type", ct).body(Body::from(bytes)),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24).await.expect("body");
    let value =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    conformance::check(method, path, status.as_u16(), &value);
    (status, value)
}

fn json_body(v: Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", v.to_string().into_bytes()))
}

const ID: (&str, &str) = ("cn_rid", "110105199003071239");
/// The passphrase [`session`] enrols the person with.
const PASSPHRASE: &str = "correct horse battery";

async fn session(f: &Fixture) -> String {
    enrol(f, ID.0, ID.1, PASSPHRASE).await
}

/// The operator's activation code for a person, as the bureau would send it.
async fn invite(f: &Fixture, scheme: &str, number: &str) -> String {
    let who = json!({"scheme": scheme, "number": number});
    let (status, body) = call(&f.app, "POST", "/v1/operator/invites", Some(&api_key("operator")), json_body(who)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["activation_code"].as_str().expect("code").to_owned()
}

/// A person invited, enrolled with their activation code, and signed in: their session token.
async fn enrol(f: &Fixture, scheme: &str, number: &str, passphrase: &str) -> String {
    let code = invite(f, scheme, number).await;
    let creds = json!({"scheme": scheme, "number": number, "activation_code": code, "passphrase": passphrase});
    let (status, body) = call(&f.app, "POST", "/v1/subjects", None, json_body(creds)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let creds = json!({"scheme": scheme, "number": number, "passphrase": passphrase});
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, json_body(creds)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

async fn sign_in(f: &Fixture) -> String {
    let creds = json!({"scheme": ID.0, "number": ID.1, "passphrase": "correct horse battery"});
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, json_body(creds)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

/// A small model over two catalogue features, fitted on a synthetic table.
fn model_document() -> String {
    model_document_seeded(7)
}

fn model_document_seeded(seed: u64) -> String {
    let n = 2000;
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut dpd, mut util, mut bad) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let risk = next();
        dpd.push(if next() < risk * 0.6 { [30.0, 60.0, 90.0][(next() * 3.0) as usize] } else { 0.0 });
        util.push((risk * 0.8 + next() * 0.3).min(1.0));
        bad.push(next() < 0.05 + 0.5 * risk * risk);
    }
    let columns = vec![
        Column { name: "worst_dpd_12m".into(), values: Values::Numeric(dpd) },
        Column { name: "revolving_utilisation".into(), values: Values::Numeric(util) },
    ];
    let meta = FitMeta {
        target: "bad".into(),
        id_column: None,
        data_digest: "test".into(),
        created_by: "test".into(),
        minimum: Vec::new(),
        actionable: ["revolving_utilisation".to_owned()].into_iter().collect(),
    };
    let (model, _) = fit(&columns, &bad, meta, &FitOptions::default(), &|_| {}).expect("fit");
    serde_json::to_string(&model).expect("json")
}

/// A batch from `org` (JSON Lines), to `path` with its query.
async fn submit(f: &Fixture, org: &str, path: &str, batch: Vec<u8>) -> (StatusCode, Value) {
    call(&f.app, "POST", path, Some(&api_key(org)), Some(("application/x-ndjson", batch))).await
}

async fn deploy_model(f: &Fixture) {
    let model = Some(("application/json", model_document().into_bytes()));
    let (status, body) = call(&f.app, "PUT", "/v1/operator/model", Some(&api_key("operator")), model).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn checkpoint(f: &Fixture) -> candor_log::SignedCheckpoint {
    let (status, text) = call(&f.app, "GET", "/v1/log/checkpoint", None, None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let signed = candor_log::SignedCheckpoint::parse(text.as_str().expect("text")).expect("a signed note");
    let verifier = candor_log::Signer::from_seed(candor_server::LOG_ORIGIN, [9; 32]).expect("signer").verifier();
    signed.check(&verifier).expect("signed by the bureau");
    signed
}

/// Every route × every kind of caller: allowed ones never get 401/403 for their role, the rest
/// always do. (That the router serves exactly the routes in `ROUTES` is checked in `routes.rs`.)
#[tokio::test]
async fn every_route_checks_every_role() {
    let f = fixture();
    let subject = session(&f).await;
    let mut callers: Vec<(&str, Option<String>, BTreeSet<&str>)> =
        vec![("anonymous", None, BTreeSet::new()), ("subject", Some(subject), ["subject"].into())];
    for (id, kind) in ORGS {
        let roles: BTreeSet<&str> = match kind {
            OrgKind::Lender => ["furnisher", "lender"].into(),
            OrgKind::Utility | OrgKind::Landlord | OrgKind::RentalService => ["furnisher"].into(),
            OrgKind::Merchant => ["lender"].into(),
            OrgKind::Court => ["court"].into(),
            OrgKind::Ombudsman => ["ombudsman"].into(),
            OrgKind::Auditor => ["auditor"].into(),
            OrgKind::Operator => ["operator"].into(),
        };
        callers.push((id, Some(api_key(id)), roles));
    }
    // Withdrawing ends the subject's session, so it goes last.
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|r| r.path == "/v1/me/enrolment");
    for route in routes {
        let path = route
            .path
            .replace("{org}", "shop")
            .replace("{purpose}", "tenancy")
            .replace("{index}", "0")
            .replace("{id}", "1")
            .replace("{name}", "p")
            .replace("{point}", "p1");
        let allowed_roles: BTreeSet<String> = route.roles.iter().map(|r| format!("{r:?}").to_lowercase()).collect();
        for (name, token, roles) in &callers {
            let allowed = allowed_roles.contains("anyone") || roles.iter().any(|r| allowed_roles.contains(*r));
            let body = if route.method == "GET" || route.method == "DELETE" { None } else { json_body(json!({})) };
            let (status, answer) = call(&f.app, route.method, &path, token.as_deref(), body).await;
            let code = answer["code"].as_str().unwrap_or("");
            assert_ne!(
                status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{} {} as {name}: {answer}",
                route.method,
                route.path
            );
            if allowed {
                assert!(
                    !matches!(code, "unauthenticated" | "forbidden"),
                    "{} {} as {name} was refused: {answer}",
                    route.method,
                    route.path
                );
            } else {
                let expected = if token.is_none() { "unauthenticated" } else { "forbidden" };
                assert_eq!(code, expected, "{} {} as {name}: {status} {answer}", route.method, route.path);
            }
        }
    }
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let f = fixture();
    let (status, doc) = call(&f.app, "GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    for r in ROUTES {
        assert!(doc["paths"][r.path][r.method.to_lowercase()].is_object(), "{} {} missing", r.method, r.path);
    }
    let documented: usize =
        doc["paths"].as_object().expect("paths").values().map(|p| p.as_object().map_or(0, |o| o.len())).sum();
    assert_eq!(documented, ROUTES.len());
}

#[tokio::test]
async fn a_body_too_large_or_not_text_is_refused_in_the_error_shape() {
    let f = fixture_with(Settings { max_body_bytes: 1024, ..Settings::default() });
    let big = json!({"scheme": ID.0, "number": ID.1, "activation_code": "0000-0000-0000-0000-0000", "passphrase": "x".repeat(4096)});
    let (status, body) = call(&f.app, "POST", "/v1/subjects", None, json_body(big)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")), "{body}");
    let creds = json!({"scheme": ID.0, "number": ID.1, "passphrase": "correct horse battery"});
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, json_body(creds)).await;
    assert_eq!(body["code"], "bad_credentials", "the refused request enrolled nobody: {status} {body}");
    let not_text = Some(("application/json", vec![b'{', 0xff, 0xfe, b'}']));
    let (status, body) = call(&f.app, "PUT", "/v1/operator/model", Some(&api_key("operator")), not_text).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_model")), "{body}");
    assert!(f.state.deployed().expect("model").is_none(), "nothing deployed");
}

/// Log lines written during a test, for the check that none carries personal data or secrets.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Every log line of every test of this binary: one subscriber for the process, since a
/// subscriber per test thread misses lines when tests race to register their call sites. A
/// test checks that its own requests are there and that no test's line holds a secret.
fn captured_logs() -> Captured {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let subscriber =
                tracing_subscriber::fmt().with_writer(captured.clone()).with_max_level(tracing::Level::TRACE).finish();
            tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
            captured
        })
        .clone()
}

#[tokio::test]
async fn furnisher_subject_lender_with_consent_refusal_reads_and_a_proof() {
    let captured = captured_logs();
    let f = fixture();
    let batch =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/lender-batch.jsonl")).expect("example");
    let (status, body) = submit(&f, "power-co", "/v1/batches?format=jsonl", batch.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a batch in another's name: {body}");
    let (status, body) = submit(&f, "bank-one", "/v1/batches?format=jsonl", batch).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["reports"], 2);
    let path = format!("/v1/batches/{}", body["batch_id"]);
    let (status, result) = call(&f.app, "GET", &path, Some(&api_key("bank-one")), None).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["held_back"][0]["rule"], "negative_without_notice", "{result}");
    let (status, _) = call(&f.app, "GET", &path, Some(&api_key("power-co")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another furnisher's batch");

    let subject = session(&f).await;
    let (status, file) = call(&f.app, "GET", "/v1/me/file", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert_eq!(file["accounts"][0]["reports"].as_array().map(Vec::len), Some(2));

    deploy_model(&f).await;

    let ask = json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver"});
    let (status, body) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), json_body(ask.clone())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("consent_required")), "{body}");

    let grant = json!({"org": "shop", "purpose": "deposit_waiver", "until": "2027-01-31"});
    let (status, _) = call(&f.app, "POST", "/v1/me/consents", Some(&subject), json_body(grant)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, scored) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), json_body(ask.clone())).await;
    assert_eq!(status, StatusCode::OK, "{scored}");
    assert!((300..=900).contains(&scored["score"].as_i64().expect("score")), "{scored}");
    assert!(scored["reasons"].as_array().is_some_and(|r| r.len() <= 4));

    let (status, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<&str> =
        reads["entries"].as_array().expect("entries").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["activation_issued", "enrolment", "refused_read", "consent_granted", "read"], "{reads}");

    let leaf = scored["leaf"].as_i64().expect("leaf");
    let (status, p) = call(&f.app, "GET", &format!("/v1/log/leaves/{leaf}/proof"), Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let hash = |v: &Value| -> [u8; 32] { hex::decode(v.as_str().expect("hex")).expect("hex").try_into().expect("32") };
    let proof: Vec<[u8; 32]> = p["proof"].as_array().expect("proof").iter().map(hash).collect();
    assert_eq!(hash(&p["leaf_hash"]), candor_log::leaf_hash(p["body"].as_str().expect("body").as_bytes()));
    candor_log::verify_inclusion(
        &hash(&p["leaf_hash"]),
        leaf as u64,
        p["size"].as_u64().expect("size"),
        &proof,
        &hash(&p["root"]),
    )
    .expect("the proof verifies");
    let (status, _) = call(&f.app, "GET", "/v1/log/leaves/0/proof", Some(&subject), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "leaf 0 is the batch, not about the subject alone");

    // Decisions under the shop's policies, each logged with its inputs and versions.
    let strict =
        json!({"bands": [{"min_score": 300, "decision": "decline"}, {"min_score": 899, "decision": "waive_deposit"}]});
    let (status, _) = call(&f.app, "PUT", "/v1/policies/strict", Some(&api_key("shop")), json_body(strict)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = call(
        &f.app,
        "PUT",
        "/v1/policies/broken",
        Some(&api_key("shop")),
        json_body(json!({"bands": [{"min_score": 500, "decision": "approve"}]})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_policy")),
        "a score below 500 would get no decision"
    );
    let decide = json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver", "policy": "strict"});
    let (status, decision) = call(&f.app, "POST", "/v1/decisions", Some(&api_key("shop")), json_body(decide)).await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    assert_eq!(decision["decision"], "decline");
    assert_eq!(decision["adverse_action_reasons"], decision["reasons"]);
    let leaf = decision["leaf"].as_i64().expect("leaf");
    let logged: Value =
        serde_json::from_str(&f.state.store.lock().expect("lock").log_leaf(leaf).expect("leaf").expect("body"))
            .expect("json");
    assert_eq!(logged["kind"], "decision");
    // The person asks for human review; the ombudsman overrides, and the reviewer is on record.
    let (status, review) =
        call(&f.app, "POST", "/v1/me/reviews", Some(&subject), json_body(json!({"leaf": leaf}))).await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    let review_id = review["id"].as_i64().expect("id");
    let path = format!("/v1/disputes/{review_id}/decision");
    let (status, _) =
        call(&f.app, "POST", &path, Some(&api_key("ombudsman")), json_body(json!({"outcome": "corrected"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a review is upheld or overridden");
    let (status, _) =
        call(&f.app, "POST", &path, Some(&api_key("ombudsman")), json_body(json!({"outcome": "overridden"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&f.app, "POST", "/v1/me/reviews", Some(&subject), json_body(json!({"leaf": 0}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only decisions about oneself");
    assert!(
        logged["inputs"]["worst_dpd_12m"].is_number()
            && logged["model_version"].is_string()
            && logged["policy"]["version"].is_string(),
        "{logged}"
    );

    // The auditor replays the decision and the earlier score from the log alone, also after a
    // new model version is deployed; a restart serves the version deployed last.
    let replay = |leaf: i64| format!("/v1/log/leaves/{leaf}/replay");
    let score_leaf = scored["leaf"].as_i64().expect("leaf");
    for round in 0..2 {
        for (leaf, kind) in [(leaf, "decision"), (score_leaf, "read")] {
            let (status, again) = call(&f.app, "GET", &replay(leaf), Some(&api_key("auditor")), None).await;
            assert_eq!(status, StatusCode::OK, "{again}");
            assert_eq!((again["kind"].as_str(), again["matches"].as_bool()), (Some(kind), Some(true)), "{again}");
            assert_eq!(again["replayed"]["score"], again["logged"]["score"]);
            assert_eq!(again["replayed"]["reasons"], again["logged"]["reasons"], "{again}");
            assert!(again["logged"]["reasons"].as_array().is_some_and(|r| !r.is_empty()), "{again}");
            assert_eq!(again["model_version"], logged["model_version"], "round {round}");
        }
        assert_eq!(
            call(&f.app, "GET", &replay(leaf), Some(&api_key("auditor")), None).await.1["replayed"]["decision"],
            "decline"
        );
        let model = Some(("application/json", model_document_seeded(11).into_bytes()));
        let (status, body) = call(&f.app, "PUT", "/v1/operator/model", Some(&api_key("operator")), model).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_ne!(body["model_version"], logged["model_version"]);
    }
    let (status, body) = call(&f.app, "GET", &replay(0), Some(&api_key("auditor")), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("not_replayable")), "a batch leaf");
    let restarted = State::new(
        Settings::default(),
        Store::open(&f._dir.path().join("s.db").display().to_string()).expect("store"),
        Keys::from_hex(&"01".repeat(32), &"02".repeat(32)).expect("keys"),
    )
    .expect("state");
    let serving = f.state.model.lock().expect("lock").as_ref().map(|d| d.version.clone());
    assert_eq!(restarted.restore_model().expect("restore"), serving, "a restart serves the model deployed last");
    let (status, purged) = call(&f.app, "POST", "/v1/operator/purge", Some(&api_key("operator")), None).await;
    assert_eq!((status, purged["reports_deleted"].as_u64()), (StatusCode::OK, Some(0)), "{purged}");

    let (status, _) = call(&f.app, "POST", "/v1/operator/suspend", Some(&api_key("operator")), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), json_body(ask.clone())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("scoring_suspended")));
    let restart = || {
        State::new(
            Settings::default(),
            Store::open(&f._dir.path().join("s.db").display().to_string()).expect("store"),
            Keys::from_hex(&"01".repeat(32), &"02".repeat(32)).expect("keys"),
        )
        .expect("state")
    };
    assert!(restart().suspended.load(Ordering::SeqCst), "a suspension outlives a restart");
    call(&f.app, "POST", "/v1/operator/resume", Some(&api_key("operator")), None).await;
    assert!(!restart().suspended.load(Ordering::SeqCst), "and so does the resumption");
    {
        let mut store = f.state.store.lock().expect("lock");
        let audit = store.audit().expect("audit");
        assert!(audit.problems.is_empty(), "each switch is logged: {:?}", audit.problems);
    }

    let (status, _) = call(&f.app, "DELETE", "/v1/me/consents/shop/deposit_waiver", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), json_body(ask)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a revoked consent no longer reads");

    // A dispute: marked at once, the furnisher asked to verify, in the ombudsman's queue,
    // corrected, and all of it logged.
    let missing = json!({"record_kind": "report", "record_ref": "CARD-001 2026-07"});
    let (status, body) = call(&f.app, "POST", "/v1/me/disputes", Some(&subject), json_body(missing)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::NOT_FOUND, Some("record_ref")), "no such report");
    let dispute = json!({"record_kind": "report", "record_ref": "CARD-001 2026-09"});
    let (status, opened) = call(&f.app, "POST", "/v1/me/disputes", Some(&subject), json_body(dispute)).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!((opened["state"].as_str(), opened["furnisher"].as_str()), (Some("furnisher_asked"), Some("bank-one")));
    assert_eq!(opened["due_ms"].as_i64().expect("due") - opened["opened_ms"].as_i64().expect("opened"), 30 * DAY_MS);
    let id = opened["id"].as_i64().expect("id");
    let (_, asked) = call(&f.app, "GET", "/v1/verifications", Some(&api_key("bank-one")), None).await;
    assert_eq!(asked["disputes"].as_array().map(Vec::len), Some(1), "{asked}");
    assert_eq!(asked["disputes"][0]["record_ref"], "CARD-001 2026-09");
    assert!(!asked.to_string().contains(ID.1), "the furnisher is told its own reference, not the identifier");
    let (_, others) = call(&f.app, "GET", "/v1/verifications", Some(&api_key("power-co")), None).await;
    assert_eq!(others["disputes"].as_array().map(Vec::len), Some(0), "{others}");
    let answer = format!("/v1/verifications/{id}");
    let corrected = json_body(json!({"outcome": "corrected"}));
    let (status, _) = call(&f.app, "POST", &answer, Some(&api_key("power-co")), corrected.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not power-co's record");
    let (status, body) = call(&f.app, "POST", &answer, Some(&api_key("bank-one")), corrected.clone()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("no_correction")), "{body}");
    f.clock.fetch_add(1_000, Ordering::SeqCst);
    let (status, body) = call(
        &f.app,
        "POST",
        "/v1/batches?format=jsonl",
        Some(&api_key("bank-one")),
        Some(("application/x-ndjson", CORRECTION.into())),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = call(&f.app, "POST", &answer, Some(&api_key("bank-one")), corrected.clone()).await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::OK, Some("furnisher_corrected")), "{body}");
    let (status, body) = call(&f.app, "POST", &answer, Some(&api_key("bank-one")), corrected).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("already_answered")));
    let statement = json!({"record_ref": "CARD-001", "text": "I was in hospital in September 2026."});
    let (status, _) = call(&f.app, "POST", "/v1/me/statements", Some(&subject), json_body(statement)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&subject), None).await;
    assert_eq!(file["accounts"][0]["disputed"], true, "{file}");
    assert_eq!(file["accounts"][0]["statement"], "I was in hospital in September 2026.", "{file}");
    let (status, queue) = call(&f.app, "GET", "/v1/disputes", Some(&api_key("ombudsman")), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queue["disputes"].as_array().map(Vec::len), Some(1), "{queue}");
    let (status, _) = call(
        &f.app,
        "POST",
        &format!("/v1/disputes/{id}/decision"),
        Some(&api_key("ombudsman")),
        json_body(json!({"outcome": "maybe"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &f.app,
        "POST",
        &format!("/v1/disputes/{id}/decision"),
        Some(&api_key("ombudsman")),
        json_body(json!({"outcome": "corrected"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mine) = call(&f.app, "GET", "/v1/me/disputes", Some(&subject), None).await;
    let decided =
        mine["disputes"].as_array().expect("disputes").iter().find(|d| d["id"] == opened["id"]).expect("the dispute");
    assert_eq!(decided["state"], "corrected", "{mine}");
    let (_, queue) = call(&f.app, "GET", "/v1/disputes", Some(&api_key("ombudsman")), None).await;
    assert_eq!(queue["disputes"].as_array().map(Vec::len), Some(0));
    // The shop read the file within six months: it is told of the correction; the person has
    // revoked its consent since, so it is not given a new score.
    let (status, told) = call(&f.app, "GET", "/v1/notifications", Some(&api_key("shop")), None).await;
    assert_eq!(status, StatusCode::OK);
    let about = told["notifications"].as_array().expect("list").iter().find(|n| n["dispute"] == opened["id"]).cloned();
    let about = about.unwrap_or_else(|| panic!("no notification of the correction: {told}"));
    assert_eq!(about["outcome"], "corrected");
    assert!(about["new_score"].is_null(), "no consent, no score: {about}");
    let (_, none) = call(&f.app, "GET", "/v1/notifications", Some(&api_key("bank-one")), None).await;
    assert_eq!(none["notifications"].as_array().map(Vec::len), Some(0), "the bank never read this file");
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&subject), None).await;
    let kinds: Vec<&str> =
        reads["entries"].as_array().expect("entries").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(
        kinds.ends_with(&["dispute_opened", "dispute_answered", "statement", "dispute_decided", "notification"]),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"decision") && kinds.contains(&"review_requested"), "{kinds:?}");

    assert!(f.state.store.lock().expect("lock").audit().expect("audit").problems.is_empty());
    // Two checkpoints, and the proof that the second extends the first, checked on our side.
    let first = checkpoint(&f).await;
    let (status, _) = call(
        &f.app,
        "POST",
        "/v1/me/disputes",
        Some(&subject),
        json_body(json!({"record_kind": "account", "record_ref": "CARD-001"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let second = checkpoint(&f).await;
    let (a, b) = (&first.checkpoint, &second.checkpoint);
    assert!(b.size > a.size);
    let (status, c) =
        call(&f.app, "GET", &format!("/v1/log/consistency?from={}&to={}", a.size, b.size), None, None).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let proof: Vec<[u8; 32]> = c["proof"].as_array().expect("proof").iter().map(hash).collect();
    candor_log::verify_consistency(a.size, b.size, &proof, &a.root, &b.root)
        .expect("the later checkpoint extends the earlier");

    // A client holding the first checkpoint checks it, and the person's scored read in it, with an
    // implementation of C2SP signed-note and tlog-checkpoint that is not Candor's.
    let (status, vkey) = call(&f.app, "GET", "/v1/log/public-key", None, None).await;
    assert_eq!(status, StatusCode::OK, "{vkey}");
    let theirs = signed_note::StandardVerifier::new(vkey.as_str().expect("text").trim()).expect("a verifier key");
    let known = signed_note::VerifierList::new(vec![Box::new(theirs)]);
    let note = signed_note::Note::from_bytes(first.to_text().as_bytes()).expect("a signed note");
    note.verify(&known).expect("signed by the key the bureau publishes");
    let held = tlog_tiles::Checkpoint::from_bytes(note.text()).expect("a tlog checkpoint");
    let at = format!("/v1/log/leaves/{leaf}/proof?size={}", held.size());
    let (status, p) = call(&f.app, "GET", &at, Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["size"].as_u64(), Some(held.size()), "{p}");
    let audit_path: Vec<tlog_tiles::Hash> =
        p["proof"].as_array().expect("proof").iter().map(|h| tlog_tiles::Hash(hash(h))).collect();
    let record = tlog_tiles::record_hash(p["body"].as_str().expect("body").as_bytes());
    tlog_tiles::check_record(&audit_path, held.size(), *held.hash(), leaf as u64, record)
        .expect("the read is in the log the client's checkpoint commits to");
    for bad in [0, leaf as u64, 1_000_000] {
        let (status, body) =
            call(&f.app, "GET", &format!("/v1/log/leaves/{leaf}/proof?size={bad}"), Some(&subject), None).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_size")), "size {bad}: {body}");
    }
    let (status, body) =
        call(&f.app, "GET", &format!("/v1/log/leaves/{leaf}/proof?size=x"), Some(&subject), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The ombudsman witnesses both: it cosigns the first, and the second only with the proof that
    // it extends the first; the bureau keeps the cosigned notes for anyone to fetch.
    let bureau = candor_log::Signer::from_seed(candor_server::LOG_ORIGIN, [9; 32]).expect("signer").verifier();
    let witness_signer = candor_log::Signer::from_seed("ombudsman.example/witness", [7; 32]).expect("signer");
    let key = json!({"name": "ombudsman.example/witness", "public_key": witness_signer.verifier().to_hex()});
    let mut witness = candor_log::Witness::new(witness_signer, bureau.clone());
    let ombudsman = Some(api_key("ombudsman"));
    let plain = |text: String| Some(("text/plain", text.into_bytes()));
    let (status, body) =
        call(&f.app, "POST", "/v1/log/cosignatures", ombudsman.as_deref(), plain(first.to_text())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("no_witness_key")), "{body}");
    let (status, _) = call(&f.app, "PUT", "/v1/log/witness-key", ombudsman.as_deref(), json_body(key)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) =
        call(&f.app, "POST", "/v1/log/cosignatures", ombudsman.as_deref(), plain(first.to_text())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("not_cosigned")), "{body}");
    let mut forged = first.clone();
    forged.checkpoint.root[0] ^= 1;
    witness.cosign(&mut forged.clone(), &[], 1).expect_err("the witness refuses what the log did not sign");
    let (mut one, mut two) = (first.clone(), second.clone());
    witness.cosign(&mut one, &[], 2).expect("first cosigned");
    witness.cosign(&mut two, &proof, 3).expect("second cosigned, with the proof");
    let (status, body) = call(&f.app, "POST", "/v1/log/cosignatures", ombudsman.as_deref(), plain(one.to_text())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = call(&f.app, "POST", "/v1/log/cosignatures", ombudsman.as_deref(), plain(two.to_text())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    forged.signatures = one.signatures.clone();
    let (status, body) =
        call(&f.app, "POST", "/v1/log/cosignatures", ombudsman.as_deref(), plain(forged.to_text())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("not_our_checkpoint")), "{body}");
    let (status, text) = call(&f.app, "GET", "/v1/log/cosigned", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let latest = candor_log::SignedCheckpoint::parse(text.as_str().expect("text")).expect("note");
    assert_eq!(latest.checkpoint, b.clone());
    latest.check(&bureau).expect("signed by the bureau");
    let witness_key = candor_log::Signer::from_seed("ombudsman.example/witness", [7; 32]).expect("signer").verifier();
    latest.check(&witness_key).expect("and countersigned by the ombudsman");

    let (_, metrics) = call(&f.app, "GET", "/metrics", None, None).await;
    assert!(
        metrics
            .as_str()
            .is_some_and(|m| m.contains("candor_scores_total 2") && m.contains("candor_refused_reads_total 2")),
        "{metrics}"
    );

    // The log lines name routes as the table does, and carry no identifier, key or token.
    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("/v1/batches/{id}") && logs.contains("/v1/log/leaves/{index}/proof"), "{logs}");
    assert!(!logs.contains("/v1/batches/1 ") && !logs.contains(&path), "a raw path is in the logs");
    for secret in [ID.1, &api_key("shop"), &api_key("bank-one"), subject.as_str(), "correct horse battery"] {
        assert!(!logs.contains(secret), "the logs hold a secret or an identifier");
    }
}

/// The example batch's September report of CARD-001, corrected by the bank: paid, not late.
const CORRECTION: &str = r#"{"type": "batch", "sender": "bank-one", "sender_kind": "lender", "sender_name": "Bank One"}
{"type": "account", "scheme": "cn_rid", "number": "110105199003071239", "account": "CARD-001", "kind": "card", "opened": "2024-01-15", "currency": "CNY"}
{"type": "report", "scheme": "cn_rid", "number": "110105199003071239", "account": "CARD-001", "month": "2026-09", "balance_minor": 150000, "limit_minor": 500000, "paid_minor": 30000, "dpd": 0, "status": "open"}
"#;

async fn example_batch(f: &Fixture) {
    let batch =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/lender-batch.jsonl")).expect("example");
    let (status, body) = submit(f, "bank-one", "/v1/batches?format=jsonl&attest_notice=true", batch).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A record its furnisher does not verify by the (configured) deadline leaves every report and
/// score; the suppression is recorded, logged and told to those who read the file.
#[tokio::test]
async fn an_unverified_record_is_suppressed_at_the_deadline() {
    let f = fixture_with(Settings { dispute_days: 10, ..Settings::default() });
    example_batch(&f).await;
    let subject = session(&f).await;
    deploy_model(&f).await;
    let grant = json!({"org": "shop", "purpose": "deposit_waiver", "until": "2027-12-31"});
    call(&f.app, "POST", "/v1/me/consents", Some(&subject), json_body(grant)).await;
    let ask = json_body(json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver"}));
    let (status, before) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), ask.clone()).await;
    assert_eq!(status, StatusCode::OK, "{before}");

    let dispute = json!({"record_kind": "report", "record_ref": "CARD-001 2026-09"});
    let (status, opened) = call(&f.app, "POST", "/v1/me/disputes", Some(&subject), json_body(dispute)).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["due_ms"].as_i64().expect("due") - opened["opened_ms"].as_i64().expect("opened"), 10 * DAY_MS);
    let months = |file: &Value| -> Vec<String> {
        file["accounts"][0]["reports"]
            .as_array()
            .map_or(vec![], |r| r.iter().filter_map(|m| m["month"].as_str().map(str::to_owned)).collect())
    };
    f.clock.fetch_add(10 * DAY_MS, Ordering::SeqCst);
    let subject = sign_in(&f).await;
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&subject), None).await;
    assert_eq!(months(&file), ["2026-08", "2026-09"], "due today, not yet late: {file}");
    assert_eq!(file["accounts"][0]["disputed"], true);

    f.clock.fetch_add(1, Ordering::SeqCst);
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&subject), None).await;
    assert_eq!(months(&file), ["2026-08"], "past the deadline the report is left out: {file}");
    let (_, after) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), ask).await;
    assert!(
        after["score"].as_i64() > before["score"].as_i64(),
        "the 30-days-late month no longer counts: {before} then {after}"
    );
    let (_, mine) = call(&f.app, "GET", "/v1/me/disputes", Some(&subject), None).await;
    assert_eq!(mine["disputes"][0]["state"], "suppressed", "{mine}");
    let id = opened["id"].as_i64().expect("id");
    let (status, body) = call(
        &f.app,
        "POST",
        &format!("/v1/verifications/{id}"),
        Some(&api_key("bank-one")),
        json_body(json!({"outcome": "verified"})),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("too_late")), "{body}");
    let (_, asked) = call(&f.app, "GET", "/v1/verifications", Some(&api_key("bank-one")), None).await;
    assert_eq!(asked["disputes"].as_array().map(Vec::len), Some(0), "{asked}");

    // The sweep puts it on the record once, and tells the shop, which read the file.
    assert_eq!(candor_server::sweep_overdue(&f.state).expect("sweep"), 1);
    assert_eq!(candor_server::sweep_overdue(&f.state).expect("sweep"), 0, "once");
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&subject), None).await;
    let kinds: Vec<&str> =
        reads["entries"].as_array().expect("entries").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.ends_with(&["dispute_suppressed", "notification"]), "{kinds:?}");
    let (_, told) = call(&f.app, "GET", "/v1/notifications", Some(&api_key("shop")), None).await;
    assert_eq!(told["notifications"][0]["outcome"], "suppressed", "{told}");
    // The furnisher sending the record again does not bring it back.
    let (status, body) = submit(&f, "bank-one", "/v1/batches?format=jsonl", CORRECTION.into()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&subject), None).await;
    assert_eq!(months(&file), ["2026-08"], "no reinsertion: {file}");
    assert_eq!(told["notifications"][0]["new_score"], after["score"], "{told}");
}

#[tokio::test]
async fn bad_credentials_and_bad_input_get_stable_codes() {
    let f = fixture();
    let (status, body) = call(&f.app, "POST", "/v1/scores", Some("cnd_nobody"), json_body(json!({}))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let code = "0000-0000-0000-0000-0000";
    let weak = json!({"scheme": ID.0, "number": ID.1, "activation_code": code, "passphrase": "short"});
    let (status, body) = call(&f.app, "POST", "/v1/subjects", None, json_body(weak)).await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("weak_passphrase"), Some("passphrase"))
    );
    let bad_id = json!({"scheme": ID.0, "number": "110105199003071238", "activation_code": code, "passphrase": "long enough passphrase"});
    let (_, body) = call(&f.app, "POST", "/v1/subjects", None, json_body(bad_id)).await;
    assert_eq!(body["code"], "bad_identifier");
    assert!(!body.to_string().contains("110105199003071238"), "errors never repeat the number");
    let wrong = json!({"scheme": ID.0, "number": ID.1, "passphrase": "not the passphrase"});
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, json_body(wrong)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
}

/// Merchants register service points; a person learns which nearby ones would waive a deposit
/// at their score; the place they asked about is in no log line, no log leaf and no byte of the
/// store.
#[tokio::test]
async fn the_perks_map_answers_without_keeping_the_place() {
    let captured = captured_logs();
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    let subject = session(&f).await;
    let point = |lat: f64, lon: f64, min_score: i32, text: &str| {
        json_body(
            json!({"lat": lat, "lon": lon, "perks": [{"min_score": min_score, "deposit_waived": true, "description": text}]}),
        )
    };
    let shop = Some(api_key("shop"));
    for (name, lat, lon, min, text) in [
        ("near", 31.2304, 121.4737, 300, "No deposit on power banks"),
        ("far", 31.2480, 121.4737, 300, "No deposit on bicycles"),
        ("picky", 31.2305, 121.4738, 900, "No deposit for the very best"),
    ] {
        let (status, body) =
            call(&f.app, "PUT", &format!("/v1/perks/points/{name}"), shop.as_deref(), point(lat, lon, min, text)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = call(&f.app, "PUT", "/v1/perks/points/x", shop.as_deref(), point(91.0, 0.0, 300, "x")).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("lat")), "{body}");
    let (status, body) = call(&f.app, "PUT", "/v1/perks/points/x", shop.as_deref(), point(1.0, 1.0, 200, "x")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_perks")), "{body}");

    let size_before = checkpoint(&f).await.checkpoint.size;
    let here = json!({"lat": 31.2311, "lon": 121.4741});
    let (status, near) = call(&f.app, "POST", "/v1/me/perks", Some(&subject), json_body(here.clone())).await;
    assert_eq!(status, StatusCode::OK, "{near}");
    let names = |v: &Value| -> Vec<String> {
        v["points"].as_array().expect("points").iter().filter_map(|p| p["point"].as_str().map(str::to_owned)).collect()
    };
    assert!(near["score"].as_i64().is_some_and(|s| s < 900), "{near}");
    assert_eq!(names(&near), ["near"], "within 500 m, and not the point asking for 900: {near}");
    assert_eq!(near["points"][0]["perk"], "No deposit on power banks");
    let wide = json!({"lat": 31.2311, "lon": 121.4741, "radius_m": 3000});
    let (_, both) = call(&f.app, "POST", "/v1/me/perks", Some(&subject), json_body(wide)).await;
    assert_eq!(names(&both), ["near", "far"], "nearest first: {both}");
    let city = json!({"lat": 31.2311, "lon": 121.4741, "radius_m": 50000});
    let (status, body) = call(&f.app, "POST", "/v1/me/perks", Some(&subject), json_body(city)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_radius")),
        "a neighbourhood, not a city"
    );
    assert_eq!(checkpoint(&f).await.checkpoint.size, size_before, "asking appends nothing to the log");

    let (status, _) = call(&f.app, "DELETE", "/v1/perks/points/near", shop.as_deref(), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&f.app, "DELETE", "/v1/perks/points/near", Some(&api_key("bank-one")), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not the bank's point");
    let (_, none) = call(&f.app, "POST", "/v1/me/perks", Some(&subject), json_body(here)).await;
    assert_eq!(names(&none), Vec::<String>::new(), "{none}");

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("/v1/me/perks"), "the requests were logged: {logs}");
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(f._dir.path()).expect("dir") {
        stored.extend(std::fs::read(entry.expect("entry").path()).expect("read"));
    }
    for needle in ["31.2311", "121.4741"] {
        assert!(!logs.contains(needle), "the place is in the logs");
        assert!(!stored.windows(needle.len()).any(|w| w == needle.as_bytes()), "the place is in the store");
    }
    assert!(stored.windows(8).any(|w| w == b"121.4737"), "(the merchants' points are)");
}

/// Counts by region only for regions of at least k people, and never below the bureau's k.
#[tokio::test]
async fn regional_statistics_show_no_small_cell() {
    let f = fixture();
    let mut batch =
        String::from(r#"{"type": "batch", "sender": "bank-one", "sender_kind": "lender", "sender_name": "Bank One"}"#);
    batch.push('\n');
    for (region, n) in [("MI", 24), ("OH", 7)] {
        for i in 0..n {
            let number = format!("123-{}-{:04}", if region == "MI" { 45 } else { 46 }, 1000 + i);
            let (dpd, since) =
                if i % 4 == 0 { (30, r#", "delinquent_since": "2026-09-03", "notice_given": true"#) } else { (0, "") };
            batch.push_str(&format!(
                "{{\"type\": \"subject\", \"scheme\": \"us_ssn\", \"number\": \"{number}\", \"region\": \"{region}\"}}\n\
                 {{\"type\": \"account\", \"scheme\": \"us_ssn\", \"number\": \"{number}\", \"account\": \"L-{region}-{i}\", \"kind\": \"loan\", \"opened\": \"2025-01-01\", \"currency\": \"USD\"}}\n\
                 {{\"type\": \"report\", \"scheme\": \"us_ssn\", \"number\": \"{number}\", \"account\": \"L-{region}-{i}\", \"month\": \"2026-09\", \"balance_minor\": 100, \"limit_minor\": 1000, \"paid_minor\": 10, \"dpd\": {dpd}, \"status\": \"open\"{since}}}\n"
            ));
        }
    }
    let (status, body) = submit(&f, "bank-one", "/v1/batches?format=jsonl", batch.into()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, table) = call(&f.app, "GET", "/v1/statistics/regions?k=2", Some(&api_key("auditor")), None).await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert_eq!(table["k"], 20, "a caller cannot ask for smaller cells: {table}");
    assert_eq!(table["regions"].as_array().map(Vec::len), Some(1), "{table}");
    assert_eq!(
        (table["regions"][0]["region"].as_str(), table["regions"][0]["people"].as_u64()),
        (Some("MI"), Some(24))
    );
    assert_eq!(table["regions"][0]["rate"], 0.25, "{table}");
    assert_eq!((table["suppressed_cells"].as_u64(), table["suppressed_people"].as_u64()), (Some(1), Some(7)));
    let (_, coarse) = call(&f.app, "GET", "/v1/statistics/regions?k=30", Some(&api_key("auditor")), None).await;
    assert_eq!(coarse["regions"].as_array().map(Vec::len), Some(0), "{coarse}");
    // A late month the person reports as identity theft counts here no more than in reports.
    let person = enrol(&f, "us_ssn", "123-45-1000", "a long passphrase").await;
    let theft = json!({"record_kind": "report", "record_ref": "L-MI-0 2026-09", "identity_theft_report": "R-1"});
    let (status, body) = call(&f.app, "POST", "/v1/me/disputes", Some(&person), json_body(theft)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, stale) = call(&f.app, "GET", "/v1/statistics/regions", Some(&api_key("auditor")), None).await;
    assert_eq!(stale["regions"][0]["people"], 24, "served from the last count, not a walk per request: {stale}");
    let counted = candor_server::refresh_statistics(&f.state).await.expect("count");
    let (_, table) = call(&f.app, "GET", "/v1/statistics/regions", Some(&api_key("auditor")), None).await;
    assert_eq!(table["counted_ms"], counted, "{table}");
    assert_eq!(
        (table["regions"][0]["people"].as_u64(), table["regions"][0]["rate"].as_f64()),
        (Some(23), Some(5.0 / 23.0)),
        "the person's only record is blocked, so they have no furnished record left to count: {table}"
    );
}

/// A cn_rid number of region 110105 born on 1990-01-01, with sequence `seq` and a valid check
/// character.
fn resident_number(seq: u32) -> String {
    let stem = format!("11010519900101{:03}", seq % 1000);
    "0123456789X"
        .chars()
        .map(|c| format!("{stem}{c}"))
        .find(|n| candor_file::ids::NationalId::parse_text("cn_rid", n).is_ok())
        .expect("a check character")
}

/// People who enrol but have no furnished record do not count toward a cell: one real late
/// payer among 25 made-up enrolments in their region stays hidden.
#[tokio::test]
async fn enrolments_without_records_cannot_pad_a_cell() {
    let f = fixture();
    let real = resident_number(1);
    let batch = format!(
        "{{\"type\": \"batch\", \"sender\": \"bank-one\", \"sender_kind\": \"lender\", \"sender_name\": \"Bank One\"}}\n\
         {{\"type\": \"subject\", \"scheme\": \"cn_rid\", \"number\": \"{real}\"}}\n\
         {{\"type\": \"account\", \"scheme\": \"cn_rid\", \"number\": \"{real}\", \"account\": \"PAD-1\", \"kind\": \"loan\", \"opened\": \"2025-01-01\", \"currency\": \"CNY\"}}\n\
         {{\"type\": \"report\", \"scheme\": \"cn_rid\", \"number\": \"{real}\", \"account\": \"PAD-1\", \"month\": \"2026-09\", \"balance_minor\": 100, \"limit_minor\": 1000, \"paid_minor\": 0, \"dpd\": 60, \"status\": \"open\", \"delinquent_since\": \"2026-07-20\", \"notice_given\": true}}\n"
    );
    let (status, body) = submit(&f, "bank-one", "/v1/batches?format=jsonl", batch.into()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for seq in 2..27 {
        enrol(&f, "cn_rid", &resident_number(seq), "a made-up person").await;
    }
    let (status, table) = call(&f.app, "GET", "/v1/statistics/regions", Some(&api_key("auditor")), None).await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert_eq!(table["regions"].as_array().map(Vec::len), Some(0), "no cell shown: {table}");
    assert_eq!(table["suppressed_people"], 1, "only the person with a record counts: {table}");
}

/// A court lists an enforcement record, is asked to verify it when the person disputes it, and
/// records its performance: the record leaves the file at once.
#[tokio::test]
async fn a_court_record_is_listed_verified_by_the_court_and_leaves_when_performed() {
    let f = fixture();
    let court = "court-bj-chaoyang";
    {
        let org = Organisation { id: OrgId::parse(court).expect("id"), kind: OrgKind::Court, name: org_name(court) };
        let mut store = f.state.store.lock().expect("lock");
        store.put_organisation(&org, Some(&f.state.keys.api_key_hash(&api_key(court))), 0).expect("org");
    }
    let example = |name: &str| {
        std::fs::read(format!("{}/../../docs/examples/{name}", env!("CARGO_MANIFEST_DIR"))).expect("example")
    };
    let (status, body) = submit(&f, court, "/v1/batches?format=jsonl", example("court-batch.jsonl")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let person = enrol(&f, "cn_rid", "310115198506124561", "a long passphrase").await;
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&person), None).await;
    assert_eq!(file["court_records"].as_array().map(Vec::len), Some(1), "{file}");
    let case = file["court_records"][0]["case"].as_str().expect("case").to_owned();

    let dispute = json!({"record_kind": "court_record", "record_ref": case});
    let (status, opened) = call(&f.app, "POST", "/v1/me/disputes", Some(&person), json_body(dispute)).await;
    assert_eq!((status, opened["furnisher"].as_str()), (StatusCode::CREATED, Some(court)), "{opened}");
    let (_, asked) = call(&f.app, "GET", "/v1/verifications", Some(&api_key(court)), None).await;
    assert_eq!(asked["disputes"][0]["record_ref"], case.as_str(), "{asked}");
    let path = format!("/v1/verifications/{}", opened["id"]);
    let (status, _) =
        call(&f.app, "POST", &path, Some(&api_key(court)), json_body(json!({"outcome": "verified"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, mine) = call(&f.app, "GET", "/v1/me/disputes", Some(&person), None).await;
    assert_eq!(mine["disputes"][0]["state"], "furnisher_verified", "{mine}");

    let (status, body) = submit(&f, court, "/v1/batches?format=jsonl", example("court-closure.jsonl")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&person), None).await;
    assert_eq!(file["court_records"].as_array().map(Vec::len), Some(0), "performed: off the file at once: {file}");
}

/// A person withdraws: sessions end at once, the passphrase no longer signs in, the withdrawal is
/// in the log; enrolling again works.
#[tokio::test]
async fn a_person_withdraws_and_may_come_back() {
    let f = fixture();
    let subject = session(&f).await;
    let (status, _) = call(&f.app, "DELETE", "/v1/me/enrolment", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&f.app, "GET", "/v1/me/consents", Some(&subject), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    let creds = json!({"scheme": ID.0, "number": ID.1, "passphrase": "correct horse battery"});
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, json_body(creds)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    let again = session(&f).await;
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&again), None).await;
    let kinds: Vec<&str> =
        reads["entries"].as_array().expect("entries").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        ["activation_issued", "enrolment", "withdrawal", "activation_issued", "reenrolment"],
        "coming back takes a new invitation, and is an enrolment over an earlier one: {reads}"
    );
}

/// A person freezes their file: a lender with consent is refused (and the attempt is in the
/// person's log) until the person lifts the freeze.
#[tokio::test]
async fn a_frozen_file_is_read_by_nobody_until_the_freeze_is_lifted() {
    let f = fixture();
    example_batch(&f).await;
    deploy_model(&f).await;
    let subject = session(&f).await;
    let grant = json!({"org": "shop", "purpose": "deposit_waiver", "until": "2027-12-31"});
    call(&f.app, "POST", "/v1/me/consents", Some(&subject), json_body(grant)).await;
    let ask = json_body(json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver"}));
    let (status, _) = call(&f.app, "PUT", "/v1/me/freeze", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), ask.clone()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("file_frozen")), "{body}");
    let (status, _) = call(&f.app, "DELETE", "/v1/me/freeze", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), ask).await;
    assert_eq!(status, StatusCode::OK, "lifted at once: {body}");
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&subject), None).await;
    let entries = reads["entries"].as_array().expect("entries");
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.ends_with(&["freeze_placed", "refused_read", "freeze_lifted", "read"]), "{kinds:?}");
    assert!(entries.iter().any(|e| e["reason"] == "file frozen"), "{reads}");
}

/// A record the person reports as identity theft leaves every report at once; the furnisher is
/// told but cannot lift the block; the ombudsman can, on the record.
#[tokio::test]
async fn identity_theft_blocks_a_record_at_once_until_the_ombudsman_decides() {
    let f = fixture();
    example_batch(&f).await;
    let subject = session(&f).await;
    let months = |file: &Value| -> usize { file["accounts"][0]["reports"].as_array().map_or(0, Vec::len) };
    let theft =
        json!({"record_kind": "report", "record_ref": "CARD-001 2026-09", "identity_theft_report": "PSB-2026-0042"});
    let (status, opened) = call(&f.app, "POST", "/v1/me/disputes", Some(&subject), json_body(theft)).await;
    assert_eq!((status, opened["state"].as_str()), (StatusCode::CREATED, Some("blocked")), "{opened}");
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&subject), None).await;
    assert_eq!(months(&file), 1, "blocked at once, not only marked: {file}");
    let (_, asked) = call(&f.app, "GET", "/v1/verifications", Some(&api_key("bank-one")), None).await;
    assert_eq!(asked["disputes"][0]["state"], "blocked", "the furnisher is told: {asked}");
    let path = format!("/v1/verifications/{}", opened["id"]);
    let (status, body) =
        call(&f.app, "POST", &path, Some(&api_key("bank-one")), json_body(json!({"outcome": "verified"}))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("blocked")), "{body}");
    // The ombudsman finds the account was the person's after all: the block is rescinded.
    let path = format!("/v1/disputes/{}/decision", opened["id"]);
    let (status, _) =
        call(&f.app, "POST", &path, Some(&api_key("ombudsman")), json_body(json!({"outcome": "verified"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&subject), None).await;
    assert_eq!(months(&file), 2, "{file}");
    let bad = json!({"record_kind": "report", "record_ref": "CARD-001 2026-08", "identity_theft_report": ""});
    let (status, body) = call(&f.app, "POST", "/v1/me/disputes", Some(&subject), json_body(bad)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("identity_theft_report")), "{body}");
}

/// Lists come a page at a time (`?after=&limit=`, at most 500 items), and a malformed query or
/// path is a 400 in the API's error shape, after the credentials are checked.
#[tokio::test]
async fn lists_are_paged_and_bad_queries_answer_in_the_error_shape() {
    let f = fixture();
    let subject = session(&f).await;
    for _ in 0..3 {
        call(&f.app, "PUT", "/v1/me/freeze", Some(&subject), None).await;
        call(&f.app, "DELETE", "/v1/me/freeze", Some(&subject), None).await;
    }
    let (status, all) = call(&f.app, "GET", "/v1/me/reads", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK);
    let entries = all["entries"].as_array().expect("entries").len();
    assert_eq!(entries, 8, "the invitation, the enrolment and six freeze changes: {all}");
    assert!(all["next"].is_null(), "{all}");
    let mut seen = 0;
    let mut path = "/v1/me/reads?limit=3".to_owned();
    loop {
        let (status, page) = call(&f.app, "GET", &path, Some(&subject), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let n = page["entries"].as_array().expect("entries").len();
        assert!(n <= 3, "{page}");
        seen += n;
        match page["next"].as_i64() {
            Some(after) => path = format!("/v1/me/reads?limit=3&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen, entries, "every entry once over the pages");
    for (path, code) in [
        ("/v1/me/reads?limit=0", "bad_page"),
        ("/v1/me/reads?limit=501", "bad_page"),
        ("/v1/me/reads?limit=many", "bad_query"),
        ("/v1/me/reads?colour=blue", "bad_query"),
        ("/v1/me/file?as_of=yesterday", "bad_date"),
    ] {
        let (status, body) = call(&f.app, "GET", path, Some(&subject), None).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{path}: {body}");
    }
    let (status, body) = call(&f.app, "GET", "/v1/batches/not-a-number", Some(&api_key("bank-one")), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_path")), "{body}");
    // A stranger is refused before the path or query is looked at.
    let (status, body) = call(&f.app, "GET", "/v1/batches/not-a-number", None, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")), "{body}");
    let (status, body) = call(&f.app, "GET", "/v1/me/reads?limit=many", Some(&api_key("shop")), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{body}");
}

/// The operator's deployment refuses, in the error shape and changing nothing, a body that is
/// not a model and a model whose characteristics the credit file does not have.
#[tokio::test]
async fn a_model_the_file_cannot_feed_is_refused_over_http() {
    let f = fixture();
    deploy_model(&f).await;
    let operator = Some(api_key("operator"));
    let serving = f.state.deployed().expect("state").expect("a model").version.clone();
    let not_a_model = Some(("application/json", b"{\"bins\": 3}".to_vec()));
    let (status, body) = call(&f.app, "PUT", "/v1/operator/model", operator.as_deref(), not_a_model).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_model")), "{body}");
    let foreign = model_document().replace("revolving_utilisation", "shoe_size");
    let (status, body) = call(
        &f.app,
        "PUT",
        "/v1/operator/model",
        operator.as_deref(),
        Some(("application/json", foreign.into_bytes())),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("model_not_for_the_file")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("shoe_size")), "{body}");
    assert_eq!(f.state.deployed().expect("state").expect("a model").version, serving, "the model serving is unchanged");
    let (status, _) = call(&f.app, "PUT", "/v1/operator/model", Some(&api_key("shop")), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another party may not deploy");
}

/// Knowing a national identifier is not enough to become the person: enrolment takes the
/// activation code the bureau issued them, used once, bound to them and expiring; enrolling
/// again ends every old session and makes lifting the freeze and new consents wait.
#[tokio::test]
async fn an_identifier_alone_cannot_take_over_an_enrolment() {
    let f = fixture();
    let victim = session(&f).await;
    let (status, _) = call(&f.app, "PUT", "/v1/me/freeze", Some(&victim), None).await;
    assert_eq!(status, StatusCode::OK);
    let takeover = |code: &str| {
        json_body(json!({"scheme": ID.0, "number": ID.1, "activation_code": code, "passphrase": "the intruder's own"}))
    };
    let (status, body) = call(
        &f.app,
        "POST",
        "/v1/subjects",
        None,
        json_body(json!({"scheme": ID.0, "number": ID.1, "passphrase": "the intruder's own"})),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_proof")), "no code: {body}");
    let (status, body) = call(&f.app, "POST", "/v1/subjects", None, takeover("ABCD-EFGH-JKMN-PQRS-TVWX")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_proven")), "{body}");
    // A code issued to someone else is worth nothing for this person.
    let other = invite(&f, "cn_rid", &resident_number(5)).await;
    let (status, body) = call(&f.app, "POST", "/v1/subjects", None, takeover(&other)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_proven")), "{body}");
    // An unknown identifier gets the same answer as a wrong code.
    let stranger = json!({"scheme": "cn_rid", "number": resident_number(9), "activation_code": other, "passphrase": "long enough really"});
    let (status, unknown) = call(&f.app, "POST", "/v1/subjects", None, json_body(stranger)).await;
    assert_eq!((status, unknown["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_proven")), "{unknown}");
    let (status, _) = call(&f.app, "GET", "/v1/me/file", Some(&victim), None).await;
    assert_eq!(status, StatusCode::OK, "the person is still signed in and enrolled as before");

    // A new code, as the bureau would send the person when they lost their passphrase.
    let code = invite(&f, ID.0, ID.1).await;
    let (status, body) = call(&f.app, "POST", "/v1/subjects", None, takeover(&code)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["cooling_off_until_ms"].as_i64().is_some(), "{body}");
    let (status, _) = call(&f.app, "POST", "/v1/subjects", None, takeover(&code)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a code is used once");
    let (status, _) = call(&f.app, "GET", "/v1/me/file", Some(&victim), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "every earlier session ended");
    // The holder of the replaced enrolment is told, when they next sign in with its passphrase.
    let old = json!({"scheme": ID.0, "number": ID.1, "passphrase": "correct horse battery"});
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, json_body(old)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("enrolment_replaced")), "{body}");
    let told = body["message"].as_str().expect("message");
    assert!(told.contains("replaced by a new one on 2026-") && told.contains("held until"), "{told}");
    assert!(body.get("token").is_none(), "no session for the replaced enrolment");
    let wrong = json!({"scheme": ID.0, "number": ID.1, "passphrase": "neither of the two"});
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, json_body(wrong)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")), "{body}");
    let creds = json!({"scheme": ID.0, "number": ID.1, "passphrase": "the intruder's own"});
    let (_, signed) = call(&f.app, "POST", "/v1/sessions", None, json_body(creds)).await;
    let new = signed["token"].as_str().expect("token").to_owned();
    let (status, body) = call(&f.app, "DELETE", "/v1/me/freeze", Some(&new), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("cooling_off")), "{body}");
    let grant = json!({"org": "shop", "purpose": "deposit_waiver", "until": "2027-01-31"});
    let (status, body) = call(&f.app, "POST", "/v1/me/consents", Some(&new), json_body(grant.clone())).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("cooling_off")), "{body}");
    let (status, _) = call(&f.app, "PUT", "/v1/me/freeze", Some(&new), None).await;
    assert_eq!(status, StatusCode::OK, "placing a freeze never waits");
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&new), None).await;
    assert!(reads["entries"].as_array().expect("entries").iter().any(|e| e["kind"] == "reenrolment"), "{reads}");
    f.clock.fetch_add(8 * DAY_MS, Ordering::SeqCst);
    let creds = json!({"scheme": ID.0, "number": ID.1, "passphrase": "the intruder's own"});
    let (_, signed) = call(&f.app, "POST", "/v1/sessions", None, json_body(creds)).await;
    let later = signed["token"].as_str().expect("token").to_owned();
    let (status, body) = call(&f.app, "DELETE", "/v1/me/freeze", Some(&later), None).await;
    assert_eq!(status, StatusCode::OK, "after the cooling-off period: {body}");

    // A code not used in time is refused.
    let late = invite(&f, "cn_rid", &resident_number(7)).await;
    f.clock.fetch_add(31 * DAY_MS, Ordering::SeqCst);
    let expired = json!({"scheme": "cn_rid", "number": resident_number(7), "activation_code": late, "passphrase": "long enough really"});
    let (status, _) = call(&f.app, "POST", "/v1/subjects", None, json_body(expired)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an expired code");
    // Only the operator invites.
    let who = json_body(json!({"scheme": ID.0, "number": ID.1}));
    let (status, _) = call(&f.app, "POST", "/v1/operator/invites", Some(&api_key("bank-one")), who.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&f.app, "POST", "/v1/operator/invites", None, who).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Consents go only to registered lenders and merchants, for a bounded time; withdrawing ends
/// them; and a reader asking about someone the bureau has no file on gets the same logged
/// refusal as one without consent.
#[tokio::test]
async fn consents_are_bounded_and_strangers_files_are_not_told_apart() {
    let f = fixture();
    deploy_model(&f).await;
    let subject = session(&f).await;
    for (org, why) in [("nobody-here", "not registered"), ("ombudsman", "not a reader"), ("court-1", "not a reader")] {
        let grant = json!({"org": org, "purpose": "deposit_waiver", "until": "2027-01-31"});
        let (status, body) = call(&f.app, "POST", "/v1/me/consents", Some(&subject), json_body(grant)).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_org")), "{why}: {body}");
    }
    let forever = json!({"org": "shop", "purpose": "deposit_waiver", "until": "9999-12-31"});
    let (status, body) = call(&f.app, "POST", "/v1/me/consents", Some(&subject), json_body(forever)).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("until")), "{body}");
    let grant = json!({"org": "shop", "purpose": "deposit_waiver", "until": "2028-10-01"});
    let (status, body) = call(&f.app, "POST", "/v1/me/consents", Some(&subject), json_body(grant)).await;
    assert_eq!(status, StatusCode::CREATED, "within two years: {body}");
    let ask = |number: &str| json_body(json!({"scheme": "cn_rid", "number": number, "purpose": "deposit_waiver"}));
    let (status, _) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), ask(ID.1)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = call(&f.app, "DELETE", "/v1/me/enrolment", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, known) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), ask(ID.1)).await;
    assert_eq!(
        (status, known["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("consent_required")),
        "withdrawal ended the consent"
    );
    let (status, unknown) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), ask(&resident_number(3))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{unknown}");
    let shape = |v: &Value| {
        (v["code"].clone(), v["message"].as_str().map(|m| m.split(" (leaf").next().unwrap_or("").to_owned()))
    };
    assert_eq!(shape(&unknown), shape(&known), "the same answer for a file the bureau has and one it has not");
    assert!(unknown["message"].as_str().is_some_and(|m| m.contains("(leaf ")), "and it is logged: {unknown}");
}

/// A batch cannot change its sender's kind or name: a lender that declares itself a court is
/// refused (and puts no court record on anyone's file), a court that declares itself a lender
/// gains no lender's role, and a renamed sender is refused; nothing of a refused batch is applied.
#[tokio::test]
async fn a_furnisher_cannot_change_its_own_kind() {
    let f = fixture();
    let court_record = |sender: &str, kind: &str, name: &str| {
        format!(
            "{{\"type\": \"batch\", \"sender\": \"{sender}\", \"sender_kind\": \"{kind}\", \"sender_name\": \"{name}\"}}\n\
             {{\"type\": \"court_record\", \"scheme\": \"cn_rid\", \"number\": \"{}\", \"case\": \"FAKE-1\", \"amount_minor\": 4500000, \"currency\": \"CNY\", \"grounds\": \"made up\", \"listed\": \"2026-10-01\"}}\n",
            ID.1
        )
        .into_bytes()
    };
    let (status, body) =
        submit(&f, "bank-one", "/v1/batches?format=jsonl", court_record("bank-one", "court", "Bank One")).await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (StatusCode::FORBIDDEN, Some("sender_mismatch"), Some("sender_kind")),
        "{body}"
    );
    let (status, body) =
        submit(&f, "court-1", "/v1/batches?format=jsonl", court_record("court-1", "court", "Not The Court")).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::FORBIDDEN, Some("sender_name")), "{body}");
    let lender_batch = format!(
        "{{\"type\": \"batch\", \"sender\": \"court-1\", \"sender_kind\": \"lender\", \"sender_name\": \"Court One\"}}\n\
         {{\"type\": \"account\", \"scheme\": \"cn_rid\", \"number\": \"{}\", \"account\": \"X-1\", \"kind\": \"loan\", \"opened\": \"2025-01-01\", \"currency\": \"CNY\"}}\n",
        ID.1
    );
    let (status, body) = submit(&f, "court-1", "/v1/batches?format=jsonl", lender_batch.into_bytes()).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("sender_mismatch")), "{body}");
    // Still a court: no score, no statistics.
    let ask = json_body(json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver"}));
    let (status, _) = call(&f.app, "POST", "/v1/scores", Some(&api_key("court-1")), ask).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&f.app, "GET", "/v1/statistics/regions", Some(&api_key("court-1")), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let subject = session(&f).await;
    let (_, file) = call(&f.app, "GET", "/v1/me/file", Some(&subject), None).await;
    assert_eq!(file["court_records"].as_array().map(Vec::len), Some(0), "no record of a refused batch: {file}");
    assert_eq!(file["accounts"].as_array().map(Vec::len), Some(0), "{file}");
    // The court, as registered, does put its records on file.
    let (status, body) =
        submit(&f, "court-1", "/v1/batches?format=jsonl", court_record("court-1", "court", "Court One")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A stranger, or a caller with a forged credential, learns nothing from any route that is not
/// public: every one answers 401 in the error shape before its path, query or body is read,
/// however malformed they are; an unknown route or method answers in the error shape too.
#[tokio::test]
async fn strangers_and_forged_credentials_get_401_before_anything_is_parsed() {
    let f = fixture();
    let malformed = Some(("application/json", b"{\"not json".to_vec()));
    for route in ROUTES.iter().filter(|r| !r.roles.contains(&candor_server::Role::Anyone)) {
        let path = route.path.replace('{', "%ZZ{").replace('}', "}%ZZ") + "?limit=minus-one&%zz=%";
        for token in [None, Some("cnd_forged"), Some("ses_forged"), Some("")] {
            let (status, answer) = call(&f.app, route.method, &path, token, malformed.clone()).await;
            assert_eq!(
                (status, answer["code"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("unauthenticated")),
                "{} {} with {token:?}: {answer}",
                route.method,
                route.path
            );
        }
    }
    let (status, body) = call(&f.app, "GET", "/v1/no/such/route", None, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    let (status, body) = call(&f.app, "PATCH", "/v1/me/freeze", None, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed")), "{body}");
}

/// Guessing a passphrase stops after a few tries: the identifier is locked for a time that
/// doubles, the right passphrase included, and an unknown identifier the same way; a stranger's
/// body is read only up to a small size.
#[tokio::test]
async fn sign_in_locks_out_guessers_and_a_strangers_body_is_small() {
    let f = fixture_with(Settings { max_body_bytes: 1 << 20, ..Settings::default() });
    session(&f).await;
    let try_with =
        |number: &str, passphrase: &str| json_body(json!({"scheme": ID.0, "number": number, "passphrase": passphrase}));
    let unknown = resident_number(11);
    for number in [ID.1, unknown.as_str()] {
        for _ in 0..candor_server::guard::FREE_FAILURES {
            let (status, body) = call(&f.app, "POST", "/v1/sessions", None, try_with(number, "a wrong guess")).await;
            assert_eq!(body["code"], "bad_credentials", "{status} {body}");
        }
        let asked = std::time::Instant::now();
        let (status, body) =
            call(&f.app, "POST", "/v1/sessions", None, try_with(number, "correct horse battery")).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("locked_out")), "{body}");
        assert!(asked.elapsed() >= candor_server::guard::LOCKED_OUT_DELAY, "a locked-out caller waits to be told");
    }
    f.clock.fetch_add(candor_server::guard::FIRST_LOCK_MS, Ordering::SeqCst);
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, try_with(ID.1, "correct horse battery")).await;
    assert_eq!(status, StatusCode::OK, "after the lockout: {body}");

    let big = json!({"scheme": ID.0, "number": ID.1, "passphrase": "x".repeat(candor_server::ANONYMOUS_BODY_BYTES)});
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, json_body(big)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")), "{body}");
}

/// The listener keeps its bounds over real sockets: connections past the cap from one address
/// are closed at once, idle ones are dropped after the idle time, one that trickles a byte at a
/// time is dropped at the end of its life, and the service still answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_trickling_and_excess_connections_are_dropped() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let limits = candor_server::listener::Limits {
        max_connections: 8,
        per_address: 3,
        idle: Duration::from_millis(300),
        lifetime: Duration::from_millis(1_500),
    };
    let f = fixture_with(Settings { connections: limits, ..Settings::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(candor_server::serve(listener, f.state.clone(), async {
        let _ = stopped.await;
    }));
    // Closed (an end of stream, or a reset) within the time, not merely quiet.
    let closed_within = |mut s: std::net::TcpStream, within: Duration| {
        s.set_read_timeout(Some(within)).expect("timeout");
        match s.read(&mut [0u8; 1]) {
            Ok(n) => n == 0,
            Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        }
    };
    let checks = tokio::task::spawn_blocking(move || {
        let idle: Vec<_> = (0..3).map(|_| std::net::TcpStream::connect(addr).expect("connect")).collect();
        std::thread::sleep(Duration::from_millis(50));
        let excess = std::net::TcpStream::connect(addr).expect("connect");
        assert!(closed_within(excess, Duration::from_millis(200)), "a fourth connection from one address is closed");
        let started = Instant::now();
        for s in idle {
            assert!(closed_within(s, Duration::from_secs(2)), "an idle connection is dropped");
        }
        assert!(started.elapsed() < Duration::from_secs(1), "soon after the idle time");
        let mut trickle = std::net::TcpStream::connect(addr).expect("connect");
        let started = Instant::now();
        let mut dropped = false;
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ".iter().cycle().take(200) {
            if trickle.write_all(&[*byte]).is_err() {
                dropped = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            if started.elapsed() > Duration::from_secs(4) {
                break;
            }
        }
        assert!(
            dropped || closed_within(trickle, Duration::from_secs(1)),
            "a trickling client is dropped at the end of its life"
        );
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
        let mut ok = std::net::TcpStream::connect(addr).expect("connect");
        ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
        let mut answer = String::new();
        ok.read_to_string(&mut answer).expect("read");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    });
    checks.await.expect("checks");
    let _ = stop.send(());
    let _ = server.await;
}

/// A person may turn on a second factor: confirmed with a code before it is in force, then
/// asked for at every sign-in; a code works once; a recovery code works once; turning it off
/// takes a code; and it is logged.
#[tokio::test]
async fn a_second_factor_guards_sign_in_once_turned_on() {
    use candor_bureau::second_factor::code_for;
    let f = fixture();
    let subject = session(&f).await;
    let (status, started) = call(&f.app, "POST", "/v1/me/second-factor", Some(&subject), None).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let secret = started["secret"].as_str().expect("secret").to_owned();
    assert!(started["otpauth_uri"].as_str().is_some_and(|u| u.starts_with("otpauth://totp/") && u.contains(&secret)));
    let recovery: Vec<String> = started["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(recovery.len(), 10);
    let signing_in = |code: Option<&str>| {
        let mut creds = json!({"scheme": ID.0, "number": ID.1, "passphrase": "correct horse battery"});
        if let Some(c) = code {
            creds["code"] = json!(c);
        }
        json_body(creds)
    };
    let (status, _) = call(&f.app, "POST", "/v1/sessions", None, signing_in(None)).await;
    assert_eq!(status, StatusCode::OK, "not in force until confirmed");
    let (status, body) =
        call(&f.app, "POST", "/v1/me/second-factor/confirm", Some(&subject), json_body(json!({"code": "000000"})))
            .await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_second_factor")), "{body}");
    let now = code_for(&secret, f.clock.load(Ordering::SeqCst)).expect("code");
    let (status, body) =
        call(&f.app, "POST", "/v1/me/second-factor/confirm", Some(&subject), json_body(json!({"code": now}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, signing_in(None)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("second_factor_required")), "{body}");
    let (status, _) = call(&f.app, "POST", "/v1/sessions", None, signing_in(Some(&now))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the code that confirmed it is used up");
    f.clock.fetch_add(30_000, Ordering::SeqCst);
    let next = code_for(&secret, f.clock.load(Ordering::SeqCst)).expect("code");
    let (status, body) = call(&f.app, "POST", "/v1/sessions", None, signing_in(Some(&next))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(&f.app, "POST", "/v1/sessions", None, signing_in(Some(&next))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "never the same code twice");
    let (status, body) =
        call(&f.app, "POST", "/v1/sessions", None, signing_in(Some(&recovery[3].to_uppercase()))).await;
    assert_eq!(status, StatusCode::OK, "a recovery code: {body}");
    let (status, _) = call(&f.app, "POST", "/v1/sessions", None, signing_in(Some(&recovery[3]))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a recovery code works once");

    let (status, _) =
        call(&f.app, "POST", "/v1/me/second-factor/off", Some(&subject), json_body(json!({"code": "123456"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "turning it off takes a code");
    let (status, body) =
        call(&f.app, "POST", "/v1/me/second-factor/off", Some(&subject), json_body(json!({"code": recovery[0]}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(&f.app, "POST", "/v1/sessions", None, signing_in(None)).await;
    assert_eq!(status, StatusCode::OK, "off again");
    let (_, reads) = call(&f.app, "GET", "/v1/me/reads", Some(&subject), None).await;
    let kinds: Vec<&str> =
        reads["entries"].as_array().expect("entries").iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(kinds.ends_with(&["second_factor_on", "second_factor_off"]), "{kinds:?}");
    // The secret is not in the store in clear.
    for file in ["s.db", "s.db-wal"] {
        let bytes = std::fs::read(f._dir.path().join(file)).unwrap_or_default();
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is sealed ({file})");
    }
}

/// A person without an activation code enrols by answering questions from their own file: the
/// questions look the same for an identifier the bureau does not know, asking again shows the
/// same choices, wrong answers are capped per identifier, and a person proven this way waits out
/// the cooling-off period and cannot replace an enrolment that exists.
#[tokio::test]
async fn a_person_enrols_by_questions_from_their_own_file() {
    let f = fixture();
    example_batch(&f).await;
    let ask = |number: &str| json_body(json!({"scheme": "cn_rid", "number": number}));
    let (status, mine) = call(&f.app, "POST", "/v1/subjects/questions", None, ask(ID.1)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let (_, again) = call(&f.app, "POST", "/v1/subjects/questions", None, ask(ID.1)).await;
    assert_eq!(mine, again, "asking again shows the same choices");
    let stranger = resident_number(9);
    let (status, theirs) = call(&f.app, "POST", "/v1/subjects/questions", None, ask(&stranger)).await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    let shape = |v: &Value| -> Vec<(String, usize)> {
        v["questions"]
            .as_array()
            .expect("questions")
            .iter()
            .map(|q| (q["id"].as_str().expect("id").to_owned(), q["choices"].as_array().map_or(0, Vec::len)))
            .collect()
    };
    assert_eq!(shape(&mine), shape(&theirs), "an unknown identifier gets questions of the same shape");
    let organisations: Vec<&str> =
        mine["questions"][0]["choices"].as_array().expect("choices").iter().filter_map(|c| c["id"].as_str()).collect();
    assert!(
        organisations.contains(&"bank-one") && organisations.len() >= 2,
        "the person's lender among decoys: {mine}"
    );
    assert!(!organisations.contains(&"court-1") && !organisations.contains(&"shop"), "only furnishers: {mine}");

    let enrol_with = |number: &str, organisations: &[&str], limit: &str, age: &str| {
        json_body(json!({
            "scheme": "cn_rid", "number": number, "passphrase": "answered it myself",
            "answers": {"organisations": organisations, "largest_limit": limit, "oldest_account": age},
        }))
    };
    // The card's limit is 5,000.00 CNY, opened 2024-01-15: 2 years before the fixture's day.
    let (status, body) = call(
        &f.app,
        "POST",
        "/v1/subjects",
        None,
        enrol_with(ID.1, &["bank-one", "power-co"], "up_to_20000", "1_to_3"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("not_proven")),
        "a decoy picked: {body}"
    );
    let (status, body) =
        call(&f.app, "POST", "/v1/subjects", None, enrol_with(ID.1, &["bank-one"], "spaceship", "1_to_3")).await;
    assert_eq!((status, body["field"].as_str()), (StatusCode::BAD_REQUEST, Some("answers.largest_limit")), "{body}");
    let (status, body) =
        call(&f.app, "POST", "/v1/subjects", None, enrol_with(ID.1, &["court-1"], "up_to_20000", "1_to_3")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_answers")), "not offered: {body}");
    let both = json!({"scheme": "cn_rid", "number": ID.1, "passphrase": "answered it myself", "activation_code": "ABCD-EFGH-JKMN-PQRS-TVWX",
        "answers": {"organisations": [], "largest_limit": "none", "oldest_account": "under_1"}});
    let (status, body) = call(&f.app, "POST", "/v1/subjects", None, json_body(both)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_proof")), "{body}");

    let (status, body) =
        call(&f.app, "POST", "/v1/subjects", None, enrol_with(ID.1, &["bank-one"], "up_to_20000", "1_to_3")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["cooling_off_until_ms"].as_i64().is_some(), "proven by answers, so changes wait: {body}");
    let creds = json!({"scheme": ID.0, "number": ID.1, "passphrase": "answered it myself"});
    let (status, signed) = call(&f.app, "POST", "/v1/sessions", None, json_body(creds)).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    let token = signed["token"].as_str().expect("token").to_owned();
    let grant = json!({"org": "shop", "purpose": "deposit_waiver", "until": "2027-01-31"});
    let (status, body) = call(&f.app, "POST", "/v1/me/consents", Some(&token), json_body(grant)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("cooling_off")), "{body}");
    let (status, body) =
        call(&f.app, "POST", "/v1/subjects", None, enrol_with(ID.1, &["bank-one"], "up_to_20000", "1_to_3")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("already_enrolled")), "{body}");

    // Guessing for someone the bureau does not know: three wrong answers close the questions.
    for _ in 0..3 {
        let (status, body) =
            call(&f.app, "POST", "/v1/subjects", None, enrol_with(&stranger, &[], "none", "under_1")).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("not_proven")), "{body}");
    }
    let (status, body) =
        call(&f.app, "POST", "/v1/subjects", None, enrol_with(&stranger, &[], "none", "under_1")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("proofing_closed")), "{body}");
    // The count is in the store, not the process: a day later it still holds.
    f.clock.fetch_add(DAY_MS, Ordering::SeqCst);
    let (status, body) =
        call(&f.app, "POST", "/v1/subjects", None, enrol_with(&stranger, &[], "none", "under_1")).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("proofing_closed")), "{body}");
    let count = f.state.store.lock().expect("lock").proofing_failures(
        &f.state.keys.subject_key(&candor_file::ids::NationalId::parse_text("cn_rid", &stranger).expect("id")),
        0,
    );
    assert_eq!(count.expect("count"), 3);
    // One address asks at most the per-caller rate a minute (each asking reads a file).
    let limited = fixture_with(Settings { requests_per_minute: 3, ..Settings::default() });
    let from = |number: &str| {
        let mut req = Request::builder()
            .method("POST")
            .uri("/v1/subjects/questions")
            .header("content-type", "application/json")
            .body(Body::from(json!({"scheme": "cn_rid", "number": number}).to_string()))
            .expect("request");
        let peer = candor_server::listener::Peer("192.0.2.7:4000".parse().expect("addr"));
        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        req
    };
    for i in 0..3 {
        let resp = limited.app.clone().oneshot(from(&resident_number(20 + i))).await.expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let resp = limited.app.clone().oneshot(from(&resident_number(30))).await.expect("response");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS, "the fourth asking this minute");
    // A malformed question request gets a clear error.
    let (status, body) =
        call(&f.app, "POST", "/v1/subjects/questions", None, json_body(json!({"scheme": "cn_rid"}))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_json")), "{body}");
}

/// A model whose minimum scoring criteria no file of the fixture meets: a hundred years of
/// history.
fn model_out_of_reach() -> String {
    let mut model: Value = serde_json::from_str(&model_document()).expect("json");
    model["minimum"] = json!([{"column": "months_of_history", "at_least": 1200.0}]);
    model.to_string()
}

/// A file with too little history gets no score on every route that scores, with the one
/// reason `not_enough_history`: the lender's score, the person's own (no recourse), a decision
/// (decline with that adverse-action reason, or the policy's own decision for no score), the
/// log's leaf (no score in it) and its replay. A policy's decision for no score is checked.
#[tokio::test]
async fn too_little_history_gets_no_score_on_every_route() {
    let f = fixture();
    let batch =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/lender-batch.jsonl")).expect("example");
    let (status, body) = submit(&f, "bank-one", "/v1/batches?format=jsonl", batch).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let subject = session(&f).await;
    let model = Some(("application/json", model_out_of_reach().into_bytes()));
    let (status, body) = call(&f.app, "PUT", "/v1/operator/model", Some(&api_key("operator")), model).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut bad_criterion: Value = serde_json::from_str(&model_document()).expect("json");
    bad_criterion["minimum"] = json!([{"column": "shoe_size", "at_least": 40.0}]);
    let model = Some(("application/json", bad_criterion.to_string().into_bytes()));
    let (status, body) = call(&f.app, "PUT", "/v1/operator/model", Some(&api_key("operator")), model).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("model_not_for_the_file")), "{body}");

    let grant = json!({"org": "shop", "purpose": "deposit_waiver", "until": "2027-01-31"});
    let (status, _) = call(&f.app, "POST", "/v1/me/consents", Some(&subject), json_body(grant)).await;
    assert_eq!(status, StatusCode::CREATED);
    let not_scored = |v: &Value| {
        v["score"].is_null()
            && v["pd"].is_null()
            && v["reasons"].as_array().map(|r| r.iter().map(|x| x["code"].clone()).collect::<Vec<_>>())
                == Some(vec![json!("not_enough_history")])
    };
    let ask = json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver"});
    let (status, scored) = call(&f.app, "POST", "/v1/scores", Some(&api_key("shop")), json_body(ask)).await;
    assert_eq!(status, StatusCode::OK, "{scored}");
    assert!(not_scored(&scored), "{scored}");
    let sentence = scored["reasons"][0]["sentence"].as_str().unwrap_or_default();
    assert!(sentence.starts_with("There is not enough recent history on your file to score it"), "{scored}");
    assert!(scored["reasons"][0]["detail"].as_str().is_some_and(|d| d.contains("months_of_history>=1200")), "{scored}");
    let (status, own) = call(&f.app, "GET", "/v1/me/score", Some(&subject), None).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert!(not_scored(&own) && own.get("recourse").is_none(), "{own}");

    // Decisions: decline with the reason by default; the policy's own decision where it names one.
    let bands = json!([{"min_score": 300, "decision": "approve"}]);
    let (status, _) =
        call(&f.app, "PUT", "/v1/policies/plain", Some(&api_key("shop")), json_body(json!({"bands": bands}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let small = json!({"bands": bands, "no_score": {"decision": "limit", "limit_minor": 50_000}});
    let (status, _) = call(&f.app, "PUT", "/v1/policies/small", Some(&api_key("shop")), json_body(small)).await;
    assert_eq!(status, StatusCode::CREATED);
    for (bad, code) in [
        (json!({"decision": "maybe"}), "bad_policy"),
        (json!({"decision": "limit"}), "bad_policy"),
        (json!({"decision": "approve", "x": 1}), "bad_json"),
        (json!("decline"), "bad_json"),
    ] {
        let body = json_body(json!({"bands": bands, "no_score": bad}));
        let (status, answer) = call(&f.app, "PUT", "/v1/policies/bad", Some(&api_key("shop")), body).await;
        assert_eq!((status, answer["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{answer}");
    }
    let decide = |policy: &str| json!({"scheme": ID.0, "number": ID.1, "purpose": "deposit_waiver", "policy": policy});
    let (status, plain) =
        call(&f.app, "POST", "/v1/decisions", Some(&api_key("shop")), json_body(decide("plain"))).await;
    assert_eq!(status, StatusCode::OK, "{plain}");
    assert!(not_scored(&plain), "{plain}");
    assert_eq!(plain["decision"], "decline", "{plain}");
    assert_eq!(plain["adverse_action_reasons"], plain["reasons"], "{plain}");
    let (status, small) =
        call(&f.app, "POST", "/v1/decisions", Some(&api_key("shop")), json_body(decide("small"))).await;
    assert_eq!(status, StatusCode::OK, "{small}");
    assert_eq!((small["decision"].as_str(), small["limit_minor"].as_i64()), (Some("limit"), Some(50_000)), "{small}");

    // The log holds no score for it, and the replay agrees.
    for answer in [&scored, &plain, &small] {
        let leaf = answer["leaf"].as_i64().expect("leaf");
        let body = f.state.store.lock().expect("lock").log_leaf(leaf).expect("leaf").expect("body");
        let logged: Value = serde_json::from_str(&body).expect("json");
        assert!(logged.get("score").is_none() && logged.get("pd").is_none(), "{logged}");
        assert_eq!(logged["reasons"], json!(["not_enough_history"]), "{logged}");
        let (status, again) =
            call(&f.app, "GET", &format!("/v1/log/leaves/{leaf}/replay"), Some(&api_key("auditor")), None).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["matches"], true, "{again}");
        assert!(again["replayed"]["score"].is_null(), "{again}");
    }
}
