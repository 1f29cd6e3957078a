//! Bind parameters: from the wire (text or binary) to [`Value`]s of the statement's
//! parameter types.
//!
//! - Text parameters go through the type's input function ([`parse_value`]); a parameter of
//!   unknown type is `text`.
//! - Binary parameters follow PostgreSQL's `typreceive`; a wrong length is 22P03.

use zqlite_query::value::{Date, Interval, Numeric, Time, Timestamp, TimestampTz, parse_value};
use zqlite_query::{DataType, Value};

use crate::encode::FORMAT_BINARY;
use crate::sqlerror::SqlError;

/// The type of a parameter declared by OID in Parse (`None` for 0, `unknown` or a type
/// zqlite lacks: it is then inferred).
pub(crate) fn type_of_oid(oid: u32) -> Option<DataType> {
    Some(match oid {
        16 => DataType::Bool,
        17 => DataType::Bytea,
        20 => DataType::Int8,
        21 => DataType::Int2,
        23 => DataType::Int4,
        25 => DataType::Text,
        114 => DataType::Json,
        700 => DataType::Float4,
        701 => DataType::Float8,
        1042 => DataType::Char(None),
        1043 => DataType::Varchar(None),
        1082 => DataType::Date,
        1083 => DataType::Time,
        1114 => DataType::Timestamp,
        1184 => DataType::TimestampTz,
        1186 => DataType::Interval,
        1700 => DataType::Numeric(None),
        2950 => DataType::Uuid,
        3802 => DataType::Jsonb,
        _ => return DataType::array_from_oid(oid),
    })
}

/// Decodes parameter `index` (0-based) of type `ty` (`None`: unknown) sent in `format`.
pub(crate) fn decode(
    index: usize,
    bytes: Option<&[u8]>,
    format: i16,
    ty: Option<&DataType>,
) -> Result<Value, SqlError> {
    let Some(bytes) = bytes else {
        return Ok(Value::Null);
    };
    let ty = ty.cloned().unwrap_or(DataType::Text);
    if format == FORMAT_BINARY {
        return decode_binary(bytes, &ty).ok_or_else(|| {
            SqlError::new(
                "22P03",
                format!(
                    "incorrect binary data format in bind parameter {}",
                    index + 1
                ),
            )
        })?;
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\""))?;
    parse_value(text, &ty).map_err(|e| SqlError::from(zqlite_query::Error::from(e)))
}

/// `None`: the bytes do not have the type's binary shape.
fn decode_binary(b: &[u8], ty: &DataType) -> Option<Result<Value, SqlError>> {
    let fixed = |n: usize| (b.len() == n).then_some(b);
    let text = || {
        std::str::from_utf8(b)
            .ok()
            .map(|s| parse_value(s, ty).map_err(|e| SqlError::from(zqlite_query::Error::from(e))))
    };
    let i64_at =
        |b: &[u8], at: usize| i64::from_be_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]));
    let i32_at =
        |b: &[u8], at: usize| i32::from_be_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]));
    Some(Ok(match ty {
        DataType::Bool => Value::Bool(fixed(1)?[0] != 0),
        DataType::Int2 => Value::Int2(i16::from_be_bytes(fixed(2)?.try_into().ok()?)),
        DataType::Int4 => Value::Int4(i32_at(fixed(4)?, 0)),
        DataType::Int8 => Value::Int8(i64_at(fixed(8)?, 0)),
        DataType::Float4 => Value::Float4(f32::from_be_bytes(fixed(4)?.try_into().ok()?)),
        DataType::Float8 => Value::Float8(f64::from_be_bytes(fixed(8)?.try_into().ok()?)),
        DataType::Bytea => Value::Bytea(b.to_vec()),
        DataType::Uuid => Value::Uuid(uuid::Uuid::from_slice(fixed(16)?).ok()?),
        DataType::Date => Value::Date(Date(i32_at(fixed(4)?, 0))),
        DataType::Time => Value::Time(Time(i64_at(fixed(8)?, 0))),
        DataType::Timestamp => Value::Timestamp(Timestamp(i64_at(fixed(8)?, 0))),
        DataType::TimestampTz => Value::TimestampTz(TimestampTz(i64_at(fixed(8)?, 0))),
        DataType::Interval => {
            let b = fixed(16)?;
            Value::Interval(Interval {
                micros: i64_at(b, 0),
                days: i32_at(b, 8),
                months: i32_at(b, 12),
            })
        }
        DataType::Numeric(_) => {
            let n = Numeric::parse(&numeric_text(b)?).ok()?;
            return Some(
                zqlite_query::value::apply_typmod(
                    Value::Numeric(n),
                    ty,
                    zqlite_query::value::CastContext::Assignment,
                )
                .map_err(|e| SqlError::from(zqlite_query::Error::from(e))),
            );
        }
        DataType::Jsonb => {
            let (&version, rest) = b.split_first()?;
            if version != 1 {
                return None;
            }
            let s = std::str::from_utf8(rest).ok()?;
            return Some(
                parse_value(s, ty).map_err(|e| SqlError::from(zqlite_query::Error::from(e))),
            );
        }
        DataType::Array(t) => return decode_binary_array(b, &t.elem),
        // text, varchar, char, json: the bytes are the text.
        _ => return text(),
    }))
}

