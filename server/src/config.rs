//! [`PgConfig`]: the PostgreSQL listener's settings.

use std::net::SocketAddr;
use std::time::Duration;

/// Settings of the PostgreSQL wire protocol listener.
#[derive(Debug, Clone)]
pub struct PgConfig {
    /// Address to listen on (default `127.0.0.1:5433`).
    pub listen: SocketAddr,
    /// Connections served at once; one more gets SQLSTATE 53300 (default 200).
    pub max_connections: usize,
    /// How long shutdown waits for in-flight statements before giving up (default 10 s).
    pub shutdown_grace: Duration,
    /// Largest frontend message accepted, in bytes; a longer one closes the connection.
    pub max_message_bytes: usize,
    /// TLS for clients that ask for it (`sslmode=require`); `None`: they are refused TLS.
    pub tls: Option<Tls>,
}

/// A TLS acceptor built by [`crate::tls_acceptor`] from certificate and key files.
#[derive(Clone)]
pub struct Tls(pub(crate) tokio_rustls::TlsAcceptor);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls(..)")
    }
}

impl Default for PgConfig {
    fn default() -> Self {
        PgConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 5433)),
            max_connections: 200,
            shutdown_grace: Duration::from_secs(10),
            max_message_bytes: 64 << 20,
            tls: None,
        }
    }
}
