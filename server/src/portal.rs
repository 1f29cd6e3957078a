//! Extended-protocol state: prepared statements (Parse) and portals (Bind).
//!
//! - A prepared statement holds one statement's text, its parsed form and its parameter
//!   types (declared or inferred); the unnamed one is replaced by every unnamed Parse.
//! - A portal holds a statement with bound values and result formats. It runs once, at its
//!   first Describe or Execute, and keeps its rows: later Executes with a row limit resume
//!   where the last stopped (portal suspension).

use std::sync::Arc;

use sqlparser::ast::Statement;
use zqlite_query::{Column, DataType, QueryResult, Value};

use crate::copy::ServerCopy;
use crate::settings::Utility;

/// What a statement returns, as far as Describe is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Empty text: Execute answers EmptyQueryResponse.
    Empty,
    /// A query (or EXPLAIN): rows.
    Query,
    /// INSERT/UPDATE/DELETE ... RETURNING: rows, and a write.
    Returning,
    /// Anything else: a command tag, no rows.
    Command,
}

impl Kind {
    pub(crate) fn of(stmt: &Statement) -> Kind {
        match stmt {
            // `SHOW zq.as_of`: the query layer keeps that setting and answers with a row.
            Statement::Query(_) | Statement::Explain { .. } | Statement::ShowVariable { .. } => {
                Kind::Query
            }
            Statement::Insert(i) if i.returning.is_some() => Kind::Returning,
            Statement::Update(u) if u.returning.is_some() => Kind::Returning,
            Statement::Delete(d) if d.returning.is_some() => Kind::Returning,
            _ => Kind::Command,
        }
    }

    pub(crate) fn returns_rows(self) -> bool {
        matches!(self, Kind::Query | Kind::Returning)
    }
}

#[derive(Debug)]
pub(crate) struct Prepared {
    pub sql: String,
    pub kind: Kind,
    /// Whether the statement is a plain query (its plan may be cached).
    pub is_select: bool,
    pub param_types: Vec<Option<DataType>>,
    /// Set for `COPY ... FROM STDIN` and `COPY ... TO STDOUT`, which the server runs itself
    /// (`copy_in.rs`, `copy_out.rs`).
    pub copy: Option<ServerCopy>,
    /// Set for SET/SHOW/RESET of a parameter the server keeps (`settings.rs`).
    pub utility: Option<Utility>,
}

/// A portal's progress.
#[derive(Debug)]
pub(crate) enum PortalState {
    /// Bound, not run yet.
    Pending,
    /// Run: rows not sent yet (from `next`), or a command's tag.
    Ran {
        columns: Vec<Column>,
        rows: Vec<Vec<Value>>,
        next: usize,
        tag: Option<String>,
    },
}

#[derive(Debug)]
pub(crate) struct Portal {
    pub statement: Arc<Prepared>,
    pub params: Vec<Value>,
    pub result_formats: Vec<i16>,
    pub state: PortalState,
}

impl PortalState {
    /// The state after the statement ran with `result`.
    pub(crate) fn ran(result: QueryResult) -> PortalState {
        match result {
            QueryResult::Rows { columns, rows } => PortalState::Ran {
                columns,
                rows,
                next: 0,
                tag: None,
            },
            command => PortalState::Ran {
                columns: Vec::new(),
                rows: Vec::new(),
                next: 0,
                tag: Some(command.tag()),
            },
        }
    }
}
