//! [`HttpServer`]: the HTTP listener: binds, counts connections, serves the router and
//! shuts down gracefully.
//!
//! Invariants:
//! - After the shutdown signal no connection is accepted; subscriptions end (their
//!   producers watch the shutdown token), and [`HttpServer::run`] returns once every
//!   connection has closed or `shutdown_grace` has passed.
//! - `open_connections` counts sockets from accept until they are dropped.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use zqlite_query::Database;

use super::config::HttpConfig;
use super::metrics::Metrics;
use super::router::router;
use super::state::{AppState, ClientAddr};
use crate::error::{Error, Result};

/// A bound HTTP listener over one [`Database`].
#[derive(Debug)]
pub struct HttpServer {
    listener: TcpListener,
    state: AppState,
}

impl HttpServer {
    /// Binds `config.listen` (port 0 picks a free port: see [`HttpServer::local_addr`]).
    pub async fn bind(db: Database, config: HttpConfig) -> Result<HttpServer> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        Ok(HttpServer {
            listener,
            state: AppState {
                db,
                metrics: Arc::new(Metrics::default()),
                config: Arc::new(config),
                shutdown: CancellationToken::new(),
            },
        })
    }

    /// The counters `/metrics` reports (give them to [`crate::PgServer::with_metrics`] so
    /// they include its sessions).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.state.metrics.clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` completes, then stops accepting, ends subscriptions and
    /// waits (at most `shutdown_grace`) for requests in flight.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let token = self.state.shutdown.clone();
        let grace = self.state.config.shutdown_grace;
        let listener = Counting {
            inner: self.listener,
            metrics: self.state.metrics.clone(),
        };
        let app = router(self.state);
        let stop = token.clone();
        let app = app.into_make_service_with_connect_info::<ClientAddr>();
        let serve = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                stop.cancel();
            })
            .into_future();
        tokio::pin!(serve);
        tokio::select! {
            served = &mut serve => served?,
            () = async { token.cancelled().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(?grace, "HTTP connections still busy after the shutdown grace period");
            }
        }
        Ok(())
    }
}

/// The TCP listener, counting open connections.
struct Counting {
    inner: TcpListener,
    metrics: Arc<Metrics>,
}

impl axum::serve::Listener for Counting {
    type Io = CountedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (CountedStream, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((socket, peer)) => {
                    let _ = socket.set_nodelay(true);
                    self.metrics
                        .open_connections
                        .fetch_add(1, Ordering::Relaxed);
                    let stream = CountedStream {
                        inner: socket,
                        metrics: self.metrics.clone(),
                    };
                    return (stream, peer);
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Counting>>
    for ClientAddr
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, Counting>) -> ClientAddr {
        ClientAddr(*stream.remote_addr())
    }
}

/// A connection's socket; dropping it decrements the open-connection gauge.
struct CountedStream {
    inner: TcpStream,
    metrics: Arc<Metrics>,
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        self.metrics
            .open_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
