//! `zqlite serve`: the PostgreSQL wire protocol server and the HTTP API over a data
//! directory.
//!
//! Lifecycle: open (or create) the data directory, listen on both addresses, serve until
//! SIGTERM or SIGINT, then stop accepting on both, let statements in flight finish (bounded), close the database
//! (which writes a checkpoint) and exit 0.
//!
//! Logging goes to stderr through `tracing`; `RUST_LOG` (or `ZQLITE_LOG`) sets the filter,
//! default `info`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;
use zqlite_query::Database;
use zqlite_server::{HttpConfig, HttpServer, PgConfig, PgServer};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (created if missing).
    #[arg(long, env = "ZQLITE_DATA", default_value = "zqlite-data")]
    data: PathBuf,
    /// Address for PostgreSQL clients.
    #[arg(long, env = "ZQLITE_PG_LISTEN", default_value = "127.0.0.1:5433")]
    pg_listen: SocketAddr,
    /// Most client connections served at once (one more gets SQLSTATE 53300).
    #[arg(long, env = "ZQLITE_MAX_CONNECTIONS", default_value_t = 200)]
    max_connections: usize,
    /// Address for the HTTP API.
    #[arg(long, env = "ZQLITE_HTTP_LISTEN", default_value = "127.0.0.1:8080")]
    http_listen: SocketAddr,
    /// Largest HTTP request body, in bytes (a larger one gets 413).
    #[arg(long, default_value_t = 16 << 20)]
    http_max_body_bytes: usize,
    /// Seconds shutdown waits for statements in flight.
    #[arg(long, default_value_t = 10)]
    shutdown_grace_secs: u64,
}

pub fn run(args: &Args) -> Result<()> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let db = Database::open(&args.data)
        .with_context(|| format!("cannot open the data directory {}", args.data.display()))?;
    let config = PgConfig {
        listen: args.pg_listen,
        max_connections: args.max_connections,
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        ..PgConfig::default()
    };
    let http_config = HttpConfig {
        listen: args.http_listen,
        max_body_bytes: args.http_max_body_bytes,
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        ..HttpConfig::default()
    };
    runtime.block_on(async {
        let pg = PgServer::bind(db.clone(), config).await?;
        let http = HttpServer::bind(db.clone(), http_config).await?;
        tracing::info!(
            data = %args.data.display(),
            pg_listen = %pg.local_addr()?,
            http_listen = %http.local_addr()?,
            "zqlite is ready for PostgreSQL and HTTP connections"
        );
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        });
        let until_stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let (pg, http) = tokio::join!(
            pg.run(until_stopped(stopped.clone())),
            http.run(until_stopped(stopped)),
        );
        pg?;
        http?;
        anyhow::Ok(())
    })?;
    // Connection tasks that outlived the grace period may still hold sessions; the runtime
    // shutdown below drops them so the database can close.
    runtime.shutdown_timeout(Duration::from_secs(1));
    db.close().context("cannot close the database")?;
    tracing::info!("database closed; bye");
    Ok(())
}

/// Completes on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the server with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}

/// `tracing` to stderr, filtered by `ZQLITE_LOG` or `RUST_LOG` (default `info`).
pub(crate) fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("ZQLITE_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
