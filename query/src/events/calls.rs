//! Write functions: table functions that change the database (`zq_append`,
//! `zq_create_projection`, `zq_rebuild_projection`, `zq_drop_projection`).
//!
//! A query whose FROM clause is exactly one write function call (`SELECT ... FROM
//! zq_append(...)`, with any select list, WHERE, ORDER BY) is a write statement: the
//! session runs it on its write path ([`run`]), which evaluates the arguments, makes the
//! change on the transaction, and then runs the query with the function's rows being the
//! results of that change. The rows are handed over in a thread-local slot for the
//! duration of that one query.
//!
//! Invariants:
//! - A write function changes the database once per statement, whatever the query around
//!   it does with its rows.
//! - Read anywhere else (a join, a subquery, EXPLAIN) a write function is an error (0A000),
//!   never a silent no-op.

use std::cell::RefCell;

use sqlparser::ast;
use zqlite_projections::value::{DataType, TEXT_ARRAY, Value};
use zqlite_projections::{AppendResult, ProjectionProgress, StreamAppend, Transaction};

use super::{append, parse_events, parse_expected, projection};
use crate::bind::expr::coerce_to;
use crate::bind::{Binder, qualified_name};
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::optimizer::optimize;
use crate::result::{Column, QueryResult};

/// One of the write functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteCall {
    Append,
    CreateProjection,
    RebuildProjection,
    DropProjection,
}

impl WriteCall {
    pub(crate) fn name(self) -> &'static str {
        match self {
            WriteCall::Append => "zq_append",
            WriteCall::CreateProjection => "zq_create_projection",
            WriteCall::RebuildProjection => "zq_rebuild_projection",
            WriteCall::DropProjection => "zq_drop_projection",
        }
    }

    fn from_name(name: &str) -> Option<WriteCall> {
        [
            WriteCall::Append,
            WriteCall::CreateProjection,
            WriteCall::RebuildProjection,
            WriteCall::DropProjection,
        ]
        .into_iter()
        .find(|c| c.name() == name)
    }

    fn arg_types(self) -> &'static [DataType] {
        match self {
            WriteCall::Append => &[DataType::Text, DataType::Text, DataType::Jsonb],
            WriteCall::CreateProjection => &[DataType::Text, TEXT_ARRAY, DataType::Text],
            WriteCall::RebuildProjection | WriteCall::DropProjection => &[DataType::Text],
        }
    }
}

thread_local! {
    static RESULTS: RefCell<Option<(WriteCall, Vec<Vec<Value>>)>> = const { RefCell::new(None) };
}

/// The rows of the write function `call` for the statement running on this thread.
pub(crate) fn results_of(call: WriteCall) -> Result<Vec<Vec<Value>>> {
    RESULTS.with(|slot| match &*slot.borrow() {
        Some((running, rows)) if *running == call => Ok(rows.clone()),
        _ => Err(Error::Runtime {
            sqlstate: "0A000",
            message: format!(
                "{name} writes, so it must be the only item of FROM: SELECT * FROM {name}(...)",
                name = call.name()
            ),
        }),
    })
}

fn with_results<R>(call: WriteCall, rows: Vec<Vec<Value>>, f: impl FnOnce() -> R) -> R {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            RESULTS.with(|slot| *slot.borrow_mut() = None);
        }
    }
    RESULTS.with(|slot| *slot.borrow_mut() = Some((call, rows)));
    let _clear = Clear;
    f()
}

/// The write function a query calls, when its FROM clause is exactly one such call.
pub(crate) fn write_call_of(q: &ast::Query) -> Option<(WriteCall, &[ast::FunctionArg])> {
    if q.with.is_some() {
        return None;
    }
    let ast::SetExpr::Select(select) = q.body.as_ref() else {
        return None;
    };
    let [from] = select.from.as_slice() else {
        return None;
    };
    if !from.joins.is_empty() {
        return None;
    }
    let ast::TableFactor::Table {
        name,
        args: Some(args),
        ..
    } = &from.relation
    else {
        return None;
    };
    let (schema, object) = qualified_name(name).ok()?;
    if schema.as_deref().is_some_and(|s| s != "zq") {
        return None;
    }
    WriteCall::from_name(&object).map(|call| (call, args.args.as_slice()))
}

