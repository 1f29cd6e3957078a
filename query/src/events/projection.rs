//! Projections defined in SQL: INSERT / UPDATE / DELETE statements run once for every
//! event of the projection's event types, reading the event from the one-row relation
//! `zq_event`.
//!
//! - Definitions are catalog entries ([`Change::CreateProjection`]): log records like any
//!   DDL. A projection owns its target tables (the tables its statements write): a rebuild
//!   empties them and runs the statements over every stored event again.
//! - Inline: every append through the query layer runs the projections over the new events
//!   in the same transaction ([`run_inline`]); creating a projection runs it over the
//!   events already stored, so a projection has always processed the whole event store.
//! - Events are applied in position order, and for one event the projections in name order.
//!   Soft-deleted and tombstoned events count: a rebuild sees what the inline runs saw.
//! - The event being applied lives in a thread-local slot ([`current_event`]) for exactly
//!   the duration of its statements: statements run synchronously on the caller's thread,
//!   and `zq_event` read anywhere else is an error, never a stale event.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlparser::ast::{Statement, TableFactor, TableObject};
use zqlite_projections::events::EventView;
use zqlite_projections::value::{Jsonb, TimestampTz, Value};
use zqlite_projections::{Change, ProjectionDef, ProjectionProgress, Transaction};

use crate::bind::object_name;
use crate::error::{Error, Result};
use crate::session::{parse, run_write};

/// The relation a projection statement reads its event from.
pub const PROJECTION_EVENT: &str = "zq_event";

/// Microseconds from the Unix epoch to PostgreSQL's epoch (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

thread_local! {
    static EVENT: RefCell<Option<Vec<Value>>> = const { RefCell::new(None) };
}

/// The row of `zq_event` while a projection statement runs on this thread.
pub fn current_event() -> Option<Vec<Value>> {
    EVENT.with(|slot| slot.borrow().clone())
}

/// Runs `f` with `row` as the current event, restoring the previous one after.
fn with_event<R>(row: Vec<Value>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Vec<Value>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            EVENT.with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let _restore = Restore(EVENT.with(|slot| slot.borrow_mut().replace(row)));
    f()
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The `zq_event` row of an event: position, stream, version, id, type, data, metadata,
/// recorded_at. An event appended by the running transaction has no commit time yet: its
/// `recorded_at` is the clock now, which the commit time (assigned when the record is
/// written, after the statements ran) does not precede.
fn event_row(view: &EventView) -> Result<Vec<Value>> {
    let e = &view.event;
    let json = |s: &str| -> Result<Value> { Ok(Value::Jsonb(Jsonb::parse(s)?)) };
    let at = view.recorded_at.unwrap_or_else(now_micros);
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
        Value::TimestampTz(TimestampTz(at - PG_EPOCH_MICROS)),
    ])
}

/// A projection ready to run: its definition and parsed statements.
struct Loaded {
    def: Arc<ProjectionDef>,
    statements: Vec<Statement>,
    progress: ProjectionProgress,
    changed: bool,
}

fn load(txn: &Transaction, def: Arc<ProjectionDef>) -> Result<Loaded> {
    let statements = parse(&def.sql)?;
    let progress = txn
        .state()
        .projection_progress(&def.name)
        .unwrap_or_default();
    Ok(Loaded {
        def,
        statements,
        progress,
        changed: false,
    })
}

/// Runs `projections` over the events at positions `from..` (to the end), then records
/// their progress.
fn run(txn: &mut Transaction, projections: &mut [Loaded], from: u64) -> Result<()> {
    let to = txn.state().events().next_position();
    for position in from..to {
        let Some(view) = txn.state().events().view_at(position) else {
            continue;
        };
        let wanted: Vec<usize> = (0..projections.len())
            .filter(|&i| {
                projections[i]
                    .def
                    .event_types
                    .iter()
                    .any(|t| **t == *view.event.event_type)
            })
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let row = event_row(&view)?;
        for i in wanted {
            let p = &mut projections[i];
            let statements = &p.statements;
            let result = with_event(row.clone(), || {
                statements
                    .iter()
                    .try_for_each(|stmt| run_write(txn, stmt, &[], None).map(drop))
            });
            if let Err(e) = result {
                return Err(failed(&p.def.name, &view, e));
            }
            p.progress.last_position = Some(position);
            p.progress.events_applied += 1;
            p.changed = true;
        }
    }
    for p in projections.iter().filter(|p| p.changed) {
        txn.apply(Change::SetProjectionProgress {
            name: p.def.name.clone(),
            last_position: p.progress.last_position,
            events_applied: p.progress.events_applied,
        })?;
    }
    Ok(())
}

