//! The optimiser: an ordered list of rules, each rewriting a whole plan.
//!
//! 1. [`PushDownFilters`]: WHERE and inner-join ON conjuncts move to the lowest node that has
//!    all their columns (into scans, join inputs, through projections). Conjuncts holding a
//!    subquery stay where they are: its outer references point at the row they were bound on.
//! 2. [`IndexScans`]: a scan whose filter compares the leading column of the primary key or of
//!    an index with a constant reads only that key range; an expression equal to an index's
//!    leading expression (`lower(email) = $1` with an index on `(lower(email))`) counts as
//!    that column.
//! 3. [`IndexJoins`]: an inner or left join whose right side is a table scan and whose ON has
//!    `left.x = right.y`, with `y` leading an index, probes the index once per left row. An
//!    inner join whose left side is such a table (and whose right side is not) is turned
//!    around, its columns put back in order by a projection.
//!
//! Invariant: rules never drop a predicate. Index scans and joins keep the full filter, so
//! the key range only narrows what is read; if the probe value's type family differs from
//! the column's at run time, the executor falls back to reading everything.

use zqlite_projections::value::BinaryOp;
use zqlite_projections::{Catalog, IndexColumn};

use crate::error::Result;
use crate::expr::Expr;
use crate::index_expr::bound;
use crate::plan::{Access, FrameBound, JoinKind, KeyRange, Plan};

/// One rewrite of a plan.
pub trait Rule: std::fmt::Debug {
    fn name(&self) -> &'static str;
    fn apply(&self, plan: Plan, catalog: &Catalog) -> Plan;
}

/// The rules, in the order they run.
pub fn rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(PushDownFilters),
        Box::new(IndexScans),
        Box::new(IndexJoins),
    ]
}

/// Folds constants (see `fold.rs`), then runs every rule on `plan` and on the plans of its
/// subqueries. Fails when folding a constant fails, as PostgreSQL's planner does.
pub fn optimize(plan: Plan, catalog: &Catalog) -> Result<Plan> {
    let mut error = None;
    let mut plan = map_exprs(plan, &mut |e| match prepare(e, catalog) {
        Ok(e) => e,
        Err(err) => {
            error.get_or_insert(err);
            Expr::Literal(zqlite_projections::value::Value::Null)
        }
    });
    if let Some(err) = error {
        return Err(err);
    }
    for rule in rules() {
        plan = rule.apply(plan, catalog);
    }
    Ok(plan)
}

/// Optimises the subquery plans inside `e`, then folds its constants.
fn prepare(e: Expr, catalog: &Catalog) -> Result<Expr> {
    let mut error = None;
    let e = e.transform(&mut |e| match e {
        Expr::Subquery(mut s) => {
            let plan = std::mem::replace(
                &mut s.plan,
                Plan::Values {
                    rows: vec![],
                    width: 0,
                },
            );
            match optimize(plan, catalog) {
                Ok(p) => s.plan = p,
                Err(err) => {
                    error.get_or_insert(err);
                }
            }
            Expr::Subquery(s)
        }
        other => other,
    });
    if let Some(err) = error {
        return Err(err);
    }
    crate::fold::fold(e)
}

/// Applies `f` to the direct inputs of a node.
fn map_inputs(plan: Plan, f: &mut impl FnMut(Plan) -> Plan) -> Plan {
    let mut b = |p: Box<Plan>| Box::new(f(*p));
    match plan {
        Plan::Filter { input, predicate } => Plan::Filter {
            input: b(input),
            predicate,
        },
        Plan::Project { input, exprs } => Plan::Project {
            input: b(input),
            exprs,
        },
        Plan::NestedLoopJoin {
            left,
            right,
            kind,
            on,
        } => {
            let left = b(left);
            let right = b(right);
            Plan::NestedLoopJoin {
                left,
                right,
                kind,
                on,
            }
        }
        Plan::IndexJoin {
            left,
            table,
            name,
            width,
            access,
            key,
            kind,
            on,
        } => Plan::IndexJoin {
            left: b(left),
            table,
            name,
            width,
            access,
            key,
            kind,
            on,
        },
        Plan::Aggregate {
            input,
            group_by,
            aggs,
        } => Plan::Aggregate {
            input: b(input),
            group_by,
            aggs,
        },
        Plan::GroupingSets {
            input,
            group_by,
            aggs,
            sets,
        } => Plan::GroupingSets {
            input: b(input),
            group_by,
            aggs,
            sets,
        },
        Plan::Window { input, calls } => Plan::Window {
            input: b(input),
            calls,
        },
        Plan::Sort { input, keys } => Plan::Sort {
            input: b(input),
            keys,
        },
        Plan::Limit {
            input,
            limit,
            offset,
        } => Plan::Limit {
            input: b(input),
            limit,
            offset,
        },
        Plan::Distinct { input } => Plan::Distinct { input: b(input) },
        Plan::DistinctOn { input, columns } => Plan::DistinctOn {
            input: b(input),
            columns,
        },
        Plan::ProjectSet { input, calls } => Plan::ProjectSet {
            input: b(input),
            calls,
        },
        Plan::Lateral {
            left,
            right,
            kind,
            on,
        } => {
            let left = b(left);
            let right = b(right);
            Plan::Lateral {
                left,
                right,
                kind,
                on,
            }
        }
        Plan::RecursiveUnion {
            anchor,
            recursive,
            work_table,
            all,
        } => {
            let anchor = b(anchor);
            let recursive = b(recursive);
            Plan::RecursiveUnion {
                anchor,
                recursive,
                work_table,
                all,
            }
        }
        Plan::SetOp {
            left,
            right,
            kind,
            all,
        } => {
            let left = b(left);
            let right = b(right);
            Plan::SetOp {
                left,
                right,
                kind,
                all,
            }
        }
        leaf => leaf,
    }
}

