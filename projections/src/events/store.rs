//! [`EventStore`]: every stream's state and every event, with the indexes reads need, and
//! the apply functions of the event changes.
//!
//! Invariants:
//! - Positions are dense from 0 and assigned in apply order, which is commit order; so
//!   they strictly increase in commit order and replay assigns the same ones.
//! - `events`, `by_stream` and `by_id` index the same set of events: position → event,
//!   (stream, version) → position, event id → position. Event ids are unique store-wide.
//! - A stream's versions are dense from 0 (soft deletes hide, they do not renumber).
//! - Apply functions check everything before they modify anything (except under
//!   [`Check::Replay`], which checks nothing: what was committed was valid).
//! - Events stay stored when hidden (soft delete, tombstone, `max_count`, `max_age`): the
//!   hiding happens in reads, so the state is a function of the log alone.

use std::ops::Bound;
use std::sync::Arc;

use imbl::OrdMap;
use uuid::Uuid;
use zqlite_log::Lsn;

use super::types::{EventView, ExpectedVersion, NewEvent, RecordedEvent, StreamState};
use crate::btree::SharedBTree;
use crate::error::{Error, Result};
use crate::state::Check;

/// Which way a stream read goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// A page of a read: the events, and where the next page starts (None at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub events: Vec<EventView>,
    pub next: Option<u64>,
}

/// The event store's part of the state. See the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventStore {
    pub(crate) streams: OrdMap<Arc<str>, StreamState>,
    pub(crate) events: SharedBTree<u64, Arc<RecordedEvent>>,
    pub(crate) by_stream: SharedBTree<(Arc<str>, u64), u64>,
    pub(crate) by_id: SharedBTree<Uuid, u64>,
    /// Commit time (µs since the Unix epoch) of every record that appended events.
    pub(crate) commit_times: SharedBTree<Lsn, i64>,
    pub(crate) next_position: u64,
}

impl EventStore {
    /// The position the next appended event gets (= the number of events ever appended).
    pub fn next_position(&self) -> u64 {
        self.next_position
    }

    /// A stream's state (None: nothing was ever done to it).
    pub fn stream(&self, name: &str) -> Option<&StreamState> {
        self.streams.get(name)
    }

    /// The event at a global position, hidden or not.
    pub fn event_at(&self, position: u64) -> Option<&Arc<RecordedEvent>> {
        self.events.get(&position)
    }

    /// The event at a global position with its commit time (None inside an uncommitted
    /// transaction), hidden or not.
    pub fn view_at(&self, position: u64) -> Option<EventView> {
        self.events.get(&position).map(|e| self.view(e))
    }

    /// Stamps the records appended at `lsn` with their commit time.
    pub(crate) fn record_commit_time(&mut self, lsn: Lsn, timestamp: i64) {
        self.commit_times.insert(lsn, timestamp);
    }

    fn view(&self, event: &Arc<RecordedEvent>) -> EventView {
        EventView {
            event: event.clone(),
            recorded_at: self.commit_times.get(&event.lsn).copied(),
        }
    }

    /// Whether reads show `event` at `now` (µs since the Unix epoch).
    pub fn visible(&self, event: &RecordedEvent, now: i64) -> bool {
        let Some(stream) = self.streams.get(&*event.stream) else {
            return false;
        };
        !stream.tombstoned
            && event.version >= stream.first_visible_version()
            && self.young_enough(stream, event, now)
    }

    fn young_enough(&self, stream: &StreamState, event: &RecordedEvent, now: i64) -> bool {
        match (stream.max_age_seconds, self.commit_times.get(&event.lsn)) {
            (Some(age), Some(&at)) => {
                at >= now.saturating_sub(i64::try_from(age).unwrap_or(i64::MAX / 2) * 1_000_000)
            }
            _ => true,
        }
    }

    fn stream_for_read(&self, name: &str) -> Result<&StreamState> {
        match self.streams.get(name) {
            Some(s) if s.tombstoned => Err(Error::StreamDeleted {
                stream: name.to_string(),
            }),
            Some(s) if s.exists() => Ok(s),
            _ => Err(Error::StreamNotFound {
                stream: name.to_string(),
            }),
        }
    }

    /// Up to `limit` visible events of a stream from version `from` (inclusive; None: the
    /// start forward, the end backward). Fails for a missing, soft-deleted or tombstoned
    /// stream.
    pub fn read_stream(
        &self,
        name: &str,
        from: Option<u64>,
        limit: usize,
        direction: Direction,
        now: i64,
    ) -> Result<Page> {
        let stream = self.stream_for_read(name)?;
        let floor = stream.first_visible_version();
        let key: Arc<str> = Arc::from(name);
        let mut events = Vec::new();
        let mut next = None;
        let lower = (key.clone(), floor);
        let upper = (key.clone(), u64::MAX);
        let accept = |pos: &u64| -> Option<&Arc<RecordedEvent>> {
            self.events
                .get(pos)
                .filter(|e| self.young_enough(stream, e, now))
        };
        match direction {
            Direction::Forward => {
                let start = (key.clone(), from.unwrap_or(0).max(floor));
                for ((_, version), pos) in self
                    .by_stream
                    .range(Bound::Included(&start), Bound::Included(&upper))
                {
                    if events.len() == limit {
                        next = Some(*version);
                        break;
                    }
                    if let Some(e) = accept(pos) {
                        events.push(self.view(e));
                    }
                }
            }
            Direction::Backward => {
                // The B+tree iterates forward only: walk versions down by lookups, which
                // are dense from the floor to the last version.
                let last = stream.last_version.unwrap_or(0);
                let mut version = from.unwrap_or(last).min(last);
                if version >= floor {
                    loop {
                        if events.len() == limit {
                            next = Some(version);
                            break;
                        }
                        if let Some(e) = self
                            .by_stream
                            .get(&(key.clone(), version))
                            .and_then(&accept)
                        {
                            events.push(self.view(e));
                        }
                        if version == lower.1 {
                            break;
                        }
                        version -= 1;
                    }
                }
            }
        }
        Ok(Page { events, next })
    }

