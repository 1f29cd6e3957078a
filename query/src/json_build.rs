//! Building JSON from SQL values: `to_jsonb` / `to_json` of one value, the
//! `*build_object` constructors, `jsonb_object` / `json_object` of text arrays,
//! `array_to_json`, and records as JSON (`bind/record.rs` binds a row to alternating field
//! names and values).
//!
//! `jsonb` results are normalised trees (keys unique, the last duplicate winning, in
//! storage order); `json` results are text in PostgreSQL's spacing for each function:
//! `{"k" : v}` for `json_build_object` and `json_object`, `{"k":v}` for records (with
//! `",\n "` between fields when pretty), `[a,b]` for arrays.

use zqlite_projections::value::{Jsonb, Value};

use crate::error::{Error, Result};
use crate::json_functions::{text_items, text_of};

/// `to_jsonb` of one SQL value, as `jsonb_build_object` converts its values.
pub fn to_jsonb(v: &Value) -> Result<Jsonb> {
    Ok(match v {
        Value::Null => Jsonb::Null,
        Value::Bool(b) => Jsonb::Bool(*b),
        Value::Int2(_)
        | Value::Int4(_)
        | Value::Int8(_)
        | Value::Numeric(_)
        | Value::Float4(_)
        | Value::Float8(_) => {
            let text = v.to_string();
            // NaN and the infinities are not JSON numbers: PostgreSQL makes them strings.
            Jsonb::parse(&text).unwrap_or(Jsonb::String(text))
        }
        Value::Json(s) => Jsonb::parse(s)?,
        Value::Jsonb(j) => j.clone(),
        Value::Text(s) => Jsonb::String(s.clone()),
        Value::BpChar(s) => Jsonb::String(s.clone()),
        Value::Timestamp(_) | Value::TimestampTz(_) => Jsonb::String(iso_8601(&v.to_string())),
        Value::Array(a) => Jsonb::Array(a.items().iter().map(to_jsonb).collect::<Result<_>>()?),
        other => Jsonb::String(other.to_string()),
    })
}

/// `to_json` of one SQL value: its JSON text (`json` values keep theirs as written;
/// arrays print without spaces, as `array_to_json` does).
pub fn to_json_text(v: &Value) -> Result<String> {
    Ok(match v {
        Value::Null => "null".into(),
        Value::Json(s) => s.clone(),
        Value::Array(a) => {
            let items = a
                .items()
                .iter()
                .map(to_json_text)
                .collect::<Result<Vec<_>>>()?;
            format!("[{}]", items.join(","))
        }
        Value::Int2(_)
        | Value::Int4(_)
        | Value::Int8(_)
        | Value::Numeric(_)
        | Value::Float4(_)
        | Value::Float8(_) => {
            let text = v.to_string();
            // A number keeps its text; NaN and the infinities become strings.
            match Jsonb::parse(&text) {
                Ok(Jsonb::Number(_)) => text,
                _ => Jsonb::String(text).to_string(),
            }
        }
        other => to_jsonb(other)?.to_string(),
    })
}

/// A `*build_object` key: any scalar's text; NULL, arrays and JSON are refused.
fn object_key(n: usize, v: &Value, null_message: &str) -> Result<String> {
    match v {
        Value::Null => Err(Error::Runtime {
            sqlstate: "22023",
            message: null_message.replace("{}", &(n + 1).to_string()),
        }),
        Value::Array(_) | Value::Json(_) | Value::Jsonb(_) => Err(Error::Runtime {
            sqlstate: "22023",
            message: "key value must be scalar, not array, composite, or json".into(),
        }),
        k => key_text(k),
    }
}

/// The text of a scalar used as an object key: its JSON string form (`true`, ISO 8601
/// timestamps), or its text for numbers.
pub fn key_text(v: &Value) -> Result<String> {
    Ok(match to_jsonb(v)? {
        Jsonb::String(s) => s,
        Jsonb::Bool(b) => b.to_string(),
        _ => text_of(v),
    })
}

/// `json_build_object`: `{"k" : v, ...}` in argument order, duplicates kept.
pub fn json_build_object(args: &[Value]) -> Result<Value> {
    let mut parts = Vec::with_capacity(args.len() / 2);
    for (n, pair) in args.chunks(2).enumerate() {
        let key = object_key(2 * n, &pair[0], "argument {} cannot be null")?;
        parts.push(format!(
            "{} : {}",
            Jsonb::String(key),
            to_json_text(&pair[1])?
        ));
    }
    Ok(Value::Json(format!("{{{}}}", parts.join(", "))))
}

