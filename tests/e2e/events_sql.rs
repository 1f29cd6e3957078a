//! The event store from SQL end to end: `zq_append` over tokio-postgres with the HTTP API's
//! expected-version rules, its atomicity inside transaction blocks, inline projections
//! (readers never see an event without its projection rows; a failing projection fails the
//! append), rebuilds, and the ghostflow example run against the real binary.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::http_client::{post, request};
use crate::server::Server;

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(&dir.path().join("data"), &[]);
    (dir, server)
}

/// The rows of a simple query, as text (NULL as "NULL").
async fn rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

async fn one(client: &Client, sql: &str) -> String {
    rows(client, sql).await[0][0].clone()
}

/// The SQLSTATE and message of a statement that must fail.
async fn error(client: &Client, sql: &str) -> (String, String) {
    let e = client
        .simple_query(sql)
        .await
        .err()
        .unwrap_or_else(|| panic!("{sql} should fail"));
    let db = e
        .as_db_error()
        .unwrap_or_else(|| panic!("a server error: {e}"));
    (db.code().code().to_string(), db.message().to_string())
}

fn events(types: &[&str]) -> String {
    let list: Vec<serde_json::Value> = types
        .iter()
        .map(|t| json!({"type": t, "data": {"n": 1}}))
        .collect();
    serde_json::Value::Array(list).to_string()
}

#[tokio::test]
async fn zq_append_follows_the_http_apis_expected_versions() {
    let (_dir, server) = server();
    let c = server.client().await;
    let first = rows(
        &c,
        &format!(
            "SELECT * FROM zq_append('order-1', 'no_stream', '{}')",
            events(&["A", "B"])
        ),
    )
    .await;
    assert_eq!(first, [["order-1", "0", "1", "0", "1"]]);
    // A stale writer: ZQ001, and the message gives the current version.
    let (code, message) = error(
        &c,
        &format!(
            "SELECT * FROM zq_append('order-1', 0, '{}')",
            events(&["C"])
        ),
    )
    .await;
    assert_eq!(code, "ZQ001");
    assert!(message.contains("current 1"), "{message}");
    let (code, message) = error(
        &c,
        &format!(
            "SELECT * FROM zq_append('order-2', 'stream_exists', '{}')",
            events(&["C"])
        ),
    )
    .await;
    assert_eq!(code, "ZQ001");
    assert!(message.contains("does not exist"), "{message}");
    // Exact, then any; only the selected columns come back.
    let last = one(
        &c,
        &format!(
            "SELECT last_version FROM zq_append('order-1', '1', '{}')",
            events(&["C"])
        ),
    )
    .await;
    assert_eq!(last, "2");
    // An idempotent retry returns the original positions and appends nothing.
    let with_ids = json!([
        {"id": "8c1f8a3e-5d4b-4f0e-9a7c-2b1d0e9f8a71", "type": "D", "data": {}},
        {"id": "8c1f8a3e-5d4b-4f0e-9a7c-2b1d0e9f8a72", "type": "E", "data": {}}
    ])
    .to_string();
    let sql = format!("SELECT * FROM zq_append('order-1', 'stream_exists', '{with_ids}')");
    let once = rows(&c, &sql).await;
    let again = rows(&c, &sql).await;
    assert_eq!(once, again);
    assert_eq!(once, [["order-1", "3", "4", "3", "4"]]);
    assert_eq!(one(&c, "SELECT count(*) FROM zq_events").await, "5");
    // The same id in another stream: a unique violation, as HTTP's duplicate_event_id.
    let (code, _) = error(
        &c,
        &format!("SELECT * FROM zq_append('order-9', 'any', '{with_ids}')"),
    )
    .await;
    assert_eq!(code, "23505");
    // A tombstoned stream takes no more events.
    assert_eq!(
        request(
            server.http_port,
            "DELETE",
            "/v1/streams/order-1?hard=true",
            &[],
            None
        )
        .status,
        204
    );
    let (code, message) = error(
        &c,
        &format!(
            "SELECT * FROM zq_append('order-1', 'any', '{}')",
            events(&["F"])
        ),
    )
    .await;
    assert_eq!(code, "ZQ002", "{message}");
    // Bad arguments are clear errors.
    for (sql, code) in [
        (
            "SELECT * FROM zq_append('s', 'soon', '[{\"type\": \"A\", \"data\": 1}]')",
            "22023",
        ),
        (
            "SELECT * FROM zq_append('s', 'any', '[{\"data\": 1}]')",
            "22023",
        ),
        ("SELECT * FROM zq_append('s', 'any', '[]')", "22023"),
        (
            "SELECT * FROM zq_append(NULL, 'any', '[{\"type\": \"A\", \"data\": 1}]')",
            "22004",
        ),
        ("SELECT * FROM zq_append('s', 'any')", "42883"),
        (
            "SELECT * FROM zq_events, zq_append('s', 'any', '[{\"type\": \"A\", \"data\": 1}]')",
            "0A000",
        ),
    ] {
        assert_eq!(error(&c, sql).await.0, code, "{sql}");
    }
    // Over the extended protocol, with parameters.
    let row = c
        .query_one(
            "SELECT first_version, stream FROM zq_append($1, $2, '[{\"type\": \"G\", \"data\": 7}]')",
            &[&"order-3", &"no_stream"],
        )
        .await
        .expect("a prepared zq_append");
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, String>(1)),
        (0, "order-3".to_string())
    );
}

