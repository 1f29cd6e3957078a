//! [`RowLocks`]: row-level write locks of transaction blocks, as PostgreSQL's READ COMMITTED
//! uses them.
//!
//! A transaction block that updates or deletes a row first locks it; a second block that
//! wants the same row waits until the first commits (and its commit is durable and visible)
//! or rolls back, then works on the newest committed version of the row instead of failing
//! with a serialization error. Single-statement autocommit writes never hold locks: they run
//! at the head under the committer's lock, so they only wait until a row they need is free.
//!
//! Invariants:
//! - A row is held by at most one transaction; only that transaction releases it.
//! - `waits` maps each waiting transaction to the one it waits for. A wait that would close
//!   a cycle fails with a deadlock error (SQLSTATE 40P01) instead of sleeping.
//! - Every release wakes all waiters; each re-checks its row.
//! - A waiter given a cancel flag looks at it at least every [`CANCEL_POLL`] and gives up
//!   with [`Error::Canceled`] once it is set, so a client's cancel request ends a lock wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::catalog::TableId;
use crate::error::{Error, Result};
use crate::state::Key;
use crate::value::Value;

/// How often a cancellable lock wait looks at its cancel flag.
pub const CANCEL_POLL: Duration = Duration::from_millis(20);

/// Identifies a transaction block to the lock table.
pub type TxnId = u64;

#[derive(Debug, Default)]
struct Table {
    held: HashMap<(TableId, Key), TxnId>,
    waits: HashMap<TxnId, TxnId>,
}

/// The lock table shared by a store's transactions.
#[derive(Debug, Default)]
pub struct RowLocks {
    table: Mutex<Table>,
    released: Condvar,
    next_id: AtomicU64,
}

impl RowLocks {
    fn lock(&self) -> MutexGuard<'_, Table> {
        // The table is consistent after every statement, so a panic elsewhere leaves it usable.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn new_txn(&self) -> TxnId {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Sleeps until a release (or, with a cancel flag, at most [`CANCEL_POLL`]).
    fn wait<'a>(
        &self,
        t: MutexGuard<'a, Table>,
        cancel: Option<&AtomicBool>,
    ) -> MutexGuard<'a, Table> {
        match cancel {
            None => self.released.wait(t).unwrap_or_else(|p| p.into_inner()),
            Some(_) => match self.released.wait_timeout(t, CANCEL_POLL) {
                Ok((t, _)) => t,
                Err(p) => p.into_inner().0,
            },
        }
    }

    /// Locks the row for `txn`, waiting while another transaction holds it. Returns whether
    /// the lock is new (false when `txn` already held it). Fails with [`Error::Canceled`]
    /// when `cancel` is set while waiting.
    pub(crate) fn acquire(
        &self,
        txn: TxnId,
        table: TableId,
        key: &[Value],
        cancel: Option<&AtomicBool>,
    ) -> Result<bool> {
        let id = (table, Key::from(key));
        let mut t = self.lock();
        loop {
            let holder = match t.held.get(&id) {
                None => {
                    t.held.insert(id, txn);
                    return Ok(true);
                }
                Some(&h) if h == txn => return Ok(false),
                Some(&h) => h,
            };
            // Would waiting for `holder` close a cycle back to `txn`?
            let mut next = Some(holder);
            while let Some(n) = next {
                if n == txn {
                    return Err(Error::Deadlock {
                        detail: format!(
                            "Transaction {txn} waits for a row locked by transaction {holder}, \
                             which waits for transaction {txn}."
                        ),
                    });
                }
                next = t.waits.get(&n).copied();
            }
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(Error::Canceled);
            }
            t.waits.insert(txn, holder);
            t = self.wait(t, cancel);
            t.waits.remove(&txn);
        }
    }

    /// The transaction holding the row, if any.
    pub(crate) fn holder(&self, table: TableId, key: &[Value]) -> Option<TxnId> {
        self.lock().held.get(&(table, Key::from(key))).copied()
    }

    /// Waits until no transaction holds the row.
    pub fn wait_until_free(
        &self,
        table: TableId,
        key: &[Value],
        cancel: Option<&AtomicBool>,
    ) -> Result<()> {
        let id = (table, Key::from(key));
        let mut t = self.lock();
        while t.held.contains_key(&id) {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(Error::Canceled);
            }
            t = self.wait(t, cancel);
        }
        Ok(())
    }

    fn release(&self, txn: TxnId, rows: &[(TableId, Key)]) {
        if rows.is_empty() {
            return;
        }
        let mut t = self.lock();
        for row in rows {
            if t.held.get(row) == Some(&txn) {
                t.held.remove(row);
            }
        }
        drop(t);
        self.released.notify_all();
    }
}

