//! The route table — every route, who may call it, what it does and which handler serves it —
//! and the router built from it. Authentication and the role check run as middleware before any
//! path, query or body is read; handlers then parse, call the bureau and convert.

mod batches;
pub(crate) mod disputes;
pub(crate) mod enrolment;
mod log;
pub(crate) mod me;
mod operator;
mod perks;
mod reads;
mod statistics;
mod table;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State as Extract};
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::{Json, Router};
use candor_file::ids::SubjectKey;
use candor_file::model::Organisation;
use candor_store::Store;
use sha2::{Digest, Sha256};

use crate::{roles_of, ApiError, State};

pub use log::LOG_ORIGIN;
pub use operator::openapi_document;
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

/// What a route answers with when it succeeds.
#[derive(Clone, Copy)]
pub enum ResponseBody {
    /// Nothing said yet: the table's test refuses a route left so.
    Unsaid,
    /// JSON of this wire type.
    Json(SchemaOf),
    /// Text of this media type (metrics, a signed note).
    Text(&'static str),
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
    /// The statuses it answers with on success, and its body then.
    pub answers: &'static [u16],
    pub response: ResponseBody,
}

const fn route(
    method: &'static str,
    path: &'static str,
    roles: &'static [Role],
    summary: &'static str,
    handler: fn(MethodFilter) -> MethodRouter<Shared>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        roles,
        summary,
        handler,
        body: RequestBody::None,
        query: None,
        answers: &[],
        response: ResponseBody::Unsaid,
    }
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

    const fn answers(mut self, statuses: &'static [u16], schema: SchemaOf) -> RouteSpec {
        self.answers = statuses;
        self.response = ResponseBody::Json(schema);
        self
    }

    const fn answers_text(mut self, statuses: &'static [u16], media: &'static str) -> RouteSpec {
        self.answers = statuses;
        self.response = ResponseBody::Text(media);
        self
    }
}

pub use table::ROUTES;

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
        let mut guarded = (spec.handler)(method_filter(spec.method))
            .route_layer(from_fn_with_state((state.clone(), spec), authenticate));
        if spec.roles.contains(&Role::Anyone) {
            // What a stranger may send is small: an enrolment, a sign-in.
            guarded = guarded.layer(DefaultBodyLimit::max(ANONYMOUS_BODY_BYTES.min(limit)));
        }
        router = router.route(spec.path, guarded);
    }
    router
        .merge(crate::pages::router(state.clone()))
        .fallback(crate::pages::not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "the route does not take this method")
        })
        .layer(from_fn(access_log))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Largest body a route anyone may call reads.
pub const ANONYMOUS_BODY_BYTES: usize = 16 << 10;

/// One log line per request: method, route and status, and nothing else — the route as the
/// table names it (`/v1/batches/{id}`), never the path asked, no query string, no header, no
/// body, so no identifier, name, key or token can reach the log.
async fn access_log(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |m| m.as_str().to_owned());
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
            let org = with_reader(state, move |_, store| Ok(store.organisation_by_key(&hash)?))
                .await?
                .ok_or_else(ApiError::unauthenticated)?;
            let roles = roles_of(&org);
            Caller::Org(org, roles)
        }
    };
    if let Some(t) = token {
        rate(state, token_hash(t))?;
    }
    if spec.roles.contains(&Role::Anyone) {
        return Ok(caller);
    }
    let allowed = match &caller {
        Caller::Anonymous => return Err(ApiError::unauthenticated()),
        Caller::Subject(_) => spec.roles.contains(&Role::Subject),
        Caller::Org(_, roles) => roles.iter().any(|r| spec.roles.contains(r)),
    };
    if allowed {
        Ok(caller)
    } else {
        Err(ApiError::forbidden(&format!("call {} {}", spec.method, spec.path)))
    }
}

/// How many callers' rates are remembered before those of earlier minutes are forgotten.
const RATES_PRUNED_AT: usize = 10_000;

pub(crate) fn rate(state: &Shared, key: [u8; 32]) -> Result<(), ApiError> {
    let minute = state.now_ms() / 60_000;
    let mut rates = state.rates.lock().map_err(|_| ApiError::internal())?;
    // Callers of earlier minutes are forgotten once many are remembered (a session token is
    // a new caller each sign-in), so the table stays as large as one minute's callers.
    if rates.len() >= RATES_PRUNED_AT && !rates.contains_key(&key) {
        rates.retain(|_, (m, _)| *m == minute);
    }
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
    on_store(state, false, work).await
}

/// [`with_store`] for work that only reads: on a reader of the pool where it has them (whose
/// connections refuse writes). A reader free this instant (SQLite's, in the same process) runs
/// the work where the request is, sparing two thread hand-offs that cost more than such a read;
/// without one (PostgreSQL, whose reads wait on the network, or every reader busy) it goes to a
/// blocking thread.
pub(crate) async fn with_reader<T: Send + 'static>(
    state: &Shared,
    work: impl FnOnce(&State, &mut Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    if let Some(mut store) = state.store.try_read() {
        let work = std::panic::AssertUnwindSafe(|| work(state, &mut store));
        return std::panic::catch_unwind(work).unwrap_or_else(|_| Err(ApiError::internal()));
    }
    on_store(state, true, work).await
}

async fn on_store<T: Send + 'static>(
    state: &Shared,
    reading: bool,
    work: impl FnOnce(&State, &mut Store) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let s = state.clone();
    tokio::task::spawn_blocking(move || {
        let store = if reading { s.store.read() } else { s.store.lock() };
        let mut store = store.map_err(|_| ApiError::internal())?;
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

/// The body, read after the caller is known; one over the limit is a 413 in our error shape.
pub(crate) struct Body(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state).await.map(Body).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the body is larger than the server accepts")
            } else {
                ApiError::bad_request("bad_body", e.body_text())
            }
        })
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

/// A JSON body, after the caller is known: bad JSON is a 400 with our error shape.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("the body is not the JSON this route takes: {e}")))
}

/// A success, with its wire type as JSON.
pub(crate) fn ok<T: serde::Serialize>(status: StatusCode, body: T) -> Answer {
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
            assert!(
                !r.answers.is_empty() && !matches!(r.response, ResponseBody::Unsaid),
                "{} {} does not say what it answers with",
                r.method,
                r.path
            );
        }
    }
}
