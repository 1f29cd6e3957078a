//! The event store from SQL: appends (`zq_append`), projections defined in SQL, and the
//! functions that manage them. Every append that goes through here — `zq_append` over the
//! wire protocol and the HTTP API's appends alike — runs the inline projections in the same
//! transaction, so a reader never sees an event without its projection rows.
//!
//! The life of an SQL append:
//! 1. `SELECT * FROM zq_append('order-1', 3, '[...]'::jsonb)` reaches
//!    [`crate::Session`], which sees a write function in FROM (`calls.rs`) and routes the
//!    statement to its write path: the open block's transaction, or, in autocommit, a
//!    transaction at the head ([`zqlite_projections::Store::write_at_head`]).
//! 2. `calls.rs` evaluates the arguments, and [`append`] (`append.rs`) appends with
//!    [`zqlite_projections::Transaction::append_events`] (expected versions, idempotent
//!    retries), then runs every projection whose event types match each new event
//!    (`projection.rs`), and records each projection's progress
//!    ([`zqlite_projections::Change::SetProjectionProgress`]).
//! 3. The results become the rows of the `zq_append` relation, and the statement's query
//!    runs over them (so `SELECT last_position FROM zq_append(...)` works).
//! 4. The transaction commits as one log record holding the events, the projection rows
//!    and the progress: all of it or nothing.
//!
//! Invariants:
//! - An event is committed only with the rows its inline projections wrote for it.
//! - A projection's progress (`zq_projections`) names the last event it applied.
//! - A failing projection statement fails the append; nothing of it is applied.

mod append;
mod calls;
mod projection;

pub use append::{append, parse_events, parse_expected};
pub(crate) use calls::{WriteCall, results_of, run as run_write_call, write_call_of};
pub use projection::{PROJECTION_EVENT, current_event};

/// Whether `q` is a query whose FROM clause calls a write function (`zq_append`,
/// `zq_create_projection`, ...): a write statement, not a read (see `calls.rs`).
pub fn is_write_query(q: &sqlparser::ast::Query) -> bool {
    write_call_of(q).is_some()
}
