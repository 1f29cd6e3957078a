//! [`HttpConfig`]: the HTTP listener's settings.

use std::net::SocketAddr;
use std::time::Duration;

/// Settings of the HTTP API listener.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; a larger one gets 413 (default 16 MiB).
    pub max_body_bytes: usize,
    /// Messages a subscription buffers for its client (default 1024).
    pub subscriber_buffer: usize,
    /// How long a subscription waits for room in a full buffer before dropping the
    /// subscriber with an error it can resume from (default 10 s).
    pub slow_subscriber_grace: Duration,
    /// How long shutdown waits for requests in flight (default 10 s).
    pub shutdown_grace: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 16 << 20,
            subscriber_buffer: 1024,
            slow_subscriber_grace: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
