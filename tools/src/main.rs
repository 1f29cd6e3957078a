//! The `zqlite` command: one binary for operators.
//!
//! Subcommands (each in its own module):
//! - `bench log`: the log's durable append and read throughput next to the disk's raw limits.
//!
//! Server, SQL shell and log inspection commands join as the crates below them grow.

mod bench_log;

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
        Command::Bench {
            target: BenchTarget::Log(args),
        } => bench_log::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zqlite: {e:#}");
            ExitCode::FAILURE
        }
    }
}
