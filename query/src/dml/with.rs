//! WITH clauses that modify data: `WITH moved AS (DELETE ... RETURNING *) INSERT ... SELECT
//! ... FROM moved`, and INSERT, UPDATE or DELETE under a WITH clause.
//!
//! The WITH queries run first, in order, each exactly once: an INSERT, UPDATE or DELETE
//! changes the transaction and its RETURNING rows become the WITH query's rows. The main
//! part then runs with those rows in scope.
//!
//! Snapshot rule, as in PostgreSQL: a main SELECT and plain WITH queries read the state as of
//! the statement's start, so they do not see what the data-modifying WITH queries changed
//! (only their RETURNING rows). A main INSERT, UPDATE or DELETE changes the transaction
//! after the WITH queries did (zqlite applies the changes in order; PostgreSQL leaves the
//! order of changes to the same row unspecified). Data-modifying statements are only allowed
//! in the top-level WITH clause (0A000 elsewhere).

use std::rc::Rc;

use sqlparser::ast;
use zqlite_projections::value::{DataType, Value};
use zqlite_projections::{State, Transaction};

use super::{InsertPlan, delete, describe_returning, log_sequence_calls, update};
use crate::bind::{Binder, Cte, CteBody, OutputColumn, cte_name};
use crate::error::{Error, Result};
use crate::exec::{Exec, internal};
use crate::optimizer::optimize;
use crate::result::QueryResult;
use crate::session::columns_of;

fn is_modification(body: &ast::SetExpr) -> bool {
    matches!(
        body,
        ast::SetExpr::Insert(_) | ast::SetExpr::Update(_) | ast::SetExpr::Delete(_)
    )
}

/// Whether `q` is a WITH clause around an INSERT, UPDATE or DELETE, or has a WITH query that
/// modifies data: it then runs as a write.
pub(crate) fn modifies(q: &ast::Query) -> bool {
    is_modification(&q.body)
        || q.with
            .as_ref()
            .is_some_and(|w| w.cte_tables.iter().any(|c| is_modification(&c.query.body)))
}

/// Runs an INSERT, UPDATE or DELETE with `ctes` in scope.
fn run_modification(
    txn: &mut Transaction,
    body: &ast::SetExpr,
    params: &[Value],
    ctes: &[Cte],
) -> Result<QueryResult> {
    match body {
        ast::SetExpr::Insert(ast::Statement::Insert(i)) => {
            InsertPlan::bind(txn.state(), i, params, ctes)?.run(txn, params)
        }
        ast::SetExpr::Update(ast::Statement::Update(u)) => update(txn, u, params, ctes),
        ast::SetExpr::Delete(ast::Statement::Delete(d)) => delete(txn, d, params, ctes),
        _ => Err(internal("not a data-modifying statement")),
    }
}

/// A WITH query whose rows are known, its columns renamed by `aliases`.
fn rows_cte(
    name: String,
    aliases: &[String],
    mut columns: Vec<OutputColumn>,
    rows: Vec<Vec<Value>>,
) -> Result<Cte> {
    if aliases.len() > columns.len() {
        return Err(Error::bind(
            "42P10",
            format!(
                "WITH query \"{name}\" has {} columns available but {} columns specified",
                columns.len(),
                aliases.len()
            ),
        ));
    }
    for (column, alias) in columns.iter_mut().zip(aliases) {
        column.name = alias.clone();
    }
    Ok(Cte {
        name,
        columns: Vec::new(),
        body: CteBody::Rows {
            rows: Rc::new(rows),
            columns,
        },
    })
}

/// `SELECT * FROM "name"`.
fn select_all(name: &str) -> Result<ast::Query> {
    let text = format!("SELECT * FROM {}", ast::Ident::with_quote('"', name));
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let mut parser = sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(&text)
        .map_err(Error::from_parser)?;
    Ok(*parser.parse_query().map_err(Error::from_parser)?)
}

