//! zqlite's log: the segmented, append-only, checksummed and hash-chained record of every
//! write. It is the only source of truth; everything else in zqlite is derived from it.
//!
//! The life of an append:
//! 1. [`Log::submit`] assigns LSNs and a timestamp and encodes the frames into the pending
//!    queue (`writer.rs`), with their CRC and hash-chain value (`format.rs`).
//! 2. The writer thread takes everything pending, writes it to the active segment, rolling to
//!    a new segment when full (`writer.rs`, `segment.rs`), and syncs once for the whole batch.
//! 3. It publishes the new durable LSN to readers and tails (`reader.rs`) and only then
//!    acknowledges the appends of the batch ([`AppendTicket::durable`]).
//! 4. On the next open, `recovery.rs` trusts what checks, truncates a torn tail and refuses
//!    anything else with the file and offset of the damage; [`verify`] checks everything.
//!
//! The byte format is specified in `docs/log-format.md`. All file access goes through the
//! [`FileSystem`] seam; [`sim::SimFs`] injects faults and crashes in tests. Tools read a log
//! without opening it (no lock, no repair, so beside a live server) through [`ReadOnlyLog`].

mod error;
mod format;
mod fs;
mod handle;
mod options;
mod read_only;
mod reader;
mod record;
mod recovery;
mod segment;
pub mod sim;
mod sync_stats;
mod verify;
mod writer;

pub use error::{Error, Result};
pub use format::{FORMAT_VERSION, GENESIS_CHAIN};
pub use fs::{FileSystem, LockError, LockGuard, LogFile, Mapped, MappedBytes, RealFs};
pub use handle::{AppendTicket, Appended, Log};
pub use options::{LogOptions, RecoveryMode, SyncMode};
pub use read_only::{ReadOnlyLog, ReadOnlyReader, SegmentFile};
pub use reader::{LogReader, Tail};
pub use record::{ChainHash, Lsn, NewRecord, Record, RecordKind};
pub use recovery::RecoveryReport;
pub use sync_stats::{SYNC_BUCKETS, SyncStats};
pub use verify::{Anchor, Finding, VerifyProgress, VerifyReport, verify, verify_with_progress};
