//! JSON operators and functions: `->`, `->>`, `#>`, `#>>` on `json` and `jsonb`, and
//! `jsonb_typeof`, `json_typeof`, `jsonb_build_object`.
//!
//! This module resolves every JSON operator and function call and dispatches their
//! evaluation; the work lives by concern in `jsonb_ops.rs` (jsonb tree operations),
//! `json_build.rs` (SQL values to JSON, constructors, records), `json_text.rs` (functions
//! over `json` text) and `jsonpath/` (SQL/JSON paths).
//!
//! The binder resolves an operator with [`resolve_operator`] and a call with
//! [`resolve_function`], which fix the argument types (an unknown-typed right operand of
//! `->` is a key, of `#>` a `text[]` path); [`eval`] computes the result. Semantics are
//! PostgreSQL 15's:
//! - `->` takes a key (`text`) or an array index (`int2`/`int4`; negative counts from the
//!   end) and returns the same type as its left operand; `->>` returns `text`. A missing
//!   key, an index out of range, or a key on an array (an index on an object) is NULL.
//! - `#>` / `#>>` follow a `text[]` path; array steps must be integers. An empty path
//!   returns the whole document; a NULL step gives NULL.
//! - `->>` / `#>>` of a JSON `null` is SQL NULL; of a string, its unescaped contents; of
//!   anything else, its text (jsonb's canonical text, or json's input text as written).
//! - `json` values keep their input text: `->` on `json` returns the sub-document exactly
//!   as written (whitespace included) and, for duplicate keys, the last one.
//! - jsonb's raw scalars answer `-> 0` and `-> -1` with themselves, as PostgreSQL stores
//!   them as one-element arrays.
//!
//! Every operator and `*_typeof` is strict (NULL in, NULL out); `jsonb_build_object`
//! takes alternating keys and values of any type, keys must not be NULL.

use std::borrow::Cow;

use zqlite_projections::value::{DataType, Jsonb, Value};

use crate::error::{Error, Result};
use crate::json_build;
pub use crate::json_build::{key_text, to_json_text, to_jsonb};
use crate::jsonb_ops::{self, PathOp};
use crate::jsonpath::{self, PathCall};

/// A JSON operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonFunc {
    /// `->` with a key (`text`) or an index (`int`): the sub-document.
    Get,
    /// `->>`: the sub-document as text.
    GetText,
    /// `#>`: the sub-document at a path.
    Path,
    /// `#>>`: the sub-document at a path, as text.
    PathText,
    /// `jsonb_typeof` / `json_typeof`.
    Typeof,
    /// `jsonb_build_object(k1, v1, ...)`.
    BuildObject,
    /// `jsonb @> jsonb`.
    Contains,
    /// `jsonb <@ jsonb`.
    ContainedBy,
    /// `jsonb ? text`.
    Exists,
    /// `jsonb ?| text[]`.
    ExistsAny,
    /// `jsonb ?& text[]`.
    ExistsAll,
    /// `jsonb || jsonb`.
    Concat,
    /// `jsonb - text`, `jsonb - int` and `jsonb - text[]` (told apart by the operand).
    Delete,
    /// `jsonb #- text[]`.
    DeletePath,
    /// `jsonb_build_array(...)`.
    BuildArray,
    /// `json_build_object(k1, v1, ...)`.
    JsonBuildObject,
    /// `json_build_array(...)`.
    JsonBuildArray,
    /// `jsonb_set(target, path, value [, create_if_missing])`.
    Set,
    /// `jsonb_insert(target, path, value [, insert_after])`.
    Insert,
    /// `jsonb_strip_nulls` / `json_strip_nulls`.
    StripNulls,
    /// `jsonb_array_length` / `json_array_length`.
    ArrayLength,
    /// `jsonb_set_lax(target, path, value [, create_if_missing [, null_value_treatment]])`.
    SetLax,
    /// `jsonb_object` / `json_object` of a `text[]` of alternating keys and values, or of
    /// a keys array and a values array.
    Object { jsonb: bool },
    /// `array_to_json(anyarray [, pretty])`.
    ArrayToJson,
    /// A record as JSON (`to_json(t)`, `row_to_json(ROW(...))`, ...): the arguments are
    /// alternating field names and values (`bind/record.rs`); `pretty` puts a line break
    /// between the fields of `json`.
    Record { jsonb: bool, pretty: bool },
    /// `jsonb_pretty`.
    Pretty,
    /// `to_jsonb`.
    ToJsonb,
    /// `to_json`.
    ToJson,
    /// `jsonb_path_exists`, `jsonb_path_match`, `jsonb_path_query_array` and
    /// `jsonb_path_query_first` (`target, path [, vars [, silent]]`), and the operators
    /// `@?` and `@@` (`operator`: always silent).
    JsonPath { call: PathCall, operator: bool },
}

impl JsonFunc {
    pub fn name(&self) -> &'static str {
        match self {
            JsonFunc::Get => "->",
            JsonFunc::GetText => "->>",
            JsonFunc::Path => "#>",
            JsonFunc::PathText => "#>>",
            JsonFunc::Typeof => "jsonb_typeof",
            JsonFunc::BuildObject => "jsonb_build_object",
            JsonFunc::Contains => "@>",
            JsonFunc::ContainedBy => "<@",
            JsonFunc::Exists => "?",
            JsonFunc::ExistsAny => "?|",
            JsonFunc::ExistsAll => "?&",
            JsonFunc::Concat => "||",
            JsonFunc::Delete => "-",
            JsonFunc::DeletePath => "#-",
            JsonFunc::BuildArray => "jsonb_build_array",
            JsonFunc::JsonBuildObject => "json_build_object",
            JsonFunc::JsonBuildArray => "json_build_array",
            JsonFunc::Set => "jsonb_set",
            JsonFunc::Insert => "jsonb_insert",
            JsonFunc::StripNulls => "jsonb_strip_nulls",
            JsonFunc::ArrayLength => "jsonb_array_length",
            JsonFunc::SetLax => "jsonb_set_lax",
            JsonFunc::Object { jsonb: true } => "jsonb_object",
            JsonFunc::Object { jsonb: false } => "json_object",
            JsonFunc::ArrayToJson => "array_to_json",
            JsonFunc::Record { jsonb: true, .. } => "to_jsonb",
            JsonFunc::Record { jsonb: false, .. } => "row_to_json",
            JsonFunc::Pretty => "jsonb_pretty",
            JsonFunc::ToJsonb => "to_jsonb",
            JsonFunc::ToJson => "to_json",
            JsonFunc::JsonPath { call, operator } => match (call, operator) {
                (PathCall::Exists, true) => "@?",
                (PathCall::Match, true) => "@@",
                (PathCall::Exists, false) => "jsonb_path_exists",
                (PathCall::Match, false) => "jsonb_path_match",
                (PathCall::QueryArray, _) => "jsonb_path_query_array",
                (PathCall::QueryFirst, _) => "jsonb_path_query_first",
            },
        }
    }

    /// Whether a NULL argument makes the result NULL (the `*build*` functions take NULLs
    /// as JSON nulls).
    pub fn is_strict(&self) -> bool {
        !matches!(
            self,
            JsonFunc::BuildObject
                | JsonFunc::BuildArray
                | JsonFunc::JsonBuildObject
                | JsonFunc::JsonBuildArray
                | JsonFunc::SetLax
                | JsonFunc::Record { .. }
        )
    }
}

