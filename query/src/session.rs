//! [`Session`]: runs SQL text, statement by statement, with PostgreSQL's transaction rules.
//!
//! - Outside a transaction block every statement is its own transaction: reads run on the
//!   latest snapshot; writes run through [`Store::write_at_head`] and wait for durability.
//! - `BEGIN` opens a block: statements run on the block's [`Transaction`]. After a failure
//!   the block only accepts `ROLLBACK` and `ROLLBACK TO SAVEPOINT` (25P02 otherwise), and
//!   `COMMIT` of a failed block rolls back, so whatever a failing statement did before it
//!   failed is never read or committed, and statements need no savepoint of their own.
//! - `SAVEPOINT`, `ROLLBACK TO` and `RELEASE` map to the transaction's O(1) savepoints.
//! - [`Session::prepare`] parses a statement once; [`Session::execute_prepared`] runs it with
//!   new parameters, reusing the bound plan of a query or INSERT while the catalog is
//!   unchanged (see `prepared.rs`). `execute` with parameters prepares single statements
//!   behind the scenes, keyed by their text, so drivers that resend the same text benefit.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use sqlparser::ast::{self, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use zqlite_projections::value::{DataType, Value};
use zqlite_projections::{
    Error as StoreError, Isolation, Savepoint, State, Store, Transaction, TxMeta,
};

use crate::bind::{Binder, OutputColumn, ident_name};
use crate::dml::InsertPlan;
use crate::error::{Error, Result};
use crate::exec::{Exec, internal};
use crate::optimizer::optimize;
use crate::prepared::{Bound, Prepared};
use crate::result::{Column, QueryResult};
use crate::{alter, ddl, dml, maintenance, roles};

#[derive(Debug)]
struct Block {
    txn: Transaction,
    savepoints: Vec<(String, Savepoint)>,
    failed: bool,
    statements: Vec<String>,
    /// Parameter values of each statement in `statements` (see [`TxMeta::params`]).
    params: Vec<Vec<Option<String>>>,
}

/// One client's connection to a [`crate::Database`].
#[derive(Debug)]
pub struct Session {
    store: Arc<Store>,
    block: Option<Block>,
    user: String,
    /// Recorded with every commit beside the user: tenant, application, client address.
    client: Client,
    /// Statements prepared behind `execute` with parameters, by text.
    by_text: HashMap<String, Prepared>,
    interrupt: Arc<AtomicBool>,
}

/// Who is connected, beside the user, as the log records it with each commit.
#[derive(Debug, Clone, Default)]
struct Client {
    tenant: Option<String>,
    application_name: Option<String>,
    client_addr: Option<String>,
}

/// Cancels the statement a [`Session`] is running, from another thread (a client's cancel
/// request). The statement fails with SQLSTATE 57014; a request with no statement running
/// does nothing.
#[derive(Debug, Clone)]
pub struct InterruptHandle(Arc<AtomicBool>);

impl InterruptHandle {
    pub fn interrupt(&self) {
        self.0.store(true, AtomicOrdering::Relaxed);
    }
}

/// How many statements `execute` keeps prepared by text before starting over.
const TEXT_CACHE_SIZE: usize = 256;

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

/// Runs one DDL or DML statement on `txn` (with `prepared`'s cached plan when it has one).
fn run_write(
    txn: &mut Transaction,
    stmt: &Statement,
    params: &[Value],
    prepared: Option<&Prepared>,
) -> Result<QueryResult> {
    use Statement as S;
    match stmt {
        S::Insert(i) => match prepared {
            Some(p) => {
                let state = txn.state();
                let cached = p.plan(state, params, || {
                    Ok(Bound::Insert(Box::new(InsertPlan::bind(state, i, params)?)))
                })?;
                let Bound::Insert(plan) = &cached.bound else {
                    return Err(internal("a prepared INSERT holds another kind of plan"));
                };
                plan.run(txn, params)
            }
            None => InsertPlan::bind(txn.state(), i, params)?.run(txn, params),
        },
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
        S::CreateRole(cr) => roles::create_role(txn, cr),
        S::AlterRole { name, operation } => roles::alter_role(txn, name, operation),
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
            | S::CreateRole(_)
            | S::AlterRole { .. }
    )
}

