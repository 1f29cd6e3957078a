//! DML: INSERT (VALUES, SELECT, DEFAULT VALUES, ON CONFLICT, RETURNING), UPDATE (FROM,
//! RETURNING) and DELETE (USING, RETURNING).
//!
//! Each statement first computes all its changes by reading a snapshot of the transaction's
//! state (a persistent clone costs O(1)), then applies them with [`Transaction::insert`],
//! `update` and `delete`, which validate keys, NOT NULL and foreign keys. CHECK constraints,
//! defaults, identity columns and type coercion (assignment casts, `varchar(n)` lengths,
//! `numeric(p,s)` rounding) are handled here.

use std::ops::Bound;
use std::sync::Arc;

use sqlparser::ast;
use zqlite_projections::value::{CastContext, DataType, Value, cast};
use zqlite_projections::{IdentityKind, Key, State, TableDef, Transaction};

use crate::bind::expr::{Typed, coerce_to};
use crate::bind::{Binder, Cte, OutputColumn, ScopeColumn, ident_name, object_name};
use crate::error::{Error, Result};
use crate::exec::{Exec, Row};
use crate::expr::Expr;
use crate::functions::Func;
use crate::optimizer::optimize;
use crate::plan::Plan;
use crate::result::{Column, QueryResult};

/// The table a DML statement changes (never a materialized view: 42809).
pub(super) fn table_def(state: &State, name: &str) -> Result<Arc<TableDef>> {
    let def = state
        .catalog()
        .table_by_name(name)
        .cloned()
        .ok_or_else(|| Error::bind("42P01", format!("relation \"{name}\" does not exist")))?;
    if def.materialized.is_some() {
        return Err(Error::bind(
            "42809",
            format!("cannot change materialized view \"{name}\""),
        ));
    }
    Ok(def)
}

pub(crate) fn table_scope(def: &TableDef, alias: &str) -> Vec<ScopeColumn> {
    def.columns
        .iter()
        .map(|c| ScopeColumn {
            table: Some(alias.to_string()),
            name: c.name.clone(),
            ty: Some(c.data_type),
            hidden: false,
            row_alias: false,
        })
        .collect()
}

pub(crate) fn parse_expr(text: &str) -> Result<ast::Expr> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(Error::from_parser)
}

/// A default expression, bound: `nextval('seq')` is recognised so the transaction can run it.
#[derive(Debug)]
enum Default {
    NextVal(String),
    Expr(Expr),
}

fn bind_default(state: &State, text: &str, ty: &DataType, params: &[Value]) -> Result<Default> {
    let e = parse_expr(text)?;
    let mut b = Binder::new(state, params);
    b.scope();
    let (bound, t) = b.expr(&e)?;
    if let Expr::Function(Func::NextVal, args) = &bound
        && let [Expr::Literal(Value::Text(seq))] = args.as_slice()
    {
        return Ok(Default::NextVal(seq.to_lowercase()));
    }
    Ok(Default::Expr(coerce_to(
        bound,
        t,
        Some(ty.without_modifier()),
    )?))
}

/// Evaluates a stored default expression once (ALTER TABLE ADD COLUMN fills rows with it).
pub(crate) fn eval_default_text(
    txn: &mut Transaction,
    text: &str,
    ty: &DataType,
    params: &[Value],
) -> Result<Value> {
    let state = txn.state().clone();
    match bind_default(&state, text, ty, params)? {
        Default::NextVal(seq) => Ok(Value::Int8(txn.nextval(&seq)?)),
        Default::Expr(e) => {
            let mut ex = Exec::new(&state, params).with_sequences(txn.sequences());
            let value = ex.eval(&e, &[]);
            log_sequence_calls(txn, &mut ex)?;
            value
        }
    }
}

/// Adds the changes of the sequence calls `ex` made to `txn` (they are kept even if the
/// statement then fails, as far as the allocator is concerned; see `crate::sequences`).
pub(crate) fn log_sequence_calls(txn: &mut Transaction, ex: &mut Exec<'_>) -> Result<()> {
    for change in ex.take_sequence_changes() {
        txn.apply(change)?;
    }
    Ok(())
}

