//! `POST /v1/sql`: SQL through a fresh [`zqlite_query::Session`] (autocommit, like one psql
//! `-c`), with JSON parameters and results. Errors are 400 with the SQLSTATE as `code`.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use zqlite_query::{QueryResult, Value};

use super::error::ApiError;
use super::extract::JsonBody;
use super::state::{AppState, Who};

#[derive(Debug, Deserialize)]
pub struct SqlBody {
    pub sql: String,
    #[serde(default)]
    pub params: Vec<JsonValue>,
}

/// A JSON parameter as a SQL value: null, boolean, int8 or float8, text; arrays and objects
/// as json.
fn param(value: &JsonValue) -> Value {
    match value {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(*b),
        JsonValue::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Int8(i),
            (None, Some(f)) => Value::Float8(f),
            _ => Value::Text(n.to_string()),
        },
        JsonValue::String(s) => Value::Text(s.clone()),
        other => Value::Json(other.to_string()),
    }
}

/// A SQL value as JSON: numbers and booleans as JSON values, JSON as itself, the rest as
/// text (PostgreSQL's output format).
fn json_value(value: &Value) -> JsonValue {
    match value {
        Value::Null => JsonValue::Null,
        Value::Bool(b) => JsonValue::Bool(*b),
        Value::Int2(v) => (*v).into(),
        Value::Int4(v) => (*v).into(),
        Value::Int8(v) => (*v).into(),
        Value::Float8(v) if v.is_finite() => (*v).into(),
        Value::Float4(v) if v.is_finite() => f64::from(*v).into(),
        Value::Json(text) => serde_json::from_str(text).unwrap_or(JsonValue::String(text.clone())),
        Value::Jsonb(_) => serde_json::from_str(&value.to_string()).unwrap_or(JsonValue::Null),
        Value::Array(a) => JsonValue::Array(a.items().iter().map(json_value).collect()),
        other => JsonValue::String(other.to_string()),
    }
}

fn result_json(result: &QueryResult) -> JsonValue {
    let columns: Vec<JsonValue> = result
        .columns()
        .iter()
        .map(|c| json!({"name": c.name, "type": c.data_type.to_string()}))
        .collect();
    let rows: Vec<JsonValue> = result
        .rows()
        .unwrap_or(&[])
        .iter()
        .map(|row| JsonValue::Array(row.iter().map(json_value).collect()))
        .collect();
    json!({"columns": columns, "rows": rows, "command": result.tag()})
}

fn sql_error(e: &zqlite_query::Error) -> ApiError {
    let mut error = ApiError::new(StatusCode::BAD_REQUEST, e.sqlstate(), e.to_string());
    if let Some(loc) = e.location() {
        error = error.with("position", json!({"line": loc.line, "column": loc.column}));
    }
    if let Some(detail) = e.detail() {
        error = error.with("detail", detail);
    }
    error
}

/// `POST /v1/sql`: the result of the last statement.
pub async fn run(
    State(st): State<AppState>,
    who: Who,
    JsonBody(body): JsonBody<SqlBody>,
) -> Result<Json<JsonValue>, ApiError> {
    let started = Instant::now();
    let db = st.db.clone();
    let results = tokio::task::spawn_blocking(move || {
        let params: Vec<Value> = body.params.iter().map(param).collect();
        let mut session = db.session();
        session.set_user("http");
        session.set_tenant(who.tenant.clone());
        session.set_application_name(Some(who.application_name()));
        session.set_client_addr(who.client_addr.clone());
        session.execute(&body.sql, &params)
    })
    .await
    .map_err(|e| ApiError::internal(format!("the SQL task failed: {e}")))?;
    st.metrics.statement(started.elapsed());
    let results = results.map_err(|e| sql_error(&e))?;
    match results.last() {
        Some(last) => Ok(Json(result_json(last))),
        None => Ok(Json(json!({"columns": [], "rows": [], "command": ""}))),
    }
}
