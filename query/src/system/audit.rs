//! The audit relations: the log as SQL (what they record and example queries are in
//! `docs/audit.md`).
//!
//! - `zq_log`: one row per committed transaction: who (user, tenant, application, client
//!   address), the statement texts and their parameters, the tables it changed.
//! - `zq_changes`: one row per change of a transaction, with the table, the key and the
//!   before and after images of a row change (DDL, role and event changes have their own
//!   `op` and describe themselves in `before` / `after`).
//! - `zq_history(table_name, key)`: every version of one row, with who and when.
//! - `zq_security_events`: failed logins and role changes.
//!
//! Every relation reads only records up to the statement's snapshot LSN, so an audit query
//! agrees with the tables it runs beside. Reads are narrowed before the log is touched:
//! constraints on `lsn` bound the LSN range, constraints on `committed_at` become an LSN
//! range through the log's time index, and the store's [`AuditIndex`](zqlite_projections::audit::AuditIndex) names the records of
//! one table, one row or the security events, so those are read alone (see
//! `zqlite_projections::audit` for the index and why the log is read this way).

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value as Json;
use zqlite_log::{Log, Record};
use zqlite_projections::audit::{
    AuditRecord, ChangeEntry, TableHistory, decode_record, describe_changes, tables_touched,
};
use zqlite_projections::value::{Array, BinaryOp, DataType, Jsonb, TimestampTz, Value};
use zqlite_projections::{Lsn, Store, TxMeta};

use super::{Namespace, Row, SystemContext, SystemRelation};
use crate::error::{Error, Result};

pub(super) const RELATIONS: &[SystemRelation] = &[
    SystemRelation {
        name: "zq_log",
        namespace: Namespace::Zq,
        columns: &[
            ("lsn", DataType::Int8),
            ("committed_at", DataType::TimestampTz),
            ("user_name", DataType::Text),
            ("tenant", DataType::Text),
            ("application_name", DataType::Text),
            ("client_addr", DataType::Text),
            ("statements", DataType::TEXT_ARRAY),
            ("params", DataType::Jsonb),
            ("tables", DataType::TEXT_ARRAY),
        ],
        args: &[],
        rows: zq_log,
    },
    SystemRelation {
        name: "zq_changes",
        namespace: Namespace::Zq,
        columns: &[
            ("lsn", DataType::Int8),
            ("committed_at", DataType::TimestampTz),
            ("user_name", DataType::Text),
            ("tenant", DataType::Text),
            ("table_name", DataType::Text),
            ("op", DataType::Text),
            ("key", DataType::Jsonb),
            ("before", DataType::Jsonb),
            ("after", DataType::Jsonb),
        ],
        args: &[],
        rows: zq_changes,
    },
    SystemRelation {
        name: "zq_history",
        namespace: Namespace::Zq,
        columns: &[
            ("lsn", DataType::Int8),
            ("committed_at", DataType::TimestampTz),
            ("user_name", DataType::Text),
            ("tenant", DataType::Text),
            ("application_name", DataType::Text),
            ("client_addr", DataType::Text),
            ("op", DataType::Text),
            ("before", DataType::Jsonb),
            ("after", DataType::Jsonb),
            ("statements", DataType::TEXT_ARRAY),
        ],
        args: &[DataType::Text, DataType::Jsonb],
        rows: zq_history,
    },
    SystemRelation {
        name: "zq_security_events",
        namespace: Namespace::Zq,
        columns: &[
            ("lsn", DataType::Int8),
            ("committed_at", DataType::TimestampTz),
            ("kind", DataType::Text),
            ("user_name", DataType::Text),
            ("role_name", DataType::Text),
            ("client_addr", DataType::Text),
            ("application_name", DataType::Text),
            ("detail", DataType::Text),
        ],
        args: &[],
        rows: zq_security_events,
    },
];

/// Every relation here has `lsn` and `committed_at` as its first two columns.
const LSN: usize = 0;
const COMMITTED_AT: usize = 1;
/// `zq_log.user_name` and `zq_changes.user_name`.
const USER_NAME: usize = 2;
/// `zq_changes.table_name` and `zq_changes.op`.
const TABLE_NAME: usize = 4;
const OP: usize = 5;

