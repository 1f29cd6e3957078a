//! Operations on [`Jsonb`] trees behind the jsonb operators and functions: containment
//! (`@>`), key existence (`?`), concatenation (`||`), deletion (`-`, `#-`), path updates
//! (`jsonb_set`, `jsonb_insert`), `jsonb_strip_nulls` and `jsonb_pretty`.
//!
//! Everything follows PostgreSQL 15's `jsonfuncs.c` / `jsonb_util.c`, including its view of
//! a top-level scalar as a one-element "raw scalar" array: `'"a"' ? 'a'` is true, `'[1]' @>
//! '1'` is true but `'1' @> '[1]'` is false, and `'1' || '2'` is `[1, 2]`. Results are
//! normalised trees (object keys unique, in storage order), as every [`Jsonb`] must be.

use zqlite_projections::value::Jsonb;

use crate::error::{Error, Result};

fn invalid(message: &str) -> Error {
    Error::Runtime {
        sqlstate: "22023",
        message: message.to_string(),
    }
}

fn is_scalar(doc: &Jsonb) -> bool {
    !matches!(doc, Jsonb::Array(_) | Jsonb::Object(_))
}

/// Sorts an object's pairs into storage order (keys are unique already).
fn object(mut pairs: Vec<(String, Jsonb)>) -> Jsonb {
    pairs.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    Jsonb::Object(pairs)
}

/// Scalar equality as containment sees it (`1.0` equals `1`).
fn scalar_eq(a: &Jsonb, b: &Jsonb) -> bool {
    match (a, b) {
        (Jsonb::Null, Jsonb::Null) => true,
        (Jsonb::Bool(x), Jsonb::Bool(y)) => x == y,
        (Jsonb::Number(x), Jsonb::Number(y)) => x == y,
        (Jsonb::String(x), Jsonb::String(y)) => x == y,
        _ => false,
    }
}

/// `a @> b` (`JsonbDeepContains`).
pub fn contains(a: &Jsonb, b: &Jsonb) -> bool {
    match (a, b) {
        // Raw scalars: one contains another when they are equal; an array contains a
        // raw scalar it has as an element; a raw scalar contains no real array.
        (x, y) if is_scalar(x) && is_scalar(y) => scalar_eq(x, y),
        (Jsonb::Array(items), y) if is_scalar(y) => items.iter().any(|i| scalar_eq(i, y)),
        (x, _) if is_scalar(x) => false,
        _ => contains_nested(a, b),
    }
}

/// Containment below the top level, where scalars are not raw-scalar arrays.
fn contains_nested(a: &Jsonb, b: &Jsonb) -> bool {
    match (a, b) {
        (Jsonb::Object(have), Jsonb::Object(want)) => {
            have.len() >= want.len()
                && want.iter().all(|(k, wv)| {
                    let Some((_, hv)) = have.iter().find(|(hk, _)| hk == k) else {
                        return false;
                    };
                    match (is_scalar(hv), is_scalar(wv)) {
                        (true, true) => scalar_eq(hv, wv),
                        (false, false) => contains_nested(hv, wv),
                        _ => false,
                    }
                })
        }
        (Jsonb::Array(have), Jsonb::Array(want)) => want.iter().all(|w| {
            if is_scalar(w) {
                have.iter().any(|h| scalar_eq(h, w))
            } else {
                have.iter().any(|h| !is_scalar(h) && contains_nested(h, w))
            }
        }),
        _ => false,
    }
}

/// `doc ? key`: a key of an object, or a string element of an array (or raw scalar).
pub fn exists(doc: &Jsonb, key: &str) -> bool {
    match doc {
        Jsonb::Object(pairs) => pairs.iter().any(|(k, _)| k == key),
        Jsonb::Array(items) => items
            .iter()
            .any(|i| matches!(i, Jsonb::String(s) if s == key)),
        Jsonb::String(s) => s == key,
        _ => false,
    }
}

