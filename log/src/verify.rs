//! Full verification of a log directory: every header, frame CRC, LSN, timestamp and hash-chain
//! link, reporting every problem with its file and offset.
//!
//! Verification only reads, takes no lock and so may run beside a live server (frames being
//! written at that moment may show as a torn tail).
//!
//! The hash chain proves that the log is one unbroken sequence from its first record. To prove
//! it was not cut short or rewritten wholesale, compare against an [`Anchor`]: an (LSN, chain
//! value) pair noted earlier, e.g. from a previous verify report kept outside the database.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{Decoded, SegmentHeader, decode_frame};
use crate::fs::FileSystem;
use crate::record::{ChainHash, Lsn};
use crate::segment::{SegmentSummary, index_path, parse_segment_name, read_index, scan_segment};

/// A problem or warning at a place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at offset {}: {}",
            self.path.display(),
            self.offset,
            self.message
        )
    }
}

/// A previously noted point of the chain that the log must still contain unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub lsn: Lsn,
    pub chain: ChainHash,
}

/// The result of [`verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub segments: usize,
    pub records: u64,
    /// Bytes of frames (headers and zero fill excluded).
    pub frame_bytes: u64,
    pub first_lsn: Option<Lsn>,
    pub last_lsn: Option<Lsn>,
    pub first_timestamp: Option<i64>,
    pub last_timestamp: Option<i64>,
    /// Chain value after the last record: note it (with `last_lsn`) as a future [`Anchor`].
    pub head_chain: Option<ChainHash>,
    /// Damage and inconsistencies: the log is not sound while any exist.
    pub problems: Vec<Finding>,
    /// Harmless findings: a torn tail or stale index that the next open repairs.
    pub warnings: Vec<Finding>,
}

