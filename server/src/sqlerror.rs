//! [`SqlError`]: an error answered to the client as an `ErrorResponse` (the connection goes
//! on), built from the query layer's [`zqlite_query::Error`] or raised by the server.
//!
//! - The message has no location suffix: the location travels as the `P` field, a 1-based
//!   character offset into the query string the client sent (psql draws `LINE 1:` and the
//!   caret from it).

use pgwire::messages::response::{ErrorResponse, NoticeResponse};
use zqlite_query::{Error as QueryError, Location};

/// One ERROR-severity response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    /// 1-based character offset into the client's query string.
    pub position: Option<usize>,
}

impl SqlError {
    pub(crate) fn new(code: &str, message: impl Into<String>) -> SqlError {
        SqlError {
            code: code.to_string(),
            message: message.into(),
            detail: None,
            position: None,
        }
    }

    /// From a query-layer error for a statement that starts at character `start` (0-based)
    /// of the client's text `full`, whose own text is `stmt`.
    pub(crate) fn from_query(e: &QueryError, stmt: &str, start: usize) -> SqlError {
        let message = match e {
            QueryError::Syntax { message, .. } => message.clone(),
            QueryError::Bind { message, .. } => message.clone(),
            QueryError::Unsupported { feature, .. } => format!("{feature} is not supported"),
            other => other.to_string(),
        };
        SqlError {
            code: e.sqlstate().to_string(),
            message,
            detail: e.detail(),
            position: e.location().map(|l| start + char_offset(stmt, l) + 1),
        }
    }

    pub(crate) fn to_response(&self) -> ErrorResponse {
        ErrorResponse::new(self.fields("ERROR"))
    }

    /// The same fields as a `NoticeResponse` of severity WARNING.
    pub(crate) fn to_warning(&self) -> NoticeResponse {
        NoticeResponse::new(self.fields("WARNING"))
    }

    fn fields(&self, severity: &str) -> Vec<(u8, String)> {
        let mut fields = vec![
            (b'S', severity.to_string()),
            (b'V', severity.to_string()),
            (b'C', self.code.clone()),
            (b'M', self.message.clone()),
        ];
        if let Some(d) = &self.detail {
            fields.push((b'D', d.clone()));
        }
        if let Some(p) = self.position {
            fields.push((b'P', p.to_string()));
        }
        fields
    }
}

impl From<QueryError> for SqlError {
    fn from(e: QueryError) -> SqlError {
        SqlError::from_query(&e, "", 0)
    }
}

/// The 0-based character offset of a 1-based line/column in `text` (clamped to its end).
pub(crate) fn char_offset(text: &str, loc: Location) -> usize {
    let mut offset = 0;
    for (i, line) in text.split('\n').enumerate() {
        if i + 1 == loc.line as usize {
            let col = (loc.column.max(1) - 1) as usize;
            return offset + col.min(line.chars().count());
        }
        offset += line.chars().count() + 1;
    }
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters_across_lines() {
        let text = "SELECT 1;\nSELECT é, xx";
        let at = |line, column| char_offset(text, Location { line, column });
        assert_eq!(at(1, 1), 0);
        assert_eq!(at(1, 8), 7);
        assert_eq!(at(2, 1), 10);
        // 'xx' is after a two-byte character: characters, not bytes.
        assert_eq!(at(2, 11), 20);
        assert_eq!(at(9, 1), text.chars().count());
    }

    #[test]
    fn syntax_errors_carry_position_without_location_suffix() {
        let db = zqlite_query::Database::open_in_memory().expect("in-memory database opens");
        let mut s = db.session();
        let e = s
            .execute("SELECT 1 FROMM t", &[])
            .expect_err("invalid SQL fails");
        let err = SqlError::from_query(&e, "SELECT 1 FROMM t", 4);
        assert_eq!(err.code, "42601");
        assert!(!err.message.contains("line 1"), "{}", err.message);
        let p = err.position.expect("syntax errors have a position");
        assert!(p > 4 + 8, "position {p} is after the statement start");
    }
}
