//! `zqlite log verify|dump|stats` and `zqlite checkpoint` end to end: data written with
//! `zqlite sql`, then inspected, damaged, checkpointed and guarded against a live server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::server::Server;
use crate::zqlite_binary;

fn zqlite(args: &[&str]) -> Output {
    Command::new(zqlite_binary()).args(args).output().unwrap()
}

fn on(data: &Path, command: &[&str], extra: &[&str]) -> Output {
    Command::new(zqlite_binary())
        .args(command)
        .arg("--data")
        .arg(data)
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// Six committed statements, so six records: LSNs 1 to 6.
const WORKLOAD: &[&str] = &[
    "CREATE TABLE t (id int PRIMARY KEY, v text)",
    "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
    "CREATE TABLE other (x int)",
    "INSERT INTO other VALUES (7)",
    "UPDATE t SET v = 'c' WHERE id = 2",
    "DELETE FROM t WHERE id = 1",
];

fn make_data(data: &Path) {
    let mut args = Vec::new();
    for statement in WORKLOAD {
        args.extend(["-c", statement]);
    }
    let out = on(data, &["sql"], &args);
    assert!(out.status.success(), "{}", stderr(&out));
}

fn segment(data: &Path) -> PathBuf {
    data.join("log").join("00000000000000000001.seg")
}

fn dump_lines(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn verify_dump_and_stats_describe_what_sql_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_data(&data);

    let out = on(&data, &["log", "verify"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("the log is sound"),
        "{}",
        stdout(&out)
    );
    let report = json_of(&on(&data, &["log", "verify"], &["--json"]));
    assert_eq!(report["sound"], true);
    assert_eq!(report["records"], 6);
    assert_eq!(
        (report["first_lsn"].clone(), report["last_lsn"].clone()),
        (json!(1), json!(6))
    );
    assert_eq!(report["problems"], json!([]));
    let checkpoints = report["checkpoints"].as_array().unwrap();
    assert!(!checkpoints.is_empty(), "`zqlite sql` checkpoints on close");
    assert!(
        checkpoints.iter().all(|c| c["valid"] == true),
        "{checkpoints:?}"
    );
    // The head chain printed as an anchor checks out.
    let anchor = format!("6:{}", report["head_chain"].as_str().unwrap());
    let out = on(&data, &["log", "verify"], &["--anchor", &anchor]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let wrong = format!("6:{}", "00".repeat(32));
    let out = on(&data, &["log", "verify"], &["--anchor", &wrong]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    // Only table t's changes, rows as objects, keys by primary-key column.
    let records = dump_lines(&on(
        &data,
        &["log", "dump"],
        &["--format", "jsonl", "--table", "t"],
    ));
    let lsns: Vec<u64> = records.iter().map(|r| r["lsn"].as_u64().unwrap()).collect();
    assert_eq!(lsns, [1, 2, 5, 6]);
    let changes: Vec<Value> = records
        .iter()
        .flat_map(|r| r["changes"].as_array().unwrap().clone())
        .collect();
    assert_eq!(changes[0]["op"], "create_table");
    assert_eq!(
        changes[1..].to_vec(),
        [
            json!({"op": "insert", "table": "t", "row": {"id": 1, "v": "a"}}),
            json!({"op": "insert", "table": "t", "row": {"id": 2, "v": "b"}}),
            json!({"op": "update", "table": "t", "key": {"id": 2}, "before": {"id": 2, "v": "b"}, "row": {"id": 2, "v": "c"}}),
            json!({"op": "delete", "table": "t", "key": {"id": 1}, "before": {"id": 1, "v": "a"}}),
        ]
    );
    assert_eq!(records[1]["kind"], "transaction");
    assert_eq!(records[1]["statements"], json!([WORKLOAD[1]]));
    assert!(records[1]["user"].is_string());
    let time = records[1]["time"].as_str().unwrap();
    assert!(
        time.len() == 27 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{time}"
    );
    assert!(records[1].get("payload_hex").is_none());

    // LSN range, raw payloads, and the other table by name.
    let records = dump_lines(&on(
        &data,
        &["log", "dump"],
        &[
            "--format",
            "jsonl",
            "--from-lsn",
            "3",
            "--to-lsn",
            "4",
            "--raw",
        ],
    ));
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[1]["changes"],
        json!([{"op": "insert", "table": "other", "row": {"x": 7}, "rowid": records[1]["changes"][0]["rowid"]}])
    );
    assert!(records[1]["changes"][0]["rowid"].is_i64());
    let hex = records[1]["payload_hex"].as_str().unwrap();
    assert!(
        hex.len() > 20 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hex}"
    );

    // Time filters: everything lies between the first and last commit times.
    let all = dump_lines(&on(&data, &["log", "dump"], &["--format", "jsonl"]));
    assert_eq!(all.len(), 6);
    let first = all[0]["time"].as_str().unwrap().to_string();
    let last = all[5]["time"].as_str().unwrap().to_string();
    let within = dump_lines(&on(
        &data,
        &["log", "dump"],
        &["--format", "jsonl", "--since", &first, "--until", &last],
    ));
    assert_eq!(within.len(), 6);
    let after = dump_lines(&on(
        &data,
        &["log", "dump"],
        &["--format", "jsonl", "--since", "2999-01-01T00:00:00Z"],
    ));
    assert!(after.is_empty());
    let before = dump_lines(&on(
        &data,
        &["log", "dump"],
        &["--format", "jsonl", "--until", "2000-01-01T00:00:00Z"],
    ));
    assert!(before.is_empty());

    // The readable format.
    let out = on(
        &data,
        &["log", "dump"],
        &["--table", "t", "--from-lsn", "2", "--to-lsn", "2"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("LSN 2  "), "{text}");
    assert!(
        text.contains("  statement: INSERT INTO t VALUES (1, 'a'), (2, 'b')\n"),
        "{text}"
    );
    assert!(
        text.contains("  insert t row={\"id\":1,\"v\":\"a\"}\n"),
        "{text}"
    );

    // Counts.
    let stats = json_of(&on(&data, &["log", "stats"], &["--json"]));
    assert_eq!(stats["records"], 6);
    assert_eq!(stats["segments"], 1);
    assert_eq!(
        (stats["first_lsn"].clone(), stats["last_lsn"].clone()),
        (json!(1), json!(6))
    );
    assert_eq!(stats["per_kind"], json!({"transaction": 6}));
    let tables = stats["tables"].as_array().unwrap();
    let table = |name: &str| {
        tables
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {tables:?}"))
            .clone()
    };
    let t = table("t");
    assert_eq!(
        [
            &t["inserts"],
            &t["updates"],
            &t["deletes"],
            &t["ddl"],
            &t["records"]
        ],
        [&json!(2), &json!(1), &json!(1), &json!(1), &json!(4)]
    );
    let other = table("other");
    assert_eq!(
        [&other["inserts"], &other["updates"], &other["deletes"]],
        [&json!(1), &json!(0), &json!(0)]
    );
    assert_eq!(
        stats["checkpoints"].as_array().unwrap().len(),
        checkpoints.len()
    );
    let out = on(&data, &["log", "stats"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("records:     6"), "{}", stdout(&out));
}

#[test]
fn verify_and_dump_name_the_file_and_offset_of_a_flipped_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_data(&data);
    let segment = segment(&data);

    // Byte 20 of the first frame (at offset 64, after the segment header) is inside its body.
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[64 + 20] ^= 0x01;
    std::fs::write(&segment, &bytes).unwrap();

    let out = on(&data, &["log", "verify"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let expected = format!("problem: {} at offset 64: ", segment.display());
    assert!(stdout(&out).contains(&expected), "{}", stdout(&out));
    assert!(stderr(&out).contains("damaged"), "{}", stderr(&out));
    let report = json_of(&on(&data, &["log", "verify"], &["--json"]));
    assert_eq!(report["sound"], false);
    assert_eq!(report["problems"][0]["path"], segment.display().to_string());
    assert_eq!(report["problems"][0]["offset"], 64);

    let out = on(&data, &["log", "dump"], &["--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("{} at byte offset 64", segment.display())),
        "{}",
        stderr(&out)
    );
    let out = on(&data, &["log", "stats"], &["--json"]);
    assert_eq!(out.status.code(), Some(1));

    // Repaired, it verifies again; a damaged checkpoint is only a warning.
    bytes[64 + 20] ^= 0x01;
    std::fs::write(&segment, &bytes).unwrap();
    let checkpoint = std::fs::read_dir(data.join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "snap"))
        .expect("a checkpoint");
    let mut snap = std::fs::read(&checkpoint).unwrap();
    *snap.last_mut().unwrap() ^= 0xff;
    std::fs::write(&checkpoint, &snap).unwrap();
    let out = on(&data, &["log", "verify"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let expected = format!(
        "warning: checkpoint {}: checksum mismatch",
        checkpoint.display()
    );
    assert!(stdout(&out).contains(&expected), "{}", stdout(&out));
}

#[test]
fn bad_arguments_and_missing_directories_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_data(&data);
    let missing = tmp.path().join("missing");
    for command in [
        &["log", "verify"][..],
        &["log", "dump"],
        &["log", "stats"],
        &["checkpoint"],
    ] {
        let out = on(&missing, command, &[]);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
        assert!(!missing.exists(), "{command:?} created the directory");
    }
    for (extra, says) in [
        (&["--from-lsn", "5", "--to-lsn", "2"][..], "after --to-lsn"),
        (&["--from-lsn", "99"], "past the end of the log"),
        (&["--since", "last tuesday"], "invalid timestamp"),
        (&["--until", "2026-02-30T00:00:00Z"], "invalid timestamp"),
    ] {
        let out = on(&data, &["log", "dump"], extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{extra:?}: {}", stderr(&out));
    }
    let out = zqlite(&["log", "verify", "--help"]);
    assert!(stdout(&out).contains("Exit codes:"), "{}", stdout(&out));
}

#[test]
fn checkpoint_writes_one_and_refuses_while_a_server_holds_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    make_data(&data);
    let snapshots = data.join("snapshots");
    std::fs::remove_dir_all(&snapshots).unwrap();

    let out = on(&data, &["checkpoint"], &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json_of(&out);
    assert_eq!(report["lsn"], 6);
    let path = PathBuf::from(report["path"].as_str().unwrap());
    assert_eq!(path, snapshots.join("00000000000000000006.snap"));
    assert!(path.is_file());
    let verify = json_of(&on(&data, &["log", "verify"], &["--json"]));
    assert_eq!(verify["checkpoints"][0]["valid"], true, "{verify}");

    let out = on(&data, &["sql"], &["-c", "INSERT INTO t VALUES (3, 'd')"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = on(&data, &["checkpoint"], &["--keep", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("(LSN 7,"), "{}", stdout(&out));
    let names: Vec<String> = std::fs::read_dir(&snapshots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["00000000000000000007.snap"]);

    let server = Server::start(&data, &[]);
    let out = on(&data, &["checkpoint"], &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("in use by a live zqlite process (pid "),
        "{}",
        stderr(&out)
    );
    // Reading beside the server works.
    let out = on(&data, &["log", "verify"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let records = dump_lines(&on(
        &data,
        &["log", "dump"],
        &["--format", "jsonl", "--table", "t"],
    ));
    assert_eq!(records.last().unwrap()["lsn"], 7);
    let stats = json_of(&on(&data, &["log", "stats"], &["--json"]));
    assert_eq!(stats["records"], 7);
    assert!(server.terminate().success());

    let out = on(&data, &["checkpoint"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
