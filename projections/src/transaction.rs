//! [`Transaction`]: a private, persistent copy of the state plus the changes made to it.
//!
//! Statements run against the transaction's own state, so they see their own writes; each
//! change is validated (constraints) and applied atomically, and recorded for the commit. A
//! savepoint is a clone of the state and the length of the change list, so rolling back to
//! one costs O(1).
//!
//! Invariants:
//! - `state` equals the snapshot with `changes` applied in order.
//! - A change that fails leaves the transaction as it was.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use zqlite_log::Lsn;

use crate::catalog::TableId;
use crate::change::Change;
use crate::error::{Error, Result};
use crate::locks::{HeldLocks, RowLocks};
use crate::sequences::{Sequences, SessionSequences};
use crate::state::{Check, Key, State};
use crate::store::Allocators;
use crate::value::Value;

#[derive(Debug)]
pub struct Transaction {
    state: State,
    snapshot_lsn: Lsn,
    /// The LSN stamped on what the transaction writes: [`crate::PENDING_LSN`], or the LSN
    /// its commit will get when it runs at the head under the committer's lock.
    stamp: Lsn,
    changes: Vec<Change>,
    alloc: Arc<Allocators>,
    /// What the session running this transaction obtained from sequences (`currval`).
    session_sequences: Arc<Mutex<SessionSequences>>,
    mode: Mode,
    /// Rows refreshed to a version committed after the snapshot (READ COMMITTED), with the
    /// LSN of that version: the commit checks against it instead of the snapshot.
    based: HashMap<(TableId, Key), Lsn>,
}

/// How a transaction block treats rows that others changed after its snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// PostgreSQL's default: UPDATE and DELETE lock each row they change (waiting for a
    /// block that holds it) and work on its newest committed version. Reads see the
    /// snapshot the block started with.
    ReadCommitted,
    /// REPEATABLE READ and SERIALIZABLE: snapshot isolation; if a row the block changed was
    /// changed by a commit after its snapshot, the commit fails with 40001.
    Snapshot,
}

/// The store's latest published state, shared with its transactions.
pub(crate) type Published = Arc<RwLock<Arc<State>>>;

#[derive(Debug)]
enum Mode {
    /// A single statement at the head under the committer's lock: holds no locks, and
    /// stops at a row another block holds ([`Error::RowLocked`]).
    AtHead(Arc<RowLocks>),
    Block {
        isolation: Isolation,
        locks: HeldLocks,
        published: Published,
    },
}

/// What a commit needs from a transaction.
#[derive(Debug)]
pub(crate) struct CommitParts {
    pub snapshot_lsn: Lsn,
    pub changes: Vec<Change>,
    pub based: HashMap<(TableId, Key), Lsn>,
    pub locks: Option<HeldLocks>,
}

/// A point to roll a transaction back to.
#[derive(Debug, Clone)]
pub struct Savepoint {
    state: State,
    changes: usize,
}

impl Transaction {
    /// A transaction block on `state` (READ COMMITTED until told otherwise).
    pub(crate) fn new(
        state: State,
        alloc: Arc<Allocators>,
        locks: Arc<RowLocks>,
        published: Published,
    ) -> Self {
        Transaction {
            snapshot_lsn: state.lsn(),
            stamp: crate::state::PENDING_LSN,
            state,
            changes: Vec::new(),
            alloc,
            session_sequences: Arc::default(),
            mode: Mode::Block {
                isolation: Isolation::ReadCommitted,
                locks: HeldLocks::new(locks),
                published,
            },
            based: HashMap::new(),
        }
    }

    /// A transaction on the head that will commit as `lsn`: its state, with its changes
    /// stamped with `lsn`, becomes the next head as it is (no second application).
    pub(crate) fn at_head(
        state: State,
        alloc: Arc<Allocators>,
        locks: Arc<RowLocks>,
        lsn: Lsn,
    ) -> Self {
        Transaction {
            snapshot_lsn: state.lsn(),
            stamp: lsn,
            state,
            changes: Vec::new(),
            alloc,
            session_sequences: Arc::default(),
            mode: Mode::AtHead(locks),
            based: HashMap::new(),
        }
    }

