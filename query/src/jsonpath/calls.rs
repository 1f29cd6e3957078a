//! The SQL functions and operators over paths, on evaluated arguments `(target, path
//! [, vars [, silent]])`: `jsonb_path_exists` / `@?`, `jsonb_path_match` / `@@`,
//! `jsonb_path_query_array`, `jsonb_path_query_first` and the rows of `jsonb_path_query`.
//! The operators are the functions with `silent` true. NULL arguments are handled by the
//! caller (all are strict).

use zqlite_projections::value::{Jsonb, Value};

use crate::error::{Error, Result};

/// A scalar path function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PathCall {
    Exists,
    Match,
    QueryArray,
    QueryFirst,
}

fn text(v: &Value) -> Result<&str> {
    match v {
        Value::Text(s) => Ok(s),
        other => Err(crate::exec::internal(&format!(
            "a jsonpath argument that is not text: {other:?}"
        ))),
    }
}

fn jsonb(v: &Value) -> Result<&Jsonb> {
    match v {
        Value::Jsonb(j) => Ok(j),
        other => Err(crate::exec::internal(&format!(
            "a jsonpath target that is not jsonb: {other:?}"
        ))),
    }
}

/// Runs the path of `args`; `None` when `silent` suppressed an error.
fn run(args: &[Value], silent: bool) -> Result<(Option<Vec<Jsonb>>, bool)> {
    let path = super::parse(text(&args[1])?)?;
    let vars = args.get(2).map(jsonb).transpose()?;
    let silent = silent || args.get(3).and_then(Value::as_bool).unwrap_or(false);
    Ok((super::query(&path, jsonb(&args[0])?, vars, silent)?, silent))
}

/// Evaluates a scalar path function; `silent` is the operators' fixed `true`.
pub fn call(kind: PathCall, args: &[Value], silent: bool) -> Result<Value> {
    let (found, silent) = run(args, silent)?;
    Ok(match (kind, found) {
        (PathCall::Exists, Some(items)) => Value::Bool(!items.is_empty()),
        (PathCall::QueryArray, items) => Value::Jsonb(Jsonb::Array(items.unwrap_or_default())),
        (PathCall::QueryFirst, items) => items
            .and_then(|i| i.into_iter().next())
            .map_or(Value::Null, Value::Jsonb),
        (PathCall::Match, Some(items)) => match items.as_slice() {
            [Jsonb::Bool(b)] => Value::Bool(*b),
            [Jsonb::Null] => Value::Null,
            _ if silent => Value::Null,
            _ => {
                return Err(Error::Runtime {
                    sqlstate: "22038",
                    message: "single boolean result is expected".into(),
                });
            }
        },
        (PathCall::Exists | PathCall::Match, None) => Value::Null,
    })
}

/// The rows of `jsonb_path_query`.
pub fn rows(args: &[Value]) -> Result<Vec<Jsonb>> {
    Ok(run(args, false)?.0.unwrap_or_default())
}
