//! `json` and `jsonb`: validation, the normalised jsonb tree, its canonical text and order.
//!
//! `json` values are stored as their input text, validated once ([`validate_json`]);
//! `jsonb` values are a parsed [`Jsonb`] tree. serde_json does the parsing (with
//! `arbitrary_precision`, so numbers keep all their digits and become exact `numeric`s).
//!
//! Invariants of [`Jsonb`]:
//! - an object's keys are unique (the last duplicate wins) and kept in PostgreSQL's storage
//!   order: shorter keys first, then bytewise;
//! - numbers are `numeric`s, so `1.0` and `1` are equal (and hash alike) but keep printing
//!   as written (`2.50` stays `2.50`);
//! - strings contain no NUL (`\u0000` is rejected, as PostgreSQL does for jsonb);
//! - the order is PostgreSQL's jsonb B-tree order: `Null < String < Number < Bool < Array <
//!   Object`; arrays and objects compare by element count first, then element by element
//!   (object pairs in storage order, keys bytewise). A top-level scalar is stored as a
//!   one-element "raw scalar" array: it sorts below an array of one element or more but
//!   above the empty array (`'[]' < 'null' < '"a"' < '1' < 'true' < '[null]' < '{}'`).

use std::cmp::Ordering;
use std::fmt;

use super::error::{Result, ValueError};
use super::numeric::Numeric;

/// A parsed, normalised jsonb document (see the module invariants).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Jsonb {
    Null,
    Bool(bool),
    Number(Numeric),
    String(String),
    Array(Vec<Jsonb>),
    Object(Vec<(String, Jsonb)>),
}

fn json_error(e: &serde_json::Error) -> ValueError {
    ValueError::InvalidJson {
        detail: e.to_string(),
    }
}

/// Checks that `input` is valid JSON, as `json_in` does before storing the text unchanged.
pub fn validate_json(input: &str) -> Result<()> {
    serde_json::from_str::<serde::de::IgnoredAny>(input)
        .map(|_| ())
        .map_err(|e| json_error(&e))
}

/// PostgreSQL's storage order of object keys.
fn key_order(a: &str, b: &str) -> Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

impl Jsonb {
    /// `jsonb_in`.
    pub fn parse(input: &str) -> Result<Jsonb> {
        let tree: serde_json::Value = serde_json::from_str(input).map_err(|e| json_error(&e))?;
        Jsonb::from_serde(tree)
    }

    /// Normalises a serde_json tree (numbers must carry their text: `arbitrary_precision`).
    pub fn from_serde(v: serde_json::Value) -> Result<Jsonb> {
        Ok(match v {
            serde_json::Value::Null => Jsonb::Null,
            serde_json::Value::Bool(b) => Jsonb::Bool(b),
            serde_json::Value::Number(n) => Jsonb::Number(Numeric::parse(&n.to_string())?),
            serde_json::Value::String(s) => Jsonb::String(check_nul(s)?),
            serde_json::Value::Array(items) => Jsonb::Array(
                items
                    .into_iter()
                    .map(Jsonb::from_serde)
                    .collect::<Result<_>>()?,
            ),
            serde_json::Value::Object(map) => {
                // serde_json's map already kept the last of duplicate keys.
                let mut pairs = map
                    .into_iter()
                    .map(|(k, v)| Ok((check_nul(k)?, Jsonb::from_serde(v)?)))
                    .collect::<Result<Vec<_>>>()?;
                pairs.sort_by(|(a, _), (b, _)| key_order(a, b));
                Jsonb::Object(pairs)
            }
        })
    }

    fn rank(&self) -> u8 {
        match self {
            Jsonb::Null => 0,
            Jsonb::String(_) => 1,
            Jsonb::Number(_) => 2,
            Jsonb::Bool(_) => 3,
            Jsonb::Array(_) => 4,
            Jsonb::Object(_) => 5,
        }
    }

    fn is_container(&self) -> bool {
        matches!(self, Jsonb::Array(_) | Jsonb::Object(_))
    }

