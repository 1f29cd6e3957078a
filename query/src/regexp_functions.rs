//! The Oracle-style regular-expression functions (`regexp_count`, `regexp_instr`,
//! `regexp_like`, `regexp_substr`), `substring(text FROM pattern)` with a POSIX pattern,
//! and SQL regular expressions: `SIMILAR TO` and `substring(text SIMILAR pattern ESCAPE e)`.
//!
//! Patterns are matched by `pattern.rs` (the `regex` crate, after its ARE translation);
//! flags are those of `text_functions.rs`. Positions are in characters, counted from 1.
//! A SQL regular expression becomes a POSIX one by [`similar_to_regex`], as PostgreSQL's
//! `similar_to_escape` does: anchored at both ends, `%` is `.*`, `_` is `.`, and the escape
//! character (default `\`) quotes the next character.

use zqlite_projections::value::{DataType, Value};

use crate::error::{Error, Result};
use crate::functions::{int_arg as int, is_string_arg, no_function, text_arg as text};
use crate::pattern::with_regex;
use crate::text_functions::Flags;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegexpFunc {
    Count,
    Instr,
    Like,
    Substr,
    /// `substring(text FROM pattern)`: the first match, or its first parenthesized group.
    Substring,
    /// `substring(text SIMILAR pattern ESCAPE e)` and `substring(text FROM pattern FOR e)`.
    SimilarSubstring,
    /// `text [NOT] SIMILAR TO pattern [ESCAPE e]`.
    SimilarTo {
        negated: bool,
    },
}

impl RegexpFunc {
    pub fn name(&self) -> &'static str {
        match self {
            RegexpFunc::Count => "regexp_count",
            RegexpFunc::Instr => "regexp_instr",
            RegexpFunc::Like => "regexp_like",
            RegexpFunc::Substr => "regexp_substr",
            RegexpFunc::Substring | RegexpFunc::SimilarSubstring => "substring",
            RegexpFunc::SimilarTo { negated: false } => "similar to",
            RegexpFunc::SimilarTo { negated: true } => "not similar to",
        }
    }
}

pub fn is_regexp_function(name: &str) -> bool {
    matches!(
        name,
        "regexp_count" | "regexp_instr" | "regexp_like" | "regexp_substr"
    )
}

/// A call resolved: the function, the type each argument is coerced to and the result.
#[derive(Debug)]
pub struct Resolved {
    pub func: RegexpFunc,
    pub arg_types: Vec<Option<DataType>>,
    pub result: DataType,
}

fn is_integer(t: &Option<DataType>) -> bool {
    t.is_none_or(|t| matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8))
}

/// Resolves a call of one of [`is_regexp_function`]'s names. The optional arguments come
/// in PostgreSQL's order: `regexp_count(s, p, start, flags)`, `regexp_instr(s, p, start,
/// n, endoption, flags, subexpr)`, `regexp_like(s, p, flags)`, `regexp_substr(s, p,
/// start, n, flags, subexpr)`.
pub fn resolve(name: &str, args: &[Option<DataType>]) -> Result<Resolved> {
    let text = Some(DataType::Text);
    let int4 = Some(DataType::Int4);
    // Which optional arguments are flags (text); the others are integers.
    let (func, result, optional): (RegexpFunc, DataType, &[bool]) = match name {
        "regexp_count" => (RegexpFunc::Count, DataType::Int4, &[false, true]),
        "regexp_instr" => (
            RegexpFunc::Instr,
            DataType::Int4,
            &[false, false, false, true, false],
        ),
        "regexp_like" => (RegexpFunc::Like, DataType::Bool, &[true]),
        _ => (
            RegexpFunc::Substr,
            DataType::Text,
            &[false, false, true, false],
        ),
    };
    let fits = args.len() >= 2
        && args.len() <= 2 + optional.len()
        && is_string_arg(&args[0])
        && is_string_arg(&args[1])
        && args[2..].iter().zip(optional).all(|(t, flags)| {
            if *flags {
                is_string_arg(t)
            } else {
                is_integer(t)
            }
        });
    if !fits {
        return Err(no_function(name, args));
    }
    let mut arg_types = vec![text, text];
    arg_types.extend(
        optional[..args.len() - 2]
            .iter()
            .map(|flags| if *flags { text } else { int4 }),
    );
    Ok(Resolved {
        func,
        arg_types,
        result,
    })
}

