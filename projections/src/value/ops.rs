//! Operators: arithmetic, concatenation, comparison operators, unary operators and
//! three-valued logic, with PostgreSQL's operand type resolution.
//!
//! Owns [`binary_op`]/[`unary_op`] (evaluate on values) and [`binary_result_type`]/
//! [`unary_result_type`] (the same resolution on types, for the binder; a test keeps the
//! two in agreement).
//!
//! Resolution of number operands, as PostgreSQL's operator catalogue resolves it:
//! - `int2 op int2 → int2`, mixed integer widths → the wider (`int2 + int4 → int4`,
//!   `int4 * int8 → int8`); overflow fails with 22003 (`smallint/integer/bigint out of
//!   range`); integer `/` truncates toward zero; `%` takes the dividend's sign;
//! - integer `op` numeric → numeric (scales per `numeric::arith`);
//! - anything `op` float8, or a non-float4 `op` float4 → float8; `float4 op float4 → float4`;
//!   floats have no `%`;
//! - `/` and `%` by zero fail with 22012 `division by zero`.
//!
//! Date/time operators: `date ± int4 → date`, `date - date → int4`, `date ± interval` and
//! `date + time` → timestamp, `timestamp[tz] ± interval`, `timestamp[tz] - timestamp[tz] →
//! interval`, `time ± interval → time`, `time - time → interval`, `interval ± interval`,
//! `interval * number`, `number * interval`, `interval / number`.
//!
//! Every operator is strict: a NULL operand gives NULL (the binder has already checked the
//! types). `AND`/`OR`/`NOT` follow SQL's three-valued logic instead.

use std::cmp::Ordering;

use super::cast::{CastContext, cast};
use super::compare::{operator_signature, sql_cmp_op, to_f64};
use super::datetime::Timestamp;
use super::error::{Result, ValueError};
use super::float::{FloatOp, checked_f32, checked_f64};
use super::interval::Interval;
use super::json::Jsonb;
use super::numeric::Numeric;
use super::scalar::Value;
use super::types::{DataType, TypeCategory};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// `||`
    Concat,
}

/// A prefix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
}

impl BinaryOp {
    pub fn symbol(&self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Concat => "||",
        }
    }

    pub fn is_comparison(&self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }
}

impl UnaryOp {
    pub fn symbol(&self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Plus => "+",
            UnaryOp::Not => "NOT",
        }
    }
}

/// The kinds of number operands, in promotion order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NumKind {
    Int2,
    Int4,
    Int8,
    Numeric,
    Float4,
    Float8,
}

fn num_kind(t: &DataType) -> Option<NumKind> {
    Some(match t {
        DataType::Int2 => NumKind::Int2,
        DataType::Int4 => NumKind::Int4,
        DataType::Int8 => NumKind::Int8,
        DataType::Numeric(_) => NumKind::Numeric,
        DataType::Float4 => NumKind::Float4,
        DataType::Float8 => NumKind::Float8,
        _ => return None,
    })
}

/// The operand type both sides are converted to.
fn common_kind(a: NumKind, b: NumKind) -> NumKind {
    match (a, b) {
        (NumKind::Float4, NumKind::Float4) => NumKind::Float4,
        _ if a >= NumKind::Float4 || b >= NumKind::Float4 => NumKind::Float8,
        _ => a.max(b),
    }
}

fn kind_type(k: NumKind) -> DataType {
    match k {
        NumKind::Int2 => DataType::Int2,
        NumKind::Int4 => DataType::Int4,
        NumKind::Int8 => DataType::Int8,
        NumKind::Numeric => DataType::Numeric(None),
        NumKind::Float4 => DataType::Float4,
        NumKind::Float8 => DataType::Float8,
    }
}

fn undefined(a: &Value, op: &str, b: &Value) -> ValueError {
    ValueError::UndefinedOperator {
        signature: operator_signature(a, op, b),
    }
}

fn undefined_types(a: &DataType, op: BinaryOp, b: &DataType) -> ValueError {
    ValueError::UndefinedOperator {
        signature: format!("{} {} {}", a.sql_name(), op.symbol(), b.sql_name()),
    }
}

