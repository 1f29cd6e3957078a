//! Reading durable records: an iterator from any LSN, a tail that waits for new ones, and a
//! time-to-LSN lookup, all positioned through the sparse indexes.
//!
//! Invariants:
//! - A reader never returns a record past the durable LSN it saw when it looked.
//! - Records come back in LSN order, each exactly once, with their CRC checked; a frame that
//!   does not check is an error naming its file and offset, never skipped.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::format::{self, Decoded, SEGMENT_HEADER_LEN};
use crate::fs::Mapped;
use crate::record::{Lsn, Record};
use crate::segment::{IndexEntry, SegmentSummary};
use crate::writer::{Sealed, Shared};

/// How much of the active segment a reader copies per read call.
const ACTIVE_CHUNK: usize = 1 << 20;

/// Iterator over durable records from a starting LSN.
///
/// It yields records up to the durable end as of each call; after returning `None` it may
/// return more once more records become durable (use [`Tail`] to wait for them).
#[derive(Debug)]
pub struct LogReader {
    shared: Arc<Shared>,
    next: Lsn,
    cursor: Option<Cursor>,
}

#[derive(Debug)]
struct Cursor {
    bytes: Mapped,
    pos: usize,
    /// File offset of `bytes[0]`.
    base: u64,
    path: PathBuf,
}

impl LogReader {
    pub(crate) fn new(shared: Arc<Shared>, from: Lsn) -> Self {
        LogReader {
            shared,
            next: from.max(1),
            cursor: None,
        }
    }

    /// The LSN of the next record this reader will return.
    pub fn next_lsn(&self) -> Lsn {
        self.next
    }

    fn step(&mut self) -> Result<Option<Record>> {
        // A cursor positioned by this call that runs out before `next` means the LSN is
        // durable yet missing from its segment.
        let mut located_here = false;
        loop {
            if self.cursor.is_none() {
                self.cursor = self.locate()?;
                if self.cursor.is_none() {
                    return Ok(None);
                }
                located_here = true;
            }
            let cursor = self.cursor.as_mut().expect("set above");
            let bytes = (*cursor.bytes).as_ref();
            match format::decode_frame(&bytes[cursor.pos..]) {
                Decoded::Frame { frame, len } if frame.lsn < self.next => cursor.pos += len,
                Decoded::Frame { frame, len } if frame.lsn == self.next => {
                    cursor.pos += len;
                    self.next += 1;
                    return Ok(Some(Record {
                        lsn: frame.lsn,
                        timestamp: frame.timestamp,
                        kind: frame.kind,
                        payload: frame.payload.to_vec(),
                        chain: frame.chain,
                    }));
                }
                Decoded::End | Decoded::Incomplete if !located_here => {
                    // End of what this cursor holds: look again from the next LSN.
                    self.cursor = None;
                }
                other => {
                    let reason = match other {
                        Decoded::Frame { frame, .. } => {
                            format!("found LSN {} where {} was expected", frame.lsn, self.next)
                        }
                        Decoded::Invalid(defect) => defect.to_string(),
                        _ => format!("LSN {} is durable but missing from its segment", self.next),
                    };
                    return Err(Error::Corruption {
                        path: cursor.path.clone(),
                        offset: cursor.base + cursor.pos as u64,
                        reason,
                    });
                }
            }
        }
    }

    /// Positions a cursor at or before `self.next`, or `None` when it is not durable yet.
    fn locate(&self) -> Result<Option<Cursor>> {
        let segments = self
            .shared
            .segments
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.next > segments.durable_lsn {
            return Ok(None);
        }
        let active = &segments.active;
        if self.next >= active.summary.first_lsn {
            let start = start_offset(&active.summary, self.next);
            let end = active.summary.data_end;
            let file = active.file.clone();
            let path = active.path.clone();
            drop(segments);
            let available = (end - start) as usize;
            let mut want = available.min(ACTIVE_CHUNK);
            loop {
                let bytes = file
                    .read_vec(start, want)
                    .map_err(Error::io("read", &path))?;
                // The chunk must hold every frame up to and including the one for `next`
                // whole: a frame larger than the chunk (or cut by its end) is read again
                // with a chunk that reaches its end.
                match self.cut_frame_end(&bytes) {
                    Some(needed) if want < available => {
                        want = needed.min(available);
                        continue;
                    }
                    _ => {}
                }
                return Ok(Some(Cursor {
                    bytes: Arc::new(bytes),
                    pos: 0,
                    base: start,
                    path,
                }));
            }
        }
        let i = segments
            .sealed
            .partition_point(|s| s.summary.first_lsn <= self.next)
            .checked_sub(1)
            .expect("LSNs before the active segment lie in a sealed one");
        let sealed = segments.sealed[i].clone();
        drop(segments);
        let bytes = map_sealed(&self.shared, &sealed)?;
        let start = start_offset(&sealed.summary, self.next) as usize;
        Ok(Some(Cursor {
            bytes,
            pos: start,
            base: 0,
            path: sealed.path.clone(),
        }))
    }
}

