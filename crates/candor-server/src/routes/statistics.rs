//! Regional statistics for analysts: only cells of at least k people, served from the counts
//! the server keeps (see [`crate::refresh_statistics`]).

use axum::extract::State as Extract;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{ok, Answer, Params, Shared};
use crate::wire;

#[derive(Deserialize, schemars::JsonSchema)]
pub(super) struct StatsQuery {
    k: Option<u64>,
}

pub(super) async fn regions(Extract(state): Extract<Shared>, Params(q): Params<StatsQuery>) -> Answer {
    // Served from the last count (the server counts on a schedule); only a server that has not
    // counted yet counts now, once, however many callers ask.
    let (at, counts) = crate::current_statistics(&state).await?;
    ok(StatusCode::OK, wire::regions(&candor_bureau::stats::shown(&counts, q.k), at))
}
