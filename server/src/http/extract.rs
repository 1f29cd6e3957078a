//! Request extraction with JSON errors: bodies (size limit → 413, malformed or mistyped
//! JSON → 400 naming line and column), path segments and query parameters.
//!
//! axum's own extractors answer rejections in plain text; these wrap them so that every
//! error is an [`ApiError`].

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body deserialized into `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "body_too_large",
                    "the request body is larger than the server's limit (--http-max-body-bytes)",
                )
            } else {
                ApiError::new(status, "invalid_body", rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON document, with the place of the first problem on error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let code = match e.classify() {
            serde_json::error::Category::Data => "invalid_field",
            _ => "malformed_json",
        };
        ApiError::bad_request(code, format!("invalid request body: {e}"))
            .with("line", e.line())
            .with("column", e.column())
    })
}

/// One path segment (percent-decoded).
#[derive(Debug)]
pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(segment) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::bad_request("invalid_path", r.body_text()))?;
        if segment.is_empty() || segment.len() > 1024 {
            return Err(ApiError::bad_request(
                "invalid_stream_name",
                "a stream name has 1 to 1024 bytes",
            ));
        }
        Ok(Segment(segment))
    }
}

/// Query parameters, read one by one with errors naming the parameter.
#[derive(Debug, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::bad_request("invalid_query", r.body_text()))?;
        Ok(Params(map))
    }
}

impl Params {
    /// A non-negative integer parameter.
    pub fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.0
            .get(name)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_query",
                        format!("query parameter {name}={v:?} is not a non-negative integer"),
                    )
                })
            })
            .transpose()
    }

    /// `true` or `false` (absent: false).
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.0.get(name).map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::bad_request(
                "invalid_query",
                format!("query parameter {name}={other:?} must be true or false"),
            )),
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A page size: default 100, at most 10,000.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.u64("limit")? {
            None => Ok(100),
            Some(n @ 1..=10_000) => Ok(n as usize),
            Some(n) => Err(ApiError::bad_request(
                "invalid_query",
                format!("limit={n} is out of range: give 1 to 10000"),
            )),
        }
    }
}
