//! The event routes: append to one stream or several, read a stream or `$all`, delete a
//! stream, set its metadata.
//!
//! Invariants:
//! - An append or delete is answered only once its record is durable (and so readable by
//!   every later request and subscription).
//! - Appends go through the query layer ([`zqlite_query::Database::append_events`]), so the
//!   inline projections commit in the same record as the events.

use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as JsonValue, json};
use zqlite_projections::{AppendResult, Direction, Page};

use super::error::ApiError;
use super::extract::{JsonBody, Params, Segment};
use super::model::{self, AppendBody, MetadataBody, MultiAppendBody};
use super::state::{AppState, Who, meta};
use super::time::now_micros;

fn result_json(r: Option<AppendResult>) -> JsonValue {
    match r {
        Some(r) => json!({
            "first_version": r.first_version,
            "last_version": r.last_version,
            "first_position": r.first_position,
            "last_position": r.last_position,
        }),
        None => JsonValue::Null,
    }
}

/// `POST /v1/streams/{stream}`.
pub async fn append(
    State(st): State<AppState>,
    who: Who,
    Segment(stream): Segment,
    JsonBody(body): JsonBody<AppendBody>,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    let started = Instant::now();
    let append = model::stream_append(stream, body.expected_version.as_ref(), body.events, "")?;
    let count = append.events.len() as u64;
    let request = format!("POST /v1/streams/{}", append.stream);
    let mut results = st
        .write_sql(move |db| db.append_events(meta(&request, &who), vec![append]))
        .await?;
    st.metrics.appended(count, started.elapsed());
    Ok((
        StatusCode::CREATED,
        Json(result_json(results.pop().flatten())),
    ))
}

/// `POST /v1/append`: several streams, all or nothing.
pub async fn append_many(
    State(st): State<AppState>,
    who: Who,
    JsonBody(body): JsonBody<MultiAppendBody>,
) -> Result<(StatusCode, Json<JsonValue>), ApiError> {
    let started = Instant::now();
    if body.streams.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_field",
            "streams is empty: give at least one stream",
        ));
    }
    let mut appends = Vec::with_capacity(body.streams.len());
    for (i, entry) in body.streams.into_iter().enumerate() {
        let at = format!("streams[{i}].");
        if entry.stream.is_empty() {
            return Err(ApiError::bad_request(
                "invalid_stream_name",
                format!("{at}stream is empty"),
            ));
        }
        appends.push(model::stream_append(
            entry.stream,
            entry.expected_version.as_ref(),
            entry.events,
            &at,
        )?);
    }
    let names: Vec<String> = appends.iter().map(|a| a.stream.clone()).collect();
    let count = appends.iter().map(|a| a.events.len() as u64).sum();
    let results = st
        .write_sql(move |db| db.append_events(meta("POST /v1/append", &who), appends))
        .await?;
    st.metrics.appended(count, started.elapsed());
    let streams: Vec<JsonValue> = names
        .into_iter()
        .zip(results)
        .map(|(name, r)| {
            let mut object = result_json(r);
            object["stream"] = JsonValue::String(name);
            object
        })
        .collect();
    Ok((StatusCode::CREATED, Json(json!({ "streams": streams }))))
}

fn page_json(page: &Page) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        model::page_json(&page.events, page.next),
    )
        .into_response()
}

/// `GET /v1/streams/{stream}?from=&limit=&direction=`.
pub async fn read(
    State(st): State<AppState>,
    Segment(stream): Segment,
    params: Params,
) -> Result<Response, ApiError> {
    let from = params.u64("from")?;
    let limit = params.limit()?;
    let direction = match params.str("direction") {
        None | Some("forward") => Direction::Forward,
        Some("backward") => Direction::Backward,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("direction={other:?}: give forward or backward"),
            ));
        }
    };
    let snapshot = st.store().snapshot();
    let page = snapshot
        .events()
        .read_stream(&stream, from, limit, direction, now_micros())?;
    Ok(page_json(&page))
}

/// `GET /v1/all?from_position=&limit=`.
pub async fn read_all(State(st): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let from = params.u64("from_position")?.unwrap_or(0);
    let limit = params.limit()?;
    let snapshot = st.store().snapshot();
    Ok(page_json(&snapshot.events().read_all(
        from,
        limit,
        now_micros(),
    )))
}

/// `DELETE /v1/streams/{stream}?hard=`.
pub async fn delete(
    State(st): State<AppState>,
    who: Who,
    Segment(stream): Segment,
    params: Params,
) -> Result<StatusCode, ApiError> {
    let hard = params.flag("hard")?;
    let request = format!("DELETE /v1/streams/{stream}");
    st.write(move |store| {
        Ok((
            (),
            store.delete_stream(meta(&request, &who), &stream, hard)?,
        ))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v1/streams/{stream}/metadata`.
pub async fn set_metadata(
    State(st): State<AppState>,
    who: Who,
    Segment(stream): Segment,
    JsonBody(body): JsonBody<MetadataBody>,
) -> Result<Json<JsonValue>, ApiError> {
    let request = format!("PUT /v1/streams/{stream}/metadata");
    let name = stream.clone();
    st.write(move |store| {
        let pending = store.set_stream_metadata(
            meta(&request, &who),
            &name,
            body.max_count,
            body.max_age_seconds,
        )?;
        Ok(((), pending))
    })
    .await?;
    Ok(Json(json!({
        "stream": stream,
        "max_count": body.max_count,
        "max_age_seconds": body.max_age_seconds,
    })))
}
