//! `sum` and `avg`: result types and accumulators with PostgreSQL's semantics.
//!
//! Owns the parts of the two aggregates whose answers PostgreSQL users see in the digits:
//! - `sum(int2|int4) → int8`, `sum(int8) → numeric`, `sum(numeric) → numeric`,
//!   `sum(float4) → real`, `sum(float8) → double precision`, `sum(interval) → interval`;
//! - `avg(int2|int4|int8|numeric) → numeric`, computed as `numeric(sum) / numeric(count)`
//!   with the division scale rule, so the average of three `-40`s prints
//!   `-40.0000000000000000`; `avg(float4|float8) → double precision`;
//!   `avg(interval) → interval`;
//! - NULL inputs are skipped; no non-NULL input gives NULL.
//!
//! Invariant: integer sums accumulate exactly (in `i128`), so only the final conversion to
//! the result type can overflow (`bigint out of range` for `sum(int4)`).

use super::error::{Result, ValueError};
use super::float::{FloatOp, checked_f32, checked_f64};
use super::interval::Interval;
use super::numeric::Numeric;
use super::scalar::Value;
use super::types::DataType;

/// Which aggregate an [`Accumulator`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateKind {
    Sum,
    Avg,
}

/// The result type of `sum(t)` / `avg(t)`, or 42883 when PostgreSQL has no such aggregate.
pub fn aggregate_result_type(kind: AggregateKind, input: &DataType) -> Result<DataType> {
    use DataType as T;
    let name = match kind {
        AggregateKind::Sum => "sum",
        AggregateKind::Avg => "avg",
    };
    Ok(match (kind, input) {
        (AggregateKind::Sum, T::Int2 | T::Int4) => T::Int8,
        (AggregateKind::Sum, T::Float4) => T::Float4,
        (_, T::Int2 | T::Int4 | T::Int8 | T::Numeric(_)) => T::Numeric(None),
        (_, T::Float4 | T::Float8) => T::Float8,
        (_, T::Interval) => T::Interval,
        _ => {
            return Err(ValueError::UndefinedOperator {
                signature: format!("{name}({})", input.sql_name()),
            });
        }
    })
}

/// The running state of one `sum` or `avg` (see the module doc).
#[derive(Debug, Clone)]
pub struct Accumulator {
    kind: AggregateKind,
    input: DataType,
    count: i64,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Int(i128),
    Numeric(Numeric),
    Float4(f32),
    Float8(f64),
    Interval(Interval),
}

impl Accumulator {
    /// Starts `kind(input)`; fails like [`aggregate_result_type`] for unsupported inputs.
    pub fn new(kind: AggregateKind, input: &DataType) -> Result<Accumulator> {
        aggregate_result_type(kind, input)?;
        let state = match input {
            DataType::Int2 | DataType::Int4 | DataType::Int8 => State::Int(0),
            DataType::Numeric(_) => State::Numeric(Numeric::zero()),
            DataType::Float4 if kind == AggregateKind::Sum => State::Float4(0.0),
            DataType::Float4 | DataType::Float8 => State::Float8(0.0),
            _ => State::Interval(Interval::default()),
        };
        Ok(Accumulator {
            kind,
            input: *input,
            count: 0,
            state,
        })
    }

    /// Adds one input value (NULL is skipped).
    pub fn add(&mut self, v: &Value) -> Result<()> {
        let mismatch = || ValueError::CannotCoerce {
            from: v
                .data_type()
                .map(|t| t.sql_name().to_owned())
                .unwrap_or_default(),
            to: self.input.sql_name().to_owned(),
        };
        match (&mut self.state, v) {
            (_, Value::Null) => return Ok(()),
            (State::Int(acc), Value::Int2(i)) => *acc += i128::from(*i),
            (State::Int(acc), Value::Int4(i)) => *acc += i128::from(*i),
            (State::Int(acc), Value::Int8(i)) => *acc += i128::from(*i),
            (State::Numeric(acc), Value::Numeric(n)) => *acc = acc.add(n)?,
            (State::Float4(acc), Value::Float4(f)) => *acc = checked_f32(FloatOp::Add, *acc, *f)?,
            (State::Float8(acc), Value::Float4(f)) => {
                *acc = checked_f64(FloatOp::Add, *acc, f64::from(*f))?
            }
            (State::Float8(acc), Value::Float8(f)) => *acc = checked_f64(FloatOp::Add, *acc, *f)?,
            (State::Interval(acc), Value::Interval(iv)) => *acc = acc.checked_add(iv)?,
            _ => return Err(mismatch()),
        }
        self.count += 1;
        Ok(())
    }

