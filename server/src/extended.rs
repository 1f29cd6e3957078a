//! The extended query protocol: Parse, Bind, Describe, Execute and Close on a
//! [`Connection`].
//!
//! Each handler returns `Ok(Err(SqlError))` for an error the client is told about (the
//! connection then skips to Sync) and `Err` for one that ends the connection.
//!
//! Describe needs result columns before execution:
//! - Describe of a statement that is a query, or an `INSERT`/`UPDATE`/`DELETE ...
//!   RETURNING`, binds it with the parameter types and reports the bound columns; nothing
//!   runs;
//! - Describe of any other row-returning statement runs it with NULL parameters inside a
//!   transaction or savepoint that is rolled back, and throws the result away;
//! - Describe of a portal runs it then (Execute sends the rows it kept).

use std::sync::Arc;

use pgwire::messages::PgWireBackendMessage as B;
use pgwire::messages::data::{NoData, ParameterDescription};
use pgwire::messages::extendedquery::{
    Bind, BindComplete, Close, CloseComplete, Describe, Execute, Parse, ParseComplete,
    PortalSuspended, TARGET_TYPE_BYTE_PORTAL, TARGET_TYPE_BYTE_STATEMENT,
};
use pgwire::messages::response::{CommandComplete, EmptyQueryResponse};
use sqlparser::ast::Statement;
use zqlite_query::{Column, QueryResult, Value};

use crate::connection::Connection;
use crate::copy::parse_server_copy;
use crate::encode::{data_row, format_of, row_description};
use crate::error::Result;
use crate::infer::parameter_types;
use crate::params;
use crate::portal::{Kind, Portal, PortalState, Prepared};
use crate::settings::{Applied, Utility, parse_utility};
use crate::split::split_statements;
use crate::sqlerror::SqlError;

type Outcome = Result<Result<(), SqlError>>;

impl Connection {
    pub(crate) async fn parse(&mut self, msg: Parse) -> Outcome {
        let name = msg.name.unwrap_or_default();
        if !name.is_empty() && self.statements.contains_key(&name) {
            return Ok(Err(SqlError::new(
                "42P05",
                format!("prepared statement \"{name}\" already exists"),
            )));
        }
        let prepared = if split_statements(&msg.query).is_empty() {
            Prepared {
                sql: String::new(),
                kind: Kind::Empty,
                is_select: false,
                param_types: Vec::new(),
                copy: None,
                utility: None,
            }
        } else if let Some(u) = parse_utility(&msg.query) {
            Prepared {
                sql: msg.query,
                kind: if matches!(u, Utility::Show(_) | Utility::ShowAll) {
                    Kind::Query
                } else {
                    Kind::Command
                },
                is_select: false,
                param_types: Vec::new(),
                copy: None,
                utility: Some(u),
            }
        } else if let Some(copy) = parse_server_copy(&msg.query) {
            match copy {
                Ok(copy) => Prepared {
                    sql: msg.query,
                    kind: Kind::Command,
                    is_select: false,
                    param_types: Vec::new(),
                    copy: Some(copy),
                    utility: None,
                },
                Err(e) => return Ok(Err(e)),
            }
        } else {
            let mut statements = match zqlite_query::session::parse(&msg.query) {
                Ok(s) => s,
                Err(e) => return Ok(Err(SqlError::from_query(&e, &msg.query, 0))),
            };
            if statements.len() > 1 {
                return Ok(Err(SqlError::new(
                    "42601",
                    "cannot insert multiple commands into a prepared statement",
                )));
            }
            let stmt = statements.pop();
            let state = self.db.store().snapshot();
            let param_types =
                parameter_types(&msg.query, stmt.as_ref(), &msg.type_oids, state.catalog());
            Prepared {
                kind: stmt.as_ref().map_or(Kind::Empty, Kind::of),
                // A query calling a write function (zq_append, ...) writes: never run it
                // as a read, or run it to describe it.
                is_select: matches!(&stmt, Some(Statement::Query(q)) if !zqlite_query::events::is_write_query(q)),
                sql: msg.query,
                param_types,
                copy: None,
                utility: None,
            }
        };
        self.statements.insert(name, Arc::new(prepared));
        self.stream.send(B::ParseComplete(ParseComplete::new()))?;
        Ok(Ok(()))
    }

