//! Set-returning functions in FROM: `generate_series` over integers, numerics and
//! timestamps, `unnest` of one or more arrays, `jsonb_each(_text)`,
//! `jsonb_array_elements(_text)`, `jsonb_object_keys`, `regexp_matches`,
//! `regexp_split_to_table` and `string_to_table`.
//!
//! [`resolve`] fixes the argument types and the output columns from the argument types
//! (they are polymorphic: `unnest(int[])` gives `int`); [`rows`] computes the rows from
//! evaluated arguments. A call in FROM is always LATERAL, as in PostgreSQL: its arguments
//! may name columns of the FROM items before it (`bind/from.rs`, `Plan::Lateral`).
//! Every function is strict: a NULL argument gives no rows.

use zqlite_projections::value::{
    BinaryOp, CastContext, DataType, Interval, Jsonb, Value, binary_op, cast, sql_cmp,
};

use crate::error::{Error, Result};
use crate::exec::Row;
use crate::functions::{no_function, text_arg};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetFunc {
    GenerateSeries,
    Unnest,
    JsonbEach {
        text: bool,
    },
    JsonbArrayElements {
        text: bool,
    },
    JsonbObjectKeys,
    /// `jsonb_path_query(target, path [, vars [, silent]])`.
    JsonbPathQuery,
    JsonEach {
        text: bool,
    },
    JsonArrayElements {
        text: bool,
    },
    JsonObjectKeys,
    RegexpMatches,
    RegexpSplitToTable,
    StringToTable,
}

const NAMES: &[&str] = &[
    "generate_series",
    "unnest",
    "jsonb_each",
    "jsonb_each_text",
    "jsonb_array_elements",
    "jsonb_array_elements_text",
    "jsonb_object_keys",
    "jsonb_path_query",
    "json_each",
    "json_each_text",
    "json_array_elements",
    "json_array_elements_text",
    "json_object_keys",
    "regexp_matches",
    "regexp_split_to_table",
    "string_to_table",
];

pub fn is_set_function(name: &str) -> bool {
    NAMES.contains(&name)
}

impl SetFunc {
    pub fn name(&self) -> &'static str {
        match self {
            SetFunc::GenerateSeries => "generate_series",
            SetFunc::Unnest => "unnest",
            SetFunc::JsonbEach { text: false } => "jsonb_each",
            SetFunc::JsonbEach { text: true } => "jsonb_each_text",
            SetFunc::JsonbArrayElements { text: false } => "jsonb_array_elements",
            SetFunc::JsonbArrayElements { text: true } => "jsonb_array_elements_text",
            SetFunc::JsonbObjectKeys => "jsonb_object_keys",
            SetFunc::JsonbPathQuery => "jsonb_path_query",
            SetFunc::JsonEach { text: false } => "json_each",
            SetFunc::JsonEach { text: true } => "json_each_text",
            SetFunc::JsonArrayElements { text: false } => "json_array_elements",
            SetFunc::JsonArrayElements { text: true } => "json_array_elements_text",
            SetFunc::JsonObjectKeys => "json_object_keys",
            SetFunc::RegexpMatches => "regexp_matches",
            SetFunc::RegexpSplitToTable => "regexp_split_to_table",
            SetFunc::StringToTable => "string_to_table",
        }
    }
}

/// A call resolved: the function, the type each argument is coerced to, and the output
/// columns.
#[derive(Debug)]
pub struct Resolved {
    pub func: SetFunc,
    pub arg_types: Vec<Option<DataType>>,
    pub columns: Vec<(String, DataType)>,
}

fn is_string(t: &Option<DataType>) -> bool {
    t.is_none_or(|t| matches!(t, DataType::Text | DataType::Varchar(_) | DataType::Char(_)))
}

/// `generate_series`'s value type from its argument types.
fn series_type(args: &[Option<DataType>]) -> Option<DataType> {
    use DataType as T;
    let known: Vec<DataType> = args
        .iter()
        .flatten()
        .map(|t| t.without_modifier())
        .collect();
    let any = |f: &dyn Fn(&DataType) -> bool| known.iter().any(f);
    let all = |f: &dyn Fn(&DataType) -> bool| known.iter().all(f);
    let bound_types = &args[..2];
    let timestamp_bounds = bound_types
        .iter()
        .any(|t| matches!(t, Some(T::Timestamp | T::TimestampTz)));
    if args.len() == 3 && (args[2] == Some(T::Interval) || (args[2].is_none() && timestamp_bounds))
    {
        let bounds: Vec<DataType> = bound_types.iter().flatten().copied().collect();
        return if bounds.iter().all(|t| *t == T::Timestamp) && !bounds.is_empty() {
            Some(T::Timestamp)
        } else if bounds
            .iter()
            .all(|t| matches!(t, T::Timestamp | T::TimestampTz | T::Date))
        {
            Some(T::TimestampTz)
        } else {
            None
        };
    }
    if known.is_empty() {
        return None;
    }
    if !all(&|t| matches!(t, T::Int2 | T::Int4 | T::Int8 | T::Numeric(_))) {
        return None;
    }
    Some(if any(&|t| matches!(t, T::Numeric(_))) {
        T::Numeric(None)
    } else if any(&|t| *t == T::Int8) {
        T::Int8
    } else {
        T::Int4
    })
}

