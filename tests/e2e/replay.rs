//! `zqlite replay` and `zqlite rebuild` end to end: data written by several `zqlite sql`
//! runs, the LSN and time noted after each, then recovered to each point (beside a live
//! server), served, and rebuilt.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::server::Server;
use crate::zqlite_binary;

fn on(data: &Path, command: &[&str], extra: &[&str]) -> Output {
    Command::new(zqlite_binary())
        .args(command)
        .arg("--data")
        .arg(data)
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        )
    })
}

fn sql(data: &Path, statements: &[&str]) {
    let mut args = Vec::new();
    for s in statements {
        args.extend(["-c", s]);
    }
    let out = on(data, &["sql"], &args);
    assert!(out.status.success(), "{statements:?}: {}", stderr(&out));
}

/// The rows of a query as CSV lines without the header, or `None` when the query fails
/// (e.g. the table does not exist at that point).
fn rows(data: &Path, query: &str) -> Rows {
    let out = on(data, &["sql"], &["--format", "csv", "-c", query]);
    if !out.status.success() {
        assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
        return None;
    }
    let text = String::from_utf8(out.stdout).unwrap();
    Some(text.lines().skip(1).map(str::to_string).collect())
}

/// The last LSN and its commit time, from `zqlite log stats --json`.
fn head(data: &Path) -> (u64, String) {
    let stats = json_of(&on(data, &["log", "stats"], &["--json"]));
    (
        stats["last_lsn"].as_u64().unwrap(),
        stats["last_time"].as_str().unwrap().to_string(),
    )
}

fn lines(rows: &[&str]) -> Rows {
    Some(rows.iter().map(|r| r.to_string()).collect())
}

/// A table's rows as CSV lines, `None` when it does not exist.
type Rows = Option<Vec<String>>;

/// A moment of the workload: the LSN and time after it, and what `t` and `u` held.
struct Point {
    lsn: u64,
    time: String,
    t: Rows,
    u: Rows,
}

/// Four `zqlite sql` runs; returns the point after each.
fn workload(data: &Path) -> Vec<Point> {
    let steps: [(&[&str], Rows, Rows); 4] = [
        (
            &[
                "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t VALUES (1, 'a')",
            ],
            lines(&["1,a"]),
            None,
        ),
        (
            &["INSERT INTO t VALUES (2, 'b'), (3, 'c')"],
            lines(&["1,a", "2,b", "3,c"]),
            None,
        ),
        (
            &[
                "UPDATE t SET v = 'z' WHERE id = 2",
                "DELETE FROM t WHERE id = 1",
            ],
            lines(&["2,z", "3,c"]),
            None,
        ),
        (
            &[
                "CREATE TABLE u (x int)",
                "INSERT INTO u VALUES (9)",
                "DELETE FROM t WHERE id = 3",
            ],
            lines(&["2,z"]),
            lines(&["9"]),
        ),
    ];
    let mut points = Vec::new();
    for (statements, t, u) in steps {
        sql(data, statements);
        let (lsn, time) = head(data);
        assert_eq!(rows(data, "SELECT id, v FROM t ORDER BY id"), t);
        points.push(Point { lsn, time, t, u });
    }
    let lsns: Vec<u64> = points.iter().map(|p| p.lsn).collect();
    assert_eq!(lsns, [2, 3, 5, 8], "one record per statement");
    points
}

fn check_state(data: &Path, point: &Point) {
    assert_eq!(
        rows(data, "SELECT id, v FROM t ORDER BY id"),
        point.t,
        "{} at LSN {}",
        data.display(),
        point.lsn
    );
    assert_eq!(rows(data, "SELECT x FROM u"), point.u, "LSN {}", point.lsn);
}

