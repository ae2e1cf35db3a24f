//! The routes, who may call each, and the handlers.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State as Extract};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use candor_file::disputes::{self, Record};
use candor_file::features::{compute, index as feature_index};
use candor_file::ids::{NationalId, SubjectKey};
use candor_file::model::DisputeState;
use candor_file::model::{Consent, OrgId, Organisation, Purpose, SubjectFile};
use candor_file::retention::Retention;
use candor_scorecard::Value;
use candor_store::{FileRead, Store, SubjectEntry};
use serde::Deserialize;
use serde_json::{json, Value as Json_};
use sha2::{Digest, Sha256};

use crate::{roles_of, ApiError, Deployed, State};

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Anyone, without credentials.
    Anyone,
    Subject,
    Furnisher,
    Court,
    /// A lender or merchant reading with consent.
    Lender,
    Ombudsman,
    Auditor,
    Operator,
}

pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub roles: &'static [Role],
    pub summary: &'static str,
}

const fn route(method: &'static str, path: &'static str, roles: &'static [Role], summary: &'static str) -> RouteSpec {
    RouteSpec { method, path, roles, summary }
}

use Role::*;

/// Every route, who may call it, and what it does: the one list the router, the OpenAPI
/// document and the authorisation test are checked against.
pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/healthz", &[Anyone], "Liveness."),
    route("GET", "/metrics", &[Anyone], "Prometheus metrics (counts only)."),
    route("GET", "/openapi.json", &[Anyone], "This API, as OpenAPI 3."),
    route(
        "POST",
        "/v1/batches",
        &[Furnisher, Court],
        "Submit a batch (JSON Lines, CSV or Metro 2); applied whole or refused whole.",
    ),
    route(
        "GET",
        "/v1/batches/{id}",
        &[Furnisher, Court],
        "One of your batches: what was applied and what was held back, and why.",
    ),
    route("POST", "/v1/subjects", &[Anyone], "Enrol: opt in with a national identifier and a passphrase."),
    route("POST", "/v1/sessions", &[Anyone], "Sign in as an enrolled subject; returns an expiring session token."),
    route(
        "DELETE",
        "/v1/me/enrolment",
        &[Subject],
        "Withdraw: your passphrase is forgotten and every session of yours ends (the file furnishers send stays, as the law has it).",
    ),
    route(
        "PUT",
        "/v1/me/freeze",
        &[Subject],
        "Freeze your file: every score and decision request is refused, consent or not, until you lift it.",
    ),
    route("DELETE", "/v1/me/freeze", &[Subject], "Lift the freeze on your file, at once."),
    route("GET", "/v1/me/file", &[Subject], "Your file, as of a date (`?as_of=YYYY-MM-DD`)."),
    route("GET", "/v1/me/score", &[Subject], "Your score with its reasons and what would raise it."),
    route("GET", "/v1/me/reads", &[Subject], "Every read of your file, refused read and consent change, from the log."),
    route("GET", "/v1/me/consents", &[Subject], "Your consents."),
    route("POST", "/v1/me/consents", &[Subject], "Grant an organisation a purpose until a date."),
    route("DELETE", "/v1/me/consents/{org}/{purpose}", &[Subject], "Revoke a consent."),
    route("GET", "/v1/me/disputes", &[Subject], "Your disputes and where each stands."),
    route(
        "POST",
        "/v1/me/disputes",
        &[Subject],
        "Dispute a record of your file; it is marked disputed at once (blocked at once, with `identity_theft_report`).",
    ),
    route(
        "POST",
        "/v1/me/statements",
        &[Subject],
        "Attach your statement to a record; it is shown with the record in every report.",
    ),
    route(
        "POST",
        "/v1/me/reviews",
        &[Subject],
        "Ask for human review of a decision made on your score (by its log leaf).",
    ),
    route(
        "GET",
        "/v1/verifications",
        &[Furnisher, Court],
        "Disputes of records you furnished, waiting for you to verify or correct them, with their deadlines.",
    ),
    route(
        "POST",
        "/v1/verifications/{id}",
        &[Furnisher, Court],
        "Answer a dispute of your record: verified as accurate, or corrected (send the corrected record in a batch first).",
    ),
    route(
        "GET",
        "/v1/disputes",
        &[Ombudsman],
        "The queue: every dispute and review not yet decided, with its due date.",
    ),
    route(
        "POST",
        "/v1/disputes/{id}/decision",
        &[Ombudsman],
        "Decide a dispute (verified, corrected, deleted) or a review (upheld, overridden).",
    ),
    route(
        "GET",
        "/v1/notifications",
        &[Lender],
        "Corrections to files you received reports from in the last 6 months, re-scored.",
    ),
    route("POST", "/v1/scores", &[Lender], "A score with reasons, for a purpose the person consented to."),
    route(
        "PUT",
        "/v1/policies/{name}",
        &[Lender],
        "Define (a new version of) a decision policy: score bands and their decisions.",
    ),
    route(
        "POST",
        "/v1/decisions",
        &[Lender],
        "A decision under one of your policies, with consent; a decline carries its adverse-action reasons.",
    ),
    route(
        "GET",
        "/v1/log/leaves/{index}/proof",
        &[Subject, Auditor, Ombudsman],
        "An inclusion proof for a log entry (a subject: only entries about them).",
    ),
    route("GET", "/v1/log/checkpoint", &[Anyone], "The log's size and root now, signed by the bureau (a signed note)."),
    route(
        "GET",
        "/v1/log/consistency",
        &[Anyone],
        "A proof that the log at `?from=` leaves is a prefix of the log at `?to=`.",
    ),
    route(
        "PUT",
        "/v1/perks/points/{point}",
        &[Lender],
        "Register (or move, or change the perks of) one of your service points: a place and a perk per score band.",
    ),
    route("DELETE", "/v1/perks/points/{point}", &[Lender], "Remove one of your service points."),
    route(
        "POST",
        "/v1/me/perks",
        &[Subject],
        "Service points within a radius (default 500 m) of a place you name that would serve you without a deposit; the place is neither stored nor logged.",
    ),
    route(
        "GET",
        "/v1/statistics/regions",
        &[Lender, Auditor, Operator],
        "People and the share 30+ days late in the last 12 months, by region, only for regions of at least k people (`?k=`, never below 20).",
    ),
    route(
        "PUT",
        "/v1/log/witness-key",
        &[Ombudsman],
        "Register your witness key (a name and an Ed25519 public key) for countersigning checkpoints.",
    ),
    route(
        "POST",
        "/v1/log/cosignatures",
        &[Ombudsman],
        "Hand back a bureau checkpoint you countersigned as a witness (the signed note with your signature added).",
    ),
    route(
        "GET",
        "/v1/log/cosigned",
        &[Anyone],
        "The largest checkpoint a witness countersigned: the note with the bureau's and the witness's signatures.",
    ),
    route("POST", "/v1/operator/suspend", &[Operator], "Stop all scoring at once."),
    route("POST", "/v1/operator/resume", &[Operator], "Resume scoring."),
    route(
        "PUT",
        "/v1/operator/model",
        &[Operator],
        "Deploy a model document from `candor fit` as a new version (earlier versions stay, for replay).",
    ),
    route("POST", "/v1/operator/purge", &[Operator], "Run the retention purge now: delete what retention hides, keeping its hashes and a log leaf."),
    route(
        "GET",
        "/v1/log/leaves/{index}/replay",
        &[Ombudsman, Auditor],
        "Score a logged read or decision again from its logged inputs, model version and policy version; says whether it matches.",
    ),
];

type Shared = Arc<State>;
type Answer = Result<Response, ApiError>;

pub fn app(state: Shared) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/batches", post(batches))
        .route("/v1/batches/{id}", get(batch_result))
        .route("/v1/subjects", post(enrol))
        .route("/v1/sessions", post(sign_in))
        .route("/v1/me/enrolment", delete(withdraw))
        .route("/v1/me/freeze", put(freeze).delete(lift_freeze))
        .route("/v1/me/file", get(my_file))
        .route("/v1/me/score", get(my_score))
        .route("/v1/me/reads", get(my_reads))
        .route("/v1/me/consents", get(my_consents).post(grant))
        .route("/v1/me/consents/{org}/{purpose}", delete(revoke))
        .route("/v1/me/disputes", get(my_disputes).post(open_dispute))
        .route("/v1/me/statements", post(attach_statement))
        .route("/v1/me/reviews", post(request_review))
        .route("/v1/verifications", get(verifications))
        .route("/v1/verifications/{id}", post(verify))
        .route("/v1/disputes", get(dispute_queue))
        .route("/v1/disputes/{id}/decision", post(decide))
        .route("/v1/scores", post(score))
        .route("/v1/policies/{name}", put(put_policy))
        .route("/v1/notifications", get(notifications))
        .route("/v1/decisions", post(decide_credit))
        .route("/v1/log/leaves/{index}/proof", get(proof))
        .route("/v1/log/checkpoint", get(checkpoint))
        .route("/v1/log/consistency", get(consistency))
        .route("/v1/perks/points/{point}", put(put_point).delete(remove_point))
        .route("/v1/me/perks", post(my_perks))
        .route("/v1/statistics/regions", get(regional_statistics))
        .route("/v1/log/witness-key", put(put_witness_key))
        .route("/v1/log/cosignatures", post(cosign))
        .route("/v1/log/cosigned", get(cosigned))
        .route("/v1/operator/suspend", post(suspend))
        .route("/v1/operator/resume", post(resume))
        .route("/v1/operator/model", put(deploy))
        .route("/v1/operator/purge", post(purge))
        .route("/v1/log/leaves/{index}/replay", get(replay))
        .layer(axum::middleware::from_fn(access_log))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// One log line per request: method, path and status, and nothing else — no query string, no
