//! What lenders and merchants ask for: scores and decisions with consent, policies, and the
//! notifications of corrections to files they read.

use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Extension, State as Extract};
use axum::http::StatusCode;
use candor_bureau::policy::{self, Band, Decision, Policy};
use candor_bureau::{consent, dispute, BureauError};
use serde::Deserialize;

use super::me::purpose;
use super::{
    deployed, identify, ok, parse_json, with_reader, with_store, Answer, Body, Caller, Key, PageQuery, Params, Shared,
};
use crate::{wire, ApiError};

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReadRequest {
    scheme: String,
    number: String,
    purpose: String,
    /// For a decision: the name of one of the caller's policies.
    #[serde(default)]
    policy: Option<String>,
}

pub(super) async fn score(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    read_with_consent(state, caller, false, body).await
}

pub(super) async fn decide(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    read_with_consent(state, caller, true, body).await
}

/// A score (`/v1/scores`) or a decision under a policy (`/v1/decisions`), with consent.
async fn read_with_consent(state: Shared, caller: Caller, deciding: bool, body: Bytes) -> Answer {
    let org = caller.org("read files")?.clone();
    let req: ReadRequest = parse_json(&body)?;
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
    let purpose = purpose(&req.purpose)?;
    let deployed = deployed(&state)?;
    let ask_policy = req.policy;
    let given: Result<_, BureauError> = match &state.log_writer {
        // The reads on a connection of the pool, given back before the leaf waits for its
        // group's commit, so other requests read meanwhile and share that commit.
        Some(_) => {
            let assessed = with_reader(&state, move |s, store| {
                let ask = consent::Ask { purpose, policy: ask_policy.as_deref() };
                Ok(consent::assess_read(store, &s.rules(), s.now(), &org, &key, ask, &deployed)?)
            })
            .await?;
            // The writer answers this task itself once the leaf is durable: no thread waits.
            let (done, index) = tokio::sync::oneshot::channel();
            let group = state.log_writer.as_ref().ok_or_else(ApiError::internal)?;
            group.submit(assessed.leaf.clone(), Box::new(move |index| drop(done.send(index))))?;
            let index = index.await.map_err(|_| ApiError::internal())?;
            index.map_err(BureauError::from).and_then(|index| assessed.logged(index))
        }
        None => {
            with_store(&state, move |s, store| {
                let ask = consent::Ask { purpose, policy: ask_policy.as_deref() };
                Ok(consent::consented_read(store, &s.rules(), s.now(), &org, &key, ask, &deployed))
            })
            .await?
        }
    };
    let given = match given {
        Err(BureauError::Refused { refusal, leaf }) => Err((refusal, leaf)),
        other => Ok(other?),
    };
    match given {
        Ok(given) => {
            state.metrics.scores.fetch_add(1, Ordering::Relaxed);
            ok(StatusCode::OK, wire::given(&given))
        }
        Err((refusal, leaf)) => {
            state.metrics.refused_reads.fetch_add(1, Ordering::Relaxed);
            Err(BureauError::Refused { refusal, leaf }.into())
        }
    }
}

/// A policy as a lender sends it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PolicyBody {
    bands: Vec<BandBody>,
    /// The decision for a person the model does not score (too little history); decline when
    /// absent.
    #[serde(default)]
    no_score: Option<DecisionBody>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    /// `approve`, `waive_deposit`, `limit` or `decline`.
    decision: String,
    #[serde(default)]
    limit_minor: Option<i64>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct BandBody {
    min_score: i32,
    /// `approve`, `waive_deposit`, `limit` or `decline`.
    decision: String,
    #[serde(default)]
    limit_minor: Option<i64>,
}

pub(super) async fn put_policy(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(name): Key<String>,
    Body(body): Body,
) -> Answer {
    let org = caller.org("define policies")?.clone();
    let name = candor_file::model::parse_reference(&name)
        .map_err(|e| ApiError::bad_request("bad_name", e.to_string()).field("name"))?;
    let b: PolicyBody = parse_json(&body)?;
    let bands = b
        .bands
        .iter()
        .map(|band| {
            Ok(Band {
                min_score: band.min_score,
                decision: Decision::parse(&band.decision, band.limit_minor)
                    .map_err(|m| ApiError::bad_request("bad_policy", m).field("bands"))?,
            })
        })
        .collect::<Result<Vec<Band>, ApiError>>()?;
    let no_score = b
        .no_score
        .map(|d| Decision::parse(&d.decision, d.limit_minor))
        .transpose()
        .map_err(|m| ApiError::bad_request("bad_policy", m).field("no_score"))?;
    let deployed = state.deployed()?;
    let version = with_store(&state, move |s, store| {
        Ok(policy::put(store, s.now(), &org.id, &name, &Policy { bands, no_score }, deployed.as_deref())?)
    })
    .await?;
    ok(StatusCode::CREATED, wire::PolicyVersion { version })
}

pub(super) async fn notifications(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Params(q): Params<PageQuery>,
) -> Answer {
    let (org, page) = (caller.org("read notifications")?.id.clone(), q.page()?);
    let list = with_store(&state, move |_, store| Ok(dispute::notifications(store, &org, page)?)).await?;
    ok(StatusCode::OK, wire::Notifications::of(&list, |(index, n)| wire::notification(*index, n)))
}
