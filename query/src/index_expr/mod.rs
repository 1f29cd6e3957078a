//! Index expressions in the SQL layer: `CREATE INDEX ON users ((lower(email)))`.
//!
//! The projections store an index expression as SQL text
//! ([`zqlite_projections::IndexExpression`]) and evaluate it through the compiler this
//! module registers ([`register`], called whenever a database opens):
//!
//! - `compile.rs`: binding an expression over its table's columns with PostgreSQL's rules
//!   for index expressions (no aggregates, window or set-returning functions, subqueries or
//!   parameters; IMMUTABLE calls only, 42P17 otherwise), the compiled form
//!   ([`BoundIndexExpr`]: the bound expression, its type and how PostgreSQL prints it), the
//!   names PostgreSQL derives from an expression (`users_lower_idx`), and the rewrites and
//!   dependencies ALTER TABLE needs.
//! - `deparse.rs`: the expression as `pg_get_indexdef` prints it (`lower(email)`,
//!   `(doc ->> 'key'::text)`).
//!
//! The planner matches a WHERE comparison against an index whose leading key column is an
//! expression by comparing bound forms: both sides are bound by the same binder and folded
//! the same way, so a structurally equal expression is the same computation.
//!
//! Invariant: the stored text is sqlparser's rendering of the expression as written (outer
//! parentheses removed); it binds the same way every time, so the compiled form is a pure
//! function of the text and the table's columns.

mod compile;
mod deparse;

pub use compile::register;
pub(crate) use compile::{
    bind_new, bound, column_label, index_reads_column, rename_column, stored_text,
};