    pub(crate) fn bind(&mut self, msg: Bind) -> Outcome {
        let stmt_name = msg.statement_name.unwrap_or_default();
        let Some(statement) = self.statements.get(&stmt_name).cloned() else {
            return Ok(Err(no_statement(&stmt_name)));
        };
        let portal_name = msg.portal_name.unwrap_or_default();
        if !portal_name.is_empty() && self.portals.contains_key(&portal_name) {
            return Ok(Err(SqlError::new(
                "42P03",
                format!("cursor \"{portal_name}\" already exists"),
            )));
        }
        if msg.parameters.len() != statement.param_types.len() {
            return Ok(Err(SqlError::new(
                "08P01",
                format!(
                    "bind message supplies {} parameters, but prepared statement \"{stmt_name}\" requires {}",
                    msg.parameters.len(),
                    statement.param_types.len()
                ),
            )));
        }
        let mut values = Vec::with_capacity(msg.parameters.len());
        for (i, p) in msg.parameters.iter().enumerate() {
            // Parameter format codes follow the same rule as result format codes.
            let format = format_of(&msg.parameter_format_codes, i);
            match params::decode(i, p.as_deref(), format, statement.param_types[i].as_ref()) {
                Ok(v) => values.push(v),
                Err(e) => return Ok(Err(e)),
            }
        }
        self.portals.insert(
            portal_name,
            Portal {
                statement,
                params: values,
                result_formats: msg.result_column_format_codes,
                state: PortalState::Pending,
            },
        );
        self.stream.send(B::BindComplete(BindComplete::new()))?;
        Ok(Ok(()))
    }

    pub(crate) async fn describe(&mut self, msg: Describe) -> Outcome {
        let name = msg.name.unwrap_or_default();
        match msg.target_type {
            TARGET_TYPE_BYTE_STATEMENT => {
                let Some(statement) = self.statements.get(&name).cloned() else {
                    return Ok(Err(no_statement(&name)));
                };
                let oids = statement
                    .param_types
                    .iter()
                    .map(|t| t.as_ref().map_or(25, |t| t.oid()))
                    .collect();
                if !statement.kind.returns_rows() {
                    self.stream
                        .send(B::ParameterDescription(ParameterDescription::new(oids)))?;
                    self.stream.send(B::NoData(NoData::new()))?;
                    return Ok(Ok(()));
                }
                match self.columns_of(&statement).await? {
                    Ok(columns) => {
                        self.stream
                            .send(B::ParameterDescription(ParameterDescription::new(oids)))?;
                        self.stream
                            .send(B::RowDescription(row_description(&columns, &[])))?;
                        Ok(Ok(()))
                    }
                    Err(e) => Ok(Err(e)),
                }
            }
            TARGET_TYPE_BYTE_PORTAL => {
                if self
                    .portals
                    .get(&name)
                    .is_some_and(|p| p.statement.copy.is_some())
                {
                    self.stream.send(B::NoData(NoData::new()))?;
                    return Ok(Ok(()));
                }
                if let Err(e) = self.run_portal(&name).await? {
                    return Ok(Err(e));
                }
                let Some(portal) = self.portals.get(&name) else {
                    return Ok(Err(no_portal(&name)));
                };
                match &portal.state {
                    PortalState::Ran {
                        columns, tag: None, ..
                    } if portal.statement.kind.returns_rows() => {
                        let desc = row_description(columns, &portal.result_formats);
                        self.stream.send(B::RowDescription(desc))?;
                    }
                    _ => self.stream.send(B::NoData(NoData::new()))?,
                }
                Ok(Ok(()))
            }
            other => Ok(Err(SqlError::new(
                "08P01",
                format!("invalid DESCRIBE message subtype {other}"),
            ))),
        }
    }

    pub(crate) async fn execute(&mut self, msg: Execute) -> Outcome {
        let name = msg.name.unwrap_or_default();
        if let Some(copy) = self
            .portals
            .get(&name)
            .and_then(|p| p.statement.copy.clone())
        {
            self.portals.remove(&name);
            return Ok(match self.run_copy(copy).await? {
                Ok(tag) => {
                    self.note_success(&tag);
                    self.stream
                        .send(B::CommandComplete(CommandComplete::new(tag)))?;
                    Ok(())
                }
                Err(e) => Err(e),
            });
        }
        if let Err(e) = self.run_portal(&name).await? {
            return Ok(Err(e));
        }
        let Some(portal) = self.portals.get_mut(&name) else {
            return Ok(Err(no_portal(&name)));
        };
        if portal.statement.kind == Kind::Empty {
            self.stream
                .send(B::EmptyQueryResponse(EmptyQueryResponse::new()))?;
            return Ok(Ok(()));
        }
        let PortalState::Ran {
            rows, next, tag, ..
        } = &mut portal.state
        else {
            return Ok(Err(no_portal(&name)));
        };
        if let Some(tag) = tag {
            let tag = tag.clone();
            self.stream
                .send(B::CommandComplete(CommandComplete::new(tag)))?;
            return Ok(Ok(()));
        }
        let limit = if msg.max_rows > 0 {
            msg.max_rows as usize
        } else {
            usize::MAX
        };
        let end = next.saturating_add(limit).min(rows.len());
        let batch: Vec<_> = rows[*next..end]
            .iter()
            .map(|r| data_row(r, &portal.result_formats))
            .collect();
        let sent = end - *next;
        *next = end;
        let done = end == rows.len();
        for row in batch {
            self.stream.send(B::DataRow(row))?;
        }
        if done {
            let tag = QueryResult::Rows {
                columns: Vec::new(),
                rows: vec![Vec::new(); sent],
            }
            .tag();
            self.stream
                .send(B::CommandComplete(CommandComplete::new(tag)))?;
        } else {
            self.stream
                .send(B::PortalSuspended(PortalSuspended::new()))?;
        }
        Ok(Ok(()))
    }

