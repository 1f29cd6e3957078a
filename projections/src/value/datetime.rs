//! `date`, `time`, `timestamp` and `timestamptz`: representation, ISO text input and output,
//! conversions and calendar arithmetic.
//!
//! Representations follow PostgreSQL's, counted from its epoch 2000-01-01 on the proleptic
//! Gregorian calendar (astronomical years: 1 BC is year 0):
//! - [`Date`]: days; `i32::MIN`/`i32::MAX` are `-infinity`/`infinity`; finite dates lie in
//!   4714-11-24 BC ..= 5874897-12-31;
//! - [`Time`]: microseconds since midnight, `0 ..= 24:00:00`;
//! - [`Timestamp`] / [`TimestampTz`]: microseconds; `i64::MIN`/`i64::MAX` are the infinities;
//!   finite values lie in 4714-11-24 00:00 BC ..< 294277-01-01.
//!
//! The session time zone is UTC (zqlite's only setting, and the sqllogictest reference's), so
//! `timestamptz` prints with `+00` and an input offset is applied, then shown in UTC.
//! Input accepts ISO dates (`2020-01-05`, `2020-1-5`, `20200105`, ` BC`/` AD`; a leading
//! field of one or two digits is read month-day-year, DateStyle MDY), `epoch`,
//! `infinity`, `-infinity`, times `HH:MM[:SS[.fraction]]` (fractions round to microseconds)
//! and zone offsets `Z`, `UTC`, `GMT`, `±HH`, `±HHMM`, `±HH:MM[:SS]`. Output is DateStyle ISO.

use super::error::{Result, ValueError};
use super::interval::Interval;
use super::numeric::is_pg_space;

pub(crate) const USECS_PER_SEC: i64 = 1_000_000;
pub(crate) const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;
/// Days from 1970-01-01 to 2000-01-01.
const UNIX_TO_PG_DAYS: i64 = 10_957;
/// Julian day number of 2000-01-01; finite dates have Julian days in `0..DATE_END_JULIAN`.
const PG_EPOCH_JULIAN: i64 = 2_451_545;
const DATE_END_JULIAN: i64 = 2_147_483_494;
/// First microsecond of 4714-11-24 BC and first one past 294276-12-31.
const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;

/// A calendar date (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

/// A time of day without time zone, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub i64);

/// A timestamp without time zone, in microseconds since 2000-01-01 00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// An instant, in microseconds since 2000-01-01 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimestampTz(pub i64);

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The number of days in a month of an astronomical year.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// PostgreSQL-epoch day number of a valid civil date (astronomical year).
pub fn pg_days(y: i64, m: u32, d: u32) -> i64 {
    days_from_civil(y, m, d) - UNIX_TO_PG_DAYS
}

/// The civil date (astronomical year, month, day) of a PostgreSQL-epoch day number.
pub fn civil_from_pg_days(days: i64) -> (i64, u32, u32) {
    civil_from_days(days + UNIX_TO_PG_DAYS)
}

fn date_in_range(days: i64) -> bool {
    (0..DATE_END_JULIAN).contains(&(days + PG_EPOCH_JULIAN))
}

pub(crate) fn timestamp_in_range(us: i64) -> bool {
    (MIN_TIMESTAMP..END_TIMESTAMP).contains(&us)
}

fn syntax(type_name: &'static str, input: &str) -> ValueError {
    ValueError::InvalidDatetimeFormat {
        type_name,
        input: input.to_owned(),
    }
}

fn field_overflow(input: &str) -> ValueError {
    ValueError::DatetimeFieldOverflow {
        input: input.to_owned(),
    }
}

pub(crate) fn timestamp_out_of_range() -> ValueError {
    ValueError::DatetimeOutOfRange {
        message: "timestamp out of range".to_owned(),
    }
}