/// `a || b`: objects merge (the right side wins); anything else concatenates as arrays,
/// a scalar or an object next to an array being one element.
pub fn concat(a: &Jsonb, b: &Jsonb) -> Jsonb {
    match (a, b) {
        (Jsonb::Object(x), Jsonb::Object(y)) => {
            let mut pairs: Vec<(String, Jsonb)> = x
                .iter()
                .filter(|(k, _)| !y.iter().any(|(yk, _)| yk == k))
                .cloned()
                .collect();
            pairs.extend(y.iter().cloned());
            object(pairs)
        }
        _ => {
            let as_items = |d: &Jsonb| match d {
                Jsonb::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            let mut items = as_items(a);
            items.extend(as_items(b));
            Jsonb::Array(items)
        }
    }
}

/// `doc - key`: removes a key from an object, or the matching string elements of an array.
pub fn delete_key(doc: &Jsonb, key: &str) -> Result<Jsonb> {
    delete_keys(doc, &[key])
}

/// `doc - keys` (`text[]`): [`delete_key`] for each key.
pub fn delete_keys(doc: &Jsonb, keys: &[&str]) -> Result<Jsonb> {
    Ok(match doc {
        Jsonb::Object(pairs) => Jsonb::Object(
            pairs
                .iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .cloned()
                .collect(),
        ),
        Jsonb::Array(items) => Jsonb::Array(
            items
                .iter()
                .filter(|i| !matches!(i, Jsonb::String(s) if keys.contains(&s.as_str())))
                .cloned()
                .collect(),
        ),
        _ => return Err(invalid("cannot delete from scalar")),
    })
}

/// `doc - index`: removes an array element (negative counts from the end; out of range
/// leaves the array as it is).
pub fn delete_index(doc: &Jsonb, index: i64) -> Result<Jsonb> {
    match doc {
        Jsonb::Array(items) => {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let at = if index < 0 { len + index } else { index };
            let mut items = items.clone();
            if (0..len).contains(&at) {
                items.remove(usize::try_from(at).unwrap_or(0));
            }
            Ok(Jsonb::Array(items))
        }
        Jsonb::Object(_) => Err(invalid("cannot delete from object using integer index")),
        _ => Err(invalid("cannot delete from scalar")),
    }
}

/// What [`set_path`] does at the end of the path (PostgreSQL's `JB_PATH_*` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathOp {
    /// `jsonb_set(..., create_if_missing => false)`.
    Replace,
    /// `jsonb_set(..., create_if_missing => true)`.
    Create,
    /// `jsonb_insert(..., insert_after => false)`.
    InsertBefore,
    /// `jsonb_insert(..., insert_after => true)`.
    InsertAfter,
    /// `#-`.
    Delete,
}

impl PathOp {
    fn creates(self) -> bool {
        matches!(
            self,
            PathOp::Create | PathOp::InsertBefore | PathOp::InsertAfter
        )
    }

    fn inserts(self) -> bool {
        matches!(self, PathOp::InsertBefore | PathOp::InsertAfter)
    }
}

/// `jsonb_set`, `jsonb_insert` and `#-` (`setPath`): follows `path` (NULL steps are
/// `None`) and replaces, inserts or deletes at its end. A step that finds nothing leaves
/// the document unchanged (or creates the last step, for [`PathOp::Create`] and the
/// inserts). The caller rejects a top-level scalar and handles the empty path.
pub fn set_path(
    doc: &Jsonb,
    path: &[Option<String>],
    new: Option<&Jsonb>,
    op: PathOp,
) -> Result<Jsonb> {
    set_at(doc, path, 0, new, op)
}

