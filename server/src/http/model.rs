//! The JSON shapes of the event API: append bodies in (validated field by field, with the
//! place of each problem) and events out.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value as JsonValue, json};
use uuid::Uuid;
use zqlite_projections::{EventView, ExpectedVersion, NewEvent, StreamAppend};

use super::error::ApiError;
use super::time::rfc3339;

/// `{"expected_version"?, "events": [...]}` of `POST /v1/streams/{stream}`.
#[derive(Debug, Deserialize)]
pub struct AppendBody {
    #[serde(default)]
    pub expected_version: Option<JsonValue>,
    pub events: Vec<EventBody>,
}

/// One stream of `POST /v1/append`.
#[derive(Debug, Deserialize)]
pub struct MultiStreamEntry {
    pub stream: String,
    #[serde(default)]
    pub expected_version: Option<JsonValue>,
    pub events: Vec<EventBody>,
}

/// `{"streams": [...]}` of `POST /v1/append`.
#[derive(Debug, Deserialize)]
pub struct MultiAppendBody {
    pub streams: Vec<MultiStreamEntry>,
}

/// `{"id"?, "type", "data", "metadata"?}`.
#[derive(Debug, Deserialize)]
pub struct EventBody {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: JsonValue,
    #[serde(default)]
    pub metadata: Option<JsonValue>,
}

/// `{"max_count"?, "max_age_seconds"?}` of `PUT /v1/streams/{stream}/metadata`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetadataBody {
    #[serde(default)]
    pub max_count: Option<u64>,
    #[serde(default)]
    pub max_age_seconds: Option<u64>,
}

/// `any`, `no_stream`, `stream_exists` or a version number (absent: `any`).
pub fn expected_version(value: Option<&JsonValue>, at: &str) -> Result<ExpectedVersion, ApiError> {
    let bad = |what: String| {
        ApiError::bad_request(
            "invalid_expected_version",
            format!(
                "{at}expected_version {what}: give \"any\", \"no_stream\", \"stream_exists\" \
                 or a version number"
            ),
        )
    };
    match value {
        None | Some(JsonValue::Null) => Ok(ExpectedVersion::Any),
        Some(JsonValue::String(word)) => match word.as_str() {
            "any" => Ok(ExpectedVersion::Any),
            "no_stream" => Ok(ExpectedVersion::NoStream),
            "stream_exists" => Ok(ExpectedVersion::StreamExists),
            other => Err(bad(format!("{other:?} is not a known word"))),
        },
        Some(JsonValue::Number(n)) => n
            .as_u64()
            .map(ExpectedVersion::Exact)
            .ok_or_else(|| bad(format!("{n} is not a non-negative integer"))),
        Some(other) => Err(bad(format!("{other} has the wrong type"))),
    }
}

/// Checks and converts the events of one stream's append (`at` prefixes messages).
pub fn new_events(events: Vec<EventBody>, at: &str) -> Result<Vec<NewEvent>, ApiError> {
    if events.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_field",
            format!("{at}events is empty: give at least one event"),
        ));
    }
    events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let id = match e.id {
                None => Uuid::new_v4(),
                Some(text) => Uuid::parse_str(&text).map_err(|err| {
                    ApiError::bad_request(
                        "invalid_uuid",
                        format!("{at}events[{i}].id {text:?} is not a UUID: {err}"),
                    )
                })?,
            };
            if e.event_type.is_empty() {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    format!("{at}events[{i}].type is empty"),
                ));
            }
            Ok(NewEvent {
                id,
                event_type: e.event_type,
                data: e.data.to_string(),
                metadata: e.metadata.filter(|m| !m.is_null()).map(|m| m.to_string()),
            })
        })
        .collect()
}

/// The append of one stream, checked.
pub fn stream_append(
    stream: String,
    expected: Option<&JsonValue>,
    events: Vec<EventBody>,
    at: &str,
) -> Result<StreamAppend, ApiError> {
    Ok(StreamAppend {
        expected: expected_version(expected, at)?,
        events: new_events(events, at)?,
        stream,
    })
}

/// A stored JSON text as a raw JSON value (stored texts are valid JSON: the API only
/// stores what serde_json produced).
fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string())
        .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"))
}

/// `{"id", "stream", "version", "position", "type", "data", "metadata", "recorded_at"}`.
pub fn event_json(view: &EventView) -> JsonValue {
    let e = &view.event;
    // Values built from RawValue serialize as the raw text.
    json!({
        "id": e.id.to_string(),
        "stream": &*e.stream,
        "version": e.version,
        "position": e.position,
        "type": &*e.event_type,
        "data": raw(&e.data),
        "metadata": e.metadata.as_deref().map(raw),
        "recorded_at": view.recorded_at.map(rfc3339),
    })
}
