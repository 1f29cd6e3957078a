//! Casts between SQL types, with PostgreSQL's `pg_cast` contexts, conversions and errors.
//!
//! Owns [`cast`] (convert a value to a declared type in a context), [`cast_context`] (in which
//! contexts a cast exists: the binder uses it for implicit coercion and assignment) and
//! [`apply_typmod`] (length and precision coercion: `varchar(n)`, `char(n)`, `numeric(p,s)`).
//!
//! Rules, as in PostgreSQL 15:
//! - contexts come from `pg_cast` for the built-in casts (e.g. `int4 → int8` implicit,
//!   `int8 → int4` on assignment, `int4 → bool` explicit only); casts to a string type through
//!   the output function are allowed on assignment, casts from a string type through the input
//!   function only explicitly;
//! - numeric → integer rounds half away from zero (`3.5 → 4`); float → integer rounds half to
//!   even (`2.5 → 2`); out-of-range results fail with 22003;
//! - float → numeric goes through 15 (real: 6) significant digits;
//! - `varchar(n)`/`char(n)`: an explicit cast truncates; otherwise extra characters must all
//!   be spaces (they are dropped) or the cast fails with 22001 `value too long for type
//!   character varying(n)`; `char(n)` pads with spaces, and `char → text` drops trailing
//!   spaces;
//! - `bool → text` is `true`/`false` (not `t`/`f`).

use super::datetime::{Timestamp, TimestampTz};
use super::error::{Result, ValueError};
use super::float::{f64_to_f32, f64_to_int};
use super::json::Jsonb;
use super::numeric::Numeric;
use super::scalar::Value;
use super::text::parse_value;
use super::types::{DataType, TypeCategory};

/// Where a cast happens; each context allows the casts of the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CastContext {
    /// Inserted silently by operator and function resolution.
    Implicit,
    /// Storing into a column (`INSERT`, `UPDATE`).
    Assignment,
    /// Written by the user: `CAST(x AS t)`, `x::t`.
    Explicit,
}

/// The least restrictive context in which a cast from `from` to `to` exists, or `None` if
/// there is no cast at all. Type modifiers do not matter here.
pub fn cast_context(from: &DataType, to: &DataType) -> Option<CastContext> {
    use CastContext::{Assignment, Explicit, Implicit};
    use DataType as T;
    let (from, to) = (from.without_modifier(), to.without_modifier());
    if from == to {
        return Some(Implicit);
    }
    let rank = |t: DataType| match t {
        T::Int2 => Some(0),
        T::Int4 => Some(1),
        T::Int8 => Some(2),
        T::Numeric(_) => Some(3),
        T::Float4 => Some(4),
        T::Float8 => Some(5),
        _ => None,
    };
    if let (Some(a), Some(b)) = (rank(from), rank(to)) {
        // Widening is implicit; narrowing (and float → numeric) needs assignment.
        return Some(if a < b && !(a >= 4 && b == 3) {
            Implicit
        } else {
            Assignment
        });
    }
    if let (T::Array(a), T::Array(b)) = (from, to) {
        return cast_context(&a.elem, &b.elem);
    }
    let string = |t: DataType| t.category() == TypeCategory::String;
    Some(match (from, to) {
        _ if string(from) && string(to) => Implicit,
        (T::Int4, T::Bool) | (T::Bool, T::Int4) => Explicit,
        (T::Date, T::Timestamp | T::TimestampTz) | (T::Timestamp, T::TimestampTz) => Implicit,
        (T::Time, T::Interval) => Implicit,
        (T::Timestamp | T::TimestampTz, T::Date | T::Time) | (T::TimestampTz, T::Timestamp) => {
            Assignment
        }
        (T::Interval, T::Time) | (T::Json, T::Jsonb) | (T::Jsonb, T::Json) => Assignment,
        (
            T::Jsonb,
            T::Bool | T::Int2 | T::Int4 | T::Int8 | T::Numeric(_) | T::Float4 | T::Float8,
        ) => Explicit,
        // I/O conversion casts.
        _ if string(to) => Assignment,
        _ if string(from) => Explicit,
        _ => return None,
    })
}

