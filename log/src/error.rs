//! The log crate's one error type.
//!
//! Every variant names its cause and, where it has one, its place (file and byte offset).
//! Corruption is never repaired silently: it surfaces here, and only an explicit
//! [`RecoveryMode::Repair`](crate::RecoveryMode::Repair) open truncates past it.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use crate::record::Lsn;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{path} is not a zqlite log segment ({reason})")]
    NotALog { path: PathBuf, reason: String },

    #[error(
        "{path} uses log format version {found}, but this zqlite reads version {supported}; \
         open it with a zqlite release that supports that version"
    )]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error(
        "log corruption in {path} at byte offset {offset}: {reason}; run `zqlite log verify` \
         for a full report (a repair truncates the log at this point and loses what follows)"
    )]
    Corruption {
        path: PathBuf,
        offset: u64,
        reason: String,
    },

    #[error("record of {size} bytes exceeds the maximum record size of {max} bytes")]
    RecordTooLarge { size: usize, max: usize },

    #[error("an append needs at least one record")]
    EmptyAppend,

    #[error(
        "the log in {path} is already open in another process ({holder}); stop that process or \
         use a different data directory"
    )]
    Locked { path: PathBuf, holder: String },

    #[error(
        "the log writer stopped after an I/O error and accepts no more appends until the log is \
         reopened (the state on disk is unknown): {cause}"
    )]
    WriterFailed { cause: Arc<Error> },

    #[error("the log is closed")]
    Closed,

    #[error("invalid log options: {0}")]
    InvalidOptions(String),

    #[error("cannot encode record payload: {0}")]
    Encode(String),

    #[error("cannot decode the payload of the record at LSN {lsn}: {reason}")]
    Decode { lsn: Lsn, reason: String },
}

impl Error {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }

    /// True when the error says the bytes on disk are damaged (as opposed to an I/O failure,
    /// a misuse, or a log that is merely busy).
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. } | Error::NotALog { .. })
    }
}