/// A resolved operator or call: the function, the type each argument is coerced to
/// (`None`: leave it) and the result type.
#[derive(Debug)]
pub struct Resolved {
    pub func: JsonFunc,
    pub arg_types: Vec<Option<DataType>>,
    pub result: DataType,
}

fn type_name(t: Option<DataType>) -> &'static str {
    t.map_or("unknown", |t| t.sql_name())
}

fn is_json(t: Option<DataType>) -> bool {
    matches!(t, Some(DataType::Json | DataType::Jsonb))
}

/// Resolves `left op right` for `op` one of `->`, `->>`, `#>`, `#>>`.
pub fn resolve_operator(
    op: &str,
    left: Option<DataType>,
    right: Option<DataType>,
) -> Result<Resolved> {
    let fail = || {
        let message = if left.is_none() && right.is_none() {
            format!("operator is not unique: unknown {op} unknown")
        } else {
            format!(
                "operator does not exist: {} {op} {}",
                type_name(left),
                type_name(right)
            )
        };
        let sqlstate = if left.is_none() && right.is_none() {
            "42725"
        } else {
            "42883"
        };
        Error::bind(sqlstate, message)
    };
    let text_path = DataType::Text.array_type()?;
    if !matches!(op, "->" | "->>" | "#>" | "#>>") {
        return resolve_jsonb_operator(op, left, right, text_path).ok_or_else(fail);
    }
    // An unknown left operand next to a typed right one is taken as jsonb, the type
    // PostgreSQL's operator resolution prefers (json is not preferred).
    let doc = match left {
        None if right.is_some() => DataType::Jsonb,
        Some(t) if is_json(Some(t)) => t,
        _ => return Err(fail()),
    };
    let (func, key) = match op {
        "->" | "->>" => {
            let key = match right {
                None => DataType::Text,
                Some(DataType::Int2 | DataType::Int4) => DataType::Int4,
                Some(t)
                    if t.without_modifier() == DataType::Text
                        || matches!(t, DataType::Varchar(_)) =>
                {
                    DataType::Text
                }
                Some(_) => return Err(fail()),
            };
            let func = if op == "->" {
                JsonFunc::Get
            } else {
                JsonFunc::GetText
            };
            (func, key)
        }
        "#>" | "#>>" => {
            match right {
                None => {}
                Some(t) if t == text_path => {}
                Some(t)
                    if t.element_type()
                        .is_some_and(|e| matches!(e, DataType::Varchar(_))) => {}
                Some(_) => return Err(fail()),
            }
            let func = if op == "#>" {
                JsonFunc::Path
            } else {
                JsonFunc::PathText
            };
            (func, text_path)
        }
        _ => return Err(fail()),
    };
    let result = match func {
        JsonFunc::Get | JsonFunc::Path => doc,
        _ => DataType::Text,
    };
    Ok(Resolved {
        func,
        arg_types: vec![Some(doc), Some(key)],
        result,
    })
}

fn is_text(t: DataType) -> bool {
    t.without_modifier() == DataType::Text || matches!(t, DataType::Varchar(_))
}

fn is_text_array(t: DataType) -> bool {
    t.element_type().is_some_and(is_text)
}

/// The jsonb-only operators: `@>`, `<@`, `?`, `?|`, `?&`, `||`, `-`, `#-`. An unknown
/// operand is read as jsonb on the document side and as the operator's key type on the
/// other (`text` for `-`, as PostgreSQL prefers the string category).
fn resolve_jsonb_operator(
    op: &str,
    left: Option<DataType>,
    right: Option<DataType>,
    text_path: DataType,
) -> Option<Resolved> {
    let jsonb = Some(DataType::Jsonb);
    let doc_ok = |t: Option<DataType>| t.is_none() || t == jsonb;
    let (func, key, result) = match op {
        "@>" | "<@" | "||" => {
            if !(doc_ok(left) && doc_ok(right)) || (left.is_none() && right.is_none()) {
                return None;
            }
            let func = match op {
                "@>" => JsonFunc::Contains,
                "<@" => JsonFunc::ContainedBy,
                _ => JsonFunc::Concat,
            };
            let result = if func == JsonFunc::Concat {
                DataType::Jsonb
            } else {
                DataType::Bool
            };
            (func, DataType::Jsonb, result)
        }
        "?" => {
            if !doc_ok(left) || !(right.is_none() || right.is_some_and(is_text)) {
                return None;
            }
            (JsonFunc::Exists, DataType::Text, DataType::Bool)
        }
        "?|" | "?&" => {
            if !doc_ok(left) || !(right.is_none() || right.is_some_and(is_text_array)) {
                return None;
            }
            let func = if op == "?|" {
                JsonFunc::ExistsAny
            } else {
                JsonFunc::ExistsAll
            };
            (func, text_path, DataType::Bool)
        }
        "-" => {
            if left != jsonb {
                return None;
            }
            let key = match right {
                None => DataType::Text,
                Some(DataType::Int2 | DataType::Int4) => DataType::Int4,
                Some(t) if is_text(t) => DataType::Text,
                Some(t) if is_text_array(t) => text_path,
                Some(_) => return None,
            };
            (JsonFunc::Delete, key, DataType::Jsonb)
        }
        "#-" => {
            if !doc_ok(left) || !(right.is_none() || right.is_some_and(is_text_array)) {
                return None;
            }
            (JsonFunc::DeletePath, text_path, DataType::Jsonb)
        }
        // The path must be an unknown literal (zqlite has no `jsonpath` type).
        "@?" | "@@" => {
            if !doc_ok(left) || right.is_some() {
                return None;
            }
            let call = if op == "@?" {
                PathCall::Exists
            } else {
                PathCall::Match
            };
            let func = JsonFunc::JsonPath {
                call,
                operator: true,
            };
            (func, DataType::Text, DataType::Bool)
        }
        _ => return None,
    };
    Some(Resolved {
        func,
        arg_types: vec![jsonb, Some(key)],
        result,
    })
}

/// Whether `left op right` is a jsonb operator rather than the same symbol on other
/// types: `||` with jsonb on one side and jsonb or an unknown literal on the other, `-`
/// with a jsonb (or json) left operand.
pub fn is_jsonb_operator(op: &str, left: Option<DataType>, right: Option<DataType>) -> bool {
    let jsonb = Some(DataType::Jsonb);
    match op {
        "||" => {
            (left == jsonb && (right.is_none() || right == jsonb))
                || (left.is_none() && right == jsonb)
        }
        // `json - x` does not exist: resolving it gives PostgreSQL's error.
        "-" => left == jsonb || left == Some(DataType::Json),
        _ => false,
    }
}

