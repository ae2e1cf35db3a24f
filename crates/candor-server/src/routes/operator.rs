//! The operator's controls, and what anyone may ask of the service itself.

use std::sync::atomic::Ordering;

use axum::extract::State as Extract;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{ok, with_store, Answer, Shared, ROUTES};

pub(super) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

pub(super) async fn metrics(Extract(state): Extract<Shared>) -> String {
    let m = &state.metrics;
    let line = |name: &str, help: &str, v: u64| format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n");
    [
        line("candor_requests_total", "Requests that reached a route.", m.requests.load(Ordering::Relaxed)),
        line("candor_scores_total", "Scores given.", m.scores.load(Ordering::Relaxed)),
        line("candor_refused_reads_total", "Score requests refused for want of consent.", m.refused_reads.load(Ordering::Relaxed)),
        line("candor_batches_total", "Batches applied.", m.batches.load(Ordering::Relaxed)),
        format!("# HELP candor_scoring_suspended 1 while the operator has stopped scoring.\n# TYPE candor_scoring_suspended gauge\ncandor_scoring_suspended {}\n", u8::from(state.suspended.load(Ordering::Relaxed))),
    ]
    .concat()
}

/// The OpenAPI 3 document, from [`ROUTES`] and the table of error codes.
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let roles: Vec<String> = r.roles.iter().map(|role| format!("{role:?}").to_lowercase()).collect();
        let params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut responses = serde_json::Map::new();
        responses.insert("200".into(), json!({"description": "Done."}));
        for (status, codes) in crate::error::codes_by_status() {
            let list: Vec<String> = codes.iter().map(|c| format!("`{}`: {}", c.code, c.meaning)).collect();
            responses.insert(
                status.to_string(),
                json!({"description": list.join("; "), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        let operation = json!({"summary": r.summary, "x-roles": roles, "parameters": params, "responses": responses});
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method.to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Candor bureau API", "version": env!("CARGO_PKG_VERSION")},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {
                "type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": crate::error::CODES.iter().map(|c| c.code).collect::<Vec<_>>()},
                    "message": {"type": "string"},
                    "field": {"type": "string"},
                },
            }},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

pub(super) async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

pub(super) async fn suspend(Extract(state): Extract<Shared>) -> Answer {
    state.suspended.store(true, Ordering::SeqCst);
    ok(StatusCode::OK, json!({"scoring": "suspended"}))
}

pub(super) async fn resume(Extract(state): Extract<Shared>) -> Answer {
    state.suspended.store(false, Ordering::SeqCst);
    ok(StatusCode::OK, json!({"scoring": "running"}))
}

pub(super) async fn deploy(Extract(state): Extract<Shared>, body: String) -> Answer {
    let version = with_store(&state, move |s, store| s.deploy_with(store, &body)).await?;
    ok(StatusCode::CREATED, json!({"model_version": version}))
}

pub(super) async fn purge(Extract(state): Extract<Shared>) -> Answer {
    let done =
        with_store(&state, move |s, store| Ok(candor_bureau::operator::purge(store, &s.rules(), s.now())?)).await?;
    ok(
        StatusCode::OK,
        json!({"purge_id": done.purge_id, "reports_deleted": done.reports_deleted, "court_records_deleted": done.court_records_deleted}),
    )
}
