//! Functions over `json` values, which keep their input text: `json_each(_text)`,
//! `json_array_elements(_text)`, `json_object_keys`, `json_array_length` and
//! `json_strip_nulls`, as PostgreSQL 15's `jsonfuncs.c` computes them.
//!
//! - Members and elements come back as written (whitespace inside them included), in
//!   document order, duplicate keys kept.
//! - The `_text` variants unescape strings and give SQL NULL for a JSON `null`.
//! - `json_strip_nulls` re-serialises without whitespace: object members whose value is
//!   `null` are dropped (array elements are kept), numbers keep their text, strings are
//!   re-escaped the way PostgreSQL's `escape_json` does.
//!
//! The inputs are valid JSON (checked when the value was made), so the scanner only has to
//! find boundaries.

use zqlite_projections::value::{Jsonb, Value};

use crate::error::{Error, Result};
use crate::json_functions::{Scanner, invalid_json};

fn runtime(message: impl Into<String>) -> Error {
    Error::Runtime {
        sqlstate: "22023",
        message: message.into(),
    }
}

/// What a `json` document is at its top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    Scalar,
}

pub fn kind(doc: &str) -> Kind {
    match doc.trim_start().as_bytes().first() {
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        _ => Kind::Scalar,
    }
}

/// An object's members: each key (unescaped) and its value's text.
pub fn members(doc: &str) -> Result<Vec<(String, &str)>> {
    let mut s = Scanner { text: doc, at: 0 };
    s.expect(b'{')?;
    let mut out = Vec::new();
    if s.peek() == Some(b'}') {
        return Ok(out);
    }
    loop {
        let Jsonb::String(key) = Jsonb::parse(s.value()?)? else {
            return Err(invalid_json());
        };
        s.expect(b':')?;
        out.push((key, s.value()?));
        match s.peek() {
            Some(b',') => s.at += 1,
            _ => return Ok(out),
        }
    }
}

/// An array's elements' text.
pub fn elements(doc: &str) -> Result<Vec<&str>> {
    let mut s = Scanner { text: doc, at: 0 };
    s.expect(b'[')?;
    let mut out = Vec::new();
    if s.peek() == Some(b']') {
        return Ok(out);
    }
    loop {
        out.push(s.value()?);
        match s.peek() {
            Some(b',') => s.at += 1,
            _ => return Ok(out),
        }
    }
}

/// A member or element as `json` or, for the `_text` variants, as text.
pub fn item(raw: &str, text: bool) -> Value {
    if !text {
        return Value::Json(raw.to_string());
    }
    match Jsonb::parse(raw) {
        Ok(Jsonb::Null) => Value::Null,
        Ok(Jsonb::String(s)) => Value::Text(s),
        _ => Value::Text(raw.to_string()),
    }
}

/// `json_each` / `json_each_text` rows.
pub fn each(doc: &str, text: bool) -> Result<Vec<Vec<Value>>> {
    match kind(doc) {
        Kind::Object => Ok(members(doc)?
            .into_iter()
            .map(|(k, v)| vec![Value::Text(k), item(v, text)])
            .collect()),
        Kind::Array => Err(runtime("cannot deconstruct an array as an object")),
        Kind::Scalar => Err(runtime("cannot deconstruct a scalar")),
    }
}

/// `json_array_elements` / `json_array_elements_text` rows.
pub fn array_elements(doc: &str, text: bool) -> Result<Vec<Vec<Value>>> {
    let name = if text {
        "json_array_elements_text"
    } else {
        "json_array_elements"
    };
    match kind(doc) {
        Kind::Array => Ok(elements(doc)?
            .into_iter()
            .map(|v| vec![item(v, text)])
            .collect()),
        Kind::Object => Err(runtime(format!("cannot call {name} on a non-array"))),
        Kind::Scalar => Err(runtime(format!("cannot call {name} on a scalar"))),
    }
}

