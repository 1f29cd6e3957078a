//! [`Session`]: runs SQL text, statement by statement, with PostgreSQL's transaction rules.
//!
//! - Outside a transaction block every statement is its own transaction: reads run on the
//!   latest snapshot; writes run through [`Store::write_at_head`] and wait for durability.
//! - `BEGIN` opens a block: statements run on the block's [`Transaction`], each behind a
//!   savepoint so a failing statement leaves no trace; after a failure the block only
//!   accepts `ROLLBACK` (25P02), and `COMMIT` of a failed block rolls back.
//! - `SAVEPOINT`, `ROLLBACK TO` and `RELEASE` map to the transaction's O(1) savepoints.
//! - Plans of queries with parameters are cached per (text, parameter types) and reused
//!   while the catalog version is unchanged (only outside transaction blocks, whose pending
//!   DDL does not bump the version).

use std::collections::HashMap;
use std::sync::Arc;

use sqlparser::ast::{self, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use zqlite_projections::value::{DataType, Value};
use zqlite_projections::{Savepoint, State, Store, Transaction, TxMeta};

use crate::bind::{Binder, OutputColumn, ident_name};
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::optimizer::optimize;
use crate::plan::Plan;
use crate::result::{Column, QueryResult};
use crate::{alter, ddl, dml};

#[derive(Debug)]
struct Block {
    txn: Transaction,
    savepoints: Vec<(String, Savepoint)>,
    failed: bool,
    statements: Vec<String>,
}

#[derive(Debug)]
struct CachedPlan {
    catalog_version: u64,
    plan: Plan,
    columns: Vec<OutputColumn>,
}

/// One client's connection to a [`crate::Database`].
#[derive(Debug)]
pub struct Session {
    store: Arc<Store>,
    block: Option<Block>,
    user: String,
    plans: HashMap<(String, Vec<Option<DataType>>), CachedPlan>,
}

/// Parses SQL text into statements (syntax errors carry line and column).
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(Error::from_parser)
}

/// How deeply sqlparser may nest (its default of 50 rejects machine-generated WHERE
/// clauses PostgreSQL accepts).
const RECURSION_LIMIT: usize = 400;

fn columns_of(cols: &[OutputColumn]) -> Vec<Column> {
    cols.iter()
        .map(|c| Column {
            name: c.name.clone(),
            data_type: c.ty.unwrap_or(DataType::Text),
        })
        .collect()
}

/// Runs one DDL or DML statement on `txn`.
fn run_write(txn: &mut Transaction, stmt: &Statement, params: &[Value]) -> Result<QueryResult> {
    use Statement as S;
    match stmt {
        S::Insert(i) => dml::insert(txn, i, params),
        S::Update(u) => dml::update(txn, u, params),
        S::Delete(d) => dml::delete(txn, d, params),
        S::CreateTable(ct) => ddl::create_table(txn, ct),
        S::CreateIndex(ci) => ddl::create_index(txn, ci),
        S::CreateView(cv) => ddl::create_view(txn, cv),
        S::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => ddl::drop(txn, object_type, names, *if_exists, *cascade),
        S::AlterTable(at) => alter::alter_table(txn, at, params),
        S::Truncate(t) => ddl::truncate(txn, t),
        other => Err(unsupported_statement(other)),
    }
}

fn unsupported_statement(stmt: &Statement) -> Error {
    let text = stmt.to_string();
    let words: Vec<&str> = text.split_whitespace().take(2).collect();
    Error::unsupported(format!("statement {}", words.join(" ")))
}

fn is_write(stmt: &Statement) -> bool {
    use Statement as S;
    matches!(
        stmt,
        S::Insert(_)
            | S::Update(_)
            | S::Delete(_)
            | S::CreateTable(_)
            | S::CreateIndex(_)
            | S::CreateView(_)
            | S::Drop { .. }
            | S::AlterTable(_)
            | S::Truncate(_)
    )
}

impl Session {
    pub(crate) fn new(store: Arc<Store>) -> Session {
        Session {
            store,
            block: None,
            user: String::new(),
            plans: HashMap::new(),
        }
    }

    /// Sets the user recorded in the log for this session's commits.
    pub fn set_user(&mut self, user: impl Into<String>) {
        self.user = user.into();
    }

