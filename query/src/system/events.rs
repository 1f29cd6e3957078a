//! `zq_events`: the event store's events as a relation, one row per event that stream reads
//! would return (soft-deleted, tombstoned and truncated events are hidden here as they are
//! from the HTTP API; the log keeps them for audit).
//!
//! A filter `stream = '...'` reads only that stream through the per-stream index, and a
//! lower bound on `position` starts the scan there.

use std::time::{SystemTime, UNIX_EPOCH};

use zqlite_projections::events::{Direction, EventView};
use zqlite_projections::value::{BinaryOp, DataType, Jsonb, TimestampTz, Value};

use super::{Namespace, Row, SystemContext, SystemRelation};
use crate::error::Result;

pub(super) const RELATIONS: &[SystemRelation] = &[SystemRelation {
    name: "zq_events",
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
    rows: zq_events,
}];

const POSITION: usize = 0;
const STREAM: usize = 1;

/// Microseconds from the Unix epoch to PostgreSQL's epoch (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn zq_events(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let store = ctx.state.events();
    let now = now_micros();
    let views = match ctx.equal_to(STREAM) {
        Some(Value::Text(stream)) => {
            match store.read_stream(stream, None, usize::MAX, Direction::Forward, now) {
                Ok(page) => page.events,
                Err(_) => Vec::new(),
            }
        }
        _ => {
            let from = ctx
                .constraints
                .iter()
                .filter(|c| c.column == POSITION)
                .filter_map(|c| match (c.op, &c.value) {
                    (BinaryOp::Eq | BinaryOp::GtEq, Value::Int8(p)) => u64::try_from(*p).ok(),
                    (BinaryOp::Gt, Value::Int8(p)) => u64::try_from(*p).ok().map(|p| p + 1),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            store.read_all(from, usize::MAX, now).events
        }
    };
    views.iter().map(event_row).collect()
}

fn event_row(view: &EventView) -> Result<Row> {
    let e = &view.event;
    let json = |s: &str| -> Result<Value> { Ok(Value::Jsonb(Jsonb::parse(s)?)) };
    Ok(vec![
        Value::Int8(i64::try_from(e.position).unwrap_or(i64::MAX)),
        Value::Text(e.stream.to_string()),
        Value::Int8(i64::try_from(e.version).unwrap_or(i64::MAX)),
        Value::Uuid(e.id),
        Value::Text(e.event_type.to_string()),
        json(&e.data)?,
        match &e.metadata {
            Some(m) => json(m)?,
            None => Value::Null,
        },
        view.recorded_at.map_or(Value::Null, |t| {
            Value::TimestampTz(TimestampTz(t - PG_EPOCH_MICROS))
        }),
    ])
}

#[cfg(test)]
mod tests {
    use zqlite_projections::TxMeta;
    use zqlite_projections::events::{ExpectedVersion, NewEvent, StreamAppend};

    use crate::{Database, QueryResult, Value};

    fn append(db: &Database, stream: &str, types: &[&str]) {
        let events = types
            .iter()
            .enumerate()
            .map(|(i, t)| NewEvent {
                id: uuid::Uuid::new_v4(),
                event_type: t.to_string(),
                data: format!("{{\"n\": {i}}}"),
                metadata: None,
            })
            .collect();
        let (_, pending) = db
            .store()
            .append_events(
                TxMeta::default(),
                vec![StreamAppend {
                    stream: stream.into(),
                    expected: ExpectedVersion::Any,
                    events,
                }],
            )
            .unwrap();
        db.store().wait(pending).unwrap();
    }

    fn query(db: &Database, sql: &str) -> Vec<Vec<Value>> {
        match db.session().execute(sql, &[]).unwrap().pop() {
            Some(QueryResult::Rows { rows, .. }) => rows,
            other => panic!("expected rows, got {other:?}"),
        }
    }

    #[test]
    fn events_are_rows_in_position_order_and_filter_by_stream() {
        let db = Database::open_in_memory().unwrap();
        append(&db, "order-1", &["Placed", "Paid"]);
        append(&db, "order-2", &["Placed"]);
        append(&db, "order-1", &["Shipped"]);
        let all = query(&db, "SELECT position, stream, version, type FROM zq_events");
        let text = |v: &Value| v.to_string();
        let all: Vec<Vec<String>> = all.iter().map(|r| r.iter().map(text).collect()).collect();
        assert_eq!(
            all,
            [
                ["0", "order-1", "0", "Placed"],
                ["1", "order-1", "1", "Paid"],
                ["2", "order-2", "0", "Placed"],
                ["3", "order-1", "2", "Shipped"],
            ]
        );
        let one = query(
            &db,
            "SELECT version, data::text FROM zq.zq_events WHERE stream = 'order-1' \
             AND version >= 1 ORDER BY version DESC",
        );
        assert_eq!(one.len(), 2);
        assert_eq!(one[0][0], Value::Int8(2));
        let later = query(&db, "SELECT count(*) FROM zq_events WHERE position > 1");
        assert_eq!(later[0][0], Value::Int8(2));
        let none = query(&db, "SELECT count(*) FROM zq_events WHERE stream = 'nope'");
        assert_eq!(none[0][0], Value::Int8(0));
        let stamped = query(
            &db,
            "SELECT count(*) FROM zq_events WHERE recorded_at <= now() AND id IS NOT NULL",
        );
        assert_eq!(stamped[0][0], Value::Int8(4));
    }

    #[test]
    fn unknown_system_names_are_clear_errors() {
        let db = Database::open_in_memory().unwrap();
        let err = db
            .session()
            .execute("SELECT * FROM pg_catalog.zq_nothing", &[])
            .unwrap_err();
        assert_eq!(err.sqlstate(), "42P01");
        let err = db
            .session()
            .execute("SELECT * FROM zq_events('x')", &[])
            .unwrap_err();
        assert_eq!(err.sqlstate(), "42883");
    }
}
