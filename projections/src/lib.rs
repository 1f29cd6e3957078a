//! zqlite's projections: the relational state derived from the log.
//!
//! This crate will own the catalog, tables, secondary indexes and event streams, all built by
//! applying `zqlite-log` records in LSN order; the single committer that validates a
//! transaction, appends it as one log record and publishes a new immutable snapshot once the
//! record is durable; and checkpoints of that state. Invariant: the state is a pure function of
//! the log, so deleting every checkpoint and replaying from LSN 1 yields the same state digest.
//!
//! Built so far: [`value`], SQL values with PostgreSQL's semantics (types, text input and
//! output, casts, operators, comparison and hashing), from which rows are made.

#![forbid(unsafe_code)]

pub mod value;

pub use value::{DataType, Value, ValueError};