/// Casts `value` to `target` in `ctx`: the conversion, then the target's type modifier.
/// NULL casts to NULL. Fails with 42846 when no such cast exists in that context.
pub fn cast(value: Value, target: &DataType, ctx: CastContext) -> Result<Value> {
    let Some(from) = value.data_type() else {
        return Ok(Value::Null);
    };
    if cast_context(&from, target).is_none_or(|allowed| allowed > ctx) {
        return Err(ValueError::CannotCoerce {
            from: from.sql_name().to_owned(),
            to: target.sql_name().to_owned(),
        });
    }
    let converted = convert(value, target)?;
    apply_typmod(converted, target, ctx)
}

const INT2: (i64, i64, &str) = (i16::MIN as i64, i16::MAX as i64, "smallint out of range");
const INT4: (i64, i64, &str) = (i32::MIN as i64, i32::MAX as i64, "integer out of range");
const INT8: (i64, i64, &str) = (i64::MIN, i64::MAX, "bigint out of range");

fn int_bounds(ty: &DataType) -> (i64, i64, &'static str) {
    match ty {
        DataType::Int2 => INT2,
        DataType::Int4 => INT4,
        _ => INT8,
    }
}

fn int_value(ty: &DataType, v: i64) -> Value {
    match ty {
        DataType::Int2 => Value::Int2(v as i16),
        DataType::Int4 => Value::Int4(v as i32),
        _ => Value::Int8(v),
    }
}

/// Converts to the base type of `target` (no modifier, no context check).
fn convert(value: Value, target: &DataType) -> Result<Value> {
    use DataType as T;
    use Value as V;
    if value
        .data_type()
        .is_some_and(|t| t.without_modifier() == target.without_modifier())
    {
        return Ok(value);
    }
    Ok(match (value, target) {
        (V::Null, _) => V::Null,
        (V::Array(a), T::Array(t)) => V::Array(std::sync::Arc::new(
            std::sync::Arc::unwrap_or_clone(a).cast_elements(&t.elem, CastContext::Explicit)?,
        )),
        // To string types.
        (V::BpChar(s), T::Text | T::Varchar(_)) => V::Text(s.trim_end_matches(' ').to_owned()),
        (V::Bool(b), T::Text | T::Varchar(_) | T::Char(_)) => {
            let s = if b { "true" } else { "false" }.to_owned();
            if matches!(target, T::Char(_)) {
                V::BpChar(s)
            } else {
                V::Text(s)
            }
        }
        (v, T::Text | T::Varchar(_)) => V::Text(v.to_string()),
        (v, T::Char(_)) => V::BpChar(v.to_string()),
        // From string types: the input function.
        (V::Text(s) | V::BpChar(s), _) => parse_value(&s, &target.without_modifier())?,
        // Among numbers.
        (V::Int2(i), _) => from_i64(i.into(), target)?,
        (V::Int4(i), T::Bool) => V::Bool(i != 0),
        (V::Int4(i), _) => from_i64(i.into(), target)?,
        (V::Int8(i), _) => from_i64(i, target)?,
        (V::Numeric(n), T::Int2 | T::Int4 | T::Int8) => {
            let (min, max, msg) = int_bounds(target);
            int_value(target, n.to_integer(min, max, msg)?)
        }
        (V::Numeric(n), T::Float4) => V::Float4(n.to_f32()?),
        (V::Numeric(n), T::Float8) => V::Float8(n.to_f64()?),
        (V::Float4(f), T::Float8) => V::Float8(f.into()),
        (V::Float4(f), T::Numeric(_)) => V::Numeric(Numeric::from_f32(f)),
        (V::Float4(f), T::Int2 | T::Int4 | T::Int8) => {
            let (min, max, msg) = int_bounds(target);
            // float4 → int rounds in single precision, like `rint((float4) x)`.
            int_value(
                target,
                f64_to_int(f64::from(f.round_ties_even()), min, max, msg)?,
            )
        }
        (V::Float8(f), T::Float4) => V::Float4(f64_to_f32(f)?),
        (V::Float8(f), T::Numeric(_)) => V::Numeric(Numeric::from_f64(f)),
        (V::Float8(f), T::Int2 | T::Int4 | T::Int8) => {
            let (min, max, msg) = int_bounds(target);
            int_value(target, f64_to_int(f, min, max, msg)?)
        }
        (V::Bool(b), T::Int4) => V::Int4(i32::from(b)),
        // Dates and times (the session time zone is UTC).
        (V::Date(d), T::Timestamp) => V::Timestamp(d.to_timestamp()?),
        (V::Date(d), T::TimestampTz) => V::TimestampTz(TimestampTz(d.to_timestamp()?.0)),
        (V::Timestamp(t), T::TimestampTz) => V::TimestampTz(TimestampTz(t.0)),
        (V::TimestampTz(t), T::Timestamp) => V::Timestamp(Timestamp(t.0)),
        (V::Timestamp(t), T::Date) => V::Date(t.to_date()),
        (V::TimestampTz(t), T::Date) => V::Date(t.to_date()),
        (V::Timestamp(t), T::Time) => V::Time(t.to_time()?),
        (V::TimestampTz(t), T::Time) => V::Time(t.to_time()?),
        (V::Time(t), T::Interval) => V::Interval(super::interval::Interval::from_micros(t.0)),
        (V::Interval(iv), T::Time) => V::Time(super::datetime::Time(
            iv.micros.rem_euclid(super::datetime::USECS_PER_DAY),
        )),
        // JSON.
        (V::Json(s), T::Jsonb) => V::Jsonb(Jsonb::parse(&s)?),
        (V::Jsonb(j), T::Json) => V::Json(j.to_string()),
        (V::Jsonb(j), _) => jsonb_scalar(&j, target)?,
        (v, _) => {
            return Err(ValueError::CannotCoerce {
                from: v
                    .data_type()
                    .map(|t| t.sql_name().to_owned())
                    .unwrap_or_default(),
                to: target.sql_name().to_owned(),
            });
        }
    })
}

