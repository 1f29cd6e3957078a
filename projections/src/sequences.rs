//! Sequence calls made outside a transaction's own methods: the executor's `nextval`,
//! `setval`, `currval` and `lastval`.
//!
//! A [`Sequences`] handle pairs the store's allocator, shared by every session, with one
//! session's memory of the values it obtained (`currval`/`lastval` are per session, as in
//! PostgreSQL). Allocation is not transactional: a value handed out is never handed out
//! again in this process, even if the transaction that took it rolls back. The caller logs
//! the [`Change`] each call returns, so the sequence's position survives a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::catalog::SequenceDef;
use crate::change::Change;
use crate::error::{Error, Result};
use crate::state::State;
use crate::store::Allocators;

/// What one session obtained from sequences: the last value of each, and which it used last.
#[derive(Debug, Default)]
pub struct SessionSequences {
    values: HashMap<String, i64>,
    last: Option<String>,
}

/// A session's access to the store's sequences. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sequences {
    alloc: Arc<Allocators>,
    session: Arc<Mutex<SessionSequences>>,
}

fn lock(m: &Mutex<SessionSequences>) -> MutexGuard<'_, SessionSequences> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn definition(state: &State, name: &str) -> Result<Arc<SequenceDef>> {
    state
        .catalog()
        .sequence(name)
        .cloned()
        .ok_or_else(|| Error::UndefinedObject {
            kind: "relation",
            name: name.to_string(),
        })
}

impl Sequences {
    pub(crate) fn new(alloc: Arc<Allocators>, session: Arc<Mutex<SessionSequences>>) -> Self {
        Sequences { alloc, session }
    }

    /// nextval(): the sequence's next value and the change that records it.
    pub fn nextval(&self, state: &State, name: &str) -> Result<(i64, Change)> {
        let def = definition(state, name)?;
        let value = self.alloc.nextval(&def, state.sequence_state(name))?;
        let mut session = lock(&self.session);
        session.values.insert(name.to_string(), value);
        session.last = Some(name.to_string());
        Ok((
            value,
            Change::AdvanceSequence {
                name: name.to_string(),
                last_value: value,
            },
        ))
    }

    /// setval(): sets the sequence's state; returns the change that records it.
    pub fn setval(&self, state: &State, name: &str, value: i64, is_called: bool) -> Result<Change> {
        let def = definition(state, name)?;
        if value < def.min_value || value > def.max_value {
            return Err(Error::OutOfRange(format!(
                "setval: value {value} is out of bounds for sequence \"{}\" ({}..{})",
                def.name, def.min_value, def.max_value
            )));
        }
        self.alloc.setval(name, value, is_called);
        if is_called {
            lock(&self.session).values.insert(name.to_string(), value);
        }
        Ok(Change::SetSequence {
            name: name.to_string(),
            last_value: value,
            is_called,
        })
    }

    /// currval(): the value this session's last nextval of `name` returned, if any.
    pub fn currval(&self, name: &str) -> Option<i64> {
        lock(&self.session).values.get(name).copied()
    }

    /// lastval(): the value of this session's most recent nextval, with its sequence.
    pub fn lastval(&self) -> Option<(String, i64)> {
        let session = lock(&self.session);
        let name = session.last.clone()?;
        let value = session.values.get(&name).copied()?;
        Some((name, value))
    }
}
