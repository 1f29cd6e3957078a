//! The `zqlite` command: one binary for operators.
//!
//! Subcommands (each in its own module):
//! - `serve`: the PostgreSQL wire protocol server (`serve.rs`, on `zqlite-server`).
//! - `sql`: run SQL against a data directory without a server (`sql.rs`, `output.rs`).
//! - `bench log`: the log's durable append and read throughput next to the disk's raw limits.
//!
//! Server, SQL shell and log inspection commands join as the crates below them grow.

mod bench_log;
mod output;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&args),
        Command::Sql(args) => sql::run(&args),
        Command::Bench {
            target: BenchTarget::Log(args),
        } => bench_log::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The statement's error was already printed, psql-style.
        Err(e) if e.is::<sql::StatementFailed>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("zqlite: {e:#}");
            ExitCode::FAILURE
        }
    }
}
