//! The server crate's error type: what can stop the listener or one connection.
//!
//! SQL errors are not here: they are answered to the client (`sqlerror.rs`) and the
//! connection goes on.

use std::net::SocketAddr;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },

    /// A socket read or write failed.
    #[error("connection I/O: {0}")]
    Io(#[from] std::io::Error),

    /// The client broke the protocol (bad length, unknown message type, truncated frame,
    /// oversized message, a message out of place): its connection is closed.
    #[error("protocol violation: {0}")]
    Protocol(String),

    /// A statement's worker thread failed (it panicked): the connection is closed.
    #[error("statement worker failed: {0}")]
    Worker(String),
}
