//! Segment files and their sparse indexes: naming, scanning and the `.idx` codec.
//!
//! A segment is `<first LSN, 20 digits>.seg`; a sealed segment has a `.idx` beside it. The
//! index is a cache: when it is missing or does not match its segment it is rebuilt by a scan.
//!
//! Invariants of a [`SegmentSummary`]:
//! - `entries` is sorted by LSN, offset and timestamp alike, and starts with the first frame.
//! - `last_lsn == first_lsn - 1` exactly when the segment holds no frame.
//! - `data_end` is the offset just past the last whole frame.

use std::path::{Path, PathBuf};

use crate::format::{
    self, Decoded, FrameRef, HeaderError, SEGMENT_HEADER_LEN, SegmentHeader, u32_at, u64_at,
};
use crate::record::{ChainHash, Lsn};

pub(crate) const SEGMENT_EXT: &str = "seg";
pub(crate) const INDEX_EXT: &str = "idx";
const INDEX_MAGIC: [u8; 8] = *b"ZQLOGIDX";
const INDEX_VERSION: u32 = 1;
const INDEX_HEADER_LEN: usize = 8 + 4 + 4 + 8 + 8 + 8 + 8 + 32 + 4;
const INDEX_ENTRY_LEN: usize = 24;

/// `00000000000000000001.seg` for LSN 1.
pub(crate) fn segment_file_name(first_lsn: Lsn) -> String {
    format!("{first_lsn:020}.{SEGMENT_EXT}")
}

pub(crate) fn segment_path(dir: &Path, first_lsn: Lsn) -> PathBuf {
    dir.join(segment_file_name(first_lsn))
}

pub(crate) fn index_path(segment: &Path) -> PathBuf {
    segment.with_extension(INDEX_EXT)
}

/// The first LSN a segment file name stands for, if it is one.
pub(crate) fn parse_segment_name(name: &str) -> Option<Lsn> {
    let digits = name.strip_suffix(".seg")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One sparse-index entry: the frame with `lsn` starts at `offset` and was committed at
/// `timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub lsn: Lsn,
    pub offset: u64,
    pub timestamp: i64,
}

/// What is known of a segment's frames without reading them again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentSummary {
    pub first_lsn: Lsn,
    pub chain_start: ChainHash,
    pub last_lsn: Lsn,
    pub last_timestamp: i64,
    pub last_chain: ChainHash,
    pub data_end: u64,
    pub entries: Vec<IndexEntry>,
}

impl SegmentSummary {
    pub fn empty(header: &SegmentHeader) -> Self {
        SegmentSummary {
            first_lsn: header.first_lsn,
            chain_start: header.chain_start,
            last_lsn: header.first_lsn - 1,
            last_timestamp: i64::MIN,
            last_chain: header.chain_start,
            data_end: SEGMENT_HEADER_LEN as u64,
            entries: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.last_lsn < self.first_lsn
    }

    /// Accounts for one more frame at `offset`, adding an index entry when the last one is at
    /// least `interval` bytes back.
    pub fn push_frame(
        &mut self,
        offset: u64,
        len: u64,
        lsn: Lsn,
        timestamp: i64,
        chain: ChainHash,
        interval: u64,
    ) {
        let due = self
            .entries
            .last()
            .is_none_or(|last| offset - last.offset >= interval);
        if due {
            self.entries.push(IndexEntry {
                lsn,
                offset,
                timestamp,
            });
        }
        self.last_lsn = lsn;
        self.last_timestamp = timestamp;
        self.last_chain = chain;
        self.data_end = offset + len;
    }

    /// The index entry to start a scan for `lsn` from (the last entry at or before it).
    pub fn entry_for_lsn(&self, lsn: Lsn) -> Option<IndexEntry> {
        let i = self.entries.partition_point(|e| e.lsn <= lsn);
        i.checked_sub(1).map(|i| self.entries[i])
    }

    /// The index entry to start a scan for the first record at or after `timestamp`.
    pub fn entry_for_time(&self, timestamp: i64) -> Option<IndexEntry> {
        let i = self.entries.partition_point(|e| e.timestamp < timestamp);
        i.checked_sub(1)
            .map(|i| self.entries[i])
            .or(self.entries.first().copied())
    }
}

/// Where and why a scan stopped before the end of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Damage {
    pub offset: u64,
    pub reason: String,
    /// A valid frame with a later LSN exists somewhere after the damage: this is corruption,
    /// not a torn write.
    pub valid_frames_after: bool,
}

/// The result of reading a segment's frames from its header to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    pub summary: SegmentSummary,
    pub damage: Option<Damage>,
}

