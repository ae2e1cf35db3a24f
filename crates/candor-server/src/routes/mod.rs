//! The route table — every route, who may call it, what it does and which handler serves it —
//! and the router built from it. Authentication and the role check run as middleware before any
//! path, query or body is read; handlers then parse, call the bureau and convert.

mod batches;
mod disputes;
mod enrolment;
mod log;
mod me;
mod operator;
mod perks;
mod reads;
mod statistics;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State as Extract};
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use candor_file::ids::SubjectKey;
use candor_file::model::Organisation;
use candor_store::Store;
use sha2::{Digest, Sha256};

use crate::{roles_of, ApiError, State};

pub use log::LOG_ORIGIN;
pub use perks::PerksMap;

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

pub(crate) type Shared = Arc<State>;
pub(crate) type Answer = Result<Response, ApiError>;

/// The schema of a wire type, from its type (schemars), for the OpenAPI document.
pub type SchemaOf = fn(&mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema;

/// What a route takes as its body.
#[derive(Clone, Copy)]
pub enum RequestBody {
    None,
    /// JSON of this wire type.
    Json(SchemaOf),
    /// Text in one of these media types (a submission, a signed note, a model document).
    Text(&'static [&'static str]),
}

/// One route: its method and path, who may call it, what it does, its handler, and the wire
/// types of its body and query.
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub roles: &'static [Role],
    pub summary: &'static str,
    handler: fn(MethodFilter) -> MethodRouter<Shared>,
    pub body: RequestBody,
    pub query: Option<SchemaOf>,
}

const fn route(
    method: &'static str,
    path: &'static str,
    roles: &'static [Role],
    summary: &'static str,
    handler: fn(MethodFilter) -> MethodRouter<Shared>,
) -> RouteSpec {
    RouteSpec { method, path, roles, summary, handler, body: RequestBody::None, query: None }
}

impl RouteSpec {
    const fn json(mut self, schema: SchemaOf) -> RouteSpec {
        self.body = RequestBody::Json(schema);
        self
    }

    const fn text(mut self, media: &'static [&'static str]) -> RouteSpec {
        self.body = RequestBody::Text(media);
        self
    }

    const fn query(mut self, schema: SchemaOf) -> RouteSpec {
        self.query = Some(schema);
        self
    }
}

/// The schema of `T`, for the table.
fn schema<T: schemars::JsonSchema>(g: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
    g.subschema_for::<T>()
}

/// A list's page, as its query.
const PAGE: SchemaOf = schema::<PageQuery>;

use Role::*;