/// Whether `name` is one of this module's functions.
pub fn is_json_function(name: &str) -> bool {
    matches!(
        name,
        "jsonb_typeof"
            | "json_typeof"
            | "jsonb_build_object"
            | "jsonb_build_array"
            | "json_build_object"
            | "json_build_array"
            | "jsonb_set"
            | "jsonb_insert"
            | "jsonb_strip_nulls"
            | "json_strip_nulls"
            | "jsonb_array_length"
            | "json_array_length"
            | "jsonb_set_lax"
            | "jsonb_object"
            | "json_object"
            | "array_to_json"
            | "jsonb_pretty"
            | "to_jsonb"
            | "to_json"
            | "jsonb_path_exists"
            | "jsonb_path_match"
            | "jsonb_path_query_array"
            | "jsonb_path_query_first"
    )
}

/// Resolves a call of one of this module's functions.
pub fn resolve_function(name: &str, args: &[Option<DataType>]) -> Result<Resolved> {
    let fail = || {
        let names: Vec<&str> = args.iter().map(|t| type_name(*t)).collect();
        Error::bind(
            "42883",
            format!("function {name}({}) does not exist", names.join(", ")),
        )
    };
    match (name, args) {
        ("jsonb_typeof", [t]) if t.is_none() || *t == Some(DataType::Jsonb) => Ok(Resolved {
            func: JsonFunc::Typeof,
            arg_types: vec![Some(DataType::Jsonb)],
            result: DataType::Text,
        }),
        ("json_typeof", [t]) if t.is_none() || *t == Some(DataType::Json) => Ok(Resolved {
            func: JsonFunc::Typeof,
            arg_types: vec![Some(DataType::Json)],
            result: DataType::Text,
        }),
        ("jsonb_build_object" | "json_build_object", _) => {
            if !args.len().is_multiple_of(2) {
                return Err(Error::Runtime {
                    sqlstate: "22023",
                    message: "argument list must have even number of elements".into(),
                });
            }
            // Unknown-typed literals are text, as PostgreSQL's "any" arguments take them.
            let arg_types = args
                .iter()
                .map(|t| {
                    if t.is_none() {
                        Some(DataType::Text)
                    } else {
                        None
                    }
                })
                .collect();
            let (func, result) = if name == "jsonb_build_object" {
                (JsonFunc::BuildObject, DataType::Jsonb)
            } else {
                (JsonFunc::JsonBuildObject, DataType::Json)
            };
            Ok(Resolved {
                func,
                arg_types,
                result,
            })
        }
        ("jsonb_build_array" | "json_build_array", _) => {
            let arg_types = args
                .iter()
                .map(|t| t.is_none().then_some(DataType::Text))
                .collect();
            let (func, result) = if name == "jsonb_build_array" {
                (JsonFunc::BuildArray, DataType::Jsonb)
            } else {
                (JsonFunc::JsonBuildArray, DataType::Json)
            };
            Ok(Resolved {
                func,
                arg_types,
                result,
            })
        }
        ("to_jsonb" | "to_json", [t]) => {
            if t.is_none() {
                return Err(Error::bind(
                    "42804",
                    "could not determine polymorphic type because input has type unknown",
                ));
            }
            let (func, result) = if name == "to_jsonb" {
                (JsonFunc::ToJsonb, DataType::Jsonb)
            } else {
                (JsonFunc::ToJson, DataType::Json)
            };
            Ok(Resolved {
                func,
                arg_types: vec![None],
                result,
            })
        }
        ("jsonb_set" | "jsonb_insert", [doc, path, value, rest @ ..]) if rest.len() <= 1 => {
            let text_path = DataType::Text.array_type()?;
            let ok = |t: &Option<DataType>, want: DataType| t.is_none() || *t == Some(want);
            if !ok(doc, DataType::Jsonb)
                || !(path.is_none() || path.is_some_and(is_text_array))
                || !ok(value, DataType::Jsonb)
                || !rest.iter().all(|t| ok(t, DataType::Bool))
            {
                return Err(fail());
            }
            let mut arg_types = vec![
                Some(DataType::Jsonb),
                Some(text_path),
                Some(DataType::Jsonb),
            ];
            arg_types.extend(rest.iter().map(|_| Some(DataType::Bool)));
            let func = if name == "jsonb_set" {
                JsonFunc::Set
            } else {
                JsonFunc::Insert
            };
            Ok(Resolved {
                func,
                arg_types,
                result: DataType::Jsonb,
            })
        }
        ("json_strip_nulls" | "json_array_length", [t])
            if t.is_none() || *t == Some(DataType::Json) =>
        {
            let (func, result) = if name == "json_strip_nulls" {
                (JsonFunc::StripNulls, DataType::Json)
            } else {
                (JsonFunc::ArrayLength, DataType::Int4)
            };
            Ok(Resolved {
                func,
                arg_types: vec![Some(DataType::Json)],
                result,
            })
        }
        ("jsonb_set_lax", [doc, path, value, rest @ ..]) if rest.len() <= 2 => {
            let text_path = DataType::Text.array_type()?;
            let ok = |t: &Option<DataType>, want: DataType| t.is_none() || *t == Some(want);
            if !ok(doc, DataType::Jsonb)
                || !(path.is_none() || path.is_some_and(is_text_array))
                || !ok(value, DataType::Jsonb)
                || !rest.first().is_none_or(|t| ok(t, DataType::Bool))
                || !rest.get(1).is_none_or(|t| t.is_none_or(is_text))
            {
                return Err(fail());
            }
            let mut arg_types = vec![
                Some(DataType::Jsonb),
                Some(text_path),
                Some(DataType::Jsonb),
                Some(DataType::Bool),
                Some(DataType::Text),
            ];
            arg_types.truncate(args.len());
            Ok(Resolved {
                func: JsonFunc::SetLax,
                arg_types,
                result: DataType::Jsonb,
            })
        }
        ("jsonb_object" | "json_object", [_] | [_, _])
            if args.iter().all(|t| t.is_none_or(is_text_array)) =>
        {
            let jsonb = name == "jsonb_object";
            Ok(Resolved {
                func: JsonFunc::Object { jsonb },
                arg_types: vec![Some(DataType::Text.array_type()?); args.len()],
                result: if jsonb {
                    DataType::Jsonb
                } else {
                    DataType::Json
                },
            })
        }
        ("array_to_json", [array, rest @ ..])
            if rest.len() <= 1
                && array.is_some_and(|t| t.element_type().is_some())
                && rest.iter().all(|t| t.is_none_or(|t| t == DataType::Bool)) =>
        {
            let mut arg_types = vec![None];
            arg_types.extend(rest.iter().map(|_| Some(DataType::Bool)));
            Ok(Resolved {
                func: JsonFunc::ArrayToJson,
                arg_types,
                result: DataType::Json,
            })
        }
        ("jsonb_strip_nulls" | "jsonb_array_length" | "jsonb_pretty", [t])
            if t.is_none() || *t == Some(DataType::Jsonb) =>
        {
            let (func, result) = match name {
                "jsonb_strip_nulls" => (JsonFunc::StripNulls, DataType::Jsonb),
                "jsonb_array_length" => (JsonFunc::ArrayLength, DataType::Int4),
                _ => (JsonFunc::Pretty, DataType::Text),
            };
            Ok(Resolved {
                func,
                arg_types: vec![Some(DataType::Jsonb)],
                result,
            })
        }
        // The path must be an unknown literal: zqlite has no `jsonpath` type, and
        // PostgreSQL has no implicit cast from text to it.
        (
            "jsonb_path_exists"
            | "jsonb_path_match"
            | "jsonb_path_query_array"
            | "jsonb_path_query_first",
            [doc, None, rest @ ..],
        ) if rest.len() <= 2
            && (doc.is_none() || *doc == Some(DataType::Jsonb))
            && rest
                .first()
                .is_none_or(|t| t.is_none() || *t == Some(DataType::Jsonb))
            && rest
                .get(1)
                .is_none_or(|t| t.is_none() || *t == Some(DataType::Bool)) =>
        {
            let mut arg_types = vec![Some(DataType::Jsonb), Some(DataType::Text)];
            if !rest.is_empty() {
                arg_types.push(Some(DataType::Jsonb));
            }
            if rest.len() == 2 {
                arg_types.push(Some(DataType::Bool));
            }
            let (call, result) = match name {
                "jsonb_path_exists" => (PathCall::Exists, DataType::Bool),
                "jsonb_path_match" => (PathCall::Match, DataType::Bool),
                "jsonb_path_query_array" => (PathCall::QueryArray, DataType::Jsonb),
                _ => (PathCall::QueryFirst, DataType::Jsonb),
            };
            Ok(Resolved {
                func: JsonFunc::JsonPath {
                    call,
                    operator: false,
                },
                arg_types,
                result,
            })
        }
        _ => Err(fail()),
    }
}

