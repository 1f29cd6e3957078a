//! How values and types are stored in log records and checkpoints (MessagePack via serde).
//!
//! A value is a two-element array `[tag, payload]` with a small integer tag per variant, so a
//! record is compact and any MessagePack reader can decode it. Exact types whose internal form
//! is private (`numeric`, `jsonb`) travel as their canonical PostgreSQL text, which parses back
//! to the identical value; floats travel as floats (MessagePack keeps every bit).
//!
//! Invariant: `decode(encode(v))` is `v`, with the same display form (property-tested).

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use std::sync::Arc;

use super::array::Array;
use super::datetime::{Date, Time, Timestamp, TimestampTz};
use super::interval::Interval;
use super::json::Jsonb;
use super::numeric::Numeric;
use super::scalar::Value;
use super::types::DataType;
use crate::msgpack::Cursor;

mod tag {
    pub const NULL: u8 = 0;
    pub const BOOL: u8 = 1;
    pub const INT2: u8 = 2;
    pub const INT4: u8 = 3;
    pub const INT8: u8 = 4;
    pub const NUMERIC: u8 = 5;
    pub const FLOAT4: u8 = 6;
    pub const FLOAT8: u8 = 7;
    pub const TEXT: u8 = 8;
    pub const BPCHAR: u8 = 9;
    pub const BYTEA: u8 = 10;
    pub const DATE: u8 = 11;
    pub const TIME: u8 = 12;
    pub const TIMESTAMP: u8 = 13;
    pub const TIMESTAMPTZ: u8 = 14;
    pub const INTERVAL: u8 = 15;
    pub const UUID: u8 = 16;
    pub const JSON: u8 = 17;
    pub const JSONB: u8 = 18;
    pub const ARRAY: u8 = 19;
}

/// Raw bytes for serde (MessagePack `bin`), without pulling in a bytes helper crate.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

struct ByteBuf(Vec<u8>);

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ByteBuf, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(ByteBuf(out))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        match self {
            Value::Null => {
                t.serialize_element(&tag::NULL)?;
                t.serialize_element(&())?;
            }
            Value::Bool(v) => {
                t.serialize_element(&tag::BOOL)?;
                t.serialize_element(v)?;
            }
            Value::Int2(v) => {
                t.serialize_element(&tag::INT2)?;
                t.serialize_element(v)?;
            }
            Value::Int4(v) => {
                t.serialize_element(&tag::INT4)?;
                t.serialize_element(v)?;
            }
            Value::Int8(v) => {
                t.serialize_element(&tag::INT8)?;
                t.serialize_element(v)?;
            }
            Value::Numeric(v) => {
                t.serialize_element(&tag::NUMERIC)?;
                t.serialize_element(&v.to_string())?;
            }
            Value::Float4(v) => {
                t.serialize_element(&tag::FLOAT4)?;
                t.serialize_element(v)?;
            }
            Value::Float8(v) => {
                t.serialize_element(&tag::FLOAT8)?;
                t.serialize_element(v)?;
            }
            Value::Text(v) => {
                t.serialize_element(&tag::TEXT)?;
                t.serialize_element(v)?;
            }
            Value::BpChar(v) => {
                t.serialize_element(&tag::BPCHAR)?;
                t.serialize_element(v)?;
            }
            Value::Bytea(v) => {
                t.serialize_element(&tag::BYTEA)?;
                t.serialize_element(&Bytes(v))?;
            }
            Value::Date(v) => {
                t.serialize_element(&tag::DATE)?;
                t.serialize_element(&v.0)?;
            }
            Value::Time(v) => {
                t.serialize_element(&tag::TIME)?;
                t.serialize_element(&v.0)?;
            }
            Value::Timestamp(v) => {
                t.serialize_element(&tag::TIMESTAMP)?;
                t.serialize_element(&v.0)?;
            }
            Value::TimestampTz(v) => {
                t.serialize_element(&tag::TIMESTAMPTZ)?;
                t.serialize_element(&v.0)?;
            }
            Value::Interval(v) => {
                t.serialize_element(&tag::INTERVAL)?;
                t.serialize_element(&(v.months, v.days, v.micros))?;
            }
            Value::Uuid(v) => {
                t.serialize_element(&tag::UUID)?;
                t.serialize_element(&Bytes(v.as_bytes()))?;
            }
            Value::Json(v) => {
                t.serialize_element(&tag::JSON)?;
                t.serialize_element(v)?;
            }
            Value::Jsonb(v) => {
                t.serialize_element(&tag::JSONB)?;
                t.serialize_element(&v.to_string())?;
            }
            Value::Array(a) => {
                t.serialize_element(&tag::ARRAY)?;
                t.serialize_element(&(a.elem(), a.items()))?;
            }
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_tuple(2, ValueVisitor)
    }
}