/// header, no body, so no identifier, name, key or token can reach the log.
async fn access_log(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    response
}

/// The authenticated caller.
pub enum Caller {
    Anonymous,
    Subject(SubjectKey),
    Org(Organisation, Vec<Role>),
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Checks credentials, the route's roles and the caller's rate.
async fn authorize(
    state: &Shared,
    headers: &HeaderMap,
    method: Method,
    path: &'static str,
) -> Result<Caller, ApiError> {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let spec = ROUTES.iter().find(|r| r.path == path && r.method == method.as_str()).ok_or_else(ApiError::internal)?;
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let caller = match token {
        None => Caller::Anonymous,
        Some(t) if t.starts_with("ses_") => {
            let now = state.now_ms();
            let sessions = state.sessions.lock().map_err(|_| ApiError::internal())?;
            match sessions.get(&token_hash(t)) {
                Some((key, expires)) if *expires > now => Caller::Subject(*key),
                _ => return Err(ApiError::unauthenticated()),
            }
        }
        Some(t) => {
            let hash = state.keys.api_key_hash(t);
            let state2 = state.clone();
            let org = blocking(move || {
                Ok(state2.store.lock().map_err(|_| ApiError::internal())?.organisation_by_key(&hash)?)
            })
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
            let roles = roles_of(&org);
            Caller::Org(org, roles)
        }
    };
    if let Some(t) = token {
        rate(state, token_hash(t))?;
    }
    if spec.roles.contains(&Anyone) {
        return Ok(caller);
    }
    let allowed = match &caller {
        Caller::Anonymous => return Err(ApiError::unauthenticated()),
        Caller::Subject(_) => spec.roles.contains(&Subject),
        Caller::Org(_, roles) => roles.iter().any(|r| spec.roles.contains(r)),
    };
    if allowed {
        Ok(caller)
    } else {
        Err(ApiError::forbidden(&format!("call {} {}", spec.method, spec.path)))
    }
}

fn rate(state: &Shared, key: [u8; 32]) -> Result<(), ApiError> {
    let minute = state.now_ms() / 60_000;
    let mut rates = state.rates.lock().map_err(|_| ApiError::internal())?;
    let entry = rates.entry(key).or_insert((minute, 0));
    if entry.0 != minute {
        *entry = (minute, 0);
    }
    entry.1 += 1;
    if entry.1 > state.config.requests_per_minute {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests this minute; slow down",
        ));
    }
    Ok(())
}

/// Runs store work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|_| ApiError::internal())?
}

fn with_store<T>(state: &State, work: impl FnOnce(&mut Store) -> Result<T, ApiError>) -> Result<T, ApiError> {
    let mut store = state.store.lock().map_err(|_| ApiError::internal())?;
    work(&mut store)
}

/// A JSON body, after the caller is known: bad JSON is a 400 with our error shape.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("the body is not the JSON this route takes: {e}")))
}

fn ok(status: StatusCode, body: Json_) -> Answer {
    Ok((status, Json(body)).into_response())
}

async fn healthz() -> Json<Json_> {
    Json(json!({"status": "ok"}))
}

async fn metrics(Extract(state): Extract<Shared>) -> String {
    let m = &state.metrics;
    let line = |name: &str, help: &str, v: u64| format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n");
    [
        line("candor_requests_total", "Requests that reached a route.", m.requests.load(Ordering::Relaxed)),
        line("candor_scores_total", "Scores given.", m.scores.load(Ordering::Relaxed)),
        line("candor_refused_reads_total", "Score requests refused for want of consent.", m.refused_reads.load(Ordering::Relaxed)),
        line("candor_batches_total", "Batches applied.", m.batches.load(Ordering::Relaxed)),
        format!("# HELP candor_scoring_suspended 1 while the operator has stopped scoring.\n# TYPE candor_scoring_suspended gauge\ncandor_scoring_suspended {}\n", u8::from(state.suspended.load(Ordering::Relaxed))),
    ]
    .concat()
}

/// The OpenAPI 3 document, from [`ROUTES`].
pub fn openapi_document() -> Json_ {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let roles: Vec<String> = r.roles.iter().map(|role| format!("{role:?}").to_lowercase()).collect();
        let params: Vec<Json_> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let operation = json!({
            "summary": r.summary,
            "x-roles": roles,
            "parameters": params,
            "responses": {
                "200": {"description": "Done."},
                "400": {"description": "Bad input: {code, message, field?}."},
                "401": {"description": "No or unknown credentials."},
                "403": {"description": "Your role may not, or no consent."},
            },
        });
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method.to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Candor bureau API", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

async fn openapi() -> Json<Json_> {
    Json(openapi_document())
}

#[derive(Deserialize)]
struct BatchQuery {
    format: Option<String>,
    #[serde(default)]
    attest_notice: bool,
}

async fn batches(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Query(q): Query<BatchQuery>,
    body: Bytes,
) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::POST, "/v1/batches").await? else {
        return Err(ApiError::forbidden("submit batches"));
    };
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match (q.format.as_deref(), content_type) {
        (Some("jsonl"), _) | (None, "application/x-ndjson" | "application/jsonl") => candor_ingest::Format::JsonLines,
        (Some("csv"), _) | (None, "text/csv") => candor_ingest::Format::Csv,
        (Some("metro2"), _) | (None, "application/octet-stream") => candor_ingest::Format::Metro2,
        _ => {
            return Err(ApiError::bad_request(
                "unknown_format",
                "say ?format=jsonl|csv|metro2 or send a matching Content-Type",
            )
            .field("format"))
        }
    };
    let s = state.clone();
    let outcome = blocking(move || {
        let mut nonce = nonce;
        let mut ctx = candor_ingest::Context {
            keys: &s.keys,
            today: s.today(),
            nonce: &mut nonce,
            sender: Some(org.clone()),
            notice_attested: q.attest_notice,
        };
        let batch = candor_ingest::parse(&body, format, &mut ctx).map_err(|refused| {
            let list: Vec<String> = refused.errors.iter().map(|e| e.to_string()).collect();
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "batch_refused", list.join("; "))
        })?;
        if batch.sender.id != org.id {
            return Err(ApiError::forbidden("submit a batch in another organisation's name").field("sender"));
        }
        let now = s.now_ms();
        with_store(&s, |store| Ok(store.apply(&batch, now)?))
    })
    .await?;
    state.metrics.batches.fetch_add(1, Ordering::Relaxed);
    ok(
        if outcome.duplicate { StatusCode::OK } else { StatusCode::CREATED },
        json!({
            "batch_id": outcome.batch_id, "duplicate": outcome.duplicate, "reports": outcome.reports,
            "accounts": outcome.accounts, "quarantined": outcome.quarantined, "leaf": outcome.leaf,
        }),
    )
}

fn nonce() -> [u8; candor_file::secret::NONCE_BYTES] {
    let mut n = [0u8; candor_file::secret::NONCE_BYTES];
    getrandom::getrandom(&mut n).unwrap_or_else(|e| panic!("no randomness from the operating system: {e}"));
    n
}

#[derive(Deserialize)]
struct Credentials {
    scheme: String,
    number: String,
    passphrase: String,
}

fn identify(scheme: &str, number: &str) -> Result<NationalId, ApiError> {
    NationalId::parse_text(scheme, number)
        .map_err(|(field, e)| ApiError::bad_request("bad_identifier", e.to_string()).field(field))
}

/// Shortest passphrase accepted at enrolment.
const MIN_PASSPHRASE_CHARS: usize = 10;

async fn enrol(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    authorize(&state, &headers, Method::POST, "/v1/subjects").await?;
    let c: Credentials = parse_json(&body)?;
    let id = identify(&c.scheme, &c.number)?;
    if c.passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(ApiError::bad_request("weak_passphrase", format!("at least {MIN_PASSPHRASE_CHARS} characters"))
            .field("passphrase"));
    }
    let key = state.keys.subject_key(&id);
    let entry = SubjectEntry::of(key, &id);
    let s = state.clone();
    blocking(move || {
        let hash = crate::hash_passphrase(&c.passphrase)?;
        let now = s.now_ms();
        with_store(&s, |store| {
            store.enrol(&entry, Some(&hash), now)?;
            store.log_event(
                "enrolment",
                Some(&entry.key),
                &json!({"kind": "enrolment", "subject": entry.key.to_hex(), "recorded_ms": now}),
                now,
            )?;
            Ok(())
        })
    })
    .await?;
    ok(StatusCode::CREATED, json!({"enrolled": true, "masked": id.masked()}))
}

async fn sign_in(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    authorize(&state, &headers, Method::POST, "/v1/sessions").await?;
    let c: Credentials = parse_json(&body)?;
    let bad = || ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "unknown identifier or wrong passphrase");
    let key = state.keys.subject_key(&identify(&c.scheme, &c.number)?);
    let s = state.clone();
    let stored = blocking(move || with_store(&s, |store| Ok(store.enrolment(&key)?))).await?.ok_or_else(bad)?;
    let good = blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let parsed = PasswordHash::new(&stored).map_err(|_| ApiError::internal())?;
        Ok(argon2::Argon2::default().verify_password(c.passphrase.as_bytes(), &parsed).is_ok())
    })
    .await?;
    if !good {
        return Err(bad());
    }
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(|_| ApiError::internal())?;
    let token = format!("ses_{}", hex::encode(raw));
    let expires = state.now_ms() + state.config.session_minutes * 60_000;
    let mut sessions = state.sessions.lock().map_err(|_| ApiError::internal())?;
    // Expired sessions go as new ones come, so the table stays as small as the live ones.
    let now = state.now_ms();
    sessions.retain(|_, (_, until)| *until > now);
    sessions.insert(token_hash(&token), (key, expires));
    ok(StatusCode::OK, json!({"token": token, "expires_ms": expires}))
}

