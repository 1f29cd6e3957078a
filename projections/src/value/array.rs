//! [`Array`]: one-dimensional SQL arrays, with PostgreSQL's text input and output.
//!
//! Owns the array value (its element type and elements, NULLs allowed), `array_in` and
//! `array_out` for one dimension, and the element-wise conversion between array types.
//!
//! Invariants:
//! - every element is NULL or a value of `elem` (the element type without modifier);
//! - the lower bound is 1, as for every array PostgreSQL builds from `ARRAY[...]`, `'{...}'`
//!   or `array_agg`; input with explicit bounds (`'[0:1]={1,2}'`) and nested braces
//!   (multidimensional arrays) is rejected with 0A000.

use std::fmt;

use super::cast::{CastContext, cast};
use super::error::{Result, ValueError};
use super::scalar::Value;
use super::text::parse_value;
use super::types::DataType;

/// A one-dimensional array (see the module invariants).
#[derive(Debug, Clone)]
pub struct Array {
    elem: DataType,
    items: Vec<Value>,
}

impl Array {
    /// An array of `elem` values; `elem` loses its modifier.
    pub fn new(elem: DataType, items: Vec<Value>) -> Array {
        Array {
            elem: elem.without_modifier(),
            items,
        }
    }

    pub fn elem(&self) -> DataType {
        self.elem
    }

    pub fn items(&self) -> &[Value] {
        &self.items
    }

    pub fn into_items(self) -> Vec<Value> {
        self.items
    }

    /// `array_in` for one dimension: `{a,b,"c d",NULL}` with elements parsed as `elem`.
    pub fn parse(input: &str, elem: &DataType) -> Result<Array> {
        let malformed = |detail: &str| ValueError::MalformedArray {
            input: input.to_owned(),
            detail: detail.to_owned(),
        };
        let text = input.trim_matches(is_array_space);
        if text.starts_with('[') {
            return Err(ValueError::FeatureNotSupported {
                message: "array bounds other than the default lower bound 1 are not supported"
                    .into(),
            });
        }
        let Some(body) = text.strip_prefix('{') else {
            return Err(malformed(
                "Array value must start with \"{\" or dimension information.",
            ));
        };
        let mut chars = body.chars().peekable();
        let mut items = Vec::new();
        let skip_space = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            while chars.next_if(|c| is_array_space(*c)).is_some() {}
        };
        skip_space(&mut chars);
        if chars.next_if_eq(&'}').is_some() {
            skip_space(&mut chars);
            return match chars.next() {
                None => Ok(Array::new(*elem, items)),
                Some(_) => Err(malformed("Junk after closing right brace.")),
            };
        }
        loop {
            skip_space(&mut chars);
            let mut element = String::new();
            let mut quoted = false;
            let mut trailing_space = 0;
            match chars.peek() {
                Some('{') => {
                    return Err(ValueError::FeatureNotSupported {
                        message: "multidimensional arrays are not supported".into(),
                    });
                }
                Some('"') => {
                    chars.next();
                    quoted = true;
                    loop {
                        match chars.next() {
                            None => return Err(malformed("Unexpected end of input.")),
                            Some('"') => break,
                            Some('\\') => match chars.next() {
                                Some(c) => element.push(c),
                                None => return Err(malformed("Unexpected end of input.")),
                            },
                            Some(c) => element.push(c),
                        }
                    }
                    skip_space(&mut chars);
                }
                _ => loop {
                    match chars.peek().copied() {
                        None => return Err(malformed("Unexpected end of input.")),
                        Some(',' | '}') => break,
                        Some('"' | '{') => {
                            return Err(malformed("Unexpected array element."));
                        }
                        Some('\\') => {
                            chars.next();
                            match chars.next() {
                                Some(c) => element.push(c),
                                None => return Err(malformed("Unexpected end of input.")),
                            }
                            trailing_space = 0;
                        }
                        Some(c) => {
                            chars.next();
                            element.push(c);
                            trailing_space = if is_array_space(c) {
                                trailing_space + c.len_utf8()
                            } else {
                                0
                            };
                        }
                    }
                },
            }
            if !quoted {
                element.truncate(element.len() - trailing_space);
                if element.is_empty() {
                    return Err(malformed("Unexpected \",\" character."));
                }
            }
            items.push(if !quoted && element.eq_ignore_ascii_case("NULL") {
                Value::Null
            } else {
                parse_value(&element, elem)?
            });
            match chars.next() {
                Some(',') => continue,
                Some('}') => break,
                _ => return Err(malformed("Unexpected array element.")),
            }
        }
        skip_space(&mut chars);
        match chars.next() {
            None => Ok(Array::new(*elem, items)),
            Some(_) => Err(malformed("Junk after closing right brace.")),
        }
    }

    /// Converts every element to `elem` (an array cast is the element cast, element-wise).
    pub fn cast_elements(self, elem: &DataType, ctx: CastContext) -> Result<Array> {
        let items = self
            .items
            .into_iter()
            .map(|v| cast(v, elem, ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Array::new(*elem, items))
    }
}