    /// Lets `flag` cancel the block's waits for rows other blocks hold ([`Error::Canceled`]).
    pub fn set_cancel_flag(&mut self, flag: Arc<AtomicBool>) {
        if let Mode::Block { locks, .. } = &mut self.mode {
            locks.set_cancel(flag);
        }
    }

    /// Sets the block's isolation (before its first statement, as `BEGIN ISOLATION LEVEL`).
    pub fn set_isolation(&mut self, level: Isolation) {
        if let Mode::Block { isolation, .. } = &mut self.mode {
            *isolation = level;
        }
    }

    /// Before an UPDATE or DELETE changes a row: in a READ COMMITTED block, locks it
    /// (waiting while another block holds it) and, when a commit after the snapshot changed
    /// it, brings this transaction's copy up to that newest version. Returns true when the
    /// row was refreshed (the caller re-reads it; it may be gone). At the head, fails with
    /// [`Error::RowLocked`] when a block holds the row.
    pub fn lock_for_write(&mut self, table: TableId, key: &[Value]) -> Result<bool> {
        let published = match &mut self.mode {
            Mode::AtHead(locks) => {
                return match locks.holder(table, key) {
                    Some(_) => Err(Error::RowLocked {
                        table,
                        key: key.to_vec(),
                    }),
                    None => Ok(false),
                };
            }
            Mode::Block {
                isolation: Isolation::Snapshot,
                ..
            } => return Ok(false),
            Mode::Block {
                locks, published, ..
            } => {
                locks.acquire(table, key)?;
                published.clone()
            }
        };
        let ours = self.state.table_data(table).and_then(|d| d.get(key));
        if ours.is_none_or(|e| e.lsn == self.stamp) {
            // Not visible to this transaction, or already written by it.
            return Ok(false);
        }
        let latest_state = published
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let latest = latest_state.table_data(table).and_then(|d| d.get(key));
        match latest {
            Some(e) if e.lsn <= self.snapshot_lsn => Ok(false),
            Some(e) => {
                let refresh = Change::Update {
                    table,
                    key: Key::from(key),
                    row: e.row.clone(),
                    before: None,
                };
                self.state.apply(&refresh, e.lsn, Check::Replay)?;
                self.based.insert((table, Key::from(key)), e.lsn);
                Ok(true)
            }
            None => {
                // Deleted by a commit after the snapshot: gone for this transaction too.
                let gone = Change::Delete {
                    table,
                    key: Key::from(key),
                    before: None,
                };
                self.state.apply(&gone, latest_state.lsn(), Check::Replay)?;
                Ok(true)
            }
        }
    }

    pub(crate) fn into_commit(self) -> CommitParts {
        CommitParts {
            snapshot_lsn: self.snapshot_lsn,
            changes: self.changes,
            based: self.based,
            locks: match self.mode {
                Mode::Block { locks, .. } => Some(locks),
                Mode::AtHead(_) => None,
            },
        }
    }

    /// The state and the changes, for a commit from the head (see [`Transaction::at_head`]).
    pub(crate) fn into_state_and_changes(self) -> (State, Vec<Change>) {
        (self.state, self.changes)
    }

    /// The state as this transaction sees it: its snapshot plus its own changes.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The LSN of the snapshot the transaction started from.
    pub fn snapshot_lsn(&self) -> Lsn {
        self.snapshot_lsn
    }

    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Validates and applies one change. An update or delete records the row it replaces
    /// as its `before` image (the committer refreshes it from the head at commit).
    pub fn apply(&mut self, mut change: Change) -> Result<()> {
        self.state.fill_before(&mut change);
        let in_place = matches!(
            change,
            Change::Insert { .. }
                | Change::Update { .. }
                | Change::Delete { .. }
                | Change::AdvanceSequence { .. }
                | Change::AppendEvents { .. }
                | Change::DeleteStream { .. }
                | Change::SetStreamMetadata { .. }
                | Change::SetProjectionProgress { .. }
        );
        if in_place {
            // Row and event changes validate before they modify: nothing to undo on error.
            self.state.apply(&change, self.stamp, Check::Statement)?;
        } else {
            let mut next = self.state.clone();
            next.apply(&change, self.stamp, Check::Statement)?;
            self.state = next;
        }
        self.changes.push(change);
        Ok(())
    }

