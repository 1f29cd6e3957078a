//! The accessor subset of SQL/JSON paths, for `jsonb_path_exists` and
//! `jsonb_path_query_first`: `$`, `.key`, `."quoted key"`, `.*`, `[n]` and `[*]`, in lax
//! mode (PostgreSQL's default).
//!
//! Lax mode, as in PostgreSQL 15: a member accessor on an array looks into the array's
//! elements (one level); a subscript on a non-array treats it as a one-element array; a
//! missing key or an index out of range yields nothing rather than an error. Anything
//! beyond accessors (filters, item methods, arithmetic, variables, `last`, ranges, `**`,
//! `strict` mode) is refused with 0A000 naming the construct; text that is not a path at all
//! is a 42601 syntax error, as PostgreSQL reports it.

use zqlite_projections::value::Jsonb;

use crate::error::{Error, Result};

/// One accessor of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `.key` / `."key"`.
    Key(String),
    /// `.*`.
    AnyKey,
    /// `[n]`.
    Index(i64),
    /// `[*]`.
    AnyIndex,
}

fn syntax_error() -> Error {
    Error::Runtime {
        sqlstate: "42601",
        message: "syntax error at end of jsonpath input".into(),
    }
}

fn unsupported(what: &str) -> Error {
    Error::unsupported(format!("jsonpath {what}"))
}

/// Parses a path of the supported subset (see the module doc).
pub fn parse(text: &str) -> Result<Vec<Step>> {
    let mut rest = text.trim_start();
    if let Some(r) = rest.strip_prefix("lax")
        && r.starts_with(char::is_whitespace)
    {
        rest = r.trim_start();
    } else if let Some(r) = rest.strip_prefix("strict")
        && r.starts_with(char::is_whitespace)
    {
        return Err(unsupported("strict mode"));
    }
    if rest.is_empty() {
        return Err(syntax_error());
    }
    let Some(r) = rest.strip_prefix('$') else {
        return Err(unsupported(&format!("expression \"{}\"", text.trim())));
    };
    if r.starts_with(is_ident_char) || r.starts_with('"') {
        return Err(unsupported("variables"));
    }
    rest = r;
    let mut steps = Vec::new();
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(steps);
        };
        match c {
            '.' => {
                rest = rest[1..].trim_start();
                if rest.starts_with("**") {
                    return Err(unsupported(".** accessor"));
                }
                if let Some(r) = rest.strip_prefix('*') {
                    steps.push(Step::AnyKey);
                    rest = r;
                } else if rest.starts_with('"') {
                    let (key, r) = quoted(rest)?;
                    steps.push(Step::Key(key));
                    rest = r;
                } else {
                    let end = rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len());
                    if end == 0 {
                        return Err(syntax_error());
                    }
                    let (name, r) = rest.split_at(end);
                    if r.trim_start().starts_with('(') {
                        return Err(unsupported(&format!("item method .{name}()")));
                    }
                    steps.push(Step::Key(name.to_string()));
                    rest = r;
                }
            }
            '[' => {
                let Some(close) = rest.find(']') else {
                    return Err(syntax_error());
                };
                let inner = rest[1..close].trim();
                if inner == "*" {
                    steps.push(Step::AnyIndex);
                } else if let Ok(i) = inner.parse::<i64>() {
                    steps.push(Step::Index(i));
                } else if inner.is_empty() {
                    return Err(syntax_error());
                } else {
                    return Err(unsupported(&format!("subscript [{inner}]")));
                }
                rest = &rest[close + 1..];
            }
            '?' => return Err(unsupported("filter expressions")),
            _ => {
                return Err(unsupported(&format!("expression \"{}\"", rest.trim_end())));
            }
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A double-quoted key with JSON escapes, and the text after it.
fn quoted(text: &str) -> Result<(String, &str)> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => {
                let Ok(Jsonb::String(key)) = Jsonb::parse(&text[..=i]) else {
                    return Err(syntax_error());
                };
                return Ok((key, &text[i + 1..]));
            }
            _ => i += 1,
        }
    }
    Err(syntax_error())
}

