//! A person's own pages: file, score, who looked, consents, freeze, statements.

use axum::extract::{Extension, State as Extract};
use axum::http::StatusCode;
use candor_bureau::{consent, gate, subject};
use candor_file::model::{parse_date, parse_reference, OrgId, Purpose};
use serde::Deserialize;

use super::{deployed, ok, parse_json, with_store, Answer, Body, Caller, Key, PageQuery, Params, Shared};
use crate::{wire, ApiError};

pub(super) async fn freeze(Extract(state): Extract<Shared>, Extension(caller): Extension<Caller>) -> Answer {
    set_freeze(&state, caller, true).await
}

pub(super) async fn lift_freeze(Extract(state): Extract<Shared>, Extension(caller): Extension<Caller>) -> Answer {
    set_freeze(&state, caller, false).await
}

async fn set_freeze(state: &Shared, caller: Caller, placed: bool) -> Answer {
    let key = caller.subject()?;
    with_store(state, move |s, store| Ok(subject::set_freeze(store, &s.rules(), s.now(), &key, placed)?)).await?;
    ok(StatusCode::OK, wire::Frozen { frozen: placed })
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AsOf {
    as_of: Option<String>,
}

pub(super) async fn file(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<AsOf>,
) -> Answer {
    let key = caller.subject()?;
    let day = q
        .as_of
        .map(|d| parse_date(&d).map_err(|e| ApiError::bad_request("bad_date", e.to_string()).field("as_of")))
        .transpose()?;
    let report = with_store(&state, move |s, store| {
        let now = s.now();
        Ok(gate::reported_file(store, &s.rules(), now, &key, day.unwrap_or(now.today))?)
    })
    .await?;
    ok(StatusCode::OK, wire::file(&report))
}

pub(super) async fn score(Extract(state): Extract<Shared>, Extension(caller): Extension<Caller>) -> Answer {
    let key = caller.subject()?;
    let deployed = deployed(&state)?;
    let (scoring, recourse) =
        with_store(&state, move |s, store| Ok(subject::own_score(store, &s.rules(), s.now(), &key, &deployed)?))
            .await?;
    ok(StatusCode::OK, wire::own_score(&scoring, &recourse))
}

pub(super) async fn reads(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<PageQuery>,
) -> Answer {
    let (key, page) = (caller.subject()?, q.page()?);
    let leaves = with_store(&state, move |_, store| Ok(subject::leaves_about(store, &key, page)?)).await?;
    ok(StatusCode::OK, wire::Entries::of(&leaves, wire::leaf_about))
}

pub(super) async fn consents(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<PageQuery>,
) -> Answer {
    let (key, page) = (caller.subject()?, q.page()?);
    let list = with_store(&state, move |_, store| Ok(consent::consents(store, &key, page)?)).await?;
    ok(StatusCode::OK, wire::Consents::of(&list, wire::consent))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Grant {
    org: String,
    purpose: String,
    until: String,
}

pub(crate) fn org_id(text: &str) -> Result<OrgId, ApiError> {
    OrgId::parse(text).map_err(|e| ApiError::bad_request("bad_org", e.to_string()).field("org"))
}

pub(crate) fn purpose(text: &str) -> Result<Purpose, ApiError> {
    Purpose::parse(text).map_err(|e| ApiError::bad_request("bad_purpose", e.to_string()).field("purpose"))
}

pub(super) async fn grant(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    let key = caller.subject()?;
    let g: Grant = parse_json(&body)?;
    let (org, purpose) = (org_id(&g.org)?, purpose(&g.purpose)?);
    let until = parse_date(&g.until).map_err(|e| ApiError::bad_request("bad_date", e.to_string()).field("until"))?;
    let consent =
        with_store(&state, move |s, store| Ok(consent::grant(store, &s.rules(), s.now(), &key, org, purpose, until)?))
            .await?;
    ok(StatusCode::CREATED, wire::consent(&consent))
}

pub(super) async fn revoke(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key((org, purpose_text)): Key<(String, String)>,
) -> Answer {
    let key = caller.subject()?;
    let (org, purpose) = (org_id(&org)?, purpose(&purpose_text)?);
    with_store(&state, move |s, store| Ok(consent::revoke(store, s.now(), &key, &org, purpose)?)).await?;
    ok(StatusCode::OK, wire::Revoked { revoked: true })
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Statement {
    record_ref: String,
    text: String,
}

pub(super) async fn attach_statement(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    let key = caller.subject()?;
    let st: Statement = parse_json(&body)?;
    let reference = parse_reference(&st.record_ref)
        .map_err(|e| ApiError::bad_request("bad_record_ref", e.to_string()).field("record_ref"))?;
    with_store(&state, move |s, store| Ok(subject::attach_statement(store, s.now(), &key, &reference, &st.text)?))
        .await?;
    ok(StatusCode::CREATED, wire::Attached { attached: true })
}
