//! The event store: named streams of immutable events, kept in the [`State`](crate::State)
//! beside the tables and written, like every other change, as [`Change`](crate::Change)s
//! inside one TRANSACTION log record per commit.
//!
//! The life of an append:
//! 1. [`Store::append_events`](crate::Store::append_events) (`commit.rs`) runs under the
//!    committer's head lock. For each stream it first asks [`EventStore::idempotent_result`]
//!    whether the append is a retry of events already stored (then it adds nothing and
//!    answers with the original versions and positions); otherwise it applies a
//!    [`Change::AppendEvents`](crate::Change::AppendEvents), which checks the expected
//!    version against the head and gives each event the next stream version and the next
//!    global position (`store.rs`).
//! 2. The store submits the one record and stamps the head's event store with the commit
//!    timestamp the log assigned ([`EventStore::record_commit_time`]): that is every event's
//!    `recorded_at`. Replay stamps the same time from the record header.
//! 3. Once durable, the state is published and the store's event watch
//!    ([`Store::watch_events`](crate::Store::watch_events)) moves to the new end position;
//!    subscribers wake on it and read the new events from the published snapshot.
//!
//! `types.rs` holds the values (expected versions, new and recorded events, stream state);
//! `store.rs` the [`EventStore`] with its indexes, apply functions and reads.

mod commit;
mod store;
mod types;

pub use commit::{AppendResult, StreamAppend};
pub use store::{Direction, EventStore, Page};
pub use types::{EventView, ExpectedVersion, NewEvent, RecordedEvent, StreamState};
