//! How a log is opened: durability, recovery policy and sizes, as types.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::fs::{FileSystem, RealFs};

/// When an append is acknowledged relative to `fdatasync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Every batch of appends is synced before any of them is acknowledged (the default).
    /// Concurrent appenders share one sync (group commit).
    #[default]
    Always,
    /// Sync at most once per interval; appends are still acknowledged only after the sync that
    /// covers them, so latency grows by up to the interval while syncs per second are bounded.
    Batch(Duration),
    /// Never sync: acknowledged appends survive a process crash (they are in the OS page cache)
    /// but not a power loss or kernel crash.
    Off,
}

/// What opening does with damage it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecoveryMode {
    /// Truncate a torn tail (an incomplete or invalid last frame with nothing valid after it);
    /// refuse to open on any other damage, naming file and offset (the default).
    #[default]
    Strict,
    /// The operator's explicit consent to lose data: truncate the log at the first invalid
    /// frame wherever it is, deleting every later segment.
    Repair,
}

/// Options for [`Log::open`](crate::Log::open).
#[derive(Debug, Clone)]
pub struct LogOptions {
    pub sync: SyncMode,
    pub recovery: RecoveryMode,
    /// A segment is sealed and a new one started when the next frame would pass this size.
    pub segment_size: u64,
    /// The largest payload accepted by an append.
    pub max_record_size: usize,
    /// Roughly how many bytes of frames lie between two sparse-index entries.
    pub index_interval: u64,
    /// The active segment grows by zero-filled chunks of this size, so appends overwrite
    /// allocated blocks instead of extending the file on every sync.
    pub preallocate_chunk: u64,
    /// Appenders wait when this many encoded bytes are queued and not yet written.
    pub max_pending_bytes: usize,
    /// The file system the log uses; tests substitute a fault-injecting one.
    pub fs: Arc<dyn FileSystem>,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            sync: SyncMode::Always,
            recovery: RecoveryMode::Strict,
            segment_size: 64 << 20,
            max_record_size: 16 << 20,
            index_interval: 4 << 10,
            preallocate_chunk: 4 << 20,
            max_pending_bytes: 64 << 20,
            fs: Arc::new(RealFs),
        }
    }
}

impl LogOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        let fail = |msg: &str| Err(Error::InvalidOptions(msg.to_string()));
        if self.segment_size < 4096 {
            return fail("segment_size must be at least 4096 bytes");
        }
        if self.max_record_size == 0 || self.max_record_size > (1 << 30) {
            return fail("max_record_size must be between 1 byte and 1 GiB");
        }
        if self.index_interval == 0 {
            return fail("index_interval must be positive");
        }
        if self.max_pending_bytes == 0 {
            return fail("max_pending_bytes must be positive");
        }
        if let SyncMode::Batch(interval) = self.sync
            && interval.is_zero()
        {
            return fail("a batch sync interval must be positive (use SyncMode::Always)");
        }
        Ok(())
    }
}