    /// Whether a transaction block is open.
    pub fn in_transaction(&self) -> bool {
        self.block.is_some()
    }

    /// Runs every statement of `sql` in order, binding `$n` to `params[n-1]`; stops at the
    /// first error.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Vec<QueryResult>> {
        let statements = parse(sql)?;
        let mut out = Vec::with_capacity(statements.len());
        for stmt in &statements {
            out.push(self.statement(stmt, params)?);
        }
        Ok(out)
    }

    fn statement(&mut self, stmt: &Statement, params: &[Value]) -> Result<QueryResult> {
        use Statement as S;
        match stmt {
            S::StartTransaction { .. } => {
                if self.block.is_none() {
                    self.block = Some(Block {
                        txn: self.store.begin(),
                        savepoints: Vec::new(),
                        failed: false,
                        statements: Vec::new(),
                    });
                }
                return Ok(QueryResult::command("BEGIN", None));
            }
            S::Commit { .. } => return self.commit(),
            S::Rollback {
                savepoint: None, ..
            } => {
                self.block = None;
                return Ok(QueryResult::command("ROLLBACK", None));
            }
            S::Rollback {
                savepoint: Some(name),
                ..
            } => {
                let name = ident_name(name);
                let block = self
                    .block
                    .as_mut()
                    .ok_or_else(no_block("ROLLBACK TO SAVEPOINT"))?;
                let pos = block
                    .savepoints
                    .iter()
                    .rposition(|(n, _)| *n == name)
                    .ok_or_else(|| no_savepoint(&name))?;
                block.savepoints.truncate(pos + 1);
                let sp = block.savepoints[pos].1.clone();
                block.txn.rollback_to(&sp);
                block.failed = false;
                return Ok(QueryResult::command("ROLLBACK", None));
            }
            _ => {}
        }
        if self.block.as_ref().is_some_and(|b| b.failed) {
            return Err(Error::TransactionAborted);
        }
        match stmt {
            S::Savepoint { name } => {
                let block = self.block.as_mut().ok_or_else(no_block("SAVEPOINT"))?;
                let sp = block.txn.savepoint();
                block.savepoints.push((ident_name(name), sp));
                Ok(QueryResult::command("SAVEPOINT", None))
            }
            S::ReleaseSavepoint { name } => {
                let name = ident_name(name);
                let block = self
                    .block
                    .as_mut()
                    .ok_or_else(no_block("RELEASE SAVEPOINT"))?;
                let pos = block
                    .savepoints
                    .iter()
                    .rposition(|(n, _)| *n == name)
                    .ok_or_else(|| no_savepoint(&name))?;
                block.savepoints.truncate(pos);
                Ok(QueryResult::command("RELEASE", None))
            }
            S::Query(q) => {
                let result = self.read(|state| query(state, q, params, None));
                self.fail_block_on_error(result)
            }
            S::Explain {
                statement, analyze, ..
            } => {
                let S::Query(q) = statement.as_ref() else {
                    return Err(Error::unsupported(
                        "EXPLAIN of a statement other than a query",
                    ));
                };
                if *analyze {
                    return Err(Error::unsupported("EXPLAIN ANALYZE"));
                }
                let result = self.read(|state| explain(state, q, params));
                self.fail_block_on_error(result)
            }
            S::Set(_) => Ok(QueryResult::command("SET", None)),
            s if is_write(s) => self.write(s, params),
            other => Err(unsupported_statement(other)),
        }
    }

    /// Runs a query with a cached plan when there is a current one (see module doc).
    pub fn query_cached(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        let mut statements = parse(sql)?;
        let (Some(Statement::Query(q)), true) = (statements.pop(), statements.is_empty()) else {
            return Err(Error::unsupported(
                "query_cached with anything but one query",
            ));
        };
        if self.block.is_some() {
            return self.read(|state| query(state, &q, params, None));
        }
        let key = (
            sql.to_string(),
            params.iter().map(Value::data_type).collect::<Vec<_>>(),
        );
        let state = self.store.snapshot();
        let version = state.catalog().version();
        let cached = self
            .plans
            .get(&key)
            .filter(|c| c.catalog_version == version);
        if let Some(c) = cached {
            let rows = Exec::new(&state, params).run(&c.plan)?;
            return Ok(QueryResult::Rows {
                columns: columns_of(&c.columns),
                rows,
            });
        }
        let mut plan_out = None;
        let result = query(&state, &q, params, Some(&mut plan_out))?;
        if let Some((plan, columns)) = plan_out {
            self.plans.insert(
                key,
                CachedPlan {
                    catalog_version: version,
                    plan,
                    columns,
                },
            );
        }
        Ok(result)
    }

    /// How many plans the cache holds (for tests).
    pub fn cached_plans(&self) -> usize {
        self.plans.len()
    }

    fn fail_block_on_error(&mut self, result: Result<QueryResult>) -> Result<QueryResult> {
        if result.is_err()
            && let Some(b) = &mut self.block
        {
            b.failed = true;
        }
        result
    }

    fn read(&self, f: impl FnOnce(&State) -> Result<QueryResult>) -> Result<QueryResult> {
        match &self.block {
            Some(b) => f(b.txn.state()),
            None => f(&self.store.snapshot()),
        }
    }

    fn write(&mut self, stmt: &Statement, params: &[Value]) -> Result<QueryResult> {
        let text = stmt.to_string();
        if let Some(block) = &mut self.block {
            let sp = block.txn.savepoint();
            return match run_write(&mut block.txn, stmt, params) {
                Ok(r) => {
                    block.statements.push(text);
                    Ok(r)
                }
                Err(e) => {
                    block.txn.rollback_to(&sp);
                    block.failed = true;
                    Err(e)
                }
            };
        }
        let meta = TxMeta {
            user: self.user.clone(),
            statements: vec![text],
            ..TxMeta::default()
        };
        let mut failure = None;
        let result = self.store.write_at_head(meta, |txn| {
            run_write(txn, stmt, params).map_err(|e| {
                failure = Some(e);
                zqlite_projections::Error::Internal("statement failed".into())
            })
        });
        match result {
            Ok((r, pending)) => {
                self.store.wait(pending)?;
                Ok(r)
            }
            Err(e) => Err(failure.unwrap_or(Error::Storage(e))),
        }
    }

    fn commit(&mut self) -> Result<QueryResult> {
        let Some(block) = self.block.take() else {
            return Ok(QueryResult::command("COMMIT", None));
        };
        if block.failed {
            return Ok(QueryResult::command("ROLLBACK", None));
        }
        let meta = TxMeta {
            user: self.user.clone(),
            statements: block.statements,
            ..TxMeta::default()
        };
        let pending = self.store.commit(block.txn, meta)?;
        self.store.wait(pending)?;
        Ok(QueryResult::command("COMMIT", None))
    }
}

