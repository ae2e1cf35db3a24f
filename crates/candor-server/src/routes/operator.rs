//! The operator's controls, and what anyone may ask of the service itself.

use std::sync::atomic::Ordering;

use axum::extract::{Extension, State as Extract};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{ok, with_store, Answer, Body, Caller, RequestBody, ResponseBody, Shared, ROUTES};
use crate::{wire, ApiError};

pub(super) async fn healthz() -> Json<wire::Health> {
    Json(wire::Health { status: "ok".to_owned() })
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

/// The OpenAPI 3 document: every route of [`ROUTES`] with its roles, its path and query
/// parameters and request body (schemas generated from the wire types), and every error
/// response from the table of codes.
pub fn openapi_document() -> Value {
    let mut g = schemars::gen::SchemaSettings::openapi3().into_generator();
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let roles: Vec<String> = r.roles.iter().map(|role| format!("{role:?}").to_lowercase()).collect();
        let mut params: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let schema = if matches!(name, "id" | "index") {
                    json!({"type": "integer", "format": "int64"})
                } else {
                    json!({"type": "string", "minLength": 1})
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        if let Some(query) = r.query {
            params.extend(query_parameters(&mut g, query));
        }
        let mut operation =
            json!({"summary": r.summary, "x-roles": roles, "parameters": params, "responses": responses(&mut g, r)});
        match r.body {
            RequestBody::None => {}
            RequestBody::Json(schema) => {
                let schema = serde_json::to_value(schema(&mut g)).unwrap_or(Value::Null);
                operation["requestBody"] =
                    json!({"required": true, "content": {"application/json": {"schema": schema}}});
            }
            RequestBody::Text(media) => {
                let content: serde_json::Map<String, Value> =
                    media.iter().map(|m| ((*m).to_owned(), json!({"schema": {"type": "string"}}))).collect();
                operation["requestBody"] = json!({"required": true, "content": content});
            }
        }
        let entry = paths.entry(r.path.to_owned()).or_insert_with(|| json!({}));
        entry[r.method.to_lowercase()] = operation;
    }
    let mut schemas: serde_json::Map<String, Value> =
        g.definitions().iter().map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null))).collect();
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": crate::error::CODES.iter().map(|c| c.code).collect::<Vec<_>>()},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }),
    );
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Candor bureau API", "version": env!("CARGO_PKG_VERSION")},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

/// Every response a route may give: what it answers on success, with its body's schema, and
/// every error by status.
fn responses(g: &mut schemars::gen::SchemaGenerator, r: &super::RouteSpec) -> Value {
    let content = match r.response {
        ResponseBody::Unsaid => json!({}),
        ResponseBody::Json(schema) => {
            json!({"application/json": {"schema": serde_json::to_value(schema(g)).unwrap_or(Value::Null)}})
        }
        ResponseBody::Text(media) => json!({media: {"schema": {"type": "string"}}}),
    };
    let mut responses = serde_json::Map::new();
    for status in r.answers {
        let description = if *status == 201 { "Created." } else { "Done." };
        responses.insert(status.to_string(), json!({"description": description, "content": content}));
    }
    for (status, codes) in crate::error::codes_by_status() {
        let list: Vec<String> = codes.iter().map(|c| format!("`{}`: {}", c.code, c.meaning)).collect();
        responses.insert(
            status.to_string(),
            json!({"description": list.join("; "), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    Value::Object(responses)
}

/// A query's wire type as OpenAPI parameters, one per field.
fn query_parameters(g: &mut schemars::gen::SchemaGenerator, query: super::SchemaOf) -> Vec<Value> {
    let reference = serde_json::to_value(query(g)).unwrap_or(Value::Null);
    let name = reference["$ref"].as_str().and_then(|r| r.rsplit('/').next()).unwrap_or("").to_owned();
    let Some(definition) = g.definitions().get(&name).and_then(|d| serde_json::to_value(d).ok()) else {
        return Vec::new();
    };
    let required: Vec<&str> =
        definition["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    definition["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(field, schema)| {
                    let mut schema = schema.clone();
                    // A query parameter is absent rather than null.
                    if let Some(o) = schema.as_object_mut() {
                        o.remove("nullable");
                    }
                    json!({"name": field, "in": "query", "required": required.contains(&field.as_str()), "schema": schema})
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The document is the same for the server's life: made once, on first request.
pub(super) async fn openapi() -> Json<Value> {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    Json(DOCUMENT.get_or_init(openapi_document).clone())
}

pub(super) async fn suspend(Extract(state): Extract<Shared>, Extension(caller): Extension<Caller>) -> Answer {
    switch(state, caller, true).await
}

pub(super) async fn resume(Extract(state): Extract<Shared>, Extension(caller): Extension<Caller>) -> Answer {
    switch(state, caller, false).await
}

/// Stops or resumes scoring: recorded and logged first, so it holds after a restart.
async fn switch(state: Shared, caller: Caller, suspended: bool) -> Answer {
    let by = caller.org("stop or resume scoring")?.id.clone();
    with_store(&state, move |s, store| Ok(candor_bureau::operator::switch_scoring(store, s.now(), &by, suspended)?))
        .await?;
    state.suspended.store(suspended, Ordering::SeqCst);
    let scoring = if suspended { "suspended" } else { "running" };
    ok(StatusCode::OK, wire::ScoringState { scoring: scoring.to_owned() })
}

pub(super) async fn deploy(Extract(state): Extract<Shared>, Body(body): Body) -> Answer {
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("bad_model", "the body is a model document in UTF-8"))?;
    let version = with_store(&state, move |s, store| s.deploy_with(store, &body)).await?;
    ok(StatusCode::CREATED, wire::Deployed { model_version: version })
}

pub(super) async fn purge(Extract(state): Extract<Shared>) -> Answer {
    let done =
        with_store(&state, move |s, store| Ok(candor_bureau::operator::purge(store, &s.rules(), s.now())?)).await?;
    ok(
        StatusCode::OK,
        wire::Purged {
            purge_id: done.purge_id,
            reports_deleted: done.reports_deleted,
            court_records_deleted: done.court_records_deleted,
        },
    )
}