/// Whether [`eval_binary`] evaluates `func` (the operators applied to every row of a scan:
/// `->`, `->>`, `@>`, `<@`), so the executor can lend it a row's document instead of cloning it.
pub fn is_binary_operator(func: JsonFunc) -> bool {
    matches!(
        func,
        JsonFunc::Get | JsonFunc::GetText | JsonFunc::Contains | JsonFunc::ContainedBy
    )
}

/// Evaluates one of the operators [`is_binary_operator`] accepts on borrowed operands.
pub fn eval_binary(func: JsonFunc, left: &Value, right: &Value) -> Result<Value> {
    if left.is_null() || right.is_null() {
        return Ok(Value::Null);
    }
    match func {
        JsonFunc::Get | JsonFunc::GetText => get(func, left, right),
        JsonFunc::Contains => Ok(Value::Bool(jsonb_ops::contains(
            jsonb_arg(left)?,
            jsonb_arg(right)?,
        ))),
        JsonFunc::ContainedBy => Ok(Value::Bool(jsonb_ops::contains(
            jsonb_arg(right)?,
            jsonb_arg(left)?,
        ))),
        _ => Err(crate::exec::internal("not a binary JSON operator")),
    }
}

/// `doc -> step` and `doc ->> step`.
fn get(func: JsonFunc, doc: &Value, step: &Value) -> Result<Value> {
    let step = match step {
        Value::Int4(i) => Step::Index(i64::from(*i)),
        Value::Int2(i) => Step::Index(i64::from(*i)),
        Value::Int8(i) => Step::Index(*i),
        Value::Text(key) => Step::Key(Cow::Borrowed(key)),
        other => Step::Key(Cow::Owned(text_of(other))),
    };
    let text = func == JsonFunc::GetText;
    match doc {
        Value::Jsonb(doc) => {
            let found = match (&step, doc) {
                (Step::Index(0 | -1), scalar) if !is_container(scalar) => Some(scalar),
                _ => jsonb_step(doc, &step),
            };
            Ok(jsonb_result(found, text))
        }
        Value::Json(doc) => Ok(json_result(json_step(doc, &step)?, text)),
        other => Err(not_json(other)),
    }
}

/// Evaluates a JSON function on evaluated arguments.
pub fn eval(func: JsonFunc, args: &[Value]) -> Result<Value> {
    if func.is_strict() && args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    match func {
        JsonFunc::Get | JsonFunc::GetText => get(func, &args[0], &args[1]),
        JsonFunc::Path | JsonFunc::PathText => {
            let Value::Array(path) = &args[1] else {
                return Err(crate::exec::internal("a JSON path that is not an array"));
            };
            let text = func == JsonFunc::PathText;
            if path.items().iter().any(Value::is_null) {
                return Ok(Value::Null);
            }
            let steps: Vec<String> = path.items().iter().map(text_of).collect();
            match &args[0] {
                Value::Jsonb(doc) => {
                    let mut at = Some(doc);
                    for s in &steps {
                        at = at.and_then(|d| jsonb_step(d, &path_step(d_is_array_jsonb(d), s)));
                    }
                    Ok(jsonb_result(at, text))
                }
                Value::Json(doc) => {
                    let mut at: Option<&str> = Some(doc.as_str());
                    for s in &steps {
                        let Some(d) = at else { break };
                        let is_array = d.trim_start().starts_with('[');
                        at = json_step(d, &path_step(is_array, s))?;
                    }
                    Ok(json_result(at, text))
                }
                other => Err(not_json(other)),
            }
        }
        JsonFunc::Typeof => {
            let name = match &args[0] {
                Value::Jsonb(doc) => jsonb_type(doc),
                Value::Json(doc) => json_type(doc),
                other => return Err(not_json(other)),
            };
            Ok(Value::Text(name.to_string()))
        }
        JsonFunc::BuildObject => json_build::build_object(args),
        JsonFunc::BuildArray => Ok(Value::Jsonb(Jsonb::Array(
            args.iter().map(to_jsonb).collect::<Result<_>>()?,
        ))),
        JsonFunc::JsonBuildObject => json_build::json_build_object(args),
        JsonFunc::JsonBuildArray => {
            let items = args.iter().map(to_json_text).collect::<Result<Vec<_>>>()?;
            Ok(Value::Json(format!("[{}]", items.join(", "))))
        }
        JsonFunc::ToJsonb => Ok(Value::Jsonb(to_jsonb(&args[0])?)),
        JsonFunc::StripNulls | JsonFunc::ArrayLength if matches!(args[0], Value::Json(_)) => {
            let Value::Json(doc) = &args[0] else {
                unreachable!("matched above")
            };
            if func == JsonFunc::StripNulls {
                Ok(Value::Json(crate::json_text::strip_nulls(doc)?))
            } else {
                crate::json_text::array_length(doc)
            }
        }
        JsonFunc::SetLax => set_lax(args),
        JsonFunc::Record { jsonb, pretty } => json_build::record(jsonb, pretty, args),
        JsonFunc::ArrayToJson => json_build::array_to_json(args),
        JsonFunc::Object { jsonb } => json_build::object(jsonb, args),
        JsonFunc::ToJson => Ok(Value::Json(to_json_text(&args[0])?)),
        _ => eval_jsonb(func, args),
    }
}

