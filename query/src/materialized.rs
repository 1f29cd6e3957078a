//! Materialized views: `CREATE MATERIALIZED VIEW`, `REFRESH MATERIALIZED VIEW`.
//!
//! A materialized view is a table whose definition carries the query that computes its rows
//! ([`MaterializedView`]): reads scan it like any table (and can use its indexes), DML on it
//! fails with 42809, and `REFRESH` replaces its rows with the query's current answer in one
//! transaction. Like every other write, both are log records, so replay rebuilds the same
//! rows without running the query again.

use sqlparser::ast;
use zqlite_projections::value::{CastContext, DataType, cast};
use zqlite_projections::{Change, ColumnDef, MaterializedView, State, TableDef, Transaction};

use crate::bind::{Binder, ident_name, object_name};
use crate::error::{Error, Result};
use crate::exec::{Exec, Row};
use crate::optimizer::optimize;
use crate::result::QueryResult;

/// The rows of a query on `state`, with its output columns as table columns and the
/// relations it reads (a materialized view's contents; `CREATE TABLE AS` too).
pub(crate) fn compute(
    state: &State,
    query: &ast::Query,
) -> Result<(Vec<ColumnDef>, Vec<Row>, Vec<String>)> {
    let mut binder = Binder::new(state, &[]);
    binder.record_relations = true;
    let bound = binder.query(query)?;
    let mut depends_on = binder.relations.clone();
    depends_on.sort();
    depends_on.dedup();
    let columns = bound
        .columns
        .iter()
        .map(|c| ColumnDef {
            name: c.name.clone(),
            data_type: c.ty.unwrap_or(DataType::Text),
            nullable: true,
            default: None,
            identity: None,
        })
        .collect();
    let plan = optimize(bound.plan, state.catalog())?;
    let rows = Exec::new(state, &[]).run(&plan)?;
    Ok((columns, rows, depends_on))
}

/// Gives the first columns the names given, then fails (42701) if two share a name.
pub(crate) fn rename_columns(
    columns: &mut [ColumnDef],
    names: impl Iterator<Item = String>,
) -> Result<()> {
    for (column, name) in columns.iter_mut().zip(names) {
        column.name = name;
    }
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].iter().any(|o| o.name == c.name) {
            return Err(Error::bind(
                "42701",
                format!("column \"{}\" specified more than once", c.name),
            ));
        }
    }
    Ok(())
}

/// CREATE MATERIALIZED VIEW name [(columns)] AS query.
pub(crate) fn create(txn: &mut Transaction, cv: &ast::CreateView) -> Result<QueryResult> {
    if cv.or_replace || cv.or_alter || cv.temporary {
        return Err(Error::unsupported(
            "OR REPLACE, OR ALTER or TEMPORARY with CREATE MATERIALIZED VIEW",
        ));
    }
    let name = object_name(&cv.name)?;
    if txn.state().catalog().relation_exists(&name) {
        if cv.if_not_exists {
            return Ok(QueryResult::command("CREATE MATERIALIZED VIEW", None));
        }
        return Err(Error::bind(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    let text = cv.query.to_string();
    if text.contains(crate::window_syntax::MARKER) {
        // The stored text is sqlparser's rendering, which cannot show a frame exclusion.
        return Err(Error::unsupported(
            "EXCLUDE in a window frame of a materialized view",
        ));
    }
    let state = txn.state().clone();
    let (mut columns, rows, depends_on) = compute(&state, &cv.query)?;
    if cv.columns.len() > columns.len() {
        return Err(Error::bind("42601", "too many column names were specified"));
    }
    rename_columns(&mut columns, cv.columns.iter().map(|c| ident_name(&c.name)))?;
    let id = state.catalog().next_table_id();
    txn.apply(Change::CreateTable(TableDef {
        id,
        name,
        columns,
        primary_key: None,
        primary_key_name: None,
        indexes: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        materialized: Some(MaterializedView {
            query: text,
            depends_on,
        }),
    }))?;
    let count = rows.len() as u64;
    for row in rows {
        txn.insert(id, row)?;
    }
    Ok(QueryResult::command("SELECT", Some(count)))
}

/// REFRESH MATERIALIZED VIEW [CONCURRENTLY] name: the view's rows become its query's answer.
pub(crate) fn refresh(
    txn: &mut Transaction,
    r: &ast::RefreshMaterializedView,
) -> Result<QueryResult> {
    let name = object_name(&r.name)?;
    let state = txn.state().clone();
    let def = state
        .catalog()
        .table_by_name(&name)
        .cloned()
        .ok_or_else(|| Error::bind("42P01", format!("relation \"{name}\" does not exist")))?;
    let Some(view) = &def.materialized else {
        // PostgreSQL's own code for this case.
        return Err(Error::bind(
            "0A000",
            format!("\"{name}\" is not a materialized view"),
        ));
    };
    if r.with_data == Some(false) {
        return Err(Error::unsupported(
            "REFRESH MATERIALIZED VIEW ... WITH NO DATA",
        ));
    }
    if r.concurrently && !def.indexes.iter().any(|i| i.unique) {
        return Err(Error::Runtime {
            sqlstate: "55000",
            message: format!(
                "cannot refresh materialized view \"public.{name}\" concurrently: create a \
                 unique index with no WHERE clause on one or more columns of the materialized \
                 view"
            ),
        });
    }
    let query = parse_query(&view.query)?;
    let (columns, rows, _) = compute(&state, &query)?;
    if columns.len() != def.columns.len() {
        return Err(Error::Runtime {
            sqlstate: "0A000",
            message: format!(
                "the query of materialized view \"{name}\" now returns {} columns instead of {}",
                columns.len(),
                def.columns.len()
            ),
        });
    }
    txn.apply(Change::Truncate { table: def.id })?;
    for row in rows {
        let row = row
            .into_iter()
            .zip(&def.columns)
            .map(|(v, c)| cast(v, &c.data_type, CastContext::Assignment))
            .collect::<std::result::Result<Row, _>>()?;
        txn.insert(def.id, row)?;
    }
    Ok(QueryResult::command("REFRESH MATERIALIZED VIEW", None))
}

fn parse_query(text: &str) -> Result<ast::Query> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let mut parser = sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(Error::from_parser)?;
    Ok(*parser.parse_query().map_err(Error::from_parser)?)
}
