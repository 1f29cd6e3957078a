//! Evaluation of a [`JsonPath`] against a document, following PostgreSQL 15's
//! `jsonpath_exec.c` (see the parent module for the lax/strict rules).
//!
//! Items are borrowed from the document or the `vars` object where they can be, and owned
//! when the path computes them (arithmetic, item methods, literals). Each accessor maps
//! every item to a sequence and the sequences are concatenated, which keeps PostgreSQL's
//! depth-first order. Errors carry whether `silent` and predicates may swallow them.

use std::borrow::Cow;
use std::cmp::Ordering;

use zqlite_projections::value::{Jsonb, Numeric};

use super::{Accessor, Arith, Cmp, Expr, JsonPath, Method, Subscript};
use crate::error::Error;
use crate::json_functions::jsonb_type;

type Item<'a> = Cow<'a, Jsonb>;
type Items<'a> = Vec<Item<'a>>;

/// An evaluation error; a `hard` one (a missing variable) is raised even when `silent`
/// or inside a predicate.
struct Fail {
    error: Error,
    hard: bool,
}

type R<T> = std::result::Result<T, Fail>;

fn fail<T>(sqlstate: &'static str, message: impl Into<String>) -> R<T> {
    Err(Fail {
        error: Error::Runtime {
            sqlstate,
            message: message.into(),
        },
        hard: false,
    })
}

impl From<zqlite_projections::value::ValueError> for Fail {
    fn from(e: zqlite_projections::value::ValueError) -> Fail {
        Fail {
            error: e.into(),
            hard: false,
        }
    }
}

/// Three-valued predicate result (`None` is unknown).
type Tri = Option<bool>;

/// The items `path` selects from `doc`, or `None` when `silent` suppressed an error.
/// `vars` must be an object when given (22023 otherwise).
pub fn query(
    path: &JsonPath,
    doc: &Jsonb,
    vars: Option<&Jsonb>,
    silent: bool,
) -> crate::error::Result<Option<Vec<Jsonb>>> {
    if vars.is_some_and(|v| !matches!(v, Jsonb::Object(_))) {
        return Err(Error::Runtime {
            sqlstate: "22023",
            message: "\"vars\" argument is not an object".into(),
        });
    }
    let cx = Cx {
        root: doc,
        vars,
        strict: path.strict,
    };
    match cx.eval(&path.expr, &Cow::Borrowed(doc), None) {
        Ok(items) => Ok(Some(items.into_iter().map(Cow::into_owned).collect())),
        Err(f) if silent && !f.hard => Ok(None),
        Err(f) => Err(f.error),
    }
}

struct Cx<'a> {
    root: &'a Jsonb,
    vars: Option<&'a Jsonb>,
    strict: bool,
}

/// A borrowed item's children, borrowed; an owned item's, cloned.
fn sub<'a>(item: &Item<'a>, pick: impl for<'b> Fn(&'b Jsonb) -> Vec<&'b Jsonb>) -> Items<'a> {
    match item {
        Cow::Borrowed(j) => pick(j).into_iter().map(Cow::Borrowed).collect(),
        Cow::Owned(j) => pick(j).into_iter().map(|c| Cow::Owned(c.clone())).collect(),
    }
}

fn elements(j: &Jsonb) -> Vec<&Jsonb> {
    match j {
        Jsonb::Array(items) => items.iter().collect(),
        _ => Vec::new(),
    }
}

fn values(j: &Jsonb) -> Vec<&Jsonb> {
    match j {
        Jsonb::Object(pairs) => pairs.iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    }
}

fn number(n: Numeric) -> Item<'static> {
    Cow::Owned(Jsonb::Number(n))
}