/// Every route, who may call it, what it does and what serves it: the one list the router, the
/// OpenAPI document and the authorisation test come from.
pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/healthz", &[Anyone], "Liveness.", |m| on(m, operator::healthz)),
    route("GET", "/metrics", &[Anyone], "Prometheus metrics (counts only).", |m| on(m, operator::metrics)),
    route("GET", "/openapi.json", &[Anyone], "This API, as OpenAPI 3.", |m| on(m, operator::openapi)),
    route(
        "POST",
        "/v1/batches",
        &[Furnisher, Court],
        "Submit a batch (JSON Lines, CSV or Metro 2); applied whole or refused whole.",
        |m| on(m, batches::submit),
    ).query(schema::<batches::BatchQuery>).text(&["application/x-ndjson", "text/csv", "application/octet-stream"]),
    route(
        "GET",
        "/v1/batches/{id}",
        &[Furnisher, Court],
        "One of your batches: what was applied and what was held back, and why.",
        |m| on(m, batches::result),
    ),
    route(
        "POST",
        "/v1/subjects",
        &[Anyone],
        "Enrol: opt in with a national identifier and a passphrase.",
        |m| on(m, enrolment::enrol),
    ).json(schema::<enrolment::Credentials>),
    route(
        "POST",
        "/v1/sessions",
        &[Anyone],
        "Sign in as an enrolled subject; returns an expiring session token.",
        |m| on(m, enrolment::sign_in),
    ).json(schema::<enrolment::Credentials>),
    route(
        "DELETE",
        "/v1/me/enrolment",
        &[Subject],
        "Withdraw: your passphrase is forgotten and every session of yours ends (the file furnishers send stays, as the law has it).",
        |m| on(m, enrolment::withdraw),
    ),
    route(
        "PUT",
        "/v1/me/freeze",
        &[Subject],
        "Freeze your file: every score and decision request is refused, consent or not, until you lift it.",
        |m| on(m, me::freeze),
    ),
    route("DELETE", "/v1/me/freeze", &[Subject], "Lift the freeze on your file, at once.", |m| on(m, me::lift_freeze)),
    route("GET", "/v1/me/file", &[Subject], "Your file, as of a date (`?as_of=YYYY-MM-DD`).", |m| on(m, me::file)).query(schema::<me::AsOf>),
    route("GET", "/v1/me/score", &[Subject], "Your score with its reasons and what would raise it.", |m| {
        on(m, me::score)
    }),
    route(
        "GET",
        "/v1/me/reads",
        &[Subject],
        "Every read of your file, refused read and consent change, from the log.",
        |m| on(m, me::reads),
    ).query(PAGE),
    route("GET", "/v1/me/consents", &[Subject], "Your consents.", |m| on(m, me::consents)).query(PAGE),
    route("POST", "/v1/me/consents", &[Subject], "Grant an organisation a purpose until a date.", |m| {
        on(m, me::grant)
    }).json(schema::<me::Grant>),
    route("DELETE", "/v1/me/consents/{org}/{purpose}", &[Subject], "Revoke a consent.", |m| on(m, me::revoke)),
    route("GET", "/v1/me/disputes", &[Subject], "Your disputes and where each stands.", |m| {
        on(m, disputes::mine)
    }).query(PAGE),
    route(
        "POST",
        "/v1/me/disputes",
        &[Subject],
        "Dispute a record of your file; it is marked disputed at once (blocked at once, with `identity_theft_report`).",
        |m| on(m, disputes::open),
    ).json(schema::<disputes::DisputeRequest>),
    route(
        "POST",
        "/v1/me/statements",
        &[Subject],
        "Attach your statement to a record; it is shown with the record in every report.",
        |m| on(m, me::attach_statement),
    ).json(schema::<me::Statement>),
    route(
        "POST",
        "/v1/me/reviews",
        &[Subject],
        "Ask for human review of a decision made on your score (by its log leaf).",
        |m| on(m, disputes::request_review),
    ).json(schema::<disputes::ReviewRequest>),
    route(
        "GET",
        "/v1/verifications",
        &[Furnisher, Court],
        "Disputes of records you furnished, waiting for you to verify or correct them, with their deadlines.",
        |m| on(m, disputes::verifications),
    ).query(PAGE),
    route(
        "POST",
        "/v1/verifications/{id}",
        &[Furnisher, Court],
        "Answer a dispute of your record: verified as accurate, or corrected (send the corrected record in a batch first).",
        |m| on(m, disputes::verify),
    ).json(schema::<disputes::Outcome>),
    route(
        "GET",
        "/v1/disputes",
        &[Ombudsman],
        "The queue: every dispute and review not yet decided, by due date, the overdue marked.",
        |m| on(m, disputes::queue),
    ).query(PAGE),
    route(
        "POST",
        "/v1/disputes/{id}/decision",
        &[Ombudsman],
        "Decide a dispute (verified, corrected, deleted) or a review (upheld, overridden).",
        |m| on(m, disputes::decide),
    ).json(schema::<disputes::Outcome>),
    route(
        "GET",
        "/v1/notifications",
        &[Lender],
        "Corrections to files you received reports from in the last 6 months, re-scored.",
        |m| on(m, reads::notifications),
    ).query(PAGE),
    route(
        "POST",
        "/v1/scores",
        &[Lender],
        "A score with reasons, for a purpose the person consented to.",
        |m| on(m, reads::score),
    ).json(schema::<reads::ReadRequest>),
    route(
        "PUT",
        "/v1/policies/{name}",
        &[Lender],
        "Define (a new version of) a decision policy: score bands and their decisions, covering the deployed model's scale.",
        |m| on(m, reads::put_policy),
    ).json(schema::<reads::PolicyBody>),
    route(
        "POST",
        "/v1/decisions",
        &[Lender],
        "A decision under one of your policies, with consent; a decline carries its adverse-action reasons.",
        |m| on(m, reads::decide),
    ).json(schema::<reads::ReadRequest>),
    route(
        "GET",
        "/v1/log/leaves/{index}/proof",
        &[Subject, Auditor, Ombudsman],
        "An inclusion proof for a log entry (a subject: only entries about them).",
        |m| on(m, log::proof),
    ),
    route(
        "GET",
        "/v1/log/checkpoint",
        &[Anyone],
        "The log's size and root now, signed by the bureau (a signed note).",
        |m| on(m, log::checkpoint),
    ),
    route(
        "GET",
        "/v1/log/consistency",
        &[Anyone],
        "A proof that the log at `?from=` leaves is a prefix of the log at `?to=`.",
        |m| on(m, log::consistency),
    ).query(schema::<log::Sizes>),
    route(
        "PUT",
        "/v1/perks/points/{point}",
        &[Lender],
        "Register (or move, or change the perks of) one of your service points: a place and a perk per score band.",
        |m| on(m, perks::put_point),
    ).json(schema::<perks::PointBody>),
    route("DELETE", "/v1/perks/points/{point}", &[Lender], "Remove one of your service points.", |m| {
        on(m, perks::remove_point)
    }),
    route(
        "POST",
        "/v1/me/perks",
        &[Subject],
        "Service points within a radius (default 500 m) of a place you name that would serve you without a deposit; the place is neither stored nor logged.",
        |m| on(m, perks::mine),
    ).json(schema::<perks::PerksQuery>),
    route(
        "GET",
        "/v1/statistics/regions",
        &[Lender, Auditor, Operator],
        "People and the share 30+ days late in the last 12 months, by region, only for regions of at least k people (`?k=`, never below 20).",
        |m| on(m, statistics::regions),
    ).query(schema::<statistics::StatsQuery>),
    route(
        "PUT",
        "/v1/log/witness-key",
        &[Ombudsman],
        "Register your witness key (a name and an Ed25519 public key) for countersigning checkpoints.",
        |m| on(m, log::put_witness_key),
    ).json(schema::<log::WitnessKey>),
    route(
        "POST",
        "/v1/log/cosignatures",
        &[Ombudsman],
        "Hand back a bureau checkpoint you countersigned as a witness (the signed note with your signature added).",
        |m| on(m, log::cosign),
    ).text(&["text/plain"]),
    route(
        "GET",
        "/v1/log/cosigned",
        &[Anyone],
        "The largest checkpoint a witness countersigned: the note with the bureau's and the witness's signatures.",
        |m| on(m, log::cosigned),
    ),
    route("POST", "/v1/operator/suspend", &[Operator], "Stop all scoring at once.", |m| on(m, operator::suspend)),
    route("POST", "/v1/operator/resume", &[Operator], "Resume scoring.", |m| on(m, operator::resume)),
    route(
        "PUT",
        "/v1/operator/model",
        &[Operator],
        "Deploy a model document from `candor fit` as a new version (earlier versions stay, for replay); refused unless its characteristics are the file's features and every policy covers its scale.",
        |m| on(m, operator::deploy),
    ).text(&["application/json"]),
    route(
        "POST",
        "/v1/operator/purge",
        &[Operator],
        "Run the retention purge now: delete what retention hides, keeping its hashes and a log leaf.",
        |m| on(m, operator::purge),
    ),
    route(
        "GET",
        "/v1/log/leaves/{index}/replay",
        &[Ombudsman, Auditor],
        "Score a logged read or decision again from its logged inputs, model version and policy version; says whether it matches.",
        |m| on(m, log::replay),
    ),
];

