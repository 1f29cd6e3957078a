//! Binding queries: FROM (tables, views, derived tables, joins), WHERE, grouping and
//! aggregates, the select list, DISTINCT, ORDER BY, LIMIT/OFFSET, VALUES and set operations.
//!
//! The plan of a SELECT is built in SQL's logical order: FROM → Filter(WHERE) →
//! Aggregate → Filter(HAVING) → Window → Project (select list plus hidden ORDER BY
//! columns) → Distinct → Sort → Limit → Project (drops the hidden columns).

use sqlparser::ast;
use zqlite_projections::value::{Array, DataType, Value};

use super::expr::{Typed, coerce_to, expr_loc};
use super::window::{WindowBan, WindowCollector};
use super::{
    AggCollector, Binder, BoundQuery, OutputColumn, Scope, ScopeColumn, ident_name, object_name,
};
use crate::error::{Error, Location, Result};
use crate::expr::Expr;
use crate::functions::{Func, common_type};
use crate::plan::{Plan, SetOpKind, SortKey};

/// ORDER BY items: the bound key, the output column it names (if any), its options.
type OrderItems<'q> = Vec<(Expr, Option<usize>, &'q ast::OrderByOptions)>;
/// DISTINCT ON items: the bound key and the output column it names (if any).
type DistinctOnItems = Vec<(Expr, Option<usize>)>;
/// The select list, HAVING, ORDER BY and DISTINCT ON of one SELECT, bound.
type BoundItems<'q> = (Vec<Typed>, Option<Expr>, OrderItems<'q>, DistinctOnItems);

/// The name PostgreSQL gives an unaliased select-list expression.
pub(crate) fn derived_name(e: &ast::Expr) -> String {
    named(e).0
}

/// A derived name and how strongly it names the expression (PostgreSQL's rule): 2 for
/// names of columns, functions and the like; 1 for names taken from a type (casts, typed
/// literals, `true`) or from CASE, which an enclosing cast replaces with its own type's
/// name; 0 for `?column?`.
fn named(e: &ast::Expr) -> (String, u8) {
    let name = derived_name_of(e);
    let strength = match e {
        _ if name == "?column?" => 0,
        ast::Expr::Cast { .. }
        | ast::Expr::TypedString(_)
        | ast::Expr::Interval(_)
        | ast::Expr::Case { .. } => 1,
        ast::Expr::Value(v) if matches!(v.value, ast::Value::Boolean(_)) => 1,
        ast::Expr::Nested(inner) | ast::Expr::Collate { expr: inner, .. } => named(inner).1,
        _ => 2,
    };
    (name, strength)
}

fn derived_name_of(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(i) => ident_name(i),
        ast::Expr::CompoundIdentifier(parts) => parts.last().map(ident_name).unwrap_or_default(),
        ast::Expr::Function(f) => f
            .name
            .0
            .last()
            .map(|p| match p {
                ast::ObjectNamePart::Identifier(i) => ident_name(i),
                _ => "?column?".to_string(),
            })
            .unwrap_or_default(),
        // A cast is named after its type unless what it casts has a stronger name
        // (`'1'::int` is `int4`, `true::text` is `text`, `price::text` is `price`).
        ast::Expr::Cast {
            expr, data_type, ..
        } => match named(expr) {
            (_, 0 | 1) => type_column_name(data_type),
            (n, _) => n,
        },
        ast::Expr::TypedString(ts) => type_column_name(&ts.data_type),
        ast::Expr::Interval(_) => "interval".to_string(),
        ast::Expr::Value(v) if matches!(v.value, ast::Value::Boolean(_)) => "bool".to_string(),
        ast::Expr::Nested(inner) | ast::Expr::Collate { expr: inner, .. } => derived_name(inner),
        ast::Expr::Case { .. } => "case".to_string(),
        ast::Expr::Exists { .. } => "exists".to_string(),
        ast::Expr::Array(_) => "array".to_string(),
        ast::Expr::CompoundFieldAccess { root, .. } => derived_name(root),
        ast::Expr::AtTimeZone { .. } => "timezone".to_string(),
        ast::Expr::Extract { .. } => "extract".to_string(),
        ast::Expr::Ceil { .. } => "ceil".to_string(),
        ast::Expr::Floor { .. } => "floor".to_string(),
        ast::Expr::Position { .. } => "position".to_string(),
        ast::Expr::Substring {
            shorthand: true, ..
        } => "substr".to_string(),
        ast::Expr::Substring { .. } => "substring".to_string(),
        ast::Expr::Overlay { .. } => "overlay".to_string(),
        ast::Expr::BinaryOp {
            op: ast::BinaryOperator::Overlaps,
            ..
        } => "overlaps".to_string(),
        ast::Expr::Trim { trim_where, .. } => match trim_where {
            Some(ast::TrimWhereField::Leading) => "ltrim",
            Some(ast::TrimWhereField::Trailing) => "rtrim",
            _ => "btrim",
        }
        .to_string(),
        // A scalar subquery is named after its one column.
        ast::Expr::Subquery(q) => match q.body.as_ref() {
            ast::SetExpr::Select(s) => match s.projection.first() {
                Some(ast::SelectItem::ExprWithAlias { alias, .. }) => ident_name(alias),
                Some(ast::SelectItem::UnnamedExpr(e)) => derived_name(e),
                _ => "?column?".to_string(),
            },
            _ => "?column?".to_string(),
        },
        _ => "?column?".to_string(),
    }
}

