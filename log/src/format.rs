//! Byte layout of segment headers and frames: pure encoding and decoding, no I/O.
//!
//! `docs/log-format.md` is the specification; this module is its one implementation and the
//! golden tests at the bottom pin the bytes. All integers are little-endian.
//!
//! Invariants:
//! - A frame's CRC covers every byte after the CRC field, so a frame that decodes is exactly the
//!   frame that was written (up to CRC-32's detection power).
//! - A frame's chain value is `BLAKE3(previous chain ‖ lsn ‖ timestamp ‖ kind ‖ payload)`, so
//!   every frame commits to the whole log before it; the first segment starts from
//!   [`GENESIS_CHAIN`] and every later segment header repeats the chain value it starts from.
//! - Decoding never allocates before the CRC has been checked and never reads past its input.

use crate::record::{ChainHash, Lsn, RecordKind};

/// Magic bytes opening every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"ZQLOGSEG";
/// The segment format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Size of a segment header in bytes; the first frame starts right after it.
pub const SEGMENT_HEADER_LEN: usize = 64;
/// Bytes before a frame's body: `len: u32` and `crc32: u32`.
pub const FRAME_PREFIX_LEN: usize = 8;
/// Bytes of a frame's body before its payload: lsn, timestamp, kind and chain value.
pub const FRAME_FIXED_BODY_LEN: usize = 8 + 8 + 1 + 32;
/// Total bytes a frame adds around its payload.
pub const FRAME_OVERHEAD: usize = FRAME_PREFIX_LEN + FRAME_FIXED_BODY_LEN;
/// The chain value before the first record of a log.
pub const GENESIS_CHAIN: ChainHash = [0; 32];

/// The decoded header of a segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentHeader {
    /// LSN of the first frame the segment holds (or will hold).
    pub first_lsn: Lsn,
    /// Chain value of the record before `first_lsn` ([`GENESIS_CHAIN`] for the first segment).
    pub chain_start: ChainHash,
}

/// Why a segment header could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer than [`SEGMENT_HEADER_LEN`] bytes.
    Truncated { len: usize },
    /// The magic bytes are not zqlite's: not a zqlite log segment.
    BadMagic,
    /// A format version this build does not know.
    UnsupportedVersion { found: u32 },
    /// The header's own CRC does not match.
    BadChecksum,
}

impl SegmentHeader {
    /// Encodes the header into its fixed 64 bytes.
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut out = [0u8; SEGMENT_HEADER_LEN];
        out[0..8].copy_from_slice(&SEGMENT_MAGIC);
        out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&(SEGMENT_HEADER_LEN as u32).to_le_bytes());
        out[16..24].copy_from_slice(&self.first_lsn.to_le_bytes());
        out[24..56].copy_from_slice(&self.chain_start);
        // 56..60 reserved, zero.
        let crc = crc32fast::hash(&out[0..60]);
        out[60..64].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a header from the start of `bytes`.
    pub fn decode(bytes: &[u8]) -> Result<Self, HeaderError> {
        if bytes.len() < SEGMENT_HEADER_LEN {
            // A short file that does not even start with the magic is not ours at all.
            let n = bytes.len().min(SEGMENT_MAGIC.len());
            if bytes[..n] != SEGMENT_MAGIC[..n] {
                return Err(HeaderError::BadMagic);
            }
            return Err(HeaderError::Truncated { len: bytes.len() });
        }
        if bytes[0..8] != SEGMENT_MAGIC {
            return Err(HeaderError::BadMagic);
        }
        let version = u32_at(bytes, 8);
        if version != FORMAT_VERSION {
            return Err(HeaderError::UnsupportedVersion { found: version });
        }
        if u32_at(bytes, 60) != crc32fast::hash(&bytes[0..60]) {
            return Err(HeaderError::BadChecksum);
        }
        let mut chain_start = [0u8; 32];
        chain_start.copy_from_slice(&bytes[24..56]);
        Ok(SegmentHeader {
            first_lsn: u64_at(bytes, 16),
            chain_start,
        })
    }
}

/// A frame borrowed from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef<'a> {
    pub lsn: Lsn,
    pub timestamp: i64,
    pub kind: RecordKind,
    pub chain: ChainHash,
    pub payload: &'a [u8],
}

/// What [`decode_frame`] found at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole, checksummed frame occupying `len` bytes.
    Frame { frame: FrameRef<'a>, len: usize },
    /// The buffer is empty or starts with a zero length word: no frame was ever written here
    /// (end of data, or the zero-filled pre-allocated tail of a segment).
    End,
    /// The buffer ends inside a frame (a write that did not finish).
    Incomplete,
    /// Bytes that are not a valid frame.
    Invalid(FrameDefect),
}

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameDefect {
    /// The length word is smaller than a frame's fixed part.
    LengthTooSmall(u32),
    /// The CRC stored in the frame does not match its bytes.
    ChecksumMismatch,
}

