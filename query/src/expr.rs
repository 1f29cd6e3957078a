//! Bound scalar expressions: the binder's output and the executor's input.
//!
//! Names are resolved to positions: [`Expr::Column`] indexes the row the expression is
//! evaluated against, [`Expr::Outer`] a row of an enclosing query (correlated subqueries),
//! [`Expr::Param`] a `$n` parameter. Types were checked by the binder; operators carry the
//! value-layer operator that implements them.
//!
//! Invariants:
//! - An expression in a plan node refers only to columns of that node's input row.
//! - `Outer { depth }` is at least 1: depth 1 is the row of the directly enclosing query.

use std::fmt;

use zqlite_projections::value::{BinaryOp, DataType, UnaryOp, Value};

use crate::error::Result;
use crate::functions::Func;
use crate::plan::Plan;

/// A bound scalar expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Value),
    Column(usize),
    Outer {
        depth: usize,
        index: usize,
    },
    /// `$n`, 0-based.
    Param(usize),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    IsNull(Box<Expr>, bool),
    /// `a IS [NOT] DISTINCT FROM b`; the flag is true for `IS NOT DISTINCT`.
    IsDistinct(Box<Expr>, Box<Expr>, bool),
    /// `x IS [NOT] TRUE|FALSE|UNKNOWN`: (expr, expected: None = unknown, negated).
    IsBool(Box<Expr>, Option<bool>, bool),
    Cast(Box<Expr>, DataType),
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
        case_insensitive: bool,
    },
    Function(Func, Vec<Expr>),
    Subquery(Box<Subquery>),
    /// The binder's placeholder for the n-th aggregate call of a query level; replaced by a
    /// column of the Aggregate node's output before planning finishes.
    AggRef(usize),
    /// The binder's placeholder for the n-th window function call of a query level;
    /// replaced by a column of the Window node's output before planning finishes.
    WindowRef(usize),
    /// The binder's placeholder for the n-th set-returning call of a select list; replaced
    /// by a column of the ProjectSet node's output before planning finishes.
    SetRef(usize),
}

/// A subquery inside an expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Subquery {
    pub plan: Plan,
    pub kind: SubqueryKind,
    /// Whether the plan reads rows of enclosing queries (if not, its result is cached).
    pub correlated: bool,
    /// Unique within the statement: the cache key for uncorrelated results.
    pub id: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SubqueryKind {
    Scalar,
    Exists {
        negated: bool,
    },
    /// `expr [NOT] IN (subquery)`, or `(a, b) [NOT] IN (subquery)` with one expression per
    /// column of the subquery.
    In {
        exprs: Vec<Expr>,
        negated: bool,
    },
    /// `ARRAY(subquery)`: the subquery's one column as an array of this element type.
    Array {
        elem: DataType,
    },
}

impl Expr {
    pub fn lit(v: Value) -> Expr {
        Expr::Literal(v)
    }