#[tokio::test]
async fn zq_append_in_a_block_commits_or_rolls_back_with_the_other_writes() {
    let (_dir, server) = server();
    let c = server.client().await;
    c.batch_execute("CREATE TABLE notes (id int PRIMARY KEY, note text)")
        .await
        .unwrap();
    let append = |stream: &str, expected: &str| {
        format!(
            "SELECT * FROM zq_append('{stream}', '{expected}', '{}')",
            events(&["A"])
        )
    };
    c.batch_execute(&format!(
        "BEGIN; {}; INSERT INTO notes VALUES (1, 'x'); ROLLBACK",
        append("s", "no_stream")
    ))
    .await
    .unwrap();
    assert_eq!(one(&c, "SELECT count(*) FROM zq_events").await, "0");
    assert_eq!(one(&c, "SELECT count(*) FROM notes").await, "0");
    // Inside the block the append is visible to the block only.
    c.batch_execute("BEGIN").await.unwrap();
    rows(&c, &append("s", "no_stream")).await;
    c.batch_execute("INSERT INTO notes VALUES (1, 'x')")
        .await
        .unwrap();
    assert_eq!(one(&c, "SELECT count(*) FROM zq_events").await, "1");
    let other = server.client().await;
    assert_eq!(one(&other, "SELECT count(*) FROM zq_events").await, "0");
    c.batch_execute("COMMIT").await.unwrap();
    assert_eq!(
        rows(
            &other,
            "SELECT (SELECT count(*) FROM zq_events), (SELECT count(*) FROM notes)"
        )
        .await,
        [["1", "1"]]
    );
    // A failing statement fails the block: nothing of it commits.
    c.batch_execute("BEGIN").await.unwrap();
    c.batch_execute("INSERT INTO notes VALUES (2, 'y')")
        .await
        .unwrap();
    assert_eq!(error(&c, &append("s", "no_stream")).await.0, "ZQ001");
    assert!(rows(&c, "COMMIT").await.is_empty(), "no rows from COMMIT");
    assert_eq!(one(&other, "SELECT count(*) FROM notes").await, "1");
    // The expectation is checked again at COMMIT against later commits.
    c.batch_execute("BEGIN").await.unwrap();
    rows(&c, &append("s", "0")).await;
    rows(&other, &append("s", "0")).await;
    let e = c
        .batch_execute("COMMIT")
        .await
        .expect_err("the later commit loses");
    assert_eq!(e.code().map(|c| c.code()), Some("ZQ001"));
    assert_eq!(one(&other, "SELECT count(*) FROM zq_events").await, "2");
}

const TICKS: &str = "
    CREATE TABLE ticks (position bigint PRIMARY KEY, stream text NOT NULL, n int CHECK (n < 1000));
    SELECT * FROM zq_create_projection('ticks', ARRAY['Tick'], $$
        INSERT INTO ticks SELECT position, stream, (data->>'n')::int FROM zq_event
    $$);";

