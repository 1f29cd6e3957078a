//! The event store's values: expected versions, events as appended and as recorded, and
//! the state of one stream.
//!
//! Invariants of [`StreamState`]:
//! - `last_version` only grows (soft deletes do not reset it: versions continue).
//! - `deleted_through <= last_version` whenever both are set.
//! - A tombstoned stream never takes another event.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zqlite_log::Lsn;

/// What an append expects of the stream's current version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// No check.
    Any,
    /// The stream must not exist (never written, or soft-deleted with nothing since).
    NoStream,
    /// The stream must exist.
    StreamExists,
    /// The stream's current (last) version must be exactly this.
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream whose current version is `current` (None: it does not exist)
    /// satisfies this expectation.
    pub fn matches(self, current: Option<u64>) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current.is_none(),
            ExpectedVersion::StreamExists => current.is_some(),
            ExpectedVersion::Exact(n) => current == Some(n),
        }
    }
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no_stream"),
            ExpectedVersion::StreamExists => f.write_str("stream_exists"),
            ExpectedVersion::Exact(n) => write!(f, "{n}"),
        }
    }
}

/// An event to append. `data` and `metadata` are JSON texts (validated by the caller; the
/// store keeps them as given, compacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: String,
    #[serde(default)]
    pub metadata: Option<String>,
}

/// An event as stored: its stream, version, global position and the LSN of the record
/// that appended it (whose commit time is its `recorded_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub stream: Arc<str>,
    pub version: u64,
    pub position: u64,
    pub event_type: Arc<str>,
    pub data: Arc<str>,
    pub metadata: Option<Arc<str>>,
    pub lsn: Lsn,
}

/// An event as read: a [`RecordedEvent`] with its commit time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    pub event: Arc<RecordedEvent>,
    /// Commit time of the record (µs since the Unix epoch); None inside an uncommitted
    /// transaction.
    pub recorded_at: Option<i64>,
}

/// The state of one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamState {
    /// Version of the last event ever appended (None: never written).
    pub last_version: Option<u64>,
    /// Soft delete: events up to this version are hidden.
    pub deleted_through: Option<u64>,
    /// Hard delete: the stream reads as deleted and takes no more events.
    pub tombstoned: bool,
    /// Reads show at most this many of the newest events.
    pub max_count: Option<u64>,
    /// Reads hide events recorded more than this many seconds ago.
    pub max_age_seconds: Option<u64>,
}

impl StreamState {
    /// The version expected-version checks compare with: None when the stream does not
    /// exist (never written, or soft-deleted with nothing appended since).
    pub fn current_version(&self) -> Option<u64> {
        match (self.last_version, self.deleted_through) {
            (Some(last), Some(deleted)) if last <= deleted => None,
            (last, _) => last,
        }
    }

    /// Whether reads find the stream.
    pub fn exists(&self) -> bool {
        !self.tombstoned && self.current_version().is_some()
    }

    /// The lowest version reads may show, before `max_age` (soft delete and `max_count`).
    pub fn first_visible_version(&self) -> u64 {
        let after_delete = self.deleted_through.map_or(0, |d| d + 1);
        let by_count = match (self.max_count, self.last_version) {
            (Some(count), Some(last)) => (last + 1).saturating_sub(count),
            _ => 0,
        };
        after_delete.max(by_count)
    }
}
