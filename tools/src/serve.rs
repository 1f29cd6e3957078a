//! `zqlite serve`: the PostgreSQL wire protocol server over a data directory.
//!
//! Lifecycle: open (or create) the data directory, listen, serve until SIGTERM or SIGINT,
//! then stop accepting, let statements in flight finish (bounded), close the database
//! (which writes a checkpoint) and exit 0.
//!
//! Logging goes to stderr through `tracing`; `RUST_LOG` (or `ZQLITE_LOG`) sets the filter,
//! default `info`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use zqlite_projections::StoreOptions;
use zqlite_query::Database;
use zqlite_server::{PgConfig, PgServer};

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
    /// Seconds shutdown waits for statements in flight.
    #[arg(long, default_value_t = 10)]
    shutdown_grace_secs: u64,
    /// Checkpoints kept: after writing one (every 64 MiB of log and at shutdown) the server
    /// deletes all but the newest N. Same setting as `zqlite checkpoint --keep`.
    #[arg(
        long,
        env = "ZQLITE_KEEP_CHECKPOINTS",
        default_value_t = crate::checkpoint::default_keep(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    keep_checkpoints: u64,
}

pub fn run(args: &Args) -> Result<()> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let opts = StoreOptions {
        checkpoints_kept: usize::try_from(args.keep_checkpoints).unwrap_or(usize::MAX),
        ..StoreOptions::default()
    };
    let db = Database::open_with(&args.data, opts)
        .with_context(|| format!("cannot open the data directory {}", args.data.display()))?;
    let config = PgConfig {
        listen: args.pg_listen,
        max_connections: args.max_connections,
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        ..PgConfig::default()
    };
    runtime.block_on(async {
        let server = PgServer::bind(db.clone(), config).await?;
        tracing::info!(
            data = %args.data.display(),
            listen = %server.local_addr()?,
            "zqlite is ready for PostgreSQL connections"
        );
        server.run(shutdown_signal()).await?;
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
