//! `interval`: months, days and microseconds, kept apart as PostgreSQL keeps them.
//!
//! Owns the representation, text input (the `postgres` style: `1 year 2 mons 3 days
//! 04:05:06.5`, `@ 1 day ago`, unit abbreviations, fractional units spilling into smaller
//! ones, bare numbers as seconds), output in `IntervalStyle = postgres`, arithmetic and the
//! comparison rules.
//!
//! Invariants of [`Interval`]:
//! - the three fields are independent: `1 mon`, `30 days` and `720:00:00` are different
//!   values that print differently;
//! - but they *compare* (and hash) equal: order and equality use the span `months × 30 days +
//!   days × 24 h + micros`, as PostgreSQL's `interval_cmp` does, so `'1 mon' = '30 days'`.

use std::cmp::Ordering;
use std::fmt;

use super::datetime::{USECS_PER_DAY, USECS_PER_SEC};
use super::error::{Result, ValueError};

const DAYS_PER_MONTH: i64 = 30;
const SECS_PER_DAY: f64 = 86_400.0;

/// A time span (see the module invariants).
#[derive(Debug, Clone, Copy, Default)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

fn out_of_range() -> ValueError {
    ValueError::DatetimeOutOfRange {
        message: "interval out of range".to_owned(),
    }
}

impl Interval {
    pub fn from_micros(micros: i64) -> Interval {
        Interval {
            months: 0,
            days: 0,
            micros,
        }
    }

    /// The span in microseconds with 30-day months, used for comparison and hashing.
    pub fn span(&self) -> i128 {
        (i128::from(self.months) * i128::from(DAYS_PER_MONTH) + i128::from(self.days))
            * i128::from(USECS_PER_DAY)
            + i128::from(self.micros)
    }

    /// `justify_hours`: whole days of the time part move to the day field, keeping signs of
    /// days and time consistent.
    pub fn justify_hours(&self) -> Interval {
        let mut days = i64::from(self.days) + self.micros / USECS_PER_DAY;
        let mut micros = self.micros % USECS_PER_DAY;
        if days > 0 && micros < 0 {
            micros += USECS_PER_DAY;
            days -= 1;
        } else if days < 0 && micros > 0 {
            micros -= USECS_PER_DAY;
            days += 1;
        }
        Interval {
            months: self.months,
            days: days.clamp(i32::MIN.into(), i32::MAX.into()) as i32,
            micros,
        }
    }