impl Session {
    pub(crate) fn new(store: Arc<Store>) -> Session {
        Session {
            store,
            block: None,
            user: String::new(),
            client: Client::default(),
            by_text: HashMap::new(),
            interrupt: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Sets the user recorded in the log for this session's commits.
    pub fn set_user(&mut self, user: impl Into<String>) {
        self.user = user.into();
    }

    /// Sets the tenant recorded with this session's commits (`None`, or empty: no tenant).
    pub fn set_tenant(&mut self, tenant: Option<String>) {
        self.client.tenant = tenant.filter(|t| !t.is_empty());
    }

    /// Sets the application name recorded with this session's commits.
    pub fn set_application_name(&mut self, name: Option<String>) {
        self.client.application_name = name.filter(|n| !n.is_empty());
    }

    /// Sets the client address recorded with this session's commits.
    pub fn set_client_addr(&mut self, addr: Option<String>) {
        self.client.client_addr = addr;
    }

    /// The audit record of a commit of these statements by this session.
    fn meta(&self, statements: Vec<String>, params: Vec<Vec<Option<String>>>) -> TxMeta {
        let params = if params.iter().all(Vec::is_empty) {
            Vec::new()
        } else {
            params
        };
        TxMeta {
            user: self.user.clone(),
            tenant: self.client.tenant.clone(),
            application_name: self.client.application_name.clone(),
            client_addr: self.client.client_addr.clone(),
            statements,
            params,
        }
    }

    /// A handle that cancels whatever statement this session runs when it is used.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.interrupt.clone())
    }

    /// Whether a transaction block is open.
    pub fn in_transaction(&self) -> bool {
        self.block.is_some()
    }

    /// Runs every statement of `sql` in order, binding `$n` to `params[n-1]`; stops at the
    /// first error.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<Vec<QueryResult>> {
        self.interrupt.store(false, AtomicOrdering::Relaxed);
        if let Some(command) = maintenance::recognise(sql) {
            return Ok(vec![self.maintenance(command)?]);
        }
        if !params.is_empty()
            && let Some(p) = self.by_text.get(sql).cloned()
        {
            return Ok(vec![self.execute_prepared(&p, params)?]);
        }
        let mut statements = parse(sql)?;
        if !params.is_empty() && statements.len() == 1 {
            let p = Prepared::new(sql, statements.pop());
            self.remember(&p);
            return Ok(vec![self.execute_prepared(&p, params)?]);
        }
        let mut out = Vec::with_capacity(statements.len());
        for stmt in &statements {
            out.push(self.statement(stmt, params, None)?);
        }
        Ok(out)
    }

