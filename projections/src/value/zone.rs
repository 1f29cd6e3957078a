//! Time zones as `AT TIME ZONE` and `timezone()` name them: `UTC`, POSIX-style numeric
//! offsets in text (`'+02'` and `'UTC+2'` are two hours *west* of Greenwich, as in
//! PostgreSQL), ISO offsets given as an interval (`INTERVAL '+02:00'` is east), and IANA
//! names looked up case-insensitively in the tz database bundled with zqlite (so answers do
//! not depend on the host's tzdata).
//!
//! Invariants: offsets are seconds east of UTC. A local time that a daylight-saving change
//! skips takes the offset in force before the change; one that occurs twice takes the
//! offset after it (standard time), as PostgreSQL does.

use jiff::tz::{AmbiguousOffset, TimeZone};

use super::datetime::civil_from_pg_days;
use super::error::{Result, ValueError};
use super::interval::Interval;

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;
const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_DAY: i64 = 86_400 * USECS_PER_SEC;

/// A time zone: a fixed offset or a named zone with its rules.
#[derive(Debug, Clone)]
pub enum Zone {
    Fixed { east_secs: i64 },
    Named(TimeZone),
}

fn not_recognized(text: &str) -> ValueError {
    ValueError::InvalidParameterValue {
        message: format!("time zone \"{text}\" not recognized"),
    }
}

/// `[+-]h[h][:mm[:ss]]` in seconds, sign included.
fn parse_offset(text: &str) -> Option<i64> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => (1, text),
    };
    let mut secs = 0;
    let mut scale = 3600;
    for part in rest.split(':') {
        if scale == 0 || part.is_empty() || part.len() > 2 {
            return None;
        }
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        secs += part.parse::<i64>().ok()? * scale;
        scale /= 60;
    }
    Some(sign * secs)
}

