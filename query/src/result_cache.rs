//! The query result cache: answers of read-only queries, served again while nothing they
//! read has changed.
//!
//! - Key: the statement's SQL text and its parameter values (with their types).
//! - Entry: the answer (columns and rows) and what it was computed from: the catalog version
//!   and the version of every table the plan reads ([`State::table_version`], the LSN of
//!   the table's last change).
//! - A lookup serves an entry only when the reading state has the same catalog version and
//!   the same version of each of those tables. A commit that changes one of them gives it a
//!   new version, so the entry is never served again (it is dropped when next looked up);
//!   commits to other tables leave it valid. Stale answers are impossible by construction,
//!   not by timing.
//! - Only plans whose answer depends on nothing else are cached ([`read_set`]): no system
//!   relation (they read the log, the catalog or settings), and no function of the clock,
//!   of chance, of sequences or of the state's LSN.
//! - Bounded: entries are charged an estimate of their size; beyond the capacity the least
//!   recently used go. An answer larger than a quarter of the capacity is not kept. Capacity
//!   0 turns the cache off (the default).
//! - The session consults it only for queries on the latest committed state (no open
//!   transaction block, no `zq.as_of`); hit and miss counts are in `zq_query_cache`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use zqlite_projections::catalog::TableId;
use zqlite_projections::value::Value;
use zqlite_projections::{Lsn, State};

use crate::exec::Row;
use crate::expr::Expr;
use crate::functions::Func;
use crate::plan::{AggCall, FrameBound, Plan, SortKey};
use crate::result::Column;

/// A bounded cache of query answers, shared by the sessions of a database.
#[derive(Debug, Default)]
pub struct ResultCache {
    capacity: AtomicUsize,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    evictions: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    /// Entries by last use (a counter), least recent first.
    by_use: BTreeMap<u64, Key>,
    clock: u64,
    bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    sql: String,
    params: String,
}

#[derive(Debug)]
struct Entry {
    catalog_version: u64,
    tables: Vec<(TableId, Option<Lsn>)>,
    columns: Vec<Column>,
    rows: Arc<Vec<Row>>,
    bytes: usize,
    used: u64,
}

/// Counters and size of a [`ResultCache`], as `zq_query_cache` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub capacity_bytes: usize,
    pub used_bytes: usize,
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
    pub invalidations: u64,
    pub evictions: u64,
}

fn key(sql: &str, params: &[Value]) -> Key {
    Key {
        sql: sql.to_string(),
        // Debug output names each value's type, so `1::int` and `1::bigint` differ.
        params: format!("{params:?}"),
    }
}