#[test]
fn replay_to_each_lsn_and_time_gives_exactly_the_state_of_that_moment() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let points = workload(&data);

    // The source is only read: a server holds it throughout.
    let server = Server::start(&data, &[]);
    let mut digests = Vec::new();
    for (i, point) in points.iter().enumerate() {
        let out_dir = tmp.path().join(format!("at-lsn-{}", point.lsn));
        let out = on(
            &data,
            &["replay"],
            &[
                "--to-lsn",
                &point.lsn.to_string(),
                "--out",
                out_dir.to_str().unwrap(),
                "--json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report = json_of(&out);
        assert_eq!(report["lsn"], point.lsn);
        assert_eq!(report["time"], point.time.as_str());
        digests.push(report["digest"].as_str().unwrap().to_string());

        // The new log is the source's prefix: it verifies, ends at the point, and its chain
        // value there is the source's own.
        let verify = json_of(&on(&out_dir, &["log", "verify"], &["--json"]));
        assert_eq!(verify["sound"], true, "{verify}");
        assert_eq!(verify["last_lsn"], point.lsn);
        assert_eq!(verify["head_chain"], report["chain"]);
        let anchor = format!("{}:{}", point.lsn, report["chain"].as_str().unwrap());
        let out = on(&data, &["log", "verify"], &["--anchor", &anchor]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            verify["checkpoints"][0]["lsn"], point.lsn,
            "a checkpoint at the point"
        );

        // From LSN 1 instead of a checkpoint: the same state.
        let scratch = tmp.path().join(format!("scratch-{i}"));
        let out = on(
            &data,
            &["replay"],
            &[
                "--to-lsn",
                &point.lsn.to_string(),
                "--out",
                scratch.to_str().unwrap(),
                "--no-checkpoint",
                "--json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report = json_of(&out);
        assert_eq!(report["base_checkpoint_lsn"], Value::Null);
        assert_eq!(report["replayed"], point.lsn);
        assert_eq!(report["digest"].as_str().unwrap(), digests[i]);

        // By time: the last record committed at or before the point's time.
        let by_time = tmp.path().join(format!("at-time-{i}"));
        let out = on(
            &data,
            &["replay"],
            &[
                "--to-time",
                &point.time,
                "--out",
                by_time.to_str().unwrap(),
                "--json",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let report = json_of(&out);
        assert_eq!(report["lsn"], point.lsn, "--to-time {}", point.time);
        assert_eq!(report["digest"].as_str().unwrap(), digests[i]);
    }
    assert!(server.terminate().success());

    // Each recovered directory holds exactly the state of its moment (checked after the
    // server stopped only to keep the test quick; `zqlite sql` opens each directory).
    for (i, point) in points.iter().enumerate() {
        check_state(&tmp.path().join(format!("at-lsn-{}", point.lsn)), point);
        check_state(&tmp.path().join(format!("at-time-{i}")), point);
    }
    // An LSN in the middle of a run: after the UPDATE, before the DELETE of step 3.
    let mid = tmp.path().join("mid");
    let out = on(
        &data,
        &["replay"],
        &["--to-lsn", "4", "--out", mid.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("as of LSN 4"), "{text}");
    assert_eq!(
        rows(&mid, "SELECT id, v FROM t ORDER BY id"),
        lines(&["1,a", "2,z", "3,c"])
    );
}

#[test]
fn replay_refuses_bad_points_and_a_used_out_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    sql(
        &data,
        &["CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)"],
    );
    let out_dir = tmp.path().join("out");
    let out_arg = out_dir.to_str().unwrap();
    for (extra, says) in [
        (
            &["--to-lsn", "3", "--out", out_arg][..],
            "past the end of the log",
        ),
        (
            &["--to-time", "2000-01-01T00:00:00Z", "--out", out_arg],
            "no record was committed at or before 2000-01-01T00:00:00",
        ),
        (
            &["--to-time", "soon", "--out", out_arg],
            "invalid timestamp",
        ),
        (&["--to-lsn", "0", "--out", out_arg], "0"),
        (&["--out", out_arg], "--to-lsn"),
        (
            &[
                "--to-lsn",
                "1",
                "--to-time",
                "2000-01-01T00:00:00Z",
                "--out",
                out_arg,
            ],
            "cannot be used with",
        ),
    ] {
        let out = on(&data, &["replay"], extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{extra:?}: {}", stderr(&out));
        assert!(!out_dir.exists(), "{extra:?} left {}", out_dir.display());
    }
    let inside = data.join("copy");
    let out = on(
        &data,
        &["replay"],
        &["--to-lsn", "1", "--out", inside.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("inside the source"),
        "{}",
        stderr(&out)
    );

    std::fs::create_dir(&out_dir).unwrap();
    std::fs::write(out_dir.join("keep-me"), "x").unwrap();
    let out = on(&data, &["replay"], &["--to-lsn", "1", "--out", out_arg]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not an empty directory"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(out_dir.join("keep-me")).unwrap(), b"x");

    // An empty directory is fine, and nothing is left behind beside it.
    std::fs::remove_file(out_dir.join("keep-me")).unwrap();
    let out = on(&data, &["replay"], &["--to-lsn", "1", "--out", out_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(rows(&out_dir, "SELECT id FROM t"), lines(&[]));
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".zqlite-replay")),
        "{names:?}"
    );

    let missing = tmp.path().join("missing");
    for command in [&["rebuild"][..], &["replay", "--to-lsn", "1", "--out", "x"]] {
        let out = on(&missing, command, &[]);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    }
}

#[tokio::test]
async fn a_replayed_directory_serves_and_continues_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let points = workload(&data);
    let out_dir = tmp.path().join("recovered");
    let at = &points[1];
    let out = on(
        &data,
        &["replay"],
        &[
            "--to-lsn",
            &at.lsn.to_string(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Keeping one checkpoint: the one written at shutdown replaces the replay's.
    let server = Server::start(&out_dir, &["--keep-checkpoints", "1"]);
    let client = server.client().await;
    let rows: Vec<(i32, String)> = client
        .query("SELECT id, v FROM t ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [
            (1, "a".to_string()),
            (2, "b".to_string()),
            (3, "c".to_string())
        ]
    );
    let err = client.query("SELECT x FROM u", &[]).await.unwrap_err();
    let message = err.as_db_error().map(|e| e.message().to_string());
    assert_eq!(
        message.as_deref(),
        Some("relation \"u\" does not exist"),
        "{err:?}"
    );
    client
        .execute("INSERT INTO t VALUES (4, 'new')", &[])
        .await
        .unwrap();
    drop(client);
    assert!(server.terminate().success());

    // The write continued the recovered log: the next LSN, the chain intact.
    let verify = json_of(&on(&out_dir, &["log", "verify"], &["--json"]));
    assert_eq!(verify["sound"], true, "{verify}");
    assert_eq!(verify["last_lsn"], at.lsn + 1);
    // The server's shutdown checkpoint is the newest (it may keep older ones for time
    // travel).
    assert_eq!(
        snap_names(&out_dir).last(),
        Some(&format!("{:020}.snap", at.lsn + 1))
    );
    assert_eq!(rows_of(&out_dir), lines(&["1,a", "2,b", "3,c", "4,new"]));
}

fn rows_of(data: &Path) -> Rows {
    rows(data, "SELECT id, v FROM t ORDER BY id")
}

fn snap_names(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn rebuild_reports_equal_digests_and_refuses_a_live_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let points = workload(&data);
    let head = points.last().unwrap().lsn;
    assert!(!snap_names(&data).is_empty(), "`zqlite sql` checkpoints");

    let out = on(&data, &["rebuild"], &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json_of(&out);
    assert_eq!(report["equal"], true, "{report}");
    assert_eq!(report["lsn"], head);
    assert_eq!(report["normal"]["checkpoint_lsn"], head, "{report}");
    assert_eq!(report["normal"]["digest"], report["full"]["digest"]);
    assert_eq!(report["full"]["replayed"], head);
    assert_eq!(snap_names(&data), [format!("{head:020}.snap")]);
    assert!(!data.join("discarded-checkpoints").exists());

    // The same digest as a point-in-time replay to the head.
    let copy = tmp.path().join("copy");
    let replayed = json_of(&on(
        &data,
        &["replay"],
        &[
            "--to-lsn",
            &head.to_string(),
            "--out",
            copy.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(replayed["digest"], report["full"]["digest"]);

    // Without any checkpoint: the normal open replays everything, still equal.
    std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    let out = on(&data, &["rebuild"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("digests:       equal"), "{text}");
    assert!(text.contains("(no checkpoint, 8 records)"), "{text}");
    check_state(&data, points.last().unwrap());

    let server = Server::start(&data, &[]);
    let out = on(&data, &["rebuild"], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("in use by a live zqlite process (pid "),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("`zqlite rebuild`"),
        "{}",
        stderr(&out)
    );
    assert!(server.terminate().success());
    let out = on(&data, &["rebuild"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn rebuild_exits_1_when_a_checkpoint_disagrees_with_the_log_and_replaces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let other = tmp.path().join("other");
    // Same shape and LSNs, different rows: the other directory's checkpoint is valid, but
    // not for this log.
    sql(
        &data,
        &[
            "CREATE TABLE t (id int PRIMARY KEY)",
            "INSERT INTO t VALUES (1)",
        ],
    );
    sql(
        &other,
        &[
            "CREATE TABLE t (id int PRIMARY KEY)",
            "INSERT INTO t VALUES (2)",
        ],
    );
    let name = format!("{:020}.snap", 2);
    std::fs::copy(
        other.join("snapshots").join(&name),
        data.join("snapshots").join(&name),
    )
    .unwrap();
    assert_eq!(
        rows(&data, "SELECT id FROM t"),
        lines(&["2"]),
        "the checkpoint is used"
    );

    let out = on(&data, &["rebuild"], &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("disagree with the log"),
        "{}",
        stderr(&out)
    );
    let report = json_of(&out);
    assert_eq!(report["equal"], false);
    assert_ne!(report["normal"]["digest"], report["full"]["digest"]);
    let aside = PathBuf::from(report["kept_aside"].as_str().unwrap());
    assert!(
        aside.join(&name).is_file(),
        "the old checkpoint is kept aside"
    );
    assert_eq!(snap_names(&data), [name]);

    // The new checkpoint holds the log's state, and a second rebuild agrees.
    assert_eq!(rows(&data, "SELECT id FROM t"), lines(&["1"]));
    let out = on(&data, &["rebuild"], &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_of(&out)["equal"], true);
}
