//! Date and time functions beyond `now()`, `date_part` and `EXTRACT` (in `functions.rs`):
//! `date_trunc`, `age`, `make_date`/`make_time`/`make_timestamp`/`make_timestamptz`/
//! `make_interval`, `to_char` on timestamps, dates and intervals, `to_timestamp` and
//! `to_date` with a format, `to_timestamp(epoch)`, `justify_*`, `isfinite`, and
//! `timezone()`/`AT TIME ZONE` with UTC, offsets and IANA names ([`Zone`]).
//!
//! The session time zone is UTC, so a `timestamptz` shows and truncates as UTC unless a
//! zone is given. Formats follow PostgreSQL's template patterns (`format.rs` in
//! `datetime_format`); results and errors are PostgreSQL 15's (`tests/slt/datetime.slt`).
//! Every function is strict (NULL in, NULL out).

use zqlite_projections::value::{
    DataType, Date, Interval, Time, Timestamp, TimestampTz, Value, Zone, civil_from_pg_days,
    days_in_month, pg_days,
};

use crate::datetime_format;
use crate::error::{Error, Result};
use crate::functions::{is_string_arg, no_function, now, text_arg};

pub(crate) const USECS_PER_SEC: i64 = 1_000_000;
pub(crate) const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;
/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateTimeFunc {
    DateTrunc,
    /// `date_trunc(field, timestamptz, zone)`.
    DateTruncZone,
    Age,
    /// `age(ts)`: from midnight today.
    AgeFromToday,
    MakeDate,
    MakeTime,
    MakeTimestamp,
    MakeTimestampTz,
    MakeInterval,
    ToChar,
    ToTimestamp,
    ToTimestampEpoch,
    ToDate,
    /// `timezone(zone, value)`, which `value AT TIME ZONE zone` becomes.
    Timezone,
    /// `date_bin(stride, source, origin)`.
    DateBin,
    /// `(start1, end1) OVERLAPS (start2, end2)`, on four values of one moment type.
    Overlaps,
    /// A cast to `timestamp(p)`, `timestamptz(p)`, `time(p)` or `interval(p)`: rounds to
    /// `p` fractional digits of a second, half away from zero.
    Precision(u8),
    JustifyDays,
    JustifyHours,
    JustifyInterval,
    IsFinite,
}

const NAMES: &[(&str, DateTimeFunc)] = &[
    ("date_trunc", DateTimeFunc::DateTrunc),
    ("age", DateTimeFunc::Age),
    ("make_date", DateTimeFunc::MakeDate),
    ("make_time", DateTimeFunc::MakeTime),
    ("make_timestamp", DateTimeFunc::MakeTimestamp),
    ("make_timestamptz", DateTimeFunc::MakeTimestampTz),
    ("make_interval", DateTimeFunc::MakeInterval),
    ("to_char", DateTimeFunc::ToChar),
    ("to_timestamp", DateTimeFunc::ToTimestamp),
    ("to_date", DateTimeFunc::ToDate),
    ("timezone", DateTimeFunc::Timezone),
    ("date_bin", DateTimeFunc::DateBin),
    ("justify_days", DateTimeFunc::JustifyDays),
    ("justify_hours", DateTimeFunc::JustifyHours),
    ("justify_interval", DateTimeFunc::JustifyInterval),
    ("isfinite", DateTimeFunc::IsFinite),
];

/// `make_interval`'s parameters, which calls may name (`make_interval(days => 3)`).
pub const MAKE_INTERVAL_PARAMS: &[&str] =
    &["years", "months", "weeks", "days", "hours", "mins", "secs"];

impl DateTimeFunc {
    pub fn name(&self) -> &'static str {
        match self {
            DateTimeFunc::DateTruncZone => "date_trunc",
            DateTimeFunc::AgeFromToday => "age",
            DateTimeFunc::ToTimestampEpoch => "to_timestamp",
            DateTimeFunc::Overlaps => "overlaps",
            DateTimeFunc::Precision(_) => "precision",
            other => NAMES
                .iter()
                .find(|(_, f)| f == other)
                .map(|(name, _)| *name)
                .expect("every function has a name"),
        }
    }

    /// Whether two calls with the same arguments may give different results.
    pub fn is_volatile(&self) -> bool {
        *self == DateTimeFunc::AgeFromToday
    }
}

pub fn is_datetime_function(name: &str) -> bool {
    NAMES.iter().any(|(n, _)| *n == name)
}

/// The parameter names of a function that takes named arguments, with their defaults
/// (all zero).
pub fn named_parameters(name: &str) -> Option<&'static [&'static str]> {
    (name == "make_interval").then_some(MAKE_INTERVAL_PARAMS)
}

