//! Comparison: SQL comparison operators and the total order and hash used for keys.
//!
//! Owns two related orders:
//! - [`sql_cmp`]: what `=`, `<`, ... compute. NULL in, NULL (`None`) out. Operands of
//!   different types are compared in the common type PostgreSQL's operator resolution picks:
//!   integers of any width exactly, integer vs numeric as numeric, anything vs a float as
//!   `double precision`, `date` vs `timestamp` as timestamps, `text` vs `char(n)` as text
//!   with the `char` value's trailing blanks removed. Types with no comparison between them
//!   fail with 42883 `operator does not exist`.
//! - `Ord`/`Eq`/`Hash` on [`Value`] ([`cmp_total`]): a total order for sort and index keys
//!   and hash tables (GROUP BY, DISTINCT). Within one type it agrees with `sql_cmp`;
//!   additionally NULL equals NULL and sorts after everything (PostgreSQL's default `NULLS
//!   LAST` for ascending order), float NaN equals NaN and sorts above every number.
//!
//! Invariants of the total order:
//! - `a == b` implies `hash(a) == hash(b)`: `1.0::numeric` and `1.00` and the integers `1`
//!   of every width hash alike; `char(n)` values hash without trailing blanks; intervals hash
//!   by their 30-day-month span; `-0.0` and `0.0` hash alike;
//! - values of different type families (which no key mixes) are ordered by a fixed family
//!   rank; exact numbers (integers and numeric) form one family and compare exactly, floats
//!   another, so the order stays transitive.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use super::datetime::USECS_PER_DAY;
use super::error::{Result, ValueError};
use super::float::{cmp_f64, f64_hash_bits};
use super::numeric::Numeric;
use super::scalar::Value;

/// Compares two values as SQL's comparison operators do; `None` if either is NULL.
pub fn sql_cmp(a: &Value, b: &Value) -> Result<Option<Ordering>> {
    sql_cmp_op(a, b, "=")
}

/// [`sql_cmp`] naming `op` in the "operator does not exist" error.
pub(crate) fn sql_cmp_op(a: &Value, b: &Value, op: &str) -> Result<Option<Ordering>> {
    if a.is_null() || b.is_null() {
        return Ok(None);
    }
    if let Some((x, y)) = floats_of(a, b)? {
        return Ok(Some(cmp_f64(x, y)));
    }
    let (fa, fb) = (family(a), family(b));
    if fa == fb && fa != Family::Json {
        return Ok(Some(cmp_total(a, b)));
    }
    Err(ValueError::UndefinedOperator {
        signature: operator_signature(a, op, b),
    })
}

/// `"<left type> <op> <right type>"` for error messages.
pub(crate) fn operator_signature(a: &Value, op: &str, b: &Value) -> String {
    let name = |v: &Value| {
        v.data_type()
            .map_or_else(|| "unknown".to_owned(), |t| t.sql_name().to_owned())
    };
    format!("{} {op} {}", name(a), name(b))
}

/// Both values as doubles when the comparison happens in `double precision`: one side is a
/// float and the other a float or an exact number.
fn floats_of(a: &Value, b: &Value) -> Result<Option<(f64, f64)>> {
    let numeric = |v: &Value| matches!(family(v), Family::Exact | Family::Float);
    let float = |v: &Value| family(v) == Family::Float;
    if !(numeric(a) && numeric(b) && (float(a) || float(b))) {
        return Ok(None);
    }
    Ok(Some((to_f64(a)?, to_f64(b)?)))
}

/// An exact or float number as a double (numeric converts like `numeric::float8`).
pub(crate) fn to_f64(v: &Value) -> Result<f64> {
    Ok(match v {
        Value::Int2(i) => f64::from(*i),
        Value::Int4(i) => f64::from(*i),
        Value::Int8(i) => *i as f64,
        Value::Numeric(n) => n.to_f64()?,
        Value::Float4(f) => f64::from(*f),
        Value::Float8(f) => *f,
        _ => unreachable!("to_f64 is called on numbers only"),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Bool,
    Exact,
    Float,
    Text,
    Bytea,
    DateTime,
    Time,
    Interval,
    Uuid,
    Json,
    Jsonb,
    Array,
    Null,
}

fn family(v: &Value) -> Family {
    match v {
        Value::Bool(_) => Family::Bool,
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) | Value::Numeric(_) => Family::Exact,
        Value::Float4(_) | Value::Float8(_) => Family::Float,
        Value::Text(_) | Value::BpChar(_) => Family::Text,
        Value::Bytea(_) => Family::Bytea,
        Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_) => Family::DateTime,
        Value::Time(_) => Family::Time,
        Value::Interval(_) => Family::Interval,
        Value::Uuid(_) => Family::Uuid,
        Value::Json(_) => Family::Json,
        Value::Jsonb(_) => Family::Jsonb,
        Value::Array(_) => Family::Array,
        Value::Null => Family::Null,
    }
}

fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(i) => Some((*i).into()),
        Value::Int4(i) => Some((*i).into()),
        Value::Int8(i) => Some(*i),
        _ => None,
    }
}

fn exact_cmp(a: &Value, b: &Value) -> Ordering {
    match (int_of(a), int_of(b), a, b) {
        (Some(x), Some(y), _, _) => x.cmp(&y),
        (_, _, Value::Numeric(x), Value::Numeric(y)) => x.cmp(y),
        (Some(x), None, _, Value::Numeric(y)) => Numeric::from_i64(x).cmp(y),
        (None, Some(y), Value::Numeric(x), _) => x.cmp(&Numeric::from_i64(y)),
        _ => unreachable!("exact_cmp is called on integers and numerics only"),
    }
}

/// Microseconds since 2000-01-01 for dates and timestamps (infinities at the extremes).
fn datetime_key(v: &Value) -> i128 {
    match v {
        Value::Date(d) => match d.0 {
            i32::MIN => i128::MIN,
            i32::MAX => i128::MAX,
            days => i128::from(days) * i128::from(USECS_PER_DAY),
        },
        Value::Timestamp(t) => timestamp_key(t.0),
        Value::TimestampTz(t) => timestamp_key(t.0),
        _ => unreachable!("datetime_key is called on dates and timestamps only"),
    }
}

fn timestamp_key(us: i64) -> i128 {
    match us {
        i64::MIN => i128::MIN,
        i64::MAX => i128::MAX,
        us => i128::from(us),
    }
}

fn text_key(v: &Value) -> &[u8] {
    match v {
        Value::Text(s) => s.as_bytes(),
        Value::BpChar(s) => s.trim_end_matches(' ').as_bytes(),
        _ => unreachable!("text_key is called on string values only"),
    }
}

/// A word that orders like the value in the total order ([`cmp_total`]): `a < b` implies
/// `key_prefix(a) <= key_prefix(b)`. The family's rank is in the top four bits; below it a
/// summary of the value: integers themselves (numerics truncated, which keeps integers and
/// numerics consistent), the first bytes of text, bytea and uuids, timestamps in
/// microseconds. Other families summarise to their rank alone. Saturating at the ends keeps
/// it monotone; equal words only mean "compare the values".
pub fn key_prefix(v: &Value) -> u64 {
    const SUMMARY_BITS: u32 = 60;
    const LIMIT: i128 = 1 << (SUMMARY_BITS - 1);
    let signed = |x: i128| (x.clamp(-LIMIT, LIMIT - 1) + LIMIT) as u64;
    let bytes = |b: &[u8]| crate::btree::bytes_prefix(b) >> (64 - SUMMARY_BITS);
    let summary = match v {
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => {
            signed(int_of(v).expect("an integer").into())
        }
        Value::Numeric(n) => signed(n.saturating_trunc().into()),
        Value::Bool(b) => u64::from(*b),
        Value::Text(_) | Value::BpChar(_) => bytes(text_key(v)),
        Value::Bytea(b) => bytes(b),
        Value::Uuid(u) => bytes(u.as_bytes()),
        Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_) => signed(datetime_key(v)),
        Value::Time(t) => signed(t.0.into()),
        Value::Float4(_)
        | Value::Float8(_)
        | Value::Interval(_)
        | Value::Json(_)
        | Value::Jsonb(_)
        | Value::Array(_)
        | Value::Null => 0,
    };
    ((family(v) as u64) << SUMMARY_BITS) | summary
}

