//! Helpers shared by the log's integration tests.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use zqlite_log::sim::SimFs;
use zqlite_log::{Log, LogOptions, NewRecord, Record, RecordKind};

/// Options with small segments and a frequent index, on the given file system.
pub fn small_options(fs: Arc<dyn zqlite_log::FileSystem>, segment_size: u64) -> LogOptions {
    LogOptions {
        segment_size,
        index_interval: 256,
        preallocate_chunk: 8192,
        fs,
        ..LogOptions::default()
    }
}

pub fn sim_options(fs: &SimFs, segment_size: u64) -> LogOptions {
    small_options(Arc::new(fs.clone()), segment_size)
}

/// A deterministic payload for an LSN, so a reader can check content without bookkeeping.
pub fn payload_for(lsn: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend((0..len).map(|i| (lsn as usize * 31 + i) as u8));
    out
}

pub fn record(lsn: u64, len: usize) -> NewRecord {
    NewRecord::new(RecordKind((lsn % 7) as u8), payload_for(lsn, len))
}

pub fn read_all(log: &Log) -> Vec<Record> {
    log.read_from(1)
        .collect::<Result<Vec<_>, _>>()
        .expect("the log reads back")
}

pub fn reopen(dir: &Path, opts: &LogOptions) -> Log {
    Log::open_with(dir, opts.clone()).expect("the log reopens")
}