struct ValueVisitor;

fn next<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(seq: &mut A) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| de::Error::invalid_length(1, &"a [tag, payload] pair"))
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a zqlite value as [tag, payload]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let tag: u8 = next(&mut seq)?;
        let bad = |what: &str| de::Error::custom(format!("invalid stored {what}"));
        Ok(match tag {
            tag::NULL => {
                next::<(), _>(&mut seq)?;
                Value::Null
            }
            tag::BOOL => Value::Bool(next(&mut seq)?),
            tag::INT2 => Value::Int2(next(&mut seq)?),
            tag::INT4 => Value::Int4(next(&mut seq)?),
            tag::INT8 => Value::Int8(next(&mut seq)?),
            tag::NUMERIC => {
                let text: String = next(&mut seq)?;
                Value::Numeric(Numeric::parse(&text).map_err(|_| bad("numeric"))?)
            }
            tag::FLOAT4 => Value::Float4(next(&mut seq)?),
            tag::FLOAT8 => Value::Float8(next(&mut seq)?),
            tag::TEXT => Value::Text(next(&mut seq)?),
            tag::BPCHAR => Value::BpChar(next(&mut seq)?),
            tag::BYTEA => Value::Bytea(next::<ByteBuf, _>(&mut seq)?.0),
            tag::DATE => Value::Date(Date(next(&mut seq)?)),
            tag::TIME => Value::Time(Time(next(&mut seq)?)),
            tag::TIMESTAMP => Value::Timestamp(Timestamp(next(&mut seq)?)),
            tag::TIMESTAMPTZ => Value::TimestampTz(TimestampTz(next(&mut seq)?)),
            tag::INTERVAL => {
                let (months, days, micros) = next(&mut seq)?;
                Value::Interval(Interval {
                    months,
                    days,
                    micros,
                })
            }
            tag::UUID => {
                let bytes = next::<ByteBuf, _>(&mut seq)?.0;
                Value::Uuid(uuid::Uuid::from_slice(&bytes).map_err(|_| bad("uuid"))?)
            }
            tag::JSON => Value::Json(next(&mut seq)?),
            tag::JSONB => {
                let text: String = next(&mut seq)?;
                Value::Jsonb(Jsonb::parse(&text).map_err(|_| bad("jsonb"))?)
            }
            tag::ARRAY => {
                let (elem, items): (DataType, Vec<Value>) = next(&mut seq)?;
                if elem.array_type().is_err() {
                    return Err(bad("array"));
                }
                Value::Array(Arc::new(Array::new(elem, items)))
            }
            other => return Err(de::Error::custom(format!("unknown value tag {other}"))),
        })
    }
}

