//! PostgreSQL's date/time template patterns: `to_char` output of timestamps and intervals,
//! and `to_timestamp`/`to_date` input.
//!
//! A template is split into [`Node`]s: keyword fields (`YYYY`, `Month`, `HH24`, ... matched
//! longest first, case-insensitively; the case of name fields picks the output case),
//! with the `FM` (no padding) prefix and the `TH`/`th` (ordinal) suffix, and literal
//! characters (`"quoted text"`, `\"`, anything else). Parsing follows PostgreSQL's
//! non-`FX` rules: spaces before a field are skipped, a separator in the template matches
//! one separator in the input (or none), and a number followed by a separator may have any
//! number of digits (otherwise exactly the field's width, as in `YYYYMMDD`).

use zqlite_projections::value::{Interval, civil_from_pg_days, days_in_month, pg_days};

use crate::datetime_functions::{USECS_PER_DAY, USECS_PER_SEC, field_out_of_range};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Ad,
    AdDots,
    Am,
    AmDots,
    Bc,
    BcDots,
    Pm,
    PmDots,
    Cc,
    Day,
    Ddd,
    Dd,
    Dy,
    D,
    Ff(u32),
    Hh24,
    Hh12,
    Hh,
    Iddd,
    Id,
    Iw,
    Iyyy,
    Iyy,
    Iy,
    I,
    J,
    Mi,
    Mm,
    Month,
    Mon,
    Ms,
    Of,
    Q,
    Rm,
    Sssss,
    Ssss,
    Ss,
    Tzh,
    Tzm,
    Tz,
    Us,
    Ww,
    W,
    YCommaYyy,
    Yyyy,
    Yyy,
    Yy,
    Y,
}

/// Keywords, longest first so that `MONTH` wins over `MON` and `MM`.
const KEYWORDS: &[(&str, Field)] = &[
    ("Y,YYY", Field::YCommaYyy),
    ("SSSSS", Field::Sssss),
    ("MONTH", Field::Month),
    ("A.D.", Field::AdDots),
    ("A.M.", Field::AmDots),
    ("B.C.", Field::BcDots),
    ("P.M.", Field::PmDots),
    ("HH24", Field::Hh24),
    ("HH12", Field::Hh12),
    ("IDDD", Field::Iddd),
    ("IYYY", Field::Iyyy),
    ("SSSS", Field::Ssss),
    ("YYYY", Field::Yyyy),
    ("DAY", Field::Day),
    ("DDD", Field::Ddd),
    ("FF1", Field::Ff(1)),
    ("FF2", Field::Ff(2)),
    ("FF3", Field::Ff(3)),
    ("FF4", Field::Ff(4)),
    ("FF5", Field::Ff(5)),
    ("FF6", Field::Ff(6)),
    ("IYY", Field::Iyy),
    ("MON", Field::Mon),
    ("TZH", Field::Tzh),
    ("TZM", Field::Tzm),
    ("YYY", Field::Yyy),
    ("AD", Field::Ad),
    ("AM", Field::Am),
    ("BC", Field::Bc),
    ("PM", Field::Pm),
    ("CC", Field::Cc),
    ("DD", Field::Dd),
    ("DY", Field::Dy),
    ("HH", Field::Hh),
    ("ID", Field::Id),
    ("IW", Field::Iw),
    ("IY", Field::Iy),
    ("MI", Field::Mi),
    ("MM", Field::Mm),
    ("MS", Field::Ms),
    ("OF", Field::Of),
    ("RM", Field::Rm),
    ("SS", Field::Ss),
    ("TZ", Field::Tz),
    ("US", Field::Us),
    ("WW", Field::Ww),
    ("YY", Field::Yy),
    ("D", Field::D),
    ("I", Field::I),
    ("J", Field::J),
    ("Q", Field::Q),
    ("W", Field::W),
    ("Y", Field::Y),
];

/// How a name field is spelled: `MONTH`, `Month` or `month`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Upper,
    Capitalized,
    Lower,
}

#[derive(Debug, Clone)]
enum Node {
    Literal(char),
    /// A quoted literal character (matches any one input character when parsing).
    Quoted(char),
    Field {
        field: Field,
        name: String,
        fill: bool,
        ordinal: Option<Case>,
        case: Case,
    },
}

