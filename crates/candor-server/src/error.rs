//! Every error the API answers with: an HTTP status, a stable snake_case code, a message for
//! people and, where one field is at fault, its name. Internal errors say nothing of internals.
//! [`CODES`] is the one table of codes, with their status and meaning; the OpenAPI document
//! publishes it, and an error with a code not in it is a programmer's error.

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

/// One error code: the status it comes with and what it means.
pub struct Code {
    pub status: u16,
    pub code: &'static str,
    pub meaning: &'static str,
}

const fn code(status: u16, code: &'static str, meaning: &'static str) -> Code {
    Code { status, code, meaning }
}

/// Every error code the API answers with.
pub const CODES: &[Code] = &[
    code(400, "bad_body", "the body could not be read"),
    code(400, "bad_json", "the body is not the JSON the route takes"),
    code(400, "bad_query", "a query parameter is missing, unknown or malformed"),
    code(400, "bad_path", "a path parameter is malformed"),
    code(400, "bad_page", "a page holds 1 to 500 items"),
    code(400, "bad_identifier", "the scheme or number of a national identifier is not valid"),
    code(400, "weak_passphrase", "the passphrase is too short"),
    code(400, "bad_second_factor", "the code is not the one the authenticator shows now"),
    code(400, "bad_activation_code", "not an activation code as the bureau prints them"),
    code(400, "bad_org", "not an organisation identifier"),
    code(400, "bad_purpose", "not a purpose the bureau knows"),
    code(400, "bad_date", "not a date, or a date not allowed here"),
    code(400, "bad_name", "not a name the bureau accepts"),
    code(400, "bad_policy", "the policy's bands are not sound or do not cover the model's scale"),
    code(400, "policy_outside_scale", "a lender's policy does not cover the scale of the model being deployed"),
    code(400, "bad_model", "not a model document"),
    code(400, "model_not_for_the_file", "the model's characteristics are not the credit file's features"),
    code(400, "bad_outcome", "not an outcome this step allows"),
    code(400, "bad_record_kind", "not a kind of record"),
    code(400, "bad_record_ref", "not a reference of a record of that kind"),
    code(400, "bad_identity_theft_report", "not a reference of an identity theft report"),
    code(400, "bad_statement", "the statement is too long or not text"),
    code(400, "not_a_decision", "the log entry named is not a decision"),
    code(400, "not_replayable", "the log entry is not a score or a decision with its inputs"),
    code(400, "unknown_format", "the batch's format is not named"),
    code(400, "bad_place", "not a place on Earth"),
    code(400, "bad_perks", "the service point's perks are not sound"),
    code(400, "bad_point", "not a service point name"),
    code(400, "bad_radius", "the radius is out of bounds"),
    code(400, "bad_sizes", "log sizes that do not make a consistency proof"),
    code(
        400,
        "bad_size",
        "a tree size at which the log cannot prove that entry (at most the log's size, above the entry's index)",
    ),
    code(400, "bad_witness_key", "not a witness name and Ed25519 key"),
    code(400, "bad_checkpoint", "not a signed note"),
    code(400, "not_our_checkpoint", "the note carries no valid signature of this log"),
    code(400, "not_cosigned", "the note carries no valid signature by the witness's key"),
    code(401, "unauthenticated", "no credentials, or credentials the bureau does not know"),
    code(401, "bad_credentials", "unknown identifier or wrong passphrase"),
    code(400, "bad_explanation", "not an explanation the bureau publishes for that outcome"),
    code(400, "bad_staff", "not a staff id"),
    code(400, "bad_what_if", "a what-if choice of something not actionable, or a value it cannot take"),
    code(400, "bad_claim", "a dispute's reason or words are not what the bureau takes"),
    code(400, "bad_evidence", "an evidence document that is not a PDF, PNG or JPEG of at most 2 MiB"),
    code(400, "bad_form", "a page's form has fields it does not take, or lacks one"),
    code(400, "passphrases_differ", "the passphrase and its repetition differ"),
    code(403, "form_expired", "a page's form token is not the one of this session or browser"),
    code(400, "bad_proof", "an enrolment gives either an activation code or answers"),
    code(400, "bad_answers", "an answer that was not among the choices"),
    code(401, "enrolment_replaced", "the passphrase of an enrolment a newer one replaced: when, and what to do"),
    code(401, "second_factor_required", "this person signs in with a second factor: send `code`"),
    code(401, "not_proven", "unknown identifier, an activation code that is wrong, used or expired, or wrong answers"),
    code(403, "forbidden", "the caller's role may not do this"),
    code(403, "sender_mismatch", "the batch names its sender with another kind or name than the bureau registered"),
    code(403, "consent_required", "the person has not consented to this purpose; the attempt is logged"),
    code(403, "file_frozen", "the person has frozen their file; the attempt is logged"),
    code(404, "not_found", "no such thing, or none the caller may see"),
    code(405, "method_not_allowed", "the route does not take this method"),
    code(409, "second_factor_on", "a second factor is on already"),
    code(409, "cooling_off", "the person enrolled again recently; this change waits out the cooling-off period"),
    code(409, "no_correction", "the record has not changed since the dispute opened"),
    code(409, "blocked", "the record is blocked as identity theft; the ombudsman decides"),
    code(409, "too_late", "the deadline has passed; the ombudsman decides"),
    code(409, "already_answered", "the dispute has the furnisher's answer already"),
    code(409, "model_missing", "the store does not hold the model version named"),
    code(409, "policy_missing", "the store does not hold the policy version named"),
    code(409, "no_witness_key", "the witness has registered no key"),
    code(409, "not_in_history", "the log has no such root at that size"),
    code(413, "too_large", "the body is larger than the server accepts"),
    code(422, "batch_refused", "the batch does not parse or check; every problem is listed, nothing applied"),
    code(422, "batch_rejected", "the batch conflicts with the file; every problem is listed, nothing applied"),
    code(429, "rate_limited", "too many requests this minute"),
    code(
        429,
        "proofing_closed",
        "too many wrong answers to the enrolment questions for this identifier: ask for an activation code",
    ),
    code(409, "already_enrolled", "enrolled already: enrolling again takes an activation code"),
    code(429, "locked_out", "too many failed sign-ins or enrolments for this identifier or address; wait"),
    code(500, "internal", "something went wrong on the bureau's side"),
    code(503, "no_model", "no model is deployed yet"),
    code(503, "busy", "too many sign-ins at once; try again in a moment"),
    code(503, "scoring_suspended", "the operator has suspended scoring"),
    code(503, "no_log_key", "the server has no checkpoint key"),
];