fn method_filter(method: &str) -> MethodFilter {
    match method {
        "GET" => MethodFilter::GET,
        "POST" => MethodFilter::POST,
        "PUT" => MethodFilter::PUT,
        "DELETE" => MethodFilter::DELETE,
        other => unreachable!("the route table names only GET, POST, PUT and DELETE, not {other}"),
    }
}

/// The router, from [`ROUTES`]: each route's handler behind the check of its roles.
pub fn app(state: Shared) -> Router {
    let limit = state.config.max_body_bytes;
    let mut router = Router::new();
    for spec in ROUTES {
        let guarded = (spec.handler)(method_filter(spec.method))
            .route_layer(from_fn_with_state((state.clone(), spec), authenticate));
        router = router.route(spec.path, guarded);
    }
    router.layer(from_fn(access_log)).layer(DefaultBodyLimit::max(limit)).with_state(state)
}

/// One log line per request: method, path and status, and nothing else — no query string, no
/// header, no body, so no identifier, name, key or token can reach the log.
async fn access_log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    response
}

/// The authenticated caller, as handlers receive it.
#[derive(Clone)]
pub enum Caller {
    Anonymous,
    Subject(SubjectKey),
    Org(Organisation, Vec<Role>),
}

impl Caller {
    /// The subject, on a route only subjects call (the role check has run).
    pub fn subject(&self) -> Result<SubjectKey, ApiError> {
        match self {
            Caller::Subject(key) => Ok(*key),
            _ => Err(ApiError::forbidden("read a person's own pages")),
        }
    }