impl<'a> Cx<'a> {
    fn eval(&self, e: &Expr, cur: &Item<'a>, last: Option<usize>) -> R<Items<'a>> {
        Ok(match e {
            Expr::Root => vec![Cow::Borrowed(self.root)],
            Expr::Current => vec![cur.clone()],
            Expr::Var(name) => {
                let found = match self.vars {
                    Some(Jsonb::Object(pairs)) => pairs.iter().find(|(k, _)| k == name),
                    _ => None,
                };
                let Some((_, v)) = found else {
                    return Err(Fail {
                        error: Error::Runtime {
                            sqlstate: "42704",
                            message: format!("could not find jsonpath variable \"{name}\""),
                        },
                        hard: true,
                    });
                };
                vec![Cow::Borrowed(v)]
            }
            Expr::Last => {
                let size = last.unwrap_or(0);
                vec![number(Numeric::from_i64(size as i64 - 1))]
            }
            Expr::Literal(j) => vec![Cow::Owned(j.clone())],
            Expr::Path(base, accessors) => {
                let items = self.eval(base, cur, last)?;
                self.apply(accessors, items, !self.strict)?
            }
            Expr::Unary(neg, x) => {
                let mut out = Vec::new();
                for item in self.eval_unwrapped(x, cur, last)? {
                    let Jsonb::Number(n) = item.as_ref() else {
                        let op = if *neg { "-" } else { "+" };
                        return fail(
                            "2203B",
                            format!(
                                "operand of unary jsonpath operator {op} is not a numeric value"
                            ),
                        );
                    };
                    out.push(if *neg { number(n.neg()) } else { item });
                }
                out
            }
            Expr::Binary(op, l, r) => {
                let l = self.single_number(l, cur, last, "left", *op)?;
                let r = self.single_number(r, cur, last, "right", *op)?;
                let n = match op {
                    Arith::Add => l.add(&r)?,
                    Arith::Sub => l.sub(&r)?,
                    Arith::Mul => l.mul(&r)?,
                    Arith::Div => l.div(&r)?,
                    Arith::Mod => l.rem(&r)?,
                };
                vec![number(n)]
            }
            pred => {
                let b = self.pred(pred, cur, last)?;
                vec![Cow::Owned(b.map_or(Jsonb::Null, Jsonb::Bool))]
            }
        })
    }

    /// An expression's items with arrays unwrapped one level in lax mode.
    fn eval_unwrapped(&self, e: &Expr, cur: &Item<'a>, last: Option<usize>) -> R<Items<'a>> {
        let items = self.eval(e, cur, last)?;
        if self.strict {
            return Ok(items);
        }
        let mut out = Vec::new();
        for item in items {
            if matches!(item.as_ref(), Jsonb::Array(_)) {
                out.extend(sub(&item, elements));
            } else {
                out.push(item);
            }
        }
        Ok(out)
    }

    fn single_number(
        &self,
        e: &Expr,
        cur: &Item<'a>,
        last: Option<usize>,
        side: &str,
        op: Arith,
    ) -> R<Numeric> {
        let items = self.eval_unwrapped(e, cur, last)?;
        match items.as_slice() {
            [one] => match one.as_ref() {
                Jsonb::Number(n) => Ok(n.clone()),
                _ => fail(
                    "22038",
                    format!(
                        "{side} operand of jsonpath operator {} is not a single numeric value",
                        op.symbol()
                    ),
                ),
            },
            _ => fail(
                "22038",
                format!(
                    "{side} operand of jsonpath operator {} is not a single numeric value",
                    op.symbol()
                ),
            ),
        }
    }

    /// A predicate's value; soft errors in its operands make it unknown.
    fn pred(&self, e: &Expr, cur: &Item<'a>, last: Option<usize>) -> R<Tri> {
        // Operands are evaluated without raising soft errors.
        let operand = |x: &Expr, unwrap: bool| -> R<Option<Items<'a>>> {
            let r = if unwrap {
                self.eval_unwrapped(x, cur, last)
            } else {
                self.eval(x, cur, last)
            };
            match r {
                Ok(items) => Ok(Some(items)),
                Err(f) if f.hard => Err(f),
                Err(_) => Ok(None),
            }
        };
        Ok(match e {
            Expr::And(l, r) => match self.pred(l, cur, last)? {
                Some(false) => Some(false),
                lv => match self.pred(r, cur, last)? {
                    Some(false) => Some(false),
                    rv if lv == Some(true) => rv,
                    _ => None,
                },
            },
            Expr::Or(l, r) => match self.pred(l, cur, last)? {
                Some(true) => Some(true),
                lv => match self.pred(r, cur, last)? {
                    Some(true) => Some(true),
                    rv if lv == Some(false) => rv,
                    _ => None,
                },
            },
            Expr::Not(x) => self.pred(x, cur, last)?.map(|b| !b),
            Expr::IsUnknown(x) => Some(self.pred(x, cur, last)?.is_none()),
            Expr::Exists(x) => operand(x, false)?.map(|items| !items.is_empty()),
            Expr::Compare(op, l, r) => {
                let (Some(ls), Some(rs)) = (operand(l, true)?, operand(r, true)?) else {
                    return Ok(None);
                };
                self.any_pair(&ls, &rs, |a, b| compare(*op, a, b))?
            }
            Expr::StartsWith(l, prefix) => {
                let (Some(ls), Some(rs)) = (operand(l, true)?, operand(prefix, false)?) else {
                    return Ok(None);
                };
                self.any_pair(&ls, &rs, |a, b| match (a, b) {
                    (Jsonb::String(a), Jsonb::String(b)) => Some(a.starts_with(b.as_str())),
                    _ => None,
                })?
            }
            Expr::LikeRegex(l, re) => {
                let Some(ls) = operand(l, true)? else {
                    return Ok(None);
                };
                let unit = [Cow::Owned(Jsonb::Null)];
                self.any_pair(&ls, &unit, |a, _| match a {
                    Jsonb::String(s) => Some(re.is_match(s)),
                    _ => None,
                })?
            }
            // A value expression where a predicate belongs is kept out by the parser.
            _ => None,
        })
    }

    /// PostgreSQL's `executePredicate` loop: lax mode answers true at the first pair that
    /// holds; strict mode answers unknown if any pair is unknown.
    fn any_pair(
        &self,
        ls: &[Item<'a>],
        rs: &[Item<'a>],
        test: impl Fn(&Jsonb, &Jsonb) -> Tri,
    ) -> R<Tri> {
        let (mut found, mut error) = (false, false);
        for l in ls {
            for r in rs {
                match test(l, r) {
                    None => {
                        if self.strict {
                            return Ok(None);
                        }
                        error = true;
                    }
                    Some(true) => {
                        if !self.strict {
                            return Ok(Some(true));
                        }
                        found = true;
                    }
                    Some(false) => {}
                }
            }
        }
        Ok(if found {
            Some(true)
        } else if error {
            None
        } else {
            Some(false)
        })
    }

    /// Applies `accessors` in order to `items`; `lax_structure` ignores structural errors
    /// (lax mode, and everything after `.**`).
    fn apply(
        &self,
        accessors: &[Accessor],
        mut items: Items<'a>,
        lax_structure: bool,
    ) -> R<Items<'a>> {
        for (i, accessor) in accessors.iter().enumerate() {
            if let Accessor::Any { first, last: to } = accessor {
                let mut found = Vec::new();
                for item in &items {
                    if *first == 0 {
                        found.push(item.clone());
                    }
                    descend(item, 1, *first, *to, &mut found);
                }
                return self.apply(&accessors[i + 1..], found, true);
            }
            let mut next = Vec::new();
            for item in items {
                self.step(accessor, item, lax_structure, true, &mut next)?;
            }
            items = next;
        }
        Ok(items)
    }

    /// One accessor on one item; `unwrap` allows lax mode to look into an array.
    fn step(
        &self,
        accessor: &Accessor,
        item: Item<'a>,
        lax_structure: bool,
        unwrap: bool,
        out: &mut Items<'a>,
    ) -> R<()> {
        let is_array = matches!(item.as_ref(), Jsonb::Array(_));
        let unwraps = unwrap && !self.strict && is_array;
        match accessor {
            Accessor::Key(key) => match item.as_ref() {
                Jsonb::Object(pairs) => {
                    if pairs.iter().any(|(k, _)| k == key) {
                        out.extend(sub(&item, |j| match j {
                            Jsonb::Object(p) => {
                                p.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect()
                            }
                            _ => Vec::new(),
                        }));
                    } else if !lax_structure {
                        return fail(
                            "2203A",
                            format!("JSON object does not contain key \"{key}\""),
                        );
                    }
                }
                _ if unwraps => self.each_element(accessor, &item, lax_structure, out)?,
                _ if !lax_structure => {
                    return fail(
                        "2203A",
                        "jsonpath member accessor can only be applied to an object",
                    );
                }
                _ => {}
            },
            Accessor::AnyKey => match item.as_ref() {
                Jsonb::Object(_) => out.extend(sub(&item, values)),
                _ if unwraps => self.each_element(accessor, &item, lax_structure, out)?,
                _ if !lax_structure => {
                    return fail(
                        "2203C",
                        "jsonpath wildcard member accessor can only be applied to an object",
                    );
                }
                _ => {}
            },
            Accessor::AnyIndex => {
                if is_array {
                    out.extend(sub(&item, elements));
                } else if !self.strict {
                    out.push(item);
                } else if !lax_structure {
                    return fail(
                        "22039",
                        "jsonpath wildcard array accessor can only be applied to an array",
                    );
                }
            }
            Accessor::Index(list) => {
                if !is_array && self.strict {
                    if !lax_structure {
                        return fail(
                            "22039",
                            "jsonpath array accessor can only be applied to an array",
                        );
                    }
                    return Ok(());
                }
                let size = match item.as_ref() {
                    Jsonb::Array(elems) => elems.len(),
                    _ => 1,
                };
                for s in list {
                    let (from, to) = self.subscript(s, &item, size)?;
                    if !lax_structure && (from < 0 || from > to || to >= size as i64) {
                        return fail("22033", "jsonpath array subscript is out of bounds");
                    }
                    let from = from.max(0);
                    let to = to.min(size as i64 - 1);
                    for i in from..=to {
                        let i = i as usize;
                        if is_array {
                            out.extend(sub(&item, |j| {
                                elements(j).into_iter().skip(i).take(1).collect()
                            }));
                        } else {
                            out.push(item.clone());
                        }
                    }
                }
            }
            Accessor::Filter(pred) => {
                if unwraps {
                    self.each_element(accessor, &item, lax_structure, out)?;
                } else if self.pred(pred, &item, None)? == Some(true) {
                    out.push(item);
                }
            }
            Accessor::Method(m) => self.method(*m, item, lax_structure, unwraps, out)?,
            Accessor::Any { .. } => unreachable!("handled by apply"),
        }
        Ok(())
    }

    /// Lax mode's unwrapping: the accessor on each element of the array `item`, without
    /// unwrapping further.
    fn each_element(
        &self,
        accessor: &Accessor,
        item: &Item<'a>,
        lax_structure: bool,
        out: &mut Items<'a>,
    ) -> R<()> {
        for e in sub(item, elements) {
            self.step(accessor, e, lax_structure, false, out)?;
        }
        Ok(())
    }

    /// A subscript's bounds (`to` equals `from` for a single index).
    fn subscript(&self, s: &Subscript, item: &Item<'a>, size: usize) -> R<(i64, i64)> {
        let index = |e: &Expr| -> R<i64> {
            let items = self.eval(e, item, Some(size))?;
            let [one] = items.as_slice() else {
                return fail(
                    "22033",
                    "jsonpath array subscript is not a single numeric value",
                );
            };
            let Jsonb::Number(n) = one.as_ref() else {
                return fail(
                    "22033",
                    "jsonpath array subscript is not a single numeric value",
                );
            };
            match n.trunc(0).to_i64_exact() {
                Some(i) if i32::try_from(i).is_ok() => Ok(i),
                _ => fail("22033", "jsonpath array subscript is out of integer range"),
            }
        };
        let from = index(&s.from)?;
        let to = match &s.to {
            Some(to) => index(to)?,
            None => from,
        };
        Ok((from, to))
    }

    fn method(
        &self,
        m: Method,
        item: Item<'a>,
        lax_structure: bool,
        unwraps: bool,
        out: &mut Items<'a>,
    ) -> R<()> {
        let name = m.name();
        match m {
            Method::Type => out.push(Cow::Owned(Jsonb::String(jsonb_type(&item).into()))),
            Method::Size => match item.as_ref() {
                Jsonb::Array(elems) => out.push(number(Numeric::from_i64(elems.len() as i64))),
                _ if !self.strict => out.push(number(Numeric::from_i64(1))),
                _ if !lax_structure => {
                    return fail(
                        "22039",
                        "jsonpath item method .size() can only be applied to an array",
                    );
                }
                _ => {}
            },
            _ if unwraps => {
                for e in sub(&item, elements) {
                    self.method(m, e, lax_structure, false, out)?;
                }
            }
            Method::KeyValue => {
                let Jsonb::Object(pairs) = item.as_ref() else {
                    return fail(
                        "2203C",
                        "jsonpath item method .keyvalue() can only be applied to an object",
                    );
                };
                let id = self.object_id(&item);
                for (k, v) in pairs {
                    out.push(Cow::Owned(Jsonb::Object(vec![
                        ("id".into(), Jsonb::Number(Numeric::from_i64(id))),
                        ("key".into(), Jsonb::String(k.clone())),
                        ("value".into(), v.clone()),
                    ])));
                }
            }
            Method::Double => {
                let n = match item.as_ref() {
                    Jsonb::Number(n) => {
                        if !n.to_f64().is_ok_and(f64::is_finite) {
                            return fail(
                                "22036",
                                "numeric argument of jsonpath item method .double() is out of \
                                 range for type double precision",
                            );
                        }
                        n.clone()
                    }
                    Jsonb::String(s) => match s.trim().parse::<f64>() {
                        Ok(f) if f.is_finite() => Numeric::from_f64(f),
                        _ => {
                            return fail(
                                "22036",
                                "string argument of jsonpath item method .double() is not a \
                                 valid representation of a double precision number",
                            );
                        }
                    },
                    _ => {
                        return fail(
                            "22036",
                            "jsonpath item method .double() can only be applied to a string or \
                             numeric value",
                        );
                    }
                };
                out.push(number(n));
            }
            Method::Ceiling | Method::Floor | Method::Abs => {
                let Jsonb::Number(n) = item.as_ref() else {
                    return fail(
                        "22036",
                        format!(
                            "jsonpath item method .{name}() can only be applied to a numeric value"
                        ),
                    );
                };
                let r = match m {
                    Method::Abs => n.abs(),
                    _ => {
                        let t = n.trunc(0);
                        let up = m == Method::Ceiling;
                        if t != *n && n.is_negative() != up {
                            t.add(&Numeric::from_i64(if up { 1 } else { -1 }))?
                        } else {
                            t
                        }
                    }
                };
                out.push(number(r));
            }
        }
        Ok(())
    }

    /// `.keyvalue()`'s `id`: the object's byte offset in PostgreSQL's binary jsonb of the
    /// document (or, plus 10¹⁰, of `vars`); 0 for an object the path computed.
    fn object_id(&self, item: &Item<'a>) -> i64 {
        let Cow::Borrowed(target) = item else {
            return 0;
        };
        if let Some(offset) = super::layout::offset_of(self.root, target) {
            return offset as i64;
        }
        if let Some(vars) = self.vars
            && let Some(offset) = super::layout::offset_of(vars, target)
        {
            return 10_000_000_000 + offset as i64;
        }
        0
    }
}

/// `.**`'s items below `item`, depth-first, from `level` on (`first`..=`last` selected;
/// `first == last == u32::MAX` selects only the leaves).
fn descend<'a>(item: &Item<'a>, level: u32, first: u32, last: u32, out: &mut Items<'a>) {
    if level > last {
        return;
    }
    let children = if matches!(item.as_ref(), Jsonb::Object(_)) {
        sub(item, values)
    } else {
        sub(item, elements)
    };
    for child in children {
        let container = matches!(child.as_ref(), Jsonb::Array(_) | Jsonb::Object(_));
        if level >= first || (first == u32::MAX && last == u32::MAX && !container) {
            out.push(child.clone());
        }
        if level < last && container {
            descend(&child, level + 1, first, last, out);
        }
    }
}

/// One comparison of two items: values of different types (but null) do not compare,
/// nor do arrays and objects; null equals only null.
fn compare(op: Cmp, a: &Jsonb, b: &Jsonb) -> Tri {
    let ord = match (a, b) {
        (Jsonb::Null, Jsonb::Null) => Ordering::Equal,
        (Jsonb::Null, _) | (_, Jsonb::Null) => return Some(op == Cmp::Ne),
        (Jsonb::Bool(x), Jsonb::Bool(y)) => x.cmp(y),
        (Jsonb::Number(x), Jsonb::Number(y)) => x.cmp(y),
        (Jsonb::String(x), Jsonb::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        _ => return None,
    };
    Some(match op {
        Cmp::Eq => ord == Ordering::Equal,
        Cmp::Ne => ord != Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::Le => ord != Ordering::Greater,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::Ge => ord != Ordering::Less,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(doc: &str, path: &str, vars: Option<&str>) -> crate::error::Result<Vec<String>> {
        let doc = Jsonb::parse(doc).unwrap();
        let vars = vars.map(|v| Jsonb::parse(v).unwrap());
        let path = super::super::parse(path)?;
        let items = query(&path, &doc, vars.as_ref(), false)?.expect("not silent");
        Ok(items.iter().map(ToString::to_string).collect())
    }

    fn ok(doc: &str, path: &str) -> String {
        run(doc, path, None).unwrap().join(" ")
    }

    fn err(doc: &str, path: &str) -> (String, String) {
        let e = run(doc, path, None).unwrap_err();
        (e.sqlstate().to_string(), e.to_string())
    }

    // Expected values from PostgreSQL 15.
    #[test]
    fn filters_methods_and_arithmetic() {
        assert_eq!(ok(r#"{"a": [1, 2, 3, 4]}"#, "$.a[*] ? (@ >= 2)"), "2 3 4");
        assert_eq!(ok(r#"{"a": [1, 2, 3]}"#, "$.a.size()"), "3");
        assert_eq!(ok(r#"{"x": "abc"}"#, "$.x.type()"), r#""string""#);
        assert_eq!(ok("[[1],2]", "$[*].type()"), r#""array" "number""#);
        assert_eq!(ok(r#"[1, "a", [2, "b"], {"k": 3}]"#, "$[*] ? (@ > 1)"), "2");
        assert_eq!(
            ok(r#"[1, "a", [2, "b"], {"k": 3}]"#, "strict $[*] ? (@ > 1)"),
            ""
        );
        assert_eq!(ok(r#"{"a": [{"b": 1}, {"b": 2}]}"#, "$.a.b"), "1 2");
        // A string and a number do not compare; null differs from everything but null.
        assert_eq!(ok(r#"[1, "a", null]"#, "$[*] ? (@ != 1)"), "null");
        assert_eq!(ok("[1.5, -2.5]", "$[*].floor()"), "1 -3");
        assert_eq!(ok("[1.5, -2.5]", "$[*].ceiling()"), "2 -2");
        assert_eq!(ok(r#"["1.5e2", 3]"#, "$[*].double()"), "150 3");
        assert_eq!(ok(r#"{"a": 7}"#, "-$.a * 1.5"), "-10.5");
        assert_eq!(ok("[1,2,3,4,5]", "$[1 to last, 0]"), "2 3 4 5 1");
        assert_eq!(ok("[1,2,3,4,5]", "lax $[2 to 10]"), "3 4 5");
        assert_eq!(ok(r#"{"a": [1, 2]}"#, "$.a == 1"), "true");
        assert_eq!(ok("[1, 2]", "$[*] ? ((@ > \"a\") is unknown)"), "1 2");
        assert_eq!(
            ok(r#"[{"a":1},{"b":2}]"#, "$[*] ? (!exists(@.a))"),
            r#"{"b": 2}"#
        );
        assert_eq!(
            ok(
                r#"["abc", "Abd", "xyz"]"#,
                r#"$[*] ? (@ like_regex "^ab" flag "i")"#
            ),
            r#""abc" "Abd""#
        );
        assert_eq!(
            ok(r#"{"s": "hello"}"#, r#"$.s ? (@ starts with "he")"#),
            r#""hello""#
        );
    }

    #[test]
    fn any_level_accessor() {
        let doc = r#"{"a": {"x": 1, "y": [2, {"z": 3}]}}"#;
        assert_eq!(
            ok(doc, "$.**"),
            r#"{"a": {"x": 1, "y": [2, {"z": 3}]}} {"x": 1, "y": [2, {"z": 3}]} 1 [2, {"z": 3}] 2 {"z": 3} 3"#
        );
        assert_eq!(
            ok(doc, "$.**{2 to last}"),
            r#"1 [2, {"z": 3}] 2 {"z": 3} 3"#
        );
        assert_eq!(ok(doc, "strict $.**.z"), "3");
        assert_eq!(ok(doc, "$.**{0}"), doc);
        assert_eq!(ok(doc, "$.**{1}.x"), "1");
        assert_eq!(ok(doc, "$.**{last}"), "1 2 3");
    }

    #[test]
    fn variables_and_keyvalue() {
        let got = run(
            r#"[{"n": 1}, {"n": 5}]"#,
            "$[*] ? (@.n > $min).n",
            Some(r#"{"min": 2}"#),
        );
        assert_eq!(got.unwrap(), ["5"]);
        assert_eq!(
            err("{}", "$x"),
            (
                "42704".into(),
                "could not find jsonpath variable \"x\"".into()
            )
        );
        let e = run("{}", "$", Some("[1]")).unwrap_err();
        assert_eq!(e.sqlstate(), "22023");
        assert_eq!(
            ok(r#"{"a": 1, "b": {"c": 2}}"#, "$.b.keyvalue()"),
            r#"{"id": 32, "key": "c", "value": 2}"#
        );
    }

    #[test]
    fn strict_mode_errors() {
        for (doc, path, state, message) in [
            (
                r#"{"a": 1}"#,
                "strict $.b",
                "2203A",
                "JSON object does not contain key \"b\"",
            ),
            (
                "[1]",
                "strict $[5]",
                "22033",
                "jsonpath array subscript is out of bounds",
            ),
            (
                "[1]",
                "strict $.a",
                "2203A",
                "jsonpath member accessor can only be applied to an object",
            ),
            (
                "1",
                "strict $[0]",
                "22039",
                "jsonpath array accessor can only be applied to an array",
            ),
            (
                "1",
                "strict $.*",
                "2203C",
                "jsonpath wildcard member accessor can only be applied to an object",
            ),
            (
                "5",
                "strict $.size()",
                "22039",
                "jsonpath item method .size() can only be applied to an array",
            ),
            // Not structural: raised in lax mode too.
            (
                r#"{"a": "x"}"#,
                "$.a + 1",
                "22038",
                "left operand of jsonpath operator + is not a single numeric value",
            ),
            (
                "5",
                "$.keyvalue()",
                "2203C",
                "jsonpath item method .keyvalue() can only be applied to an object",
            ),
            (
                "1",
                "-$.type()",
                "2203B",
                "operand of unary jsonpath operator - is not a numeric value",
            ),
            ("1", "$ / 0", "22012", "division by zero"),
        ] {
            assert_eq!(
                err(doc, path),
                (state.to_string(), message.to_string()),
                "{path}"
            );
        }
        assert_eq!(ok(r#"{"a": 1}"#, "lax $.b"), "");
        let path = super::super::parse("strict $.b").unwrap();
        let doc = Jsonb::parse("{}").unwrap();
        assert!(query(&path, &doc, None, true).unwrap().is_none());
    }
}
