//! `zqlite serve`: the PostgreSQL wire protocol server and the HTTP API over a data
//! directory.
//!
//! Lifecycle: open (or create) the data directory, listen on both addresses, serve until
//! SIGTERM or SIGINT, then stop accepting on both, let statements in flight finish
//! (bounded), close the database (which writes a checkpoint) and exit 0.
//!
//! Logging goes to stderr through `tracing`; `RUST_LOG` (or `ZQLITE_LOG`) sets the filter,
//! default `info`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::watch;
use zqlite_projections::StoreOptions;
use zqlite_query::Database;
use zqlite_server::{HttpConfig, HttpServer, PgConfig, PgServer};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A TOML file with any of the settings below (`data = "..."`, `pg_listen = "..."`,
    /// `http_listen = "..."`, `http_max_body_bytes = 16777216`,
    /// `max_connections = 200`, `shutdown_grace_secs = 10`, `tls_cert = "..."`,
    /// `tls_key = "..."`, `keep_checkpoints = 2`, `query_cache_mib = 0`). Command-line flags and environment variables override it.
    #[arg(long, env = "ZQLITE_CONFIG")]
    config: Option<PathBuf>,
    /// The data directory, created if missing [default: zqlite-data].
    #[arg(long, env = "ZQLITE_DATA")]
    data: Option<PathBuf>,
    /// Address for PostgreSQL clients [default: 127.0.0.1:5433].
    #[arg(long, env = "ZQLITE_PG_LISTEN")]
    pg_listen: Option<SocketAddr>,
    /// Address for the HTTP API [default: 127.0.0.1:8080].
    #[arg(long, env = "ZQLITE_HTTP_LISTEN")]
    http_listen: Option<SocketAddr>,
    /// Largest HTTP request body, in bytes; a larger one gets 413 [default: 16 MiB].
    #[arg(long)]
    http_max_body_bytes: Option<usize>,
    /// Most client connections served at once; one more gets SQLSTATE 53300 [default: 200].
    #[arg(long, env = "ZQLITE_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Seconds shutdown waits for statements in flight [default: 10].
    #[arg(long)]
    shutdown_grace_secs: Option<u64>,
    /// PEM certificate chain: clients asking for TLS (`sslmode=require`) get it.
    #[arg(long, env = "ZQLITE_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, env = "ZQLITE_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// Checkpoints kept: after writing one (every 64 MiB of log and at shutdown) the server
    /// deletes all but the newest N. Same setting as `zqlite checkpoint --keep` [default: 2].
    #[arg(
        long,
        env = "ZQLITE_KEEP_CHECKPOINTS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    keep_checkpoints: Option<u64>,
    /// Older checkpoints kept besides the newest ones, spread evenly over the log, for time
    /// travel (`SET zq.as_of` replays from the nearest checkpoint before its point); 0 keeps
    /// none [default: 4].
    #[arg(long, env = "ZQLITE_HISTORY_CHECKPOINTS")]
    history_checkpoints: Option<u64>,
    /// MiB of log between automatic checkpoints: smaller means faster restarts and time
    /// travel, more checkpoint writing [default: 64].
    #[arg(
        long,
        env = "ZQLITE_CHECKPOINT_EVERY_MIB",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    checkpoint_every_mib: Option<u64>,
    /// MiB of query answers the result cache may hold; answers of read-only queries are
    /// served again until a commit changes a table they read. 0 turns it off [default: 0].
    #[arg(long, env = "ZQLITE_QUERY_CACHE_MIB")]
    query_cache_mib: Option<u64>,
}

/// The settings of a `--config` file; every key is optional, unknown keys are errors.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data: Option<PathBuf>,
    pg_listen: Option<SocketAddr>,
    http_listen: Option<SocketAddr>,
    http_max_body_bytes: Option<usize>,
    max_connections: Option<usize>,
    shutdown_grace_secs: Option<u64>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    keep_checkpoints: Option<u64>,
    history_checkpoints: Option<u64>,
    checkpoint_every_mib: Option<u64>,
    query_cache_mib: Option<u64>,
}

