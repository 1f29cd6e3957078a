//! The route table: every path and method of the API, the body limit, the request counter
//! and the JSON fallbacks (unknown route 404, wrong method 405).

use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::json;

use super::error::ApiError;
use super::state::AppState;
use super::{openapi, sql, streams, subscribe};

/// The application with its state.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route(
            "/v1/streams/{stream}",
            post(streams::append)
                .get(streams::read)
                .delete(streams::delete),
        )
        .route("/v1/streams/{stream}/metadata", put(streams::set_metadata))
        .route("/v1/streams/{stream}/subscribe", get(subscribe::stream))
        .route("/v1/append", post(streams::append_many))
        .route("/v1/all", get(streams::read_all))
        .route("/v1/all/subscribe", get(subscribe::all))
        .route("/v1/sql", post(sql::run))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), count))
        .with_state(state)
}

async fn count(State(st): State<AppState>, request: Request, next: Next) -> Response {
    st.metrics.requests.fetch_add(1, Ordering::Relaxed);
    next.run(request).await
}

async fn not_found(request: Request) -> ApiError {
    ApiError::not_found_route(request.method().as_str(), request.uri().path())
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}; see GET /v1/openapi.json",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn healthz(State(st): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "lsn": st.store().snapshot().lsn()}))
}

async fn metrics(State(st): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(st.store()),
    )
        .into_response()
}

async fn openapi_json() -> Json<serde_json::Value> {
    Json(openapi::document())
}
