//! Window functions: the [`Plan::Window`](crate::plan::Plan::Window) node.
//!
//! Calls with the same PARTITION BY and ORDER BY share one sort. For each such set:
//! 1. every input row's partition and ordering keys are evaluated once;
//! 2. row indexes are sorted by partition keys (ascending, NULLs equal and last), then by
//!    the ordering keys; the sort is stable, so peers keep their input order;
//! 3. each partition (a run of equal partition keys) is evaluated once, in that order, for
//!    every call of the set. Peer groups are runs of equal ordering keys; without ORDER BY
//!    the whole partition is one peer group.
//!
//! Invariants:
//! - Output: every input row exactly once, followed by one value per call (in `calls`
//!   order). Rows come out in the sort order of the last set of calls, like PostgreSQL's
//!   output without an ORDER BY.
//! - A frame is the range `[start, end)` of partition positions minus its exclusion (at
//!   most three contiguous segments). Ranking functions, `ntile` and `lag`/`lead` ignore
//!   the frame, as in PostgreSQL.
//! - A frame that starts at the partition's first row and excludes nothing only grows from
//!   one row to the next: its aggregate state is fed each row once (linear in the partition;
//!   the default frame is such a frame). Other frames are recomputed from their rows, except
//!   that a row whose frame equals the previous row's (peers, whole-partition frames)
//!   reuses its value.
//! - Frame offsets are evaluated once per statement, even without input rows: NULL is 22004 and a negative offset
//!   22013, as in PostgreSQL. RANGE offsets are added to and subtracted from the single
//!   ordering key with the value layer's operators; an overflow puts the bound past every
//!   row.

use std::cmp::Ordering;

use zqlite_projections::value::{
    BinaryOp, DataType, Value, binary_op, cmp_total, parse_value, sql_cmp,
};

use super::aggregate::AggState;
use super::{Exec, Row, compare_sort_keys};
use crate::error::{Error, Result};
use crate::plan::{FrameBound, FrameExclusion, FrameUnits, SortKey, WindowCall, WindowFunc};

/// A frame bound with its offset evaluated.
#[derive(Debug, Clone)]
enum Edge {
    UnboundedPreceding,
    Preceding(Value),
    CurrentRow,
    Following(Value),
    UnboundedFollowing,
}

/// One partition, sorted.
#[derive(Debug)]
struct Partition<'p> {
    /// The input row at each position.
    rows: &'p [usize],
    /// The peer group of each position.
    group_of: Vec<usize>,
    /// Each peer group's positions, `[start, end)`.
    groups: Vec<(usize, usize)>,
    /// The first ordering key at each position (RANGE with an offset).
    first_key: Vec<&'p Value>,
}

impl Partition<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }
}

