//! [`Store`]: the log plus the state derived from it, and the single committer.
//!
//! Commit protocol (see [`Store::commit`]):
//! 1. Under the head lock, re-apply the transaction's changes to a copy of the head state with
//!    [`Check::Commit`]: constraints against everything committed so far (including commits
//!    still waiting for their sync) and write-write conflicts with commits after the
//!    transaction's snapshot (first committer wins; the loser gets SQLSTATE 40001).
//! 2. Append one log record for the whole transaction (the log assigns the LSN the head
//!    predicted), make the copy the new head, queue it for publication, release the lock.
//! 3. Wait for the log to make the record durable; then publish every queued head state up to
//!    the durable LSN as the snapshot readers get (and move the event watch that
//!    subscriptions wait on). The next commit validates while this one
//!    syncs, so concurrent commits share syncs (group commit carries through).
//!
//! Invariants:
//! - The published snapshot only ever contains durable records, and advances in LSN order.
//! - The head equals replay of the log plus the queued, not yet durable records.
//! - After a log failure the store stops accepting commits (fail-stop) until reopened.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use tokio::sync::watch;
use tracing::{info, warn};
use zqlite_log::{AppendTicket, Log, LogOptions, Lsn, NewRecord};

use crate::audit::{self, AuditIndex};
use crate::catalog::{SequenceDef, TableId};
use crate::change::{Change, SECURITY, SecurityEvent, TRANSACTION, TxMeta, TxRecord};
use crate::checkpoint;
use crate::error::{Error, Result};
use crate::history::AsOfCache;
use crate::locks::{HeldLocks, RowLocks};
use crate::replay::{Opened, open_state};
use crate::state::{Check, SequenceState, State};
use crate::transaction::{Published, Transaction};
use crate::value::Value;

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub log: LogOptions,
    /// Write a checkpoint after this many bytes of records since the last one (0: never in
    /// the background; one is still written on close).
    pub checkpoint_bytes: u64,
    /// Checkpoints kept after writing a new one.
    pub checkpoints_kept: usize,
    /// Older checkpoints kept besides those, for time travel ([`Store::state_at`] starts
    /// from the nearest checkpoint at or before its target): thinned so that those kept
    /// stay spread evenly over the log.
    pub history_checkpoints: usize,
}

/// The largest transaction record (the log's own limit).
pub const MAX_TRANSACTION_RECORD: usize = 1 << 30;

impl StoreOptions {
    /// Options for tests on a simulated file system: every commit is kept in the log (no
    /// automatic checkpoints), and explicit checkpoints are all kept.
    #[cfg(test)]
    pub(crate) fn simulated(fs: &zqlite_log::sim::SimFs) -> StoreOptions {
        StoreOptions {
            log: LogOptions {
                fs: Arc::new(fs.clone()),
                ..LogOptions::default()
            },
            checkpoint_bytes: 0,
            checkpoints_kept: 10,
            history_checkpoints: 0,
        }
    }
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            log: LogOptions {
                // A transaction is one record: allow bulk loads (pgbench -i -s 10 commits
                // 1M rows, about 160 MiB, in one transaction).
                max_record_size: MAX_TRANSACTION_RECORD,
                ..LogOptions::default()
            },
            checkpoint_bytes: 64 << 20,
            checkpoints_kept: 2,
            history_checkpoints: 4,
        }
    }
}

impl StoreOptions {
    /// A store kept entirely in memory (nothing survives the process).
    pub fn in_memory() -> Self {
        StoreOptions {
            log: LogOptions {
                fs: Arc::new(zqlite_log::sim::SimFs::new()),
                max_record_size: MAX_TRANSACTION_RECORD,
                ..LogOptions::default()
            },
            checkpoint_bytes: 0,
            checkpoints_kept: 1,
            history_checkpoints: 0,
        }
    }
}