/// A call resolved: the function, the type each argument is coerced to (`None`: as it
/// is), and the result type.
#[derive(Debug)]
pub struct Resolved {
    pub func: DateTimeFunc,
    pub arg_types: Vec<Option<DataType>>,
    pub result: DataType,
}

fn is_numeric(t: &Option<DataType>) -> bool {
    t.is_none_or(|t| {
        matches!(
            t,
            DataType::Int2
                | DataType::Int4
                | DataType::Int8
                | DataType::Numeric(_)
                | DataType::Float4
                | DataType::Float8
        )
    })
}

fn is_integer(t: &Option<DataType>) -> bool {
    t.is_none_or(|t| matches!(t, DataType::Int2 | DataType::Int4))
}

/// The date/time type a value argument is read as: an unknown literal or a date is a
/// `timestamptz` (PostgreSQL's preferred type of the category).
fn moment(t: &Option<DataType>) -> Option<DataType> {
    match t {
        None | Some(DataType::Date) | Some(DataType::TimestampTz) => Some(DataType::TimestampTz),
        Some(DataType::Timestamp) => Some(DataType::Timestamp),
        _ => None,
    }
}

/// Resolves a call of `name` (one of [`is_datetime_function`]'s).
pub fn resolve(name: &str, args: &[Option<DataType>]) -> Result<Resolved> {
    use DataType as T;
    use DateTimeFunc as F;
    let fail = || no_function(name, args);
    let text = Some(T::Text);
    let int = Some(T::Int4);
    let float = Some(T::Float8);
    let (func, arg_types, result) = match (name, args) {
        ("date_trunc", [f, v]) if is_string_arg(f) => match v {
            Some(T::Interval) => (F::DateTrunc, vec![text, None], T::Interval),
            v => {
                let ty = moment(v).ok_or_else(fail)?;
                (F::DateTrunc, vec![text, Some(ty)], ty)
            }
        },
        ("date_trunc", [f, v, z]) if is_string_arg(f) && is_string_arg(z) => {
            (moment(v) == Some(T::TimestampTz))
                .then_some(())
                .ok_or_else(fail)?;
            let tz = Some(T::TimestampTz);
            (F::DateTruncZone, vec![text, tz, text], T::TimestampTz)
        }
        ("age", [a]) => {
            let ty = moment(a).ok_or_else(fail)?;
            (F::AgeFromToday, vec![Some(ty)], T::Interval)
        }
        ("age", [a, b]) => {
            let ty = match (moment(a), moment(b)) {
                (Some(T::Timestamp), Some(T::Timestamp)) => T::Timestamp,
                (Some(_), Some(_)) if a.is_some() && b.is_some() => T::TimestampTz,
                (Some(T::Timestamp), Some(_)) | (Some(_), Some(T::Timestamp)) => T::Timestamp,
                (Some(_), Some(_)) => T::TimestampTz,
                _ => return Err(fail()),
            };
            (F::Age, vec![Some(ty), Some(ty)], T::Interval)
        }
        ("make_date", [a, b, c]) if [a, b, c].iter().all(|t| is_integer(t)) => {
            (F::MakeDate, vec![int; 3], T::Date)
        }
        ("make_time", [a, b, c]) if is_integer(a) && is_integer(b) && is_numeric(c) => {
            (F::MakeTime, vec![int, int, float], T::Time)
        }
        ("make_timestamp", [_, _, _, _, _, s])
            if args[..5].iter().all(is_integer) && is_numeric(s) =>
        {
            let mut types = vec![int; 5];
            types.push(float);
            (F::MakeTimestamp, types, T::Timestamp)
        }
        ("make_timestamptz", [_, _, _, _, _, s, rest @ ..])
            if rest.len() <= 1
                && args[..5].iter().all(is_integer)
                && is_numeric(s)
                && rest.iter().all(is_string_arg) =>
        {
            let mut types = vec![int; 5];
            types.push(float);
            types.extend(rest.iter().map(|_| text));
            (F::MakeTimestampTz, types, T::TimestampTz)
        }
        ("make_interval", [_, _, _, _, _, _, s])
            if args[..6].iter().all(is_integer) && is_numeric(s) =>
        {
            let mut types = vec![int; 6];
            types.push(float);
            (F::MakeInterval, types, T::Interval)
        }
        ("to_char", [v, f]) if is_string_arg(f) => {
            let ty = match v {
                Some(T::Interval) => T::Interval,
                Some(T::Timestamp) => T::Timestamp,
                Some(T::TimestampTz | T::Date) => T::TimestampTz,
                _ => return Err(fail()),
            };
            (F::ToChar, vec![Some(ty), text], T::Text)
        }
        ("to_timestamp", [v]) if is_numeric(v) && v.is_some() => {
            (F::ToTimestampEpoch, vec![float], T::TimestampTz)
        }
        ("to_timestamp", [a, b]) if is_string_arg(a) && is_string_arg(b) => {
            (F::ToTimestamp, vec![text, text], T::TimestampTz)
        }
        ("to_date", [a, b]) if is_string_arg(a) && is_string_arg(b) => {
            (F::ToDate, vec![text, text], T::Date)
        }
        ("timezone", [z, v]) if is_string_arg(z) || *z == Some(T::Interval) => {
            let zone = if *z == Some(T::Interval) { None } else { text };
            match v {
                Some(T::Timestamp) => (F::Timezone, vec![zone, None], T::TimestampTz),
                Some(T::TimestampTz | T::Date) | None => {
                    (F::Timezone, vec![zone, Some(T::TimestampTz)], T::Timestamp)
                }
                _ => return Err(fail()),
            }
        }
        ("date_bin", [stride, v, origin]) if stride.is_none_or(|t| t == T::Interval) => {
            let ty = match (moment(v), moment(origin)) {
                (Some(T::Timestamp), Some(T::Timestamp)) if v.is_some() || origin.is_some() => {
                    T::Timestamp
                }
                (Some(_), Some(_)) => T::TimestampTz,
                _ => return Err(fail()),
            };
            (F::DateBin, vec![Some(T::Interval), Some(ty), Some(ty)], ty)
        }
        ("justify_days" | "justify_hours" | "justify_interval", [v])
            if v.is_none_or(|t| t == T::Interval) =>
        {
            let func = match name {
                "justify_days" => F::JustifyDays,
                "justify_hours" => F::JustifyHours,
                _ => F::JustifyInterval,
            };
            (func, vec![Some(T::Interval)], T::Interval)
        }
        ("isfinite", [v]) => {
            let ty = match v {
                Some(T::Date) => T::Date,
                Some(T::Interval) => T::Interval,
                v => moment(v).ok_or_else(fail)?,
            };
            (F::IsFinite, vec![Some(ty)], T::Bool)
        }
        _ => return Err(fail()),
    };
    Ok(Resolved {
        func,
        arg_types,
        result,
    })
}