async fn freeze(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::PUT, "/v1/me/freeze").await?)?;
    set_freeze(&state, key, true).await
}

async fn lift_freeze(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::DELETE, "/v1/me/freeze").await?)?;
    set_freeze(&state, key, false).await
}

async fn set_freeze(state: &Shared, key: SubjectKey, placed: bool) -> Answer {
    let s = state.clone();
    blocking(move || {
        let now = s.now_ms();
        let kind = if placed { "freeze_placed" } else { "freeze_lifted" };
        with_store(&s, |store| {
            store.set_freeze(&key, placed, now)?;
            store.log_event(
                kind,
                Some(&key),
                &json!({"kind": kind, "subject": key.to_hex(), "recorded_ms": now}),
                now,
            )?;
            Ok(())
        })
    })
    .await?;
    ok(StatusCode::OK, json!({"frozen": placed}))
}

async fn withdraw(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::DELETE, "/v1/me/enrolment").await?)?;
    let s = state.clone();
    blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| {
            store.withdraw(&key, now)?;
            let body = json!({"kind": "withdrawal", "subject": key.to_hex(), "recorded_ms": now});
            store.log_event("withdrawal", Some(&key), &body, now)?;
            Ok(())
        })
    })
    .await?;
    state.sessions.lock().map_err(|_| ApiError::internal())?.retain(|_, (k, _)| *k != key);
    ok(StatusCode::OK, json!({"withdrawn": true}))
}

fn subject_of(caller: Caller) -> Result<SubjectKey, ApiError> {
    match caller {
        Caller::Subject(key) => Ok(key),
        _ => Err(ApiError::forbidden("read a person's own pages")),
    }
}

#[derive(Deserialize)]
struct AsOf {
    as_of: Option<String>,
}

fn file_json(file: &SubjectFile, disputed: &[String], statements: &[(String, String)]) -> Json_ {
    let accounts: Vec<Json_> = file
        .accounts
        .iter()
        .map(|h| {
            let is_disputed = disputed.iter().any(|r| r.split_whitespace().next() == Some(h.account.reference.as_str()));
            let statement = statements.iter().find(|(r, _)| r.split_whitespace().next() == Some(h.account.reference.as_str()));
            json!({
                "disputed": is_disputed,
                "statement": statement.map(|(_, t)| t),
                "furnisher": h.account.furnisher.as_str(), "account": h.account.reference, "kind": h.account.kind.as_str(),
                "opened": h.account.opened.to_string(), "currency": h.account.currency.as_str(),
                "reports": h.reports.iter().map(|r| json!({
                    "month": r.month.to_string(), "balance_minor": r.balance_minor, "limit_minor": r.limit_minor,
                    "paid_minor": r.paid_minor, "dpd": r.dpd.days(), "status": r.status.as_str(),
                    "delinquent_since": r.delinquent_since.map(|d| d.to_string()),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "accounts": accounts,
        "inquiries": file.inquiries.iter().map(|i| json!({"org": i.org.as_str(), "date": i.date.to_string(), "purpose": i.purpose.as_str()})).collect::<Vec<_>>(),
        "court_records": file.court_records.iter().map(|c| json!({
            "court": c.court.as_str(), "case": c.case_number, "amount_minor": c.amount_minor, "currency": c.currency.as_str(),
            "grounds": c.grounds, "listed": c.listed.to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// The subject's file as every report shows it (as known now, on `today`, without the records
/// disputes deleted, suppressed or blocked), and the references of the records it marks
/// disputed (those with a dispute not yet decided).
fn read_file(state: &State, key: SubjectKey, today: time::Date) -> Result<(SubjectFile, Vec<String>), ApiError> {
    with_store(state, |store| file_now(state, store, &key, today))
}

fn file_now(
    s: &State,
    store: &mut Store,
    key: &SubjectKey,
    today: time::Date,
) -> Result<(SubjectFile, Vec<String>), ApiError> {
    let now = s.now_ms();
    let read = FileRead { known_ms: now, today, retention: Retention::default() };
    let mut file = store.file(key, &read)?.ok_or_else(|| ApiError::not_found("file for this subject"))?;
    let all = store.disputes(key)?;
    disputes::withhold(&mut file, &all, now, s.config.dispute_days);
    let marked = all
        .into_iter()
        .filter(|d| disputes::is_pending(disputes::effective_state(d, now, s.config.dispute_days)))
        .map(|d| d.record_ref)
        .collect();
    Ok((file, marked))
}

async fn my_file(Extract(state): Extract<Shared>, headers: HeaderMap, Query(q): Query<AsOf>) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::GET, "/v1/me/file").await?)?;
    let today = match q.as_of {
        Some(d) => candor_file::model::parse_date(&d)
            .map_err(|e| ApiError::bad_request("bad_date", e.to_string()).field("as_of"))?,
        None => state.today(),
    };
    let s = state.clone();
    let (file, open, statements) = blocking(move || {
        let (file, open) = read_file(&s, key, today)?;
        let statements = with_store(&s, |store| Ok(store.statements(&key)?))?;
        Ok((file, open, statements))
    })
    .await?;
    ok(StatusCode::OK, file_json(&file, &open, &statements))
}

/// Scores a file with the deployed model: the answer (score, pd, reasons), the bins hit and the
/// features computed.
fn score_file(deployed: &Deployed, file: &SubjectFile, today: time::Date) -> Result<Scoring, ApiError> {
    let features = compute(file, today);
    let values: Vec<Value> = deployed
        .scorer
        .model()
        .characteristics
        .iter()
        .map(|c| match feature_index(&c.name).map(|i| features[i]) {
            Some(x) if x.is_finite() => Value::Number(x),
            _ => Value::Missing,
        })
        .collect();
    let (scored, bins) = deployed.scorer.score_values(&values).map_err(|_| ApiError::internal())?;
    let reasons: Vec<Json_> =
        deployed.scorer.reasons(&bins).iter().map(|r| json!({"code": r.code, "sentence": r.sentence})).collect();
    Ok((
        json!({"score": scored.score, "pd": scored.pd, "model_version": deployed.version, "reasons": reasons}),
        bins,
        features,
    ))
}

type Scoring = (Json_, Vec<usize>, [f64; candor_file::features::CATALOGUE.len()]);

fn deployed(state: &State) -> Result<Arc<Deployed>, ApiError> {
    state
        .model
        .lock()
        .map_err(|_| ApiError::internal())?
        .clone()
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_model", "no model is deployed yet"))
}

async fn my_score(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::GET, "/v1/me/score").await?)?;
    let deployed = deployed(&state)?;
    let s = state.clone();
    let today = state.today();
    let (file, _) = blocking(move || read_file(&s, key, today)).await?;
    let (mut body, bins, _) = score_file(&deployed, &file, today)?;
    let score = body["score"].as_i64().unwrap_or(0) as i32;
    let recourse = deployed.scorer.recourse(&bins, score + 40);
    body["recourse"] = json!({
        "target_score": recourse.target_score, "reachable": recourse.reachable, "new_score": recourse.new_score,
        "changes": recourse.changes.iter().map(|c| json!({"characteristic": c.characteristic, "from": c.from, "to": c.to, "points_gain": c.points_gain})).collect::<Vec<_>>(),
    });
    ok(StatusCode::OK, body)
}

async fn my_reads(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::GET, "/v1/me/reads").await?)?;
    let s = state.clone();
    let leaves = blocking(move || with_store(&s, |store| Ok(store.leaves_about(&key)?))).await?;
    let entries: Vec<Json_> = leaves
        .into_iter()
        .map(|(index, body)| {
            let mut entry = serde_json::from_str::<Json_>(&body).unwrap_or(Json_::Null);
            entry["leaf"] = json!(index);
            entry
        })
        .collect();
    ok(StatusCode::OK, json!({"entries": entries}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Grant {
    org: String,
    purpose: String,
    until: String,
}

fn consent_json(c: &Consent) -> Json_ {
    json!({"org": c.org.as_str(), "purpose": c.purpose.as_str(), "granted": c.granted.to_string(), "until": c.until.to_string(), "revoked": c.revoked.map(|d| d.to_string())})
}

async fn my_consents(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::GET, "/v1/me/consents").await?)?;
    let s = state.clone();
    let consents = blocking(move || with_store(&s, |store| Ok(store.consents(&key, i64::MAX)?))).await?;
    ok(StatusCode::OK, json!({"consents": consents.iter().map(consent_json).collect::<Vec<_>>()}))
}

fn record_consent(state: &Shared, key: SubjectKey, consent: Consent, kind: &'static str) -> Result<(), ApiError> {
    let now = state.now_ms();
    with_store(state, |store| {
        store.put_consent(&key, &consent, now)?;
        let mut body = consent_json(&consent);
        body["kind"] = json!(kind);
        body["subject"] = json!(key.to_hex());
        body["recorded_ms"] = json!(now);
        store.log_event(kind, Some(&key), &body, now)?;
        Ok(())
    })
}

async fn grant(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::POST, "/v1/me/consents").await?)?;
    let g: Grant = parse_json(&body)?;
    let org = OrgId::parse(&g.org).map_err(|e| ApiError::bad_request("bad_org", e.to_string()).field("org"))?;
    let purpose =
        Purpose::parse(&g.purpose).map_err(|e| ApiError::bad_request("bad_purpose", e.to_string()).field("purpose"))?;
    let until = candor_file::model::parse_date(&g.until)
        .map_err(|e| ApiError::bad_request("bad_date", e.to_string()).field("until"))?;
    let today = state.today();
    if until < today {
        return Err(ApiError::bad_request("bad_date", "a consent must last until today or later").field("until"));
    }
    let consent = Consent { org, purpose, granted: today, until, revoked: None };
    let s = state.clone();
    let body = consent_json(&consent);
    blocking(move || record_consent(&s, key, consent, "consent_granted")).await?;
    ok(StatusCode::CREATED, body)
}

async fn revoke(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Path((org, purpose)): Path<(String, String)>,
) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::DELETE, "/v1/me/consents/{org}/{purpose}").await?)?;
    let org = OrgId::parse(&org).map_err(|e| ApiError::bad_request("bad_org", e.to_string()).field("org"))?;
    let purpose =
        Purpose::parse(&purpose).map_err(|e| ApiError::bad_request("bad_purpose", e.to_string()).field("purpose"))?;
    let s = state.clone();
    let today = state.today();
    blocking(move || {
        let current = with_store(&s, |store| Ok(store.consents(&key, i64::MAX)?))?
            .into_iter()
            .find(|c| c.org == org && c.purpose == purpose)
            .ok_or_else(|| ApiError::not_found("consent"))?;
        record_consent(&s, key, Consent { revoked: Some(today), ..current }, "consent_revoked")
    })
    .await?;
    ok(StatusCode::OK, json!({"revoked": true}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadRequest {
    scheme: String,
    number: String,
    purpose: String,
    /// For a decision: the name of one of the caller's policies.
    #[serde(default)]
    policy: Option<String>,
}

async fn score(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    read_with_consent(state, headers, "/v1/scores", body).await
}

async fn decide_credit(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    read_with_consent(state, headers, "/v1/decisions", body).await
}

/// A score (`/v1/scores`) or a decision under a policy (`/v1/decisions`), with consent.
async fn read_with_consent(state: Shared, headers: HeaderMap, path: &'static str, body: Bytes) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::POST, path).await? else {
        return Err(ApiError::forbidden("read files"));
    };
    let req: ReadRequest = parse_json(&body)?;
    let deciding = path == "/v1/decisions";
    if deciding != req.policy.is_some() {
        let message =
            if deciding { "name the policy to decide under" } else { "scores take no policy; ask /v1/decisions" };
        return Err(ApiError::bad_request("bad_policy", message).field("policy"));
    }
    if state.suspended.load(Ordering::SeqCst) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "scoring_suspended",
            "the operator has suspended scoring",
        ));
    }
    let key = state.keys.subject_key(&identify(&req.scheme, &req.number)?);
    let purpose = Purpose::parse(&req.purpose)
        .map_err(|e| ApiError::bad_request("bad_purpose", e.to_string()).field("purpose"))?;
    let deployed = deployed(&state)?;
    let s = state.clone();
    let today = state.today();
    let (body, refused) = blocking(move || match &req.policy {
        None => consented(&s, &org, key, purpose, today, &deployed, None),
        Some(name) => {
            let text = with_store(&s, |store| Ok(store.policy(&org.id, name)?))?
                .ok_or_else(|| ApiError::not_found("policy of yours by that name").field("policy"))?;
            let policy: Policy = serde_json::from_str(&text).map_err(|_| ApiError::internal())?;
            consented(&s, &org, key, purpose, today, &deployed, Some((name, &policy)))
        }
    })
    .await?;
    if let Some(refusal) = refused {
        state.metrics.refused_reads.fetch_add(1, Ordering::Relaxed);
        return Err(refusal.error(&body["leaf"]));
    }
    state.metrics.scores.fetch_add(1, Ordering::Relaxed);
    ok(StatusCode::OK, body)
}

