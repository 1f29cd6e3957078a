//! Scalar functions: name and argument-type resolution, and evaluation.
//!
//! The value layer owns operators and casts; the functions SQL users call by name (`abs`,
//! `lower`, `now`, ...) live here. [`resolve`] picks a [`Func`] and its result type from the
//! argument types (unknown-typed literals count as `text`); [`Func::eval`] computes it.
//! `coalesce`, `nullif`, `greatest` and `least` are resolved here too; `coalesce` is
//! evaluated lazily by the executor.

use std::time::{SystemTime, UNIX_EPOCH};

use zqlite_projections::value::{
    BinaryOp, DataType, Date, Numeric, TimestampTz, TypeCategory, Value, binary_op, cmp_total,
    sql_cmp,
};

use crate::array_functions::{self, ArrayFunc};
use crate::datetime_functions::{self, DateTimeFunc};
use crate::error::{Error, Result};
use crate::json_functions::{self, JsonFunc};
use crate::math_functions::{self, MathFunc};
use crate::regexp_functions::{self, RegexpFunc};
use crate::system::catalog_functions::CatalogFunc;
use crate::text_functions::{self, TextFunc};

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    Abs,
    Round,
    Ceil,
    Floor,
    Trunc,
    Sqrt,
    Power,
    /// `ln`, `log` (base 10), `exp`, `cbrt`, `degrees`, `radians`, `pi`: double precision.
    Ln,
    Log10,
    Exp,
    Cbrt,
    Degrees,
    Radians,
    Pi,
    /// `factorial(bigint)`: numeric.
    Factorial,
    /// `gcd`, `lcm` of integers.
    Gcd,
    Lcm,
    Mod,
    Sign,
    Length,
    Lower,
    Upper,
    Substr,
    Trim,
    Ltrim,
    Rtrim,
    Replace,
    Concat,
    Strpos,
    Left,
    Right,
    Repeat,
    Reverse,
    Now,
    /// `clock_timestamp()`, `statement_timestamp()`: the wall clock when evaluated.
    ClockTimestamp,
    CurrentDate,
    /// `localtimestamp`: `now()` in the session time zone (UTC), without the zone.
    LocalTimestamp,
    /// `zq_current_lsn()`: the LSN of the state the statement reads (the executor
    /// evaluates it, from its state).
    CurrentLsn,
    Random,
    GenRandomUuid,
    /// `pg_column_size(x)`: the bytes of the value as PostgreSQL holds it in memory.
    ColumnSize,
    /// `bit_length(text | bytea)`: eight times the bytes.
    BitLength,
    /// `pg_typeof(x)` of an argument of this type (`None`: an unknown literal); the argument
    /// is still evaluated, for its errors and set-returning calls.
    TypeOf(Option<DataType>),
    /// `num_nulls(...)`, or `num_nonnulls(...)` when `nonnulls`.
    NumNulls {
        nonnulls: bool,
    },
    /// `nextval`, `currval`, `setval`, `lastval`: the executor runs them with the session's
    /// sequences (`crate::sequences`).
    NextVal,
    CurrVal,
    SetVal,
    LastVal,
    /// `date_part(field, source)`: double precision.
    DatePart,
    /// `EXTRACT(field FROM source)`: numeric.
    Extract,
    Coalesce,
    NullIf,
    Greatest,
    Least,
    /// Array expressions and functions (`array_functions.rs`).
    Array(ArrayFunc),
    /// JSON operators and functions (`json_functions.rs`).
    Json(JsonFunc),
    /// Encodings, regular-expression, padding and quoting functions (`text_functions.rs`).
    Text(TextFunc),
    /// Date and time functions (`datetime_functions.rs`).
    DateTime(DateTimeFunc),
    /// Bitwise operators and numeric functions (`math_functions.rs`).
    Math(MathFunc),
    /// `regexp_count` and its kin, `substring` with a pattern, `SIMILAR TO`
    /// (`regexp_functions.rs`).
    Regexp(RegexpFunc),
    /// `GROUPING(keys)`; after binding, `(set index, int4[] of each set's value)` (see
    /// `bind/query.rs`).
    Grouping,
    /// `text ~ pattern` and its variants (`pattern.rs`).
    Regex {
        case_insensitive: bool,
        negated: bool,
    },
    /// Functions over the catalog (`system/catalog_functions.rs`), evaluated by the
    /// executor with the statement's state.
    Catalog(CatalogFunc),
}

