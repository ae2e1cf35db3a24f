//! Every error the API answers with: an HTTP status, a stable snake_case code, a message for
//! people and, where one field is at fault, its name. Internal errors say nothing of internals.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status: status.as_u16(), code, message: message.into(), field: None }
    }

    pub fn field(mut self, field: &str) -> ApiError {
        self.field = Some(field.to_owned());
        self
    }

    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "send an API key or a session token as a bearer token",
        )
    }

    pub fn forbidden(what: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", format!("your role may not {what}"))
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no such {what}"))
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

impl From<candor_store::StoreError> for ApiError {
    fn from(e: candor_store::StoreError) -> ApiError {
        match e {
            candor_store::StoreError::UnknownSubject => ApiError::not_found("subject in the file"),
            candor_store::StoreError::Rejected(problems) => {
                let list: Vec<String> =
                    problems.iter().map(|p| format!("record {}: {}", p.record, p.message)).collect();
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "batch_rejected", list.join("; "))
            }
            other => {
                // The log line names the failure, never a person: store errors carry no identifiers.
                tracing::error!(error = %other, "store failure");
                ApiError::internal()
            }
        }
    }
}