fn runtime(sqlstate: &'static str, message: impl Into<String>) -> Error {
    Error::Runtime {
        sqlstate,
        message: message.into(),
    }
}

pub(crate) fn field_out_of_range(what: &str) -> Error {
    runtime(
        "22008",
        format!("date/time field value out of range: {what}"),
    )
}

fn timestamp_out_of_range() -> Error {
    runtime("22008", "timestamp out of range")
}

/// Evaluates a date/time function on evaluated arguments.
pub fn eval(func: DateTimeFunc, args: &[Value]) -> Result<Value> {
    use DateTimeFunc as F;
    use Value as V;
    if args.iter().any(Value::is_null) {
        return Ok(V::Null);
    }
    let int = |i: usize| -> i64 {
        match &args[i] {
            V::Int2(v) => i64::from(*v),
            V::Int4(v) => i64::from(*v),
            V::Int8(v) => *v,
            _ => 0,
        }
    };
    let float = |i: usize| -> f64 {
        match &args[i] {
            V::Float8(v) => *v,
            V::Float4(v) => f64::from(*v),
            _ => int(i) as f64,
        }
    };
    let text = |i: usize| text_arg(&args[i]);
    Ok(match func {
        F::DateTrunc => {
            let field = text(0).to_ascii_lowercase();
            match &args[1] {
                V::Interval(iv) => V::Interval(trunc_interval(&field, iv)?),
                V::Timestamp(ts) => {
                    V::Timestamp(Timestamp(trunc_micros(&field, ts.0, "timestamp")?))
                }
                V::TimestampTz(ts) => V::TimestampTz(TimestampTz(trunc_micros(
                    &field,
                    ts.0,
                    "timestamp with time zone",
                )?)),
                _ => return Err(crate::exec::internal("date_trunc of an unexpected value")),
            }
        }
        F::DateTruncZone => {
            let field = text(0).to_ascii_lowercase();
            let V::TimestampTz(ts) = &args[1] else {
                return Err(crate::exec::internal("date_trunc with a zone"));
            };
            let zone = Zone::parse(&text(2))?;
            if !finite(ts.0) {
                return Ok(args[1].clone());
            }
            let local = ts.0 + zone.offset_at(ts.0) * USECS_PER_SEC;
            let truncated = trunc_micros(&field, local, "timestamp with time zone")?;
            V::TimestampTz(TimestampTz(
                truncated - zone.offset_of_local(truncated) * USECS_PER_SEC,
            ))
        }
        F::Age => V::Interval(age(moment_micros(&args[0]), moment_micros(&args[1]))?),
        F::AgeFromToday => {
            let V::TimestampTz(now) = now() else {
                return Err(crate::exec::internal("now() is a timestamptz"));
            };
            let midnight = now.0.div_euclid(USECS_PER_DAY) * USECS_PER_DAY;
            V::Interval(age(midnight, moment_micros(&args[0]))?)
        }
        F::MakeDate => V::Date(make_date(int(0), int(1), int(2))?),
        F::MakeTime => V::Time(Time(make_time(int(0), int(1), float(2))?)),
        F::MakeTimestamp => V::Timestamp(Timestamp(make_timestamp(args)?)),
        F::MakeTimestampTz => {
            let local = make_timestamp(args)?;
            let offset = match args.get(6) {
                Some(z) => {
                    // Here a numeric zone has the ISO sign (`+05` is east of Greenwich),
                    // unlike in AT TIME ZONE.
                    let name = text_arg(z);
                    let trimmed = name.trim_start();
                    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
                        return Err(Error::Runtime {
                            sqlstate: "22023",
                            message: format!(
                                "invalid input syntax for numeric time zone: \"{name}\""
                            ),
                        });
                    }
                    let offset = Zone::parse(&name)?.offset_of_local(local);
                    if trimmed.starts_with(['+', '-']) {
                        -offset
                    } else {
                        offset
                    }
                }
                None => 0,
            };
            V::TimestampTz(TimestampTz(local - offset * USECS_PER_SEC))
        }
        F::MakeInterval => V::Interval(make_interval(args)?),
        F::Precision(p) => {
            let round = |x: i64| round_micros(x, p);
            match &args[0] {
                V::Timestamp(t) if finite(t.0) => V::Timestamp(Timestamp(round(t.0))),
                V::TimestampTz(t) if finite(t.0) => V::TimestampTz(TimestampTz(round(t.0))),
                V::Time(t) => V::Time(Time(round(t.0))),
                V::Interval(iv) => V::Interval(Interval {
                    micros: round(iv.micros),
                    ..*iv
                }),
                other => other.clone(),
            }
        }
        F::Overlaps => match overlaps(args) {
            Some(b) => V::Bool(b),
            None => V::Null,
        },
        F::DateBin => {
            let V::Interval(stride) = &args[0] else {
                return Err(crate::exec::internal("date_bin of an unexpected value"));
            };
            if stride.months != 0 {
                return Err(Error::Runtime {
                    sqlstate: "0A000",
                    message:
                        "timestamps cannot be binned into intervals containing months or years"
                            .into(),
                });
            }
            let stride = i64::from(stride.days)
                .checked_mul(USECS_PER_DAY)
                .and_then(|d| d.checked_add(stride.micros))
                .filter(|s| *s > 0)
                .ok_or_else(|| Error::Runtime {
                    sqlstate: "22023",
                    message: "stride must be greater than zero".into(),
                })?;
            let micros = |v: &Value| match v {
                V::Timestamp(t) => Some(t.0),
                V::TimestampTz(t) => Some(t.0),
                _ => None,
            };
            let (Some(source), Some(origin)) = (micros(&args[1]), micros(&args[2])) else {
                return Err(crate::exec::internal("date_bin of an unexpected value"));
            };
            if !finite(source) || !finite(origin) {
                return Err(Error::Runtime {
                    sqlstate: "22008",
                    message: "timestamp out of range".into(),
                });
            }
            let binned = source
                .checked_sub(origin)
                .map(|d| d.div_euclid(stride) * stride)
                .and_then(|d| origin.checked_add(d))
                .ok_or_else(|| Error::Runtime {
                    sqlstate: "22008",
                    message: "timestamp out of range".into(),
                })?;
            match &args[1] {
                V::Timestamp(_) => V::Timestamp(Timestamp(binned)),
                _ => V::TimestampTz(TimestampTz(binned)),
            }
        }
        // An empty format gives NULL, as in PostgreSQL.
        F::ToChar if text(1).is_empty() => V::Null,
        F::ToChar => V::Text(match &args[0] {
            V::Interval(iv) => datetime_format::format_interval(iv, &text(1))?,
            V::Timestamp(ts) => {
                if !finite(ts.0) {
                    return Ok(V::Null);
                }
                datetime_format::format_moment(ts.0, None, &text(1))?
            }
            V::TimestampTz(ts) => {
                if !finite(ts.0) {
                    return Ok(V::Null);
                }
                datetime_format::format_moment(ts.0, Some(0), &text(1))?
            }
            _ => return Err(crate::exec::internal("to_char of an unexpected value")),
        }),
        F::ToTimestamp => {
            let parsed = datetime_format::parse(&text(0), &text(1), false)?;
            V::TimestampTz(TimestampTz(parsed))
        }
        F::ToDate => {
            let parsed = datetime_format::parse(&text(0), &text(1), true)?;
            V::Date(Date(parsed.div_euclid(USECS_PER_DAY) as i32))
        }
        F::ToTimestampEpoch => V::TimestampTz(TimestampTz(from_epoch(float(0))?)),
        F::Timezone => {
            let zone = match &args[0] {
                V::Interval(iv) => Zone::from_interval(iv, &iv.to_string())?,
                other => Zone::parse(&text_arg(other))?,
            };
            match &args[1] {
                V::Timestamp(ts) if !finite(ts.0) => V::TimestampTz(TimestampTz(ts.0)),
                V::TimestampTz(ts) if !finite(ts.0) => V::Timestamp(Timestamp(ts.0)),
                V::Timestamp(ts) => V::TimestampTz(TimestampTz(checked_shift(
                    ts.0,
                    -zone.offset_of_local(ts.0),
                )?)),
                V::TimestampTz(ts) => {
                    V::Timestamp(Timestamp(checked_shift(ts.0, zone.offset_at(ts.0))?))
                }
                _ => return Err(crate::exec::internal("timezone of an unexpected value")),
            }
        }
        F::JustifyDays | F::JustifyHours | F::JustifyInterval => {
            let V::Interval(iv) = &args[0] else {
                return Err(crate::exec::internal("justify takes an interval"));
            };
            V::Interval(match func {
                F::JustifyDays => justify_days(iv),
                F::JustifyHours => iv.justify_hours(),
                _ => justify_interval(iv),
            })
        }
        F::IsFinite => V::Bool(match &args[0] {
            V::Date(d) => d.is_finite(),
            V::Timestamp(ts) => ts.is_finite(),
            V::TimestampTz(ts) => ts.is_finite(),
            _ => true,
        }),
    })
}

