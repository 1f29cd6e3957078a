//! The query layer's one error type.
//!
//! Every error a client can see carries a PostgreSQL SQLSTATE ([`Error::sqlstate`]); errors
//! tied to a place in the statement text also carry a 1-based line and column
//! ([`Error::location`]). Value and storage errors are wrapped unchanged, so their SQLSTATEs
//! and messages (worded like PostgreSQL's) reach the client as they are.

use std::fmt;

use zqlite_projections::value::ValueError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A 1-based position in the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: u64,
    pub column: u64,
}

impl Location {
    /// From a sqlparser span start; `None` for the empty span sqlparser uses when unknown.
    pub fn from_sql(loc: sqlparser::tokenizer::Location) -> Option<Location> {
        (loc.line > 0).then_some(Location {
            line: loc.line,
            column: loc.column,
        })
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

fn at(loc: &Option<Location>) -> String {
    loc.map(|l| format!(" at {l}")).unwrap_or_default()
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text is not valid SQL (42601).
    #[error("syntax error at {location}: {message}")]
    Syntax { message: String, location: Location },

    /// A name, type or semantic problem found while binding; `sqlstate` says which.
    #[error("{message}{}", at(location))]
    Bind {
        sqlstate: &'static str,
        message: String,
        location: Option<Location>,
    },

    /// Valid SQL that zqlite does not implement (0A000), naming the construct.
    #[error("{feature} is not supported{}", at(location))]
    Unsupported {
        feature: String,
        location: Option<Location>,
    },

    /// A runtime error with a SQLSTATE (e.g. a subquery returning more than one row).
    #[error("{message}")]
    Runtime {
        sqlstate: &'static str,
        message: String,
    },

    /// Statement rejected because the transaction block already failed (25P02).
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    TransactionAborted,

    #[error(transparent)]
    Value(#[from] ValueError),

    #[error(transparent)]
    Storage(#[from] zqlite_projections::Error),
}

impl Error {
    /// The 5-character PostgreSQL SQLSTATE.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::Syntax { .. } => "42601",
            Error::Bind { sqlstate, .. } | Error::Runtime { sqlstate, .. } => sqlstate,
            Error::Unsupported { .. } => "0A000",
            Error::TransactionAborted => "25P02",
            Error::Value(e) => e.sqlstate(),
            Error::Storage(e) => e.sqlstate(),
        }
    }

    /// Where in the SQL text the error is, when it is tied to a place.
    pub fn location(&self) -> Option<Location> {
        match self {
            Error::Syntax { location, .. } => Some(*location),
            Error::Bind { location, .. } | Error::Unsupported { location, .. } => *location,
            _ => None,
        }
    }

    /// PostgreSQL's DETAIL line, when there is one.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::Value(e) => e.detail().map(str::to_owned),
            Error::Storage(e) => e.detail(),
            _ => None,
        }
    }

    pub(crate) fn bind(sqlstate: &'static str, message: impl Into<String>) -> Error {
        Error::Bind {
            sqlstate,
            message: message.into(),
            location: None,
        }
    }

    pub(crate) fn unsupported(feature: impl Into<String>) -> Error {
        Error::Unsupported {
            feature: feature.into(),
            location: None,
        }
    }

    /// Attaches a location to a bind or unsupported error that has none yet.
    pub(crate) fn at(mut self, loc: Option<Location>) -> Error {
        match &mut self {
            Error::Bind { location, .. } | Error::Unsupported { location, .. }
                if location.is_none() =>
            {
                *location = loc;
            }
            _ => {}
        }
        self
    }

    /// From a sqlparser error, reading the `Line: N, Column: M` sqlparser appends.
    pub(crate) fn from_parser(e: sqlparser::parser::ParserError) -> Error {
        use sqlparser::parser::ParserError as P;
        let text = match e {
            P::TokenizerError(s) | P::ParserError(s) => s,
            P::RecursionLimitExceeded => {
                return Error::Runtime {
                    sqlstate: "54001",
                    message: "statement too deeply nested".into(),
                };
            }
        };
        let number_after = |key: &str| -> Option<u64> {
            let start = text.rfind(key)? + key.len();
            let digits: String = text[start..]
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        };
        let location = Location {
            line: number_after("Line:").unwrap_or(1),
            column: number_after("Column:").unwrap_or(1),
        };
        let message = match text.find(" at Line:") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        Error::Syntax { message, location }
    }
}