impl std::fmt::Display for FrameDefect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameDefect::LengthTooSmall(len) => {
                write!(f, "frame length {len} is smaller than a frame header")
            }
            FrameDefect::ChecksumMismatch => f.write_str("frame checksum mismatch"),
        }
    }
}

/// Decodes the frame at the start of `buf`.
pub fn decode_frame(buf: &[u8]) -> Decoded<'_> {
    if buf.len() < FRAME_PREFIX_LEN {
        return if buf.iter().all(|&b| b == 0) {
            Decoded::End
        } else {
            Decoded::Incomplete
        };
    }
    let body_len = u32_at(buf, 0);
    if body_len == 0 {
        return Decoded::End;
    }
    if (body_len as usize) < FRAME_FIXED_BODY_LEN {
        return Decoded::Invalid(FrameDefect::LengthTooSmall(body_len));
    }
    let total = FRAME_PREFIX_LEN + body_len as usize;
    if buf.len() < total {
        return Decoded::Incomplete;
    }
    let body = &buf[FRAME_PREFIX_LEN..total];
    if u32_at(buf, 4) != crc32fast::hash(body) {
        return Decoded::Invalid(FrameDefect::ChecksumMismatch);
    }
    let mut chain = [0u8; 32];
    chain.copy_from_slice(&body[17..49]);
    Decoded::Frame {
        frame: FrameRef {
            lsn: u64_at(body, 0),
            timestamp: i64::from_le_bytes(body[8..16].try_into().expect("8 bytes")),
            kind: RecordKind(body[16]),
            chain,
            payload: &body[FRAME_FIXED_BODY_LEN..],
        },
        len: total,
    }
}