/// The result type of `a op b`, or 42883 if PostgreSQL has no such operator.
pub fn binary_result_type(op: BinaryOp, a: &DataType, b: &DataType) -> Result<DataType> {
    use DataType as T;
    let string = |t: &DataType| t.category() == TypeCategory::String;
    if op.is_comparison() {
        let comparable = match (a.category(), b.category()) {
            (TypeCategory::Numeric, TypeCategory::Numeric)
            | (TypeCategory::String, TypeCategory::String) => true,
            (TypeCategory::DateTime, TypeCategory::DateTime) => (*a == T::Time) == (*b == T::Time),
            _ => a.without_modifier() == b.without_modifier() && *a != T::Json,
        };
        return if comparable {
            Ok(T::Bool)
        } else {
            Err(undefined_types(a, op, b))
        };
    }
    if let (Some(ka), Some(kb)) = (num_kind(a), num_kind(b))
        && op != BinaryOp::Concat
    {
        let k = common_kind(ka, kb);
        if op == BinaryOp::Mod && k >= NumKind::Float4 {
            return Err(undefined_types(a, op, b));
        }
        return Ok(kind_type(k));
    }
    let int4ish = |t: &DataType| matches!(t, T::Int2 | T::Int4);
    let number = |t: &DataType| num_kind(t).is_some();
    let ts = |t: &DataType| matches!(t, T::Timestamp | T::TimestampTz);
    use BinaryOp::{Add, Concat, Div, Mul, Sub};
    Ok(match (op, a, b) {
        (Concat, x, y) if string(x) || string(y) => T::Text,
        (Concat, T::Bytea, T::Bytea) => T::Bytea,
        (Concat, T::Jsonb, T::Jsonb) => T::Jsonb,
        (Add | Sub, T::Date, x) if int4ish(x) => T::Date,
        (Add, x, T::Date) if int4ish(x) => T::Date,
        (Sub, T::Date, T::Date) => T::Int4,
        (Add | Sub, T::Date, T::Interval) | (Add, T::Interval, T::Date) => T::Timestamp,
        (Add, T::Date, T::Time) | (Add, T::Time, T::Date) => T::Timestamp,
        (Add | Sub, x, T::Interval) if ts(x) => *x,
        // `time` converts implicitly to `interval`: `timestamp + time` adds it so.
        (Add | Sub, x, T::Time) if ts(x) => *x,
        (Add, T::Time, x) if ts(x) => *x,
        (Sub, T::Date, T::Time) => T::Timestamp,
        (Add, T::Interval, x) if ts(x) => *x,
        (Sub, x, y) if (ts(x) || *x == T::Date) && (ts(y) || *y == T::Date) => T::Interval,
        (Add | Sub, T::Time, T::Interval) | (Add, T::Interval, T::Time) => T::Time,
        (Sub, T::Time, T::Time) => T::Interval,
        (Add | Sub, T::Interval, T::Interval) => T::Interval,
        (Mul | Div, T::Interval, x) if number(x) => T::Interval,
        (Mul, x, T::Interval) if number(x) => T::Interval,
        _ => return Err(undefined_types(a, op, b)),
    })
}

/// The result type of a prefix operator.
pub fn unary_result_type(op: UnaryOp, t: &DataType) -> Result<DataType> {
    let ok = match op {
        UnaryOp::Neg | UnaryOp::Plus => num_kind(t).is_some() || *t == DataType::Interval,
        UnaryOp::Not => *t == DataType::Bool,
    };
    if ok {
        Ok(t.without_modifier())
    } else {
        Err(ValueError::UndefinedOperator {
            signature: format!("{} {}", op.symbol(), t.sql_name()),
        })
    }
}