/// 42P01 when `FOR UPDATE OF t` names a relation that is not in the query's FROM clause.
fn check_locked_relations(q: &ast::Query) -> Result<()> {
    let ast::SetExpr::Select(select) = q.body.as_ref() else {
        return Ok(());
    };
    let mut names = Vec::new();
    let mut add = |tf: &ast::TableFactor| match tf {
        ast::TableFactor::Table { name, alias, .. } => names.push(match alias {
            Some(a) => ident_name(&a.name),
            None => name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(ident_name)
                .unwrap_or_default(),
        }),
        ast::TableFactor::Derived { alias: Some(a), .. }
        | ast::TableFactor::TableFunction { alias: Some(a), .. }
        | ast::TableFactor::Function { alias: Some(a), .. }
        | ast::TableFactor::UNNEST { alias: Some(a), .. } => names.push(ident_name(&a.name)),
        _ => {}
    };
    for twj in &select.from {
        add(&twj.relation);
        for j in &twj.joins {
            add(&j.relation);
        }
    }
    for lock in &q.locks {
        if let Some(of) = &lock.of {
            let name = super::object_name(of)?;
            if !names.contains(&name) {
                return Err(Error::bind(
                    "42P01",
                    format!("relation \"{name}\" in FOR UPDATE clause not found in FROM clause"),
                ));
            }
        }
    }
    Ok(())
}

/// The name of a column that is a cast to (or literal of) `ty`: its `pg_type` name, the
/// element type's for arrays.
fn type_column_name(ty: &ast::DataType) -> String {
    if let Some((base, _)) = super::expr::datetime_precision(ty) {
        return type_column_name(&base);
    }
    match super::data_type(ty) {
        Ok(t) => t.element_type().unwrap_or(t).typname().to_string(),
        Err(_) => "?column?".to_string(),
    }
}

/// Replaces group-by expressions and aggregate placeholders with columns of the Aggregate
/// node's output; any other column reference is an error (42803).
fn post_agg(e: Expr, groups: &[Expr], names: &[ScopeColumn]) -> Result<Expr> {
    if let Some(i) = groups.iter().position(|g| *g == e) {
        return Ok(Expr::Column(i));
    }
    match e {
        Expr::AggRef(j) => Ok(Expr::Column(groups.len() + j)),
        Expr::Column(c) => {
            let col = &names[c];
            let qual = col
                .table
                .as_ref()
                .map(|t| format!("{t}."))
                .unwrap_or_default();
            Err(Error::bind(
                "42803",
                format!(
                    "column \"{qual}{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                    col.name
                ),
            ))
        }
        other => other.try_map_children(&mut |c| post_agg(c, groups, names)),
    }
}