/// `json_object_keys` rows.
pub fn object_keys(doc: &str) -> Result<Vec<Vec<Value>>> {
    match kind(doc) {
        Kind::Object => Ok(members(doc)?
            .into_iter()
            .map(|(k, _)| vec![Value::Text(k)])
            .collect()),
        Kind::Array => Err(runtime("cannot call json_object_keys on an array")),
        Kind::Scalar => Err(runtime("cannot call json_object_keys on a scalar")),
    }
}

/// `json_array_length`.
pub fn array_length(doc: &str) -> Result<Value> {
    match kind(doc) {
        Kind::Array => Ok(Value::Int4(
            i32::try_from(elements(doc)?.len()).unwrap_or(i32::MAX),
        )),
        Kind::Object => Err(runtime("cannot get array length of a non-array")),
        Kind::Scalar => Err(runtime("cannot get array length of a scalar")),
    }
}

/// `json_strip_nulls`.
pub fn strip_nulls(doc: &str) -> Result<String> {
    let mut out = String::new();
    strip_into(doc, &mut out)?;
    Ok(out)
}

fn strip_into(raw: &str, out: &mut String) -> Result<()> {
    let raw = raw.trim();
    match kind(raw) {
        Kind::Object => {
            out.push('{');
            let mut first = true;
            for (k, v) in members(raw)? {
                if v == "null" {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&Jsonb::String(k).to_string());
                out.push(':');
                strip_into(v, out)?;
            }
            out.push('}');
        }
        Kind::Array => {
            out.push('[');
            for (i, v) in elements(raw)?.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                strip_into(v, out)?;
            }
            out.push(']');
        }
        Kind::Scalar if raw.starts_with('"') => {
            out.push_str(&Jsonb::parse(raw)?.to_string());
        }
        Kind::Scalar => out.push_str(raw),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(rows: Vec<Vec<Value>>) -> Vec<String> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .map(|v| {
                        if v.is_null() {
                            "NULL".into()
                        } else {
                            v.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    // Expected values from PostgreSQL 15.
    #[test]
    fn members_and_elements_keep_their_text() {
        let doc = r#"{"a": null, "b": "x\"y", "a": [1, 2] }"#;
        assert_eq!(
            show(each(doc, true).unwrap()),
            ["a|NULL", "b|x\"y", "a|[1, 2]"]
        );
        assert_eq!(
            show(each(doc, false).unwrap()),
            ["a|null", "b|\"x\\\"y\"", "a|[1, 2]"]
        );
        assert_eq!(
            show(array_elements(r#"[null, "x", {"a" : 1}, 2.50]"#, true).unwrap()),
            ["NULL", "x", "{\"a\" : 1}", "2.50"]
        );
        assert_eq!(show(object_keys(r#"{"a":1,"a":2}"#).unwrap()), ["a", "a"]);
        assert_eq!(array_length("[1, [2, 3]]").unwrap(), Value::Int4(2));
        assert_eq!(array_length("[]").unwrap(), Value::Int4(0));
    }

    #[test]
    fn strip_nulls_reserialises() {
        assert_eq!(
            strip_nulls(r#"{"a": null, "b": [1, null, {"c": null, "d": "x\u00e9"}], "e" : 1.50}"#)
                .unwrap(),
            r#"{"b":[1,null,{"d":"xé"}],"e":1.50}"#
        );
        assert_eq!(strip_nulls("null").unwrap(), "null");
    }

    #[test]
    fn errors_name_the_function() {
        for (result, message) in [
            (
                each("[1]", false),
                "cannot deconstruct an array as an object",
            ),
            (each("1", true), "cannot deconstruct a scalar"),
            (
                array_elements("{}", false),
                "cannot call json_array_elements on a non-array",
            ),
            (
                array_elements("1", true),
                "cannot call json_array_elements_text on a scalar",
            ),
            (
                object_keys("[1]"),
                "cannot call json_object_keys on an array",
            ),
        ] {
            let e = result.unwrap_err();
            assert_eq!((e.sqlstate(), e.to_string().as_str()), ("22023", message));
        }
        assert_eq!(
            array_length("{}").unwrap_err().to_string(),
            "cannot get array length of a non-array"
        );
    }
}