/// Resolves a call of `name` (one of [`is_set_function`]'s).
pub fn resolve(name: &str, args: &[Option<DataType>]) -> Result<Resolved> {
    use DataType as T;
    let fail = || no_function(name, args);
    let text = Some(T::Text);
    let one = |name: &str, ty: DataType| vec![(name.to_string(), ty)];
    let (func, arg_types, columns) = match (name, args.len()) {
        ("generate_series", 2 | 3) => {
            let ty = series_type(args).ok_or_else(fail)?;
            let step = if args.len() == 3 {
                vec![Some(if matches!(ty, T::Timestamp | T::TimestampTz) {
                    T::Interval
                } else {
                    ty
                })]
            } else {
                Vec::new()
            };
            let mut types = vec![Some(ty), Some(ty)];
            types.extend(step);
            (SetFunc::GenerateSeries, types, one("generate_series", ty))
        }
        ("unnest", 1..) => {
            let mut columns = Vec::new();
            for a in args {
                let elem = a.and_then(|t| t.element_type()).ok_or_else(fail)?;
                columns.push(("unnest".to_string(), elem));
            }
            (SetFunc::Unnest, vec![None; args.len()], columns)
        }
        ("jsonb_each" | "jsonb_each_text", 1) if args[0].is_none_or(|t| t == T::Jsonb) => {
            let text_values = name == "jsonb_each_text";
            let value = if text_values { T::Text } else { T::Jsonb };
            (
                SetFunc::JsonbEach { text: text_values },
                vec![Some(T::Jsonb)],
                vec![("key".to_string(), T::Text), ("value".to_string(), value)],
            )
        }
        ("jsonb_array_elements" | "jsonb_array_elements_text", 1)
            if args[0].is_none_or(|t| t == T::Jsonb) =>
        {
            let text_values = name == "jsonb_array_elements_text";
            let value = if text_values { T::Text } else { T::Jsonb };
            (
                SetFunc::JsonbArrayElements { text: text_values },
                vec![Some(T::Jsonb)],
                one("value", value),
            )
        }
        ("jsonb_object_keys", 1) if args[0].is_none_or(|t| t == T::Jsonb) => (
            SetFunc::JsonbObjectKeys,
            vec![Some(T::Jsonb)],
            one("jsonb_object_keys", T::Text),
        ),
        ("json_each" | "json_each_text", 1) if args[0].is_none_or(|t| t == T::Json) => {
            let text_values = name == "json_each_text";
            let value = if text_values { T::Text } else { T::Json };
            (
                SetFunc::JsonEach { text: text_values },
                vec![Some(T::Json)],
                vec![("key".to_string(), T::Text), ("value".to_string(), value)],
            )
        }
        ("json_array_elements" | "json_array_elements_text", 1)
            if args[0].is_none_or(|t| t == T::Json) =>
        {
            let text_values = name == "json_array_elements_text";
            let value = if text_values { T::Text } else { T::Json };
            (
                SetFunc::JsonArrayElements { text: text_values },
                vec![Some(T::Json)],
                one("value", value),
            )
        }
        ("json_object_keys", 1) if args[0].is_none_or(|t| t == T::Json) => (
            SetFunc::JsonObjectKeys,
            vec![Some(T::Json)],
            one("json_object_keys", T::Text),
        ),
        // The path must be an unknown literal: zqlite has no `jsonpath` type.
        ("jsonb_path_query", 2..=4)
            if args[0].is_none_or(|t| t == T::Jsonb)
                && args[1].is_none()
                && args.get(2).is_none_or(|t| t.is_none_or(|t| t == T::Jsonb))
                && args.get(3).is_none_or(|t| t.is_none_or(|t| t == T::Bool)) =>
        {
            let mut types = vec![Some(T::Jsonb), Some(T::Text), Some(T::Jsonb), Some(T::Bool)];
            types.truncate(args.len());
            (
                SetFunc::JsonbPathQuery,
                types,
                one("jsonb_path_query", T::Jsonb),
            )
        }
        ("regexp_matches", 2 | 3) if args.iter().all(is_string) => (
            SetFunc::RegexpMatches,
            vec![text; args.len()],
            one("regexp_matches", T::TEXT_ARRAY),
        ),
        ("regexp_split_to_table", 2 | 3) if args.iter().all(is_string) => (
            SetFunc::RegexpSplitToTable,
            vec![text; args.len()],
            one("regexp_split_to_table", T::Text),
        ),
        ("string_to_table", 2 | 3) if args.iter().all(is_string) => (
            SetFunc::StringToTable,
            vec![text; args.len()],
            one("string_to_table", T::Text),
        ),
        _ => return Err(fail()),
    };
    Ok(Resolved {
        func,
        arg_types,
        columns,
    })
}