    /// Order of two values nested inside containers (no raw-scalar rule).
    fn cmp_nested(&self, other: &Jsonb) -> Ordering {
        match (self, other) {
            (Jsonb::Null, Jsonb::Null) => Ordering::Equal,
            (Jsonb::String(a), Jsonb::String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Jsonb::Number(a), Jsonb::Number(b)) => a.cmp(b),
            (Jsonb::Bool(a), Jsonb::Bool(b)) => a.cmp(b),
            (Jsonb::Array(a), Jsonb::Array(b)) => a.len().cmp(&b.len()).then_with(|| {
                a.iter()
                    .zip(b)
                    .map(|(x, y)| x.cmp_nested(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            }),
            (Jsonb::Object(a), Jsonb::Object(b)) => a.len().cmp(&b.len()).then_with(|| {
                a.iter()
                    .zip(b)
                    .map(|((ka, va), (kb, vb))| {
                        ka.as_bytes()
                            .cmp(kb.as_bytes())
                            .then_with(|| va.cmp_nested(vb))
                    })
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            }),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    /// The jsonb B-tree order (see the module invariants).
    pub fn cmp_total(&self, other: &Jsonb) -> Ordering {
        // A top-level scalar is a one-element "raw scalar" array: element counts decide
        // against a real array first, and at equal counts the raw scalar is the smaller.
        match (self, other) {
            (Jsonb::Array(a), s) if !s.is_container() => a.len().cmp(&1).then(Ordering::Greater),
            (s, Jsonb::Array(b)) if !s.is_container() => 1.cmp(&b.len()).then(Ordering::Less),
            (Jsonb::Object(_), s) if !s.is_container() => Ordering::Greater,
            (s, Jsonb::Object(_)) if !s.is_container() => Ordering::Less,
            _ => self.cmp_nested(other),
        }
    }
}

fn check_nul(s: String) -> Result<String> {
    if s.contains('\0') {
        return Err(ValueError::UntranslatableCharacter {
            detail: "\\u0000 cannot be converted to text.".to_owned(),
        });
    }
    Ok(s)
}

/// Appends `s` as a JSON string literal, escaped like PostgreSQL's `escape_json`.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Jsonb {
    fn write(&self, out: &mut String) {
        match self {
            Jsonb::Null => out.push_str("null"),
            Jsonb::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Jsonb::Number(n) => out.push_str(&n.to_string()),
            Jsonb::String(s) => write_json_string(out, s),
            Jsonb::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Jsonb::Object(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_json_string(out, k);
                    out.push_str(": ");
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl fmt::Display for Jsonb {
    /// `jsonb_out`: `{"a": 1, "b": [1, 2]}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

impl Ord for Jsonb {
    fn cmp(&self, other: &Jsonb) -> Ordering {
        self.cmp_total(other)
    }
}

impl PartialOrd for Jsonb {
    fn partial_cmp(&self, other: &Jsonb) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn j(s: &str) -> Jsonb {
        Jsonb::parse(s).unwrap()
    }

    #[test]
    fn canonical_output_matches_postgres() {
        // SELECT '{"b": [1, 2.50, {"c": null}], "aa": true, "a": "x\ny", "a": 2}'::jsonb;
        // {"a": 2, "b": [1, 2.50, {"c": null}], "aa": true}
        assert_eq!(
            j(r#"{"b": [1, 2.50, {"c": null}], "aa": true, "a": "x\ny", "a": 2}"#).to_string(),
            r#"{"a": 2, "b": [1, 2.50, {"c": null}], "aa": true}"#
        );
        // SELECT '1e2'::jsonb, '-0'::jsonb, '[1, "\u0001"]'::jsonb, '"é"'::jsonb;
        // 100 | 0 | [1, "\u0001"] | "é"
        assert_eq!(j("1e2").to_string(), "100");
        assert_eq!(j("-0").to_string(), "0");
        assert_eq!(j(r#"[1, "\u0001"]"#).to_string(), r#"[1, "\u0001"]"#);
        assert_eq!(j(r#""é""#).to_string(), r#""é""#);
        assert_eq!(j(r#" "a\"b\\c\td" "#).to_string(), r#""a\"b\\c\td""#);
        assert_eq!(
            j("123456789012345678901234567890.000").to_string(),
            "123456789012345678901234567890.000"
        );
    }

    #[test]
    fn errors_match_postgres() {
        // SELECT 'x'::jsonb;  ERROR:  invalid input syntax for type json
        let e = Jsonb::parse("x").unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("invalid input syntax for type json", "22P02")
        );
        // SELECT '"\u0000"'::jsonb;  ERROR:  unsupported Unicode escape sequence
        // DETAIL:  \u0000 cannot be converted to text.
        let e = Jsonb::parse(r#""\u0000""#).unwrap_err();
        assert_eq!(e.to_string(), "unsupported Unicode escape sequence");
        assert_eq!(
            (e.sqlstate(), e.detail()),
            ("22P05", Some("\\u0000 cannot be converted to text."))
        );
        // SELECT '"\u0000"'::json;  "\u0000"  (json keeps its text)
        assert_eq!(validate_json(r#""\u0000""#), Ok(()));
        assert!(validate_json("{\"a\": }").is_err());
        assert_eq!(validate_json("  {\"a\" :1 , \"a\":2}  "), Ok(()));
    }

    #[test]
    fn order_matches_postgres() {
        // SELECT '{"a":1.0}'::jsonb = '{"a":1}'::jsonb, '[1]'::jsonb > '2'::jsonb,
        //        '{}'::jsonb > '[]'::jsonb, 'true'::jsonb > '1'::jsonb, '"a"'::jsonb > 'null'::jsonb,
        //        '[1,2]'::jsonb > '[3]'::jsonb, '{"b":1}'::jsonb > '{"aa":1}'::jsonb;
        // t | t | t | t | t | t | t
        assert_eq!(j(r#"{"a":1.0}"#), j(r#"{"a":1}"#));
        assert_eq!(j("[1]").cmp(&j("2")), Ordering::Greater);
        assert_eq!(j("{}").cmp(&j("[]")), Ordering::Greater);
        assert_eq!(j("true").cmp(&j("1")), Ordering::Greater);
        assert_eq!(j(r#""a""#).cmp(&j("null")), Ordering::Greater);
        assert_eq!(j("[1,2]").cmp(&j("[3]")), Ordering::Greater);
        assert_eq!(j(r#"{"b":1}"#).cmp(&j(r#"{"aa":1}"#)), Ordering::Greater);
        // SELECT x FROM (VALUES ('[]'::jsonb), ('null'), ('1'), ('"a"'), ('true'), ('[1]'),
        //   ('{}'), ('[[]]'), ('[null]'), ('{"a":1}'), ('["a"]'), ('[true]'), ('[{}]'),
        //   ('[1, 2]')) v(x) ORDER BY x;
        let sorted = [
            "[]",
            "null",
            r#""a""#,
            "1",
            "true",
            "[null]",
            r#"["a"]"#,
            "[1]",
            "[true]",
            "[[]]",
            "[{}]",
            "[1, 2]",
            "{}",
            r#"{"a": 1}"#,
        ];
        let mut docs: Vec<Jsonb> = sorted.iter().rev().map(|s| j(s)).collect();
        docs.sort();
        let shown: Vec<String> = docs.iter().map(Jsonb::to_string).collect();
        assert_eq!(shown, sorted);
        assert_eq!(j("[]").cmp(&j("null")), Ordering::Less);
        assert_eq!(j("[1, 2]").cmp(&j("3")), Ordering::Greater);
    }

    fn arb_jsonb() -> impl Strategy<Value = Jsonb> {
        let leaf = prop_oneof![
            Just(Jsonb::Null),
            any::<bool>().prop_map(Jsonb::Bool),
            "-?[0-9]{1,12}(\\.[0-9]{1,6})?"
                .prop_map(|s| Jsonb::Number(Numeric::parse(&s).unwrap())),
            "[a-z\"\\\\\n\u{1}é]{0,6}".prop_map(Jsonb::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Jsonb::Array),
                prop::collection::btree_map("[a-c]{0,3}", inner, 0..4).prop_map(|m| {
                    let mut pairs: Vec<_> = m.into_iter().collect();
                    pairs.sort_by(|(a, _), (b, _)| key_order(a, b));
                    Jsonb::Object(pairs)
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn text_round_trip(v in arb_jsonb()) {
            let text = v.to_string();
            let back = j(&text);
            prop_assert_eq!(back.to_string(), text);
            prop_assert_eq!(back, v);
        }
    }
}