/// The rows one transaction holds; dropping it releases them.
#[derive(Debug)]
pub struct HeldLocks {
    locks: Arc<RowLocks>,
    txn: TxnId,
    rows: Vec<(TableId, Key)>,
    /// Ends a wait for another holder when set (the session's cancel flag).
    cancel: Option<Arc<AtomicBool>>,
}

impl HeldLocks {
    pub(crate) fn new(locks: Arc<RowLocks>) -> HeldLocks {
        let txn = locks.new_txn();
        HeldLocks {
            locks,
            txn,
            rows: Vec::new(),
            cancel: None,
        }
    }

    /// Lets `flag` cancel this transaction's lock waits.
    pub(crate) fn set_cancel(&mut self, flag: Arc<AtomicBool>) {
        self.cancel = Some(flag);
    }

    #[cfg(test)]
    fn txn(&self) -> TxnId {
        self.txn
    }

    /// Locks a row for this transaction (waiting for another holder to finish).
    pub(crate) fn acquire(&mut self, table: TableId, key: &[Value]) -> Result<()> {
        if self
            .locks
            .acquire(self.txn, table, key, self.cancel.as_deref())?
        {
            self.rows.push((table, Key::from(key)));
        }
        Ok(())
    }

    #[cfg(test)]
    fn holds(&self, table: TableId, key: &[Value]) -> bool {
        self.rows.iter().any(|(t, k)| *t == table && **k == *key)
    }
}

impl Drop for HeldLocks {
    fn drop(&mut self) {
        self.locks.release(self.txn, &self.rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_locker_waits_for_release_and_cycles_are_deadlocks() {
        let locks = Arc::new(RowLocks::default());
        let key = [Value::Int8(1)];
        let other = [Value::Int8(2)];
        let mut a = HeldLocks::new(locks.clone());
        a.acquire(1, &key).unwrap();
        a.acquire(1, &key).unwrap();
        assert_eq!(locks.holder(1, &key), Some(a.txn()));
        let waiter = {
            let locks = locks.clone();
            let (key, other) = (key.clone(), other.clone());
            std::thread::spawn(move || {
                let mut b = HeldLocks::new(locks);
                b.acquire(1, &other).unwrap();
                b.acquire(1, &key).unwrap();
                b.holds(1, &key)
            })
        };
        // b holds `other` and waits for `key`: a waiting for `other` closes the cycle.
        while locks.holder(1, &other).is_none() || locks.lock().waits.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let err = a.acquire(1, &other).unwrap_err();
        assert_eq!(err.sqlstate(), "40P01");
        drop(a);
        assert!(
            waiter.join().unwrap(),
            "the waiter got the row after release"
        );
        assert_eq!(locks.holder(1, &key), None, "released when b was dropped");
    }

    #[test]
    fn a_cancel_flag_ends_a_lock_wait() {
        let locks = Arc::new(RowLocks::default());
        let key = [Value::Int8(1)];
        let mut a = HeldLocks::new(locks.clone());
        a.acquire(1, &key).unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (locks, key, flag) = (locks.clone(), key.clone(), flag.clone());
            std::thread::spawn(move || {
                let mut b = HeldLocks::new(locks.clone());
                b.set_cancel(flag.clone());
                let held = b.acquire(1, &key);
                let free = locks.wait_until_free(1, &key, Some(&flag));
                (held, free)
            })
        };
        while locks.lock().waits.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
        flag.store(true, Ordering::Relaxed);
        let (held, free) = waiter.join().unwrap();
        assert_eq!(held.unwrap_err().sqlstate(), "57014");
        assert_eq!(free.unwrap_err().sqlstate(), "57014");
        assert!(
            locks.lock().waits.is_empty(),
            "the canceled wait is forgotten"
        );
        assert_eq!(locks.holder(1, &key), Some(a.txn()), "a keeps its row");
    }
}
