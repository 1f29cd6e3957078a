//! The executor: runs a [`Plan`] against one immutable [`State`] and returns its rows.
//!
//! Operators materialise their output (`Vec<Row>`): the tables zqlite serves from memory are
//! already in memory, and materialising keeps each operator a short function.
//! - `eval.rs`: expressions and subqueries;
//! - `aggregate.rs`: grouping and aggregate functions;
//! - `window.rs`: window functions;
//! - this file: scans, index scans, joins, sort, limit, distinct and set operations.
//!
//! Invariant: the executor never changes the state; DML (`crate::dml`) computes its changes
//! with the executor, then applies them to the transaction.

mod aggregate;
mod eval;
mod window;

pub(crate) use eval::like;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use zqlite_projections::value::{DataType, Value, cmp_total};
use zqlite_projections::{Change, IndexColumn, RowEntry, Sequences, State, Store, TableData};

use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::index_expr::bound;
use crate::optimizer::column_comparison;
use crate::plan::{Access, JoinKind, KeyRange, Plan, SetOpKind, SortKey};
use crate::result_cache::ResultCache;
use crate::set_functions;
use crate::system::{Constraint, SystemContext, SystemRelation};

pub(crate) use eval::internal;

/// A row of values.
pub type Row = Vec<Value>;

/// A table row with its primary key (or row id).
pub(crate) type KeyedRow = (Vec<Value>, Row);

/// Execution context of one statement.
#[derive(Debug)]
pub struct Exec<'a> {
    pub state: &'a State,
    pub params: &'a [Value],
    /// Rows of enclosing queries, innermost last (for correlated subqueries).
    pub outer: Vec<Row>,
    cache: HashMap<usize, Rc<Vec<Row>>>,
    /// Set from another thread to stop the statement (a client's cancel request).
    interrupt: Option<Arc<AtomicBool>>,
    /// Rows visited since the last look at `interrupt`.
    ticks: u32,
    /// The store behind `state`, for system relations that read the log.
    store: Option<&'a Store>,
    /// The rows of each running `WITH RECURSIVE` round's work table, by id.
    work_tables: HashMap<usize, Vec<Row>>,
    /// The session's sequences, for `nextval` and friends (absent: they fail).
    sequences: Option<Sequences>,
    /// What the statement's sequence calls changed, for the caller to log.
    sequence_changes: Vec<Change>,
    /// The database's result cache, which `zq_query_cache` describes.
    query_cache: Option<&'a ResultCache>,
}

/// How many rows the executor visits between two looks at the interrupt flag.
const INTERRUPT_EVERY: u32 = 4096;

/// A stored row and its key, as a scan visits them.
type Entry<'d> = (&'d [Value], &'d RowEntry);

/// The rows of `data` found through `access` for a leading-column range, with their keys.
fn lookup<'d>(
    data: &'d TableData,
    access: Access,
    index_width: usize,
    range: &ResolvedRange,
) -> Box<dyn Iterator<Item = Entry<'d>> + 'd> {
    let (lo, hi) = match range {
        ResolvedRange::Empty => return Box::new(std::iter::empty()),
        ResolvedRange::Eq(v) => (Some(v), Some(v)),
        ResolvedRange::Range(lo, hi) => (lo.as_ref(), hi.as_ref()),
    };
    let lo_key: Option<[Value; 1]> = lo.map(|v| [v.clone()]);
    let lower = match &lo_key {
        Some(k) => Bound::Included(k.as_slice()),
        None => Bound::Unbounded,
    };
    let hi = hi.cloned();
    let within = move |first: &Value| {
        hi.as_ref()
            .is_none_or(|h| cmp_total(first, h) != Ordering::Greater)
    };
    match access {
        Access::PrimaryKey => Box::new(
            data.range(lower, Bound::Unbounded)
                .take_while(move |(k, _)| within(&k[0]))
                .map(|(k, e)| (&k[..], e)),
        ),
        Access::Index(pos) => Box::new(
            data.index_range(pos, lower, Bound::Unbounded)
                .take_while(move |entry| within(&entry[0]))
                .filter_map(move |entry| {
                    let key = &entry[index_width..];
                    data.get(key).map(|e| (key, e))
                }),
        ),
    }
}