fn finite(micros: i64) -> bool {
    micros != i64::MIN && micros != i64::MAX
}

fn moment_micros(v: &Value) -> i64 {
    match v {
        Value::Timestamp(ts) => ts.0,
        Value::TimestampTz(ts) => ts.0,
        _ => 0,
    }
}

fn checked_shift(micros: i64, secs: i64) -> Result<i64> {
    micros
        .checked_add(secs * USECS_PER_SEC)
        .filter(|v| finite(*v))
        .ok_or_else(timestamp_out_of_range)
}

/// The units `date_trunc` knows, from the finest.
fn unit(field: &str, type_name: &str) -> Result<&'static str> {
    Ok(match field {
        "microseconds" | "microsecond" | "us" | "usec" | "usecs" => "microseconds",
        "milliseconds" | "millisecond" | "ms" | "msec" | "msecs" => "milliseconds",
        "second" | "seconds" | "s" | "sec" | "secs" => "second",
        "minute" | "minutes" | "m" | "min" | "mins" => "minute",
        "hour" | "hours" | "h" | "hr" | "hrs" => "hour",
        "day" | "days" | "d" => "day",
        "week" | "weeks" | "w" => "week",
        "month" | "months" | "mon" | "mons" => "month",
        "quarter" | "qtr" => "quarter",
        "year" | "years" | "y" | "yr" | "yrs" => "year",
        "decade" | "decades" => "decade",
        "century" | "centuries" => "century",
        "millennium" | "millennia" | "mil" | "mils" => "millennium",
        _ => {
            return Err(runtime(
                "22023",
                format!("unit \"{field}\" not recognized for type {type_name}"),
            ));
        }
    })
}

