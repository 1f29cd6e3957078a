//! What a server answers to one corpus statement, how two answers compare, and how a
//! difference is classified.
//!
//! A statement runs with the simple query protocol (`simple_query`): the rows come back as
//! text, exactly as psql would print them. When it returns rows, the same text is then
//! prepared (Parse + Describe, which runs nothing in PostgreSQL) to learn the columns' type
//! OIDs, which the simple protocol's client API does not expose (`INSERT`, `UPDATE` and
//! `DELETE ... RETURNING` too: describing them runs nothing on either server).
//!
//! Invariants:
//! - Two answers are identical when both are rows with the same column names, column types and
//!   rows (in order, or sorted for statements whose order SQL leaves open; compared as text, NULL distinct from any text), or both are commands
//!   with the same row count, or both are errors with the same SQLSTATE (messages are not
//!   compared: wording differs legitimately).

use std::fmt::Write as _;
use std::time::Duration;

use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// How long one statement may run before it counts as hung.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(20);

/// The answer of one server to one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// A statement that returned rows (possibly none).
    Rows {
        names: Vec<String>,
        /// The columns' type names from a prepared statement, or the error of preparing it.
        types: Result<Vec<String>, String>,
        rows: Vec<Vec<Option<String>>>,
    },
    /// A command without rows, with the row count of its completion tag.
    Command { count: u64 },
    /// An error; `code` is the SQLSTATE, or a description when the connection failed.
    Error { code: String, message: String },
}

impl Answer {
    /// Whether two answers count as the same (see the module doc).
    pub(crate) fn same_as(&self, other: &Answer) -> bool {
        match (self, other) {
            (Answer::Error { code: a, .. }, Answer::Error { code: b, .. }) => a == b,
            (a, b) => a == b,
        }
    }

    /// What differs between two successful answers, for people: "column names, rows".
    pub(crate) fn differing_parts(&self, other: &Answer) -> String {
        let parts: Vec<&str> = match (self, other) {
            (
                Answer::Rows {
                    names: n1,
                    types: t1,
                    rows: r1,
                },
                Answer::Rows {
                    names: n2,
                    types: t2,
                    rows: r2,
                },
            ) => [
                (n1 != n2, "column names"),
                (t1 != t2, "column types"),
                (r1 != r2, "rows"),
            ]
            .into_iter()
            .filter_map(|(differs, what)| differs.then_some(what))
            .collect(),
            (Answer::Command { .. }, Answer::Command { .. }) => vec!["row count"],
            _ => vec!["rows versus a command"],
        };
        parts.join(", ")
    }

    fn error_code(&self) -> Option<&str> {
        match self {
            Answer::Error { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The answer as text for the report: columns `name type`, one line per row, `NULL` for
    /// NULL; at most `max_rows` rows.
    pub(crate) fn render(&self, max_rows: usize) -> String {
        let mut out = String::new();
        match self {
            Answer::Rows { names, types, rows } => {
                let header: Vec<String> = match types {
                    Ok(types) => names
                        .iter()
                        .zip(types.iter().map(Some).chain(std::iter::repeat(None)))
                        .map(|(n, t)| format!("{n} {}", t.map_or("?", |t| t.as_str())))
                        .collect(),
                    Err(_) => names.clone(),
                };
                let _ = writeln!(out, "columns: {}", header.join(" | "));
                if let Err(e) = types {
                    let _ = writeln!(out, "column types: {e}");
                }
                for row in rows.iter().take(max_rows) {
                    let cells: Vec<&str> =
                        row.iter().map(|c| c.as_deref().unwrap_or("NULL")).collect();
                    let _ = writeln!(out, "  {}", cells.join(" | "));
                }
                if rows.len() > max_rows {
                    let _ = writeln!(out, "  ... {} more rows", rows.len() - max_rows);
                }
                let _ = write!(out, "({} rows)", rows.len());
            }
            Answer::Command { count } => {
                let _ = write!(out, "command, {count} rows");
            }
            Answer::Error { code, message } => {
                let _ = write!(out, "ERROR {code}: {message}");
            }
        }
        out
    }
}

/// How zqlite's answer differs from PostgreSQL's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    /// zqlite refused the statement with 0A000 (feature not supported).
    Unsupported,
    /// Both answered, differently: rows, column names or types, or a row count.
    WrongAnswer,
    /// zqlite failed with another SQLSTATE (where PostgreSQL succeeded or failed otherwise),
    /// or lost the connection or timed out.
    OtherError,
    /// zqlite succeeded where PostgreSQL fails.
    MissingError,
}

impl Kind {
    /// The word used in the known-differences file and the reports.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Unsupported => "unsupported",
            Kind::WrongAnswer => "wrong-answer",
            Kind::OtherError => "other-error",
            Kind::MissingError => "missing-error",
        }
    }

