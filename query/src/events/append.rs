//! Appending events with their inline projections, and reading `zq_append`'s arguments.

use uuid::Uuid;
use zqlite_projections::value::Jsonb;
use zqlite_projections::{AppendResult, ExpectedVersion, NewEvent, StreamAppend, Transaction};

use super::projection;
use crate::error::{Error, Result};

/// Appends to one or more streams in `txn` (expected versions checked, idempotent retries
/// answered with their original results; see
/// [`zqlite_projections::Store::append_events`]), then runs the inline projections over
/// the new events. On error `txn` is as it was before.
pub fn append(
    txn: &mut Transaction,
    appends: Vec<StreamAppend>,
) -> Result<Vec<Option<AppendResult>>> {
    let savepoint = txn.savepoint();
    let from = txn.state().events().next_position();
    let result = txn
        .append_events(appends)
        .map_err(Error::from)
        .and_then(|results| {
            projection::run_inline(txn, from)?;
            Ok(results)
        });
    if result.is_err() {
        txn.rollback_to(&savepoint);
    }
    result
}

fn invalid(message: String) -> Error {
    Error::Runtime {
        sqlstate: "22023",
        message,
    }
}

/// `zq_append`'s expected version: an integer, `any`, `no_stream` or `stream_exists`
/// (NULL: `any`, as an absent `expected_version` in the HTTP API).
pub fn parse_expected(text: Option<&str>) -> Result<ExpectedVersion> {
    let Some(text) = text else {
        return Ok(ExpectedVersion::Any);
    };
    match text.trim() {
        "any" => Ok(ExpectedVersion::Any),
        "no_stream" => Ok(ExpectedVersion::NoStream),
        "stream_exists" => Ok(ExpectedVersion::StreamExists),
        n => n.parse::<u64>().map(ExpectedVersion::Exact).map_err(|_| {
            invalid(format!(
                "expected version \"{text}\" is not valid: give a version number (0 or more), \
                 'any', 'no_stream' or 'stream_exists'"
            ))
        }),
    }
}

/// `zq_append`'s events: a jsonb array (or one object) of `{"type", "data", "id"?,
/// "metadata"?}`, as the HTTP API takes them. An event without `id` gets a random one
/// (so only events with ids are retried idempotently).
pub fn parse_events(events: &Jsonb) -> Result<Vec<NewEvent>> {
    let items: Vec<&Jsonb> = match events {
        Jsonb::Array(items) => items.iter().collect(),
        object @ Jsonb::Object(_) => vec![object],
        _ => {
            return Err(invalid(
                "events must be a jsonb array of {\"type\", \"data\", \"id\"?, \"metadata\"?} \
                 objects"
                    .into(),
            ));
        }
    };
    if items.is_empty() {
        return Err(invalid("events is empty: give at least one event".into()));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let Jsonb::Object(fields) = item else {
                return Err(invalid(format!("events[{i}] is not an object")));
            };
            let (mut id, mut event_type, mut data, mut metadata) = (None, None, None, None);
            for (key, value) in fields {
                match key.as_str() {
                    "id" => id = Some(value),
                    "type" => event_type = Some(value),
                    "data" => data = Some(value),
                    "metadata" => metadata = Some(value),
                    other => {
                        return Err(invalid(format!(
                            "events[{i}] has an unknown field \"{other}\": give type, data, id, \
                             metadata"
                        )));
                    }
                }
            }
            let id = match id {
                None | Some(Jsonb::Null) => Uuid::new_v4(),
                Some(Jsonb::String(text)) => Uuid::parse_str(text).map_err(|e| {
                    invalid(format!("events[{i}].id \"{text}\" is not a UUID: {e}"))
                })?,
                Some(other) => {
                    return Err(invalid(format!(
                        "events[{i}].id is {other}: give a UUID string"
                    )));
                }
            };
            let event_type = match event_type {
                Some(Jsonb::String(t)) if !t.is_empty() => t.clone(),
                Some(Jsonb::String(_)) => {
                    return Err(invalid(format!("events[{i}].type is empty")));
                }
                _ => {
                    return Err(invalid(format!(
                        "events[{i}].type is missing or not a string"
                    )));
                }
            };
            let data = data
                .ok_or_else(|| invalid(format!("events[{i}].data is missing")))?
                .to_string();
            let metadata = metadata
                .filter(|m| !matches!(m, Jsonb::Null))
                .map(Jsonb::to_string);
            Ok(NewEvent {
                id,
                event_type,
                data,
                metadata,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_versions_parse_like_the_http_api() {
        assert_eq!(parse_expected(None).unwrap(), ExpectedVersion::Any);
        assert_eq!(
            parse_expected(Some("3")).unwrap(),
            ExpectedVersion::Exact(3)
        );
        assert_eq!(
            parse_expected(Some("no_stream")).unwrap(),
            ExpectedVersion::NoStream
        );
        assert_eq!(
            parse_expected(Some("stream_exists")).unwrap(),
            ExpectedVersion::StreamExists
        );
        for bad in ["-1", "x", "1.5", ""] {
            assert_eq!(parse_expected(Some(bad)).unwrap_err().sqlstate(), "22023");
        }
    }

    #[test]
    fn events_are_checked_field_by_field() {
        let id = "0b6c3e1a-5a4b-4c1e-9d7e-3f2a1b0c9d8e";
        let doc = Jsonb::parse(&format!(
            r#"[{{"type": "A", "data": {{"x": 1}}, "id": "{id}", "metadata": {{"m": true}}}},
                {{"type": "B", "data": null}}]"#
        ))
        .unwrap();
        let events = parse_events(&doc).unwrap();
        assert_eq!(events[0].id.to_string(), id);
        assert_eq!(events[0].data, r#"{"x": 1}"#);
        assert_eq!(events[0].metadata.as_deref(), Some(r#"{"m": true}"#));
        assert_eq!(
            (events[1].event_type.as_str(), events[1].data.as_str()),
            ("B", "null")
        );
        let one = Jsonb::parse(r#"{"type": "A", "data": 1}"#).unwrap();
        assert_eq!(parse_events(&one).unwrap().len(), 1);
        for (bad, says) in [
            ("[]", "events is empty"),
            ("5", "must be a jsonb array"),
            (r#"[{"data": 1}]"#, "events[0].type is missing"),
            (r#"[{"type": "", "data": 1}]"#, "events[0].type is empty"),
            (r#"[{"type": "A"}]"#, "events[0].data is missing"),
            (r#"[{"type": "A", "data": 1, "id": "x"}]"#, "is not a UUID"),
            (
                r#"[{"type": "A", "data": 1, "at": 1}]"#,
                "unknown field \"at\"",
            ),
        ] {
            let e = parse_events(&Jsonb::parse(bad).unwrap()).unwrap_err();
            assert!(e.to_string().contains(says), "{bad}: {e}");
            assert_eq!(e.sqlstate(), "22023");
        }
    }
}
