//! What a statement returns: rows with a row description, or a command tag.

use zqlite_projections::value::{DataType, Value};

/// A result column: name and type (unknown-typed literals are reported as `text`).
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub data_type: DataType,
}

/// The result of one statement.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// A query (or DML with RETURNING, or EXPLAIN).
    Rows {
        columns: Vec<Column>,
        rows: Vec<Vec<Value>>,
    },
    /// A command: its name (`INSERT`, `CREATE TABLE`, ...) and, for DML, the rows affected.
    Command { command: String, rows: Option<u64> },
}

impl QueryResult {
    pub(crate) fn command(command: &str, rows: Option<u64>) -> QueryResult {
        QueryResult::Command {
            command: command.to_string(),
            rows,
        }
    }

    /// PostgreSQL's command tag: `SELECT 3`, `INSERT 0 3`, `UPDATE 2`, `CREATE TABLE`.
    pub fn tag(&self) -> String {
        match self {
            QueryResult::Rows { rows, .. } => format!("SELECT {}", rows.len()),
            QueryResult::Command {
                command,
                rows: Some(n),
            } if command == "INSERT" => format!("INSERT 0 {n}"),
            QueryResult::Command {
                command,
                rows: Some(n),
            } => format!("{command} {n}"),
            QueryResult::Command {
                command,
                rows: None,
            } => command.clone(),
        }
    }

    /// The command name: `SELECT` for rows, else the command (`COMMIT`, `INSERT`, ...).
    pub fn command_name(&self) -> &str {
        match self {
            QueryResult::Rows { .. } => "SELECT",
            QueryResult::Command { command, .. } => command,
        }
    }

    /// The rows of a query result (`None` for a command).
    pub fn rows(&self) -> Option<&[Vec<Value>]> {
        match self {
            QueryResult::Rows { rows, .. } => Some(rows),
            QueryResult::Command { .. } => None,
        }
    }

    /// The columns of a query result (empty for a command).
    pub fn columns(&self) -> &[Column] {
        match self {
            QueryResult::Rows { columns, .. } => columns,
            QueryResult::Command { .. } => &[],
        }
    }

    /// Rows affected (DML) or returned (queries).
    pub fn row_count(&self) -> u64 {
        match self {
            QueryResult::Rows { rows, .. } => rows.len() as u64,
            QueryResult::Command { rows, .. } => rows.unwrap_or(0),
        }
    }
}