impl Func {
    pub fn name(&self) -> &'static str {
        match self {
            Func::Abs => "abs",
            Func::Round => "round",
            Func::Ceil => "ceil",
            Func::Floor => "floor",
            Func::Trunc => "trunc",
            Func::Sqrt => "sqrt",
            Func::Ln => "ln",
            Func::Log10 => "log",
            Func::Exp => "exp",
            Func::Cbrt => "cbrt",
            Func::Degrees => "degrees",
            Func::Radians => "radians",
            Func::Pi => "pi",
            Func::Factorial => "factorial",
            Func::Gcd => "gcd",
            Func::Lcm => "lcm",
            Func::Power => "power",
            Func::Mod => "mod",
            Func::Sign => "sign",
            Func::Length => "length",
            Func::Lower => "lower",
            Func::Upper => "upper",
            Func::Substr => "substr",
            Func::Trim => "btrim",
            Func::Ltrim => "ltrim",
            Func::Rtrim => "rtrim",
            Func::Replace => "replace",
            Func::Concat => "concat",
            Func::Strpos => "strpos",
            Func::Left => "left",
            Func::Right => "right",
            Func::Repeat => "repeat",
            Func::Reverse => "reverse",
            Func::Now => "now",
            Func::ClockTimestamp => "clock_timestamp",
            Func::CurrentLsn => "zq_current_lsn",
            Func::CurrentDate => "current_date",
            Func::LocalTimestamp => "localtimestamp",
            Func::Random => "random",
            Func::GenRandomUuid => "gen_random_uuid",
            Func::TypeOf(_) => "pg_typeof",
            Func::ColumnSize => "pg_column_size",
            Func::BitLength => "bit_length",
            Func::NumNulls { nonnulls: false } => "num_nulls",
            Func::NumNulls { nonnulls: true } => "num_nonnulls",
            Func::NextVal => "nextval",
            Func::CurrVal => "currval",
            Func::SetVal => "setval",
            Func::LastVal => "lastval",
            Func::DatePart => "date_part",
            Func::Extract => "extract",
            Func::Coalesce => "coalesce",
            Func::NullIf => "nullif",
            Func::Greatest => "greatest",
            Func::Least => "least",
            Func::Array(f) => f.name(),
            Func::Json(f) => f.name(),
            Func::Text(f) => f.name(),
            Func::DateTime(f) => f.name(),
            Func::Math(f) => f.name(),
            Func::Regexp(f) => f.name(),
            Func::Grouping => "grouping",
            Func::Regex {
                case_insensitive,
                negated,
            } => match (case_insensitive, negated) {
                (false, false) => "~",
                (true, false) => "~*",
                (false, true) => "!~",
                (true, true) => "!~*",
            },
            Func::Catalog(_) => "catalog function",
        }
    }

    /// Whether two calls with the same arguments may give different results.
    pub fn is_volatile(&self) -> bool {
        matches!(
            self,
            Func::Random
                | Func::ClockTimestamp
                | Func::GenRandomUuid
                | Func::NextVal
                | Func::CurrVal
                | Func::SetVal
                | Func::LastVal
        ) || matches!(self, Func::DateTime(f) if f.is_volatile())
    }

    /// Whether PostgreSQL marks the call IMMUTABLE for arguments of these types (`None`: an
    /// unknown literal): its result depends on its arguments only, never on the time
    /// zone, date style, clock or database. Index expressions may call only these.
    pub fn is_immutable(&self, args: &[Option<DataType>]) -> bool {
        use crate::array_functions::ArrayFunc as A;
        use crate::datetime_functions::DateTimeFunc as D;
        use crate::json_functions::JsonFunc as J;
        use crate::text_functions::TextFunc as T;
        let has_tz = args.contains(&Some(DataType::TimestampTz));
        if self.is_volatile() {
            return false;
        }
        match self {
            Func::Now
            | Func::CurrentDate
            | Func::LocalTimestamp
            | Func::CurrentLsn
            | Func::Catalog(_) => false,
            // Text output of any type: the date style shows through.
            Func::Concat
            | Func::Text(T::ConcatWs | T::Format)
            | Func::Array(A::ToString)
            | Func::Json(J::BuildObject | J::BuildArray | J::JsonBuildObject | J::JsonBuildArray)
            | Func::Json(J::ToJsonb | J::ToJson) => false,
            Func::DateTime(D::ToChar | D::ToDate | D::ToTimestamp | D::MakeTimestampTz) => false,
            Func::DateTime(D::DateTruncZone) => false,
            Func::DateTime(D::DateTrunc | D::Age) | Func::DatePart | Func::Extract => !has_tz,
            _ => true,
        }
    }
}

/// Whether PostgreSQL's cast from `from` to `to` is IMMUTABLE: casts between text and the
/// date and time types read or write the date style or time zone, and so do conversions
/// between `timestamptz` and the types without a zone.
pub fn cast_is_immutable(from: &DataType, to: &DataType) -> bool {
    use DataType as T;
    let zoned = |t: &DataType| matches!(t, T::TimestampTz);
    let datetime_io =
        |t: &DataType| matches!(t, T::Date | T::Timestamp | T::TimestampTz | T::Interval);
    let from = from.without_modifier();
    let to = to.without_modifier();
    if from == to {
        return true;
    }
    let text_in = is_string(&from) && (datetime_io(&to) || to == T::Time);
    let text_out = is_string(&to) && datetime_io(&from);
    let zone_change = (zoned(&from) && matches!(to, T::Date | T::Time | T::Timestamp))
        || (zoned(&to) && matches!(from, T::Date | T::Timestamp));
    !(text_in || text_out || zone_change)
}

fn is_numeric(t: &DataType) -> bool {
    t.category() == TypeCategory::Numeric
}

fn is_string(t: &DataType) -> bool {
    t.category() == TypeCategory::String
}

/// Whether a function argument is a character string (`text`, `varchar`, `char`) or an
/// untyped literal, which coerces to one.
pub(crate) fn is_string_arg(t: &Option<DataType>) -> bool {
    t.is_none_or(|t| matches!(t, DataType::Text | DataType::Varchar(_) | DataType::Char(_)))
}

/// The common type of a list of types (CASE, COALESCE, UNION, VALUES), PostgreSQL-style:
/// unknowns take the others' type; numbers promote; strings take the first string type.
pub fn common_type(types: &[Option<DataType>], what: &str) -> Result<Option<DataType>> {
    let known: Vec<DataType> = types.iter().flatten().copied().collect();
    let Some(first) = known.first().copied() else {
        return Ok(None);
    };
    if known.iter().all(|t| *t == first) {
        return Ok(Some(first));
    }
    if known.iter().all(is_numeric) {
        let rank = |t: &DataType| match t {
            DataType::Int2 => 0,
            DataType::Int4 => 1,
            DataType::Int8 => 2,
            DataType::Numeric(_) => 3,
            DataType::Float4 => 4,
            _ => 5,
        };
        let best = known.iter().max_by_key(|t| rank(t)).copied();
        return Ok(best.map(|t| t.without_modifier()));
    }
    // Every string type converts implicitly to every other, so the first one stays:
    // `varchar UNION text` is varchar.
    if known.iter().all(is_string) {
        return Ok(Some(first.without_modifier()));
    }
    if known
        .iter()
        .all(|t| t.without_modifier() == first.without_modifier())
    {
        return Ok(Some(first.without_modifier()));
    }
    let other = known
        .iter()
        .find(|t| t.without_modifier() != first.without_modifier())
        .copied()
        .unwrap_or(first);
    Err(Error::bind(
        "42804",
        format!(
            "{what} types {} and {} cannot be matched",
            first.sql_name(),
            other.sql_name()
        ),
    ))
}

pub(crate) fn no_function(name: &str, args: &[Option<DataType>]) -> Error {
    let names: Vec<&str> = args
        .iter()
        .map(|t| t.map_or("unknown", |t| t.sql_name()))
        .collect();
    Error::bind(
        "42883",
        format!("function {name}({}) does not exist", names.join(", ")),
    )
}

