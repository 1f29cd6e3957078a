//! [`PgServer`]: the PostgreSQL listener: accepts sockets, enforces `max_connections`,
//! spawns one task per connection and shuts down gracefully.
//!
//! Invariants:
//! - At most `max_connections` sessions exist; a client beyond that gets FATAL 53300 after
//!   its startup message, and the socket is closed.
//! - After the shutdown signal no socket is accepted; [`PgServer::run`] returns when every
//!   connection task has ended or `shutdown_grace` has passed, whichever is first. Once it
//!   returned without a timeout warning, no session holds the database any more.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pgwire::messages::startup::SecretKey;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use zqlite_projections::SecurityEvent;
use zqlite_query::{Database, InterruptHandle};

use crate::auth;
use crate::config::PgConfig;
use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::framing::MessageStream;
use crate::http::Metrics;
use crate::startup::{self, Opening};

/// How long a client may take to send its startup message.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A bound PostgreSQL listener over one [`Database`].
#[derive(Debug)]
pub struct PgServer {
    listener: TcpListener,
    db: Database,
    config: PgConfig,
    metrics: Arc<Metrics>,
}

impl PgServer {
    /// Binds `config.listen` (port 0 picks a free port: see [`PgServer::local_addr`]).
    pub async fn bind(db: Database, config: PgConfig) -> Result<PgServer> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        Ok(PgServer {
            listener,
            db,
            config,
            metrics: Arc::default(),
        })
    }

    /// Counts this server's sessions in `metrics` (shared with the HTTP server's
    /// `/metrics`).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> PgServer {
        self.metrics = metrics;
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then stops accepting, ends idle connections, and
    /// waits (at most `shutdown_grace`) for statements in flight.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let token = CancellationToken::new();
        let tracker = TaskTracker::new();
        let permits = Arc::new(Semaphore::new(self.config.max_connections));
        let pids = Arc::new(AtomicI32::new(1));
        let cancel_keys = CancelKeys::default();
        tokio::pin!(shutdown);
        loop {
            let (socket, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Typically EMFILE: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = socket.set_nodelay(true);
            let shared = Shared {
                db: self.db.clone(),
                max_bytes: self.config.max_message_bytes,
                token: token.clone(),
                keys: cancel_keys.clone(),
                tls: self.config.tls.clone().map(|t| t.0),
            };
            match permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    let pid = pids.fetch_add(1, Ordering::Relaxed);
                    let metrics = self.metrics.clone();
                    metrics.pg_connections.fetch_add(1, Ordering::Relaxed);
                    tracker.spawn(async move {
                        serve_socket(socket, peer, pid, shared).await;
                        metrics.pg_connections.fetch_sub(1, Ordering::Relaxed);
                        drop(permit);
                    });
                }
                Err(_) => {
                    tracker.spawn(reject_socket(socket, peer, shared));
                }
            }
        }
        drop(self.listener);
        drop(self.db);
        tracing::info!(
            connections = tracker.len(),
            "shutting down: no longer accepting"
        );
        token.cancel();
        tracker.close();
        if tokio::time::timeout(self.config.shutdown_grace, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                still_running = tracker.len(),
                grace = ?self.config.shutdown_grace,
                "connections still busy after the shutdown grace period"
            );
        }
        Ok(())
    }
}

/// What every connection task gets from the server.
struct Shared {
    db: Database,
    max_bytes: usize,
    token: CancellationToken,
    keys: CancelKeys,
    tls: Option<TlsAcceptor>,
}

/// The cancel key (BackendKeyData) of every live connection, by backend pid, with the
/// handle that interrupts its session's statement.
#[derive(Debug, Clone, Default)]
struct CancelKeys(Arc<Mutex<HashMap<i32, (i32, InterruptHandle)>>>);

impl CancelKeys {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, (i32, InterruptHandle)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Interrupts `pid`'s statement if `secret` is its key; whether it was.
    fn cancel(&self, pid: i32, secret: &SecretKey) -> bool {
        match (self.lock().get(&pid), secret) {
            (Some((key, handle)), SecretKey::I32(s)) if key == s => {
                handle.interrupt();
                true
            }
            _ => false,
        }
    }
}

