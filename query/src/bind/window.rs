//! Binding window function calls (`f(...) OVER ...`) and the WINDOW clause of a SELECT.
//!
//! A window call is bound in the scope of the SELECT's input (before grouping, like an
//! aggregate's argument), collected in the query level's [`WindowCollector`] and replaced by
//! an [`Expr::WindowRef`] placeholder; `query.rs` maps its expressions onto the Aggregate
//! node's output when the query groups, puts a [`Plan::Window`](crate::plan::Plan::Window)
//! node after grouping and HAVING, and turns the placeholders into its columns.
//!
//! Invariants:
//! - `Binder::windows` is `Some` only while a select list or ORDER BY is bound; elsewhere
//!   `Binder::window_ban` says why a window function may not appear (PostgreSQL's
//!   messages and SQLSTATEs).
//! - A bound [`WindowCall`] satisfies PostgreSQL's rules: frame bounds in a valid order,
//!   offsets free of columns of this level, exactly one ORDER BY key for RANGE with an
//!   offset, an ORDER BY for GROUPS, no DISTINCT or ORDER BY inside a windowed aggregate.

use sqlparser::ast;
use zqlite_projections::value::{DataType, TypeCategory};

use super::Binder;
use super::expr::{Typed, coerce_to, coerce_unknown, expr_loc};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::functions::common_type;
use crate::plan::{
    AggFunc, Frame, FrameBound, FrameExclusion, FrameUnits, SortKey, WindowCall, WindowFunc,
};
use crate::window_syntax;

/// Collects the window calls of a query level while its select list and ORDER BY are
/// bound, with the level's named windows (`WINDOW w AS (...)`), already merged with the
/// windows they copy.
#[derive(Debug, Default)]
pub(crate) struct WindowCollector {
    pub calls: Vec<WindowCall>,
    pub named: Vec<(String, ast::WindowSpec)>,
}

/// Why a window function may not appear where the binder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum WindowBan {
    #[default]
    Here,
    /// "window functions are not allowed in {clause}".
    Clause(&'static str),
    /// In the arguments, PARTITION BY or ORDER BY of another window call.
    Nested,
    InDefinition,
    /// In the arguments of a plain aggregate.
    InAggregate,
}

impl WindowBan {
    pub(crate) fn error(self) -> Error {
        match self {
            WindowBan::Here => Error::bind("42P20", "window functions are not allowed here"),
            WindowBan::Clause(c) => {
                Error::bind("42P20", format!("window functions are not allowed in {c}"))
            }
            WindowBan::Nested => Error::bind("42P20", "window function calls cannot be nested"),
            WindowBan::InDefinition => Error::bind(
                "42P20",
                "window functions are not allowed in window definitions",
            ),
            WindowBan::InAggregate => Error::bind(
                "42803",
                "aggregate function calls cannot contain window function calls",
            ),
        }
    }
}

/// The window-only functions (ranking and navigation).
pub(crate) fn window_only(name: &str) -> Option<WindowFunc> {
    Some(match name {
        "row_number" => WindowFunc::RowNumber,
        "rank" => WindowFunc::Rank,
        "dense_rank" => WindowFunc::DenseRank,
        "percent_rank" => WindowFunc::PercentRank,
        "cume_dist" => WindowFunc::CumeDist,
        "ntile" => WindowFunc::Ntile,
        "lag" => WindowFunc::Lag,
        "lead" => WindowFunc::Lead,
        "first_value" => WindowFunc::FirstValue,
        "last_value" => WindowFunc::LastValue,
        "nth_value" => WindowFunc::NthValue,
        _ => return None,
    })
}

/// A function call with OVER, as written.
pub(crate) struct WindowSyntax<'a> {
    pub name: &'a str,
    pub agg: Option<AggFunc>,
    pub star: bool,
    pub args: &'a [&'a ast::Expr],
    pub distinct: bool,
    pub filter: Option<&'a ast::Expr>,
    pub order_by: &'a [ast::OrderByExpr],
    pub over: &'a ast::WindowType,
}

