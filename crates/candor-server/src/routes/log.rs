//! The transparency log: proofs, checkpoints, the witness's cosignatures, and replay.

use axum::extract::{Extension, State as Extract};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use candor_bureau::log_view;
use serde::Deserialize;

use super::{ok, parse_json, with_store, Answer, Body, Caller, Key, Params, Shared};
use crate::{wire, ApiError, State};

pub use candor_bureau::log_view::LOG_ORIGIN;

/// Runs `work` on the log's tree (kept between requests, brought up to date by the bureau).
fn with_tree<T>(
    s: &State,
    work: impl FnOnce(&mut candor_log::Tree) -> Result<T, candor_bureau::BureauError>,
) -> Result<T, ApiError> {
    let mut tree = s.tree.lock().map_err(|_| ApiError::internal())?;
    Ok(work(&mut tree)?)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProofAt {
    /// The tree size of a checkpoint you hold (default: the log's size now).
    size: Option<u64>,
}

pub(super) async fn proof(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(index): Key<i64>,
    Params(q): Params<ProofAt>,
) -> Answer {
    let about = match caller {
        Caller::Subject(key) => Some(key),
        _ => None,
    };
    let p = with_store(&state, move |s, store| {
        with_tree(s, |tree| log_view::inclusion(store, tree, index, q.size, about.as_ref()))
    })
    .await?;
    ok(StatusCode::OK, wire::inclusion(&p))
}

fn no_log_key() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_log_key", "this server has no checkpoint key")
}

pub(super) async fn checkpoint(Extract(state): Extract<Shared>) -> Answer {
    if state.log_signer.is_none() {
        return Err(no_log_key());
    }
    let text = with_store(&state, move |s, store| {
        let signer = s.log_signer.as_ref().ok_or_else(no_log_key)?;
        let text = with_tree(s, |tree| log_view::checkpoint(store, tree, signer, s.now()))?;
        if let Some(path) = &s.config.checkpoint_file {
            // Under the store's lock, so two checkpoints never race to the file.
            crate::keep_checkpoint(path, &text).map_err(|e| {
                tracing::error!(error = %e, "cannot keep the checkpoint outside the store");
                ApiError::internal()
            })?;
        }
        Ok(text)
    })
    .await?;
    text_answer(text)
}

/// The key that verifies the log's checkpoints, as a C2SP verifier key.
pub(super) async fn public_key(Extract(state): Extract<Shared>) -> Answer {
    let signer = state.log_signer.as_ref().ok_or_else(no_log_key)?;
    text_answer(format!("{}\n", signer.verifier().to_vkey()))
}

/// A signed note, as plain text.
fn text_answer(text: String) -> Answer {
    Ok((StatusCode::OK, [("content-type", "text/plain; charset=utf-8")], text).into_response())
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Sizes {
    from: u64,
    to: u64,
}

pub(super) async fn consistency(Extract(state): Extract<Shared>, Params(q): Params<Sizes>) -> Answer {
    let proof =
        with_store(&state, move |s, store| with_tree(s, |tree| log_view::consistency(store, tree, q.from, q.to)))
            .await?;
    ok(StatusCode::OK, wire::Consistency { from: q.from, to: q.to, proof: proof.iter().map(hex::encode).collect() })
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WitnessKey {
    name: String,
    /// 64 hex characters.
    public_key: String,
}

pub(super) async fn put_witness_key(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    let org = caller.org("register witness keys")?.id.clone();
    let k: WitnessKey = parse_json(&body)?;
    with_store(&state, move |s, store| Ok(log_view::register_witness(store, s.now(), &org, &k.name, &k.public_key)?))
        .await?;
    ok(StatusCode::CREATED, wire::Registered { registered: true })
}

/// Keeps a checkpoint the ombudsman countersigned (see [`log_view::cosign`]).
pub(super) async fn cosign(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> Answer {
    let org = caller.org("countersign checkpoints")?.id.clone();
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("bad_checkpoint", "the body is a signed note in UTF-8"))?
        .to_owned();
    let bureau = state.log_signer.as_ref().ok_or_else(no_log_key)?.verifier();
    let size = with_store(&state, move |s, store| {
        with_tree(s, |tree| log_view::cosign(store, tree, s.now(), &org, &bureau, &text))
    })
    .await?;
    ok(StatusCode::CREATED, wire::Cosigned { size })
}

pub(super) async fn cosigned(Extract(state): Extract<Shared>) -> Answer {
    text_answer(with_store(&state, move |_, store| Ok(log_view::latest_cosigned(store)?)).await?)
}

/// Scores a logged read or decision again from what the log holds; says whether it matches.
pub(super) async fn replay(Extract(state): Extract<Shared>, Key(index): Key<i64>) -> Answer {
    let r = with_store(&state, move |_, store| Ok(candor_bureau::replay::replay(store, index)?)).await?;
    ok(StatusCode::OK, wire::replay(&r))
}