/// Evaluates `a op b` (see the module doc). NULL operands give NULL.
pub fn binary_op(op: BinaryOp, a: &Value, b: &Value) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    if op.is_comparison() {
        let ord = sql_cmp_op(a, b, op.symbol())?.expect("neither operand is NULL");
        return Ok(Value::Bool(match op {
            BinaryOp::Eq => ord == Ordering::Equal,
            BinaryOp::NotEq => ord != Ordering::Equal,
            BinaryOp::Lt => ord == Ordering::Less,
            BinaryOp::LtEq => ord != Ordering::Greater,
            BinaryOp::Gt => ord == Ordering::Greater,
            _ => ord != Ordering::Less,
        }));
    }
    let (ta, tb) = (
        a.data_type().expect("not NULL"),
        b.data_type().expect("not NULL"),
    );
    if let (Some(ka), Some(kb)) = (num_kind(&ta), num_kind(&tb))
        && op != BinaryOp::Concat
    {
        return number_op(op, a, b, common_kind(ka, kb));
    }
    temporal_or_text_op(op, a, b)
}

fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Int2(i) => (*i).into(),
        Value::Int4(i) => (*i).into(),
        Value::Int8(i) => *i,
        _ => unreachable!("integer operand"),
    }
}

fn as_numeric(v: &Value) -> Numeric {
    match v {
        Value::Numeric(n) => n.clone(),
        other => Numeric::from_i64(as_i64(other)),
    }
}

fn number_op(op: BinaryOp, a: &Value, b: &Value, kind: NumKind) -> Result<Value> {
    let float_op = |op: BinaryOp| match op {
        BinaryOp::Add => Some(FloatOp::Add),
        BinaryOp::Sub => Some(FloatOp::Sub),
        BinaryOp::Mul => Some(FloatOp::Mul),
        BinaryOp::Div => Some(FloatOp::Div),
        _ => None,
    };
    match kind {
        NumKind::Int2 | NumKind::Int4 | NumKind::Int8 => {
            let (x, y) = (i128::from(as_i64(a)), i128::from(as_i64(b)));
            let r = match op {
                BinaryOp::Add => x + y,
                BinaryOp::Sub => x - y,
                BinaryOp::Mul => x * y,
                BinaryOp::Div | BinaryOp::Mod if y == 0 => return Err(ValueError::DivisionByZero),
                BinaryOp::Div => x / y,
                BinaryOp::Mod => x % y,
                _ => return Err(undefined(a, op.symbol(), b)),
            };
            let (value, message) = match kind {
                NumKind::Int2 => (
                    i16::try_from(r).map(Value::Int2).ok(),
                    "smallint out of range",
                ),
                NumKind::Int4 => (
                    i32::try_from(r).map(Value::Int4).ok(),
                    "integer out of range",
                ),
                _ => (
                    i64::try_from(r).map(Value::Int8).ok(),
                    "bigint out of range",
                ),
            };
            value.ok_or(ValueError::out_of_range(message))
        }
        NumKind::Numeric => {
            let (x, y) = (as_numeric(a), as_numeric(b));
            Ok(Value::Numeric(match op {
                BinaryOp::Add => x.add(&y)?,
                BinaryOp::Sub => x.sub(&y)?,
                BinaryOp::Mul => x.mul(&y)?,
                BinaryOp::Div => x.div(&y)?,
                BinaryOp::Mod => x.rem(&y)?,
                _ => return Err(undefined(a, op.symbol(), b)),
            }))
        }
        NumKind::Float4 => {
            let (Value::Float4(x), Value::Float4(y)) = (a, b) else {
                unreachable!("float4 operands")
            };
            let fop = float_op(op).ok_or_else(|| undefined(a, op.symbol(), b))?;
            checked_f32(fop, *x, *y).map(Value::Float4)
        }
        NumKind::Float8 => {
            let fop = float_op(op).ok_or_else(|| undefined(a, op.symbol(), b))?;
            checked_f64(fop, to_f64(a)?, to_f64(b)?).map(Value::Float8)
        }
    }
}

fn number_factor(v: &Value) -> Option<Result<f64>> {
    matches!(
        v,
        Value::Int2(_)
            | Value::Int4(_)
            | Value::Int8(_)
            | Value::Numeric(_)
            | Value::Float4(_)
            | Value::Float8(_)
    )
    .then(|| to_f64(v))
}