/// Resolves a call of `name` with arguments of these types (`None` = unknown literal).
pub fn resolve(name: &str, args: &[Option<DataType>]) -> Result<(Func, Option<DataType>)> {
    let n = args.len();
    let t0 = args.first().copied().flatten();
    let num = |t: Option<DataType>| t.is_none_or(|t| is_numeric(&t));
    let text_ok = |t: &Option<DataType>| t.is_none_or(|t| is_string(&t));
    let all_text = args.iter().all(text_ok);
    let func = match (name, n) {
        ("abs", 1) if num(t0) => return Ok((Func::Abs, Some(t0.unwrap_or(DataType::Float8)))),
        ("round" | "trunc", 1 | 2) if num(t0) => {
            let f = if name == "round" {
                Func::Round
            } else {
                Func::Trunc
            };
            let ty = match t0 {
                Some(DataType::Float4 | DataType::Float8) if n == 1 => DataType::Float8,
                _ => DataType::Numeric(None),
            };
            return Ok((f, Some(ty)));
        }
        ("ceil" | "ceiling" | "floor", 1) if num(t0) => {
            let f = if name == "floor" {
                Func::Floor
            } else {
                Func::Ceil
            };
            let ty = match t0 {
                Some(DataType::Numeric(_))
                | Some(DataType::Int2 | DataType::Int4 | DataType::Int8) => DataType::Numeric(None),
                _ => DataType::Float8,
            };
            return Ok((f, Some(ty)));
        }
        ("sqrt", 1) if num(t0) => (Func::Sqrt, DataType::Float8),
        // The numeric forms (`ln(1.5)`, `log(2, 64)`) compute to PostgreSQL's numeric
        // precision, which zqlite does not reproduce.
        ("ln" | "log" | "log10" | "exp", _) if args.iter().any(|t| is_exact_numeric(*t)) => {
            return Err(Error::unsupported(format!("{name}(numeric)")));
        }
        ("ln", 1) if num(t0) => (Func::Ln, DataType::Float8),
        ("log" | "log10", 1) if num(t0) => (Func::Log10, DataType::Float8),
        ("exp", 1) if num(t0) => (Func::Exp, DataType::Float8),
        ("cbrt", 1) if num(t0) => (Func::Cbrt, DataType::Float8),
        ("degrees", 1) if num(t0) => (Func::Degrees, DataType::Float8),
        ("radians", 1) if num(t0) => (Func::Radians, DataType::Float8),
        ("pi", 0) => (Func::Pi, DataType::Float8),
        ("factorial", 1) if is_integer_arg(t0) => (Func::Factorial, DataType::Numeric(None)),
        ("gcd" | "lcm", 2) if args.iter().all(|t| is_integer_arg(*t)) => {
            let f = if name == "gcd" { Func::Gcd } else { Func::Lcm };
            let ty = if args.contains(&Some(DataType::Int8)) {
                DataType::Int8
            } else {
                DataType::Int4
            };
            (f, ty)
        }
        ("power" | "pow", 2) if args.iter().all(|t| num(*t)) => (Func::Power, DataType::Float8),
        ("mod", 2) if args.iter().all(|t| num(*t)) => {
            return Ok((Func::Mod, common_type(args, "mod")?));
        }
        // sign() is defined for numeric and double precision: integers become the latter.
        ("sign", 1) if num(t0) => {
            let ty = match t0 {
                Some(DataType::Numeric(m)) => DataType::Numeric(m),
                _ => DataType::Float8,
            };
            return Ok((Func::Sign, Some(ty)));
        }
        ("length", 1) if t0 == Some(DataType::Bytea) => {
            (Func::Text(TextFunc::OctetLength), DataType::Int4)
        }
        ("length" | "char_length" | "character_length", 1) if all_text => {
            (Func::Length, DataType::Int4)
        }
        ("lower", 1) if all_text => (Func::Lower, DataType::Text),
        ("upper", 1) if all_text => (Func::Upper, DataType::Text),
        ("substr" | "substring", 2 | 3)
            if t0 == Some(DataType::Bytea) && args[1..].iter().all(|t| num(*t)) =>
        {
            (Func::Substr, DataType::Bytea)
        }
        ("strpos" | "position", 2)
            if args.contains(&Some(DataType::Bytea))
                && args.iter().all(|t| t.is_none_or(|t| t == DataType::Bytea)) =>
        {
            (Func::Strpos, DataType::Int4)
        }
        ("substr" | "substring", 2 | 3) if text_ok(&t0) && args[1..].iter().all(|t| num(*t)) => {
            (Func::Substr, DataType::Text)
        }
        ("btrim" | "trim", 1 | 2) if all_text => (Func::Trim, DataType::Text),
        ("ltrim", 1 | 2) if all_text => (Func::Ltrim, DataType::Text),
        ("rtrim", 1 | 2) if all_text => (Func::Rtrim, DataType::Text),
        ("replace", 3) if all_text => (Func::Replace, DataType::Text),
        ("concat", _) => (Func::Concat, DataType::Text),
        ("strpos" | "position", 2) if all_text => (Func::Strpos, DataType::Int4),
        ("left", 2) if text_ok(&t0) => (Func::Left, DataType::Text),
        ("right", 2) if text_ok(&t0) => (Func::Right, DataType::Text),
        ("repeat", 2) if text_ok(&t0) => (Func::Repeat, DataType::Text),
        ("reverse", 1) if all_text => (Func::Reverse, DataType::Text),
        ("clock_timestamp" | "statement_timestamp", 0) => {
            (Func::ClockTimestamp, DataType::TimestampTz)
        }
        ("now" | "current_timestamp" | "transaction_timestamp", 0) => {
            (Func::Now, DataType::TimestampTz)
        }
        ("current_date", 0) => (Func::CurrentDate, DataType::Date),
        ("localtimestamp", 0) => (Func::LocalTimestamp, DataType::Timestamp),
        ("zq_current_lsn", 0) => (Func::CurrentLsn, DataType::Int8),
        ("random", 0) => (Func::Random, DataType::Float8),
        ("gen_random_uuid", 0) => (Func::GenRandomUuid, DataType::Uuid),
        ("pg_typeof", 1) => (Func::TypeOf(args[0]), DataType::Regtype),
        ("pg_column_size", 1) => (Func::ColumnSize, DataType::Int4),
        ("bit_length", 1) if text_ok(&t0) || t0 == Some(DataType::Bytea) => {
            (Func::BitLength, DataType::Int4)
        }
        ("num_nulls" | "num_nonnulls", 1..) => (
            Func::NumNulls {
                nonnulls: name == "num_nonnulls",
            },
            DataType::Int4,
        ),
        ("nextval", 1) if all_text => (Func::NextVal, DataType::Int8),
        ("currval", 1) if all_text => (Func::CurrVal, DataType::Int8),
        ("lastval", 0) => (Func::LastVal, DataType::Int8),
        ("setval", 2 | 3)
            if text_ok(&t0)
                && num(args[1])
                && args
                    .get(2)
                    .is_none_or(|t| t.is_none_or(|t| t == DataType::Bool)) =>
        {
            (Func::SetVal, DataType::Int8)
        }
        ("date_part" | "extract", 2)
            if text_ok(&t0)
                && args[1].is_some_and(|t| {
                    matches!(
                        t,
                        DataType::Date
                            | DataType::Time
                            | DataType::Timestamp
                            | DataType::TimestampTz
                            | DataType::Interval
                    )
                }) =>
        {
            if name == "extract" {
                (Func::Extract, DataType::Numeric(None))
            } else {
                (Func::DatePart, DataType::Float8)
            }
        }
        ("coalesce", 1..) => return Ok((Func::Coalesce, common_type(args, "COALESCE")?)),
        ("greatest", 1..) => return Ok((Func::Greatest, common_type(args, "GREATEST")?)),
        ("least", 1..) => return Ok((Func::Least, common_type(args, "LEAST")?)),
        ("nullif", 2) => return Ok((Func::NullIf, common_type(args, "NULLIF")?)),
        _ => return Err(no_function(name, args)),
    };
    Ok((func.0, Some(func.1)))
}

