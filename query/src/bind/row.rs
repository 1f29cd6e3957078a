//! Row constructors in comparisons: `(a, b) = (1, 2)`, `ROW(a, b) < ROW(1, 2)`,
//! `(a, b) IN ((1, 2), (3, 4))`, `(a, b) IN (SELECT x, y ...)`, and the periods of
//! `(s1, e1) OVERLAPS (s2, e2)`.
//!
//! zqlite has no row (record) values: a comparison of two row constructors binds to the
//! column-wise comparisons PostgreSQL defines it by.
//! - `=` is the AND of the column equalities, `<>` the OR of the inequalities;
//! - `<`, `<=`, `>`, `>=` compare left to right: the first pair that is not equal decides,
//!   and a NULL there makes the result NULL. Bound as
//!   `a1 < b1 OR (a1 = b1 AND (a2 < b2 OR ...))`, the last pair with the operator itself,
//!   which has the same three-valued results.
//! - Both rows must have as many entries (42601 otherwise).

use sqlparser::ast::{self, BinaryOperator as B};
use zqlite_projections::value::{BinaryOp, DataType};

use super::Binder;
use super::expr::{Typed, coerce_to, coerce_unknown};
use crate::datetime_functions::DateTimeFunc;
use crate::error::{Error, Result};
use crate::expr::{Expr, SubqueryKind};
use crate::functions::{Func, common_type};