    /// The organisation, on a route only organisations call.
    pub fn org(&self, what: &str) -> Result<&Organisation, ApiError> {
        match self {
            Caller::Org(org, _) => Ok(org),
            _ => Err(ApiError::forbidden(what)),
        }
    }
}

pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Checks credentials, the route's roles and the caller's rate, before the handler reads
/// anything of the request; hands the handler the [`Caller`].
async fn authenticate(
    Extract((state, spec)): Extract<(Shared, &'static RouteSpec)>,
    mut req: Request,
    next: Next,
) -> Response {
    match caller(&state, spec, req.headers()).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn caller(state: &Shared, spec: &RouteSpec, headers: &axum::http::HeaderMap) -> Result<Caller, ApiError> {
    state.metrics.requests.fetch_add(1, Ordering::Relaxed);
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
            let org = with_store(state, move |_, store| Ok(store.organisation_by_key(&hash)?))
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

/// Runs store work on a blocking thread, on a connection of the pool.
pub(crate) async fn with_store<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&State, &mut Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || {
        let mut store = s.store.lock().map_err(|_| ApiError::internal())?;
        work(&s, &mut store)
    })
    .await
    .map_err(|_| ApiError::internal())?
}

/// Query parameters, read after the caller is known; a bad one is a 400 in our error shape.
pub(crate) struct Params<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(t)| Params(t))
            .map_err(|e| ApiError::bad_request("bad_query", e.body_text()))
    }
}

/// Path parameters, read after the caller is known; a bad one is a 400 in our error shape.
pub(crate) struct Key<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S> for Key<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(t)| Key(t))
            .map_err(|e| ApiError::bad_request("bad_path", e.body_text()))
    }
}

/// Which page of a list (`?after=KEY&limit=N`).
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    after: Option<i64>,
    limit: Option<u32>,
}

impl PageQuery {
    pub(crate) fn page(&self) -> Result<candor_bureau::Page, ApiError> {
        Ok(candor_bureau::Page::new(self.after, self.limit)?)
    }
}

/// A page of a list under `name`, with the key to ask the next page after.
pub(crate) fn paged<T>(name: &str, page: &candor_bureau::Paged<T>, item: impl Fn(&T) -> serde_json::Value) -> Answer {
    let mut body = serde_json::Map::new();
    body.insert(name.to_owned(), serde_json::Value::Array(page.items.iter().map(item).collect()));
    body.insert("next".to_owned(), serde_json::json!(page.next));
    ok(StatusCode::OK, serde_json::Value::Object(body))
}

/// A JSON body, after the caller is known: bad JSON is a 400 with our error shape.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("the body is not the JSON this route takes: {e}")))
}

pub(crate) fn ok(status: StatusCode, body: serde_json::Value) -> Answer {
    Ok((status, Json(body)).into_response())
}

/// A deployed model, or `no_model`.
pub(crate) fn deployed(state: &State) -> Result<Arc<candor_bureau::Deployed>, ApiError> {
    state.deployed()?.ok_or_else(|| ApiError::from(candor_bureau::BureauError::NoModel))
}

/// A national identifier from a request's scheme and number.
pub(crate) fn identify(scheme: &str, number: &str) -> Result<candor_file::ids::NationalId, ApiError> {
    candor_file::ids::NationalId::parse_text(scheme, number)
        .map_err(|(field, e)| ApiError::bad_request("bad_identifier", e.to_string()).field(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (method, path) appears once in the table, so the router serves each exactly once.
    #[test]
    fn every_route_is_in_the_table_once() {
        let mut seen = std::collections::BTreeSet::new();
        for r in ROUTES {
            assert!(seen.insert((r.method, r.path)), "{} {} twice", r.method, r.path);
            assert!(!r.roles.is_empty(), "{} {} says nobody may call it", r.method, r.path);
        }
    }
}