/// `date_trunc` of a timestamp's microseconds (local time).
fn trunc_micros(field: &str, micros: i64, type_name: &str) -> Result<i64> {
    let unit = unit(field, type_name)?;
    if !finite(micros) {
        return Ok(micros);
    }
    let days = micros.div_euclid(USECS_PER_DAY);
    let (y, m, _) = civil_from_pg_days(days);
    let at = |y: i64, m: u32| pg_days(y, m, 1) * USECS_PER_DAY;
    // PostgreSQL's rules (C division): centuries and millennia start at years 1, 101, ...;
    // `y` is astronomical (1 BC is 0).
    let first_year = |span: i64, offset: i64| -> i64 {
        if y > 0 {
            (y + span - 1) / span * span - offset
        } else {
            -((span - 1 - (y - 1)) / span) * span + 1
        }
    };
    Ok(match unit {
        "microseconds" => micros,
        "milliseconds" => micros.div_euclid(1000) * 1000,
        "second" => micros.div_euclid(USECS_PER_SEC) * USECS_PER_SEC,
        "minute" => micros.div_euclid(60 * USECS_PER_SEC) * 60 * USECS_PER_SEC,
        "hour" => micros.div_euclid(3600 * USECS_PER_SEC) * 3600 * USECS_PER_SEC,
        "day" => days * USECS_PER_DAY,
        // ISO weeks start on Monday; 2000-01-03 (day 2) was a Monday.
        "week" => (days - (days - 2).rem_euclid(7)) * USECS_PER_DAY,
        "month" => at(y, m),
        "quarter" => at(y, (m - 1) / 3 * 3 + 1),
        "year" => at(y, 1),
        "decade" if y > 0 => at(y / 10 * 10, 1),
        "decade" => at(-((8 - (y - 1)) / 10) * 10, 1),
        "century" => at(first_year(100, 99), 1),
        _ => at(first_year(1000, 999), 1),
    })
}

