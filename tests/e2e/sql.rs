//! `zqlite sql` end to end: results print like psql, data persists across runs, and errors
//! go to stderr psql-style with a non-zero exit.

use std::process::{Command, Output};

use crate::zqlite_binary;

fn sql(data: &std::path::Path, args: &[&str]) -> Output {
    Command::new(zqlite_binary())
        .arg("sql")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn statements_persist_across_runs_and_print_like_psql() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = sql(
        &data,
        &[
            "-c",
            "CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL, score numeric(5,2))",
            "-c",
            "INSERT INTO users VALUES (1, 'alice', 9.5), (20, 'bo', NULL)",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "CREATE TABLE\nINSERT 0 2\n");

    let out = sql(
        &data,
        &["-c", "SELECT id, name, score FROM users ORDER BY id"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        concat!(
            " id | name  | score \n",
            "----+-------+-------\n",
            "  1 | alice |  9.50\n",
            " 20 | bo    |      \n",
            "(2 rows)\n",
            "\n",
        )
    );

    let out = sql(
        &data,
        &[
            "--format",
            "csv",
            "-c",
            "SELECT name, score FROM users ORDER BY id",
        ],
    );
    assert_eq!(stdout(&out), "name,score\nalice,9.50\nbo,\n");
    let out = sql(
        &data,
        &[
            "--format",
            "json",
            "-c",
            "SELECT id, name FROM users WHERE id = 1",
        ],
    );
    assert_eq!(stdout(&out), "[{\"id\":1,\"name\":\"alice\"}]\n");
}

#[test]
fn a_file_of_statements_runs_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("script.sql");
    std::fs::write(
        &file,
        "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (2), (3);\nSELECT sum(a) AS total FROM t;\n",
    )
    .unwrap();
    let out = sql(&tmp.path().join("data"), &["-f", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "CREATE TABLE\nINSERT 0 3\n total \n-------\n     6\n(1 row)\n\n"
    );
}

#[test]
fn errors_go_to_stderr_with_line_caret_and_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = sql(&data, &["-c", "SELECT 1;\nSELEC 2"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("ERROR:  "), "{err}");
    assert!(err.contains("LINE 2: SELEC 2\n        ^\n"), "{err}");

    let out = sql(&data, &["-c", "SELECT * FROM missing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("relation \"missing\" does not exist"),
        "{}",
        stderr(&out)
    );

    let out = sql(&data, &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nothing to run"));
}