/// The settings in effect: flags and environment, then the file, then the defaults.
#[derive(Debug)]
struct Settings {
    data: PathBuf,
    pg_listen: SocketAddr,
    http_listen: SocketAddr,
    http_max_body_bytes: usize,
    max_connections: usize,
    shutdown_grace: Duration,
    tls: Option<(PathBuf, PathBuf)>,
    keep_checkpoints: usize,
    history_checkpoints: usize,
    checkpoint_bytes: u64,
    query_cache_bytes: usize,
}

impl Settings {
    fn resolve(args: &Args) -> Result<Settings> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                toml::from_str::<FileSettings>(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => FileSettings::default(),
        };
        // Relative paths in the file are relative to the file, not to the working directory.
        let base = args
            .config
            .as_deref()
            .and_then(std::path::Path::parent)
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let from_file = |p: Option<PathBuf>| p.map(|p| base.join(p));
        let tls_cert = args.tls_cert.clone().or_else(|| from_file(file.tls_cert));
        let tls_key = args.tls_key.clone().or_else(|| from_file(file.tls_key));
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => anyhow::bail!("TLS needs both a certificate and a key (tls_cert and tls_key)"),
        };
        Ok(Settings {
            data: args
                .data
                .clone()
                .or_else(|| from_file(file.data))
                .unwrap_or_else(|| PathBuf::from("zqlite-data")),
            pg_listen: args
                .pg_listen
                .or(file.pg_listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5433))),
            http_listen: args
                .http_listen
                .or(file.http_listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            http_max_body_bytes: args
                .http_max_body_bytes
                .or(file.http_max_body_bytes)
                .unwrap_or(16 << 20),
            max_connections: args.max_connections.or(file.max_connections).unwrap_or(200),
            shutdown_grace: Duration::from_secs(
                args.shutdown_grace_secs
                    .or(file.shutdown_grace_secs)
                    .unwrap_or(10),
            ),
            tls,
            keep_checkpoints: match args.keep_checkpoints.or(file.keep_checkpoints) {
                Some(0) => anyhow::bail!("keep_checkpoints must be at least 1"),
                Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
                None => crate::checkpoint::default_keep() as usize,
            },
            history_checkpoints: args
                .history_checkpoints
                .or(file.history_checkpoints)
                .map_or(StoreOptions::default().history_checkpoints, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                }),
            checkpoint_bytes: match args.checkpoint_every_mib.or(file.checkpoint_every_mib) {
                Some(0) => anyhow::bail!("checkpoint_every_mib must be at least 1"),
                Some(mib) => mib.saturating_mul(1 << 20),
                None => StoreOptions::default().checkpoint_bytes,
            },
            query_cache_bytes: args
                .query_cache_mib
                .or(file.query_cache_mib)
                .map_or(0, |mib| {
                    usize::try_from(mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
                }),
        })
    }
}

