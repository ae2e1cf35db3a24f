//! Disputes and reviews: the person opens them, the furnisher answers, the ombudsman decides.

use axum::extract::{Extension, State as Extract};
use axum::http::StatusCode;
use candor_bureau::dispute;
use candor_file::disputes::Record;
use candor_file::model::{parse_reference, DisputeState};
use serde::Deserialize;

use super::{ok, parse_json, with_store, Answer, Body, Caller, Key, PageQuery, Params, Shared};
use crate::{wire, ApiError};

pub(super) async fn mine(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<PageQuery>,
) -> Answer {
    let (key, page) = (caller.subject()?, q.page()?);
    let list =
        with_store(&state, move |s, store| Ok(dispute::of_subject(store, &s.rules(), s.now(), &key, page)?)).await?;
    ok(StatusCode::OK, wire::Disputes::of(&list, wire::dispute))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DisputeRequest {
    /// `account`, `report`, `inquiry` or `court_record`.
    record_kind: String,
    /// Which: the account reference (and month), the case number, ...
    record_ref: String,
    /// The reference of an identity theft report (police or authority) the person filed: the
    /// record is then blocked at once, not only marked, until the ombudsman decides.
    #[serde(default)]
    identity_theft_report: Option<String>,
    /// What is wrong: `not_mine`, `never_late`, `wrong_amount`, `paid`, `closed`, `duplicate` or
    /// `other` (with `text`, the person's own words).
    #[serde(default)]
    reason: Option<String>,
    /// In the person's own words, at most 2,000 characters; kept sealed.
    #[serde(default)]
    text: Option<String>,
    /// One evidence document, base64: a PDF, PNG or JPEG of at most 2 MiB; kept sealed.
    #[serde(default)]
    evidence: Option<String>,
}

pub(super) async fn open(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    let key = caller.subject()?;
    let req: DisputeRequest = parse_json(&body)?;
    if !candor_file::disputes::RECORD_KINDS.contains(&req.record_kind.as_str()) {
        return Err(ApiError::bad_request("bad_record_kind", "one of account, report, inquiry, court_record")
            .field("record_kind"));
    }
    let reference = parse_reference(&req.record_ref)
        .map_err(|e| ApiError::bad_request("bad_record_ref", e.to_string()).field("record_ref"))?;
    let record = Record::parse(&req.record_kind, &reference)
        .map_err(|e| ApiError::bad_request("bad_record_ref", e).field("record_ref"))?;
    let theft_report = req.identity_theft_report.as_deref().map(parse_reference).transpose().map_err(|e| {
        ApiError::bad_request("bad_identity_theft_report", e.to_string()).field("identity_theft_report")
    })?;
    let evidence = req
        .evidence
        .map(|b64| {
            data_encoding::BASE64
                .decode(b64.as_bytes())
                .map_err(|_| ApiError::bad_request("bad_evidence", "the evidence is not base64").field("evidence"))
        })
        .transpose()?;
    let claim = claim(&state, &key, req.reason.as_deref(), req.text.as_deref(), evidence)?;
    let view = open_dispute(&state, key, record, theft_report, claim).await?;
    ok(StatusCode::CREATED, wire::dispute(&view))
}

/// The claim a dispute carries, checked and sealed for the store: none when neither a reason nor
/// words nor evidence was sent (a reason is needed with either of the others).
pub(crate) fn claim(
    state: &Shared,
    key: &candor_file::ids::SubjectKey,
    reason: Option<&str>,
    text: Option<&str>,
    evidence: Option<Vec<u8>>,
) -> Result<Option<candor_store::StoredClaim>, ApiError> {
    let reason = match reason.filter(|r| !r.is_empty()) {
        Some(r) => candor_file::model::ClaimReason::parse(r)
            .map_err(|e| ApiError::bad_request("bad_claim", e.to_string()).field("reason"))?,
        None if text.is_some_and(|t| !t.trim().is_empty()) || evidence.is_some() => {
            return Err(ApiError::bad_request("bad_claim", "say what is wrong: a reason from the list").field("reason"))
        }
        None => return Ok(None),
    };
    let evidence = evidence
        .map(|bytes| {
            candor_file::claim::Evidence::check(bytes)
                .map_err(|why| ApiError::bad_request("bad_evidence", why).field("evidence"))
        })
        .transpose()?;
    let claim = candor_file::claim::Claim::new(reason, text.unwrap_or(""), evidence)
        .map_err(|why| ApiError::bad_request("bad_claim", why).field("text"))?;
    let mut nonces = [[0u8; candor_file::secret::NONCE_BYTES]; 2];
    for n in &mut nonces {
        getrandom::getrandom(n).map_err(|_| ApiError::internal())?;
    }
    Ok(Some(dispute::seal_claim(&state.keys, key, &claim, nonces)))
}

/// Opens a dispute — the JSON API's and the portal's one way.
pub(crate) async fn open_dispute(
    state: &Shared,
    key: candor_file::ids::SubjectKey,
    record: Record,
    theft_report: Option<String>,
    claim: Option<candor_store::StoredClaim>,
) -> Result<dispute::DisputeView, ApiError> {
    let deployed = state.deployed()?;
    with_store(state, move |s, store| {
        let opening =
            dispute::Opening { record: &record, identity_theft_report: theft_report.as_deref(), claim: claim.as_ref() };
        Ok(dispute::open(store, &s.rules(), s.now(), &key, &opening, deployed.as_deref())?)
    })
    .await
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewRequest {
    /// The log leaf of the decision.
    leaf: i64,
}

pub(super) async fn request_review(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    let key = caller.subject()?;
    let req: ReviewRequest = parse_json(&body)?;
    let view =
        with_store(&state, move |s, store| Ok(dispute::request_review(store, &s.rules(), s.now(), &key, req.leaf)?))
            .await?;
    ok(StatusCode::CREATED, wire::dispute(&view))
}

pub(super) async fn verifications(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<PageQuery>,
) -> Answer {
    let (org, page) = (caller.org("verify records")?.id.clone(), q.page()?);
    let list =
        with_store(&state, move |s, store| Ok(dispute::verifications(store, &s.rules(), s.now(), &org, page)?)).await?;
    ok(StatusCode::OK, wire::Disputes::of(&list, wire::dispute))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Outcome {
    outcome: String,
}

pub(super) async fn verify(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(id): Key<i64>,
    Body(body): Body,
) -> Answer {
    let org = caller.org("verify records")?.id.clone();
    let answer: Outcome = parse_json(&body)?;
    let step = match answer.outcome.as_str() {
        "verified" => DisputeState::FurnisherVerified,
        "corrected" => DisputeState::FurnisherCorrected,
        _ => return Err(ApiError::bad_request("bad_outcome", "verified or corrected").field("outcome")),
    };
    let now_state =
        with_store(&state, move |s, store| Ok(dispute::answer(store, &s.rules(), s.now(), &org, id, step)?)).await?;
    ok(StatusCode::OK, wire::Step { id, state: now_state.as_str().to_owned() })
}

pub(super) async fn queue(Extract(state): Extract<Shared>, Params(q): Params<PageQuery>) -> Answer {
    let page = q.page()?;
    let deployed = state.deployed()?;
    let list = with_store(&state, move |s, store| {
        let (rules, now) = (s.rules(), s.now());
        dispute::sweep_overdue(store, &rules, now, deployed.as_deref())?;
        Ok(dispute::queue(store, &rules, now, page, dispute::QueueFilter::default())?)
    })
    .await?;
    ok(StatusCode::OK, wire::Disputes::of(&list, wire::dispute))
}

/// An ombudsman's decision: the outcome and, optionally, one of the published explanations.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RulingRequest {
    /// `verified`, `corrected` or `deleted`; `upheld` or `overridden` for a review.
    outcome: String,
    /// One of the explanations the bureau publishes for that outcome (`deleted_not_verifiable`, ...).
    #[serde(default)]
    explanation: Option<String>,
}

pub(super) async fn decide(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(id): Key<i64>,
    Body(body): Body,
) -> Answer {
    let reviewer = caller.org("decide disputes")?.id.clone();
    let decision: RulingRequest = parse_json(&body)?;
    let outcome = decide_dispute(&state, reviewer, id, &decision.outcome, decision.explanation, None).await?;
    ok(StatusCode::OK, wire::Step { id, state: outcome.as_str().to_owned() })
}

/// Decides a dispute — the JSON API's and the console's one way; the outcome.
pub(crate) async fn decide_dispute(
    state: &Shared,
    reviewer: candor_file::model::OrgId,
    id: i64,
    outcome: &str,
    explanation: Option<String>,
    staff: Option<String>,
) -> Result<DisputeState, ApiError> {
    let outcome = DisputeState::parse(outcome).map_err(|_| {
        ApiError::bad_request("bad_outcome", "verified, corrected or deleted; upheld or overridden for a review")
            .field("outcome")
    })?;
    let deployed = state.deployed()?;
    with_store(state, move |s, store| {
        let ruling = dispute::Ruling { outcome, explanation: explanation.as_deref(), staff: staff.as_deref() };
        Ok(dispute::decide(store, &s.rules(), s.now(), &reviewer, id, &ruling, deployed.as_deref())?)
    })
    .await?;
    Ok(outcome)
}
