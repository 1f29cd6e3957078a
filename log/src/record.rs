//! The unit the log stores: a record, identified by its LSN.
//!
//! The log is agnostic of what a payload means; upper layers pick a [`RecordKind`] and encode
//! their payloads as MessagePack with [`NewRecord::msgpack`] / [`Record::decode_msgpack`].
//! Payloads are compact: structs are arrays in field order (enum variants keep their names),
//! which makes small records about a third of the size they are with field names and half
//! again as fast to decode. Decoding still accepts the named form (maps with field
//! names, variant names), so records written that way read back unchanged.

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};

/// Log sequence number. LSNs start at 1 and are contiguous; 0 means "before the first record".
pub type Lsn = u64;

/// A BLAKE3 hash-chain value (see `docs/log-format.md`).
pub type ChainHash = [u8; 32];

/// What a record's payload holds. The log stores it and lets readers filter on it; the numbers
/// are assigned by the layers above (the projections crate defines zqlite's kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKind(pub u8);

/// A record to append: its kind and opaque payload. The log assigns LSN and timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecord {
    pub kind: RecordKind,
    pub payload: Vec<u8>,
}

impl NewRecord {
    pub fn new(kind: RecordKind, payload: impl Into<Vec<u8>>) -> Self {
        NewRecord {
            kind,
            payload: payload.into(),
        }
    }

    /// A record whose payload is `value` encoded as compact MessagePack (see the module
    /// documentation): the order of the types' fields is therefore part of the format.
    pub fn msgpack<T: Serialize + ?Sized>(kind: RecordKind, value: &T) -> Result<Self> {
        let payload = rmp_serde::to_vec(value).map_err(|e| Error::Encode(e.to_string()))?;
        Ok(NewRecord { kind, payload })
    }
}

/// A durable record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub lsn: Lsn,
    /// Commit time in microseconds since the Unix epoch (UTC). Non-decreasing in LSN order.
    pub timestamp: i64,
    pub kind: RecordKind,
    pub payload: Vec<u8>,
    /// Hash-chain value after this record.
    pub chain: ChainHash,
}

impl Record {
    /// Decodes a MessagePack payload written with [`NewRecord::msgpack`].
    pub fn decode_msgpack<T: DeserializeOwned>(&self) -> Result<T> {
        rmp_serde::from_slice(&self.payload).map_err(|e| Error::Decode {
            lsn: self.lsn,
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Insert {
        table: String,
        row: Vec<i64>,
    }

    #[test]
    fn msgpack_payloads_round_trip_and_bad_payloads_say_where() {
        let value = Insert {
            table: "accounts".into(),
            row: vec![1, -2],
        };
        let new = NewRecord::msgpack(RecordKind(1), &value).unwrap();
        let record = Record {
            lsn: 5,
            timestamp: 0,
            kind: new.kind,
            payload: new.payload,
            chain: [0; 32],
        };
        assert_eq!(record.decode_msgpack::<Insert>().unwrap(), value);
        assert_eq!(
            record.payload,
            [
                0x92, 0xa8, b'a', b'c', b'c', b'o', b'u', b'n', b't', b's', 0x92, 0x01, 0xfe
            ],
            "an array in field order, no field names"
        );
        let named = Record {
            payload: rmp_serde::to_vec_named(&value).unwrap(),
            ..record.clone()
        };
        assert_eq!(
            named.decode_msgpack::<Insert>().unwrap(),
            value,
            "the named form reads back too"
        );

        let garbage = Record {
            payload: vec![0xc1],
            ..record
        };
        let err = garbage.decode_msgpack::<Insert>().unwrap_err();
        assert!(err.to_string().contains("LSN 5"), "{err}");
    }
}