    /// Inserts a full row and returns its key (allocating a row id for a table without a
    /// primary key).
    pub fn insert(&mut self, table: TableId, row: Vec<Value>) -> Result<Key> {
        let def = self.state.def(table)?;
        let (rowid, key): (Option<i64>, Key) = match def.key_of(&row) {
            Some(key) => (None, Key::from(key)),
            None => {
                let id = self.alloc.next_rowid(self.state.next_rowid());
                (Some(id), Key::from([Value::Int8(id)]))
            }
        };
        self.apply(Change::Insert {
            table,
            rowid,
            row: row.into(),
        })?;
        Ok(key)
    }

    /// Replaces the row stored under `key`.
    pub fn update(&mut self, table: TableId, key: &[Value], row: Vec<Value>) -> Result<()> {
        self.apply(Change::Update {
            table,
            key: Key::from(key),
            row: row.into(),
            before: None,
        })
    }

    /// Deletes the row stored under `key`, first applying the ON DELETE actions of foreign
    /// keys that reference it (recursively).
    pub fn delete(&mut self, table: TableId, key: &[Value]) -> Result<()> {
        let savepoint = self.savepoint();
        let result = self.delete_cascading(table, key, 0);
        if result.is_err() {
            self.rollback_to(&savepoint);
        }
        result
    }

    fn delete_cascading(&mut self, table: TableId, key: &[Value], depth: usize) -> Result<()> {
        if depth > 1000 {
            return Err(Error::Internal(
                "foreign key cascade deeper than 1000 levels".into(),
            ));
        }
        let def = self.state.def(table)?;
        let Some(entry) = self
            .state
            .table_data(table)
            .and_then(|d| d.get(key))
            .cloned()
        else {
            // Already removed by a cascade earlier in this statement.
            return Ok(());
        };
        for change in self.state.cascade_for_delete(&def, &entry.row)? {
            match change {
                Change::Delete { table, key, .. } => {
                    self.delete_cascading(table, &key, depth + 1)?
                }
                other => self.apply(other)?,
            }
        }
        self.apply(Change::Delete {
            table,
            key: Key::from(key),
            before: None,
        })
    }

    /// Lets the transaction's sequence calls update `session`'s `currval`/`lastval`.
    pub fn set_session_sequences(&mut self, session: Arc<Mutex<SessionSequences>>) {
        self.session_sequences = session;
    }

    /// The sequences as this transaction's session sees them.
    pub fn sequences(&self) -> Sequences {
        Sequences::new(self.alloc.clone(), self.session_sequences.clone())
    }

    /// nextval(): the sequence's next value, unique across concurrent transactions and kept
    /// even if this transaction rolls back (as in PostgreSQL).
    pub fn nextval(&mut self, sequence: &str) -> Result<i64> {
        let (value, change) = self.sequences().nextval(&self.state, sequence)?;
        self.apply(change)?;
        Ok(value)
    }

    /// setval(): sets the sequence's state.
    pub fn setval(&mut self, sequence: &str, value: i64, is_called: bool) -> Result<()> {
        let change = self
            .sequences()
            .setval(&self.state, sequence, value, is_called)?;
        self.apply(change)
    }

    pub fn savepoint(&self) -> Savepoint {
        Savepoint {
            state: self.state.clone(),
            changes: self.changes.len(),
        }
    }

    /// Undoes everything after `savepoint` (sequence advances stay, as in PostgreSQL).
    pub fn rollback_to(&mut self, savepoint: &Savepoint) {
        self.state = savepoint.state.clone();
        self.changes.truncate(savepoint.changes);
    }
}