/// Why a read was refused (and logged as refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    NoConsent,
    Frozen,
}

impl Refusal {
    /// As the log records it.
    fn reason(self) -> &'static str {
        match self {
            Refusal::NoConsent => "no live consent",
            Refusal::Frozen => "file frozen",
        }
    }

    /// As the reader is told, with the log leaf that records the attempt.
    fn error(self, leaf: &Json_) -> ApiError {
        let (code, why) = match self {
            Refusal::NoConsent => ("consent_required", "the person has not consented to this purpose"),
            Refusal::Frozen => {
                ("file_frozen", "the person has frozen their file: nobody reads it until they lift the freeze")
            }
        };
        ApiError::new(StatusCode::FORBIDDEN, code, format!("{why}; the attempt is recorded (leaf {leaf})"))
    }
}

/// A lender's policy: score bands, each with the decision it gives.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub bands: Vec<Band>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub min_score: i32,
    /// `approve`, `waive_deposit`, `limit` or `decline`.
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_minor: Option<i64>,
}

/// Most bands a policy may have.
const MAX_BANDS: usize = 20;

impl Policy {
    fn check(&self) -> Result<(), ApiError> {
        let bad = |m: &str| Err(ApiError::bad_request("bad_policy", m.to_owned()).field("bands"));
        if self.bands.is_empty() || self.bands.len() > MAX_BANDS {
            return bad("a policy has 1 to 20 bands");
        }
        if self.bands.iter().map(|b| b.min_score).min().unwrap_or(i32::MAX) > 300 {
            return bad("the lowest band must start at 300 or below, so every score gets a decision");
        }
        for b in &self.bands {
            match (b.decision.as_str(), b.limit_minor) {
                ("approve" | "waive_deposit" | "decline", None) => {}
                ("limit", Some(l)) if l > 0 => {}
                _ => return bad("a decision is approve, waive_deposit, decline, or limit with a positive limit_minor"),
            }
        }
        Ok(())
    }

    /// The band for a score: the one with the highest threshold it meets.
    fn band(&self, score: i32) -> Option<&Band> {
        self.bands.iter().filter(|b| b.min_score <= score).max_by_key(|b| b.min_score)
    }
}

/// A read with the person's live consent for `purpose`: the score (and, under a policy, the
/// decision), logged as a read or a decision with the inputs and versions that replay it. Without
/// consent, or with the file frozen, the attempt is logged as a refused read, and the refusal says
/// why.
fn consented(
    s: &State,
    org: &Organisation,
    key: SubjectKey,
    purpose: Purpose,
    today: time::Date,
    deployed: &Deployed,
    policy: Option<(&str, &Policy)>,
) -> Result<(Json_, Option<Refusal>), ApiError> {
    let now = s.now_ms();
    // A live read uses every consent change recorded so far.
    let consents = with_store(s, |store| Ok(store.consents(&key, i64::MAX)?))?;
    let live = consents.iter().find(|c| c.org == org.id && c.purpose == purpose && c.is_live_on(today));
    let frozen = with_store(s, |store| Ok(store.is_frozen(&key)?))?;
    let consent = match live {
        Some(consent) if !frozen => consent,
        _ => {
            let refusal = if frozen { Refusal::Frozen } else { Refusal::NoConsent };
            let body = json!({"kind": "refused_read", "subject": key.to_hex(), "org": org.id.as_str(), "purpose": purpose.as_str(), "reason": refusal.reason(), "recorded_ms": now});
            let leaf = with_store(s, |store| Ok(store.log_event("refused_read", Some(&key), &body, now)?))?;
            return Ok((json!({"leaf": leaf}), Some(refusal)));
        }
    };
    let (file, marked) = read_file(s, key, today)?;
    let (mut answer, _, features) = score_file(deployed, &file, today)?;
    answer["disputed_records"] = json!(marked);
    let statements = with_store(s, |store| Ok(store.statements(&key)?))?;
    answer["statements"] =
        json!(statements.iter().map(|(r, t)| json!({"record_ref": r, "text": t})).collect::<Vec<_>>());
    let mut entry = json!({
        "kind": "read", "subject": key.to_hex(), "org": org.id.as_str(), "purpose": purpose.as_str(),
        "consent_until": consent.until.to_string(), "model_version": deployed.version,
        "score": answer["score"], "pd": answer["pd"],
        "reasons": answer["reasons"].as_array().map(|r| r.iter().map(|x| x["code"].clone()).collect::<Vec<_>>()),
        "recorded_ms": now,
    });
    if let Some((name, policy)) = policy {
        let score = answer["score"].as_i64().unwrap_or(0) as i32;
        let band = policy.band(score).ok_or_else(ApiError::internal)?;
        let text = serde_json::to_string(policy).map_err(|_| ApiError::internal())?;
        let version = hex::encode(Sha256::digest(text.as_bytes()));
        answer["decision"] = json!(band.decision);
        answer["limit_minor"] = json!(band.limit_minor);
        answer["policy"] = json!({"name": name, "version": version});
        if band.decision == "decline" {
            answer["adverse_action_reasons"] = answer["reasons"].clone();
        }
        entry["kind"] = json!("decision");
        entry["decision"] = answer["decision"].clone();
        entry["policy"] = answer["policy"].clone();
    }
    // The inputs that replay it exactly: every feature, as computed for the score.
    let inputs: serde_json::Map<String, Json_> = candor_file::features::CATALOGUE
        .iter()
        .zip(features)
        .map(|(f, v)| (f.name.to_owned(), if v.is_finite() { json!(v) } else { Json_::Null }))
        .collect();
    entry["inputs"] = Json_::Object(inputs);
    entry["as_of"] = json!(today.to_string());
    let kind = if policy.is_some() { "decision" } else { "read" };
    let leaf = with_store(s, |store| Ok(store.log_event(kind, Some(&key), &entry, now)?))?;
    answer["leaf"] = json!(leaf);
    Ok((answer, None))
}

async fn put_policy(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::PUT, "/v1/policies/{name}").await? else {
        return Err(ApiError::forbidden("define policies"));
    };
    let name = candor_file::model::parse_reference(&name)
        .map_err(|e| ApiError::bad_request("bad_name", e.to_string()).field("name"))?;
    let policy: Policy = parse_json(&body)?;
    policy.check()?;
    let text = serde_json::to_string(&policy).map_err(|_| ApiError::internal())?;
    let version = hex::encode(Sha256::digest(text.as_bytes()));
    let s = state.clone();
    blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| Ok(store.put_policy(&org.id, &name, &text, now)?))
    })
    .await?;
    ok(StatusCode::CREATED, json!({"version": version}))
}