/// Bound CHECK constraints of a table: (name, predicate over a row of the table).
pub(super) fn bind_checks(state: &State, def: &TableDef) -> Result<Vec<(String, Expr)>> {
    let mut out = Vec::new();
    for ck in &def.checks {
        let e = parse_expr(&ck.expr)?;
        let mut b = Binder::new(state, &[]);
        b.scope().columns = table_scope(def, &def.name);
        out.push((ck.name.clone(), b.predicate(&e, "CHECK")?));
    }
    Ok(out)
}

pub(super) fn run_checks(
    ex: &mut Exec<'_>,
    def: &TableDef,
    checks: &[(String, Expr)],
    row: &[Value],
) -> Result<()> {
    for (name, e) in checks {
        if ex.eval(e, row)? == Value::Bool(false) {
            return Err(Error::Runtime {
                sqlstate: "23514",
                message: format!(
                    "new row for relation \"{}\" violates check constraint \"{name}\"",
                    def.name
                ),
            });
        }
    }
    Ok(())
}

/// Fails if an existing row violates one of `def`'s CHECK constraints (ADD CONSTRAINT).
pub(crate) fn check_existing_rows(
    txn: &Transaction,
    def: &TableDef,
    params: &[Value],
) -> Result<()> {
    let state = txn.state().clone();
    let checks = bind_checks(&state, def)?;
    let mut ex = Exec::new(&state, params);
    if let Some(data) = state.table_data(def.id) {
        for (_, entry) in data.scan() {
            run_checks(&mut ex, def, &checks, &entry.row).map_err(|_| Error::Runtime {
                sqlstate: "23514",
                message: format!(
                    "check constraint of relation \"{}\" is violated by some row",
                    def.name
                ),
            })?;
        }
    }
    Ok(())
}

/// Coerces a value to a column's declared type as an assignment does.
pub(super) fn assign(v: Value, def: &TableDef, col: usize) -> Result<Value> {
    let c = &def.columns[col];
    cast(v, &c.data_type, CastContext::Assignment).map_err(|e| match e {
        zqlite_projections::value::ValueError::CannotCoerce { from, .. } => Error::bind(
            "42804",
            format!(
                "column \"{}\" is of type {} but expression is of type {from}",
                c.name,
                c.data_type.sql_name()
            ),
        ),
        other => other.into(),
    })
}

/// Binds RETURNING items over the current scope.
pub(super) fn bind_returning(
    b: &mut Binder<'_>,
    items: &[ast::SelectItem],
) -> Result<(Vec<Expr>, Vec<OutputColumn>)> {
    let mut exprs = Vec::new();
    let mut cols = Vec::new();
    let scope = b.scope().columns.clone();
    for item in items {
        match item {
            ast::SelectItem::Wildcard(_) => {
                for (i, c) in scope.iter().enumerate().filter(|(_, c)| !c.hidden) {
                    exprs.push(Expr::Column(i));
                    cols.push(OutputColumn {
                        name: c.name.clone(),
                        ty: c.ty,
                    });
                }
            }
            ast::SelectItem::UnnamedExpr(e) | ast::SelectItem::ExprWithAlias { expr: e, .. } => {
                let (x, t): Typed = b.expr(e)?;
                let name = match item {
                    ast::SelectItem::ExprWithAlias { alias, .. } => ident_name(alias),
                    _ => crate::bind::derived_name(e),
                };
                exprs.push(x);
                cols.push(OutputColumn { name, ty: t });
            }
            other => return Err(Error::unsupported(format!("RETURNING item {other}"))),
        }
    }
    Ok((exprs, cols))
}

pub(super) fn returning_result(cols: Vec<OutputColumn>, rows: Vec<Row>) -> QueryResult {
    QueryResult::Rows {
        columns: cols
            .into_iter()
            .map(|c| Column {
                name: c.name,
                data_type: c.ty.unwrap_or(DataType::Text),
            })
            .collect(),
        rows,
    }
}

/// Where an INSERT's rows come from.
#[derive(Debug)]
enum Source {
    DefaultValues,
    /// `VALUES` rows; `None` is `DEFAULT`.
    Values(Vec<Vec<Option<Expr>>>),
    Query(Plan),
}

