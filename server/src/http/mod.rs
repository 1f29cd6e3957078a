//! The HTTP/JSON API (axum): the event store, SQL, health and metrics.
//!
//! The life of a request:
//! 1. [`HttpServer::run`] (`server.rs`) accepts a socket (counted for `/metrics`) and hands
//!    it to axum; `router.rs` maps the path and method to a handler (unknown routes and
//!    methods get JSON 404/405) behind the body limit.
//! 2. Extractors (`extract.rs`) read the body (over the limit: 413), parse JSON (malformed
//!    or mistyped: 400 naming line and column), path segments and query parameters;
//!    `model.rs` checks the event API's fields (expected versions, UUIDs, types).
//! 3. Handlers (`streams.rs`, `sql.rs`) call the store or a SQL session off the async
//!    runtime (`state.rs`) and answer only once the write is durable; reads use the latest
//!    published snapshot. `subscribe.rs` streams Server-Sent Events.
//! 4. Every error is an [`error::ApiError`]: `{"error": {"code", "message", ...}}`.
//!
//! Nothing here touches the log directly: every request is a call on the projections'
//! store or the query layer.

mod config;
mod error;
mod extract;
mod metrics;
mod model;
mod openapi;
mod router;
mod server;
mod sql;
mod state;
mod streams;
mod subscribe;
mod time;

pub use config::HttpConfig;
pub use metrics::Metrics;
pub use server::HttpServer;
pub use time::rfc3339;