fn set_at(
    doc: &Jsonb,
    path: &[Option<String>],
    level: usize,
    new: Option<&Jsonb>,
    op: PathOp,
) -> Result<Jsonb> {
    let Some(step) = &path[level] else {
        return Err(Error::Runtime {
            sqlstate: "22004",
            message: format!("path element at position {} is null", level + 1),
        });
    };
    let last = level + 1 == path.len();
    let new_value = || new.cloned().unwrap_or(Jsonb::Null);
    match doc {
        Jsonb::Object(pairs) => {
            let mut out = Vec::with_capacity(pairs.len() + 1);
            let mut found = false;
            for (k, v) in pairs {
                if k != step {
                    out.push((k.clone(), v.clone()));
                    continue;
                }
                found = true;
                if !last {
                    out.push((k.clone(), set_at(v, path, level + 1, new, op)?));
                } else if op.inserts() {
                    return Err(Error::Runtime {
                        sqlstate: "22023",
                        message: "cannot replace existing key".into(),
                    });
                } else if op != PathOp::Delete {
                    out.push((k.clone(), new_value()));
                }
            }
            if !found && last && op.creates() {
                out.push((step.clone(), new_value()));
            }
            Ok(object(out))
        }
        Jsonb::Array(items) => {
            let n = i64::try_from(items.len()).unwrap_or(i64::MAX);
            // strtoint: leading blanks and a sign, then digits to the end.
            let Ok(idx) = step.trim_start().parse::<i32>().map(i64::from) else {
                return Err(Error::Runtime {
                    sqlstate: "22P02",
                    message: format!(
                        "path element at position {} is not an integer: \"{step}\"",
                        level + 1
                    ),
                });
            };
            // Below the front: prepend (when creating); past the end: append.
            let before_start = idx < 0 && -idx > n;
            let idx = if idx < 0 && !before_start {
                n + idx
            } else {
                idx.min(n)
            };
            let mut out = Vec::with_capacity(items.len() + 1);
            let mut done = false;
            if (before_start || n == 0) && last && op.creates() {
                out.push(new_value());
                done = true;
            }
            for (i, item) in items.iter().enumerate() {
                if !before_start && i64::try_from(i).ok() == Some(idx) {
                    done = true;
                    if !last {
                        out.push(set_at(item, path, level + 1, new, op)?);
                        continue;
                    }
                    match op {
                        PathOp::InsertBefore => {
                            out.push(new_value());
                            out.push(item.clone());
                        }
                        PathOp::InsertAfter => {
                            out.push(item.clone());
                            out.push(new_value());
                        }
                        PathOp::Replace | PathOp::Create => out.push(new_value()),
                        PathOp::Delete => {}
                    }
                } else {
                    out.push(item.clone());
                }
            }
            if !done && last && op.creates() {
                out.push(new_value());
            }
            Ok(Jsonb::Array(out))
        }
        // A scalar inside the document: the path goes no further.
        other => Ok(other.clone()),
    }
}