/// A projection statement's error, naming the projection and the event. A row held by a
/// transaction block stays [`zqlite_projections::Error::RowLocked`], so the caller waits
/// for the block and retries the whole append.
fn failed(name: &str, view: &EventView, inner: Error) -> Error {
    if matches!(
        inner,
        Error::Storage(zqlite_projections::Error::RowLocked { .. })
    ) {
        return inner;
    }
    let e = &view.event;
    Error::Runtime {
        sqlstate: inner.sqlstate(),
        message: format!(
            "projection \"{name}\" failed on event {} ({} in stream \"{}\" at version {}): \
             {inner}",
            e.position, e.event_type, e.stream, e.version
        ),
    }
}

/// Runs every projection over the events appended from position `from` on (the events
/// of the append that just ran in `txn`).
pub(crate) fn run_inline(txn: &mut Transaction, from: u64) -> Result<()> {
    let defs: Vec<Arc<ProjectionDef>> = txn.state().catalog().projections().cloned().collect();
    if defs.is_empty() || from >= txn.state().events().next_position() {
        return Ok(());
    }
    let mut loaded = defs
        .into_iter()
        .map(|d| load(txn, d))
        .collect::<Result<Vec<_>>>()?;
    run(txn, &mut loaded, from)
}

fn invalid(sqlstate: &'static str, message: String) -> Error {
    Error::Runtime { sqlstate, message }
}