/// Applies `f` to every expression of every node (bottom-up over the tree).
fn map_exprs(plan: Plan, f: &mut impl FnMut(Expr) -> Expr) -> Plan {
    let plan = map_inputs(plan, &mut |p| map_exprs(p, f));
    let mut o = |e: Option<Expr>| e.map(&mut *f);
    match plan {
        Plan::Values { rows, width } => Plan::Values {
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(&mut *f).collect())
                .collect(),
            width,
        },
        Plan::Scan {
            table,
            name,
            width,
            filter,
        } => Plan::Scan {
            table,
            name,
            width,
            filter: o(filter),
        },
        Plan::SystemScan {
            relation,
            args,
            filter,
            ordinality,
        } => {
            let filter = o(filter);
            Plan::SystemScan {
                relation,
                args: args.into_iter().map(&mut *f).collect(),
                filter,
                ordinality,
            }
        }
        Plan::Filter { input, predicate } => Plan::Filter {
            input,
            predicate: f(predicate),
        },
        Plan::Project { input, exprs } => Plan::Project {
            input,
            exprs: exprs.into_iter().map(&mut *f).collect(),
        },
        Plan::NestedLoopJoin {
            left,
            right,
            kind,
            on,
        } => Plan::NestedLoopJoin {
            left,
            right,
            kind,
            on: o(on),
        },
        Plan::Aggregate {
            input,
            group_by,
            mut aggs,
        } => {
            for a in &mut aggs {
                a.arg = a.arg.take().map(&mut *f);
                a.filter = a.filter.take().map(&mut *f);
            }
            Plan::Aggregate {
                input,
                group_by: group_by.into_iter().map(&mut *f).collect(),
                aggs,
            }
        }
        Plan::GroupingSets {
            input,
            group_by,
            mut aggs,
            sets,
        } => {
            for a in &mut aggs {
                a.arg = a.arg.take().map(&mut *f);
                a.filter = a.filter.take().map(&mut *f);
            }
            Plan::GroupingSets {
                input,
                group_by: group_by.into_iter().map(&mut *f).collect(),
                aggs,
                sets,
            }
        }
        Plan::Window { input, mut calls } => {
            let mut take = |e: &mut Expr| *e = f(std::mem::replace(e, Expr::Column(0)));
            for c in &mut calls {
                c.order_by.iter_mut().for_each(|k| take(&mut k.expr));
                if let Some(a) = &mut c.agg {
                    a.arg.iter_mut().for_each(&mut take);
                    a.extra.iter_mut().for_each(&mut take);
                    a.filter.iter_mut().for_each(&mut take);
                }
                for b in [&mut c.frame.start, &mut c.frame.end] {
                    if let FrameBound::Preceding(e) | FrameBound::Following(e) = b {
                        take(e);
                    }
                }
                c.args.iter_mut().for_each(&mut take);
                c.partition_by.iter_mut().for_each(&mut take);
            }
            Plan::Window { input, calls }
        }
        Plan::Sort { input, mut keys } => {
            for k in &mut keys {
                k.expr = f(std::mem::replace(&mut k.expr, Expr::Column(0)));
            }
            Plan::Sort { input, keys }
        }
        other => other,
    }
}

#[derive(Debug)]
pub struct PushDownFilters;

impl Rule for PushDownFilters {
    fn name(&self) -> &'static str {
        "push down filters"
    }

    fn apply(&self, plan: Plan, _: &Catalog) -> Plan {
        push_down(plan)
    }
}