fn temporal_or_text_op(op: BinaryOp, a: &Value, b: &Value) -> Result<Value> {
    use BinaryOp::{Add, Concat, Div, Mul, Sub};
    use Value as V;
    let int4 = |v: &Value| match v {
        V::Int2(i) => Some(i64::from(*i)),
        V::Int4(i) => Some(i64::from(*i)),
        _ => None,
    };
    let ts_micros = |v: &Value| -> Option<Result<i64>> {
        match v {
            V::Date(d) => Some(d.to_timestamp().map(|t| t.0)),
            V::Timestamp(t) => Some(Ok(t.0)),
            V::TimestampTz(t) => Some(Ok(t.0)),
            _ => None,
        }
    };
    Ok(match (op, a, b) {
        (Concat, V::Text(_) | V::BpChar(_), _) | (Concat, _, V::Text(_) | V::BpChar(_)) => {
            let text = |v: &Value| match cast(v.clone(), &DataType::Text, CastContext::Explicit)? {
                V::Text(s) => Ok(s),
                _ => unreachable!("a cast to text gives text"),
            };
            V::Text(text(a)? + &text(b)?)
        }
        (Concat, V::Bytea(x), V::Bytea(y)) => V::Bytea([x.as_slice(), y.as_slice()].concat()),
        (Concat, V::Jsonb(x), V::Jsonb(y)) => V::Jsonb(jsonb_concat(x, y)),
        (Add, V::Date(d), x) if int4(x).is_some() => {
            V::Date(d.add_days(int4(x).expect("checked"))?)
        }
        (Add, x, V::Date(d)) if int4(x).is_some() => {
            V::Date(d.add_days(int4(x).expect("checked"))?)
        }
        (Sub, V::Date(d), x) if int4(x).is_some() => {
            V::Date(d.add_days(-int4(x).expect("checked"))?)
        }
        (Sub, V::Date(x), V::Date(y)) => V::Int4(x.days_between(y)?),
        (Add, V::Date(d), V::Interval(iv)) | (Add, V::Interval(iv), V::Date(d)) => {
            V::Timestamp(d.to_timestamp()?.add_interval(iv)?)
        }
        (Sub, V::Date(d), V::Interval(iv)) => V::Timestamp(d.to_timestamp()?.sub_interval(iv)?),
        (Add, V::Date(d), V::Time(t)) | (Add, V::Time(t), V::Date(d)) => {
            let base = d.to_timestamp()?;
            if !base.is_finite() {
                V::Timestamp(base)
            } else {
                let us = base
                    .0
                    .checked_add(t.0)
                    .filter(|v| super::datetime::timestamp_in_range(*v));
                V::Timestamp(Timestamp(
                    us.ok_or_else(super::datetime::timestamp_out_of_range)?,
                ))
            }
        }
        (Add | Sub, V::Timestamp(_) | V::TimestampTz(_), V::Time(t)) => {
            binary_op(op, a, &V::Interval(Interval::from_micros(t.0)))?
        }
        (Add, V::Time(t), V::Timestamp(_) | V::TimestampTz(_)) => {
            binary_op(op, &V::Interval(Interval::from_micros(t.0)), b)?
        }
        (Sub, V::Date(d), V::Time(t)) => V::Timestamp(
            d.to_timestamp()?
                .sub_interval(&Interval::from_micros(t.0))?,
        ),
        (Add, V::Timestamp(t), V::Interval(iv)) | (Add, V::Interval(iv), V::Timestamp(t)) => {
            V::Timestamp(t.add_interval(iv)?)
        }
        (Sub, V::Timestamp(t), V::Interval(iv)) => V::Timestamp(t.sub_interval(iv)?),
        (Add, V::TimestampTz(t), V::Interval(iv)) | (Add, V::Interval(iv), V::TimestampTz(t)) => {
            V::TimestampTz(t.add_interval(iv)?)
        }
        (Sub, V::TimestampTz(t), V::Interval(iv)) => V::TimestampTz(t.sub_interval(iv)?),
        (Sub, x, y) if ts_micros(x).is_some() && ts_micros(y).is_some() => {
            let (x, y) = (
                ts_micros(x).expect("checked")?,
                ts_micros(y).expect("checked")?,
            );
            V::Interval(super::datetime::sub_timestamps(x, y)?)
        }
        (Add, V::Time(t), V::Interval(iv)) | (Add, V::Interval(iv), V::Time(t)) => {
            V::Time(t.add_interval(iv))
        }
        (Sub, V::Time(t), V::Interval(iv)) => V::Time(t.add_interval(&iv.checked_neg()?)),
        (Sub, V::Time(x), V::Time(y)) => V::Interval(x.sub_time(y)),
        (Add, V::Interval(x), V::Interval(y)) => V::Interval(x.checked_add(y)?),
        (Sub, V::Interval(x), V::Interval(y)) => V::Interval(x.checked_sub(y)?),
        (Mul, V::Interval(iv), x) | (Mul, x, V::Interval(iv)) if number_factor(x).is_some() => {
            V::Interval(iv.mul_f64(number_factor(x).expect("checked")?)?)
        }
        (Div, V::Interval(iv), x) if number_factor(x).is_some() => {
            V::Interval(iv.div_f64(number_factor(x).expect("checked")?)?)
        }
        _ => return Err(undefined(a, op.symbol(), b)),
    })
}