/// Allocation that must be unique across concurrent transactions and is not rolled back:
/// row ids and sequence values.
#[derive(Debug)]
pub(crate) struct Allocators {
    rowid: AtomicI64,
    sequences: Mutex<HashMap<String, SequenceState>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Allocators {
    pub(crate) fn next_rowid(&self, at_least: i64) -> i64 {
        self.rowid.fetch_max(at_least, Ordering::Relaxed);
        self.rowid.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn nextval(&self, def: &SequenceDef, current: Option<SequenceState>) -> Result<i64> {
        let mut seqs = lock(&self.sequences);
        let state = seqs.entry(def.name.clone()).or_insert_with(|| {
            current.unwrap_or(SequenceState {
                last_value: def.start,
                is_called: false,
            })
        });
        let next = if !state.is_called {
            state.last_value
        } else {
            match state.last_value.checked_add(def.increment) {
                Some(v) if v >= def.min_value && v <= def.max_value => v,
                _ if def.cycle => {
                    if def.increment > 0 {
                        def.min_value
                    } else {
                        def.max_value
                    }
                }
                _ => {
                    let bound = if def.increment > 0 {
                        "maximum"
                    } else {
                        "minimum"
                    };
                    let limit = if def.increment > 0 {
                        def.max_value
                    } else {
                        def.min_value
                    };
                    return Err(Error::SequenceLimit(format!(
                        "nextval: reached {bound} value of sequence \"{}\" ({limit})",
                        def.name
                    )));
                }
            }
        };
        *state = SequenceState {
            last_value: next,
            is_called: true,
        };
        Ok(next)
    }

    pub(crate) fn setval(&self, name: &str, value: i64, is_called: bool) {
        lock(&self.sequences).insert(
            name.to_string(),
            SequenceState {
                last_value: value,
                is_called,
            },
        );
    }

    fn forget_sequence(&self, name: &str) {
        lock(&self.sequences).remove(name);
    }
}

#[derive(Debug)]
struct Head {
    state: State,
    /// Head states waiting for their record to become durable, in LSN order.
    unpublished: VecDeque<(Lsn, State)>,
}

/// The database state and its log. See the module documentation.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    log: Log,
    opts: StoreOptions,
    head: Mutex<Head>,
    published: Published,
    alloc: Arc<Allocators>,
    locks: Arc<RowLocks>,
    stopped: Mutex<Option<String>>,
    bytes_since_checkpoint: AtomicU64,
    checkpointing: Arc<AtomicBool>,
    /// The published state's next event position: moves after every publication that
    /// made new events visible (subscriptions wake on it).
    events_published: watch::Sender<u64>,
    /// Past states opened for time travel (`history.rs`).
    pub(crate) as_of_cache: AsOfCache,
    /// What the audit relations read the log through; loaded or built on first use and
    /// saved with checkpoints (see `audit/`).
    audit: Arc<Mutex<AuditSlot>>,
}

/// The store's audit index and what it knows of the saved copy.
#[derive(Debug, Default)]
struct AuditSlot {
    index: AuditIndex,
    /// Whether the saved index has been looked for (on the first audit query).
    opened: bool,
    /// The LSN of the index as last saved by this store (0: not saved yet).
    saved: Lsn,
}

/// The store's audit index, held: other audit readers (and saving it) wait meanwhile.
#[derive(Debug)]
pub struct AuditGuard<'a>(MutexGuard<'a, AuditSlot>);

impl std::ops::Deref for AuditGuard<'_> {
    type Target = AuditIndex;

    fn deref(&self) -> &AuditIndex {
        &self.0.index
    }
}

/// Saves the audit index of the data directory `dir` if it has been built and has grown
/// since it was last saved. A failure only costs a longer first audit query after a
/// restart, so it is logged, not returned.
fn save_audit_index(fs: &dyn zqlite_log::FileSystem, dir: &Path, slot: &Mutex<AuditSlot>) {
    let (lsn, bytes) = {
        let slot = lock(slot);
        if slot.index.lsn() <= slot.saved {
            return;
        }
        (slot.index.lsn(), audit::file::encode(&slot.index))
    };
    match audit::file::write(fs, dir, &bytes) {
        Ok(()) => {
            let mut slot = lock(slot);
            slot.saved = slot.saved.max(lsn);
            info!(lsn, bytes = bytes.len(), "saved the audit index");
        }
        Err(e) => warn!(error = %e, "could not save the audit index"),
    }
}

/// A commit whose record is queued in the log but may not be durable yet.
#[derive(Debug)]
#[must_use = "a commit is acknowledged only after waiting for it"]
pub struct PendingCommit {
    lsn: Lsn,
    ticket: Option<AppendTicket>,
    /// Row locks of the block, released once the commit is durable and visible (dropping
    /// the commit releases them too).
    locks: Option<HeldLocks>,
}

impl PendingCommit {
    /// The LSN of the commit (the snapshot LSN for a transaction that changed nothing).
    pub fn lsn(&self) -> Lsn {
        self.lsn
    }
}

