//! Regional statistics for analysts: only cells of at least k people.

use axum::extract::State as Extract;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{ok, Answer, Params, Shared};
use crate::{wire, ApiError};

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct StatsQuery {
    k: Option<u64>,
}

pub(super) async fn regions(Extract(state): Extract<Shared>, Params(q): Params<StatsQuery>) -> Answer {
    let s = state.clone();
    // A connection per chunk, given back between chunks, so the scan does not hold up requests.
    let table = tokio::task::spawn_blocking(move || {
        Ok::<_, ApiError>(candor_bureau::stats::regional(&mut &s.store, &s.rules(), s.now(), q.k)?)
    })
    .await
    .map_err(|_| ApiError::internal())??;
    ok(StatusCode::OK, wire::regions(&table))
}
