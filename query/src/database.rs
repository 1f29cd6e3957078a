//! [`Database`]: the embedded entry point. Owns the [`Store`] and hands out [`Session`]s.
//!
//! Opening a database first registers the SQL layer's index expression compiler with the
//! projections (`index_expr`), since replaying the log evaluates index expressions.

use std::path::Path;
use std::sync::Arc;

use zqlite_projections::{AppendResult, PendingCommit, Store, StoreOptions, StreamAppend, TxMeta};

use crate::error::{Error, Result};
use crate::result_cache::ResultCache;
use crate::session::Session;

/// An open zqlite database (a data directory, or memory only).
#[derive(Debug, Clone)]
pub struct Database {
    store: Arc<Store>,
    /// Answers of read-only queries, shared by all sessions (off until given a capacity).
    cache: Arc<ResultCache>,
}

impl Database {
    /// Opens (creating if needed) the database in `dir`, recovering from its log.
    pub fn open(dir: impl AsRef<Path>) -> Result<Database> {
        crate::index_expr::register();
        Ok(Database {
            store: Arc::new(Store::open(dir, StoreOptions::default())?),
            cache: Arc::default(),
        })
    }

    /// Opens (creating if needed) the database in `dir` with `opts` (checkpoint interval,
    /// checkpoints kept, log settings).
    pub fn open_with(dir: impl AsRef<Path>, opts: StoreOptions) -> Result<Database> {
        crate::index_expr::register();
        Ok(Database {
            store: Arc::new(Store::open(dir, opts)?),
            cache: Arc::default(),
        })
    }

    /// A database that lives in memory only (tests, scratch work).
    pub fn open_in_memory() -> Result<Database> {
        crate::index_expr::register();
        Ok(Database {
            store: Arc::new(Store::open("/zqlite-in-memory", StoreOptions::in_memory())?),
            cache: Arc::default(),
        })
    }

    /// A new session (its own transaction state and plan cache).
    pub fn session(&self) -> Session {
        Session::new(self.store.clone(), self.cache.clone())
    }

    /// Sets how many bytes of query answers the result cache may hold (0, the default,
    /// turns it off). See [`crate::result_cache`].
    pub fn set_query_cache_capacity(&self, bytes: usize) {
        self.cache.set_capacity(bytes);
    }

    /// The query result cache (for its statistics).
    pub fn query_cache(&self) -> &ResultCache {
        &self.cache
    }

    /// Appends events to one or more streams atomically, as one transaction at the head
    /// (see [`zqlite_projections::Store::append_events`]), running the inline projections
    /// over the new events in that same transaction (see [`crate::events`]). Wait on the
    /// commit before acknowledging.
    pub fn append_events(
        &self,
        meta: TxMeta,
        appends: Vec<StreamAppend>,
    ) -> Result<(Vec<Option<AppendResult>>, PendingCommit)> {
        loop {
            let mut failure = None;
            let attempt = appends.clone();
            let result = self
                .store
                .write_at_head(meta.clone(), |txn| {
                    crate::events::append(txn, attempt).map_err(|e| match e {
                        Error::Storage(e) => e,
                        other => {
                            failure = Some(other);
                            zqlite_projections::Error::Internal("the append failed".into())
                        }
                    })
                })
                .map_err(|e| failure.take().unwrap_or(Error::Storage(e)));
            match result {
                // A transaction block holds a row a projection writes: wait for it to
                // finish, then append on the newer head.
                Err(Error::Storage(zqlite_projections::Error::RowLocked { table, key })) => {
                    self.store.wait_until_unlocked(table, &key, None)?;
                }
                other => return other,
            }
        }
    }

    /// The underlying store (for tools: checkpoints, log access).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Writes a final checkpoint and closes the log. Fails if sessions still hold the store.
    pub fn close(self) -> Result<()> {
        match Arc::try_unwrap(self.store) {
            Ok(store) => Ok(store.close()?),
            Err(_) => Err(Error::Runtime {
                sqlstate: "55006",
                message: "the database is still in use by other sessions".into(),
            }),
        }
    }
}