/// The total order on values (see the module doc).
pub fn cmp_total(a: &Value, b: &Value) -> Ordering {
    let (fa, fb) = (family(a), family(b));
    if fa != fb {
        return fa.cmp(&fb);
    }
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ if fa == Family::Exact => exact_cmp(a, b),
        _ if fa == Family::Float => {
            let f = |v: &Value| match v {
                Value::Float4(f) => f64::from(*f),
                Value::Float8(f) => *f,
                _ => unreachable!("float family"),
            };
            cmp_f64(f(a), f(b))
        }
        _ if fa == Family::Text => text_key(a).cmp(text_key(b)),
        (Value::Bytea(x), Value::Bytea(y)) => x.cmp(y),
        _ if fa == Family::DateTime => datetime_key(a).cmp(&datetime_key(b)),
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        (Value::Interval(x), Value::Interval(y)) => x.cmp(y),
        (Value::Uuid(x), Value::Uuid(y)) => x.as_bytes().cmp(y.as_bytes()),
        // PostgreSQL has no order on json; keys never hold it, so any total order will do.
        (Value::Json(x), Value::Json(y)) => x.cmp(y),
        (Value::Jsonb(x), Value::Jsonb(y)) => x.cmp(y),
        // Element by element (NULL elements last), then the shorter array first.
        (Value::Array(x), Value::Array(y)) => x.items().cmp(y.items()),
        _ => unreachable!("both values are in family {fa:?}"),
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> Ordering {
        cmp_total(self, other)
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u8(family(self) as u8);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => {
                int_of(self).expect("an integer").hash(state);
            }
            // Hashes an integral value exactly like the i64 above.
            Value::Numeric(n) => n.hash(state),
            Value::Float4(f) => f64_hash_bits(f64::from(*f)).hash(state),
            Value::Float8(f) => f64_hash_bits(*f).hash(state),
            Value::Text(_) | Value::BpChar(_) => text_key(self).hash(state),
            Value::Bytea(b) => b.hash(state),
            Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_) => {
                datetime_key(self).hash(state)
            }
            Value::Time(t) => t.hash(state),
            Value::Interval(i) => i.hash(state),
            Value::Uuid(u) => u.hash(state),
            Value::Json(s) => s.hash(state),
            Value::Jsonb(j) => j.hash(state),
            Value::Array(a) => a.items().hash(state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{DataType, parse_value};
    use proptest::prelude::*;
    use std::collections::HashSet;
    use std::collections::hash_map::DefaultHasher;

    fn v(text: &str, ty: DataType) -> Value {
        parse_value(text, &ty).unwrap()
    }

    fn hash_of(v: &Value) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn sql_comparisons_match_postgres() {
        use DataType as T;
        let eq = |a: Value, b: Value| sql_cmp(&a, &b).unwrap() == Some(Ordering::Equal);
        // SELECT 1 = 1.0, 1::int2 = 1::int8, 0.1::numeric = 0.1::float8, 'a'::char(3) = 'a',
        //        'a '::text = 'a'::char(1), '1 mon'::interval = '30 days',
        //        '2020-01-01'::date = '2020-01-01 00:00'::timestamp, 'NaN'::float8 = 'NaN';
        // t | t | t | t | f | t | t | t
        assert!(eq(Value::Int4(1), v("1.0", T::Numeric(None))));
        assert!(eq(Value::Int2(1), Value::Int8(1)));
        assert!(eq(v("0.1", T::Numeric(None)), Value::Float8(0.1)));
        assert!(eq(v("a", T::Char(Some(3))), v("a", T::Char(None))));
        assert!(!eq(Value::Text("a ".into()), v("a", T::Char(Some(1)))));
        assert!(eq(v("1 mon", T::Interval), v("30 days", T::Interval)));
        assert!(eq(
            v("2020-01-01", T::Date),
            v("2020-01-01 00:00", T::Timestamp)
        ));
        assert!(eq(Value::Float8(f64::NAN), Value::Float8(f64::NAN)));
        // SELECT 9007199254740993::int8 = 9007199254740992::float8;  t  (compared as float8)
        assert!(eq(
            Value::Int8(9_007_199_254_740_993),
            Value::Float8(9_007_199_254_740_992.0)
        ));
        // SELECT 16777217::int8 = 16777216::float4;  f  (float8 comparison, not float4)
        assert!(!eq(Value::Int8(16_777_217), Value::Float4(16_777_216.0)));
        // SELECT 'a' < 'B', 'abc' < 'abd';  f | t  (collation C: bytewise)
        assert_eq!(
            sql_cmp(&"a".into(), &"B".into()).unwrap(),
            Some(Ordering::Greater)
        );
        assert_eq!(sql_cmp(&Value::Int4(1), &Value::Null).unwrap(), None);
        // SELECT 1 = 'a'::text;  ERROR:  operator does not exist: integer = text
        let e = sql_cmp(&Value::Int4(1), &"a".into()).unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("operator does not exist: integer = text", "42883")
        );
        // SELECT '{}'::json = '{}'::json;  ERROR:  operator does not exist: json = json
        let j = v("{}", T::Json);
        assert_eq!(
            sql_cmp(&j, &j).unwrap_err().to_string(),
            "operator does not exist: json = json"
        );
    }

    #[test]
    fn total_order_for_keys() {
        use DataType as T;
        let mut vals = [
            Value::Null,
            Value::Float8(f64::NAN),
            Value::Float8(f64::INFINITY),
            Value::Float8(-1.0),
            Value::Float8(-0.0),
            Value::Float8(0.0),
        ];
        vals.sort();
        let shown: Vec<String> = vals.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["-1", "-0", "0", "Infinity", "NaN", "NULL"]);
        let mut nums = [
            v("2.50", T::Numeric(None)),
            Value::Null,
            Value::Int4(2),
            v("-1e20", T::Numeric(None)),
            Value::Int8(3),
        ];
        nums.sort();
        let shown: Vec<String> = nums.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["-100000000000000000000", "2", "2.50", "3", "NULL"]);
    }

    #[test]
    fn hash_agrees_with_equality() {
        use DataType as T;
        let groups: Vec<Vec<Value>> = vec![
            vec![
                v("1.0", T::Numeric(None)),
                v("1.00", T::Numeric(None)),
                Value::Int2(1),
                Value::Int4(1),
                Value::Int8(1),
            ],
            vec![v("2.50", T::Numeric(None)), v("2.5", T::Numeric(None))],
            vec![Value::Float8(0.0), Value::Float8(-0.0), Value::Float4(0.0)],
            vec![Value::Float8(f64::NAN), Value::Float4(f32::NAN)],
            vec![
                v("ab", T::Char(Some(5))),
                v("ab", T::Char(None)),
                Value::Text("ab".into()),
            ],
            vec![
                v("1 mon", T::Interval),
                v("30 days", T::Interval),
                v("720 hours", T::Interval),
            ],
            vec![
                v("2020-01-01", T::Date),
                v("2020-01-01", T::Timestamp),
                v("2020-01-01", T::TimestampTz),
            ],
            vec![v("[1.0]", T::Jsonb), v("[1]", T::Jsonb)],
            vec![Value::Null, Value::Null],
        ];
        for group in &groups {
            for a in group {
                for b in group {
                    assert_eq!(a, b, "{a:?} vs {b:?}");
                    assert_eq!(hash_of(a), hash_of(b), "{a:?} vs {b:?}");
                }
            }
        }
        let distinct: HashSet<Value> = groups.iter().flatten().cloned().collect();
        assert_eq!(distinct.len(), groups.len());
    }

    proptest! {
        #[test]
        fn numeric_keys_hash_consistently(a in -1000i64..1000, scale in 0u32..4, b in -1000i64..1000) {
            let na = Value::Numeric(Numeric::parse(&format!("{a}e-{scale}")).unwrap().round(scale as i32 + 2));
            let nb = Value::Numeric(Numeric::parse(&format!("{b}e-{scale}")).unwrap());
            prop_assert_eq!(na == nb, a == b);
            if na == nb {
                prop_assert_eq!(hash_of(&na), hash_of(&nb));
            }
            let ia = Value::Int8(a);
            let nia = Value::Numeric(Numeric::from_i64(a).round(3));
            prop_assert_eq!(&ia, &nia);
            prop_assert_eq!(hash_of(&ia), hash_of(&nia));
        }
    }

    /// A key value of one of the summarised kinds, or of a family summarised to its rank.
    fn key_value() -> impl Strategy<Value = Value> {
        let int = prop_oneof![
            1 => Just(i64::MIN),
            1 => Just(i64::MAX),
            4 => -20i64..20,
            1 => any::<i64>(),
        ];
        prop_oneof![
            int.clone().prop_map(Value::Int8),
            (-20i32..20).prop_map(Value::Int4),
            (int, 0u32..3).prop_map(|(i, scale)| Value::Numeric(
                Numeric::parse(&format!("{i}e-{scale}")).unwrap()
            )),
            prop_oneof![Just("NaN"), Just("Infinity"), Just("-Infinity")]
                .prop_map(|t| Value::Numeric(Numeric::parse(t).unwrap())),
            "[a-c ]{0,10}".prop_map(Value::Text),
            "[a-c ]{0,10}".prop_map(Value::BpChar),
            proptest::collection::vec(any::<u8>(), 0..10).prop_map(Value::Bytea),
            (-5i32..5).prop_map(|d| Value::Date(crate::value::Date(d))),
            (-5i64..5)
                .prop_map(|us| Value::Timestamp(crate::value::Timestamp(us * USECS_PER_DAY / 2))),
            any::<f64>().prop_map(Value::Float8),
            any::<bool>().prop_map(Value::Bool),
            Just(Value::Null),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The B-tree's search relies on this: the prefix never orders two values the other
        /// way round, and equal values have equal prefixes.
        #[test]
        fn key_prefixes_order_like_values(a in key_value(), b in key_value()) {
            let (pa, pb) = (key_prefix(&a), key_prefix(&b));
            match cmp_total(&a, &b) {
                Ordering::Less => prop_assert!(pa <= pb, "{a:?} < {b:?} but {pa:#x} > {pb:#x}"),
                Ordering::Equal => prop_assert_eq!(pa, pb),
                Ordering::Greater => prop_assert!(pa >= pb, "{a:?} > {b:?} but {pa:#x} < {pb:#x}"),
            }
        }
    }
}