    /// Classifies a difference; `None` when the answers are the same.
    pub(crate) fn of(postgres: &Answer, zqlite: &Answer) -> Option<Kind> {
        if postgres.same_as(zqlite) {
            return None;
        }
        Some(match (postgres.error_code(), zqlite.error_code()) {
            (_, Some("0A000")) => Kind::Unsupported,
            (_, Some(_)) => Kind::OtherError,
            (Some(_), None) => Kind::MissingError,
            (None, None) => Kind::WrongAnswer,
        })
    }
}

/// Runs `sql` on `client` and records the answer. A statement still running after
/// [`STATEMENT_TIMEOUT`] is cancelled and answers an error with code `timeout`.
/// `dml` marks `INSERT`, `UPDATE` and `DELETE` (also after `WITH`): their `RETURNING` rows
/// are sorted, since SQL leaves their order open.
pub(crate) async fn run(client: &Client, sql: &str, dml: bool) -> Answer {
    match tokio::time::timeout(STATEMENT_TIMEOUT, run_untimed(client, sql)).await {
        Ok(Answer::Rows {
            names,
            types,
            mut rows,
        }) if dml => {
            rows.sort();
            Answer::Rows { names, types, rows }
        }
        Ok(answer) => answer,
        Err(_) => {
            let _ = client.cancel_token().cancel_query(NoTls).await;
            Answer::Error {
                code: "timeout".into(),
                message: format!("no answer in {STATEMENT_TIMEOUT:?}"),
            }
        }
    }
}

async fn run_untimed(client: &Client, sql: &str) -> Answer {
    let messages = match client.simple_query(sql).await {
        Ok(m) => m,
        Err(e) => return error(&e),
    };
    let mut names = None;
    let mut rows = Vec::new();
    let mut count = 0;
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(columns) => {
                names = Some(columns.iter().map(|c| c.name().to_string()).collect());
            }
            SimpleQueryMessage::Row(row) => {
                rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                );
            }
            SimpleQueryMessage::CommandComplete(n) => count = n,
            _ => {}
        }
    }
    match names {
        None => Answer::Command { count },
        Some(names) => {
            let types = match client.prepare(sql).await {
                Ok(stmt) => Ok(stmt
                    .columns()
                    .iter()
                    .map(|c| c.type_().name().to_string())
                    .collect()),
                Err(e) => Err(match error(&e) {
                    Answer::Error { code, message } => format!("prepare failed: {code} {message}"),
                    _ => unreachable!("error() returns an error"),
                }),
            };
            Answer::Rows { names, types, rows }
        }
    }
}

fn error(e: &tokio_postgres::Error) -> Answer {
    match e.as_db_error() {
        Some(db) => Answer::Error {
            code: db.code().code().to_string(),
            message: db.message().to_string(),
        },
        None => Answer::Error {
            code: "connection".into(),
            message: e.to_string(),
        },
    }
}

#[test]
fn differential_answers_compare_and_classify() {
    let rows = |v: &str| Answer::Rows {
        names: vec!["a".into()],
        types: Ok(vec!["int4".into()]),
        rows: vec![vec![Some(v.into())], vec![None]],
    };
    let err = |code: &str, message: &str| Answer::Error {
        code: code.into(),
        message: message.into(),
    };
    assert_eq!(Kind::of(&rows("1"), &rows("1")), None);
    assert_eq!(Kind::of(&rows("1"), &rows("2")), Some(Kind::WrongAnswer));
    let mut other_type = rows("1");
    if let Answer::Rows { types, .. } = &mut other_type {
        *types = Ok(vec!["int8".into()]);
    }
    assert_eq!(Kind::of(&rows("1"), &other_type), Some(Kind::WrongAnswer));
    // A NULL is not the text "NULL".
    let null_text = Answer::Rows {
        names: vec!["a".into()],
        types: Ok(vec!["int4".into()]),
        rows: vec![vec![Some("1".into())], vec![Some("NULL".into())]],
    };
    assert_eq!(Kind::of(&rows("1"), &null_text), Some(Kind::WrongAnswer));
    // Errors compare by SQLSTATE only.
    assert_eq!(Kind::of(&err("22012", "x"), &err("22012", "y")), None);
    assert_eq!(
        Kind::of(&rows("1"), &err("0A000", "no")),
        Some(Kind::Unsupported)
    );
    assert_eq!(
        Kind::of(&err("42601", "x"), &err("0A000", "no")),
        Some(Kind::Unsupported)
    );
    assert_eq!(
        Kind::of(&err("22012", "x"), &err("22003", "y")),
        Some(Kind::OtherError)
    );
    assert_eq!(
        Kind::of(&err("22012", "x"), &rows("1")),
        Some(Kind::MissingError)
    );
    assert_eq!(
        Kind::of(&Answer::Command { count: 2 }, &Answer::Command { count: 1 }),
        Some(Kind::WrongAnswer)
    );
    assert_eq!(rows("1").differing_parts(&other_type), "column types");
    assert_eq!(rows("1").differing_parts(&rows("2")), "rows");
    assert_eq!(
        rows("7").render(1),
        "columns: a int4\n  7\n  ... 1 more rows\n(2 rows)"
    );
}