    pub fn checked_neg(&self) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_neg().ok_or_else(out_of_range)?,
            days: self.days.checked_neg().ok_or_else(out_of_range)?,
            micros: self.micros.checked_neg().ok_or_else(out_of_range)?,
        })
    }

    pub fn checked_add(&self, other: &Interval) -> Result<Interval> {
        Ok(Interval {
            months: self
                .months
                .checked_add(other.months)
                .ok_or_else(out_of_range)?,
            days: self.days.checked_add(other.days).ok_or_else(out_of_range)?,
            micros: self
                .micros
                .checked_add(other.micros)
                .ok_or_else(out_of_range)?,
        })
    }

    pub fn checked_sub(&self, other: &Interval) -> Result<Interval> {
        self.checked_add(&other.checked_neg()?)
    }

    /// `interval * double precision` (PostgreSQL's `interval_mul`): fractional months spill
    /// into days at 30 days a month and fractional days into time.
    pub fn mul_f64(&self, factor: f64) -> Result<Interval> {
        self.scale(|v| v * factor)
    }

    /// `interval / double precision` (`interval_div`).
    pub fn div_f64(&self, divisor: f64) -> Result<Interval> {
        if divisor == 0.0 {
            return Err(ValueError::DivisionByZero);
        }
        self.scale(|v| v / divisor)
    }

    fn scale(&self, f: impl Fn(f64) -> f64) -> Result<Interval> {
        let tsround = |v: f64| (v * 1e6).round_ties_even() / 1e6;
        let fits_i32 = |v: f64| !v.is_nan() && v >= f64::from(i32::MIN) && v < -f64::from(i32::MIN);
        let month_f = f(f64::from(self.months));
        let day_f = f(f64::from(self.days));
        if !fits_i32(month_f) || !fits_i32(day_f) {
            return Err(out_of_range());
        }
        let months = month_f as i32;
        let mut days = day_f as i32;
        let month_remainder_days = tsround((month_f - f64::from(months)) * DAYS_PER_MONTH as f64);
        let mut sec_remainder = tsround(
            (day_f - f64::from(days) + month_remainder_days - month_remainder_days.trunc())
                * SECS_PER_DAY,
        );
        if sec_remainder.abs() >= SECS_PER_DAY {
            let whole = (sec_remainder / SECS_PER_DAY).trunc();
            days += whole as i32;
            sec_remainder -= whole * SECS_PER_DAY;
        }
        days = days
            .checked_add(month_remainder_days as i32)
            .ok_or_else(out_of_range)?;
        let micros_f =
            (f(self.micros as f64) + sec_remainder * USECS_PER_SEC as f64).round_ties_even();
        if micros_f.is_nan() || micros_f < i64::MIN as f64 || micros_f >= -(i64::MIN as f64) {
            return Err(out_of_range());
        }
        Ok(Interval {
            months,
            days,
            micros: micros_f as i64,
        })
    }

    /// `interval_in`: the `postgres` style and ISO 8601 (see the module doc).
    pub fn parse(input: &str) -> Result<Interval> {
        let syntax = || ValueError::InvalidDatetimeFormat {
            type_name: "interval",
            input: input.to_owned(),
        };
        let field_range = || ValueError::DatetimeOutOfRange {
            message: format!("interval field value out of range: \"{input}\""),
        };
        let lower = input.trim().to_ascii_lowercase();
        let fields = match lower.strip_prefix('p') {
            Some(iso) => parse_iso8601(iso).ok_or_else(syntax)?,
            None => parse_postgres_style(&lower).map_err(|e| match e {
                FieldError::Syntax => syntax(),
                FieldError::Range => field_range(),
            })?,
        };
        fields.into_interval().ok_or_else(field_range)
    }
}

/// Interval fields accumulated while parsing, wider than the result.
#[derive(Debug, Default)]
struct Fields {
    months: i64,
    days: i64,
    micros: i128,
    negate: bool,
}

/// What one unit of a parsed field is worth.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Micros(i64),
    Days(i64),
    Months(i64),
}

enum FieldError {
    Syntax,
    Range,
}

impl Fields {
    /// Adds `value` units; fractions spill into smaller fields as PostgreSQL's
    /// `AdjustFract*` functions do (months at 30 days, days at 24 hours, fractional years
    /// rounded to whole months).
    fn add(&mut self, value: f64, unit: Unit) -> Result<(), FieldError> {
        let (whole, frac) = (value.trunc(), value.fract());
        if whole.abs() > 2_147_483_647.0 {
            return Err(FieldError::Range);
        }
        let whole = whole as i64;
        match unit {
            Unit::Micros(per) => {
                self.micros += i128::from(whole) * i128::from(per) + fract_micros(frac, per as f64)
            }
            Unit::Days(per) => {
                self.days += whole * per;
                let (days, micros) = fract_days(frac, per as f64);
                self.days += days;
                self.micros += micros;
            }
            Unit::Months(1) => {
                self.months += whole;
                let (days, micros) = fract_days(frac, DAYS_PER_MONTH as f64);
                self.days += days;
                self.micros += micros;
            }
            Unit::Months(per) => {
                self.months += whole * per + (frac * per as f64).round_ties_even() as i64
            }
        }
        Ok(())
    }

    fn into_interval(self) -> Option<Interval> {
        let iv = Interval {
            months: i32::try_from(self.months).ok()?,
            days: i32::try_from(self.days).ok()?,
            micros: i64::try_from(self.micros).ok()?,
        };
        if self.negate {
            iv.checked_neg().ok()
        } else {
            Some(iv)
        }
    }
}