/// `array_recv` for one dimension: `ndim, has_nulls, element oid, [length, lower bound],`
/// then each element as a length (-1: NULL) and its binary form.
fn decode_binary_array(b: &[u8], elem: &DataType) -> Option<Result<Value, SqlError>> {
    let mut at = 0usize;
    let next_i32 = |at: &mut usize| {
        let v = i32::from_be_bytes(b.get(*at..*at + 4)?.try_into().ok()?);
        *at += 4;
        Some(v)
    };
    let ndim = next_i32(&mut at)?;
    let _has_nulls = next_i32(&mut at)?;
    let _elem_oid = next_i32(&mut at)?;
    let len = match ndim {
        0 => 0,
        1 => {
            let len = next_i32(&mut at)?;
            let _lower = next_i32(&mut at)?;
            usize::try_from(len).ok()?
        }
        _ => {
            return Some(Err(SqlError::new(
                "0A000",
                "multidimensional arrays are not supported",
            )));
        }
    };
    let mut items = Vec::with_capacity(len.min(b.len() / 4));
    for _ in 0..len {
        let n = next_i32(&mut at)?;
        if n < 0 {
            items.push(Value::Null);
            continue;
        }
        let start = at;
        let end = start.checked_add(usize::try_from(n).ok()?)?;
        let bytes = b.get(start..end)?;
        at = end;
        match decode_binary(bytes, elem)? {
            Ok(v) => items.push(v),
            Err(e) => return Some(Err(e)),
        }
    }
    if at != b.len() {
        return None;
    }
    Some(Ok(Value::Array(std::sync::Arc::new(
        zqlite_query::value::Array::new(*elem, items),
    ))))
}

/// `numeric_recv` to decimal text.
fn numeric_text(b: &[u8]) -> Option<String> {
    if b.len() < 8 {
        return None;
    }
    let word = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let ndigits = usize::from(word(0));
    let weight = i32::from(word(2) as i16);
    let sign = word(4);
    let dscale = usize::from(word(6));
    if b.len() != 8 + 2 * ndigits {
        return None;
    }
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        0x0000 | 0x4000 => {}
        _ => return None,
    }
    let digit = |exp: i32| -> u16 {
        let i = weight - exp;
        if i >= 0 && (i as usize) < ndigits {
            word(8 + 2 * i as usize)
        } else {
            0
        }
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&digit(weight).to_string());
        for exp in (0..weight).rev() {
            out.push_str(&format!("{:04}", digit(exp)));
        }
    }
    if dscale > 0 {
        let mut frac = String::new();
        let groups = dscale.div_ceil(4) as i32;
        for exp in 1..=groups {
            frac.push_str(&format!("{:04}", digit(-exp)));
        }
        frac.truncate(dscale);
        out.push('.');
        out.push_str(&frac);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{FORMAT_TEXT, put_numeric};

    #[test]
    fn numeric_binary_round_trips() {
        for text in [
            "0",
            "0.5",
            "-12345.670",
            "10000",
            "0.0001",
            "123456789.123456789",
            "NaN",
        ] {
            let mut b = bytes::BytesMut::new();
            put_numeric(&mut b, text);
            assert_eq!(numeric_text(&b).as_deref(), Some(text));
        }
    }

    #[test]
    fn text_parameters_use_the_type_input_function() {
        let v = decode(0, Some(b"42"), FORMAT_TEXT, Some(&DataType::Int4)).expect("valid int");
        assert!(matches!(v, Value::Int4(42)));
        let e = decode(0, Some(b"4x"), FORMAT_TEXT, Some(&DataType::Int4)).expect_err("not an int");
        assert_eq!(e.code, "22P02");
        let unknown = decode(0, Some(b"4x"), FORMAT_TEXT, None).expect("unknown is text");
        assert!(matches!(unknown, Value::Text(s) if s == "4x"));
        assert!(
            decode(0, None, FORMAT_BINARY, Some(&DataType::Int4))
                .expect("null")
                .is_null()
        );
    }

    #[test]
    fn binary_parameters_check_their_length() {
        let v = decode(1, Some(&[0, 0, 1, 0]), FORMAT_BINARY, Some(&DataType::Int4)).expect("int4");
        assert!(matches!(v, Value::Int4(256)));
        let e = decode(1, Some(&[0, 1]), FORMAT_BINARY, Some(&DataType::Int4)).expect_err("short");
        assert_eq!(e.code, "22P03");
        assert!(e.message.contains("parameter 2"), "{}", e.message);
    }
}
