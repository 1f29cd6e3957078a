//! The store's event-store entry points: atomic appends to one or many streams with
//! expected versions, deletes and stream metadata, each one log record committed at the
//! head under the committer's lock (so checks see every earlier commit, including those
//! still waiting for their sync), and the watch subscribers wake on.

use crate::change::{Change, TxMeta};
use crate::error::Result;
use crate::store::{PendingCommit, Store};
use crate::transaction::Transaction;

use super::types::{ExpectedVersion, NewEvent};

/// One stream's part of an append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamAppend {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// Where one stream's events landed (for an idempotent retry: where they landed the first
/// time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendResult {
    pub first_version: u64,
    pub last_version: u64,
    pub first_position: u64,
    pub last_position: u64,
}

impl Transaction {
    /// Appends events to one or more streams in this transaction (see
    /// [`Store::append_events`] for the rules). Fails, changing nothing of this append,
    /// when an expectation does not hold.
    pub fn append_events(
        &mut self,
        appends: Vec<StreamAppend>,
    ) -> Result<Vec<Option<AppendResult>>> {
        let savepoint = self.savepoint();
        let result = self.append_all(appends);
        if result.is_err() {
            self.rollback_to(&savepoint);
        }
        result
    }

    fn append_all(&mut self, appends: Vec<StreamAppend>) -> Result<Vec<Option<AppendResult>>> {
        let mut results = Vec::with_capacity(appends.len());
        for append in appends {
            let retry = self.state().events().idempotent_result(
                &append.stream,
                append.expected,
                &append.events,
            );
            if let Some((first_version, last_version, first_position, last_position)) = retry {
                results.push(Some(AppendResult {
                    first_version,
                    last_version,
                    first_position,
                    last_position,
                }));
                continue;
            }
            let count = append.events.len() as u64;
            let first_position = self.state().events().next_position();
            let stream = append.stream.clone();
            self.apply(Change::AppendEvents {
                stream: append.stream,
                expected: append.expected,
                events: append.events,
            })?;
            let result = if count == 0 {
                None
            } else {
                let last_version = self
                    .state()
                    .events()
                    .stream(&stream)
                    .and_then(|s| s.last_version)
                    .unwrap_or(0);
                Some(AppendResult {
                    first_version: last_version + 1 - count,
                    last_version,
                    first_position,
                    last_position: first_position + count - 1,
                })
            };
            results.push(result);
        }
        Ok(results)
    }
}

impl Store {
    /// Appends events to one or more streams atomically: every stream's expected version
    /// must hold, or nothing is appended. A stream whose events were all appended before
    /// with the same expectation is an idempotent retry: it adds nothing and reports the
    /// original versions and positions. Streams with no events only check their
    /// expectation (their result is None). Wait on the commit before acknowledging.
    pub fn append_events(
        &self,
        meta: TxMeta,
        appends: Vec<StreamAppend>,
    ) -> Result<(Vec<Option<AppendResult>>, PendingCommit)> {
        self.write_at_head(meta, |txn| txn.append_events(appends))
    }

    /// Soft-deletes a stream (reads say not found; appending again continues its versions)
    /// or, with `hard`, tombstones it (later appends fail).
    pub fn delete_stream(&self, meta: TxMeta, stream: &str, hard: bool) -> Result<PendingCommit> {
        let ((), pending) = self.write_at_head(meta, |txn| {
            txn.apply(Change::DeleteStream {
                stream: stream.to_string(),
                hard,
            })
        })?;
        Ok(pending)
    }