/// `jsonb_strip_nulls`: removes object fields whose value is null, at every depth.
pub fn strip_nulls(doc: &Jsonb) -> Jsonb {
    match doc {
        Jsonb::Object(pairs) => Jsonb::Object(
            pairs
                .iter()
                .filter(|(_, v)| *v != Jsonb::Null)
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Jsonb::Array(items) => Jsonb::Array(items.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// `jsonb_pretty`: one element per line, four spaces per level; an empty container
/// still spans two lines, as in PostgreSQL.
pub fn pretty(doc: &Jsonb) -> String {
    let mut out = String::new();
    write_pretty(doc, 0, &mut out);
    out
}

fn write_pretty(doc: &Jsonb, level: usize, out: &mut String) {
    let indent = |out: &mut String, level: usize| {
        out.push('\n');
        out.push_str(&"    ".repeat(level));
    };
    match doc {
        Jsonb::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                write_pretty(item, level + 1, out);
            }
            indent(out, level);
            out.push(']');
        }
        Jsonb::Object(pairs) => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                out.push_str(&Jsonb::String(k.clone()).to_string());
                out.push_str(": ");
                write_pretty(v, level + 1, out);
            }
            indent(out, level);
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Jsonb {
        Jsonb::parse(s).unwrap()
    }

    fn path(steps: &[&str]) -> Vec<Option<String>> {
        steps
            .iter()
            .map(|s| (*s != "NULL").then(|| s.to_string()))
            .collect()
    }

    fn set(doc: &str, steps: &[&str], new: &str, op: PathOp) -> String {
        match set_path(&j(doc), &path(steps), Some(&j(new)), op) {
            Ok(v) => v.to_string(),
            Err(e) => format!("{}: {e}", e.sqlstate()),
        }
    }

    // Expected values from PostgreSQL 15.
    #[test]
    fn containment() {
        let c = |a: &str, b: &str| contains(&j(a), &j(b));
        assert!(c(
            r#"{"a": 1, "b": [1, 2, {"c": 3}]}"#,
            r#"{"b": [{"c": 3}, 1]}"#
        ));
        assert!(!c(r#"{"a": [1, 2]}"#, r#"{"a": 1}"#));
        assert!(c("[1, 2, [3]]", "1"));
        assert!(!c("1", "[1]"));
        assert!(c("1.0", "1"));
        assert!(!c("[[1, 2]]", "[1]"));
        assert!(c("[[1, 2]]", "[[1]]"));
        assert!(c("{}", "{}"));
        assert!(!c("[]", "{}"));
        assert!(c("[1, 1]", "[1, 1, 1]"));
    }

    #[test]
    fn concat_delete_exists() {
        let cat = |a: &str, b: &str| concat(&j(a), &j(b)).to_string();
        assert_eq!(
            cat(r#"{"a": 1, "b": 2}"#, r#"{"b": 3, "c": 4}"#),
            r#"{"a": 1, "b": 3, "c": 4}"#
        );
        assert_eq!(cat("1", "2"), "[1, 2]");
        assert_eq!(cat(r#"{"a": 1}"#, "[2]"), r#"[{"a": 1}, 2]"#);
        assert_eq!(cat("[]", "{}"), "[{}]");
        assert!(exists(&j(r#""a""#), "a"));
        assert!(exists(&j(r#"["a", 1]"#), "a"));
        assert!(!exists(&j(r#"{"b": "a"}"#), "a"));
        assert_eq!(
            delete_key(&j(r#"["a", "b", "a", 1]"#), "a")
                .unwrap()
                .to_string(),
            r#"["b", 1]"#
        );
        assert_eq!(
            delete_index(&j("[1, 2, 3]"), -1).unwrap().to_string(),
            "[1, 2]"
        );
        assert_eq!(
            delete_index(&j("[1, 2, 3]"), 5).unwrap().to_string(),
            "[1, 2, 3]"
        );
        assert_eq!(
            delete_index(&j("{}"), 0).unwrap_err().to_string(),
            "cannot delete from object using integer index"
        );
        assert_eq!(delete_key(&j("1"), "a").unwrap_err().sqlstate(), "22023");
    }

    #[test]
    fn set_and_insert_follow_set_path() {
        use PathOp::*;
        let doc = r#"{"a": [1, 2, 3], "b": {"c": 1}}"#;
        assert_eq!(
            set(doc, &["a", "1"], "9", Create),
            r#"{"a": [1, 9, 3], "b": {"c": 1}}"#
        );
        assert_eq!(
            set(doc, &["a", "-1"], "9", Create),
            r#"{"a": [1, 2, 9], "b": {"c": 1}}"#
        );
        assert_eq!(
            set(doc, &["a", "10"], "9", Create),
            r#"{"a": [1, 2, 3, 9], "b": {"c": 1}}"#
        );
        assert_eq!(
            set(doc, &["a", "-10"], "9", Create),
            r#"{"a": [9, 1, 2, 3], "b": {"c": 1}}"#
        );
        assert_eq!(set(doc, &["a", "10"], "9", Replace), doc);
        assert_eq!(
            set(doc, &["d"], "9", Create),
            r#"{"a": [1, 2, 3], "b": {"c": 1}, "d": 9}"#
        );
        assert_eq!(set(doc, &["d", "e"], "9", Create), doc);
        assert_eq!(set(doc, &["b", "c", "x"], "9", Create), doc);
        assert_eq!(
            set(doc, &["a", "1"], "9", InsertBefore),
            r#"{"a": [1, 9, 2, 3], "b": {"c": 1}}"#
        );
        assert_eq!(
            set(doc, &["a", "1"], "9", InsertAfter),
            r#"{"a": [1, 2, 9, 3], "b": {"c": 1}}"#
        );
        assert_eq!(
            set(doc, &["b", "c"], "9", InsertAfter),
            "22023: cannot replace existing key"
        );
        assert_eq!(
            set(doc, &["a", "1"], "9", Delete),
            r#"{"a": [1, 3], "b": {"c": 1}}"#
        );
        assert_eq!(
            set(doc, &["a", "x"], "9", Create),
            "22P02: path element at position 2 is not an integer: \"x\""
        );
        assert_eq!(
            set(doc, &["a", "NULL"], "9", Create),
            "22004: path element at position 2 is null"
        );
        assert_eq!(set("[]", &["5"], "1", Create), "[1]");
    }

    #[test]
    fn strip_and_pretty() {
        assert_eq!(
            strip_nulls(&j(r#"{"a": null, "b": [null, {"c": null}]}"#)).to_string(),
            r#"{"b": [null, {}]}"#
        );
        // SELECT jsonb_pretty('{"a": [1, {"b": []}, {}], "c": null}');
        assert_eq!(
            pretty(&j(r#"{"a": [1, {"b": []}, {}], "c": null}"#)),
            "{\n    \"a\": [\n        1,\n        {\n            \"b\": [\n            ]\n        },\n        {\n        }\n    ],\n    \"c\": null\n}"
        );
        assert_eq!(pretty(&j("1")), "1");
        assert_eq!(pretty(&j("[]")), "[\n]");
    }
}