/// `jsonb_set_lax`: `jsonb_set` unless the new value is SQL NULL, which
/// `null_value_treatment` (default `use_json_null`) turns into a JSON null, a deletion of
/// the path, the target unchanged, or an error.
fn set_lax(args: &[Value]) -> Result<Value> {
    let invalid_treatment = || Error::Runtime {
        sqlstate: "22023",
        message: "null_value_treatment must be \"delete_key\", \"return_target\", \
                  \"use_json_null\", or \"raise_exception\""
            .into(),
    };
    if args[0].is_null() || args[1].is_null() || args.get(3).is_some_and(Value::is_null) {
        return Ok(Value::Null);
    }
    let treatment = match args.get(4) {
        None => "use_json_null".to_string(),
        Some(Value::Null) => return Err(invalid_treatment()),
        Some(t) => text_of(t),
    };
    let set_args = |value: Value| {
        let mut a = vec![args[0].clone(), args[1].clone(), value];
        a.extend(args.get(3).cloned());
        a
    };
    if !args[2].is_null() {
        return eval_jsonb(JsonFunc::Set, &set_args(args[2].clone()));
    }
    match treatment.as_str() {
        "raise_exception" => Err(Error::Runtime {
            sqlstate: "22004",
            message: "JSON value must not be null".into(),
        }),
        "use_json_null" => eval_jsonb(JsonFunc::Set, &set_args(Value::Jsonb(Jsonb::Null))),
        "delete_key" => eval_jsonb(JsonFunc::DeletePath, &args[..2]),
        "return_target" => Ok(args[0].clone()),
        _ => Err(invalid_treatment()),
    }
}

fn jsonb_arg(v: &Value) -> Result<&Jsonb> {
    match v {
        Value::Jsonb(doc) => Ok(doc),
        other => Err(not_json(other)),
    }
}

/// The items of a `text[]` argument (`None` for NULL elements).
pub(crate) fn text_items(v: &Value) -> Result<Vec<Option<String>>> {
    let Value::Array(a) = v else {
        return Err(crate::exec::internal(
            "a text[] argument that is not an array",
        ));
    };
    Ok(a.items()
        .iter()
        .map(|i| (!i.is_null()).then(|| text_of(i)))
        .collect())
}

/// The jsonb-only operators and functions (all strict: no NULL arguments here).
fn eval_jsonb(func: JsonFunc, args: &[Value]) -> Result<Value> {
    let doc = jsonb_arg(&args[0])?;
    let jsonb = |d: Jsonb| Ok(Value::Jsonb(d));
    match func {
        JsonFunc::Contains => Ok(Value::Bool(jsonb_ops::contains(doc, jsonb_arg(&args[1])?))),
        JsonFunc::ContainedBy => Ok(Value::Bool(jsonb_ops::contains(jsonb_arg(&args[1])?, doc))),
        JsonFunc::Exists => Ok(Value::Bool(jsonb_ops::exists(doc, &text_of(&args[1])))),
        JsonFunc::ExistsAny | JsonFunc::ExistsAll => {
            // NULL keys are skipped; `?&` of no keys is true, `?|` false.
            let keys: Vec<String> = text_items(&args[1])?.into_iter().flatten().collect();
            let mut hits = keys.iter().map(|k| jsonb_ops::exists(doc, k));
            Ok(Value::Bool(if func == JsonFunc::ExistsAny {
                hits.any(|h| h)
            } else {
                hits.all(|h| h)
            }))
        }
        JsonFunc::Concat => jsonb(jsonb_ops::concat(doc, jsonb_arg(&args[1])?)),
        JsonFunc::Delete => match &args[1] {
            Value::Int2(i) => jsonb(jsonb_ops::delete_index(doc, i64::from(*i))?),
            Value::Int4(i) => jsonb(jsonb_ops::delete_index(doc, i64::from(*i))?),
            Value::Array(_) => {
                let keys: Vec<String> = text_items(&args[1])?.into_iter().flatten().collect();
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                jsonb(jsonb_ops::delete_keys(doc, &keys)?)
            }
            key => jsonb(jsonb_ops::delete_key(doc, &text_of(key))?),
        },
        JsonFunc::DeletePath => {
            if !is_container(doc) {
                return Err(Error::Runtime {
                    sqlstate: "22023",
                    message: "cannot delete path in scalar".into(),
                });
            }
            let path = text_items(&args[1])?;
            if path.is_empty() || container_is_empty(doc) {
                return jsonb(doc.clone());
            }
            jsonb(jsonb_ops::set_path(doc, &path, None, PathOp::Delete)?)
        }
        JsonFunc::Set | JsonFunc::Insert => {
            if !is_container(doc) {
                return Err(Error::Runtime {
                    sqlstate: "22023",
                    message: "cannot set path in scalar".into(),
                });
            }
            let flag = args.get(3).and_then(Value::as_bool);
            let op = match (func, flag) {
                (JsonFunc::Set, Some(false)) => PathOp::Replace,
                (JsonFunc::Set, _) => PathOp::Create,
                (_, Some(true)) => PathOp::InsertAfter,
                _ => PathOp::InsertBefore,
            };
            let path = text_items(&args[1])?;
            if path.is_empty() || (op == PathOp::Replace && container_is_empty(doc)) {
                return jsonb(doc.clone());
            }
            let new = jsonb_arg(&args[2])?;
            jsonb(jsonb_ops::set_path(doc, &path, Some(new), op)?)
        }
        JsonFunc::StripNulls => jsonb(jsonb_ops::strip_nulls(doc)),
        JsonFunc::ArrayLength => match doc {
            Jsonb::Array(items) => Ok(Value::Int4(i32::try_from(items.len()).unwrap_or(i32::MAX))),
            Jsonb::Object(_) => Err(Error::Runtime {
                sqlstate: "22023",
                message: "cannot get array length of a non-array".into(),
            }),
            _ => Err(Error::Runtime {
                sqlstate: "22023",
                message: "cannot get array length of a scalar".into(),
            }),
        },
        JsonFunc::Pretty => Ok(Value::Text(jsonb_ops::pretty(doc))),
        JsonFunc::JsonPath { call, operator } => jsonpath::call(call, args, operator),
        other => Err(crate::exec::internal(&format!(
            "{} is not a jsonb operation",
            other.name()
        ))),
    }
}

fn container_is_empty(doc: &Jsonb) -> bool {
    matches!(doc, Jsonb::Array(a) if a.is_empty())
        || matches!(doc, Jsonb::Object(o) if o.is_empty())
}

fn not_json(v: &Value) -> Error {
    crate::exec::internal(&format!("a JSON operator applied to {v:?}"))
}

pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::BpChar(s) => s.trim_end_matches(' ').to_string(),
        other => other.to_string(),
    }
}

