//! WITH queries: their definitions in scope, references to them, and `WITH RECURSIVE`.
//!
//! A WITH query is bound anew where it is referenced, like a derived table, seeing only the
//! WITH queries defined before it. A recursive one (`WITH RECURSIVE t AS (anchor UNION [ALL]
//! step)`) becomes a [`Plan::RecursiveUnion`]: `anchor` is bound without `t` in reach, then
//! `step` with `t` naming the work table ([`Plan::WorkTable`]), the rows the previous round
//! added.
//!
//! Invariants (PostgreSQL's rules, SQLSTATE 42P19 otherwise): `step` refers to `t` at most
//! once, not inside a subquery expression, an aggregate or the nullable side of an outer
//! join; `anchor` does not refer to `t`; the output types are the anchor's, and `step` must
//! produce the same types (42804).

use sqlparser::ast;
use zqlite_projections::value::DataType;

use super::expr::coerce_to;
use super::{Binder, BoundQuery, OutputColumn, ScopeColumn, ident_name};
use crate::error::{Error, Location, Result};
use crate::expr::Expr;
use crate::functions::common_type;
use crate::plan::{JoinKind, Plan};

/// A WITH query in scope.
#[derive(Debug, Clone)]
pub(crate) struct Cte {
    pub name: String,
    /// The column aliases of `name(a, b) AS (...)`.
    pub columns: Vec<String>,
    pub body: CteBody,
}

#[derive(Debug, Clone)]
pub(crate) enum CteBody {
    /// A WITH query; `recursive` when declared in `WITH RECURSIVE`.
    Query {
        query: Box<ast::Query>,
        recursive: bool,
    },
    /// A recursive query seen from inside its own anchor.
    InAnchor,
    /// A recursive query seen from inside a body that is not `anchor UNION step`.
    NotWellFormed,
    /// Rows computed before the statement's main part ran: what a data-modifying WITH
    /// query returned, or a WITH query evaluated on the statement's snapshot.
    Rows {
        rows: std::rc::Rc<Vec<Vec<zqlite_projections::value::Value>>>,
        columns: Vec<OutputColumn>,
    },
    /// A recursive query seen from inside its step: the work table.
    WorkTable {
        id: usize,
        columns: Vec<OutputColumn>,
        /// The scope depth of the step's own FROM clause.
        level: usize,
        uses: usize,
    },
}

/// The name and column aliases of the WITH clause's query `i`, failing (42712) on a name an
/// earlier query of the clause has.
pub(crate) fn cte_name(with: &ast::With, i: usize) -> Result<(String, Vec<String>)> {
    let cte = &with.cte_tables[i];
    let name = ident_name(&cte.alias.name);
    if with.cte_tables[..i]
        .iter()
        .any(|c| ident_name(&c.alias.name) == name)
    {
        return Err(Error::bind(
            "42712",
            format!("WITH query name \"{name}\" specified more than once"),
        ));
    }
    let aliases = cte
        .alias
        .columns
        .iter()
        .map(|c| ident_name(&c.name))
        .collect();
    Ok((name, aliases))
}

impl Cte {
    /// A WITH query bound where it is referenced.
    pub(crate) fn query(
        name: String,
        columns: Vec<String>,
        query: &ast::Query,
        recursive: bool,
    ) -> Cte {
        Cte {
            name,
            columns,
            body: CteBody::Query {
                query: Box::new(query.clone()),
                recursive,
            },
        }
    }
}