fn from_i64(i: i64, target: &DataType) -> Result<Value> {
    Ok(match target {
        DataType::Int2 | DataType::Int4 | DataType::Int8 => {
            let (min, max, msg) = int_bounds(target);
            if !(min..=max).contains(&i) {
                return Err(ValueError::out_of_range(msg));
            }
            int_value(target, i)
        }
        DataType::Numeric(_) => Value::Numeric(Numeric::from_i64(i)),
        DataType::Float4 => Value::Float4(i as f32),
        DataType::Float8 => Value::Float8(i as f64),
        _ => {
            return Err(ValueError::CannotCoerce {
                from: "integer".into(),
                to: target.sql_name().to_owned(),
            });
        }
    })
}

/// `jsonb::numeric`, `jsonb::int4`, `jsonb::bool`, ...: only from a matching scalar.
fn jsonb_scalar(j: &Jsonb, target: &DataType) -> Result<Value> {
    let kind = match j {
        Jsonb::Null => "null",
        Jsonb::Bool(_) => "boolean",
        Jsonb::Number(_) => "numeric",
        Jsonb::String(_) => "string",
        Jsonb::Array(_) => "array",
        Jsonb::Object(_) => "object",
    };
    match (j, target) {
        (Jsonb::Bool(b), DataType::Bool) => Ok(Value::Bool(*b)),
        (Jsonb::Number(n), t) if t.category() == TypeCategory::Numeric => {
            convert(Value::Numeric(n.clone()), t)
        }
        _ => Err(ValueError::InvalidParameterValue {
            message: format!("cannot cast jsonb {kind} to type {}", target.sql_name()),
        }),
    }
}