/// `jsonb || jsonb`: objects merge (right wins), arrays concatenate, a scalar or object
/// next to an array joins it as an element, two non-arrays form a two-element array.
fn jsonb_concat(a: &Jsonb, b: &Jsonb) -> Jsonb {
    match (a, b) {
        (Jsonb::Object(x), Jsonb::Object(y)) => {
            let mut merged = x.clone();
            for (k, v) in y {
                match merged.iter_mut().find(|(mk, _)| mk == k) {
                    Some(slot) => slot.1 = v.clone(),
                    None => merged.push((k.clone(), v.clone())),
                }
            }
            merged.sort_by(|(p, _), (q, _)| {
                p.len()
                    .cmp(&q.len())
                    .then_with(|| p.as_bytes().cmp(q.as_bytes()))
            });
            Jsonb::Object(merged)
        }
        (Jsonb::Array(x), Jsonb::Array(y)) => Jsonb::Array([x.as_slice(), y.as_slice()].concat()),
        (Jsonb::Array(x), other) => {
            Jsonb::Array(x.iter().cloned().chain([other.clone()]).collect())
        }
        (other, Jsonb::Array(y)) => Jsonb::Array(
            [other.clone()]
                .into_iter()
                .chain(y.iter().cloned())
                .collect(),
        ),
        _ => Jsonb::Array(vec![a.clone(), b.clone()]),
    }
}

/// Evaluates a prefix operator. NULL gives NULL.
pub fn unary_op(op: UnaryOp, v: &Value) -> Result<Value> {
    let undefined = || ValueError::UndefinedOperator {
        signature: format!(
            "{} {}",
            op.symbol(),
            v.data_type().map_or("unknown", |t| t.sql_name())
        ),
    };
    Ok(match (op, v) {
        (_, Value::Null) => Value::Null,
        (UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnaryOp::Plus, v) if unary_result_type(op, &v.data_type().expect("not NULL")).is_ok() => {
            v.clone()
        }
        (UnaryOp::Neg, Value::Int2(i)) => Value::Int2(
            i.checked_neg()
                .ok_or(ValueError::out_of_range("smallint out of range"))?,
        ),
        (UnaryOp::Neg, Value::Int4(i)) => Value::Int4(
            i.checked_neg()
                .ok_or(ValueError::out_of_range("integer out of range"))?,
        ),
        (UnaryOp::Neg, Value::Int8(i)) => Value::Int8(
            i.checked_neg()
                .ok_or(ValueError::out_of_range("bigint out of range"))?,
        ),
        (UnaryOp::Neg, Value::Numeric(n)) => Value::Numeric(n.neg()),
        (UnaryOp::Neg, Value::Float4(f)) => Value::Float4(-f),
        (UnaryOp::Neg, Value::Float8(f)) => Value::Float8(-f),
        (UnaryOp::Neg, Value::Interval(iv)) => Value::Interval(iv.checked_neg()?),
        _ => return Err(undefined()),
    })
}