/// `array_isspace`: the blanks PostgreSQL skips around array elements.
fn is_array_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

impl fmt::Display for Array {
    /// `array_out`: elements are double-quoted when empty, `NULL`, or containing braces,
    /// quotes, commas, backslashes or blanks; quotes and backslashes inside are escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if item.is_null() {
                f.write_str("NULL")?;
                continue;
            }
            let text = item.to_string();
            let needs_quotes = text.is_empty()
                || text.eq_ignore_ascii_case("NULL")
                || text
                    .chars()
                    .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || is_array_space(c));
            if !needs_quotes {
                f.write_str(&text)?;
                continue;
            }
            f.write_str("\"")?;
            for c in text.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(input: &str, elem: DataType) -> String {
        match Array::parse(input, &elem) {
            Ok(a) => a.to_string(),
            Err(e) => format!("ERROR {}: {e}", e.sqlstate()),
        }
    }

    #[test]
    fn input_and_output_match_postgres() {
        use DataType as T;
        // SELECT '{1, 2 ,NULL,  3}'::int[];  {1,2,NULL,3}
        assert_eq!(round_trip("{1, 2 ,NULL,  3}", T::Int4), "{1,2,NULL,3}");
        // SELECT '{}'::text[], ' { } '::text[];  {} | {}
        assert_eq!(round_trip("{}", T::Text), "{}");
        assert_eq!(round_trip(" { } ", T::Text), "{}");
        // SELECT '{a b,"c,d","",  "null", NULL, x\"y, "q\\"r"}'::text[];
        // {"a b","c,d","","null",NULL,"x\"y","q\"r"}
        assert_eq!(
            round_trip(r#"{a b,"c,d","",  "null", NULL, x\"y, "q\"r"}"#, T::Text),
            r#"{"a b","c,d","","null",NULL,"x\"y","q\"r"}"#
        );
        // SELECT '{"back\\slash"}'::text[];  {"back\\slash"}
        assert_eq!(
            round_trip(r#"{"back\\slash"}"#, T::Text),
            r#"{"back\\slash"}"#
        );
        // SELECT '{1.50,2}'::numeric[];  {1.50,2}
        assert_eq!(round_trip("{1.50,2}", T::Numeric(None)), "{1.50,2}");
        // SELECT '{t,false}'::bool[];  {t,f}
        assert_eq!(round_trip("{t,false}", T::Bool), "{t,f}");
    }

    #[test]
    fn malformed_input_fails_like_postgres() {
        use DataType as T;
        // SELECT '1,2'::int[];  ERROR:  malformed array literal: "1,2"  (22P02)
        assert_eq!(
            round_trip("1,2", T::Int4),
            "ERROR 22P02: malformed array literal: \"1,2\""
        );
        assert!(round_trip("{1,2", T::Int4).starts_with("ERROR 22P02"));
        assert!(round_trip("{1,,2}", T::Int4).starts_with("ERROR 22P02"));
        assert!(round_trip("{1} x", T::Int4).starts_with("ERROR 22P02"));
        assert!(round_trip("{\"a\"b}", T::Text).starts_with("ERROR 22P02"));
        // SELECT '{x}'::int[];  ERROR:  invalid input syntax for type integer: "x"
        assert_eq!(
            round_trip("{x}", T::Int4),
            "ERROR 22P02: invalid input syntax for type integer: \"x\""
        );
        assert!(round_trip("{{1},{2}}", T::Int4).starts_with("ERROR 0A000"));
        assert!(round_trip("[0:0]={1}", T::Int4).starts_with("ERROR 0A000"));
    }
}