/// Applies `ty`'s modifier to a value already of `ty`'s base type.
pub fn apply_typmod(value: Value, ty: &DataType, ctx: CastContext) -> Result<Value> {
    match (value, ty) {
        (Value::Numeric(n), DataType::Numeric(Some(m))) => {
            Ok(Value::Numeric(n.apply_typmod(m.precision, m.scale)?))
        }
        (Value::Text(s), DataType::Varchar(Some(n))) => {
            Ok(Value::Text(fit_length(s, *n, ty, ctx)?))
        }
        (Value::BpChar(s), DataType::Char(Some(n))) => {
            let mut s = fit_length(s, *n, ty, ctx)?;
            let len = s.chars().count();
            s.extend(std::iter::repeat_n(' ', *n as usize - len));
            Ok(Value::BpChar(s))
        }
        (value, _) => Ok(value),
    }
}

fn fit_length(s: String, n: u32, ty: &DataType, ctx: CastContext) -> Result<String> {
    let Some((cut, _)) = s.char_indices().nth(n as usize) else {
        return Ok(s);
    };
    if ctx != CastContext::Explicit && s[cut..].bytes().any(|b| b != b' ') {
        return Err(ValueError::StringTooLong {
            type_name: ty.to_string(),
        });
    }
    Ok(s[..cut].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use CastContext::{Assignment, Explicit, Implicit};

    fn show(v: Value, ty: DataType, ctx: CastContext) -> String {
        match cast(v, &ty, ctx) {
            Ok(v) => v.to_string(),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    fn num(s: &str) -> Value {
        Value::Numeric(Numeric::parse(s).unwrap())
    }

    #[test]
    fn numeric_casts_match_postgres() {
        // SELECT 3.5::numeric::int, (-2.5)::numeric::int, 2.5::float8::int, 3.5::float8::int;
        // 4 | -3 | 2 | 4
        assert_eq!(show(num("3.5"), DataType::Int4, Explicit), "4");
        assert_eq!(show(num("-2.5"), DataType::Int4, Explicit), "-3");
        assert_eq!(show(Value::Float8(2.5), DataType::Int4, Explicit), "2");
        assert_eq!(show(Value::Float8(3.5), DataType::Int4, Explicit), "4");
        // SELECT 1.5::float4 + 1::int2;  2.5
        assert_eq!(show(Value::Float4(2.5), DataType::Int2, Explicit), "2");
        // SELECT 99999999999::int;  ERROR:  integer out of range
        let e = cast(Value::Int8(99_999_999_999), &DataType::Int4, Explicit).unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("integer out of range", "22003")
        );
        assert_eq!(
            show(Value::Int4(40000), DataType::Int2, Assignment),
            "ERROR: smallint out of range"
        );
        // SELECT (1/3::float8)::numeric;  0.333333333333333
        assert_eq!(
            show(
                Value::Float8(1.0 / 3.0),
                DataType::Numeric(None),
                Assignment
            ),
            "0.333333333333333"
        );
        assert_eq!(
            show(
                Value::Int4(7),
                DataType::from_name("numeric", &[5, 2]).unwrap(),
                Implicit
            ),
            "7.00"
        );
        assert_eq!(show(num("0.1"), DataType::Float8, Implicit), "0.1");
        assert_eq!(
            show(Value::Int8(i64::MAX), DataType::Float8, Implicit),
            "9.223372036854776e+18"
        );
    }

    #[test]
    fn string_casts_match_postgres() {
        // SELECT true::text, 'ab  '::char(4)::text || '|', 'abcd'::varchar(2);  true | ab| | ab
        assert_eq!(show(Value::Bool(true), DataType::Text, Explicit), "true");
        assert_eq!(
            show(Value::BpChar("ab  ".into()), DataType::Text, Implicit),
            "ab"
        );
        assert_eq!(
            show(
                Value::Text("abcd".into()),
                DataType::Varchar(Some(2)),
                Explicit
            ),
            "ab"
        );
        // INSERT INTO t(v varchar(3)) VALUES ('abcd');
        // ERROR:  value too long for type character varying(3)
        let e = cast(
            Value::Text("abcd".into()),
            &DataType::Varchar(Some(3)),
            Assignment,
        )
        .unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("value too long for type character varying(3)", "22001")
        );
        // INSERT INTO t(v varchar(3)) VALUES ('abc   ');  -- stored as 'abc'
        assert_eq!(
            show(
                Value::Text("abc   ".into()),
                DataType::Varchar(Some(3)),
                Assignment
            ),
            "abc"
        );
        assert_eq!(
            show(
                Value::Text("ab".into()),
                DataType::Char(Some(4)),
                Assignment
            ),
            "ab  "
        );
        assert_eq!(
            show(
                Value::Text("abcde".into()),
                DataType::Char(Some(4)),
                Assignment
            ),
            "ERROR: value too long for type character(4)"
        );
        assert_eq!(
            show(
                Value::Text("é€x".into()),
                DataType::Varchar(Some(2)),
                Explicit
            ),
            "é€"
        );
        assert_eq!(show(Value::Int4(42), DataType::Text, Assignment), "42");
        assert_eq!(
            show(Value::Text(" 42 ".into()), DataType::Int8, Explicit),
            "42"
        );
        // SELECT '1.5'::text::int;  ERROR:  invalid input syntax for type integer: "1.5"
        assert_eq!(
            show(Value::Text("1.5".into()), DataType::Int4, Explicit),
            "ERROR: invalid input syntax for type integer: \"1.5\""
        );
        // Text to integer is not an assignment cast.
        assert_eq!(
            show(Value::Text("1".into()), DataType::Int4, Assignment),
            "ERROR: cannot cast type text to integer"
        );
    }

    #[test]
    fn contexts_follow_pg_cast() {
        use DataType as T;
        assert_eq!(cast_context(&T::Int4, &T::Int8), Some(Implicit));
        assert_eq!(cast_context(&T::Int8, &T::Int4), Some(Assignment));
        assert_eq!(
            cast_context(&T::Float8, &T::Numeric(None)),
            Some(Assignment)
        );
        assert_eq!(cast_context(&T::Numeric(None), &T::Float4), Some(Implicit));
        assert_eq!(cast_context(&T::Int4, &T::Bool), Some(Explicit));
        // SELECT 1::int8::bool;  ERROR:  cannot cast type bigint to boolean
        assert_eq!(cast_context(&T::Int8, &T::Bool), None);
        assert_eq!(
            show(Value::Int8(1), T::Bool, Explicit),
            "ERROR: cannot cast type bigint to boolean"
        );
        assert_eq!(cast_context(&T::Date, &T::TimestampTz), Some(Implicit));
        assert_eq!(cast_context(&T::TimestampTz, &T::Date), Some(Assignment));
        assert_eq!(cast_context(&T::Uuid, &T::Text), Some(Assignment));
        assert_eq!(cast_context(&T::Text, &T::Uuid), Some(Explicit));
        assert_eq!(cast_context(&T::Uuid, &T::Int4), None);
        assert_eq!(
            cast(Value::Null, &T::Int4, Implicit).unwrap().to_text(),
            None
        );
    }

    #[test]
    fn other_casts() {
        use DataType as T;
        let ts = Value::Timestamp(Timestamp::parse("2020-05-06 07:08:09").unwrap());
        assert_eq!(show(ts.clone(), T::Date, Assignment), "2020-05-06");
        assert_eq!(show(ts.clone(), T::Time, Assignment), "07:08:09");
        assert_eq!(show(ts, T::TimestampTz, Implicit), "2020-05-06 07:08:09+00");
        let j = Value::Jsonb(Jsonb::parse("{\"a\": 1.50}").unwrap());
        assert_eq!(show(j.clone(), T::Json, Assignment), "{\"a\": 1.50}");
        // SELECT '{"a":1}'::jsonb::int;  ERROR:  cannot cast jsonb object to type integer
        assert_eq!(
            show(j, T::Int4, Explicit),
            "ERROR: cannot cast jsonb object to type integer"
        );
        assert_eq!(
            show(
                Value::Jsonb(Jsonb::parse("2.5").unwrap()),
                T::Int4,
                Explicit
            ),
            "3"
        );
        assert_eq!(show(Value::Int4(0), T::Bool, Explicit), "f");
        assert_eq!(show(Value::Bool(true), T::Int4, Explicit), "1");
        assert_eq!(
            show(Value::Text("abc".into()), T::Bytea, Explicit),
            "\\x616263"
        );
    }
}
