//! The transparency log: proofs, checkpoints, the witness's cosignatures, and replay.

use axum::body::Bytes;
use axum::extract::{Extension, State as Extract};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use candor_store::Store;
use serde::Deserialize;
use serde_json::json;

use super::{ok, parse_json, with_store, Answer, Caller, Key, Params, Shared};
use crate::{ApiError, State};

/// The log's name in its checkpoints.
pub const LOG_ORIGIN: &str = "candor.local/log";

/// The log's tree, brought up to date with the leaves logged since it was last read.
fn synced_tree<'a>(s: &'a State, store: &mut Store) -> Result<std::sync::MutexGuard<'a, candor_log::Tree>, ApiError> {
    let mut tree = s.tree.lock().map_err(|_| ApiError::internal())?;
    store.extend_log_tree(&mut tree)?;
    Ok(tree)
}

pub(super) async fn proof(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(index): Key<i64>,
) -> Answer {
    let body = with_store(&state, move |s, store| {
        if let Caller::Subject(key) = &caller {
            if store.leaf_about(index, key)?.is_none() {
                return Err(ApiError::not_found("log entry about you"));
            }
        }
        let tree = synced_tree(s, store)?;
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
    .await?;
    ok(StatusCode::OK, body)
}

fn no_log_key() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_log_key", "this server has no checkpoint key")
}

pub(super) async fn checkpoint(Extract(state): Extract<Shared>) -> Answer {
    if state.log_signer.is_none() {
        return Err(no_log_key());
    }
    let text = with_store(&state, move |s, store| {
        let now = s.now_ms();
        let tree = synced_tree(s, store)?;
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
    .await?;
    text_answer(text)
}

/// A signed note, as plain text.
fn text_answer(text: String) -> Answer {
    Ok((StatusCode::OK, [("content-type", "text/plain; charset=utf-8")], text).into_response())
}

#[derive(Deserialize)]
pub(super) struct Sizes {
    from: u64,
    to: u64,
}

pub(super) async fn consistency(Extract(state): Extract<Shared>, Params(q): Params<Sizes>) -> Answer {
    let proof = with_store(&state, move |s, store| {
        let tree = synced_tree(s, store)?;
        tree.consistency_proof(q.from, q.to).map_err(|e| ApiError::bad_request("bad_sizes", e.to_string()))
    })
    .await?;
    ok(StatusCode::OK, json!({"from": q.from, "to": q.to, "proof": proof.iter().map(hex::encode).collect::<Vec<_>>()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WitnessKey {
    name: String,
    /// 64 hex characters.
    public_key: String,
}

pub(super) async fn put_witness_key(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    let org = caller.org("register witness keys")?.id.clone();
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
    with_store(&state, move |s, store| {
        Ok(store.put_witness_key(&org, &verifier.name, &verifier.to_hex(), s.now_ms())?)
    })
    .await?;
    ok(StatusCode::CREATED, json!({"registered": true}))
}

/// Keeps a checkpoint the ombudsman countersigned: it must be the bureau's, of this log's
/// history, and carry a valid signature by the ombudsman's registered key.
pub(super) async fn cosign(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Answer {
    let org = caller.org("countersign checkpoints")?.id.clone();
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("bad_checkpoint", "the body is a signed note in UTF-8"))?
        .to_owned();
    let signed = candor_log::SignedCheckpoint::parse(&text)
        .map_err(|e| ApiError::bad_request("bad_checkpoint", e.to_string()))?;
    let bureau = state.log_signer.as_ref().ok_or_else(no_log_key)?.verifier();
    if signed.checkpoint.origin != LOG_ORIGIN || signed.check(&bureau).is_err() {
        return Err(ApiError::bad_request("not_our_checkpoint", "the note carries no valid signature of this log"));
    }
    let size = signed.checkpoint.size;
    with_store(&state, move |s, store| {
        let (name, key) = store.witness_key(&org)?.ok_or_else(|| {
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
        let tree = synced_tree(s, store)?;
        if tree.root_at(size).ok() != Some(signed.checkpoint.root) {
            return Err(ApiError::new(StatusCode::CONFLICT, "not_in_history", "the log has no such root at that size"));
        }
        drop(tree);
        store.put_cosignature(size, &org, &text, s.now_ms())?;
        Ok(())
    })
    .await?;
    ok(StatusCode::CREATED, json!({"size": size}))
}

pub(super) async fn cosigned(Extract(state): Extract<Shared>) -> Answer {
    let text = with_store(&state, move |_, store| Ok(store.latest_cosigned()?))
        .await?
        .ok_or_else(|| ApiError::not_found("countersigned checkpoint"))?;
    text_answer(text)
}

/// Scores a logged read or decision again from what the log holds; says whether it matches.
pub(super) async fn replay(Extract(state): Extract<Shared>, Key(index): Key<i64>) -> Answer {
    let r = with_store(&state, move |_, store| Ok(candor_bureau::replay::replay(store, index)?)).await?;
    ok(
        StatusCode::OK,
        json!({
            "leaf": index, "kind": r.kind, "model_version": r.logged.model_version,
            "logged": {"score": r.logged.score, "pd": r.logged.pd, "reasons": r.logged.reasons, "decision": r.logged.decision},
            "replayed": {"score": r.score, "pd": r.pd, "reasons": r.reasons, "decision": r.decision},
            "matches": r.matches, "overridden": r.overridden,
        }),
    )
}