/// Appends one encoded frame to `out` and returns its chain value.
pub fn encode_frame(
    out: &mut Vec<u8>,
    prev_chain: &ChainHash,
    lsn: Lsn,
    timestamp: i64,
    kind: RecordKind,
    payload: &[u8],
) -> ChainHash {
    let start = out.len();
    let body_len = u32::try_from(FRAME_FIXED_BODY_LEN + payload.len())
        .expect("payload size is bounded by the configured maximum record size");
    out.extend_from_slice(&body_len.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // CRC, filled in below
    out.extend_from_slice(&lsn.to_le_bytes());
    out.extend_from_slice(&timestamp.to_le_bytes());
    out.push(kind.0);
    let chain = chain_next(prev_chain, &out[start + 8..start + 25], payload);
    out.extend_from_slice(&chain);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[start + FRAME_PREFIX_LEN..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
    chain
}

/// The chain value of a record: `BLAKE3(prev ‖ lsn ‖ timestamp ‖ kind ‖ payload)`, where the
/// middle three are the 17 bytes exactly as they sit in the frame.
pub fn chain_next(prev: &ChainHash, lsn_ts_kind: &[u8], payload: &[u8]) -> ChainHash {
    debug_assert_eq!(lsn_ts_kind.len(), 17);
    let mut hasher = blake3::Hasher::new();
    hasher.update(prev);
    hasher.update(lsn_ts_kind);
    hasher.update(payload);
    hasher.finalize().into()
}

/// Recomputes the chain value a decoded frame should carry, given its predecessor's.
pub fn expected_chain(prev: &ChainHash, frame: &FrameRef<'_>) -> ChainHash {
    let mut fixed = [0u8; 17];
    fixed[0..8].copy_from_slice(&frame.lsn.to_le_bytes());
    fixed[8..16].copy_from_slice(&frame.timestamp.to_le_bytes());
    fixed[16] = frame.kind.0;
    chain_next(prev, &fixed, frame.payload)
}

pub(crate) fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

pub(crate) fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn header_golden_bytes() {
        let header = SegmentHeader {
            first_lsn: 1,
            chain_start: GENESIS_CHAIN,
        };
        let bytes = header.encode();
        assert_eq!(
            hex(&bytes),
            concat!(
                "5a514c4f47534547", // "ZQLOGSEG"
                "01000000",         // version 1
                "40000000",         // header length 64
                "0100000000000000", // first LSN 1
                "0000000000000000000000000000000000000000000000000000000000000000",
                "00000000", // reserved
                "59a1bed0", // CRC-32 of bytes 0..60 (zlib.crc32)
            )
        );
        assert_eq!(SegmentHeader::decode(&bytes), Ok(header));
    }

    #[test]
    fn frame_golden_bytes() {
        let mut out = Vec::new();
        let chain = encode_frame(&mut out, &GENESIS_CHAIN, 7, 1_000_000, RecordKind(3), b"hi");
        assert_eq!(out.len(), FRAME_OVERHEAD + 2);
        assert_eq!(
            hex(&out[..25]),
            concat!(
                "33000000",         // body length 51 = 49 + 2
                "add60dda",         // CRC-32 of the body
                "0700000000000000", // LSN 7
                "40420f0000000000", // timestamp 1_000_000 µs
                "03",               // kind
            )
        );
        assert_eq!(&out[25..57], &chain);
        assert_eq!(
            hex(&chain),
            "d2f6afd4c9bd90c05bae369b49fffdaa575395d2d2a40639738a25764f923860"
        );
        assert_eq!(&out[57..], b"hi");
    }

    #[test]
    fn header_errors() {
        let bytes = SegmentHeader {
            first_lsn: 9,
            chain_start: [7; 32],
        }
        .encode();
        assert_eq!(
            SegmentHeader::decode(&bytes[..10]),
            Err(HeaderError::Truncated { len: 10 })
        );
        assert_eq!(
            SegmentHeader::decode(b"hello world"),
            Err(HeaderError::BadMagic)
        );
        let mut future = bytes;
        future[8] = 2;
        assert_eq!(
            SegmentHeader::decode(&future),
            Err(HeaderError::UnsupportedVersion { found: 2 })
        );
        let mut flipped = bytes;
        flipped[20] ^= 1;
        assert_eq!(
            SegmentHeader::decode(&flipped),
            Err(HeaderError::BadChecksum)
        );
    }

    #[test]
    fn zeros_are_end_and_short_garbage_is_incomplete() {
        assert_eq!(decode_frame(&[]), Decoded::End);
        assert_eq!(decode_frame(&[0; 100]), Decoded::End);
        assert_eq!(decode_frame(&[1, 0, 0]), Decoded::Incomplete);
        assert_eq!(
            decode_frame(&[5, 0, 0, 0, 0, 0, 0, 0, 0]),
            Decoded::Invalid(FrameDefect::LengthTooSmall(5))
        );
    }

    proptest! {
        #[test]
        fn frames_round_trip(
            records in prop::collection::vec(
                (any::<i64>(), any::<u8>(), prop::collection::vec(any::<u8>(), 0..300)),
                1..20,
            )
        ) {
            let mut buf = Vec::new();
            let mut chain = GENESIS_CHAIN;
            let mut chains = Vec::new();
            for (i, (ts, kind, payload)) in records.iter().enumerate() {
                chain = encode_frame(&mut buf, &chain, i as u64 + 1, *ts, RecordKind(*kind), payload);
                chains.push(chain);
            }
            let mut at = 0;
            let mut prev = GENESIS_CHAIN;
            for (i, (ts, kind, payload)) in records.iter().enumerate() {
                let Decoded::Frame { frame, len } = decode_frame(&buf[at..]) else {
                    panic!("frame {i} did not decode");
                };
                prop_assert_eq!(frame.lsn, i as u64 + 1);
                prop_assert_eq!(frame.timestamp, *ts);
                prop_assert_eq!(frame.kind, RecordKind(*kind));
                prop_assert_eq!(frame.payload, &payload[..]);
                prop_assert_eq!(frame.chain, chains[i]);
                prop_assert_eq!(expected_chain(&prev, &frame), frame.chain);
                prev = frame.chain;
                at += len;
            }
            prop_assert_eq!(decode_frame(&buf[at..]), Decoded::End);
        }

        #[test]
        fn any_prefix_of_a_frame_is_incomplete(payload in prop::collection::vec(any::<u8>(), 0..200), cut in 1usize..1000) {
            let mut buf = Vec::new();
            encode_frame(&mut buf, &GENESIS_CHAIN, 1, 0, RecordKind(1), &payload);
            let cut = cut % buf.len();
            prop_assume!(cut > 0);
            prop_assert_eq!(decode_frame(&buf[..cut]), Decoded::Incomplete);
        }

        #[test]
        fn any_flipped_bit_is_detected(payload in prop::collection::vec(any::<u8>(), 0..200), bit in any::<usize>()) {
            let mut buf = Vec::new();
            encode_frame(&mut buf, &GENESIS_CHAIN, 1, 0, RecordKind(1), &payload);
            let bit = bit % (buf.len() * 8);
            buf[bit / 8] ^= 1 << (bit % 8);
            let decoded = decode_frame(&buf);
            prop_assert!(!matches!(decoded, Decoded::Frame { .. }), "bit {} flipped went unnoticed", bit);
        }

        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_frame(&bytes);
            let _ = SegmentHeader::decode(&bytes);
        }
    }
}