async fn proof(Extract(state): Extract<Shared>, headers: HeaderMap, Path(index): Path<i64>) -> Answer {
    let caller = authorize(&state, &headers, Method::GET, "/v1/log/leaves/{index}/proof").await?;
    let s = state.clone();
    let body = blocking(move || {
        with_store(&s, |store| {
            if let Caller::Subject(key) = &caller {
                if !store.leaves_about(key)?.iter().any(|(i, _)| *i == index) {
                    return Err(ApiError::not_found("log entry about you"));
                }
            }
            let tree = synced_tree(&s, store)?;
            let size = tree.size();
            let i = u64::try_from(index).map_err(|_| ApiError::not_found("log entry"))?;
            let proof = tree.inclusion_proof(i, size).map_err(|_| ApiError::not_found("log entry"))?;
            let leaf = tree.leaf(i).ok_or_else(|| ApiError::not_found("log entry"))?;
            let body = store.log_leaf(index)?.unwrap_or_default();
            Ok(json!({
                "index": index, "size": size, "root": hex::encode(tree.root()), "leaf_hash": hex::encode(leaf),
                "body": body, "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
            }))
        })
    })
    .await?;
    ok(StatusCode::OK, body)
}

async fn suspend(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    authorize(&state, &headers, Method::POST, "/v1/operator/suspend").await?;
    state.suspended.store(true, Ordering::SeqCst);
    ok(StatusCode::OK, json!({"scoring": "suspended"}))
}

async fn resume(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    authorize(&state, &headers, Method::POST, "/v1/operator/resume").await?;
    state.suspended.store(false, Ordering::SeqCst);
    ok(StatusCode::OK, json!({"scoring": "running"}))
}

async fn deploy(Extract(state): Extract<Shared>, headers: HeaderMap, body: String) -> Answer {
    authorize(&state, &headers, Method::PUT, "/v1/operator/model").await?;
    let s = state.clone();
    let version = blocking(move || s.deploy_recorded(&body)).await?;
    ok(StatusCode::CREATED, json!({"model_version": version}))
}

async fn purge(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    authorize(&state, &headers, Method::POST, "/v1/operator/purge").await?;
    let s = state.clone();
    let today = state.today();
    let done = blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| Ok(store.purge(today, Retention::default(), now)?))
    })
    .await?;
    ok(
        StatusCode::OK,
        json!({"purge_id": done.purge_id, "reports_deleted": done.reports_deleted, "court_records_deleted": done.court_records_deleted}),
    )
}

/// Scores a logged read or decision again from what the log holds: its inputs, the model
/// version (kept in the store) and the policy version; says whether the answer is the same.
async fn replay(Extract(state): Extract<Shared>, headers: HeaderMap, Path(index): Path<i64>) -> Answer {
    authorize(&state, &headers, Method::GET, "/v1/log/leaves/{index}/replay").await?;
    let s = state.clone();
    let body = blocking(move || {
        with_store(&s, |store| {
            let text = store.log_leaf(index)?.ok_or_else(|| ApiError::not_found("log entry"))?;
            let leaf: Json_ = serde_json::from_str(&text).map_err(|_| ApiError::internal())?;
            if !matches!(leaf["kind"].as_str(), Some("read" | "decision")) || !leaf["inputs"].is_object() {
                return Err(ApiError::bad_request(
                    "not_replayable",
                    "that log entry is not a score or a decision with its inputs",
                ));
            }
            let version = leaf["model_version"].as_str().unwrap_or("");
            let document = store.model_document(version)?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "model_missing",
                    "the store does not hold the model version this entry names",
                )
            })?;
            let model: candor_scorecard::Model = serde_json::from_str(&document).map_err(|_| ApiError::internal())?;
            let scorer = candor_scorecard::Scorer::new(model).map_err(|_| ApiError::internal())?;
            let values: Vec<Value> = scorer
                .model()
                .characteristics
                .iter()
                .map(|c| leaf["inputs"][&c.name].as_f64().map_or(Value::Missing, Value::Number))
                .collect();
            let (scored, bins) = scorer.score_values(&values).map_err(|_| ApiError::internal())?;
            let reasons: Vec<String> = scorer.reasons(&bins).into_iter().map(|r| r.code).collect();
            let mut replayed = json!({"score": scored.score, "pd": scored.pd, "reasons": reasons});
            if let (Some(org), Some(name), Some(policy_version)) =
                (leaf["org"].as_str(), leaf["policy"]["name"].as_str(), leaf["policy"]["version"].as_str())
            {
                let org = OrgId::parse(org).map_err(|_| ApiError::internal())?;
                let body = store
                    .policy_versions(&org, name)?
                    .into_iter()
                    .map(|(_, body)| body)
                    .find(|body| hex::encode(Sha256::digest(body.as_bytes())) == policy_version)
                    .ok_or_else(|| {
                        ApiError::new(
                            StatusCode::CONFLICT,
                            "policy_missing",
                            "the store does not hold that policy version",
                        )
                    })?;
                let policy: Policy = serde_json::from_str(&body).map_err(|_| ApiError::internal())?;
                replayed["decision"] = json!(policy.band(scored.score).map(|b| b.decision.clone()));
            }
            let matches = replayed["score"] == leaf["score"]
                && replayed["pd"] == leaf["pd"]
                && replayed["reasons"] == leaf["reasons"]
                && (leaf["decision"].is_null() || replayed["decision"] == leaf["decision"]);
            Ok(json!({
                "leaf": index, "kind": leaf["kind"], "model_version": version,
                "logged": {"score": leaf["score"], "pd": leaf["pd"], "reasons": leaf["reasons"], "decision": leaf["decision"]},
                "replayed": replayed, "matches": matches,
            }))
        })
    })
    .await?;
    ok(StatusCode::OK, body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisputeRequest {
    /// `account`, `report`, `inquiry` or `court_record`.
    record_kind: String,
    /// Which: the account reference (and month), the case number, ...
    record_ref: String,
    /// The reference of an identity theft report (police or authority) the person filed: the
    /// record is then blocked at once, not only marked, until the ombudsman decides.
    #[serde(default)]
    identity_theft_report: Option<String>,
}

/// A dispute as its parties see it: where it stands now and when the furnisher's answer is due.
fn dispute_json(s: &State, d: &candor_file::model::Dispute) -> Json_ {
    let days = s.config.dispute_days;
    json!({
        "id": d.id, "record_kind": d.record_kind, "record_ref": d.record_ref,
        "state": disputes::effective_state(d, s.now_ms(), days).as_str(),
        "furnisher": d.furnisher.as_ref().map(OrgId::as_str),
        "opened_ms": d.opened_ms, "due_ms": disputes::due_ms(d.opened_ms, days),
    })
}

async fn my_disputes(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::GET, "/v1/me/disputes").await?)?;
    let s = state.clone();
    let list = blocking(move || with_store(&s, |store| Ok(store.disputes(&key)?))).await?;
    ok(StatusCode::OK, json!({"disputes": list.iter().map(|d| dispute_json(&state, d)).collect::<Vec<_>>()}))
}

async fn open_dispute(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::POST, "/v1/me/disputes").await?)?;
    let req: DisputeRequest = parse_json(&body)?;
    if !matches!(req.record_kind.as_str(), "account" | "report" | "inquiry" | "court_record") {
        return Err(ApiError::bad_request("bad_record_kind", "one of account, report, inquiry, court_record")
            .field("record_kind"));
    }
    let reference = candor_file::model::parse_reference(&req.record_ref)
        .map_err(|e| ApiError::bad_request("bad_record_ref", e.to_string()).field("record_ref"))?;
    let record = Record::parse(&req.record_kind, &reference)
        .map_err(|e| ApiError::bad_request("bad_record_ref", e).field("record_ref"))?;
    let theft_report =
        req.identity_theft_report.as_deref().map(candor_file::model::parse_reference).transpose().map_err(|e| {
            ApiError::bad_request("bad_identity_theft_report", e.to_string()).field("identity_theft_report")
        })?;
    let s = state.clone();
    let today = state.today();
    let dispute = blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| {
            // The record must be in the file as reports show it; its furnisher is asked to verify.
            let (file, _) = file_now(&s, store, &key, today)?;
            let furnisher = record.furnisher_in(&file).ok_or_else(|| {
                ApiError::not_found("record of that kind and reference in your file").field("record_ref")
            })?;
            let id = store.open_dispute(&key, &req.record_kind, &reference, Some(&furnisher), now)?;
            if theft_report.is_some() {
                store.dispute_step(id, DisputeState::Blocked, now)?;
            }
            let body = json!({
                "kind": "dispute_opened", "subject": key.to_hex(), "dispute": id, "record_kind": req.record_kind,
                "record_ref": reference, "furnisher_asked": furnisher.as_str(),
                "identity_theft_report": theft_report, "blocked": theft_report.is_some(), "recorded_ms": now,
            });
            store.log_event("dispute_opened", Some(&key), &body, now)?;
            if theft_report.is_some() {
                notify_recipients(&s, store, &key, id, DisputeState::Blocked.as_str(), now)?;
            }
            let list = store.disputes(&key)?;
            list.into_iter().find(|d| d.id == id).ok_or_else(ApiError::internal)
        })
    })
    .await?;
    ok(StatusCode::CREATED, dispute_json(&state, &dispute))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Statement {
    record_ref: String,
    text: String,
}

/// Longest statement a person may attach, in characters.
const MAX_STATEMENT_CHARS: usize = 1_000;

