//! Time travel: the state as it was after a past LSN, rebuilt from the log.
//!
//! [`Store::state_at`] opens the state at an LSN the way opening the store does — a base
//! state, then the log records after it — with the base chosen to be as close to the target
//! as possible: the nearest checkpoint at or before the target, or a past state opened
//! earlier and still cached, whichever is nearer (the cache wins a tie: it costs no
//! decoding). Opening therefore costs the records between the base and the target, plus
//! decoding the checkpoint when one is used. [`Store::lsn_committed_by`] maps a commit time
//! to the last LSN committed at or before it through the log's sparse time index.
//!
//! Invariants:
//! - `state_at(n)` equals replaying records 1..=n onto [`State::default`] (it goes through
//!   [`State::replay`], which checks LSN order), so it is the state the store published at n.
//! - Only durable LSNs can be opened; a later one is [`Error::FutureLsn`].
//! - The cache holds at most [`AS_OF_CACHE`] states, least recently used evicted first; it
//!   is a cache only, so any entry may go at any time without changing an answer.
//!
//! Checkpoints meant for time travel are kept by [`crate::StoreOptions::history_checkpoints`]:
//! besides the newest ones, older checkpoints are thinned so those kept stay spread over the
//! log (see `checkpoint::prune`).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tracing::{debug, warn};
use zqlite_log::{FileSystem, Log, Lsn};

use crate::checkpoint;
use crate::error::{Error, Result};
use crate::state::State;

/// How many past states the store keeps open for repeated time-travel queries.
pub const AS_OF_CACHE: usize = 8;

/// Recently opened past states, most recently used last.
#[derive(Debug, Default)]
pub(crate) struct AsOfCache {
    states: Mutex<VecDeque<Arc<State>>>,
}

impl AsOfCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<State>>> {
        self.states
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached state at exactly `lsn` (marked as just used).
    fn get(&self, lsn: Lsn) -> Option<Arc<State>> {
        let mut states = self.lock();
        let pos = states.iter().position(|s| s.lsn() == lsn)?;
        let state = states.remove(pos)?;
        states.push_back(state.clone());
        Some(state)
    }

    /// The cached state closest before `lsn`, if any.
    fn nearest_before(&self, lsn: Lsn) -> Option<Arc<State>> {
        self.lock()
            .iter()
            .filter(|s| s.lsn() < lsn)
            .max_by_key(|s| s.lsn())
            .cloned()
    }

    fn insert(&self, state: Arc<State>) {
        let mut states = self.lock();
        if states.iter().any(|s| s.lsn() == state.lsn()) {
            return;
        }
        if states.len() >= AS_OF_CACHE {
            states.pop_front();
        }
        states.push_back(state);
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// How a past state was reached (for tests, logs and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOfSource {
    /// The live snapshot was at that LSN already.
    Live,
    /// Already open in the cache.
    Cached,
    /// Replayed from a checkpoint at this LSN.
    Checkpoint(Lsn),
    /// Replayed from a cached past state at this LSN.
    CachedBase(Lsn),
    /// Replayed from the beginning of the log.
    Beginning,
}

/// A past state and what opening it cost.
#[derive(Debug, Clone)]
pub struct AsOf {
    pub state: Arc<State>,
    pub source: AsOfSource,
    /// Log records replayed to reach it.
    pub replayed: u64,
}

/// Opens the state at `target` from the best base: `cached` or the nearest checkpoint in
/// `snapshots` at or before `target` (damaged checkpoints are skipped with a warning).
pub(crate) fn open_at(
    fs: &dyn FileSystem,
    snapshots: &Path,
    log: &Log,
    cached: Option<Arc<State>>,
    target: Lsn,
) -> Result<AsOf> {
    let cached_lsn = cached.as_ref().map_or(0, |s| s.lsn());
    let mut base = None;
    for (lsn, path) in checkpoint::list(fs, snapshots) {
        if lsn > target {
            continue;
        }
        if lsn <= cached_lsn {
            break;
        }
        match checkpoint::read(fs, &path) {
            Ok(state) => {
                base = Some((state, AsOfSource::Checkpoint(lsn)));
                break;
            }
            Err(reason) => {
                warn!(checkpoint = %path.display(), %reason, "skipping a damaged checkpoint")
            }
        }
    }
    let (mut state, source) = match (base, cached) {
        (Some(found), _) => found,
        (None, Some(cached)) => ((*cached).clone(), AsOfSource::CachedBase(cached_lsn)),
        (None, None) => (State::default(), AsOfSource::Beginning),
    };
    let replayed = state.replay_from(log.read_from(state.lsn() + 1), Some(target), |_| {})?;
    if state.lsn() != target {
        return Err(Error::Internal(format!(
            "the log ended at LSN {} before LSN {target}",
            state.lsn()
        )));
    }
    Ok(AsOf {
        state: Arc::new(state),
        source,
        replayed,
    })
}

impl crate::Store {
    /// The state as it was right after LSN `lsn` committed (LSN 0: the empty database).
    /// See the module documentation for what it costs.
    pub fn state_at(&self, lsn: Lsn) -> Result<AsOf> {
        let live = self.snapshot();
        if lsn > live.lsn() {
            return Err(Error::FutureLsn {
                lsn,
                last: live.lsn(),
            });
        }
        if lsn == live.lsn() {
            return Ok(AsOf {
                state: live,
                source: AsOfSource::Live,
                replayed: 0,
            });
        }
        if let Some(state) = self.as_of_cache.get(lsn) {
            return Ok(AsOf {
                state,
                source: AsOfSource::Cached,
                replayed: 0,
            });
        }
        let opened = open_at(
            &*self.options().log.fs,
            &self.dir().join("snapshots"),
            self.log(),
            self.as_of_cache.nearest_before(lsn),
            lsn,
        )?;
        debug!(lsn, source = ?opened.source, replayed = opened.replayed, "opened a past state");
        self.as_of_cache.insert(opened.state.clone());
        Ok(opened)
    }