/// Parses the date part (`Y-M-D` or `YYYYMMDD`) into an astronomical year, month and day,
/// checking the field ranges; `bc` flips the year.
fn parse_ymd(
    part: &str,
    bc: bool,
    type_name: &'static str,
    input: &str,
) -> Result<(i64, u32, u32)> {
    let fields: Vec<&str> = if part.len() == 8 && part.bytes().all(|c| c.is_ascii_digit()) {
        vec![&part[..4], &part[4..6], &part[6..]]
    } else {
        // One separator throughout: 2020-01-02, 2020/1/2, 2020.01.02, 1/2/2020.
        let sep = part
            .chars()
            .find(|c| matches!(c, '-' | '/' | '.'))
            .unwrap_or('-');
        part.split(sep).collect()
    };
    let [first, second, third] = fields[..] else {
        return Err(syntax(type_name, input));
    };
    // A leading field of one or two digits is a month: DateStyle MDY reads `1-2-03` as
    // 2003-01-02.
    let mdy = first.len() <= 2;
    let (y, m, d) = if mdy {
        (third, first, second)
    } else {
        (first, second, third)
    };
    let num = |f: &str| -> Result<i64> {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return Err(syntax(type_name, input));
        }
        Ok(f.parse().expect("1 to 9 ASCII digits"))
    };
    let two_digit_year = y.len() <= 2;
    let (mut y, m, d) = (num(y)?, num(m)?, num(d)?);
    if mdy && two_digit_year && !bc {
        y += if y < 70 { 2000 } else { 1900 };
    }
    if y == 0 || !(1..=12).contains(&m) {
        return Err(field_overflow(input));
    }
    let year = if bc { 1 - y } else { y };
    if d < 1 || d > i64::from(days_in_month(year, m as u32)) {
        return Err(field_overflow(input));
    }
    Ok((year, m as u32, d as u32))
}

/// Parses `HH:MM[:SS[.fraction]]` into microseconds (24:00:00 at most).
fn parse_hms(part: &str, type_name: &'static str, input: &str) -> Result<i64> {
    let (hms, frac) = match part.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (part, None),
    };
    let fields: Vec<&str> = hms.split(':').collect();
    if !(2..=3).contains(&fields.len()) || (frac.is_some() && fields.len() != 3) {
        return Err(syntax(type_name, input));
    }
    let mut nums = [0i64; 3];
    for (slot, f) in nums.iter_mut().zip(&fields) {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return Err(syntax(type_name, input));
        }
        *slot = f.parse().expect("1 to 9 ASCII digits");
    }
    let micros = match frac {
        None => 0,
        Some(f) if f.bytes().all(|c| c.is_ascii_digit()) => {
            // Round half up at the microsecond, like PostgreSQL's rint() on non-negative input.
            let padded = format!("{f:0<7}");
            let first7: i64 = padded[..7].parse().expect("7 ASCII digits");
            (first7 + 5) / 10
        }
        Some(_) => return Err(syntax(type_name, input)),
    };
    let [h, m, s] = nums;
    let total = ((h * 60 + m) * 60 + s) * USECS_PER_SEC + micros;
    if h > 24 || m > 59 || s > 60 || total > USECS_PER_DAY {
        return Err(field_overflow(input));
    }
    Ok(total)
}

/// Parses a zone offset into seconds east of UTC.
fn parse_zone(zone: &str, type_name: &'static str, input: &str) -> Result<i64> {
    let lower = zone.to_ascii_lowercase();
    if matches!(lower.as_str(), "z" | "utc" | "gmt" | "zulu") {
        return Ok(0);
    }
    let (sign, rest) = match zone.as_bytes().first() {
        Some(b'+') => (1, &zone[1..]),
        Some(b'-') => (-1, &zone[1..]),
        Some(c) if c.is_ascii_alphabetic() => {
            // Named zones other than UTC are not supported (no tz database here).
            return Err(ValueError::InvalidParameterValue {
                message: format!("time zone \"{lower}\" not recognized"),
            });
        }
        _ => return Err(syntax(type_name, input)),
    };
    let fields: Vec<&str> = if rest.contains(':') {
        rest.split(':').collect()
    } else if rest.len() > 2 {
        let (h, m) = rest.split_at(rest.len() - 2);
        vec![h, m]
    } else {
        vec![rest]
    };
    let mut secs = 0i64;
    let mut scale = 3600;
    for f in &fields {
        if f.is_empty() || f.len() > 2 || !f.bytes().all(|c| c.is_ascii_digit()) || scale == 0 {
            return Err(syntax(type_name, input));
        }
        secs += f.parse::<i64>().expect("1 or 2 ASCII digits") * scale;
        scale /= 60;
    }
    if secs > 15 * 3600 + 59 * 60 + 59 {
        return Err(ValueError::TimeZoneDisplacementOutOfRange {
            input: input.to_owned(),
        });
    }
    Ok(sign * secs)
}

/// The time zone abbreviations of PostgreSQL's default `timezone_abbreviations` set that
/// are in common use, with their offsets in seconds east of UTC.
const ZONE_ABBREVIATIONS: &[(&str, i64)] = &[
    ("acst", 34200),
    ("aedt", 39600),
    ("aest", 36000),
    ("akdt", -28800),
    ("akst", -32400),
    ("awst", 28800),
    ("bst", 3600),
    ("cdt", -18000),
    ("cest", 7200),
    ("cet", 3600),
    ("cst", -21600),
    ("edt", -14400),
    ("eest", 10800),
    ("eet", 7200),
    ("est", -18000),
    ("hst", -36000),
    ("ist", 7200),
    ("jst", 32400),
    ("kst", 32400),
    ("mdt", -21600),
    ("msk", 10800),
    ("mst", -25200),
    ("nzdt", 46800),
    ("nzst", 43200),
    ("pdt", -25200),
    ("pst", -28800),
    ("west", 3600),
    ("wet", 0),
];