/// Microseconds from the Unix epoch to PostgreSQL's epoch (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

fn store<'a>(ctx: &SystemContext<'a>) -> Result<&'a Store> {
    ctx.store.ok_or_else(|| Error::Runtime {
        sqlstate: "55000",
        message: "the audit relations read the log, which this statement has no access to".into(),
    })
}

/// The part of the log a statement asks for: records `from..=to`, stopping at the first
/// committed after `until` (µs since the Unix epoch; commit times never decrease).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    from: Lsn,
    to: Lsn,
    until: Option<i64>,
}

impl Range {
    fn contains(&self, record: &Record) -> bool {
        (self.from..=self.to).contains(&record.lsn)
            && self.until.is_none_or(|u| record.timestamp <= u)
    }
}

/// The range the constraints on `lsn` and `committed_at` allow, up to the snapshot's LSN;
/// `None` when they allow nothing.
fn range(ctx: &SystemContext<'_>, log: &Log) -> Result<Option<Range>> {
    let mut r = Range {
        from: 1,
        to: ctx.state.lsn(),
        until: None,
    };
    let mut since: Option<i64> = None;
    for c in ctx.constraints {
        match (c.column, &c.value) {
            (LSN, v) => {
                let Some(n) = int(v) else { continue };
                let (lo, hi) = match c.op {
                    BinaryOp::Eq => (n, n),
                    BinaryOp::Gt => (n.saturating_add(1), i64::MAX),
                    BinaryOp::GtEq => (n, i64::MAX),
                    BinaryOp::Lt => (i64::MIN, n.saturating_sub(1)),
                    BinaryOp::LtEq => (i64::MIN, n),
                    _ => continue,
                };
                if hi < 1 {
                    return Ok(None);
                }
                r.from = r.from.max(lo.max(1) as Lsn);
                r.to = r.to.min(hi as Lsn);
            }
            (COMMITTED_AT, Value::TimestampTz(TimestampTz(t))) => {
                let t = t.saturating_add(PG_EPOCH_MICROS);
                let (lo, hi) = match c.op {
                    BinaryOp::Eq => (Some(t), Some(t)),
                    BinaryOp::Gt => (Some(t.saturating_add(1)), None),
                    BinaryOp::GtEq => (Some(t), None),
                    BinaryOp::Lt => (None, Some(t.saturating_sub(1))),
                    BinaryOp::LtEq => (None, Some(t)),
                    _ => continue,
                };
                if let Some(lo) = lo {
                    since = Some(since.map_or(lo, |s| s.max(lo)));
                }
                if let Some(hi) = hi {
                    r.until = Some(r.until.map_or(hi, |u| u.min(hi)));
                }
            }
            _ => {}
        }
    }
    if let Some(since) = since {
        match log.lsn_at_time(since).map_err(storage)? {
            Some(lsn) => r.from = r.from.max(lsn),
            None => return Ok(None),
        }
    }
    Ok((r.from <= r.to).then_some(r))
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int8(n) => Some(*n),
        Value::Int4(n) => Some(i64::from(*n)),
        Value::Int2(n) => Some(i64::from(*n)),
        _ => None,
    }
}

fn storage(e: zqlite_log::Error) -> Error {
    Error::Storage(e.into())
}

/// Records of `range`, in order: all of them, or only those of `lsns` (sorted) when given.
fn records<'a>(
    log: &'a Log,
    range: Range,
    lsns: Option<Vec<Lsn>>,
) -> Box<dyn Iterator<Item = Result<Record>> + 'a> {
    // Errors pass, to be reported.
    let in_range = move |r: &Result<Record>| match r {
        Ok(r) => range.contains(r),
        Err(_) => true,
    };
    match lsns {
        None => Box::new(
            log.read_from(range.from)
                .map(|r| r.map_err(storage))
                .take_while(in_range),
        ),
        Some(lsns) => Box::new(
            Points::new(
                log,
                lsns.into_iter()
                    .filter(|l| (range.from..=range.to).contains(l))
                    .collect(),
            )
            .filter(in_range),
        ),
    }
}

