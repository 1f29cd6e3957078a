//! Group commit: appenders queue encoded frames; one writer thread writes and syncs them.
//!
//! An appender takes the queue lock, gets the next LSNs and a timestamp, encodes its frames
//! into the shared pending buffer (CRC and hash chain included) and registers a waiter. The
//! writer thread repeatedly takes everything pending, writes it to the active segment (rolling
//! to a new segment when full), syncs once, publishes the new durable LSN, and only then
//! acknowledges every waiter of that batch. Appenders that arrive during a sync form the next
//! batch, so concurrent appenders share syncs.
//!
//! Invariants:
//! - Queue order is LSN order: LSNs are assigned and frames encoded under the same lock.
//! - A waiter is acknowledged `Ok` only after the sync covering its last LSN returned.
//! - After any write or sync error the writer stops for good: every pending and future append
//!   fails with [`Error::WriterFailed`], since what reached the disk is unknown.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{oneshot, watch};
use tracing::{error, warn};

use crate::error::{Error, Result};
use crate::format::{FRAME_OVERHEAD, encode_frame};
use crate::fs::{LogFile, Mapped};
use crate::options::{LogOptions, SyncMode};
use crate::record::{ChainHash, Lsn, NewRecord};
use crate::recovery::{ActiveOpen, create_segment, write_index};
use crate::segment::SegmentSummary;
use crate::sync_stats::SyncLatency;

/// What an acknowledgement carries: nothing on success, the writer's failure otherwise.
pub(crate) type Ack = std::result::Result<(), Arc<Error>>;

/// How long the writer watches for new work after a batch before parking on the condvar.
const SPIN_BEFORE_PARK: Duration = Duration::from_micros(50);

/// State shared by the log handle, the writer thread and readers.
#[derive(Debug)]
pub(crate) struct Shared {
    pub dir: PathBuf,
    pub opts: LogOptions,
    pub queue: Mutex<Queue>,
    pub work_ready: Condvar,
    pub space_free: Condvar,
    pub segments: RwLock<Segments>,
    pub durable_tx: watch::Sender<Lsn>,
    /// Set by appenders after queueing; lets the writer spin briefly instead of parking.
    pub work_hint: AtomicBool,
    /// Threads blocked in `AppendTicket::wait`; a lone waiter may spin instead of parking.
    pub blocked_waiters: Arc<AtomicUsize>,
    /// Durations of the writer's batch syncs.
    pub sync_latency: SyncLatency,
}

/// The segments as readers see them: only durable frames count.
#[derive(Debug)]
pub(crate) struct Segments {
    pub sealed: Vec<Arc<Sealed>>,
    pub active: ActiveView,
    pub durable_lsn: Lsn,
    /// The log was closed: no more records will become durable through this handle.
    pub closed: bool,
}

#[derive(Debug)]
pub(crate) struct Sealed {
    pub path: PathBuf,
    pub summary: SegmentSummary,
    pub map: OnceLock<Mapped>,
}

#[derive(Debug)]
pub(crate) struct ActiveView {
    pub path: PathBuf,
    pub file: Arc<dyn LogFile>,
    /// Covers durable frames only; `data_end` is the durable end.
    pub summary: SegmentSummary,
}

#[derive(Debug)]
pub(crate) struct Queue {
    pub next_lsn: Lsn,
    pub last_timestamp: i64,
    pub chain: ChainHash,
    pub pending: Batch,
    pub failed: Option<Arc<Error>>,
    pub closing: bool,
    /// The writer is parked waiting for work: the appender that queues must wake it. (While
    /// the writer is busy writing or syncing, appenders skip the wake-up system call.)
    pub writer_idle: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Batch {
    buf: Vec<u8>,
    frames: Vec<PendingFrame>,
    waiters: Vec<oneshot::Sender<Ack>>,
}

#[derive(Debug, Clone, Copy)]
struct PendingFrame {
    lsn: Lsn,
    timestamp: i64,
    len: u32,
    chain: ChainHash,
}

/// A batch keeps at most this much buffer between batches: one large transaction must not pin
/// its size in memory (twice: the pending and the writing batch) for the life of the log.
const RETAINED_BUFFER: usize = 1 << 20;

impl Batch {
    fn clear(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > RETAINED_BUFFER {
            self.buf = Vec::new();
        }
        self.frames.clear();
        self.waiters.clear();
    }