    /// The LSN of the last record committed at or before `timestamp` (µs since the Unix
    /// epoch); 0 when none was. Commit times never decrease along LSNs, so this is one seek
    /// in the log's sparse time index and a scan of at most one index interval.
    pub fn lsn_committed_by(&self, timestamp: i64) -> Result<Lsn> {
        let durable = self.snapshot().lsn();
        let Some(after) = timestamp.checked_add(1) else {
            return Ok(durable);
        };
        Ok(match self.log().lsn_at_time(after)? {
            // The first record committed after `timestamp`: the one before it is the answer.
            Some(first_after) => (first_after - 1).min(durable),
            None => durable,
        })
    }

    /// How many past states are cached (for tests).
    pub fn cached_past_states(&self) -> usize {
        self.as_of_cache.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use zqlite_log::LogOptions;
    use zqlite_log::sim::SimFs;

    use super::*;
    use crate::catalog::{ColumnDef, TableDef};
    use crate::change::TxMeta;
    use crate::replay::replay_all;
    use crate::store::{Store, StoreOptions};
    use crate::value::{DataType, Value};

    fn options(fs: &SimFs) -> StoreOptions {
        StoreOptions {
            log: LogOptions {
                fs: Arc::new(fs.clone()),
                ..LogOptions::default()
            },
            checkpoint_bytes: 0,
            checkpoints_kept: 1,
            history_checkpoints: 2,
        }
    }

    /// A table and `n` inserts; returns the digest published after each LSN (index = LSN).
    fn workload(store: &Store, n: i64) -> Vec<[u8; 32]> {
        let mut digests = vec![State::default().digest()];
        let mut txn = store.begin();
        txn.apply(crate::Change::CreateTable(TableDef {
            id: 1,
            name: "t".into(),
            columns: vec![ColumnDef {
                name: "id".into(),
                data_type: DataType::Int8,
                nullable: false,
                default: None,
                identity: None,
            }],
            primary_key: Some(vec![0]),
            primary_key_name: Some("t_pkey".into()),
            indexes: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            materialized: None,
        }))
        .unwrap();
        store
            .wait(store.commit(txn, TxMeta::default()).unwrap())
            .unwrap();
        digests.push(store.snapshot().digest());
        for i in 0..n {
            let mut txn = store.begin();
            txn.insert(1, vec![Value::Int8(i)]).unwrap();
            store
                .wait(store.commit(txn, TxMeta::default()).unwrap())
                .unwrap();
            digests.push(store.snapshot().digest());
        }
        digests
    }

    #[test]
    fn every_past_lsn_opens_to_the_state_published_there() {
        let fs = SimFs::new();
        let store = Store::open("/db", options(&fs)).unwrap();
        let digests = workload(&store, 20);
        for (lsn, digest) in digests.iter().enumerate() {
            let opened = store.state_at(lsn as Lsn).unwrap();
            assert_eq!(opened.state.lsn(), lsn as Lsn);
            assert_eq!(opened.state.digest(), *digest, "LSN {lsn}");
        }
        let err = store.state_at(digests.len() as Lsn).unwrap_err();
        assert_eq!(err.sqlstate(), "22023");
        assert!(
            err.to_string().contains("the last committed LSN is 21"),
            "{err}"
        );
        assert!(store.cached_past_states() <= AS_OF_CACHE);
    }

    #[test]
    fn opening_starts_from_the_nearest_base_and_caches() {
        let fs = SimFs::new();
        let store = Store::open("/db", options(&fs)).unwrap();
        workload(&store, 10); // LSNs 1..=11
        store.checkpoint().unwrap(); // at 11
        workload_more(&store, 10); // 12..=21
        store.checkpoint().unwrap(); // at 21
        workload_more(&store, 5); // 22..=26

        let at = store.state_at(5).unwrap();
        assert_eq!((at.source, at.replayed), (AsOfSource::Beginning, 5));
        let again = store.state_at(5).unwrap();
        assert_eq!((again.source, again.replayed), (AsOfSource::Cached, 0));
        assert!(Arc::ptr_eq(&at.state, &again.state));
        let later = store.state_at(8).unwrap();
        assert_eq!(
            (later.source, later.replayed),
            (AsOfSource::CachedBase(5), 3)
        );
        let past_checkpoint = store.state_at(14).unwrap();
        assert_eq!(
            (past_checkpoint.source, past_checkpoint.replayed),
            (AsOfSource::Checkpoint(11), 3)
        );
        let near_head = store.state_at(24).unwrap();
        assert_eq!(near_head.source, AsOfSource::Checkpoint(21));
        assert_eq!(
            store.state_at(26).unwrap().source,
            AsOfSource::Live,
            "the head is the live snapshot"
        );
        assert_eq!(
            store.state_at(26).unwrap().state.digest(),
            replay_all(store.log()).unwrap().digest()
        );
    }

    fn workload_more(store: &Store, n: i64) {
        let start = store.snapshot().lsn() as i64 * 1000;
        for i in 0..n {
            let mut txn = store.begin();
            txn.insert(1, vec![Value::Int8(start + i)]).unwrap();
            store
                .wait(store.commit(txn, TxMeta::default()).unwrap())
                .unwrap();
        }
    }

    #[test]
    fn thinning_keeps_the_newest_and_spreads_the_older_checkpoints() {
        use crate::checkpoint::thin;
        assert_eq!(thin(&[10, 20, 30], 2, 0), vec![20, 30]);
        assert_eq!(thin(&[10, 20, 30], 5, 0), vec![10, 20, 30]);
        assert_eq!(thin(&[10, 20, 30], 0, 0), vec![30]);
        // Checkpoints every 10 LSNs, one at a time, pruned after each like the store does.
        let mut kept = Vec::new();
        for lsn in (10..=1000).step_by(10) {
            kept.push(lsn);
            kept = thin(&kept, 1, 4);
        }
        assert_eq!(kept.len(), 5);
        assert_eq!(*kept.last().unwrap(), 1000);
        // No gap between kept checkpoints (from LSN 0) is much more than an even share.
        let mut prev = 0;
        for &lsn in &kept {
            assert!(lsn - prev <= 2 * 1000 / 5, "{kept:?}");
            prev = lsn;
        }
    }

    #[test]
    fn commit_times_map_to_the_last_lsn_committed_by_then() {
        let fs = SimFs::new();
        let store = Store::open("/db", options(&fs)).unwrap();
        workload(&store, 30);
        let records: Vec<_> = store.log().read_from(1).map(|r| r.unwrap()).collect();
        assert_eq!(store.lsn_committed_by(records[0].timestamp - 1).unwrap(), 0);
        assert_eq!(store.lsn_committed_by(i64::MAX).unwrap(), 31);
        for r in &records {
            let expected = records
                .iter()
                .filter(|o| o.timestamp <= r.timestamp)
                .map(|o| o.lsn)
                .max()
                .unwrap();
            assert_eq!(store.lsn_committed_by(r.timestamp).unwrap(), expected);
            let before = records
                .iter()
                .filter(|o| o.timestamp < r.timestamp)
                .map(|o| o.lsn)
                .max()
                .unwrap_or(0);
            assert_eq!(store.lsn_committed_by(r.timestamp - 1).unwrap(), before);
        }
    }
}
