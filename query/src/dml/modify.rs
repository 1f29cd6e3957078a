//! UPDATE (with FROM, RETURNING) and DELETE (with USING, RETURNING), also through simple
//! views (PostgreSQL's auto-updatable views: one table, plain columns, optional WHERE).

use sqlparser::ast;
use zqlite_projections::value::{DataType, Value};
use zqlite_projections::{IdentityKind, State, TableDef, Transaction};

use super::{
    assign, bind_assignments, bind_checks, bind_returning, log_sequence_calls, returning_result,
    run_checks, table_def, table_scope,
};
use crate::bind::{Binder, Cte, OutputColumn, ident_name, object_name};
use crate::error::{Error, Result};
use crate::exec::{Exec, KeyedRow, Row};
use crate::expr::Expr;
use crate::optimizer::optimize;
use crate::plan::Plan;
use crate::result::QueryResult;

/// Rows of the target table (key and row) matched by WHERE, each with the first matching
/// row of the FROM/USING list appended.
fn matching_rows(
    ex: &mut Exec<'_>,
    state: &State,
    def: &TableDef,
    from: Option<&Plan>,
    selection: &Option<Expr>,
) -> Result<Vec<KeyedRow>> {
    let from_rows = match from {
        Some(p) => Some(ex.run(p)?),
        None => {
            // The target rows alone: let the optimiser pick an index for the WHERE.
            let scan = Plan::Scan {
                table: def.id,
                name: def.name.clone(),
                width: def.columns.len(),
                filter: selection.clone(),
            };
            let plan = optimize(scan, state.catalog())?;
            if let Some(rows) = ex.run_keyed(&plan)? {
                return Ok(rows);
            }
            None
        }
    };
    let mut out = Vec::new();
    let Some(data) = state.table_data(def.id) else {
        return Ok(out);
    };
    for (key, entry) in data.scan() {
        let base = entry.row.to_vec();
        match &from_rows {
            None => {
                if let Some(s) = selection
                    && !ex.test(s, &base)?
                {
                    continue;
                }
                out.push((key.to_vec(), base));
            }
            Some(rows) => {
                for fr in rows {
                    let mut row = base.clone();
                    row.extend(fr.iter().cloned());
                    if let Some(s) = selection
                        && !ex.test(s, &row)?
                    {
                        continue;
                    }
                    out.push((key.to_vec(), row));
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// Locks a row an UPDATE or DELETE is about to change (see
/// [`Transaction::lock_for_write`]). When a commit after the statement's snapshot changed
/// the row, the newest version replaces it if it still satisfies WHERE (PostgreSQL's READ
/// COMMITTED re-check); `None` skips the row.
fn lock_target(
    txn: &mut Transaction,
    ex: &mut Exec<'_>,
    def: &TableDef,
    selection: &Option<Expr>,
    key: &[Value],
    row: Row,
) -> Result<Option<Row>> {
    if !txn.lock_for_write(def.id, key)? {
        return Ok(Some(row));
    }
    let Some(entry) = txn.state().table_data(def.id).and_then(|d| d.get(key)) else {
        return Ok(None);
    };
    let mut fresh = entry.row.to_vec();
    // The FROM/USING row this target was joined with stays as it was.
    fresh.extend(row[def.columns.len()..].iter().cloned());
    if let Some(s) = selection
        && !ex.test(s, &fresh)?
    {
        return Ok(None);
    }
    Ok(Some(fresh))
}

/// The table an UPDATE or DELETE changes, its alias, and for a simple view (`SELECT
/// columns FROM table [WHERE ...]`, PostgreSQL's auto-updatable views) the view's WHERE.
fn target_table(
    state: &State,
    tf: &ast::TableFactor,
) -> Result<(String, Option<String>, Option<ast::Expr>)> {
    let ast::TableFactor::Table { name, alias, .. } = tf else {
        return Err(Error::unsupported(format!("DML target {tf}")));
    };
    let name = object_name(name)?;
    let alias = alias.as_ref().map(|a| ident_name(&a.name));
    let Some(view) = state.catalog().view(&name) else {
        return Ok((name, alias, None));
    };
    let not_updatable = || {
        Error::unsupported(format!(
            "changing rows through view \"{name}\" (not a simple single-table view)"
        ))
    };
    let q = crate::session::parse(&view.query)?;
    let [ast::Statement::Query(q)] = q.as_slice() else {
        return Err(not_updatable());
    };
    let ast::SetExpr::Select(sel) = q.body.as_ref() else {
        return Err(not_updatable());
    };
    let simple_items = sel.projection.iter().all(|i| {
        matches!(
            i,
            ast::SelectItem::Wildcard(_) | ast::SelectItem::UnnamedExpr(ast::Expr::Identifier(_))
        )
    });
    let grouped = !matches!(&sel.group_by, ast::GroupByExpr::Expressions(g, _) if g.is_empty());
    if q.order_by.is_some()
        || q.limit_clause.is_some()
        || sel.distinct.is_some()
        || sel.having.is_some()
        || grouped
        || !simple_items
        || sel.from.len() != 1
        || !sel.from[0].joins.is_empty()
    {
        return Err(not_updatable());
    }
    let ast::TableFactor::Table {
        name: base,
        alias: None,
        ..
    } = &sel.from[0].relation
    else {
        return Err(not_updatable());
    };
    let base = object_name(base)?;
    if state.catalog().table_by_name(&base).is_none() {
        return Err(not_updatable());
    }
    Ok((base, Some(alias.unwrap_or(name)), sel.selection.clone()))
}

/// ANDs the WHERE of an updatable view with the statement's.
fn bind_selection(
    b: &mut Binder<'_>,
    stmt: Option<&ast::Expr>,
    view: Option<&ast::Expr>,
) -> Result<Option<Expr>> {
    let mut parts = Vec::new();
    for e in [view, stmt].into_iter().flatten() {
        parts.push(b.predicate(e, "WHERE")?);
    }
    Ok(Expr::and_all(parts))
}

/// `ctes`: WITH queries in scope (those of a WITH clause around the UPDATE).
pub(crate) fn update(
    txn: &mut Transaction,
    up: &ast::Update,
    params: &[Value],
    ctes: &[Cte],
) -> Result<QueryResult> {
    if !up.table.joins.is_empty() {
        return Err(Error::unsupported("UPDATE of a join"));
    }
    let state = txn.state().clone();
    let (name, alias, view_where) = target_table(&state, &up.table.relation)?;
    let def = table_def(&state, &name)?;
    let mut b = Binder::new(&state, params).with_ctes(ctes);
    b.window_ban = crate::bind::window::WindowBan::Clause("UPDATE");
    b.scope().columns = table_scope(&def, alias.as_deref().unwrap_or(&def.name));
    let from = match &up.from {
        None => None,
        Some(ast::UpdateTableFromKind::AfterSet(f) | ast::UpdateTableFromKind::BeforeSet(f)) => {
            Some(b.bind_from(f)?)
        }
    };
    let sets = bind_assignments(&mut b, &def, &up.assignments)?;
    for (col, _) in &sets {
        if def.columns[*col]
            .identity
            .as_ref()
            .is_some_and(|i| i.kind == IdentityKind::Always)
        {
            return Err(Error::bind(
                "428C9",
                format!(
                    "column \"{}\" can only be updated to DEFAULT",
                    def.columns[*col].name
                ),
            ));
        }
    }
    let selection = bind_selection(&mut b, up.selection.as_ref(), view_where.as_ref())?;
    let returning = up
        .returning
        .as_ref()
        .map(|r| bind_returning(&mut b, r))
        .transpose()?;
    let from = from.map(|p| optimize(p, state.catalog())).transpose()?;
    let checks = bind_checks(&state, &def)?;
    let mut ex = Exec::new(&state, params).with_sequences(txn.sequences());
    let targets = matching_rows(&mut ex, &state, &def, from.as_ref(), &selection)?;
    let mut updates = Vec::with_capacity(targets.len());
    for (key, row) in targets {
        let Some(row) = lock_target(txn, &mut ex, &def, &selection, &key, row)? else {
            continue;
        };
        let mut new: Vec<Value> = row[..def.columns.len()].to_vec();
        for (col, e) in &sets {
            new[*col] = assign(ex.eval(e, &row)?, &def, *col)?;
        }
        run_checks(&mut ex, &def, &checks, &new)?;
        let mut full = new.clone();
        full.extend(row[def.columns.len()..].iter().cloned());
        updates.push((key, new, full));
    }
    let mut returned = Vec::new();
    for (key, new, full) in &updates {
        txn.update(def.id, key, new.clone())?;
        if let Some((exprs, _)) = &returning {
            let mut out = Vec::new();
            for e in exprs {
                out.push(ex.eval(e, full)?);
            }
            returned.push(out);
        }
    }
    log_sequence_calls(txn, &mut ex)?;
    Ok(match returning {
        Some((_, cols)) => returning_result(cols, returned),
        None => QueryResult::command("UPDATE", Some(updates.len() as u64)),
    })
}

/// `ctes`: WITH queries in scope (those of a WITH clause around the DELETE).
pub(crate) fn delete(
    txn: &mut Transaction,
    del: &ast::Delete,
    params: &[Value],
    ctes: &[Cte],
) -> Result<QueryResult> {
    let tables = match &del.from {
        ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
    };
    let [target] = tables.as_slice() else {
        return Err(Error::unsupported("DELETE from several tables"));
    };
    if !target.joins.is_empty()
        || !del.tables.is_empty()
        || del.limit.is_some()
        || !del.order_by.is_empty()
    {
        return Err(Error::unsupported("DELETE with joins, ORDER BY or LIMIT"));
    }
    let state = txn.state().clone();
    let (name, alias, view_where) = target_table(&state, &target.relation)?;
    let def = table_def(&state, &name)?;
    let mut b = Binder::new(&state, params).with_ctes(ctes);
    b.scope().columns = table_scope(&def, alias.as_deref().unwrap_or(&def.name));
    let from = match &del.using {
        None => None,
        Some(u) => Some(b.bind_from(u)?),
    };
    let selection = bind_selection(&mut b, del.selection.as_ref(), view_where.as_ref())?;
    let returning = del
        .returning
        .as_ref()
        .map(|r| bind_returning(&mut b, r))
        .transpose()?;
    let from = from.map(|p| optimize(p, state.catalog())).transpose()?;
    let mut ex = Exec::new(&state, params).with_sequences(txn.sequences());
    let targets = matching_rows(&mut ex, &state, &def, from.as_ref(), &selection)?;
    let mut returned = Vec::new();
    let mut count = 0u64;
    for (key, row) in targets {
        let Some(row) = lock_target(txn, &mut ex, &def, &selection, &key, row)? else {
            continue;
        };
        txn.delete(def.id, &key)?;
        count += 1;
        if let Some((exprs, _)) = &returning {
            let mut out = Vec::new();
            for e in exprs {
                out.push(ex.eval(e, &row)?);
            }
            returned.push(out);
        }
    }
    log_sequence_calls(txn, &mut ex)?;
    Ok(match returning {
        Some((_, cols)) => returning_result(cols, returned),
        None => QueryResult::command("DELETE", Some(count)),
    })
}

/// The RETURNING columns of an INSERT, UPDATE or DELETE, found by binding it alone
/// (describing a prepared statement must not run it); `None` without RETURNING.
pub(crate) fn describe_returning(
    state: &State,
    stmt: &ast::Statement,
    param_types: &[Option<DataType>],
    ctes: &[Cte],
) -> Result<Option<Vec<OutputColumn>>> {
    let mut b = Binder::for_types(state, param_types).with_ctes(ctes);
    let (items, relation, from) = match stmt {
        ast::Statement::Insert(ins) => {
            let Some(items) = &ins.returning else {
                return Ok(None);
            };
            let ast::TableObject::TableName(tname) = &ins.table else {
                return Err(Error::unsupported("INSERT into a table function"));
            };
            let def = table_def(state, &object_name(tname)?)?;
            let alias = ins
                .table_alias
                .as_ref()
                .map(|a| ident_name(&a.alias))
                .unwrap_or_else(|| def.name.clone());
            b.scope().columns = table_scope(&def, &alias);
            return Ok(Some(bind_returning(&mut b, items)?.1));
        }
        ast::Statement::Update(up) => {
            let from = match &up.from {
                None => None,
                Some(
                    ast::UpdateTableFromKind::AfterSet(f) | ast::UpdateTableFromKind::BeforeSet(f),
                ) => Some(f.as_slice()),
            };
            (&up.returning, &up.table.relation, from)
        }
        ast::Statement::Delete(del) => {
            let tables = match &del.from {
                ast::FromTable::WithFromKeyword(t) | ast::FromTable::WithoutKeyword(t) => t,
            };
            let [target] = tables.as_slice() else {
                return Err(Error::unsupported("DELETE from several tables"));
            };
            (&del.returning, &target.relation, del.using.as_deref())
        }
        _ => return Ok(None),
    };
    let Some(items) = items else {
        return Ok(None);
    };
    let (name, alias, _) = target_table(state, relation)?;
    let def = table_def(state, &name)?;
    b.scope().columns = table_scope(&def, alias.as_deref().unwrap_or(&def.name));
    if let Some(from) = from {
        b.bind_from(from)?;
    }
    Ok(Some(bind_returning(&mut b, items)?.1))
}
