//! POSIX regular expressions (`~`, `~*`, `!~`, `!~*`) with PostgreSQL's advanced regular
//! expression (ARE) syntax, matched by the `regex` crate.
//!
//! [`translate`] rewrites the ARE constructs whose spelling differs in the `regex` crate
//! (`\m`, `\M`, `\y`, `\Y`, `[[:<:]]`, `[[:>:]]`, the `***:` prefix); everything psql and
//! common drivers generate (anchors, groups, alternation, classes, `.*`) is the same in
//! both. ARE features the crate lacks (back-references, lookaround) are errors with
//! SQLSTATE 2201B, as an invalid pattern is in PostgreSQL.
//!
//! Compiled patterns are cached per thread (a few dozen), since a catalog query applies the
//! same pattern to every row.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::{Regex, RegexBuilder};

use crate::error::{Error, Result};

const CACHE_SIZE: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<(String, bool), Regex>> = RefCell::new(HashMap::new());
}

/// Rewrites ARE syntax into the `regex` crate's.
pub fn translate(pattern: &str) -> String {
    let pattern = pattern.strip_prefix("***:").unwrap_or(pattern);
    let pattern = pattern.replace("[[:<:]]", r"\b").replace("[[:>:]]", r"\b");
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('m' | 'M' | 'y') => out.push_str(r"\b"),
            Some('Y') => out.push_str(r"\B"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn compile(pattern: &str, case_insensitive: bool) -> Result<Regex> {
    // In an ARE newline is an ordinary character unless a flag says otherwise.
    RegexBuilder::new(&translate(pattern))
        .case_insensitive(case_insensitive)
        .dot_matches_new_line(true)
        .build()
        .map_err(|e| Error::Runtime {
            sqlstate: "2201B",
            message: format!(
                "invalid regular expression: {}",
                e.to_string().lines().last().unwrap_or("syntax error")
            ),
        })
}

/// Whether `text` matches `pattern` anywhere (PostgreSQL's `~` / `~*`).
pub fn is_match(text: &str, pattern: &str, case_insensitive: bool) -> Result<bool> {
    with_regex(pattern, case_insensitive, |re| re.is_match(text))
}

/// Runs `f` with `pattern` compiled (from the cache when it was compiled recently).
pub fn with_regex<R>(
    pattern: &str,
    case_insensitive: bool,
    f: impl FnOnce(&Regex) -> R,
) -> Result<R> {
    CACHE.with(|cache| {
        let key = (pattern.to_string(), case_insensitive);
        if let Some(re) = cache.borrow().get(&key) {
            return Ok(f(re));
        }
        let re = compile(pattern, case_insensitive)?;
        let result = f(&re);
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_SIZE {
            cache.clear();
        }
        cache.insert(key, re);
        Ok(result)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psql_patterns_match_as_in_postgresql() {
        assert!(is_match("authors", "^(authors)$", false).unwrap());
        assert!(!is_match("authors2", "^(authors)$", false).unwrap());
        assert!(is_match("pg_toast", "^pg_", false).unwrap());
        assert!(!is_match("public", "^pg_", false).unwrap());
        assert!(is_match("Books", "^(books)$", true).unwrap());
        assert!(!is_match("Books", "^(books)$", false).unwrap());
        assert!(is_match("a.b", r"^a\.b$", false).unwrap());
        assert!(is_match("big cat", r"\mcat\M", false).unwrap());
        assert!(!is_match("bigcat", r"\mcat", false).unwrap());
        assert!(is_match("x", "***:^x$", false).unwrap());
        assert!(is_match("a\nb", "a.b", false).unwrap());
        assert!(!is_match("a\nb", "^b", false).unwrap());
    }

    #[test]
    fn invalid_patterns_are_2201b() {
        let err = is_match("a", "(", false).unwrap_err();
        assert_eq!(err.sqlstate(), "2201B");
        let err = is_match("aa", r"(a)\1", false).unwrap_err();
        assert_eq!(err.sqlstate(), "2201B");
    }
}