/// `date_trunc` of an interval: fields below the unit become zero.
fn trunc_interval(field: &str, iv: &Interval) -> Result<Interval> {
    let unit = unit(field, "interval")?;
    let (months, days, micros) = (iv.months, iv.days, iv.micros);
    let keep = |span: i64| micros / span * span;
    let years = |n: i32| months / (12 * n) * (12 * n);
    Ok(match unit {
        "microseconds" => *iv,
        "milliseconds" => Interval {
            micros: keep(1000),
            ..*iv
        },
        "second" => Interval {
            micros: keep(USECS_PER_SEC),
            ..*iv
        },
        "minute" => Interval {
            micros: keep(60 * USECS_PER_SEC),
            ..*iv
        },
        "hour" => Interval {
            micros: keep(3600 * USECS_PER_SEC),
            ..*iv
        },
        "day" => Interval {
            months,
            days,
            micros: 0,
        },
        "month" => Interval {
            months,
            days: 0,
            micros: 0,
        },
        "quarter" => Interval {
            months: months / 3 * 3,
            days: 0,
            micros: 0,
        },
        "year" => Interval {
            months: years(1),
            days: 0,
            micros: 0,
        },
        "decade" => Interval {
            months: years(10),
            days: 0,
            micros: 0,
        },
        "century" => Interval {
            months: years(100),
            days: 0,
            micros: 0,
        },
        "millennium" => Interval {
            months: years(1000),
            days: 0,
            micros: 0,
        },
        _ => {
            return Err(runtime(
                "0A000",
                format!("unit \"{field}\" not supported for type interval"),
            ));
        }
    })
}

/// A timestamp split into calendar fields.
struct Broken {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
}

fn broken(us: i64) -> Broken {
    let days = us.div_euclid(USECS_PER_DAY);
    let time = us.rem_euclid(USECS_PER_DAY);
    let (year, month, day) = civil_from_pg_days(days);
    Broken {
        year,
        month: i64::from(month),
        day: i64::from(day),
        hour: time / (3600 * USECS_PER_SEC),
        minute: time / (60 * USECS_PER_SEC) % 60,
        second: time / USECS_PER_SEC % 60,
        micros: time % USECS_PER_SEC,
    }
}

