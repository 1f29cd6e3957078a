//! zqlite's projections: the relational state derived from the log, and the committer.
//!
//! The life of a write:
//! 1. The query layer runs statements on a [`Transaction`] (`transaction.rs`): a private,
//!    persistent copy of the state where each [`Change`] is validated and applied by
//!    [`State::apply`] (`state.rs`), and recorded.
//! 2. [`Store::commit`] (`store.rs`) re-applies the changes to the head state with commit
//!    checks (constraints, first-committer-wins conflicts), appends them as ONE log record
//!    ([`TxRecord`], `change.rs`), and makes the result the new head.
//! 3. Once the log says the record is durable, [`Store::wait`] / [`Store::durable`] publish
//!    the new state; [`Store::snapshot`] hands it to readers as an immutable `Arc<State>`.
//! 4. On open, the newest valid checkpoint (`checkpoint.rs`) is loaded and the log after it
//!    replayed with the same [`State::apply`], so the state is a pure function of the log:
//!    [`State::digest`] of a replay equals that of the live state. `replay.rs` owns that
//!    path ([`State::replay`], [`open_state`]), for the store and for the tools.
//!
//! Event streams (`events/`) live in the same state and the same records: an append is a
//! [`Change::AppendEvents`] checked against the head like any constraint, so a multi-stream
//! append is one atomic record; see the `events` module for the life of an append.
//!
//! [`value`] holds SQL values with PostgreSQL's semantics (types, text input and output,
//! casts, operators, comparison and hashing), from which rows are made.

#![deny(unsafe_code)]

pub mod audit;
mod btree;
pub mod catalog;
mod change;
mod checkpoint;
mod error;
pub mod events;
mod history;
pub mod index_expr;
mod key;
mod locks;
mod msgpack;
mod prefetch;
mod replay;
mod replay_decode;
mod sequences;
mod state;
mod store;
mod transaction;
pub mod value;

pub use catalog::{
    Catalog, CheckConstraint, ColumnDef, FkAction, ForeignKey, Identity, IdentityKind, IndexColumn,
    IndexDef, MaterializedView, ProjectionDef, ProjectionProgress, RoleDef, SequenceDef, TableDef,
    TableId, ViewDef,
};
pub use change::{Change, SECURITY, SecurityEvent, TRANSACTION, TxMeta, TxRecord};
pub use checkpoint::{
    list as checkpoint_files, prune as prune_checkpoints, read as read_checkpoint,
    write as write_checkpoint,
};
pub use error::{Error, Result};
pub use events::{
    AppendResult, Direction, EventStore, EventView, ExpectedVersion, NewEvent, Page, RecordedEvent,
    StreamAppend, StreamState,
};
pub use history::{AS_OF_CACHE, AsOf, AsOfSource};
pub use index_expr::{
    CompiledExpression, ExpressionCompiler, IndexExpression, register_expression_compiler,
};
pub use replay::{Opened, newest_checkpoint, open_state, replay_all};
pub use sequences::{Sequences, SessionSequences};
pub use state::{Check, Key, PENDING_LSN, Row, RowEntry, SequenceState, State, TableData};
pub use store::{AuditGuard, PendingCommit, Store, StoreOptions};
pub use transaction::{Isolation, Savepoint, Transaction};
pub use value::{DataType, Value, ValueError};
pub use zqlite_log::Lsn;