/// Whether `v` orders like the values of a column of type `ty` (same family), so it can
/// be looked up in that column's index.
fn probe_compatible(ty: DataType, v: &Value) -> bool {
    use DataType as T;
    let exact = |t: DataType| matches!(t, T::Int2 | T::Int4 | T::Int8 | T::Numeric(_));
    let float = |t: DataType| matches!(t, T::Float4 | T::Float8);
    let base = |t: DataType| match t.without_modifier() {
        T::Varchar(_) => T::Text,
        other => other,
    };
    match v.data_type() {
        None => true,
        Some(vt) => (exact(ty) && exact(vt)) || (float(ty) && float(vt)) || base(ty) == base(vt),
    }
}

/// A WHERE/ON with a constant NULL or false conjunct selects nothing; PostgreSQL's planner
/// then skips its input entirely (so errors that evaluating the input would raise do not
/// happen).
fn false_qual(e: &Expr) -> bool {
    match e {
        Expr::And(a, b) => false_qual(a) || false_qual(b),
        Expr::Literal(Value::Null | Value::Bool(false)) => true,
        _ => false,
    }
}

enum ResolvedRange {
    Empty,
    Eq(Value),
    Range(Option<Value>, Option<Value>),
}

impl<'a> Exec<'a> {
    pub fn new(state: &'a State, params: &'a [Value]) -> Exec<'a> {
        Exec {
            state,
            params,
            outer: Vec::new(),
            cache: HashMap::new(),
            interrupt: None,
            ticks: 0,
            store: None,
            work_tables: HashMap::new(),
            sequences: None,
            sequence_changes: Vec::new(),
            query_cache: None,
        }
    }

    /// Lets `zq_query_cache` describe `cache`.
    pub fn with_query_cache(mut self, cache: &'a ResultCache) -> Exec<'a> {
        self.query_cache = Some(cache);
        self
    }

    /// Lets the statement call `nextval`, `currval`, `setval` and `lastval`.
    pub fn with_sequences(mut self, sequences: Sequences) -> Exec<'a> {
        self.sequences = Some(sequences);
        self
    }

    /// The sequence changes the statement's calls made so far (emptied): the caller logs
    /// them, whether or not the statement succeeds.
    pub fn take_sequence_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.sequence_changes)
    }

    /// Lets system relations read the log of the store `state` was taken from.
    pub fn with_store(mut self, store: &'a Store) -> Exec<'a> {
        self.store = Some(store);
        self
    }

    /// Stops with SQLSTATE 57014 once `flag` is set (checked every few thousand rows).
    pub fn with_interrupt(mut self, flag: Arc<AtomicBool>) -> Exec<'a> {
        self.interrupt = Some(flag);
        self
    }

    /// Counts a visited row; fails when the statement was cancelled.
    fn tick(&mut self) -> Result<()> {
        self.tick_by(1)
    }

    /// Counts `rows` visited rows (at least one); fails when the statement was cancelled.
    fn tick_by(&mut self, rows: usize) -> Result<()> {
        let rows = u32::try_from(rows).unwrap_or(u32::MAX).max(1);
        self.ticks = self.ticks.saturating_add(rows);
        if self.ticks < INTERRUPT_EVERY {
            return Ok(());
        }
        self.ticks = 0;
        match &self.interrupt {
            Some(flag) if flag.load(AtomicOrdering::Relaxed) => Err(Error::Runtime {
                sqlstate: "57014",
                message: "canceling statement due to user request".into(),
            }),
            _ => Ok(()),
        }
    }

    fn table(&self, table: u64, name: &str) -> Result<&'a TableData> {
        self.state
            .table_data(table)
            .ok_or_else(|| Error::bind("42P01", format!("relation \"{name}\" does not exist")))
    }

    fn index_width(&self, table: u64, access: Access) -> usize {
        match access {
            Access::PrimaryKey => 0,
            Access::Index(pos) => self
                .state
                .catalog()
                .table(table)
                .map_or(0, |d| d.indexes[pos].columns.len()),
        }
    }

    /// The type of the leading column of `access` (for an index expression, its type).
    fn leading_type(&self, table: u64, access: Access) -> Option<DataType> {
        let def = self.state.catalog().table(table)?;
        let col = match access {
            Access::PrimaryKey => *def.primary_key.as_ref()?.first()?,
            Access::Index(pos) => {
                let first = def.indexes.get(pos)?.columns.first()?;
                match first {
                    IndexColumn::Column(c) => *c,
                    IndexColumn::Expression(_) => return Some(bound(def, first)?.ty),
                }
            }
        };
        Some(def.columns[col].data_type)
    }

    /// Rows for `range`, or every row when a bound's type family differs from the column's.
    fn probe<'d>(
        &self,
        data: &'d TableData,
        table: u64,
        access: Access,
        range: &ResolvedRange,
    ) -> Box<dyn Iterator<Item = Entry<'d>> + 'd> {
        let ty = self.leading_type(table, access);
        let ok = |v: &Option<Value>| match (ty, v) {
            (Some(t), Some(v)) => probe_compatible(t, v),
            (None, Some(_)) => false,
            (_, None) => true,
        };
        let compatible = match range {
            ResolvedRange::Empty => true,
            ResolvedRange::Eq(v) => ok(&Some(v.clone())),
            ResolvedRange::Range(lo, hi) => ok(lo) && ok(hi),
        };
        if compatible {
            lookup(data, access, self.index_width(table, access), range)
        } else {
            Box::new(data.scan().map(|(k, e)| (&k[..], e)))
        }
    }

    fn resolve_range(&mut self, range: &KeyRange) -> Result<ResolvedRange> {
        Ok(match range {
            KeyRange::Eq(e) => match self.eval(e, &[])? {
                Value::Null => ResolvedRange::Empty,
                v => ResolvedRange::Eq(v),
            },
            KeyRange::Range { lower, upper } => {
                let lo = lower.as_ref().map(|e| self.eval(e, &[])).transpose()?;
                let hi = upper.as_ref().map(|e| self.eval(e, &[])).transpose()?;
                if lo.as_ref().is_some_and(Value::is_null)
                    || hi.as_ref().is_some_and(Value::is_null)
                {
                    ResolvedRange::Empty
                } else {
                    ResolvedRange::Range(lo, hi)
                }
            }
        })
    }

    /// The rows of a scan or index scan that pass its filter, each made by `out` from its
    /// key and a copy of the row; `None` for any other plan.
    fn table_rows<T>(
        &mut self,
        plan: &Plan,
        out: impl Fn(&[Value], Row) -> T,
    ) -> Result<Option<Vec<T>>> {
        let (entries, filter): (Box<dyn Iterator<Item = Entry<'a>> + 'a>, _) = match plan {
            Plan::Scan {
                table,
                name,
                filter,
                ..
            } => {
                let data = self.table(*table, name)?;
                (Box::new(data.scan().map(|(k, e)| (&k[..], e))), filter)
            }
            Plan::IndexScan {
                table,
                name,
                access,
                range,
                filter,
                ..
            } => {
                let data = self.table(*table, name)?;
                let range = self.resolve_range(range)?;
                (self.probe(data, *table, *access, &range), filter)
            }
            _ => return Ok(None),
        };
        let mut rows = Vec::new();
        for (key, entry) in entries {
            self.tick()?;
            if let Some(f) = filter
                && !self.test(f, &entry.row)?
            {
                continue;
            }
            rows.push(out(key, entry.row.to_vec()));
        }
        Ok(Some(rows))
    }

    /// The rows of a system relation that pass `filter`.
    fn system_rows(
        &mut self,
        relation: &SystemRelation,
        args: &[Expr],
        filter: Option<&Expr>,
        ordinality: bool,
    ) -> Result<Vec<Row>> {
        let args = args
            .iter()
            .map(|a| self.eval(a, &[]))
            .collect::<Result<Vec<_>>>()?;
        let mut constraints = Vec::new();
        for conjunct in filter.map(|f| f.clone().conjuncts()).unwrap_or_default() {
            if let Some((column, op, value)) = column_comparison(&conjunct) {
                let value = self.eval(&value, &[])?;
                if !value.is_null() {
                    constraints.push(Constraint { column, op, value });
                }
            }
        }
        let ctx = SystemContext {
            state: self.state,
            store: self.store,
            constraints: &constraints,
            query_cache: self.query_cache,
        };
        let mut rows = (relation.rows)(&ctx, &args)?;
        if ordinality {
            for (i, row) in rows.iter_mut().enumerate() {
                row.push(Value::Int8(i64::try_from(i + 1).unwrap_or(i64::MAX)));
            }
        }
        let Some(f) = filter else {
            return Ok(rows);
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            self.tick()?;
            if self.test(f, &row)? {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Runs a scan or index scan of one table, returning each row with its key (UPDATE and
    /// DELETE use it to find their target rows). `None` for any other plan.
    pub(crate) fn run_keyed(&mut self, plan: &Plan) -> Result<Option<Vec<KeyedRow>>> {
        self.table_rows(plan, |key, row| (key.to_vec(), row))
    }

    /// Runs a plan to completion.
    pub fn run(&mut self, plan: &Plan) -> Result<Vec<Row>> {
        match plan {
            Plan::Values { rows, .. } => {
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let mut row = Vec::with_capacity(r.len());
                    for e in r {
                        row.push(self.eval(e, &[])?);
                    }
                    out.push(row);
                }
                Ok(out)
            }
            Plan::Scan {
                filter: Some(f), ..
            }
            | Plan::IndexScan {
                filter: Some(f), ..
            } if false_qual(f) => Ok(Vec::new()),
            Plan::Filter { predicate, .. } if false_qual(predicate) => Ok(Vec::new()),
            Plan::Scan { .. } | Plan::IndexScan { .. } => {
                Ok(self.table_rows(plan, |_, row| row)?.unwrap_or_default())
            }
            Plan::SystemScan {
                relation,
                args,
                filter,
                ordinality,
            } => self.system_rows(relation, args, filter.as_ref(), *ordinality),
            Plan::Filter { input, predicate } => {
                let rows = self.run(input)?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    if self.test(predicate, &row)? {
                        out.push(row);
                    }
                }
                Ok(out)
            }
            Plan::Project { input, exprs } => {
                let rows = self.run(input)?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    self.tick()?;
                    let mut r = Vec::with_capacity(exprs.len());
                    for e in exprs {
                        r.push(self.eval(e, &row)?);
                    }
                    out.push(r);
                }
                Ok(out)
            }
            Plan::NestedLoopJoin {
                left,
                right,
                kind,
                on,
            } => {
                let l = self.run(left)?;
                let r = self.run(right)?;
                self.nested_loop(l, r, left.width(), right.width(), *kind, on)
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
            } => {
                let l = self.run(left)?;
                let data = self.table(*table, name)?;
                let mut out = Vec::new();
                for lrow in l {
                    let range = match self.eval(key, &lrow)? {
                        Value::Null => ResolvedRange::Empty,
                        v => ResolvedRange::Eq(v),
                    };
                    let mut matched = false;
                    for (_, r) in self.probe(data, *table, *access, &range) {
                        let mut row = lrow.clone();
                        row.extend(r.row.iter().cloned());
                        if let Some(on) = on
                            && !self.test(on, &row)?
                        {
                            continue;
                        }
                        matched = true;
                        out.push(row);
                    }
                    if !matched && *kind == JoinKind::Left {
                        let mut row = lrow;
                        row.extend(std::iter::repeat_n(Value::Null, *width));
                        out.push(row);
                    }
                }
                Ok(out)
            }
            Plan::Aggregate {
                input,
                group_by,
                aggs,
            } => {
                let rows = self.run(input)?;
                self.aggregate(rows, group_by, aggs)
            }
            Plan::GroupingSets {
                input,
                group_by,
                aggs,
                sets,
            } => {
                let rows = self.run(input)?;
                let mut out = Vec::new();
                for (index, set) in sets.iter().enumerate() {
                    let keys: Vec<Expr> = set.iter().map(|&k| group_by[k].clone()).collect();
                    for grouped in self.aggregate(rows.clone(), &keys, aggs)? {
                        let mut row = vec![Value::Null; group_by.len()];
                        for (pos, &k) in set.iter().enumerate() {
                            row[k] = grouped[pos].clone();
                        }
                        row.extend(grouped[set.len()..].iter().cloned());
                        row.push(Value::Int4(index as i32));
                        out.push(row);
                    }
                }
                Ok(out)
            }
            Plan::Window { input, calls } => {
                let rows = self.run(input)?;
                self.window(rows, calls)
            }
            Plan::Sort { input, keys } => {
                let rows = self.run(input)?;
                self.sort(rows, keys)
            }
            Plan::Limit {
                input,
                limit,
                offset,
            } => {
                let count = |ex: &mut Self,
                             e: &Option<Expr>,
                             what: &str|
                 -> Result<Option<usize>> {
                    let Some(e) = e else { return Ok(None) };
                    match ex.eval(e, &[])? {
                        Value::Null => Ok(None),
                        Value::Int8(n) if n >= 0 => Ok(Some(n as usize)),
                        // PostgreSQL's codes: invalid row count in LIMIT / in result offset.
                        Value::Int8(_) => Err(Error::Runtime {
                            sqlstate: if what == "OFFSET" { "2201X" } else { "2201W" },
                            message: format!("{what} must not be negative"),
                        }),
                        other => Err(internal(&format!("{what} of type {:?}", other.data_type()))),
                    }
                };
                let limit = count(self, limit, "LIMIT")?;
                let offset = count(self, offset, "OFFSET")?.unwrap_or(0);
                let rows = self.run(input)?;
                Ok(rows
                    .into_iter()
                    .skip(offset)
                    .take(limit.unwrap_or(usize::MAX))
                    .collect())
            }
            Plan::Distinct { input } => {
                let rows = self.run(input)?;
                Ok(distinct(rows))
            }
            Plan::SetOp {
                left,
                right,
                kind,
                all,
            } => {
                let l = self.run(left)?;
                let r = self.run(right)?;
                Ok(set_op(l, r, *kind, *all))
            }
            Plan::RecursiveUnion {
                anchor,
                recursive,
                work_table,
                all,
            } => self.recursive_union(anchor, recursive, *work_table, *all),
            Plan::WorkTable { id, .. } => Ok(self.work_tables.get(id).cloned().unwrap_or_default()),
            Plan::FunctionScan {
                func,
                args,
                ordinality,
                ..
            } => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a, &[])?);
                }
                let mut rows = set_functions::rows(*func, &values)?;
                self.tick_by(rows.len())?;
                if *ordinality {
                    for (i, row) in rows.iter_mut().enumerate() {
                        row.push(Value::Int8(i as i64 + 1));
                    }
                }
                Ok(rows)
            }
            Plan::ProjectSet { input, calls } => {
                let rows = self.run(input)?;
                let mut out = Vec::new();
                for row in rows {
                    let mut results = Vec::with_capacity(calls.len());
                    for (func, args) in calls {
                        let mut values = Vec::with_capacity(args.len());
                        for a in args {
                            values.push(self.eval(a, &row)?);
                        }
                        results.push(set_functions::rows(*func, &values)?);
                    }
                    let longest = results.iter().map(Vec::len).max().unwrap_or(0);
                    self.tick_by(longest)?;
                    for i in 0..longest {
                        let mut joined = row.clone();
                        for r in &results {
                            joined.push(
                                r.get(i)
                                    .and_then(|r| r.first())
                                    .cloned()
                                    .unwrap_or(Value::Null),
                            );
                        }
                        out.push(joined);
                    }
                }
                Ok(out)
            }
            Plan::Lateral {
                left,
                right,
                kind,
                on,
            } => {
                let left_rows = self.run(left)?;
                let right_width = right.width();
                let mut out = Vec::new();
                for l in left_rows {
                    self.outer.push(l.clone());
                    let right_rows = self.run(right);
                    self.outer.pop();
                    let mut matched = false;
                    for r in right_rows? {
                        let mut joined = l.clone();
                        joined.extend(r);
                        if let Some(on) = on
                            && !self.test(on, &joined)?
                        {
                            continue;
                        }
                        matched = true;
                        out.push(joined);
                    }
                    if !matched && *kind == JoinKind::Left {
                        let mut joined = l;
                        joined.extend(std::iter::repeat_n(Value::Null, right_width));
                        out.push(joined);
                    }
                    self.tick()?;
                }
                Ok(out)
            }
            Plan::DistinctOn { input, columns } => {
                let rows = self.run(input)?;
                let mut out: Vec<Row> = Vec::new();
                for row in rows {
                    let same = out.last().is_some_and(|prev| {
                        columns
                            .iter()
                            .all(|&c| cmp_total(&prev[c], &row[c]) == Ordering::Equal)
                    });
                    if !same {
                        out.push(row);
                    }
                }
                Ok(out)
            }
        }
    }

    /// Runs `anchor`, then `recursive` over the rows the last round added until a round
    /// adds none. Without `all`, a row equal to one already produced is not added.
    fn recursive_union(
        &mut self,
        anchor: &Plan,
        recursive: &Plan,
        work_table: usize,
        all: bool,
    ) -> Result<Vec<Row>> {
        let mut seen: HashSet<Row> = HashSet::new();
        let keep_new = |rows: Vec<Row>, seen: &mut HashSet<Row>| -> Vec<Row> {
            if all {
                rows
            } else {
                rows.into_iter()
                    .filter(|r| seen.insert(r.clone()))
                    .collect()
            }
        };
        let mut added = keep_new(self.run(anchor)?, &mut seen);
        let mut out = Vec::new();
        while !added.is_empty() {
            out.extend(added.iter().cloned());
            self.work_tables.insert(work_table, added);
            let next = self.run(recursive);
            self.work_tables.remove(&work_table);
            added = keep_new(next?, &mut seen);
            self.tick_by(added.len())?;
        }
        Ok(out)
    }

    fn nested_loop(
        &mut self,
        l: Vec<Row>,
        r: Vec<Row>,
        lw: usize,
        rw: usize,
        kind: JoinKind,
        on: &Option<Expr>,
    ) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        let mut right_matched = vec![false; r.len()];
        for lrow in &l {
            let mut matched = false;
            for (i, rrow) in r.iter().enumerate() {
                self.tick()?;
                let mut row = Vec::with_capacity(lw + rw);
                row.extend_from_slice(lrow);
                row.extend_from_slice(rrow);
                if let Some(on) = on
                    && !self.test(on, &row)?
                {
                    continue;
                }
                matched = true;
                right_matched[i] = true;
                out.push(row);
            }
            if !matched && matches!(kind, JoinKind::Left | JoinKind::Full) {
                let mut row = lrow.clone();
                row.extend(std::iter::repeat_n(Value::Null, rw));
                out.push(row);
            }
        }
        if matches!(kind, JoinKind::Right | JoinKind::Full) {
            for (i, rrow) in r.into_iter().enumerate() {
                if !right_matched[i] {
                    let mut row: Row = std::iter::repeat_n(Value::Null, lw).collect();
                    row.extend(rrow);
                    out.push(row);
                }
            }
        }
        Ok(out)
    }

    fn sort(&mut self, rows: Vec<Row>, keys: &[SortKey]) -> Result<Vec<Row>> {
        let mut keyed = Vec::with_capacity(rows.len());
        for row in rows {
            let mut k = Vec::with_capacity(keys.len());
            for key in keys {
                k.push(self.eval(&key.expr, &row)?);
            }
            keyed.push((k, row));
        }
        keyed.sort_by(|(a, _), (b, _)| compare_sort_keys(keys, a, b));
        Ok(keyed.into_iter().map(|(_, r)| r).collect())
    }
}