impl Store {
    /// Opens the store in `dir` (log in `dir/log`, checkpoints in `dir/snapshots`): the
    /// newest valid checkpoint, then the log after it.
    pub fn open(dir: impl AsRef<Path>, opts: StoreOptions) -> Result<Store> {
        let dir = dir.as_ref().to_path_buf();
        let started = Instant::now();
        let log = Log::open_with(dir.join("log"), opts.log.clone())?;
        let Opened {
            state,
            checkpoint_lsn,
            replayed,
        } = open_state(&*opts.log.fs, &dir.join("snapshots"), &log)?;
        info!(
            lsn = state.lsn(),
            checkpoint_lsn = checkpoint_lsn.unwrap_or(0),
            replayed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "opened the store"
        );
        let alloc = Arc::new(Allocators {
            rowid: AtomicI64::new(state.next_rowid()),
            sequences: Mutex::new(HashMap::new()),
        });
        let events_published = watch::Sender::new(state.events().next_position());
        Ok(Store {
            events_published,
            dir,
            log,
            opts,
            published: Arc::new(RwLock::new(Arc::new(state.clone()))),
            locks: Arc::new(RowLocks::default()),
            head: Mutex::new(Head {
                state,
                unpublished: VecDeque::new(),
            }),
            alloc,
            stopped: Mutex::new(None),
            bytes_since_checkpoint: AtomicU64::new(0),
            checkpointing: Arc::new(AtomicBool::new(false)),
            as_of_cache: AsOfCache::default(),
            audit: Arc::default(),
        })
    }

