//! The `zqlite` command: one binary for operators.
//!
//! Subcommands (each in its own module):
//! - `serve`: the PostgreSQL wire protocol server (`serve.rs`, on `zqlite-server`).
//! - `sql`: run SQL against a data directory without a server (`sql.rs`, `output.rs`).
//! - `log verify|dump|stats`: read-only tools over a data directory's log and checkpoints
//!   (`log_tools/`), safe beside a live server.
//! - `checkpoint`: write a checkpoint now (`checkpoint.rs`); refuses a directory in use.
//! - `replay`: point-in-time recovery into a new data directory (`replay.rs`); only reads
//!   the source, so it works beside a live server.
//! - `rebuild`: replay the whole log, compare with the checkpointed state, replace the
//!   checkpoints (`rebuild.rs`); refuses a directory in use.
//! - `bench log`: the log's durable append and read throughput next to the disk's raw limits.
//! - `bench replay`: replay, restart and time-travel opening times next to the raw read rate.
//! - `bench audit`: one row's history (`zq_history`) on a large log next to a full scan.
//!
//! The operator commands (`log ...`, `checkpoint`, `replay`, `rebuild`) end with the exit codes in `exit.rs`;
//! `serve` and `sql` exit 1 on any failure.

mod bench_audit;
mod bench_log;
mod bench_replay;
mod checkpoint;
mod exit;
mod log_tools;
mod output;
mod progress;
mod rebuild;
mod replay;
mod serve;
mod sql;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "zqlite",
    version,
    about = "zqlite: an event-sourced SQL database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a data directory to PostgreSQL clients (psql, drivers, pgbench).
    Serve(serve::Args),
    /// Run SQL (PostgreSQL dialect) against a data directory, without a server.
    Sql(sql::Args),
    /// Inspect a data directory's log (read-only; works beside a live server).
    #[command(after_help = exit::EXIT_CODES)]
    Log {
        #[command(subcommand)]
        command: log_tools::LogCommand,
    },
    /// Write a checkpoint of a data directory now and prune old ones (not while a server
    /// holds the directory).
    #[command(after_help = exit::EXIT_CODES)]
    Checkpoint(checkpoint::Args),
    /// Point-in-time recovery: a new data directory holding exactly the state at an LSN or
    /// a time (reads the source only; works beside a live server).
    #[command(after_help = exit::EXIT_CODES)]
    Replay(replay::Args),
    /// Replay the whole log, compare its state digest with the checkpointed state's, and
    /// replace the checkpoints with a fresh one (not while a server holds the directory).
    #[command(after_help = exit::EXIT_CODES)]
    Rebuild(rebuild::Args),
    /// Benchmarks, each printed next to a reference measured in the same run.
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Debug, Subcommand)]
enum BenchTarget {
    /// Durable append throughput (1, 16, 256 appenders) and sequential reads, against the
    /// disk's raw fdatasync rate and write bandwidth.
    Log(bench_log::Args),
    /// Full replay rate next to the raw read rate of the same log, restart time with a
    /// recent checkpoint, and the time to open a past state (time travel) mid-log.
    Replay(bench_replay::Args),
    /// One row's history through the audit index on a large generated log, against a
    /// full read of the log.
    Audit(bench_audit::Args),
}

fn main() -> ExitCode {
    // Replay, rebuild and checkpoint tools open states without a `Database`; index
    // expressions in their logs are evaluated by the SQL layer.
    zqlite_query::register_index_expressions();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&args),
        Command::Sql(args) => sql::run(&args),
        Command::Log { command } => operator(|| log_tools::run(&command)),
        Command::Checkpoint(args) => operator(|| checkpoint::run(&args)),
        Command::Replay(args) => operator(|| replay::run(&args)),
        Command::Rebuild(args) => operator(|| rebuild::run(&args)),
        Command::Bench {
            target: BenchTarget::Log(args),
        } => bench_log::run(&args),
        Command::Bench {
            target: BenchTarget::Replay(args),
        } => bench_replay::run(&args),
        Command::Bench {
            target: BenchTarget::Audit(args),
        } => bench_audit::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<exit::Failure>() => {
            eprintln!("zqlite: {e:#}");
            ExitCode::from(exit::exit_of(&e) as u8)
        }
        // The statement's error was already printed, psql-style.
        Err(e) if e.is::<sql::StatementFailed>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("zqlite: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an operator command: logs to stderr, and every error carries an exit code
/// (`exit.rs`).
fn operator(command: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
    serve::init_logging();
    command().map_err(|e| match e.is::<exit::Failure>() {
        true => e,
        false => exit::fail(exit::Exit::Failed, e),
    })
}