fn is_container(doc: &Jsonb) -> bool {
    matches!(doc, Jsonb::Array(_) | Jsonb::Object(_))
}

fn d_is_array_jsonb(doc: &Jsonb) -> bool {
    matches!(doc, Jsonb::Array(_))
}

/// One step into a document.
enum Step<'a> {
    Key(Cow<'a, str>),
    Index(i64),
}

/// A path element: an index where the document is an array (PostgreSQL reads it with
/// `strtol`: leading blanks and a sign allowed; anything else finds nothing), a key
/// otherwise.
fn path_step(is_array: bool, s: &str) -> Step<'_> {
    if !is_array {
        return Step::Key(Cow::Borrowed(s));
    }
    // Not a number: no element matches (an index that cannot exist).
    Step::Index(s.trim_start().parse::<i64>().unwrap_or(i64::MAX))
}

/// The array position of `index` among `len` elements (negative counts from the end).
fn array_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let i = if index < 0 { len + index } else { index };
    (0..len)
        .contains(&i)
        .then(|| usize::try_from(i).ok())
        .flatten()
}

fn jsonb_step<'a>(doc: &'a Jsonb, step: &Step<'_>) -> Option<&'a Jsonb> {
    match (doc, step) {
        (Jsonb::Object(pairs), Step::Key(k)) => pairs
            .iter()
            .find(|(key, _)| key == k.as_ref())
            .map(|(_, v)| v),
        (Jsonb::Array(items), Step::Index(i)) => array_index(*i, items.len()).map(|i| &items[i]),
        _ => None,
    }
}

fn jsonb_result(found: Option<&Jsonb>, text: bool) -> Value {
    match found {
        None => Value::Null,
        Some(Jsonb::Null) if text => Value::Null,
        Some(Jsonb::String(s)) if text => Value::Text(s.clone()),
        Some(doc) if text => Value::Text(doc.to_string()),
        Some(doc) => Value::Jsonb(doc.clone()),
    }
}

fn json_result(found: Option<&str>, text: bool) -> Value {
    match found {
        None => Value::Null,
        Some(raw) if !text => Value::Json(raw.to_string()),
        Some(raw) => match raw.as_bytes().first() {
            Some(b'n') => Value::Null,
            // Valid JSON string text: serde_json unescapes it.
            Some(b'"') => match Jsonb::parse(raw) {
                Ok(Jsonb::String(s)) => Value::Text(s),
                _ => Value::Text(raw.to_string()),
            },
            _ => Value::Text(raw.to_string()),
        },
    }
}

/// `jsonb_typeof`'s name of a value's kind (also jsonpath's `.type()`).
pub(crate) fn jsonb_type(doc: &Jsonb) -> &'static str {
    match doc {
        Jsonb::Null => "null",
        Jsonb::Bool(_) => "boolean",
        Jsonb::Number(_) => "number",
        Jsonb::String(_) => "string",
        Jsonb::Array(_) => "array",
        Jsonb::Object(_) => "object",
    }
}

fn json_type(doc: &str) -> &'static str {
    match doc.trim_start().as_bytes().first() {
        Some(b'{') => "object",
        Some(b'[') => "array",
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => "null",
        _ => "number",
    }
}

/// Scans valid JSON text (a `json` value, validated on input) without building a tree.
pub(crate) struct Scanner<'a> {
    pub(crate) text: &'a str,
    pub(crate) at: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(b) = self.text.as_bytes().get(self.at) {
            if b.is_ascii_whitespace() {
                self.at += 1;
            } else {
                return Some(*b);
            }
        }
        None
    }

    pub(crate) fn expect(&mut self, b: u8) -> Result<()> {
        if self.peek() == Some(b) {
            self.at += 1;
            Ok(())
        } else {
            Err(invalid_json())
        }
    }

    /// Skips one value and returns its text as written.
    pub(crate) fn value(&mut self) -> Result<&'a str> {
        let bytes = self.text.as_bytes();
        self.peek().ok_or_else(invalid_json)?;
        let start = self.at;
        let mut depth = 0usize;
        let mut in_string = false;
        while let Some(&b) = bytes.get(self.at) {
            self.at += 1;
            if in_string {
                match b {
                    b'\\' => self.at += 1,
                    b'"' => {
                        in_string = false;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                // A scalar ends where its container closes.
                b'}' | b']' if depth == 0 => {
                    self.at -= 1;
                    break;
                }
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                b',' | b':' if depth == 0 => {
                    self.at -= 1;
                    break;
                }
                b if depth == 0 && b.is_ascii_whitespace() => {
                    self.at -= 1;
                    break;
                }
                _ => {}
            }
        }
        let end = self.at.min(bytes.len());
        Ok(self.text[start..end].trim_end())
    }
}

pub(crate) fn invalid_json() -> Error {
    Error::from(zqlite_projections::value::ValueError::InvalidJson {
        detail: "malformed json value".into(),
    })
}