    /// The audit index, caught up with the log to at least `lsn` (a durable LSN, such as a
    /// snapshot's). The first call loads the saved index (one that does not match the log
    /// is ignored with a warning) and indexes the log after it, or the whole log; later ones
    /// only what was committed since. Other audit readers wait while it is held.
    pub fn audit_index(&self, lsn: Lsn) -> Result<AuditGuard<'_>> {
        let mut slot = lock(&self.audit);
        if !slot.opened {
            slot.opened = true;
            match audit::file::read(&*self.opts.log.fs, &self.dir, &self.log) {
                Ok(Some(index)) => {
                    info!(lsn = index.lsn(), "loaded the audit index");
                    slot.saved = index.lsn();
                    slot.index = index;
                }
                Ok(None) => {}
                Err(reason) => warn!(
                    file = %audit::file::path(&self.dir).display(),
                    %reason,
                    "ignoring the saved audit index; indexing the log from the start"
                ),
            }
        }
        let to = lsn.min(self.log.durable_lsn());
        slot.index.catch_up(&self.log, to)?;
        Ok(AuditGuard(slot))
    }

    /// The latest durable state. Readers keep it as long as they like; commits never wait for
    /// them.
    pub fn snapshot(&self) -> Arc<State> {
        self.published
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Watches the next event position of the published state: it changes once new events
    /// are durable and readable from [`Store::snapshot`].
    pub fn watch_events(&self) -> watch::Receiver<u64> {
        self.events_published.subscribe()
    }

    /// The store's sequences, as the session whose memory is `session` calls them.
    pub fn sequences(
        &self,
        session: Arc<Mutex<crate::sequences::SessionSequences>>,
    ) -> crate::sequences::Sequences {
        crate::sequences::Sequences::new(self.alloc.clone(), session)
    }

    /// Starts a transaction on the latest durable state.
    pub fn begin(&self) -> Transaction {
        Transaction::new(
            (*self.snapshot()).clone(),
            self.alloc.clone(),
            self.locks.clone(),
            self.published.clone(),
        )
    }

    /// Waits until no transaction block holds the row (after [`Error::RowLocked`]), or
    /// until `cancel` is set ([`Error::Canceled`]).
    pub fn wait_until_unlocked(
        &self,
        table: TableId,
        key: &[Value],
        cancel: Option<&AtomicBool>,
    ) -> Result<()> {
        self.locks.wait_until_free(table, key, cancel)
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.opts
    }

    fn check_running(&self) -> Result<()> {
        match &*lock(&self.stopped) {
            Some(reason) => Err(Error::Stopped(reason.clone())),
            None => Ok(()),
        }
    }

    fn stop(&self, reason: String) {
        lock(&self.stopped).get_or_insert(reason);
    }

    /// Validates `txn` against the head and queues its record; wait on the result with
    /// [`Store::wait`] or [`Store::durable`].
    pub fn commit(&self, txn: Transaction, meta: TxMeta) -> Result<PendingCommit> {
        let parts = txn.into_commit();
        let snapshot_lsn = parts.snapshot_lsn;
        if parts.changes.is_empty() {
            return Ok(PendingCommit {
                lsn: snapshot_lsn,
                ticket: None,
                locks: parts.locks,
            });
        }
        self.check_running()?;
        let mut head = lock(&self.head);
        let lsn = head.state.lsn() + 1;
        let mut next = head.state.clone();
        let mut changes = parts.changes;
        for change in &mut changes {
            // The row replaced is the head's, which a transaction block may not have seen.
            next.fill_before(change);
            // A row brought up to a newer version under its lock conflicts only with commits
            // after that version (there can be none while the lock is held, except an
            // autocommit write that was not yet visible when the row was refreshed).
            let based = match change {
                Change::Update { table, key, .. } | Change::Delete { table, key, .. } => {
                    parts.based.get(&(*table, key.clone())).copied()
                }
                _ => None,
            };
            let snapshot_lsn = based.map_or(snapshot_lsn, |b| b.max(snapshot_lsn));
            next.apply(change, lsn, Check::Commit { snapshot_lsn })?;
        }
        let mut pending = self.submit(&mut head, next, lsn, meta, changes)?;
        pending.locks = parts.locks;
        Ok(pending)
    }

    /// Runs `statement` on a transaction started from the head state under the commit lock,
    /// then commits what it changed. Used for single-statement autocommit writes: they see
    /// every earlier commit and so never fail with a serialization conflict. Other commits
    /// wait while `statement` runs.
    pub fn write_at_head<R>(
        &self,
        meta: TxMeta,
        statement: impl FnOnce(&mut Transaction) -> Result<R>,
    ) -> Result<(R, PendingCommit)> {
        self.check_running()?;
        let mut head = lock(&self.head);
        let lsn = head.state.lsn() + 1;
        let mut txn = Transaction::at_head(
            head.state.clone(),
            self.alloc.clone(),
            self.locks.clone(),
            lsn,
        );
        let result = statement(&mut txn)?;
        let (next, changes) = txn.into_state_and_changes();
        if changes.is_empty() {
            let lsn = head.state.lsn();
            let pending = PendingCommit {
                lsn,
                ticket: None,
                locks: None,
            };
            return Ok((result, pending));
        }
        // The statement validated and applied its changes to this very head, stamped `lsn`.
        let pending = self.submit(&mut head, next, lsn, meta, changes)?;
        Ok((result, pending))
    }

    fn submit(
        &self,
        head: &mut Head,
        next: State,
        lsn: Lsn,
        meta: TxMeta,
        changes: Vec<Change>,
    ) -> Result<PendingCommit> {
        for change in &changes {
            if let Change::DropSequence { name } = change {
                self.alloc.forget_sequence(name);
            }
        }
        let appends_events = changes
            .iter()
            .any(|c| matches!(c, Change::AppendEvents { .. }));
        let record = NewRecord::msgpack(TRANSACTION, &TxRecord { meta, changes })?;
        self.append(head, next, lsn, record, appends_events)
    }

    /// Appends a [`SECURITY`] record (a failed login, ...): it changes no state, but takes
    /// the next LSN like a commit. Wait on the result to see it in new snapshots.
    pub fn record_security_event(&self, event: &SecurityEvent) -> Result<PendingCommit> {
        self.check_running()?;
        let mut head = lock(&self.head);
        let lsn = head.state.lsn() + 1;
        let next = head.state.clone();
        let record = NewRecord::msgpack(SECURITY, event)?;
        self.append(&mut head, next, lsn, record, false)
    }

    /// Appends `record` as LSN `lsn` and makes `next` (the state after it) the head.
    fn append(
        &self,
        head: &mut Head,
        mut next: State,
        lsn: Lsn,
        record: NewRecord,
        appends_events: bool,
    ) -> Result<PendingCommit> {
        let size = record.payload.len() as u64;
        let ticket = match self.log.submit(std::slice::from_ref(&record)) {
            Ok(ticket) => ticket,
            Err(e @ zqlite_log::Error::RecordTooLarge { .. }) => return Err(e.into()),
            Err(e) => {
                self.stop(e.to_string());
                return Err(e.into());
            }
        };
        if ticket.appended().first_lsn != lsn {
            let reason = format!(
                "the log assigned LSN {} where the committer expected {lsn}",
                ticket.appended().first_lsn
            );
            self.stop(reason.clone());
            return Err(Error::Internal(reason));
        }
        if appends_events {
            // Events are `recorded_at` their record's commit time, which the log assigned.
            next.events
                .record_commit_time(lsn, ticket.appended().timestamp);
        }
        next.lsn = lsn;
        head.unpublished.push_back((lsn, next.clone()));
        head.state = next;
        self.bytes_since_checkpoint
            .fetch_add(size, Ordering::Relaxed);
        Ok(PendingCommit {
            lsn,
            ticket: Some(ticket),
            locks: None,
        })
    }

    /// Blocks until the commit is durable and visible to new snapshots.
    pub fn wait(&self, pending: PendingCommit) -> Result<Lsn> {
        if let Some(ticket) = pending.ticket {
            self.settle(ticket.wait())?;
        }
        Ok(pending.lsn)
    }

    /// Waits until the commit is durable and visible to new snapshots.
    pub async fn durable(&self, pending: PendingCommit) -> Result<Lsn> {
        if let Some(ticket) = pending.ticket {
            self.settle(ticket.durable().await)?;
        }
        Ok(pending.lsn)
    }

    fn settle(&self, appended: zqlite_log::Result<zqlite_log::Appended>) -> Result<()> {
        match appended {
            Ok(appended) => {
                self.publish(appended.last_lsn);
                Ok(())
            }
            Err(e) => {
                self.stop(e.to_string());
                Err(e.into())
            }
        }
    }

    /// Publishes every queued head state up to `durable`.
    ///
    /// Popping the queue and storing the snapshot happen under the head lock, so when this
    /// returns the snapshot includes `durable` even if another thread popped its state
    /// (a committer releases its row locks right after, and the next holder reads it).
    ///
    /// The states this supersedes are dropped after both locks are released: freeing the
    /// tree nodes only they held is most of the cost of a busy commit path, and under the
    /// locks it would stall every committer and reader.
    fn publish(&self, durable: Lsn) {
        let mut superseded: Vec<State> = Vec::new();
        let mut replaced: Option<Arc<State>> = None;
        {
            let mut head = lock(&self.head);
            let mut latest = None;
            while head
                .unpublished
                .front()
                .is_some_and(|(lsn, _)| *lsn <= durable)
            {
                if let Some((_, older)) = latest.take() {
                    superseded.push(older);
                }
                latest = head.unpublished.pop_front();
            }
            let Some((lsn, state)) = latest else {
                return;
            };
            let mut published = self
                .published
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if published.lsn() < lsn {
                let end = state.events().next_position();
                replaced = Some(std::mem::replace(&mut *published, Arc::new(state)));
                self.events_published.send_if_modified(|at| {
                    let moved = *at != end;
                    *at = end;
                    moved
                });
            } else {
                superseded.push(state);
            }
        }
        drop(superseded);
        drop(replaced);
        self.maybe_checkpoint();
    }

    fn maybe_checkpoint(&self) {
        let every = self.opts.checkpoint_bytes;
        if every == 0 || self.bytes_since_checkpoint.load(Ordering::Relaxed) < every {
            return;
        }
        if self.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        self.bytes_since_checkpoint.store(0, Ordering::Relaxed);
        let state = self.snapshot();
        let fs = self.opts.log.fs.clone();
        let dir = self.dir.join("snapshots");
        let kept = self.opts.checkpoints_kept;
        let history = self.opts.history_checkpoints;
        let busy = self.checkpointing.clone();
        let data_dir = self.dir.clone();
        let audit = self.audit.clone();
        let spawned = std::thread::Builder::new()
            .name("zqlite-checkpoint".into())
            .spawn(move || {
                match checkpoint::write(&*fs, &dir, &state) {
                    Ok(path) => {
                        info!(checkpoint = %path.display(), lsn = state.lsn(), "wrote a checkpoint");
                        checkpoint::prune(&*fs, &dir, kept, history);
                    }
                    Err(e) => warn!(error = %e, "could not write a checkpoint"),
                }
                save_audit_index(&*fs, &data_dir, &audit);
                busy.store(false, Ordering::Release);
            });
        if let Err(e) = spawned {
            warn!(error = %e, "could not start the checkpoint thread");
            self.checkpointing.store(false, Ordering::Release);
        }
    }

    /// Writes a checkpoint of the latest durable state now and prunes old ones; saves the
    /// audit index too if it has been built.
    pub fn checkpoint(&self) -> Result<PathBuf> {
        let state = self.snapshot();
        let dir = self.dir.join("snapshots");
        let path = checkpoint::write(&*self.opts.log.fs, &dir, &state)?;
        checkpoint::prune(
            &*self.opts.log.fs,
            &dir,
            self.opts.checkpoints_kept.max(1),
            self.opts.history_checkpoints,
        );
        save_audit_index(&*self.opts.log.fs, &self.dir, &self.audit);
        Ok(path)
    }

    /// Writes a final checkpoint and closes the log.
    pub fn close(self) -> Result<()> {
        while self.checkpointing.load(Ordering::Acquire) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let checkpointed = if lock(&self.stopped).is_none() && self.snapshot().lsn() > 0 {
            self.checkpoint().map(|_| ())
        } else {
            Ok(())
        };
        self.log.close()?;
        checkpointed
    }
}
