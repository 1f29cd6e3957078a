//! The value layer's error type: every failure of parsing, casting or computing a SQL value.
//!
//! Invariants:
//! - each variant maps to exactly one SQLSTATE ([`ValueError::sqlstate`]), the code PostgreSQL
//!   raises for the same failure;
//! - `Display` is PostgreSQL's primary message, word for word (`invalid input syntax for type
//!   integer: "abc"`, `integer out of range`, `division by zero`), so clients and tests that
//!   match on PostgreSQL's text keep working; a PostgreSQL DETAIL line, when there is one, is
//!   available from [`ValueError::detail`];
//! - every error here is deterministic: the same inputs always fail the same way.
//!
//! The executor's error type wraps this one (keeping its SQLSTATE) when it is written.

use thiserror::Error;

/// `Result` for the value layer.
pub type Result<T, E = ValueError> = std::result::Result<T, E>;

/// A failure to parse, cast or compute a SQL value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Text that is not a valid literal of the type (22P02).
    #[error("invalid input syntax for type {type_name}: \"{input}\"")]
    InvalidTextRepresentation {
        type_name: &'static str,
        input: String,
    },
    /// Malformed input whose PostgreSQL message does not quote it, e.g. `invalid input syntax
    /// for type bytea` (22P02).
    #[error("{message}")]
    Syntax { message: String },
    /// Text that is not valid JSON (22P02); PostgreSQL names the type `json` for jsonb too.
    #[error("invalid input syntax for type json")]
    InvalidJson { detail: String },
    /// Date/time text that does not parse (22007).
    #[error("invalid input syntax for type {type_name}: \"{input}\"")]
    InvalidDatetimeFormat {
        type_name: &'static str,
        input: String,
    },
    /// A date/time field outside its range, such as month 13 (22008).
    #[error("date/time field value out of range: \"{input}\"")]
    DatetimeFieldOverflow { input: String },
    /// A date, timestamp or interval outside the type's range (22008), e.g. `timestamp out of
    /// range` or `date out of range: "..."`.
    #[error("{message}")]
    DatetimeOutOfRange { message: String },
    /// A time zone offset beyond ±15:59:59 (22009).
    #[error("time zone displacement out of range: \"{input}\"")]
    TimeZoneDisplacementOutOfRange { input: String },
    /// An integer literal too large for its type (22003).
    #[error("value \"{input}\" is out of range for type {type_name}")]
    IntegerInputOutOfRange {
        type_name: &'static str,
        input: String,
    },
    /// A float literal that overflows or underflows its type (22003).
    #[error("\"{input}\" is out of range for type {type_name}")]
    FloatInputOutOfRange {
        type_name: &'static str,
        input: String,
    },
    /// A computed value outside its type's range (22003): `integer out of range`, `value out of
    /// range: overflow`, `value overflows numeric format`, ...
    #[error("{message}")]
    OutOfRange { message: &'static str },
    /// A value that does not fit a `numeric(p,s)` column (22003).
    #[error("numeric field overflow")]
    NumericFieldOverflow { detail: String },
    /// Division (or modulo) by zero (22012).
    #[error("division by zero")]
    DivisionByZero,
    /// A string longer than its `varchar(n)`/`char(n)` column on assignment (22001).
    #[error("value too long for type {type_name}")]
    StringTooLong { type_name: String },
    /// A conversion PostgreSQL refuses as unsupported, e.g. `cannot convert NaN to integer`
    /// (0A000).
    #[error("{message}")]
    FeatureNotSupported { message: String },
    /// No operator for these operand types, e.g. `operator does not exist: text + integer`
    /// (42883).
    #[error("operator does not exist: {signature}")]
    UndefinedOperator { signature: String },
    /// No cast between the two types (42846).
    #[error("cannot cast type {from} to {to}")]
    CannotCoerce { from: String, to: String },
    /// An unknown type name (42704).
    #[error("type \"{name}\" does not exist")]
    UndefinedType { name: String },
    /// A bad parameter such as an unknown time zone or bad type modifier (22023).
    #[error("{message}")]
    InvalidParameterValue { message: String },
    /// A Unicode escape that the database cannot store, such as `\u0000` in jsonb (22P05).
    #[error("unsupported Unicode escape sequence")]
    UntranslatableCharacter { detail: String },
    /// Array text that does not parse (22P02).
    #[error("malformed array literal: \"{input}\"")]
    MalformedArray { input: String, detail: String },
    /// A NUL byte in text (22021).
    #[error("invalid byte sequence for encoding \"UTF8\": 0x00")]
    CharacterNotInRepertoire,
}