impl Binder<'_> {
    /// Binds a query as a new query level.
    pub(crate) fn query(&mut self, q: &ast::Query) -> Result<BoundQuery> {
        let visible_ctes = self.ctes.len();
        let result = match &q.with {
            Some(with) => self.push_ctes(with).and_then(|()| self.query_body(q)),
            None => self.query_body(q),
        };
        self.ctes.truncate(visible_ctes);
        result
    }

    fn query_body(&mut self, q: &ast::Query) -> Result<BoundQuery> {
        if !q.locks.is_empty() {
            check_locked_relations(q)?;
            return Err(Error::unsupported("FOR UPDATE"));
        }
        let order_by: &[ast::OrderByExpr] = match &q.order_by {
            None => &[],
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(items) => items,
                ast::OrderByKind::All(_) => return Err(Error::unsupported("ORDER BY ALL")),
            },
        };
        let one = ast::Expr::value(ast::Value::Number("1".into(), false));
        let fetch_count = match &q.fetch {
            None => None,
            Some(f) if f.percent => {
                return Err(Error::Syntax {
                    message: "syntax error at or near \"PERCENT\"".into(),
                    location: Location { line: 1, column: 1 },
                });
            }
            Some(f) if f.with_ties => return Err(Error::unsupported("FETCH ... WITH TIES")),
            // `FETCH FIRST ROW ONLY` fetches one row.
            Some(f) => Some(f.quantity.as_ref().unwrap_or(&one)),
        };
        let (limit, offset) = match &q.limit_clause {
            None => (fetch_count, None),
            Some(ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) => {
                if !limit_by.is_empty() {
                    return Err(Error::unsupported("LIMIT BY"));
                }
                if limit.is_some() && fetch_count.is_some() {
                    return Err(Error::Syntax {
                        message: "multiple LIMIT clauses not allowed".into(),
                        location: Location { line: 1, column: 1 },
                    });
                }
                (
                    limit.as_ref().or(fetch_count),
                    offset.as_ref().map(|o| &o.value),
                )
            }
            Some(ast::LimitClause::OffsetCommaLimit { .. }) => {
                return Err(Error::Syntax {
                    message: "LIMIT #,# syntax is not supported".into(),
                    location: Location { line: 1, column: 1 },
                });
            }
        };
        let mut bound = match q.body.as_ref() {
            ast::SetExpr::Select(s) => self.select(s, order_by)?,
            body => {
                let mut b = self.set_expr(body)?;
                if !order_by.is_empty() {
                    let keys = self.output_order(&b.columns, order_by)?;
                    b.plan = Plan::Sort {
                        input: Box::new(b.plan),
                        keys,
                    };
                }
                b
            }
        };
        if limit.is_some() || offset.is_some() {
            let mut bind_count = |e: Option<&ast::Expr>| -> Result<Option<Expr>> {
                let Some(e) = e else { return Ok(None) };
                let (b, t) = self.expr(e)?;
                Ok(Some(coerce_to(b, t, Some(DataType::Int8))?))
            };
            let limit = match limit {
                Some(ast::Expr::Value(v)) if v.value == ast::Value::Null => None,
                other => bind_count(other)?,
            };
            let offset = bind_count(offset)?;
            bound.plan = Plan::Limit {
                input: Box::new(bound.plan),
                limit,
                offset,
            };
        }
        Ok(bound)
    }

    /// ORDER BY over a set operation's output: output names and ordinals only.
    fn output_order(
        &mut self,
        columns: &[OutputColumn],
        items: &[ast::OrderByExpr],
    ) -> Result<Vec<SortKey>> {
        let mut keys = Vec::new();
        for item in items {
            let index = match self.output_reference(columns, &item.expr)? {
                Some(i) => i,
                None => {
                    return Err(Error::unsupported(
                        "ORDER BY on a set operation with an expression other than an output column",
                    )
                    .at(expr_loc(&item.expr)));
                }
            };
            keys.push(sort_key(Expr::Column(index), &item.options));
        }
        Ok(keys)
    }

    /// An ORDER BY/GROUP BY item naming an output column by ordinal or name.
    fn output_reference(
        &mut self,
        columns: &[OutputColumn],
        e: &ast::Expr,
    ) -> Result<Option<usize>> {
        match e {
            ast::Expr::Value(v) => {
                if let ast::Value::Number(n, _) = &v.value {
                    let pos: usize = n.parse().unwrap_or(0);
                    if pos == 0 || pos > columns.len() {
                        return Err(Error::Bind {
                            sqlstate: "42P10",
                            message: format!("ORDER BY position {n} is not in select list"),
                            location: expr_loc(e),
                        });
                    }
                    return Ok(Some(pos - 1));
                }
                Ok(None)
            }
            ast::Expr::Identifier(i) => {
                let name = ident_name(i);
                Ok(columns.iter().position(|c| c.name == name))
            }
            _ => Ok(None),
        }
    }

    pub(super) fn set_expr(&mut self, body: &ast::SetExpr) -> Result<BoundQuery> {
        match body {
            ast::SetExpr::Select(s) => self.select(s, &[]),
            ast::SetExpr::Query(q) => self.query(q),
            ast::SetExpr::Values(v) => self.values(v),
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let kind = match op {
                    ast::SetOperator::Union => SetOpKind::Union,
                    ast::SetOperator::Intersect => SetOpKind::Intersect,
                    ast::SetOperator::Except | ast::SetOperator::Minus => SetOpKind::Except,
                };
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    other => return Err(Error::unsupported(format!("set quantifier {other}"))),
                };
                let l = self.set_expr(left)?;
                let r = self.set_expr(right)?;
                if l.columns.len() != r.columns.len() {
                    return Err(Error::bind(
                        "42601",
                        format!("each {op} query must have the same number of columns"),
                    ));
                }
                let mut columns = Vec::new();
                let mut lexprs = Vec::new();
                let mut rexprs = Vec::new();
                for (i, (lc, rc)) in l.columns.iter().zip(&r.columns).enumerate() {
                    let ty = common_type(&[lc.ty, rc.ty], &op.to_string())?;
                    lexprs.push(coerce_to(Expr::Column(i), lc.ty, ty)?);
                    rexprs.push(coerce_to(Expr::Column(i), rc.ty, ty)?);
                    columns.push(OutputColumn {
                        name: lc.name.clone(),
                        ty,
                    });
                }
                let wrap = |plan: Plan, exprs: Vec<Expr>| {
                    if exprs.iter().enumerate().all(|(i, e)| *e == Expr::Column(i)) {
                        plan
                    } else {
                        Plan::Project {
                            input: Box::new(plan),
                            exprs,
                        }
                    }
                };
                Ok(BoundQuery {
                    plan: Plan::SetOp {
                        left: Box::new(wrap(l.plan, lexprs)),
                        right: Box::new(wrap(r.plan, rexprs)),
                        kind,
                        all,
                    },
                    columns,
                })
            }
            ast::SetExpr::Insert(_) | ast::SetExpr::Update(_) | ast::SetExpr::Delete(_) => {
                Err(Error::bind(
                    "0A000",
                    "WITH clause containing a data-modifying statement must be at the top level",
                ))
            }
            other => Err(Error::unsupported(format!("query body {other}"))),
        }
    }

    fn values(&mut self, v: &ast::Values) -> Result<BoundQuery> {
        self.scopes.push(Scope::default());
        let result = self.without_windows(WindowBan::Clause("VALUES"), |b| b.values_inner(v));
        self.scopes.pop();
        result
    }

    fn values_inner(&mut self, v: &ast::Values) -> Result<BoundQuery> {
        let width = v.rows.first().map_or(0, |r| r.content.len());
        let mut rows: Vec<Vec<Typed>> = Vec::new();
        for row in &v.rows {
            if row.content.len() != width {
                return Err(Error::bind(
                    "42601",
                    "VALUES lists must all be the same length",
                ));
            }
            let mut out = Vec::new();
            for e in &row.content {
                out.push(self.expr(e)?);
            }
            rows.push(out);
        }
        let mut columns = Vec::new();
        for c in 0..width {
            let types: Vec<Option<DataType>> = rows.iter().map(|r| r[c].1).collect();
            columns.push(OutputColumn {
                name: format!("column{}", c + 1),
                ty: common_type(&types, "VALUES")?,
            });
        }
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .zip(&columns)
                    .map(|((e, t), c)| coerce_to(e, t, c.ty))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(BoundQuery {
            plan: Plan::Values { rows, width },
            columns,
        })
    }

    /// Binds a VALUES list for INSERT, coercing each value to the target column type.
    pub(crate) fn insert_values(
        &mut self,
        v: &ast::Values,
        types: &[DataType],
    ) -> Result<Vec<Vec<Option<Expr>>>> {
        self.scopes.push(Scope::default());
        let mut out = Vec::new();
        let result = (|| {
            for row in &v.rows {
                if row.content.len() != types.len() {
                    let msg = if row.content.len() > types.len() {
                        "INSERT has more expressions than target columns"
                    } else {
                        "INSERT has more target columns than expressions"
                    };
                    return Err(Error::bind("42601", msg));
                }
                let mut r = Vec::new();
                for (e, ty) in row.content.iter().zip(types) {
                    if matches!(e, ast::Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"))
                    {
                        r.push(None);
                        continue;
                    }
                    // Known types are converted by the assignment cast at insert time;
                    // unknown literals take the column's base type (the type modifier is
                    // applied by that same assignment cast, so `varchar(n)` errors).
                    let (b, t) = self.expr(e)?;
                    r.push(Some(match t {
                        None => super::expr::coerce_unknown(b, ty.without_modifier())?,
                        Some(_) => b,
                    }));
                }
                out.push(r);
            }
            Ok(())
        })();
        self.scopes.pop();
        result.map(|_| out)
    }

    fn select(&mut self, s: &ast::Select, order_by: &[ast::OrderByExpr]) -> Result<BoundQuery> {
        self.scopes.push(Scope::default());
        let result = self.without_windows(WindowBan::Here, |b| b.select_inner(s, order_by));
        self.scopes.pop();
        result
    }

    fn select_inner(
        &mut self,
        s: &ast::Select,
        order_by: &[ast::OrderByExpr],
    ) -> Result<BoundQuery> {
        if s.top.is_some()
            || s.into.is_some()
            || !s.lateral_views.is_empty()
            || s.prewhere.is_some()
        {
            return Err(Error::unsupported("TOP / INTO / LATERAL VIEW"));
        }
        let mut plan = self.bind_from(&s.from)?;
        if let Some(w) = &s.selection {
            let predicate = self.predicate(w, "WHERE")?;
            plan = Plan::Filter {
                input: Box::new(plan),
                predicate,
            };
        }
        self.scope().referenced_from_inner = false;
        let input_columns = self.scope().columns.clone();

        // The select list: (bound expr or None for not-yet-bound, ast, name).
        enum Item<'q> {
            Bound(Typed, String),
            Ast(&'q ast::Expr, String),
        }
        let mut items: Vec<Item<'_>> = Vec::new();
        for item in &s.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => items.push(Item::Ast(e, derived_name(e))),
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    items.push(Item::Ast(expr, ident_name(alias)))
                }
                ast::SelectItem::Wildcard(_) => {
                    let cols: Vec<_> = input_columns
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| !c.hidden)
                        .collect();
                    if cols.is_empty() && s.from.is_empty() {
                        return Err(Error::bind(
                            "42601",
                            "SELECT * with no tables specified is not valid",
                        ));
                    }
                    for (i, c) in cols {
                        items.push(Item::Bound((Expr::Column(i), c.ty), c.name.clone()));
                    }
                }
                ast::SelectItem::QualifiedWildcard(
                    ast::SelectItemQualifiedWildcardKind::ObjectName(name),
                    _,
                ) => {
                    let t = object_name(name)?;
                    let cols: Vec<_> = input_columns
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| c.table.as_deref() == Some(t.as_str()))
                        .collect();
                    if cols.is_empty() {
                        return Err(Error::bind(
                            "42P01",
                            format!("missing FROM-clause entry for table \"{t}\""),
                        ));
                    }
                    for (i, c) in cols {
                        items.push(Item::Bound((Expr::Column(i), c.ty), c.name.clone()));
                    }
                }
                other => return Err(Error::unsupported(format!("select item {other}"))),
            }
        }
        let names: Vec<String> = items
            .iter()
            .map(|i| match i {
                Item::Bound(_, n) | Item::Ast(_, n) => n.clone(),
            })
            .collect();

        // GROUP BY (ordinals and output names refer to select items), with its grouping
        // sets when it has ROLLUP, CUBE or GROUPING SETS.
        let mut groups = Vec::new();
        let mut has_sets = false;
        let mut grouping_sets: Vec<Vec<usize>> = vec![Vec::new()];
        match &s.group_by {
            ast::GroupByExpr::Expressions(exprs, mods) => {
                if !mods.is_empty() {
                    return Err(Error::unsupported("GROUP BY modifiers"));
                }
                // Binds one grouping expression; ordinals and output names refer to select items.
                let mut bind_group = |b: &mut Self, g: &ast::Expr| -> Result<usize> {
                    let by_output = match g {
                        ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                            let ast::Value::Number(n, _) = &v.value else {
                                unreachable!()
                            };
                            let pos: usize = n.parse().unwrap_or(0);
                            if pos == 0 || pos > items.len() {
                                return Err(Error::Bind {
                                    sqlstate: "42P10",
                                    message: format!("GROUP BY position {n} is not in select list"),
                                    location: expr_loc(g),
                                });
                            }
                            Some(pos - 1)
                        }
                        ast::Expr::Identifier(i) => {
                            let n = ident_name(i);
                            let in_input = input_columns.iter().any(|c| c.name == n && !c.hidden);
                            if in_input {
                                None
                            } else {
                                names.iter().position(|x| *x == n)
                            }
                        }
                        _ => None,
                    };
                    let bound = b.without_windows(WindowBan::Clause("GROUP BY"), |b| {
                        Ok(match by_output {
                            Some(pos) => match &items[pos] {
                                Item::Bound(x, _) => x.0.clone(),
                                Item::Ast(e, _) => b.expr(e)?.0,
                            },
                            None => b.expr(g)?.0,
                        })
                    })?;
                    Ok(match groups.iter().position(|x| *x == bound) {
                        Some(i) => i,
                        None => {
                            groups.push(bound);
                            groups.len() - 1
                        }
                    })
                };
                // Each GROUP BY item's grouping sets; a plain expression has one.
                let mut item_sets: Vec<Vec<Vec<usize>>> = Vec::new();
                for g in exprs {
                    let lists = match g {
                        ast::Expr::Rollup(l) | ast::Expr::Cube(l) | ast::Expr::GroupingSets(l) => l,
                        // `GROUP BY ()`: the empty grouping set, one group of all rows.
                        ast::Expr::Tuple(items) if items.is_empty() => {
                            has_sets = true;
                            item_sets.push(vec![Vec::new()]);
                            continue;
                        }
                        _ => {
                            item_sets.push(vec![vec![bind_group(self, g)?]]);
                            continue;
                        }
                    };
                    has_sets = true;
                    let mut elems: Vec<Vec<usize>> = Vec::new();
                    for list in lists {
                        let mut set = Vec::new();
                        for e in list {
                            if matches!(
                                e,
                                ast::Expr::Rollup(_)
                                    | ast::Expr::Cube(_)
                                    | ast::Expr::GroupingSets(_)
                            ) {
                                return Err(Error::unsupported(
                                    "ROLLUP, CUBE or GROUPING SETS inside another",
                                )
                                .at(expr_loc(e)));
                            }
                            set.push(bind_group(self, e)?);
                        }
                        elems.push(set);
                    }
                    item_sets.push(match g {
                        ast::Expr::Rollup(_) => (0..=elems.len())
                            .rev()
                            .map(|k| elems[..k].concat())
                            .collect(),
                        ast::Expr::Cube(_) => {
                            let n = elems.len();
                            if n > 12 {
                                return Err(Error::bind("54011", "CUBE is limited to 12 elements"));
                            }
                            (0..1usize << n)
                                .rev()
                                .map(|mask| {
                                    (0..n)
                                        .filter(|k| mask & (1 << (n - 1 - k)) != 0)
                                        .flat_map(|k| elems[k].clone())
                                        .collect()
                                })
                                .collect()
                        }
                        _ => elems,
                    });
                }
                // The grouping sets of the whole clause: one per combination of the items'.
                for sets_of_item in item_sets {
                    let mut next = Vec::new();
                    for prefix in &grouping_sets {
                        for set in &sets_of_item {
                            let mut combined: Vec<usize> = prefix.clone();
                            combined.extend(set);
                            next.push(combined);
                        }
                    }
                    grouping_sets = next;
                }
            }
            ast::GroupByExpr::All(_) => return Err(Error::unsupported("GROUP BY ALL")),
        }

        // Select list, HAVING and ORDER BY may hold aggregates; the select list and ORDER BY
        // window functions.
        let named = self.named_windows(&s.named_window)?;
        self.aggs = Some(AggCollector::default());
        self.windows = Some(WindowCollector {
            calls: Vec::new(),
            named,
        });
        self.set_calls = Some(Vec::new());
        let bound_items = (|| -> Result<BoundItems<'_>> {
            let mut out = Vec::new();
            for item in &items {
                out.push(match item {
                    Item::Bound(b, _) => b.clone(),
                    Item::Ast(e, _) => self.expr(e)?,
                });
            }
            let saved_set_calls = self.set_calls.take();
            let having = s.having.as_ref().map(|h| self.predicate(h, "HAVING"));
            self.set_calls = saved_set_calls;
            let having = having.transpose()?;
            let outputs: Vec<OutputColumn> = names
                .iter()
                .zip(&out)
                .map(|(n, (_, t))| OutputColumn {
                    name: n.clone(),
                    ty: *t,
                })
                .collect();
            let mut order = Vec::new();
            for o in order_by {
                match self.output_reference(&outputs, &o.expr)? {
                    Some(i) => order.push((Expr::Column(i), Some(i), &o.options)),
                    None => order.push((self.expr(&o.expr)?.0, None, &o.options)),
                }
            }
            let mut distinct_on = Vec::new();
            if let Some(ast::Distinct::On(on)) = &s.distinct {
                for e in on {
                    match self.output_reference(&outputs, e)? {
                        Some(i) => distinct_on.push((Expr::Column(i), Some(i))),
                        None => distinct_on.push((self.expr(e)?.0, None)),
                    }
                }
            }
            Ok((out, having, order, distinct_on))
        })();
        let collector = self.aggs.take().unwrap_or_default();
        let windows = self.windows.take().map(|w| w.calls).unwrap_or_default();
        let mut set_calls = self.set_calls.take().unwrap_or_default();
        let (mut select_exprs, having, order, mut distinct_on) = bound_items?;
        let mut windows = windows;
        let agg_mode =
            !groups.is_empty() || !collector.calls.is_empty() || having.is_some() || has_sets;
        let mut having = having;
        let mut order = order;
        if agg_mode {
            if self.scope().referenced_from_inner {
                return Err(Error::unsupported(
                    "a correlated subquery referring to a grouped query's columns",
                ));
            }
            for (e, _) in &mut select_exprs {
                *e = post_agg(e.clone(), &groups, &input_columns)?;
            }
            if let Some(h) = having.take() {
                having = Some(post_agg(h, &groups, &input_columns)?);
            }
            for (e, out, _) in &mut order {
                if out.is_none() {
                    *e = post_agg(e.clone(), &groups, &input_columns)?;
                }
            }
            for (e, out) in &mut distinct_on {
                if out.is_none() {
                    *e = post_agg(e.clone(), &groups, &input_columns)?;
                }
            }
            for (_, args) in &mut set_calls {
                for a in args.iter_mut() {
                    *a = post_agg(a.clone(), &groups, &input_columns)?;
                }
            }
            for call in &mut windows {
                let mut map = |e: &mut Expr| -> Result<()> {
                    *e = post_agg(e.clone(), &groups, &input_columns)?;
                    Ok(())
                };
                call.args.iter_mut().try_for_each(&mut map)?;
                call.partition_by.iter_mut().try_for_each(&mut map)?;
                call.order_by
                    .iter_mut()
                    .try_for_each(|k| map(&mut k.expr))?;
                if let Some(a) = &mut call.agg {
                    a.arg.iter_mut().try_for_each(&mut map)?;
                    a.extra.iter_mut().try_for_each(&mut map)?;
                    a.filter.iter_mut().try_for_each(&mut map)?;
                }
            }
            // GROUPING(args): which of its arguments the row's grouping set leaves out.
            let set_column = groups.len() + collector.calls.len();
            let grouping = |e: Expr| -> Result<Expr> {
                grouping_calls(e, &grouping_sets, has_sets.then_some(set_column))
            };
            for (e, _) in &mut select_exprs {
                *e = grouping(e.clone())?;
            }
            if let Some(h) = having.take() {
                having = Some(grouping(h)?);
            }
            for (e, _, _) in &mut order {
                *e = grouping(e.clone())?;
            }
            plan = if has_sets {
                Plan::GroupingSets {
                    input: Box::new(plan),
                    group_by: groups,
                    aggs: collector.calls,
                    sets: grouping_sets,
                }
            } else {
                Plan::Aggregate {
                    input: Box::new(plan),
                    group_by: groups,
                    aggs: collector.calls,
                }
            };
            if let Some(h) = having {
                plan = Plan::Filter {
                    input: Box::new(plan),
                    predicate: h,
                };
            }
        } else {
            // Without grouping, no argument of GROUPING is a grouping expression.
            let mut grouping = false;
            for e in select_exprs
                .iter()
                .map(|(e, _)| e)
                .chain(order.iter().map(|o| &o.0))
            {
                e.walk(&mut |e| grouping |= matches!(e, Expr::Function(Func::Grouping, _)));
            }
            if grouping {
                return Err(Error::bind(
                    "42803",
                    "arguments to GROUPING must be grouping expressions of the associated query \
                     level",
                ));
            }
        }
        if !windows.is_empty() {
            // Window calls run on the grouped rows; their results follow the input's columns.
            let base = plan.width();
            let to_column = |e: Expr| {
                e.transform(&mut |e| match e {
                    Expr::WindowRef(k) => Expr::Column(base + k),
                    other => other,
                })
            };
            rewrite_items(&mut select_exprs, &mut order, &mut distinct_on, &to_column);
            for (_, args) in &mut set_calls {
                for a in args.iter_mut() {
                    *a = to_column(a.clone());
                }
            }
            plan = Plan::Window {
                input: Box::new(plan),
                calls: windows,
            };
        }
        if !set_calls.is_empty() {
            // Set-returning calls run after grouping and windows; their values follow the
            // input's columns.
            let base = plan.width();
            let to_column = |e: Expr| {
                e.transform(&mut |e| match e {
                    Expr::SetRef(k) => Expr::Column(base + k),
                    other => other,
                })
            };
            rewrite_items(&mut select_exprs, &mut order, &mut distinct_on, &to_column);
            plan = Plan::ProjectSet {
                input: Box::new(plan),
                calls: set_calls,
            };
        }
        let visible = select_exprs.len();
        let mut exprs: Vec<Expr> = select_exprs.iter().map(|(e, _)| e.clone()).collect();
        let distinct = match &s.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => false,
        };
        // DISTINCT ON keys: output columns, or hidden columns after the select list.
        let mut on_columns: Vec<usize> = Vec::new();
        for (e, out) in distinct_on {
            let index = match out.or_else(|| exprs.iter().position(|x| *x == e)) {
                Some(i) => i,
                None => {
                    exprs.push(e);
                    exprs.len() - 1
                }
            };
            if !on_columns.contains(&index) {
                on_columns.push(index);
            }
        }
        let mut keys = Vec::new();
        for (e, out, opts) in order {
            let index = match out {
                Some(i) => i,
                None => match exprs.iter().position(|x| *x == e) {
                    Some(i) => i,
                    None => {
                        if distinct {
                            return Err(Error::bind(
                                "42P10",
                                "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                            ));
                        }
                        exprs.push(e);
                        exprs.len() - 1
                    }
                },
            };
            keys.push(sort_key(Expr::Column(index), opts));
        }
        let hidden = exprs.len() > visible;
        plan = Plan::Project {
            input: Box::new(plan),
            exprs,
        };
        if !on_columns.is_empty() {
            keys = distinct_on_order(&on_columns, keys)?;
        }
        if distinct {
            plan = Plan::Distinct {
                input: Box::new(plan),
            };
        }
        if !keys.is_empty() {
            plan = Plan::Sort {
                input: Box::new(plan),
                keys,
            };
        }
        if !on_columns.is_empty() {
            plan = Plan::DistinctOn {
                input: Box::new(plan),
                columns: on_columns,
            };
        }
        if hidden {
            plan = Plan::Project {
                input: Box::new(plan),
                exprs: (0..visible).map(Expr::Column).collect(),
            };
        }
        let columns = names
            .into_iter()
            .zip(select_exprs)
            .map(|(name, (_, ty))| OutputColumn { name, ty })
            .collect();
        Ok(BoundQuery { plan, columns })
    }
}