/// A bound INSERT: everything resolved against the catalog, so a prepared statement runs it
/// again with new parameters without parsing or binding.
#[derive(Debug)]
pub(crate) struct InsertPlan {
    def: Arc<TableDef>,
    /// Table column of each provided value.
    targets: Vec<usize>,
    source: Source,
    overriding: bool,
    checks: Vec<(String, Expr)>,
    defaults: Vec<Option<Default>>,
    returning: Option<(Vec<Expr>, Vec<OutputColumn>)>,
    conflict: Option<Conflict>,
}

impl InsertPlan {
    /// Binds `ins` against `state` (parameters are used for their types only).
    /// `ctes`: WITH queries in scope (those of a WITH clause around the INSERT).
    pub(crate) fn bind(
        state: &State,
        ins: &ast::Insert,
        params: &[Value],
        ctes: &[Cte],
    ) -> Result<InsertPlan> {
        if ins.or.is_some() || ins.replace_into || ins.ignore {
            return Err(Error::Syntax {
                message:
                    "syntax error: INSERT OR / REPLACE INTO / INSERT IGNORE are not PostgreSQL"
                        .into(),
                location: crate::error::Location { line: 1, column: 1 },
            });
        }
        let ast::TableObject::TableName(tname) = &ins.table else {
            return Err(Error::unsupported("INSERT into a table function"));
        };
        let name = object_name(tname)?;
        let def = table_def(state, &name)?;
        let alias = ins
            .table_alias
            .as_ref()
            .map(|a| ident_name(&a.alias))
            .unwrap_or_else(|| def.name.clone());
        let targets = insert_targets(&def, &ins.columns)?;
        let types: Vec<DataType> = targets.iter().map(|&c| def.columns[c].data_type).collect();
        let source = match &ins.source {
            None => Source::DefaultValues,
            Some(q) => match q.body.as_ref() {
                ast::SetExpr::Values(v) if q.order_by.is_none() && q.limit_clause.is_none() => {
                    Source::Values(
                        Binder::new(state, params)
                            .with_ctes(ctes)
                            .insert_values(v, &types)?,
                    )
                }
                _ => {
                    let bound = Binder::new(state, params).with_ctes(ctes).query(q)?;
                    if bound.columns.len() > targets.len() {
                        return Err(Error::bind(
                            "42601",
                            "INSERT has more expressions than target columns",
                        ));
                    }
                    if bound.columns.len() < targets.len() {
                        return Err(Error::bind(
                            "42601",
                            "INSERT has more target columns than expressions",
                        ));
                    }
                    Source::Query(optimize(bound.plan, state.catalog())?)
                }
            },
        };
        let checks = bind_checks(state, &def)?;
        let mut defaults = Vec::with_capacity(def.columns.len());
        for c in &def.columns {
            defaults.push(match &c.default {
                Some(text) => Some(bind_default(state, text, &c.data_type, params)?),
                None => None,
            });
        }
        let mut b = Binder::new(state, params);
        b.scope().columns = table_scope(&def, &alias);
        let returning = ins
            .returning
            .as_ref()
            .map(|r| bind_returning(&mut b, r))
            .transpose()?;
        let conflict = match &ins.on {
            None => None,
            Some(ast::OnInsert::OnConflict(oc)) => {
                Some(bind_conflict(state, &def, &alias, oc, params)?)
            }
            Some(other) => return Err(Error::unsupported(format!("{other}"))),
        };
        Ok(InsertPlan {
            def,
            targets,
            source,
            overriding: ins.overriding.is_some(),
            checks,
            defaults,
            returning,
            conflict,
        })
    }