pub fn run(args: &Args) -> Result<()> {
    init_logging();
    let settings = Settings::resolve(args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let tls = match &settings.tls {
        Some((cert, key)) => {
            Some(zqlite_server::tls_acceptor(cert, key).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let opts = StoreOptions {
        checkpoints_kept: settings.keep_checkpoints,
        history_checkpoints: settings.history_checkpoints,
        checkpoint_bytes: settings.checkpoint_bytes,
        ..StoreOptions::default()
    };
    let db = Database::open_with(&settings.data, opts)
        .with_context(|| format!("cannot open the data directory {}", settings.data.display()))?;
    db.set_query_cache_capacity(settings.query_cache_bytes);
    let config = PgConfig {
        listen: settings.pg_listen,
        max_connections: settings.max_connections,
        shutdown_grace: settings.shutdown_grace,
        tls,
        ..PgConfig::default()
    };
    let http_config = HttpConfig {
        listen: settings.http_listen,
        max_body_bytes: settings.http_max_body_bytes,
        shutdown_grace: settings.shutdown_grace,
        ..HttpConfig::default()
    };
    runtime.block_on(async {
        let http = HttpServer::bind(db.clone(), http_config).await?;
        let pg = PgServer::bind(db.clone(), config)
            .await?
            .with_metrics(http.metrics());
        tracing::info!(
            data = %settings.data.display(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn settings(flags: &[&str]) -> Result<Settings> {
        let cli = Cli::try_parse_from(std::iter::once("serve").chain(flags.iter().copied()))?;
        Settings::resolve(&cli.args)
    }

    #[test]
    fn flags_override_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("zqlite.toml");
        let flag = |p: &std::path::Path| p.to_str().unwrap().to_string();
        std::fs::write(
            &file,
            "data = \"db\"\npg_listen = \"0.0.0.0:6000\"\nmax_connections = 50\n",
        )
        .unwrap();
        let s = settings(&["--config", &flag(&file)]).unwrap();
        assert_eq!(s.data, dir.path().join("db"), "relative to the file");
        assert_eq!(s.pg_listen, "0.0.0.0:6000".parse().unwrap());
        assert_eq!(s.max_connections, 50);
        assert_eq!(s.shutdown_grace, Duration::from_secs(10), "default");
        let s = settings(&["--config", &flag(&file), "--max-connections", "7"]).unwrap();
        assert_eq!(s.max_connections, 7);
        assert_eq!(s.query_cache_bytes, 0, "the result cache is off by default");
        let s = settings(&["--query-cache-mib", "16"]).unwrap();
        assert_eq!(s.query_cache_bytes, 16 << 20);
        let s = settings(&[]).unwrap();
        assert_eq!(
            (s.data, s.pg_listen.to_string()),
            (PathBuf::from("zqlite-data"), "127.0.0.1:5433".into())
        );

        std::fs::write(&file, "max_conections = 5\n").unwrap();
        let e = settings(&["--config", &flag(&file)]).unwrap_err();
        assert!(
            format!("{e:#}").contains("unknown field `max_conections`"),
            "{e:#}"
        );
        std::fs::write(&file, "tls_cert = \"c.pem\"\n").unwrap();
        let e = settings(&["--config", &flag(&file)]).unwrap_err();
        assert!(
            e.to_string().contains("both a certificate and a key"),
            "{e}"
        );
        let e = settings(&["--config", "/nonexistent/zqlite.toml"]).unwrap_err();
        assert!(e.to_string().contains("cannot read the config file"), "{e}");
    }

    #[test]
    fn checkpoint_settings_come_from_flags_or_the_file() {
        let s = settings(&[]).unwrap();
        assert_eq!(
            (
                s.keep_checkpoints,
                s.history_checkpoints,
                s.checkpoint_bytes
            ),
            (2, 4, 64 << 20),
            "defaults"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("zqlite.toml");
        std::fs::write(
            &file,
            "history_checkpoints = 10\ncheckpoint_every_mib = 8\nkeep_checkpoints = 3\n",
        )
        .unwrap();
        let config = file.to_str().unwrap();
        let s = settings(&["--config", config]).unwrap();
        assert_eq!(
            (
                s.keep_checkpoints,
                s.history_checkpoints,
                s.checkpoint_bytes
            ),
            (3, 10, 8 << 20)
        );
        let s = settings(&["--config", config, "--history-checkpoints", "0"]).unwrap();
        assert_eq!(s.history_checkpoints, 0, "0 keeps no history checkpoints");
        assert!(settings(&["--checkpoint-every-mib", "0"]).is_err());
        std::fs::write(&file, "checkpoint_every_mib = 0\n").unwrap();
        let e = settings(&["--config", config]).unwrap_err();
        assert!(e.to_string().contains("at least 1"), "{e}");
    }
}
