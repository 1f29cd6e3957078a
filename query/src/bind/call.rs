//! Binding function calls: scalar functions (resolved in `functions.rs`) and aggregates,
//! which are collected per query level and replaced by [`Expr::AggRef`] placeholders.

use sqlparser::ast;
use zqlite_projections::value::{AggregateKind, DataType, aggregate_result_type};

use super::expr::{Typed, coerce_to, coerce_unknown};
use super::{Binder, ident_name};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{AggCall, AggFunc};

fn json_type(jsonb: bool) -> DataType {
    if jsonb {
        DataType::Jsonb
    } else {
        DataType::Json
    }
}

/// An aggregate call as written: `name([DISTINCT] args ORDER BY ...) FILTER (WHERE ...)`.
pub(super) struct AggregateSyntax<'a> {
    pub name: &'a str,
    /// `count(*)`.
    pub star: bool,
    pub args: &'a [&'a ast::Expr],
    pub distinct: bool,
    pub filter: Option<&'a ast::Expr>,
    pub order_by: &'a [ast::OrderByExpr],
}

impl Binder<'_> {
    pub(crate) fn function(&mut self, f: &ast::Function) -> Result<Typed> {
        let name = super::object_name(&f.name)?;
        let mut order_by: &[ast::OrderByExpr] = &[];
        let (args, distinct) = match &f.args {
            ast::FunctionArguments::None => (Vec::new(), false),
            ast::FunctionArguments::List(list) => {
                for clause in &list.clauses {
                    match clause {
                        ast::FunctionArgumentClause::OrderBy(items) => order_by = items,
                        other => {
                            return Err(Error::unsupported(format!(
                                "{other} in the arguments of {name}"
                            )));
                        }
                    }
                }
                (
                    list.args.clone(),
                    matches!(
                        list.duplicate_treatment,
                        Some(ast::DuplicateTreatment::Distinct)
                    ),
                )
            }
            ast::FunctionArguments::Subquery(q) if name == "array" => {
                return self.array_subquery(q);
            }
            ast::FunctionArguments::Subquery(_) => {
                return Err(Error::unsupported("a subquery as function arguments"));
            }
        };
        if !f.within_group.is_empty() {
            return Err(Error::unsupported(format!("WITHIN GROUP for {name}")));
        }
        let agg = match name.as_str() {
            "count" => Some(AggFunc::Count),
            "sum" => Some(AggFunc::Sum),
            "avg" => Some(AggFunc::Avg),
            "min" => Some(AggFunc::Min),
            "max" => Some(AggFunc::Max),
            "string_agg" => Some(AggFunc::StringAgg),
            "bool_and" | "every" => Some(AggFunc::BoolAnd),
            "bool_or" => Some(AggFunc::BoolOr),
            "array_agg" => Some(AggFunc::ArrayAgg {
                elem: DataType::Text,
            }),
            "jsonb_agg" | "json_agg" => Some(AggFunc::JsonAgg {
                jsonb: name == "jsonb_agg",
                rows: false,
            }),
            "jsonb_object_agg" | "json_object_agg" => Some(AggFunc::JsonObjectAgg {
                jsonb: name == "jsonb_object_agg",
            }),
            _ => None,
        };
        let zero = ast::Expr::value(ast::Value::Number("0".into(), false));
        let mut exprs = Vec::new();
        let mut star = false;
        let named = crate::datetime_functions::named_parameters(&name);
        if let Some(params) = named {
            exprs = self.named_arguments(&name, params, &args, &zero)?;
        }
        for a in args.iter().filter(|_| named.is_none()) {
            match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => exprs.push(e),
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) if name == "count" => {
                    star = true
                }
                other => return Err(Error::unsupported(format!("function argument {other}"))),
            }
        }
        if matches!(
            name.as_str(),
            "rank" | "dense_rank" | "percent_rank" | "cume_dist"
        ) && !exprs.is_empty()
        {
            // With arguments these name the hypothetical-set aggregates.
            return Err(Error::bind(
                "42809",
                format!("WITHIN GROUP is required for ordered-set aggregate {name}"),
            ));
        }
        if let Some(over) = &f.over {
            if f.null_treatment.is_some() {
                // PostgreSQL 15's grammar has no null treatment clause.
                return Err(Error::bind("42601", "syntax error at or near \"NULLS\""));
            }
            let saved_set_calls = self.set_calls.take();
            let result = self.window_call(&super::window::WindowSyntax {
                name: &name,
                agg,
                star,
                args: &exprs,
                distinct,
                filter: f.filter.as_deref(),
                order_by,
                over,
            });
            self.set_calls = saved_set_calls;
            return result;
        }
        if matches!(name.as_str(), "to_json" | "to_jsonb" | "row_to_json")
            && f.over.is_none()
            && let Some(typed) = self.record_call(&name, &exprs)?
        {
            return Ok(typed);
        }
        if crate::set_functions::is_set_function(&name) && f.over.is_none() && agg.is_none() {
            return self.set_call(&name, &exprs);
        }
        if name == "grouping" && f.over.is_none() {
            if self.aggs.is_none() {
                return Err(Error::bind(
                    "42803",
                    "grouping operations are not allowed here",
                ));
            }
            if exprs.is_empty() || exprs.len() > 31 {
                return Err(Error::bind(
                    "54023",
                    "GROUPING must have between 1 and 31 arguments",
                ));
            }
            let mut bound = Vec::new();
            for e in exprs {
                bound.push(self.expr(e)?.0);
            }
            return Ok((
                Expr::Function(crate::functions::Func::Grouping, bound),
                Some(DataType::Int4),
            ));
        }
        let Some(func) = agg else {
            if super::window::window_only(&name).is_some() {
                return Err(Error::bind(
                    "42809",
                    format!("window function {name} requires an OVER clause"),
                ));
            }
            if f.filter.is_some() || distinct || !order_by.is_empty() {
                let what = if order_by.is_empty() {
                    "DISTINCT or FILTER"
                } else {
                    "ORDER BY"
                };
                return Err(Error::bind(
                    "42809",
                    format!("{what} specified, but {name} is not an aggregate function"),
                ));
            }
            let mut bound = Vec::new();
            for e in exprs {
                bound.push(self.expr(e)?);
            }
            return self.call_scalar(&name, bound);
        };
        let Some(mut collector) = self.aggs.take() else {
            return Err(Error::bind(
                "42803",
                match self.aggregates_banned_in {
                    Some(place) => format!("aggregate functions are not allowed in {place}"),
                    None => "aggregate functions are not allowed here".into(),
                },
            ));
        };
        // No set-returning calls inside an aggregate's arguments.
        let saved_set_calls = self.set_calls.take();
        let result = self.without_windows(super::window::WindowBan::InAggregate, |b| {
            b.aggregate(
                func,
                &AggregateSyntax {
                    name: &name,
                    star,
                    args: &exprs,
                    distinct,
                    filter: f.filter.as_deref(),
                    order_by,
                },
            )
        });
        self.set_calls = saved_set_calls;
        let (call, ty) = match result {
            Ok(v) => v,
            Err(e) => {
                self.aggs = Some(collector);
                return Err(e);
            }
        };
        let index = match collector.calls.iter().position(|c| *c == call) {
            Some(i) => i,
            None => {
                collector.calls.push(call);
                collector.types.push(ty);
                collector.calls.len() - 1
            }
        };
        self.aggs = Some(collector);
        Ok((Expr::AggRef(index), ty))
    }

    /// A set-returning function in a select list: recorded for the ProjectSet node, and
    /// replaced by a placeholder for its value.
    fn set_call(&mut self, name: &str, exprs: &[&ast::Expr]) -> Result<Typed> {
        let Some(mut calls) = self.set_calls.take() else {
            return Err(Error::unsupported(format!(
                "{name}() outside FROM and the top level of a select list"
            )));
        };
        // Arguments are bound without set-returning calls of their own.
        let mut bound = Vec::new();
        let mut types = Vec::new();
        let mut failure = None;
        for e in exprs {
            match self.expr(e) {
                Ok((x, t)) => {
                    bound.push(x);
                    types.push(t);
                }
                Err(err) => {
                    failure = Some(err);
                    break;
                }
            }
        }
        let resolved = match failure {
            Some(err) => Err(err),
            None => crate::set_functions::resolve(name, &types),
        };
        let result = resolved.and_then(|resolved| {
            let [(_, ty)] = resolved.columns.as_slice() else {
                return Err(Error::unsupported(format!(
                    "{name}() returning several columns in a select list (call it in FROM)"
                )));
            };
            let ty = *ty;
            let args = bound
                .into_iter()
                .zip(types)
                .zip(&resolved.arg_types)
                .map(|((e, from), to)| match to {
                    Some(to) => coerce_to(e, from, Some(*to)),
                    None => Ok(e),
                })
                .collect::<Result<Vec<_>>>()?;
            calls.push((resolved.func, args));
            Ok((Expr::SetRef(calls.len() - 1), Some(ty)))
        });
        self.set_calls = Some(calls);
        result
    }

    /// The arguments of a call to a function with named parameters, in parameter order;
    /// the ones not given are `default`.
    fn named_arguments<'e>(
        &self,
        name: &str,
        params: &[&str],
        args: &'e [ast::FunctionArg],
        default: &'e ast::Expr,
    ) -> Result<Vec<&'e ast::Expr>> {
        let mut slots: Vec<Option<&ast::Expr>> = vec![None; params.len()];
        let mut named_seen = false;
        for (i, a) in args.iter().enumerate() {
            let (slot, e) = match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) if !named_seen => (i, e),
                ast::FunctionArg::Unnamed(_) => {
                    return Err(Error::bind(
                        "42601",
                        "positional argument cannot follow named argument",
                    ));
                }
                ast::FunctionArg::Named {
                    name: param,
                    arg: ast::FunctionArgExpr::Expr(e),
                    ..
                }
                | ast::FunctionArg::ExprNamed {
                    name: ast::Expr::Identifier(param),
                    arg: ast::FunctionArgExpr::Expr(e),
                    ..
                } => {
                    named_seen = true;
                    let param = ident_name(param);
                    let Some(slot) = params.iter().position(|p| *p == param) else {
                        return Err(Error::bind(
                            "42883",
                            format!("function {name} has no parameter named \"{param}\""),
                        ));
                    };
                    (slot, e)
                }
                other => return Err(Error::unsupported(format!("function argument {other}"))),
            };
            match slots.get_mut(slot) {
                Some(s @ None) => *s = Some(e),
                Some(Some(_)) => {
                    return Err(Error::bind(
                        "42601",
                        format!("argument name \"{}\" used more than once", params[slot]),
                    ));
                }
                None => {
                    return Err(Error::bind(
                        "42883",
                        format!("function {name} takes at most {} arguments", params.len()),
                    ));
                }
            }
        }
        Ok(slots.into_iter().map(|s| s.unwrap_or(default)).collect())
    }

    /// `to_json`, `to_jsonb` or `row_to_json` of a record (`bind/record.rs`); `None` for
    /// other arguments, except that `row_to_json` takes nothing else.
    fn record_call(&mut self, name: &str, args: &[&ast::Expr]) -> Result<Option<Typed>> {
        let pretty = match (name, args) {
            ("row_to_json", [_, flag]) => match flag {
                ast::Expr::Value(v) => match &v.value {
                    ast::Value::Boolean(b) => *b,
                    _ => {
                        return Err(Error::unsupported(
                            "a row_to_json pretty flag that is not a constant",
                        ));
                    }
                },
                _ => {
                    return Err(Error::unsupported(
                        "a row_to_json pretty flag that is not a constant",
                    ));
                }
            },
            (_, [_]) => false,
            _ => return Ok(None),
        };
        let record = self.record_json(args[0], name == "to_jsonb", pretty)?;
        if record.is_none() && name == "row_to_json" {
            let (_, ty) = self.expr(args[0])?;
            let ty = ty.map_or("unknown".to_string(), |t| t.sql_name().to_string());
            return Err(Error::bind(
                "42883",
                format!("function row_to_json({ty}) does not exist"),
            ));
        }
        Ok(record)
    }

    pub(super) fn aggregate(
        &mut self,
        func: AggFunc,
        syntax: &AggregateSyntax<'_>,
    ) -> Result<(AggCall, Option<DataType>)> {
        let AggregateSyntax {
            name,
            star,
            args,
            distinct,
            filter,
            order_by,
        } = *syntax;
        let filter = filter.map(|f| self.predicate(f, "FILTER")).transpose()?;
        let mut order = Vec::with_capacity(order_by.len());
        for item in order_by {
            let (e, t) = self.expr(&item.expr)?;
            let e = match t {
                Some(_) => e,
                None => coerce_unknown(e, DataType::Text)?,
            };
            order.push(super::query::sort_key(e, &item.options));
        }
        if star {
            return Ok((
                AggCall {
                    func: AggFunc::CountStar,
                    arg: None,
                    extra: None,
                    distinct: false,
                    filter,
                    order_by: order,
                },
                Some(DataType::Int8),
            ));
        }
        let expected = if matches!(func, AggFunc::StringAgg | AggFunc::JsonObjectAgg { .. }) {
            2
        } else {
            1
        };
        if args.len() != expected {
            return Err(Error::bind(
                "42883",
                format!(
                    "function {name} with {} arguments does not exist",
                    args.len()
                ),
            ));
        }
        // `json_agg(t)` / `jsonb_agg(t)` of a whole row (`bind/record.rs`).
        let record = match func {
            AggFunc::JsonAgg { jsonb, .. } => self.record_json(args[0], jsonb, false)?,
            _ => None,
        };
        let rows = record.is_some();
        let (arg, at) = match record {
            Some(typed) => typed,
            None => self.expr(args[0])?,
        };
        let (arg, at) = match at {
            Some(t) => (arg, t),
            None if matches!(func, AggFunc::JsonAgg { .. }) => {
                return Err(Error::bind(
                    "42804",
                    "could not determine polymorphic type because input has type unknown",
                ));
            }
            None => {
                let t = if matches!(func, AggFunc::BoolAnd | AggFunc::BoolOr) {
                    DataType::Bool
                } else {
                    DataType::Text
                };
                (coerce_unknown(arg, t)?, t)
            }
        };
        let no_fn = || {
            Error::bind(
                "42883",
                format!("function {name}({}) does not exist", at.sql_name()),
            )
        };
        if distinct && let Some(item) = order_by.iter().zip(&order).find(|(_, key)| key.expr != arg)
        {
            return Err(Error::bind(
                "42P10",
                "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list",
            )
            .at(super::expr::expr_loc(&item.0.expr)));
        }
        if distinct && matches!(func, AggFunc::JsonObjectAgg { .. }) {
            return Err(Error::unsupported(format!("DISTINCT in {name}")));
        }
        if distinct
            && order.is_empty()
            && matches!(
                func,
                AggFunc::StringAgg | AggFunc::ArrayAgg { .. } | AggFunc::JsonAgg { .. }
            )
        {
            // PostgreSQL removes duplicates by sorting, so the result comes out sorted.
            order.push(crate::plan::SortKey {
                expr: arg.clone(),
                desc: false,
                nulls_first: false,
            });
        }
        let mut func = func;
        let (ty, extra) = match func {
            AggFunc::Count => (DataType::Int8, None),
            AggFunc::Sum => (
                aggregate_result_type(AggregateKind::Sum, &at).map_err(|_| no_fn())?,
                None,
            ),
            AggFunc::Avg => (
                aggregate_result_type(AggregateKind::Avg, &at).map_err(|_| no_fn())?,
                None,
            ),
            AggFunc::Min | AggFunc::Max => {
                // PostgreSQL 15 has no min/max for these types, though they compare.
                let no_extreme = matches!(
                    at,
                    DataType::Bool | DataType::Bytea | DataType::Uuid | DataType::Jsonb
                );
                if !at.is_comparable() || no_extreme {
                    return Err(no_fn());
                }
                (at.without_modifier(), None)
            }
            AggFunc::StringAgg => {
                if at.category() != zqlite_projections::value::TypeCategory::String {
                    return Err(no_fn());
                }
                let (sep, st) = self.expr(args[1])?;
                let sep = coerce_to(sep, st, Some(DataType::Text))?;
                (DataType::Text, Some(sep))
            }
            AggFunc::BoolAnd | AggFunc::BoolOr => {
                if at != DataType::Bool {
                    return Err(no_fn());
                }
                (DataType::Bool, None)
            }
            AggFunc::ArrayAgg { .. } => {
                let ty = at.array_type()?;
                func = AggFunc::ArrayAgg {
                    elem: at.without_modifier(),
                };
                (ty, None)
            }
            AggFunc::JsonAgg { jsonb, .. } => {
                func = AggFunc::JsonAgg { jsonb, rows };
                (json_type(jsonb), None)
            }
            AggFunc::JsonObjectAgg { jsonb } => {
                let (value, vt) = self.expr(args[1])?;
                let value = match vt {
                    Some(_) => value,
                    None => coerce_unknown(value, DataType::Text)?,
                };
                (json_type(jsonb), Some(value))
            }
            AggFunc::CountStar => (DataType::Int8, None),
        };
        Ok((
            AggCall {
                func,
                arg: Some(arg),
                extra,
                distinct,
                filter,
                order_by: order,
            },
            Some(ty),
        ))
    }
}
