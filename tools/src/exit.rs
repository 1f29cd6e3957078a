//! Exit codes of the operator commands (`zqlite log verify|dump|stats`, `zqlite checkpoint`,
//! `zqlite replay`, `zqlite rebuild`)
//! and the error that carries one to `main`.
//!
//! The codes are part of the command-line interface: scripts and monitoring branch on them,
//! so they only ever gain meanings, never change them. [`EXIT_CODES`] is the text `--help`
//! shows.

use std::fmt;

/// What `--help` of the operator commands says about exit codes.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (for `log verify`: the log is sound; warnings may have been printed)
  1  damage or mismatch: `log verify` found problems (each printed with file and offset),
     `log dump`/`log stats`/`checkpoint`/`replay`/`rebuild` stopped at damaged or
     undecodable log data, or `rebuild` found the checkpointed state's digest differs
     from a full replay's
  2  bad invocation: unknown option, bad LSN range or timestamp (or one past the end of the
     log, or before its first record), a missing or non-zqlite data directory, or a
     `replay --out` that exists and is not empty
  3  the data directory is held by a live zqlite process (`checkpoint` and `rebuild` write
     and refuse to run beside it; `log verify|dump|stats` and `replay` only read the source
     and work beside it)
  4  any other failure (an I/O error, for example)";

/// The non-zero outcomes; see [`EXIT_CODES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Damaged = 1,
    Usage = 2,
    Locked = 3,
    Failed = 4,
}

/// An error that ends the command with a particular exit code.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Failure {}

/// An error ending the command with `exit`.
pub fn fail(exit: Exit, error: impl Into<anyhow::Error>) -> anyhow::Error {
    Failure {
        exit,
        error: error.into(),
    }
    .into()
}

/// The exit code for an error from an operator command: its own when it carries one,
/// [`Exit::Failed`] otherwise.
pub fn exit_of(error: &anyhow::Error) -> Exit {
    error
        .downcast_ref::<Failure>()
        .map_or(Exit::Failed, |f| f.exit)
}