async fn serve_socket(socket: TcpStream, peer: SocketAddr, pid: i32, shared: Shared) {
    let Shared {
        db,
        max_bytes,
        token,
        keys,
        tls,
    } = shared;
    let mut stream = MessageStream::new(socket, max_bytes);
    let opening = tokio::select! {
        o = tokio::time::timeout(STARTUP_TIMEOUT, startup::negotiate(&mut stream, tls.as_ref())) => o,
        () = token.cancelled() => return,
    };
    let info = match opening {
        Ok(Ok(Opening::Session(info))) => info,
        Ok(Ok(Opening::Cancel(c))) => {
            // PostgreSQL answers a cancel request with nothing but closing the socket.
            if keys.cancel(c.pid, &c.secret_key) {
                tracing::info!(%peer, pid = c.pid, "statement cancelled on request");
            } else {
                tracing::info!(%peer, pid = c.pid, "cancel request with an unknown key ignored");
            }
            return;
        }
        Ok(Ok(Opening::Closed)) => return,
        Ok(Err(e)) => {
            tracing::warn!(%peer, error = %e, "startup failed; connection closed");
            return;
        }
        Err(_) => {
            tracing::warn!(%peer, "startup timed out; connection closed");
            return;
        }
    };
    let catalog = db.store().snapshot().catalog().clone();
    let peer_addr = stream.peer_addr();
    let login = tokio::time::timeout(
        STARTUP_TIMEOUT,
        auth::authenticate(&mut stream, &catalog, &info.user, peer_addr),
    )
    .await;
    match login {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(refusal))) => {
            tracing::warn!(%peer, user = %info.user, code = refusal.code, "login refused");
            record_failed_login(&db, &info, peer, &refusal).await;
            let _ = startup::fatal(&mut stream, refusal.code, &refusal.message).await;
            return;
        }
        Ok(Err(e)) => {
            tracing::warn!(%peer, user = %info.user, error = %e, "authentication failed; connection closed");
            return;
        }
        Err(_) => {
            tracing::warn!(%peer, "authentication timed out; connection closed");
            return;
        }
    }
    let secret = new_secret(pid);
    if let Err(e) = startup::greet(&mut stream, &info, pid, secret) {
        tracing::warn!(%peer, error = %e, "cannot greet");
        return;
    }
    tracing::debug!(%peer, pid, user = %info.user, database = %info.database, "connected");
    let conn = Connection::new(stream, db, &info, peer_addr);
    keys.lock().insert(pid, (secret, conn.interrupt_handle()));
    let ended = conn.run(token).await;
    keys.lock().remove(&pid);
    match ended {
        Ok(()) => tracing::debug!(%peer, pid, "disconnected"),
        Err(e @ Error::Protocol(_)) => {
            tracing::warn!(%peer, pid, error = %e, "protocol violation; connection closed")
        }
        Err(e) => tracing::info!(%peer, pid, error = %e, "connection ended"),
    }
}

/// Answers a client over `max_connections` the way PostgreSQL does, then closes.
/// Appends a `login_failed` security event to the log (see docs/audit.md) and waits until
/// it is durable, so the audit relations show it once the client has its error.
async fn record_failed_login(
    db: &Database,
    info: &startup::StartupInfo,
    peer: SocketAddr,
    refusal: &auth::Refusal,
) {
    let event = SecurityEvent {
        kind: "login_failed".into(),
        user: info.user.clone(),
        client_addr: Some(peer.ip().to_string()),
        application_name: Some(info.application_name.clone()).filter(|a| !a.is_empty()),
        reason: format!("{}: {}", refusal.code, refusal.message),
    };
    let db2 = db.clone();
    let appended =
        tokio::task::spawn_blocking(move || db2.store().record_security_event(&event)).await;
    let recorded = match appended {
        Ok(Ok(pending)) => db.store().durable(pending).await.map(|_| ()),
        Ok(Err(e)) => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "could not record a failed login");
            return;
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "could not record a failed login");
    }
}

async fn reject_socket(socket: TcpStream, peer: SocketAddr, shared: Shared) {
    let mut stream = MessageStream::new(socket, shared.max_bytes);
    let negotiation = startup::negotiate(&mut stream, shared.tls.as_ref());
    let opening = tokio::time::timeout(Duration::from_secs(5), negotiation).await;
    if let Ok(Ok(Opening::Session(_))) = opening {
        tracing::warn!(%peer, "too many connections; client refused");
        let _ = startup::fatal(&mut stream, "53300", "sorry, too many clients already").await;
    }
}

/// A per-connection key for CancelRequest: SipHash under the process's random keys, so
/// another client cannot guess it from the pid.
fn new_secret(pid: i32) -> i32 {
    use std::hash::BuildHasher;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::collections::hash_map::RandomState::new().hash_one((pid, nanos)) as i32
}