impl Binder<'_> {
    /// Runs `f` with window functions banned for `ban` (restoring the collector after).
    pub(crate) fn without_windows<T>(
        &mut self,
        ban: WindowBan,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let saved = (self.windows.take(), self.window_ban);
        self.window_ban = ban;
        let result = f(self);
        (self.windows, self.window_ban) = saved;
        result
    }

    /// Records the WINDOW clause of a SELECT: each definition may copy an earlier one.
    pub(crate) fn named_windows(
        &mut self,
        defs: &[ast::NamedWindowDefinition],
    ) -> Result<Vec<(String, ast::WindowSpec)>> {
        let mut named: Vec<(String, ast::WindowSpec)> = Vec::new();
        for ast::NamedWindowDefinition(ident, expr) in defs {
            let name = super::ident_name(ident);
            let loc = super::ident_loc(ident);
            if named.iter().any(|(n, _)| *n == name) {
                return Err(
                    Error::bind("42P20", format!("window \"{name}\" is already defined")).at(loc),
                );
            }
            let spec = match expr {
                ast::NamedWindowExpr::NamedWindow(other) => ast::WindowSpec {
                    window_name: Some(other.clone()),
                    partition_by: vec![],
                    order_by: vec![],
                    window_frame: None,
                },
                ast::NamedWindowExpr::WindowSpec(spec) => spec.clone(),
            };
            let spec = resolve_spec(&named, &spec).map_err(|e| e.at(loc))?;
            named.push((name, spec));
        }
        Ok(named)
    }

    /// Binds `name(args) OVER ...`.
    pub(crate) fn window_call(&mut self, w: &WindowSyntax<'_>) -> Result<Typed> {
        let Some(mut collector) = self.windows.take() else {
            return Err(self.window_ban.error());
        };
        let result = self.window_call_inner(w, &collector.named);
        let (call, ty) = match result {
            Ok(v) => v,
            Err(e) => {
                self.windows = Some(collector);
                return Err(e);
            }
        };
        let index = match collector.calls.iter().position(|c| *c == call) {
            Some(i) => i,
            None => {
                collector.calls.push(call);
                collector.calls.len() - 1
            }
        };
        self.windows = Some(collector);
        Ok((Expr::WindowRef(index), ty))
    }

    fn window_call_inner(
        &mut self,
        w: &WindowSyntax<'_>,
        named: &[(String, ast::WindowSpec)],
    ) -> Result<(WindowCall, Option<DataType>)> {
        let spec = match w.over {
            ast::WindowType::NamedWindow(ident) => {
                let name = super::ident_name(ident);
                match named.iter().find(|(n, _)| *n == name) {
                    Some((_, spec)) => spec.clone(),
                    None => {
                        return Err(Error::bind(
                            "42704",
                            format!("window \"{name}\" does not exist"),
                        )
                        .at(super::ident_loc(ident)));
                    }
                }
            }
            ast::WindowType::WindowSpec(spec) => resolve_spec(named, spec)?,
        };
        let (func, agg, args, ty) = match (window_only(w.name), w.agg) {
            (Some(func), _) => {
                if w.filter.is_some() {
                    return Err(Error::bind(
                        "0A000",
                        "FILTER is not implemented for non-aggregate window functions",
                    ));
                }
                if w.distinct || !w.order_by.is_empty() {
                    let what = if w.order_by.is_empty() {
                        "DISTINCT"
                    } else {
                        "ORDER BY"
                    };
                    return Err(Error::bind(
                        "42809",
                        format!(
                            "{what} specified, but {} is not an aggregate function",
                            w.name
                        ),
                    ));
                }
                let (args, ty) =
                    self.without_windows(WindowBan::Nested, |b| b.window_args(func, w))?;
                (func, None, args, ty)
            }
            (None, Some(agg)) => {
                if w.distinct {
                    return Err(Error::bind(
                        "0A000",
                        "DISTINCT is not implemented for window functions",
                    ));
                }
                if !w.order_by.is_empty() {
                    return Err(Error::bind(
                        "0A000",
                        "aggregate ORDER BY is not implemented for window functions",
                    ));
                }
                let syntax = super::call::AggregateSyntax {
                    name: w.name,
                    star: w.star,
                    args: w.args,
                    distinct: false,
                    filter: None,
                    order_by: &[],
                };
                let (mut call, ty) =
                    self.without_windows(WindowBan::Nested, |b| b.aggregate(agg, &syntax))?;
                if let Some(f) = w.filter {
                    call.filter = Some(self.without_windows(WindowBan::Clause("FILTER"), |b| {
                        b.predicate(f, "FILTER")
                    })?);
                }
                (WindowFunc::Aggregate, Some(call), Vec::new(), ty)
            }
            (None, None) => {
                return Err(Error::bind(
                    "42809",
                    format!(
                        "OVER specified, but {} is not a window function nor an aggregate function",
                        w.name
                    ),
                ));
            }
        };
        let (partition_by, order_by) = self.without_windows(WindowBan::InDefinition, |b| {
            let mut partition_by = Vec::with_capacity(spec.partition_by.len());
            for e in &spec.partition_by {
                let (e, t) = b.expr(e)?;
                partition_by.push(match t {
                    Some(_) => e,
                    None => coerce_unknown(e, DataType::Text)?,
                });
            }
            let mut order_by = Vec::with_capacity(spec.order_by.len());
            let mut order_types = Vec::with_capacity(spec.order_by.len());
            for item in &spec.order_by {
                let (e, t) = b.expr(&item.expr)?;
                let (e, t) = match t {
                    Some(t) => (e, t),
                    None => (coerce_unknown(e, DataType::Text)?, DataType::Text),
                };
                order_by.push(super::query::sort_key(e, &item.options));
                order_types.push(t);
            }
            Ok((partition_by, (order_by, order_types)))
        })?;
        let (order_by, order_types) = order_by;
        let frame = match &spec.window_frame {
            None => Frame::default_frame(),
            Some(f) => self.frame(f, &order_by, &order_types)?,
        };
        let frame = match window_syntax::exclusion_of(&spec) {
            Some(exclusion) => Frame { exclusion, ..frame },
            None => frame,
        };
        Ok((
            WindowCall {
                func,
                args,
                agg,
                partition_by,
                order_by,
                frame,
            },
            ty,
        ))
    }

    /// The arguments of a ranking or navigation function, checked and coerced, and its
    /// result type.
    fn window_args(
        &mut self,
        func: WindowFunc,
        w: &WindowSyntax<'_>,
    ) -> Result<(Vec<Expr>, Option<DataType>)> {
        let mut bound = Vec::with_capacity(w.args.len());
        for a in w.args {
            bound.push(self.expr(a)?);
        }
        let no_fn = |bound: &[Typed]| {
            let types: Vec<&str> = bound
                .iter()
                .map(|(_, t)| t.map_or("unknown", |t| t.sql_name()))
                .collect();
            Error::bind(
                "42883",
                format!("function {}({}) does not exist", w.name, types.join(", ")),
            )
        };
        if w.star {
            return Err(no_fn(&bound));
        }
        let int4 = |(e, t): Typed| -> Result<Option<Expr>> {
            Ok(match t {
                None => Some(coerce_unknown(e, DataType::Int4)?),
                Some(DataType::Int4) => Some(e),
                Some(DataType::Int2) => Some(Expr::Cast(Box::new(e), DataType::Int4)),
                Some(_) => None,
            })
        };
        let value_type = |t: Option<DataType>| t.unwrap_or(DataType::Text).without_modifier();
        match func {
            WindowFunc::RowNumber | WindowFunc::Rank | WindowFunc::DenseRank => {
                if !bound.is_empty() {
                    return Err(no_fn(&bound));
                }
                Ok((vec![], Some(DataType::Int8)))
            }
            WindowFunc::PercentRank | WindowFunc::CumeDist => {
                if !bound.is_empty() {
                    return Err(no_fn(&bound));
                }
                Ok((vec![], Some(DataType::Float8)))
            }
            WindowFunc::Ntile => {
                if bound.len() != 1 {
                    return Err(no_fn(&bound));
                }
                let Some(n) = int4(bound[0].clone())? else {
                    return Err(no_fn(&bound));
                };
                Ok((vec![n], Some(DataType::Int4)))
            }
            WindowFunc::Lag | WindowFunc::Lead => {
                if bound.is_empty() || bound.len() > 3 {
                    return Err(no_fn(&bound));
                }
                let offset = match bound.get(1) {
                    Some(o) => match int4(o.clone())? {
                        Some(o) => o,
                        None => return Err(no_fn(&bound)),
                    },
                    None => Expr::Literal(zqlite_projections::value::Value::Int4(1)),
                };
                let (value, vt) = bound[0].clone();
                let (value, default, ty) = match bound.get(2) {
                    None => {
                        let ty = value_type(vt);
                        let value = coerce_to(value, vt, Some(ty))?;
                        (
                            value,
                            Expr::Literal(zqlite_projections::value::Value::Null),
                            ty,
                        )
                    }
                    Some((d, dt)) => {
                        let ty = common_type(&[vt, *dt], w.name)?.map_or(DataType::Text, |t| t);
                        (
                            coerce_to(value, vt, Some(ty))?,
                            coerce_to(d.clone(), *dt, Some(ty))?,
                            ty.without_modifier(),
                        )
                    }
                };
                Ok((vec![value, offset, default], Some(ty)))
            }
            WindowFunc::FirstValue | WindowFunc::LastValue => {
                if bound.len() != 1 {
                    return Err(no_fn(&bound));
                }
                let (value, vt) = bound[0].clone();
                let ty = value_type(vt);
                Ok((vec![coerce_to(value, vt, Some(ty))?], vt.or(Some(ty))))
            }
            WindowFunc::NthValue => {
                if bound.len() != 2 {
                    return Err(no_fn(&bound));
                }
                let Some(n) = int4(bound[1].clone())? else {
                    return Err(no_fn(&bound));
                };
                let (value, vt) = bound[0].clone();
                let ty = value_type(vt);
                Ok((vec![coerce_to(value, vt, Some(ty))?, n], vt.or(Some(ty))))
            }
            WindowFunc::Aggregate => Err(internal_aggregate()),
        }
    }

    /// Binds and checks a frame clause.
    fn frame(
        &mut self,
        f: &ast::WindowFrame,
        order_by: &[SortKey],
        order_types: &[DataType],
    ) -> Result<Frame> {
        let units = match f.units {
            ast::WindowFrameUnits::Rows => FrameUnits::Rows,
            ast::WindowFrameUnits::Range => FrameUnits::Range,
            ast::WindowFrameUnits::Groups => FrameUnits::Groups,
        };
        let frame_err = |m: &str| Error::bind("42P20", m.to_string());
        use ast::WindowFrameBound as B;
        match (&f.start_bound, &f.end_bound) {
            (B::Following(None), _) => {
                return Err(frame_err("frame start cannot be UNBOUNDED FOLLOWING"));
            }
            (_, Some(B::Preceding(None))) => {
                return Err(frame_err("frame end cannot be UNBOUNDED PRECEDING"));
            }
            (B::CurrentRow, Some(B::Preceding(Some(_)))) => {
                return Err(frame_err(
                    "frame starting from current row cannot have preceding rows",
                ));
            }
            (B::Following(Some(_)), None) => {
                return Err(frame_err(
                    "frame starting from following row cannot end with current row",
                ));
            }
            (B::Following(Some(_)), Some(B::Preceding(_) | B::CurrentRow)) => {
                return Err(frame_err(
                    "frame starting from following row cannot have preceding rows",
                ));
            }
            _ => {}
        }
        let has_offset = |b: &B| matches!(b, B::Preceding(Some(_)) | B::Following(Some(_)));
        let any_offset = has_offset(&f.start_bound) || f.end_bound.as_ref().is_some_and(has_offset);
        if units == FrameUnits::Range && any_offset && order_by.len() != 1 {
            return Err(frame_err(
                "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column",
            ));
        }
        if units == FrameUnits::Groups && order_by.is_empty() {
            return Err(frame_err("GROUPS mode requires an ORDER BY clause"));
        }
        let start = self.frame_bound(units, &f.start_bound, order_types)?;
        let end = match &f.end_bound {
            None => FrameBound::CurrentRow,
            Some(b) => self.frame_bound(units, b, order_types)?,
        };
        Ok(Frame {
            units,
            start,
            end,
            exclusion: FrameExclusion::NoOthers,
        })
    }

    fn frame_bound(
        &mut self,
        units: FrameUnits,
        b: &ast::WindowFrameBound,
        order_types: &[DataType],
    ) -> Result<FrameBound> {
        use ast::WindowFrameBound as B;
        let offset = |binder: &mut Self, e: &ast::Expr| -> Result<Expr> {
            let (bound, ty) = binder.without_windows(WindowBan::InDefinition, |b| b.expr(e))?;
            let what = match units {
                FrameUnits::Rows => "ROWS",
                FrameUnits::Range => "RANGE",
                FrameUnits::Groups => "GROUPS",
            };
            let mut has_column = false;
            bound.walk(&mut |x| has_column |= matches!(x, Expr::Column(_) | Expr::AggRef(_)));
            if has_column {
                return Err(Error::bind(
                    "42P10",
                    format!("argument of {what} must not contain variables"),
                )
                .at(expr_loc(e)));
            }
            if units != FrameUnits::Range {
                return match ty {
                    None | Some(DataType::Int2 | DataType::Int4 | DataType::Int8) => {
                        coerce_to(bound, ty, Some(DataType::Int8))
                    }
                    Some(t) => Err(Error::bind(
                        "42804",
                        format!(
                            "argument of {what} must be type bigint, not type {}",
                            t.sql_name()
                        ),
                    )
                    .at(expr_loc(e))),
                };
            }
            // RANGE: the offset is added to and subtracted from the ordering column, with
            // the offset types PostgreSQL's in_range support functions accept.
            let column = order_types[0].without_modifier();
            let is_int =
                |t: DataType| matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8);
            let is_float = |t: DataType| matches!(t, DataType::Float4 | DataType::Float8);
            let is_datetime = matches!(
                column,
                DataType::Date
                    | DataType::Timestamp
                    | DataType::TimestampTz
                    | DataType::Interval
                    | DataType::Time
            );
            let target = if is_int(column) {
                match ty {
                    Some(t) if is_int(t) => t,
                    None => column,
                    Some(_) => DataType::Text,
                }
            } else if is_float(column) {
                match ty {
                    Some(t) if t.category() != TypeCategory::Numeric => DataType::Text,
                    _ => DataType::Float8,
                }
            } else if column.category() == TypeCategory::Numeric {
                match ty {
                    Some(t) if is_float(t) || t.category() != TypeCategory::Numeric => {
                        DataType::Text
                    }
                    _ => column,
                }
            } else if is_datetime {
                match ty {
                    None | Some(DataType::Interval) => DataType::Interval,
                    Some(_) => DataType::Text,
                }
            } else {
                return Err(Error::bind(
                    "0A000",
                    format!(
                        "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {}",
                        column.sql_name()
                    ),
                )
                .at(expr_loc(e)));
            };
            if target == DataType::Text {
                return Err(Error::bind(
                    "0A000",
                    format!(
                        "RANGE with offset PRECEDING/FOLLOWING is not supported for column type {} and offset type {}",
                        column.sql_name(),
                        ty.map_or("unknown", |t| t.sql_name())
                    ),
                )
                .at(expr_loc(e)));
            }
            coerce_to(bound, ty, Some(target))
        };
        Ok(match b {
            B::CurrentRow => FrameBound::CurrentRow,
            B::Preceding(None) => FrameBound::UnboundedPreceding,
            B::Following(None) => FrameBound::UnboundedFollowing,
            B::Preceding(Some(e)) => FrameBound::Preceding(offset(self, e)?),
            B::Following(Some(e)) => FrameBound::Following(offset(self, e)?),
        })
    }
}

