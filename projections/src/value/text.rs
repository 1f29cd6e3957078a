//! Text input: turning a string into a [`Value`] of a given type, as `'...'::type` does.
//!
//! Owns the input functions that have no module of their own (`boolin`, `int2in`/`int4in`/
//! `int8in`, `byteain`, `uuid_in`, the string types) and [`parse_value`], which dispatches to
//! every type's input function and then applies the type modifier as an explicit cast would.
//! Output is [`Value`]'s `Display`.
//!
//! Input rules, all PostgreSQL 15's:
//! - integers: optional surrounding whitespace and sign, decimal digits only (no `_`, no
//!   hex: those arrived in PostgreSQL 16);
//! - booleans: `t`/`true`/`y`/`yes`/`on`/`1` and `f`/`false`/`n`/`no`/`off`/`0`, any case,
//!   unique prefixes allowed (`tr`, `of`; `o` is ambiguous), whitespace trimmed;
//! - bytea: `\x` hex (whitespace allowed between byte pairs) or the escape format (`\\`,
//!   `\ooo` octal, other bytes literal);
//! - uuid: 32 hex digits, a hyphen allowed after any group of four, optional braces, no
//!   whitespace.

use std::sync::Arc;

use uuid::Uuid;

use super::array::Array;
use super::cast::{CastContext, apply_typmod};
use super::datetime::{Date, Time, Timestamp, TimestampTz};
use super::error::{Result, ValueError};
use super::float::{parse_f32, parse_f64};
use super::interval::Interval;
use super::json::{Jsonb, validate_json};
use super::numeric::{Numeric, is_pg_space};
use super::scalar::Value;
use super::types::DataType;

/// Parses `input` as a value of type `ty` (input function, then the type modifier applied
/// like an explicit cast: `'abc'::varchar(2)` is `ab`, `'1.555'::numeric(3,2)` is `1.56`).
pub fn parse_value(input: &str, ty: &DataType) -> Result<Value> {
    if input.contains('\0') {
        return Err(ValueError::CharacterNotInRepertoire);
    }
    let base = match ty {
        DataType::Bool => Value::Bool(parse_bool(input)?),
        DataType::Int2 => Value::Int2(parse_int(input, "smallint")? as i16),
        DataType::Int4 => Value::Int4(parse_int(input, "integer")? as i32),
        DataType::Int8 => Value::Int8(parse_int(input, "bigint")?),
        DataType::Numeric(_) => Value::Numeric(Numeric::parse(input)?),
        DataType::Float4 => Value::Float4(parse_f32(input)?),
        DataType::Float8 => Value::Float8(parse_f64(input)?),
        DataType::Text | DataType::Varchar(_) => Value::Text(input.to_owned()),
        DataType::Char(_) => Value::BpChar(input.to_owned()),
        DataType::Bytea => Value::Bytea(parse_bytea(input)?),
        DataType::Date => Value::Date(Date::parse(input)?),
        DataType::Time => Value::Time(Time::parse(input)?),
        DataType::Timestamp => Value::Timestamp(Timestamp::parse(input)?),
        DataType::TimestampTz => Value::TimestampTz(TimestampTz::parse(input)?),
        DataType::Interval => Value::Interval(Interval::parse(input)?),
        DataType::Uuid => Value::Uuid(parse_uuid(input)?),
        DataType::Json => {
            validate_json(input)?;
            Value::Json(input.to_owned())
        }
        DataType::Jsonb => Value::Jsonb(Jsonb::parse(input)?),
        DataType::Array(t) => Value::Array(Arc::new(Array::parse(input, &t.elem)?)),
        DataType::Regtype => Value::Text(DataType::from_name(input, &[])?.sql_name().to_owned()),
    };
    apply_typmod(base, ty, CastContext::Explicit)
}

/// `boolin`.
pub fn parse_bool(input: &str) -> Result<bool> {
    let s = input.trim_matches(is_pg_space).to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| s.len() >= min && word.starts_with(s.as_str());
    let v = match s.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) => Some(true),
        _ if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) => Some(false),
        _ => None,
    };
    v.ok_or_else(|| ValueError::syntax("boolean", input))
}

/// `int2in`/`int4in`/`int8in`; `type_name` is `smallint`, `integer` or `bigint` and picks
/// the range.
pub fn parse_int(input: &str, type_name: &'static str) -> Result<i64> {
    let s = input.trim_matches(is_pg_space);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ValueError::syntax(type_name, input));
    }
    let (min, max) = match type_name {
        "smallint" => (i64::from(i16::MIN), i64::from(i16::MAX)),
        "integer" => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    s.parse::<i64>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| ValueError::IntegerInputOutOfRange {
            type_name,
            input: input.to_owned(),
        })
}