fn no_block(what: &'static str) -> impl FnOnce() -> Error {
    move || Error::Runtime {
        sqlstate: "25P01",
        message: format!("{what} can only be used in transaction blocks"),
    }
}

fn no_savepoint(name: &str) -> Error {
    Error::Runtime {
        sqlstate: "3B001",
        message: format!("savepoint \"{name}\" does not exist"),
    }
}

type PlanOut<'a> = Option<&'a mut Option<(Plan, Vec<OutputColumn>)>>;

/// Binds, optimises and runs a query on `state`.
fn query(
    state: &State,
    q: &ast::Query,
    params: &[Value],
    keep: PlanOut<'_>,
) -> Result<QueryResult> {
    let mut binder = Binder::new(state, params);
    let bound = binder.query(q)?;
    let plan = optimize(bound.plan, state.catalog())?;
    let rows = Exec::new(state, params).run(&plan)?;
    let columns = columns_of(&bound.columns);
    if let Some(out) = keep {
        *out = Some((plan, bound.columns));
    }
    Ok(QueryResult::Rows { columns, rows })
}

/// EXPLAIN: the optimised plan tree, one line per row.
fn explain(state: &State, q: &ast::Query, params: &[Value]) -> Result<QueryResult> {
    let mut binder = Binder::new(state, params);
    let bound = binder.query(q)?;
    let plan = optimize(bound.plan, state.catalog())?;
    let rows = plan
        .to_string()
        .lines()
        .map(|l| vec![Value::Text(l.to_string())])
        .collect();
    Ok(QueryResult::Rows {
        columns: vec![Column {
            name: "QUERY PLAN".into(),
            data_type: DataType::Text,
        }],
        rows,
    })
}
