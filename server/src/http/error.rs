//! [`ApiError`]: every HTTP error, as `{"error": {"code", "message", ...}}` with its status.
//!
//! Invariant: no handler answers an error any other way, so every error body is JSON with
//! a stable machine-readable `code` and an actionable `message`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as JsonValue, json};
use zqlite_projections::Error as StoreError;

/// An error answer: status, code, message and extra fields of the error object.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub extra: Map<String, JsonValue>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
            extra: Map::new(),
        }
    }

    /// A 400 for a request that is not what the route takes.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with(mut self, key: &str, value: impl Into<JsonValue>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }

    pub fn not_found_route(method: &str, path: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route {method} {path}; see GET /v1/openapi.json"),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        match e {
            StoreError::WrongExpectedVersion {
                stream, current, ..
            } => ApiError::new(StatusCode::CONFLICT, "wrong_expected_version", message)
                .with("stream", stream)
                .with(
                    "current_version",
                    current.map_or(JsonValue::Null, JsonValue::from),
                ),
            StoreError::StreamDeleted { stream } => {
                ApiError::new(StatusCode::GONE, "stream_deleted", message).with("stream", stream)
            }
            StoreError::StreamNotFound { stream } => {
                ApiError::new(StatusCode::NOT_FOUND, "stream_not_found", message)
                    .with("stream", stream)
            }
            StoreError::DuplicateEventId { id, stream } => {
                ApiError::new(StatusCode::CONFLICT, "duplicate_event_id", message)
                    .with("stream", stream)
                    .with("id", id.to_string())
            }
            StoreError::Stopped(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "stopped", message)
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<zqlite_query::Error> for ApiError {
    /// The store's own errors keep their statuses; anything else an append can fail with
    /// is a projection statement that failed on the events (422, with its SQLSTATE).
    fn from(e: zqlite_query::Error) -> Self {
        match e {
            zqlite_query::Error::Storage(e) => ApiError::from(e),
            other => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "projection_failed",
                other.to_string(),
            )
            .with("sqlstate", other.sqlstate()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = Map::new();
        error.insert("code".into(), JsonValue::String(self.code));
        error.insert("message".into(), JsonValue::String(self.message));
        error.extend(self.extra);
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}