/// `byteain`: `\x` and hex digits, or the escape format.
pub fn parse_bytea(input: &str) -> Result<Vec<u8>> {
    match input.strip_prefix("\\x") {
        Some(hex) => parse_bytea_hex(hex),
        None => parse_bytea_escape(input),
    }
}

/// Hex digits, two per byte; whitespace may separate byte pairs but not split one. The hex
/// format of `bytea` after its `\x`, and `decode(..., 'hex')`.
pub fn parse_bytea_hex(hex: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut chars = hex.chars();
    let digit = |c: char| {
        c.to_digit(16)
            .ok_or_else(|| ValueError::InvalidParameterValue {
                message: format!("invalid hexadecimal digit: \"{c}\""),
            })
    };
    while let Some(hi) = chars.next() {
        if matches!(hi, ' ' | '\n' | '\t' | '\r') {
            continue;
        }
        let hi = digit(hi)?;
        let lo = chars
            .next()
            .ok_or_else(|| ValueError::InvalidParameterValue {
                message: "invalid hexadecimal data: odd number of digits".to_owned(),
            })?;
        out.push((hi * 16 + digit(lo)?) as u8);
    }
    Ok(out)
}

/// The escape format of `bytea`: bytes as they are, `\\` for a backslash and `\ooo` (octal)
/// for any byte. Also `decode(..., 'escape')`.
pub fn parse_bytea_escape(input: &str) -> Result<Vec<u8>> {
    let bytes = input.as_bytes();
    let bad = || ValueError::Syntax {
        message: "invalid input syntax for type bytea".to_owned(),
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let oct = bytes.get(i + 1..i + 4).ok_or_else(bad)?;
            let ok = (b'0'..=b'3').contains(&oct[0])
                && oct[1..].iter().all(|c| (b'0'..=b'7').contains(c));
            if !ok {
                return Err(bad());
            }
            out.push((oct[0] - b'0') * 64 + (oct[1] - b'0') * 8 + (oct[2] - b'0'));
            i += 4;
        }
    }
    Ok(out)
}