#[tokio::test]
async fn readers_never_see_an_event_without_its_projection_rows() {
    let (_dir, server) = server();
    let c = server.client().await;
    c.batch_execute(TICKS).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let client = server.client().await;
        let stop = stop.clone();
        readers.push(tokio::spawn(async move {
            let mut checks = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = rows(
                    &client,
                    "SELECT (SELECT count(*) FROM zq_events WHERE type = 'Tick'), \
                            (SELECT count(*) FROM ticks)",
                )
                .await;
                assert_eq!(r[0][0], r[0][1], "events and projection rows move together");
                checks += 1;
            }
            checks
        }));
    }
    let port = server.http_port;
    let http = tokio::task::spawn_blocking(move || {
        for i in 0..40 {
            let body = json!({"events": [{"type": "Tick", "data": {"n": i}}, {"type": "Other", "data": {}}]});
            assert_eq!(
                post(port, &format!("/v1/streams/h-{}", i % 4), &body).status,
                201
            );
        }
    });
    for i in 0..40 {
        let sql = format!(
            "SELECT * FROM zq_append('s-{}', 'any', '[{{\"type\": \"Tick\", \"data\": {{\"n\": {i}}}}}]')",
            i % 4
        );
        rows(&c, &sql).await;
    }
    http.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.await.unwrap() > 0, "each reader checked");
    }
    assert_eq!(
        rows(&c, "SELECT count(*), sum(n) FROM ticks").await,
        [["80", &(2 * (0..40).sum::<i32>()).to_string()]]
    );
    let progress = rows(
        &c,
        "SELECT name, event_types, targets, events_applied FROM zq_projections",
    )
    .await;
    assert_eq!(progress, [["ticks", "{Tick}", "{ticks}", "80"]]);
}