async fn attach_statement(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::POST, "/v1/me/statements").await?)?;
    let st: Statement = parse_json(&body)?;
    let reference = candor_file::model::parse_reference(&st.record_ref)
        .map_err(|e| ApiError::bad_request("bad_record_ref", e.to_string()).field("record_ref"))?;
    if st.text.chars().count() > MAX_STATEMENT_CHARS || st.text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad_request(
            "bad_statement",
            format!("at most {MAX_STATEMENT_CHARS} characters of text"),
        )
        .field("text"));
    }
    let s = state.clone();
    blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| {
            store.put_statement(&key, &reference, &st.text, now)?;
            let body = json!({"kind": "statement", "subject": key.to_hex(), "record_ref": reference, "withdrawn": st.text.is_empty(), "recorded_ms": now});
            store.log_event("statement", Some(&key), &body, now)?;
            Ok(())
        })
    })
    .await?;
    ok(StatusCode::CREATED, json!({"attached": true}))
}

async fn dispute_queue(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    authorize(&state, &headers, Method::GET, "/v1/disputes").await?;
    let s = state.clone();
    let queue = blocking(move || {
        sweep_overdue(&s)?;
        with_store(&s, |store| Ok(store.open_disputes()?))
    })
    .await?;
    ok(StatusCode::OK, json!({"disputes": queue.iter().map(|(d, _)| dispute_json(&state, d)).collect::<Vec<_>>()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    /// `verified`, `corrected` or `deleted`.
    outcome: String,
}

async fn decide(Extract(state): Extract<Shared>, headers: HeaderMap, Path(id): Path<i64>, body: Bytes) -> Answer {
    let Caller::Org(reviewer, _) = authorize(&state, &headers, Method::POST, "/v1/disputes/{id}/decision").await?
    else {
        return Err(ApiError::forbidden("decide disputes"));
    };
    let decision: Decision = parse_json(&body)?;
    let outcome = DisputeState::parse(&decision.outcome).map_err(|_| {
        ApiError::bad_request("bad_outcome", "verified, corrected or deleted; upheld or overridden for a review")
            .field("outcome")
    })?;
    let s = state.clone();
    blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| {
            let (dispute, owner) = store
                .open_disputes()?
                .into_iter()
                .find(|(d, _)| d.id == id)
                .ok_or_else(|| ApiError::not_found("open dispute"))?;
            let allowed = if dispute.record_kind == "decision" {
                matches!(outcome, DisputeState::Upheld | DisputeState::Overridden)
            } else {
                matches!(outcome, DisputeState::Verified | DisputeState::Corrected | DisputeState::Deleted)
            };
            if !allowed {
                return Err(ApiError::bad_request("bad_outcome", "verified, corrected or deleted; upheld or overridden for a review").field("outcome"));
            }
            if outcome == DisputeState::Corrected {
                require_correction(&s, store, &owner, &dispute)?;
            }
            store.dispute_step(id, outcome, now)?;
            let body = json!({
                "kind": "dispute_decided", "subject": owner.to_hex(), "dispute": id, "record_kind": dispute.record_kind,
                "record_ref": dispute.record_ref, "outcome": outcome.as_str(), "reviewer": reviewer.id.as_str(), "recorded_ms": now,
            });
            store.log_event("dispute_decided", Some(&owner), &body, now)?;
            if matches!(outcome, DisputeState::Corrected | DisputeState::Deleted | DisputeState::Overridden) {
                notify_recipients(&s, store, &owner, id, outcome.as_str(), now)?;
            }
            Ok(())
        })
    })
    .await?;
    ok(StatusCode::OK, json!({"id": id, "state": outcome.as_str()}))
}

/// A `corrected` outcome stands only if the record changed since the dispute opened: the
/// furnisher sent the corrected record (a newer version) in a batch.
fn require_correction(
    s: &State,
    store: &mut Store,
    owner: &SubjectKey,
    dispute: &candor_file::model::Dispute,
) -> Result<(), ApiError> {
    let record = Record::parse(&dispute.record_kind, &dispute.record_ref).map_err(|_| ApiError::internal())?;
    let today = s.today();
    let then = FileRead { known_ms: dispute.opened_ms, today, retention: Retention::default() };
    let now = FileRead { known_ms: s.now_ms(), today, retention: Retention::default() };
    let before = store.file(owner, &then)?.and_then(|f| record.content_in(&f));
    let after = store.file(owner, &now)?.and_then(|f| record.content_in(&f));
    if before == after {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_correction",
            "the record has not changed since the dispute opened: send the corrected record in a batch first, or answer verified (deleted, for the ombudsman)",
        )
        .field("outcome"));
    }
    Ok(())
}

/// Records the suppression of every disputed record whose furnisher has not answered by the
/// deadline, logs it and tells the organisations that read the file. (Reads leave such records
/// out from the deadline on whether or not this has run; this puts it on the record.)
pub fn sweep_overdue(s: &State) -> Result<usize, ApiError> {
    let now = s.now_ms();
    with_store(s, |store| {
        let mut n = 0;
        for (d, owner) in store.open_disputes()? {
            if disputes::effective_state(&d, now, s.config.dispute_days) != DisputeState::Suppressed {
                continue;
            }
            store.dispute_step(d.id, DisputeState::Suppressed, now)?;
            let body = json!({
                "kind": "dispute_suppressed", "subject": owner.to_hex(), "dispute": d.id, "record_kind": d.record_kind,
                "record_ref": d.record_ref, "furnisher": d.furnisher.as_ref().map(OrgId::as_str),
                "reason": "not verified by the deadline", "recorded_ms": now,
            });
            store.log_event("dispute_suppressed", Some(&owner), &body, now)?;
            notify_recipients(s, store, &owner, d.id, DisputeState::Suppressed.as_str(), now)?;
            n += 1;
        }
        Ok(n)
    })
}

async fn verifications(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::GET, "/v1/verifications").await? else {
        return Err(ApiError::forbidden("verify records"));
    };
    let s = state.clone();
    let queue = blocking(move || with_store(&s, |store| Ok(store.open_disputes()?))).await?;
    let now = state.now_ms();
    let mine: Vec<Json_> = queue
        .iter()
        .filter(|(d, _)| d.furnisher.as_ref() == Some(&org.id))
        .filter(|(d, _)| {
            matches!(
                disputes::effective_state(d, now, state.config.dispute_days),
                DisputeState::FurnisherAsked | DisputeState::Blocked
            )
        })
        .map(|(d, _)| dispute_json(&state, d))
        .collect();
    ok(StatusCode::OK, json!({"disputes": mine}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Verification {
    /// `verified` or `corrected`.
    outcome: String,
}

async fn verify(Extract(state): Extract<Shared>, headers: HeaderMap, Path(id): Path<i64>, body: Bytes) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::POST, "/v1/verifications/{id}").await? else {
        return Err(ApiError::forbidden("verify records"));
    };
    let answer: Verification = parse_json(&body)?;
    let step = match answer.outcome.as_str() {
        "verified" => DisputeState::FurnisherVerified,
        "corrected" => DisputeState::FurnisherCorrected,
        _ => return Err(ApiError::bad_request("bad_outcome", "verified or corrected").field("outcome")),
    };
    let s = state.clone();
    let state_now = blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| {
            // Another furnisher's dispute is as absent as a missing one.
            let (dispute, owner) = store
                .open_disputes()?
                .into_iter()
                .find(|(d, _)| d.id == id && d.furnisher.as_ref() == Some(&org.id))
                .ok_or_else(|| ApiError::not_found("dispute of a record of yours"))?;
            match disputes::effective_state(&dispute, now, s.config.dispute_days) {
                DisputeState::FurnisherAsked => {}
                DisputeState::Blocked => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "blocked",
                        "the person reported this record as identity theft and it is blocked; the ombudsman decides",
                    ))
                }
                DisputeState::Suppressed => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "too_late",
                        "the deadline has passed and the record is suppressed; the ombudsman decides from here",
                    ))
                }
                _ => {
                    return Err(ApiError::new(StatusCode::CONFLICT, "already_answered", "this dispute has your answer"))
                }
            }
            if step == DisputeState::FurnisherCorrected {
                require_correction(&s, store, &owner, &dispute)?;
            }
            store.dispute_step(id, step, now)?;
            let body = json!({
                "kind": "dispute_answered", "subject": owner.to_hex(), "dispute": id, "record_ref": dispute.record_ref,
                "furnisher": org.id.as_str(), "answer": step.as_str(), "recorded_ms": now,
            });
            store.log_event("dispute_answered", Some(&owner), &body, now)?;
            Ok(step)
        })
    })
    .await?;
    ok(StatusCode::OK, json!({"id": id, "state": state_now.as_str()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewRequest {
    /// The log leaf of the decision.
    leaf: i64,
}

async fn request_review(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::POST, "/v1/me/reviews").await?)?;
    let req: ReviewRequest = parse_json(&body)?;
    let s = state.clone();
    let dispute = blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| {
            let about_me = store.leaves_about(&key)?;
            let (_, body) = about_me.iter().find(|(i, _)| *i == req.leaf).ok_or_else(|| ApiError::not_found("decision about you").field("leaf"))?;
            let leaf: Json_ = serde_json::from_str(body).map_err(|_| ApiError::internal())?;
            if leaf["kind"] != "decision" {
                return Err(ApiError::bad_request("not_a_decision", "that log entry is not a decision").field("leaf"));
            }
            let reference = format!("leaf {}", req.leaf);
            let id = store.open_dispute(&key, "decision", &reference, None, now)?;
            let entry = json!({"kind": "review_requested", "subject": key.to_hex(), "dispute": id, "decision_leaf": req.leaf, "org": leaf["org"], "recorded_ms": now});
            store.log_event("review_requested", Some(&key), &entry, now)?;
            store.disputes(&key)?.into_iter().find(|d| d.id == id).ok_or_else(ApiError::internal)
        })
    })
    .await?;
    ok(StatusCode::CREATED, dispute_json(&state, &dispute))
}