/// `age(a, b)`: the difference in years, months and days, then time, as PostgreSQL's
/// `timestamp_age` computes it field by field.
fn age(a: i64, b: i64) -> Result<Interval> {
    if !finite(a) || !finite(b) {
        return Err(runtime("22008", "cannot subtract infinite timestamps"));
    }
    let (t1, t2) = (broken(a), broken(b));
    let mut us = t1.micros - t2.micros;
    let mut sec = t1.second - t2.second;
    let mut min = t1.minute - t2.minute;
    let mut hour = t1.hour - t2.hour;
    let mut day = t1.day - t2.day;
    let mut mon = t1.month - t2.month;
    let mut year = t1.year - t2.year;
    let flip = a < b;
    if flip {
        (us, sec, min, hour, day, mon, year) = (-us, -sec, -min, -hour, -day, -mon, -year);
    }
    while us < 0 {
        us += USECS_PER_SEC;
        sec -= 1;
    }
    while sec < 0 {
        sec += 60;
        min -= 1;
    }
    while min < 0 {
        min += 60;
        hour -= 1;
    }
    while hour < 0 {
        hour += 24;
        day -= 1;
    }
    while day < 0 {
        let (y, m) = if flip {
            (t1.year, t1.month)
        } else {
            (t2.year, t2.month)
        };
        day += i64::from(days_in_month(y, m as u32));
        mon -= 1;
    }
    while mon < 0 {
        mon += 12;
        year -= 1;
    }
    if flip {
        (us, sec, min, hour, day, mon, year) = (-us, -sec, -min, -hour, -day, -mon, -year);
    }
    let months = i32::try_from(year * 12 + mon).map_err(|_| interval_out_of_range())?;
    let days = i32::try_from(day).map_err(|_| interval_out_of_range())?;
    Ok(Interval {
        months,
        days,
        micros: ((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + us,
    })
}

fn interval_out_of_range() -> Error {
    runtime("22008", "interval out of range")
}

/// `make_date(year, month, day)`: negative years are BC.
fn make_date(year: i64, month: i64, day: i64) -> Result<Date> {
    if year == 0 {
        return Err(field_out_of_range(&format!("{year}-{month:02}-{day:02}")));
    }
    let astronomical = if year < 0 { year + 1 } else { year };
    let valid = (1..=12).contains(&month)
        && day >= 1
        && day <= i64::from(days_in_month(astronomical, month as u32));
    if !valid {
        return Err(field_out_of_range(&format!("{year}-{month:02}-{day:02}")));
    }
    Date::from_ymd(astronomical, month as u32, day as u32)
        .filter(|d| d.is_finite())
        .ok_or_else(|| {
            runtime(
                "22008",
                format!("date out of range: {year}-{month:02}-{day:02}"),
            )
        })
}

/// Microseconds since midnight of `make_time(hour, min, sec)`; 24:00:00 is allowed.
fn make_time(hour: i64, min: i64, sec: f64) -> Result<i64> {
    let micros = (sec * 1e6).round();
    let valid = (0..=24).contains(&hour)
        && (0..60).contains(&min)
        && (0.0..60e6).contains(&micros)
        && (hour < 24 || (min == 0 && micros == 0.0));
    if !valid {
        return Err(field_out_of_range(&format!(
            "{hour:02}:{min:02}:{sec:09.6}"
        )));
    }
    Ok((hour * 60 + min) * 60 * USECS_PER_SEC + micros as i64)
}

fn make_timestamp(args: &[Value]) -> Result<i64> {
    let int = |i: usize| match &args[i] {
        Value::Int4(v) => i64::from(*v),
        Value::Int2(v) => i64::from(*v),
        Value::Int8(v) => *v,
        _ => 0,
    };
    let sec = match &args[5] {
        Value::Float8(v) => *v,
        _ => 0.0,
    };
    let date = make_date(int(0), int(1), int(2))?;
    let time = make_time(int(3), int(4), sec)?;
    i64::from(date.0)
        .checked_mul(USECS_PER_DAY)
        .and_then(|d| d.checked_add(time))
        .filter(|v| finite(*v))
        .ok_or_else(timestamp_out_of_range)
}

fn make_interval(args: &[Value]) -> Result<Interval> {
    let int = |i: usize| match &args[i] {
        Value::Int4(v) => i64::from(*v),
        _ => 0,
    };
    let secs = match &args[6] {
        Value::Float8(v) => *v,
        _ => 0.0,
    };
    if !secs.is_finite() {
        return Err(interval_out_of_range());
    }
    let months = int(0) * 12 + int(1);
    let days = int(2) * 7 + int(3);
    let micros = (int(4) * 3600 + int(5) * 60) as f64 * 1e6 + (secs * 1e6).round();
    let months = i32::try_from(months).map_err(|_| interval_out_of_range())?;
    let days = i32::try_from(days).map_err(|_| interval_out_of_range())?;
    if micros.abs() >= 9.2e18 {
        return Err(interval_out_of_range());
    }
    Ok(Interval {
        months,
        days,
        micros: micros as i64,
    })
}

/// `to_timestamp(seconds since 1970)`.
fn from_epoch(secs: f64) -> Result<i64> {
    if secs.is_nan() {
        return Err(runtime("22008", "timestamp cannot be NaN"));
    }
    if secs == f64::INFINITY {
        return Ok(i64::MAX);
    }
    if secs == f64::NEG_INFINITY {
        return Ok(i64::MIN);
    }
    let micros = (secs * 1e6).round() - PG_EPOCH_UNIX_MICROS as f64;
    // PostgreSQL's range: 4714-11-24 BC to 294276 AD.
    if !(-211_813_488_000_000_000.0..9_224_318_016_000_000_000.0).contains(&micros) {
        return Err(runtime(
            "22008",
            format!(
                "timestamp out of range: \"{}\"",
                zqlite_projections::value::format_f64(secs)
            ),
        ));
    }
    Ok(micros as i64)
}

/// `justify_interval`: whole days out of the time, whole months out of the days, then all
/// fields given one sign (PostgreSQL's `interval_justify_interval`).
fn justify_interval(iv: &Interval) -> Interval {
    let (mut months, mut days, mut micros) = (iv.months, i64::from(iv.days), iv.micros);
    days += micros / USECS_PER_DAY;
    micros %= USECS_PER_DAY;
    months += (days / 30) as i32;
    days %= 30;
    if months > 0 && (days < 0 || (days == 0 && micros < 0)) {
        days += 30;
        months -= 1;
    } else if months < 0 && (days > 0 || (days == 0 && micros > 0)) {
        days -= 30;
        months += 1;
    }
    if days > 0 && micros < 0 {
        micros += USECS_PER_DAY;
        days -= 1;
    } else if days < 0 && micros > 0 {
        micros -= USECS_PER_DAY;
        days += 1;
    }
    Interval {
        months,
        days: days as i32,
        micros,
    }
}

/// `justify_days`: whole 30-day periods move to the month field.
fn justify_days(iv: &Interval) -> Interval {
    let mut months = iv.months + iv.days / 30;
    let mut days = iv.days % 30;
    if months > 0 && days < 0 {
        days += 30;
        months -= 1;
    } else if months < 0 && days > 0 {
        days -= 30;
        months += 1;
    }
    Interval {
        months,
        days,
        micros: iv.micros,
    }
}

/// `(s1, e1) OVERLAPS (s2, e2)` as PostgreSQL decides it: each period is put in order, a
/// NULL end is a period of one instant, and NULLs make the answer unknown only when they
/// could change it.
fn overlaps(args: &[Value]) -> Option<bool> {
    let micros = |v: &Value| match v {
        Value::Timestamp(t) => Some(t.0),
        Value::TimestampTz(t) => Some(t.0),
        Value::Time(t) => Some(t.0),
        _ => None,
    };
    let period = |s: &Value, e: &Value| -> Option<(i64, Option<i64>)> {
        match (micros(s), micros(e)) {
            (None, None) => None,
            (None, Some(e)) => Some((e, None)),
            (Some(s), None) => Some((s, None)),
            (Some(s), Some(e)) => Some((s.min(e), Some(s.max(e)))),
        }
    };
    let (s1, e1) = period(&args[0], &args[1])?;
    let (s2, e2) = period(&args[2], &args[3])?;
    use std::cmp::Ordering;
    match s1.cmp(&s2) {
        Ordering::Greater => {
            let e2 = e2?;
            if s1 < e2 {
                return Some(true);
            }
            e1.map(|_| false)
        }
        Ordering::Less => {
            let e1 = e1?;
            if s2 < e1 {
                return Some(true);
            }
            e2.map(|_| false)
        }
        Ordering::Equal => (e1.is_some() && e2.is_some()).then_some(true),
    }
}

/// `micros` rounded to `digits` fractional digits of a second, half away from zero (as
/// PostgreSQL applies a precision modifier).
fn round_micros(micros: i64, digits: u8) -> i64 {
    let scale = 10i64.pow(6 - u32::from(digits.min(6)));
    let half = scale / 2;
    if micros >= 0 {
        micros.saturating_add(half) / scale * scale
    } else {
        -((half.saturating_sub(micros)) / scale * scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_rounds_half_away_from_zero() {
        assert_eq!(round_micros(500_000, 0), 1_000_000);
        assert_eq!(round_micros(123_456, 3), 123_000);
        assert_eq!(round_micros(987_654, 2), 990_000);
        assert_eq!(round_micros(-1_550_000, 1), -1_600_000);
        assert_eq!(round_micros(42, 6), 42);
    }

    #[test]
    fn overlaps_follows_postgresql_null_rules() {
        let ts = |us: i64| Value::Timestamp(Timestamp(us));
        assert_eq!(overlaps(&[ts(0), ts(10), ts(5), ts(20)]), Some(true));
        assert_eq!(overlaps(&[ts(10), ts(0), ts(20), ts(5)]), Some(true));
        assert_eq!(overlaps(&[ts(0), ts(5), ts(5), ts(10)]), Some(false));
        assert_eq!(overlaps(&[ts(0), Value::Null, ts(0), ts(1)]), None);
        assert_eq!(overlaps(&[ts(0), Value::Null, ts(5), ts(10)]), None);
        assert_eq!(overlaps(&[ts(0), ts(3), ts(5), Value::Null]), None);
        assert_eq!(overlaps(&[ts(5), ts(9), ts(0), ts(3)]), Some(false));
    }
}
