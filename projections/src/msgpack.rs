//! A strict, allocation-free MessagePack reader over a byte slice, for the hot decoding
//! paths that serde makes slow (replay decodes millions of records).
//!
//! Invariants:
//! - Every read either consumes exactly the item it returns or returns `None`; after a
//!   `None` the position is unspecified and the caller abandons the cursor (callers fall
//!   back to `rmp_serde`, which stays the authority on what a payload means).
//! - Reads never panic and never allocate, whatever the bytes; lengths are checked against
//!   the bytes left before anything is sliced, and nesting is bounded in [`Cursor::skip`].

use rmp::Marker;

/// Deepest nesting [`Cursor::skip`] follows (zqlite's records nest a few levels; deeper
/// items are left to `rmp_serde`).
const MAX_DEPTH: usize = 64;

/// A position in a MessagePack byte string.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Whether every byte was consumed.
    pub fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// The bytes from `start` to the current position.
    pub fn since(&self, start: usize) -> &'a [u8] {
        &self.bytes[start.min(self.pos)..self.pos]
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())?;
        let taken = &self.bytes[self.pos..end];
        self.pos = end;
        Some(taken)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    fn be16(&mut self) -> Option<usize> {
        Some(u16::from_be_bytes(self.array()?) as usize)
    }

    fn be32(&mut self) -> Option<usize> {
        usize::try_from(u32::from_be_bytes(self.array()?)).ok()
    }

    /// The next marker, not consumed.
    pub fn peek(&self) -> Option<Marker> {
        self.bytes.get(self.pos).map(|&b| Marker::from_u8(b))
    }

    fn marker(&mut self) -> Option<Marker> {
        Some(Marker::from_u8(self.u8()?))
    }

    /// Consumes a nil if one is next; whether it did.
    pub fn nil(&mut self) -> bool {
        if self.peek() == Some(Marker::Null) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn bool(&mut self) -> Option<bool> {
        match self.marker()? {
            Marker::True => Some(true),
            Marker::False => Some(false),
            _ => None,
        }
    }

    /// An integer in any of MessagePack's encodings, widened.
    pub fn int(&mut self) -> Option<i128> {
        Some(match self.marker()? {
            Marker::FixPos(n) => n.into(),
            Marker::FixNeg(n) => n.into(),
            Marker::U8 => self.u8()?.into(),
            Marker::U16 => u16::from_be_bytes(self.array()?).into(),
            Marker::U32 => u32::from_be_bytes(self.array()?).into(),
            Marker::U64 => u64::from_be_bytes(self.array()?).into(),
            Marker::I8 => i8::from_be_bytes(self.array()?).into(),
            Marker::I16 => i16::from_be_bytes(self.array()?).into(),
            Marker::I32 => i32::from_be_bytes(self.array()?).into(),
            Marker::I64 => i64::from_be_bytes(self.array()?).into(),
            _ => return None,
        })
    }

    /// An integer that fits `T`.
    pub fn int_as<T: TryFrom<i128>>(&mut self) -> Option<T> {
        T::try_from(self.int()?).ok()
    }

    /// A float written as MessagePack's 32-bit float (every bit kept, NaNs included).
    pub fn f32(&mut self) -> Option<f32> {
        match self.marker()? {
            Marker::F32 => Some(f32::from_bits(u32::from_be_bytes(self.array()?))),
            _ => None,
        }
    }

    /// A float written as MessagePack's 64-bit float.
    pub fn f64(&mut self) -> Option<f64> {
        match self.marker()? {
            Marker::F64 => Some(f64::from_bits(u64::from_be_bytes(self.array()?))),
            _ => None,
        }
    }

    /// A string (valid UTF-8).
    pub fn str(&mut self) -> Option<&'a str> {
        let len = match self.marker()? {
            Marker::FixStr(n) => n.into(),
            Marker::Str8 => self.u8()?.into(),
            Marker::Str16 => self.be16()?,
            Marker::Str32 => self.be32()?,
            _ => return None,
        };
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// A byte string (MessagePack `bin`).
    pub fn bin(&mut self) -> Option<&'a [u8]> {
        let len = match self.marker()? {
            Marker::Bin8 => self.u8()?.into(),
            Marker::Bin16 => self.be16()?,
            Marker::Bin32 => self.be32()?,
            _ => return None,
        };
        self.take(len)
    }

    /// An array header: the number of items that follow.
    pub fn array_len(&mut self) -> Option<usize> {
        match self.marker()? {
            Marker::FixArray(n) => Some(n.into()),
            Marker::Array16 => self.be16(),
            Marker::Array32 => self.be32(),
            _ => None,
        }
    }

    /// A map header: the number of key-value pairs that follow.
    pub fn map_len(&mut self) -> Option<usize> {
        match self.marker()? {
            Marker::FixMap(n) => Some(n.into()),
            Marker::Map16 => self.be16(),
            Marker::Map32 => self.be32(),
            _ => None,
        }
    }

    /// Passes over one complete item of any type, checking only its framing.
    pub fn skip(&mut self) -> Option<()> {
        self.skip_nested(0)
    }

    fn skip_nested(&mut self, depth: usize) -> Option<()> {
        let items = match self.marker()? {
            Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => {
                return Some(());
            }
            Marker::U8 | Marker::I8 => return self.take(1).map(drop),
            Marker::U16 | Marker::I16 => return self.take(2).map(drop),
            Marker::U32 | Marker::I32 | Marker::F32 => return self.take(4).map(drop),
            Marker::U64 | Marker::I64 | Marker::F64 => return self.take(8).map(drop),
            Marker::FixStr(n) => return self.take(n.into()).map(drop),
            Marker::Str8 | Marker::Bin8 => {
                let n = self.u8()?;
                return self.take(n.into()).map(drop);
            }
            Marker::Str16 | Marker::Bin16 => {
                let n = self.be16()?;
                return self.take(n).map(drop);
            }
            Marker::Str32 | Marker::Bin32 => {
                let n = self.be32()?;
                return self.take(n).map(drop);
            }
            Marker::FixArray(n) => usize::from(n),
            Marker::Array16 => self.be16()?,
            Marker::Array32 => self.be32()?,
            Marker::FixMap(n) => 2 * usize::from(n),
            Marker::Map16 => 2 * self.be16()?,
            Marker::Map32 => 2usize.checked_mul(self.be32()?)?,
            // Extensions and the reserved marker never appear in zqlite's records.
            _ => return None,
        };
        // Every item takes at least a byte: more than are left cannot be there.
        if depth >= MAX_DEPTH || items > self.remaining() {
            return None;
        }
        for _ in 0..items {
            self.skip_nested(depth + 1)?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Serialize;

    fn encode<T: Serialize>(value: &T) -> Vec<u8> {
        rmp_serde::to_vec(value).unwrap()
    }

    #[test]
    fn integers_read_back_in_every_width() {
        for n in [
            0i128,
            1,
            127,
            128,
            255,
            256,
            65_535,
            65_536,
            -1,
            -32,
            -33,
            -129,
            -32_769,
            i64::MIN.into(),
            i64::MAX.into(),
            u64::MAX.into(),
        ] {
            let bytes = if n > i64::MAX.into() {
                encode(&(n as u64))
            } else {
                encode(&(n as i64))
            };
            let mut cursor = Cursor::new(&bytes);
            assert_eq!(cursor.int(), Some(n), "{n}");
            assert!(cursor.at_end());
        }
        assert_eq!(Cursor::new(&encode(&300i64)).int_as::<u8>(), None);
        assert_eq!(Cursor::new(&encode(&-1i64)).int_as::<u64>(), None);
    }

    #[test]
    fn strings_must_be_utf8_and_complete() {
        assert_eq!(Cursor::new(&encode(&"héllo")).str(), Some("héllo"));
        let long = "x".repeat(70_000);
        assert_eq!(Cursor::new(&encode(&long)).str(), Some(long.as_str()));
        assert_eq!(Cursor::new(&[0xa2, 0xff, 0xfe]).str(), None);
        assert_eq!(Cursor::new(&[0xa3, b'a', b'b']).str(), None);
        assert_eq!(Cursor::new(&[0xdb, 0xff, 0xff, 0xff, 0xff]).str(), None);
    }

    #[test]
    fn skip_passes_over_nested_items() {
        let value = (
            vec![Some("a".to_string()), None],
            std::collections::BTreeMap::from([(1u8, vec![1.5f64, -2.0])]),
            (true, -70_000i64, u64::MAX),
        );
        let mut bytes = encode(&value);
        bytes.push(0xc0);
        let mut cursor = Cursor::new(&bytes);
        cursor.skip().unwrap();
        assert_eq!(cursor.position(), bytes.len() - 1);
        assert!(cursor.nil());
        assert!(cursor.at_end());
    }

    #[test]
    fn skip_refuses_truncation_and_runaway_nesting() {
        let bytes = encode(&vec![vec![1u32, 2], vec![3]]);
        for end in 0..bytes.len() {
            assert_eq!(Cursor::new(&bytes[..end]).skip(), None, "{end}");
        }
        // An array claiming four billion items in a few bytes.
        assert_eq!(
            Cursor::new(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]).skip(),
            None
        );
        let deep = vec![0x91u8; 5000];
        assert_eq!(Cursor::new(&deep).skip(), None);
    }

    proptest! {
        /// Whatever the bytes, reading never panics, and `skip` agrees with rmp_serde about
        /// where a well-framed item ends.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut cursor = Cursor::new(&bytes);
            let _ = cursor.clone().int();
            let _ = cursor.clone().str();
            let _ = cursor.clone().bin();
            let _ = cursor.clone().array_len();
            let _ = cursor.clone().map_len();
            let _ = cursor.clone().f64();
            if cursor.skip().is_some() {
                let mut de = rmp_serde::Deserializer::new(std::io::Cursor::new(&bytes[..]));
                let parsed: Result<serde::de::IgnoredAny, _> =
                    serde::Deserialize::deserialize(&mut de);
                if parsed.is_ok() {
                    prop_assert_eq!(de.position() as usize, cursor.position());
                }
            }
        }
    }
}
