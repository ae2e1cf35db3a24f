//! A person's second factor from the portal: turn it on (the authenticator's secret and the
//! recovery codes shown once, then a code from it to put it in force) and off (with a code), and
//! their statements on records of their file. The same functions as the JSON API's.

use axum::extract::{Extension, RawQuery, State as Extract};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use candor_bureau::second_factor;
use serde::Deserialize;

use super::text::Text;
use super::views::{self, Chrome, Shown};
use super::{language, see_other, Person};
use crate::routes::enrolment::{start_second_factor_for, switch_second_factor_for};
use crate::routes::{with_store, Shared};
use crate::ApiError;

/// The security page, perhaps with the authenticator just started, or an error.
async fn page(
    state: &Shared,
    person: &Person,
    t: Text,
    status: StatusCode,
    started: Option<second_factor::Enrolment>,
    notice: Option<String>,
    error: Option<Shown>,
) -> Result<Response, ApiError> {
    let key = person.key;
    let factor = with_store(state, move |_, store| Ok(second_factor::state(store, &key)?)).await?;
    let c = Chrome::signed_in(t, "/me/security", person);
    let on = factor == second_factor::State::On;
    let started =
        started.map(|e| views::StartedShown { secret: e.secret_base32, uri: e.uri, recovery: e.recovery_codes });
    Ok(views::render(status, &views::SecurityPage { c, on, started, notice, error }))
}

pub(super) async fn show(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    raw: RawQuery,
) -> Response {
    let t = Text::new(language(&headers));
    let notice = match raw.0.as_deref() {
        Some("done=factor-on") => Some(t.get("done-factor-on")),
        Some("done=factor-off") => Some(t.get("done-factor-off")),
        _ => None,
    };
    page(&state, &person, t, StatusCode::OK, None, notice, None).await.unwrap_or_else(|e| views::error(t, &e))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FactorForm {
    csrf: String,
    /// `start`, `confirm` or `off`.
    action: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn change(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let t = Text::new(language(&headers));
    let done = async {
        let f: FactorForm = super::signed_form(&person.csrf, &body)?;
        match f.action.as_str() {
            "start" => {
                let started = start_second_factor_for(&state, person.key).await?;
                Ok(Err(started))
            }
            "confirm" => switch_second_factor_for(&state, person.key, f.code, true).await.map(|_| Ok("factor-on")),
            "off" => switch_second_factor_for(&state, person.key, f.code, false).await.map(|_| Ok("factor-off")),
            _ => Err(ApiError::bad_request("bad_form", "`action` is start, confirm or off").field("action")),
        }
    }
    .await;
    let shown = match done {
        Ok(Ok(done)) => return see_other(&format!("/me/security?done={done}")),
        Ok(Err(started)) => page(&state, &person, t, StatusCode::OK, Some(started), None, None).await,
        Err(e) if e.code == "form_expired" || e.status >= 500 => Err(e),
        Err(e) => {
            let status = e.status_code();
            page(&state, &person, t, status, None, None, Some(Shown::of(t, &e))).await
        }
    };
    shown.unwrap_or_else(|e| views::error(t, &e))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatementForm {
    csrf: String,
    record_ref: String,
    text: String,
}

/// Attaches (or, empty, withdraws) the person's statement on a record of their file.
pub(super) async fn statement(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let done = async {
        let f: StatementForm = super::signed_form(&person.csrf, &body)?;
        let reference = candor_file::model::parse_reference(&f.record_ref)
            .map_err(|e| ApiError::bad_request("bad_record_ref", e.to_string()).field("record_ref"))?;
        let (key, text) = (person.key, f.text.trim().to_owned());
        with_store(&state, move |s, store| {
            Ok(candor_bureau::subject::attach_statement(store, s.now(), &key, &reference, &text)?)
        })
        .await?;
        Ok(see_other("/me/file?done=statement"))
    }
    .await;
    done.unwrap_or_else(|e| views::error(Text::new(language(&headers)), &e))
}

super::signed!(FactorForm, StatementForm);
