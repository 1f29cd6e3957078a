//! `GET /v1/openapi.json`: an OpenAPI 3.1 description of every route, written by hand next
//! to the routes (`router.rs`) it describes.

use serde_json::{Value as JsonValue, json};

fn error_response(description: &str) -> JsonValue {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn json_response(description: &str, schema: JsonValue) -> JsonValue {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn query(name: &str, description: &str, schema: JsonValue) -> JsonValue {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// The document.
pub fn document() -> JsonValue {
    let stream_param =
        json!({"name": "stream", "in": "path", "required": true, "schema": {"type": "string"}});
    let page = json!({"$ref": "#/components/schemas/Page"});
    let append_result = json!({"$ref": "#/components/schemas/AppendResult"});
    let int = json!({"type": "integer", "minimum": 0});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "zqlite HTTP API", "version": env!("CARGO_PKG_VERSION")},
        "paths": {
            "/v1/streams/{stream}": {
                "post": {
                    "summary": "Append events to one stream atomically, with an expected version",
                    "parameters": [stream_param],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppendRequest"}}}},
                    "responses": {
                        "201": json_response("Appended (or an idempotent retry: the original result)", append_result.clone()),
                        "400": error_response("Malformed body (line and column), bad expected_version or UUID"),
                        "409": error_response("wrong_expected_version (with current_version) or duplicate_event_id"),
                        "410": error_response("The stream is tombstoned"),
                        "413": error_response("Body over the limit")
                    }
                },
                "get": {
                    "summary": "Read a stream forward or backward",
                    "parameters": [stream_param,
                        query("from", "First version to read (default: start, or end when backward)", int.clone()),
                        query("limit", "Events per page, 1-10000 (default 100)", int.clone()),
                        query("direction", "forward (default) or backward", json!({"enum": ["forward", "backward"]}))],
                    "responses": {"200": json_response("A page of events", page.clone()), "404": error_response("No such stream, or soft-deleted"), "410": error_response("Tombstoned")}
                },
                "delete": {
                    "summary": "Soft-delete a stream, or tombstone it with hard=true",
                    "parameters": [stream_param, query("hard", "true: tombstone (later appends fail)", json!({"type": "boolean"}))],
                    "responses": {"204": {"description": "Deleted"}, "404": error_response("No such stream"), "410": error_response("Already tombstoned")}
                }
            },
            "/v1/streams/{stream}/metadata": {
                "put": {
                    "summary": "Set max_count and max_age_seconds (hide older events from reads)",
                    "parameters": [stream_param],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"max_count": int.clone(), "max_age_seconds": int.clone()}}}}},
                    "responses": {"200": json_response("The metadata now in force", json!({"type": "object"})), "410": error_response("Tombstoned")}
                }
            },
            "/v1/append": {
                "post": {
                    "summary": "Append to several streams atomically, each with its expected version",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["streams"], "properties": {"streams": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/AppendRequest"}, {"type": "object", "required": ["stream"], "properties": {"stream": {"type": "string"}}}]}}}}}}},
                    "responses": {
                        "201": json_response("Appended", json!({"type": "object", "properties": {"streams": {"type": "array", "items": append_result}}})),
                        "409": error_response("A stream's version did not match (named in stream)")
                    }
                }
            },
            "/v1/all": {
                "get": {
                    "summary": "Read all streams in global position order",
                    "parameters": [query("from_position", "First position (default 0)", int.clone()), query("limit", "1-10000 (default 100)", int.clone())],
                    "responses": {"200": json_response("A page of events", page)}
                }
            },
            "/v1/streams/{stream}/subscribe": {
                "get": {
                    "summary": "Server-Sent Events: history from a version, a caught-up event, then live events; Last-Event-ID resumes",
                    "parameters": [stream_param, query("from", "First version", int.clone()), query("types", "Comma-separated event types to keep", json!({"type": "string"})), query("stream_prefix", "Keep streams starting with this", json!({"type": "string"}))],
                    "responses": {"200": {"description": "text/event-stream"}}
                }
            },
            "/v1/all/subscribe": {
                "get": {
                    "summary": "Server-Sent Events over all streams from a position",
                    "parameters": [query("from_position", "First position", int), query("types", "Comma-separated event types to keep", json!({"type": "string"})), query("stream_prefix", "Keep streams starting with this", json!({"type": "string"}))],
                    "responses": {"200": {"description": "text/event-stream"}}
                }
            },
            "/v1/sql": {
                "post": {
                    "summary": "Run SQL (autocommit); the result of the last statement",
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["sql"], "properties": {"sql": {"type": "string"}, "params": {"type": "array"}}}}}},
                    "responses": {
                        "200": json_response("Columns, rows and the command tag", json!({"type": "object", "properties": {"columns": {"type": "array"}, "rows": {"type": "array"}, "command": {"type": "string"}}})),
                        "400": error_response("SQL error: code is the SQLSTATE, position the line and column")
                    }
                }
            },
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": json_response("ok", json!({"type": "object"}))}}},
            "/metrics": {"get": {"summary": "Prometheus text format", "responses": {"200": {"description": "text/plain; version=0.0.4"}}}},
            "/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "current_version": {"type": ["integer", "null"]}, "stream": {"type": "string"}, "line": {"type": "integer"}, "column": {"type": "integer"}}}}},
            "AppendRequest": {"type": "object", "required": ["events"], "properties": {
                "expected_version": {"oneOf": [{"enum": ["any", "no_stream", "stream_exists"]}, {"type": "integer", "minimum": 0}]},
                "events": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["type", "data"], "properties": {"id": {"type": "string", "format": "uuid"}, "type": {"type": "string"}, "data": {}, "metadata": {}}}}}},
            "AppendResult": {"type": "object", "properties": {"first_version": {"type": "integer"}, "last_version": {"type": "integer"}, "first_position": {"type": "integer"}, "last_position": {"type": "integer"}}},
            "Event": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "stream": {"type": "string"}, "version": {"type": "integer"}, "position": {"type": "integer"}, "type": {"type": "string"}, "data": {}, "metadata": {}, "recorded_at": {"type": "string", "format": "date-time"}}},
            "Page": {"type": "object", "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}, "next": {"type": ["integer", "null"]}}}
        }}
    })
}
