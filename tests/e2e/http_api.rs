//! The HTTP API end to end: the real `zqlite serve` on free ports, driven over loopback by
//! the small client in `http_client.rs`.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value as Json, json};

use crate::http_client::{Sse, get, post, post_raw, request, try_post};
use crate::server::Server;

fn server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = Server::start(&dir.path().join("data"), &[]);
    (dir, server)
}

fn event(kind: &str, n: u64) -> Json {
    json!({"type": kind, "data": {"n": n}})
}

/// Versions of a stream's events, read forward in pages of `limit`.
fn versions(port: u16, stream: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut from = 0;
    loop {
        let r = get(port, &format!("/v1/streams/{stream}?from={from}&limit=7"));
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        for e in page["events"].as_array().expect("events") {
            out.push(e["version"].as_u64().expect("version"));
        }
        match page["next"].as_u64() {
            Some(next) => from = next,
            None => return out,
        }
    }
}

fn all_positions(port: u16) -> Vec<u64> {
    let page = get(port, "/v1/all?from_position=0&limit=10000").json();
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["position"].as_u64().expect("position"))
        .collect()
}

fn error_code(r: &crate::http_client::Response) -> String {
    r.json()["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("an error object: {}", r.text()))
        .to_string()
}

#[test]
fn sixteen_writers_with_exact_versions_never_duplicate_or_skip() {
    let (_dir, server) = server();
    let port = server.http_port;
    let losers = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..16u64)
        .map(|w| {
            let losers = losers.clone();
            std::thread::spawn(move || {
                let mut expected = json!("no_stream");
                let mut written = 0;
                while written < 5 {
                    let body = json!({"expected_version": expected, "events": [event("Step", w * 100 + written)]});
                    let r = post(port, "/v1/streams/hot", &body);
                    match r.status {
                        201 => {
                            let v = r.json()["first_version"].as_u64().expect("a version");
                            assert_eq!(
                                json!(v.checked_sub(1)),
                                if expected == json!("no_stream") { Json::Null } else { expected.clone() },
                                "a winner lands right after the version it expected"
                            );
                            expected = json!(v);
                            written += 1;
                        }
                        409 => {
                            let error = &r.json()["error"];
                            assert_eq!(error["code"], "wrong_expected_version");
                            let current = error["current_version"]
                                .as_u64()
                                .expect("the loser learns the current version");
                            assert_ne!(json!(current), expected, "a real conflict");
                            losers.fetch_add(1, Ordering::Relaxed);
                            expected = json!(current);
                        }
                        other => panic!("unexpected {other}: {}", r.text()),
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer finished");
    }
    let v = versions(port, "hot");
    assert_eq!(v, (0..80).collect::<Vec<_>>(), "dense versions, none twice");
    let page = get(port, "/v1/streams/hot?limit=100").json();
    let data: HashSet<u64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["data"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(data.len(), 80, "every acknowledged event stored once");
    assert!(losers.load(Ordering::Relaxed) > 0, "the writers did race");
}

#[test]
fn retries_are_idempotent_and_bad_requests_append_nothing() {
    let (_dir, server) = server();
    let port = server.http_port;
    let body = json!({
        "expected_version": "no_stream",
        "events": [
            {"id": "0b9a3b0c-8d5e-4a43-9a55-8f4f2f1b7c01", "type": "Started", "data": {"a": 1}, "metadata": {"by": "t"}},
            {"id": "0b9a3b0c-8d5e-4a43-9a55-8f4f2f1b7c02", "type": "Scheduled", "data": [1, 2.5, "x"]}
        ]
    });
    let first = post(port, "/v1/streams/run-1", &body);
    assert_eq!(first.status, 201, "{}", first.text());
    let again = post(port, "/v1/streams/run-1", &body);
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(first.json(), again.json(), "the original positions");
    assert_eq!(
        first.json(),
        json!({"first_version": 0, "last_version": 1, "first_position": 0, "last_position": 1})
    );
    let read = get(port, "/v1/streams/run-1").json();
    let e0 = &read["events"][0];
    assert_eq!(e0["id"], "0b9a3b0c-8d5e-4a43-9a55-8f4f2f1b7c01");
    assert_eq!(e0["type"], "Started");
    assert_eq!(e0["data"], json!({"a": 1}));
    assert_eq!(e0["metadata"], json!({"by": "t"}));
    assert_eq!(e0["stream"], "run-1");
    assert!(e0["recorded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(read["events"][1]["data"], json!([1, 2.5, "x"]));

    let bad: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"events\": [".to_vec(), 400, "malformed_json"),
        (b"{\"events\": \"x\"}".to_vec(), 400, "invalid_field"),
        (
            br#"{"events": [{"type": 5, "data": {}}]}"#.to_vec(),
            400,
            "invalid_field",
        ),
        (
            br#"{"expected_version": "sometimes", "events": [{"type": "A", "data": {}}]}"#.to_vec(),
            400,
            "invalid_expected_version",
        ),
        (
            br#"{"expected_version": -1, "events": [{"type": "A", "data": {}}]}"#.to_vec(),
            400,
            "invalid_expected_version",
        ),
        (
            br#"{"events": [{"id": "not-a-uuid", "type": "A", "data": {}}]}"#.to_vec(),
            400,
            "invalid_uuid",
        ),
        (br#"{"events": []}"#.to_vec(), 400, "invalid_field"),
    ];
    for (body, status, code) in bad {
        let r = post_raw(port, "/v1/streams/run-1", &body);
        assert_eq!(
            r.status,
            status,
            "{}: {}",
            String::from_utf8_lossy(&body),
            r.text()
        );
        assert_eq!(error_code(&r), code, "{}", r.text());
    }
    let malformed = post_raw(port, "/v1/streams/run-1", b"{\n  \"events\": [,]\n}");
    let error = &malformed.json()["error"];
    assert_eq!(
        (error["line"].as_u64(), error["column"].as_u64()),
        (Some(2), Some(14))
    );
    let mut huge = b"{\"events\": [{\"type\": \"A\", \"data\": \"".to_vec();
    huge.resize(huge.len() + (17 << 20), b'x');
    huge.extend_from_slice(b"\"}]}");
    let r = post_raw(port, "/v1/streams/run-1", &huge);
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(error_code(&r), "body_too_large");
    let r = post_raw(
        port,
        "/v1/append",
        br#"{"streams": [{"stream": "x", "events": [{"type": "A"}]}]}"#,
    );
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (400, "invalid_field"),
        "data missing"
    );
    assert_eq!(
        all_positions(port),
        [0, 1],
        "nothing appended by the bad requests"
    );

    let r = get(port, "/v1/nothing/here");
    assert_eq!((r.status, error_code(&r).as_str()), (404, "not_found"));
    let r = request(port, "PATCH", "/v1/all", &[], None);
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (405, "method_not_allowed")
    );
    let r = get(port, "/v1/streams/run-1?direction=sideways");
    assert_eq!((r.status, error_code(&r).as_str()), (400, "invalid_query"));
}

#[test]
fn multi_stream_appends_are_all_or_nothing() {
    let (_dir, server) = server();
    let port = server.http_port;
    assert_eq!(
        post(port, "/v1/streams/a", &json!({"events": [event("A", 0)]})).status,
        201
    );
    let body = json!({"streams": [
        {"stream": "b", "expected_version": "no_stream", "events": [event("B", 0)]},
        {"stream": "a", "expected_version": "no_stream", "events": [event("A", 1)]},
    ]});
    let r = post(port, "/v1/append", &body);
    assert_eq!(r.status, 409, "{}", r.text());
    let error = &r.json()["error"];
    assert_eq!(
        (error["stream"].as_str(), error["current_version"].as_u64()),
        (Some("a"), Some(0))
    );
    assert_eq!(get(port, "/v1/streams/b").status, 404, "b was not created");
    let body = json!({"streams": [
        {"stream": "b", "expected_version": "no_stream", "events": [event("B", 0)]},
        {"stream": "a", "expected_version": 0, "events": [event("A", 1), event("A", 2)]},
    ]});
    let r = post(port, "/v1/append", &body);
    assert_eq!(r.status, 201, "{}", r.text());
    let streams = &r.json()["streams"];
    assert_eq!(streams[0]["stream"], "b");
    assert_eq!(streams[1]["first_version"], 1);
    assert_eq!(streams[1]["last_position"], 3);
}

#[test]
fn deletes_metadata_backward_reads_and_pages() {
    let (_dir, server) = server();
    let port = server.http_port;
    let events: Vec<Json> = (0..5).map(|n| event("E", n)).collect();
    assert_eq!(
        post(port, "/v1/streams/s", &json!({"events": events})).status,
        201
    );

    let page = get(port, "/v1/streams/s?direction=backward&limit=2").json();
    let got: Vec<u64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!((got, page["next"].as_u64()), (vec![4, 3], Some(2)));
    let page = get(port, "/v1/streams/s?direction=backward&from=2").json();
    let got: Vec<u64> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!((got, page["next"].as_u64()), (vec![2, 1, 0], None));
    assert_eq!(versions(port, "s"), [0, 1, 2, 3, 4], "forward pages of 7");

    let r = request(
        port,
        "PUT",
        "/v1/streams/s/metadata",
        &[],
        Some(br#"{"max_count": 2}"#.to_vec()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(versions(port, "s"), [3, 4], "max_count hides older events");
    let r = request(
        port,
        "PUT",
        "/v1/streams/s/metadata",
        &[],
        Some(br#"{"max_age_seconds": 3600}"#.to_vec()),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        versions(port, "s"),
        [0, 1, 2, 3, 4],
        "recent events are within max_age"
    );

    let r = request(port, "DELETE", "/v1/streams/s", &[], None);
    assert_eq!(r.status, 204, "{}", r.text());
    let r = get(port, "/v1/streams/s");
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (404, "stream_not_found")
    );
    let r = post(
        port,
        "/v1/streams/s",
        &json!({"expected_version": "no_stream", "events": [event("E", 5)]}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json()["first_version"],
        5,
        "versions continue after a soft delete"
    );
    assert_eq!(versions(port, "s"), [5]);

    let r = request(port, "DELETE", "/v1/streams/s?hard=true", &[], None);
    assert_eq!(r.status, 204);
    let r = post(port, "/v1/streams/s", &json!({"events": [event("E", 6)]}));
    assert_eq!((r.status, error_code(&r).as_str()), (410, "stream_deleted"));
    let r = get(port, "/v1/streams/s");
    assert_eq!(r.status, 410);
    let r = get(port, "/v1/streams/never");
    assert_eq!(r.status, 404);
}

#[test]
fn a_subscriber_gets_a_burst_exactly_once_in_order_and_resumes() {
    let (_dir, server) = server();
    let port = server.http_port;
    assert_eq!(
        post(
            port,
            "/v1/streams/order-0",
            &json!({"events": [event("Placed", 0)]})
        )
        .status,
        201
    );
    let mut before = Sse::open(port, "/v1/all/subscribe?from_position=0", None);
    let first = before.next().expect("history");
    assert_eq!(first.id.as_deref(), Some("0"));
    let caught = before.next().expect("the caught-up marker");
    assert_eq!(caught.event.as_deref(), Some("caught-up"));
    let filtered = Sse::open(
        port,
        "/v1/all/subscribe?types=Shipped&stream_prefix=order-",
        None,
    );

    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            std::thread::spawn(move || {
                for i in 0..25u64 {
                    let kind = if i % 5 == 0 { "Shipped" } else { "Placed" };
                    let stream = if w == 0 { "other" } else { "order-1" };
                    let r = post(
                        port,
                        &format!("/v1/streams/{stream}-{w}"),
                        &json!({"events": [event(kind, w * 100 + i)]}),
                    );
                    assert_eq!(r.status, 201, "{}", r.text());
                }
            })
        })
        .collect();
    let during = Sse::open(port, "/v1/all/subscribe", None);
    for w in writers {
        w.join().expect("writer finished");
    }
    let expected: Vec<u64> = (0..101).collect();
    let collect = |sse: &mut Sse, until: u64| -> Vec<u64> {
        let mut ids = Vec::new();
        while ids.last() != Some(&until) {
            let m = sse.next().expect("the stream stays open");
            if m.event.as_deref() == Some("caught-up") {
                continue;
            }
            assert_eq!(m.event, None, "{m:?}");
            let data: Json = serde_json::from_str(&m.data).expect("event JSON");
            let id: u64 = m.id.as_deref().unwrap().parse().unwrap();
            assert_eq!(data["position"].as_u64(), Some(id));
            ids.push(id);
        }
        ids
    };
    let mut got = vec![0];
    got.extend(collect(&mut before, 100));
    assert_eq!(
        got, expected,
        "before the burst: every event once, in order"
    );
    let mut during = during;
    assert_eq!(
        collect(&mut during, 100),
        expected,
        "started during the burst"
    );

    // Filtered: only Shipped events of order-* streams (writers 1..3, i % 5 == 0).
    let mut filtered = filtered;
    let mut shipped = 0;
    while shipped < 15 {
        let m = filtered.next().expect("filtered events");
        if m.event.as_deref() == Some("caught-up") {
            continue;
        }
        let data: Json = serde_json::from_str(&m.data).unwrap();
        assert_eq!(data["type"], "Shipped");
        assert!(data["stream"].as_str().unwrap().starts_with("order-"));
        shipped += 1;
    }

    // Resume after position 41: 42..100, then live events.
    let mut resumed = Sse::open(port, "/v1/all/subscribe", Some("41"));
    assert_eq!(collect(&mut resumed, 100), (42..101).collect::<Vec<_>>());
    let r = post(
        port,
        "/v1/streams/late",
        &json!({"events": [event("Late", 1)]}),
    );
    assert_eq!(r.status, 201);
    assert_eq!(collect(&mut resumed, 101), [101], "live after the history");

    // A stream subscription counts versions.
    let mut one = Sse::open(port, "/v1/streams/order-1-2/subscribe?from=20", None);
    let ids: Vec<String> = (0..5).map(|_| one.next().unwrap().id.unwrap()).collect();
    assert_eq!(ids, ["20", "21", "22", "23", "24"]);
    assert_eq!(one.next().unwrap().event.as_deref(), Some("caught-up"));
}

/// An event as a subscriber saw it: position, stream, version, `data.n`.
type Seen = (u64, String, u64, u64);

fn seen(message: &crate::http_client::SseMessage) -> Seen {
    let e: Json = serde_json::from_str(&message.data).expect("event JSON");
    (
        e["position"].as_u64().expect("position"),
        e["stream"].as_str().expect("stream").to_string(),
        e["version"].as_u64().expect("version"),
        e["data"]["n"].as_u64().expect("n"),
    )
}

#[test]
fn acknowledged_events_survive_sigkill_during_a_burst_and_reach_subscribers() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let port = server.http_port;

    // A subscriber follows $all live until the server dies.
    let mut live = Sse::open(port, "/v1/all/subscribe?from_position=0", None);
    assert_eq!(
        live.next().expect("caught-up").event.as_deref(),
        Some("caught-up")
    );
    let subscriber = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(m) = live.next() {
            if m.event.is_none() {
                got.push(seen(&m));
            }
        }
        got
    });
    // Writers append one event at a time with exact expected versions and keep what was
    // acknowledged, until the server is gone.
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            std::thread::spawn(move || {
                let mut acked: Vec<Seen> = Vec::new();
                for version in 0u64.. {
                    let expected = version
                        .checked_sub(1)
                        .map_or(json!("no_stream"), |v| json!(v));
                    let n = w * 1_000_000 + version;
                    let body = json!({"expected_version": expected, "events": [event("Tick", n)]});
                    let Some(r) = try_post(port, &format!("/v1/streams/w-{w}"), &body) else {
                        return acked;
                    };
                    assert_eq!(r.status, 201, "{}", r.text());
                    let position = r.json()["first_position"].as_u64().expect("position");
                    acked.push((position, format!("w-{w}"), version, n));
                }
                unreachable!()
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(700));
    drop(server); // SIGKILL
    let acked: Vec<Seen> = writers
        .into_iter()
        .flat_map(|w| w.join().expect("writer"))
        .collect();
    let before_crash = subscriber.join().expect("subscriber");
    assert!(
        acked.len() > 20,
        "only {} appends before the kill",
        acked.len()
    );

    // After restart, the subscriber resumes after the last event it saw.
    let server = Server::start(&data, &[]);
    let last = before_crash.last().map(|e| e.0.to_string());
    let mut resumed = Sse::open(
        server.http_port,
        "/v1/all/subscribe?from_position=0",
        last.as_deref(),
    );
    let mut all = before_crash.clone();
    loop {
        let m = resumed.next().expect("history, then caught-up");
        if m.event.as_deref() == Some("caught-up") {
            break;
        }
        all.push(seen(&m));
    }
    // Exactly once, in order, without gaps...
    let positions: Vec<u64> = all.iter().map(|e| e.0).collect();
    assert_eq!(positions, (0..all.len() as u64).collect::<Vec<_>>());
    // ...and every acknowledged event is there as acknowledged.
    for a in &acked {
        assert_eq!(
            all.get(a.0 as usize),
            Some(a),
            "acknowledged event lost or changed"
        );
    }
    // Every stream's versions are contiguous (nothing half-written).
    for w in 0..4 {
        let versions: Vec<u64> = all
            .iter()
            .filter(|e| e.1 == format!("w-{w}"))
            .map(|e| e.2)
            .collect();
        assert_eq!(versions, (0..versions.len() as u64).collect::<Vec<_>>());
    }
}

#[test]
fn sql_health_metrics_and_openapi() {
    let (_dir, server) = server();
    let port = server.http_port;
    let r = post(
        port,
        "/v1/sql",
        &json!({"sql": "CREATE TABLE t (id int PRIMARY KEY, v text)"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["command"], "CREATE TABLE");
    let r = post(
        port,
        "/v1/sql",
        &json!({"sql": "INSERT INTO t VALUES ($1, $2)", "params": [1, "one"]}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post(port, "/v1/sql", &json!({"sql": "SELECT id, v FROM t"}));
    assert_eq!(
        r.json(),
        json!({"columns": [{"name": "id", "type": "integer"}, {"name": "v", "type": "text"}], "rows": [[1, "one"]], "command": "SELECT 1"})
    );
    let r = post(port, "/v1/sql", &json!({"sql": "SELEC 1"}));
    assert_eq!(r.status, 400);
    let error = &r.json()["error"];
    assert_eq!(error["code"], "42601");
    assert_eq!(error["position"]["line"], 1);

    assert_eq!(get(port, "/healthz").json()["status"], "ok");
    assert_eq!(
        post(port, "/v1/streams/m", &json!({"events": [event("A", 1)]})).status,
        201
    );
    // A PostgreSQL protocol session open while /metrics is read counts as one.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let pg = runtime.block_on(server.client());
    // The server counts an HTTP connection until it notices the client closed it: earlier
    // requests' connections may still be open for a moment.
    let mut metrics = get(port, "/metrics");
    for _ in 0..100 {
        if metrics.text().contains("zqlite_http_open_connections 1\n") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        metrics = get(port, "/metrics");
    }
    drop(pg);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "Prometheus text"
    );
    let text = metrics.text();
    for name in [
        "zqlite_commits_total",
        "zqlite_http_appends_total 1",
        "zqlite_http_open_connections 1",
        "zqlite_events_total 1",
        "zqlite_pg_open_connections 1",
        "# TYPE zqlite_log_fsync_seconds histogram",
        "zqlite_log_fsync_seconds_bucket{le=\"0.001\"}",
    ] {
        assert!(text.contains(name), "{name} in\n{text}");
    }
    // Two commits (the table, the row) and one append each waited for a sync.
    let syncs = text
        .lines()
        .find_map(|l| l.strip_prefix("zqlite_log_fsync_seconds_count "))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("a sync count");
    assert!(syncs >= 3, "{syncs} syncs in\n{text}");
    assert!(text.contains(&format!(
        "zqlite_log_fsync_seconds_bucket{{le=\"+Inf\"}} {syncs}"
    )));
    let doc = get(port, "/v1/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/streams/{stream}",
        "/v1/append",
        "/v1/all/subscribe",
        "/v1/sql",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} described");
    }
}