pub(crate) fn text_arg(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::BpChar(s) => s.trim_end_matches(' ').to_string(),
        other => other.to_string(),
    }
}

pub(crate) fn int_arg(v: &Value) -> Result<i64> {
    Ok(match v {
        Value::Int2(i) => i64::from(*i),
        Value::Int4(i) => i64::from(*i),
        Value::Int8(i) => *i,
        Value::Numeric(n) => n.round(0).to_integer(i64::MIN, i64::MAX, "bigint")?,
        Value::Float4(f) => f.round() as i64,
        Value::Float8(f) => f.round() as i64,
        other => {
            return Err(Error::bind(
                "42804",
                format!("expected an integer, got {other}"),
            ));
        }
    })
}

fn undefined(message: &str) -> Error {
    Error::Runtime {
        sqlstate: "2201F",
        message: message.into(),
    }
}

fn log_error(message: &str) -> Error {
    Error::Runtime {
        sqlstate: "2201E",
        message: message.into(),
    }
}

/// A double precision result, 22003 when it overflowed to infinity.
fn float_result(f: f64) -> Result<Value> {
    if f.is_infinite() {
        return Err(Error::Runtime {
            sqlstate: "22003",
            message: "value out of range: overflow".into(),
        });
    }
    Ok(Value::Float8(f))
}

fn is_exact_numeric(t: Option<DataType>) -> bool {
    matches!(t, Some(DataType::Numeric(_)))
}

fn is_integer_arg(t: Option<DataType>) -> bool {
    t.is_none_or(|t| matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8))
}

/// The greatest common divisor (PostgreSQL's: never negative; None when it overflows).
fn gcd(a: i64, b: i64) -> Option<i64> {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    i64::try_from(a).ok()
}

fn lcm(a: i64, b: i64) -> Option<i64> {
    if a == 0 || b == 0 {
        return Some(0);
    }
    let g = gcd(a, b)?;
    (a / g).checked_mul(b).map(i64::abs)
}

pub(crate) fn float_arg(v: &Value) -> Result<f64> {
    Ok(match v {
        Value::Int2(i) => f64::from(*i),
        Value::Int4(i) => f64::from(*i),
        Value::Int8(i) => *i as f64,
        Value::Numeric(n) => n.to_f64()?,
        Value::Float4(f) => f64::from(*f),
        Value::Float8(f) => *f,
        other => {
            return Err(Error::bind(
                "42804",
                format!("expected a number, got {other}"),
            ));
        }
    })
}

pub(crate) fn numeric_arg(v: &Value) -> Result<Numeric> {
    Ok(match v {
        Value::Int2(i) => Numeric::from(*i),
        Value::Int4(i) => Numeric::from(*i),
        Value::Int8(i) => Numeric::from(*i),
        Value::Numeric(n) => n.clone(),
        Value::Float4(f) => Numeric::from_f32(*f),
        Value::Float8(f) => Numeric::from_f64(*f),
        other => {
            return Err(Error::bind(
                "42804",
                format!("expected a number, got {other}"),
            ));
        }
    })
}

fn out_of_range(ty: &str) -> Error {
    Error::Runtime {
        sqlstate: "22003",
        message: format!("{ty} out of range"),
    }
}

fn trim_chars(s: &str, chars: &str, left: bool, right: bool) -> String {
    let set: Vec<char> = chars.chars().collect();
    let mut out = s;
    if left {
        out = out.trim_start_matches(|c| set.contains(&c));
    }
    if right {
        out = out.trim_end_matches(|c| set.contains(&c));
    }
    out.to_string()
}

/// The current time as `timestamptz`.
/// The wall clock as a `timestamptz` (`clock_timestamp()`).
pub fn clock_now() -> Value {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    Value::TimestampTz(TimestampTz(micros - PG_EPOCH_UNIX_MICROS))
}

thread_local! {
    /// The start of the transaction this thread is running a statement of, if the session
    /// set it: `now()` returns it, as in PostgreSQL.
    static TRANSACTION_START: std::cell::Cell<Option<TimestampTz>> =
        const { std::cell::Cell::new(None) };
}

/// Runs `f` with `now()` fixed at `start` (a `timestamptz`; another value leaves the clock).
pub fn with_transaction_start<R>(start: &Value, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<TimestampTz>);
    impl Drop for Restore {
        fn drop(&mut self) {
            TRANSACTION_START.set(self.0);
        }
    }
    let start = match start {
        Value::TimestampTz(t) => Some(*t),
        _ => None,
    };
    let _restore = Restore(TRANSACTION_START.replace(start));
    f()
}

