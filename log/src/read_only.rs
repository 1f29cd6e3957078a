//! Reading a log directory without opening it: no lock, no recovery, no writes.
//!
//! [`Log::open`](crate::Log::open) locks the directory and repairs a torn tail, so it cannot
//! run beside the process that holds the log, nor on a copy that must stay untouched.
//! [`ReadOnlyLog`] is for tools (`zqlite log dump`, `zqlite log stats`): it lists the
//! segments once and reads each one whole when it gets to it, so it sees a consistent prefix
//! of a log that a live server keeps appending to.
//!
//! Invariants of a [`ReadOnlyReader`]:
//! - Records come back in LSN order, each once, with their CRC checked; an LSN gap or a frame
//!   that does not check is an error naming its file and offset, never skipped.
//! - The one exception is the end of the last segment: an incomplete or invalid frame there,
//!   with no valid frame after it, is a torn write (or a frame a live writer has not
//!   finished) and ends the iteration; its offset is kept in [`ReadOnlyReader::torn_tail`].
//! - The hash chain is not recomputed; [`verify`](crate::verify) does that.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::format::{Decoded, HeaderError, SEGMENT_HEADER_LEN, SegmentHeader, decode_frame};
use crate::fs::FileSystem;
use crate::record::{Lsn, Record};
use crate::recovery::header_error;
use crate::segment::{find_valid_frame, parse_segment_name, read_index, segment_file_name};

/// One segment file as listed when the [`ReadOnlyLog`] was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    pub path: PathBuf,
    /// The first LSN the file name stands for.
    pub first_lsn: Lsn,
    /// File size when listed (includes the header and any zero fill).
    pub len: u64,
}

/// A log directory listed for reading; see the module documentation.
#[derive(Debug, Clone)]
pub struct ReadOnlyLog {
    dir: PathBuf,
    fs: Arc<dyn FileSystem>,
    segments: Vec<SegmentFile>,
}

impl ReadOnlyLog {
    /// Lists the segments in `dir`, which must exist.
    pub fn open(dir: impl AsRef<Path>, fs: Arc<dyn FileSystem>) -> Result<ReadOnlyLog> {
        let dir = dir.as_ref().to_path_buf();
        let names = fs.list(&dir).map_err(Error::io("list", &dir))?;
        let mut lsns: Vec<Lsn> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
        lsns.sort_unstable();
        let mut segments = Vec::with_capacity(lsns.len());
        for first_lsn in lsns {
            let path = dir.join(segment_file_name(first_lsn));
            let len = fs
                .open(&path, false)
                .and_then(|f| f.len())
                .map_err(Error::io("stat", &path))?;
            segments.push(SegmentFile {
                path,
                first_lsn,
                len,
            });
        }
        Ok(ReadOnlyLog { dir, fs, segments })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Segment files, oldest first.
    pub fn segments(&self) -> &[SegmentFile] {
        &self.segments
    }

    /// Size of all segment files together (a bound on the bytes a full read goes through).
    pub fn total_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.len).sum()
    }

    /// Records from `lsn` on (LSN 0 and 1 both mean the beginning). Positions through the
    /// sparse index of the segment holding `lsn` when that index is usable.
    pub fn read_from(&self, lsn: Lsn) -> ReadOnlyReader {
        let from = lsn.max(1);
        let first = self
            .segments
            .partition_point(|s| s.first_lsn <= from)
            .saturating_sub(1);
        ReadOnlyReader {
            log: self.clone(),
            from,
            next_segment: first,
            bytes_before: self.segments[..first].iter().map(|s| s.len).sum(),
            current: None,
            expect: None,
            torn_tail: None,
            last_end: None,
            done: false,
        }
    }
}

/// The segment a [`ReadOnlyReader`] is going through.
#[derive(Debug)]
struct Current {
    index: usize,
    path: PathBuf,
    bytes: Vec<u8>,
    pos: usize,
}

/// Iterator over the records of a [`ReadOnlyLog`]; see the module documentation.
#[derive(Debug)]
pub struct ReadOnlyReader {
    log: ReadOnlyLog,
    from: Lsn,
    next_segment: usize,
    /// Listed sizes of the segments before the current one.
    bytes_before: u64,
    current: Option<Current>,
    /// The LSN the next frame must carry, once known.
    expect: Option<Lsn>,
    torn_tail: Option<(PathBuf, u64)>,
    /// Segment index and offset just past the frame of the last record returned.
    last_end: Option<(usize, u64)>,
    done: bool,
}