/// Reads chosen records: one reader moves forward over short gaps instead of being
/// positioned anew for every record.
struct Points<'a> {
    log: &'a Log,
    lsns: std::vec::IntoIter<Lsn>,
    reader: Option<zqlite_log::LogReader>,
}

/// Gaps up to this many records are read through rather than jumped over.
const READ_THROUGH: Lsn = 32;

impl<'a> Points<'a> {
    fn new(log: &'a Log, lsns: Vec<Lsn>) -> Self {
        Points {
            log,
            lsns: lsns.into_iter(),
            reader: None,
        }
    }
}

impl Iterator for Points<'_> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        let lsn = self.lsns.next()?;
        let reuse = self
            .reader
            .as_ref()
            .is_some_and(|r| r.next_lsn() <= lsn && lsn - r.next_lsn() <= READ_THROUGH);
        if !reuse {
            self.reader = Some(self.log.read_from(lsn));
        }
        let reader = self.reader.as_mut().expect("set above");
        loop {
            match reader.next() {
                Some(Ok(r)) if r.lsn < lsn => continue,
                Some(Ok(r)) => return Some(Ok(r)),
                Some(Err(e)) => return Some(Err(storage(e))),
                None => return None,
            }
        }
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

fn text_array<S: AsRef<str>>(items: &[S]) -> Value {
    Value::Array(Arc::new(Array::new(
        DataType::Text,
        items.iter().map(|s| text(s.as_ref())).collect(),
    )))
}

fn jsonb(json: Option<Json>) -> Result<Value> {
    match json {
        None | Some(Json::Null) => Ok(Value::Null),
        Some(j) => Ok(Value::Jsonb(Jsonb::from_serde(j)?)),
    }
}

fn committed_at(record: &Record) -> Value {
    Value::TimestampTz(TimestampTz(record.timestamp - PG_EPOCH_MICROS))
}

fn lsn_value(lsn: Lsn) -> Value {
    Value::Int8(i64::try_from(lsn).unwrap_or(i64::MAX))
}

/// The snapshot's audit index, caught up to it.
fn index<'a>(
    store: &'a Store,
    ctx: &SystemContext<'_>,
) -> Result<zqlite_projections::AuditGuard<'a>> {
    Ok(store.audit_index(ctx.state.lsn())?)
}