/// The codes grouped by status, in status order.
pub fn codes_by_status() -> std::collections::BTreeMap<u16, Vec<&'static Code>> {
    let mut by: std::collections::BTreeMap<u16, Vec<&'static Code>> = std::collections::BTreeMap::new();
    for c in CODES {
        by.entry(c.status).or_default().push(c);
    }
    by
}

impl ApiError {
    /// Its HTTP status (every code's status in [`CODES`] is a valid one).
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        debug_assert!(
            CODES.iter().any(|c| c.code == code && c.status == status.as_u16()),
            "error code {code} with status {status} is not in the table"
        );
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
        let status = self.status_code();
        (status, Json(self)).into_response()
    }
}

impl From<candor_bureau::BureauError> for ApiError {
    fn from(e: candor_bureau::BureauError) -> ApiError {
        use candor_bureau::consent::Refusal;
        use candor_bureau::BureauError as B;
        let with_field = |e: ApiError, field: Option<&str>| match field {
            Some(f) => e.field(f),
            None => e,
        };
        match e {
            B::NotFound { what, field } => with_field(ApiError::not_found(what), field),
            B::Invalid { code, field, message } => with_field(ApiError::bad_request(code, message), field),
            B::Conflict { code, field, message } => {
                with_field(ApiError::new(StatusCode::CONFLICT, code, message), field)
            }
            B::Refused { refusal, leaf } => {
                let (code, why) = match refusal {
                    Refusal::NoConsent => ("consent_required", "the person has not consented to this purpose"),
                    Refusal::Frozen => {
                        ("file_frozen", "the person has frozen their file: nobody reads it until they lift the freeze")
                    }
                };
                ApiError::new(StatusCode::FORBIDDEN, code, format!("{why}; the attempt is recorded (leaf {leaf})"))
            }
            B::NoModel => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_model", "no model is deployed yet"),
            B::Unproven => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "not_proven",
                "unknown identifier, an activation code that is wrong, used or expired, or wrong answers",
            ),
            B::Closed { message } => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "proofing_closed", message),
            B::Store(s) => s.into(),
        }
    }
}

impl From<candor_store::StoreError> for ApiError {
    fn from(e: candor_store::StoreError) -> ApiError {
        match e {
            candor_store::StoreError::UnknownSubject => ApiError::not_found("subject in the file"),
            candor_store::StoreError::UnknownDispute => ApiError::not_found("dispute"),
            candor_store::StoreError::Busy => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many requests wait to be logged; try again")
            }
            candor_store::StoreError::SenderMismatch { field, message } => {
                ApiError::new(StatusCode::FORBIDDEN, "sender_mismatch", message).field(field)
            }
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
