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

use std::sync::Arc;

use zqlite_log::Lsn;

use crate::catalog::TableId;
use crate::change::Change;
use crate::error::{Error, Result};
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
}

/// A point to roll a transaction back to.
#[derive(Debug, Clone)]
pub struct Savepoint {
    state: State,
    changes: usize,
}

impl Transaction {
    pub(crate) fn new(state: State, alloc: Arc<Allocators>) -> Self {
        Transaction {
            snapshot_lsn: state.lsn(),
            stamp: crate::state::PENDING_LSN,
            state,
            changes: Vec::new(),
            alloc,
        }
    }

    /// A transaction on the head that will commit as `lsn`: its state, with its changes
    /// stamped with `lsn`, becomes the next head as it is (no second application).
    pub(crate) fn at_head(state: State, alloc: Arc<Allocators>, lsn: Lsn) -> Self {
        Transaction {
            stamp: lsn,
            ..Transaction::new(state, alloc)
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

    pub(crate) fn into_changes(self) -> (Lsn, Vec<Change>) {
        (self.snapshot_lsn, self.changes)
    }

    /// Validates and applies one change.
    pub fn apply(&mut self, change: Change) -> Result<()> {
        let in_place = matches!(
            change,
            Change::Insert { .. }
                | Change::Update { .. }
                | Change::Delete { .. }
                | Change::AdvanceSequence { .. }
        );
        if in_place {
            // Row changes validate before they modify: nothing to undo on error.
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
            key: key.to_vec(),
            row: row.into(),
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
                Change::Delete { table, key } => self.delete_cascading(table, &key, depth + 1)?,
                other => self.apply(other)?,
            }
        }
        self.apply(Change::Delete {
            table,
            key: key.to_vec(),
        })
    }

    /// nextval(): the sequence's next value, unique across concurrent transactions and kept
    /// even if this transaction rolls back (as in PostgreSQL).
    pub fn nextval(&mut self, sequence: &str) -> Result<i64> {
        let def = self
            .state
            .catalog()
            .sequence(sequence)
            .cloned()
            .ok_or_else(|| Error::UndefinedObject {
                kind: "relation",
                name: sequence.to_string(),
            })?;
        let current = self.state.sequence_state(sequence);
        let value = self.alloc.nextval(&def, current)?;
        self.apply(Change::AdvanceSequence {
            name: sequence.to_string(),
            last_value: value,
        })?;
        Ok(value)
    }

    /// setval(): sets the sequence's state.
    pub fn setval(&mut self, sequence: &str, value: i64, is_called: bool) -> Result<()> {
        let def = self
            .state
            .catalog()
            .sequence(sequence)
            .cloned()
            .ok_or_else(|| Error::UndefinedObject {
                kind: "relation",
                name: sequence.to_string(),
            })?;
        if value < def.min_value || value > def.max_value {
            return Err(Error::OutOfRange(format!(
                "setval: value {value} is out of bounds for sequence \"{}\" ({}..{})",
                def.name, def.min_value, def.max_value
            )));
        }
        self.alloc.setval(sequence, value, is_called);
        self.apply(Change::SetSequence {
            name: sequence.to_string(),
            last_value: value,
            is_called,
        })
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