/// The unit-word form: `@ 1 year 2 mons -3 days 04:05:06 ago`.
fn parse_postgres_style(lower: &str) -> Result<Fields, FieldError> {
    let mut s = lower.strip_prefix('@').unwrap_or(lower).trim_start();
    let mut fields = Fields::default();
    if let Some(rest) = s.strip_suffix("ago") {
        fields.negate = true;
        s = rest.trim_end();
    }
    // Fields already given: each may appear once (PostgreSQL's `fmask`).
    let mut seen_fields = 0u16;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // A sign may stand apart from its number: `1 month - 1 day`.
        let negative = bytes[i] == b'-';
        if matches!(bytes[i], b'+' | b'-') {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || matches!(bytes[i], b'.' | b':')) {
            i += 1;
        }
        if start == i {
            return Err(FieldError::Syntax);
        }
        let signed = format!("{}{}", if negative { "-" } else { "" }, &s[start..i]);
        let number = signed.as_str();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[unit_start..i];
        let field = if number.contains(':') {
            if !unit.is_empty() {
                return Err(FieldError::Syntax);
            }
            fields.micros += parse_clock(number).ok_or(FieldError::Syntax)?;
            F_HOUR | F_MINUTE | F_SECONDS
        } else {
            let value: f64 = number.parse().map_err(|_| FieldError::Syntax)?;
            let (unit, field) = match unit {
                "" | "s" | "sec" | "secs" | "second" | "seconds" => {
                    // A fractional second claims the millisecond and microsecond fields too.
                    (
                        Unit::Micros(USECS_PER_SEC),
                        if value.fract() != 0.0 {
                            F_SECONDS
                        } else {
                            F_SECOND
                        },
                    )
                }
                "us" | "usec" | "usecs" | "microsecond" | "microseconds" => {
                    (Unit::Micros(1), F_MICROSECOND)
                }
                "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => {
                    (Unit::Micros(1_000), F_MILLISECOND)
                }
                "m" | "min" | "mins" | "minute" | "minutes" => {
                    (Unit::Micros(60 * USECS_PER_SEC), F_MINUTE)
                }
                "h" | "hr" | "hrs" | "hour" | "hours" => {
                    (Unit::Micros(3_600 * USECS_PER_SEC), F_HOUR)
                }
                "d" | "day" | "days" => (Unit::Days(1), F_DAY),
                "w" | "week" | "weeks" => (Unit::Days(7), F_WEEK),
                "mon" | "mons" | "month" | "months" => (Unit::Months(1), F_MONTH),
                "y" | "yr" | "yrs" | "year" | "years" => (Unit::Months(12), F_YEAR),
                "decade" | "decades" => (Unit::Months(120), F_DECADE),
                "c" | "cent" | "century" | "centuries" => (Unit::Months(1_200), F_CENTURY),
                "millennium" | "millennia" | "mil" | "mils" => (Unit::Months(12_000), F_MILLENNIUM),
                _ => return Err(FieldError::Syntax),
            };
            fields.add(value, unit)?;
            field
        };
        if seen_fields & field != 0 {
            return Err(FieldError::Syntax);
        }
        seen_fields |= field;
    }
    if seen_fields == 0 {
        return Err(FieldError::Syntax);
    }
    Ok(fields)
}

/// ISO 8601 after the `P`: designators `nYnMnWnD[TnHnMnS]` (fractions and signs allowed,
/// fractions spilling down) or the alternative form `YYYY-MM-DD[THH:MM:SS]`.
fn parse_iso8601(body: &str) -> Option<Fields> {
    let mut fields = Fields::default();
    if body.is_empty() {
        return None;
    }
    if !body
        .bytes()
        .any(|c| matches!(c, b'y' | b'm' | b'w' | b'd' | b'h' | b's'))
    {
        let (date, time) = match body.split_once('t') {
            Some((d, t)) => (d, Some(t)),
            None => (body, None),
        };
        if !date.is_empty() {
            let parts: Vec<&str> = date.split('-').collect();
            if parts.len() > 3 {
                return None;
            }
            for (part, unit) in parts
                .iter()
                .zip([Unit::Months(12), Unit::Months(1), Unit::Days(1)])
            {
                fields.add(part.parse().ok()?, unit).ok()?;
            }
        }
        if let Some(time) = time {
            fields.micros += parse_clock(time)?;
        }
        return Some(fields);
    }
    let mut in_time = false;
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('t') {
            if in_time {
                return None;
            }
            in_time = true;
            rest = after;
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+')))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(end);
        let value: f64 = number.parse().ok()?;
        let designator = tail.chars().next()?;
        rest = &tail[1..];
        let unit = match (in_time, designator) {
            (false, 'y') => Unit::Months(12),
            (false, 'm') => Unit::Months(1),
            (false, 'w') => Unit::Days(7),
            (false, 'd') => Unit::Days(1),
            (true, 'h') => Unit::Micros(3_600 * USECS_PER_SEC),
            (true, 'm') => Unit::Micros(60 * USECS_PER_SEC),
            (true, 's') => Unit::Micros(USECS_PER_SEC),
            _ => return None,
        };
        fields.add(value, unit).ok()?;
    }
    Some(fields)
}

