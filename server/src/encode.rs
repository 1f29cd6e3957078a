//! Result encoding: row descriptions and data rows, in text or binary format.
//!
//! - Text format is the value's PostgreSQL output (`Value::to_text`).
//! - Binary format is PostgreSQL's `typsend` for every type zqlite has; dates and times
//!   share PostgreSQL's epoch (2000-01-01) and microsecond units, and their infinities
//!   (`i32/i64::MIN/MAX`), so they are sent as they are stored.
//! - `numeric` binary is base-10000 digits built from the exact decimal text.

use bytes::{BufMut, BytesMut};
use pgwire::messages::data::{DataRow, FieldDescription, RowDescription};
use zqlite_query::{Column, Value};

pub(crate) const FORMAT_TEXT: i16 = 0;
pub(crate) const FORMAT_BINARY: i16 = 1;

/// The format of result column `i` under Bind's result format codes (none: all text; one:
/// all columns; otherwise one per column).
pub(crate) fn format_of(codes: &[i16], i: usize) -> i16 {
    match codes {
        [] => FORMAT_TEXT,
        [one] => *one,
        many => many.get(i).copied().unwrap_or(FORMAT_TEXT),
    }
}

pub(crate) fn row_description(columns: &[Column], formats: &[i16]) -> RowDescription {
    RowDescription::new(
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                FieldDescription::new(
                    c.name.clone(),
                    0,
                    0,
                    c.data_type.oid(),
                    c.data_type.typlen(),
                    c.data_type.typmod(),
                    format_of(formats, i),
                )
            })
            .collect(),
    )
}