/// PostgreSQL's JSON form of a timestamp's text: `T` between date and time, and a full
/// `+HH:MM` offset.
pub(crate) fn iso_8601(text: &str) -> String {
    let mut out = text.replacen(' ', "T", 1);
    let offset = out.rfind(['+', '-']).filter(|&i| i > 10);
    if let Some(i) = offset
        && out.len() - i == 3
    {
        out.push_str(":00");
    }
    out
}

pub fn build_object(args: &[Value]) -> Result<Value> {
    let mut pairs: Vec<(String, Jsonb)> = Vec::with_capacity(args.len() / 2);
    for (n, pair) in args.chunks(2).enumerate() {
        let key = object_key(2 * n, &pair[0], "argument {}: key must not be null")?;
        let value = to_jsonb(&pair[1])?;
        match pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => pairs.push((key, value)),
        }
    }
    // Normalise key order (and everything else) through the jsonb tree's own rules.
    let text = Jsonb::Object(pairs).to_string();
    Ok(Value::Jsonb(Jsonb::parse(&text)?))
}

/// `jsonb_object` / `json_object`: string (or null) values under non-null keys.
pub fn object(jsonb: bool, args: &[Value]) -> Result<Value> {
    let (keys, values) = match args {
        [one] => {
            let items = text_items(one)?;
            if !items.len().is_multiple_of(2) {
                return Err(Error::Runtime {
                    sqlstate: "2202E",
                    message: "array must have even number of elements".into(),
                });
            }
            let (k, v): (Vec<_>, Vec<_>) = items
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .unzip();
            (k, v)
        }
        [k, v] => {
            let (k, v) = (text_items(k)?, text_items(v)?);
            if k.len() != v.len() {
                return Err(Error::Runtime {
                    sqlstate: "2202E",
                    message: "mismatched array dimensions".into(),
                });
            }
            (k, v)
        }
        _ => return Err(crate::exec::internal("json_object arity")),
    };
    let mut pairs = Vec::with_capacity(keys.len());
    for (k, v) in keys.into_iter().zip(values) {
        let Some(k) = k else {
            return Err(Error::Runtime {
                sqlstate: "22004",
                message: "null value not allowed for object key".into(),
            });
        };
        pairs.push((k, v.map_or(Jsonb::Null, Jsonb::String)));
    }
    if jsonb {
        // Normalise key order and duplicates through the tree's own rules.
        return Ok(Value::Jsonb(Jsonb::parse(
            &Jsonb::Object(pairs).to_string(),
        )?));
    }
    let parts: Vec<String> = pairs
        .into_iter()
        .map(|(k, v)| format!("{} : {}", Jsonb::String(k), v))
        .collect();
    Ok(Value::Json(format!("{{{}}}", parts.join(", "))))
}

/// A record's JSON object from alternating field names and values.
pub fn record(jsonb: bool, pretty: bool, args: &[Value]) -> Result<Value> {
    if jsonb {
        let pairs = args
            .chunks(2)
            .map(|p| Ok((text_of(&p[0]), to_jsonb(&p[1])?)))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Value::Jsonb(Jsonb::parse(
            &Jsonb::Object(pairs).to_string(),
        )?));
    }
    let parts = args
        .chunks(2)
        .map(|p| {
            Ok(format!(
                "{}:{}",
                Jsonb::String(text_of(&p[0])),
                to_json_text(&p[1])?
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Value::Json(format!(
        "{{{}}}",
        parts.join(if pretty { ",\n " } else { "," })
    )))
}

/// `array_to_json(array [, pretty])`.
pub fn array_to_json(args: &[Value]) -> Result<Value> {
    let Value::Array(a) = &args[0] else {
        return Err(crate::exec::internal("array_to_json of a non-array"));
    };
    let pretty = args.get(1).and_then(Value::as_bool).unwrap_or(false);
    let items = a
        .items()
        .iter()
        .map(to_json_text)
        .collect::<Result<Vec<_>>>()?;
    Ok(Value::Json(format!(
        "[{}]",
        items.join(if pretty { ",\n " } else { "," })
    )))
}
