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
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

use sqlparser::ast::{self, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use zqlite_projections::value::{DataType, Value};
use zqlite_projections::{
    Change, Error as StoreError, Isolation, Savepoint, Sequences, SessionSequences, State, Store,
    Transaction, TxMeta,
};

use crate::as_of::{self, AsOf, QueryPoint};
use crate::bind::{Binder, OutputColumn, ident_name};
use crate::dml::InsertPlan;
use crate::error::{Error, Result};
use crate::exec::{Exec, internal};
use crate::optimizer::optimize;
use crate::plan::Plan;
use crate::prepared::{Bound, Prepared};
use crate::result::{Column, QueryResult};
use crate::result_cache::{ResultCache, read_set};
use crate::{alter, ddl, dml, events, maintenance, roles, sequences};

#[derive(Debug)]
struct Block {
    txn: Transaction,
    savepoints: Vec<SavepointMark>,
    failed: bool,
    statements: Vec<String>,
    /// `zq.as_of` before the block first changed it (restored if the block rolls back).
    as_of_before: Option<Option<AsOf>>,
    /// Set by `SET LOCAL zq.as_of`: the session's value to return to when the block ends.
    as_of_session: Option<Option<AsOf>>,
    /// Parameter values of each statement in `statements` (see [`TxMeta::params`]).
    params: Vec<Vec<Option<String>>>,
    /// When BEGIN ran: `now()` for every statement of the block.
    started_at: Value,
}

/// A `SAVEPOINT`: the transaction's savepoint and the session's `zq.as_of` at that moment,
/// which `ROLLBACK TO` restores as PostgreSQL restores settings.
#[derive(Debug)]
struct SavepointMark {
    name: String,
    savepoint: Savepoint,
    as_of: Option<AsOf>,
    as_of_session: Option<Option<AsOf>>,
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
    /// `zq.as_of`: the past point every read uses, `None` for the live state (`as_of.rs`).
    as_of: Option<AsOf>,
    /// What this session obtained from sequences (`currval`, `lastval`).
    sequences: Arc<Mutex<SessionSequences>>,
    /// The database's query result cache.
    cache: Arc<ResultCache>,
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
    // The tokens come from `window_syntax`, which takes out the frame exclusion clauses
    // sqlparser does not parse, and `update_syntax`, which rewrites subscripted assignment
    // targets.
    let tokens = crate::window_syntax::tokens(sql)
        .map_err(|e| Error::from_parser(sqlparser::parser::ParserError::from(e)))?;
    let tokens = crate::update_syntax::rewrite(tokens);
    Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(Error::from_parser)
}

/// How deeply sqlparser may nest (its default of 50 rejects machine-generated WHERE
/// clauses PostgreSQL accepts).
const RECURSION_LIMIT: usize = 400;

pub(crate) fn columns_of(cols: &[OutputColumn]) -> Vec<Column> {
    cols.iter()
        .map(|c| Column {
            name: c.name.clone(),
            data_type: c.ty.unwrap_or(DataType::Text),
        })
        .collect()
}

/// Runs one DDL or DML statement, or a query calling a write function, on `txn` (with
/// `prepared`'s cached plan when it has one).
pub(crate) fn run_write(
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
                    Ok(Bound::Insert(Box::new(InsertPlan::bind(
                        state,
                        i,
                        params,
                        &[],
                    )?)))
                })?;
                let Bound::Insert(plan) = &cached.bound else {
                    return Err(internal("a prepared INSERT holds another kind of plan"));
                };
                plan.run(txn, params)
            }
            None => InsertPlan::bind(txn.state(), i, params, &[])?.run(txn, params),
        },
        S::Update(u) => dml::update(txn, u, params, &[]),
        S::Delete(d) => dml::delete(txn, d, params, &[]),
        S::Query(q) if dml::with::modifies(q) => dml::with::run(txn, q, params),
        S::CreateTable(ct) => ddl::create_table(txn, ct),
        S::CreateIndex(ci) => ddl::create_index(txn, ci),
        S::CreateView(cv) => ddl::create_view(txn, cv),
        S::RefreshMaterializedView(r) => crate::materialized::refresh(txn, r),
        S::CreateSequence {
            temporary,
            if_not_exists,
            name,
            sequence_options,
        } => sequences::create_sequence(txn, *temporary, *if_not_exists, name, sequence_options),
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
        S::Query(q) if events::write_call_of(q).is_some() => events::run_write_call(txn, q, params),
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
            | S::CreateSequence { .. }
            | S::RefreshMaterializedView(_)
            | S::Drop { .. }
            | S::AlterTable(_)
            | S::Truncate(_)
            | S::CreateRole(_)
            | S::AlterRole { .. }
    ) || matches!(stmt, S::Query(q) if events::write_call_of(q).is_some() || dml::with::modifies(q))
}