fn eval_args(
    txn: &Transaction,
    call: WriteCall,
    args: &[ast::FunctionArg],
    params: &[Value],
) -> Result<Vec<Value>> {
    let types = call.arg_types();
    if args.len() != types.len() {
        return Err(Error::bind(
            "42883",
            format!(
                "function {} takes {} arguments, not {}",
                call.name(),
                types.len(),
                args.len()
            ),
        ));
    }
    let state = txn.state();
    args.iter()
        .zip(types)
        .map(|(arg, ty)| {
            let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg else {
                return Err(Error::unsupported(format!(
                    "argument {arg} of {}",
                    call.name()
                )));
            };
            let mut b = Binder::new(state, params);
            b.scope();
            let (bound, from) = b.expr(e)?;
            let bound = coerce_to(bound, from, Some(*ty))?;
            Exec::new(state, params).eval(&bound, &[])
        })
        .collect()
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::Text(s) => Some(s),
        _ => None,
    }
}

fn required<'v>(call: WriteCall, what: &str, v: &'v Value) -> Result<&'v Value> {
    if v.is_null() {
        return Err(Error::Runtime {
            sqlstate: "22004",
            message: format!("{} needs a {what}, not NULL", call.name()),
        });
    }
    Ok(v)
}

fn int8(n: u64) -> Value {
    Value::Int8(i64::try_from(n).unwrap_or(i64::MAX))
}

fn progress_row(name: &str, p: ProjectionProgress) -> Vec<Value> {
    vec![
        Value::Text(name.to_string()),
        p.last_position.map_or(Value::Null, int8),
        int8(p.events_applied),
    ]
}

/// Makes the change `call` asks for and returns the function's rows.
fn change(txn: &mut Transaction, call: WriteCall, args: &[Value]) -> Result<Vec<Vec<Value>>> {
    match call {
        WriteCall::Append => {
            let stream = text(required(call, "stream name", &args[0])?).unwrap_or_default();
            if stream.is_empty() {
                return Err(Error::Runtime {
                    sqlstate: "22023",
                    message: "zq_append needs a non-empty stream name".into(),
                });
            }
            let expected = parse_expected(text(&args[1]))?;
            let Value::Jsonb(doc) = required(call, "jsonb array of events", &args[2])? else {
                return Err(crate::exec::internal("zq_append's events are not jsonb"));
            };
            let events = parse_events(doc)?;
            let mut results = append(
                txn,
                vec![StreamAppend {
                    stream: stream.to_string(),
                    expected,
                    events,
                }],
            )?;
            let r: AppendResult = results
                .pop()
                .flatten()
                .ok_or_else(|| crate::exec::internal("an append of events had no result"))?;
            Ok(vec![vec![
                Value::Text(stream.to_string()),
                int8(r.first_version),
                int8(r.last_version),
                int8(r.first_position),
                int8(r.last_position),
            ]])
        }
        WriteCall::CreateProjection => {
            let name = text(required(call, "projection name", &args[0])?).unwrap_or_default();
            let Value::Array(types) = required(call, "text[] of event types", &args[1])? else {
                return Err(crate::exec::internal("event types are not an array"));
            };
            let types = types
                .items()
                .iter()
                .map(|t| text(t).map(str::to_string).unwrap_or_default())
                .collect();
            let sql = text(required(call, "SQL text", &args[2])?).unwrap_or_default();
            let progress = projection::create(txn, name, types, sql)?;
            Ok(vec![progress_row(name, progress)])
        }
        WriteCall::RebuildProjection => {
            let name = text(required(call, "projection name", &args[0])?).unwrap_or_default();
            let progress = projection::rebuild(txn, name)?;
            Ok(vec![progress_row(name, progress)])
        }
        WriteCall::DropProjection => {
            let name = text(required(call, "projection name", &args[0])?).unwrap_or_default();
            projection::drop_projection(txn, name)?;
            Ok(vec![vec![Value::Text(name.to_string())]])
        }
    }
}

/// Runs a query whose FROM is one write function call (see the module documentation).
pub(crate) fn run(txn: &mut Transaction, q: &ast::Query, params: &[Value]) -> Result<QueryResult> {
    let Some((call, args)) = write_call_of(q) else {
        return Err(crate::exec::internal("not a write function call"));
    };
    let args = eval_args(txn, call, args, params)?;
    let rows = change(txn, call, &args)?;
    let state = txn.state();
    with_results(call, rows, || {
        let bound = Binder::new(state, params).query(q)?;
        let plan = optimize(bound.plan, state.catalog())?;
        let rows = Exec::new(state, params).run(&plan)?;
        let columns = bound
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                data_type: c.ty.unwrap_or(DataType::Text),
            })
            .collect();
        Ok(QueryResult::Rows { columns, rows })
    })
}