/// Orders two rows of evaluated sort keys as ORDER BY `keys` does (direction and NULLS
/// FIRST/LAST per key).
pub(super) fn compare_sort_keys(keys: &[SortKey], a: &[Value], b: &[Value]) -> Ordering {
    for (i, key) in keys.iter().enumerate() {
        let (x, y) = (&a[i], &b[i]);
        let ord = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if key.nulls_first => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, true) if key.nulls_first => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => {
                let o = cmp_total(x, y);
                if key.desc { o.reverse() } else { o }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

fn distinct(rows: Vec<Row>) -> Vec<Row> {
    let mut seen = HashSet::new();
    rows.into_iter()
        .filter(|r| seen.insert(r.clone()))
        .collect()
}

fn set_op(l: Vec<Row>, r: Vec<Row>, kind: SetOpKind, all: bool) -> Vec<Row> {
    match (kind, all) {
        (SetOpKind::Union, true) => l.into_iter().chain(r).collect(),
        (SetOpKind::Union, false) => distinct(l.into_iter().chain(r).collect()),
        (_, false) => {
            let right: HashSet<Row> = r.into_iter().collect();
            let keep = kind == SetOpKind::Intersect;
            distinct(
                l.into_iter()
                    .filter(|row| right.contains(row) == keep)
                    .collect(),
            )
        }
        (_, true) => {
            let mut counts: HashMap<Row, usize> = HashMap::new();
            for row in r {
                *counts.entry(row).or_default() += 1;
            }
            let mut out = Vec::new();
            for row in l {
                let c = counts.entry(row.clone()).or_default();
                let present = *c > 0;
                if present {
                    *c -= 1;
                }
                if present == (kind == SetOpKind::Intersect) {
                    out.push(row);
                }
            }
            out
        }
    }
}