/// Runs a query on `state` with `ctes` in scope; its sequence calls go to `txn`.
fn run_query(
    txn: &mut Transaction,
    state: &State,
    query: &ast::Query,
    params: &[Value],
    ctes: &[Cte],
) -> Result<(Vec<OutputColumn>, Vec<Vec<Value>>)> {
    let bound = Binder::new(state, params).with_ctes(ctes).query(query)?;
    let plan = optimize(bound.plan, state.catalog())?;
    let mut ex = Exec::new(state, params).with_sequences(txn.sequences());
    let rows = ex.run(&plan);
    log_sequence_calls(txn, &mut ex)?;
    Ok((bound.columns, rows?))
}

/// Runs `q` (see [`modifies`]) on `txn`.
pub(crate) fn run(txn: &mut Transaction, q: &ast::Query, params: &[Value]) -> Result<QueryResult> {
    let start = txn.state().clone();
    let main_modifies = is_modification(&q.body);
    let mut ctes: Vec<Cte> = Vec::new();
    if let Some(with) = &q.with {
        for (i, cte) in with.cte_tables.iter().enumerate() {
            let (name, aliases) = cte_name(with, i)?;
            if is_modification(&cte.query.body) {
                if cte.query.with.is_some() {
                    return Err(Error::unsupported(
                        "WITH inside a data-modifying WITH query",
                    ));
                }
                let (columns, rows) = match run_modification(txn, &cte.query.body, params, &ctes)? {
                    QueryResult::Rows { columns, rows } => (
                        columns
                            .into_iter()
                            .map(|c| OutputColumn {
                                name: c.name,
                                ty: Some(c.data_type),
                            })
                            .collect(),
                        rows,
                    ),
                    QueryResult::Command { .. } => (Vec::new(), Vec::new()),
                };
                ctes.push(rows_cte(name, &aliases, columns, rows)?);
            } else if main_modifies {
                // Read on the statement's snapshot now, before the main part changes it.
                let mut scope = ctes.clone();
                scope.push(Cte::query(
                    name.clone(),
                    aliases,
                    &cte.query,
                    with.recursive,
                ));
                let (columns, rows) = run_query(txn, &start, &select_all(&name)?, params, &scope)?;
                ctes.push(rows_cte(name, &[], columns, rows)?);
            } else {
                ctes.push(Cte::query(name, aliases, &cte.query, with.recursive));
            }
        }
    }
    if main_modifies {
        if q.order_by.is_some() || q.limit_clause.is_some() || q.fetch.is_some() {
            return Err(Error::bind(
                "42601",
                "ORDER BY, LIMIT and FETCH do not apply to INSERT, UPDATE or DELETE",
            ));
        }
        return run_modification(txn, &q.body, params, &ctes);
    }
    let mut main = q.clone();
    main.with = None;
    let (columns, rows) = run_query(txn, &start, &main, params, &ctes)?;
    Ok(QueryResult::Rows {
        columns: columns_of(&columns),
        rows,
    })
}

/// The result columns of `q` (see [`modifies`]) with parameters of the given types, found
/// by binding alone: nothing runs.
pub(crate) fn describe(
    state: &State,
    q: &ast::Query,
    param_types: &[Option<DataType>],
) -> Result<Option<Vec<OutputColumn>>> {
    let statement_of = |body: &ast::SetExpr| match body {
        ast::SetExpr::Insert(s) | ast::SetExpr::Update(s) | ast::SetExpr::Delete(s) => {
            Some(s.clone())
        }
        _ => None,
    };
    let mut ctes = Vec::new();
    if let Some(with) = &q.with {
        for (i, cte) in with.cte_tables.iter().enumerate() {
            let (name, aliases) = cte_name(with, i)?;
            match statement_of(&cte.query.body) {
                Some(stmt) => {
                    let columns =
                        describe_returning(state, &stmt, param_types, &ctes)?.unwrap_or_default();
                    ctes.push(rows_cte(name, &aliases, columns, Vec::new())?);
                }
                None => ctes.push(Cte::query(name, aliases, &cte.query, with.recursive)),
            }
        }
    }
    if let Some(stmt) = statement_of(&q.body) {
        return describe_returning(state, &stmt, param_types, &ctes);
    }
    let mut main = q.clone();
    main.with = None;
    let bound = Binder::for_types(state, param_types)
        .with_ctes(&ctes)
        .query(&main)?;
    Ok(Some(bound.columns))
}