    /// VACUUM / ANALYZE: checks the tables and does nothing else (see `maintenance.rs`).
    fn maintenance(&mut self, command: Result<(&'static str, Vec<String>)>) -> Result<QueryResult> {
        if self.block.as_ref().is_some_and(|b| b.failed) {
            return Err(Error::TransactionAborted);
        }
        let result = command.and_then(|(tag, tables)| {
            if tag == "VACUUM" && self.block.is_some() {
                return Err(Error::Runtime {
                    sqlstate: "25001",
                    message: "VACUUM cannot run inside a transaction block".into(),
                });
            }
            self.read(|state| {
                maintenance::check_tables(state, &tables)?;
                Ok(QueryResult::command(tag, None))
            })
        });
        self.fail_block_on_error(result)
    }

    /// Parses one statement for running many times with [`Session::execute_prepared`].
    ///
    /// ```
    /// use zqlite_query::{Database, Value};
    ///
    /// let db = Database::open_in_memory().unwrap();
    /// let mut s = db.session();
    /// s.execute("CREATE TABLE t (id bigint PRIMARY KEY, name text)", &[]).unwrap();
    /// let insert = s.prepare("INSERT INTO t VALUES ($1, $2)").unwrap();
    /// for id in 0..3 {
    ///     let name = Value::Text(format!("n{id}"));
    ///     s.execute_prepared(&insert, &[Value::Int8(id), name]).unwrap();
    /// }
    /// let count = s.prepare("SELECT count(*) FROM t WHERE id >= $1").unwrap();
    /// let result = s.execute_prepared(&count, &[Value::Int8(1)]).unwrap();
    /// assert_eq!(result.rows().unwrap()[0][0], Value::Int8(2));
    /// ```
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared> {
        let mut statements = parse(sql)?;
        if statements.len() > 1 {
            return Err(Error::bind(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            ));
        }
        Ok(Prepared::new(sql, statements.pop()))
    }

    /// Runs a prepared statement with `params` bound to `$1`, `$2`, ...
    pub fn execute_prepared(&mut self, p: &Prepared, params: &[Value]) -> Result<QueryResult> {
        self.interrupt.store(false, AtomicOrdering::Relaxed);
        match p.statement() {
            Some(stmt) => self.statement(stmt, params, Some(p)),
            None => Ok(QueryResult::Rows {
                columns: Vec::new(),
                rows: Vec::new(),
            }),
        }
    }

    fn remember(&mut self, p: &Prepared) {
        if self.by_text.len() >= TEXT_CACHE_SIZE {
            self.by_text.clear();
        }
        self.by_text.insert(p.sql().to_string(), p.clone());
    }

    fn statement(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        prepared: Option<&Prepared>,
    ) -> Result<QueryResult> {
        use Statement as S;
        match stmt {
            S::StartTransaction { modes, .. } => {
                if self.block.is_none() {
                    let mut txn = self.store.begin();
                    if let Some(level) = isolation(modes) {
                        txn.set_isolation(level);
                    }
                    self.block = Some(Block {
                        txn,
                        savepoints: Vec::new(),
                        failed: false,
                        statements: Vec::new(),
                        params: Vec::new(),
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
                let flag = self.interrupt.clone();
                let store = self.store.clone();
                let result = self.read(|state| match prepared {
                    Some(p) => prepared_query(state, &store, q, params, p, flag),
                    None => query(state, &store, q, params, flag),
                });
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
            S::Set(ast::Set::SetTransaction {
                modes,
                session: false,
                ..
            }) => {
                if let (Some(block), Some(level)) = (&mut self.block, isolation(modes)) {
                    block.txn.set_isolation(level);
                }
                Ok(QueryResult::command("SET", None))
            }
            S::Set(_) => Ok(QueryResult::command("SET", None)),
            s if is_write(s) => self.write(s, params, prepared),
            other => Err(unsupported_statement(other)),
        }
    }

    /// Runs one query, prepared behind the scenes by its text (see [`Session::prepare`]).
    pub fn query_cached(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        let p = match self.by_text.get(sql) {
            Some(p) => p.clone(),
            None => {
                let p = self.prepare(sql)?;
                self.remember(&p);
                p
            }
        };
        if !p.is_query() {
            return Err(Error::unsupported(
                "query_cached with anything but one query",
            ));
        }
        self.execute_prepared(&p, params)
    }

    /// How many statements prepared by text hold a plan (for tests).
    pub fn cached_plans(&self) -> usize {
        self.by_text.values().filter(|p| p.has_plan()).count()
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

    fn write(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        prepared: Option<&Prepared>,
    ) -> Result<QueryResult> {
        let redacted = roles::redacted(stmt);
        // Parameters of a role statement may carry a password: none is recorded.
        let param_texts: Vec<Option<String>> = params
            .iter()
            .map(|v| match v {
                _ if redacted.is_some() => Some("********".to_string()),
                Value::Null => None,
                v => Some(v.to_string()),
            })
            .collect();
        let text = match (redacted, prepared) {
            (Some(redacted), _) => redacted,
            (None, Some(p)) => p.sql().to_string(),
            (None, None) => stmt.to_string(),
        };
        if let Some(block) = &mut self.block {
            // A failing statement may leave part of its work in the transaction: the block
            // is failed from then on, so that work can be neither read nor committed, and
            // ROLLBACK (TO SAVEPOINT) discards it.
            return match run_write(&mut block.txn, stmt, params, prepared) {
                Ok(r) => {
                    block.statements.push(text);
                    block.params.push(param_texts);
                    Ok(r)
                }
                Err(e) => {
                    block.failed = true;
                    Err(e)
                }
            };
        }
        let meta = self.meta(vec![text], vec![param_texts]);
        loop {
            let mut failure = None;
            let result = self.store.write_at_head(meta.clone(), |txn| {
                run_write(txn, stmt, params, prepared).map_err(|e| {
                    failure = Some(e);
                    zqlite_projections::Error::Internal("statement failed".into())
                })
            });
            match result {
                Ok((r, pending)) => {
                    self.store.wait(pending)?;
                    return Ok(r);
                }
                Err(e) => match failure.unwrap_or(Error::Storage(e)) {
                    // A transaction block holds a row the statement changes: wait for it to
                    // finish, then run the statement again on the newer head.
                    Error::Storage(StoreError::RowLocked { table, key }) => {
                        self.store.wait_until_unlocked(table, &key);
                    }
                    other => return Err(other),
                },
            }
        }
    }

    fn commit(&mut self) -> Result<QueryResult> {
        let Some(block) = self.block.take() else {
            return Ok(QueryResult::command("COMMIT", None));
        };
        if block.failed {
            return Ok(QueryResult::command("ROLLBACK", None));
        }
        let meta = self.meta(block.statements, block.params);
        let pending = self.store.commit(block.txn, meta)?;
        self.store.wait(pending)?;
        Ok(QueryResult::command("COMMIT", None))
    }
}

/// The isolation level a `BEGIN` or `SET TRANSACTION` asks for, if any. READ UNCOMMITTED
/// is READ COMMITTED, and SERIALIZABLE is snapshot isolation (REPEATABLE READ).
fn isolation(modes: &[ast::TransactionMode]) -> Option<Isolation> {
    use ast::TransactionIsolationLevel as L;
    modes.iter().rev().find_map(|m| match m {
        ast::TransactionMode::IsolationLevel(L::ReadCommitted | L::ReadUncommitted) => {
            Some(Isolation::ReadCommitted)
        }
        ast::TransactionMode::IsolationLevel(_) => Some(Isolation::Snapshot),
        _ => None,
    })
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

/// Binds, optimises and runs a query on `state`.
fn query(
    state: &State,
    store: &Store,
    q: &ast::Query,
    params: &[Value],
    interrupt: Arc<AtomicBool>,
) -> Result<QueryResult> {
    let mut binder = Binder::new(state, params);
    let bound = binder.query(q)?;
    let plan = optimize(bound.plan, state.catalog())?;
    let rows = Exec::new(state, params)
        .with_store(store)
        .with_interrupt(interrupt)
        .run(&plan)?;
    Ok(QueryResult::Rows {
        columns: columns_of(&bound.columns),
        rows,
    })
}

/// Runs a prepared query with its cached plan (binding it first when there is none).
fn prepared_query(
    state: &State,
    store: &Store,
    q: &ast::Query,
    params: &[Value],
    p: &Prepared,
    interrupt: Arc<AtomicBool>,
) -> Result<QueryResult> {
    let cached = p.plan(state, params, || {
        let bound = Binder::new(state, params).query(q)?;
        Ok(Bound::Query {
            plan: Box::new(optimize(bound.plan, state.catalog())?),
            columns: bound.columns,
        })
    })?;
    let Bound::Query { plan, columns } = &cached.bound else {
        return Err(internal("a prepared query holds another kind of plan"));
    };
    let rows = Exec::new(state, params)
        .with_store(store)
        .with_interrupt(interrupt)
        .run(plan)?;
    Ok(QueryResult::Rows {
        columns: columns_of(columns),
        rows,
    })
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