/// SQL `AND`: false wins over NULL, NULL over true.
pub fn and(a: &Value, b: &Value) -> Value {
    match (a.as_bool(), b.as_bool()) {
        (Some(false), _) | (_, Some(false)) => Value::Bool(false),
        (Some(true), Some(true)) => Value::Bool(true),
        _ => Value::Null,
    }
}

/// SQL `OR`: true wins over NULL, NULL over false.
pub fn or(a: &Value, b: &Value) -> Value {
    match (a.as_bool(), b.as_bool()) {
        (Some(true), _) | (_, Some(true)) => Value::Bool(true),
        (Some(false), Some(false)) => Value::Bool(false),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_value;

    fn v(text: &str, ty: DataType) -> Value {
        parse_value(text, &ty).unwrap()
    }

    fn num(s: &str) -> Value {
        v(s, DataType::Numeric(None))
    }

    fn show(r: Result<Value>) -> String {
        match r {
            Ok(v) => v.to_string(),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    #[test]
    fn integer_arithmetic_matches_postgres() {
        use BinaryOp::*;
        // SELECT (-2147483648) % (-1), 7 / -2, -7 % 3;  0 | -3 | -1
        assert_eq!(
            show(binary_op(Mod, &Value::Int4(i32::MIN), &Value::Int4(-1))),
            "0"
        );
        assert_eq!(
            show(binary_op(Div, &Value::Int4(7), &Value::Int4(-2))),
            "-3"
        );
        assert_eq!(
            show(binary_op(Mod, &Value::Int4(-7), &Value::Int4(3))),
            "-1"
        );
        // SELECT 2147483647 + 1;  ERROR:  integer out of range
        let e = binary_op(Add, &Value::Int4(i32::MAX), &Value::Int4(1)).unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("integer out of range", "22003")
        );
        // SELECT (-32768)::int2 / (-1)::int2;  ERROR:  smallint out of range
        assert_eq!(
            show(binary_op(Div, &Value::Int2(i16::MIN), &Value::Int2(-1))),
            "ERROR: smallint out of range"
        );
        assert_eq!(
            show(binary_op(Mul, &Value::Int2(200), &Value::Int4(200))),
            "40000"
        );
        assert_eq!(
            show(binary_op(Mul, &Value::Int8(i64::MAX), &Value::Int2(2))),
            "ERROR: bigint out of range"
        );
        // SELECT 1 / 0;  ERROR:  division by zero
        let e = binary_op(Div, &Value::Int4(1), &Value::Int4(0)).unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("division by zero", "22012")
        );
        assert_eq!(
            show(binary_op(Mod, &Value::Int8(1), &Value::Int2(0))),
            "ERROR: division by zero"
        );
        // SELECT - (-9223372036854775808)::int8;  ERROR:  bigint out of range
        assert_eq!(
            show(unary_op(UnaryOp::Neg, &Value::Int8(i64::MIN))),
            "ERROR: bigint out of range"
        );
    }

    #[test]
    fn mixed_arithmetic_matches_postgres() {
        use BinaryOp::*;
        // SELECT 1 / 3.0, 1::int8 + 0.5, 7 % 2.5, 1.5::float4 + 1::int2, 0.1::float8 + 0.2::numeric;
        // 0.33333333333333333333 | 1.5 | 2.0 | 2.5 | 0.30000000000000004
        assert_eq!(
            show(binary_op(Div, &Value::Int4(1), &num("3.0"))),
            "0.33333333333333333333"
        );
        assert_eq!(show(binary_op(Add, &Value::Int8(1), &num("0.5"))), "1.5");
        assert_eq!(show(binary_op(Mod, &Value::Int4(7), &num("2.5"))), "2.0");
        assert_eq!(
            show(binary_op(Add, &Value::Float4(1.5), &Value::Int2(1))),
            "2.5"
        );
        assert_eq!(
            show(binary_op(Add, &Value::Float8(0.1), &num("0.2"))),
            "0.30000000000000004"
        );
        assert_eq!(
            show(binary_op(Add, &Value::Float4(0.1), &Value::Float4(0.2))),
            "0.3"
        );
        // SELECT 1.0::float8 % 2;  ERROR:  operator does not exist: double precision % integer
        assert_eq!(
            show(binary_op(Mod, &Value::Float8(1.0), &Value::Int4(2))),
            "ERROR: operator does not exist: double precision % integer"
        );
        // SELECT + 'a'::text;  ERROR:  operator does not exist: + text
        assert_eq!(
            show(unary_op(UnaryOp::Plus, &"a".into())),
            "ERROR: operator does not exist: + text"
        );
        assert_eq!(
            show(binary_op(Add, &"a".into(), &Value::Int4(1))),
            "ERROR: operator does not exist: text + integer"
        );
        assert_eq!(show(binary_op(Add, &Value::Null, &Value::Int4(1))), "NULL");
        assert_eq!(
            show(binary_op(Lt, &Value::Int4(1), &Value::Float8(1.5))),
            "t"
        );
        assert_eq!(show(binary_op(Eq, &Value::Int4(1), &Value::Null)), "NULL");
    }

    #[test]
    fn text_and_other_operators_match_postgres() {
        use BinaryOp::*;
        // SELECT 'a' || true, 'a' || 1.50, 'ab  '::char(4) || 'c', 1 || 'a',
        //        '[1]'::jsonb || '{"a":1}', '{"a":1,"b":2}'::jsonb || '{"a":3}', '1'::jsonb || '2',
        //        '{"a":1}'::jsonb || '[2]', '\x01'::bytea || '\x02'::bytea;
        // atrue | a1.50 | abc | 1a | [1, {"a": 1}] | {"a": 3, "b": 2} | [1, 2] | [{"a": 1}, 2] | \x0102
        let j = |s: &str| v(s, DataType::Jsonb);
        assert_eq!(
            show(binary_op(Concat, &"a".into(), &Value::Bool(true))),
            "atrue"
        );
        assert_eq!(show(binary_op(Concat, &"a".into(), &num("1.50"))), "a1.50");
        assert_eq!(
            show(binary_op(
                Concat,
                &v("ab", DataType::Char(Some(4))),
                &"c".into()
            )),
            "abc"
        );
        assert_eq!(show(binary_op(Concat, &Value::Int4(1), &"a".into())), "1a");
        assert_eq!(
            show(binary_op(Concat, &j("[1]"), &j("{\"a\":1}"))),
            "[1, {\"a\": 1}]"
        );
        assert_eq!(
            show(binary_op(Concat, &j("{\"a\":1,\"b\":2}"), &j("{\"a\":3}"))),
            "{\"a\": 3, \"b\": 2}"
        );
        assert_eq!(show(binary_op(Concat, &j("1"), &j("2"))), "[1, 2]");
        assert_eq!(
            show(binary_op(Concat, &j("{\"a\":1}"), &j("[2]"))),
            "[{\"a\": 1}, 2]"
        );
        assert_eq!(
            show(binary_op(
                Concat,
                &Value::Bytea(vec![1]),
                &Value::Bytea(vec![2])
            )),
            "\\x0102"
        );
        // SELECT '2020-01-01'::date + 1::int8;  ERROR:  operator does not exist: date + bigint
        let d = v("2020-01-01", DataType::Date);
        assert_eq!(
            show(binary_op(Add, &d, &Value::Int8(1))),
            "ERROR: operator does not exist: date + bigint"
        );
        assert_eq!(show(binary_op(Add, &d, &Value::Int4(31))), "2020-02-01");
        assert_eq!(
            show(binary_op(Add, &d, &v("10:00", DataType::Time))),
            "2020-01-01 10:00:00"
        );
        assert_eq!(
            show(binary_op(
                Sub,
                &v("2020-01-02 06:00", DataType::TimestampTz),
                &d
            )),
            "1 day 06:00:00"
        );
        // SELECT interval '1 day' * 2, 2 * interval '1 hour', interval '1 day' / 4;
        assert_eq!(
            show(binary_op(
                Mul,
                &v("1 day", DataType::Interval),
                &Value::Int4(2)
            )),
            "2 days"
        );
        assert_eq!(
            show(binary_op(
                Mul,
                &Value::Int4(2),
                &v("1 hour", DataType::Interval)
            )),
            "02:00:00"
        );
        assert_eq!(
            show(binary_op(
                Div,
                &v("1 day", DataType::Interval),
                &Value::Int4(4)
            )),
            "06:00:00"
        );
    }

    #[test]
    fn three_valued_logic() {
        let (t, f, n) = (Value::Bool(true), Value::Bool(false), Value::Null);
        assert_eq!(and(&f, &n).to_string(), "f");
        assert_eq!(and(&t, &n).to_string(), "NULL");
        assert_eq!(or(&t, &n).to_string(), "t");
        assert_eq!(or(&f, &n).to_string(), "NULL");
        assert_eq!(unary_op(UnaryOp::Not, &n).unwrap().to_string(), "NULL");
    }

    /// One sample value per type, for checking `binary_result_type` against `binary_op`.
    fn samples() -> Vec<Value> {
        use DataType as T;
        vec![
            Value::Bool(true),
            Value::Int2(3),
            Value::Int4(5),
            Value::Int8(7),
            num("2.5"),
            Value::Float4(1.5),
            Value::Float8(2.5),
            "x".into(),
            v("y", T::Char(Some(2))),
            Value::Bytea(vec![1]),
            v("2020-01-01", T::Date),
            v("10:00", T::Time),
            v("2020-01-01 10:00", T::Timestamp),
            v("2020-01-01 10:00", T::TimestampTz),
            v("1 day 02:00", T::Interval),
            v("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", T::Uuid),
            v("{}", T::Json),
            v("[1]", T::Jsonb),
        ]
    }

    #[test]
    fn type_resolution_agrees_with_evaluation() {
        use BinaryOp::*;
        // SELECT pg_typeof(1::int4 + 1::float4), pg_typeof(1::float4 + 1::float4),
        //        pg_typeof(1::numeric + 1::float4), pg_typeof(1::int2 + 1::int2),
        //        pg_typeof(1::int2 + 1::int8), pg_typeof(1::numeric + 1::int8),
        //        pg_typeof(1::int2 * 1.5), pg_typeof(interval '1 day' * 2);
        // double precision | real | double precision | smallint | bigint | numeric | numeric | interval
        let rt = |a, b| binary_result_type(Add, &a, &b).unwrap();
        assert_eq!(rt(DataType::Int4, DataType::Float4), DataType::Float8);
        assert_eq!(rt(DataType::Float4, DataType::Float4), DataType::Float4);
        assert_eq!(
            rt(DataType::Numeric(None), DataType::Float4),
            DataType::Float8
        );
        assert_eq!(rt(DataType::Int2, DataType::Int2), DataType::Int2);
        assert_eq!(rt(DataType::Int2, DataType::Int8), DataType::Int8);
        assert_eq!(
            rt(DataType::Numeric(None), DataType::Int8),
            DataType::Numeric(None)
        );
        for op in [Add, Sub, Mul, Div, Mod, Eq, Lt, Concat] {
            for a in samples() {
                for b in samples() {
                    let (ta, tb) = (a.data_type().unwrap(), b.data_type().unwrap());
                    match (binary_result_type(op, &ta, &tb), binary_op(op, &a, &b)) {
                        (Ok(t), Ok(r)) => assert_eq!(
                            Some(t.without_modifier()),
                            r.data_type().map(|t| t.without_modifier()),
                            "{a:?} {op:?} {b:?}"
                        ),
                        (Err(e1), Err(e2)) => {
                            assert_eq!(e1.sqlstate(), e2.sqlstate(), "{a:?} {op:?} {b:?}")
                        }
                        (r1, r2) => {
                            panic!("{a:?} {op:?} {b:?}: types say {r1:?}, values say {r2:?}")
                        }
                    }
                }
            }
        }
        for op in [UnaryOp::Neg, UnaryOp::Plus, UnaryOp::Not] {
            for a in samples() {
                let t = a.data_type().unwrap();
                assert_eq!(
                    unary_result_type(op, &t).is_ok(),
                    unary_op(op, &a).is_ok(),
                    "{op:?} {a:?}"
                );
            }
        }
    }
}