impl Binder<'_> {
    /// Puts the queries of a WITH clause in scope.
    pub(super) fn push_ctes(&mut self, with: &ast::With) -> Result<()> {
        for (i, cte) in with.cte_tables.iter().enumerate() {
            let (name, aliases) = cte_name(with, i)?;
            self.ctes
                .push(Cte::query(name, aliases, &cte.query, with.recursive));
        }
        Ok(())
    }

    /// A reference, in FROM, to the WITH query at `pos`.
    pub(super) fn cte_reference(
        &mut self,
        pos: usize,
        alias: Option<&ast::TableAlias>,
        loc: Option<Location>,
    ) -> Result<Plan> {
        let cte = self.ctes[pos].clone();
        let recursive_reference = |what: &str| Error::Bind {
            sqlstate: "42P19",
            message: format!(
                "recursive reference to query \"{}\" must not {what}",
                cte.name
            ),
            location: loc,
        };
        let (plan, columns) = match cte.body {
            CteBody::InAnchor => {
                return Err(recursive_reference("appear within its non-recursive term"));
            }
            CteBody::NotWellFormed => {
                return Err(Error::Bind {
                    sqlstate: "42P19",
                    message: format!(
                        "recursive query \"{}\" does not have the form non-recursive-term UNION \
                         [ALL] recursive-term",
                        cte.name
                    ),
                    location: loc,
                });
            }
            CteBody::WorkTable {
                id,
                columns,
                level,
                uses,
            } => {
                if self.scopes.len() != level {
                    return Err(recursive_reference("appear within a subquery"));
                }
                if uses > 0 {
                    return Err(recursive_reference("appear more than once"));
                }
                if let CteBody::WorkTable { uses, .. } = &mut self.ctes[pos].body {
                    *uses += 1;
                }
                let width = columns.len();
                (Plan::WorkTable { id, width }, columns)
            }
            CteBody::Rows { rows, columns } => {
                let width = columns.len();
                let rows = rows
                    .iter()
                    .map(|r| r.iter().cloned().map(Expr::Literal).collect())
                    .collect();
                (Plan::Values { rows, width }, columns)
            }
            CteBody::Query { query, recursive } => {
                let saved_ctes = self.ctes.split_off(pos);
                let current = self.scopes.pop().unwrap_or_default();
                let result = if recursive {
                    self.recursive_query(&cte.name, &cte.columns, &query)
                } else {
                    self.subquery(&query).map(|(b, _)| b)
                };
                self.scopes.push(current);
                self.ctes.truncate(pos);
                self.ctes.extend(saved_ctes);
                let bound = result?;
                (bound.plan, bound.columns)
            }
        };
        if cte.columns.len() > columns.len() {
            return Err(Error::Bind {
                sqlstate: "42P10",
                message: format!(
                    "WITH query \"{}\" has {} columns available but {} columns specified",
                    cte.name,
                    columns.len(),
                    cte.columns.len()
                ),
                location: loc,
            });
        }
        let alias_name = alias.map(|a| ident_name(&a.name)).unwrap_or(cte.name);
        let renames: Vec<String> = alias
            .map(|a| a.columns.iter().map(|c| ident_name(&c.name)).collect())
            .unwrap_or_default();
        for (i, c) in columns.iter().enumerate() {
            let col_name = renames
                .get(i)
                .or(cte.columns.get(i))
                .cloned()
                .unwrap_or_else(|| c.name.clone());
            self.scope().columns.push(ScopeColumn {
                table: Some(alias_name.clone()),
                name: col_name,
                ty: c.ty,
                hidden: false,
                row_alias: false,
            });
        }
        Ok(plan)
    }

    /// Binds the body of a query declared in `WITH RECURSIVE` (with the WITH queries before
    /// it in scope, and no enclosing scope).
    fn recursive_query(
        &mut self,
        name: &str,
        aliases: &[String],
        query: &ast::Query,
    ) -> Result<BoundQuery> {
        let marker = |body| Cte {
            name: name.to_string(),
            columns: aliases.to_vec(),
            body,
        };
        let union = match query.body.as_ref() {
            ast::SetExpr::SetOperation {
                op: ast::SetOperator::Union,
                set_quantifier,
                left,
                right,
            } => Some((left, right, *set_quantifier == ast::SetQuantifier::All)),
            _ => None,
        };
        let Some((anchor, step, all)) = union else {
            // Not of the recursive form: fine as long as it does not refer to itself.
            self.ctes.push(marker(CteBody::NotWellFormed));
            return self.subquery(query).map(|(b, _)| b);
        };
        if query.with.is_some()
            || query.order_by.is_some()
            || query.limit_clause.is_some()
            || query.fetch.is_some()
        {
            return Err(Error::unsupported(
                "WITH, ORDER BY, LIMIT or OFFSET in a recursive query",
            ));
        }

        self.ctes.push(marker(CteBody::InAnchor));
        let anchor = self.nested(|b| b.set_expr(anchor));
        self.ctes.pop();
        let (anchor, _) = anchor?;
        let columns: Vec<OutputColumn> = anchor
            .columns
            .iter()
            .map(|c| OutputColumn {
                name: c.name.clone(),
                ty: Some(c.ty.unwrap_or(DataType::Text)),
            })
            .collect();
        let anchor_exprs = anchor
            .columns
            .iter()
            .zip(&columns)
            .enumerate()
            .map(|(i, (from, to))| coerce_to(Expr::Column(i), from.ty, to.ty))
            .collect::<Result<Vec<_>>>()?;

        let id = self.next_work_table;
        self.next_work_table += 1;
        self.ctes.push(marker(CteBody::WorkTable {
            id,
            columns: columns.clone(),
            level: self.scopes.len() + 1,
            uses: 0,
        }));
        let step = self.nested(|b| b.set_expr(step));
        let used = matches!(
            self.ctes.pop().map(|c| c.body),
            Some(CteBody::WorkTable { uses: 1.., .. })
        );
        let (step, _) = step?;
        if let Some(what) = used
            .then(|| misplaced_work_table(&step.plan, false))
            .flatten()
        {
            return Err(Error::bind(
                "42P19",
                format!("recursive reference to query \"{name}\" must not appear within {what}"),
            ));
        }
        if step.columns.len() != columns.len() {
            return Err(Error::bind(
                "42601",
                "each UNION query must have the same number of columns",
            ));
        }
        let mut step_exprs = Vec::new();
        for (i, (anchor_col, step_col)) in columns.iter().zip(&step.columns).enumerate() {
            let overall = common_type(&[anchor_col.ty, step_col.ty], "UNION")?;
            if overall != anchor_col.ty {
                let show = |t: Option<DataType>| t.map(|t| t.to_string()).unwrap_or_default();
                return Err(Error::bind(
                    "42804",
                    format!(
                        "recursive query \"{name}\" column {} has type {} in non-recursive term \
                         but type {} overall",
                        i + 1,
                        show(anchor_col.ty),
                        show(overall)
                    ),
                ));
            }
            step_exprs.push(coerce_to(Expr::Column(i), step_col.ty, anchor_col.ty)?);
        }
        let anchor = project(anchor.plan, anchor_exprs);
        let step = project(step.plan, step_exprs);
        if !used {
            return Ok(BoundQuery {
                plan: Plan::SetOp {
                    left: Box::new(anchor),
                    right: Box::new(step),
                    kind: crate::plan::SetOpKind::Union,
                    all,
                },
                columns,
            });
        }
        Ok(BoundQuery {
            plan: Plan::RecursiveUnion {
                anchor: Box::new(anchor),
                recursive: Box::new(step),
                work_table: id,
                all,
            },
            columns,
        })
    }
}

