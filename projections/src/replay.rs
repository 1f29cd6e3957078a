//! Replay: the state as a pure function of the log, from LSN 1 or from a checkpoint.
//!
//! [`State::replay`] applies one log record with [`Check::Replay`]; everything that derives
//! state from the log goes through it: [`open_state`] (how [`crate::Store::open`] opens,
//! and what `zqlite rebuild` compares against), [`replay_all`] (the whole log, no
//! checkpoint), and the tools that replay a [`zqlite_log::ReadOnlyLog`] up to a chosen LSN
//! (`zqlite replay`).
//!
//! Invariants:
//! - Replaying records 1..=N onto [`State::default`] gives the state the live store published
//!   at LSN N (same [`State::digest`]); replaying records c+1..=N onto a checkpoint at c gives
//!   the same state.
//! - Records must come in LSN order without gaps; [`State::replay`] refuses any other LSN
//!   rather than building a state no log describes.
//! - A record that does not decode or whose changes do not apply is an
//!   [`Error::Decode`] naming its LSN; the state is then unspecified and must be dropped.

use std::path::Path;
use std::sync::mpsc;

use tracing::warn;
use zqlite_log::{FileSystem, Log, Lsn, Record};

use crate::change::{Change, SECURITY, SecurityEvent, TRANSACTION};
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::replay_decode::{Scratch, decode_changes};
use crate::state::{RowEntry, State};

/// A log record decoded for replay: what [`State::apply_decoded`] consumes.
#[derive(Debug)]
struct DecodedRecord {
    lsn: Lsn,
    /// Commit time in microseconds since the Unix epoch.
    timestamp: i64,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// The changes of a transaction, in order ([`decode_changes`]: without the before
    /// images replay does not read; the metadata is checked, not kept).
    Transaction(Vec<Change>),
    /// Audit only: the state does not change, but the LSN moves past it.
    Security,
}

impl DecodedRecord {
    /// The row and other changes the record makes (none for a security record).
    fn changes(&self) -> impl Iterator<Item = &Change> {
        match &self.body {
            Body::Transaction(changes) => changes.iter(),
            Body::Security => [].iter(),
        }
    }

    /// Decodes a record's payload, its changes into `changes` (empty; a vector to reuse);
    /// an unknown kind or a payload that does not decode is an [`Error::Decode`] naming the
    /// LSN.
    fn decode(
        record: &Record,
        mut changes: Vec<Change>,
        scratch: &mut Scratch,
    ) -> Result<DecodedRecord> {
        let body = if record.kind == SECURITY {
            record
                .decode_msgpack::<SecurityEvent>()
                .map_err(|e| Error::Decode {
                    lsn: record.lsn,
                    reason: e.to_string(),
                })?;
            Body::Security
        } else if record.kind == TRANSACTION {
            decode_changes(&record.payload, &mut changes, scratch).map_err(|reason| {
                Error::Decode {
                    lsn: record.lsn,
                    reason,
                }
            })?;
            Body::Transaction(changes)
        } else {
            return Err(Error::Decode {
                lsn: record.lsn,
                reason: format!(
                    "unknown record kind {}: written by a newer zqlite?",
                    record.kind.0
                ),
            });
        };
        Ok(DecodedRecord {
            lsn: record.lsn,
            timestamp: record.timestamp,
            body,
        })
    }

    /// Gives back the record's change vector, emptied, for reuse.
    fn into_changes(self) -> Vec<Change> {
        match self.body {
            Body::Transaction(mut changes) => {
                changes.clear();
                changes
            }
            Body::Security => Vec::new(),
        }
    }
}

impl State {
    /// Applies the log record that follows this state (LSN `self.lsn() + 1`).
    pub fn replay(&mut self, record: &Record) -> Result<()> {
        // The order is checked before decoding: a record out of place is refused as such.
        expect_lsn(self.lsn + 1, record.lsn)?;
        let decoded = DecodedRecord::decode(record, Vec::new(), &mut Scratch::default())?;
        self.apply_decoded(&decoded, &mut Vec::new())
    }