    /// Runs the insert on `txn`. Sources, defaults, CHECKs and RETURNING are evaluated on
    /// the state as of the statement's start, as in PostgreSQL.
    pub(crate) fn run(&self, txn: &mut Transaction, params: &[Value]) -> Result<QueryResult> {
        let start = txn.state().clone();
        let mut ex = Exec::new(&start, params).with_sequences(txn.sequences());
        let provided: Vec<Vec<Option<Value>>> = match &self.source {
            Source::DefaultValues => vec![vec![]],
            Source::Values(rows) => {
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut vals = Vec::with_capacity(r.len());
                    for e in r {
                        vals.push(match e {
                            Some(e) => Some(ex.eval(e, &[])?),
                            None => None,
                        });
                    }
                    out.push(vals);
                }
                out
            }
            Source::Query(plan) => ex
                .run(plan)?
                .into_iter()
                .map(|r| r.into_iter().map(Some).collect())
                .collect(),
        };
        let mut count = 0u64;
        let mut returned = Vec::new();
        let mut inserts = Vec::with_capacity(provided.len());
        // Rows this statement inserted or updated: DO UPDATE may not touch one again.
        let mut touched: std::collections::HashSet<Vec<Value>> = std::collections::HashSet::new();
        for vals in provided {
            let full = self.complete_row(txn, &mut ex, vals)?;
            if let Some(c) = &self.conflict {
                // Conflicts are found among rows this statement inserted too: apply as we go.
                let now = txn.state().clone();
                if let Some((key, existing)) = c.find(&now, &self.def, &full) {
                    if c.action.is_some() && touched.contains(&key) {
                        return Err(Error::Runtime {
                            sqlstate: "21000",
                            message:
                                "ON CONFLICT DO UPDATE command cannot affect row a second time"
                                    .into(),
                        });
                    }
                    if let Some(new) = self.conflict_update(c, &mut ex, existing, &full)? {
                        if let Some((exprs, _)) = &self.returning {
                            returned.push(eval_all(&mut ex, exprs, &new)?);
                        }
                        txn.update(self.def.id, &key, new)?;
                        touched.insert(key);
                        count += 1;
                    }
                    continue;
                }
                if let Some((exprs, _)) = &self.returning {
                    returned.push(eval_all(&mut ex, exprs, &full)?);
                }
                let key = txn.insert(self.def.id, full)?;
                touched.insert(key.to_vec());
                count += 1;
                continue;
            }
            if let Some((exprs, _)) = &self.returning {
                returned.push(eval_all(&mut ex, exprs, &full)?);
            }
            inserts.push(full);
        }
        // Without ON CONFLICT every row is computed first and the statement's snapshot is
        // released, so the inserts change the transaction's maps in place.
        log_sequence_calls(txn, &mut ex)?;
        drop(ex);
        drop(start);
        for full in inserts {
            txn.insert(self.def.id, full)?;
            count += 1;
        }
        Ok(match &self.returning {
            Some((_, cols)) => returning_result(cols.clone(), returned),
            None => QueryResult::command("INSERT", Some(count)),
        })
    }

    /// The full row for provided values (`None` = DEFAULT): identity and default values,
    /// assignment casts, CHECK constraints.
    fn complete_row(
        &self,
        txn: &mut Transaction,
        ex: &mut Exec<'_>,
        vals: Vec<Option<Value>>,
    ) -> Result<Vec<Value>> {
        let def = &self.def;
        let mut row: Vec<Option<Value>> = vec![None; def.columns.len()];
        for (i, v) in vals.into_iter().enumerate() {
            let col = self.targets[i];
            if let (Some(_), Some(id)) = (&v, &def.columns[col].identity)
                && id.kind == IdentityKind::Always
                && !self.overriding
            {
                return Err(Error::bind(
                    "428C9",
                    format!(
                        "cannot insert a non-DEFAULT value into column \"{}\"",
                        def.columns[col].name
                    ),
                ));
            }
            row[col] = v;
        }
        let mut full = Vec::with_capacity(row.len());
        for (col, v) in row.into_iter().enumerate() {
            let v = match v {
                Some(v) => v,
                None => match (&def.columns[col].identity, &self.defaults[col]) {
                    (Some(id), _) => Value::Int8(txn.nextval(&id.sequence)?),
                    (None, Some(Default::NextVal(seq))) => Value::Int8(txn.nextval(seq)?),
                    (None, Some(Default::Expr(e))) => ex.eval(e, &[])?,
                    (None, None) => Value::Null,
                },
            };
            full.push(assign(v, def, col)?);
        }
        run_checks(ex, def, &self.checks, &full)?;
        Ok(full)
    }

    /// ON CONFLICT for a row that collides with `existing`: the updated row, or `None`
    /// (DO NOTHING, or DO UPDATE whose WHERE is not true).
    fn conflict_update(
        &self,
        c: &Conflict,
        ex: &mut Exec<'_>,
        existing: Vec<Value>,
        full: &[Value],
    ) -> Result<Option<Vec<Value>>> {
        let Some((sets, filter)) = &c.action else {
            return Ok(None);
        };
        let mut ctx_row = existing.clone();
        ctx_row.extend(full.iter().cloned());
        if let Some(f) = filter
            && !ex.test(f, &ctx_row)?
        {
            return Ok(None);
        }
        let mut new = existing;
        for (col, e) in sets {
            new[*col] = assign(ex.eval(e, &ctx_row)?, &self.def, *col)?;
        }
        run_checks(ex, &self.def, &self.checks, &new)?;
        Ok(Some(new))
    }
}