fn internal_aggregate() -> Error {
    crate::exec::internal("an aggregate bound as a window-only function")
}

/// Merges `spec` with the named window it copies (`OVER (w ORDER BY ...)`), with
/// PostgreSQL's rules: PARTITION BY is never overridden, ORDER BY only when the copied
/// window has none, and a window with a frame clause is not copied (only referenced as
/// `OVER w`).
fn resolve_spec(
    named: &[(String, ast::WindowSpec)],
    spec: &ast::WindowSpec,
) -> Result<ast::WindowSpec> {
    let (base_name, exclusion) = window_syntax::split_name(spec.window_name.as_ref());
    let Some(base_ident) = base_name else {
        return Ok(spec.clone());
    };
    let base_name = super::ident_name(&base_ident);
    let Some((_, base)) = named.iter().find(|(n, _)| *n == base_name) else {
        return Err(
            Error::bind("42704", format!("window \"{base_name}\" does not exist"))
                .at(super::ident_loc(&base_ident)),
        );
    };
    if !spec.partition_by.is_empty() {
        return Err(Error::bind(
            "42P20",
            format!("cannot override PARTITION BY clause of window \"{base_name}\""),
        ));
    }
    if !spec.order_by.is_empty() && !base.order_by.is_empty() {
        return Err(Error::bind(
            "42P20",
            format!("cannot override ORDER BY clause of window \"{base_name}\""),
        ));
    }
    if base.window_frame.is_some() {
        return Err(Error::bind(
            "42P20",
            format!("cannot copy window \"{base_name}\" because it has a frame clause"),
        ));
    }
    Ok(ast::WindowSpec {
        window_name: window_syntax::exclusion_name(exclusion),
        partition_by: base.partition_by.clone(),
        order_by: if spec.order_by.is_empty() {
            base.order_by.clone()
        } else {
            spec.order_by.clone()
        },
        window_frame: spec.window_frame.clone(),
    })
}