impl Zone {
    /// A zone named in text (see the module documentation); 22023 when unknown.
    pub fn parse(text: &str) -> Result<Zone> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        if matches!(lower.as_str(), "utc" | "z" | "zulu" | "gmt" | "ut") {
            return Ok(Zone::Fixed { east_secs: 0 });
        }
        // POSIX: `UTC+2`, `GMT-3`, `+02`, `5` are hours west of Greenwich.
        let numeric = ["utc", "gmt"]
            .iter()
            .find_map(|p| lower.strip_prefix(p))
            .filter(|rest| rest.starts_with(['+', '-']))
            .unwrap_or(&lower);
        if numeric.starts_with(['+', '-']) || numeric.starts_with(|c: char| c.is_ascii_digit()) {
            return match parse_offset(numeric) {
                Some(west) if west.abs() <= 15 * 3600 + 59 * 60 + 59 => {
                    Ok(Zone::Fixed { east_secs: -west })
                }
                _ => Err(not_recognized(trimmed)),
            };
        }
        jiff::tz::db()
            .get(trimmed)
            .map(Zone::Named)
            .map_err(|_| not_recognized(trimmed))
    }

    /// A zone given as an interval (ISO sign: positive is east); it must hold only a time.
    pub fn from_interval(iv: &Interval, shown: &str) -> Result<Zone> {
        if iv.months != 0 || iv.days != 0 {
            return Err(ValueError::InvalidParameterValue {
                message: format!("interval time zone \"{shown}\" must not include months or days"),
            });
        }
        Ok(Zone::Fixed {
            east_secs: iv.micros / USECS_PER_SEC,
        })
    }

    /// The offset in force at an instant (microseconds since 2000-01-01 UTC).
    pub fn offset_at(&self, utc_micros: i64) -> i64 {
        match self {
            Zone::Fixed { east_secs } => *east_secs,
            Zone::Named(tz) => {
                let unix = utc_micros.saturating_add(PG_EPOCH_UNIX_MICROS);
                match jiff::Timestamp::from_microsecond(unix) {
                    Ok(ts) => i64::from(tz.to_offset(ts).seconds()),
                    // Beyond the range of the rules: the offset at the nearest end.
                    Err(_) => {
                        let edge = if unix < 0 {
                            jiff::Timestamp::MIN
                        } else {
                            jiff::Timestamp::MAX
                        };
                        i64::from(tz.to_offset(edge).seconds())
                    }
                }
            }
        }
    }

    /// The offset of a wall-clock time in this zone (microseconds since 2000-01-01 local).
    pub fn offset_of_local(&self, local_micros: i64) -> i64 {
        let tz = match self {
            Zone::Fixed { east_secs } => return *east_secs,
            Zone::Named(tz) => tz,
        };
        let days = local_micros.div_euclid(USECS_PER_DAY);
        let time = local_micros.rem_euclid(USECS_PER_DAY) / USECS_PER_SEC;
        let (y, m, d) = civil_from_pg_days(days);
        let civil = i16::try_from(y).ok().and_then(|y| {
            jiff::civil::DateTime::new(
                y,
                m as i8,
                d as i8,
                (time / 3600) as i8,
                (time / 60 % 60) as i8,
                (time % 60) as i8,
                0,
            )
            .ok()
        });
        let Some(civil) = civil else {
            return self.offset_at(local_micros);
        };
        match tz.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => i64::from(offset.seconds()),
            AmbiguousOffset::Gap { before, .. } => i64::from(before.seconds()),
            AmbiguousOffset::Fold { after, .. } => i64::from(after.seconds()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(y: i64, m: u32, d: u32, h: i64, mi: i64) -> i64 {
        super::super::datetime::pg_days(y, m, d) * USECS_PER_DAY + (h * 60 + mi) * 60_000_000
    }

    #[test]
    fn numeric_text_offsets_are_posix() {
        let east = |t: &str| match Zone::parse(t) {
            Ok(Zone::Fixed { east_secs }) => east_secs,
            other => panic!("{t}: {other:?}"),
        };
        assert_eq!(east("+02"), -7200);
        assert_eq!(east("UTC+2"), -7200);
        assert_eq!(east("GMT-3"), 3 * 3600);
        assert_eq!(east("5"), -5 * 3600);
        assert_eq!(east("+05:30"), -(5 * 3600 + 1800));
        assert_eq!(east("utc"), 0);
        assert!(Zone::parse("-0330").is_err());
        assert!(Zone::parse("Nowhere/City").is_err());
    }

    #[test]
    fn named_zones_follow_daylight_saving() {
        let paris = Zone::parse("europe/paris").expect("Europe/Paris");
        assert_eq!(paris.offset_at(micros(2026, 1, 1, 12, 0)), 3600);
        assert_eq!(paris.offset_at(micros(2026, 7, 1, 12, 0)), 7200);
        // Skipped (spring) and repeated (autumn) wall-clock times, as PostgreSQL reads them.
        assert_eq!(paris.offset_of_local(micros(2026, 3, 29, 2, 30)), 3600);
        assert_eq!(paris.offset_of_local(micros(2026, 10, 25, 2, 30)), 3600);
        let ny = Zone::parse("America/New_York").expect("New York");
        assert_eq!(ny.offset_of_local(micros(2026, 3, 8, 2, 30)), -5 * 3600);
        assert_eq!(ny.offset_of_local(micros(2026, 11, 1, 1, 30)), -5 * 3600);
        assert_eq!(ny.offset_of_local(micros(2026, 7, 1, 12, 0)), -4 * 3600);
    }

    #[test]
    fn interval_zones_are_east_and_time_only() {
        let iv = Interval {
            months: 0,
            days: 0,
            micros: 2 * 3600 * USECS_PER_SEC,
        };
        assert!(matches!(
            Zone::from_interval(&iv, "02:00:00"),
            Ok(Zone::Fixed { east_secs: 7200 })
        ));
        let day = Interval {
            months: 0,
            days: 1,
            micros: 0,
        };
        assert!(Zone::from_interval(&day, "1 day").is_err());
    }
}
