//! zqlite's SQL layer (PostgreSQL dialect, parsed by `sqlparser`).
//!
//! This crate will own the path of a statement: parse, bind names and types against a
//! snapshot's catalog, plan, optimise and execute. Reads run on an immutable snapshot; writes
//! build a change set that the projections' committer turns into one log record. It also hosts
//! the embedded API (`Database::open(dir)`).