/// The zone written in a date/time literal, in seconds east of UTC at the local time
/// `local_micros`: an ISO offset (`+05:45` is east), an abbreviation (`PST`) or a tz
/// database name (`Europe/Paris`, whose offset depends on the date).
fn zone_of_literal(
    zone: &str,
    local_micros: i64,
    type_name: &'static str,
    input: &str,
) -> Result<i64> {
    if !zone.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return parse_zone(zone, type_name, input);
    }
    let lower = zone.to_ascii_lowercase();
    if let Some((_, east)) = ZONE_ABBREVIATIONS.iter().find(|(a, _)| *a == lower) {
        return Ok(*east);
    }
    if matches!(lower.as_str(), "z" | "utc" | "gmt" | "zulu") {
        return Ok(0);
    }
    match super::zone::Zone::parse(zone) {
        Ok(z @ super::zone::Zone::Named(_)) => Ok(z.offset_of_local(local_micros)),
        _ => Err(ValueError::InvalidParameterValue {
            message: format!("time zone \"{lower}\" not recognized"),
        }),
    }
}

/// The month numbered by an English month name or its three-letter abbreviation.
fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = word.trim_end_matches(['.', ',']).to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| {
            *m == w || (w.len() == 3 && m.starts_with(&w)) || (w == "sept" && *m == "september")
        })
        .map(|i| i as u32 + 1)
}

/// A date spelled with a month name in its first three words (`June 1, 2023`,
/// `1 June 2023`): the ISO date and the number of words it took.
fn spelled_date(words: &[&str]) -> Option<(String, usize)> {
    let [a, b, c, ..] = words else { return None };
    let digits = |w: &str| {
        let w = w.trim_end_matches(',');
        (!w.is_empty() && w.len() <= 4 && w.bytes().all(|c| c.is_ascii_digit()))
            .then_some(w.to_string())
    };
    let (month, day, year) = match (month_number(a), month_number(b)) {
        (Some(m), None) => (m, digits(b)?, digits(c)?),
        (None, Some(m)) => (m, digits(a)?, digits(c)?),
        _ => return None,
    };
    if year.len() < 3 {
        return None;
    }
    Some((format!("{year}-{month:02}-{day:0>2}"), 3))
}

/// The pieces of a date/time literal.
enum Parsed {
    Infinity(bool),
    Value {
        days: i64,
        micros: i64,
        zone_secs: Option<i64>,
    },
}

/// Splits and parses `date [sep time] [zone] [BC|AD]` (see the module doc).
fn parse_datetime(input: &str, type_name: &'static str, allow_time: bool) -> Result<Parsed> {
    let s = input.trim_matches(is_pg_space);
    match s.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => return Ok(Parsed::Infinity(false)),
        "-infinity" => return Ok(Parsed::Infinity(true)),
        "epoch" => {
            return Ok(Parsed::Value {
                days: -UNIX_TO_PG_DAYS,
                micros: 0,
                zone_secs: None,
            });
        }
        _ => {}
    }
    let mut words: Vec<&str> = s.split_ascii_whitespace().collect();
    let mut bc = false;
    if let Some(last) = words.last() {
        let last = last.to_ascii_lowercase();
        if last == "bc" || last == "ad" {
            bc = last == "bc";
            words.pop();
        }
    }
    // `June 1, 2023` and `1 June 2023`: a month name makes the date three words.
    let spelled = spelled_date(&words);
    if let Some((_, used)) = &spelled {
        words.drain(..used - 1);
    }
    let Some((first, rest)) = words.split_first() else {
        return Err(syntax(type_name, input));
    };
    let first: &str = match &spelled {
        Some((iso, _)) => iso.as_str(),
        None => first,
    };
    let (date_part, mut time_words): (&str, Vec<&str>) = match first.find(['T', 't']) {
        Some(i) => (
            &first[..i],
            std::iter::once(&first[i + 1..])
                .chain(rest.iter().copied())
                .collect(),
        ),
        None => (first, rest.to_vec()),
    };
    let (y, m, d) = parse_ymd(date_part, bc, type_name, input)?;
    let days = pg_days(y, m, d);
    let mut micros = 0;
    let mut zone_secs = None;
    if !time_words.is_empty() {
        if !allow_time {
            return Err(syntax(type_name, input));
        }
        let time_word = time_words.remove(0);
        // A zone may be glued to the time: 10:20:30+02, 10:20:30Z.
        let split = time_word.find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'));
        let (time_part, glued) = match split {
            Some(i) => (&time_word[..i], Some(&time_word[i..])),
            None => (time_word, None),
        };
        micros = parse_hms(time_part, type_name, input)?;
        let zone: Vec<&str> = glued.into_iter().chain(time_words).collect();
        match zone[..] {
            [] => {}
            [z] => {
                let local = days.saturating_mul(USECS_PER_DAY).saturating_add(micros);
                zone_secs = Some(zone_of_literal(z, local, type_name, input)?);
            }
            _ => return Err(syntax(type_name, input)),
        }
    }
    Ok(Parsed::Value {
        days,
        micros,
        zone_secs,
    })
}

