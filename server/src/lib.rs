//! zqlite's network front ends: the PostgreSQL wire protocol server, and the HTTP/JSON API
//! (`http/`, whose module documentation walks through a request).
//!
//! The life of a connection:
//! 1. [`PgServer::run`] (`server.rs`) accepts a socket, takes one of `max_connections`
//!    permits (or answers SQLSTATE 53300 and closes), and spawns a task for it.
//! 2. `startup.rs` negotiates (SSL refused, protocol 3.0), trusts loopback peers and sends
//!    `AuthenticationOk`, the `ParameterStatus` set and `ReadyForQuery`.
//! 3. `connection.rs` reads frontend messages (`framing.rs`, on `pgwire`'s message codec) and
//!    runs them on the connection's [`zqlite_query::Session`], off the async runtime
//!    (`blocking.rs`): simple queries are split into statements (`split.rs`); the extended
//!    protocol keeps prepared statements and portals (`portal.rs`) with parameter types
//!    inferred by `infer.rs`, decoded by `params.rs`; `COPY ... FROM STDIN` is parsed by
//!    `copy.rs` and run by `copy_in.rs`; SET/SHOW/RESET of the session parameters are
//!    answered by `settings.rs`.
//! 4. Results are encoded in text or binary format by `encode.rs`; errors become
//!    `ErrorResponse`s with SQLSTATE, detail and position (`sqlerror.rs`).
//! 5. On shutdown the listener closes, idle connections get FATAL 57P01 between messages,
//!    and `run` returns once every connection has ended (or the grace period is over).
//!
//! Nothing here touches the log directly: every request is a call on the query layer (or,
//! for the HTTP event API, on the projections' store).

#![forbid(unsafe_code)]

mod auth;
mod blocking;
mod config;
mod connection;
mod copy;
mod copy_in;
mod copy_out;
mod encode;
mod error;
mod extended;
mod framing;
mod http;
mod infer;
mod params;
mod portal;
mod server;
mod settings;
mod split;
mod sqlerror;
mod startup;
mod tls;

/// Loads a certificate chain and private key (PEM files) for [`PgConfig::tls`].
pub fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::result::Result<Tls, String> {
    tls::acceptor(cert, key).map(Tls)
}

pub use config::{PgConfig, Tls};
pub use error::{Error, Result};
pub use http::{HttpConfig, HttpServer, Metrics, rfc3339};
pub use server::PgServer;
