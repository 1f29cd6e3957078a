//! [`Log`]: the open log, its appenders' entry points and its lifecycle.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use crate::error::{Error, Result};
use crate::fs::{LockError, LockGuard};
use crate::options::LogOptions;
use crate::reader::{LogReader, Tail, lsn_at_time};
use crate::record::{Lsn, NewRecord};
use crate::recovery::{LOCK_FILE, RecoveryReport, recover};
use crate::sync_stats::SyncStats;
use crate::writer::{
    Ack, ActiveView, Batch, Queue, Sealed, Segments, Shared, Submitted, Writer, lock,
};

/// How long a lone [`AppendTicket::wait`] polls before parking the thread.
pub const WAIT_SPIN: Duration = Duration::from_micros(200);

/// An open, exclusively locked log directory.
///
/// Invariants:
/// - LSNs are contiguous from 1; timestamps never decrease along them.
/// - An append is acknowledged only once it is durable (per [`SyncMode`](crate::SyncMode)),
///   and then readers and tails can see it; nothing unacknowledged is visible to them.
/// - One process holds the directory at a time (the `LOCK` file).
#[derive(Debug)]
pub struct Log {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
    report: RecoveryReport,
    _lock: LockGuard,
}

/// Where an append landed, once durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub first_lsn: Lsn,
    pub last_lsn: Lsn,
    /// The commit timestamp all records of the append carry (µs since the Unix epoch).
    pub timestamp: i64,
}

/// An accepted append whose LSNs are fixed but which may not be durable yet.
///
/// Taking a ticket and waiting for it later lets a caller queue further appends in the
/// meantime (they will share a sync); a ticket dropped unawaited does not cancel its append.
#[derive(Debug)]
pub struct AppendTicket {
    appended: Appended,
    ack: oneshot::Receiver<Ack>,
    blocked_waiters: Arc<AtomicUsize>,
}

impl AppendTicket {
    /// LSNs and timestamp the append will have.
    pub fn appended(&self) -> Appended {
        self.appended
    }

    /// Waits until the append is durable.
    pub async fn durable(self) -> Result<Appended> {
        settle(self.appended, self.ack.await)
    }

    /// Blocks the thread until the append is durable. Must not be called from async code.
    ///
    /// A lone blocked waiter polls for up to [`WAIT_SPIN`] before parking: a sync usually
    /// completes within that time, and noticing it without a kernel wake-up shortens a single
    /// writer's every append. With several waiters nobody spins (spinning waiters would starve
    /// the writer thread on a small machine).
    pub fn wait(mut self) -> Result<Appended> {
        let waiters = self.blocked_waiters.clone();
        waiters.fetch_add(1, Ordering::AcqRel);
        let _leave = LeaveOnDrop(&waiters);
        let spin_until = Instant::now() + WAIT_SPIN;
        while waiters.load(Ordering::Acquire) == 1 && Instant::now() < spin_until {
            match self.ack.try_recv() {
                Ok(ack) => return settle(self.appended, Ok(ack)),
                Err(oneshot::error::TryRecvError::Closed) => return Err(Error::Closed),
                Err(oneshot::error::TryRecvError::Empty) => std::hint::spin_loop(),
            }
        }
        settle(self.appended, self.ack.blocking_recv())
    }
}

/// Decrements the blocked-waiter count when a wait ends, however it ends.
struct LeaveOnDrop<'a>(&'a AtomicUsize);

impl Drop for LeaveOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn settle(
    appended: Appended,
    ack: std::result::Result<Ack, oneshot::error::RecvError>,
) -> Result<Appended> {
    match ack {
        Ok(Ok(())) => Ok(appended),
        Ok(Err(cause)) => Err(Error::WriterFailed { cause }),
        Err(_) => Err(Error::Closed),
    }
}

impl Log {
    /// Opens (creating if needed) the log in `dir` with default options.
    pub fn open(dir: impl AsRef<Path>) -> Result<Log> {
        Log::open_with(dir, LogOptions::default())
    }