fn wanted_text(ctx: &SystemContext<'_>, column: usize) -> Option<String> {
    match ctx.equal_to(column) {
        Some(Value::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

fn zq_log(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let store = store(ctx)?;
    let log = store.log();
    let shapes = index(store, ctx)?.shapes();
    let Some(range) = range(ctx, log)? else {
        return Ok(Vec::new());
    };
    let user = wanted_text(ctx, USER_NAME);
    let mut rows = Vec::new();
    for record in records(log, range, None) {
        let record = record?;
        let AuditRecord::Transaction(tx) = decode_record(&record)? else {
            continue;
        };
        if user.as_ref().is_some_and(|u| *u != tx.meta.user) {
            continue;
        }
        let tables = tables_touched(&shapes, record.lsn, &tx);
        let meta = &tx.meta;
        let params = if meta.params.is_empty() {
            None
        } else {
            Some(
                serde_json::to_value(&meta.params).map_err(|e| Error::Runtime {
                    sqlstate: "XX000",
                    message: format!("cannot show parameters: {e}"),
                })?,
            )
        };
        rows.push(vec![
            lsn_value(record.lsn),
            committed_at(&record),
            text(&meta.user),
            opt_text(meta.tenant.as_deref()),
            opt_text(meta.application_name.as_deref()),
            opt_text(meta.client_addr.as_deref()),
            text_array(&meta.statements),
            jsonb(params)?,
            text_array(&tables),
        ]);
    }
    Ok(rows)
}

fn zq_changes(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let store = store(ctx)?;
    let log = store.log();
    let table = wanted_text(ctx, TABLE_NAME);
    let (shapes, lsns) = {
        let index = index(store, ctx)?;
        let shapes = index.shapes();
        // One table: only the records that touched a table of that name.
        let lsns = table.as_ref().map(|name| {
            let set: BTreeSet<Lsn> = shapes
                .ids_named(name)
                .iter()
                .flat_map(|&id| index.table_lsns(id).iter().copied())
                .collect();
            set.into_iter().collect::<Vec<_>>()
        });
        (shapes, lsns)
    };
    let Some(range) = range(ctx, log)? else {
        return Ok(Vec::new());
    };
    let user = wanted_text(ctx, USER_NAME);
    let op = wanted_text(ctx, OP);
    let mut rows = Vec::new();
    for record in records(log, range, lsns) {
        let record = record?;
        let AuditRecord::Transaction(tx) = decode_record(&record)? else {
            continue;
        };
        if user.as_ref().is_some_and(|u| *u != tx.meta.user) {
            continue;
        }
        for entry in describe_changes(&shapes, record.lsn, &tx) {
            if op.as_ref().is_some_and(|o| o != entry.op)
                || (table.is_some() && entry.table != table)
            {
                continue;
            }
            rows.push(vec![
                lsn_value(record.lsn),
                committed_at(&record),
                text(&tx.meta.user),
                opt_text(tx.meta.tenant.as_deref()),
                opt_text(entry.table.as_deref()),
                text(entry.op),
                jsonb(entry.key)?,
                jsonb(entry.before)?,
                jsonb(entry.after)?,
            ]);
        }
    }
    Ok(rows)
}

/// One version of a row, as `zq_history` shows it.
fn history_row(record: &Record, meta: &TxMeta, entry: ChangeEntry) -> Result<Row> {
    Ok(vec![
        lsn_value(record.lsn),
        committed_at(record),
        text(&meta.user),
        opt_text(meta.tenant.as_deref()),
        opt_text(meta.application_name.as_deref()),
        opt_text(meta.client_addr.as_deref()),
        text(entry.op),
        jsonb(entry.before)?,
        jsonb(entry.after)?,
        text_array(&meta.statements),
    ])
}

fn zq_history(ctx: &SystemContext<'_>, args: &[Value]) -> Result<Vec<Row>> {
    let (Some(Value::Text(name)), Some(Value::Jsonb(key))) = (args.first(), args.get(1)) else {
        // A NULL argument: no row has a NULL table or key.
        return Ok(Vec::new());
    };
    let key: Json = serde_json::from_str(&key.to_string()).map_err(|e| Error::Runtime {
        sqlstate: "22023",
        message: format!("invalid key: {e}"),
    })?;
    let store = store(ctx)?;
    let log = store.log();
    let snapshot = ctx.state.lsn();
    // Per table id that ever had the name: its key, and the records to read.
    let (shapes, wanted) = {
        let index = index(store, ctx)?;
        let shapes: Arc<TableHistory> = index.shapes();
        let ids = shapes.ids_named(name);
        if ids.is_empty() {
            return Err(Error::Runtime {
                sqlstate: "42P01",
                message: format!("relation \"{name}\" does not exist (in the log)"),
            });
        }
        let mut wanted = Vec::new();
        for &id in ids {
            let Some(shape) = shapes.last_known(id) else {
                continue;
            };
            let values = shape.parse_key(&key).map_err(|message| Error::Runtime {
                sqlstate: "22023",
                message,
            })?;
            let lsns: BTreeSet<Lsn> = index
                .row_lsns(id, &values)
                .into_iter()
                .chain(index.table_wide_lsns(id).iter().copied())
                .filter(|&l| l <= snapshot)
                .collect();
            wanted.push((id, values, lsns));
        }
        (shapes, wanted)
    };
    let mut rows = Vec::new();
    for (id, values, lsns) in wanted {
        // The row's latest image while it exists: a truncate or drop ends it.
        let mut alive: Option<Json> = None;
        let all = Range {
            from: 1,
            to: snapshot,
            until: None,
        };
        for record in records(log, all, Some(lsns.into_iter().collect())) {
            let record = record?;
            let AuditRecord::Transaction(tx) = decode_record(&record)? else {
                continue;
            };
            for mut entry in describe_changes(&shapes, record.lsn, &tx) {
                if entry.table_id != Some(id) {
                    continue;
                }
                match entry.op {
                    "insert" | "update" | "delete"
                        if entry.key_values.as_deref() == Some(&values[..]) =>
                    {
                        alive = if entry.op == "delete" {
                            None
                        } else {
                            entry.after.clone()
                        };
                    }
                    "truncate" | "drop_table" if alive.is_some() => {
                        entry.before = alive.take();
                        entry.after = None;
                    }
                    _ => continue,
                }
                rows.push(history_row(&record, &tx.meta, entry)?);
            }
        }
    }
    Ok(rows)
}

fn zq_security_events(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let store = store(ctx)?;
    let log = store.log();
    let lsns = index(store, ctx)?.security_lsns().to_vec();
    let Some(range) = range(ctx, log)? else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    for record in records(log, range, Some(lsns)) {
        let record = record?;
        match decode_record(&record)? {
            AuditRecord::Security(event) => rows.push(vec![
                lsn_value(record.lsn),
                committed_at(&record),
                text(&event.kind),
                text(&event.user),
                text(&event.user),
                opt_text(event.client_addr.as_deref()),
                opt_text(event.application_name.as_deref()),
                text(&event.reason),
            ]),
            AuditRecord::Transaction(tx) => {
                let shapes = TableHistory::default();
                for entry in describe_changes(&shapes, record.lsn, &tx) {
                    if !entry.is_role_change() {
                        continue;
                    }
                    let role = entry
                        .key
                        .as_ref()
                        .and_then(|k| k["role"].as_str())
                        .map(String::from);
                    let meta = &tx.meta;
                    rows.push(vec![
                        lsn_value(record.lsn),
                        committed_at(&record),
                        text(entry.op),
                        text(&meta.user),
                        opt_text(role.as_deref()),
                        opt_text(meta.client_addr.as_deref()),
                        opt_text(meta.application_name.as_deref()),
                        text(&meta.statements.join("; ")),
                    ]);
                }
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use crate::{Database, QueryResult, Value};

    fn query(db: &Database, sql: &str) -> Vec<Vec<String>> {
        match db.session().execute(sql, &[]).unwrap().pop() {
            Some(QueryResult::Rows { rows, .. }) => rows
                .iter()
                .map(|r| r.iter().map(|v| v.to_string()).collect())
                .collect(),
            other => panic!("expected rows, got {other:?}"),
        }
    }

    fn workload(db: &Database) {
        let mut alice = db.session();
        alice.set_user("alice");
        alice.set_tenant(Some("acme".into()));
        alice.set_application_name(Some("billing".into()));
        alice.set_client_addr(Some("10.0.0.1".into()));
        alice
            .execute("CREATE TABLE t (id int8 PRIMARY KEY, v text)", &[])
            .unwrap();
        alice
            .execute(
                "INSERT INTO t VALUES ($1, $2)",
                &[Value::Int8(1), Value::Text("secret-a".into())],
            )
            .unwrap();
        let mut bob = db.session();
        bob.set_user("bob");
        bob.execute("BEGIN", &[]).unwrap();
        bob.execute("UPDATE t SET v = 'b' WHERE id = 1", &[])
            .unwrap();
        bob.execute("INSERT INTO t VALUES (2, 'two')", &[]).unwrap();
        bob.execute("COMMIT", &[]).unwrap();
        alice.execute("DELETE FROM t WHERE id = 1", &[]).unwrap();
        alice
            .execute("CREATE ROLE carol LOGIN PASSWORD 'hunter2'", &[])
            .unwrap();
    }

    #[test]
    fn zq_log_shows_who_ran_what_with_parameters_apart() {
        let db = Database::open_in_memory().unwrap();
        workload(&db);
        let rows = query(
            &db,
            "SELECT lsn, user_name, tenant, application_name, client_addr, statements, \
             params::text, tables FROM zq_log ORDER BY lsn",
        );
        assert_eq!(rows.len(), 5);
        assert_eq!(
            rows[1],
            [
                "2",
                "alice",
                "acme",
                "billing",
                "10.0.0.1",
                "{\"INSERT INTO t VALUES ($1, $2)\"}",
                "[[\"1\", \"secret-a\"]]",
                "{t}"
            ]
        );
        assert_eq!(rows[2][1], "bob");
        assert_eq!(rows[2][2], "NULL");
        assert_eq!(rows[2][7], "{t}");
        assert!(!rows[4][5].contains("hunter2"), "{:?}", rows[4]);
        let bob = query(&db, "SELECT lsn FROM zq_log WHERE user_name = 'bob'");
        assert_eq!(bob, [["3"]]);
        let ranged = query(&db, "SELECT lsn FROM zq.zq_log WHERE lsn > 2 AND lsn <= 4");
        assert_eq!(ranged, [["3"], ["4"]]);
        let timed = query(
            &db,
            "SELECT count(*) FROM zq_log WHERE committed_at >= '2000-01-01'::timestamptz \
             AND committed_at <= now()",
        );
        assert_eq!(timed, [["5"]]);
        let future = query(
            &db,
            "SELECT count(*) FROM zq_log WHERE committed_at > '2999-01-01'::timestamptz",
        );
        assert_eq!(future, [["0"]]);
    }

    #[test]
    fn zq_changes_has_keys_and_before_and_after_images() {
        let db = Database::open_in_memory().unwrap();
        workload(&db);
        let rows = query(
            &db,
            "SELECT lsn, user_name, op, key::text, before::text, after::text FROM zq_changes \
             WHERE table_name = 't' ORDER BY lsn",
        );
        let expected = [
            ["1", "alice", "create_table", "NULL", "NULL"],
            ["2", "alice", "insert", "{\"id\": 1}", "NULL"],
            [
                "3",
                "bob",
                "update",
                "{\"id\": 1}",
                "{\"v\": \"secret-a\", \"id\": 1}",
            ],
            ["3", "bob", "insert", "{\"id\": 2}", "NULL"],
            [
                "4",
                "alice",
                "delete",
                "{\"id\": 1}",
                "{\"v\": \"b\", \"id\": 1}",
            ],
        ];
        assert_eq!(rows.len(), expected.len(), "{rows:?}");
        for (row, want) in rows.iter().zip(expected) {
            assert_eq!(row[..5], want, "{row:?}");
        }
        assert_eq!(rows[2][5], "{\"v\": \"b\", \"id\": 1}");
        assert_eq!(rows[4][5], "NULL");
        let roles = query(
            &db,
            "SELECT op, key::text, after::text FROM zq_changes WHERE op = 'create_role'",
        );
        assert_eq!(
            roles,
            [[
                "create_role",
                "{\"role\": \"carol\"}",
                "{\"login\": true, \"password\": true}"
            ]]
        );
    }

    #[test]
    fn zq_history_follows_one_row_and_security_events_list_role_changes() {
        let db = Database::open_in_memory().unwrap();
        workload(&db);
        let rows = query(
            &db,
            "SELECT lsn, user_name, op, after::text FROM zq_history('t', '{\"id\": 1}')",
        );
        assert_eq!(
            rows,
            [
                ["2", "alice", "insert", "{\"v\": \"secret-a\", \"id\": 1}"],
                ["3", "bob", "update", "{\"v\": \"b\", \"id\": 1}"],
                ["4", "alice", "delete", "NULL"],
            ]
        );
        let two = query(&db, "SELECT op FROM zq_history('t', '{\"id\": \"2\"}')");
        assert_eq!(two, [["insert"]]);
        db.session().execute("TRUNCATE t", &[]).unwrap();
        let truncated = query(
            &db,
            "SELECT op, before::text FROM zq_history('t', '{\"id\": 2}') ORDER BY lsn",
        );
        assert_eq!(
            truncated,
            [
                ["insert", "NULL"],
                ["truncate", "{\"v\": \"two\", \"id\": 2}"]
            ]
        );
        let err = db
            .session()
            .execute("SELECT * FROM zq_history('nope', '{\"id\": 1}')", &[])
            .unwrap_err();
        assert_eq!(err.sqlstate(), "42P01");
        let err = db
            .session()
            .execute("SELECT * FROM zq_history('t', '{\"v\": 1}')", &[])
            .unwrap_err();
        assert_eq!(err.sqlstate(), "22023");
        let events = query(
            &db,
            "SELECT kind, user_name, role_name, detail FROM zq_security_events",
        );
        assert_eq!(events.len(), 1);
        assert_eq!(events[0][..3], ["create_role", "alice", "carol"]);
        assert!(!events[0][3].contains("hunter2"), "{events:?}");
    }
}