/// The entries of a row constructor: `(a, b)` or `ROW(...)`; `None` for other expressions.
pub(crate) fn row_items(e: &ast::Expr) -> Option<Vec<&ast::Expr>> {
    match e {
        ast::Expr::Tuple(items) => Some(items.iter().collect()),
        ast::Expr::Nested(inner) => row_items(inner),
        ast::Expr::Function(f)
            if f.over.is_none()
                && f.name.0.len() == 1
                && f.name.to_string().eq_ignore_ascii_case("row") =>
        {
            match &f.args {
                ast::FunctionArguments::None => Some(Vec::new()),
                ast::FunctionArguments::List(list) if list.clauses.is_empty() => list
                    .args
                    .iter()
                    .map(|a| match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                        _ => None,
                    })
                    .collect(),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The comparison operator `op` is, if it is one.
fn comparison(op: &B) -> Option<BinaryOp> {
    super::expr::binary_op_of(op).filter(|op| {
        matches!(
            op,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    })
}

fn unequal_sizes() -> Error {
    Error::bind("42601", "unequal number of entries in row expressions")
}

fn and(a: Expr, b: Expr) -> Expr {
    Expr::And(Box::new(a), Box::new(b))
}

fn or(a: Expr, b: Expr) -> Expr {
    Expr::Or(Box::new(a), Box::new(b))
}

impl Binder<'_> {
    /// `left op right` when either side is a row constructor; `None` when neither is.
    pub(crate) fn row_comparison(
        &mut self,
        left: &ast::Expr,
        op: &B,
        right: &ast::Expr,
    ) -> Option<Result<Typed>> {
        let (l, r) = (row_items(left), row_items(right));
        if l.is_none() && r.is_none() {
            return None;
        }
        let op = comparison(op)?;
        Some(match (l, r) {
            (Some(l), Some(r)) => self
                .bind_row(&l)
                .and_then(|l| Ok((l, self.bind_row(&r)?)))
                .and_then(|(l, r)| self.compare_rows(op, l, r))
                .map(|e| (e, Some(DataType::Bool))),
            _ => Err(Error::unsupported(
                "comparing a row constructor with a value that is not one",
            )),
        })
    }

    fn bind_row(&mut self, items: &[&ast::Expr]) -> Result<Vec<Typed>> {
        items.iter().map(|e| self.expr(e)).collect()
    }

    /// The column-wise comparison of two bound rows (see the module documentation).
    pub(crate) fn compare_rows(
        &mut self,
        op: BinaryOp,
        l: Vec<Typed>,
        r: Vec<Typed>,
    ) -> Result<Expr> {
        if l.len() != r.len() {
            return Err(unequal_sizes());
        }
        if l.is_empty() {
            return Err(Error::unsupported("comparing empty rows"));
        }
        let mut pairs = Vec::new();
        for (a, b) in l.into_iter().zip(r) {
            pairs.push((a, b));
        }
        match op {
            BinaryOp::Eq | BinaryOp::NotEq => {
                let mut out: Option<Expr> = None;
                for (a, b) in pairs {
                    let (e, _) = self.binary(op, a, b)?;
                    out = Some(match out {
                        None => e,
                        Some(acc) if op == BinaryOp::Eq => and(acc, e),
                        Some(acc) => or(acc, e),
                    });
                }
                Ok(out.expect("rows are not empty"))
            }
            _ => {
                let strict = match op {
                    BinaryOp::LtEq => BinaryOp::Lt,
                    BinaryOp::GtEq => BinaryOp::Gt,
                    other => other,
                };
                let last = pairs.len() - 1;
                let mut bound = Vec::new();
                for (i, (a, b)) in pairs.into_iter().enumerate() {
                    if i == last {
                        bound.push((self.binary(op, a, b)?.0, None));
                    } else {
                        let (lt, _) = self.binary(strict, a.clone(), b.clone())?;
                        let (eq, _) = self.binary(BinaryOp::Eq, a, b)?;
                        bound.push((lt, Some(eq)));
                    }
                }
                let mut acc: Option<Expr> = None;
                for (cmp, eq) in bound.into_iter().rev() {
                    acc = Some(match (acc, eq) {
                        (Some(rest), Some(eq)) => or(cmp, and(eq, rest)),
                        _ => cmp,
                    });
                }
                Ok(acc.expect("rows are not empty"))
            }
        }
    }

    /// `(s1, e1) OVERLAPS (s2, e2)`: each end may be an interval, added to its start.
    pub(crate) fn overlaps(&mut self, left: &ast::Expr, right: &ast::Expr) -> Result<Typed> {
        let (Some(l), Some(r)) = (row_items(left), row_items(right)) else {
            return Err(Error::bind("42601", "syntax error at or near \"OVERLAPS\""));
        };
        if l.len() != 2 {
            return Err(Error::bind(
                "42601",
                "wrong number of parameters on left side of OVERLAPS expression",
            ));
        }
        if r.len() != 2 {
            return Err(Error::bind(
                "42601",
                "wrong number of parameters on right side of OVERLAPS expression",
            ));
        }
        let mut values = Vec::new();
        for pair in [l, r] {
            let start = self.expr(pair[0])?;
            let end = self.expr(pair[1])?;
            let end = if end.1 == Some(DataType::Interval) {
                self.binary(BinaryOp::Add, start.clone(), end)?
            } else {
                end
            };
            values.push(start);
            values.push(end);
        }
        // A date is a timestamp at midnight here.
        let types: Vec<Option<DataType>> = values
            .iter()
            .map(|v| match v.1 {
                Some(DataType::Date) => Some(DataType::Timestamp),
                t => t,
            })
            .collect();
        let moment = match common_type(&types, "OVERLAPS")? {
            Some(DataType::Date) | None => DataType::Timestamp,
            Some(t @ (DataType::Timestamp | DataType::TimestampTz | DataType::Time)) => t,
            Some(_) => {
                return Err(Error::bind(
                    "42883",
                    "function overlaps does not exist for these argument types",
                ));
            }
        };
        let args = values
            .into_iter()
            .map(|(e, t)| coerce_to(e, t, Some(moment)))
            .collect::<Result<Vec<_>>>()?;
        Ok((
            Expr::Function(Func::DateTime(DateTimeFunc::Overlaps), args),
            Some(DataType::Bool),
        ))
    }

    /// `(a, b) [NOT] IN ((1, 2), (3, 4))`: an OR of row equalities (AND of inequalities).
    pub(crate) fn row_in_list(
        &mut self,
        row: &[&ast::Expr],
        list: &[ast::Expr],
        negated: bool,
    ) -> Result<Typed> {
        let x = self.bind_row(row)?;
        let op = if negated {
            BinaryOp::NotEq
        } else {
            BinaryOp::Eq
        };
        let mut out: Option<Expr> = None;
        for item in list {
            let Some(items) = row_items(item) else {
                return Err(Error::unsupported(
                    "comparing a row constructor with a value that is not one",
                ));
            };
            let r = self.bind_row(&items)?;
            let e = self.compare_rows(op, x.clone(), r)?;
            out = Some(match out {
                None => e,
                Some(acc) if negated => and(acc, e),
                Some(acc) => or(acc, e),
            });
        }
        let e = out.ok_or_else(|| Error::bind("42601", "syntax error at or near \")\""))?;
        Ok((e, Some(DataType::Bool)))
    }

    /// `(a, b) [NOT] IN (SELECT x, y ...)`.
    pub(crate) fn row_in_subquery(
        &mut self,
        row: &[&ast::Expr],
        q: &ast::Query,
        negated: bool,
    ) -> Result<Typed> {
        let x = self.bind_row(row)?;
        let (bound, correlated) = self.subquery(q)?;
        if bound.columns.len() > x.len() {
            return Err(Error::bind("42601", "subquery has too many columns"));
        }
        if bound.columns.len() < x.len() {
            return Err(Error::bind("42601", "subquery has too few columns"));
        }
        let mut exprs = Vec::new();
        for ((e, t), column) in x.into_iter().zip(&bound.columns) {
            let e = match (t, column.ty) {
                (None, Some(ct)) => coerce_unknown(e, ct)?,
                (Some(a), Some(b)) => {
                    zqlite_projections::value::binary_result_type(BinaryOp::Eq, &a, &b)?;
                    e
                }
                _ => e,
            };
            exprs.push(e);
        }
        let kind = SubqueryKind::In { exprs, negated };
        Ok((
            self.make_subquery(bound, correlated, kind),
            Some(DataType::Bool),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn parse(sql: &str) -> ast::Expr {
        Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_expr()
            .unwrap()
    }

    #[test]
    fn row_constructors_are_recognised() {
        assert_eq!(row_items(&parse("(a, b)")).map(|v| v.len()), Some(2));
        assert_eq!(
            row_items(&parse("ROW(1, 'a', 3)")).map(|v| v.len()),
            Some(3)
        );
        assert_eq!(row_items(&parse("row()")).map(|v| v.len()), Some(0));
        assert!(row_items(&parse("(a)")).is_none());
        assert!(row_items(&parse("rows(1, 2)")).is_none());
    }
}
