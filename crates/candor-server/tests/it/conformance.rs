//! Every answer a test gets is held to the OpenAPI document the server publishes: its status is
//! one the route lists, and a JSON body matches the schema given for that status. So the
//! document cannot drift from what the routes send, on the paths schemathesis's generated
//! requests rarely reach (a score with consent, a decided dispute, a replay).

use std::sync::OnceLock;

use serde_json::Value;

fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(candor_server::openapi_document)
}

/// The route's template that `path` (without its query) fills, if any.
fn template(method: &str, path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    candor_server::ROUTES.iter().find_map(|r| {
        let want: Vec<&str> = r.path.split('/').collect();
        let fits = r.method == method
            && want.len() == segments.len()
            && want.iter().zip(&segments).all(|(w, s)| w == s || (w.starts_with('{') && !s.is_empty()));
        fits.then_some(r.path)
    })
}

/// Panics, saying where, unless the answer is one the document describes.
pub fn check(method: &str, path: &str, status: u16, body: &Value) {
    let Some(template) = template(method, path) else { return };
    let operation = &document()["paths"][template][method.to_lowercase()];
    let response = &operation["responses"][status.to_string()];
    assert!(response.is_object(), "{method} {path} answered {status}, which the document does not list: {body}");
    let Some(schema) = response["content"].get("application/json").map(|c| &c["schema"]) else { return };
    if let Err(e) = matches(schema, body, "$") {
        panic!("{method} {path} answered {status} with a body the document does not describe: {e}\n{body}");
    }
}

fn resolve(schema: &Value) -> &Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => resolve(&document()["components"]["schemas"][name]),
        None => schema,
    }
}

/// Whether `value` is of `schema`, for the keywords schemars writes (type, nullable, enum,
/// properties, required, additionalProperties, items, minimum, oneOf, allOf, $ref).
fn matches(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(schema);
    if schema == &Value::Bool(true) || schema.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(());
    }
    if value.is_null() && schema["nullable"] == Value::Bool(true) {
        return Ok(());
    }
    if let Some(kind) = schema["type"].as_str() {
        let fits = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => false,
        };
        if !fits {
            return Err(format!("{at}: {value} is not of type {kind}"));
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is none of {allowed:?}"));
        }
    }
    if let (Some(min), Some(v)) = (schema["minimum"].as_f64(), value.as_f64()) {
        if v < min {
            return Err(format!("{at}: {v} is below the minimum {min}"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                return Err(format!("{at}: `{name}` is required and missing"));
            }
        }
        let properties = schema["properties"].as_object();
        for (name, v) in object {
            match properties.and_then(|p| p.get(name)) {
                Some(s) => matches(s, v, &format!("{at}.{name}"))?,
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => return Err(format!("{at}: `{name}` is not in the document")),
                    Value::Object(_) => matches(&schema["additionalProperties"], v, &format!("{at}.{name}"))?,
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            matches(items, v, &format!("{at}[{i}]"))?;
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        matches(part, value, at)?;
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let fitting = options.iter().filter(|o| matches(o, value, at).is_ok()).count();
        if fitting != 1 {
            return Err(format!("{at}: {value} fits {fitting} of the {} alternatives, not one", options.len()));
        }
    }
    Ok(())
}

#[test]
fn the_check_refuses_what_the_document_does_not_describe() {
    let ok = serde_json::json!({"frozen": true});
    check("PUT", "/v1/me/freeze", 200, &ok);
    let schema =
        &document()["paths"]["/v1/me/freeze"]["put"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert!(matches(schema, &serde_json::json!({"frozen": "yes"}), "$").is_err(), "a string for a boolean");
    assert!(matches(schema, &serde_json::json!({}), "$").is_err(), "a missing required field");
    let entries =
        &document()["paths"]["/v1/me/reads"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    let unknown_kind = serde_json::json!({"entries": [{"leaf": 1, "kind": "teleport"}], "next": null});
    assert!(matches(entries, &unknown_kind, "$").is_err(), "a leaf of no kind the log has");
    let known = serde_json::json!({"entries": [{"leaf": 1, "kind": "freeze_placed", "leaf_version": 1, "subject": "ab", "recorded_ms": 5}], "next": null});
    assert_eq!(matches(entries, &known, "$"), Ok(()));
    assert!(std::panic::catch_unwind(|| check("PUT", "/v1/me/freeze", 201, &ok)).is_err(), "a status not listed");
}