    /// Applies a decoded record that follows this state (checked by the caller). The rows
    /// its updates replace go to `replaced` rather than being freed here.
    fn apply_decoded(
        &mut self,
        record: &DecodedRecord,
        replaced: &mut Vec<RowEntry>,
    ) -> Result<()> {
        let changes = match &record.body {
            Body::Security => {
                self.lsn = record.lsn;
                return Ok(());
            }
            Body::Transaction(changes) => changes,
        };
        for change in changes {
            self.replay_change(change, record.lsn, replaced)
                .map_err(|e| Error::Decode {
                    lsn: record.lsn,
                    reason: format!("replaying a change failed: {e}"),
                })?;
        }
        if changes
            .iter()
            .any(|c| matches!(c, Change::AppendEvents { .. }))
        {
            self.events.record_commit_time(record.lsn, record.timestamp);
        }
        self.lsn = record.lsn;
        Ok(())
    }

    /// Replays `records` (which must start at `self.lsn() + 1`) up to and including LSN
    /// `until`, or to their end; returns how many were applied. `after_each` sees the state
    /// after every record (for progress reports).
    ///
    /// Two threads share the work. A decoder thread reads and decodes the records; this
    /// thread prefetches what each [`REPLAY_BATCH`] of them will touch
    /// ([`State::prefetch_row_changes`]: on a state larger than the caches, replay is bound
    /// by memory latency, and this overlaps the misses), then applies them one by one, in
    /// order. Everything the decoder allocated goes back to it to be freed: the consumed
    /// batches and the rows that updates replaced (glibc's allocator frees a block allocated
    /// by another thread much more slowly). A record that does not read or decode is an
    /// error once the records before it are applied.
    pub fn replay_from<I>(
        &mut self,
        records: I,
        until: Option<Lsn>,
        mut after_each: impl FnMut(&State),
    ) -> Result<u64>
    where
        I: Iterator<Item = zqlite_log::Result<Record>> + Send,
    {
        if until.is_some_and(|lsn| lsn <= self.lsn) {
            return Ok(0);
        }
        let first_lsn = self.lsn + 1;
        std::thread::scope(|scope| {
            let (batches, decoded) = mpsc::sync_channel(DECODED_AHEAD);
            let (garbage, returned) = mpsc::channel();
            std::thread::Builder::new()
                .name("zqlite-replay-decode".into())
                .spawn_scoped(scope, move || {
                    decode_batches(records, first_lsn, until, &batches, &returned)
                })
                .map_err(|e| Error::Internal(format!("starting the replay decoder: {e}")))?;
            let mut applied = 0u64;
            for batch in decoded {
                let Decoded { records, failure } = batch;
                let mut replaced = Vec::with_capacity(records.len());
                for group in records.chunks(REPLAY_BATCH) {
                    prefetch_decoded(group);
                    self.prefetch_row_changes(group.iter().flat_map(DecodedRecord::changes));
                    for record in group {
                        self.apply_decoded(record, &mut replaced)?;
                        applied += 1;
                        after_each(self);
                    }
                }
                // The decoder is gone only once it has sent everything: then this thread
                // frees what is left.
                let _ = garbage.send(Garbage { records, replaced });
                if let Some(e) = failure {
                    return Err(e);
                }
            }
            Ok(applied)
        })
    }
}

/// Asks the CPU to fetch a group of decoded records' changes, then their keys and rows.
/// The decoder thread wrote them on another core, so the first touch of each is a miss;
/// fetching a level for the whole group at once overlaps those misses.
fn prefetch_decoded(group: &[DecodedRecord]) {
    for record in group {
        if let Body::Transaction(changes) = &record.body {
            crate::prefetch::object(changes.as_slice());
        }
    }
    for change in group.iter().flat_map(DecodedRecord::changes) {
        match change {
            Change::Insert { row, .. } => crate::prefetch::shared(row),
            Change::Update { key, row, .. } => {
                crate::prefetch::object(&key[..]);
                crate::prefetch::shared(row);
            }
            Change::Delete { key, .. } => crate::prefetch::object(&key[..]),
            _ => {}
        }
    }
}

/// Records the decoder sends at once: a multiple of [`REPLAY_BATCH`], large enough that
/// waking the applying thread (which waits for the decoder) costs little per record.
const DECODE_BATCH: usize = 4 * REPLAY_BATCH;

/// The largest change vector the decoder keeps for reuse.
const POOLED_CHANGES: usize = 64;

/// Batches the decoder may be ahead of the applying thread.
const DECODED_AHEAD: usize = 4;

/// A batch of records from the decoder, and the error that ended the records if any.
struct Decoded {
    records: Vec<DecodedRecord>,
    failure: Option<Error>,
}

