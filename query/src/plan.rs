//! Logical plans: trees of relational operators, as the binder builds them and the
//! optimiser rewrites them. Each node produces rows (`Vec<Value>`) of a fixed width.
//!
//! Invariants:
//! - Expressions in a node refer to columns of its input (for joins: left columns followed
//!   by right columns).
//! - `width()` is the number of columns a node produces.

use std::fmt;

use zqlite_projections::TableId;
use zqlite_projections::value::DataType;

use crate::expr::Expr;
use crate::set_functions::SetFunc;
use crate::system::SystemRelation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOpKind {
    Union,
    Intersect,
    Except,
}

/// Which ordered structure an index scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    PrimaryKey,
    /// Position in the table definition's `indexes`.
    Index(usize),
}

/// Bounds on the leading column of a primary key or index; the scan's filter still checks
/// the full predicate, so the bounds only narrow what is read.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRange {
    Eq(Expr),
    Range {
        lower: Option<Expr>,
        upper: Option<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    pub func: AggFunc,
    /// Argument (none for `count(*)`); `string_agg` has its separator in `extra`,
    /// `json[b]_object_agg` its value (the argument is the key).
    pub arg: Option<Expr>,
    pub extra: Option<Expr>,
    pub distinct: bool,
    pub filter: Option<Expr>,
    /// `agg(x ORDER BY ...)`: the order in which inputs are fed (empty: input order).
    pub order_by: Vec<SortKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    CountStar,
    Count,
    Sum,
    Avg,
    Min,
    Max,
    StringAgg,
    BoolAnd,
    BoolOr,
    /// `array_agg`, collecting values of `elem` (NULLs included).
    ArrayAgg {
        elem: DataType,
    },
    /// `jsonb_agg` (`jsonb`) or `json_agg`: a JSON array of the inputs, NULLs included.
    JsonAgg {
        jsonb: bool,
        /// The inputs are whole rows (`json_agg(t)`), which `json_agg` puts on lines of
        /// their own.
        rows: bool,
    },
    /// `jsonb_object_agg` (`jsonb`) or `json_object_agg`: a JSON object of key/value
    /// pairs; a NULL key is an error, a NULL value a JSON null.
    JsonObjectAgg {
        jsonb: bool,
    },
}

impl AggFunc {
    pub fn name(&self) -> &'static str {
        match self {
            AggFunc::CountStar | AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::StringAgg => "string_agg",
            AggFunc::BoolAnd => "bool_and",
            AggFunc::BoolOr => "bool_or",
            AggFunc::ArrayAgg { .. } => "array_agg",
            AggFunc::JsonAgg { jsonb: true, .. } => "jsonb_agg",
            AggFunc::JsonAgg { jsonb: false, .. } => "json_agg",
            AggFunc::JsonObjectAgg { jsonb: true } => "jsonb_object_agg",
            AggFunc::JsonObjectAgg { jsonb: false } => "json_object_agg",
        }
    }
}

/// A window function: a ranking or navigation function, or an aggregate over a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowFunc {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    /// `ntile(n)`: `n` is the first argument.
    Ntile,
    /// `lag(value, offset, default)` / `lead(...)`: three arguments (the binder supplies
    /// `1` and `NULL` when they are left out).
    Lag,
    Lead,
    FirstValue,
    LastValue,
    /// `nth_value(value, n)`.
    NthValue,
    /// An aggregate over the frame; its call is in [`WindowCall::agg`].
    Aggregate,
}

impl WindowFunc {
    pub fn name(&self) -> &'static str {
        match self {
            WindowFunc::RowNumber => "row_number",
            WindowFunc::Rank => "rank",
            WindowFunc::DenseRank => "dense_rank",
            WindowFunc::PercentRank => "percent_rank",
            WindowFunc::CumeDist => "cume_dist",
            WindowFunc::Ntile => "ntile",
            WindowFunc::Lag => "lag",
            WindowFunc::Lead => "lead",
            WindowFunc::FirstValue => "first_value",
            WindowFunc::LastValue => "last_value",
            WindowFunc::NthValue => "nth_value",
            WindowFunc::Aggregate => "aggregate",
        }
    }
}

/// How a frame counts its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameUnits {
    Rows,
    Range,
    Groups,
}

/// One end of a frame. Offsets are constant for the statement (no column references):
/// `bigint` for ROWS and GROUPS, a value of the ordering column's offset type for RANGE.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(Expr),
    CurrentRow,
    Following(Expr),
    UnboundedFollowing,
}

/// `EXCLUDE ...`: rows left out of the frame around the current row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameExclusion {
    NoOthers,
    CurrentRow,
    Group,
    Ties,
}