/// The tables `statements` write, checking that each is an INSERT, UPDATE or DELETE on a
/// plain table.
fn targets(txn: &Transaction, statements: &[Statement]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for stmt in statements {
        let name = match stmt {
            Statement::Insert(i) => match &i.table {
                TableObject::TableName(name) => object_name(name)?,
                other => {
                    return Err(Error::unsupported(format!(
                        "INSERT INTO {other} in a projection"
                    )));
                }
            },
            Statement::Update(u) => match &u.table.relation {
                TableFactor::Table { name, .. } => object_name(name)?,
                other => {
                    return Err(Error::unsupported(format!(
                        "UPDATE {other} in a projection"
                    )));
                }
            },
            Statement::Delete(d) => {
                let tables = match &d.from {
                    sqlparser::ast::FromTable::WithFromKeyword(t)
                    | sqlparser::ast::FromTable::WithoutKeyword(t) => t,
                };
                match tables.first().map(|t| &t.relation) {
                    Some(TableFactor::Table { name, .. }) => object_name(name)?,
                    _ => return Err(Error::unsupported("this DELETE in a projection")),
                }
            }
            other => {
                let text = other.to_string();
                let head: Vec<&str> = text.split_whitespace().take(2).collect();
                return Err(invalid(
                    "42601",
                    format!(
                        "a projection runs INSERT, UPDATE and DELETE statements, not {}",
                        head.join(" ")
                    ),
                ));
            }
        };
        if txn.state().catalog().table_by_name(&name).is_none() {
            return Err(invalid(
                "42P01",
                format!("relation \"{name}\" does not exist (written by the projection)"),
            ));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// `zq_create_projection(name, event_types, sql)`: defines the projection and runs it over
/// the events already stored. Returns its progress.
pub(crate) fn create(
    txn: &mut Transaction,
    name: &str,
    event_types: Vec<String>,
    sql: &str,
) -> Result<ProjectionProgress> {
    if name.is_empty() {
        return Err(invalid("22023", "a projection needs a name".into()));
    }
    if event_types.is_empty() || event_types.iter().any(String::is_empty) {
        return Err(invalid(
            "22023",
            "a projection needs event types: give a non-empty array of non-empty type names".into(),
        ));
    }
    if txn.state().catalog().projection(name).is_some() {
        return Err(invalid(
            "42710",
            format!("projection \"{name}\" already exists"),
        ));
    }
    let statements = parse(sql)?;
    if statements.is_empty() {
        return Err(invalid(
            "42601",
            "a projection needs at least one statement".into(),
        ));
    }
    let targets = targets(txn, &statements)?;
    txn.apply(Change::CreateProjection(ProjectionDef {
        name: name.to_string(),
        event_types,
        sql: sql.to_string(),
        targets,
    }))?;
    catch_up(txn, name)
}

fn lookup(txn: &Transaction, name: &str) -> Result<Arc<ProjectionDef>> {
    txn.state()
        .catalog()
        .projection(name)
        .cloned()
        .ok_or_else(|| invalid("42704", format!("projection \"{name}\" does not exist")))
}

/// Runs one projection over every stored event (its progress must be empty).
fn catch_up(txn: &mut Transaction, name: &str) -> Result<ProjectionProgress> {
    let def = lookup(txn, name)?;
    let mut loaded = [load(txn, def)?];
    run(txn, &mut loaded, 0)?;
    Ok(txn.state().projection_progress(name).unwrap_or_default())
}

/// `zq_rebuild_projection(name)`: empties the projection's target tables and runs it over
/// every stored event again, in one transaction.
pub(crate) fn rebuild(txn: &mut Transaction, name: &str) -> Result<ProjectionProgress> {
    let def = lookup(txn, name)?;
    for target in &def.targets {
        let table = txn
            .state()
            .catalog()
            .table_by_name(target)
            .map(|t| t.id)
            .ok_or_else(|| {
                invalid(
                    "42P01",
                    format!("relation \"{target}\" of projection \"{name}\" does not exist"),
                )
            })?;
        txn.apply(Change::Truncate { table })?;
    }
    txn.apply(Change::SetProjectionProgress {
        name: name.to_string(),
        last_position: None,
        events_applied: 0,
    })?;
    catch_up(txn, name)
}

/// `zq_drop_projection(name)`: removes the definition; its tables and rows stay.
pub(crate) fn drop_projection(txn: &mut Transaction, name: &str) -> Result<()> {
    lookup(txn, name)?;
    txn.apply(Change::DropProjection {
        name: name.to_string(),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use zqlite_projections::{ExpectedVersion, NewEvent, StreamAppend, TxMeta};

    use crate::{Database, QueryResult, Session, Value};

    fn rows(s: &mut Session, sql: &str) -> Vec<Vec<String>> {
        match s
            .execute(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .pop()
        {
            Some(QueryResult::Rows { rows, .. }) => rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| match v {
                            Value::Null => "NULL".to_string(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect(),
            other => panic!("expected rows, got {other:?}"),
        }
    }

    fn sqlstate(s: &mut Session, sql: &str) -> String {
        s.execute(sql, &[])
            .err()
            .unwrap_or_else(|| panic!("{sql} should fail"))
            .sqlstate()
            .to_string()
    }

    fn append(s: &mut Session, stream: &str, events: &str) -> Vec<Vec<String>> {
        rows(
            s,
            &format!("SELECT * FROM zq_append('{stream}', 'any', '{events}')"),
        )
    }

    const SETUP: &str = "
        CREATE TABLE totals (stream text PRIMARY KEY, n int NOT NULL, last bigint);
        SELECT * FROM zq_create_projection('totals', ARRAY['Add'], $$
            INSERT INTO totals
            SELECT stream, 0, NULL FROM zq_event
            WHERE NOT EXISTS (SELECT 1 FROM totals t WHERE t.stream = (SELECT stream FROM zq_event));
            UPDATE totals SET n = n + (SELECT (data->>'n')::int FROM zq_event),
                              last = (SELECT position FROM zq_event)
            WHERE stream = (SELECT stream FROM zq_event)
        $$);";

    #[test]
    fn appends_run_matching_projections_in_their_transaction() {
        let db = Database::open_in_memory().unwrap();
        let mut s = db.session();
        append(&mut s, "a", r#"[{"type": "Add", "data": {"n": 2}}]"#);
        s.execute(SETUP, &[]).unwrap();
        assert_eq!(
            rows(&mut s, "SELECT * FROM totals"),
            [["a", "2", "0"]],
            "caught up"
        );
        append(
            &mut s,
            "a",
            r#"[{"type": "Add", "data": {"n": 3}}, {"type": "Other", "data": {"n": 100}}]"#,
        );
        append(&mut s, "b", r#"[{"type": "Add", "data": {"n": 1}}]"#);
        assert_eq!(
            rows(&mut s, "SELECT * FROM totals ORDER BY stream"),
            [["a", "5", "1"], ["b", "1", "3"]]
        );
        assert_eq!(
            rows(
                &mut s,
                "SELECT name, event_types, targets, last_position, events_applied FROM zq_projections"
            ),
            [["totals", "{Add}", "{totals}", "3", "3"]]
        );
        // The HTTP API's entry point runs them too.
        let (_, pending) = db
            .append_events(
                TxMeta::default(),
                vec![StreamAppend {
                    stream: "b".into(),
                    expected: ExpectedVersion::Exact(0),
                    events: vec![NewEvent {
                        id: uuid::Uuid::new_v4(),
                        event_type: "Add".into(),
                        data: r#"{"n": 10}"#.into(),
                        metadata: None,
                    }],
                }],
            )
            .unwrap();
        db.store().wait(pending).unwrap();
        assert_eq!(
            rows(&mut s, "SELECT n FROM totals WHERE stream = 'b'"),
            [["11"]]
        );
    }

    #[test]
    fn a_failing_statement_leaves_nothing_and_rebuild_starts_over() {
        let db = Database::open_in_memory().unwrap();
        let mut s = db.session();
        s.execute(SETUP, &[]).unwrap();
        append(&mut s, "a", r#"[{"type": "Add", "data": {"n": 1}}]"#);
        let lsn = db.store().snapshot().lsn();
        let bad = r#"SELECT * FROM zq_append('a', 'any', '[{"type": "Add", "data": {"n": 1}}, {"type": "Add", "data": {"n": "x"}}]')"#;
        let e = s.execute(bad, &[]).unwrap_err();
        assert_eq!(e.sqlstate(), "22P02");
        assert!(
            e.to_string().starts_with(
                "projection \"totals\" failed on event 2 (Add in stream \"a\" at version 2)"
            ),
            "{e}"
        );
        assert_eq!(db.store().snapshot().lsn(), lsn, "no record written");
        assert_eq!(rows(&mut s, "SELECT n FROM totals"), [["1"]]);
        // In a block the failure fails the block, and ROLLBACK undoes the earlier writes.
        s.execute("BEGIN", &[]).unwrap();
        append(&mut s, "a", r#"[{"type": "Add", "data": {"n": 5}}]"#);
        assert_eq!(rows(&mut s, "SELECT n FROM totals"), [["6"]]);
        assert!(s.execute(bad, &[]).is_err());
        assert_eq!(sqlstate(&mut s, "SELECT 1"), "25P02");
        s.execute("ROLLBACK", &[]).unwrap();
        assert_eq!(rows(&mut s, "SELECT n FROM totals"), [["1"]]);
        assert_eq!(rows(&mut s, "SELECT count(*) FROM zq_events"), [["1"]]);
        // Rebuild from the log after the table was damaged.
        s.execute("UPDATE totals SET n = 999", &[]).unwrap();
        assert_eq!(
            rows(&mut s, "SELECT * FROM zq_rebuild_projection('totals')"),
            [["totals", "0", "1"]]
        );
        assert_eq!(rows(&mut s, "SELECT n FROM totals"), [["1"]]);
        assert_eq!(sqlstate(&mut s, "SELECT * FROM zq_event"), "55000");
        assert_eq!(
            sqlstate(
                &mut s,
                "SELECT * FROM zq_create_projection('x', ARRAY[]::text[], 'DELETE FROM totals')"
            ),
            "22023"
        );
        assert_eq!(
            sqlstate(
                &mut s,
                "SELECT * FROM zq_create_projection('x', ARRAY['A'], 'CREATE TABLE y (a int)')"
            ),
            "42601"
        );
        rows(&mut s, "SELECT * FROM zq_drop_projection('totals')");
        assert_eq!(
            sqlstate(&mut s, "SELECT * FROM zq_drop_projection('totals')"),
            "42704"
        );
        append(&mut s, "a", r#"[{"type": "Add", "data": {"n": 5}}]"#);
        assert_eq!(
            rows(&mut s, "SELECT n FROM totals"),
            [["1"]],
            "dropped: not run"
        );
    }

    #[test]
    fn projections_survive_replay_and_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).unwrap();
        let mut s = db.session();
        s.execute(SETUP, &[]).unwrap();
        append(&mut s, "a", r#"[{"type": "Add", "data": {"n": 4}}]"#);
        let live = db.store().snapshot();
        let replayed = zqlite_projections::replay_all(db.store().log()).unwrap();
        assert_eq!(live.digest(), replayed.digest());
        drop(s);
        db.store().checkpoint().unwrap();
        db.close().unwrap();
        let db = Database::open(dir.path()).unwrap();
        let mut s = db.session();
        append(&mut s, "a", r#"[{"type": "Add", "data": {"n": 1}}]"#);
        assert_eq!(
            rows(
                &mut s,
                "SELECT n, (SELECT events_applied FROM zq_projections) FROM totals"
            ),
            [["5", "2"]]
        );
    }
}