impl Date {
    pub const NEG_INFINITY: Date = Date(i32::MIN);
    pub const INFINITY: Date = Date(i32::MAX);

    pub fn is_finite(&self) -> bool {
        *self != Date::NEG_INFINITY && *self != Date::INFINITY
    }

    /// A date from an astronomical year, month and day, if valid and in range.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Date::from_days(pg_days(year, month, day))
    }

    /// A date from days since 2000-01-01, if in range.
    pub fn from_days(days: i64) -> Option<Date> {
        date_in_range(days).then_some(Date(days as i32))
    }

    /// (astronomical year, month, day) of a finite date.
    pub fn ymd(&self) -> (i64, u32, u32) {
        civil_from_pg_days(i64::from(self.0))
    }

    /// `date_in`. A time of day and zone may follow the date; they are checked, then
    /// ignored.
    pub fn parse(input: &str) -> Result<Date> {
        match parse_datetime(input, "date", true)? {
            Parsed::Infinity(neg) => Ok(if neg {
                Date::NEG_INFINITY
            } else {
                Date::INFINITY
            }),
            Parsed::Value { days, .. } => {
                Date::from_days(days).ok_or_else(|| ValueError::DatetimeOutOfRange {
                    message: format!("date out of range: \"{input}\""),
                })
            }
        }
    }

    /// `date + integer` / `date - integer`.
    pub fn add_days(&self, n: i64) -> Result<Date> {
        if !self.is_finite() {
            return Ok(*self);
        }
        Date::from_days(i64::from(self.0) + n).ok_or_else(|| ValueError::DatetimeOutOfRange {
            message: "date out of range".to_owned(),
        })
    }

    /// `date - date`: days between.
    pub fn days_between(&self, other: &Date) -> Result<i32> {
        if !self.is_finite() || !other.is_finite() {
            return Err(ValueError::DatetimeOutOfRange {
                message: "cannot subtract infinite dates".to_owned(),
            });
        }
        Ok(self.0 - other.0)
    }

    /// Midnight of this date (`date::timestamp`).
    pub fn to_timestamp(&self) -> Result<Timestamp> {
        match *self {
            Date::NEG_INFINITY => Ok(Timestamp(i64::MIN)),
            Date::INFINITY => Ok(Timestamp(i64::MAX)),
            Date(d) => {
                let us = i64::from(d) * USECS_PER_DAY;
                if timestamp_in_range(us) {
                    Ok(Timestamp(us))
                } else {
                    Err(ValueError::DatetimeOutOfRange {
                        message: "date out of range for timestamp".to_owned(),
                    })
                }
            }
        }
    }
}

fn write_date(out: &mut String, days: i64) -> bool {
    let (y, m, d) = civil_from_pg_days(days);
    let bc = y <= 0;
    let shown = if bc { 1 - y } else { y };
    out.push_str(&format!("{shown:04}-{m:02}-{d:02}"));
    bc
}

fn write_time(out: &mut String, micros: i64) {
    let secs = micros / USECS_PER_SEC;
    let frac = micros % USECS_PER_SEC;
    out.push_str(&format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    ));
    if frac != 0 {
        let f = format!("{frac:06}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Date::NEG_INFINITY => f.write_str("-infinity"),
            Date::INFINITY => f.write_str("infinity"),
            Date(d) => {
                let mut s = String::new();
                if write_date(&mut s, i64::from(d)) {
                    s.push_str(" BC");
                }
                f.write_str(&s)
            }
        }
    }
}

