//! zqlite's SQL layer (PostgreSQL dialect, parsed by `sqlparser`).
//!
//! The life of a statement:
//! 1. [`Session::execute`] (`session.rs`) parses the text with [`session::parse`]
//!    (sqlparser, PostgreSQL dialect; syntax errors carry line and column) and runs each
//!    statement in order, choosing the state to read (the latest snapshot, or the open
//!    transaction block's) and, for writes, the transaction to change
//!    ([`zqlite_projections::Store::write_at_head`] for autocommit).
//! 2. [`bind::Binder::query`] (`bind/`) resolves names against that state's catalog
//!    (views are expanded from their stored SQL text here), types every expression with the
//!    value layer's rules, and builds a logical [`plan::Plan`] tree.
//! 3. [`optimizer::optimize`] runs the rules of `optimizer.rs` in order: filter push-down,
//!    index scans, index nested-loop joins.
//! 4. [`exec::Exec::run`] (`exec/`) executes the plan on the immutable state and returns
//!    rows; expressions are evaluated by `Exec::eval` with the value layer's operators and
//!    casts, and `functions.rs` for named functions.
//! 5. Writes: `dml.rs` computes rows to insert/update/delete with the executor and applies
//!    them to the [`zqlite_projections::Transaction`]; `ddl.rs` turns DDL into catalog
//!    changes. At COMMIT (or right away, in autocommit) the store appends one log record and
//!    waits until it is durable.
//! 6. Each statement returns a [`QueryResult`]: rows with column names and types, or a
//!    command tag. Every error is an [`Error`] with a SQLSTATE.
//!
//! SQL values (types, text I/O, casts, operators) live in `zqlite_projections::value`,
//! since stored rows are made of them; they are re-exported here.

#![forbid(unsafe_code)]

mod alter;
pub mod array_functions;
pub mod as_of;
pub mod bind;
mod database;
mod datetime_format;
pub mod datetime_functions;
mod ddl;
mod dml;
pub mod error;
pub mod events;
pub mod exec;
pub mod expr;
mod fold;
pub mod functions;
mod hash_text;
mod index_expr;
mod json_build;
pub mod json_functions;
mod json_text;
mod jsonb_ops;
mod jsonpath;
mod maintenance;
mod materialized;
mod math_functions;
pub mod optimizer;
pub mod pattern;
pub mod plan;
mod prepared;
mod regexp_functions;
mod result;
pub mod result_cache;
mod roles;
pub mod scram;
mod sequences;
pub mod session;
pub mod set_functions;
pub mod system;
pub mod text_functions;
mod update_syntax;
mod window_syntax;

pub use database::Database;
pub use error::{Error, Location, Result};
pub use index_expr::register as register_index_expressions;
pub use prepared::Prepared;
pub use result::{Column, QueryResult};
pub use session::{InterruptHandle, Session};
pub use zqlite_projections::value::{self, DataType, Value, ValueError};