fn push_down(plan: Plan) -> Plan {
    match plan {
        Plan::Filter { input, predicate } => push_filter(push_down(*input), predicate.conjuncts()),
        Plan::NestedLoopJoin {
            left,
            right,
            kind: JoinKind::Inner,
            on: Some(on),
        } => {
            let join = Plan::NestedLoopJoin {
                left: Box::new(push_down(*left)),
                right: Box::new(push_down(*right)),
                kind: JoinKind::Inner,
                on: None,
            };
            push_filter(join, on.conjuncts())
        }
        other => map_inputs(other, &mut push_down),
    }
}

fn shift(e: Expr, by: usize) -> Expr {
    e.transform(&mut |e| match e {
        Expr::Column(i) => Expr::Column(i - by),
        other => other,
    })
}

fn with_filter(plan: Plan, conjuncts: Vec<Expr>) -> Plan {
    match Expr::and_all(conjuncts) {
        None => plan,
        Some(predicate) => Plan::Filter {
            input: Box::new(plan),
            predicate,
        },
    }
}

fn push_filter(plan: Plan, conjuncts: Vec<Expr>) -> Plan {
    if conjuncts.is_empty() {
        return plan;
    }
    match plan {
        Plan::Scan {
            table,
            name,
            width,
            filter,
        } => {
            let mut all: Vec<Expr> = filter.map(Expr::conjuncts).unwrap_or_default();
            all.extend(conjuncts);
            Plan::Scan {
                table,
                name,
                width,
                filter: Expr::and_all(all),
            }
        }
        Plan::SystemScan {
            relation,
            args,
            filter,
            ordinality,
        } => {
            let mut all: Vec<Expr> = filter.map(Expr::conjuncts).unwrap_or_default();
            all.extend(conjuncts);
            Plan::SystemScan {
                relation,
                args,
                filter: Expr::and_all(all),
                ordinality,
            }
        }
        Plan::Filter { input, predicate } => {
            let mut all = predicate.conjuncts();
            all.extend(conjuncts);
            push_filter(*input, all)
        }
        Plan::NestedLoopJoin {
            left,
            right,
            kind,
            on,
        } => {
            let lw = left.width();
            let (mut lefts, mut rights, mut ons, mut stay) = (vec![], vec![], vec![], vec![]);
            for c in conjuncts {
                let cols = c.columns();
                if c.has_subquery() || cols.is_empty() {
                    stay.push(c);
                } else if cols.iter().all(|&i| i < lw)
                    && matches!(kind, JoinKind::Inner | JoinKind::Left)
                {
                    lefts.push(c);
                } else if cols.iter().all(|&i| i >= lw)
                    && matches!(kind, JoinKind::Inner | JoinKind::Right)
                {
                    rights.push(shift(c, lw));
                } else if kind == JoinKind::Inner {
                    ons.push(c);
                } else {
                    stay.push(c);
                }
            }
            let mut on_all: Vec<Expr> = on.map(Expr::conjuncts).unwrap_or_default();
            on_all.extend(ons);
            let join = Plan::NestedLoopJoin {
                left: Box::new(push_filter(*left, lefts)),
                right: Box::new(push_filter(*right, rights)),
                kind,
                on: Expr::and_all(on_all),
            };
            with_filter(join, stay)
        }
        Plan::Project { input, exprs } => {
            let (mut down, mut stay) = (vec![], vec![]);
            for c in conjuncts {
                let substitutable = !c.has_subquery()
                    && c.columns()
                        .iter()
                        .all(|&i| !exprs[i].has_subquery() && exprs[i].is_constant_or_columns());
                if substitutable {
                    down.push(c.transform(&mut |e| match e {
                        Expr::Column(i) => exprs[i].clone(),
                        other => other,
                    }));
                } else {
                    stay.push(c);
                }
            }
            let project = Plan::Project {
                input: Box::new(push_filter(*input, down)),
                exprs,
            };
            with_filter(project, stay)
        }
        other => with_filter(other, conjuncts),
    }
}

impl Expr {
    /// No subquery and no volatile function: safe to evaluate anywhere, any number of times.
    fn is_constant_or_columns(&self) -> bool {
        let mut ok = true;
        self.walk(&mut |e| match e {
            Expr::Subquery(_) => ok = false,
            Expr::Function(f, _) if f.is_volatile() => ok = false,
            _ => {}
        });
        ok
    }
}

/// The comparison operator that means the same with its operands swapped (`a < b` is
/// `b > a`); `None` for operators an index range cannot serve.
fn mirrored(op: &BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Eq => BinaryOp::Eq,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        _ => return None,
    })
}

