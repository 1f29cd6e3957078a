//! Binding expressions: names to positions, literals to values, operators and functions to
//! their typed implementations. Unknown-typed literals (`'abc'`, `NULL`) take the type the
//! context asks for, as in PostgreSQL.

use sqlparser::ast::{self, BinaryOperator as B, UnaryOperator as U};
use sqlparser::tokenizer::Span;
use zqlite_projections::value::{
    BinaryOp, DataType, Numeric, UnaryOp, Value, binary_result_type, cast_context, parse_value,
    unary_result_type,
};

use super::{Binder, data_type, ident_loc, ident_name};
use crate::array_functions::{self, ArrayFunc};
use crate::datetime_functions;
use crate::error::{Error, Location, Result};
use crate::expr::{Expr, Subquery, SubqueryKind};
use crate::functions::{self, Func, common_type};
use crate::json_functions;
use crate::math_functions;
use crate::regexp_functions::{self, RegexpFunc};
use crate::system::catalog_functions::{self, CatalogFunc};
use crate::text_functions;

/// A bound expression and its type (`None`: an unknown-typed literal).
pub(crate) type Typed = (Expr, Option<DataType>);

fn loc_of(span: Span) -> Option<Location> {
    Location::from_sql(span.start)
}

/// Where an expression starts in the SQL text, if sqlparser knows.
pub(crate) fn expr_loc(e: &ast::Expr) -> Option<Location> {
    use sqlparser::ast::Spanned;
    loc_of(e.span())
}

/// Turns an unknown-typed expression into one of type `ty` (literals are converted now).
pub(crate) fn coerce_unknown(e: Expr, ty: DataType) -> Result<Expr> {
    Ok(match e {
        Expr::Literal(Value::Text(s)) => Expr::Literal(parse_value(&s, &ty)?),
        Expr::Literal(Value::Null) => Expr::Literal(Value::Null),
        other => Expr::Cast(Box::new(other), ty),
    })
}

/// Converts `e` of type `from` to `to` for a common-type context (CASE, COALESCE, UNION).
pub(crate) fn coerce_to(e: Expr, from: Option<DataType>, to: Option<DataType>) -> Result<Expr> {
    match (from, to) {
        (_, None) => Ok(e),
        (None, Some(t)) => coerce_unknown(e, t),
        (Some(f), Some(t)) if f == t || f.without_modifier() == t.without_modifier() => Ok(e),
        (Some(_), Some(t)) => Ok(Expr::Cast(Box::new(e), t)),
    }
}

pub(super) fn binary_op_of(op: &B) -> Option<BinaryOp> {
    Some(match op {
        B::Plus => BinaryOp::Add,
        B::Minus => BinaryOp::Sub,
        B::Multiply => BinaryOp::Mul,
        B::Divide => BinaryOp::Div,
        B::Modulo => BinaryOp::Mod,
        B::Eq => BinaryOp::Eq,
        B::NotEq => BinaryOp::NotEq,
        B::Lt => BinaryOp::Lt,
        B::LtEq => BinaryOp::LtEq,
        B::Gt => BinaryOp::Gt,
        B::GtEq => BinaryOp::GtEq,
        B::StringConcat => BinaryOp::Concat,
        _ => return None,
    })
}

/// A cast target with a fractional-seconds precision (`timestamp(0)`, `time(2)`,
/// `interval(1)`, `interval second(0)`): the type without it, and the precision (at most 6).
pub(crate) fn datetime_precision(dt: &ast::DataType) -> Option<(ast::DataType, u8)> {
    use ast::DataType as D;
    let clamp = |p: u64| p.min(6) as u8;
    match dt {
        D::Timestamp(Some(p), tz) => Some((D::Timestamp(None, *tz), clamp(*p))),
        D::Time(Some(p), tz @ (ast::TimezoneInfo::None | ast::TimezoneInfo::WithoutTimeZone)) => {
            Some((D::Time(None, *tz), clamp(*p)))
        }
        D::Interval {
            fields: None | Some(ast::IntervalFields::Second),
            precision: Some(p),
        } => Some((
            D::Interval {
                fields: None,
                precision: None,
            },
            clamp(*p),
        )),
        _ => None,
    }
}

/// The symbol of an operator of `math_functions.rs`.
fn math_operator(op: &B) -> Option<&'static str> {
    Some(match op {
        B::PGExp => "^",
        B::BitwiseAnd => "&",
        B::BitwiseOr => "|",
        B::PGBitwiseXor => "#",
        B::PGBitwiseShiftLeft => "<<",
        B::PGBitwiseShiftRight => ">>",
        _ => return None,
    })
}

/// `-(a ^ b)` as sqlparser parses `-a ^ b`, rewritten to PostgreSQL's `(-a) ^ b` (the
/// minus moves down the left operands of a `^` chain); `None` when `e` is not a `^`.
fn minus_under_power(e: &ast::Expr) -> Option<ast::Expr> {
    let ast::Expr::BinaryOp {
        left,
        op: B::PGExp,
        right,
    } = e
    else {
        return None;
    };
    let negated = ast::Expr::UnaryOp {
        op: U::Minus,
        expr: left.clone(),
    };
    let left = minus_under_power(left).unwrap_or(negated);
    Some(ast::Expr::BinaryOp {
        left: Box::new(left),
        op: B::PGExp,
        right: right.clone(),
    })
}

/// `OPERATOR(pg_catalog.~)` and the like: the operator named, in `pg_catalog` (the only
/// schema with operators).
fn custom_operator(parts: &[String]) -> Result<B> {
    let (symbol, schema) = match parts {
        [symbol] => (symbol.as_str(), None),
        [schema, symbol] => (symbol.as_str(), Some(schema.as_str())),
        _ => {
            return Err(Error::bind(
                "42601",
                format!("improper qualified name: {}", parts.join(".")),
            ));
        }
    };
    if schema.is_some_and(|s| s != "pg_catalog") {
        return Err(Error::bind(
            "42883",
            format!("operator does not exist: {}", parts.join(".")),
        ));
    }
    Ok(match symbol {
        "~" => B::PGRegexMatch,
        "~*" => B::PGRegexIMatch,
        "!~" => B::PGRegexNotMatch,
        "!~*" => B::PGRegexNotIMatch,
        "=" => B::Eq,
        "<>" | "!=" => B::NotEq,
        "<" => B::Lt,
        "<=" => B::LtEq,
        ">" => B::Gt,
        ">=" => B::GtEq,
        "+" => B::Plus,
        "-" => B::Minus,
        "*" => B::Multiply,
        "/" => B::Divide,
        "%" => B::Modulo,
        "||" => B::StringConcat,
        "->" => B::Arrow,
        "->>" => B::LongArrow,
        "#>" => B::HashArrow,
        "#>>" => B::HashLongArrow,
        "?" => B::Question,
        "?&" => B::QuestionAnd,
        "?|" => B::QuestionPipe,
        "#-" => B::HashMinus,
        "@>" => B::AtArrow,
        "<@" => B::ArrowAt,
        "&&" => B::PGOverlap,
        other => {
            return Err(Error::bind(
                "42883",
                format!("operator does not exist: pg_catalog.{other}"),
            ));
        }
    })
}