/// `now()`: the start of the current transaction (see [`with_transaction_start`]), or the
/// wall clock outside one.
pub fn now() -> Value {
    match TRANSACTION_START.get() {
        Some(t) => Value::TimestampTz(t),
        None => clock_now(),
    }
}

impl Func {
    /// Evaluates the function on already evaluated arguments. `coalesce` is lazy and
    /// `nextval` needs the transaction: the executor handles both before calling this.
    pub fn eval(&self, args: &[Value]) -> Result<Value> {
        use Value as V;
        if let Func::Array(f) = self {
            return array_functions::eval(*f, args);
        }
        if let Func::Json(f) = self {
            return json_functions::eval(*f, args);
        }
        if let Func::Text(f) = self {
            return text_functions::eval(*f, args);
        }
        if let Func::DateTime(f) = self {
            return datetime_functions::eval(*f, args);
        }
        if let Func::Math(f) = self {
            return math_functions::eval(*f, args);
        }
        if let Func::Regexp(f) = self {
            return regexp_functions::eval(*f, args);
        }
        let strict = !matches!(
            self,
            Func::Concat
                | Func::NullIf
                | Func::Greatest
                | Func::Least
                | Func::TypeOf(_)
                | Func::NumNulls { .. }
        );
        if strict && args.iter().any(Value::is_null) {
            return Ok(V::Null);
        }
        Ok(match self {
            Func::TypeOf(t) => V::Text(t.map_or("unknown", |t| t.sql_name()).to_owned()),
            Func::ColumnSize => V::Int4(column_size(&args[0])?),
            Func::BitLength => {
                let bytes = match &args[0] {
                    V::Bytea(b) => b.len(),
                    other => text_arg(other).len(),
                };
                V::Int4(i32::try_from(bytes * 8).unwrap_or(i32::MAX))
            }
            Func::NumNulls { nonnulls } => {
                let nulls = args.iter().filter(|v| v.is_null()).count();
                let n = if *nonnulls { args.len() - nulls } else { nulls };
                V::Int4(i32::try_from(n).unwrap_or(i32::MAX))
            }
            Func::Grouping if args.len() != 2 => {
                return Err(crate::exec::internal("GROUPING outside a grouped query"));
            }
            Func::Grouping => match (&args[0], &args[1]) {
                (V::Int4(set), V::Array(values)) => values
                    .items()
                    .get(*set as usize)
                    .cloned()
                    .unwrap_or(V::Null),
                _ => {
                    return Err(crate::exec::internal(
                        "GROUPING evaluated before binding ended",
                    ));
                }
            },
            Func::Array(_)
            | Func::Text(_)
            | Func::DateTime(_)
            | Func::Math(_)
            | Func::Regexp(_) => {
                unreachable!("array, text, date/time and math functions are evaluated above")
            }
            Func::Json(_) => unreachable!("JSON functions are evaluated above"),
            Func::Regex {
                case_insensitive,
                negated,
            } => V::Bool(
                crate::pattern::is_match(
                    &text_arg(&args[0]),
                    &text_arg(&args[1]),
                    *case_insensitive,
                )? != *negated,
            ),
            Func::Catalog(_) => {
                return Err(Error::Runtime {
                    sqlstate: "XX000",
                    message: "catalog functions are evaluated by the executor".into(),
                });
            }
            Func::Abs => match &args[0] {
                V::Int2(i) => V::Int2(i.checked_abs().ok_or_else(|| out_of_range("smallint"))?),
                V::Int4(i) => V::Int4(i.checked_abs().ok_or_else(|| out_of_range("integer"))?),
                V::Int8(i) => V::Int8(i.checked_abs().ok_or_else(|| out_of_range("bigint"))?),
                V::Numeric(n) => V::Numeric(n.abs()),
                V::Float4(f) => V::Float4(f.abs()),
                V::Float8(f) => V::Float8(f.abs()),
                other => V::Float8(float_arg(other)?.abs()),
            },
            Func::Round | Func::Trunc => {
                let round = *self == Func::Round;
                match (&args[0], args.get(1)) {
                    (V::Float4(_) | V::Float8(_), None) => {
                        let f = float_arg(&args[0])?;
                        V::Float8(if round {
                            f.round_ties_even_pg()
                        } else {
                            f.trunc()
                        })
                    }
                    (v, scale) => {
                        let n = numeric_arg(v)?;
                        let s = scale.map(int_arg).transpose()?.unwrap_or(0) as i32;
                        V::Numeric(if round { n.round(s) } else { n.trunc(s) })
                    }
                }
            }
            Func::Ceil | Func::Floor => {
                let floor = *self == Func::Floor;
                match &args[0] {
                    V::Float4(_) | V::Float8(_) => {
                        let f = float_arg(&args[0])?;
                        V::Float8(if floor { f.floor() } else { f.ceil() })
                    }
                    v => {
                        let n = numeric_arg(v)?;
                        let t = n.trunc(0);
                        let adjust = if floor {
                            n.is_negative() && t != n
                        } else {
                            !n.is_negative() && t != n
                        };
                        let one = Numeric::from(if floor { -1i32 } else { 1 });
                        V::Numeric(if adjust { t.add(&one)? } else { t })
                    }
                }
            }
            Func::Sqrt => {
                let f = float_arg(&args[0])?;
                if f < 0.0 {
                    return Err(Error::Runtime {
                        sqlstate: "2201F",
                        message: "cannot take square root of a negative number".into(),
                    });
                }
                V::Float8(f.sqrt())
            }
            Func::Power => {
                let (x, y) = (float_arg(&args[0])?, float_arg(&args[1])?);
                if x == 0.0 && y < 0.0 {
                    return Err(undefined("zero raised to a negative power is undefined"));
                }
                if x < 0.0 && y.fract() != 0.0 {
                    return Err(undefined(
                        "a negative number raised to a non-integer power yields a complex result",
                    ));
                }
                float_result(x.powf(y))?
            }
            Func::Ln | Func::Log10 => {
                let x = float_arg(&args[0])?;
                if x == 0.0 {
                    return Err(log_error("cannot take logarithm of zero"));
                }
                if x < 0.0 {
                    return Err(log_error("cannot take logarithm of a negative number"));
                }
                V::Float8(if *self == Func::Ln { x.ln() } else { x.log10() })
            }
            Func::Exp => float_result(float_arg(&args[0])?.exp())?,
            // The C library's cbrt, as PostgreSQL's (`cbrt(27)` is 3.0000000000000004).
            Func::Cbrt => V::Float8(float_arg(&args[0])?.cbrt()),
            Func::Degrees => V::Float8(float_arg(&args[0])?.to_degrees()),
            Func::Radians => V::Float8(float_arg(&args[0])?.to_radians()),
            Func::Pi => V::Float8(std::f64::consts::PI),
            Func::Factorial => {
                let n = int_arg(&args[0])?;
                if n < 0 {
                    return Err(Error::Runtime {
                        sqlstate: "22003",
                        message: "factorial of a negative number is undefined".into(),
                    });
                }
                if n > 32177 {
                    return Err(Error::Runtime {
                        sqlstate: "22003",
                        message: "value overflows numeric format".into(),
                    });
                }
                let mut acc = Numeric::from(1i32);
                for i in 2..=n {
                    acc = acc.mul(&Numeric::from(i))?;
                }
                V::Numeric(acc)
            }
            Func::Gcd | Func::Lcm => {
                let (a, b) = (int_arg(&args[0])?, int_arg(&args[1])?);
                let wide = matches!(args[0], V::Int8(_)) || matches!(args[1], V::Int8(_));
                let out = if *self == Func::Gcd {
                    gcd(a, b)
                } else {
                    lcm(a, b)
                };
                let out = out.ok_or_else(|| Error::Runtime {
                    sqlstate: "22003",
                    message: format!("{} out of range", if wide { "bigint" } else { "integer" }),
                })?;
                if wide {
                    V::Int8(out)
                } else {
                    V::Int4(i32::try_from(out).map_err(|_| Error::Runtime {
                        sqlstate: "22003",
                        message: "integer out of range".into(),
                    })?)
                }
            }
            Func::Mod => binary_op(BinaryOp::Mod, &args[0], &args[1])?,
            Func::Sign => match &args[0] {
                V::Numeric(n) => V::Numeric(Numeric::from(if n.is_zero() {
                    0
                } else if n.is_negative() {
                    -1
                } else {
                    1i32
                })),
                other => {
                    let f = float_arg(other)?;
                    V::Float8(if f == 0.0 { 0.0 } else { f.signum() })
                }
            },
            Func::Length => V::Int4(text_arg(&args[0]).chars().count() as i32),
            Func::Lower => V::Text(
                text_arg(&args[0])
                    .chars()
                    .map(text_functions::lower_char)
                    .collect(),
            ),
            Func::Upper => V::Text(
                text_arg(&args[0])
                    .chars()
                    .map(text_functions::upper_char)
                    .collect(),
            ),
            Func::Substr => {
                let start = int_arg(&args[1])?;
                let end = match args.get(2) {
                    Some(len) => {
                        let len = int_arg(len)?;
                        if len < 0 {
                            return Err(Error::Runtime {
                                sqlstate: "22011",
                                message: "negative substring length not allowed".into(),
                            });
                        }
                        start.saturating_add(len)
                    }
                    None => i64::MAX,
                };
                // Characters of text, bytes of bytea.
                let range = |len: usize| {
                    let from = (start.max(1) - 1).min(len as i64) as usize;
                    let to = (end.max(1) - 1).min(len as i64) as usize;
                    from..to.max(from)
                };
                match &args[0] {
                    V::Bytea(b) => V::Bytea(b[range(b.len())].to_vec()),
                    other => {
                        let s: Vec<char> = text_arg(other).chars().collect();
                        V::Text(s[range(s.len())].iter().collect())
                    }
                }
            }
            Func::Trim | Func::Ltrim | Func::Rtrim => {
                let chars = args.get(1).map_or(" ".to_string(), text_arg);
                let (l, r) = match self {
                    Func::Ltrim => (true, false),
                    Func::Rtrim => (false, true),
                    _ => (true, true),
                };
                V::Text(trim_chars(&text_arg(&args[0]), &chars, l, r))
            }
            Func::Replace => {
                let from = text_arg(&args[1]);
                let s = text_arg(&args[0]);
                V::Text(if from.is_empty() {
                    s
                } else {
                    s.replace(&from, &text_arg(&args[2]))
                })
            }
            Func::Concat => V::Text(
                args.iter()
                    .filter(|v| !v.is_null())
                    .map(text_arg)
                    .collect::<String>(),
            ),
            Func::Strpos if matches!(args[0], V::Bytea(_)) => {
                let (V::Bytea(s), V::Bytea(needle)) = (&args[0], &args[1]) else {
                    return Err(crate::exec::internal("position of bytea in another type"));
                };
                let at = if needle.is_empty() {
                    Some(0)
                } else {
                    s.windows(needle.len()).position(|w| w == needle.as_slice())
                };
                V::Int4(at.map_or(0, |i| i as i32 + 1))
            }
            Func::Strpos => {
                let s = text_arg(&args[0]);
                let needle = text_arg(&args[1]);
                V::Int4(match s.find(&needle) {
                    Some(byte) => s[..byte].chars().count() as i32 + 1,
                    None => 0,
                })
            }
            Func::Left | Func::Right => {
                let s: Vec<char> = text_arg(&args[0]).chars().collect();
                let n = int_arg(&args[1])?;
                let len = s.len() as i64;
                let keep = if n >= 0 { n.min(len) } else { (len + n).max(0) } as usize;
                V::Text(if *self == Func::Left {
                    s[..keep].iter().collect()
                } else {
                    s[s.len() - keep..].iter().collect()
                })
            }
            Func::Repeat => {
                let n = int_arg(&args[1])?.max(0) as usize;
                V::Text(text_arg(&args[0]).repeat(n))
            }
            Func::Reverse => V::Text(text_arg(&args[0]).chars().rev().collect()),
            Func::Now => now(),
            Func::ClockTimestamp => clock_now(),
            Func::LocalTimestamp => match now() {
                V::TimestampTz(ts) => V::Timestamp(zqlite_projections::value::Timestamp(ts.0)),
                _ => V::Null,
            },
            Func::CurrentDate => match now() {
                V::TimestampTz(ts) => V::Date(ts.to_date()),
                _ => V::Date(Date(0)),
            },
            Func::CurrentLsn => {
                return Err(Error::unsupported(
                    "zq_current_lsn() without a state to read",
                ));
            }
            Func::Random => V::Float8(random_u64() as f64 / (u64::MAX as f64 + 1.0)),
            Func::GenRandomUuid => V::Uuid(uuid::Uuid::new_v4()),
            Func::NextVal | Func::CurrVal | Func::SetVal | Func::LastVal => {
                return Err(crate::exec::internal(
                    "a sequence function evaluated without the session's sequences",
                ));
            }
            Func::DatePart | Func::Extract => {
                let field = text_arg(&args[0]).to_lowercase();
                let (value, scale) = date_part(&field, &args[1])?;
                if *self == Func::DatePart {
                    V::Float8(value)
                } else {
                    V::Numeric(Numeric::parse(&format!("{value:.scale$}"))?)
                }
            }
            Func::Coalesce => args
                .iter()
                .find(|v| !v.is_null())
                .cloned()
                .unwrap_or(V::Null),
            Func::NullIf => {
                if args[0].is_null() || args[1].is_null() {
                    args[0].clone()
                } else if sql_cmp(&args[0], &args[1])? == Some(std::cmp::Ordering::Equal) {
                    V::Null
                } else {
                    args[0].clone()
                }
            }
            Func::Greatest | Func::Least => {
                let mut best: Option<&Value> = None;
                for v in args.iter().filter(|v| !v.is_null()) {
                    best = Some(match best {
                        None => v,
                        Some(b) => {
                            let ord = cmp_total(v, b);
                            let better = if *self == Func::Greatest {
                                ord.is_gt()
                            } else {
                                ord.is_lt()
                            };
                            if better { v } else { b }
                        }
                    });
                }
                best.cloned().unwrap_or(V::Null)
            }
        })
    }
}