    fn fail_all(&mut self, cause: &Arc<Error>) {
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Err(cause.clone()));
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Holders of these locks do not panic while the data is inconsistent (the writer thread
    // catches nothing, but it only swaps buffers under the lock).
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Where an accepted append will land.
#[derive(Debug)]
pub(crate) struct Submitted {
    pub first_lsn: Lsn,
    pub last_lsn: Lsn,
    pub timestamp: i64,
    pub ack: oneshot::Receiver<Ack>,
}

impl Shared {
    /// Queues records for the writer; see the module doc.
    pub fn submit(&self, records: &[NewRecord]) -> Result<Submitted> {
        if records.is_empty() {
            return Err(Error::EmptyAppend);
        }
        let max = self.opts.max_record_size;
        if let Some(big) = records.iter().find(|r| r.payload.len() > max) {
            return Err(Error::RecordTooLarge {
                size: big.payload.len(),
                max,
            });
        }
        let (tx, rx) = oneshot::channel();
        let mut q = lock(&self.queue);
        loop {
            if let Some(cause) = &q.failed {
                return Err(Error::WriterFailed {
                    cause: cause.clone(),
                });
            }
            if q.closing {
                return Err(Error::Closed);
            }
            if q.pending.buf.len() < self.opts.max_pending_bytes {
                break;
            }
            q = self
                .space_free
                .wait(q)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        let timestamp = now_micros().max(q.last_timestamp);
        let first_lsn = q.next_lsn;
        let mut chain = q.chain;
        let Queue { pending, .. } = &mut *q;
        pending.buf.reserve(
            records
                .iter()
                .map(|r| r.payload.len() + FRAME_OVERHEAD)
                .sum(),
        );
        for (i, record) in records.iter().enumerate() {
            let lsn = first_lsn + i as u64;
            let start = pending.buf.len();
            chain = encode_frame(
                &mut pending.buf,
                &chain,
                lsn,
                timestamp,
                record.kind,
                &record.payload,
            );
            pending.frames.push(PendingFrame {
                lsn,
                timestamp,
                len: (pending.buf.len() - start) as u32,
                chain,
            });
        }
        pending.waiters.push(tx);
        let last_lsn = first_lsn + records.len() as u64 - 1;
        q.next_lsn = last_lsn + 1;
        q.last_timestamp = timestamp;
        q.chain = chain;
        let wake = q.writer_idle;
        drop(q);
        self.work_hint.store(true, Ordering::Release);
        if wake {
            self.work_ready.notify_one();
        }
        Ok(Submitted {
            first_lsn,
            last_lsn,
            timestamp,
            ack: rx,
        })
    }
}

/// The writer thread's own state: the active segment as written (ahead of what is durable).
#[derive(Debug)]
pub(crate) struct Writer {
    shared: Arc<Shared>,
    path: PathBuf,
    file: Arc<dyn LogFile>,
    summary: SegmentSummary,
    allocated: u64,
    last_sync: Instant,
    zeros: Vec<u8>,
}

impl Writer {
    pub fn new(shared: Arc<Shared>, active: ActiveOpen) -> Self {
        let zeros = vec![0; shared.opts.preallocate_chunk.clamp(4096, 1 << 20) as usize];
        Writer {
            shared,
            path: active.path,
            file: active.file,
            summary: active.summary,
            allocated: active.allocated,
            last_sync: Instant::now(),
            zeros,
        }
    }

    /// The writer thread's body. Returns when the log closes or after a failure.
    pub fn run(mut self) {
        let mut batch = Batch::default();
        while self.next_batch(&mut batch) {
            let last_lsn = batch.frames.last().map_or(0, |f| f.lsn);
            match self.write_batch(&batch) {
                Ok(()) => {
                    self.publish(last_lsn);
                    for waiter in batch.waiters.drain(..) {
                        let _ = waiter.send(Ok(()));
                    }
                }
                Err(e) => {
                    error!(error = %e, "log writer failed; appends are refused until the log is reopened");
                    let cause = Arc::new(e);
                    batch.fail_all(&cause);
                    let mut q = lock(&self.shared.queue);
                    q.pending.fail_all(&cause);
                    q.pending.clear();
                    q.failed = Some(cause);
                    drop(q);
                    self.shared.space_free.notify_all();
                    return;
                }
            }
            batch.clear();
        }
    }

    /// Waits for pending frames and swaps them into `batch`; false when closing with nothing
    /// left to write.
    fn next_batch(&mut self, batch: &mut Batch) -> bool {
        let shared = &*self.shared;
        // An appender that was just acknowledged usually queues again within microseconds.
        // Watching for it briefly spares both sides a park and wake-up through the kernel,
        // which costs more than the spin on a small machine.
        let spin_until = Instant::now() + SPIN_BEFORE_PARK;
        while !shared.work_hint.load(Ordering::Acquire) && Instant::now() < spin_until {
            std::hint::spin_loop();
        }
        let mut q = lock(&shared.queue);
        shared.work_hint.store(false, Ordering::Relaxed);
        while q.pending.frames.is_empty() {
            if q.closing {
                return false;
            }
            q.writer_idle = true;
            q = shared
                .work_ready
                .wait(q)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            q.writer_idle = false;
        }
        if let SyncMode::Batch(interval) = shared.opts.sync {
            // Let appends gather until a sync is due.
            let due = self.last_sync + interval;
            while !q.closing {
                let now = Instant::now();
                if now >= due {
                    break;
                }
                // Not idle: appenders need not wake a writer that wakes itself at `due`.
                q = shared
                    .work_ready
                    .wait_timeout(q, due - now)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0;
            }
        }
        std::mem::swap(&mut q.pending, batch);
        drop(q);
        shared.space_free.notify_all();
        true
    }

    fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        let segment_size = self.shared.opts.segment_size;
        let interval = self.shared.opts.index_interval;
        let mut run_start = 0usize;
        let mut run_offset = self.summary.data_end;
        let mut pos = 0usize;
        for frame in &batch.frames {
            let len = u64::from(frame.len);
            let mut offset = run_offset + (pos - run_start) as u64;
            if offset + len > segment_size && !self.summary.is_empty() {
                self.write_at(&batch.buf[run_start..pos], run_offset)?;
                self.roll(frame.lsn)?;
                run_start = pos;
                run_offset = self.summary.data_end;
                offset = run_offset;
            }
            self.summary.push_frame(
                offset,
                len,
                frame.lsn,
                frame.timestamp,
                frame.chain,
                interval,
            );
            pos += frame.len as usize;
        }
        self.write_at(&batch.buf[run_start..pos], run_offset)?;
        if self.shared.opts.sync != SyncMode::Off {
            let started = Instant::now();
            self.file
                .sync_data()
                .map_err(Error::io("sync", &self.path))?;
            self.last_sync = Instant::now();
            self.shared
                .sync_latency
                .record(self.last_sync.duration_since(started));
        }
        Ok(())
    }

    /// Writes `bytes` at `offset`, first extending the zero-filled allocation if needed.
    fn write_at(&mut self, bytes: &[u8], offset: u64) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let end = offset + bytes.len() as u64;
        if end > self.allocated {
            let target = end.max(self.allocated + self.shared.opts.preallocate_chunk);
            while self.allocated < target {
                let n = (target - self.allocated).min(self.zeros.len() as u64) as usize;
                self.file
                    .write_all_at(&self.zeros[..n], self.allocated)
                    .map_err(Error::io("preallocate", &self.path))?;
                self.allocated += n as u64;
            }
        }
        self.file
            .write_all_at(bytes, offset)
            .map_err(Error::io("write", &self.path))
    }

    /// Seals the active segment and starts a new one whose first LSN is `first_lsn`.
    fn roll(&mut self, first_lsn: Lsn) -> Result<()> {
        let fs = &*self.shared.opts.fs;
        self.file
            .set_len(self.summary.data_end)
            .and_then(|()| self.file.sync_data())
            .map_err(Error::io("seal", &self.path))?;
        if let Err(e) = write_index(fs, &self.path, &self.summary) {
            // The index is a cache, rebuilt on open when missing; the log itself is sound.
            warn!(error = %e, "could not write a segment index");
        }
        let next = create_segment(fs, &self.shared.dir, first_lsn, self.summary.last_chain)?;
        let sealed = Sealed {
            path: std::mem::replace(&mut self.path, next.path.clone()),
            summary: std::mem::replace(&mut self.summary, next.summary.clone()),
            map: OnceLock::new(),
        };
        self.file = next.file.clone();
        self.allocated = next.allocated;
        let mut segments = self
            .shared
            .segments
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        segments.sealed.push(Arc::new(sealed));
        segments.active = ActiveView {
            path: next.path,
            file: next.file,
            summary: next.summary,
        };
        Ok(())
    }

    /// Makes everything up to `last_lsn` visible to readers and tails.
    fn publish(&self, last_lsn: Lsn) {
        {
            let mut segments = self
                .shared
                .segments
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let view = &mut segments.active.summary;
            let known = view.entries.len();
            view.entries
                .extend_from_slice(&self.summary.entries[known..]);
            view.last_lsn = self.summary.last_lsn;
            view.last_timestamp = self.summary.last_timestamp;
            view.last_chain = self.summary.last_chain;
            view.data_end = self.summary.data_end;
            segments.durable_lsn = last_lsn;
        }
        self.shared.durable_tx.send_replace(last_lsn);
    }
}
