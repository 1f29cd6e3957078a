//! zqlite's SQL layer (PostgreSQL dialect, parsed by `sqlparser`).
//!
//! This crate will own the path of a statement: parse, bind names and types against a
//! snapshot's catalog, plan, optimise and execute. Reads run on an immutable snapshot; writes
//! build a change set that the projections' committer turns into one log record. It also hosts
//! the embedded API (`Database::open(dir)`).
//!
//! SQL values (types, text I/O, casts, operators) live in `zqlite_projections::value`, since
//! stored rows are made of them; they are re-exported here.

#![forbid(unsafe_code)]

pub use zqlite_projections::value::{self, DataType, Value, ValueError};