impl Session {
    pub(crate) fn new(store: Arc<Store>, cache: Arc<ResultCache>) -> Session {
        Session {
            store,
            block: None,
            user: String::new(),
            client: Client::default(),
            by_text: HashMap::new(),
            interrupt: Arc::new(AtomicBool::new(false)),
            as_of: None,
            sequences: Arc::default(),
            cache,
        }
    }

    /// The past point the session reads (`SET zq.as_of`), if any.
    pub fn as_of(&self) -> Option<&AsOf> {
        self.as_of.as_ref()
    }

    /// `RESET ALL` for the settings the session keeps (`zq.as_of`), transactionally.
    pub fn reset_all(&mut self) {
        self.set_as_of(None, false);
    }

    /// Changes `zq.as_of` with PostgreSQL's rules for settings in transaction blocks: a
    /// `SET` in a block is undone if the block rolls back; a `SET LOCAL` lasts until the
    /// block ends; a `SET LOCAL` outside a block changes nothing.
    fn set_as_of(&mut self, value: Option<AsOf>, local: bool) {
        match &mut self.block {
            None if local => {}
            None => self.as_of = value,
            Some(block) => {
                if block.as_of_before.is_none() {
                    block.as_of_before = Some(self.as_of.clone());
                }
                if local {
                    if block.as_of_session.is_none() {
                        block.as_of_session = Some(self.as_of.clone());
                    }
                } else if block.as_of_session.is_some() {
                    block.as_of_session = Some(value.clone());
                }
                self.as_of = value;
            }
        }
    }

    /// Restores `zq.as_of` as the end of `block` requires.
    fn end_block(&mut self, block: &Block, committed: bool) {
        let restored = if committed {
            &block.as_of_session
        } else {
            &block.as_of_before
        };
        if let Some(value) = restored {
            self.as_of = value.clone();
        }
    }