/// One step into `json` text: the sub-document's text as written, if found.
fn json_step<'a>(doc: &'a str, step: &Step<'_>) -> Result<Option<&'a str>> {
    let mut s = Scanner { text: doc, at: 0 };
    match (s.peek(), step) {
        (Some(b'{'), Step::Key(key)) => {
            s.at += 1;
            let mut found = None;
            if s.peek() == Some(b'}') {
                return Ok(None);
            }
            loop {
                let raw_key = s.value()?;
                let Jsonb::String(name) = Jsonb::parse(raw_key)? else {
                    return Err(invalid_json());
                };
                s.expect(b':')?;
                let value = s.value()?;
                if name == *key {
                    // The last of duplicate keys wins, as in PostgreSQL.
                    found = Some(value);
                }
                match s.peek() {
                    Some(b',') => s.at += 1,
                    _ => return Ok(found),
                }
            }
        }
        (Some(b'['), Step::Index(index)) => {
            s.at += 1;
            let mut items = Vec::new();
            if s.peek() != Some(b']') {
                loop {
                    items.push(s.value()?);
                    match s.peek() {
                        Some(b',') => s.at += 1,
                        _ => break,
                    }
                }
            }
            Ok(array_index(*index, items.len()).map(|i| items[i]))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_build::iso_8601;

    fn jb(s: &str) -> Value {
        Value::Jsonb(Jsonb::parse(s).unwrap())
    }

    fn js(s: &str) -> Value {
        Value::Json(s.to_string())
    }

    fn t(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    fn path(items: &[&str]) -> Value {
        let items = items.iter().map(|s| t(s)).collect();
        Value::Array(std::sync::Arc::new(zqlite_projections::value::Array::new(
            DataType::Text,
            items,
        )))
    }

    fn show(v: Value) -> String {
        match v {
            Value::Null => "NULL".into(),
            other => other.to_string(),
        }
    }

    // Expected values from PostgreSQL 15.
    #[test]
    fn arrow_operators_on_jsonb() {
        let doc = jb(r#"{"a": {"b": 1}, "c": [1, "x", null], "s": "x\ny", "n": null}"#);
        let get = |k: Value| show(eval(JsonFunc::Get, &[doc.clone(), k]).unwrap());
        let text = |k: Value| show(eval(JsonFunc::GetText, &[doc.clone(), k]).unwrap());
        assert_eq!(get(t("a")), r#"{"b": 1}"#);
        assert_eq!(text(t("a")), r#"{"b": 1}"#);
        assert_eq!(text(t("s")), "x\ny");
        assert_eq!(get(t("s")), r#""x\ny""#);
        assert_eq!(get(t("n")), "null");
        assert_eq!(text(t("n")), "NULL");
        assert_eq!(get(t("missing")), "NULL");
        assert_eq!(get(Value::Int4(0)), "NULL", "an index on an object");
        assert_eq!(get(Value::Null), "NULL");
        let arr = jb("[1, 2, 3]");
        let at = |i: i32| show(eval(JsonFunc::Get, &[arr.clone(), Value::Int4(i)]).unwrap());
        assert_eq!(
            (at(0), at(-1), at(3), at(-4)),
            ("1".into(), "3".into(), "NULL".into(), "NULL".into())
        );
        // Raw scalars are one-element arrays to `->`.
        assert_eq!(
            show(eval(JsonFunc::GetText, &[jb(r#""s""#), Value::Int4(0)]).unwrap()),
            "s"
        );
        assert_eq!(
            show(eval(JsonFunc::Get, &[jb("5"), Value::Int4(1)]).unwrap()),
            "NULL"
        );
    }

    #[test]
    fn path_operators() {
        let doc = jb(r#"{"a": [1, [2, 3]], "b": {"c": "d"}}"#);
        let p = |f, items: &[&str]| show(eval(f, &[doc.clone(), path(items)]).unwrap());
        assert_eq!(p(JsonFunc::Path, &["a", "1", "0"]), "2");
        assert_eq!(p(JsonFunc::Path, &["a", "-1"]), "[2, 3]");
        assert_eq!(p(JsonFunc::Path, &["a", " +1"]), "[2, 3]");
        assert_eq!(p(JsonFunc::Path, &["a", "x"]), "NULL");
        assert_eq!(p(JsonFunc::PathText, &["b", "c"]), "d");
        assert_eq!(p(JsonFunc::PathText, &["b", "c", "e"]), "NULL");
        assert_eq!(p(JsonFunc::PathText, &[]), doc.to_string());
        assert_eq!(
            show(eval(JsonFunc::Path, &[jb("5"), path(&["0"])]).unwrap()),
            "NULL"
        );
    }

    #[test]
    fn json_keeps_its_text() {
        let doc = js(r#"{"a": {"c":1, "b":[ 2 ]}, "a" : 5, "s": "x\u0041", "l": [1, "x" ,null]}"#);
        let get = |f, k: &str| show(eval(f, &[doc.clone(), t(k)]).unwrap());
        assert_eq!(get(JsonFunc::Get, "a"), "5", "the last duplicate wins");
        assert_eq!(get(JsonFunc::Get, "s"), r#""x\u0041""#);
        assert_eq!(get(JsonFunc::GetText, "s"), "xA");
        assert_eq!(get(JsonFunc::Get, "l"), r#"[1, "x" ,null]"#);
        let l = eval(JsonFunc::Get, &[doc.clone(), t("l")]).unwrap();
        assert_eq!(
            show(eval(JsonFunc::Get, &[l.clone(), Value::Int4(1)]).unwrap()),
            r#""x""#
        );
        assert_eq!(
            show(eval(JsonFunc::GetText, &[l.clone(), Value::Int4(2)]).unwrap()),
            "NULL"
        );
        assert_eq!(
            show(eval(JsonFunc::Get, &[l, Value::Int4(-1)]).unwrap()),
            "null"
        );
        let nested = js(r#"{"a": {"c":1, "b":[ 2 ]}}"#);
        assert_eq!(
            show(eval(JsonFunc::GetText, &[nested.clone(), t("a")]).unwrap()),
            r#"{"c":1, "b":[ 2 ]}"#
        );
        assert_eq!(
            show(eval(JsonFunc::PathText, &[nested, path(&["a", "b", "0"])]).unwrap()),
            "2"
        );
        assert_eq!(
            show(eval(JsonFunc::GetText, &[js(r#""x""#), Value::Int4(0)]).unwrap()),
            "NULL"
        );
    }

    #[test]
    fn typeof_and_build_object() {
        for (doc, ty) in [
            ("1", "number"),
            ("null", "null"),
            (r#""x""#, "string"),
            ("[]", "array"),
            ("{}", "object"),
            ("true", "boolean"),
        ] {
            assert_eq!(show(eval(JsonFunc::Typeof, &[jb(doc)]).unwrap()), ty);
            assert_eq!(show(eval(JsonFunc::Typeof, &[js(doc)]).unwrap()), ty);
        }
        let args = [
            t("b"),
            t("x"),
            t("a"),
            Value::Int4(1),
            t("c"),
            Value::Null,
            t("e"),
            jb(r#"{"x": 1}"#),
        ];
        assert_eq!(
            show(eval(JsonFunc::BuildObject, &args).unwrap()),
            r#"{"a": 1, "b": "x", "c": null, "e": {"x": 1}}"#
        );
        assert_eq!(show(eval(JsonFunc::BuildObject, &[]).unwrap()), "{}");
        // SELECT jsonb_build_object(NULL, 1);  ERROR:  22023: argument 1: key must not be null
        let e = eval(JsonFunc::BuildObject, &[Value::Null, Value::Int4(1)]).unwrap_err();
        assert_eq!(
            (e.sqlstate(), e.to_string().as_str()),
            ("22023", "argument 1: key must not be null")
        );
        assert_eq!(
            iso_8601("2026-01-02 03:04:05+00"),
            "2026-01-02T03:04:05+00:00"
        );
        assert_eq!(
            iso_8601("2026-01-02 03:04:05.5+05:30"),
            "2026-01-02T03:04:05.5+05:30"
        );
    }

    #[test]
    fn jsonb_operators_resolve_like_postgres() {
        let jsonb = Some(DataType::Jsonb);
        let text_array = Some(DataType::Text.array_type().unwrap());
        // SELECT '{"a": 1}' ? 'a';  f/t: an unknown document is jsonb.
        let r = resolve_operator("?", None, None).unwrap();
        assert_eq!((r.func, r.result), (JsonFunc::Exists, DataType::Bool));
        // jsonb - 'a' deletes a key (text is preferred); jsonb - 1 an index.
        let r = resolve_operator("-", jsonb, None).unwrap();
        assert_eq!(r.arg_types[1], Some(DataType::Text));
        let r = resolve_operator("-", jsonb, Some(DataType::Int2)).unwrap();
        assert_eq!(r.arg_types[1], Some(DataType::Int4));
        let r = resolve_operator("-", jsonb, text_array).unwrap();
        assert_eq!(r.arg_types[1], text_array);
        // SELECT '[1]'::jsonb - 1::bigint;  ERROR:  operator does not exist: jsonb - bigint
        let e = resolve_operator("-", jsonb, Some(DataType::Int8)).unwrap_err();
        assert_eq!(e.to_string(), "operator does not exist: jsonb - bigint");
        // SELECT '{}' @> '{}';  ERROR:  operator is not unique: unknown @> unknown
        let e = resolve_operator("@>", None, None).unwrap_err();
        assert_eq!(e.sqlstate(), "42725");
        let e = resolve_operator("@>", Some(DataType::Json), None).unwrap_err();
        assert_eq!(e.to_string(), "operator does not exist: json @> unknown");
        assert!(is_jsonb_operator("||", jsonb, None));
        assert!(is_jsonb_operator("||", None, jsonb));
        assert!(!is_jsonb_operator("||", jsonb, Some(DataType::Text)));
        assert!(!is_jsonb_operator("||", Some(DataType::Json), None));
    }

    #[test]
    fn jsonb_operations_evaluate() {
        let keys = |items: &[&str]| path(items);
        let run = |f, args: &[Value]| show(eval(f, args).unwrap());
        assert_eq!(
            run(JsonFunc::Delete, &[jb(r#"{"a": 1, "b": 2}"#), t("a")]),
            r#"{"b": 2}"#
        );
        assert_eq!(
            run(JsonFunc::Delete, &[jb("[1, 2]"), Value::Int4(0)]),
            "[2]"
        );
        assert_eq!(
            run(
                JsonFunc::Delete,
                &[jb(r#"{"a": 1, "b": 2}"#), keys(&["a", "b"])]
            ),
            "{}"
        );
        assert_eq!(
            run(JsonFunc::ExistsAll, &[jb(r#"{"a": 1}"#), keys(&[])]),
            "t"
        );
        assert_eq!(
            run(JsonFunc::ExistsAny, &[jb(r#"{"a": 1}"#), keys(&[])]),
            "f"
        );
        assert_eq!(run(JsonFunc::Contains, &[Value::Null, jb("{}")]), "NULL");
        assert_eq!(
            run(JsonFunc::BuildArray, &[Value::Null, Value::Int4(1)]),
            "[null, 1]"
        );
        assert_eq!(
            run(
                JsonFunc::JsonBuildObject,
                &[t("a"), Value::Int4(1), t("a"), js("[1,2]")]
            ),
            r#"{"a" : 1, "a" : [1,2]}"#
        );
        assert_eq!(run(JsonFunc::ToJson, &[t("a\"b")]), r#""a\"b""#);
        assert_eq!(run(JsonFunc::ArrayLength, &[jb("[1, [2]]")]), "2");
        assert_eq!(
            run(
                JsonFunc::Set,
                &[jb("{}"), keys(&["a"]), jb("1"), Value::Bool(false)]
            ),
            "{}"
        );
        assert_eq!(
            run(
                JsonFunc::JsonPath {
                    call: PathCall::QueryFirst,
                    operator: false
                },
                &[jb(r#"{"a": [5]}"#), t("$.a[0]")]
            ),
            "5"
        );
        let e = eval(JsonFunc::DeletePath, &[jb("1"), keys(&["a"])]).unwrap_err();
        assert_eq!(e.to_string(), "cannot delete path in scalar");
    }

    // Expected values from PostgreSQL 15.
    #[test]
    fn set_lax_object_and_records() {
        let run = |f, args: &[Value]| show(eval(f, args).unwrap());
        let doc = jb(r#"{"a": 1}"#);
        let set_lax = |rest: &[Value]| {
            let mut args = vec![doc.clone(), path(&["a"]), Value::Null];
            args.extend_from_slice(rest);
            eval(JsonFunc::SetLax, &args)
        };
        assert_eq!(show(set_lax(&[]).unwrap()), r#"{"a": null}"#);
        let treat = |s: &str| [Value::Bool(true), t(s)];
        assert_eq!(show(set_lax(&treat("delete_key")).unwrap()), "{}");
        assert_eq!(
            show(set_lax(&treat("return_target")).unwrap()),
            r#"{"a": 1}"#
        );
        assert_eq!(
            set_lax(&treat("raise_exception")).unwrap_err().sqlstate(),
            "22004"
        );
        assert_eq!(set_lax(&treat("bogus")).unwrap_err().sqlstate(), "22023");
        assert_eq!(
            set_lax(&[Value::Bool(true), Value::Null])
                .unwrap_err()
                .sqlstate(),
            "22023"
        );
        assert_eq!(
            run(
                JsonFunc::SetLax,
                &[
                    doc.clone(),
                    path(&["b"]),
                    jb("2"),
                    Value::Bool(true),
                    t("bogus")
                ]
            ),
            r#"{"a": 1, "b": 2}"#
        );
        let object = |jsonb, args: &[Value]| eval(JsonFunc::Object { jsonb }, args);
        assert_eq!(
            show(object(true, &[path(&["b", "1", "a", "2"])]).unwrap()),
            r#"{"a": "2", "b": "1"}"#
        );
        assert_eq!(
            show(object(false, &[path(&["b", "a"]), path(&["1", "2"])]).unwrap()),
            r#"{"b" : "1", "a" : "2"}"#
        );
        assert_eq!(
            object(true, &[path(&["a"])]).unwrap_err().sqlstate(),
            "2202E"
        );
        assert_eq!(
            object(true, &[path(&["a"]), path(&["1", "2"])])
                .unwrap_err()
                .sqlstate(),
            "2202E"
        );
        let record = [t("id"), Value::Int4(1), t("B"), t("x"), t("c"), Value::Null];
        let rec = |jsonb, pretty| JsonFunc::Record { jsonb, pretty };
        assert_eq!(
            run(rec(false, false), &record),
            r#"{"id":1,"B":"x","c":null}"#
        );
        assert_eq!(
            run(rec(false, true), &record),
            "{\"id\":1,\n \"B\":\"x\",\n \"c\":null}"
        );
        assert_eq!(
            run(rec(true, false), &record),
            r#"{"B": "x", "c": null, "id": 1}"#
        );
        assert_eq!(
            run(
                JsonFunc::ArrayToJson,
                &[path(&["a", "b"]), Value::Bool(true)]
            ),
            "[\"a\",\n \"b\"]"
        );
    }

    #[test]
    fn operator_types_resolve_like_postgres() {
        let r = resolve_operator("->>", Some(DataType::Jsonb), None).unwrap();
        assert_eq!((r.func, r.result), (JsonFunc::GetText, DataType::Text));
        let r = resolve_operator("->", Some(DataType::Json), Some(DataType::Int2)).unwrap();
        assert_eq!(r.result, DataType::Json);
        let e = resolve_operator("->", Some(DataType::Jsonb), Some(DataType::Int8)).unwrap_err();
        assert_eq!(e.sqlstate(), "42883");
        let e = resolve_operator("->>", Some(DataType::Int4), None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "operator does not exist: integer ->> unknown"
        );
        let e = resolve_operator("->>", None, None).unwrap_err();
        assert_eq!(e.sqlstate(), "42725");
    }
}