impl Time {
    /// `time_in`. A leading date or `T` and a trailing zone are checked, then ignored.
    pub fn parse(input: &str) -> Result<Time> {
        let s = input.trim_matches(is_pg_space);
        if s.eq_ignore_ascii_case("allballs") {
            return Ok(Time(0));
        }
        let mut words: Vec<&str> = s.split_ascii_whitespace().collect();
        // A first word with `-` or `/` before any `:` is a date (`10:00-08` is a time).
        let looks_like_date = |w: &&str| match (w.find(['-', '/']), w.find(':')) {
            (Some(sep), Some(colon)) => sep > 0 && sep < colon,
            (Some(sep), None) => sep > 0,
            _ => false,
        };
        if words.first().is_some_and(looks_like_date) {
            // A date first: validate it through the timestamp parser, keep the time.
            return match parse_datetime(input, "time", true)? {
                Parsed::Value { micros, .. } => Ok(Time(micros)),
                Parsed::Infinity(_) => Err(syntax("time", input)),
            };
        }
        let Some(first) = words.first_mut() else {
            return Err(syntax("time", input));
        };
        *first = first.strip_prefix(['T', 't']).unwrap_or(first);
        let time_word = words.remove(0);
        let split = time_word.find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'));
        let (time_part, glued) = match split {
            Some(i) => (&time_word[..i], Some(&time_word[i..])),
            None => (time_word, None),
        };
        let micros = parse_hms(time_part, "time", input)?;
        let zone: Vec<&str> = glued.into_iter().chain(words).collect();
        match zone[..] {
            [] => {}
            [z] => {
                parse_zone(z, "time", input)?;
            }
            _ => return Err(syntax("time", input)),
        }
        Ok(Time(micros))
    }

    /// `time + interval` (wraps around midnight; months and days are ignored).
    pub fn add_interval(&self, iv: &Interval) -> Time {
        Time((self.0 + iv.micros % USECS_PER_DAY).rem_euclid(USECS_PER_DAY))
    }

    /// `time - time`.
    pub fn sub_time(&self, other: &Time) -> Interval {
        Interval {
            months: 0,
            days: 0,
            micros: self.0 - other.0,
        }
    }
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        write_time(&mut s, self.0);
        f.write_str(&s)
    }
}

fn parse_timestamp_micros(input: &str, type_name: &'static str, with_zone: bool) -> Result<i64> {
    match parse_datetime(input, type_name, true)? {
        Parsed::Infinity(neg) => Ok(if neg { i64::MIN } else { i64::MAX }),
        Parsed::Value {
            days,
            micros,
            zone_secs,
        } => {
            let offset = if with_zone {
                zone_secs.unwrap_or(0) * USECS_PER_SEC
            } else {
                0
            };
            let us = days
                .checked_mul(USECS_PER_DAY)
                .and_then(|v| v.checked_add(micros))
                .and_then(|v| v.checked_sub(offset))
                .filter(|v| timestamp_in_range(*v));
            us.ok_or_else(|| ValueError::DatetimeOutOfRange {
                message: format!("timestamp out of range: \"{input}\""),
            })
        }
    }
}

fn format_timestamp(us: i64, zone: &str) -> String {
    match us {
        i64::MIN => "-infinity".to_owned(),
        i64::MAX => "infinity".to_owned(),
        _ => {
            let mut s = String::new();
            let bc = write_date(&mut s, us.div_euclid(USECS_PER_DAY));
            s.push(' ');
            write_time(&mut s, us.rem_euclid(USECS_PER_DAY));
            s.push_str(zone);
            if bc {
                s.push_str(" BC");
            }
            s
        }
    }
}

/// `timestamp + interval` as PostgreSQL computes it: months first (clamping the day to the
/// end of the month), then days, then microseconds. Infinite timestamps are unchanged.
pub(crate) fn add_interval_micros(us: i64, iv: &Interval) -> Result<i64> {
    if us == i64::MIN || us == i64::MAX {
        return Ok(us);
    }
    let mut days = us.div_euclid(USECS_PER_DAY);
    let time = us.rem_euclid(USECS_PER_DAY);
    if iv.months != 0 {
        let (y, m, d) = civil_from_pg_days(days);
        let total = y * 12 + i64::from(m) - 1 + i64::from(iv.months);
        let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
        if !date_in_range(pg_days(ny, nm, 1)) {
            return Err(timestamp_out_of_range());
        }
        days = pg_days(ny, nm, d.min(days_in_month(ny, nm)));
    }
    days += i64::from(iv.days);
    days.checked_mul(USECS_PER_DAY)
        .and_then(|v| v.checked_add(time))
        .and_then(|v| v.checked_add(iv.micros))
        .filter(|v| timestamp_in_range(*v))
        .ok_or_else(timestamp_out_of_range)
}