/// A field of a date/time value, and the scale `EXTRACT` shows it with.
fn date_part(field: &str, v: &Value) -> Result<(f64, usize)> {
    const DAY: i64 = 86_400_000_000;
    const UNIX_EPOCH_SECS: f64 = 946_684_800.0;
    // A unit PostgreSQL knows but the type lacks is 0A000; an unknown one 22023.
    const UNITS: &[&str] = &[
        "year",
        "years",
        "decade",
        "decades",
        "century",
        "centuries",
        "millennium",
        "millennia",
        "quarter",
        "month",
        "months",
        "week",
        "day",
        "days",
        "dow",
        "isodow",
        "doy",
        "hour",
        "hours",
        "minute",
        "minutes",
        "second",
        "seconds",
        "milliseconds",
        "millisecond",
        "microseconds",
        "microsecond",
        "epoch",
        "isoyear",
        "julian",
        "timezone",
        "timezone_hour",
        "timezone_minute",
    ];
    let bad = || {
        let known = UNITS.contains(&field);
        Error::Runtime {
            sqlstate: if known { "0A000" } else { "22023" },
            message: format!(
                "unit \"{field}\" {} for type {}",
                if known {
                    "not supported"
                } else {
                    "not recognized"
                },
                v.data_type().map_or("unknown", |t| t.sql_name())
            ),
        }
    };
    if let Value::Interval(iv) = v {
        let secs = iv.micros as f64 / 1e6;
        let years = iv.months / 12;
        return Ok(match field {
            "year" | "years" => (f64::from(years), 0),
            "decade" | "decades" => (f64::from(years / 10), 0),
            "century" | "centuries" => (f64::from(years / 100), 0),
            "millennium" | "millennia" => (f64::from(years / 1000), 0),
            "quarter" => (f64::from(iv.months % 12 / 3 + 1), 0),
            "month" | "months" => (f64::from(iv.months % 12), 0),
            "milliseconds" | "millisecond" => ((iv.micros % 60_000_000) as f64 / 1e3, 3),
            "microseconds" | "microsecond" => ((iv.micros % 60_000_000) as f64, 0),
            "day" | "days" => (f64::from(iv.days), 0),
            "hour" | "hours" => ((iv.micros / 3_600_000_000) as f64, 0),
            "minute" | "minutes" => ((iv.micros / 60_000_000 % 60) as f64, 0),
            "second" | "seconds" => (secs % 60.0, 6),
            "epoch" => (
                f64::from(iv.months) * 30.0 * 86_400.0 + f64::from(iv.days) * 86_400.0 + secs,
                6,
            ),
            _ => return Err(bad()),
        });
    }
    let (days, micros, has_date, has_time) = match v {
        Value::Date(d) => (i64::from(d.0), 0, true, false),
        Value::Timestamp(ts) => (ts.0.div_euclid(DAY), ts.0.rem_euclid(DAY), true, true),
        Value::TimestampTz(ts) => (ts.0.div_euclid(DAY), ts.0.rem_euclid(DAY), true, true),
        Value::Time(t) => (0, t.0, false, true),
        _ => return Err(bad()),
    };
    let date = Date(days as i32);
    let (y, m, d) = date.ymd();
    let doy = || days - i64::from(Date::from_ymd(y, 1, 1).map_or(0, |d| d.0)) + 1;
    // BC years count back from 1 BC (astronomical year 0 is -1).
    let year = if y > 0 { y } else { y - 1 };
    let iso = || {
        let isodow = (days + 5).rem_euclid(7) + 1;
        let thursday = days - (isodow - 1) + 3;
        let (iso_year, _, _) = Date(thursday as i32).ymd();
        let first = i64::from(Date::from_ymd(iso_year, 1, 1).map_or(0, |d| d.0));
        (iso_year, (thursday - first) / 7 + 1)
    };
    Ok(match field {
        "year" | "years" if has_date => (year as f64, 0),
        "decade" | "decades" if has_date => {
            let decade = if y >= 0 {
                y / 10
            } else {
                -((8 - (y - 1)) / 10)
            };
            (decade as f64, 0)
        }
        "century" | "centuries" if has_date => {
            let c = if y > 0 {
                (y + 99) / 100
            } else {
                -((99 - (y - 1)) / 100)
            };
            (c as f64, 0)
        }
        "millennium" | "millennia" if has_date => {
            let m = if y > 0 {
                (y + 999) / 1000
            } else {
                -((999 - (y - 1)) / 1000)
            };
            (m as f64, 0)
        }
        "week" if has_date => (iso().1 as f64, 0),
        "isoyear" if has_date => {
            let iy = iso().0;
            ((if iy > 0 { iy } else { iy - 1 }) as f64, 0)
        }
        "julian" if has_date && !has_time => ((days + 2_451_545) as f64, 0),
        "milliseconds" | "millisecond" if has_time => ((micros % 60_000_000) as f64 / 1e3, 3),
        "microseconds" | "microsecond" if has_time => ((micros % 60_000_000) as f64, 0),
        "timezone" | "timezone_hour" | "timezone_minute" if matches!(v, Value::TimestampTz(_)) => {
            (0.0, 0)
        }
        "quarter" if has_date => (f64::from((m - 1) / 3 + 1), 0),
        "month" | "months" if has_date => (f64::from(m), 0),
        "day" | "days" if has_date => (f64::from(d), 0),
        "dow" if has_date => ((days + 6).rem_euclid(7) as f64, 0),
        "isodow" if has_date => (((days + 5).rem_euclid(7) + 1) as f64, 0),
        "doy" if has_date => (doy() as f64, 0),
        "hour" | "hours" if has_time => ((micros / 3_600_000_000) as f64, 0),
        "minute" | "minutes" if has_time => ((micros / 60_000_000 % 60) as f64, 0),
        "second" | "seconds" if has_time => ((micros % 60_000_000) as f64 / 1e6, 6),
        "epoch" => (
            (days * 86_400) as f64
                + micros as f64 / 1e6
                + if has_date { UNIX_EPOCH_SECS } else { 0.0 },
            if has_time { 6 } else { 0 },
        ),
        _ => return Err(bad()),
    })
}