/// A comparison of column `col` with a constant, as (column, operator, constant) with the
/// operator written as if the column were on the left.
pub(crate) fn column_comparison(e: &Expr) -> Option<(usize, BinaryOp, Expr)> {
    let Expr::Binary(op, a, b) = e else {
        return None;
    };
    let flipped = mirrored(op)?;
    match (a.as_ref(), b.as_ref()) {
        (Expr::Column(c), other) if other.is_constant() => Some((*c, *op, other.clone())),
        (other, Expr::Column(c)) if other.is_constant() => Some((*c, flipped, other.clone())),
        _ => None,
    }
}

/// What the non-constant side of a comparison reads: a column, or an expression over the
/// row that an expression index may have as its leading key column.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Column(usize),
    Expression(Expr),
}

/// A comparison of a column or an expression of the row's columns with a constant, as
/// (operand, operator, constant) with the operator written as if the operand were on the
/// left.
fn comparison(e: &Expr) -> Option<(Operand, BinaryOp, Expr)> {
    if let Some((c, op, value)) = column_comparison(e) {
        return Some((Operand::Column(c), op, value));
    }
    let Expr::Binary(op, a, b) = e else {
        return None;
    };
    let flipped = mirrored(op)?;
    let computed = |x: &Expr| !x.is_constant() && x.is_constant_or_columns();
    match (a.as_ref(), b.as_ref()) {
        (x, v) if computed(x) && v.is_constant() => {
            Some((Operand::Expression(x.clone()), *op, v.clone()))
        }
        (v, x) if computed(x) && v.is_constant() => {
            Some((Operand::Expression(x.clone()), flipped, v.clone()))
        }
        _ => None,
    }
}

/// Access paths of a table whose leading key is `operand`, best first (primary key,
/// unique). An expression matches an index expression bound to the same tree.
fn accesses_for_operand(catalog: &Catalog, table: u64, operand: &Operand) -> Vec<Access> {
    match operand {
        Operand::Column(col) => accesses_for(catalog, table, *col),
        Operand::Expression(x) => {
            let Some(def) = catalog.table(table) else {
                return vec![];
            };
            let mut idx: Vec<(bool, usize)> = def
                .indexes
                .iter()
                .enumerate()
                .filter(|(_, i)| {
                    i.columns
                        .first()
                        .and_then(|c| bound(def, c))
                        .is_some_and(|b| b.expr == *x)
                })
                .map(|(p, i)| (!i.unique, p))
                .collect();
            idx.sort();
            idx.into_iter().map(|(_, p)| Access::Index(p)).collect()
        }
    }
}

/// Access paths of a table whose leading column is `col`, best first (primary key, unique).
fn accesses_for(catalog: &Catalog, table: u64, col: usize) -> Vec<Access> {
    let Some(def) = catalog.table(table) else {
        return vec![];
    };
    let mut out = Vec::new();
    if def.primary_key.as_ref().and_then(|pk| pk.first()) == Some(&col) {
        out.push(Access::PrimaryKey);
    }
    let mut idx: Vec<(bool, usize)> = def
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, i)| i.columns.first().and_then(IndexColumn::column) == Some(col))
        .map(|(p, i)| (!i.unique, p))
        .collect();
    idx.sort();
    out.extend(idx.into_iter().map(|(_, p)| Access::Index(p)));
    out
}

#[derive(Debug)]
pub struct IndexScans;

impl Rule for IndexScans {
    fn name(&self) -> &'static str {
        "index scans"
    }

    fn apply(&self, plan: Plan, catalog: &Catalog) -> Plan {
        match plan {
            Plan::Scan {
                table,
                name,
                width,
                filter: Some(filter),
            } => {
                let comparisons: Vec<(Operand, BinaryOp, Expr)> = filter
                    .clone()
                    .conjuncts()
                    .iter()
                    .filter_map(comparison)
                    .collect();
                let mut best: Option<(u8, Access, KeyRange)> = None;
                for (col, op, value) in &comparisons {
                    let Some(access) = accesses_for_operand(catalog, table, col).first().copied()
                    else {
                        continue;
                    };
                    let pk = u8::from(access != Access::PrimaryKey);
                    let (rank, range) = if *op == BinaryOp::Eq {
                        (pk, KeyRange::Eq(value.clone()))
                    } else {
                        let bound = |want: &[BinaryOp]| {
                            comparisons
                                .iter()
                                .find(|(c, o, _)| c == col && want.contains(o))
                                .map(|(_, _, v)| v.clone())
                        };
                        let lower = bound(&[BinaryOp::Gt, BinaryOp::GtEq]);
                        let upper = bound(&[BinaryOp::Lt, BinaryOp::LtEq]);
                        (2 + pk, KeyRange::Range { lower, upper })
                    };
                    if best.as_ref().is_none_or(|(r, _, _)| rank < *r) {
                        best = Some((rank, access, range));
                    }
                }
                match best {
                    Some((_, access, range)) => Plan::IndexScan {
                        table,
                        name,
                        width,
                        access,
                        range,
                        filter: Some(filter),
                    },
                    None => Plan::Scan {
                        table,
                        name,
                        width,
                        filter: Some(filter),
                    },
                }
            }
            other => map_inputs(other, &mut |p| self.apply(p, catalog)),
        }
    }
}