fn eval_all(ex: &mut Exec<'_>, exprs: &[Expr], row: &[Value]) -> Result<Row> {
    exprs.iter().map(|e| ex.eval(e, row)).collect()
}

/// The position of a column an INSERT or UPDATE names (42703 when there is none).
fn target_column(def: &TableDef, name: &str) -> Result<usize> {
    def.column_index(name).ok_or_else(|| {
        Error::bind(
            "42703",
            format!(
                "column \"{name}\" of relation \"{}\" does not exist",
                def.name
            ),
        )
    })
}

/// The table columns an INSERT's column list names (all columns when it is empty).
fn insert_targets(def: &TableDef, columns: &[ast::ObjectName]) -> Result<Vec<usize>> {
    if columns.is_empty() {
        return Ok((0..def.columns.len()).collect());
    }
    let mut out = Vec::with_capacity(columns.len());
    for c in columns {
        let cname = object_name(c)?;
        let pos = target_column(def, &cname)?;
        if out.contains(&pos) {
            return Err(Error::bind(
                "42701",
                format!("column \"{cname}\" specified more than once"),
            ));
        }
        out.push(pos);
    }
    Ok(out)
}

/// ON CONFLICT DO UPDATE: the SET list and the WHERE.
type DoUpdate = (Vec<(usize, Expr)>, Option<Expr>);

/// A unique key that counts as a conflict.
#[derive(Debug)]
enum ConflictKey {
    /// The primary key, a UNIQUE constraint or a unique index on columns.
    Columns(Vec<usize>),
    /// A unique index with expressions, by position: its key is computed from the row.
    Index(usize),
}

impl ConflictKey {
    fn of_index(def: &TableDef, position: usize) -> ConflictKey {
        match def.indexes[position].plain_columns() {
            Some(cols) => ConflictKey::Columns(cols),
            None => ConflictKey::Index(position),
        }
    }
}

/// A bound ON CONFLICT clause.
#[derive(Debug)]
struct Conflict {
    /// The unique keys that count as a conflict.
    keys: Vec<ConflictKey>,
    /// DO UPDATE: (column, value over existing row ++ excluded row), WHERE. None: DO NOTHING.
    action: Option<DoUpdate>,
}

impl Conflict {
    fn find(
        &self,
        state: &State,
        def: &TableDef,
        row: &[Value],
    ) -> Option<(Vec<Value>, Vec<Value>)> {
        let data = state.table_data(def.id)?;
        for k in &self.keys {
            let found = match k {
                ConflictKey::Columns(cols) => {
                    let vals: Vec<Value> = cols.iter().map(|&c| row[c].clone()).collect();
                    data.find_matching(def, cols, &vals).into_iter().next()
                }
                // A key that fails to compute finds nothing: the insert then fails with
                // the same error.
                ConflictKey::Index(pos) => def.indexes[*pos]
                    .key_of(def, row)
                    .ok()
                    .filter(|vals| !vals.iter().any(Value::is_null))
                    .and_then(|vals| {
                        data.index_range(*pos, Bound::Included(&vals), Bound::Unbounded)
                            .take_while(|e| e[..vals.len()] == *vals)
                            .map(|e| Key::from(&e[vals.len()..]))
                            .next()
                    }),
            };
            if let Some(key) = found {
                let existing = data.get(&key)?.row.to_vec();
                return Some((key.to_vec(), existing));
            }
        }
        None
    }
}