fn runtime(sqlstate: &'static str, message: impl Into<String>) -> Error {
    Error::Runtime {
        sqlstate,
        message: message.into(),
    }
}

/// The rows of a call on evaluated arguments.
pub fn rows(func: SetFunc, args: &[Value]) -> Result<Vec<Row>> {
    // `unnest` of several arrays pads the shorter ones; its NULL arrays count as empty.
    if func == SetFunc::Unnest {
        return Ok(unnest(args));
    }
    // `string_to_table`'s NULL delimiter splits into characters; its third argument may
    // be NULL.
    let strict_args = match func {
        SetFunc::StringToTable => &args[..1],
        _ => args,
    };
    if strict_args.iter().any(Value::is_null) {
        return Ok(Vec::new());
    }
    Ok(match func {
        SetFunc::GenerateSeries => generate_series(args)?,
        SetFunc::Unnest => unreachable!("handled above"),
        SetFunc::JsonbEach { text } => match jsonb(&args[0], "jsonb_each", "object")? {
            Jsonb::Object(members) => members
                .iter()
                .map(|(k, v)| vec![Value::Text(k.clone()), json_value(v, text)])
                .collect(),
            _ => return Err(not_a("jsonb_each", "an object", "non-object")),
        },
        SetFunc::JsonbArrayElements { text } => {
            let name = func.name();
            match jsonb(&args[0], name, "array")? {
                Jsonb::Array(items) => items.iter().map(|v| vec![json_value(v, text)]).collect(),
                Jsonb::Object(_) => return Err(not_a(name, "an array", "an object")),
                _ => return Err(not_a(name, "an array", "a scalar")),
            }
        }
        SetFunc::JsonbObjectKeys => match jsonb(&args[0], "jsonb_object_keys", "object")? {
            Jsonb::Object(members) => members
                .iter()
                .map(|(k, _)| vec![Value::Text(k.clone())])
                .collect(),
            Jsonb::Array(_) => {
                return Err(runtime(
                    "22023",
                    "cannot call jsonb_object_keys on an array",
                ));
            }
            _ => {
                return Err(runtime(
                    "22023",
                    "cannot call jsonb_object_keys on a scalar",
                ));
            }
        },
        SetFunc::JsonEach { text } => crate::json_text::each(json(&args[0])?, text)?,
        SetFunc::JsonArrayElements { text } => {
            crate::json_text::array_elements(json(&args[0])?, text)?
        }
        SetFunc::JsonObjectKeys => crate::json_text::object_keys(json(&args[0])?)?,
        SetFunc::JsonbPathQuery => crate::jsonpath::rows(args)?
            .into_iter()
            .map(|v| vec![Value::Jsonb(v)])
            .collect(),
        SetFunc::RegexpMatches => {
            let flags = args.get(2).map(text_arg);
            crate::text_functions::regexp_matches(
                &text_arg(&args[0]),
                &text_arg(&args[1]),
                flags.as_deref(),
            )?
            .into_iter()
            .map(|groups| vec![text_array(groups)])
            .collect()
        }
        SetFunc::RegexpSplitToTable => {
            let flags = args.get(2).map(text_arg);
            crate::text_functions::regexp_split_to_table(
                &text_arg(&args[0]),
                &text_arg(&args[1]),
                flags.as_deref(),
            )?
            .into_iter()
            .map(|s| vec![Value::Text(s)])
            .collect()
        }
        SetFunc::StringToTable => string_to_table(args),
    })
}

fn text_array(items: Vec<Option<String>>) -> Value {
    let items = items
        .into_iter()
        .map(|s| s.map_or(Value::Null, Value::Text))
        .collect();
    Value::Array(std::sync::Arc::new(zqlite_projections::value::Array::new(
        DataType::Text,
        items,
    )))
}

fn json(v: &Value) -> Result<&str> {
    match v {
        Value::Json(doc) => Ok(doc),
        other => Err(crate::exec::internal(&format!("a json argument {other:?}"))),
    }
}

fn jsonb<'a>(v: &'a Value, name: &str, want: &str) -> Result<&'a Jsonb> {
    match v {
        Value::Jsonb(doc) => Ok(doc),
        _ => Err(runtime("22023", format!("{name} expects a jsonb {want}"))),
    }
}