/// Scans `bytes` (a whole segment file) frame by frame, checking CRCs and LSN continuity. With
/// `verify_chain`, every chain value is recomputed too.
pub(crate) fn scan_segment(
    header: &SegmentHeader,
    bytes: &[u8],
    interval: u64,
    verify_chain: bool,
) -> Scan {
    let mut summary = SegmentSummary::empty(header);
    let mut pos = SEGMENT_HEADER_LEN;
    let damage = loop {
        let reason = match format::decode_frame(&bytes[pos.min(bytes.len())..]) {
            Decoded::Frame { frame, len } => match check_frame(&summary, &frame, verify_chain) {
                Ok(()) => {
                    summary.push_frame(
                        pos as u64,
                        len as u64,
                        frame.lsn,
                        frame.timestamp,
                        frame.chain,
                        interval,
                    );
                    pos += len;
                    continue;
                }
                Err(reason) => reason,
            },
            Decoded::End if pos >= bytes.len() => break None,
            Decoded::End => {
                // Zero fill. Clean unless a frame was written beyond it.
                if find_valid_frame(bytes, pos + 1, summary.last_lsn + 1) {
                    "zero bytes where a frame should start".to_string()
                } else {
                    break None;
                }
            }
            Decoded::Incomplete => "incomplete frame".to_string(),
            Decoded::Invalid(defect) => defect.to_string(),
        };
        break Some(Damage {
            offset: pos as u64,
            reason,
            valid_frames_after: find_valid_frame(bytes, pos + 1, summary.last_lsn + 1),
        });
    };
    Scan { summary, damage }
}

fn check_frame(
    summary: &SegmentSummary,
    frame: &FrameRef<'_>,
    verify_chain: bool,
) -> Result<(), String> {
    let expected = summary.last_lsn + 1;
    if frame.lsn != expected {
        return Err(format!(
            "frame has LSN {} where {expected} was expected",
            frame.lsn
        ));
    }
    if frame.timestamp < summary.last_timestamp {
        return Err(format!(
            "timestamp {} goes back from {}",
            frame.timestamp, summary.last_timestamp
        ));
    }
    if verify_chain && format::expected_chain(&summary.last_chain, frame) != frame.chain {
        return Err("hash chain broken: the record or one before it was altered".to_string());
    }
    Ok(())
}

/// Whether any offset at or after `from` holds a checksummed frame with an LSN that could
/// follow `min_lsn - 1` in this segment. Cheap plausibility checks (length, LSN range) come
/// before the CRC, so probing garbage costs time linear in its size.
pub(crate) fn find_valid_frame(bytes: &[u8], from: usize, min_lsn: Lsn) -> bool {
    use crate::format::{FRAME_FIXED_BODY_LEN, FRAME_OVERHEAD, FRAME_PREFIX_LEN};
    let max_lsn =
        min_lsn.saturating_add((bytes.len().saturating_sub(from) / FRAME_OVERHEAD) as u64);
    (from..bytes.len().saturating_sub(FRAME_OVERHEAD - 1)).any(|at| {
        let body_len = u32_at(bytes, at) as usize;
        if body_len < FRAME_FIXED_BODY_LEN || body_len > bytes.len() - at - FRAME_PREFIX_LEN {
            return false;
        }
        let lsn = u64_at(bytes, at + FRAME_PREFIX_LEN);
        (min_lsn..=max_lsn).contains(&lsn)
            && matches!(format::decode_frame(&bytes[at..]), Decoded::Frame { .. })
    })
}

/// Decodes a segment header, classifying failures for the open path.
pub(crate) fn read_header(bytes: &[u8]) -> Result<SegmentHeader, HeaderError> {
    SegmentHeader::decode(bytes)
}