/// `uuid_in` (see the module doc for the accepted forms).
pub fn parse_uuid(input: &str) -> Result<Uuid> {
    let bad = || ValueError::syntax("uuid", input);
    let mut s = input.as_bytes();
    let braces = s.first() == Some(&b'{');
    if braces {
        s = &s[1..];
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        let pair = s.get(..2).ok_or_else(bad)?;
        let hex = |c: u8| (c as char).to_digit(16).ok_or_else(bad);
        *byte = (hex(pair[0])? * 16 + hex(pair[1])?) as u8;
        s = &s[2..];
        if s.first() == Some(&b'-') && i % 2 == 1 && i < 15 {
            s = &s[1..];
        }
    }
    if braces {
        s = s.strip_prefix(b"}").ok_or_else(bad)?;
    }
    if !s.is_empty() {
        return Err(bad());
    }
    Ok(Uuid::from_bytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn show(input: &str, ty: DataType) -> String {
        match parse_value(input, &ty) {
            Ok(v) => v.to_string(),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    #[test]
    fn integers_match_postgres() {
        // SELECT ' 12 '::int2, '+5'::int8, '-0'::int;  12 | 5 | 0
        assert_eq!(show(" 12 ", DataType::Int2), "12");
        assert_eq!(show("+5", DataType::Int8), "5");
        assert_eq!(show("-0", DataType::Int4), "0");
        assert_eq!(
            show("-9223372036854775808", DataType::Int8),
            "-9223372036854775808"
        );
        // SELECT '1.5'::int;  ERROR:  invalid input syntax for type integer: "1.5"
        // SELECT '1_000'::int, '0x1F'::int: the same error (PostgreSQL 15).
        for bad in ["1.5", "1_000", "0x1F", "", " ", "abc", "1 2"] {
            assert_eq!(
                show(bad, DataType::Int4),
                format!("ERROR: invalid input syntax for type integer: \"{bad}\"")
            );
        }
        // SELECT '99999999999'::int;
        // ERROR:  value "99999999999" is out of range for type integer
        let e = parse_value("99999999999", &DataType::Int4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "value \"99999999999\" is out of range for type integer"
        );
        assert_eq!(e.sqlstate(), "22003");
        assert_eq!(
            show("32768", DataType::Int2),
            "ERROR: value \"32768\" is out of range for type smallint"
        );
        assert_eq!(
            show("9223372036854775808", DataType::Int8),
            "ERROR: value \"9223372036854775808\" is out of range for type bigint"
        );
    }

    #[test]
    fn booleans_match_postgres() {
        // SELECT 'tr'::bool, 'Y'::bool, 'of'::bool, ' on '::bool, '1'::bool;  t | t | f | t | t
        for (input, want) in [
            ("tr", true),
            ("Y", true),
            ("of", false),
            (" on ", true),
            ("1", true),
            ("FALSE", false),
            ("n", false),
        ] {
            assert_eq!(parse_bool(input), Ok(want), "{input}");
        }
        // SELECT 'o'::bool;  ERROR:  invalid input syntax for type boolean: "o"
        for bad in ["o", "", "2", "truee", "yess"] {
            assert_eq!(
                parse_bool(bad).unwrap_err().to_string(),
                format!("invalid input syntax for type boolean: \"{bad}\"")
            );
        }
    }

    #[test]
    fn bytea_matches_postgres() {
        // SELECT '\x 41 42'::bytea, 'a\\b\101'::bytea, 'abc'::bytea, '\x'::bytea, '\\'::bytea,
        //        'é'::bytea;
        // \x4142 | \x615c6241 | \x616263 | \x | \x5c | \xc3a9
        assert_eq!(show("\\x 41 42", DataType::Bytea), "\\x4142");
        assert_eq!(show("a\\\\b\\101", DataType::Bytea), "\\x615c6241");
        assert_eq!(show("abc", DataType::Bytea), "\\x616263");
        assert_eq!(show("\\x", DataType::Bytea), "\\x");
        assert_eq!(show("\\\\", DataType::Bytea), "\\x5c");
        assert_eq!(show("é", DataType::Bytea), "\\xc3a9");
        // SELECT '\x4'::bytea;  ERROR:  invalid hexadecimal data: odd number of digits
        assert_eq!(
            show("\\x4", DataType::Bytea),
            "ERROR: invalid hexadecimal data: odd number of digits"
        );
        // SELECT '\xzz'::bytea;  ERROR:  invalid hexadecimal digit: "z"
        assert_eq!(
            show("\\xzz", DataType::Bytea),
            "ERROR: invalid hexadecimal digit: \"z\""
        );
        // SELECT '\x0 a'::bytea;  ERROR:  invalid hexadecimal digit: " "
        assert_eq!(
            show("\\x0 a", DataType::Bytea),
            "ERROR: invalid hexadecimal digit: \" \""
        );
        // SELECT 'a\9'::bytea;  ERROR:  invalid input syntax for type bytea
        let e = parse_value("a\\9", &DataType::Bytea).unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("invalid input syntax for type bytea", "22P02")
        );
    }

    #[test]
    fn uuid_matches_postgres() {
        // SELECT '{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}'::uuid, 'A0EEBC999C0B4EF8BB6D6BB9BD380A11'::uuid;
        // a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 | a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11
        let want = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        assert_eq!(
            show("{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}", DataType::Uuid),
            want
        );
        assert_eq!(
            show("A0EEBC999C0B4EF8BB6D6BB9BD380A11", DataType::Uuid),
            want
        );
        assert_eq!(show(want, DataType::Uuid), want);
        // SELECT ' a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid;  ERROR:  invalid input syntax ...
        for bad in [
            " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "{a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "urn:uuid:a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
        ] {
            assert_eq!(parse_uuid(bad).unwrap_err().sqlstate(), "22P02", "{bad}");
        }
    }

    #[test]
    fn strings_and_modifiers() {
        // SELECT 'abcd'::varchar(2), 'abc  '::char(2), 'ab'::char(4);  ab | ab | "ab  "
        assert_eq!(show("abcd", DataType::Varchar(Some(2))), "ab");
        assert_eq!(show("abc  ", DataType::Char(Some(2))), "ab");
        assert_eq!(show("ab", DataType::Char(Some(4))), "ab  ");
        // SELECT '1.555'::numeric(3,2);  1.56
        assert_eq!(
            show("1.555", DataType::from_name("numeric", &[3, 2]).unwrap()),
            "1.56"
        );
        assert_eq!(
            show("{\"b\":1, \"a\":[]}", DataType::Jsonb),
            "{\"a\": [], \"b\": 1}"
        );
        assert_eq!(show(" {\"b\":1} ", DataType::Json), " {\"b\":1} ");
        assert_eq!(
            parse_value("a\0b", &DataType::Text).unwrap_err().sqlstate(),
            "22021"
        );
    }

    proptest! {
        #[test]
        fn round_trips(i in any::<i64>(), b in prop::collection::vec(any::<u8>(), 0..20), u in any::<u128>(), s in "\\PC{0,10}") {
            let cases = [
                (Value::Int8(i), DataType::Int8),
                (Value::Int4(i as i32), DataType::Int4),
                (Value::Int2(i as i16), DataType::Int2),
                (Value::Bytea(b), DataType::Bytea),
                (Value::Uuid(Uuid::from_u128(u)), DataType::Uuid),
                (Value::Text(s), DataType::Text),
                (Value::Bool(i % 2 == 0), DataType::Bool),
            ];
            for (v, ty) in cases {
                let text = v.to_string();
                prop_assert_eq!(parse_value(&text, &ty).unwrap().to_string(), text);
            }
        }
    }
}