#[tokio::test]
async fn a_failing_projection_fails_the_append_and_rebuild_replays_the_log() {
    let (dir, server) = server();
    let c = server.client().await;
    rows(
        &c,
        "SELECT * FROM zq_append('early', 'any', '[{\"type\": \"Tick\", \"data\": {\"n\": 5}}]')",
    )
    .await;
    c.batch_execute(TICKS).await.unwrap();
    // Creating the projection ran it over the event already stored.
    assert_eq!(rows(&c, "SELECT n FROM ticks").await, [["5"]]);
    assert_eq!(
        rows(
            &c,
            "SELECT last_position, events_applied FROM zq_projections"
        )
        .await,
        [["0", "1"]]
    );
    // n = 5000 breaks the CHECK: the append fails whole, over SQL and over HTTP.
    let bad = r#"[{"type": "Tick", "data": {"n": 1}}, {"type": "Tick", "data": {"n": 5000}}]"#;
    let (code, message) = error(&c, &format!("SELECT * FROM zq_append('s', 'any', '{bad}')")).await;
    assert_eq!(code, "23514", "{message}");
    assert!(
        message.contains("projection \"ticks\" failed on event 2"),
        "{message}"
    );
    let r = post(
        server.http_port,
        "/v1/streams/s",
        &json!({"events": serde_json::from_str::<serde_json::Value>(bad).unwrap()}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "projection_failed");
    assert_eq!(r.json()["error"]["sqlstate"], "23514");
    assert_eq!(
        one(&c, "SELECT count(*) FROM zq_events").await,
        "1",
        "nothing appended"
    );
    assert_eq!(one(&c, "SELECT count(*) FROM ticks").await, "1");
    // zq_event outside a projection is an error, not an empty relation.
    assert_eq!(error(&c, "SELECT * FROM zq_event").await.0, "55000");
    // Statements a projection cannot run are refused at creation.
    let (code, _) = error(
        &c,
        "SELECT * FROM zq_create_projection('p', ARRAY['X'], 'SELECT 1')",
    )
    .await;
    assert_eq!(code, "42601");
    let (code, _) = error(
        &c,
        "SELECT * FROM zq_create_projection('p', ARRAY['X'], 'DELETE FROM nowhere')",
    )
    .await;
    assert_eq!(code, "42P01");
    let (code, _) = error(
        &c,
        "SELECT * FROM zq_create_projection('ticks', ARRAY['X'], 'DELETE FROM ticks')",
    )
    .await;
    assert_eq!(code, "42710");
    // Rebuild: damage the table, rebuild from the log.
    rows(
        &c,
        "SELECT * FROM zq_append('s', 'any', '[{\"type\": \"Tick\", \"data\": {\"n\": 7}}]')",
    )
    .await;
    c.batch_execute("DELETE FROM ticks; INSERT INTO ticks VALUES (99, 'junk', 1)")
        .await
        .unwrap();
    assert_eq!(
        rows(&c, "SELECT * FROM zq_rebuild_projection('ticks')").await,
        [["ticks", "1", "2"]]
    );
    assert_eq!(
        rows(&c, "SELECT position, n FROM ticks ORDER BY position").await,
        [["0", "5"], ["1", "7"]]
    );
    assert_eq!(
        error(&c, "SELECT * FROM zq_rebuild_projection('nope')")
            .await
            .0,
        "42704"
    );
    // The same from the command line, with the server stopped.
    c.batch_execute("DELETE FROM ticks").await.unwrap();
    drop(c);
    assert!(server.terminate().success());
    let out = Command::new(crate::zqlite_binary())
        .args(["rebuild", "--projection", "ticks", "--json", "--data"])
        .arg(dir.path().join("data"))
        .output()
        .expect("zqlite rebuild runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(
        summary,
        json!({"projection": "ticks", "last_position": 1, "events_applied": 2})
    );
    let server = Server::start(&dir.path().join("data"), &[]);
    let c = server.client().await;
    assert_eq!(one(&c, "SELECT count(*) FROM ticks").await, "2");
    // Dropping keeps the table and stops the projection.
    rows(&c, "SELECT * FROM zq_drop_projection('ticks')").await;
    rows(
        &c,
        "SELECT * FROM zq_append('s', 'any', '[{\"type\": \"Tick\", \"data\": {\"n\": 8}}]')",
    )
    .await;
    assert_eq!(one(&c, "SELECT count(*) FROM ticks").await, "2");
    assert_eq!(one(&c, "SELECT count(*) FROM zq_projections").await, "0");
}

#[tokio::test]
async fn json_operators_answer_as_postgres_does() {
    let (_dir, server) = server();
    let c = server.client().await;
    // Expected values from PostgreSQL 15.
    let got = rows(
        &c,
        r#"SELECT '{"a": {"b": [1, "x", null]}}'::jsonb -> 'a' -> 'b' -> 1,
                  '{"a": {"b": [1, "x", null]}}'::jsonb #>> '{a,b,1}',
                  '{"a": {"b": [1, "x", null]}}'::jsonb #> '{a,b,-1}',
                  ('{"a": null}'::jsonb ->> 'a') IS NULL,
                  '{"a": {"c":1, "b":[ 2 ]}}'::json -> 'a',
                  '[1,2,3]'::jsonb -> -1,
                  jsonb_typeof('{"a": 1}'::jsonb -> 'a'),
                  jsonb_build_object('b', 1, 'a', 'x', 'c', NULL)"#,
    )
    .await;
    assert_eq!(
        got,
        [[
            r#""x""#,
            "x",
            "null",
            "t",
            r#"{"c":1, "b":[ 2 ]}"#,
            "3",
            "number",
            r#"{"a": "x", "b": 1, "c": null}"#
        ]]
    );
    let e = c.simple_query("SELECT 1 ->> 'a'").await.unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("42883"));
    let row = c
        .query_one("SELECT ('{\"n\": 41}'::jsonb ->> 'n')::int + 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
}

#[test]
fn the_ghostflow_example_runs_against_the_real_server() {
    let (_dir, server) = server();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/ghostflow/run.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("ZQ_PG_PORT", server.port().to_string())
        .env("ZQ_HTTP", format!("http://127.0.0.1:{}", server.http_port))
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("bash runs the example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let section = |title: &str| -> Vec<String> {
        stdout
            .split("== ")
            .find(|s| s.starts_with(title))
            .unwrap_or_else(|| panic!("no section {title:?} in:\n{stdout}"))
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        section("runs\n"),
        [
            "r1 | ingest | succeeded | 2 | 0",
            "r2 | ingest | running | 1 | 1",
            "r3 | report | running | 0 | 0",
            "r4 | report | failed | 0 | 1",
        ]
    );
    assert_eq!(section("runs stuck"), ["r2 | ingest | t | 1"]);
    let rates = section("failure rate");
    let total = |ty: &str| -> (u32, u32) {
        rates
            .iter()
            .filter(|l| l.split(" | ").nth(2) == Some(ty))
            .map(|l| {
                let f: Vec<&str> = l.split(" | ").collect();
                (f[3].parse::<u32>().unwrap(), f[4].parse::<u32>().unwrap())
            })
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    };
    assert_eq!(total("http"), (3, 1), "{rates:?}");
    assert_eq!(total("sql"), (1, 0), "{rates:?}");
    assert_eq!(total("python"), (1, 1), "{rates:?}");
    let history = section("history of run r2");
    let types: Vec<&str> = history
        .iter()
        .map(|l| l.split(" | ").nth(1).unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "WorkflowStarted",
            "StepScheduled",
            "StepFailed",
            "StepScheduled",
            "StepCompleted",
            "StepScheduled"
        ]
    );
    assert!(history[2].ends_with("fetch | HTTP 503"), "{history:?}");
    let stale = section("a stale writer loses");
    assert!(
        stale
            .iter()
            .any(|l| l.contains("wrong expected version") && l.contains("current 5")),
        "{stale:?}"
    );
    assert_eq!(
        section("projections"),
        [
            "workflow_runs | {WorkflowStarted,StepScheduled,StepCompleted,StepFailed,WorkflowCompleted} | 17 | 18",
            "workflow_steps | {StepScheduled,StepCompleted,StepFailed} | 16 | 12",
        ]
    );
}