/// The items a path selects from `root`, in document order (lax mode).
pub fn query<'a>(root: &'a Jsonb, steps: &[Step]) -> Vec<&'a Jsonb> {
    let mut items = vec![root];
    for step in steps {
        let mut next = Vec::new();
        for item in items {
            match (step, item) {
                (Step::Key(_) | Step::AnyKey, Jsonb::Array(elems)) => {
                    for e in elems {
                        member(step, e, &mut next);
                    }
                }
                (Step::Key(_) | Step::AnyKey, _) => member(step, item, &mut next),
                (Step::Index(i), Jsonb::Array(elems)) => {
                    if let Some(e) = usize::try_from(*i).ok().and_then(|i| elems.get(i)) {
                        next.push(e);
                    }
                }
                (Step::Index(0), other) => next.push(other),
                (Step::Index(_), _) => {}
                (Step::AnyIndex, Jsonb::Array(elems)) => next.extend(elems.iter()),
                (Step::AnyIndex, other) => next.push(other),
            }
        }
        items = next;
    }
    items
}

fn member<'a>(step: &Step, item: &'a Jsonb, out: &mut Vec<&'a Jsonb>) {
    if let Jsonb::Object(pairs) = item {
        match step {
            Step::Key(key) => out.extend(pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v)),
            _ => out.extend(pairs.iter().map(|(_, v)| v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(doc: &str, path: &str) -> String {
        let doc = Jsonb::parse(doc).unwrap();
        let steps = parse(path).unwrap();
        query(&doc, &steps)
            .first()
            .map_or("NULL".into(), |v| v.to_string())
    }

    // Expected values from PostgreSQL 15 (jsonb_path_query_first).
    #[test]
    fn lax_accessors() {
        assert_eq!(first(r#"[{"a":1},{"a":2}]"#, "$.a"), "1");
        assert_eq!(first(r#"{"a":[1,2]}"#, "$.a[1]"), "2");
        assert_eq!(first(r#"{"a":1}"#, "$[0]"), r#"{"a": 1}"#);
        assert_eq!(first(r#"{"a":1}"#, "$[1]"), "NULL");
        assert_eq!(first(r#"{"a":1}"#, "$.b"), "NULL");
        assert_eq!(first("[[1,2]]", "$[*][1]"), "2");
        assert_eq!(first(r#"{"a":1}"#, "$.*"), "1");
        assert_eq!(first(r#"{"a b":1}"#, r#"$."a b""#), "1");
        assert_eq!(first(r#"{"a":[[{"b":1}]]}"#, "$.a.b"), "NULL");
        assert_eq!(first(r#"{"a":[{"b":1}]}"#, " lax $.a.b"), "1");
        assert_eq!(first("[1,2]", "$[-1]"), "NULL");
        assert_eq!(first(r#"{"a":1}"#, "$ . a"), "1");
        assert_eq!(first(r#"{"a":[1,[2]]}"#, "$.a[*][0]"), "1");
        assert_eq!(first(r#"{"true":1}"#, "$.true"), "1");
    }

    #[test]
    fn refusals_and_syntax_errors() {
        for (path, state) in [
            ("$.", "42601"),
            ("", "42601"),
            ("$.a ? (@ > 1)", "0A000"),
            ("$.a.size()", "0A000"),
            ("$[last]", "0A000"),
            ("$[1 to 2]", "0A000"),
            ("strict $.a", "0A000"),
            ("$.a + 1", "0A000"),
            ("$x", "0A000"),
            ("$.**", "0A000"),
        ] {
            assert_eq!(parse(path).unwrap_err().sqlstate(), state, "{path}");
        }
        assert_eq!(
            parse("$.a.size()").unwrap_err().to_string(),
            "jsonpath item method .size() is not supported"
        );
    }
}