impl VerifyReport {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How far a [`verify_with_progress`] has come, reported after each segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyProgress {
    pub segments_done: usize,
    pub segments_total: usize,
    /// Bytes of segment files checked so far and in all (sizes as listed at the start).
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Records checked so far.
    pub records: u64,
}

/// Verifies the log in `dir`; see the module documentation.
pub fn verify(dir: &Path, fs: &dyn FileSystem, anchor: Option<Anchor>) -> Result<VerifyReport> {
    verify_with_progress(dir, fs, anchor, &mut |_| {})
}

/// [`verify`], calling `progress` before the first segment and after each one.
pub fn verify_with_progress(
    dir: &Path,
    fs: &dyn FileSystem,
    anchor: Option<Anchor>,
    progress: &mut dyn FnMut(VerifyProgress),
) -> Result<VerifyReport> {
    let names = fs.list(dir).map_err(Error::io("list", dir))?;
    let mut lsns: Vec<Lsn> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
    lsns.sort_unstable();
    let mut report = VerifyReport {
        segments: lsns.len(),
        ..VerifyReport::default()
    };
    let sizes: Vec<u64> = lsns
        .iter()
        .map(|&lsn| {
            let path = dir.join(crate::segment::segment_file_name(lsn));
            fs.open(&path, false).and_then(|f| f.len()).unwrap_or(0)
        })
        .collect();
    let mut done = VerifyProgress {
        segments_done: 0,
        segments_total: lsns.len(),
        bytes_done: 0,
        bytes_total: sizes.iter().sum(),
        records: 0,
    };
    progress(done);
    let mut prev: Option<SegmentSummary> = None;
    let mut anchor_seen = false;
    for (i, &name_lsn) in lsns.iter().enumerate() {
        let is_last = i + 1 == lsns.len();
        let path = dir.join(crate::segment::segment_file_name(name_lsn));
        let problem = |offset: u64, message: String| Finding {
            path: path.clone(),
            offset,
            message,
        };
        done.segments_done = i + 1;
        done.bytes_done += sizes[i];
        let bytes = match fs
            .open(&path, false)
            .and_then(|f| f.len().and_then(|len| f.read_vec(0, len as usize)))
        {
            Ok(bytes) => bytes,
            Err(e) => {
                report
                    .problems
                    .push(problem(0, format!("cannot read: {e}")));
                prev = None;
                continue;
            }
        };
        let header = match SegmentHeader::decode(&bytes) {
            Ok(header) => header,
            Err(e) => {
                report
                    .problems
                    .push(problem(0, format!("bad segment header: {e:?}")));
                prev = None;
                continue;
            }
        };
        if header.first_lsn != name_lsn {
            report.problems.push(problem(
                0,
                format!(
                    "header says first LSN {} but the file is named for {name_lsn}",
                    header.first_lsn
                ),
            ));
        }
        match &prev {
            Some(p) if p.last_lsn + 1 != header.first_lsn => report.problems.push(problem(
                0,
                format!(
                    "LSN gap: the previous segment ends at {} and this one starts at {} (a segment is missing or was truncated)",
                    p.last_lsn, header.first_lsn
                ),
            )),
            Some(p) if p.last_chain != header.chain_start => report.problems.push(problem(
                0,
                "hash chain does not continue from the previous segment".to_string(),
            )),
            None if i == 0 && header.first_lsn != 1 => report.problems.push(problem(
                0,
                format!("the log starts at LSN {} instead of 1", header.first_lsn),
            )),
            _ => {}
        }

        let scan = scan_segment(&header, &bytes, 4096, true);
        let summary = scan.summary;
        if let Some(damage) = scan.damage {
            let finding = problem(damage.offset, damage.reason.clone());
            if is_last && !damage.valid_frames_after {
                report.warnings.push(Finding {
                    message: format!(
                        "{} (a torn write; the next open truncates it)",
                        damage.reason
                    ),
                    ..finding
                });
            } else {
                report.problems.push(finding);
            }
        } else if !is_last && summary.data_end != bytes.len() as u64 {
            report.warnings.push(problem(
                summary.data_end,
                "zero fill after the last frame of a sealed segment".to_string(),
            ));
        }
        if !is_last {
            let idx = index_path(&path);
            let index_ok = read_index(fs, &path, &header)
                .is_some_and(|s| s.last_lsn == summary.last_lsn && s.data_end == summary.data_end);
            if !index_ok {
                report.warnings.push(Finding {
                    path: idx,
                    offset: 0,
                    message: "index missing or stale (rebuilt on the next open)".to_string(),
                });
            }
        }

        if !summary.is_empty() {
            report.records += summary.last_lsn - summary.first_lsn + 1;
            report.frame_bytes += summary.data_end - crate::format::SEGMENT_HEADER_LEN as u64;
            report.first_lsn.get_or_insert(summary.first_lsn);
            report.last_lsn = Some(summary.last_lsn);
            report
                .first_timestamp
                .get_or_insert(summary.entries[0].timestamp);
            report.last_timestamp = Some(summary.last_timestamp);
            report.head_chain = Some(summary.last_chain);
        }
        if let Some(anchor) = anchor
            && (summary.first_lsn..=summary.last_lsn).contains(&anchor.lsn)
        {
            anchor_seen = true;
            let chain = chain_at(&bytes, anchor.lsn);
            if chain != Some(anchor.chain) {
                report.problems.push(problem(
                    0,
                    format!(
                        "the record at LSN {} does not match the anchor: the log was rewritten",
                        anchor.lsn
                    ),
                ));
            }
        }
        prev = Some(summary);
        done.records = report.records;
        progress(done);
    }
    if let Some(anchor) = anchor
        && !anchor_seen
    {
        report.problems.push(Finding {
            path: dir.to_path_buf(),
            offset: 0,
            message: format!(
                "the log ends at LSN {} but was known to reach LSN {}: it was cut",
                report.last_lsn.unwrap_or(0),
                anchor.lsn
            ),
        });
    }
    Ok(report)
}

/// The stored chain value of the frame with `lsn` in a segment's bytes (already verified by
/// the scan).
fn chain_at(bytes: &[u8], lsn: Lsn) -> Option<ChainHash> {
    let mut pos = crate::format::SEGMENT_HEADER_LEN;
    while let Decoded::Frame { frame, len } = decode_frame(&bytes[pos..]) {
        if frame.lsn == lsn {
            return Some(frame.chain);
        }
        pos += len;
    }
    None
}