/// Encodes a sealed segment's summary as an `.idx` file.
pub(crate) fn encode_index(summary: &SegmentSummary) -> Vec<u8> {
    let mut out = Vec::with_capacity(INDEX_HEADER_LEN + summary.entries.len() * INDEX_ENTRY_LEN);
    out.extend_from_slice(&INDEX_MAGIC);
    out.extend_from_slice(&INDEX_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&summary.first_lsn.to_le_bytes());
    out.extend_from_slice(&summary.last_lsn.to_le_bytes());
    out.extend_from_slice(&summary.last_timestamp.to_le_bytes());
    out.extend_from_slice(&summary.data_end.to_le_bytes());
    out.extend_from_slice(&summary.last_chain);
    let count = u32::try_from(summary.entries.len()).expect("far fewer entries than 2^32");
    out.extend_from_slice(&count.to_le_bytes());
    for e in &summary.entries {
        out.extend_from_slice(&e.lsn.to_le_bytes());
        out.extend_from_slice(&e.offset.to_le_bytes());
        out.extend_from_slice(&e.timestamp.to_le_bytes());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads and decodes the `.idx` beside `segment`; `None` when missing or not usable.
pub(crate) fn read_index(
    fs: &dyn crate::fs::FileSystem,
    segment: &Path,
    header: &SegmentHeader,
) -> Option<SegmentSummary> {
    let file = fs.open(&index_path(segment), false).ok()?;
    let bytes = file.read_vec(0, file.len().ok()? as usize).ok()?;
    decode_index(header, &bytes)
}

/// Decodes an `.idx` file for the segment with `header`; `None` when it is damaged, stale or
/// belongs to another segment (the caller then rebuilds it).
pub(crate) fn decode_index(header: &SegmentHeader, bytes: &[u8]) -> Option<SegmentSummary> {
    if bytes.len() < INDEX_HEADER_LEN + 4 || bytes[0..8] != INDEX_MAGIC {
        return None;
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if u32_at(crc, 0) != crc32fast::hash(body) || u32_at(body, 8) != INDEX_VERSION {
        return None;
    }
    let count = u32_at(body, 80) as usize;
    if body.len() != INDEX_HEADER_LEN + count * INDEX_ENTRY_LEN
        || u64_at(body, 16) != header.first_lsn
    {
        return None;
    }
    let mut last_chain = [0u8; 32];
    last_chain.copy_from_slice(&body[48..80]);
    let entries = body[INDEX_HEADER_LEN..]
        .chunks_exact(INDEX_ENTRY_LEN)
        .map(|e| IndexEntry {
            lsn: u64_at(e, 0),
            offset: u64_at(e, 8),
            timestamp: u64_at(e, 16) as i64,
        })
        .collect();
    Some(SegmentSummary {
        first_lsn: header.first_lsn,
        chain_start: header.chain_start,
        last_lsn: u64_at(body, 24),
        last_timestamp: u64_at(body, 32) as i64,
        data_end: u64_at(body, 40),
        last_chain,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{GENESIS_CHAIN, encode_frame};
    use crate::record::RecordKind;

    fn segment(records: usize) -> (SegmentHeader, Vec<u8>) {
        let header = SegmentHeader {
            first_lsn: 10,
            chain_start: GENESIS_CHAIN,
        };
        let mut bytes = header.encode().to_vec();
        let mut chain = GENESIS_CHAIN;
        for i in 0..records {
            chain = encode_frame(
                &mut bytes,
                &chain,
                10 + i as u64,
                i as i64,
                RecordKind(1),
                &[7; 100],
            );
        }
        (header, bytes)
    }

    #[test]
    fn names_round_trip_and_reject_lookalikes() {
        assert_eq!(segment_file_name(1), "00000000000000000001.seg");
        assert_eq!(parse_segment_name("00000000000000000001.seg"), Some(1));
        assert_eq!(parse_segment_name("1.seg"), None);
        assert_eq!(parse_segment_name("0000000000000000000a.seg"), None);
        assert_eq!(parse_segment_name("00000000000000000001.idx"), None);
    }

    #[test]
    fn scan_builds_sparse_index_and_stops_cleanly_at_zero_fill() {
        let (header, mut bytes) = segment(50);
        let data_end = bytes.len() as u64;
        bytes.extend_from_slice(&[0; 4096]);
        let scan = scan_segment(&header, &bytes, 1000, true);
        assert_eq!(scan.damage, None);
        assert_eq!(scan.summary.last_lsn, 59);
        assert_eq!(scan.summary.data_end, data_end);
        assert!(scan.summary.entries.len() > 3 && scan.summary.entries.len() < 50);
        let entry = scan.summary.entry_for_lsn(35).unwrap();
        assert!(entry.lsn <= 35);
        assert_eq!(scan.summary.entry_for_lsn(9), None);
        assert_eq!(scan.summary.entry_for_time(i64::MIN).unwrap().lsn, 10);
    }

    #[test]
    fn damage_with_valid_frames_after_it_is_flagged() {
        let (header, mut bytes) = segment(5);
        let second_frame = SEGMENT_HEADER_LEN + crate::format::FRAME_OVERHEAD + 100;
        bytes[second_frame + 30] ^= 0x40;
        let scan = scan_segment(&header, &bytes, 1000, false);
        let damage = scan.damage.unwrap();
        assert_eq!(damage.offset, second_frame as u64);
        assert!(damage.valid_frames_after);
        assert_eq!(scan.summary.last_lsn, 10);

        let (header, bytes) = segment(5);
        let scan = scan_segment(&header, &bytes[..bytes.len() - 3], 1000, false);
        let damage = scan.damage.unwrap();
        assert!(!damage.valid_frames_after);
        assert_eq!(damage.reason, "incomplete frame");
    }

    #[test]
    fn index_codec_round_trips_and_rejects_damage() {
        let (header, bytes) = segment(50);
        let summary = scan_segment(&header, &bytes, 500, false).summary;
        let encoded = encode_index(&summary);
        assert_eq!(decode_index(&header, &encoded), Some(summary));
        let mut damaged = encoded.clone();
        damaged[100] ^= 1;
        assert_eq!(decode_index(&header, &damaged), None);
        let other = SegmentHeader {
            first_lsn: 11,
            chain_start: GENESIS_CHAIN,
        };
        assert_eq!(decode_index(&other, &encoded), None);
        assert_eq!(decode_index(&header, &encoded[..20]), None);
    }
}
