//! Expression evaluation with SQL semantics: three-valued logic, NULL propagation, lazy
//! `AND`/`OR`/`CASE`/`COALESCE`, and subqueries (correlated ones run once per outer row,
//! uncorrelated ones once per statement).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::rc::Rc;

use zqlite_projections::value::{
    BinaryOp, CastContext, Value, and, binary_op, cast, or, sql_cmp, unary_op,
};

use super::Exec;
use crate::error::{Error, Result};
use crate::expr::{Expr, Subquery, SubqueryKind};
use crate::functions::Func;

/// `a = b` as SQL sees it: `Some(true|false)`, or `None` when either is NULL.
fn sql_eq(a: &Value, b: &Value) -> Result<Option<bool>> {
    Ok(sql_cmp(a, b)?.map(|o| o == Ordering::Equal))
}

/// SQL `LIKE` matching (`%`, `_`, backslash escapes).
pub fn like(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    fn go(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => {
                let rest = &p[1..];
                (0..=t.len()).any(|i| go(&t[i..], rest))
            }
            Some('_') => !t.is_empty() && go(&t[1..], &p[1..]),
            Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && go(&t[1..], &p[2..]),
            Some(c) => t.first() == Some(c) && go(&t[1..], &p[1..]),
        }
    }
    go(&t, &p)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::BpChar(s) => s.trim_end_matches(' ').to_string(),
        other => other.to_string(),
    }
}

impl Exec<'_> {
    /// Evaluates `e` on `row`, lending a column or a literal instead of cloning it (a row's
    /// text or JSON document costs allocations to copy).
    pub fn eval_ref<'x>(&mut self, e: &'x Expr, row: &'x [Value]) -> Result<Cow<'x, Value>> {
        match e {
            Expr::Column(i) => row
                .get(*i)
                .map(Cow::Borrowed)
                .ok_or_else(|| internal("column out of range")),
            Expr::Literal(v) => Ok(Cow::Borrowed(v)),
            _ => self.eval(e, row).map(Cow::Owned),
        }
    }

    /// Evaluates `e` on `row`.
    pub fn eval(&mut self, e: &Expr, row: &[Value]) -> Result<Value> {
        Ok(match e {
            Expr::Literal(v) => v.clone(),
            Expr::Column(i) => row
                .get(*i)
                .cloned()
                .ok_or_else(|| internal("column out of range"))?,
            Expr::Outer { depth, index } => {
                let level = self
                    .outer
                    .len()
                    .checked_sub(*depth)
                    .ok_or_else(|| internal("outer reference without an outer row"))?;
                self.outer[level]
                    .get(*index)
                    .cloned()
                    .ok_or_else(|| internal("outer column out of range"))?
            }
            Expr::Param(i) => self.params.get(*i).cloned().unwrap_or(Value::Null),
            Expr::Binary(op, a, b) => {
                let a = self.eval_ref(a, row)?;
                let b = self.eval_ref(b, row)?;
                binary_op(*op, &a, &b)?
            }
            Expr::Unary(op, a) => {
                let a = self.eval(a, row)?;
                unary_op(*op, &a)?
            }
            Expr::And(a, b) => {
                let a = self.eval(a, row)?;
                if a == Value::Bool(false) {
                    return Ok(a);
                }
                let b = self.eval(b, row)?;
                and(&a, &b)
            }
            Expr::Or(a, b) => {
                let a = self.eval(a, row)?;
                if a == Value::Bool(true) {
                    return Ok(a);
                }
                let b = self.eval(b, row)?;
                or(&a, &b)
            }
            Expr::IsNull(a, negated) => Value::Bool(self.eval_ref(a, row)?.is_null() != *negated),
            Expr::IsDistinct(a, b, not) => {
                let a = self.eval_ref(a, row)?;
                let b = self.eval_ref(b, row)?;
                let distinct = match (a.is_null(), b.is_null()) {
                    (true, true) => false,
                    (true, false) | (false, true) => true,
                    _ => sql_eq(&a, &b)? != Some(true),
                };
                Value::Bool(distinct != *not)
            }
            Expr::IsBool(a, expected, negated) => {
                let v = self.eval(a, row)?;
                let is = match expected {
                    Some(b) => v.as_bool() == Some(*b),
                    None => v.is_null(),
                };
                Value::Bool(is != *negated)
            }
            Expr::Cast(a, ty) => {
                let v = self.eval(a, row)?;
                cast(v, ty, CastContext::Explicit)?
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
            } => {
                let op = operand.as_ref().map(|o| self.eval(o, row)).transpose()?;
                for (w, then) in whens {
                    let c = self.eval(w, row)?;
                    let hit = match &op {
                        Some(v) => binary_op(BinaryOp::Eq, v, &c)? == Value::Bool(true),
                        None => c == Value::Bool(true),
                    };
                    if hit {
                        return self.eval(then, row);
                    }
                }
                match otherwise {
                    Some(o) => self.eval(o, row)?,
                    None => Value::Null,
                }
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let x = self.eval(expr, row)?;
                let mut values = Vec::with_capacity(list.len());
                for item in list {
                    values.push(self.eval(item, row)?);
                }
                in_values(&x, values.iter(), *negated)?
            }
            Expr::Like {
                expr,
                pattern,
                negated,
                case_insensitive,
            } => {
                let x = self.eval_ref(expr, row)?;
                let p = self.eval_ref(pattern, row)?;
                if x.is_null() || p.is_null() {
                    return Ok(Value::Null);
                }
                let (mut x, mut p) = (text_of(&x), text_of(&p));
                if *case_insensitive {
                    x = x.to_lowercase();
                    p = p.to_lowercase();
                }
                Value::Bool(like(&x, &p) != *negated)
            }
            Expr::Function(Func::Coalesce, args) => {
                for a in args {
                    let v = self.eval(a, row)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Value::Null
            }
            Expr::Function(Func::CurrentLsn, _) => Value::Int8(self.state.lsn() as i64),
            Expr::Function(Func::Json(f), args)
                if args.len() == 2 && crate::json_functions::is_binary_operator(*f) =>
            {
                let a = self.eval_ref(&args[0], row)?;
                let b = self.eval_ref(&args[1], row)?;
                crate::json_functions::eval_binary(*f, &a, &b)?
            }
            Expr::Function(f, args) => {
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a, row)?);
                }
                match f {
                    f if crate::sequences::is_sequence_call(*f) => {
                        let sequences = self.sequences.as_ref().ok_or_else(|| {
                            Error::unsupported(format!("{}() in this context", f.name()))
                        })?;
                        let (value, change) =
                            crate::sequences::call(sequences, self.state, *f, &values)?;
                        self.sequence_changes.extend(change);
                        value
                    }
                    Func::Catalog(c) => {
                        crate::system::catalog_functions::eval(*c, self.state, &values)?
                    }
                    _ => f.eval(&values)?,
                }
            }
            Expr::Subquery(s) => self.subquery(s, row)?,
            Expr::AggRef(_) => return Err(internal("aggregate reference outside an aggregate")),
            Expr::WindowRef(_) => return Err(internal("window reference outside a window")),
            Expr::SetRef(_) => {
                return Err(internal("set-returning reference outside a select list"));
            }
        })
    }

    /// Whether a predicate is true on `row` (NULL and false both reject).
    pub fn test(&mut self, e: &Expr, row: &[Value]) -> Result<bool> {
        Ok(self.eval(e, row)? == Value::Bool(true))
    }

    fn subquery(&mut self, s: &Subquery, row: &[Value]) -> Result<Value> {
        let rows = if s.correlated {
            self.outer.push(row.to_vec());
            let result = self.run(&s.plan);
            self.outer.pop();
            Rc::new(result?)
        } else {
            let key = s as *const Subquery as usize;
            match self.cache.get(&key) {
                Some(rows) => rows.clone(),
                None => {
                    let rows = Rc::new(self.run(&s.plan)?);
                    self.cache.insert(key, rows.clone());
                    rows
                }
            }
        };
        Ok(match &s.kind {
            SubqueryKind::Scalar => match rows.len() {
                0 => Value::Null,
                1 => rows[0].first().cloned().unwrap_or(Value::Null),
                _ => {
                    return Err(Error::Runtime {
                        sqlstate: "21000",
                        message: "more than one row returned by a subquery used as an expression"
                            .into(),
                    });
                }
            },
            SubqueryKind::Exists { negated } => Value::Bool(rows.is_empty() == *negated),
            SubqueryKind::Array { elem } => {
                let items = rows.iter().map(|r| r[0].clone()).collect();
                Value::Array(std::sync::Arc::new(zqlite_projections::value::Array::new(
                    *elem, items,
                )))
            }
            SubqueryKind::In { exprs, negated } if exprs.len() == 1 => {
                let x = self.eval(&exprs[0], row)?;
                in_values(&x, rows.iter().map(|r| &r[0]), *negated)?
            }
            SubqueryKind::In { exprs, negated } => {
                let xs = exprs
                    .iter()
                    .map(|e| self.eval(e, row))
                    .collect::<Result<Vec<_>>>()?;
                in_rows(&xs, rows.iter(), *negated)?
            }
        })
    }
}