#[derive(Debug)]
pub struct IndexJoins;

impl Rule for IndexJoins {
    fn name(&self) -> &'static str {
        "index joins"
    }

    fn apply(&self, plan: Plan, catalog: &Catalog) -> Plan {
        let plan = map_inputs(plan, &mut |p| self.apply(p, catalog));
        let Plan::NestedLoopJoin {
            left,
            right,
            kind,
            on: Some(on),
        } = plan
        else {
            return plan;
        };
        let (left, right, on) = match index_join(left, right, kind, on, catalog) {
            Ok(joined) => return joined,
            Err(parts) => parts,
        };
        // An inner join is symmetric: when only the left side is an indexed table (a work
        // table or derived table joined to a table, say), probe it from the right side and
        // put the columns back in their order.
        let swappable = kind == JoinKind::Inner
            && matches!(*left, Plan::Scan { .. })
            && !on.has_subquery()
            && !matches!(*right, Plan::Scan { .. });
        if !swappable {
            return Plan::NestedLoopJoin {
                left,
                right,
                kind,
                on: Some(on),
            };
        }
        let (lw, rw) = (left.width(), right.width());
        let swapped_on = on.clone().transform(&mut |e| match e {
            Expr::Column(i) if i < lw => Expr::Column(i + rw),
            Expr::Column(i) => Expr::Column(i - lw),
            other => other,
        });
        match index_join(right, left, kind, swapped_on, catalog) {
            Ok(joined) => Plan::Project {
                input: Box::new(joined),
                exprs: (0..lw)
                    .map(|i| Expr::Column(rw + i))
                    .chain((0..rw).map(Expr::Column))
                    .collect(),
            },
            Err((right, left, _)) => Plan::NestedLoopJoin {
                left,
                right,
                kind,
                on: Some(on),
            },
        }
    }
}

type JoinParts = (Box<Plan>, Box<Plan>, Expr);

/// `left JOIN right ON on` as an index join when `right` is a table scan and `on` equates a
/// left column with a column leading one of its indexes; else the parts back.
#[allow(clippy::boxed_local)] // plans are boxed in the tree; the parts go back as they came
fn index_join(
    left: Box<Plan>,
    right: Box<Plan>,
    kind: JoinKind,
    on: Expr,
    catalog: &Catalog,
) -> std::result::Result<Plan, JoinParts> {
    let lw = left.width();
    let probe = match (&*right, kind) {
        (Plan::Scan { table, filter, .. }, JoinKind::Inner | JoinKind::Left)
            if !filter.as_ref().is_some_and(Expr::has_subquery) =>
        {
            on.clone().conjuncts().iter().find_map(|c| {
                let Expr::Binary(BinaryOp::Eq, a, b) = c else {
                    return None;
                };
                let (Expr::Column(x), Expr::Column(y)) = (a.as_ref(), b.as_ref()) else {
                    return None;
                };
                let (l, r) = if *x < lw && *y >= lw {
                    (*x, *y)
                } else if *y < lw && *x >= lw {
                    (*y, *x)
                } else {
                    return None;
                };
                let access = accesses_for(catalog, *table, r - lw).first().copied()?;
                Some((Expr::Column(l), access))
            })
        }
        _ => None,
    };
    match (probe, *right) {
        (
            Some((key, access)),
            Plan::Scan {
                table,
                name,
                width,
                filter,
            },
        ) => {
            let mut all = on.conjuncts();
            if let Some(f) = filter {
                all.push(f.transform(&mut |e| match e {
                    Expr::Column(i) => Expr::Column(i + lw),
                    other => other,
                }));
            }
            Ok(Plan::IndexJoin {
                left,
                table,
                name,
                width,
                access,
                key,
                kind,
                on: Expr::and_all(all),
            })
        }
        (_, right) => Err((left, Box::new(right), on)),
    }
}