const F_YEAR: u16 = 1;
const F_MONTH: u16 = 1 << 1;
const F_DAY: u16 = 1 << 2;
const F_HOUR: u16 = 1 << 3;
const F_MINUTE: u16 = 1 << 4;
const F_SECOND: u16 = 1 << 5;
const F_MILLISECOND: u16 = 1 << 6;
const F_MICROSECOND: u16 = 1 << 7;
const F_WEEK: u16 = 1 << 8;
const F_DECADE: u16 = 1 << 9;
const F_CENTURY: u16 = 1 << 10;
const F_MILLENNIUM: u16 = 1 << 11;
const F_SECONDS: u16 = F_SECOND | F_MILLISECOND | F_MICROSECOND;

/// Microseconds for `frac` units of `unit_micros` each: truncated, then the remaining
/// fraction of a microsecond rounded (ties toward zero), as `AdjustFractMicroseconds` does.
fn fract_micros(frac: f64, unit_micros: f64) -> i128 {
    let v = frac * unit_micros;
    let whole = v.trunc();
    (whole + (v - whole).round_ties_even()) as i128
}

/// Days and microseconds for `frac` units of `days_per_unit` days (`AdjustFractDays`).
fn fract_days(frac: f64, days_per_unit: f64) -> (i64, i128) {
    let v = frac * days_per_unit;
    let whole = v.trunc();
    (whole as i64, fract_micros(v - whole, USECS_PER_DAY as f64))
}

/// `[-]H:M[:S[.frac]]` as microseconds.
fn parse_clock(text: &str) -> Option<i128> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let int = |p: &str| -> Option<i128> {
        (!p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let hours = int(parts[0])?;
    let minutes = int(parts[1])?;
    let seconds_us = match parts.get(2) {
        None => 0,
        Some(sec) => {
            let v: f64 = sec
                .parse()
                .ok()
                .filter(|_| sec.bytes().all(|c| c.is_ascii_digit() || c == b'.'))?;
            (v * 1e6).round_ties_even() as i128
        }
    };
    if minutes > 59 || seconds_us >= 60 * 1_000_000 {
        return None;
    }
    let total = (hours * 3600 + minutes * 60) * 1_000_000 + seconds_us;
    Some(if neg { -total } else { total })
}

impl fmt::Display for Interval {
    /// `IntervalStyle = postgres` (PostgreSQL's `EncodeInterval`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let mut is_zero = true;
        let mut is_before = false;
        let years = self.months / 12;
        let mons = self.months % 12;
        for (value, unit) in [
            (i64::from(years), "year"),
            (i64::from(mons), "mon"),
            (i64::from(self.days), "day"),
        ] {
            if value == 0 {
                continue;
            }
            out.push_str(&format!(
                "{}{}{value} {unit}{}",
                if is_zero { "" } else { " " },
                if is_before && value > 0 { "+" } else { "" },
                if value != 1 { "s" } else { "" }
            ));
            is_before = value < 0;
            is_zero = false;
        }
        if is_zero || self.micros != 0 {
            let minus = self.micros < 0;
            let abs = self.micros.unsigned_abs();
            let secs = abs / USECS_PER_SEC as u64;
            let frac = abs % USECS_PER_SEC as u64;
            out.push_str(&format!(
                "{}{}{:02}:{:02}:{:02}",
                if is_zero { "" } else { " " },
                if minus {
                    "-"
                } else if is_before {
                    "+"
                } else {
                    ""
                },
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            ));
            if frac != 0 {
                out.push('.');
                out.push_str(format!("{frac:06}").trim_end_matches('0'));
            }
        }
        f.write_str(&out)
    }
}