/// A window frame. The default (no frame clause) is `RANGE BETWEEN UNBOUNDED PRECEDING AND
/// CURRENT ROW EXCLUDE NO OTHERS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub units: FrameUnits,
    pub start: FrameBound,
    pub end: FrameBound,
    pub exclusion: FrameExclusion,
}

impl Frame {
    pub fn default_frame() -> Frame {
        Frame {
            units: FrameUnits::Range,
            start: FrameBound::UnboundedPreceding,
            end: FrameBound::CurrentRow,
            exclusion: FrameExclusion::NoOthers,
        }
    }
}

/// One window function call of a [`Plan::Window`] node.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowCall {
    pub func: WindowFunc,
    /// Arguments of a ranking or navigation function (empty for aggregates).
    pub args: Vec<Expr>,
    /// The aggregate, when `func` is [`WindowFunc::Aggregate`] (never DISTINCT, never with
    /// its own ORDER BY; FILTER is allowed).
    pub agg: Option<AggCall>,
    pub partition_by: Vec<Expr>,
    pub order_by: Vec<SortKey>,
    pub frame: Frame,
}

impl WindowCall {
    pub fn display_name(&self) -> &'static str {
        match &self.agg {
            Some(a) => a.func.name(),
            None => self.func.name(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub desc: bool,
    pub nulls_first: bool,
}

/// A logical plan node.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Constant rows (`VALUES`, or one empty row for a SELECT without FROM).
    Values {
        rows: Vec<Vec<Expr>>,
        width: usize,
    },
    /// All rows of a table, then `filter`.
    Scan {
        table: TableId,
        name: String,
        width: usize,
        filter: Option<Expr>,
    },
    /// Rows of a table found through its primary key or an index, then `filter`.
    IndexScan {
        table: TableId,
        name: String,
        width: usize,
        access: Access,
        range: KeyRange,
        filter: Option<Expr>,
    },
    /// The rows of a system relation (see [`crate::system`]) computed from `args`, then
    /// `filter`.
    SystemScan {
        relation: &'static SystemRelation,
        args: Vec<Expr>,
        filter: Option<Expr>,
        /// `WITH ORDINALITY`: a last `bigint` column numbering the rows from 1.
        ordinality: bool,
    },
    Filter {
        input: Box<Plan>,
        predicate: Expr,
    },
    Project {
        input: Box<Plan>,
        exprs: Vec<Expr>,
    },
    NestedLoopJoin {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        on: Option<Expr>,
    },
    /// For each left row, look up right rows whose indexed leading column equals `key`
    /// (evaluated on the left row); `on` is checked on the joined row. Inner and left joins.
    IndexJoin {
        left: Box<Plan>,
        table: TableId,
        name: String,
        width: usize,
        access: Access,
        key: Expr,
        kind: JoinKind,
        on: Option<Expr>,
    },
    /// Output: group keys, then aggregate results.
    Aggregate {
        input: Box<Plan>,
        group_by: Vec<Expr>,
        aggs: Vec<AggCall>,
    },
    /// `GROUP BY` with grouping sets: the input aggregated once per set in `sets` (indexes
    /// into `group_by`). Output like [`Plan::Aggregate`]'s, keys a set leaves out being
    /// NULL, then an `int4` column with the set's index (for `GROUPING()`).
    GroupingSets {
        input: Box<Plan>,
        group_by: Vec<Expr>,
        aggs: Vec<AggCall>,
        sets: Vec<Vec<usize>>,
    },
    /// Output: the input's columns, then one column per window call (see
    /// `exec/window.rs`).
    Window {
        input: Box<Plan>,
        calls: Vec<WindowCall>,
    },
    Sort {
        input: Box<Plan>,
        keys: Vec<SortKey>,
    },
    Limit {
        input: Box<Plan>,
        limit: Option<Expr>,
        offset: Option<Expr>,
    },
    Distinct {
        input: Box<Plan>,
    },
    SetOp {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: SetOpKind,
        all: bool,
    },
    /// `WITH RECURSIVE`: the rows of `anchor`, then of `recursive` run again and again with
    /// [`Plan::WorkTable`] `work_table` holding the rows the previous round added, until a
    /// round adds none. Without `all`, rows already produced are not added again.
    RecursiveUnion {
        anchor: Box<Plan>,
        recursive: Box<Plan>,
        work_table: usize,
        all: bool,
    },
    /// The rows of a set-returning function (`set_functions.rs`) on `args`, which may refer
    /// to the row of an enclosing [`Plan::Lateral`] (as outer references); with
    /// `ordinality`, a last `bigint` column numbers them from 1.
    FunctionScan {
        func: SetFunc,
        args: Vec<Expr>,
        width: usize,
        ordinality: bool,
    },
    /// For each `left` row, the rows of `right` run with that row as its innermost outer
    /// row (`LATERAL` subqueries and functions in FROM); `on` filters the joined rows, and
    /// a left row without any keeps NULLs with `JoinKind::Left`.
    Lateral {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        on: Option<Expr>,
    },
    /// Set-returning functions of a select list: for each input row, the input's columns
    /// then one column per call, for as many rows as the longest call returns (shorter
    /// ones give NULLs; a row whose calls all return nothing disappears).
    ProjectSet {
        input: Box<Plan>,
        calls: Vec<(SetFunc, Vec<Expr>)>,
    },
    /// The rows the previous round of the enclosing [`Plan::RecursiveUnion`] added.
    WorkTable {
        id: usize,
        width: usize,
    },
    /// `DISTINCT ON`: the first row of each run of rows with equal values in `columns`
    /// (the input is sorted so that equal keys are adjacent).
    DistinctOn {
        input: Box<Plan>,
        columns: Vec<usize>,
    },
}

impl Plan {
    pub fn width(&self) -> usize {
        match self {
            Plan::Values { width, .. }
            | Plan::Scan { width, .. }
            | Plan::IndexScan { width, .. } => *width,
            Plan::SystemScan {
                relation,
                ordinality,
                ..
            } => relation.columns.len() + usize::from(*ordinality),
            Plan::IndexJoin { left, width, .. } => left.width() + width,
            Plan::Filter { input, .. }
            | Plan::Sort { input, .. }
            | Plan::Limit { input, .. }
            | Plan::Distinct { input }
            | Plan::DistinctOn { input, .. } => input.width(),
            Plan::RecursiveUnion { anchor, .. } => anchor.width(),
            Plan::WorkTable { width, .. } => *width,
            Plan::FunctionScan {
                width, ordinality, ..
            } => width + usize::from(*ordinality),
            Plan::Lateral { left, right, .. } => left.width() + right.width(),
            Plan::ProjectSet { input, calls } => input.width() + calls.len(),
            Plan::Project { exprs, .. } => exprs.len(),
            Plan::NestedLoopJoin { left, right, .. } => left.width() + right.width(),
            Plan::Aggregate { group_by, aggs, .. } => group_by.len() + aggs.len(),
            Plan::GroupingSets { group_by, aggs, .. } => group_by.len() + aggs.len() + 1,
            Plan::Window { input, calls } => input.width() + calls.len(),
            Plan::SetOp { left, .. } => left.width(),
        }
    }