/// The log's tree, brought up to date with the leaves logged since it was last read.
fn synced_tree<'a>(s: &'a State, store: &mut Store) -> Result<std::sync::MutexGuard<'a, candor_log::Tree>, ApiError> {
    let mut tree = s.tree.lock().map_err(|_| ApiError::internal())?;
    store.extend_log_tree(&mut tree)?;
    Ok(tree)
}

/// The log's name in its checkpoints.
pub const LOG_ORIGIN: &str = "candor.local/log";

async fn checkpoint(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    authorize(&state, &headers, Method::GET, "/v1/log/checkpoint").await?;
    if state.log_signer.is_none() {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_log_key", "this server has no checkpoint key"));
    }
    let s = state.clone();
    let text = blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| {
            let tree = synced_tree(&s, store)?;
            let checkpoint = candor_log::Checkpoint {
                origin: LOG_ORIGIN.into(),
                size: tree.size(),
                root: tree.root(),
                timestamp_ms: now,
            };
            let mut signed = candor_log::SignedCheckpoint { checkpoint, signatures: vec![] };
            if let Some(signer) = &s.log_signer {
                signed.sign(signer);
            }
            let text = signed.to_text();
            store.put_checkpoint(signed.checkpoint.size, now, &text)?;
            Ok(text)
        })
    })
    .await?;
    text_answer(text)
}

/// A signed note, as plain text.
fn text_answer(text: String) -> Answer {
    Ok((StatusCode::OK, [("content-type", "text/plain; charset=utf-8")], text).into_response())
}

#[derive(Deserialize)]
struct Sizes {
    from: u64,
    to: u64,
}

async fn consistency(Extract(state): Extract<Shared>, headers: HeaderMap, Query(q): Query<Sizes>) -> Answer {
    authorize(&state, &headers, Method::GET, "/v1/log/consistency").await?;
    let s = state.clone();
    let proof = blocking(move || {
        with_store(&s, |store| {
            let tree = synced_tree(&s, store)?;
            tree.consistency_proof(q.from, q.to).map_err(|e| ApiError::bad_request("bad_sizes", e.to_string()))
        })
    })
    .await?;
    ok(StatusCode::OK, json!({"from": q.from, "to": q.to, "proof": proof.iter().map(hex::encode).collect::<Vec<_>>()}))
}

/// How far back a correction reaches: every organisation that received a report on the person
/// in this window is told.
const NOTIFY_WINDOW_MS: i64 = 183 * 86_400_000;

/// Tells every organisation that read the person's file in the last 6 months of a correction,
/// with the score the file gives now.
fn notify_recipients(
    s: &State,
    store: &mut Store,
    owner: &SubjectKey,
    dispute: i64,
    outcome: &str,
    now: i64,
) -> Result<(), ApiError> {
    let mut recipients: Vec<String> = Vec::new();
    for (_, body) in store.leaves_about(owner)? {
        let leaf: Json_ = serde_json::from_str(&body).unwrap_or(Json_::Null);
        let recent = leaf["recorded_ms"].as_i64().is_some_and(|t| t >= now - NOTIFY_WINDOW_MS);
        if recent && matches!(leaf["kind"].as_str(), Some("read" | "decision")) {
            if let Some(org) = leaf["org"].as_str() {
                if !recipients.iter().any(|r| r == org) {
                    recipients.push(org.to_owned());
                }
            }
        }
    }
    let today = s.today();
    let rescored = match s.model.lock().map_err(|_| ApiError::internal())?.clone() {
        Some(deployed) => match file_now(s, store, owner, today) {
            Ok((file, _)) => Some(score_file(&deployed, &file, today)?.0["score"].clone()),
            Err(_) => None,
        },
        None => None,
    };
    for org in recipients {
        let body = json!({
            "kind": "notification", "subject": owner.to_hex(), "org": org, "dispute": dispute,
            "outcome": outcome, "new_score": rescored, "recorded_ms": now,
        });
        store.log_event("notification", Some(owner), &body, now)?;
    }
    Ok(())
}

async fn notifications(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::GET, "/v1/notifications").await? else {
        return Err(ApiError::forbidden("read notifications"));
    };
    let s = state.clone();
    let list = blocking(move || with_store(&s, |store| Ok(store.leaves_of_kind("notification")?))).await?;
    let mine: Vec<Json_> = list
        .into_iter()
        .filter_map(|(index, body)| {
            let mut leaf: Json_ = serde_json::from_str(&body).ok()?;
            (leaf["org"] == org.id.as_str()).then(|| {
                leaf["leaf"] = json!(index);
                leaf
            })
        })
        .collect();
    ok(StatusCode::OK, json!({"notifications": mine}))
}

async fn batch_result(Extract(state): Extract<Shared>, headers: HeaderMap, Path(id): Path<i64>) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::GET, "/v1/batches/{id}").await? else {
        return Err(ApiError::forbidden("read batches"));
    };
    let s = state.clone();
    let body = blocking(move || {
        with_store(&s, |store| {
            // Another organisation's batch is as absent as a missing one.
            let b = store
                .batch(id)?
                .filter(|b| b.furnisher == org.id.as_str())
                .ok_or_else(|| ApiError::not_found("batch of yours"))?;
            let held: Vec<Json_> = store
                .quarantine(id)?
                .into_iter()
                .map(|(record, rule, message)| json!({"record": record, "rule": rule, "message": message}))
                .collect();
            Ok(json!({
                "batch_id": id, "sender": b.furnisher, "format": b.format, "records": b.records, "applied": b.applied,
                "quarantined": b.quarantined, "held_back": held, "recorded_ms": b.recorded_ms,
            }))
        })
    })
    .await?;
    ok(StatusCode::OK, body)
}

#[cfg(test)]
mod tests {
    use super::ROUTES;

    /// Every route the router serves is in `ROUTES` (so it has roles, is in the OpenAPI document
    /// and in the route × role test), read from this file's own `.route(...)` calls.
    #[test]
    fn the_router_serves_exactly_the_routes_in_the_table() {
        let source = include_str!("routes.rs");
        let mut served = Vec::new();
        for part in source.split(".route(\"").skip(1) {
            let Some((path, rest)) = part.split_once('"') else { continue };
            let methods = rest.split(')').next().unwrap_or("");
            for (name, method) in [("get(", "GET"), ("post(", "POST"), ("put(", "PUT"), ("delete(", "DELETE")] {
                if methods.contains(name) || rest.starts_with(&format!(", {name}")) {
                    served.push((method, path.to_owned()));
                }
            }
        }
        // Chained methods: `.route(path, get(a).post(b))`.
        for part in source.split(".route(\"").skip(1) {
            let Some((path, rest)) = part.split_once('"') else { continue };
            let line = rest.lines().next().unwrap_or("");
            for (name, method) in [(".post(", "POST"), (".delete(", "DELETE"), (".put(", "PUT")] {
                if line.contains(name) && !served.contains(&(method, path.to_owned())) {
                    served.push((method, path.to_owned()));
                }
            }
        }
        assert!(served.len() > 10, "found only {served:?}");
        for (method, path) in &served {
            assert!(
                ROUTES.iter().any(|r| r.method == *method && r.path == path),
                "{method} {path} is served but not in ROUTES"
            );
        }
        assert_eq!(served.len(), ROUTES.len(), "served {served:?}");
    }
}

/// Most perks one service point may list.
const MAX_PERKS: usize = 10;
/// Longest perk description, in characters.
const MAX_PERK_CHARS: usize = 200;

/// A service point as a merchant registers it.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct PointBody {
    lat: f64,
    lon: f64,
    perks: Vec<PerkBody>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct PerkBody {
    min_score: i32,
    deposit_waived: bool,
    description: String,
}

impl PointBody {
    fn check(&self) -> Result<candor_perks::Place, ApiError> {
        let place = candor_perks::Place::new(self.lat, self.lon).map_err(|e| {
            let field = if matches!(e, candor_perks::PlaceError::Latitude) { "lat" } else { "lon" };
            ApiError::bad_request("bad_place", e.to_string()).field(field)
        })?;
        let bad = |m: String| Err(ApiError::bad_request("bad_perks", m).field("perks"));
        if self.perks.is_empty() || self.perks.len() > MAX_PERKS {
            return bad(format!("a point lists 1 to {MAX_PERKS} perks"));
        }
        for p in &self.perks {
            if !(300..=900).contains(&p.min_score) {
                return bad("min_score is a score from 300 to 900".into());
            }
            if p.description.trim().is_empty()
                || p.description.chars().count() > MAX_PERK_CHARS
                || p.description.chars().any(char::is_control)
            {
                return bad(format!("a description is 1 to {MAX_PERK_CHARS} characters of text"));
            }
        }
        Ok(place)
    }
}

/// The perks map the service answers from: the spatial index, and each point's owner and name.
pub struct PerksMap {
    index: candor_perks::PerksIndex,
    names: Vec<(String, String)>,
}

fn perks_map(s: &State) -> Result<Arc<PerksMap>, ApiError> {
    if let Some(map) = s.perks.lock().map_err(|_| ApiError::internal())?.clone() {
        return Ok(map);
    }
    let rows = with_store(s, |store| Ok(store.service_points()?))?;
    let mut points = Vec::with_capacity(rows.len());
    let mut names = Vec::with_capacity(rows.len());
    for (org, point, body) in rows {
        let b: PointBody = serde_json::from_str(&body).map_err(|_| ApiError::internal())?;
        let place = b.check().map_err(|_| ApiError::internal())?;
        let perks = b
            .perks
            .into_iter()
            .map(|p| candor_perks::Perk {
                min_score: p.min_score,
                deposit_waived: p.deposit_waived,
                description: p.description,
            })
            .collect();
        points.push(candor_perks::ServicePoint { id: names.len() as u64, merchant: org.clone(), place, perks });
        names.push((org, point));
    }
    let map = Arc::new(PerksMap { index: candor_perks::PerksIndex::new(points), names });
    *s.perks.lock().map_err(|_| ApiError::internal())? = Some(map.clone());
    Ok(map)
}