    /// Sets a stream's read limits (None removes one).
    pub fn set_stream_metadata(
        &self,
        meta: TxMeta,
        stream: &str,
        max_count: Option<u64>,
        max_age_seconds: Option<u64>,
    ) -> Result<PendingCommit> {
        let ((), pending) = self.write_at_head(meta, |txn| {
            txn.apply(Change::SetStreamMetadata {
                stream: stream.to_string(),
                max_count,
                max_age_seconds,
            })
        })?;
        Ok(pending)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use uuid::Uuid;

    use super::*;
    use crate::error::Error;
    use crate::events::Direction;
    use crate::store::StoreOptions;

    fn store() -> Store {
        Store::open("/db", StoreOptions::in_memory()).unwrap()
    }

    fn ev(n: u128) -> NewEvent {
        NewEvent {
            id: Uuid::from_u128(n),
            event_type: format!("T{}", n % 3),
            data: format!("{{\"n\":{n}}}"),
            metadata: None,
        }
    }

    fn append(
        store: &Store,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Option<AppendResult>> {
        let (mut results, pending) = store.append_events(
            TxMeta::default(),
            vec![StreamAppend {
                stream: stream.into(),
                expected,
                events,
            }],
        )?;
        store.wait(pending)?;
        Ok(results.remove(0))
    }

    fn versions(store: &Store, stream: &str) -> Vec<u64> {
        store
            .snapshot()
            .events()
            .read_stream(stream, None, 1000, Direction::Forward, 0)
            .unwrap()
            .events
            .iter()
            .map(|e| e.event.version)
            .collect()
    }

    fn wrong_version(result: Result<Option<AppendResult>>) -> Option<u64> {
        match result {
            Err(Error::WrongExpectedVersion { current, .. }) => current,
            other => panic!("expected a wrong-expected-version error, got {other:?}"),
        }
    }

    #[test]
    fn expected_versions_are_checked_against_the_head() {
        let s = store();
        use ExpectedVersion::*;
        assert_eq!(
            wrong_version(append(&s, "a", StreamExists, vec![ev(1)])),
            None
        );
        assert_eq!(wrong_version(append(&s, "a", Exact(0), vec![ev(1)])), None);
        let r = append(&s, "a", NoStream, vec![ev(1), ev(2)])
            .unwrap()
            .unwrap();
        assert_eq!((r.first_version, r.last_version), (0, 1));
        assert_eq!((r.first_position, r.last_position), (0, 1));
        assert_eq!(
            wrong_version(append(&s, "a", NoStream, vec![ev(3)])),
            Some(1)
        );
        assert_eq!(
            wrong_version(append(&s, "a", Exact(0), vec![ev(3)])),
            Some(1)
        );
        let r = append(&s, "a", Exact(1), vec![ev(3)]).unwrap().unwrap();
        assert_eq!((r.first_version, r.first_position), (2, 2));
        append(&s, "a", StreamExists, vec![ev(4)]).unwrap();
        append(&s, "a", Any, vec![ev(5)]).unwrap();
        append(&s, "b", Any, vec![ev(6)]).unwrap();
        assert_eq!(versions(&s, "a"), [0, 1, 2, 3, 4]);
        assert_eq!(versions(&s, "b"), [0]);
        assert_eq!(s.snapshot().events().next_position(), 6);
        let event = s.snapshot().events().event_at(5).unwrap().clone();
        assert_eq!((&*event.stream, event.version), ("b", 0));
    }

    #[test]
    fn a_failed_multi_stream_append_appends_nothing() {
        let s = store();
        append(&s, "x", ExpectedVersion::NoStream, vec![ev(1)]).unwrap();
        let lsn = s.snapshot().lsn();
        let result = s.append_events(
            TxMeta::default(),
            vec![
                StreamAppend {
                    stream: "y".into(),
                    expected: ExpectedVersion::NoStream,
                    events: vec![ev(2)],
                },
                StreamAppend {
                    stream: "x".into(),
                    expected: ExpectedVersion::NoStream,
                    events: vec![ev(3)],
                },
            ],
        );
        match result {
            Err(Error::WrongExpectedVersion {
                stream, current, ..
            }) => assert_eq!((stream.as_str(), current), ("x", Some(0))),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.snapshot().lsn(), lsn, "no record written");
        assert!(s.snapshot().events().stream("y").is_none());
        let (results, pending) = s
            .append_events(
                TxMeta::default(),
                vec![
                    StreamAppend {
                        stream: "y".into(),
                        expected: ExpectedVersion::NoStream,
                        events: vec![ev(2)],
                    },
                    StreamAppend {
                        stream: "x".into(),
                        expected: ExpectedVersion::Exact(0),
                        events: vec![ev(3)],
                    },
                ],
            )
            .unwrap();
        assert_eq!(s.wait(pending).unwrap(), lsn + 1, "one record for both");
        let positions: Vec<u64> = results.iter().map(|r| r.unwrap().first_position).collect();
        assert_eq!(positions, [1, 2]);
    }

    #[test]
    fn a_retry_with_the_same_ids_is_idempotent() {
        let s = store();
        let first = append(&s, "a", ExpectedVersion::NoStream, vec![ev(1), ev(2)])
            .unwrap()
            .unwrap();
        let lsn = s.snapshot().lsn();
        let again = append(&s, "a", ExpectedVersion::NoStream, vec![ev(1), ev(2)])
            .unwrap()
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(s.snapshot().lsn(), lsn, "a retry writes no record");
        append(&s, "a", ExpectedVersion::Exact(1), vec![ev(3)]).unwrap();
        let again = append(&s, "a", ExpectedVersion::Exact(1), vec![ev(3)])
            .unwrap()
            .unwrap();
        assert_eq!((again.first_version, again.first_position), (2, 2));
        let any = append(&s, "a", ExpectedVersion::Any, vec![ev(2), ev(3)])
            .unwrap()
            .unwrap();
        assert_eq!((any.first_version, any.last_version), (1, 2));
        assert_eq!(s.snapshot().events().next_position(), 3);
        // Not a retry: a different expectation, a partial overlap, another stream.
        assert_eq!(
            wrong_version(append(&s, "a", ExpectedVersion::Exact(0), vec![ev(3)])),
            Some(2)
        );
        assert!(matches!(
            append(&s, "a", ExpectedVersion::Any, vec![ev(3), ev(4)]),
            Err(Error::DuplicateEventId { .. })
        ));
        assert!(matches!(
            append(&s, "b", ExpectedVersion::Any, vec![ev(1)]),
            Err(Error::DuplicateEventId { .. })
        ));
        assert!(matches!(
            append(&s, "b", ExpectedVersion::Any, vec![ev(9), ev(9)]),
            Err(Error::DuplicateEventId { .. })
        ));
        assert_eq!(s.snapshot().events().next_position(), 3);
    }

    #[test]
    fn soft_delete_hides_and_versions_continue_hard_delete_is_final() {
        let s = store();
        append(&s, "a", ExpectedVersion::NoStream, vec![ev(1), ev(2)]).unwrap();
        s.wait(s.delete_stream(TxMeta::default(), "a", false).unwrap())
            .unwrap();
        let snap = s.snapshot();
        assert!(matches!(
            snap.events()
                .read_stream("a", None, 10, Direction::Forward, 0),
            Err(Error::StreamNotFound { .. })
        ));
        assert!(snap.events().read_all(0, 10, 0).events.is_empty());
        assert!(matches!(
            s.delete_stream(TxMeta::default(), "a", false),
            Err(Error::StreamNotFound { .. })
        ));
        let r = append(&s, "a", ExpectedVersion::NoStream, vec![ev(3)])
            .unwrap()
            .unwrap();
        assert_eq!(r.first_version, 2, "versions continue after a soft delete");
        assert_eq!(versions(&s, "a"), [2]);
        s.wait(s.delete_stream(TxMeta::default(), "a", true).unwrap())
            .unwrap();
        assert!(matches!(
            append(&s, "a", ExpectedVersion::Any, vec![ev(4)]),
            Err(Error::StreamDeleted { .. })
        ));
        assert!(matches!(
            s.snapshot()
                .events()
                .read_stream("a", None, 10, Direction::Forward, 0),
            Err(Error::StreamDeleted { .. })
        ));
        assert!(matches!(
            s.delete_stream(TxMeta::default(), "a", true),
            Err(Error::StreamDeleted { .. })
        ));
    }

    #[test]
    fn metadata_limits_hide_older_events_from_reads() {
        let s = store();
        let events: Vec<NewEvent> = (1..=5).map(ev).collect();
        append(&s, "a", ExpectedVersion::NoStream, events).unwrap();
        s.wait(
            s.set_stream_metadata(TxMeta::default(), "a", Some(2), None)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(versions(&s, "a"), [3, 4]);
        let all: Vec<u64> = s
            .snapshot()
            .events()
            .read_all(0, 10, 0)
            .events
            .iter()
            .map(|e| e.event.position)
            .collect();
        assert_eq!(all, [3, 4]);
        s.wait(
            s.set_stream_metadata(TxMeta::default(), "a", None, Some(60))
                .unwrap(),
        )
        .unwrap();
        let snap = s.snapshot();
        let recorded = snap
            .events()
            .read_stream("a", None, 10, Direction::Forward, 0)
            .unwrap();
        assert_eq!(recorded.events.len(), 5, "max_count removed");
        let at = recorded.events[0]
            .recorded_at
            .expect("committed events have a time");
        let later = at + 61 * 1_000_000;
        let page = snap
            .events()
            .read_stream("a", None, 10, Direction::Forward, later)
            .unwrap();
        assert!(page.events.is_empty(), "older than max_age");
    }

    #[test]
    fn reads_go_backward_and_page() {
        let s = store();
        append(&s, "a", ExpectedVersion::Any, (1..=5).map(ev).collect()).unwrap();
        append(&s, "b", ExpectedVersion::Any, vec![ev(6)]).unwrap();
        let snap = s.snapshot();
        let e = snap.events();
        let page = e.read_stream("a", None, 2, Direction::Backward, 0).unwrap();
        let got: Vec<u64> = page.events.iter().map(|v| v.event.version).collect();
        assert_eq!((got, page.next), (vec![4, 3], Some(2)));
        let page = e
            .read_stream("a", Some(2), 5, Direction::Backward, 0)
            .unwrap();
        let got: Vec<u64> = page.events.iter().map(|v| v.event.version).collect();
        assert_eq!((got, page.next), (vec![2, 1, 0], None));
        let page = e
            .read_stream("a", Some(1), 2, Direction::Forward, 0)
            .unwrap();
        let got: Vec<u64> = page.events.iter().map(|v| v.event.version).collect();
        assert_eq!((got, page.next), (vec![1, 2], Some(3)));
        let page = e.read_all(4, 10, 0);
        let got: Vec<u64> = page.events.iter().map(|v| v.event.position).collect();
        assert_eq!((got, page.next), (vec![4, 5], None));
    }

    #[test]
    fn concurrent_exact_appends_never_duplicate_or_skip_a_version() {
        let s = Arc::new(store());
        // Each round every thread reads the version, then all append at once: one wins.
        let barrier = Arc::new(std::sync::Barrier::new(16));
        let threads: Vec<_> = (0..16u128)
            .map(|t| {
                let (s, barrier) = (s.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let (mut won, mut lost) = (0, 0);
                    for i in 0..10u128 {
                        let current = s
                            .snapshot()
                            .events()
                            .stream("hot")
                            .and_then(|st| st.last_version);
                        let expected =
                            current.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
                        barrier.wait();
                        match append(&s, "hot", expected, vec![ev(1000 * (t + 1) + i)]) {
                            Ok(r) => {
                                let r = r.expect("one event appended");
                                assert_eq!(
                                    r.first_version,
                                    current.map_or(0, |v| v + 1),
                                    "a winner lands right after the version it expected"
                                );
                                won += 1;
                            }
                            Err(Error::WrongExpectedVersion { current: now, .. }) => {
                                assert!(
                                    now.is_some() && now != current,
                                    "loser sees a newer version"
                                );
                                lost += 1;
                            }
                            Err(e) => panic!("{e}"),
                        }
                        barrier.wait();
                    }
                    (won, lost)
                })
            })
            .collect();
        let (won, lost) = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .fold((0u64, 0u64), |(w, l), (a, b)| (w + a, l + b));
        assert_eq!((won, lost), (10, 150), "one winner per round");
        let v = versions(&s, "hot");
        assert_eq!(v, (0..10).collect::<Vec<u64>>());
    }

    #[test]
    fn events_survive_a_checkpoint_and_replay() {
        let fs = zqlite_log::sim::SimFs::new();
        let opts = StoreOptions {
            log: zqlite_log::LogOptions {
                fs: Arc::new(fs.clone()),
                ..zqlite_log::LogOptions::default()
            },
            checkpoint_bytes: 0,
            checkpoints_kept: 2,
            history_checkpoints: 0,
        };
        let s = Store::open("/db", opts.clone()).unwrap();
        append(&s, "a", ExpectedVersion::Any, (1..=3).map(ev).collect()).unwrap();
        s.wait(
            s.set_stream_metadata(TxMeta::default(), "a", Some(2), Some(5))
                .unwrap(),
        )
        .unwrap();
        s.checkpoint().unwrap();
        append(&s, "b", ExpectedVersion::Any, vec![ev(4)]).unwrap();
        s.wait(s.delete_stream(TxMeta::default(), "b", true).unwrap())
            .unwrap();
        let live = s.snapshot();
        let replayed = crate::replay_all(s.log()).unwrap();
        assert_eq!(*live, replayed);
        assert_eq!(live.digest(), replayed.digest());
        drop(s);
        let reopened = Store::open("/db", opts).unwrap();
        assert_eq!(*reopened.snapshot(), *live, "checkpoint plus the log");
        let a = reopened.snapshot().events().stream("a").cloned().unwrap();
        assert_eq!((a.max_count, a.max_age_seconds), (Some(2), Some(5)));
    }
}