trait RoundPg {
    fn round_ties_even_pg(self) -> f64;
}

impl RoundPg for f64 {
    /// PostgreSQL's `round(float8)` uses rint(): halves go to the even neighbour.
    fn round_ties_even_pg(self) -> f64 {
        self.round_ties_even()
    }
}

fn random_u64() -> u64 {
    let b = uuid::Uuid::new_v4();
    let bytes = b.as_bytes();
    u64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8]))
}

/// The size PostgreSQL's `pg_column_size` reports for a value computed in a query (a
/// varlena value then has a 4-byte header; stored values may have a 1-byte one).
fn column_size(v: &Value) -> Result<i32> {
    use Value as V;
    let varlena = |n: usize| i32::try_from(n + 4).unwrap_or(i32::MAX);
    Ok(match v {
        V::Bool(_) => 1,
        V::Int2(_) => 2,
        V::Int4(_) | V::Float4(_) | V::Date(_) => 4,
        V::Int8(_) | V::Float8(_) | V::Time(_) | V::Timestamp(_) | V::TimestampTz(_) => 8,
        V::Interval(_) | V::Uuid(_) => 16,
        V::Text(s) => varlena(s.len()),
        V::Bytea(b) => varlena(b.len()),
        // Header, sign/weight/scale word and one 2-byte word per base-10000 digit.
        V::Numeric(n) => 6 + 2 * numeric_base10000_digits(&n.to_string()),
        other => {
            return Err(Error::unsupported(format!(
                "pg_column_size of a {} value",
                other.data_type().map_or("unknown", |t| t.sql_name())
            )));
        }
    })
}