    /// SET / RESET / SHOW of `zq.as_of`; `None` when `stmt` is about something else.
    fn as_of_statement(
        &mut self,
        stmt: &Statement,
        params: &[Value],
    ) -> Option<Result<QueryResult>> {
        use Statement as S;
        let names = |name: &ast::ObjectName| -> Vec<String> {
            name.0.iter().map(|p| p.to_string()).collect()
        };
        match stmt {
            S::Set(ast::Set::SingleAssignment {
                scope,
                variable,
                values,
                ..
            }) if as_of::is_setting(&names(variable)) => {
                let local = matches!(scope, Some(ast::ContextModifier::Local));
                let value = match values.as_slice() {
                    [ast::Expr::Identifier(i)]
                        if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default") =>
                    {
                        Ok(None)
                    }
                    [value] => as_of::open_setting(&self.store, params, value),
                    _ => Err(Error::Runtime {
                        sqlstate: "22023",
                        message: format!("SET {} takes one value", as_of::SETTING),
                    }),
                };
                Some(value.map(|v| {
                    self.set_as_of(v, local);
                    QueryResult::command("SET", None)
                }))
            }
            S::Reset(r) => match &r.reset {
                ast::Reset::ConfigurationParameter(name) if as_of::is_setting(&names(name)) => {
                    self.set_as_of(None, false);
                    Some(Ok(QueryResult::command("RESET", None)))
                }
                ast::Reset::ALL => {
                    self.reset_all();
                    Some(Ok(QueryResult::command("RESET", None)))
                }
                _ => None,
            },
            S::ShowVariable { variable }
                if as_of::is_setting(&variable.iter().map(ident_name).collect::<Vec<_>>()) =>
            {
                let shown = self
                    .as_of
                    .as_ref()
                    .map(|a| a.shown.clone())
                    .unwrap_or_default();
                Some(Ok(QueryResult::Rows {
                    columns: vec![Column {
                        name: as_of::SETTING.into(),
                        data_type: DataType::Text,
                    }],
                    rows: vec![vec![Value::Text(shown)]],
                }))
            }
            S::ShowVariable { variable } if variable.len() <= 2 => {
                let name: Vec<String> = variable.iter().map(ident_name).collect();
                Some(Err(Error::Runtime {
                    sqlstate: "42704",
                    message: format!(
                        "unrecognized configuration parameter \"{}\"",
                        name.join(".")
                    ),
                }))
            }
            _ => None,
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
        if let Some(alter) = sequences::recognise_alter(sql) {
            return Ok(vec![self.alter_sequence(sql, alter)?]);
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

    /// ALTER SEQUENCE (read from tokens: see `sequences.rs`).
    fn alter_sequence(
        &mut self,
        sql: &str,
        alter: Result<sequences::AlterSequence>,
    ) -> Result<QueryResult> {
        if self.block.as_ref().is_some_and(|b| b.failed) {
            return Err(Error::TransactionAborted);
        }
        let result = match (alter, &self.as_of) {
            (Err(e), _) => Err(e),
            (Ok(_), Some(_)) => Err(Error::Runtime {
                sqlstate: "25006",
                message: "cannot execute ALTER SEQUENCE while zq.as_of is set".into(),
            }),
            (Ok(alter), None) => self.write_with(sql.trim().to_string(), Vec::new(), |txn| {
                sequences::alter_sequence(txn, &alter)
            }),
        };
        self.fail_block_on_error(result)
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

    /// The result columns of a query (`SELECT`, `VALUES`, a call of a write function such
    /// as `zq_append`, ...) or of the RETURNING list of an INSERT, UPDATE or DELETE, whose
    /// parameters have the given types (None: unknown), found by binding it on the state
    /// the session reads; nothing runs. None for other statements. Fails as running it
    /// would for unknown names and type errors.
    pub fn describe_query(
        &mut self,
        sql: &str,
        param_types: &[Option<DataType>],
    ) -> Result<Option<Vec<Column>>> {
        let mut statements = parse(sql)?;
        let q = match statements.pop() {
            Some(Statement::Query(q)) => q,
            Some(stmt @ (Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_)))
                if statements.is_empty() =>
            {
                let described = self.read(|state| {
                    let columns = crate::dml::describe_returning(state, &stmt, param_types, &[])?;
                    Ok(QueryResult::Rows {
                        columns: columns_of(&columns.unwrap_or_default()),
                        rows: Vec::new(),
                    })
                })?;
                return Ok(Some(described.columns().to_vec()));
            }
            _ => return Ok(None),
        };
        if dml::with::modifies(&q) {
            let described = self.read(|state| {
                let columns = dml::with::describe(state, &q, param_types)?;
                Ok(QueryResult::Rows {
                    columns: columns_of(&columns.unwrap_or_default()),
                    rows: Vec::new(),
                })
            })?;
            return Ok(Some(described.columns().to_vec()));
        }
        let described = self.read(|state| {
            let bound = Binder::for_types(state, param_types)
                .allow_as_of(true)
                .query(&q)?;
            Ok(QueryResult::Rows {
                columns: columns_of(&bound.columns),
                rows: Vec::new(),
            })
        })?;
        Ok(Some(described.columns().to_vec()))
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

    /// Runs one statement with `now()` at its transaction's start: the block's BEGIN, or
    /// the statement's own start outside a block.
    fn statement(
        &mut self,
        stmt: &Statement,
        params: &[Value],
        prepared: Option<&Prepared>,
    ) -> Result<QueryResult> {
        let start = match &self.block {
            Some(b) => b.started_at.clone(),
            None => crate::functions::clock_now(),
        };
        crate::functions::with_transaction_start(&start, || {
            self.run_statement(stmt, params, prepared)
        })
    }

    fn run_statement(
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
                    txn.set_cancel_flag(self.interrupt.clone());
                    txn.set_session_sequences(self.sequences.clone());
                    if let Some(level) = isolation(modes) {
                        txn.set_isolation(level);
                    }
                    self.block = Some(Block {
                        txn,
                        savepoints: Vec::new(),
                        failed: false,
                        statements: Vec::new(),
                        as_of_before: None,
                        as_of_session: None,
                        params: Vec::new(),
                        started_at: crate::functions::clock_now(),
                    });
                }
                return Ok(QueryResult::command("BEGIN", None));
            }
            S::Commit { .. } => return self.commit(),
            S::Rollback {
                savepoint: None, ..
            } => {
                if let Some(block) = self.block.take() {
                    self.end_block(&block, false);
                }
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
                    .rposition(|mark| mark.name == name)
                    .ok_or_else(|| no_savepoint(&name))?;
                block.savepoints.truncate(pos + 1);
                let mark = &block.savepoints[pos];
                block.txn.rollback_to(&mark.savepoint);
                block.as_of_session = mark.as_of_session.clone();
                self.as_of = mark.as_of.clone();
                block.failed = false;
                return Ok(QueryResult::command("ROLLBACK", None));
            }
            _ => {}
        }
        if self.block.as_ref().is_some_and(|b| b.failed) {
            return Err(Error::TransactionAborted);
        }
        if let Some(result) = self.as_of_statement(stmt, params) {
            return self.fail_block_on_error(result);
        }
        match stmt {
            S::Savepoint { name } => {
                let block = self.block.as_mut().ok_or_else(no_block("SAVEPOINT"))?;
                let savepoint = block.txn.savepoint();
                block.savepoints.push(SavepointMark {
                    name: ident_name(name),
                    savepoint,
                    as_of: self.as_of.clone(),
                    as_of_session: block.as_of_session.clone(),
                });
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
                    .rposition(|mark| mark.name == name)
                    .ok_or_else(|| no_savepoint(&name))?;
                block.savepoints.truncate(pos);
                Ok(QueryResult::command("RELEASE", None))
            }
            S::Query(q) if events::write_call_of(q).is_none() && !dml::with::modifies(q) => {
                let store = self.store.clone();
                // Only answers on the latest committed state are cached: a block's state may
                // hold its own uncommitted changes, and a past state is not the latest.
                let on_latest = self.block.is_none() && self.as_of.is_none();
                let cache_key = (on_latest && self.cache.enabled())
                    .then(|| prepared.map_or_else(|| stmt.to_string(), |p| p.sql().to_string()));
                let ctx = &mut QueryContext {
                    interrupt: self.interrupt.clone(),
                    sequences: store.sequences(self.sequences.clone()),
                    cache: self.cache.clone(),
                    cache_key,
                    sequence_changes: Vec::new(),
                };
                let result = match as_of::query_point(&store, q, params) {
                    // The query names its own point: it reads that state throughout.
                    Ok(QueryPoint::At(at)) => {
                        ctx.cache_key = None;
                        match prepared {
                            Some(p) => prepared_query(&at.state, &store, q, params, p, true, ctx),
                            None => query(&at.state, &store, q, params, true, ctx),
                        }
                    }
                    Ok(point) => {
                        let allowed = matches!(point, QueryPoint::Unset);
                        self.read(|state| match prepared {
                            Some(p) => prepared_query(state, &store, q, params, p, allowed, ctx),
                            None => query(state, &store, q, params, allowed, ctx),
                        })
                    }
                    Err(e) => Err(e),
                };
                let result = match std::mem::take(&mut ctx.sequence_changes) {
                    changes if changes.is_empty() => result,
                    changes => {
                        let text = prepared.map_or_else(|| stmt.to_string(), |p| p.sql().into());
                        self.log_sequence_changes(text, changes).and(result)
                    }
                };
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
                let store = self.store.clone();
                let result = match as_of::query_point(&store, q, params) {
                    Ok(QueryPoint::At(at)) => explain(&at.state, q, params, true),
                    Ok(point) => {
                        let allowed = matches!(point, QueryPoint::Unset);
                        self.read(|state| explain(state, q, params, allowed))
                    }
                    Err(e) => Err(e),
                };
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
            S::Set(ast::Set::SingleAssignment { variable, .. })
                if !crate::system::settings_names::is_known(&object_name_text(variable)) =>
            {
                Err(Error::Runtime {
                    sqlstate: "42704",
                    message: format!(
                        "unrecognized configuration parameter \"{}\"",
                        object_name_text(variable)
                    ),
                })
            }
            S::Set(_) => Ok(QueryResult::command("SET", None)),
            s if is_write(s) => match &self.as_of {
                Some(at) => {
                    let e = as_of::read_only(s, at);
                    self.fail_block_on_error(Err(e))
                }
                None => self.write(s, params, prepared),
            },
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

    /// Runs `f` on the state the session reads: the past one `zq.as_of` names, else the
    /// open block's, else the latest snapshot.
    fn read(&self, f: impl FnOnce(&State) -> Result<QueryResult>) -> Result<QueryResult> {
        if let Some(at) = &self.as_of {
            return f(&at.state);
        }
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
        self.write_with(text, param_texts, |txn| {
            run_write(txn, stmt, params, prepared)
        })
    }

    /// Records what a query's sequence calls changed: sequences are not transactional, so
    /// the changes are logged even when the query failed, and in a block they go with the
    /// block's commit.
    fn log_sequence_changes(&mut self, text: String, changes: Vec<Change>) -> Result<()> {
        if self.as_of.is_some() {
            return Err(Error::Runtime {
                sqlstate: "25006",
                message: "cannot execute nextval() or setval() while zq.as_of is set".into(),
            });
        }
        if let Some(block) = &mut self.block {
            for change in changes {
                block.txn.apply(change)?;
            }
            return Ok(());
        }
        let meta = self.meta(vec![text], vec![Vec::new()]);
        let (_, pending) = self.store.write_at_head(meta, |txn| {
            for change in &changes {
                txn.apply(change.clone())?;
            }
            Ok(())
        })?;
        self.store.wait(pending)?;
        Ok(())
    }

    /// Runs `run` as one statement with SQL text `text`: on the open block's transaction,
    /// or as its own transaction at the head, committed durably before returning.
    fn write_with(
        &mut self,
        text: String,
        param_texts: Vec<Option<String>>,
        mut run: impl FnMut(&mut Transaction) -> Result<QueryResult>,
    ) -> Result<QueryResult> {
        if let Some(block) = &mut self.block {
            // A failing statement may leave part of its work in the transaction: the block
            // is failed from then on, so that work can be neither read nor committed, and
            // ROLLBACK (TO SAVEPOINT) discards it.
            return match run(&mut block.txn) {
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
        let sequences = self.sequences.clone();
        loop {
            let mut failure = None;
            let result = self.store.write_at_head(meta.clone(), |txn| {
                txn.set_session_sequences(sequences.clone());
                run(txn).map_err(|e| {
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
                        self.store
                            .wait_until_unlocked(table, &key, Some(&self.interrupt))?;
                    }
                    other => return Err(other),
                },
            }
        }
    }

    fn commit(&mut self) -> Result<QueryResult> {
        let Some(mut block) = self.block.take() else {
            return Ok(QueryResult::command("COMMIT", None));
        };
        self.end_block(&block, !block.failed);
        if block.failed {
            return Ok(QueryResult::command("ROLLBACK", None));
        }
        let as_of_before = block.as_of_before.take();
        let meta = self.meta(block.statements, block.params);
        let committed = self
            .store
            .commit(block.txn, meta)
            .and_then(|pending| self.store.wait(pending));
        if let Err(e) = committed {
            // The block did not commit: its settings are rolled back with it.
            if let Some(before) = as_of_before {
                self.as_of = before;
            }
            return Err(e.into());
        }
        Ok(QueryResult::command("COMMIT", None))
    }
}

/// The isolation level a `BEGIN` or `SET TRANSACTION` asks for, if any. READ UNCOMMITTED
/// is READ COMMITTED, and SERIALIZABLE is snapshot isolation (REPEATABLE READ).
/// A parameter name as `SET` spells it (`a.b` for a custom one).
fn object_name_text(name: &ast::ObjectName) -> String {
    name.0
        .iter()
        .map(|p| p.as_ident().map_or_else(|| p.to_string(), ident_name))
        .collect::<Vec<_>>()
        .join(".")
}

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

/// What a query runs with besides its state: the session's cancel flag and sequences, the
/// result cache with the statement's text (when the query reads the latest committed state),
/// and the sequence changes its calls made (for the session to log).
struct QueryContext {
    interrupt: Arc<AtomicBool>,
    sequences: Sequences,
    cache: Arc<ResultCache>,
    /// The statement's text, when its answer may come from (and go to) the cache.
    cache_key: Option<String>,
    sequence_changes: Vec<Change>,
}

/// Binds, optimises and runs a query on `state`.
fn query(
    state: &State,
    store: &Store,
    q: &ast::Query,
    params: &[Value],
    time_travel: bool,
    ctx: &mut QueryContext,
) -> Result<QueryResult> {
    let mut binder = Binder::new(state, params).allow_as_of(time_travel);
    let bound = binder.query(q)?;
    let plan = optimize(bound.plan, state.catalog())?;
    run_plan(state, store, &plan, &bound.columns, params, ctx)
}

/// Runs a prepared query with its cached plan (binding it first when there is none).
fn prepared_query(
    state: &State,
    store: &Store,
    q: &ast::Query,
    params: &[Value],
    p: &Prepared,
    time_travel: bool,
    ctx: &mut QueryContext,
) -> Result<QueryResult> {
    let cached = p.plan(state, params, || {
        let bound = Binder::new(state, params)
            .allow_as_of(time_travel)
            .query(q)?;
        Ok(Bound::Query {
            plan: Box::new(optimize(bound.plan, state.catalog())?),
            columns: bound.columns,
        })
    })?;
    let Bound::Query { plan, columns } = &cached.bound else {
        return Err(internal("a prepared query holds another kind of plan"));
    };
    run_plan(state, store, plan, columns, params, ctx)
}

/// Runs a bound plan, or serves its answer from the result cache when one computed from the
/// same versions of the tables it reads is there (see `result_cache.rs`).
fn run_plan(
    state: &State,
    store: &Store,
    plan: &Plan,
    columns: &[OutputColumn],
    params: &[Value],
    ctx: &mut QueryContext,
) -> Result<QueryResult> {
    let cache = ctx.cache.clone();
    let cacheable = match &ctx.cache_key {
        Some(sql) if cache.enabled() => read_set(plan).map(|tables| (sql.clone(), tables)),
        _ => None,
    };
    if let Some((sql, _)) = &cacheable
        && let Some((columns, rows)) = cache.get(sql, params, state)
    {
        return Ok(QueryResult::Rows {
            columns,
            rows: rows.as_ref().clone(),
        });
    }
    let mut ex = Exec::new(state, params)
        .with_store(store)
        .with_interrupt(ctx.interrupt.clone())
        .with_sequences(ctx.sequences.clone())
        .with_query_cache(&cache);
    let rows = ex.run(plan);
    let changes = ex.take_sequence_changes();
    drop(ex);
    ctx.sequence_changes = changes;
    let rows = rows?;
    let columns = columns_of(columns);
    if let Some((sql, tables)) = &cacheable {
        cache.put(sql, params, state, tables, &columns, &rows);
    }
    Ok(QueryResult::Rows { columns, rows })
}

/// EXPLAIN: the optimised plan tree, one line per row.
fn explain(
    state: &State,
    q: &ast::Query,
    params: &[Value],
    time_travel: bool,
) -> Result<QueryResult> {
    let mut binder = Binder::new(state, params).allow_as_of(time_travel);
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