/// The regular-expression operators: (case-insensitive, negated).
fn regex_op(op: &B) -> Option<(bool, bool)> {
    match op {
        B::PGRegexMatch => Some((false, false)),
        B::PGRegexIMatch => Some((true, false)),
        B::PGRegexNotMatch => Some((false, true)),
        B::PGRegexNotIMatch => Some((true, true)),
        _ => None,
    }
}

fn number_literal(s: &str) -> Result<Value> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = s.parse::<i32>() {
            return Ok(Value::Int4(v));
        }
        if let Ok(v) = s.parse::<i64>() {
            return Ok(Value::Int8(v));
        }
    }
    Ok(Value::Numeric(Numeric::parse(s)?))
}

impl Binder<'_> {
    /// Binds an expression that must be boolean (WHERE, ON, HAVING, CHECK).
    pub(crate) fn predicate(&mut self, e: &ast::Expr, clause: &str) -> Result<Expr> {
        // The clauses where PostgreSQL names the place a window function is not allowed.
        let ban = match clause {
            "WHERE" => Some("WHERE"),
            "HAVING" => Some("HAVING"),
            "JOIN/ON" => Some("JOIN conditions"),
            "CHECK" => Some("check constraints"),
            _ => None,
        };
        let (b, ty) = match ban {
            Some(c) => self.without_windows(super::window::WindowBan::Clause(c), |b| b.expr(e))?,
            None => self.expr(e)?,
        };
        match ty {
            None => coerce_unknown(b, DataType::Bool),
            Some(DataType::Bool) => Ok(b),
            Some(t) => Err(Error::Bind {
                sqlstate: "42804",
                message: format!(
                    "argument of {clause} must be type boolean, not type {}",
                    t.sql_name()
                ),
                location: expr_loc(e),
            }),
        }
    }

    pub(crate) fn expr(&mut self, e: &ast::Expr) -> Result<Typed> {
        let loc = expr_loc(e);
        self.expr_inner(e).map_err(|err| err.at(loc))
    }

    fn bool_operand(&mut self, e: &ast::Expr, what: &str) -> Result<Expr> {
        self.predicate(e, what)
    }

    pub(crate) fn binary(&mut self, op: BinaryOp, l: Typed, r: Typed) -> Result<Typed> {
        let symbol = match op {
            BinaryOp::Concat => "||",
            BinaryOp::Sub => "-",
            _ => "",
        };
        if json_functions::is_jsonb_operator(symbol, l.1, r.1) {
            let resolved = json_functions::resolve_operator(symbol, l.1, r.1)?;
            return self.json_call(resolved, vec![l, r]);
        }
        if op == BinaryOp::Concat {
            let is_array = |t: Option<DataType>| t.is_some_and(|t| t.element_type().is_some());
            // `array || array`, `array || element`, `element || array` (an unknown literal
            // next to an array is read as an array, as in PostgreSQL).
            let name = match (l.1, r.1) {
                (a, b) if is_array(a) && is_array(b) => Some("array_cat"),
                (a, None) | (None, a) if is_array(a) => Some("array_cat"),
                (a, _) if is_array(a) => Some("array_append"),
                (_, b) if is_array(b) => Some("array_prepend"),
                _ => None,
            };
            if let Some(name) = name {
                let elems: Vec<Option<DataType>> = [l.1, r.1]
                    .iter()
                    .map(|t| t.and_then(|t| t.element_type().or(Some(t))))
                    .collect();
                if common_type(&elems, "||").is_err() {
                    let show = |t: Option<DataType>| t.map_or("unknown".into(), |t| t.to_string());
                    return Err(Error::bind(
                        "42883",
                        format!("operator does not exist: {} || {}", show(l.1), show(r.1)),
                    ));
                }
                let resolved = array_functions::resolve(name, &[l.1, r.1])?;
                let out = coerce_args(vec![l, r], &resolved.arg_types)?;
                return Ok((
                    Expr::Function(Func::Array(resolved.func), out),
                    Some(resolved.result),
                ));
            }
        }
        let ((mut le, lt), (mut re, rt)) = (l, r);
        let (lt, rt) = match (lt, rt) {
            (Some(a), Some(b)) => (a, b),
            (None, Some(b)) => {
                let a = if op == BinaryOp::Concat && b != DataType::Bytea {
                    DataType::Text
                } else {
                    b
                };
                le = coerce_unknown(le, a)?;
                (a, b)
            }
            (Some(a), None) => {
                let b = if op == BinaryOp::Concat && a != DataType::Bytea {
                    DataType::Text
                } else {
                    a
                };
                re = coerce_unknown(re, b)?;
                (a, b)
            }
            (None, None)
                if matches!(
                    op,
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
                ) =>
            {
                // Many types have these operators and nothing prefers one.
                return Err(Error::bind(
                    "42725",
                    format!("operator is not unique: unknown {} unknown", op.symbol()),
                ));
            }
            (None, None) => {
                le = coerce_unknown(le, DataType::Text)?;
                re = coerce_unknown(re, DataType::Text)?;
                (DataType::Text, DataType::Text)
            }
        };
        let ty = binary_result_type(op, &lt, &rt)?;
        // `anynonarray || text` casts its other operand to text (PostgreSQL inlines it), so
        // it is as immutable as that cast.
        if op == BinaryOp::Concat
            && !(lt == DataType::Bytea && rt == DataType::Bytea)
            && !(functions::cast_is_immutable(&lt, &DataType::Text)
                && functions::cast_is_immutable(&rt, &DataType::Text))
        {
            self.mutable_calls = true;
        }
        Ok((Expr::Binary(op, Box::new(le), Box::new(re)), Some(ty)))
    }

    fn expr_inner(&mut self, e: &ast::Expr) -> Result<Typed> {
        use ast::Expr as E;
        match e {
            E::Identifier(ident) => self.resolve_column(None, &ident_name(ident), ident_loc(ident)),
            E::CompoundIdentifier(parts) => {
                let n = parts.len();
                if n < 2 {
                    return Err(Error::unsupported(format!("identifier {e}")));
                }
                let table = ident_name(&parts[n - 2]);
                self.resolve_column(
                    Some(&table),
                    &ident_name(&parts[n - 1]),
                    ident_loc(&parts[n - 1]),
                )
            }
            E::Value(v) => self.literal(&v.value),
            E::TypedString(ts) => {
                let ty = data_type(&ts.data_type)?;
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                Ok((Expr::Literal(parse_value(&text, &ty)?), Some(ty)))
            }
            E::Nested(inner) => self.expr(inner),
            E::BinaryOp { left, op, right } => match op {
                B::And | B::Or => {
                    let l = self.bool_operand(left, if *op == B::And { "AND" } else { "OR" })?;
                    let r = self.bool_operand(right, if *op == B::And { "AND" } else { "OR" })?;
                    let e = if *op == B::And {
                        Expr::And(Box::new(l), Box::new(r))
                    } else {
                        Expr::Or(Box::new(l), Box::new(r))
                    };
                    Ok((e, Some(DataType::Bool)))
                }
                B::Arrow
                | B::LongArrow
                | B::HashArrow
                | B::HashLongArrow
                | B::Question
                | B::QuestionAnd
                | B::QuestionPipe
                | B::HashMinus
                | B::AtQuestion
                | B::AtAt => {
                    let l = self.expr(left)?;
                    let r = self.expr(right)?;
                    let resolved = json_functions::resolve_operator(&op.to_string(), l.1, r.1)?;
                    self.json_call(resolved, vec![l, r])
                }
                B::AtArrow | B::ArrowAt | B::PGOverlap => {
                    let l = self.expr(left)?;
                    let r = self.expr(right)?;
                    self.containment(&op.to_string(), l, r)
                }
                _ => {
                    let op = &match op {
                        B::PGCustomBinaryOperator(parts) => custom_operator(parts)?,
                        other => other.clone(),
                    };
                    if matches!(
                        op,
                        B::Arrow
                            | B::LongArrow
                            | B::HashArrow
                            | B::HashLongArrow
                            | B::Question
                            | B::QuestionAnd
                            | B::QuestionPipe
                            | B::HashMinus
                            | B::AtQuestion
                            | B::AtAt
                            | B::AtArrow
                            | B::ArrowAt
                            | B::PGOverlap
                    ) {
                        // OPERATOR(pg_catalog.@>) and the like.
                        let e = ast::Expr::BinaryOp {
                            left: left.clone(),
                            op: op.clone(),
                            right: right.clone(),
                        };
                        return self.expr_inner(&e);
                    }
                    if let Some((case_insensitive, negated)) = regex_op(op) {
                        return self.regex(left, right, op, case_insensitive, negated);
                    }
                    if *op == B::Overlaps {
                        return self.overlaps(left, right);
                    }
                    if let Some(bound) = self.row_comparison(left, op, right) {
                        return bound;
                    }
                    if let Some(symbol) = math_operator(op) {
                        let l = self.expr(left)?;
                        let r = self.expr(right)?;
                        return self.math_operator(symbol, vec![l, r]);
                    }
                    let Some(bop) = binary_op_of(op) else {
                        return Err(Error::unsupported(format!("operator {op}")));
                    };
                    let l = self.expr(left)?;
                    let r = self.expr(right)?;
                    self.binary(bop, l, r)
                }
            },
            E::UnaryOp { op, expr } => {
                let uop = match op {
                    U::Minus => UnaryOp::Neg,
                    U::Plus => UnaryOp::Plus,
                    U::Not => {
                        let b = self.bool_operand(expr, "NOT")?;
                        return Ok((Expr::Unary(UnaryOp::Not, Box::new(b)), Some(DataType::Bool)));
                    }
                    U::PGSquareRoot | U::PGCubeRoot | U::PGAbs | U::BitwiseNot => {
                        let symbol = match op {
                            U::PGSquareRoot => "|/",
                            U::PGCubeRoot => "||/",
                            U::PGAbs => "@",
                            _ => "~",
                        };
                        let arg = self.expr(expr)?;
                        return self.math_operator(symbol, vec![arg]);
                    }
                    other => return Err(Error::unsupported(format!("operator {other}"))),
                };
                // Unary minus binds tighter than `^` in PostgreSQL: `-2 ^ 2` is `(-2) ^ 2`.
                if uop == UnaryOp::Neg
                    && let Some(rotated) = minus_under_power(expr)
                {
                    return self.expr_inner(&rotated);
                }
                // A negative number literal is one constant, like PostgreSQL's parser makes it.
                if uop == UnaryOp::Neg
                    && let E::Value(v) = expr.as_ref()
                    && let ast::Value::Number(s, _) = &v.value
                {
                    let lit = number_literal(&format!("-{s}"))?;
                    let ty = lit.data_type();
                    return Ok((Expr::Literal(lit), ty));
                }
                let (b, ty) = self.expr(expr)?;
                let (b, ty) = match ty {
                    Some(t) => (b, t),
                    None => (coerce_unknown(b, DataType::Int4)?, DataType::Int4),
                };
                let rt = unary_result_type(uop, &ty)?;
                Ok((Expr::Unary(uop, Box::new(b)), Some(rt)))
            }
            E::IsNull(x) | E::IsNotNull(x) => {
                let (b, _) = self.expr(x)?;
                Ok((
                    Expr::IsNull(Box::new(b), matches!(e, E::IsNotNull(_))),
                    Some(DataType::Bool),
                ))
            }
            E::IsTrue(x)
            | E::IsNotTrue(x)
            | E::IsFalse(x)
            | E::IsNotFalse(x)
            | E::IsUnknown(x)
            | E::IsNotUnknown(x) => {
                let b = self.bool_operand(x, "IS")?;
                let (v, n) = match e {
                    E::IsTrue(_) => (Some(true), false),
                    E::IsNotTrue(_) => (Some(true), true),
                    E::IsFalse(_) => (Some(false), false),
                    E::IsNotFalse(_) => (Some(false), true),
                    E::IsUnknown(_) => (None, false),
                    _ => (None, true),
                };
                Ok((Expr::IsBool(Box::new(b), v, n), Some(DataType::Bool)))
            }
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                let l = self.expr(a)?;
                let r = self.expr(b)?;
                let (bin, _) = self.binary(BinaryOp::Eq, l, r)?;
                let Expr::Binary(_, l, r) = bin else {
                    return Err(Error::unsupported("IS DISTINCT FROM"));
                };
                Ok((
                    Expr::IsDistinct(l, r, matches!(e, E::IsNotDistinctFrom(..))),
                    Some(DataType::Bool),
                ))
            }
            E::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.expr(expr)?;
                let lo = self.expr(low)?;
                let hi = self.expr(high)?;
                let (ge, le) = if *negated {
                    (BinaryOp::Lt, BinaryOp::Gt)
                } else {
                    (BinaryOp::GtEq, BinaryOp::LtEq)
                };
                let (a, _) = self.binary(ge, x.clone(), lo)?;
                let (b, _) = self.binary(le, x, hi)?;
                let e = if *negated {
                    Expr::Or(Box::new(a), Box::new(b))
                } else {
                    Expr::And(Box::new(a), Box::new(b))
                };
                Ok((e, Some(DataType::Bool)))
            }
            E::In {
                expr,
                target: ast::InTarget::Subquery(subquery),
                negated,
                ..
            } => self.in_subquery(expr, subquery, *negated),
            E::In {
                expr,
                target: ast::InTarget::List(list),
                negated,
                ..
            } => {
                if list.is_empty() {
                    return Err(Error::Syntax {
                        message: "syntax error at or near \")\"".into(),
                        location: expr_loc(e).unwrap_or(Location { line: 1, column: 1 }),
                    });
                }
                if let Some(row) = super::row::row_items(expr) {
                    return self.row_in_list(&row, list, *negated);
                }
                let x = self.expr(expr)?;
                let mut items = Vec::new();
                let mut types = vec![x.1];
                let mut bound = Vec::new();
                for item in list {
                    let b = self.expr(item)?;
                    types.push(b.1);
                    bound.push(b);
                }
                let common = common_type(&types, "IN")?;
                let xe = coerce_to(x.0, x.1, common)?;
                for (b, t) in bound {
                    items.push(coerce_to(b, t, common)?);
                }
                if let Some(t) = common {
                    binary_result_type(BinaryOp::Eq, &t, &t)?;
                }
                Ok((
                    Expr::InList {
                        expr: Box::new(xe),
                        list: items,
                        negated: *negated,
                    },
                    Some(DataType::Bool),
                ))
            }
            E::AnyOp {
                left,
                compare_op: B::Eq,
                right,
                ..
            } if matches!(right.as_ref(), E::Subquery(_)) => match right.as_ref() {
                E::Subquery(q) => self.in_subquery(left, q, false),
                _ => unreachable!("matched a subquery"),
            },
            E::AllOp {
                left,
                compare_op: B::NotEq,
                right,
            } if matches!(right.as_ref(), E::Subquery(_)) => match right.as_ref() {
                E::Subquery(q) => self.in_subquery(left, q, true),
                _ => unreachable!("matched a subquery"),
            },
            E::AnyOp {
                left,
                compare_op,
                right,
                ..
            } => self.quantified(left, compare_op, right, false),
            E::AllOp {
                left,
                compare_op,
                right,
            } => self.quantified(left, compare_op, right, true),
            E::Array(ast::Array { elem, .. }) => self.array_constructor(e, elem),
            E::CompoundFieldAccess { root, access_chain } => {
                // PostgreSQL's grammar subscripts only a column, a parameter or a
                // parenthesized expression: `ARRAY[1, 2][1]` is a syntax error there.
                if matches!(root.as_ref(), E::Array(_)) {
                    return Err(
                        Error::bind("42601", "syntax error at or near \"[\"").at(expr_loc(e))
                    );
                }
                let mut bound = self.expr(root)?;
                let slices = access_chain
                    .iter()
                    .any(|a| matches!(a, ast::AccessExpr::Subscript(ast::Subscript::Slice { .. })));
                if slices && access_chain.len() > 1 {
                    return Err(Error::unsupported("multidimensional arrays").at(expr_loc(e)));
                }
                for access in access_chain {
                    let ast::AccessExpr::Subscript(subscript) = access else {
                        return Err(
                            Error::unsupported(format!("{access} (field access)")).at(expr_loc(e))
                        );
                    };
                    let Some(elem) = bound.1.and_then(|t| t.element_type()) else {
                        return Err(Error::bind(
                            "42804",
                            format!(
                                "cannot subscript type {} because it does not support subscripting",
                                bound.1.map_or("unknown", |t| t.sql_name())
                            ),
                        ));
                    };
                    bound = match subscript {
                        ast::Subscript::Index { index } => {
                            let i = self.array_subscript(index)?;
                            (
                                Expr::Function(Func::Array(ArrayFunc::Subscript), vec![bound.0, i]),
                                Some(elem),
                            )
                        }
                        ast::Subscript::Slice {
                            stride: Some(_), ..
                        } => {
                            return Err(Error::bind("42601", "syntax error at or near \":\"")
                                .at(expr_loc(e)));
                        }
                        ast::Subscript::Slice {
                            lower_bound,
                            upper_bound,
                            stride: None,
                        } => {
                            let ty = bound.1;
                            let mut args = vec![bound.0];
                            for b in [lower_bound, upper_bound].into_iter().flatten() {
                                args.push(self.array_subscript(b)?);
                            }
                            let func = ArrayFunc::Slice {
                                lower: lower_bound.is_some(),
                                upper: upper_bound.is_some(),
                            };
                            (Expr::Function(Func::Array(func), args), ty)
                        }
                    };
                }
                Ok(bound)
            }
            E::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                // PostgreSQL defines it so: substr(s, 1, from - 1) || what || substr(s, from + for),
                // `for` defaulting to the length of `what`.
                let s = self.expr(expr)?;
                let what = self.expr(overlay_what)?;
                let from = self.expr(overlay_from)?;
                let len = match overlay_for {
                    Some(f) => self.expr(f)?,
                    None => {
                        let name = if what.1 == Some(DataType::Bytea) {
                            "octet_length"
                        } else {
                            "length"
                        };
                        self.call_scalar(name, vec![what.clone()])?
                    }
                };
                let one = (Expr::Literal(Value::Int4(1)), Some(DataType::Int4));
                let before_len = self.binary(BinaryOp::Sub, from.clone(), one.clone())?;
                let head = self.call_scalar("substr", vec![s.clone(), one, before_len])?;
                let after = self.binary(BinaryOp::Add, from, len)?;
                let tail = self.call_scalar("substr", vec![s, after])?;
                let joined = self.binary(BinaryOp::Concat, head, what)?;
                self.binary(BinaryOp::Concat, joined, tail)
            }
            E::SimilarTo {
                negated,
                expr,
                pattern,
                escape_char,
            } => {
                let mut args = vec![self.expr(expr)?, self.expr(pattern)?];
                if let Some(e) = escape_char {
                    args.push(self.expr(e)?);
                }
                for t in args.iter().filter_map(|a| a.1) {
                    if t.category() != zqlite_projections::value::TypeCategory::String {
                        return Err(Error::bind(
                            "42883",
                            format!("operator does not exist: {} ~ text", t.sql_name()),
                        ));
                    }
                }
                let func = RegexpFunc::SimilarTo { negated: *negated };
                self.regexp_call(func, args, DataType::Bool)
            }
            E::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char: None,
            }
            | E::ILike {
                negated,
                any: false,
                expr,
                pattern,
                escape_char: None,
            } => {
                let (x, xt) = self.expr(expr)?;
                let (p, pt) = self.expr(pattern)?;
                let x = coerce_to(x, xt, Some(xt.unwrap_or(DataType::Text)))?;
                let p = coerce_to(p, pt, Some(pt.unwrap_or(DataType::Text)))?;
                for t in [xt, pt].into_iter().flatten() {
                    if t.category() != zqlite_projections::value::TypeCategory::String {
                        return Err(Error::bind(
                            "42883",
                            format!("operator does not exist: {} ~~ text", t.sql_name()),
                        ));
                    }
                }
                Ok((
                    Expr::Like {
                        expr: Box::new(x),
                        pattern: Box::new(p),
                        negated: *negated,
                        case_insensitive: matches!(e, E::ILike { .. }),
                    },
                    Some(DataType::Bool),
                ))
            }
            E::Like {
                negated,
                any: true,
                expr,
                pattern,
                escape_char: None,
            }
            | E::ILike {
                negated,
                any: true,
                expr,
                pattern,
                escape_char: None,
            } => {
                let (x, xt) = self.expr(expr)?;
                let (p, pt) = match pattern.as_ref() {
                    E::Subquery(q) => self.array_subquery(q)?,
                    _ => self.expr(pattern)?,
                };
                let x = coerce_to(x, xt, Some(xt.unwrap_or(DataType::Text)))?;
                let p = match pt {
                    None => coerce_unknown(p, DataType::TEXT_ARRAY)?,
                    Some(_) => p,
                };
                let elem = match pt {
                    None => Some(DataType::Text),
                    Some(t) => t.element_type(),
                };
                let Some(elem) = elem else {
                    return Err(Error::bind(
                        "42809",
                        "op ANY/ALL (array) requires array on right side",
                    ));
                };
                for t in [xt, Some(elem)].into_iter().flatten() {
                    if t.category() != zqlite_projections::value::TypeCategory::String {
                        return Err(Error::bind(
                            "42883",
                            format!(
                                "operator does not exist: {} ~~ {}",
                                xt.unwrap_or(DataType::Text).sql_name(),
                                elem.sql_name()
                            ),
                        ));
                    }
                }
                let func = ArrayFunc::LikeAny {
                    negated: *negated,
                    case_insensitive: matches!(e, E::ILike { .. }),
                };
                Ok((
                    Expr::Function(Func::Array(func), vec![x, p]),
                    Some(DataType::Bool),
                ))
            }
            E::Cast {
                kind: ast::CastKind::Cast | ast::CastKind::DoubleColon,
                expr,
                data_type: dt,
                format: None,
            } => {
                if let Some(bound) = self.catalog_cast(expr, dt)? {
                    // `regclass` and friends read the catalog.
                    self.mutable_calls = true;
                    return Ok(bound);
                }
                if let Some((base, precision)) = datetime_precision(dt) {
                    // `x::timestamp(0)`: the cast to the type, then rounding to the
                    // precision (zqlite's types carry no precision modifier).
                    let cast = E::Cast {
                        kind: ast::CastKind::Cast,
                        expr: expr.clone(),
                        data_type: base,
                        format: None,
                    };
                    let (b, ty) = self.expr_inner(&cast)?;
                    let round =
                        Func::DateTime(datetime_functions::DateTimeFunc::Precision(precision));
                    return Ok((Expr::Function(round, vec![b]), ty));
                }
                let ty = data_type(dt)?;
                if let (E::Array(ast::Array { elem, .. }), Some(item)) =
                    (expr.as_ref(), ty.element_type())
                    && elem.is_empty()
                {
                    let empty = zqlite_projections::value::Array::new(item, Vec::new());
                    return Ok((
                        Expr::Literal(Value::Array(std::sync::Arc::new(empty))),
                        Some(ty),
                    ));
                }
                let (b, from) = self.expr(expr)?;
                match from {
                    None => Ok((coerce_unknown(b, ty)?, Some(ty))),
                    Some(f) => {
                        if cast_context(&f, &ty).is_none() {
                            return Err(Error::bind(
                                "42846",
                                format!("cannot cast type {} to {}", f.sql_name(), ty.sql_name()),
                            ));
                        }
                        if !functions::cast_is_immutable(&f, &ty) {
                            self.mutable_calls = true;
                        }
                        Ok((Expr::Cast(Box::new(b), ty), Some(ty)))
                    }
                }
            }
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
            E::Function(f) => self.function(f),
            E::Collate { expr, collation } => {
                let (_, name) = super::qualified_name(collation)?;
                if !matches!(name.as_str(), "default" | "C" | "POSIX" | "c" | "posix") {
                    return Err(Error::bind(
                        "42704",
                        format!("collation \"{name}\" for encoding \"UTF8\" does not exist"),
                    ));
                }
                let (b, ty) = self.expr(expr)?;
                match ty {
                    Some(t) if t.category() != zqlite_projections::value::TypeCategory::String => {
                        Err(Error::bind(
                            "42804",
                            format!("collations are not supported by type {}", t.sql_name()),
                        ))
                    }
                    _ => Ok((b, ty)),
                }
            }
            E::Ceil {
                expr,
                field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime),
            }
            | E::Floor {
                expr,
                field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime),
            } => {
                let arg = self.expr(expr)?;
                let name = if matches!(e, E::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                self.call_scalar(name, vec![arg])
            }
            E::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut args = vec![self.expr(expr)?];
                args.push(match substring_from {
                    Some(f) => self.expr(f)?,
                    None => (Expr::Literal(Value::Int4(1)), Some(DataType::Int4)),
                });
                if let Some(f) = substring_for {
                    args.push(self.expr(f)?);
                }
                // A text FROM (an unknown literal too) is a pattern: POSIX, or SQL with an
                // escape given by FOR.
                let is_text = |t: Option<DataType>| {
                    t.is_none_or(|t| {
                        t.category() == zqlite_projections::value::TypeCategory::String
                    })
                };
                if is_text(args[0].1)
                    && is_text(args[1].1)
                    && args.get(2).is_none_or(|a| is_text(a.1))
                {
                    let func = if args.len() == 3 {
                        RegexpFunc::SimilarSubstring
                    } else {
                        RegexpFunc::Substring
                    };
                    return self.regexp_call(func, args, DataType::Text);
                }
                self.call_scalar("substr", args)
            }
            E::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters: None,
            } => {
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                };
                let mut args = vec![self.expr(expr)?];
                if let Some(w) = trim_what {
                    args.push(self.expr(w)?);
                }
                self.call_scalar(name, args)
            }
            E::Interval(iv)
                if iv.leading_field.is_none()
                    && iv.last_field.is_none()
                    && iv.fractional_seconds_precision.is_none() =>
            {
                match iv.value.as_ref() {
                    E::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => Ok((
                            Expr::Literal(parse_value(s, &DataType::Interval)?),
                            Some(DataType::Interval),
                        )),
                        _ => Err(Error::unsupported("INTERVAL with a non-string value")),
                    },
                    _ => Err(Error::unsupported("INTERVAL with a non-string value")),
                }
            }
            E::Extract { field, expr, .. } => {
                let field = field.to_string().to_lowercase();
                let args = vec![
                    (Expr::Literal(Value::Text(field)), Some(DataType::Text)),
                    self.expr(expr)?,
                ];
                self.call_scalar("extract", args)
            }
            E::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                let args = vec![self.expr(time_zone)?, self.expr(timestamp)?];
                self.call_scalar("timezone", args)
            }
            E::Position { expr, r#in } => {
                let args = vec![self.expr(r#in)?, self.expr(expr)?];
                self.call_scalar("strpos", args)
            }
            E::Subquery(q) => {
                let (bound, correlated) = self.subquery(q)?;
                if bound.columns.len() != 1 {
                    return Err(Error::bind("42601", "subquery must return only one column"));
                }
                let ty = bound.columns[0].ty;
                Ok((
                    self.make_subquery(bound, correlated, SubqueryKind::Scalar),
                    ty,
                ))
            }
            E::Exists { subquery, negated } => {
                let (bound, correlated) = self.subquery(subquery)?;
                let kind = SubqueryKind::Exists { negated: *negated };
                Ok((
                    self.make_subquery(bound, correlated, kind),
                    Some(DataType::Bool),
                ))
            }
            other => Err(Error::unsupported(format!("expression {other}"))),
        }
    }

    /// `text ~ pattern` (and `~*`, `!~`, `!~*`): both sides strings.
    fn regex(
        &mut self,
        left: &ast::Expr,
        right: &ast::Expr,
        op: &B,
        case_insensitive: bool,
        negated: bool,
    ) -> Result<Typed> {
        let (x, xt) = self.expr(left)?;
        let (p, pt) = self.expr(right)?;
        for t in [xt, pt].into_iter().flatten() {
            if t.category() != zqlite_projections::value::TypeCategory::String {
                return Err(Error::bind(
                    "42883",
                    format!(
                        "operator does not exist: {} {op} {}",
                        xt.map_or("unknown", |t| t.sql_name()),
                        pt.map_or("unknown", |t| t.sql_name())
                    ),
                ));
            }
        }
        let x = coerce_to(x, xt, Some(DataType::Text))?;
        let p = coerce_to(p, pt, Some(DataType::Text))?;
        Ok((
            Expr::Function(
                Func::Regex {
                    case_insensitive,
                    negated,
                },
                vec![x, p],
            ),
            Some(DataType::Bool),
        ))
    }

    /// Casts to the catalog's reference types and `oid`, `name`, `"char"`: `None` when
    /// `dt` is none of them.
    fn catalog_cast(&mut self, expr: &ast::Expr, dt: &ast::DataType) -> Result<Option<Typed>> {
        let ty = match dt {
            ast::DataType::Regclass => "regclass".to_string(),
            ast::DataType::Custom(name, mods) if mods.is_empty() => {
                let (schema, ty) = super::qualified_name(name)?;
                if schema.is_some_and(|s| s != "pg_catalog") {
                    return Ok(None);
                }
                ty
            }
            _ => return Ok(None),
        };
        let literal = match expr {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        };
        let out = |f: CatalogFunc, e: Expr| {
            (
                Expr::Function(Func::Catalog(f), vec![e]),
                Some(DataType::Text),
            )
        };
        Ok(Some(match ty.as_str() {
            "oid" => {
                let (b, from) = self.expr(expr)?;
                (
                    coerce_to(b, from, Some(DataType::Int8))?,
                    Some(DataType::Int8),
                )
            }
            "name" | "char" => {
                let (b, from) = self.expr(expr)?;
                (
                    coerce_to(b, from, Some(DataType::Text))?,
                    Some(DataType::Text),
                )
            }
            "regclass" => match literal {
                Some(s) => (
                    Expr::Literal(Value::Int8(catalog_functions::regclass_in(self.state, &s)?)),
                    Some(DataType::Int8),
                ),
                None => {
                    let (b, from) = self.expr(expr)?;
                    match from {
                        None => (
                            Expr::Function(
                                Func::Catalog(CatalogFunc::RegclassIn),
                                vec![coerce_unknown(b, DataType::Text)?],
                            ),
                            Some(DataType::Int8),
                        ),
                        Some(t)
                            if t.category() == zqlite_projections::value::TypeCategory::String =>
                        {
                            (
                                Expr::Function(Func::Catalog(CatalogFunc::RegclassIn), vec![b]),
                                Some(DataType::Int8),
                            )
                        }
                        _ => out(
                            CatalogFunc::RegclassOut,
                            coerce_to(b, from, Some(DataType::Int8))?,
                        ),
                    }
                }
            },
            "regtype" | "regnamespace" => match literal {
                Some(s) => {
                    let oid = if ty == "regtype" {
                        i64::from(DataType::from_name(&s, &[])?.oid())
                    } else {
                        crate::system::pg_catalog::NAMESPACES
                            .iter()
                            .find(|n| n.1 == s)
                            .map(|n| n.0)
                            .ok_or_else(|| {
                                Error::bind("3F000", format!("schema \"{s}\" does not exist"))
                            })?
                    };
                    (Expr::Literal(Value::Int8(oid)), Some(DataType::Int8))
                }
                None => {
                    let (b, from) = self.expr(expr)?;
                    let f = if ty == "regtype" {
                        CatalogFunc::RegtypeOut
                    } else {
                        CatalogFunc::RegnamespaceOut
                    };
                    out(f, coerce_to(b, from, Some(DataType::Int8))?)
                }
            },
            _ => return Ok(None),
        }))
    }

    /// An array subscript, coerced to `integer` as on assignment (`[1.7]` is `[2]`).
    fn array_subscript(&mut self, index: &ast::Expr) -> Result<Expr> {
        let (i, it) = self.expr(index)?;
        match it {
            None => coerce_unknown(i, DataType::Int4),
            Some(DataType::Int2 | DataType::Int4) => Ok(i),
            Some(t)
                if cast_context(&t, &DataType::Int4)
                    .is_some_and(|c| c <= zqlite_projections::value::CastContext::Assignment) =>
            {
                Ok(Expr::Cast(Box::new(i), DataType::Int4))
            }
            Some(_) => Err(
                Error::bind("42804", "array subscript must have type integer").at(expr_loc(index)),
            ),
        }
    }

    /// `ARRAY(subquery)`: one column, collected into an array in the subquery's order.
    pub(crate) fn array_subquery(&mut self, q: &ast::Query) -> Result<Typed> {
        let (bound, correlated) = self.subquery(q)?;
        if bound.columns.len() != 1 {
            return Err(Error::bind("42601", "subquery must return only one column"));
        }
        let elem = bound.columns[0].ty.unwrap_or(DataType::Text);
        let ty = elem.array_type().map_err(Error::from)?;
        Ok((
            self.make_subquery(bound, correlated, SubqueryKind::Array { elem }),
            Some(ty),
        ))
    }

    pub(crate) fn make_subquery(
        &mut self,
        bound: super::BoundQuery,
        correlated: bool,
        kind: SubqueryKind,
    ) -> Expr {
        let id = self.next_subquery;
        self.next_subquery += 1;
        Expr::Subquery(Box::new(Subquery {
            plan: bound.plan,
            kind,
            correlated,
            id,
        }))
    }

    /// `left op ANY (array | subquery)` / `left op ALL (array | subquery)`.
    fn quantified(
        &mut self,
        left: &ast::Expr,
        op: &B,
        right: &ast::Expr,
        all: bool,
    ) -> Result<Typed> {
        let word = if all { "ALL" } else { "ANY" };
        let Some(bop) = binary_op_of(op).filter(BinaryOp::is_comparison) else {
            return Err(Error::unsupported(format!("{op} {word} (array)")));
        };
        let (l, lt) = self.expr(left)?;
        // `x op ANY (subquery)` compares with every row the subquery returns: the same as
        // with the array of those rows, NULLs included.
        let (r, rt) = match right {
            ast::Expr::Subquery(q) => self.array_subquery(q)?,
            _ => self.expr(right)?,
        };
        let (l, lt, r, elem) = match (lt, rt) {
            (_, Some(t)) => {
                let Some(elem) = t.element_type() else {
                    return Err(Error::bind(
                        "42809",
                        "op ANY/ALL (array) requires array on right side",
                    ));
                };
                let target = lt.unwrap_or(elem);
                (coerce_to(l, lt, Some(target))?, target, r, elem)
            }
            (Some(lt), None) => {
                let array = lt.array_type()?;
                (l, lt, coerce_unknown(r, array)?, lt)
            }
            (None, None) => {
                let array = DataType::Text.array_type()?;
                (
                    coerce_unknown(l, DataType::Text)?,
                    DataType::Text,
                    coerce_unknown(r, array)?,
                    DataType::Text,
                )
            }
        };
        binary_result_type(bop, &lt, &elem)?;
        Ok((
            Expr::Function(
                Func::Array(ArrayFunc::Quantified { op: bop, all }),
                vec![l, r],
            ),
            Some(DataType::Bool),
        ))
    }

    /// `ARRAY[a, b, ...]`: the elements' common type; all-unknown elements are text.
    fn array_constructor(&mut self, e: &ast::Expr, elems: &[ast::Expr]) -> Result<Typed> {
        let mut bound = Vec::with_capacity(elems.len());
        for x in elems {
            bound.push(self.expr(x)?);
        }
        let types: Vec<Option<DataType>> = bound.iter().map(|b| b.1).collect();
        let elem = match common_type(&types, "ARRAY")? {
            Some(t) => t.without_modifier(),
            None if bound.is_empty() => {
                return Err(
                    Error::bind("42P18", "cannot determine type of empty array").at(expr_loc(e))
                );
            }
            None => DataType::Text,
        };
        let array = elem.array_type()?;
        let items = bound
            .into_iter()
            .map(|(x, t)| coerce_to(x, t, Some(elem)))
            .collect::<Result<_>>()?;
        Ok((
            Expr::Function(Func::Array(ArrayFunc::Make(elem)), items),
            Some(array),
        ))
    }

    fn in_subquery(&mut self, expr: &ast::Expr, q: &ast::Query, negated: bool) -> Result<Typed> {
        if let Some(row) = super::row::row_items(expr) {
            return self.row_in_subquery(&row, q, negated);
        }
        let (x, xt) = self.expr(expr)?;
        let (bound, correlated) = self.subquery(q)?;
        if bound.columns.len() != 1 {
            return Err(Error::bind("42601", "subquery has too many columns"));
        }
        let st = bound.columns[0].ty;
        let x = match (xt, st) {
            (None, Some(t)) => coerce_unknown(x, t)?,
            (Some(a), Some(b)) => {
                binary_result_type(BinaryOp::Eq, &a, &b)?;
                x
            }
            _ => x,
        };
        let kind = SubqueryKind::In {
            exprs: vec![x],
            negated,
        };
        Ok((
            self.make_subquery(bound, correlated, kind),
            Some(DataType::Bool),
        ))
    }

    fn literal(&mut self, v: &ast::Value) -> Result<Typed> {
        use ast::Value as V;
        Ok(match v {
            V::Number(s, _) => {
                let lit = number_literal(s)?;
                let ty = lit.data_type();
                (Expr::Literal(lit), ty)
            }
            V::SingleQuotedString(s)
            | V::EscapedStringLiteral(s)
            | V::DollarQuotedString(ast::DollarQuotedString { value: s, .. }) => {
                (Expr::Literal(Value::Text(s.clone())), None)
            }
            V::Boolean(b) => (Expr::Literal(Value::Bool(*b)), Some(DataType::Bool)),
            V::Null => (Expr::Literal(Value::Null), None),
            V::Placeholder(p) => {
                let n: usize = p
                    .strip_prefix('$')
                    .and_then(|d| d.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| Error::unsupported(format!("placeholder {p}")))?;
                let Some(ty) = self.param_type(n) else {
                    return Err(Error::bind("42P02", format!("there is no parameter ${n}")));
                };
                (Expr::Param(n - 1), ty)
            }
            other => return Err(Error::unsupported(format!("literal {other}"))),
        })
    }

    fn case(
        &mut self,
        operand: Option<&ast::Expr>,
        conditions: &[ast::CaseWhen],
        else_result: Option<&ast::Expr>,
    ) -> Result<Typed> {
        let operand = operand.map(|o| self.expr(o)).transpose()?;
        let mut whens = Vec::new();
        let mut results = Vec::new();
        for cw in conditions {
            let cond = match &operand {
                Some(op) => {
                    let w = self.expr(&cw.condition)?;
                    let (b, _) = self.binary(BinaryOp::Eq, op.clone(), w)?;
                    match b {
                        // Keep only the WHEN value: the executor compares it with the operand.
                        Expr::Binary(_, _, w) => *w,
                        other => other,
                    }
                }
                None => self.predicate(&cw.condition, "CASE/WHEN")?,
            };
            whens.push(cond);
            results.push(self.expr(&cw.result)?);
        }
        let otherwise = else_result.map(|e| self.expr(e)).transpose()?;
        let mut types: Vec<Option<DataType>> = results.iter().map(|r| r.1).collect();
        if let Some(o) = &otherwise {
            types.push(o.1);
        }
        let common = common_type(&types, "CASE")?;
        let target = common.or(Some(DataType::Text));
        let mut pairs = Vec::new();
        for (w, (r, t)) in whens.into_iter().zip(results) {
            pairs.push((w, coerce_to(r, t, target)?));
        }
        let otherwise = otherwise
            .map(|(e, t)| coerce_to(e, t, target))
            .transpose()?
            .map(Box::new);
        let operand = match operand {
            Some((e, None)) => Some(Box::new(coerce_unknown(e, DataType::Text)?)),
            Some((e, Some(_))) => Some(Box::new(e)),
            None => None,
        };
        Ok((
            Expr::Case {
                operand,
                whens: pairs,
                otherwise,
            },
            common,
        ))
    }

    /// `@>`, `<@` and `&&`: on arrays when either operand is an array, on jsonb otherwise
    /// (`&&` is for arrays only).
    fn containment(&mut self, op: &str, l: Typed, r: Typed) -> Result<Typed> {
        let is_array = |t: Option<DataType>| t.is_some_and(|t| t.element_type().is_some());
        if is_array(l.1) || is_array(r.1) || op == "&&" {
            let resolved = array_functions::resolve_operator(op, l.1, r.1)?;
            let out = coerce_args(vec![l, r], &resolved.arg_types)?;
            return Ok((
                Expr::Function(Func::Array(resolved.func), out),
                Some(resolved.result),
            ));
        }
        let resolved = json_functions::resolve_operator(op, l.1, r.1)?;
        self.json_call(resolved, vec![l, r])
    }

    /// A resolved JSON operator or function applied to `args`, coerced as it says.
    fn json_call(&mut self, resolved: json_functions::Resolved, args: Vec<Typed>) -> Result<Typed> {
        let out = coerce_args(args, &resolved.arg_types)?;
        Ok((
            Expr::Function(Func::Json(resolved.func), out),
            Some(resolved.result),
        ))
    }

    /// A function of `regexp_functions.rs` with all arguments text.
    fn regexp_call(
        &mut self,
        func: RegexpFunc,
        args: Vec<Typed>,
        result: DataType,
    ) -> Result<Typed> {
        let targets = vec![Some(DataType::Text); args.len()];
        let out = coerce_args(args, &targets)?;
        Ok((Expr::Function(Func::Regexp(func), out), Some(result)))
    }

    /// An operator of `math_functions.rs` (`^`, `|/`, `@`, the bitwise operators).
    fn math_operator(&mut self, symbol: &str, args: Vec<Typed>) -> Result<Typed> {
        let types: Vec<Option<DataType>> = args.iter().map(|a| a.1).collect();
        let resolved = math_functions::resolve_operator(symbol, &types)
            .unwrap_or_else(|| Err(Error::unsupported(format!("operator {symbol}"))))?;
        let out = coerce_args(args, &resolved.arg_types)?;
        Ok((Expr::Function(resolved.func, out), Some(resolved.result)))
    }

    pub(crate) fn call_scalar(&mut self, name: &str, args: Vec<Typed>) -> Result<Typed> {
        let types: Vec<Option<DataType>> = args.iter().map(|a| a.1).collect();
        let bound = self.resolve_call(name, args, &types)?;
        if let (Expr::Function(f, _), _) = &bound
            && !f.is_immutable(&types)
        {
            self.mutable_calls = true;
        }
        Ok(bound)
    }

    fn resolve_call(
        &mut self,
        name: &str,
        args: Vec<Typed>,
        types: &[Option<DataType>],
    ) -> Result<Typed> {
        let types = types.to_vec();
        if json_functions::is_json_function(name) {
            let resolved = json_functions::resolve_function(name, &types)?;
            return self.json_call(resolved, args);
        }
        if text_functions::is_text_function(name) {
            let resolved = text_functions::resolve(name, &types)?;
            let out = coerce_args(args, &resolved.arg_types)?;
            return Ok((
                Expr::Function(Func::Text(resolved.func), out),
                Some(resolved.result),
            ));
        }
        if datetime_functions::is_datetime_function(name) {
            let resolved = datetime_functions::resolve(name, &types)?;
            let out = coerce_args(args, &resolved.arg_types)?;
            return Ok((
                Expr::Function(Func::DateTime(resolved.func), out),
                Some(resolved.result),
            ));
        }
        if array_functions::is_array_function(name) {
            let resolved = array_functions::resolve(name, &types)?;
            let out = coerce_args(args, &resolved.arg_types)?;
            return Ok((
                Expr::Function(Func::Array(resolved.func), out),
                Some(resolved.result),
            ));
        }
        if regexp_functions::is_regexp_function(name) {
            let resolved = regexp_functions::resolve(name, &types)?;
            let out = coerce_args(args, &resolved.arg_types)?;
            return Ok((
                Expr::Function(Func::Regexp(resolved.func), out),
                Some(resolved.result),
            ));
        }
        if math_functions::is_math_function(name) {
            let resolved = math_functions::resolve(name, &types)?;
            let out = coerce_args(args, &resolved.arg_types)?;
            return Ok((Expr::Function(resolved.func, out), Some(resolved.result)));
        }
        if let Some((f, arg_types, result)) = catalog_functions::resolve(name, &types) {
            let out = coerce_args(args, &arg_types)?;
            return Ok((Expr::Function(Func::Catalog(f), out), Some(result)));
        }
        let (func, ty) = functions::resolve(name, &types)?;
        let mut out = Vec::new();
        let common_args = matches!(
            func,
            Func::Coalesce | Func::Greatest | Func::Least | Func::NullIf
        );
        for (e, t) in args {
            out.push(if common_args {
                coerce_to(e, t, ty)?
            } else {
                match t {
                    None => coerce_unknown(e, DataType::Text)?,
                    Some(_) => e,
                }
            });
        }
        Ok((Expr::Function(func, out), ty))
    }
}

/// Arguments coerced to the types a resolved function takes (`None`: as they are).
fn coerce_args(args: Vec<Typed>, targets: &[Option<DataType>]) -> Result<Vec<Expr>> {
    args.into_iter()
        .zip(targets)
        .map(|((e, t), target)| match target {
            Some(target) => coerce_to(e, t, Some(*target)),
            None => Ok(e),
        })
        .collect()
}