/// What applying a batch left for the decoder to free.
struct Garbage {
    records: Vec<DecodedRecord>,
    /// Rows that updates replaced.
    replaced: Vec<RowEntry>,
}

impl Garbage {
    /// Frees it all, prefetching the replaced rows and then their heap values first (they
    /// are scattered over the state, and freeing a block touches it and the allocator's
    /// header before it), and returns the emptied batch vector for reuse; the records'
    /// emptied change vectors go to `pool`.
    fn free(self, pool: &mut Vec<Vec<Change>>) -> Vec<DecodedRecord> {
        let Garbage {
            mut records,
            replaced,
        } = self;
        for entry in &replaced {
            crate::prefetch::shared(&entry.row);
        }
        for entry in &replaced {
            for value in entry.row.iter() {
                if let Some(heap) = value.heap_bytes() {
                    crate::prefetch::allocation(heap);
                }
            }
        }
        // A vector a large transaction grew is freed rather than kept for the rest of the
        // replay.
        pool.extend(
            records
                .drain(..)
                .map(DecodedRecord::into_changes)
                .filter(|changes| changes.capacity() <= POOLED_CHANGES),
        );
        drop(replaced);
        records
    }
}

/// The decoder thread of [`State::replay_from`]: sends the records from `first_lsn` on
/// (to `until`) in batches, and frees what comes back, until the records end, one fails
/// (the error goes with the batch before it), or the applying thread stops listening.
fn decode_batches<I>(
    records: I,
    first_lsn: Lsn,
    until: Option<Lsn>,
    batches: &mpsc::SyncSender<Decoded>,
    returned: &mpsc::Receiver<Garbage>,
) where
    I: Iterator<Item = zqlite_log::Result<Record>>,
{
    let mut records = records.fuse();
    let mut next_lsn = first_lsn;
    let mut spare = Vec::new();
    let mut pool = Vec::new();
    let mut scratch = Scratch::default();
    loop {
        let mut batch = spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(DECODE_BATCH));
        let mut failure = None;
        while batch.len() < DECODE_BATCH && until.is_none_or(|lsn| next_lsn <= lsn) {
            let Some(record) = records.next() else { break };
            let decoded = record.map_err(Error::from).and_then(|record| {
                expect_lsn(next_lsn, record.lsn)?;
                DecodedRecord::decode(&record, pool.pop().unwrap_or_default(), &mut scratch)
            });
            match decoded {
                Ok(record) => batch.push(record),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            next_lsn += 1;
        }
        let last = batch.len() < DECODE_BATCH || failure.is_some();
        if !batch.is_empty() || failure.is_some() {
            let sent = batches.send(Decoded {
                records: batch,
                failure,
            });
            if sent.is_err() {
                return;
            }
        }
        while let Ok(garbage) = returned.try_recv() {
            spare.push(garbage.free(&mut pool));
        }
        if last {
            return;
        }
    }
}

/// Records prefetched together by [`State::replay_from`]: enough to overlap many cache
/// misses, few enough that what the first record's prefetches fetched is still cached when
/// it is applied.
pub const REPLAY_BATCH: usize = 32;

/// Refuses a record out of place rather than build a state no log describes.
fn expect_lsn(expected: Lsn, lsn: Lsn) -> Result<()> {
    if lsn == expected {
        return Ok(());
    }
    Err(Error::Decode {
        lsn,
        reason: format!(
            "replay out of order: the state is at LSN {}, so LSN {expected} must come next",
            expected - 1
        ),
    })
}

/// A state opened the normal way, and how it was reached.
#[derive(Debug)]
pub struct Opened {
    pub state: State,
    /// The checkpoint the state started from (`None`: replayed from LSN 1).
    pub checkpoint_lsn: Option<Lsn>,
    /// Records replayed after the checkpoint.
    pub replayed: u64,
}

/// The state of an open log the way [`crate::Store::open`] builds it: the newest valid
/// checkpoint in `snapshots` that does not pass the log's durable LSN (damaged ones are
/// skipped with a warning), then every record after it.
pub fn open_state(fs: &dyn FileSystem, snapshots: &Path, log: &Log) -> Result<Opened> {
    let base = checkpoint::load_newest(fs, snapshots, log.durable_lsn());
    let checkpoint_lsn = base.as_ref().map(State::lsn);
    let mut state = base.unwrap_or_default();
    let replayed = state.replay_from(log.read_from(state.lsn() + 1), None, |_| {})?;
    Ok(Opened {
        state,
        checkpoint_lsn,
        replayed,
    })
}