/// The base-10000 digits PostgreSQL stores for a numeric's decimal text, leading and
/// trailing zero digits stripped.
fn numeric_base10000_digits(text: &str) -> i32 {
    let body = text.trim_start_matches('-');
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return 0;
    }
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut groups: Vec<u32> = Vec::new();
    let pad = (4 - int.len() % 4) % 4;
    let int: String = "0".repeat(pad) + int;
    for chunk in int.as_bytes().chunks(4) {
        groups.push(
            std::str::from_utf8(chunk)
                .unwrap_or("0")
                .parse()
                .unwrap_or(0),
        );
    }
    let frac = format!("{frac:0<width$}", width = frac.len().div_ceil(4) * 4);
    for chunk in frac.as_bytes().chunks(4) {
        groups.push(
            std::str::from_utf8(chunk)
                .unwrap_or("0")
                .parse()
                .unwrap_or(0),
        );
    }
    let first = groups.iter().position(|g| *g != 0);
    let last = groups.iter().rposition(|g| *g != 0);
    match (first, last) {
        (Some(f), Some(l)) => (l - f + 1) as i32,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_sizes_as_postgresql_reports_them() {
        let num = |s: &str| Value::Numeric(Numeric::parse(s).unwrap());
        assert_eq!(column_size(&num("1.5")).unwrap(), 10);
        assert_eq!(column_size(&num("12345.678")).unwrap(), 12);
        assert_eq!(column_size(&num("0")).unwrap(), 6);
        assert_eq!(column_size(&num("100000000")).unwrap(), 8);
        assert_eq!(column_size(&Value::Text("abc".into())).unwrap(), 7);
        assert_eq!(column_size(&Value::Bool(true)).unwrap(), 1);
        assert_eq!(column_size(&Value::Int4(1)).unwrap(), 4);
    }

    #[test]
    fn substr_counts_characters_of_text_and_bytes_of_bytea() {
        let t = |s: &str| Value::Text(s.into());
        let i = Value::Int4;
        let substr = |args: &[Value]| Func::Substr.eval(args).unwrap();
        assert_eq!(substr(&[t("abc"), i(0), i(2)]), t("a"));
        assert_eq!(substr(&[t("abc"), i(-1), i(3)]), t("a"));
        assert_eq!(substr(&[t("a"), i(3)]), t(""));
        assert_eq!(substr(&[t("日本語"), i(2), i(1)]), t("本"));
        let b = |v: &[u8]| Value::Bytea(v.to_vec());
        assert_eq!(substr(&[b(&[1, 2, 3, 4]), i(2), i(2)]), b(&[2, 3]));
        assert_eq!(substr(&[b(&[1]), i(5)]), b(&[]));
        assert_eq!(
            Func::Strpos.eval(&[b(&[1, 2, 3]), b(&[3])]).unwrap(),
            Value::Int4(3)
        );
    }
}
