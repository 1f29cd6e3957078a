//! Binding function calls: scalar functions (resolved in `functions.rs`) and aggregates,
//! which are collected per query level and replaced by [`Expr::AggRef`] placeholders.

use sqlparser::ast;
use zqlite_projections::value::{AggregateKind, DataType, aggregate_result_type};

use super::Binder;
use super::expr::{Typed, coerce_to, coerce_unknown};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{AggCall, AggFunc};

impl Binder<'_> {
    pub(crate) fn function(&mut self, f: &ast::Function) -> Result<Typed> {
        let name = super::object_name(&f.name)?;
        let (args, distinct) = match &f.args {
            ast::FunctionArguments::None => (Vec::new(), false),
            ast::FunctionArguments::List(list) => (
                list.args.clone(),
                matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                ),
            ),
            ast::FunctionArguments::Subquery(_) => {
                return Err(Error::unsupported("a subquery as function arguments"));
            }
        };
        if f.over.is_some() {
            return Err(Error::unsupported("window functions"));
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
            _ => None,
        };
        let mut exprs = Vec::new();
        let mut star = false;
        for a in &args {
            match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => exprs.push(e),
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) if name == "count" => {
                    star = true
                }
                other => return Err(Error::unsupported(format!("function argument {other}"))),
            }
        }
        let Some(func) = agg else {
            if f.filter.is_some() || distinct {
                return Err(Error::bind(
                    "42809",
                    format!(
                        "DISTINCT or FILTER specified, but {name} is not an aggregate function"
                    ),
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
                "aggregate functions are not allowed here",
            ));
        };
        let result = self.aggregate(func, star, &exprs, distinct, f.filter.as_deref(), &name);
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

    fn aggregate(
        &mut self,
        func: AggFunc,
        star: bool,
        args: &[&ast::Expr],
        distinct: bool,
        filter: Option<&ast::Expr>,
        name: &str,
    ) -> Result<(AggCall, Option<DataType>)> {
        let filter = filter.map(|f| self.predicate(f, "FILTER")).transpose()?;
        if star {
            return Ok((
                AggCall {
                    func: AggFunc::CountStar,
                    arg: None,
                    extra: None,
                    distinct: false,
                    filter,
                },
                Some(DataType::Int8),
            ));
        }
        let expected = if func == AggFunc::StringAgg { 2 } else { 1 };
        if args.len() != expected {
            return Err(Error::bind(
                "42883",
                format!(
                    "function {name} with {} arguments does not exist",
                    args.len()
                ),
            ));
        }
        let (arg, at) = self.expr(args[0])?;
        let (arg, at) = match at {
            Some(t) => (arg, t),
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
                if !at.is_comparable() {
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
            AggFunc::CountStar => (DataType::Int8, None),
        };
        Ok((
            AggCall {
                func,
                arg: Some(arg),
                extra,
                distinct,
                filter,
            },
            Some(ty),
        ))
    }
}