impl ReadOnlyReader {
    /// The segment holding the last record returned, and the offset just past its frame.
    /// Every segment before it, whole, plus this one up to the offset hold exactly the
    /// records up to that one, headers and chain included (how `zqlite replay` cuts a log at
    /// an LSN without re-encoding anything).
    pub fn last_record_end(&self) -> Option<(&SegmentFile, u64)> {
        self.last_end
            .map(|(index, offset)| (&self.log.segments[index], offset))
    }

    /// Roughly how far the reader has come, in bytes of segment files (for progress).
    pub fn bytes_done(&self) -> u64 {
        self.bytes_before + self.current.as_ref().map_or(0, |c| c.pos as u64)
    }

    /// Where the last segment ended in an incomplete or invalid frame, once the iteration
    /// got there.
    pub fn torn_tail(&self) -> Option<(&Path, u64)> {
        self.torn_tail.as_ref().map(|(p, o)| (p.as_path(), *o))
    }

    /// Reads the next segment whole and positions inside it; `false` at the end of the list.
    fn load_next_segment(&mut self) -> Result<bool> {
        if let Some(done) = self.current.take() {
            self.bytes_before += self.log.segments[done.index].len;
        }
        let index = self.next_segment;
        let Some(segment) = self.log.segments.get(index) else {
            return Ok(false);
        };
        self.next_segment += 1;
        let is_last = index + 1 == self.log.segments.len();
        let path = segment.path.clone();
        let fs = &*self.log.fs;
        let bytes = fs
            .open(&path, false)
            .and_then(|f| f.len().and_then(|len| f.read_vec(0, len as usize)))
            .map_err(Error::io("read", &path))?;
        let header = match SegmentHeader::decode(&bytes) {
            Ok(header) => header,
            // A last segment whose creation has not finished (or was torn) holds nothing yet.
            Err(HeaderError::Truncated { .. } | HeaderError::BadChecksum)
                if is_last
                    && bytes
                        .get(SEGMENT_HEADER_LEN..)
                        .is_none_or(|rest| rest.iter().all(|&b| b == 0)) =>
            {
                self.torn_tail = Some((path, 0));
                return Ok(false);
            }
            Err(e) => return Err(header_error(&path, e)),
        };
        if header.first_lsn != segment.first_lsn {
            return Err(Error::Corruption {
                path,
                offset: 0,
                reason: format!(
                    "header says first LSN {} but the file is named for {}",
                    header.first_lsn, segment.first_lsn
                ),
            });
        }
        if let Some(expect) = self.expect
            && expect != header.first_lsn
        {
            return Err(Error::Corruption {
                path,
                offset: 0,
                reason: format!(
                    "LSN gap: LSN {expect} was expected next but this segment starts at {} (a segment is missing or was truncated)",
                    header.first_lsn
                ),
            });
        }
        let mut pos = SEGMENT_HEADER_LEN;
        if self.from > header.first_lsn
            && let Some(entry) =
                read_index(fs, &path, &header).and_then(|s| s.entry_for_lsn(self.from))
            && (entry.offset as usize) < bytes.len()
        {
            pos = entry.offset as usize;
            self.expect = Some(entry.lsn);
        } else {
            self.expect = Some(header.first_lsn);
        }
        self.current = Some(Current {
            index,
            path,
            bytes,
            pos,
        });
        Ok(true)
    }

