//! The person's portal: server-rendered pages over the same bureau functions as the JSON API,
//! in Chinese and English, every action a plain form that works with JavaScript off.
//!
//! What holds on every page: a strict `Content-Security-Policy` (`default-src 'self'`, no inline
//! script or style), no caching, no referrer; the session in a `__Host-` cookie that is `Secure`,
//! `HttpOnly` and `SameSite=Strict`; every form carries a token tied to the session (or, before
//! signing in, to a cookie of its own) and a cross-site `Sec-Fetch-Site` is refused; a page of
//! a person's own is served only after the session is checked, before its query or body is
//! read; no national identifier is shown in full or put in a URL.

mod console;
mod disputes;
mod me;
mod person;
mod proof;
mod security;
pub mod text;
mod views;

use axum::extract::{DefaultBodyLimit, Request, State as Extract};
use axum::http::header::{HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use candor_file::ids::SubjectKey;
use sha2::{Digest, Sha256};

use crate::routes::{token_hash, Shared};
use crate::ApiError;
use text::{Lang, Text};

/// The session cookie: a `__Host-` cookie, so no other host or path can set or read it.
pub const SESSION_COOKIE: &str = "__Host-candor-session";
/// Before signing in, the cookie a form's token must match (a double-submit token).
pub const FORM_COOKIE: &str = "__Host-candor-form";
/// The language the person chose with the switch.
pub const LANG_COOKIE: &str = "__Host-candor-lang";

/// Largest form body a page reads.
pub const PAGE_BODY_BYTES: usize = 16 << 10;

/// What every page answers with besides its body.
const CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// The pages, each behind the checks its kind needs: the person's own behind their session.
pub(crate) fn router(state: Shared) -> Router<Shared> {
    let own = Router::new()
        .route("/me", get(me::overview))
        .route("/me/file", get(me::file))
        .route("/me/file.json", get(me::download))
        .route("/me/copy", get(me::copy))
        .route("/me/score", get(me::score))
        .route("/me/reads", get(me::reads))
        .route("/me/alerts", get(me::alerts))
        .route("/me/reads/{leaf}", get(proof::entry))
        .route("/me/consents", get(me::consents).post(me::grant))
        .route("/me/consents/revoke", post(me::revoke))
        .route("/me/freeze", post(me::freeze))
        .route("/me/security", get(security::show).post(security::change))
        .route("/me/statements", post(security::statement))
        .route(
            "/me/disputes",
            get(disputes::list).post(disputes::open).layer(DefaultBodyLimit::max(disputes::DISPUTE_BODY_BYTES)),
        )
        .route("/me/disputes/{id}", get(disputes::one))
        .route("/me/disputes/{id}/evidence", get(disputes::evidence))
        .route("/me/reviews", post(disputes::review))
        .route("/sign-out", post(person::sign_out))
        .route_layer(from_fn_with_state(state.clone(), require_person));
    let console = Router::new()
        .route("/console", get(console::queue))
        .route("/console/disputes/{id}", get(console::case))
        .route("/console/disputes/{id}/decide", post(console::decide))
        .route("/console/disputes/{id}/evidence", get(console::evidence))
        .route("/console/witness", get(console::witness).post(console::cosign))
        .route("/console/sign-out", post(console::sign_out))
        .route_layer(from_fn_with_state(state.clone(), console::require_staff));
    Router::new()
        .route("/", get(person::home))
        .route("/console/sign-in", get(console::sign_in_page).post(console::sign_in))
        .route("/console/setup", get(console::setup_page).post(console::setup))
        .route("/static/portal.css", get(stylesheet))
        .route("/lang/{tag}", get(switch_language))
        .route("/sign-in", get(person::sign_in_page).post(person::sign_in))
        .route("/enrol", get(person::enrol_page).post(person::enrol))
        .route("/enrol/questions", post(person::ask))
        .route("/enrol/answers", post(person::answer))
        .merge(own)
        .merge(console)
        .layer(from_fn(refuse_cross_site))
        .layer(from_fn(page_headers))
        .layer(DefaultBodyLimit::max(PAGE_BODY_BYTES))
}

/// An address nothing answers: a page in the person's language for a browser asking for HTML,
/// the API's JSON error otherwise.
pub(crate) async fn not_found(headers: HeaderMap) -> Response {
    let html = headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    if !html {
        return ApiError::not_found("route").into_response();
    }
    let t = Text::new(language(&headers));
    let mut page = views::problem(t, StatusCode::NOT_FOUND, &t.get("error-not_found"));
    page.headers_mut().insert("content-security-policy", HeaderValue::from_static(CSP));
    page.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    page
}

/// Whether the page was likely reached over plain HTTP from another machine, where browsers
/// refuse the `Secure` session cookie (they accept it only over HTTPS and on this machine).
pub(crate) fn cookie_refused_here(headers: &HeaderMap) -> bool {
    let https = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("");
    let name = if host.starts_with('[') {
        host.split(']').next().unwrap_or(host)
    } else {
        host.split(':').next().unwrap_or(host)
    };
    let local = matches!(name, "localhost" | "127.0.0.1" | "[::1") || name.starts_with("127.");
    !https && !local && !host.is_empty()
}

/// The headers every page and its stylesheet carry.
async fn page_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.entry("cache-control").or_insert(HeaderValue::from_static("no-store"));
    response
}