/// `plan` under a projection of `exprs`, unless they are its columns in order.
fn project(plan: Plan, exprs: Vec<Expr>) -> Plan {
    if exprs.iter().enumerate().all(|(i, e)| *e == Expr::Column(i)) {
        plan
    } else {
        Plan::Project {
            input: Box::new(plan),
            exprs,
        }
    }
}

/// Where the work table sits in a place a recursive step may not read it: inside an
/// aggregate or on the nullable side of an outer join (`nullable`: below such a side).
fn misplaced_work_table(plan: &Plan, nullable: bool) -> Option<&'static str> {
    match plan {
        Plan::WorkTable { .. } if nullable => Some("an outer join"),
        Plan::Aggregate { input, .. } | Plan::GroupingSets { input, .. }
            if contains_work_table(input) =>
        {
            Some("an aggregate")
        }
        Plan::NestedLoopJoin {
            left, right, kind, ..
        }
        | Plan::Lateral {
            left, right, kind, ..
        } => {
            let (left_nullable, right_nullable) = match kind {
                JoinKind::Inner => (false, false),
                JoinKind::Left => (false, true),
                JoinKind::Right => (true, false),
                JoinKind::Full => (true, true),
            };
            misplaced_work_table(left, nullable || left_nullable)
                .or_else(|| misplaced_work_table(right, nullable || right_nullable))
        }
        other => children(other)
            .into_iter()
            .find_map(|c| misplaced_work_table(c, nullable)),
    }
}

fn contains_work_table(plan: &Plan) -> bool {
    matches!(plan, Plan::WorkTable { .. }) || children(plan).into_iter().any(contains_work_table)
}

fn children(plan: &Plan) -> Vec<&Plan> {
    match plan {
        Plan::Values { .. }
        | Plan::Scan { .. }
        | Plan::IndexScan { .. }
        | Plan::SystemScan { .. }
        | Plan::FunctionScan { .. }
        | Plan::WorkTable { .. } => Vec::new(),
        Plan::Filter { input, .. }
        | Plan::Project { input, .. }
        | Plan::IndexJoin { left: input, .. }
        | Plan::Aggregate { input, .. }
        | Plan::GroupingSets { input, .. }
        | Plan::ProjectSet { input, .. }
        | Plan::Window { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Limit { input, .. }
        | Plan::Distinct { input }
        | Plan::DistinctOn { input, .. } => vec![input],
        Plan::NestedLoopJoin { left, right, .. }
        | Plan::Lateral { left, right, .. }
        | Plan::SetOp { left, right, .. }
        | Plan::RecursiveUnion {
            anchor: left,
            recursive: right,
            ..
        } => vec![left, right],
    }
}