    fn step(&mut self) -> Result<Option<Record>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.current.is_none() && !self.load_next_segment()? {
                self.done = true;
                return Ok(None);
            }
            let is_last = self.next_segment == self.log.segments.len();
            let current = self.current.as_mut().expect("loaded above");
            let expect = self.expect.expect("set with the segment");
            let offset = current.pos as u64;
            match decode_frame(&current.bytes[current.pos.min(current.bytes.len())..]) {
                Decoded::Frame { frame, len } if frame.lsn == expect => {
                    current.pos += len;
                    self.expect = Some(expect + 1);
                    if frame.lsn < self.from {
                        continue;
                    }
                    self.last_end = Some((current.index, current.pos as u64));
                    return Ok(Some(Record {
                        lsn: frame.lsn,
                        timestamp: frame.timestamp,
                        kind: frame.kind,
                        payload: frame.payload.to_vec(),
                        chain: frame.chain,
                    }));
                }
                Decoded::End => {
                    // End of this segment's data (zero fill or end of file).
                    let finished = self.current.take().expect("checked above");
                    self.bytes_before += self.log.segments[finished.index].len;
                }
                // Nothing valid after it: a torn write, not damage in the middle of the log.
                Decoded::Incomplete | Decoded::Invalid(_)
                    if is_last && !find_valid_frame(&current.bytes, current.pos + 1, expect) =>
                {
                    self.torn_tail = Some((current.path.clone(), offset));
                    self.done = true;
                    return Ok(None);
                }
                other => {
                    let reason = match other {
                        Decoded::Frame { frame, .. } => {
                            format!("frame has LSN {} where {expect} was expected", frame.lsn)
                        }
                        Decoded::Invalid(defect) => defect.to_string(),
                        _ => "incomplete frame in a sealed segment".to_string(),
                    };
                    self.done = true;
                    return Err(Error::Corruption {
                        path: current.path.clone(),
                        offset,
                        reason,
                    });
                }
            }
        }
    }
}

impl Iterator for ReadOnlyReader {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{NewRecord, RecordKind};
    use crate::{Log, LogOptions};

    fn options(fs: Arc<dyn FileSystem>) -> LogOptions {
        LogOptions {
            fs,
            segment_size: 4096,
            index_interval: 256,
            ..LogOptions::default()
        }
    }

    fn append(log: &Log, n: usize) {
        for i in 0..n {
            let payload = format!("record {i:04} {}", "x".repeat(i % 50));
            log.append_blocking(&[NewRecord::new(RecordKind(1), payload)])
                .unwrap();
        }
    }

    #[test]
    fn reads_every_record_from_any_lsn_beside_the_open_log() {
        let tmp = tempfile::tempdir().unwrap();
        let fs: Arc<dyn FileSystem> = Arc::new(crate::RealFs);
        let log = Log::open_with(tmp.path(), options(fs.clone())).unwrap();
        append(&log, 300);
        let ro = ReadOnlyLog::open(tmp.path(), fs).unwrap();
        assert!(ro.segments().len() > 3, "small segments roll");
        let all: Vec<Record> = ro.read_from(0).map(|r| r.unwrap()).collect();
        let live: Vec<Record> = log.read_from(1).map(|r| r.unwrap()).collect();
        assert_eq!(all, live);
        for from in [1, 2, 57, 150, 299, 300] {
            let lsns: Vec<Lsn> = ro.read_from(from).map(|r| r.unwrap().lsn).collect();
            assert_eq!(lsns, (from..=300).collect::<Vec<_>>(), "from {from}");
        }
        assert_eq!(ro.read_from(301).count(), 0);
        let mut reader = ro.read_from(1);
        assert!(reader.last_record_end().is_none());
        reader.by_ref().for_each(drop);
        assert!(reader.torn_tail().is_none());
        assert!(reader.bytes_done() >= ro.total_bytes() - 4096);
    }

    #[test]
    fn a_log_cut_at_the_last_record_end_holds_exactly_the_records_up_to_it() {
        let tmp = tempfile::tempdir().unwrap();
        let fs: Arc<dyn FileSystem> = Arc::new(crate::RealFs);
        let log = Log::open_with(tmp.path().join("a"), options(fs.clone())).unwrap();
        append(&log, 120);
        let ro = ReadOnlyLog::open(tmp.path().join("a"), fs.clone()).unwrap();
        for cut in [1, 37, 60, 119, 120] {
            let mut ends: Vec<(PathBuf, u64)> = Vec::new();
            let mut last = None;
            // Collect the ends the way `zqlite replay` does: one per segment, the latest.
            let mut reader = ro.read_from(1);
            while let Some(record) = reader.next() {
                let record = record.unwrap();
                let (segment, end) = reader.last_record_end().unwrap();
                match ends.last_mut() {
                    Some((path, offset)) if *path == segment.path => *offset = end,
                    _ => ends.push((segment.path.clone(), end)),
                }
                let done = record.lsn == cut;
                last = Some(record);
                if done {
                    break;
                }
            }
            let copy = tmp.path().join(format!("cut-{cut}"));
            std::fs::create_dir(&copy).unwrap();
            for (path, end) in &ends {
                let bytes = std::fs::read(path).unwrap();
                std::fs::write(
                    copy.join(path.file_name().unwrap()),
                    &bytes[..*end as usize],
                )
                .unwrap();
            }
            let anchor = crate::Anchor {
                lsn: cut,
                chain: last.unwrap().chain,
            };
            let report = crate::verify(&copy, &crate::RealFs, Some(anchor)).unwrap();
            assert!(report.is_sound(), "cut {cut}: {report:?}");
            assert_eq!(report.last_lsn, Some(cut));
            let reopened = Log::open_with(&copy, options(fs.clone())).unwrap();
            assert_eq!(reopened.durable_lsn(), cut);
        }
    }

