//! The event store's SQL functions and projection relations:
//! - `zq_projections`: one row per projection: name, event types, statements, target
//!   tables, and progress (position of the last event applied, events applied);
//! - `zq_event`: inside a projection's statements, the one event being applied (same
//!   columns as `zq_events`); read anywhere else it is an error (55000);
//! - the write functions `zq_append`, `zq_create_projection`, `zq_rebuild_projection`,
//!   `zq_drop_projection`, whose rows are the results of the change the session's write
//!   path made for the statement (`crate::events::calls`).

use zqlite_projections::value::{DataType, TEXT_ARRAY, Value};

use super::{Namespace, Row, SystemContext, SystemRelation};
use crate::error::{Error, Result};
use crate::events::{PROJECTION_EVENT, WriteCall, current_event, results_of};

const PROGRESS_COLUMNS: &[(&str, DataType)] = &[
    ("name", DataType::Text),
    ("last_position", DataType::Int8),
    ("events_applied", DataType::Int8),
];

pub(super) const RELATIONS: &[SystemRelation] = &[
    SystemRelation {
        name: "zq_projections",
        namespace: Namespace::Zq,
        columns: &[
            ("name", DataType::Text),
            ("event_types", TEXT_ARRAY),
            ("sql", DataType::Text),
            ("targets", TEXT_ARRAY),
            ("last_position", DataType::Int8),
            ("events_applied", DataType::Int8),
        ],
        args: &[],
        rows: zq_projections,
    },
    SystemRelation {
        name: PROJECTION_EVENT,
        namespace: Namespace::Zq,
        columns: &[
            ("position", DataType::Int8),
            ("stream", DataType::Text),
            ("version", DataType::Int8),
            ("id", DataType::Uuid),
            ("type", DataType::Text),
            ("data", DataType::Jsonb),
            ("metadata", DataType::Jsonb),
            ("recorded_at", DataType::TimestampTz),
        ],
        args: &[],
        rows: zq_event,
    },
    SystemRelation {
        name: "zq_append",
        namespace: Namespace::Zq,
        columns: &[
            ("stream", DataType::Text),
            ("first_version", DataType::Int8),
            ("last_version", DataType::Int8),
            ("first_position", DataType::Int8),
            ("last_position", DataType::Int8),
        ],
        args: &[DataType::Text, DataType::Text, DataType::Jsonb],
        rows: |_, _| results_of(WriteCall::Append),
    },
    SystemRelation {
        name: "zq_create_projection",
        namespace: Namespace::Zq,
        columns: PROGRESS_COLUMNS,
        args: &[DataType::Text, TEXT_ARRAY, DataType::Text],
        rows: |_, _| results_of(WriteCall::CreateProjection),
    },
    SystemRelation {
        name: "zq_rebuild_projection",
        namespace: Namespace::Zq,
        columns: PROGRESS_COLUMNS,
        args: &[DataType::Text],
        rows: |_, _| results_of(WriteCall::RebuildProjection),
    },
    SystemRelation {
        name: "zq_drop_projection",
        namespace: Namespace::Zq,
        columns: &[("name", DataType::Text)],
        args: &[DataType::Text],
        rows: |_, _| results_of(WriteCall::DropProjection),
    },
];

fn text_array(items: &[String]) -> Value {
    let items = items.iter().map(|s| Value::Text(s.clone())).collect();
    Value::Array(std::sync::Arc::new(zqlite_projections::value::Array::new(
        DataType::Text,
        items,
    )))
}

fn int8(n: u64) -> Value {
    Value::Int8(i64::try_from(n).unwrap_or(i64::MAX))
}

fn zq_projections(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(ctx
        .state
        .catalog()
        .projections()
        .map(|def| {
            let progress = ctx.state.projection_progress(&def.name).unwrap_or_default();
            vec![
                Value::Text(def.name.clone()),
                text_array(&def.event_types),
                Value::Text(def.sql.clone()),
                text_array(&def.targets),
                progress.last_position.map_or(Value::Null, int8),
                int8(progress.events_applied),
            ]
        })
        .collect())
}

fn zq_event(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    match current_event() {
        Some(row) => Ok(vec![row]),
        None => Err(Error::Runtime {
            sqlstate: "55000",
            message: format!(
                "{PROJECTION_EVENT} holds the event a projection is applying: read it in the \
                 statements of zq_create_projection"
            ),
        }),
    }
}