fn bind_conflict(
    state: &State,
    def: &TableDef,
    alias: &str,
    oc: &ast::OnConflict,
    params: &[Value],
) -> Result<Conflict> {
    let mut all: Vec<ConflictKey> = def
        .primary_key
        .iter()
        .cloned()
        .map(ConflictKey::Columns)
        .collect();
    all.extend(
        (0..def.indexes.len())
            .filter(|&p| def.indexes[p].unique)
            .map(|p| ConflictKey::of_index(def, p)),
    );
    let keys = match &oc.conflict_target {
        None => all,
        Some(ast::ConflictTarget::Columns {
            columns,
            predicate: None,
        }) => {
            let mut cols = Vec::new();
            for c in columns {
                let n = ident_name(c);
                cols.push(def.column_index(&n).ok_or_else(|| {
                    Error::bind("42703", format!("column \"{n}\" does not exist"))
                })?);
            }
            let mut sorted = cols.clone();
            sorted.sort();
            let matching: Vec<ConflictKey> = all
                .into_iter()
                .filter(|k| match k {
                    ConflictKey::Columns(k) => {
                        let mut s = k.clone();
                        s.sort();
                        s == sorted
                    }
                    ConflictKey::Index(_) => false,
                })
                .collect();
            if matching.is_empty() {
                return Err(Error::bind(
                    "42P10",
                    "there is no unique or exclusion constraint matching the ON CONFLICT specification",
                ));
            }
            matching
        }
        Some(ast::ConflictTarget::OnConstraint(n)) => {
            let n = object_name(n)?;
            if def.primary_key_name.as_deref() == Some(n.as_str()) {
                def.primary_key
                    .iter()
                    .cloned()
                    .map(ConflictKey::Columns)
                    .collect()
            } else {
                let pos = def.indexes.iter().position(|i| i.unique && i.name == n);
                let pos = pos.ok_or_else(|| {
                    Error::bind(
                        "42704",
                        format!(
                            "constraint \"{n}\" for table \"{}\" does not exist",
                            def.name
                        ),
                    )
                })?;
                vec![ConflictKey::of_index(def, pos)]
            }
        }
        Some(other) => return Err(Error::unsupported(format!("ON CONFLICT {other}"))),
    };
    let action = match &oc.action {
        ast::OnConflictAction::DoNothing => None,
        ast::OnConflictAction::DoUpdate(du) => {
            let mut b = Binder::new(state, params);
            let mut cols = table_scope(def, alias);
            cols.extend(table_scope(def, "excluded"));
            b.scope().columns = cols;
            let sets = bind_assignments(&mut b, def, &du.assignments)?;
            let filter = du
                .selection
                .as_ref()
                .map(|s| b.predicate(s, "WHERE"))
                .transpose()?;
            Some((sets, filter))
        }
    };
    Ok(Conflict { keys, action })
}

pub(super) fn bind_assignments(
    b: &mut Binder<'_>,
    def: &TableDef,
    assignments: &[ast::Assignment],
) -> Result<Vec<(usize, Expr)>> {
    let mut out: Vec<(usize, Expr)> = Vec::new();
    for a in assignments {
        let ast::AssignmentTarget::ColumnName(n) = &a.target else {
            return Err(Error::unsupported("assignment to a column tuple"));
        };
        let cname = object_name(n)?;
        let col = target_column(def, &cname)?;
        if out.iter().any(|(c, _)| *c == col) {
            return Err(Error::bind(
                "42601",
                format!("multiple assignments to same column \"{cname}\""),
            ));
        }
        let is_default = matches!(&a.value, ast::Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"));
        let e = if is_default {
            match &def.columns[col].default {
                Some(text) => {
                    let parsed = parse_expr(text)?;
                    let (x, t) = b.expr(&parsed)?;
                    match t {
                        None => crate::bind::expr::coerce_unknown(
                            x,
                            def.columns[col].data_type.without_modifier(),
                        )?,
                        Some(_) => x,
                    }
                }
                None => Expr::Literal(Value::Null),
            }
        } else {
            let (x, t) = b.expr(&a.value)?;
            match t {
                None => crate::bind::expr::coerce_unknown(
                    x,
                    def.columns[col].data_type.without_modifier(),
                )?,
                Some(_) => x,
            }
        };
        out.push((col, e));
    }
    Ok(out)
}

mod modify;
pub(crate) mod with;

pub(crate) use modify::{delete, describe_returning, update};
