//! The embedded API: sessions, parameters, result shapes, error codes and locations,
//! plan caching, and durability across reopen.

use zqlite_query::{DataType, Database, QueryResult, Value};

fn rows(r: &QueryResult) -> &Vec<Vec<Value>> {
    match r {
        QueryResult::Rows { rows, .. } => rows,
        other => panic!("expected rows, got {other:?}"),
    }
}

#[test]
fn multi_statement_results_and_tags() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    let results = s
        .execute(
            "CREATE TABLE t (a int PRIMARY KEY, b text); \
             INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'z'); \
             UPDATE t SET b = 'w' WHERE a > 1; \
             SELECT a, b FROM t ORDER BY a; \
             DELETE FROM t WHERE a = 3",
            &[],
        )
        .unwrap();
    let tags: Vec<String> = results.iter().map(QueryResult::tag).collect();
    assert_eq!(
        tags,
        [
            "CREATE TABLE",
            "INSERT 0 3",
            "UPDATE 2",
            "SELECT 3",
            "DELETE 1"
        ]
    );
    match &results[3] {
        QueryResult::Rows { columns, rows } => {
            assert_eq!(columns[0].name, "a");
            assert_eq!(columns[0].data_type, DataType::Int4);
            assert_eq!(columns[1].data_type, DataType::Text);
            assert_eq!(rows[1], vec![Value::Int4(2), Value::Text("w".into())]);
        }
        other => panic!("expected rows, got {other:?}"),
    }
}

#[test]
fn parameters_bind_as_values_never_as_text() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a int, b text)", &[]).unwrap();
    let evil = Value::Text("x'); DROP TABLE t; --".into());
    s.execute(
        "INSERT INTO t VALUES ($1, $2)",
        &[Value::Int4(1), evil.clone()],
    )
    .unwrap();
    let r = s
        .execute("SELECT b FROM t WHERE a = $1", &[Value::Int4(1)])
        .unwrap();
    assert_eq!(rows(&r[0])[0][0], evil);
    let err = s.execute("SELECT $2", &[Value::Int4(1)]).unwrap_err();
    assert_eq!(err.sqlstate(), "08P01");
}

#[test]
fn errors_have_sqlstate_and_location() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    let err = s.execute("SELECT 1\n  2", &[]).unwrap_err();
    assert_eq!(err.sqlstate(), "42601");
    let loc = err.location().expect("syntax errors have a location");
    assert_eq!((loc.line, loc.column), (2, 3));
    assert!(err.to_string().contains("line 2, column 3"), "{err}");

    s.execute("CREATE TABLE t (a int)", &[]).unwrap();
    let err = s.execute("SELECT a,\n nope FROM t", &[]).unwrap_err();
    assert_eq!(err.sqlstate(), "42703");
    let loc = err.location().expect("unknown columns have a location");
    assert_eq!((loc.line, loc.column), (2, 2));

    let err = s.execute("SELECT * FROM missing", &[]).unwrap_err();
    assert_eq!(err.sqlstate(), "42P01");
    assert_eq!(err.location().map(|l| l.column), Some(15));

    let err = s
        .execute(
            "CREATE TRIGGER x AFTER INSERT ON t EXECUTE FUNCTION f()",
            &[],
        )
        .unwrap_err();
    assert_eq!(err.sqlstate(), "0A000");
}

#[test]
fn plan_cache_is_used_and_invalidated_by_ddl() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a int PRIMARY KEY)", &[])
        .unwrap();
    s.execute("INSERT INTO t VALUES (1), (2)", &[]).unwrap();
    let q = "SELECT count(*) FROM t WHERE a >= $1";
    let r = s.query_cached(q, &[Value::Int4(1)]).unwrap();
    assert_eq!(rows(&r)[0][0], Value::Int8(2));
    assert_eq!(s.cached_plans(), 1);
    let r = s.query_cached(q, &[Value::Int4(2)]).unwrap();
    assert_eq!(rows(&r)[0][0], Value::Int8(1));
    assert_eq!(s.cached_plans(), 1);
    // A catalog change makes the cached plan stale: it is re-planned and still correct.
    s.execute("ALTER TABLE t ADD COLUMN b int", &[]).unwrap();
    s.execute("INSERT INTO t VALUES (3, 0)", &[]).unwrap();
    let r = s.query_cached(q, &[Value::Int4(2)]).unwrap();
    assert_eq!(rows(&r)[0][0], Value::Int8(2));
}

#[test]
fn commits_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path()).unwrap();
        let mut s = db.session();
        s.execute("CREATE TABLE t (a serial PRIMARY KEY, b text)", &[])
            .unwrap();
        s.execute("INSERT INTO t (b) VALUES ('kept')", &[]).unwrap();
        s.execute("BEGIN; INSERT INTO t (b) VALUES ('lost'); ROLLBACK", &[])
            .unwrap();
        drop(s);
        db.close().unwrap();
    }
    let db = Database::open(dir.path()).unwrap();
    let mut s = db.session();
    let r = s.execute("SELECT a, b FROM t", &[]).unwrap();
    assert_eq!(rows(&r[0]).len(), 1);
    assert_eq!(rows(&r[0])[0][1], Value::Text("kept".into()));
}

#[test]
fn statement_failure_leaves_no_trace() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a int PRIMARY KEY)", &[])
        .unwrap();
    s.execute("INSERT INTO t VALUES (1)", &[]).unwrap();
    // The second row conflicts: the whole statement (including row 2) is undone.
    let err = s.execute("INSERT INTO t VALUES (2), (1)", &[]).unwrap_err();
    assert_eq!(err.sqlstate(), "23505");
    let r = s.execute("SELECT count(*) FROM t", &[]).unwrap();
    assert_eq!(rows(&r[0])[0][0], Value::Int8(1));
}