/// Rewrites with `f` the select list, and the ORDER BY and DISTINCT ON items that are not
/// output columns (those are rewritten through the select list).
fn rewrite_items(
    select: &mut [Typed],
    order: &mut OrderItems<'_>,
    distinct_on: &mut DistinctOnItems,
    f: &impl Fn(Expr) -> Expr,
) {
    for (e, _) in select.iter_mut() {
        *e = f(e.clone());
    }
    for (e, out, _) in order.iter_mut() {
        if out.is_none() {
            *e = f(e.clone());
        }
    }
    for (e, out) in distinct_on.iter_mut() {
        if out.is_none() {
            *e = f(e.clone());
        }
    }
}

/// Replaces the `GROUPING(a, b)` calls of a grouped query's expression (their arguments
/// already group-key columns) with their value: a bit per argument, set when the row's
/// grouping set (column `set_column`) leaves that key out; always 0 without grouping sets.
fn grouping_calls(e: Expr, sets: &[Vec<usize>], set_column: Option<usize>) -> Result<Expr> {
    match e {
        Expr::Function(Func::Grouping, args) => {
            let mut keys = Vec::with_capacity(args.len());
            for a in &args {
                match a {
                    Expr::Column(i) => keys.push(*i),
                    _ => {
                        return Err(Error::bind(
                            "42803",
                            "arguments to GROUPING must be grouping expressions of the \
                             associated query level",
                        ));
                    }
                }
            }
            let Some(set_column) = set_column else {
                return Ok(Expr::Literal(Value::Int4(0)));
            };
            let masks: Vec<Value> = sets
                .iter()
                .map(|set| {
                    let mask = keys
                        .iter()
                        .fold(0i32, |m, k| (m << 1) | i32::from(!set.contains(k)));
                    Value::Int4(mask)
                })
                .collect();
            let table = Value::Array(std::sync::Arc::new(Array::new(DataType::Int4, masks)));
            Ok(Expr::Function(
                Func::Grouping,
                vec![Expr::Column(set_column), Expr::Literal(table)],
            ))
        }
        other => other.try_map_children(&mut |c| grouping_calls(c, sets, set_column)),
    }
}