/// Rebuilds the state by replaying the whole log, ignoring checkpoints.
pub fn replay_all(log: &Log) -> Result<State> {
    let mut state = State::default();
    state.replay_from(log.read_from(1), None, |_| {})?;
    Ok(state)
}

/// The newest checkpoint in `dir` that reads back whole and is at or before `max_lsn` (the
/// one to start a replay to `max_lsn` from); damaged ones are skipped with a warning.
pub fn newest_checkpoint(fs: &dyn FileSystem, dir: &Path, max_lsn: Lsn) -> Option<State> {
    checkpoint::list(fs, dir)
        .into_iter()
        .filter(|(lsn, _)| *lsn <= max_lsn)
        .find_map(|(_, path)| match checkpoint::read(fs, &path) {
            Ok(state) => Some(state),
            Err(reason) => {
                warn!(checkpoint = %path.display(), %reason, "skipping a damaged checkpoint");
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use zqlite_log::RecordKind;
    use zqlite_log::sim::SimFs;

    use super::*;
    use crate::catalog::TableDef;
    use crate::change::TxMeta;
    use crate::store::{Store, StoreOptions};
    use crate::value::{DataType, Value};

    use crate::catalog::test_column as column;

    /// Commits a table and then `n` transactions (inserts, an update, a delete); returns the
    /// published digest after each commit, indexed by LSN.
    fn workload(store: &Store, n: i64) -> Vec<(Lsn, [u8; 32])> {
        let mut points = Vec::new();
        let mut txn = store.begin();
        txn.apply(crate::Change::CreateTable(TableDef {
            id: 1,
            name: "t".into(),
            columns: vec![column("id", DataType::Int8), column("v", DataType::Text)],
            primary_key: Some(vec![0]),
            primary_key_name: Some("t_pkey".into()),
            indexes: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            materialized: None,
        }))
        .unwrap();
        let mut commit = |txn| {
            let lsn = store
                .wait(store.commit(txn, TxMeta::default()).unwrap())
                .unwrap();
            assert_eq!(store.snapshot().lsn(), lsn);
            points.push((lsn, store.snapshot().digest()));
        };
        commit(txn);
        for i in 0..n {
            let mut txn = store.begin();
            txn.insert(1, vec![Value::Int8(i), Value::Text(format!("v{i}"))])
                .unwrap();
            if i % 3 == 2 {
                txn.update(
                    1,
                    &[Value::Int8(i - 1)],
                    vec![Value::Int8(i - 1), Value::Text("updated".into())],
                )
                .unwrap();
                txn.delete(1, &[Value::Int8(i - 2)]).unwrap();
            }
            commit(txn);
        }
        points
    }

    #[test]
    fn replay_to_every_lsn_gives_the_state_published_there() {
        let fs = SimFs::new();
        let store = Store::open("/db", StoreOptions::simulated(&fs)).unwrap();
        let points = workload(&store, 12);
        let mut state = State::default();
        for (record, (lsn, digest)) in store.log().read_from(1).zip(&points) {
            state.replay(&record.unwrap()).unwrap();
            assert_eq!(state.lsn(), *lsn);
            assert_eq!(state.digest(), *digest, "LSN {lsn}");
        }
        assert_eq!(state.lsn(), points.last().unwrap().0);
        // Digests differ along the way, so the comparison above can tell states apart.
        assert_ne!(points[3].1, points[4].1);
    }

    #[test]
    fn replay_refuses_a_gap_or_an_unknown_kind() {
        let fs = SimFs::new();
        let store = Store::open("/db", StoreOptions::simulated(&fs)).unwrap();
        workload(&store, 3);
        let records: Vec<Record> = store.log().read_from(1).map(|r| r.unwrap()).collect();
        let mut state = State::default();
        let err = state.replay(&records[1]).unwrap_err();
        assert!(err.to_string().contains("LSN 1 must come next"), "{err}");
        let mut foreign = records[0].clone();
        foreign.kind = RecordKind(99);
        let err = state.replay(&foreign).unwrap_err();
        assert!(err.to_string().contains("unknown record kind 99"), "{err}");
        assert_eq!(state, State::default());
    }

    /// Replays `records` with [`State::replay_from`], counting the progress callbacks.
    fn replay_records(
        records: Vec<zqlite_log::Result<Record>>,
        until: Option<Lsn>,
    ) -> (State, Result<u64>, u64) {
        let mut state = State::default();
        let mut seen = 0;
        let result = state.replay_from(records.into_iter(), until, |_| seen += 1);
        (state, result, seen)
    }

    #[test]
    fn batched_replay_stops_at_its_bound_and_applies_what_precedes_a_bad_record() {
        let fs = SimFs::new();
        let store = Store::open("/db", StoreOptions::simulated(&fs)).unwrap();
        // More records than one decoded batch holds.
        let points = workload(&store, 3 * DECODE_BATCH as i64);
        let digest_at = |lsn: Lsn| points.iter().find(|(l, _)| *l == lsn).unwrap().1;
        let records: Vec<Record> = store.log().read_from(1).map(|r| r.unwrap()).collect();
        let all = || records.iter().cloned().map(Ok).collect::<Vec<_>>();

        let (state, result, seen) = replay_records(all(), None);
        assert_eq!(result.unwrap(), records.len() as u64);
        assert_eq!(seen, records.len() as u64);
        assert_eq!(state.digest(), store.snapshot().digest());

        for until in [1, REPLAY_BATCH as Lsn, DECODE_BATCH as Lsn + 7] {
            let (state, result, _) = replay_records(all(), Some(until));
            assert_eq!(result.unwrap(), until);
            assert_eq!(state.lsn(), until);
            assert_eq!(state.digest(), digest_at(until), "until {until}");
        }

        // A record that does not decode, in the middle of a batch: the ones before it are
        // applied, and the error names it.
        let bad = DECODE_BATCH + 5;
        let mut damaged = all();
        if let Ok(record) = &mut damaged[bad] {
            record.payload = vec![0xc1];
        }
        let (state, result, seen) = replay_records(damaged, None);
        let err = result.unwrap_err();
        assert!(
            err.to_string().contains(&format!("LSN {}", bad + 1)),
            "{err}"
        );
        assert_eq!(state.lsn(), bad as Lsn);
        assert_eq!(seen, bad as u64);
        assert_eq!(state.digest(), digest_at(bad as Lsn));

        // A read error ends the replay the same way.
        let mut unreadable = all();
        unreadable[bad] = Err(zqlite_log::Error::Corruption {
            path: "/db/log/x".into(),
            offset: 0,
            reason: "test".into(),
        });
        let (state, result, _) = replay_records(unreadable, None);
        assert!(result.is_err());
        assert_eq!(state.lsn(), bad as Lsn);
    }

    #[test]
    fn open_state_starts_at_the_newest_checkpoint_and_newest_checkpoint_respects_the_bound() {
        let fs = SimFs::new();
        let store = Store::open("/db", StoreOptions::simulated(&fs)).unwrap();
        let first = workload(&store, 4);
        store.checkpoint().unwrap();
        let mid = first.last().unwrap().0;
        let mut txn = store.begin();
        txn.insert(1, vec![Value::Int8(100), Value::Null]).unwrap();
        store
            .wait(store.commit(txn, TxMeta::default()).unwrap())
            .unwrap();
        store.checkpoint().unwrap();
        let mut txn = store.begin();
        txn.insert(1, vec![Value::Int8(101), Value::Null]).unwrap();
        let head = store
            .wait(store.commit(txn, TxMeta::default()).unwrap())
            .unwrap();
        let live = store.snapshot().digest();

        let snapshots = Path::new("/db/snapshots");
        let opened = open_state(&fs, snapshots, store.log()).unwrap();
        assert_eq!(opened.checkpoint_lsn, Some(mid + 1));
        assert_eq!(opened.replayed, 1);
        assert_eq!(opened.state.lsn(), head);
        assert_eq!(opened.state.digest(), live);
        assert_eq!(replay_all(store.log()).unwrap().digest(), live);

        let at = |max| newest_checkpoint(&fs, snapshots, max).map(|s| s.lsn());
        assert_eq!(at(head), Some(mid + 1));
        assert_eq!(at(mid + 1), Some(mid + 1));
        assert_eq!(at(mid), Some(mid));
        assert_eq!(at(mid - 1), None);
    }
}