fn runtime(sqlstate: &'static str, message: impl Into<String>) -> Error {
    Error::Runtime {
        sqlstate,
        message: message.into(),
    }
}

/// Rewrites a SQL regular expression (SIMILAR TO) into a POSIX one matching the whole
/// string. `escape` is the escape character; `None` means there is none (`ESCAPE ''`).
pub fn similar_to_regex(pattern: &str, escape: Option<char>) -> Result<String> {
    let mut out = String::from("^(?:");
    let mut chars = pattern.chars();
    let mut in_bracket = false;
    let mut separators = 0;
    while let Some(c) = chars.next() {
        if Some(c) == escape {
            let Some(next) = chars.next() else {
                return Err(runtime(
                    "2201B",
                    "invalid escape string: the pattern ends with the escape character",
                ));
            };
            if next == '"' {
                // `#"`: the part of the match substring() returns lies between two of these.
                separators += 1;
                match separators {
                    1 => out.push_str(")("),
                    2 => out.push_str(")(?:"),
                    _ => {
                        return Err(runtime(
                            "2201B",
                            "SQL regular expression may not contain more than two \
                             escape-double-quote separators",
                        ));
                    }
                }
            } else if next.is_alphanumeric() {
                // `\d` and the like keep their regular-expression meaning.
                out.push('\\');
                out.push(next);
            } else {
                out.push_str(&regex::escape(&next.to_string()));
            }
            continue;
        }
        if in_bracket {
            if c == ']' {
                in_bracket = false;
            }
            if c == '\\' {
                out.push('\\');
            }
            out.push(c);
            continue;
        }
        match c {
            '[' => {
                in_bracket = true;
                out.push('[');
                // A leading `^` or `]` belongs to the bracket expression.
                let rest = chars.as_str();
                if let Some(stripped) = rest.strip_prefix('^') {
                    out.push('^');
                    chars = stripped.chars();
                }
                if let Some(stripped) = chars.as_str().strip_prefix(']') {
                    out.push_str("\\]");
                    chars = stripped.chars();
                }
            }
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '(' => out.push_str("(?:"),
            '.' | '^' | '$' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            other => out.push(other),
        }
    }
    out.push_str(")$");
    if separators > 0 {
        // The part before the returned one matches as little as it can.
        out.replace_range(..4, "^(?U:");
    }
    Ok(out)
}

/// The escape character of `ESCAPE e`: one character, or none for the empty string.
fn escape_char(e: &str) -> Result<Option<char>> {
    let mut chars = e.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        (Some(c), None) => Ok(Some(c)),
        _ => Err(runtime(
            "22025",
            "invalid escape string: escape string must be empty or one character",
        )),
    }
}

/// The byte offset of character `pos` (1-based) of `s`, or `None` past its end.
fn byte_offset(s: &str, pos: i64) -> Option<usize> {
    let skip = usize::try_from(pos - 1).ok()?;
    if skip == 0 {
        return Some(0);
    }
    s.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()))
        .nth(skip)
}

fn char_pos(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64 + 1
}

/// The matches of `re` in `s` from byte `from`, as PostgreSQL's regexp functions find
/// them: non-overlapping, an empty match moving the search one character on.
fn matches_from<'s>(re: &regex::Regex, s: &'s str, from: usize) -> Vec<regex::Captures<'s>> {
    let mut out = Vec::new();
    let mut at = from;
    while at <= s.len() {
        let Some(caps) = re.captures_at(s, at) else {
            break;
        };
        let m = caps.get(0).expect("group 0 is the match");
        at = if m.end() > m.start() {
            m.end()
        } else {
            match s[m.end()..].chars().next() {
                Some(c) => m.end() + c.len_utf8(),
                None => s.len() + 1,
            }
        };
        out.push(caps);
    }
    out
}