/// `timestamp - timestamp`: the difference in microseconds, with whole days moved into the
/// day field (`interval_justify_hours`).
pub(crate) fn sub_timestamps(a: i64, b: i64) -> Result<Interval> {
    let infinite = |v| v == i64::MIN || v == i64::MAX;
    if infinite(a) || infinite(b) {
        return Err(ValueError::DatetimeOutOfRange {
            message: "cannot subtract infinite timestamps".to_owned(),
        });
    }
    let diff = a
        .checked_sub(b)
        .ok_or_else(|| ValueError::DatetimeOutOfRange {
            message: "interval out of range".to_owned(),
        })?;
    Ok(Interval::from_micros(diff).justify_hours())
}

macro_rules! timestamp_common {
    ($t:ident, $type_name:literal, $with_zone:literal, $zone_suffix:literal) => {
        impl $t {
            pub const NEG_INFINITY: $t = $t(i64::MIN);
            pub const INFINITY: $t = $t(i64::MAX);

            pub fn is_finite(&self) -> bool {
                self.0 != i64::MIN && self.0 != i64::MAX
            }

            /// The text input function.
            pub fn parse(input: &str) -> Result<$t> {
                parse_timestamp_micros(input, $type_name, $with_zone).map($t)
            }

            pub fn add_interval(&self, iv: &Interval) -> Result<$t> {
                add_interval_micros(self.0, iv).map($t)
            }

            pub fn sub_interval(&self, iv: &Interval) -> Result<$t> {
                add_interval_micros(self.0, &iv.checked_neg()?).map($t)
            }

            pub fn sub(&self, other: &$t) -> Result<Interval> {
                sub_timestamps(self.0, other.0)
            }

            /// The calendar date (`::date`), flooring toward -infinity.
            pub fn to_date(&self) -> Date {
                match self.0 {
                    i64::MIN => Date::NEG_INFINITY,
                    i64::MAX => Date::INFINITY,
                    us => Date(us.div_euclid(USECS_PER_DAY) as i32),
                }
            }

            /// The time of day (`::time`); infinite timestamps have none.
            pub fn to_time(&self) -> Result<Time> {
                if !self.is_finite() {
                    return Err(timestamp_out_of_range());
                }
                Ok(Time(self.0.rem_euclid(USECS_PER_DAY)))
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&format_timestamp(self.0, $zone_suffix))
            }
        }
    };
}