pub(crate) fn data_row(row: &[Value], formats: &[i16]) -> DataRow {
    let mut data = BytesMut::with_capacity(row.len() * 8);
    for (i, v) in row.iter().enumerate() {
        if v.is_null() {
            data.put_i32(-1);
            continue;
        }
        let len_at = data.len();
        data.put_i32(0);
        if format_of(formats, i) == FORMAT_BINARY {
            put_binary(&mut data, v);
        } else {
            data.put_slice(v.to_text().unwrap_or_default().as_bytes());
        }
        let len = (data.len() - len_at - 4) as i32;
        data[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
    }
    DataRow::new(data, row.len() as i16)
}

fn put_binary(buf: &mut BytesMut, v: &Value) {
    match v {
        Value::Null => {}
        Value::Bool(b) => buf.put_u8(u8::from(*b)),
        Value::Int2(n) => buf.put_i16(*n),
        Value::Int4(n) => buf.put_i32(*n),
        Value::Int8(n) => buf.put_i64(*n),
        Value::Float4(f) => buf.put_f32(*f),
        Value::Float8(f) => buf.put_f64(*f),
        Value::Text(s) | Value::BpChar(s) | Value::Json(s) => buf.put_slice(s.as_bytes()),
        Value::Jsonb(_) => {
            buf.put_u8(1);
            buf.put_slice(v.to_text().unwrap_or_default().as_bytes());
        }
        Value::Bytea(b) => buf.put_slice(b),
        Value::Uuid(u) => buf.put_slice(u.as_bytes()),
        Value::Date(d) => buf.put_i32(d.0),
        Value::Time(t) => buf.put_i64(t.0),
        Value::Timestamp(t) => buf.put_i64(t.0),
        Value::TimestampTz(t) => buf.put_i64(t.0),
        Value::Interval(iv) => {
            buf.put_i64(iv.micros);
            buf.put_i32(iv.days);
            buf.put_i32(iv.months);
        }
        Value::Numeric(n) => put_numeric(buf, &n.to_string()),
        Value::Array(a) => {
            // `array_send`: dimensions (none for an empty array), then length-prefixed items.
            let items = a.items();
            buf.put_i32(i32::from(!items.is_empty()));
            buf.put_i32(i32::from(items.iter().any(Value::is_null)));
            buf.put_u32(a.elem().oid());
            if !items.is_empty() {
                buf.put_i32(items.len() as i32);
                buf.put_i32(1);
            }
            for item in items {
                if item.is_null() {
                    buf.put_i32(-1);
                    continue;
                }
                let len_at = buf.len();
                buf.put_i32(0);
                put_binary(buf, item);
                let len = (buf.len() - len_at - 4) as i32;
                buf[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
    }
}

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// `numeric_send` from the decimal text (`-12.340`, `NaN`, `Infinity`).
pub(crate) fn put_numeric(buf: &mut BytesMut, text: &str) {
    let header = |buf: &mut BytesMut, ndigits: i16, weight: i16, sign: u16, dscale: u16| {
        buf.put_i16(ndigits);
        buf.put_i16(weight);
        buf.put_u16(sign);
        buf.put_u16(dscale);
    };
    match text {
        "NaN" => return header(buf, 0, 0, NUMERIC_NAN, 0),
        "Infinity" => return header(buf, 0, 0, NUMERIC_PINF, 0),
        "-Infinity" => return header(buf, 0, 0, NUMERIC_NINF, 0),
        _ => {}
    }
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (NUMERIC_NEG, rest),
        None => (NUMERIC_POS, text),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let group = |s: &str| {
        s.bytes()
            .fold(0i16, |acc, b| acc * 10 + i16::from(b - b'0'))
    };
    let int_pad = (4 - int.len() % 4) % 4;
    let int_digits = format!("{}{int}", "0".repeat(int_pad));
    let frac_pad = (4 - frac.len() % 4) % 4;
    let frac_digits = format!("{frac}{}", "0".repeat(frac_pad));
    let mut digits: Vec<i16> = int_digits
        .as_bytes()
        .chunks(4)
        .chain(frac_digits.as_bytes().chunks(4))
        .map(|c| group(std::str::from_utf8(c).unwrap_or("0")))
        .collect();
    let mut weight = (int_digits.len() / 4) as i16 - 1;
    let leading = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..leading);
    weight -= leading as i16;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let dscale = frac.len() as u16;
    if digits.is_empty() {
        return header(buf, 0, 0, NUMERIC_POS, dscale);
    }
    header(buf, digits.len() as i16, weight, sign, dscale);
    for d in digits {
        buf.put_i16(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zqlite_query::DataType;
    use zqlite_query::value::parse_value;

    fn numeric_bytes(text: &str) -> Vec<u8> {
        let mut b = BytesMut::new();
        put_numeric(&mut b, text);
        b.to_vec()
    }

    #[test]
    fn numeric_binary_matches_postgres() {
        // numeric_send layout: ndigits, weight, sign, dscale (16-bit BE), base-10000 digits.
        assert_eq!(numeric_bytes("0"), [0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            numeric_bytes("0.5"),
            [0, 1, 255, 255, 0, 0, 0, 1, 0x13, 0x88]
        );
        assert_eq!(
            numeric_bytes("-12345.670"),
            [0, 3, 0, 1, 0x40, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x2c]
        );
        assert_eq!(numeric_bytes("10000"), [0, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
        assert_eq!(numeric_bytes("NaN"), [0, 0, 0, 0, 0xC0, 0, 0, 0]);
    }

    #[test]
    fn rows_mix_text_binary_and_null() {
        let row = vec![
            Value::Int4(7),
            Value::Null,
            parse_value("2000-01-02", &DataType::Date).expect("valid date"),
        ];
        let r = data_row(&row, &[FORMAT_BINARY, FORMAT_TEXT, FORMAT_BINARY]);
        assert_eq!(r.field_count, 3);
        assert_eq!(
            r.data.to_vec(),
            [
                0, 0, 0, 4, 0, 0, 0, 7, 255, 255, 255, 255, 0, 0, 0, 4, 0, 0, 0, 1
            ]
        );
        let t = data_row(&row[..1], &[]);
        assert_eq!(t.data.to_vec(), [0, 0, 0, 1, b'7']);
    }

    #[test]
    fn one_format_code_applies_to_every_column() {
        assert_eq!(format_of(&[FORMAT_BINARY], 5), FORMAT_BINARY);
        assert_eq!(format_of(&[], 0), FORMAT_TEXT);
        assert_eq!(format_of(&[0, 1], 1), FORMAT_BINARY);
    }
}