/// A value read by [`read_raw_value`], its heap parts still borrowed from the payload.
pub(crate) enum RawValue<'a> {
    /// A value without heap parts.
    Plain(Value),
    Text(&'a str),
    BpChar(&'a str),
    Json(&'a str),
    Bytea(&'a [u8]),
    /// A value serde decodes from these bytes (types stored as text to parse, and arrays).
    Serde(&'a [u8]),
}

impl RawValue<'_> {
    /// The value; `None` when a value left to serde does not decode.
    pub(crate) fn into_value(self) -> Option<Value> {
        Some(match self {
            RawValue::Plain(v) => v,
            RawValue::Text(s) => Value::Text(s.to_owned()),
            RawValue::BpChar(s) => Value::BpChar(s.to_owned()),
            RawValue::Json(s) => Value::Json(s.to_owned()),
            RawValue::Bytea(b) => Value::Bytea(b.to_vec()),
            RawValue::Serde(bytes) => return rmp_serde::from_slice(bytes).ok(),
        })
    }

    /// Whether the value decodes, without keeping it.
    pub(crate) fn is_valid(&self) -> bool {
        match self {
            RawValue::Serde(bytes) => rmp_serde::from_slice::<Value>(bytes).is_ok(),
            _ => true,
        }
    }
}

/// Reads one value in the form [`Value`]'s `Serialize` writes it, without serde or
/// allocation (replay decodes millions). `None` when the bytes are not in exactly that form:
/// the caller then decodes the whole payload with serde, which decides what it means, so
/// this never accepts what serde would refuse or reads a value serde would read
/// differently (property-tested below).
pub(crate) fn read_raw_value<'a>(cursor: &mut Cursor<'a>) -> Option<RawValue<'a>> {
    let start = cursor.position();
    if cursor.array_len()? != 2 {
        return None;
    }
    let tag: u8 = cursor.int_as()?;
    Some(RawValue::Plain(match tag {
        tag::NULL => {
            if !cursor.nil() {
                return None;
            }
            Value::Null
        }
        tag::BOOL => Value::Bool(cursor.bool()?),
        tag::INT2 => Value::Int2(cursor.int_as()?),
        tag::INT4 => Value::Int4(cursor.int_as()?),
        tag::INT8 => Value::Int8(cursor.int_as()?),
        tag::FLOAT4 => Value::Float4(cursor.f32()?),
        tag::FLOAT8 => Value::Float8(cursor.f64()?),
        tag::TEXT => return Some(RawValue::Text(cursor.str()?)),
        tag::BPCHAR => return Some(RawValue::BpChar(cursor.str()?)),
        tag::JSON => return Some(RawValue::Json(cursor.str()?)),
        tag::BYTEA => return Some(RawValue::Bytea(cursor.bin()?)),
        tag::DATE => Value::Date(Date(cursor.int_as()?)),
        tag::TIME => Value::Time(Time(cursor.int_as()?)),
        tag::TIMESTAMP => Value::Timestamp(Timestamp(cursor.int_as()?)),
        tag::TIMESTAMPTZ => Value::TimestampTz(TimestampTz(cursor.int_as()?)),
        tag::INTERVAL => {
            if cursor.array_len()? != 3 {
                return None;
            }
            Value::Interval(Interval {
                months: cursor.int_as()?,
                days: cursor.int_as()?,
                micros: cursor.int_as()?,
            })
        }
        tag::UUID => Value::Uuid(uuid::Uuid::from_slice(cursor.bin()?).ok()?),
        tag::NUMERIC | tag::JSONB | tag::ARRAY => {
            cursor.skip()?;
            return Some(RawValue::Serde(cursor.since(start)));
        }
        _ => return None,
    }))
}

/// A value's text and type for every type, with edge cases (for tests of the encoding and
/// of the readers built on it).
#[cfg(test)]
pub(crate) fn samples_of_every_type() -> Vec<(&'static str, DataType)> {
    vec![
        ("t", DataType::Bool),
        ("-32768", DataType::Int2),
        ("2147483647", DataType::Int4),
        ("-9223372036854775808", DataType::Int8),
        ("-40.0000000000000000", DataType::Numeric(None)),
        ("NaN", DataType::Numeric(None)),
        ("1.5e-40", DataType::Float4),
        ("-0", DataType::Float8),
        ("héllo", DataType::Text),
        ("ab  ", DataType::Char(Some(4))),
        ("\\xdeadbeef", DataType::Bytea),
        ("2026-11-28", DataType::Date),
        ("23:59:59.999999", DataType::Time),
        ("2026-11-28 10:00:00.5", DataType::Timestamp),
        ("2026-11-28 10:00:00+00", DataType::TimestampTz),
        ("1 year 2 mons -3 days 04:05:06", DataType::Interval),
        ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", DataType::Uuid),
        ("{\"b\": [1, 2.50], \"a\": null}", DataType::Json),
        ("{\"b\": [1, 2.50], \"a\": null}", DataType::Jsonb),
        ("{1,NULL,-3}", DataType::Int8.array_type().unwrap()),
        (
            "{\"a b\",NULL,\"\"}",
            DataType::Varchar(None).array_type().unwrap(),
        ),
        ("{}", DataType::Numeric(None).array_type().unwrap()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{DataType, parse_value};

    fn round_trip(v: &Value) -> Value {
        let bytes = rmp_serde::to_vec(v).unwrap();
        rmp_serde::from_slice(&bytes).unwrap()
    }

    #[test]
    fn every_type_round_trips_with_its_text_form() {
        let cases = samples_of_every_type();
        for (text, ty) in cases {
            let v = parse_value(text, &ty).unwrap();
            let back = round_trip(&v);
            assert_eq!(back.to_string(), v.to_string(), "{ty:?}");
            assert_eq!(back.data_type(), v.data_type(), "{ty:?}");
        }
        assert!(round_trip(&Value::Null).is_null());
        let nan = round_trip(&Value::Float8(f64::NAN));
        assert!(matches!(nan, Value::Float8(x) if x.is_nan()));
    }

    #[test]
    fn damaged_values_fail_to_decode() {
        let bytes = rmp_serde::to_vec(&(99u8, 1)).unwrap();
        assert!(rmp_serde::from_slice::<Value>(&bytes).is_err());
        let bytes = rmp_serde::to_vec(&(tag::NUMERIC, "12x")).unwrap();
        assert!(rmp_serde::from_slice::<Value>(&bytes).is_err());
        assert!(rmp_serde::from_slice::<Value>(&[0x91, 0x04]).is_err());
        let nested = (
            tag::ARRAY,
            (DataType::Int4.array_type().unwrap(), Vec::<Value>::new()),
        );
        let bytes = rmp_serde::to_vec(&nested).unwrap();
        assert!(rmp_serde::from_slice::<Value>(&bytes).is_err());
    }
}