timestamp_common!(Timestamp, "timestamp", false, "");
timestamp_common!(TimestampTz, "timestamp with time zone", true, "+00");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn civil_conversions() {
        assert_eq!(pg_days(2000, 1, 1), 0);
        assert_eq!(pg_days(1970, 1, 1), -10_957);
        for days in [-2_451_545i64, -1, 0, 1, 59, 60, 365, 2_000_000_000] {
            let (y, m, d) = civil_from_pg_days(days);
            assert_eq!(pg_days(y, m, d), days);
        }
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
    }

    fn show_date(s: &str) -> String {
        Date::parse(s)
            .map(|d| d.to_string())
            .unwrap_or_else(|e| format!("ERROR: {e}"))
    }

    #[test]
    fn date_io_matches_postgres() {
        // Each pair: '<input>'::date on PostgreSQL 15.18 and its output or error.
        let cases = [
            ("2020-1-5", "2020-01-05"),
            ("20200105", "2020-01-05"),
            ("epoch", "1970-01-01"),
            ("infinity", "infinity"),
            ("0044-03-15 BC", "0044-03-15 BC"),
            ("4714-11-24 BC", "4714-11-24 BC"),
            ("5874897-12-31", "5874897-12-31"),
            (
                "4714-11-23 BC",
                "ERROR: date out of range: \"4714-11-23 BC\"",
            ),
            (
                "5874898-01-01",
                "ERROR: date out of range: \"5874898-01-01\"",
            ),
            (
                "2020-02-30",
                "ERROR: date/time field value out of range: \"2020-02-30\"",
            ),
            (
                "0000-01-01",
                "ERROR: date/time field value out of range: \"0000-01-01\"",
            ),
            ("abc", "ERROR: invalid input syntax for type date: \"abc\""),
            // DateStyle MDY for a short leading field:
            // SELECT '01-02-03'::date, '1-2-2003'::date, '12-31-99'::date, '1-2-3 BC'::date,
            //        '0044-1-2'::date;  2003-01-02 | 2003-01-02 | 1999-12-31 | 0003-01-02 BC | 0044-01-02
            ("01-02-03", "2003-01-02"),
            ("1-2-2003", "2003-01-02"),
            ("12-31-99", "1999-12-31"),
            ("1-2-3 BC", "0003-01-02 BC"),
            ("0044-1-2", "0044-01-02"),
            // SELECT '13-01-2000'::date;  ERROR:  date/time field value out of range: "13-01-2000"
            (
                "13-01-2000",
                "ERROR: date/time field value out of range: \"13-01-2000\"",
            ),
            // SELECT '2020.01.02'::date, '2020/1/2'::date, '1/2/2020'::date,
            //        '2020-01-02 10:00:00+05'::date, '2020-01-02T10:00'::date;  all 2020-01-02
            ("2020.01.02", "2020-01-02"),
            ("2020/1/2", "2020-01-02"),
            ("1/2/2020", "2020-01-02"),
            ("2020-01-02 10:00:00+05", "2020-01-02"),
            ("2020-01-02T10:00", "2020-01-02"),
        ];
        for (input, want) in cases {
            assert_eq!(show_date(input), want, "{input}");
        }
        assert_eq!(Date::parse("abc").unwrap_err().sqlstate(), "22007");
        assert_eq!(Date::parse("2020-02-30").unwrap_err().sqlstate(), "22008");
    }

    #[test]
    fn timestamp_io_matches_postgres() {
        // SELECT '2020-01-01T10:20:30.1234567Z'::timestamptz,
        //        '2020-01-01 10:20:30+02:30'::timestamptz, '2020-01-01 10:20:30 -0530'::timestamptz,
        //        '2020-01-01 10:20'::timestamp, '2020-01-01 10:20:30+05'::timestamp;
        // 2020-01-01 10:20:30.123457+00 | 2020-01-01 07:50:30+00 | 2020-01-01 15:50:30+00 |
        // 2020-01-01 10:20:00 | 2020-01-01 10:20:30
        let tz = |s: &str| TimestampTz::parse(s).unwrap().to_string();
        let ts = |s: &str| Timestamp::parse(s).unwrap().to_string();
        assert_eq!(
            tz("2020-01-01T10:20:30.1234567Z"),
            "2020-01-01 10:20:30.123457+00"
        );
        assert_eq!(tz("2020-01-01 10:20:30+02:30"), "2020-01-01 07:50:30+00");
        assert_eq!(tz("2020-01-01 10:20:30 -0530"), "2020-01-01 15:50:30+00");
        assert_eq!(ts("2020-01-01 10:20"), "2020-01-01 10:20:00");
        assert_eq!(ts("2020-01-01 10:20:30+05"), "2020-01-01 10:20:30");
        // SELECT '0044-03-15 12:00:00 BC'::timestamptz, '0044-03-15 12:00:00.5 BC'::timestamp;
        // 0044-03-15 12:00:00+00 BC | 0044-03-15 12:00:00.5 BC
        assert_eq!(tz("0044-03-15 12:00:00 BC"), "0044-03-15 12:00:00+00 BC");
        assert_eq!(ts("0044-03-15 12:00:00.5 BC"), "0044-03-15 12:00:00.5 BC");
        assert_eq!(
            ts("294276-12-31 23:59:59.999999"),
            "294276-12-31 23:59:59.999999"
        );
        assert_eq!(ts("-infinity"), "-infinity");
        assert_eq!(ts("2020-01-01"), "2020-01-01 00:00:00");
        // SELECT '2020-06-30 12:00:00+15:59:59'::timestamptz;  2020-06-29 20:00:01+00
        assert_eq!(tz("2020-06-30 12:00:00+15:59:59"), "2020-06-29 20:00:01+00");
        // SELECT '2020-06-30 12:00:00+16'::timestamptz;
        // ERROR:  time zone displacement out of range: "2020-06-30 12:00:00+16"
        let e = TimestampTz::parse("2020-06-30 12:00:00+16").unwrap_err();
        assert_eq!(
            e.to_string(),
            "time zone displacement out of range: \"2020-06-30 12:00:00+16\""
        );
        assert_eq!(e.sqlstate(), "22009");
        // SELECT '294277-01-01'::timestamp;  ERROR:  timestamp out of range: "294277-01-01"
        let e = Timestamp::parse("294277-01-01").unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("timestamp out of range: \"294277-01-01\"", "22008")
        );
        // SELECT '2020-01-01 25:00'::timestamp;
        // ERROR:  date/time field value out of range: "2020-01-01 25:00"
        assert_eq!(
            Timestamp::parse("2020-01-01 25:00").unwrap_err().sqlstate(),
            "22008"
        );
        // SELECT '2020-01-01 10:00 Mars/Olympus'::timestamptz;
        // ERROR:  time zone "mars/olympus" not recognized
        let e = TimestampTz::parse("2020-01-01 10:00 Mars/Olympus").unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("time zone \"mars/olympus\" not recognized", "22023")
        );
        // SELECT '2020-01-01 10:00:00 12'::timestamp;
        // ERROR:  invalid input syntax for type timestamp: "2020-01-01 10:00:00 12"
        let e = Timestamp::parse("2020-01-01 10:00:00 12").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid input syntax for type timestamp: \"2020-01-01 10:00:00 12\""
        );
    }

    #[test]
    fn time_io_matches_postgres() {
        // SELECT '24:00'::time, '23:59:60'::time, '12:34:56.789'::time, '1:2:3'::time;
        // 24:00:00 | 24:00:00 | 12:34:56.789 | 01:02:03
        let t = |s: &str| Time::parse(s).unwrap().to_string();
        assert_eq!(t("24:00"), "24:00:00");
        assert_eq!(t("23:59:60"), "24:00:00");
        assert_eq!(t("12:34:56.789"), "12:34:56.789");
        assert_eq!(t("1:2:3"), "01:02:03");
        // SELECT '24:00:01'::time;  ERROR:  date/time field value out of range: "24:00:01"
        assert_eq!(
            Time::parse("24:00:01").unwrap_err().to_string(),
            "date/time field value out of range: \"24:00:01\""
        );
        assert_eq!(Time::parse("noon").unwrap_err().sqlstate(), "22007");
        // SELECT '2020-01-02 10:00'::time, '10:00 Z'::time, '10:00:00.5-08'::time, 'T10:00'::time;
        // 10:00:00 | 10:00:00 | 10:00:00.5 | 10:00:00
        assert_eq!(t("2020-01-02 10:00"), "10:00:00");
        assert_eq!(t("10:00 Z"), "10:00:00");
        assert_eq!(t("10:00:00.5-08"), "10:00:00.5");
        assert_eq!(t("T10:00"), "10:00:00");
    }

    #[test]
    fn calendar_arithmetic_matches_postgres() {
        // SELECT '2020-01-01'::date + 30, '2020-03-01'::date - '2020-01-01'::date,
        //        '2020-01-31'::date + interval '1 month',
        //        '2020-01-01 10:00'::timestamp - '2019-12-30 12:30'::timestamp,
        //        '12:00'::time + interval '13 hours', '12:00'::time - '13:30'::time;
        // 2020-01-31 | 60 | 2020-02-29 00:00:00 | 1 day 21:30:00 | 01:00:00 | -01:30:00
        let d = |s: &str| Date::parse(s).unwrap();
        assert_eq!(
            d("2020-01-01").add_days(30).unwrap().to_string(),
            "2020-01-31"
        );
        assert_eq!(d("2020-03-01").days_between(&d("2020-01-01")), Ok(60));
        let month = Interval {
            months: 1,
            days: 0,
            micros: 0,
        };
        let ts = d("2020-01-31")
            .to_timestamp()
            .unwrap()
            .add_interval(&month)
            .unwrap();
        assert_eq!(ts.to_string(), "2020-02-29 00:00:00");
        let a = Timestamp::parse("2020-01-01 10:00").unwrap();
        let b = Timestamp::parse("2019-12-30 12:30").unwrap();
        assert_eq!(a.sub(&b).unwrap().to_string(), "1 day 21:30:00");
        let t = |s: &str| Time::parse(s).unwrap();
        let hours13 = Interval {
            months: 0,
            days: 0,
            micros: 13 * 3600 * USECS_PER_SEC,
        };
        assert_eq!(t("12:00").add_interval(&hours13).to_string(), "01:00:00");
        assert_eq!(t("12:00").sub_time(&t("13:30")).to_string(), "-01:30:00");
        assert_eq!(Date::INFINITY.add_days(1), Ok(Date::INFINITY));
        assert!(Date::INFINITY.days_between(&d("2020-01-01")).is_err());
        assert_eq!(ts.to_date().to_string(), "2020-02-29");
        let before_epoch = Timestamp::parse("1999-12-31 23:00").unwrap();
        assert_eq!(before_epoch.to_date().to_string(), "1999-12-31");
        assert_eq!(before_epoch.to_time().unwrap().to_string(), "23:00:00");
    }

    proptest! {
        #[test]
        fn text_round_trips(us in MIN_TIMESTAMP..END_TIMESTAMP, t in 0..=USECS_PER_DAY) {
            let ts = Timestamp(us);
            prop_assert_eq!(Timestamp::parse(&ts.to_string()), Ok(ts));
            let tz = TimestampTz(us);
            prop_assert_eq!(TimestampTz::parse(&tz.to_string()), Ok(tz));
            let d = ts.to_date();
            prop_assert_eq!(Date::parse(&d.to_string()), Ok(d));
            prop_assert_eq!(Time::parse(&Time(t).to_string()), Ok(Time(t)));
        }
    }
}
