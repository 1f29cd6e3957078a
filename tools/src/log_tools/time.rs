//! Timestamps of the log tools: log timestamps (µs since the Unix epoch, UTC) printed as
//! RFC 3339, and `--since`/`--until` arguments read with PostgreSQL's `timestamptz` input
//! (which accepts RFC 3339: `2026-11-28T10:00:00Z`, `2026-11-28T10:00:00.5+02:00`).

use zqlite_query::value::TimestampTz;

/// Microseconds from 1970-01-01 (the log's epoch) to 2000-01-01 (PostgreSQL's).
const UNIX_TO_PG_MICROS: i64 = 946_684_800_000_000;
/// `2026-11-28T10:00:00.000123Z` for a log timestamp (the HTTP API's format too).
pub use zqlite_server::rfc3339;

/// A `--since`/`--until` argument as µs since the Unix epoch. Without a zone it means UTC.
pub fn parse(input: &str) -> Result<i64, String> {
    let ts = TimestampTz::parse(input.trim()).map_err(|e| {
        format!("invalid timestamp {input:?}: {e}; give RFC 3339, e.g. 2026-11-28T10:00:00Z")
    })?;
    if !ts.is_finite() {
        return Err(format!(
            "invalid timestamp {input:?}: give a finite time, e.g. 2026-11-28T10:00:00Z"
        ));
    }
    ts.0.checked_add(UNIX_TO_PG_MICROS)
        .ok_or_else(|| format!("timestamp {input:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(rfc3339(951_782_400_000_000), "2000-02-29T00:00:00.000000Z");
        assert_eq!(
            rfc3339(1_795_860_000_123_456),
            "2026-11-28T10:00:00.123456Z"
        );
    }

    #[test]
    fn parses_rfc3339_and_round_trips() {
        for us in [0, 1_795_860_000_123_456, 951_782_400_000_000, -1] {
            assert_eq!(parse(&rfc3339(us)), Ok(us));
        }
        assert_eq!(parse("2026-11-28T10:00:00Z"), Ok(1_795_860_000_000_000));
        assert_eq!(
            parse("2026-11-28T12:00:00+02:00"),
            Ok(1_795_860_000_000_000)
        );
        assert_eq!(parse("2026-11-28 10:00:00"), Ok(1_795_860_000_000_000));
        for bad in ["yesterday-ish", "2026-13-01T00:00:00Z", "", "infinity"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