/// A rough count of the bytes an answer holds.
fn answer_bytes(sql: &str, rows: &[Row]) -> usize {
    let values: usize = rows
        .iter()
        .flatten()
        .map(|v| {
            std::mem::size_of::<Value>()
                + match v {
                    Value::Text(s) | Value::BpChar(s) | Value::Json(s) => s.len(),
                    Value::Bytea(b) => b.len(),
                    Value::Jsonb(_) | Value::Array(_) | Value::Numeric(_) => 64,
                    _ => 0,
                }
        })
        .sum();
    values + std::mem::size_of_val(rows) + sql.len() + 256
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inner {
    fn remove(&mut self, key: &Key) {
        if let Some(e) = self.entries.remove(key) {
            self.by_use.remove(&e.used);
            self.bytes -= e.bytes;
        }
    }
}

impl ResultCache {
    /// A cache holding up to about `capacity_bytes` of answers (0: off).
    pub fn new(capacity_bytes: usize) -> ResultCache {
        let cache = ResultCache::default();
        cache.capacity.store(capacity_bytes, Ordering::Relaxed);
        cache
    }

    pub fn enabled(&self) -> bool {
        self.capacity.load(Ordering::Relaxed) > 0
    }

    /// Changes the capacity, evicting what no longer fits (0 empties and turns it off).
    pub fn set_capacity(&self, capacity_bytes: usize) {
        self.capacity.store(capacity_bytes, Ordering::Relaxed);
        let mut inner = lock(&self.inner);
        self.evict(&mut inner, capacity_bytes);
    }

    fn evict(&self, inner: &mut Inner, capacity: usize) {
        while inner.bytes > capacity {
            let Some((_, key)) = inner.by_use.pop_first() else {
                break;
            };
            if let Some(e) = inner.entries.remove(&key) {
                inner.bytes -= e.bytes;
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The answer to `sql` with `params` on `state`, if one computed from the same versions
    /// of everything it read is cached.
    pub(crate) fn get(
        &self,
        sql: &str,
        params: &[Value],
        state: &State,
    ) -> Option<(Vec<Column>, Arc<Vec<Row>>)> {
        let key = key(sql, params);
        let mut inner = lock(&self.inner);
        let Some(entry) = inner.entries.get(&key) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let current = entry.catalog_version == state.catalog().version()
            && entry
                .tables
                .iter()
                .all(|(id, version)| state.table_version(*id) == *version);
        if !current {
            inner.remove(&key);
            self.invalidations.fetch_add(1, Ordering::Relaxed);
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let answer = (entry.columns.clone(), entry.rows.clone());
        let old = entry.used;
        inner.clock += 1;
        let used = inner.clock;
        inner.by_use.remove(&old);
        inner.by_use.insert(used, key.clone());
        if let Some(e) = inner.entries.get_mut(&key) {
            e.used = used;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(answer)
    }

    /// Keeps the answer to `sql` with `params`, computed on `state` by a plan reading
    /// `tables` (see [`read_set`]).
    pub(crate) fn put(
        &self,
        sql: &str,
        params: &[Value],
        state: &State,
        tables: &[TableId],
        columns: &[Column],
        rows: &[Row],
    ) {
        let capacity = self.capacity.load(Ordering::Relaxed);
        let bytes = answer_bytes(sql, rows);
        if bytes > capacity / 4 {
            return;
        }
        let entry_tables = tables
            .iter()
            .map(|&id| (id, state.table_version(id)))
            .collect();
        let key = key(sql, params);
        let mut inner = lock(&self.inner);
        inner.remove(&key);
        inner.clock += 1;
        let used = inner.clock;
        inner.by_use.insert(used, key.clone());
        inner.bytes += bytes;
        inner.entries.insert(
            key,
            Entry {
                catalog_version: state.catalog().version(),
                tables: entry_tables,
                columns: columns.to_vec(),
                rows: Arc::new(rows.to_vec()),
                bytes,
                used,
            },
        );
        self.evict(&mut inner, capacity);
    }

    pub fn stats(&self) -> CacheStats {
        let inner = lock(&self.inner);
        CacheStats {
            capacity_bytes: self.capacity.load(Ordering::Relaxed),
            used_bytes: inner.bytes,
            entries: inner.entries.len(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }
}

/// The tables `plan` reads, or None when its answer may depend on more than their rows
/// (a system relation, the clock, chance, a sequence, the state's LSN).
pub(crate) fn read_set(plan: &Plan) -> Option<Vec<TableId>> {
    let mut tables = Vec::new();
    if !visit_plan(plan, &mut tables) {
        return None;
    }
    tables.sort_unstable();
    tables.dedup();
    Some(tables)
}

/// Whether a function's value depends only on its arguments and the catalog.
fn deterministic(f: &Func) -> bool {
    !f.is_volatile()
        && !matches!(
            f,
            Func::Now
                | Func::ClockTimestamp
                | Func::CurrentDate
                | Func::LocalTimestamp
                | Func::CurrentLsn
                | Func::Catalog(_)
        )
}

fn visit_expr(e: &Expr, tables: &mut Vec<TableId>) -> bool {
    let mut ok = true;
    e.walk(&mut |node| match node {
        Expr::Function(f, _) if !deterministic(f) => ok = false,
        // `walk` visits the operand of IN itself, not the plan.
        Expr::Subquery(s) => ok &= visit_plan(&s.plan, tables),
        _ => {}
    });
    ok
}

fn visit_exprs<'e>(exprs: impl IntoIterator<Item = &'e Expr>, tables: &mut Vec<TableId>) -> bool {
    exprs.into_iter().all(|e| visit_expr(e, tables))
}

fn visit_keys(keys: &[SortKey], tables: &mut Vec<TableId>) -> bool {
    visit_exprs(keys.iter().map(|k| &k.expr), tables)
}

fn visit_agg(a: &AggCall, tables: &mut Vec<TableId>) -> bool {
    visit_exprs(a.arg.iter().chain(&a.extra).chain(&a.filter), tables)
        && visit_keys(&a.order_by, tables)
}

fn visit_plan(plan: &Plan, tables: &mut Vec<TableId>) -> bool {
    match plan {
        Plan::Values { rows, .. } => visit_exprs(rows.iter().flatten(), tables),
        Plan::Scan { table, filter, .. } | Plan::IndexScan { table, filter, .. } => {
            tables.push(*table);
            visit_exprs(filter, tables)
        }
        Plan::SystemScan { .. } => false,
        Plan::Filter { input, predicate } => {
            visit_plan(input, tables) && visit_expr(predicate, tables)
        }
        Plan::Project { input, exprs } => visit_plan(input, tables) && visit_exprs(exprs, tables),
        Plan::NestedLoopJoin {
            left, right, on, ..
        }
        | Plan::Lateral {
            left, right, on, ..
        } => visit_plan(left, tables) && visit_plan(right, tables) && visit_exprs(on, tables),
        Plan::IndexJoin {
            left,
            table,
            key,
            on,
            ..
        } => {
            tables.push(*table);
            visit_plan(left, tables) && visit_expr(key, tables) && visit_exprs(on, tables)
        }
        Plan::Aggregate {
            input,
            group_by,
            aggs,
        }
        | Plan::GroupingSets {
            input,
            group_by,
            aggs,
            ..
        } => {
            visit_plan(input, tables)
                && visit_exprs(group_by, tables)
                && aggs.iter().all(|a| visit_agg(a, tables))
        }
        Plan::Window { input, calls } => {
            visit_plan(input, tables)
                && calls.iter().all(|c| {
                    visit_exprs(c.args.iter().chain(&c.partition_by), tables)
                        && visit_keys(&c.order_by, tables)
                        && c.agg.as_ref().is_none_or(|a| visit_agg(a, tables))
                        && visit_frame(c, tables)
                })
        }
        Plan::Sort { input, keys } => visit_plan(input, tables) && visit_keys(keys, tables),
        Plan::Limit {
            input,
            limit,
            offset,
        } => visit_plan(input, tables) && visit_exprs(limit.iter().chain(offset), tables),
        Plan::Distinct { input } | Plan::DistinctOn { input, .. } => visit_plan(input, tables),
        Plan::SetOp { left, right, .. } => visit_plan(left, tables) && visit_plan(right, tables),
        Plan::RecursiveUnion {
            anchor, recursive, ..
        } => visit_plan(anchor, tables) && visit_plan(recursive, tables),
        Plan::FunctionScan { args, .. } => visit_exprs(args, tables),
        Plan::ProjectSet { input, calls } => {
            visit_plan(input, tables) && calls.iter().all(|(_, args)| visit_exprs(args, tables))
        }
        Plan::WorkTable { .. } => true,
    }
}

/// Frame offsets are expressions too (`ROWS BETWEEN $1 PRECEDING ...`).
fn visit_frame(call: &crate::plan::WindowCall, tables: &mut Vec<TableId>) -> bool {
    [&call.frame.start, &call.frame.end]
        .into_iter()
        .all(|b| match b {
            FrameBound::Preceding(e) | FrameBound::Following(e) => visit_expr(e, tables),
            _ => true,
        })
}