impl ValueError {
    /// The five-character SQLSTATE PostgreSQL reports for this error.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            ValueError::InvalidTextRepresentation { .. }
            | ValueError::InvalidJson { .. }
            | ValueError::Syntax { .. }
            | ValueError::MalformedArray { .. } => "22P02",
            ValueError::InvalidDatetimeFormat { .. } => "22007",
            ValueError::DatetimeFieldOverflow { .. } | ValueError::DatetimeOutOfRange { .. } => {
                "22008"
            }
            ValueError::IntegerInputOutOfRange { .. }
            | ValueError::FloatInputOutOfRange { .. }
            | ValueError::OutOfRange { .. }
            | ValueError::NumericFieldOverflow { .. } => "22003",
            ValueError::DivisionByZero => "22012",
            ValueError::TimeZoneDisplacementOutOfRange { .. } => "22009",
            ValueError::StringTooLong { .. } => "22001",
            ValueError::FeatureNotSupported { .. } => "0A000",
            ValueError::UndefinedOperator { .. } => "42883",
            ValueError::CannotCoerce { .. } => "42846",
            ValueError::UndefinedType { .. } => "42704",
            ValueError::InvalidParameterValue { .. } => "22023",
            ValueError::UntranslatableCharacter { .. } => "22P05",
            ValueError::CharacterNotInRepertoire => "22021",
        }
    }

    /// PostgreSQL's DETAIL line for this error, when it has one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ValueError::NumericFieldOverflow { detail }
            | ValueError::UntranslatableCharacter { detail }
            | ValueError::InvalidJson { detail }
            | ValueError::MalformedArray { detail, .. } => Some(detail),
            _ => None,
        }
    }

    pub(crate) fn syntax(type_name: &'static str, input: &str) -> ValueError {
        ValueError::InvalidTextRepresentation {
            type_name,
            input: input.to_owned(),
        }
    }

    pub(crate) fn out_of_range(message: &'static str) -> ValueError {
        ValueError::OutOfRange { message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_codes_match_postgres() {
        // SELECT 'abc'::int;  ERROR:  invalid input syntax for type integer: "abc"
        let e = ValueError::syntax("integer", "abc");
        assert_eq!(
            e.to_string(),
            "invalid input syntax for type integer: \"abc\""
        );
        assert_eq!(e.sqlstate(), "22P02");
        // SELECT 2147483647 + 1;  ERROR:  integer out of range
        let e = ValueError::out_of_range("integer out of range");
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("integer out of range", "22003")
        );
        assert_eq!(ValueError::DivisionByZero.sqlstate(), "22012");
        assert_eq!(ValueError::DivisionByZero.to_string(), "division by zero");
        let e = ValueError::StringTooLong {
            type_name: "character varying(3)".into(),
        };
        assert_eq!(
            e.to_string(),
            "value too long for type character varying(3)"
        );
        assert_eq!(e.sqlstate(), "22001");
        let e = ValueError::NumericFieldOverflow { detail: "d".into() };
        assert_eq!((e.detail(), e.sqlstate()), (Some("d"), "22003"));
        assert_eq!(ValueError::CharacterNotInRepertoire.sqlstate(), "22021");
    }
}