    /// The aggregate's value: NULL when no non-NULL input was added.
    pub fn finish(&self) -> Result<Value> {
        if self.count == 0 {
            return Ok(Value::Null);
        }
        let count = self.count;
        Ok(match (self.kind, &self.state) {
            (AggregateKind::Sum, State::Int(acc))
                if matches!(self.input, DataType::Int2 | DataType::Int4) =>
            {
                Value::Int8(
                    i64::try_from(*acc)
                        .map_err(|_| ValueError::out_of_range("bigint out of range"))?,
                )
            }
            (AggregateKind::Sum, State::Int(acc)) => Value::Numeric(Numeric::from_i128(*acc)),
            (AggregateKind::Sum, State::Numeric(acc)) => Value::Numeric(acc.clone()),
            (AggregateKind::Sum, State::Float4(acc)) => Value::Float4(*acc),
            (AggregateKind::Sum, State::Float8(acc)) => Value::Float8(*acc),
            (AggregateKind::Sum, State::Interval(acc)) => Value::Interval(*acc),
            (AggregateKind::Avg, State::Int(acc)) => {
                Value::Numeric(Numeric::from_i128(*acc).div(&Numeric::from_i64(count))?)
            }
            (AggregateKind::Avg, State::Numeric(acc)) => {
                Value::Numeric(acc.div(&Numeric::from_i64(count))?)
            }
            (AggregateKind::Avg, State::Float8(acc)) => Value::Float8(acc / count as f64),
            (AggregateKind::Avg, State::Interval(acc)) => {
                Value::Interval(acc.div_f64(count as f64)?)
            }
            (AggregateKind::Avg, State::Float4(_)) => {
                unreachable!("avg accumulates floats as float8")
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_value;

    fn run(kind: AggregateKind, ty: DataType, inputs: &[&str]) -> String {
        let mut acc = Accumulator::new(kind, &ty).unwrap();
        for input in inputs {
            let v = if *input == "NULL" {
                Value::Null
            } else {
                parse_value(input, &ty).unwrap()
            };
            acc.add(&v).unwrap();
        }
        match acc.finish() {
            Ok(v) => v.to_string(),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    #[test]
    fn results_match_postgres() {
        use AggregateKind::{Avg, Sum};
        use DataType as T;
        // SELECT avg(x) FROM (VALUES (-40),(-40),(-40)) v(x);  -40.0000000000000000
        assert_eq!(
            run(Avg, T::Int4, &["-40", "-40", "-40"]),
            "-40.0000000000000000"
        );
        // SELECT avg(x) FROM (VALUES (1),(2),(2)) v(x);  1.6666666666666667
        assert_eq!(run(Avg, T::Int4, &["1", "2", "2"]), "1.6666666666666667");
        // SELECT avg(x) FROM (VALUES (1.50),(2.25)) v(x);  1.8750000000000000
        assert_eq!(
            run(Avg, T::Numeric(None), &["1.50", "2.25"]),
            "1.8750000000000000"
        );
        // SELECT sum(x), pg_typeof(sum(x)) FROM (VALUES (2147483647),(1)) v(x);  2147483648 | bigint
        assert_eq!(run(Sum, T::Int4, &["2147483647", "1"]), "2147483648");
        assert_eq!(
            run(Sum, T::Int8, &["9223372036854775807", "1"]),
            "9223372036854775808"
        );
        assert_eq!(run(Sum, T::Int4, &["NULL"]), "NULL");
        assert_eq!(run(Avg, T::Int4, &[]), "NULL");
        assert_eq!(run(Sum, T::Int4, &["1", "NULL", "2"]), "3");
        assert_eq!(run(Avg, T::Float8, &["1", "2"]), "1.5");
        assert_eq!(run(Sum, T::Float4, &["0.1", "0.2"]), "0.3");
        assert_eq!(
            run(Avg, T::Interval, &["1 day", "2 days"]),
            "1 day 12:00:00"
        );
        assert_eq!(aggregate_result_type(Sum, &T::Int2), Ok(T::Int8));
        assert_eq!(aggregate_result_type(Avg, &T::Int8), Ok(T::Numeric(None)));
        // SELECT sum('a'::text);  ERROR:  function sum(text) does not exist
        assert_eq!(
            aggregate_result_type(Sum, &T::Text).unwrap_err().sqlstate(),
            "42883"
        );
    }
}
