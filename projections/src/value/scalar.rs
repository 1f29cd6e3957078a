//! [`Value`]: one SQL scalar value, or NULL.
//!
//! Owns the runtime representation every other part of the engine passes around. A value
//! carries its base type (its variant) but not a type modifier: `varchar(3)` values are
//! `Text`, `numeric(10,2)` values are `Numeric` already rounded to scale 2. Declared types
//! (with modifiers) live in the binder's [`DataType`]s, and [`crate::value::cast()`] enforces them.
//!
//! Invariants:
//! - `Text` holds `text` and `varchar` values; `BpChar` holds `char(n)`/`bpchar` values with
//!   their blank padding (it prints padded, compares and hashes without trailing blanks);
//! - `Json` holds text already validated as JSON; `Jsonb` is normalised (see `json`);
//! - text values contain no NUL character.

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use super::array::Array;
use super::datetime::{Date, Time, Timestamp, TimestampTz};
use super::float::{format_f32, format_f64};
use super::interval::Interval;
use super::json::Jsonb;
use super::numeric::Numeric;
use super::types::DataType;

/// A SQL value (see the module invariants).
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int2(i16),
    Int4(i32),
    Int8(i64),
    Numeric(Numeric),
    Float4(f32),
    Float8(f64),
    Text(String),
    BpChar(String),
    Bytea(Vec<u8>),
    Date(Date),
    Time(Time),
    Timestamp(Timestamp),
    TimestampTz(TimestampTz),
    Interval(Interval),
    Uuid(Uuid),
    Json(String),
    Jsonb(Jsonb),
    Array(Arc<Array>),
}

// Rows are slices of values: every byte here is paid once per column of every stored row.
const _: () = assert!(
    std::mem::size_of::<Value>() <= 32,
    "Value grew past 32 bytes"
);

impl Value {
    /// The bytes of a value kept in a heap allocation of its own (text, bytea, json), for
    /// prefetching; `None` for values stored inline or behind shared pointers.
    pub(crate) fn heap_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Text(s) | Value::BpChar(s) | Value::Json(s) if !s.is_empty() => {
                Some(s.as_bytes())
            }
            Value::Bytea(b) if !b.is_empty() => Some(b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value's base type (without modifier); `None` for NULL, whose type only the binder
    /// knows.
    pub fn data_type(&self) -> Option<DataType> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(_) => DataType::Bool,
            Value::Int2(_) => DataType::Int2,
            Value::Int4(_) => DataType::Int4,
            Value::Int8(_) => DataType::Int8,
            Value::Numeric(_) => DataType::Numeric(None),
            Value::Float4(_) => DataType::Float4,
            Value::Float8(_) => DataType::Float8,
            Value::Text(_) => DataType::Text,
            Value::BpChar(_) => DataType::Char(None),
            Value::Bytea(_) => DataType::Bytea,
            Value::Date(_) => DataType::Date,
            Value::Time(_) => DataType::Time,
            Value::Timestamp(_) => DataType::Timestamp,
            Value::TimestampTz(_) => DataType::TimestampTz,
            Value::Interval(_) => DataType::Interval,
            Value::Uuid(_) => DataType::Uuid,
            Value::Json(_) => DataType::Json,
            Value::Jsonb(_) => DataType::Jsonb,
            Value::Array(a) => a.elem().array_type().expect("array elements are scalars"),
        })
    }

    /// PostgreSQL's text output of the value (what the simple query protocol sends), or
    /// `None` for NULL.
    pub fn to_text(&self) -> Option<String> {
        (!self.is_null()).then(|| self.to_string())
    }

    /// The boolean of a `Bool` value; `None` for NULL or other types (three-valued logic
    /// helpers in `ops` build on this).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// The type's output function; NULL prints as `NULL` (only for diagnostics: the wire
    /// protocol sends NULL as a null field, see [`Value::to_text`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => f.write_str(if *b { "t" } else { "f" }),
            Value::Int2(v) => write!(f, "{v}"),
            Value::Int4(v) => write!(f, "{v}"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Numeric(v) => write!(f, "{v}"),
            Value::Float4(v) => f.write_str(&format_f32(*v)),
            Value::Float8(v) => f.write_str(&format_f64(*v)),
            Value::Text(s) | Value::BpChar(s) | Value::Json(s) => f.write_str(s),
            Value::Bytea(bytes) => {
                f.write_str("\\x")?;
                bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            Value::Date(v) => write!(f, "{v}"),
            Value::Time(v) => write!(f, "{v}"),
            Value::Timestamp(v) => write!(f, "{v}"),
            Value::TimestampTz(v) => write!(f, "{v}"),
            Value::Interval(v) => write!(f, "{v}"),
            Value::Uuid(v) => write!(f, "{}", v.hyphenated()),
            Value::Jsonb(v) => write!(f, "{v}"),
            Value::Array(a) => write!(f, "{a}"),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}

impl From<i16> for Value {
    fn from(v: i16) -> Value {
        Value::Int2(v)
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int4(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int8(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float8(v)
    }
}

impl From<Numeric> for Value {
    fn from(v: Numeric) -> Value {
        Value::Numeric(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_matches_postgres() {
        // SELECT true, 'abc'::bytea, ''::bytea, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid,
        //        -32768::int2, 'ab'::char(4);
        // t | \x616263 | \x | a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 | -32768 | "ab  "
        assert_eq!(Value::Bool(true).to_string(), "t");
        assert_eq!(Value::Bytea(b"abc".to_vec()).to_string(), "\\x616263");
        assert_eq!(Value::Bytea(vec![]).to_string(), "\\x");
        let u = Uuid::parse_str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").unwrap();
        assert_eq!(
            Value::Uuid(u).to_string(),
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        );
        assert_eq!(Value::Int2(i16::MIN).to_string(), "-32768");
        assert_eq!(Value::BpChar("ab  ".into()).to_string(), "ab  ");
        assert_eq!(Value::Float8(1e100).to_string(), "1e+100");
        assert_eq!(Value::Null.to_text(), None);
        assert_eq!(Value::from(Some(3i32)).to_text().as_deref(), Some("3"));
        assert!(Value::from(None::<i32>).is_null());
        assert_eq!(Value::Int8(1).data_type(), Some(DataType::Int8));
        assert_eq!(Value::Null.data_type(), None);
    }
}
