//! The JSON shapes of the event API: append bodies in (validated field by field, with the
//! place of each problem) and events out.

use serde::Deserialize;
use serde_json::Value as JsonValue;
use serde_json::value::RawValue;
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

/// A stored JSON text, checked (without building a value) to be one JSON value; `null`
/// otherwise. Stored texts are valid JSON: the API only stores what serde_json produced and
/// SQL only what its jsonb type printed.
fn raw(text: &str) -> &str {
    match serde_json::from_str::<&RawValue>(text) {
        Ok(_) => text,
        Err(_) => "null",
    }
}

/// Appends `text` as a JSON string.
fn push_str(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("writing a string to a Vec cannot fail");
}

/// Appends one event as a JSON object to `out`: `{"data", "id", "metadata", "position",
/// "recorded_at", "stream", "type", "version"}` (keys in that order). The stored data and
/// metadata are copied as they are rather than parsed into values and printed again: this
/// is what every read page and every subscription message is made of.
pub fn write_event_json(out: &mut Vec<u8>, view: &EventView) {
    let e = &view.event;
    out.extend_from_slice(b"{\"data\":");
    out.extend_from_slice(raw(&e.data).as_bytes());
    out.extend_from_slice(b",\"id\":\"");
    out.extend_from_slice(
        e.id.hyphenated()
            .encode_lower(&mut Uuid::encode_buffer())
            .as_bytes(),
    );
    out.extend_from_slice(b"\",\"metadata\":");
    out.extend_from_slice(e.metadata.as_deref().map_or("null", raw).as_bytes());
    out.extend_from_slice(b",\"position\":");
    out.extend_from_slice(e.position.to_string().as_bytes());
    out.extend_from_slice(b",\"recorded_at\":");
    match view.recorded_at {
        Some(at) => push_str(out, &rfc3339(at)),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"stream\":");
    push_str(out, &e.stream);
    out.extend_from_slice(b",\"type\":");
    push_str(out, &e.event_type);
    out.extend_from_slice(b",\"version\":");
    out.extend_from_slice(e.version.to_string().as_bytes());
    out.push(b'}');
}

/// One event as JSON text (see [`write_event_json`]).
pub fn event_json(view: &EventView) -> String {
    let mut out = Vec::with_capacity(200 + view.event.data.len());
    write_event_json(&mut out, view);
    String::from_utf8(out).expect("JSON text built from str is UTF-8")
}

/// A page of events as JSON text: `{"events": [...], "next": N or null}`.
pub fn page_json(events: &[EventView], next: Option<u64>) -> Vec<u8> {
    let size: usize = events.iter().map(|v| 200 + v.event.data.len()).sum();
    let mut out = Vec::with_capacity(32 + size);
    out.extend_from_slice(b"{\"events\":[");
    for (i, view) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_event_json(&mut out, view);
    }
    out.extend_from_slice(b"],\"next\":");
    match next {
        Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use zqlite_projections::RecordedEvent;

    use super::*;

    /// The JSON the event routes answered before they wrote text directly: a value built
    /// with `json!` and printed.
    fn as_value(view: &EventView) -> JsonValue {
        let e = &view.event;
        let parse = |t: &str| serde_json::from_str::<JsonValue>(t).unwrap_or(JsonValue::Null);
        json!({
            "id": e.id.to_string(),
            "stream": &*e.stream,
            "version": e.version,
            "position": e.position,
            "type": &*e.event_type,
            "data": parse(&e.data),
            "metadata": e.metadata.as_deref().map(parse),
            "recorded_at": view.recorded_at.map(rfc3339),
        })
    }

    fn view(stream: &str, data: &str, metadata: Option<&str>, at: Option<i64>) -> EventView {
        EventView {
            event: Arc::new(RecordedEvent {
                id: Uuid::from_u128(0x0b9a3b0c_8d5e_4a43_9a55_8f4f2f1b7c01),
                stream: stream.into(),
                version: 7,
                position: 12_345_678_901,
                event_type: "Deposited \"cash\"".into(),
                data: data.into(),
                metadata: metadata.map(Into::into),
                lsn: Default::default(),
            }),
            recorded_at: at,
        }
    }

    #[test]
    fn event_text_is_the_json_of_the_event_with_data_copied_verbatim() {
        let cases = [
            view(
                "orders-1",
                r#"{"a":1,"b":[1,2.50,"x"],"big":123456789012345678901234567890}"#,
                Some(r#"{"by":"t"}"#),
                Some(1_764_320_000_123_456),
            ),
            view("str\"ange\\name\u{e9}\n", "[]", None, None),
            view("s", "\"text\"", Some("null"), Some(0)),
        ];
        for case in &cases {
            let text = event_json(case);
            let parsed: JsonValue = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(parsed, as_value(case), "{text}");
            // Compact stored data comes out byte for byte as the value printed.
            assert_eq!(text, as_value(case).to_string());
        }
        // Numbers keep their stored text (no float rounding).
        assert!(event_json(&cases[0]).contains("2.50,"));
        assert!(event_json(&cases[0]).contains("123456789012345678901234567890"));
    }

    #[test]
    fn stored_text_that_is_not_json_comes_out_as_null() {
        let broken = view("s", "{not json", Some("[1,"), None);
        let parsed: JsonValue = serde_json::from_str(&event_json(&broken)).expect("valid JSON");
        assert_eq!(parsed["data"], JsonValue::Null);
        assert_eq!(parsed["metadata"], JsonValue::Null);
    }

    #[test]
    fn a_page_lists_its_events_and_where_to_go_on() {
        let events = [view("a", "{}", None, None), view("b", "1", None, Some(5))];
        let page: JsonValue = serde_json::from_slice(&page_json(&events, Some(9))).unwrap();
        assert_eq!(page["next"], json!(9));
        assert_eq!(page["events"][0], as_value(&events[0]));
        assert_eq!(page["events"][1], as_value(&events[1]));
        let end: JsonValue = serde_json::from_slice(&page_json(&[], None)).unwrap();
        assert_eq!(end, json!({"events": [], "next": null}));
    }
}