/// Orders partition keys: ascending, NULLs equal to each other and last.
fn cmp_partition(a: &[Value], b: &[Value]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => cmp_total(x, y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn runtime(sqlstate: &'static str, message: &str) -> Error {
    Error::Runtime {
        sqlstate,
        message: message.to_string(),
    }
}

/// The rows of a frame: `[start, end)` minus the exclusion around position `p`, as up to
/// three segments in order.
fn segments(
    (start, end): (usize, usize),
    p: usize,
    (gs, ge): (usize, usize),
    exclusion: FrameExclusion,
) -> [(usize, usize); 3] {
    let clip = |a: usize, b: usize| {
        let (a, b) = (a.max(start), b.min(end));
        if a < b { (a, b) } else { (0, 0) }
    };
    match exclusion {
        FrameExclusion::NoOthers => [clip(start, end), (0, 0), (0, 0)],
        FrameExclusion::CurrentRow => [clip(start, p), clip(p + 1, end), (0, 0)],
        FrameExclusion::Group => [clip(start, gs), clip(ge, end), (0, 0)],
        FrameExclusion::Ties => [clip(start, gs), clip(p, p + 1), clip(ge, end)],
    }
}

fn positions(segs: &[(usize, usize); 3]) -> impl DoubleEndedIterator<Item = usize> + '_ {
    segs.iter().flat_map(|&(a, b)| a..b)
}

impl Exec<'_> {
    pub(super) fn window(&mut self, rows: Vec<Row>, calls: &[WindowCall]) -> Result<Vec<Row>> {
        let n = rows.len();
        // Calls sharing PARTITION BY and ORDER BY, in order of first appearance.
        let mut sets: Vec<Vec<usize>> = Vec::new();
        for (i, c) in calls.iter().enumerate() {
            match sets.iter_mut().find(|s| {
                let first = &calls[s[0]];
                first.partition_by == c.partition_by && first.order_by == c.order_by
            }) {
                Some(s) => s.push(i),
                None => sets.push(vec![i]),
            }
        }
        let edges = calls
            .iter()
            .map(|c| self.frame_edges(c))
            .collect::<Result<Vec<_>>>()?;
        let mut columns: Vec<Vec<Value>> = vec![vec![Value::Null; n]; calls.len()];
        let mut order: Vec<usize> = (0..n).collect();
        for set in &sets {
            let spec = &calls[set[0]];
            let mut keys = Vec::with_capacity(n);
            for row in &rows {
                self.tick()?;
                let mut part = Vec::with_capacity(spec.partition_by.len());
                for e in &spec.partition_by {
                    part.push(self.eval(e, row)?);
                }
                let mut ord = Vec::with_capacity(spec.order_by.len());
                for k in &spec.order_by {
                    ord.push(self.eval(&k.expr, row)?);
                }
                keys.push((part, ord));
            }
            order = (0..n).collect();
            // Ties keep the input order (`a < b`), so the unstable sort is deterministic.
            order.sort_unstable_by(|&a, &b| {
                cmp_partition(&keys[a].0, &keys[b].0)
                    .then_with(|| compare_sort_keys(&spec.order_by, &keys[a].1, &keys[b].1))
                    .then(a.cmp(&b))
            });
            let mut start = 0;
            while start < n {
                let mut end = start + 1;
                while end < n
                    && cmp_partition(&keys[order[start]].0, &keys[order[end]].0) == Ordering::Equal
                {
                    end += 1;
                }
                let part = partition(&order[start..end], &keys, &spec.order_by);
                for &c in set {
                    let values = self.window_partition(&rows, &calls[c], &edges[c], &part)?;
                    for (p, v) in values.into_iter().enumerate() {
                        columns[c][part.rows[p]] = v;
                    }
                }
                start = end;
            }
        }
        let mut rows: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(n);
        for i in order {
            let Some(mut row) = rows[i].take() else {
                return Err(super::internal("a window input row was output twice"));
            };
            for col in &mut columns {
                row.push(std::mem::replace(&mut col[i], Value::Null));
            }
            out.push(row);
        }
        Ok(out)
    }

    /// Evaluates a call's frame offsets (once per statement).
    fn frame_edges(&mut self, call: &WindowCall) -> Result<(Edge, Edge)> {
        let units = call.frame.units;
        let edge = |ex: &mut Self, b: &FrameBound, which: &str| -> Result<Edge> {
            let offset = |ex: &mut Self, e| -> Result<Value> {
                let v = ex.eval(e, &[])?;
                if v.is_null() {
                    return Err(runtime(
                        "22004",
                        &format!("frame {which} offset must not be null"),
                    ));
                }
                let zero = match &v {
                    Value::Interval(_) => parse_value("0 seconds", &DataType::Interval)?,
                    _ => Value::Int4(0),
                };
                if sql_cmp(&v, &zero)? == Some(Ordering::Less) {
                    return Err(if units == FrameUnits::Range {
                        runtime(
                            "22013",
                            "invalid preceding or following size in window function",
                        )
                    } else {
                        runtime(
                            "22013",
                            &format!("frame {which} offset must not be negative"),
                        )
                    });
                }
                Ok(v)
            };
            Ok(match b {
                FrameBound::UnboundedPreceding => Edge::UnboundedPreceding,
                FrameBound::Preceding(e) => Edge::Preceding(offset(ex, e)?),
                FrameBound::CurrentRow => Edge::CurrentRow,
                FrameBound::Following(e) => Edge::Following(offset(ex, e)?),
                FrameBound::UnboundedFollowing => Edge::UnboundedFollowing,
            })
        };
        let start = edge(self, &call.frame.start, "starting")?;
        let end = edge(self, &call.frame.end, "ending")?;
        Ok((start, end))
    }

    /// The values of one call for each position of one partition.
    fn window_partition(
        &mut self,
        rows: &[Row],
        call: &WindowCall,
        edges: &(Edge, Edge),
        part: &Partition<'_>,
    ) -> Result<Vec<Value>> {
        let len = part.len();
        let row = |p: usize| &rows[part.rows[p]];
        let mut out = Vec::with_capacity(len);
        let rank = |p: usize| part.groups[part.group_of[p]].0 + 1;
        let count = |x: usize| Value::Int8(i64::try_from(x).unwrap_or(i64::MAX));
        match call.func {
            WindowFunc::RowNumber => out.extend((1..=len).map(count)),
            WindowFunc::Rank => out.extend((0..len).map(|p| count(rank(p)))),
            WindowFunc::DenseRank => out.extend((0..len).map(|p| count(part.group_of[p] + 1))),
            WindowFunc::PercentRank => out.extend((0..len).map(|p| {
                Value::Float8(if len <= 1 {
                    0.0
                } else {
                    (rank(p) - 1) as f64 / (len - 1) as f64
                })
            })),
            WindowFunc::CumeDist => out.extend(
                (0..len)
                    .map(|p| Value::Float8(part.groups[part.group_of[p]].1 as f64 / len as f64)),
            ),
            WindowFunc::Ntile => {
                // PostgreSQL's algorithm: the first `total % buckets` buckets get one more row;
                // the bucket count is read on the partition's first row with a non-NULL one.
                let mut ntile: i64 = 0;
                let (mut per_bucket, mut boundary, mut remainder) = (0i64, 0i64, 0i64);
                for p in 0..len {
                    self.tick()?;
                    if ntile == 0 {
                        let buckets = match self.eval(&call.args[0], row(p))? {
                            Value::Null => {
                                out.push(Value::Null);
                                continue;
                            }
                            Value::Int4(b) => i64::from(b),
                            other => {
                                return Err(super::internal(&format!(
                                    "ntile of {:?}",
                                    other.data_type()
                                )));
                            }
                        };
                        if buckets <= 0 {
                            return Err(runtime(
                                "22014",
                                "argument of ntile must be greater than zero",
                            ));
                        }
                        let total = len as i64;
                        ntile = 1;
                        per_bucket = 0;
                        boundary = total / buckets;
                        if boundary <= 0 {
                            boundary = 1;
                        } else {
                            remainder = total % buckets;
                            if remainder != 0 {
                                boundary += 1;
                            }
                        }
                    }
                    per_bucket += 1;
                    if boundary < per_bucket {
                        if remainder != 0 && ntile == remainder {
                            remainder = 0;
                            boundary -= 1;
                        }
                        ntile += 1;
                        per_bucket = 1;
                    }
                    out.push(Value::Int4(i32::try_from(ntile).unwrap_or(i32::MAX)));
                }
            }
            WindowFunc::Lag | WindowFunc::Lead => {
                for p in 0..len {
                    self.tick()?;
                    let offset = match self.eval(&call.args[1], row(p))? {
                        Value::Null => {
                            out.push(Value::Null);
                            continue;
                        }
                        Value::Int4(o) => i64::from(o),
                        other => {
                            return Err(super::internal(&format!(
                                "lag/lead offset of {:?}",
                                other.data_type()
                            )));
                        }
                    };
                    let target = if call.func == WindowFunc::Lag {
                        p as i64 - offset
                    } else {
                        p as i64 + offset
                    };
                    out.push(match usize::try_from(target) {
                        Ok(t) if t < len => self.eval(&call.args[0], row(t))?,
                        _ => self.eval(&call.args[2], row(p))?,
                    });
                }
            }
            WindowFunc::FirstValue | WindowFunc::LastValue | WindowFunc::NthValue => {
                for p in 0..len {
                    self.tick()?;
                    let segs = self.frame_segments(call, edges, part, p)?;
                    let target = match call.func {
                        WindowFunc::FirstValue => positions(&segs).next(),
                        WindowFunc::LastValue => positions(&segs).next_back(),
                        _ => {
                            let nth = match self.eval(&call.args[1], row(p))? {
                                Value::Null => {
                                    out.push(Value::Null);
                                    continue;
                                }
                                Value::Int4(k) => i64::from(k),
                                other => {
                                    return Err(super::internal(&format!(
                                        "nth_value of {:?}",
                                        other.data_type()
                                    )));
                                }
                            };
                            if nth <= 0 {
                                return Err(runtime(
                                    "22016",
                                    "argument of nth_value must be greater than zero",
                                ));
                            }
                            nth_position(&segs, nth as usize)
                        }
                    };
                    out.push(match target {
                        Some(t) => self.eval(&call.args[0], row(t))?,
                        None => Value::Null,
                    });
                }
            }
            WindowFunc::Aggregate => return self.window_aggregate(rows, call, edges, part),
        }
        Ok(out)
    }

    /// An aggregate over each position's frame (module doc: incremental or recomputed).
    fn window_aggregate(
        &mut self,
        rows: &[Row],
        call: &WindowCall,
        edges: &(Edge, Edge),
        part: &Partition<'_>,
    ) -> Result<Vec<Value>> {
        let Some(agg) = &call.agg else {
            return Err(super::internal("a window aggregate without its call"));
        };
        let len = part.len();
        // Each position's input: (value, separator), or None when FILTER skips it.
        let mut inputs: Vec<Option<(Value, Option<Value>)>> = Vec::with_capacity(len);
        for &r in part.rows {
            self.tick()?;
            let row = &rows[r];
            if let Some(f) = &agg.filter
                && !self.test(f, row)?
            {
                inputs.push(None);
                continue;
            }
            let v = match &agg.arg {
                Some(a) => self.eval(a, row)?,
                None => Value::Null,
            };
            let sep = agg.extra.as_ref().map(|e| self.eval(e, row)).transpose()?;
            inputs.push(Some((v, sep)));
        }
        let feed = |state: &mut AggState, input: &Option<(Value, Option<Value>)>| -> Result<()> {
            match input {
                Some((v, sep)) => state.add(agg.func, v.clone(), sep.clone()),
                None => Ok(()),
            }
        };
        let growing = matches!(edges.0, Edge::UnboundedPreceding)
            && call.frame.exclusion == FrameExclusion::NoOthers;
        let mut out: Vec<Value> = Vec::with_capacity(len);
        let mut running = AggState::new(agg);
        let mut fed = 0;
        let mut previous: Option<[(usize, usize); 3]> = None;
        for p in 0..len {
            self.tick()?;
            let segs = self.frame_segments(call, edges, part, p)?;
            if previous == Some(segs)
                && let Some(last) = out.last()
            {
                out.push(last.clone());
                continue;
            }
            let end = segs[0].1;
            let value = if growing && segs[1] == (0, 0) && end >= fed {
                while fed < end {
                    feed(&mut running, &inputs[fed])?;
                    fed += 1;
                }
                running.current(agg)?
            } else {
                let mut state = AggState::new(agg);
                for q in positions(&segs) {
                    feed(&mut state, &inputs[q])?;
                }
                state.current(agg)?
            };
            previous = Some(segs);
            out.push(value);
        }
        Ok(out)
    }

    /// The frame of position `p`, as segments (see [`segments`]).
    fn frame_segments(
        &mut self,
        call: &WindowCall,
        edges: &(Edge, Edge),
        part: &Partition<'_>,
        p: usize,
    ) -> Result<[(usize, usize); 3]> {
        let start = self.frame_edge(call, &edges.0, part, p, true)?;
        let end = self.frame_edge(call, &edges.1, part, p, false)?;
        let group = part.groups[part.group_of[p]];
        Ok(segments(
            (start, end.max(start)),
            p,
            group,
            call.frame.exclusion,
        ))
    }

    /// The position where a frame starts (`is_start`) or ends (exclusive).
    fn frame_edge(
        &mut self,
        call: &WindowCall,
        edge: &Edge,
        part: &Partition<'_>,
        p: usize,
        is_start: bool,
    ) -> Result<usize> {
        let len = part.len();
        let (gs, ge) = part.groups[part.group_of[p]];
        let rows_offset = |v: &Value| -> usize {
            match v {
                Value::Int8(k) => usize::try_from(*k).unwrap_or(usize::MAX),
                _ => usize::MAX,
            }
        };
        Ok(match (edge, call.frame.units) {
            (Edge::UnboundedPreceding, _) => 0,
            (Edge::UnboundedFollowing, _) => len,
            (Edge::CurrentRow, FrameUnits::Rows) => {
                if is_start {
                    p
                } else {
                    p + 1
                }
            }
            (Edge::CurrentRow, _) => {
                if is_start {
                    gs
                } else {
                    ge
                }
            }
            (Edge::Preceding(v), FrameUnits::Rows) => {
                let k = rows_offset(v);
                let first = p.saturating_sub(k);
                if is_start {
                    first
                } else if k > p {
                    0
                } else {
                    first + 1
                }
            }
            (Edge::Following(v), FrameUnits::Rows) => {
                let k = rows_offset(v);
                let at = p.saturating_add(k);
                if is_start {
                    at.min(len)
                } else {
                    at.saturating_add(1).min(len)
                }
            }
            (Edge::Preceding(v), FrameUnits::Groups) => {
                let g = part.group_of[p];
                let k = rows_offset(v);
                if is_start {
                    part.groups[g.saturating_sub(k)].0
                } else if k > g {
                    0
                } else {
                    part.groups[g - k].1
                }
            }
            (Edge::Following(v), FrameUnits::Groups) => {
                let g = part.group_of[p];
                let target = g.saturating_add(rows_offset(v));
                if is_start {
                    part.groups.get(target).map_or(len, |grp| grp.0)
                } else {
                    part.groups[target.min(part.groups.len() - 1)].1
                }
            }
            (Edge::Preceding(v) | Edge::Following(v), FrameUnits::Range) => {
                let following = matches!(edge, Edge::Following(_));
                self.range_edge(&call.order_by[0], v, following, part, p, is_start)?
            }
        })
    }

    /// RANGE with an offset: the first position at or after the bound (`is_start`), or
    /// the first position past it. A row whose key is NULL has the NULL rows as its frame;
    /// for other rows NULLs sort before or after every value, as ORDER BY puts them.
    fn range_edge(
        &mut self,
        key: &SortKey,
        offset: &Value,
        following: bool,
        part: &Partition<'_>,
        p: usize,
        is_start: bool,
    ) -> Result<usize> {
        let len = part.len();
        let nulls = part.first_key.iter().filter(|k| k.is_null()).count();
        let (nulls_at, values_at) = if key.nulls_first {
            ((0, nulls), (nulls, len))
        } else {
            ((len - nulls, len), (0, len - nulls))
        };
        let current = part.first_key[p];
        if current.is_null() {
            return Ok(if is_start { nulls_at.0 } else { nulls_at.1 });
        }
        // In the sort's direction, the bound is `current` moved back (PRECEDING) or forward.
        let add = following != key.desc;
        let op = if add { BinaryOp::Add } else { BinaryOp::Sub };
        let bound = match binary_op(op, current, offset) {
            Ok(b) => b,
            // Past every value: before all rows for PRECEDING, after all for FOLLOWING.
            Err(_) => {
                return Ok(if following { values_at.1 } else { values_at.0 });
            }
        };
        let mut error = None;
        let mut directed = |v: &Value| -> Ordering {
            match sql_cmp(v, &bound) {
                Ok(Some(o)) => {
                    if key.desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
                Ok(None) => Ordering::Equal,
                Err(e) => {
                    error.get_or_insert(e);
                    Ordering::Equal
                }
            }
        };
        let region = &part.first_key[values_at.0..values_at.1];
        let at = if is_start {
            region.partition_point(|v| directed(v) == Ordering::Less)
        } else {
            region.partition_point(|v| directed(v) != Ordering::Greater)
        };
        if let Some(e) = error {
            return Err(e.into());
        }
        Ok(values_at.0 + at)
    }
}

/// The position of the `nth` (1-based) row of a frame.
fn nth_position(segs: &[(usize, usize); 3], nth: usize) -> Option<usize> {
    let mut left = nth - 1;
    for &(a, b) in segs {
        if left < b - a {
            return Some(a + left);
        }
        left -= b - a;
    }
    None
}

/// Builds a partition's peer groups from its sorted positions.
fn partition<'p>(
    rows: &'p [usize],
    keys: &'p [(Vec<Value>, Vec<Value>)],
    order_by: &[SortKey],
) -> Partition<'p> {
    let len = rows.len();
    let mut group_of = vec![0; len];
    let mut groups = Vec::new();
    let mut first = 0;
    for i in 1..=len {
        if i == len
            || compare_sort_keys(order_by, &keys[rows[first]].1, &keys[rows[i]].1)
                != Ordering::Equal
        {
            group_of[first..i].fill(groups.len());
            groups.push((first, i));
            first = i;
        }
    }
    static NULL: Value = Value::Null;
    let first_key = rows
        .iter()
        .map(|&r| keys[r].1.first().unwrap_or(&NULL))
        .collect();
    Partition {
        rows,
        group_of,
        groups,
        first_key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_cut_the_frame() {
        // Frame [1, 6), current row 3 in the peer group [2, 5).
        let frame = (1, 6);
        let seg = |e| segments(frame, 3, (2, 5), e);
        let rows = |e| positions(&seg(e)).collect::<Vec<_>>();
        assert_eq!(rows(FrameExclusion::NoOthers), vec![1, 2, 3, 4, 5]);
        assert_eq!(rows(FrameExclusion::CurrentRow), vec![1, 2, 4, 5]);
        assert_eq!(rows(FrameExclusion::Group), vec![1, 5]);
        assert_eq!(rows(FrameExclusion::Ties), vec![1, 3, 5]);
        // The current row outside the frame stays outside.
        assert_eq!(
            positions(&segments((0, 2), 3, (3, 4), FrameExclusion::Ties)).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(nth_position(&seg(FrameExclusion::Ties), 2), Some(3));
        assert_eq!(nth_position(&seg(FrameExclusion::Ties), 4), None);
    }

    #[test]
    fn peer_groups_follow_the_ordering_keys() {
        let keys: Vec<(Vec<Value>, Vec<Value>)> = [1, 1, 2, 3, 3, 3]
            .iter()
            .map(|k| (vec![], vec![Value::Int4(*k)]))
            .collect();
        let rows: Vec<usize> = (0..6).collect();
        let order = [SortKey {
            expr: crate::expr::Expr::Column(0),
            desc: false,
            nulls_first: false,
        }];
        let part = partition(&rows, &keys, &order);
        assert_eq!(part.groups, vec![(0, 2), (2, 3), (3, 6)]);
        assert_eq!(part.group_of, vec![0, 0, 1, 2, 2, 2]);
        // Without ORDER BY the partition is one peer group.
        let part = partition(&rows, &keys, &[]);
        assert_eq!(part.groups, vec![(0, 6)]);
    }

    #[test]
    fn partition_keys_put_nulls_together_and_last() {
        let a = [Value::Null];
        let b = [Value::Int4(1)];
        assert_eq!(cmp_partition(&a, &a), Ordering::Equal);
        assert_eq!(cmp_partition(&b, &a), Ordering::Less);
    }
}
