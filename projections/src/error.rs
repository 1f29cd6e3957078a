//! The projections crate's error type. Constraint and conflict errors are worded like
//! PostgreSQL's and carry its SQLSTATE, since the query layer passes them to clients as is.

use std::path::PathBuf;

use crate::value::ValueError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("duplicate key value violates unique constraint \"{constraint}\"")]
    UniqueViolation { constraint: String, detail: String },

    #[error("{message}")]
    ForeignKeyViolation {
        constraint: String,
        message: String,
        detail: String,
    },

    #[error(
        "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
    )]
    NotNullViolation { table: String, column: String },

    #[error("could not serialize access due to concurrent update")]
    SerializationFailure { detail: String },

    #[error("deadlock detected")]
    Deadlock { detail: String },

    /// A wait for a row lock ended by the session's cancel request.
    #[error("canceling statement due to user request")]
    Canceled,

    /// An autocommit write found a row locked by a transaction block; the caller waits with
    /// [`crate::Store::wait_until_unlocked`] and runs the statement again.
    #[error("row of table {table} is locked by another transaction")]
    RowLocked {
        table: u64,
        key: Vec<crate::value::Value>,
    },

    #[error("{kind} \"{name}\" already exists")]
    DuplicateObject { kind: &'static str, name: String },

    #[error("{kind} \"{name}\" does not exist")]
    UndefinedObject { kind: &'static str, name: String },

    #[error("cannot drop {kind} {name} because other objects depend on it")]
    DependentObjects {
        kind: &'static str,
        name: String,
        dependents: Vec<String>,
    },

    #[error("{0}")]
    FeatureNotSupported(String),

    #[error("{0}")]
    OutOfRange(String),

    #[error("{0}")]
    SequenceLimit(String),

    #[error(transparent)]
    Value(#[from] ValueError),

    #[error("log: {0}")]
    Log(#[from] zqlite_log::Error),

    #[error("checkpoint {path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },

    #[error("cannot decode the log record at LSN {lsn}: {reason}")]
    Decode { lsn: u64, reason: String },

    #[error(
        "the database stopped accepting writes after a log failure; restart it to recover \
         from the log: {0}"
    )]
    Stopped(String),

    #[error(
        "wrong expected version for stream \"{stream}\": expected {expected}, current {}",
        current.map_or_else(|| "none (the stream does not exist)".to_string(), |v| v.to_string())
    )]
    WrongExpectedVersion {
        stream: String,
        expected: crate::events::ExpectedVersion,
        current: Option<u64>,
    },

    #[error("stream \"{stream}\" is deleted (tombstoned) and takes no more events")]
    StreamDeleted { stream: String },

    #[error("stream \"{stream}\" not found")]
    StreamNotFound { stream: String },

    #[error("event id {id} is already stored (appending to stream \"{stream}\")")]
    DuplicateEventId { id: uuid::Uuid, stream: String },

    #[error("LSN {lsn} has not been committed: the last committed LSN is {last}")]
    FutureLsn { lsn: u64, last: u64 },

    /// An index expression failed to compile or evaluate: the SQL layer's error, passed on
    /// with its SQLSTATE (see `index_expr.rs`).
    #[error("{message}")]
    Expression {
        sqlstate: &'static str,
        message: String,
        detail: Option<String>,
    },

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The PostgreSQL SQLSTATE for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::UniqueViolation { .. } => "23505",
            Error::ForeignKeyViolation { .. } => "23503",
            Error::NotNullViolation { .. } => "23502",
            Error::SerializationFailure { .. } => "40001",
            Error::Deadlock { .. } => "40P01",
            Error::Canceled => "57014",
            Error::RowLocked { .. } => "55P03",
            Error::DuplicateObject { kind, .. } => match *kind {
                "relation" => "42P07",
                _ => "42710",
            },
            Error::UndefinedObject { kind, .. } => match *kind {
                "relation" | "table" | "view" => "42P01",
                _ => "42704",
            },
            Error::DependentObjects { .. } => "2BP01",
            Error::FeatureNotSupported(_) => "0A000",
            Error::OutOfRange(_) => "22003",
            Error::SequenceLimit(_) => "2200H",
            Error::Value(e) => e.sqlstate(),
            Error::Log(_) | Error::Checkpoint { .. } => "58030",
            Error::Decode { .. } => "XX001",
            Error::Stopped(_) => "57P03",
            // zqlite's own class `ZQ` (PostgreSQL leaves classes from I to Z to
            // implementations): clients match the event store's conflicts exactly.
            Error::WrongExpectedVersion { .. } => "ZQ001",
            Error::StreamDeleted { .. } => "ZQ002",
            Error::StreamNotFound { .. } => "42704",
            Error::DuplicateEventId { .. } => "23505",
            Error::FutureLsn { .. } => "22023",
            Error::Expression { sqlstate, .. } => sqlstate,
            Error::Internal(_) => "XX000",
        }
    }

    /// PostgreSQL's DETAIL line, when there is one.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::UniqueViolation { detail, .. }
            | Error::ForeignKeyViolation { detail, .. }
            | Error::SerializationFailure { detail }
            | Error::Deadlock { detail } => Some(detail.clone()),
            Error::DependentObjects { dependents, .. } => Some(
                dependents
                    .iter()
                    .map(|d| format!("{d} depends on it"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Error::Value(e) => e.detail().map(str::to_owned),
            Error::Expression { detail, .. } => detail.clone(),
            _ => None,
        }
    }
}