fn case_of(text: &str) -> Case {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.iter().all(|c| c.is_uppercase()) {
        Case::Upper
    } else if letters.first().is_some_and(|c| c.is_uppercase()) {
        Case::Capitalized
    } else {
        Case::Lower
    }
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn is_numeric_field(f: Field) -> bool {
    !matches!(
        f,
        Field::Ad
            | Field::AdDots
            | Field::Am
            | Field::AmDots
            | Field::Bc
            | Field::BcDots
            | Field::Pm
            | Field::PmDots
            | Field::Day
            | Field::Dy
            | Field::Month
            | Field::Mon
            | Field::Rm
            | Field::Tz
            | Field::Of
    )
}

fn compile(format: &str) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            rest = &rest[1..];
            while let Some(q) = rest.chars().next() {
                rest = &rest[q.len_utf8()..];
                match q {
                    '"' => break,
                    '\\' => {
                        if let Some(e) = rest.chars().next() {
                            rest = &rest[e.len_utf8()..];
                            nodes.push(Node::Quoted(e));
                        }
                    }
                    other => nodes.push(Node::Quoted(other)),
                }
            }
            continue;
        }
        if c == '\\' && rest[1..].starts_with('"') {
            nodes.push(Node::Literal('"'));
            rest = &rest[2..];
            continue;
        }
        let mut fill = false;
        let mut body = rest;
        loop {
            if starts_with_ci(body, "FM") {
                fill = true;
                body = &body[2..];
            } else if starts_with_ci(body, "TM") || starts_with_ci(body, "FX") {
                body = &body[2..];
            } else {
                break;
            }
        }
        let keyword = KEYWORDS
            .iter()
            .find(|(k, _)| starts_with_ci(body, k))
            .copied();
        match keyword {
            Some((k, field)) => {
                let name = body[..k.len()].to_string();
                let case = case_of(&name);
                body = &body[k.len()..];
                let mut ordinal = None;
                if is_numeric_field(field) {
                    if body.starts_with("TH") {
                        ordinal = Some(Case::Upper);
                        body = &body[2..];
                    } else if body.starts_with("th") {
                        ordinal = Some(Case::Lower);
                        body = &body[2..];
                    }
                }
                nodes.push(Node::Field {
                    field,
                    name: k.to_string(),
                    fill,
                    ordinal,
                    case,
                });
                rest = body;
            }
            None => {
                nodes.push(Node::Literal(c));
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    nodes
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const ROMAN: [&str; 12] = [
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
];

fn cased(text: &str, case: Case) -> String {
    match case {
        Case::Upper => text.to_uppercase(),
        Case::Lower => text.to_lowercase(),
        Case::Capitalized => text.to_string(),
    }
}

fn ordinal_suffix(n: i64, case: Case) -> &'static str {
    let n = n.abs();
    let s = match (n % 100, n % 10) {
        (11..=13, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    };
    match (s, case) {
        ("st", Case::Upper) => "ST",
        ("nd", Case::Upper) => "ND",
        ("rd", Case::Upper) => "RD",
        ("th", Case::Upper) => "TH",
        (s, _) => s,
    }
}

/// The calendar and clock fields of a value being formatted.
struct Moment {
    /// Astronomical year (1 BC is 0); for intervals, whole years.
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    micros: i64,
    /// Days since 2000-01-01 (timestamps only).
    days: Option<i64>,
    /// `Some(offset seconds)` for timestamptz.
    zone: Option<i64>,
}

fn pad(n: i64, width: usize, fill: bool) -> String {
    if fill {
        n.to_string()
    } else {
        format!("{n:0width$}")
    }
}

/// Width of a clock field: one more for a negative value (interval fields), as PostgreSQL.
fn clock(n: i64, fill: bool) -> String {
    pad(n, if n >= 0 { 2 } else { 3 }, fill)
}

fn padded_name(name: &str, case: Case, fill: bool, width: usize) -> String {
    let text = cased(name, case);
    if fill {
        text
    } else {
        format!("{text:<width$}")
    }
}

impl Moment {
    /// ISO year, week and day of week (Monday = 1).
    fn iso(&self, days: i64) -> (i64, i64, i64) {
        let isodow = (days + 5).rem_euclid(7) + 1;
        let thursday = days - (isodow - 1) + 3;
        let (iso_year, _, _) = civil_from_pg_days(thursday);
        let week = (thursday - pg_days(iso_year, 1, 1)) / 7 + 1;
        (iso_year, week, isodow)
    }

    fn format(&self, field: Field, fill: bool, case: Case) -> Option<(String, i64)> {
        let bc = self.days.is_some() && self.year <= 0;
        let year = if self.days.is_some() && self.year <= 0 {
            1 - self.year
        } else {
            self.year
        };
        let hour12 = |h: i64| if h % 12 == 0 { 12 } else { h % 12 };
        let num = |n: i64, width: usize| Some((pad(n, width, fill), n));
        match field {
            Field::Yyyy => num(year, if year >= 0 { 4 } else { 5 }),
            Field::Yyy => num(year % 1000, 3),
            Field::Yy => num(year % 100, 2),
            Field::Y => num(year % 10, 1),
            Field::YCommaYyy => Some((format!("{},{:03}", year / 1000, year % 1000), year)),
            Field::Mm => Some((clock(self.month, fill), self.month)),
            Field::Dd => num(self.day, 2),
            Field::Hh24 => Some((clock(self.hour, fill), self.hour)),
            Field::Hh | Field::Hh12 => {
                let h = hour12(self.hour);
                Some((clock(h, fill), h))
            }
            Field::Mi => Some((clock(self.minute, fill), self.minute)),
            Field::Ss => Some((clock(self.second, fill), self.second)),
            Field::Ms => num(self.micros / 1000, 3),
            Field::Us => num(self.micros, 6),
            Field::Ff(n) => num(self.micros / 10i64.pow(6 - n), n as usize),
            Field::Sssss | Field::Ssss => {
                let s = (self.hour * 60 + self.minute) * 60 + self.second;
                Some((s.to_string(), s))
            }
            Field::Am | Field::Pm => Some((
                cased(if self.hour % 24 >= 12 { "PM" } else { "AM" }, case),
                0,
            )),
            Field::AmDots | Field::PmDots => Some((
                cased(if self.hour % 24 >= 12 { "P.M." } else { "A.M." }, case),
                0,
            )),
            Field::Bc | Field::Ad => Some((cased(if bc { "BC" } else { "AD" }, case), 0)),
            Field::BcDots | Field::AdDots => {
                Some((cased(if bc { "B.C." } else { "A.D." }, case), 0))
            }
            Field::Tz => Some((
                match self.zone {
                    Some(_) => cased("UTC", case),
                    None => String::new(),
                },
                0,
            )),
            Field::Of | Field::Tzh | Field::Tzm => {
                let off = self.zone.unwrap_or(0);
                let sign = if off < 0 { '-' } else { '+' };
                let (h, m) = (off.abs() / 3600, off.abs() / 60 % 60);
                Some((
                    match field {
                        Field::Tzh => format!("{sign}{h:02}"),
                        Field::Tzm => format!("{m:02}"),
                        _ if m == 0 => format!("{sign}{h:02}"),
                        _ => format!("{sign}{h:02}:{m:02}"),
                    },
                    0,
                ))
            }
            _ => {
                let days = self.days?;
                let (y, _, _) = civil_from_pg_days(days);
                let doy = days - pg_days(y, 1, 1) + 1;
                let (iso_year, iso_week, isodow) = self.iso(days);
                let iso_display = if iso_year <= 0 {
                    1 - iso_year
                } else {
                    iso_year
                };
                match field {
                    Field::Month => Some((
                        padded_name(MONTHS[self.month as usize - 1], case, fill, 9),
                        0,
                    )),
                    Field::Mon => Some((cased(&MONTHS[self.month as usize - 1][..3], case), 0)),
                    Field::Day | Field::Dy => {
                        let name = DAYS[(days + 6).rem_euclid(7) as usize];
                        Some(if field == Field::Day {
                            (padded_name(name, case, fill, 9), 0)
                        } else {
                            (cased(&name[..3], case), 0)
                        })
                    }
                    Field::Rm => Some((
                        padded_name(ROMAN[self.month as usize - 1], case, fill, 4),
                        0,
                    )),
                    Field::Ddd => num(doy, 3),
                    Field::Iddd => num((iso_week - 1) * 7 + isodow, 3),
                    Field::D => num((days + 6).rem_euclid(7) + 1, 1),
                    Field::Id => num(isodow, 1),
                    Field::W => num((self.day - 1) / 7 + 1, 1),
                    Field::Ww => num((doy - 1) / 7 + 1, 2),
                    Field::Iw => num(iso_week, 2),
                    Field::Cc => {
                        let cc = if self.year > 0 {
                            (self.year + 99) / 100
                        } else {
                            -((99 - (self.year - 1)) / 100)
                        };
                        Some((clock(cc, fill), cc))
                    }
                    Field::J => num(days + 2_451_545, 1),
                    Field::Q => num((self.month - 1) / 3 + 1, 1),
                    Field::Iyyy => num(iso_display, 4),
                    Field::Iyy => num(iso_display % 1000, 3),
                    Field::Iy => num(iso_display % 100, 2),
                    Field::I => num(iso_display % 10, 1),
                    _ => None,
                }
            }
        }
    }

    fn render(&self, format: &str) -> std::result::Result<String, String> {
        let mut out = String::new();
        for node in compile(format) {
            match node {
                Node::Literal(c) | Node::Quoted(c) => out.push(c),
                Node::Field {
                    field,
                    name,
                    fill,
                    ordinal,
                    case,
                } => {
                    let Some((text, n)) = self.format(field, fill, case) else {
                        return Err(name);
                    };
                    out.push_str(&text);
                    if let Some(case) = ordinal {
                        out.push_str(ordinal_suffix(n, case));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// `to_char(timestamp, format)`: `micros` is local time, `zone` the offset of a
/// timestamptz (none for a timestamp).
pub fn format_moment(micros: i64, zone: Option<i64>, format: &str) -> Result<String> {
    let days = micros.div_euclid(USECS_PER_DAY);
    let time = micros.rem_euclid(USECS_PER_DAY);
    let (year, month, day) = civil_from_pg_days(days);
    let m = Moment {
        year,
        month: i64::from(month),
        day: i64::from(day),
        hour: time / (3600 * USECS_PER_SEC),
        minute: time / (60 * USECS_PER_SEC) % 60,
        second: time / USECS_PER_SEC % 60,
        micros: time % USECS_PER_SEC,
        days: Some(days),
        zone,
    };
    m.render(format).map_err(|name| Error::Runtime {
        sqlstate: "XX000",
        message: format!("format pattern \"{name}\" has no value for a timestamp"),
    })
}

/// `to_char(interval, format)`; calendar fields an interval does not have are refused.
pub fn format_interval(iv: &Interval, format: &str) -> Result<String> {
    let m = Moment {
        year: i64::from(iv.months / 12),
        month: i64::from(iv.months % 12),
        day: i64::from(iv.days),
        hour: iv.micros / (3600 * USECS_PER_SEC),
        minute: iv.micros / (60 * USECS_PER_SEC) % 60,
        second: iv.micros / USECS_PER_SEC % 60,
        micros: iv.micros % USECS_PER_SEC,
        days: None,
        zone: None,
    };
    m.render(format).map_err(|name| Error::Runtime {
        sqlstate: "0A000",
        message: format!("format pattern \"{name}\" is not supported for type interval"),
    })
}

fn invalid_value(value: &str, name: &str, detail: &str) -> Error {
    Error::Runtime {
        sqlstate: "22007",
        message: format!("invalid value \"{value}\" for \"{name}\"; {detail}"),
    }
}

/// The fields `to_timestamp`/`to_date` read.
#[derive(Default)]
struct Parsed {
    year: Option<i64>,
    /// Digits the year was written with (two-digit years are 1970–2069).
    year_digits: usize,
    bc: bool,
    month: Option<i64>,
    day: Option<i64>,
    doy: Option<i64>,
    hour: i64,
    twelve_hour: bool,
    pm: Option<bool>,
    minute: i64,
    second: i64,
    micros: i64,
    tz_hours: i64,
    tz_minutes: i64,
    tz_negative: bool,
    /// The ISO week date (`IYYY`, `IW`, `ID`): used when no month and day are given.
    iso_year: Option<i64>,
    iso_week: Option<i64>,
    iso_day: Option<i64>,
}

fn field_width(field: Field) -> usize {
    match field {
        Field::Yyyy | Field::Iyyy => 4,
        Field::Yyy | Field::Iyy | Field::Ddd | Field::Iddd | Field::Ms => 3,
        Field::Us => 6,
        Field::Ff(n) => n as usize,
        Field::Sssss | Field::Ssss => 5,
        Field::J => 10,
        Field::Y | Field::I | Field::D | Field::Id | Field::W | Field::Q => 1,
        _ => 2,
    }
}

fn is_separator(c: char) -> bool {
    !c.is_alphanumeric()
}

/// Reads a name from `names` at the start of `input` (case-insensitive; `abbrev`: its first
/// three letters); returns its index and length.
fn read_name(input: &str, names: &[&str], abbrev: bool) -> Option<(usize, usize)> {
    names.iter().enumerate().find_map(|(i, n)| {
        let n = if abbrev { &n[..3] } else { n };
        starts_with_ci(input, n).then_some((i, n.len()))
    })
}

/// `to_timestamp(text, format)` (`date_only`: `to_date`): microseconds since 2000-01-01
/// UTC (the session time zone).
pub fn parse(input: &str, format: &str, date_only: bool) -> Result<i64> {
    let nodes = compile(format);
    let mut p = Parsed::default();
    let mut rest = input;
    for (i, node) in nodes.iter().enumerate() {
        match node {
            Node::Literal(c) if c.is_whitespace() => {
                rest = rest.trim_start();
            }
            Node::Literal(c) if is_separator(*c) => {
                if let Some(first) = rest.chars().next()
                    && is_separator(first)
                    && !first.is_whitespace()
                {
                    rest = &rest[first.len_utf8()..];
                }
            }
            Node::Literal(_) | Node::Quoted(_) => {
                if let Some(first) = rest.chars().next() {
                    rest = &rest[first.len_utf8()..];
                }
            }
            Node::Field { field, name, .. } => {
                rest = rest.trim_start();
                let field = *field;
                if !is_numeric_field(field) {
                    rest = parse_name(&mut p, field, name, rest)?;
                    continue;
                }
                let next_is_separator = match nodes.get(i + 1) {
                    None => true,
                    Some(Node::Field { field, .. }) => !is_numeric_field(*field),
                    Some(_) => true,
                };
                if field == Field::Tzh {
                    p.tz_negative = rest.starts_with('-');
                }
                if matches!(field, Field::Tzh) && (rest.starts_with('-') || rest.starts_with('+')) {
                    rest = &rest[1..];
                }
                let max = if field == Field::YCommaYyy || next_is_separator {
                    usize::MAX
                } else {
                    field_width(field)
                };
                let digits: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || (field == Field::YCommaYyy && *c == ','))
                    .take(max)
                    .collect();
                let clean: String = digits.chars().filter(char::is_ascii_digit).collect();
                if clean.is_empty() || clean.len() > 18 {
                    let shown: String = rest.chars().take(field_width(field)).collect();
                    return Err(invalid_value(&shown, name, "Value must be an integer."));
                }
                rest = &rest[digits.len()..];
                let n: i64 = clean.parse().expect("ASCII digits");
                apply_number(&mut p, field, n, clean.len(), name)?;
            }
        }
    }
    build(&p, input, date_only)
}

fn parse_name<'a>(p: &mut Parsed, field: Field, name: &str, rest: &'a str) -> Result<&'a str> {
    let no_match = || {
        let shown: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
        invalid_value(
            &shown,
            name,
            "The given value did not match any of the allowed values for this field.",
        )
    };
    let (consumed, _) = match field {
        Field::Month | Field::Mon => {
            let (i, len) = read_name(rest, &MONTHS, field == Field::Mon).ok_or_else(no_match)?;
            p.month = Some(i as i64 + 1);
            (len, ())
        }
        Field::Day | Field::Dy => {
            let (_, len) = read_name(rest, &DAYS, field == Field::Dy).ok_or_else(no_match)?;
            (len, ())
        }
        Field::Rm => {
            // Longest numeral first (VIII before V, XII before X).
            let mut best: Option<(usize, usize)> = None;
            for (i, r) in ROMAN.iter().enumerate() {
                if starts_with_ci(rest, r) && best.is_none_or(|(_, l)| r.len() > l) {
                    best = Some((i, r.len()));
                }
            }
            let (i, len) = best.ok_or_else(no_match)?;
            p.month = Some(i as i64 + 1);
            (len, ())
        }
        Field::Am | Field::Pm | Field::AmDots | Field::PmDots => {
            let options: &[(&str, bool)] = if matches!(field, Field::Am | Field::Pm) {
                &[("AM", false), ("PM", true)]
            } else {
                &[("A.M.", false), ("P.M.", true)]
            };
            let (text, pm) = options
                .iter()
                .find(|(t, _)| starts_with_ci(rest, t))
                .ok_or_else(no_match)?;
            p.pm = Some(*pm);
            (text.len(), ())
        }
        Field::Bc | Field::Ad | Field::BcDots | Field::AdDots => {
            let options: &[(&str, bool)] = if matches!(field, Field::Bc | Field::Ad) {
                &[("BC", true), ("AD", false)]
            } else {
                &[("B.C.", true), ("A.D.", false)]
            };
            let (text, bc) = options
                .iter()
                .find(|(t, _)| starts_with_ci(rest, t))
                .ok_or_else(no_match)?;
            p.bc = *bc;
            (text.len(), ())
        }
        _ => {
            return Err(Error::Runtime {
                sqlstate: "0A000",
                message: format!("formatting field \"{name}\" is only supported in to_char"),
            });
        }
    };
    Ok(&rest[consumed..])
}

fn apply_number(p: &mut Parsed, field: Field, n: i64, digits: usize, name: &str) -> Result<()> {
    // A fraction written with fewer digits than its field counts from the left (`SS.MS` of
    // `12.3` is 12.3 seconds).
    let fraction = |n: i64, digits: usize| -> i64 {
        if digits >= 6 {
            n / 10i64.pow(digits as u32 - 6)
        } else {
            n * 10i64.pow(6 - digits as u32)
        }
    };
    match field {
        Field::Yyyy | Field::Yyy | Field::Yy | Field::Y | Field::YCommaYyy => {
            p.year = Some(n);
            // Only the short year fields read a year as recent (`YY`: 1970–2069).
            p.year_digits = match field {
                Field::Yyy => 3,
                Field::Yy => 2,
                Field::Y => 1,
                _ => 4,
            };
        }
        Field::Mm => p.month = Some(n),
        Field::Dd => p.day = Some(n),
        Field::Ddd => p.doy = Some(n),
        Field::Hh24 => p.hour = n,
        Field::Hh | Field::Hh12 => {
            p.hour = n;
            p.twelve_hour = true;
        }
        Field::Mi => p.minute = n,
        Field::Ss => p.second = n,
        Field::Ms | Field::Us | Field::Ff(_) => p.micros = fraction(n, digits),
        Field::Sssss | Field::Ssss => {
            p.hour = n / 3600;
            p.minute = n / 60 % 60;
            p.second = n % 60;
        }
        Field::Tzh => p.tz_hours = n,
        Field::Tzm => p.tz_minutes = n,
        Field::J => {
            let (y, m, d) = civil_from_pg_days(n - 2_451_545);
            p.year = Some(y);
            p.year_digits = 4;
            p.month = Some(i64::from(m));
            p.day = Some(i64::from(d));
        }
        Field::Iyyy | Field::Iyy | Field::Iy | Field::I => p.iso_year = Some(n),
        Field::Iw => p.iso_week = Some(n),
        Field::Id => p.iso_day = Some(n),
        // Other week-based and informational fields are read and not used, as by
        // PostgreSQL when a full date is given.
        Field::D | Field::W | Field::Ww | Field::Q | Field::Cc => {}
        _ => {
            return Err(Error::Runtime {
                sqlstate: "0A000",
                message: format!("formatting field \"{name}\" is only supported in to_char"),
            });
        }
    }
    Ok(())
}

fn build(p: &Parsed, input: &str, date_only: bool) -> Result<i64> {
    let out_of_range = || field_out_of_range(&format!("\"{input}\""));
    let mut year = p.year.unwrap_or(0);
    if p.year.is_some() {
        year = match p.year_digits {
            1 if year < 10 => 2000 + year,
            2 if year < 70 => 2000 + year,
            2 if year < 100 => 1900 + year,
            3 if year < 100 => 2000 + year,
            3 if year < 1000 => 1000 + year,
            _ => year,
        };
        if p.bc {
            year = 1 - year;
        }
    }
    // Beyond PostgreSQL's range (4714 BC to 5874897 AD) before any arithmetic.
    if year.abs() > 6_000_000 {
        return Err(Error::Runtime {
            sqlstate: "22008",
            message: format!("date out of range: \"{input}\""),
        });
    }
    if p.tz_hours > 15 || p.tz_minutes > 59 {
        return Err(out_of_range());
    }
    let mut hour = p.hour;
    if p.twelve_hour || p.pm.is_some() {
        if !(1..=12).contains(&hour) {
            return Err(Error::Runtime {
                sqlstate: "22007",
                message: format!(
                    "hour \"{hour}\" is invalid for the 12-hour clock; use the 24-hour clock, \
                     or give an hour between 1 and 12"
                ),
            });
        }
        match p.pm {
            Some(true) if hour < 12 => hour += 12,
            Some(false) if hour == 12 => hour = 0,
            _ => {}
        }
    }
    let days = match (p.month, p.day, p.doy) {
        (None, None, None) if p.iso_year.is_some() => {
            // ISO week 1 is the week (from Monday) holding January 4.
            let iso_year = p.iso_year.unwrap_or(year);
            let jan4 = pg_days(iso_year, 1, 4);
            let weekday = (jan4 + 5).rem_euclid(7) + 1;
            let week = p.iso_week.unwrap_or(1);
            let day = p.iso_day.unwrap_or(1);
            jan4 - (weekday - 1) + (week - 1) * 7 + (day - 1)
        }
        (None, None, Some(doy)) => {
            let len = if days_in_month(year, 2) == 29 {
                366
            } else {
                365
            };
            if !(1..=len).contains(&doy) {
                return Err(out_of_range());
            }
            pg_days(year, 1, 1) + doy - 1
        }
        (month, day, _) => {
            let (month, day) = (month.unwrap_or(1), day.unwrap_or(1));
            if !(1..=12).contains(&month)
                || day < 1
                || day > i64::from(days_in_month(year, month as u32))
            {
                return Err(out_of_range());
            }
            pg_days(year, month as u32, day as u32)
        }
    };
    if !(-2_451_545..2_147_483_494).contains(&days) {
        return Err(Error::Runtime {
            sqlstate: "22008",
            message: format!("date out of range: \"{input}\""),
        });
    }
    if date_only {
        return Ok(days * USECS_PER_DAY);
    }
    if hour > 24 || p.minute > 59 || p.second > 60 {
        return Err(out_of_range());
    }
    let offset = (p.tz_hours * 3600 + p.tz_minutes * 60) * if p.tz_negative { -1 } else { 1 };
    let local =
        days * USECS_PER_DAY + ((hour * 60 + p.minute) * 60 + p.second) * USECS_PER_SEC + p.micros;
    Ok(local - offset * USECS_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso_week_dates_parse() {
        let day = |input: &str| parse(input, "IYYY-\"W\"IW-ID", true).unwrap() / USECS_PER_DAY;
        assert_eq!(day("2023-W22-4"), pg_days(2023, 6, 1));
        assert_eq!(day("2021-W01-1"), pg_days(2021, 1, 4));
        assert_eq!(day("2020-W53-7"), pg_days(2021, 1, 3));
    }

    #[test]
    fn templates_split_into_fields_and_literals() {
        let nodes = compile("FMDDth \"at\" HH24");
        assert_eq!(nodes.len(), 6, "{nodes:?}");
        assert!(matches!(
            nodes[0],
            Node::Field {
                field: Field::Dd,
                fill: true,
                ordinal: Some(Case::Lower),
                ..
            }
        ));
        assert!(matches!(nodes[2], Node::Quoted('a')));
        assert!(matches!(
            nodes[5],
            Node::Field {
                field: Field::Hh24,
                ..
            }
        ));
    }

    #[test]
    fn parsed_years_follow_the_field_width() {
        let day =
            |input: &str, format: &str| parse(input, format, true).map(|us| us / USECS_PER_DAY);
        assert_eq!(day("26-01-01", "YY-MM-DD").ok(), Some(pg_days(2026, 1, 1)));
        assert_eq!(day("75-01-01", "YY-MM-DD").ok(), Some(pg_days(1975, 1, 1)));
        assert_eq!(
            day("0026-01-01", "YYYY-MM-DD").ok(),
            Some(pg_days(26, 1, 1))
        );
        assert!(day("99999999999999-01-01", "YYYY-MM-DD").is_err());
    }

    proptest! {
        /// Any template and input give a value or an error, never a panic.
        #[test]
        fn formats_and_parses_anything(
            format in "[A-Za-z0-9 ,.:\\\"/-]{0,24}",
            input in "[A-Za-z0-9 ,.:+-]{0,24}",
            micros in any::<i64>(),
        ) {
            let micros = micros.clamp(-211_813_488_000_000_000, 9_223_371_331_200_000_000);
            let _ = format_moment(micros, Some(0), &format);
            let iv = Interval { months: (micros % 100_000) as i32, days: (micros % 1000) as i32, micros };
            let _ = format_interval(&iv, &format);
            let _ = parse(&input, &format, false);
            let _ = parse(&input, &format, true);
        }
    }
}