/// The sort keys of a `DISTINCT ON (on_columns)` query with ORDER BY `keys`: the ORDER BY
/// must start with the DISTINCT ON keys (in any order, 42P10 otherwise); keys it leaves out
/// follow them, ascending, so that equal keys end up adjacent.
fn distinct_on_order(on_columns: &[usize], keys: Vec<SortKey>) -> Result<Vec<SortKey>> {
    let mut covered: Vec<usize> = Vec::new();
    let mut prefix = 0;
    for k in &keys {
        if covered.len() == on_columns.len() {
            break;
        }
        match k.expr {
            Expr::Column(c) if on_columns.contains(&c) => {
                if !covered.contains(&c) {
                    covered.push(c);
                }
                prefix += 1;
            }
            _ => {
                return Err(Error::bind(
                    "42P10",
                    "SELECT DISTINCT ON expressions must match initial ORDER BY expressions",
                ));
            }
        }
    }
    let mut keys = keys;
    let missing = on_columns
        .iter()
        .filter(|c| !covered.contains(c))
        .map(|&c| SortKey {
            expr: Expr::Column(c),
            desc: false,
            nulls_first: false,
        });
    keys.splice(prefix..prefix, missing);
    Ok(keys)
}

pub(super) fn sort_key(expr: Expr, opts: &ast::OrderByOptions) -> SortKey {
    let desc = matches!(opts.sort, Some(ast::OrderBySort::Desc));
    SortKey {
        expr,
        desc,
        nulls_first: opts.nulls_first.unwrap_or(desc),
    }
}