    #[test]
    fn damage_names_file_and_offset_and_a_torn_tail_ends_quietly() {
        let tmp = tempfile::tempdir().unwrap();
        let fs: Arc<dyn FileSystem> = Arc::new(crate::RealFs);
        let log = Log::open_with(tmp.path(), options(fs.clone())).unwrap();
        append(&log, 200);
        log.close().unwrap();
        let ro = ReadOnlyLog::open(tmp.path(), fs.clone()).unwrap();
        let segments = ro.segments().to_vec();

        // A flipped byte inside the first frame of a sealed segment.
        let sealed = &segments[1].path;
        let mut bytes = std::fs::read(sealed).unwrap();
        bytes[SEGMENT_HEADER_LEN + 20] ^= 0x40;
        std::fs::write(sealed, &bytes).unwrap();
        let err = ro.read_from(1).find_map(|r| r.err()).expect("an error");
        match err {
            Error::Corruption { path, offset, .. } => {
                assert_eq!(&path, sealed);
                assert_eq!(offset, SEGMENT_HEADER_LEN as u64);
            }
            other => panic!("unexpected {other}"),
        }
        bytes[SEGMENT_HEADER_LEN + 20] ^= 0x40;
        std::fs::write(sealed, &bytes).unwrap();

        // The same in the last segment, with valid frames after it, is damage too.
        let last = &segments.last().unwrap().path;
        let mut bytes = std::fs::read(last).unwrap();
        bytes[SEGMENT_HEADER_LEN + 20] ^= 0x40;
        std::fs::write(last, &bytes).unwrap();
        let err = ro.read_from(1).find_map(|r| r.err()).expect("an error");
        assert!(
            matches!(&err, Error::Corruption { path, offset, .. } if path == last && *offset == SEGMENT_HEADER_LEN as u64),
            "{err}"
        );
        bytes[SEGMENT_HEADER_LEN + 20] ^= 0x40;
        std::fs::write(last, &bytes).unwrap();

        // A last frame cut short is a torn tail: the records before it come back, no error.
        let records: Vec<Record> = ro.read_from(1).map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), 200);
        let len = std::fs::metadata(last).unwrap().len();
        let data_end = {
            let bytes = std::fs::read(last).unwrap();
            let mut pos = SEGMENT_HEADER_LEN;
            while let Decoded::Frame { len, .. } = decode_frame(&bytes[pos..]) {
                pos += len;
            }
            pos as u64
        };
        assert!(data_end <= len);
        let file = std::fs::OpenOptions::new().write(true).open(last).unwrap();
        file.set_len(data_end - 3).unwrap();
        let ro = ReadOnlyLog::open(tmp.path(), fs.clone()).unwrap();
        let mut reader = ro.read_from(1);
        let records: Vec<Record> = reader.by_ref().map(|r| r.unwrap()).collect();
        assert_eq!(records.len(), 199);
        assert_eq!(reader.torn_tail().map(|(p, _)| p), Some(last.as_path()));

        // A missing segment in the middle is an LSN gap.
        std::fs::remove_file(&segments[1].path).unwrap();
        let ro = ReadOnlyLog::open(tmp.path(), fs).unwrap();
        let err = ro.read_from(1).find_map(|r| r.err()).expect("an error");
        assert!(err.to_string().contains("LSN gap"), "{err}");
    }
}