    /// Up to `limit` visible events of all streams from global position `from` (inclusive).
    pub fn read_all(&self, from: u64, limit: usize, now: i64) -> Page {
        let mut events = Vec::new();
        let mut next = None;
        for (pos, e) in self.events.range(Bound::Included(&from), Bound::Unbounded) {
            if events.len() == limit {
                next = Some(*pos);
                break;
            }
            if self.visible(e, now) {
                events.push(self.view(e));
            }
        }
        Page { events, next }
    }

    /// When `events` were all appended already, to `stream`, as consecutive versions that
    /// `expected` allowed: the original first and last versions and positions (an
    /// idempotent retry adds nothing). None when the append is not such a retry.
    pub fn idempotent_result(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> Option<(u64, u64, u64, u64)> {
        let mut found = Vec::with_capacity(events.len());
        for new in events {
            let pos = self.by_id.get(&new.id)?;
            found.push(self.events.get(pos)?);
        }
        let (first, last) = (found.first()?, found.last()?);
        let consecutive = found.iter().enumerate().all(|(i, e)| {
            &*e.stream == stream && e.version == first.version + i as u64 && e.id == events[i].id
        });
        if !consecutive {
            return None;
        }
        let state = self.streams.get(stream).filter(|s| !s.tombstoned)?;
        let allowed = match expected {
            ExpectedVersion::Any | ExpectedVersion::StreamExists => true,
            ExpectedVersion::Exact(n) => first.version == n.checked_add(1)?,
            ExpectedVersion::NoStream => {
                first.version == 0 || state.deleted_through == Some(first.version - 1)
            }
        };
        allowed.then_some((first.version, last.version, first.position, last.position))
    }

    /// Appends `events` to `stream` (see [`crate::Change::AppendEvents`]).
    pub(crate) fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        lsn: Lsn,
        check: Check,
    ) -> Result<()> {
        let mut state = self.streams.get(stream).cloned().unwrap_or_default();
        if check != Check::Replay {
            if state.tombstoned {
                return Err(Error::StreamDeleted {
                    stream: stream.to_string(),
                });
            }
            if !expected.matches(state.current_version()) {
                return Err(Error::WrongExpectedVersion {
                    stream: stream.to_string(),
                    expected,
                    current: state.current_version(),
                });
            }
            for (i, new) in events.iter().enumerate() {
                if self.by_id.contains_key(&new.id) || events[..i].iter().any(|e| e.id == new.id) {
                    return Err(Error::DuplicateEventId {
                        id: new.id,
                        stream: stream.to_string(),
                    });
                }
            }
        }
        let name: Arc<str> = Arc::from(stream);
        let first_version = state.last_version.map_or(0, |v| v + 1);
        for (version, new) in (first_version..).zip(events) {
            let position = self.next_position;
            let event = RecordedEvent {
                id: new.id,
                stream: name.clone(),
                version,
                position,
                event_type: Arc::from(new.event_type.as_str()),
                data: Arc::from(new.data.as_str()),
                metadata: new.metadata.as_deref().map(Arc::from),
                lsn,
            };
            self.events.insert(position, Arc::new(event));
            self.by_stream.insert((name.clone(), version), position);
            self.by_id.insert(new.id, position);
            state.last_version = Some(version);
            self.next_position += 1;
        }
        self.streams.insert(name, state);
        Ok(())
    }

    /// Soft-deletes (hides every event so far) or tombstones a stream.
    pub(crate) fn delete(&mut self, stream: &str, hard: bool, check: Check) -> Result<()> {
        let mut state = self.streams.get(stream).cloned().unwrap_or_default();
        if check != Check::Replay {
            if state.tombstoned {
                return Err(Error::StreamDeleted {
                    stream: stream.to_string(),
                });
            }
            if !hard && !state.exists() {
                return Err(Error::StreamNotFound {
                    stream: stream.to_string(),
                });
            }
        }
        state.deleted_through = state.last_version;
        state.tombstoned |= hard;
        self.streams.insert(Arc::from(stream), state);
        Ok(())
    }

    /// Sets a stream's `max_count` and `max_age_seconds` (None removes a limit).
    pub(crate) fn set_metadata(
        &mut self,
        stream: &str,
        max_count: Option<u64>,
        max_age_seconds: Option<u64>,
        check: Check,
    ) -> Result<()> {
        let mut state = self.streams.get(stream).cloned().unwrap_or_default();
        if check != Check::Replay && state.tombstoned {
            return Err(Error::StreamDeleted {
                stream: stream.to_string(),
            });
        }
        state.max_count = max_count;
        state.max_age_seconds = max_age_seconds;
        self.streams.insert(Arc::from(stream), state);
        Ok(())
    }
}