    /// Visits this expression and its children (not into subquery plans).
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Literal(_)
            | Expr::Column(_)
            | Expr::Outer { .. }
            | Expr::Param(_)
            | Expr::AggRef(_)
            | Expr::WindowRef(_)
            | Expr::SetRef(_) => {}
            Expr::Binary(_, a, b) | Expr::And(a, b) | Expr::Or(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::IsDistinct(a, b, _) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Unary(_, a) | Expr::IsNull(a, _) | Expr::IsBool(a, _, _) | Expr::Cast(a, _) => {
                a.walk(f)
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                if let Some(o) = operand {
                    o.walk(f);
                }
                for (w, t) in whens {
                    w.walk(f);
                    t.walk(f);
                }
                if let Some(o) = otherwise {
                    o.walk(f);
                }
            }
            Expr::InList { expr, list, .. } => {
                expr.walk(f);
                list.iter().for_each(|e| e.walk(f));
            }
            Expr::Like { expr, pattern, .. } => {
                expr.walk(f);
                pattern.walk(f);
            }
            Expr::Function(_, args) => args.iter().for_each(|e| e.walk(f)),
            Expr::Subquery(s) => {
                if let SubqueryKind::In { exprs, .. } = &s.kind {
                    exprs.iter().for_each(|e| e.walk(f));
                }
            }
        }
    }

    /// Rebuilds this node with `f` applied to each direct child (not into subquery plans).
    pub fn try_map_children(self, f: &mut impl FnMut(Expr) -> Result<Expr>) -> Result<Expr> {
        #[allow(clippy::boxed_local)] // children are boxed in the tree; reuse the box type
        fn bx(e: Box<Expr>, f: &mut impl FnMut(Expr) -> Result<Expr>) -> Result<Box<Expr>> {
            Ok(Box::new(f(*e)?))
        }
        Ok(match self {
            Expr::Binary(op, a, b) => Expr::Binary(op, bx(a, f)?, bx(b, f)?),
            Expr::And(a, b) => Expr::And(bx(a, f)?, bx(b, f)?),
            Expr::Or(a, b) => Expr::Or(bx(a, f)?, bx(b, f)?),
            Expr::IsDistinct(a, b, n) => Expr::IsDistinct(bx(a, f)?, bx(b, f)?, n),
            Expr::Unary(op, a) => Expr::Unary(op, bx(a, f)?),
            Expr::IsNull(a, n) => Expr::IsNull(bx(a, f)?, n),
            Expr::IsBool(a, v, n) => Expr::IsBool(bx(a, f)?, v, n),
            Expr::Cast(a, ty) => Expr::Cast(bx(a, f)?, ty),
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => Expr::Case {
                operand: operand.map(|o| bx(o, f)).transpose()?,
                whens: whens
                    .into_iter()
                    .map(|(w, r)| Ok((f(w)?, f(r)?)))
                    .collect::<Result<_>>()?,
                otherwise: otherwise.map(|o| bx(o, f)).transpose()?,
            },
            Expr::InList {
                expr,
                list,
                negated,
            } => Expr::InList {
                expr: bx(expr, f)?,
                list: list.into_iter().map(&mut *f).collect::<Result<_>>()?,
                negated,
            },
            Expr::Like {
                expr,
                pattern,
                negated,
                case_insensitive,
            } => Expr::Like {
                expr: bx(expr, f)?,
                pattern: bx(pattern, f)?,
                negated,
                case_insensitive,
            },
            Expr::Function(func, args) => {
                Expr::Function(func, args.into_iter().map(&mut *f).collect::<Result<_>>()?)
            }
            Expr::Subquery(mut s) => {
                if let SubqueryKind::In { exprs, negated } = s.kind {
                    s.kind = SubqueryKind::In {
                        exprs: exprs.into_iter().map(&mut *f).collect::<Result<_>>()?,
                        negated,
                    };
                }
                Expr::Subquery(s)
            }
            leaf => leaf,
        })
    }

    /// Rewrites every node bottom-up with `f` (not into subquery plans).
    pub fn transform(self, f: &mut impl FnMut(Expr) -> Expr) -> Expr {
        fn go(e: Expr, f: &mut impl FnMut(Expr) -> Expr) -> Result<Expr> {
            let e = e.try_map_children(&mut |c| go(c, f))?;
            Ok(f(e))
        }
        match go(self, f) {
            Ok(e) => e,
            Err(_) => unreachable!("an infallible rewrite returned an error"),
        }
    }

    /// Columns of the current row this expression reads.
    pub fn columns(&self) -> Vec<usize> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Column(i) = e {
                out.push(*i);
            }
        });
        out
    }

    /// Whether the expression contains a subquery.
    pub fn has_subquery(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e, Expr::Subquery(_)));
        found
    }

    /// Constant for one execution of the plan: no column of the current row, no subquery
    /// and no volatile function.
    pub fn is_constant(&self) -> bool {
        let mut ok = true;
        self.walk(&mut |e| match e {
            Expr::Column(_) | Expr::Subquery(_) => ok = false,
            Expr::Function(f, _) if f.is_volatile() => ok = false,
            _ => {}
        });
        ok
    }

    /// Splits a conjunction into its conjuncts.
    pub fn conjuncts(self) -> Vec<Expr> {
        match self {
            Expr::And(a, b) => {
                let mut v = a.conjuncts();
                v.extend(b.conjuncts());
                v
            }
            e => vec![e],
        }
    }

    /// Joins conjuncts back with AND (`None` for an empty list).
    pub fn and_all(exprs: Vec<Expr>) -> Option<Expr> {
        exprs
            .into_iter()
            .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Literal(Value::Null) => f.write_str("NULL"),
            Expr::Literal(v @ (Value::Text(_) | Value::BpChar(_))) => write!(f, "'{v}'"),
            Expr::Literal(v) => write!(f, "{v}"),
            Expr::Column(i) => write!(f, "#{i}"),
            Expr::Outer { depth, index } => write!(f, "outer{depth}.#{index}"),
            Expr::Param(i) => write!(f, "${}", i + 1),
            Expr::AggRef(i) => write!(f, "agg#{i}"),
            Expr::WindowRef(i) => write!(f, "window#{i}"),
            Expr::SetRef(i) => write!(f, "set#{i}"),
            Expr::Binary(op, a, b) => write!(f, "({a} {} {b})", op.symbol()),
            Expr::Unary(op, a) => write!(f, "({} {a})", op.symbol()),
            Expr::And(a, b) => write!(f, "({a} AND {b})"),
            Expr::Or(a, b) => write!(f, "({a} OR {b})"),
            Expr::IsNull(a, false) => write!(f, "({a} IS NULL)"),
            Expr::IsNull(a, true) => write!(f, "({a} IS NOT NULL)"),
            Expr::IsDistinct(a, b, n) => {
                let not = if *n { "NOT " } else { "" };
                write!(f, "({a} IS {not}DISTINCT FROM {b})")
            }
            Expr::IsBool(a, v, n) => {
                let not = if *n { "NOT " } else { "" };
                let what = match v {
                    Some(true) => "TRUE",
                    Some(false) => "FALSE",
                    None => "UNKNOWN",
                };
                write!(f, "({a} IS {not}{what})")
            }
            Expr::Cast(a, ty) => write!(f, "{a}::{}", ty.sql_name()),
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                f.write_str("CASE")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(o) = otherwise {
                    write!(f, " ELSE {o}")?;
                }
                f.write_str(" END")
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let items: Vec<String> = list.iter().map(ToString::to_string).collect();
                let not = if *negated { "NOT " } else { "" };
                write!(f, "({expr} {not}IN ({}))", items.join(", "))
            }
            Expr::Like {
                expr,
                pattern,
                negated,
                case_insensitive,
            } => {
                let not = if *negated { "NOT " } else { "" };
                let op = if *case_insensitive { "ILIKE" } else { "LIKE" };
                write!(f, "({expr} {not}{op} {pattern})")
            }
            Expr::Function(func, args) => {
                let items: Vec<String> = args.iter().map(ToString::to_string).collect();
                write!(f, "{}({})", func.name(), items.join(", "))
            }
            Expr::Subquery(s) => match &s.kind {
                SubqueryKind::Scalar => write!(f, "(subquery {})", s.id),
                SubqueryKind::Exists { negated } => {
                    let not = if *negated { "NOT " } else { "" };
                    write!(f, "{not}EXISTS(subquery {})", s.id)
                }
                SubqueryKind::In { exprs, negated } => {
                    let not = if *negated { "NOT " } else { "" };
                    let items: Vec<String> = exprs.iter().map(ToString::to_string).collect();
                    match items.as_slice() {
                        [one] => write!(f, "({one} {not}IN (subquery {}))", s.id),
                        _ => write!(f, "(({}) {not}IN (subquery {}))", items.join(", "), s.id),
                    }
                }
                SubqueryKind::Array { .. } => write!(f, "ARRAY(subquery {})", s.id),
            },
        }
    }
}
