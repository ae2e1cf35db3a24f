//! An entry of who looked, with its proof: the entry's bytes, the checkpoint the bureau signs
//! now, the path from the entry to its root, and whether it all checks — what the person (or
//! anyone they hand it to) can check again with any implementation of the log's standards.

use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State as Extract};
use axum::http::header::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use candor_bureau::log_view;

use super::text::Text;
use super::views::{self, Chrome};
use super::{language, Person};
use crate::routes::{with_store, Shared};
use crate::ApiError;

pub(super) async fn entry(
    Extract(state): Extract<Shared>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
    index: Result<Path<String>, PathRejection>,
) -> Response {
    let t = Text::new(language(&headers));
    let made = async {
        let index: i64 = index
            .ok()
            .and_then(|Path(i)| i.parse().ok())
            .ok_or_else(|| ApiError::bad_request("bad_path", "a log entry is named by its number").field("leaf"))?;
        let key = person.key;
        let checked = with_store(&state, move |s, store| {
            let signer = s.log_signer.as_ref().ok_or_else(|| {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_log_key", "this server has no checkpoint key")
            })?;
            let mut tree = s.tree.lock().map_err(|_| ApiError::internal())?;
            Ok(log_view::checked_inclusion(store, &mut tree, signer, s.now(), index, &key)?)
        })
        .await?;
        let c = Chrome::signed_in(t, "/me/reads", &person);
        let p = &checked.inclusion;
        Ok(views::render(
            StatusCode::OK,
            &views::ProofPage {
                c,
                index: p.index,
                api_path: format!("/v1/log/leaves/{}/proof?size={}", p.index, p.size),
                body: p.body.clone(),
                leaf_hash: hex::encode(p.leaf_hash),
                path: p.proof.iter().map(hex::encode).collect(),
                checkpoint: checked.checkpoint,
                verified: checked.verified,
            },
        ))
    }
    .await;
    made.unwrap_or_else(|e| views::error(t, &e))
}
