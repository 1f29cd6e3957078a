//! `like_regex` patterns and their flags, as PostgreSQL 15 reads them: `i` ignores case,
//! `s` lets `.` match a newline, `m` lets `^` and `$` match at line breaks, `q` takes the
//! pattern literally; `x` is not implemented (0A000, as in PostgreSQL), and any other flag
//! is a jsonpath syntax error.

use regex::{Regex, RegexBuilder};

use crate::error::{Error, Result};

pub(super) fn compile(pattern: &str, flags: &str) -> Result<Regex> {
    let mut builder_pattern = pattern.to_string();
    let (mut icase, mut dotall, mut multiline, mut quote) = (false, false, false, false);
    for c in flags.chars() {
        match c {
            'i' => icase = true,
            's' => dotall = true,
            'm' => multiline = true,
            'q' => quote = true,
            'x' => {
                return Err(Error::Runtime {
                    sqlstate: "0A000",
                    message: "XQuery \"x\" flag (expanded regular expressions) is not implemented"
                        .into(),
                });
            }
            _ => {
                return Err(Error::Runtime {
                    sqlstate: "42601",
                    // PostgreSQL names the flag in a DETAIL line.
                    message: "invalid input syntax for type jsonpath".into(),
                });
            }
        }
    }
    if quote {
        builder_pattern = regex::escape(pattern);
    }
    RegexBuilder::new(&builder_pattern)
        .case_insensitive(icase)
        .dot_matches_new_line(dotall && !quote)
        .multi_line(multiline && !quote)
        .build()
        .map_err(|e| Error::Runtime {
            sqlstate: "2201B",
            message: format!("invalid regular expression: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        assert!(compile("^ab", "i").unwrap().is_match("ABc"));
        assert!(!compile("a.b", "").unwrap().is_match("a\nb"));
        assert!(compile("a.b", "s").unwrap().is_match("a\nb"));
        assert!(compile("^b", "m").unwrap().is_match("a\nb"));
        assert!(compile("a.b", "q").unwrap().is_match("xa.b"));
        assert!(!compile("a.b", "q").unwrap().is_match("axb"));
        assert_eq!(compile("a", "x").unwrap_err().sqlstate(), "0A000");
        assert_eq!(compile("a", "z").unwrap_err().sqlstate(), "42601");
    }
}
