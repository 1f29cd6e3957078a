//! Constant folding, as PostgreSQL's planner does it (`eval_const_expressions`).
//!
//! An operator, cast or immutable function whose arguments are all constants is evaluated
//! once at plan time. This is observable: PostgreSQL reports errors of constant
//! subexpressions (overflow, division by zero) even in CASE arms that no row reaches, and
//! this module reproduces that. CASE arms whose condition folds to false or NULL are dropped
//! before their results are folded, and COALESCE stops at its first non-NULL constant,
//! exactly as in PostgreSQL.

use zqlite_projections::State;
use zqlite_projections::value::Value;

use crate::error::Result;
use crate::exec::Exec;
use crate::expr::Expr;
use crate::functions::Func;

fn is_lit(e: &Expr) -> bool {
    matches!(e, Expr::Literal(_))
}

fn is_null_lit(e: &Expr) -> bool {
    matches!(e, Expr::Literal(Value::Null))
}

/// A strict operator or function with a NULL constant argument is NULL, whatever its other
/// arguments (PostgreSQL does not evaluate them). `x IN (...)` with a NULL constant `x` is
/// NULL too (PostgreSQL turns it into strict `=` comparisons).
fn strict_null(e: &Expr) -> bool {
    match e {
        Expr::Binary(_, a, b) => is_null_lit(a) || is_null_lit(b),
        Expr::Unary(_, a) | Expr::Cast(a, _) => is_null_lit(a),
        Expr::InList { expr, .. } => is_null_lit(expr),
        Expr::Like { expr, pattern, .. } => is_null_lit(expr) || is_null_lit(pattern),
        Expr::Function(f, args) => {
            let lenient = match f {
                Func::Concat
                | Func::Coalesce
                | Func::NullIf
                | Func::Greatest
                | Func::Least
                | Func::TypeOf(_)
                | Func::NumNulls { .. } => true,
                Func::Array(a) => !a.is_strict(),
                Func::Text(t) => !t.is_strict(),
                Func::Json(j) => !j.is_strict(),
                Func::Catalog(_) => true,
                _ => false,
            };
            !lenient && !f.is_volatile() && args.iter().any(is_null_lit)
        }
        _ => false,
    }
}

/// Folds the constant parts of `e`.
pub fn fold(e: Expr) -> Result<Expr> {
    let state = State::default();
    let mut ex = Exec::new(&state, &[]);
    fold_with(e, &mut ex)
}

fn fold_with(e: Expr, ex: &mut Exec<'_>) -> Result<Expr> {
    match e {
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            let operand = operand.map(|o| fold_with(*o, ex)).transpose()?;
            let mut kept = Vec::new();
            let mut otherwise = otherwise.map(|o| *o);
            for (w, r) in whens {
                let w = fold_with(w, ex)?;
                if operand.is_none()
                    && let Expr::Literal(v) = &w
                {
                    if *v != Value::Bool(true) {
                        continue;
                    }
                    // A constant-true arm ends the CASE: later arms are unreachable.
                    otherwise = Some(r);
                    break;
                }
                kept.push((w, fold_with(r, ex)?));
            }
            let otherwise = otherwise.map(|o| fold_with(o, ex)).transpose()?;
            if kept.is_empty() {
                return Ok(otherwise.unwrap_or(Expr::Literal(Value::Null)));
            }
            Ok(Expr::Case {
                operand: operand.map(Box::new),
                whens: kept,
                otherwise: otherwise.map(Box::new),
            })
        }
        Expr::Function(Func::Coalesce, args) => {
            let mut kept = Vec::new();
            for a in args {
                let a = fold_with(a, ex)?;
                match &a {
                    Expr::Literal(Value::Null) => continue,
                    Expr::Literal(_) => {
                        kept.push(a);
                        break;
                    }
                    _ => kept.push(a),
                }
            }
            Ok(match kept.len() {
                0 => Expr::Literal(Value::Null),
                1 if is_lit(&kept[0]) => kept.remove(0),
                _ => Expr::Function(Func::Coalesce, kept),
            })
        }
        Expr::Subquery(s) => Ok(Expr::Subquery(s)),
        other => {
            let node = other.try_map_children(&mut |c| fold_with(c, ex))?;
            if strict_null(&node) {
                return Ok(Expr::Literal(Value::Null));
            }
            let foldable = match &node {
                Expr::Binary(_, a, b)
                | Expr::And(a, b)
                | Expr::Or(a, b)
                | Expr::IsDistinct(a, b, _) => is_lit(a) && is_lit(b),
                Expr::Unary(_, a)
                | Expr::IsNull(a, _)
                | Expr::IsBool(a, _, _)
                | Expr::Cast(a, _) => is_lit(a),
                Expr::InList { expr, list, .. } => is_lit(expr) && list.iter().all(is_lit),
                Expr::Like { expr, pattern, .. } => is_lit(expr) && is_lit(pattern),
                Expr::Function(f, args) => {
                    !f.is_volatile()
                        && !matches!(
                            f,
                            Func::Now
                                | Func::CurrentDate
                                | Func::LocalTimestamp
                                | Func::CurrentLsn
                                | Func::Catalog(_)
                        )
                        && args.iter().all(is_lit)
                }
                _ => false,
            };
            if foldable {
                Ok(Expr::Literal(ex.eval(&node, &[])?))
            } else {
                Ok(node)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use zqlite_projections::value::BinaryOp;

    use super::*;

    fn int(i: i32) -> Expr {
        Expr::Literal(Value::Int4(i))
    }

    #[test]
    fn folds_arithmetic_and_reports_errors() {
        let e = Expr::Binary(BinaryOp::Add, Box::new(int(1)), Box::new(int(2)));
        assert_eq!(fold(e).unwrap(), int(3));
        let div = Expr::Binary(BinaryOp::Div, Box::new(int(1)), Box::new(int(0)));
        assert_eq!(fold(div).unwrap_err().sqlstate(), "22012");
    }

    #[test]
    fn dropped_case_arms_are_not_folded() {
        let div = Expr::Binary(BinaryOp::Div, Box::new(int(1)), Box::new(int(0)));
        let e = Expr::Case {
            operand: None,
            whens: vec![(Expr::Literal(Value::Bool(false)), div)],
            otherwise: Some(Box::new(int(7))),
        };
        assert_eq!(fold(e).unwrap(), int(7));
    }
}