/// A form sent from another site is refused before anything reads it (browsers say where a
/// request comes from in `Sec-Fetch-Site`; the form token covers those that do not).
async fn refuse_cross_site(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let site = req.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if site.is_some_and(|s| s != "same-origin" && s != "none") {
            let t = Text::new(language(req.headers()));
            return views::problem(t, StatusCode::FORBIDDEN, &t.get("error-cross-site"));
        }
    }
    next.run(req).await
}

/// The stylesheet: the one file the pages load, served from the binary.
async fn stylesheet() -> Response {
    (
        [
            ("content-type", HeaderValue::from_static("text/css; charset=utf-8")),
            ("cache-control", HeaderValue::from_static("public, max-age=3600")),
        ],
        include_str!("../../static/portal.css"),
    )
        .into_response()
}

/// The pages a language switch may send the person back to: its own paths, nothing else.
const RETURNABLE: &[&str] = &["/", "/sign-in", "/enrol", "/me", "/me/file", "/me/score", "/me/reads", "/me/consents"];

#[derive(serde::Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the language the person chose and sends them back to the page they were on.
async fn switch_language(axum::extract::Path(tag): axum::extract::Path<String>, req: Request) -> Response {
    let back = req
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Back>(q).ok())
        .and_then(|b| b.back)
        .and_then(|b| RETURNABLE.iter().find(|p| **p == b).copied())
        .unwrap_or("/");
    let Some(lang) = Lang::parse(&tag).filter(|l| l.tag() == tag) else {
        let t = Text::new(language(req.headers()));
        return views::problem(t, StatusCode::NOT_FOUND, &t.get("error-no-such-language"));
    };
    let cookie = format!("{LANG_COOKIE}={}; Path=/; Secure; SameSite=Lax; Max-Age=31536000", lang.tag());
    see_other_with(back, &cookie)
}

/// A cookie's value from the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

/// The language of a request: the person's choice, else their browser's, else English.
pub(crate) fn language(headers: &HeaderMap) -> Lang {
    if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
        return lang;
    }
    headers.get("accept-language").and_then(|v| v.to_str().ok()).map_or(Lang::En, Lang::negotiate)
}

/// The person a page of their own is for, as the session check found them.
#[derive(Clone)]
pub(crate) struct Person {
    pub key: SubjectKey,
    /// The token forms must carry: derived from the session, so another session's is no use.
    pub csrf: String,
    /// The session token's hash, to end it.
    pub session: [u8; 32],
}