fn positive(v: i64, what: &str) -> Result<i64> {
    if v <= 0 {
        return Err(runtime(
            "22023",
            format!("invalid value for parameter \"{what}\": {v}"),
        ));
    }
    Ok(v)
}

/// Computes `func` on evaluated, coerced arguments (strict: NULL in, NULL out).
pub fn eval(func: RegexpFunc, args: &[Value]) -> Result<Value> {
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let s = text(&args[0]);
    let pattern = text(&args[1]);
    let arg_int = |i: usize, default: i64| -> Result<i64> {
        args.get(i)
            .map(int)
            .transpose()
            .map(|v| v.unwrap_or(default))
    };
    let arg_flags = |i: usize| -> Result<Flags> { Flags::parse(args.get(i).map(text).as_deref()) };
    Ok(match func {
        RegexpFunc::SimilarTo { negated } => {
            let escape = match args.get(2) {
                Some(e) => escape_char(&text(e))?,
                None => Some('\\'),
            };
            let re = similar_to_regex(&pattern, escape)?;
            Value::Bool(with_regex(&re, false, |re| re.is_match(&s))? != negated)
        }
        RegexpFunc::SimilarSubstring => {
            let escape = escape_char(&text(&args[2]))?;
            let re = similar_to_regex(&pattern, escape)?;
            match with_regex(&re, false, |re| {
                re.captures(&s).and_then(|c| {
                    let part = if c.len() > 1 { c.get(1) } else { c.get(0) };
                    part.map(|m| m.as_str().to_string())
                })
            })? {
                Some(m) => Value::Text(m),
                None => Value::Null,
            }
        }
        RegexpFunc::Substring => {
            let found = with_regex(&pattern, false, |re| {
                re.captures(&s).map(|caps| {
                    if caps.len() > 1 {
                        caps.get(1).map(|m| m.as_str().to_string())
                    } else {
                        Some(caps[0].to_string())
                    }
                })
            })?;
            match found.flatten() {
                Some(m) => Value::Text(m),
                None => Value::Null,
            }
        }
        RegexpFunc::Like => {
            let flags = arg_flags(2)?;
            if flags.global {
                return Err(runtime(
                    "22023",
                    "regexp_like() does not support the \"global\" option",
                ));
            }
            Value::Bool(with_regex(
                &flags.pattern(&pattern),
                flags.case_insensitive,
                |re| re.is_match(&s),
            )?)
        }
        RegexpFunc::Count | RegexpFunc::Instr | RegexpFunc::Substr => {
            let start = positive(arg_int(2, 1)?, "start")?;
            let (n, flags_at, subexpr_at) = match func {
                RegexpFunc::Count => (1, 3, None),
                RegexpFunc::Instr => (positive(arg_int(3, 1)?, "n")?, 5, Some(6)),
                _ => (positive(arg_int(3, 1)?, "n")?, 4, Some(5)),
            };
            let flags = arg_flags(flags_at)?;
            if flags.global {
                return Err(runtime(
                    "22023",
                    format!("{}() does not support the \"global\" option", func.name()),
                ));
            }
            let subexpr = match subexpr_at {
                Some(i) => arg_int(i, 0)?,
                None => 0,
            };
            if subexpr < 0 {
                return Err(runtime(
                    "22023",
                    format!("invalid value for parameter \"subexpr\": {subexpr}"),
                ));
            }
            let end_option = if func == RegexpFunc::Instr {
                arg_int(4, 0)?
            } else {
                0
            };
            if !(0..=1).contains(&end_option) {
                return Err(runtime(
                    "22023",
                    format!("invalid value for parameter \"endoption\": {end_option}"),
                ));
            }
            let Some(from) = byte_offset(&s, start) else {
                return Ok(match func {
                    RegexpFunc::Count => Value::Int4(0),
                    RegexpFunc::Instr => Value::Int4(0),
                    _ => Value::Null,
                });
            };
            with_regex(&flags.pattern(&pattern), flags.case_insensitive, |re| {
                let found = matches_from(re, &s, from);
                if func == RegexpFunc::Count {
                    return Value::Int4(found.len() as i32);
                }
                let m = found
                    .get(n as usize - 1)
                    .and_then(|caps| caps.get(subexpr as usize));
                match (func, m) {
                    (RegexpFunc::Instr, None) => Value::Int4(0),
                    (RegexpFunc::Instr, Some(m)) => {
                        let at = if end_option == 1 { m.end() } else { m.start() };
                        Value::Int4(char_pos(&s, at) as i32)
                    }
                    (_, None) => Value::Null,
                    (_, Some(m)) => Value::Text(m.as_str().to_string()),
                }
            })?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn oracle_style_functions() {
        let i = Value::Int4;
        assert_eq!(
            eval(RegexpFunc::Count, &[t("banana"), t("an")]).unwrap(),
            i(2)
        );
        assert_eq!(
            eval(RegexpFunc::Count, &[t("banana"), t("an"), i(3)]).unwrap(),
            i(1)
        );
        assert_eq!(
            eval(RegexpFunc::Instr, &[t("banana"), t("an"), i(1), i(2)]).unwrap(),
            i(4)
        );
        assert_eq!(
            eval(RegexpFunc::Instr, &[t("banana"), t("an"), i(1), i(1), i(1)]).unwrap(),
            i(4)
        );
        assert_eq!(
            eval(RegexpFunc::Instr, &[t("banana"), t("x")]).unwrap(),
            i(0)
        );
        assert_eq!(
            eval(RegexpFunc::Like, &[t("Apollo"), t("^a"), t("i")]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            eval(RegexpFunc::Substr, &[t("x=42"), t(r"\d+")]).unwrap(),
            t("42")
        );
        assert_eq!(
            eval(
                RegexpFunc::Substr,
                &[t("a1b22"), t(r"[a-z](\d+)"), i(1), i(2), t(""), i(1)]
            )
            .unwrap(),
            t("22")
        );
        assert_eq!(
            eval(RegexpFunc::Substr, &[t("ab"), t("x")]).unwrap(),
            Value::Null
        );
        assert!(eval(RegexpFunc::Count, &[t("a"), t("a"), i(0)]).is_err());
    }

    #[test]
    fn substring_from_a_pattern_returns_the_first_group() {
        let sub = |s, p| eval(RegexpFunc::Substring, &[t(s), t(p)]).unwrap();
        assert_eq!(sub("order-4521", r"\d+"), t("4521"));
        assert_eq!(sub("abc", "x"), Value::Null);
        assert_eq!(sub("img/cat.png", r"\.([^.]+)$"), t("png"));
    }

    #[test]
    fn similar_to_is_anchored_with_sql_wildcards() {
        let similar = |s: &str, p: &str| {
            eval(RegexpFunc::SimilarTo { negated: false }, &[t(s), t(p)]).unwrap()
                == Value::Bool(true)
        };
        assert!(similar("x", "[a-z]"));
        assert!(similar("abc", "a%"));
        assert!(!similar("abc", "(a|b)c"));
        assert!(similar("bc", "(a|b)c"));
        assert!(similar("a.c", "a.c"));
        assert!(!similar("abc", "a.c"));
        assert!(similar("abc", "a_c"));
        assert!(similar("a%", r"a\%"));
        assert!(!similar("ab", r"a\%"));
        assert!(similar("aaa", "a+"));
        let similar_substring =
            |s: &str, p: &str| eval(RegexpFunc::SimilarSubstring, &[t(s), t(p), t("#")]).unwrap();
        assert_eq!(similar_substring("foobar", "%#\"o_b#\"%"), t("oob"));
        assert_eq!(similar_substring("foobar", "#\"o_b#\"%"), Value::Null);
        assert_eq!(similar_substring("foobar", "f%"), t("foobar"));
    }
}
