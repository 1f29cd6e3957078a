//! `zqlite log verify|dump|stats`: read-only tools over a data directory's log and
//! checkpoints.
//!
//! A data directory holds the log in `DATA/log` and checkpoints in `DATA/snapshots`. These
//! commands never take the log's lock (`DATA/log/LOCK`) and never write, so they work beside a
//! live server and on a copy: they list the segments once and read each whole when they get
//! to it, so they see the records that were durable by then. Each command's exit code follows
//! [`crate::exit::EXIT_CODES`].
//!
//! - `verify.rs`: every frame's CRC, LSN continuity, headers and the hash chain (the log
//!   crate's `verify`), and every checkpoint read back as opening would.
//! - `dump.rs`: records decoded to text or JSON lines, filtered by LSN, time and table.
//! - `stats.rs`: counts per kind and per table, sizes, ranges.
//! - `decode.rs`: records made readable (table ids to names, rows to objects).
//! - `time.rs`: RFC 3339 timestamps.

mod decode;
mod dump;
mod stats;
pub mod time;
mod verify;

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use zqlite_log::{Lsn, RealFs};

use crate::exit::{EXIT_CODES, Exit, fail};

#[derive(Debug, clap::Subcommand)]
pub enum LogCommand {
    /// Check every segment (frame CRCs, LSN continuity, headers, hash chain) and every
    /// checkpoint; print the file and offset of each problem.
    #[command(after_help = EXIT_CODES)]
    Verify(verify::Args),
    /// Print records decoded: LSN, commit time, who, and each change with its table and row.
    #[command(after_help = EXIT_CODES)]
    Dump(dump::Args),
    /// Count segments, records, bytes, records per kind and changes per table.
    #[command(after_help = EXIT_CODES)]
    Stats(stats::Args),
}

pub fn run(command: &LogCommand) -> anyhow::Result<()> {
    match command {
        LogCommand::Verify(args) => verify::run(args),
        LogCommand::Dump(args) => dump::run(args),
        LogCommand::Stats(args) => stats::run(args),
    }
}

/// The places inside an existing data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    pub root: PathBuf,
    pub log: PathBuf,
    pub snapshots: PathBuf,
}

impl DataDir {
    /// The data directory at `root`, which must exist and hold a log (commands that only
    /// inspect must not create one by accident).
    pub fn existing(root: &Path) -> anyhow::Result<DataDir> {
        if !root.is_dir() {
            return Err(fail(
                Exit::Usage,
                anyhow!(
                    "the data directory {} does not exist (give the --data of `zqlite serve`)",
                    root.display()
                ),
            ));
        }
        let log = root.join("log");
        if !log.is_dir() {
            return Err(fail(
                Exit::Usage,
                anyhow!(
                    "{} is not a zqlite data directory: it has no log/ directory",
                    root.display()
                ),
            ));
        }
        Ok(DataDir {
            root: root.to_path_buf(),
            log,
            snapshots: root.join("snapshots"),
        })
    }
}

/// A checkpoint file as found on disk.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    pub lsn: Lsn,
    pub path: PathBuf,
    pub bytes: u64,
}

/// Checkpoint files of a data directory, newest first.
pub fn checkpoint_files(dir: &DataDir) -> Vec<CheckpointFile> {
    zqlite_projections::checkpoint_files(&RealFs, &dir.snapshots)
        .into_iter()
        .map(|(lsn, path)| CheckpointFile {
            lsn,
            bytes: std::fs::metadata(&path).map_or(0, |m| m.len()),
            path,
        })
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Writes to stdout; a closed pipe (`zqlite log dump | head`) ends the output quietly.
pub fn is_broken_pipe(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::BrokenPipe
}