    pub(crate) fn close(&mut self, msg: Close) -> Outcome {
        let name = msg.name.unwrap_or_default();
        match msg.target_type {
            TARGET_TYPE_BYTE_STATEMENT => {
                self.statements.remove(&name);
            }
            TARGET_TYPE_BYTE_PORTAL => {
                self.portals.remove(&name);
            }
            other => {
                return Ok(Err(SqlError::new(
                    "08P01",
                    format!("invalid CLOSE message subtype {other}"),
                )));
            }
        }
        self.stream.send(B::CloseComplete(CloseComplete::new()))?;
        Ok(Ok(()))
    }

    /// Runs portal `name` if it has not run yet, keeping its result.
    async fn run_portal(&mut self, name: &str) -> Outcome {
        let Some(portal) = self.portals.get(name) else {
            return Ok(Err(no_portal(name)));
        };
        if !matches!(portal.state, PortalState::Pending) || portal.statement.kind == Kind::Empty {
            return Ok(Ok(()));
        }
        let statement = portal.statement.clone();
        if let Some(u) = statement.utility.clone() {
            return Ok(match self.apply_utility(u) {
                Ok(result) => {
                    if let Some(p) = self.portals.get_mut(name) {
                        p.state = PortalState::ran(result);
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            });
        }
        let values = portal.params.clone();
        let outcome = self
            .session
            .run(move |s| {
                if statement.is_select && !s.in_transaction() {
                    s.query_cached(&statement.sql, &values)
                } else {
                    s.execute(&statement.sql, &values).map(|mut r| {
                        r.pop().unwrap_or_else(|| QueryResult::Rows {
                            columns: Vec::new(),
                            rows: Vec::new(),
                        })
                    })
                }
            })
            .await?;
        let sql = self
            .portals
            .get(name)
            .map(|p| p.statement.sql.clone())
            .unwrap_or_default();
        match outcome {
            Ok(result) => {
                self.note_success(result.command_name());
                if let Some(p) = self.portals.get_mut(name) {
                    p.state = PortalState::ran(result);
                }
                Ok(Ok(()))
            }
            Err(e) => {
                let err = SqlError::from_query(&e, &sql, 0);
                self.portals.remove(name);
                Ok(Err(err))
            }
        }
    }

    /// The result columns of a row-returning statement: bound when it is a query or a
    /// write's RETURNING list, otherwise found by running it with NULL parameters and
    /// discarding the result (see the module doc).
    async fn columns_of(&mut self, statement: &Prepared) -> Result<Result<Vec<Column>, SqlError>> {
        if let Some(u @ (Utility::Show(_) | Utility::ShowAll)) = &statement.utility {
            return Ok(match self.settings.apply(u.clone(), false) {
                Ok(Applied {
                    result: QueryResult::Rows { columns, .. },
                    ..
                }) => Ok(columns),
                Ok(_) => Ok(Vec::new()),
                Err(e) => Err(e),
            });
        }
        let sql = statement.sql.clone();
        let types = statement.param_types.clone();
        let described = self
            .session
            .run(move |s| s.describe_query(&sql, &types))
            .await?;
        match described {
            Ok(Some(columns)) => return Ok(Ok(columns)),
            Ok(None) => {}
            Err(e) => return Ok(Err(SqlError::from_query(&e, &statement.sql, 0))),
        }
        let sql = statement.sql.clone();
        let nulls = vec![Value::Null; statement.param_types.len()];
        let outcome = self
            .session
            .run(move |s| {
                let (open, undo) = if s.in_transaction() {
                    (
                        "SAVEPOINT zq_describe",
                        "ROLLBACK TO SAVEPOINT zq_describe; RELEASE SAVEPOINT zq_describe",
                    )
                } else {
                    ("BEGIN", "ROLLBACK")
                };
                s.execute(open, &[])?;
                let result = s.execute(&sql, &nulls);
                s.execute(undo, &[])?;
                result
            })
            .await?;
        Ok(match outcome {
            Ok(mut results) => match results.pop() {
                Some(QueryResult::Rows { columns, .. }) => Ok(columns),
                _ => Ok(Vec::new()),
            },
            Err(e) => Err(SqlError::from_query(&e, &statement.sql, 0)),
        })
    }
}

fn no_statement(name: &str) -> SqlError {
    SqlError::new(
        "26000",
        format!("prepared statement \"{name}\" does not exist"),
    )
}

fn no_portal(name: &str) -> SqlError {
    SqlError::new("34000", format!("portal \"{name}\" does not exist"))
}