impl PartialEq for Interval {
    fn eq(&self, other: &Interval) -> bool {
        self.span() == other.span()
    }
}

impl Eq for Interval {}

impl Ord for Interval {
    fn cmp(&self, other: &Interval) -> Ordering {
        self.span().cmp(&other.span())
    }
}

impl PartialOrd for Interval {
    fn partial_cmp(&self, other: &Interval) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::hash::Hash for Interval {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.span().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn show(s: &str) -> String {
        Interval::parse(s)
            .map(|i| i.to_string())
            .unwrap_or_else(|e| format!("ERROR: {e}"))
    }

    #[test]
    fn io_matches_postgres() {
        // Each pair: '<input>'::interval on PostgreSQL 15.18 and its output.
        let cases = [
            (
                "1 year 2 mons 3 days 04:05:06.5",
                "1 year 2 mons 3 days 04:05:06.5",
            ),
            ("-1 days +02:00:00", "-1 days +02:00:00"),
            ("@ 1 day ago", "-1 days"),
            ("1.5 days", "1 day 12:00:00"),
            ("1.5 months", "1 mon 15 days"),
            ("1.5 years", "1 year 6 mons"),
            ("10", "00:00:10"),
            ("1:30", "01:30:00"),
            ("-1:30", "-01:30:00"),
            ("2 weeks", "14 days"),
            ("1 day -1 hour", "1 day -01:00:00"),
            ("1 month - 1 day", "1 mon -1 days"),
            ("- 2 hours", "-02:00:00"),
            ("36 hours", "36:00:00"),
            ("0", "00:00:00"),
            (
                "-1 year -2 mons +3 days -04:05:06",
                "-1 years -2 mons +3 days -04:05:06",
            ),
            ("1 millisecond", "00:00:00.001"),
            ("3 microseconds", "00:00:00.000003"),
            ("1 decade 1 century", "110 years"),
            ("5 min 3 sec", "00:05:03"),
            ("1d 2h", "1 day 02:00:00"),
            ("1 hr 2 mins", "01:02:00"),
            (
                "xyz",
                "ERROR: invalid input syntax for type interval: \"xyz\"",
            ),
            (
                "2147483648 days",
                "ERROR: interval field value out of range: \"2147483648 days\"",
            ),
            // Each field once: SELECT '784 min -697 min'::interval, '-45.625 sec 24:36:14'::interval,
            // '5 2'::interval;  ERROR:  invalid input syntax for type interval: "..."
            (
                "784 min -697 min",
                "ERROR: invalid input syntax for type interval: \"784 min -697 min\"",
            ),
            (
                "-45.625 sec 24:36:14",
                "ERROR: invalid input syntax for type interval: \"-45.625 sec 24:36:14\"",
            ),
            (
                "5 2",
                "ERROR: invalid input syntax for type interval: \"5 2\"",
            ),
            // SELECT '1 day 2'::interval, '1 hour 30'::interval, '1 week 1 day'::interval,
            //        '1 year 1 decade'::interval;  1 day 00:00:02 | 01:00:30 | 8 days | 11 years
            ("1 day 2", "1 day 00:00:02"),
            ("1 hour 30", "01:00:30"),
            ("1 week 1 day", "8 days"),
            ("1 year 1 decade", "11 years"),
            // SELECT '1.5 weeks'::interval, '-1.5 mons'::interval, '0.1 years'::interval,
            //        '1.001 years'::interval, '2.5 decades'::interval, '100.5 ms'::interval;
            // 10 days 12:00:00 | -1 mons -15 days | 1 mon | 1 year | 25 years | 00:00:00.1005
            ("1.5 weeks", "10 days 12:00:00"),
            ("-1.5 mons", "-1 mons -15 days"),
            ("0.1 years", "1 mon"),
            ("1.001 years", "1 year"),
            ("2.5 decades", "25 years"),
            ("100.5 ms", "00:00:00.1005"),
            // SELECT '1.5 us'::interval, '2.5 us'::interval, '0.5 us'::interval, '-1.5 us'::interval;
            // 00:00:00.000001 | 00:00:00.000002 | 00:00:00 | -00:00:00.000001
            ("1.5 us", "00:00:00.000001"),
            ("2.5 us", "00:00:00.000002"),
            ("0.5 us", "00:00:00"),
            ("-1.5 us", "-00:00:00.000001"),
            // SELECT 'P1Y2M3DT4H5M6.5S'::interval, 'P1.5Y'::interval, 'PT1.5H'::interval,
            //        'P2W'::interval, 'P-1D'::interval, 'PT-1M'::interval,
            //        'P0001-02-03T04:05:06'::interval, 'P1.5M'::interval, 'P1DT'::interval,
            //        'P1Y1Y'::interval, 'P1'::interval;
            // 1 year 2 mons 3 days 04:05:06.5 | 1 year 6 mons | 01:30:00 | 14 days | -1 days |
            // -00:01:00 | 1 year 2 mons 3 days 04:05:06 | 1 mon 15 days | 1 day | 2 years | 1 year
            ("P1Y2M3DT4H5M6.5S", "1 year 2 mons 3 days 04:05:06.5"),
            ("P1.5Y", "1 year 6 mons"),
            ("PT1.5H", "01:30:00"),
            ("P2W", "14 days"),
            ("P-1D", "-1 days"),
            ("PT-1M", "-00:01:00"),
            ("P0001-02-03T04:05:06", "1 year 2 mons 3 days 04:05:06"),
            ("P1.5M", "1 mon 15 days"),
            ("P1DT", "1 day"),
            ("P1Y1Y", "2 years"),
            ("P1", "1 year"),
            // SELECT 'P'::interval, '-P1D'::interval, 'PT1H2'::interval;  ERROR:  invalid input syntax ...
            ("P", "ERROR: invalid input syntax for type interval: \"P\""),
            (
                "-P1D",
                "ERROR: invalid input syntax for type interval: \"-P1D\"",
            ),
            (
                "PT1H2",
                "ERROR: invalid input syntax for type interval: \"PT1H2\"",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(show(input), want, "{input}");
        }
    }

    #[test]
    fn arithmetic_matches_postgres() {
        // SELECT '1 mon'::interval = '30 days', interval '1 day' * 1.5, interval '1 mon' * 0.5,
        //        interval '1 mon' / 3, interval '1 hour' / 7, -interval '1 year -2 days';
        // t | 1 day 12:00:00 | 15 days | 10 days | 00:08:34.285714 | -1 years +2 days
        let iv = |s: &str| Interval::parse(s).unwrap();
        assert_eq!(iv("1 mon"), iv("30 days"));
        assert_eq!(
            iv("1 day").mul_f64(1.5).unwrap().to_string(),
            "1 day 12:00:00"
        );
        assert_eq!(iv("1 mon").mul_f64(0.5).unwrap().to_string(), "15 days");
        assert_eq!(iv("1 mon").div_f64(3.0).unwrap().to_string(), "10 days");
        assert_eq!(
            iv("1 hour").div_f64(7.0).unwrap().to_string(),
            "00:08:34.285714"
        );
        assert_eq!(
            iv("1 year -2 days").checked_neg().unwrap().to_string(),
            "-1 years +2 days"
        );
        assert_eq!(iv("1 day").div_f64(0.0), Err(ValueError::DivisionByZero));
        assert_eq!(
            iv("1 day").checked_add(&iv("2 hours")).unwrap().to_string(),
            "1 day 02:00:00"
        );
        let max = Interval {
            months: i32::MAX,
            days: 0,
            micros: 0,
        };
        assert_eq!(
            max.checked_add(&iv("1 mon")).unwrap_err().to_string(),
            "interval out of range"
        );
        assert!(iv("1 day") > iv("23 hours"));
    }

    proptest! {
        #[test]
        fn text_round_trips(months in any::<i32>(), days in any::<i32>(), micros in any::<i64>()) {
            let iv = Interval { months, days, micros };
            let back = Interval::parse(&iv.to_string()).unwrap();
            // Field by field, not just the span.
            prop_assert_eq!((back.months, back.days, back.micros), (months, days, micros));
        }
    }
}
