//! Furnishers' and courts' batches: submit one, and see what became of it.

use std::sync::atomic::Ordering;

use axum::extract::{Extension, State as Extract};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::{ok, with_store, Answer, Body, Caller, Key, Params, Shared};
use crate::{wire, ApiError};

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct BatchQuery {
    format: Option<String>,
    #[serde(default)]
    attest_notice: bool,
}

pub(super) async fn submit(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Params(q): Params<BatchQuery>,
    Body(body): Body,
) -> Answer {
    let org = caller.org("submit batches")?.clone();
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
    let outcome = with_store(&state, move |s, store| {
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
        Ok(store.apply(&batch, s.now_ms())?)
    })
    .await?;
    state.metrics.batches.fetch_add(1, Ordering::Relaxed);
    ok(
        if outcome.duplicate { StatusCode::OK } else { StatusCode::CREATED },
        wire::BatchApplied {
            batch_id: outcome.batch_id,
            duplicate: outcome.duplicate,
            reports: outcome.reports,
            accounts: outcome.accounts,
            quarantined: outcome.quarantined,
            leaf: outcome.leaf,
        },
    )
}

fn nonce() -> [u8; candor_file::secret::NONCE_BYTES] {
    let mut n = [0u8; candor_file::secret::NONCE_BYTES];
    getrandom::getrandom(&mut n).unwrap_or_else(|e| panic!("no randomness from the operating system: {e}"));
    n
}

pub(super) async fn result(
    Extract(state): Extract<Shared>,
    Extension(caller): Extension<Caller>,
    Key(id): Key<i64>,
) -> Answer {
    let org = caller.org("read batches")?.clone();
    let body = with_store(&state, move |_, store| {
        // Another organisation's batch is as absent as a missing one.
        let b = store
            .batch(id)?
            .filter(|b| b.furnisher == org.id.as_str())
            .ok_or_else(|| ApiError::not_found("batch of yours"))?;
        let held_back = store
            .quarantine(id)?
            .into_iter()
            .map(|(record, rule, message)| wire::HeldBack { record, rule, message })
            .collect();
        Ok(wire::Batch {
            batch_id: id,
            sender: b.furnisher,
            format: b.format,
            records: b.records,
            applied: b.applied,
            quarantined: b.quarantined,
            held_back,
            recorded_ms: b.recorded_ms,
        })
    })
    .await?;
    ok(StatusCode::OK, body)
}