impl LogReader {
    /// Walks the frames of a chunk up to the one for `self.next`; if one of them runs past
    /// the chunk's end, the chunk length that would hold it whole.
    fn cut_frame_end(&self, bytes: &[u8]) -> Option<usize> {
        let mut pos = 0;
        loop {
            match format::decode_frame(&bytes[pos..]) {
                Decoded::Frame { frame, len } if frame.lsn < self.next => pos += len,
                Decoded::Incomplete if bytes.len() - pos >= 4 => {
                    return Some(
                        pos + format::u32_at(bytes, pos) as usize + format::FRAME_PREFIX_LEN,
                    );
                }
                Decoded::Incomplete => return Some(pos + format::FRAME_PREFIX_LEN),
                _ => return None,
            }
        }
    }
}

fn start_offset(summary: &SegmentSummary, lsn: Lsn) -> u64 {
    summary
        .entry_for_lsn(lsn)
        .map_or(SEGMENT_HEADER_LEN as u64, |e: IndexEntry| e.offset)
}

fn map_sealed(shared: &Shared, sealed: &Sealed) -> Result<Mapped> {
    if let Some(map) = sealed.map.get() {
        return Ok(map.clone());
    }
    let map = shared
        .opts
        .fs
        .map(&sealed.path)
        .map_err(Error::io("map", &sealed.path))?;
    Ok(sealed.map.get_or_init(|| map).clone())
}

impl Iterator for LogReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step().transpose()
    }
}

/// Follows the log: every durable record from a starting LSN, in order, each once, waiting for
/// new ones as they become durable.
#[derive(Debug)]
pub struct Tail {
    reader: LogReader,
    durable: watch::Receiver<Lsn>,
}

impl Tail {
    pub(crate) fn new(shared: Arc<Shared>, from: Lsn) -> Self {
        let durable = shared.durable_tx.subscribe();
        Tail {
            reader: LogReader::new(shared, from),
            durable,
        }
    }

    /// The next record, waiting until one is durable. `None` once the log is closed and every
    /// durable record has been returned.
    pub async fn next(&mut self) -> Option<Result<Record>> {
        loop {
            // Mark the current durable LSN as seen before looking, so a commit between the
            // look and the wait still wakes us.
            self.durable.borrow_and_update();
            if let Some(item) = self.reader.next() {
                return Some(item);
            }
            let closed = self
                .reader
                .shared
                .segments
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .closed;
            if closed || self.durable.changed().await.is_err() {
                return self.reader.next();
            }
        }
    }

    /// The LSN of the next record this tail will return.
    pub fn next_lsn(&self) -> Lsn {
        self.reader.next_lsn()
    }
}

/// The first durable LSN whose timestamp is at or after `timestamp`, if any.
pub(crate) fn lsn_at_time(shared: &Arc<Shared>, timestamp: i64) -> Result<Option<Lsn>> {
    let start = {
        let segments = shared
            .segments
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let summaries = segments
            .sealed
            .iter()
            .map(|s| &s.summary)
            .chain(std::iter::once(&segments.active.summary));
        let mut start = None;
        for summary in summaries {
            if !summary.is_empty() && summary.last_timestamp >= timestamp {
                start = summary.entry_for_time(timestamp).map(|e| e.lsn);
                break;
            }
        }
        start
    };
    let Some(start) = start else {
        return Ok(None);
    };
    for record in LogReader::new(shared.clone(), start) {
        let record = record?;
        if record.timestamp >= timestamp {
            return Ok(Some(record.lsn));
        }
    }
    Ok(None)
}