    /// Opens (creating if needed) the log in `dir`, recovering from a crash as described in
    /// [`RecoveryMode`](crate::RecoveryMode).
    pub fn open_with(dir: impl AsRef<Path>, opts: LogOptions) -> Result<Log> {
        opts.validate()?;
        let dir = dir.as_ref().to_path_buf();
        let fs = opts.fs.clone();
        if !fs.exists(&dir) {
            fs.create_dir_all(&dir)
                .map_err(Error::io("create directory", &dir))?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs.sync_dir(parent)
                    .map_err(Error::io("sync directory", parent))?;
            }
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = fs.lock(&lock_path).map_err(|e| match e {
            LockError::Held(holder) => Error::Locked {
                path: dir.clone(),
                holder,
            },
            LockError::Io(source) => Error::Io {
                op: "lock",
                path: lock_path.clone(),
                source,
            },
        })?;
        let recovered = recover(&dir, &opts)?;
        let active = recovered.active;
        let durable_lsn = active.summary.last_lsn;
        let last_timestamp = recovered
            .sealed
            .iter()
            .map(|s| s.summary.last_timestamp)
            .chain([active.summary.last_timestamp, 0])
            .max()
            .unwrap_or(0);
        let queue = Queue {
            next_lsn: durable_lsn + 1,
            last_timestamp,
            chain: active.summary.last_chain,
            pending: Batch::default(),
            failed: None,
            closing: false,
            writer_idle: false,
        };
        let segments = Segments {
            sealed: recovered
                .sealed
                .into_iter()
                .map(|s| {
                    Arc::new(Sealed {
                        path: s.path,
                        summary: s.summary,
                        map: Default::default(),
                    })
                })
                .collect(),
            active: ActiveView {
                path: active.path.clone(),
                file: active.file.clone(),
                summary: active.summary.clone(),
            },
            durable_lsn,
            closed: false,
        };
        let shared = Arc::new(Shared {
            dir,
            opts,
            queue: Mutex::new(queue),
            work_ready: Condvar::new(),
            space_free: Condvar::new(),
            segments: RwLock::new(segments),
            durable_tx: watch::Sender::new(durable_lsn),
            work_hint: Default::default(),
            blocked_waiters: Default::default(),
            sync_latency: Default::default(),
        });
        let writer = Writer::new(shared.clone(), active);
        let handle = std::thread::Builder::new()
            .name("zqlite-log-writer".into())
            .spawn(move || writer.run())
            .map_err(Error::io("spawn writer thread", &shared.dir))?;
        Ok(Log {
            shared,
            writer: Some(handle),
            report: recovered.report,
            _lock: lock,
        })
    }

    /// Queues records as one append (all of them or none become durable) and returns at once
    /// with their LSNs. Waits only when the queue is over its byte limit.
    pub fn submit(&self, records: &[NewRecord]) -> Result<AppendTicket> {
        let Submitted {
            first_lsn,
            last_lsn,
            timestamp,
            ack,
        } = self.shared.submit(records)?;
        Ok(AppendTicket {
            blocked_waiters: self.shared.blocked_waiters.clone(),
            appended: Appended {
                first_lsn,
                last_lsn,
                timestamp,
            },
            ack,
        })
    }

    /// Appends records and waits until they are durable.
    pub async fn append(&self, records: &[NewRecord]) -> Result<Appended> {
        self.submit(records)?.durable().await
    }

    /// Appends records and blocks the thread until they are durable.
    pub fn append_blocking(&self, records: &[NewRecord]) -> Result<Appended> {
        self.submit(records)?.wait()
    }

    /// The last durable LSN (0 for an empty log).
    /// How long the log's syncs took so far (a histogram for monitoring).
    pub fn sync_stats(&self) -> SyncStats {
        self.shared.sync_latency.snapshot()
    }

    pub fn durable_lsn(&self) -> Lsn {
        *self.shared.durable_tx.borrow()
    }

    /// Watches the durable LSN; it changes after every durable batch.
    pub fn watch_durable(&self) -> watch::Receiver<Lsn> {
        self.shared.durable_tx.subscribe()
    }

    /// Durable records from `lsn` on (LSN 0 and 1 both mean the beginning).
    pub fn read_from(&self, lsn: Lsn) -> LogReader {
        LogReader::new(self.shared.clone(), lsn)
    }

    /// Follows the log from `lsn`: history first, then new records as they become durable.
    pub fn tail(&self, lsn: Lsn) -> Tail {
        Tail::new(self.shared.clone(), lsn)
    }

    /// The first durable LSN committed at or after `timestamp` (µs since the Unix epoch).
    pub fn lsn_at_time(&self, timestamp: i64) -> Result<Option<Lsn>> {
        lsn_at_time(&self.shared, timestamp)
    }

    /// What opening the log found and repaired.
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Paths of the segment files, oldest first.
    pub fn segment_paths(&self) -> Vec<PathBuf> {
        let segments = self
            .shared
            .segments
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        segments
            .sealed
            .iter()
            .map(|s| s.path.clone())
            .chain(std::iter::once(segments.active.path.clone()))
            .collect()
    }

    /// Writes everything queued, stops the writer and releases the directory. Reports the
    /// writer's failure if it had one.
    pub fn close(mut self) -> Result<()> {
        self.shutdown();
        let failed = lock(&self.shared.queue).failed.clone();
        match failed {
            Some(cause) => Err(Error::WriterFailed { cause }),
            None => Ok(()),
        }
    }

    fn shutdown(&mut self) {
        let Some(writer) = self.writer.take() else {
            return;
        };
        lock(&self.shared.queue).closing = true;
        self.shared.work_ready.notify_all();
        self.shared.space_free.notify_all();
        let _ = writer.join();
        self.shared
            .segments
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .closed = true;
        // Wake tails so they see the log is closed.
        self.shared.durable_tx.send_modify(|_| {});
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.shutdown();
    }
}