/// The form token of a session (or of the pre-sign-in cookie).
fn form_token(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"candor form token\0");
    h.update(secret.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Whether two tokens are equal, in time that does not depend on where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Checks the session cookie before the page reads anything of the request; without a live
/// session the person is sent to sign in.
async fn require_person(Extract(state): Extract<Shared>, mut req: Request, next: Next) -> Response {
    match person(&state, req.headers()) {
        Ok(Some(person)) => {
            req.extensions_mut().insert(person);
            next.run(req).await
        }
        Ok(None) => Redirect::to("/sign-in").into_response(),
        Err(e) => {
            let t = Text::new(language(req.headers()));
            views::error(t, &e)
        }
    }
}

/// The person whose live session the request's cookie holds, if any; counts the request against
/// the session's rate.
fn person(state: &Shared, headers: &HeaderMap) -> Result<Option<Person>, ApiError> {
    let Some(token) = cookie(headers, SESSION_COOKIE).filter(|t| t.starts_with("ses_")) else {
        return Ok(None);
    };
    let hash = token_hash(token);
    let now = state.now_ms();
    let key = match state.sessions.lock().map_err(|_| ApiError::internal())?.get(&hash) {
        Some((key, expires)) if *expires > now => *key,
        _ => return Ok(None),
    };
    crate::routes::rate(state, hash)?;
    Ok(Some(Person { key, csrf: form_token(token), session: hash }))
}

/// A form of a page behind a session: it carries the session's form token as `csrf`.
pub(crate) trait Signed: serde::de::DeserializeOwned {
    fn token(&self) -> &str;
}

/// Declares forms whose `csrf` field is their token.
macro_rules! signed {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::pages::Signed for $form {
            fn token(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use signed;

/// A form of a page behind a session: parsed (a malformed one is a clear 400), then its token
/// held to the session's (`expected`); another session's or none is `form_expired`.
pub(crate) fn signed_form<T: Signed>(expected: &str, body: &[u8]) -> Result<T, ApiError> {
    let form: T = parse_form(body)?;
    check_token(expected, form.token())?;
    Ok(form)
}

/// A form sent before signing in: parsed, then its token held to this browser's form cookie.
pub(crate) fn stranger_form<T: Signed>(headers: &HeaderMap, body: &[u8]) -> Result<T, ApiError> {
    let form: T = parse_form(body)?;
    check_stranger_form(headers, form.token())?;
    Ok(form)
}

/// Whether a form's token is the session's (`expected`).
pub(crate) fn check_token(expected: &str, sent: &str) -> Result<(), ApiError> {
    if same_token(expected, sent) {
        Ok(())
    } else {
        Err(form_expired())
    }
}

fn form_expired() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "form_expired", "the form is out of date; open the page again and resend it")
}

/// A form body, parsed after the caller is checked; a malformed one is a clear 400.
pub(crate) fn parse_form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::bad_request("bad_form", format!("the form's fields are not what this page takes: {e}")))
}

/// Whether a form's passphrase and its repetition are the same (a mistyped new passphrase would
/// lock its owner out).
pub(crate) fn same_passphrase(passphrase: &str, again: &str) -> Result<(), ApiError> {
    if passphrase == again {
        Ok(())
    } else {
        Err(ApiError::bad_request("passphrases_differ", "the two passphrases are not the same")
            .field("passphrase_again"))
    }
}

/// A redirect after a form (303: the browser asks for the page with GET).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A redirect that sets a cookie.
pub(crate) fn see_other_with(to: &str, cookie: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append("set-cookie", v);
    }
    response
}

/// The pre-sign-in form token for this browser, and the cookie to set when it has none yet.
pub(crate) fn stranger_token(headers: &HeaderMap) -> Result<(String, Option<String>), ApiError> {
    if let Some(secret) = cookie(headers, FORM_COOKIE).filter(|s| s.len() == 32) {
        return Ok((form_token(secret), None));
    }
    let mut raw = [0u8; 16];
    getrandom::getrandom(&mut raw).map_err(|_| ApiError::internal())?;
    let secret = hex::encode(raw);
    let set = format!("{FORM_COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Strict");
    Ok((form_token(&secret), Some(set)))
}

/// Whether a form sent before signing in carries the token of this browser's form cookie.
pub(crate) fn check_stranger_form(headers: &HeaderMap, sent: &str) -> Result<(), ApiError> {
    match cookie(headers, FORM_COOKIE) {
        Some(secret) if same_token(&form_token(secret), sent) => Ok(()),
        _ => Err(form_expired()),
    }
}

/// A form page for someone not signed in, with the form cookie set if it was not.
pub(crate) fn stranger_page(
    headers: &HeaderMap,
    status: StatusCode,
    page: impl FnOnce(views::Chrome) -> Result<String, askama::Error>,
    path: &'static str,
) -> Response {
    let t = Text::new(language(headers));
    let (token, set) = match stranger_token(headers) {
        Ok(pair) => pair,
        Err(e) => return views::error(t, &e),
    };
    let mut c = views::Chrome::stranger(t, path);
    c.csrf = token;
    let mut response = views::html(status, page(c));
    if let Some(set) = set.and_then(|s| axum::http::HeaderValue::from_str(&s).ok()) {
        response.headers_mut().append("set-cookie", set);
    }
    response
}