fn not_a(name: &str, want: &str, got: &str) -> Error {
    let message = if want == "an object" {
        format!("cannot call {name} on a {got}")
    } else {
        format!("cannot extract elements from {got}")
    };
    runtime("22023", message)
}

/// A jsonb member or element as `jsonb`, or as text (`*_text`: strings unquoted, JSON null
/// as SQL NULL).
fn json_value(v: &Jsonb, text: bool) -> Value {
    match (v, text) {
        (_, false) => Value::Jsonb(v.clone()),
        (Jsonb::Null, true) => Value::Null,
        (Jsonb::String(s), true) => Value::Text(s.clone()),
        (other, true) => Value::Text(other.to_string()),
    }
}

fn unnest(args: &[Value]) -> Vec<Row> {
    let arrays: Vec<&[Value]> = args
        .iter()
        .map(|a| match a {
            Value::Array(a) => a.items(),
            _ => &[],
        })
        .collect();
    let len = arrays.iter().map(|a| a.len()).max().unwrap_or(0);
    (0..len)
        .map(|i| {
            arrays
                .iter()
                .map(|a| a.get(i).cloned().unwrap_or(Value::Null))
                .collect()
        })
        .collect()
}

fn is_zero_step(step: &Value) -> bool {
    match step {
        Value::Int2(v) => *v == 0,
        Value::Int4(v) => *v == 0,
        Value::Int8(v) => *v == 0,
        Value::Numeric(n) => n.is_zero(),
        Value::Interval(iv) => iv.span() == 0,
        _ => false,
    }
}

fn is_negative_step(step: &Value) -> bool {
    match step {
        Value::Int2(v) => *v < 0,
        Value::Int4(v) => *v < 0,
        Value::Int8(v) => *v < 0,
        Value::Numeric(n) => n.is_negative(),
        Value::Interval(iv) => iv.span() < 0,
        _ => false,
    }
}

fn generate_series(args: &[Value]) -> Result<Vec<Row>> {
    let (start, stop) = (&args[0], &args[1]);
    let step = match args.get(2) {
        Some(step) => step.clone(),
        None => match start {
            Value::Int8(_) => Value::Int8(1),
            Value::Numeric(_) => cast(
                Value::Int4(1),
                &DataType::Numeric(None),
                CastContext::Explicit,
            )?,
            Value::Timestamp(_) | Value::TimestampTz(_) => Value::Interval(Interval {
                months: 0,
                days: 1,
                micros: 0,
            }),
            _ => Value::Int4(1),
        },
    };
    if is_zero_step(&step) {
        return Err(runtime("22023", "step size cannot equal zero"));
    }
    for bound in [start, stop] {
        if let Value::Numeric(n) = bound
            && n.is_nan()
        {
            let which = if std::ptr::eq(bound, start) {
                "start"
            } else {
                "stop"
            };
            return Err(runtime("22023", format!("{which} value cannot be NaN")));
        }
        if let Value::Numeric(n) = bound
            && !n.is_finite()
        {
            let which = if std::ptr::eq(bound, start) {
                "start"
            } else {
                "stop"
            };
            return Err(runtime(
                "22023",
                format!("{which} value cannot be infinity"),
            ));
        }
    }
    let descending = is_negative_step(&step);
    let mut out = Vec::new();
    let mut current = start.clone();
    loop {
        let past = match sql_cmp(&current, stop)? {
            Some(o) if descending => o.is_lt(),
            Some(o) => o.is_gt(),
            None => true,
        };
        if past {
            break;
        }
        out.push(vec![current.clone()]);
        current = match binary_op(BinaryOp::Add, &current, &step) {
            Ok(next) => next,
            // Past the type's range: the series ends, as in PostgreSQL.
            Err(_) => break,
        };
        if out.len() > 100_000_000 {
            return Err(runtime(
                "54000",
                "generate_series would return more than 100000000 rows",
            ));
        }
    }
    Ok(out)
}

/// `string_to_table(text, delimiter [, null_string])`.
fn string_to_table(args: &[Value]) -> Vec<Row> {
    let source = text_arg(&args[0]);
    let null_string = args.get(2).filter(|v| !v.is_null()).map(text_arg);
    let pieces: Vec<String> = match &args[1] {
        Value::Null => source.chars().map(String::from).collect(),
        delim => {
            let delim = text_arg(delim);
            if source.is_empty() {
                Vec::new()
            } else if delim.is_empty() {
                vec![source]
            } else {
                source.split(delim.as_str()).map(String::from).collect()
            }
        }
    };
    pieces
        .into_iter()
        .map(|p| {
            vec![if null_string.as_deref() == Some(p.as_str()) {
                Value::Null
            } else {
                Value::Text(p)
            }]
        })
        .collect()
}