/// Records a service point's new body (empty: removed) and drops the built map.
fn store_point(state: &Shared, org: OrgId, point: String, body: String) -> Result<(), ApiError> {
    let now = state.now_ms();
    with_store(state, |store| Ok(store.put_service_point(&org, &point, &body, now)?))?;
    *state.perks.lock().map_err(|_| ApiError::internal())? = None;
    Ok(())
}

fn point_name(point: &str) -> Result<String, ApiError> {
    candor_file::model::parse_reference(point)
        .map_err(|e| ApiError::bad_request("bad_point", e.to_string()).field("point"))
}

async fn put_point(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Path(point): Path<String>,
    body: Bytes,
) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::PUT, "/v1/perks/points/{point}").await? else {
        return Err(ApiError::forbidden("register service points"));
    };
    let point = point_name(&point)?;
    let b: PointBody = parse_json(&body)?;
    b.check()?;
    let text = serde_json::to_string(&b).map_err(|_| ApiError::internal())?;
    let s = state.clone();
    blocking(move || store_point(&s, org.id, point, text)).await?;
    ok(StatusCode::CREATED, json!({"registered": true}))
}

async fn remove_point(Extract(state): Extract<Shared>, headers: HeaderMap, Path(point): Path<String>) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::DELETE, "/v1/perks/points/{point}").await? else {
        return Err(ApiError::forbidden("remove service points"));
    };
    let point = point_name(&point)?;
    let s = state.clone();
    blocking(move || {
        let exists = perks_map(&s)?.names.iter().any(|(o, p)| o == org.id.as_str() && *p == point);
        if !exists {
            return Err(ApiError::not_found("service point of yours"));
        }
        store_point(&s, org.id, point, String::new())
    })
    .await?;
    ok(StatusCode::OK, json!({"removed": true}))
}

/// The place a person asks about: only ever an argument, never stored or logged.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PerksQuery {
    lat: f64,
    lon: f64,
    #[serde(default)]
    radius_m: Option<f64>,
}

async fn my_perks(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let key = subject_of(authorize(&state, &headers, Method::POST, "/v1/me/perks").await?)?;
    let q: PerksQuery = parse_json(&body)?;
    let place =
        candor_perks::Place::new(q.lat, q.lon).map_err(|e| ApiError::bad_request("bad_place", e.to_string()))?;
    let radius = q.radius_m.unwrap_or(candor_perks::DEFAULT_RADIUS_M);
    let deployed = deployed(&state)?;
    let s = state.clone();
    let today = state.today();
    let ((file, _), map) = blocking(move || Ok((read_file(&s, key, today)?, perks_map(&s)?))).await?;
    let score = score_file(&deployed, &file, today)?.0["score"].as_i64().unwrap_or(0) as i32;
    let found = map
        .index
        .serving(&place, radius, score)
        .map_err(|e| ApiError::bad_request("bad_radius", e.to_string()).field("radius_m"))?;
    let points: Vec<Json_> = found
        .iter()
        .map(|n| {
            let (org, point) = &map.names[n.point.id as usize];
            // Rounded to 10 m: enough to walk there, no finer than the question needs.
            json!({"merchant": org, "point": point, "distance_m": (n.distance_m / 10.0).round() * 10.0, "perk": n.perk.description})
        })
        .collect();
    ok(StatusCode::OK, json!({"score": score, "radius_m": radius, "points": points}))
}

#[derive(Deserialize)]
struct StatsQuery {
    k: Option<u64>,
}

async fn regional_statistics(
    Extract(state): Extract<Shared>,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> Answer {
    authorize(&state, &headers, Method::GET, "/v1/statistics/regions").await?;
    // A caller may ask for coarser cells, never finer ones.
    let k = q.k.unwrap_or(candor_file::stats::DEFAULT_K).max(candor_file::stats::DEFAULT_K);
    let s = state.clone();
    let today = state.today();
    let table = blocking(move || {
        let (regions, max, all) =
            with_store(&s, |store| Ok((store.regions()?, store.max_subject_id()?, store.all_disputes()?)))?;
        // Records disputes deleted, suppressed or blocked count here no more than in reports.
        let mut disputed: std::collections::HashMap<SubjectKey, Vec<candor_file::model::Dispute>> =
            std::collections::HashMap::new();
        for (d, key) in all {
            disputed.entry(key).or_default().push(d);
        }
        let late = feature_index("worst_dpd_12m").ok_or_else(ApiError::internal)?;
        let mut people: Vec<(Option<&str>, bool)> = Vec::with_capacity(regions.len());
        let read = FileRead { known_ms: s.now_ms(), today, retention: Retention::default() };
        // A chunk of subjects at a time, letting the store go between chunks, so the scan does
        // not hold up the requests meanwhile.
        for lo in (1..=max).step_by(candor_store::SUBJECTS_PER_CHUNK as usize) {
            let hi = lo + candor_store::SUBJECTS_PER_CHUNK - 1;
            for (key, mut file) in with_store(&s, |store| Ok(store.files_in_range(lo, hi, &read)?))? {
                if let Some(list) = disputed.get(&key) {
                    disputes::withhold(&mut file, list, read.known_ms, s.config.dispute_days);
                }
                let flag = compute(&file, today)[late] >= 30.0;
                people.push((regions.get(&key).and_then(|r| r.as_deref()), flag));
            }
        }
        Ok(candor_file::stats::by_region(people, k))
    })
    .await?;
    ok(
        StatusCode::OK,
        json!({
            "k": table.k, "measure": "share of people 30 or more days late in the last 12 months",
            "regions": table.cells.iter().map(|c| json!({"region": c.region, "people": c.people, "rate": c.rate})).collect::<Vec<_>>(),
            "suppressed_cells": table.suppressed_cells, "suppressed_people": table.suppressed_people,
        }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessKey {
    name: String,
    /// 64 hex characters.
    public_key: String,
}

async fn put_witness_key(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::PUT, "/v1/log/witness-key").await? else {
        return Err(ApiError::forbidden("register witness keys"));
    };
    let k: WitnessKey = parse_json(&body)?;
    let verifier = candor_log::Verifier::from_hex(&k.name, &k.public_key).map_err(|e| {
        let field = if e == candor_log::CheckpointError::BadName { "name" } else { "public_key" };
        ApiError::bad_request("bad_witness_key", e.to_string()).field(field)
    })?;
    if verifier.name == LOG_ORIGIN {
        return Err(
            ApiError::bad_request("bad_witness_key", "a witness signs under its own name, not the log's").field("name")
        );
    }
    let s = state.clone();
    blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| Ok(store.put_witness_key(&org.id, &verifier.name, &verifier.to_hex(), now)?))
    })
    .await?;
    ok(StatusCode::CREATED, json!({"registered": true}))
}

/// Keeps a checkpoint the ombudsman countersigned: it must be the bureau's, of this log's
/// history, and carry a valid signature by the ombudsman's registered key.
async fn cosign(Extract(state): Extract<Shared>, headers: HeaderMap, body: Bytes) -> Answer {
    let Caller::Org(org, _) = authorize(&state, &headers, Method::POST, "/v1/log/cosignatures").await? else {
        return Err(ApiError::forbidden("countersign checkpoints"));
    };
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("bad_checkpoint", "the body is a signed note in UTF-8"))?
        .to_owned();
    let signed = candor_log::SignedCheckpoint::parse(&text)
        .map_err(|e| ApiError::bad_request("bad_checkpoint", e.to_string()))?;
    let bureau = state
        .log_signer
        .as_ref()
        .ok_or_else(|| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_log_key", "this server has no checkpoint key")
        })?
        .verifier();
    if signed.checkpoint.origin != LOG_ORIGIN || signed.check(&bureau).is_err() {
        return Err(ApiError::bad_request("not_our_checkpoint", "the note carries no valid signature of this log"));
    }
    let s = state.clone();
    let size = signed.checkpoint.size;
    blocking(move || {
        let now = s.now_ms();
        with_store(&s, |store| {
            let (name, key) = store.witness_key(&org.id)?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "no_witness_key",
                    "register your witness key first (PUT /v1/log/witness-key)",
                )
            })?;
            let witness = candor_log::Verifier::from_hex(&name, &key).map_err(|_| ApiError::internal())?;
            if signed.check(&witness).is_err() {
                return Err(ApiError::bad_request(
                    "not_cosigned",
                    format!("the note carries no valid signature by `{name}`"),
                ));
            }
            let tree = synced_tree(&s, store)?;
            if tree.root_at(size).ok() != Some(signed.checkpoint.root) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "not_in_history",
                    "the log has no such root at that size",
                ));
            }
            store.put_cosignature(size, &org.id, &text, now)?;
            Ok(())
        })
    })
    .await?;
    ok(StatusCode::CREATED, json!({"size": size}))
}

async fn cosigned(Extract(state): Extract<Shared>, headers: HeaderMap) -> Answer {
    authorize(&state, &headers, Method::GET, "/v1/log/cosigned").await?;
    let s = state.clone();
    let text = blocking(move || with_store(&s, |store| Ok(store.latest_cosigned()?)))
        .await?
        .ok_or_else(|| ApiError::not_found("countersigned checkpoint"))?;
    text_answer(text)
}