/// `x [NOT] IN (values)` with SQL's NULL rules.
fn in_values<'v>(
    x: &Value,
    values: impl Iterator<Item = &'v Value>,
    negated: bool,
) -> Result<Value> {
    let mut saw_null = false;
    let mut any = false;
    for v in values {
        any = true;
        match sql_eq(x, v)? {
            Some(true) => return Ok(Value::Bool(!negated)),
            Some(false) => {}
            None => saw_null = true,
        }
    }
    if !any {
        return Ok(Value::Bool(negated));
    }
    if saw_null || x.is_null() {
        return Ok(Value::Null);
    }
    Ok(Value::Bool(negated))
}

/// `(x1, x2, ...) [NOT] IN (subquery)`: a row matches when every column is equal; a row
/// with no unequal column but a NULL comparison makes a non-match NULL.
fn in_rows<'v>(
    xs: &[Value],
    rows: impl Iterator<Item = &'v Vec<Value>>,
    negated: bool,
) -> Result<Value> {
    let mut saw_null = false;
    for r in rows {
        let mut row_eq = Some(true);
        for (x, v) in xs.iter().zip(r) {
            match sql_eq(x, v)? {
                Some(true) => {}
                Some(false) => {
                    row_eq = Some(false);
                    break;
                }
                None => row_eq = None,
            }
        }
        match row_eq {
            Some(true) => return Ok(Value::Bool(!negated)),
            Some(false) => {}
            None => saw_null = true,
        }
    }
    Ok(if saw_null {
        Value::Null
    } else {
        Value::Bool(negated)
    })
}

pub(crate) fn internal(msg: &str) -> Error {
    Error::Runtime {
        sqlstate: "XX000",
        message: format!("internal error: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns() {
        assert!(like("hello", "h%o"));
        assert!(like("hello", "_ello"));
        assert!(!like("hello", "h_o"));
        assert!(like("50%", "50\\%"));
        assert!(!like("500", "50\\%"));
        assert!(like("", "%"));
    }
}