    fn fmt_tree(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        let arrow = if depth == 0 { "" } else { "-> " };
        write!(f, "{pad}{arrow}")?;
        let opt = |e: &Option<Expr>| {
            e.as_ref()
                .map(|e| format!(" filter={e}"))
                .unwrap_or_default()
        };
        let access = |a: &Access| match a {
            Access::PrimaryKey => "primary key".to_string(),
            Access::Index(i) => format!("index #{i}"),
        };
        match self {
            Plan::Values { rows, .. } => writeln!(f, "Values rows={}", rows.len()),
            Plan::Scan { name, filter, .. } => writeln!(f, "Scan {name}{}", opt(filter)),
            Plan::IndexScan {
                name,
                access: a,
                range,
                filter,
                ..
            } => {
                let r = match range {
                    KeyRange::Eq(e) => format!("= {e}"),
                    KeyRange::Range { lower, upper } => format!(
                        "{}..{}",
                        lower.as_ref().map(ToString::to_string).unwrap_or_default(),
                        upper.as_ref().map(ToString::to_string).unwrap_or_default()
                    ),
                };
                writeln!(f, "IndexScan {name} via {} {r}{}", access(a), opt(filter))
            }
            Plan::SystemScan {
                relation,
                args,
                filter,
                ordinality,
            } => {
                let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                let args = if *ordinality {
                    let mut args = args;
                    args.push("WITH ORDINALITY".into());
                    args
                } else {
                    args
                };
                let args = if relation.is_function() {
                    format!("({})", args.join(", "))
                } else {
                    String::new()
                };
                writeln!(f, "SystemScan {relation:?}{args}{}", opt(filter))
            }
            Plan::Filter { input, predicate } => {
                writeln!(f, "Filter {predicate}")?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::Project { input, exprs } => {
                let items: Vec<String> = exprs.iter().map(ToString::to_string).collect();
                writeln!(f, "Project {}", items.join(", "))?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::NestedLoopJoin {
                left,
                right,
                kind,
                on,
            } => {
                let on = on.as_ref().map(|e| format!(" on={e}")).unwrap_or_default();
                writeln!(f, "NestedLoopJoin {kind:?}{on}")?;
                left.fmt_tree(f, depth + 1)?;
                right.fmt_tree(f, depth + 1)
            }
            Plan::IndexJoin {
                left,
                name,
                access: a,
                key,
                kind,
                on,
                ..
            } => {
                let on = on.as_ref().map(|e| format!(" on={e}")).unwrap_or_default();
                writeln!(f, "IndexJoin {kind:?} {name} via {} = {key}{on}", access(a))?;
                left.fmt_tree(f, depth + 1)
            }
            Plan::GroupingSets {
                input,
                group_by,
                aggs,
                sets,
            } => {
                let g: Vec<String> = group_by.iter().map(ToString::to_string).collect();
                let a: Vec<String> = aggs.iter().map(|a| a.func.name().to_string()).collect();
                writeln!(
                    f,
                    "GroupingSets group=[{}] sets={sets:?} aggs=[{}]",
                    g.join(", "),
                    a.join(", ")
                )?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::Aggregate {
                input,
                group_by,
                aggs,
            } => {
                let g: Vec<String> = group_by.iter().map(ToString::to_string).collect();
                let a: Vec<String> = aggs
                    .iter()
                    .map(|a| {
                        let arg = a.arg.as_ref().map_or("*".into(), ToString::to_string);
                        let d = if a.distinct { "DISTINCT " } else { "" };
                        format!("{}({d}{arg})", a.func.name())
                    })
                    .collect();
                writeln!(
                    f,
                    "Aggregate group=[{}] aggs=[{}]",
                    g.join(", "),
                    a.join(", ")
                )?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::Window { input, calls } => {
                let c: Vec<String> = calls
                    .iter()
                    .map(|c| {
                        let args: Vec<String> = match &c.agg {
                            Some(a) => vec![a.arg.as_ref().map_or("*".into(), ToString::to_string)],
                            None => c.args.iter().map(ToString::to_string).collect(),
                        };
                        let p: Vec<String> =
                            c.partition_by.iter().map(ToString::to_string).collect();
                        let o: Vec<String> = c
                            .order_by
                            .iter()
                            .map(|k| format!("{}{}", k.expr, if k.desc { " DESC" } else { "" }))
                            .collect();
                        format!(
                            "{}({}) partition=[{}] order=[{}] {:?}",
                            c.display_name(),
                            args.join(", "),
                            p.join(", "),
                            o.join(", "),
                            c.frame.units
                        )
                    })
                    .collect();
                writeln!(f, "Window {}", c.join("; "))?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::Sort { input, keys } => {
                let k: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{}{}", k.expr, if k.desc { " DESC" } else { "" }))
                    .collect();
                writeln!(f, "Sort {}", k.join(", "))?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::Limit {
                input,
                limit,
                offset,
            } => {
                let l = limit
                    .as_ref()
                    .map(|e| format!(" limit={e}"))
                    .unwrap_or_default();
                let o = offset
                    .as_ref()
                    .map(|e| format!(" offset={e}"))
                    .unwrap_or_default();
                writeln!(f, "Limit{l}{o}")?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::Distinct { input } => {
                writeln!(f, "Distinct")?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::SetOp {
                left,
                right,
                kind,
                all,
            } => {
                writeln!(f, "{kind:?}{}", if *all { " ALL" } else { "" })?;
                left.fmt_tree(f, depth + 1)?;
                right.fmt_tree(f, depth + 1)
            }
            Plan::RecursiveUnion {
                anchor,
                recursive,
                work_table,
                all,
            } => {
                let all = if *all { " ALL" } else { "" };
                writeln!(f, "RecursiveUnion{all} work_table={work_table}")?;
                anchor.fmt_tree(f, depth + 1)?;
                recursive.fmt_tree(f, depth + 1)
            }
            Plan::WorkTable { id, .. } => writeln!(f, "WorkTable {id}"),
            Plan::FunctionScan {
                func,
                args,
                ordinality,
                ..
            } => {
                let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                let ord = if *ordinality { " WITH ORDINALITY" } else { "" };
                writeln!(f, "FunctionScan {}({}){ord}", func.name(), args.join(", "))
            }
            Plan::ProjectSet { input, calls } => {
                let calls: Vec<String> = calls
                    .iter()
                    .map(|(func, args)| {
                        let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                        format!("{}({})", func.name(), args.join(", "))
                    })
                    .collect();
                writeln!(f, "ProjectSet {}", calls.join(", "))?;
                input.fmt_tree(f, depth + 1)
            }
            Plan::Lateral {
                left,
                right,
                kind,
                on,
            } => {
                let on = on.as_ref().map(|e| format!(" on={e}")).unwrap_or_default();
                writeln!(f, "Lateral {kind:?}{on}")?;
                left.fmt_tree(f, depth + 1)?;
                right.fmt_tree(f, depth + 1)
            }
            Plan::DistinctOn { input, columns } => {
                writeln!(f, "DistinctOn {columns:?}")?;
                input.fmt_tree(f, depth + 1)
            }
        }
    }
}

impl fmt::Display for Plan {
    /// One node per line, children indented under their parent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_tree(f, 0)
    }
}
