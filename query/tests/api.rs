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
    assert_eq!(err.sqlstate(), "42P02");
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
fn expression_indexes_report_their_key_and_are_rebuilt_identically_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let setup = "CREATE TABLE users (id int PRIMARY KEY, email text); \
                 INSERT INTO users VALUES (1, 'Bob@x.com'), (2, 'ann@y.org'), (3, NULL); \
                 CREATE UNIQUE INDEX users_email_lower ON users ((lower(email))); \
                 CREATE TABLE docs (id int PRIMARY KEY, doc jsonb); \
                 CREATE UNIQUE INDEX ON docs ((doc->>'key')); \
                 INSERT INTO docs VALUES (1, '{\"key\": \"a\"}'), (2, '{\"key\": \"b\"}'); \
                 UPDATE users SET email = 'Ann@Y.org' WHERE id = 2; \
                 DELETE FROM docs WHERE id = 2";
    let check = |s: &mut zqlite_query::Session| {
        let err = s
            .execute("INSERT INTO users VALUES (4, 'bob@X.COM')", &[])
            .unwrap_err();
        assert_eq!(err.sqlstate(), "23505");
        assert_eq!(
            err.to_string(),
            "duplicate key value violates unique constraint \"users_email_lower\""
        );
        assert_eq!(
            err.detail().as_deref(),
            Some("Key (lower(email))=(bob@x.com) already exists.")
        );
        let err = s
            .execute("INSERT INTO docs VALUES (3, '{\"key\": \"a\"}')", &[])
            .unwrap_err();
        assert_eq!(
            err.detail().as_deref(),
            Some("Key ((doc ->> 'key'::text))=(a) already exists.")
        );
        let r = s
            .execute(
                "SELECT id FROM users WHERE lower(email) = $1",
                &[Value::Text("ann@y.org".into())],
            )
            .unwrap();
        assert_eq!(rows(&r[0]), &vec![vec![Value::Int4(2)]]);
    };
    let live = {
        let db = Database::open(dir.path()).unwrap();
        let mut s = db.session();
        s.execute(setup, &[]).unwrap();
        check(&mut s);
        let live = db.store().snapshot();
        drop(s);
        db.close().unwrap();
        live
    };
    // Replayed from the log: the same state, index contents included.
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(*db.store().snapshot(), *live);
    check(&mut db.session());
    // Again from a checkpoint.
    db.store().checkpoint().unwrap();
    db.close().unwrap();
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(*db.store().snapshot(), *live);
    check(&mut db.session());
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

#[test]
fn prepared_statements_rebind_after_ddl_and_savepoint_rollback() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (a int PRIMARY KEY, b text DEFAULT 'x')",
        &[],
    )
    .unwrap();
    let ins = s.prepare("INSERT INTO t (a) VALUES ($1)").unwrap();
    let sel = s.prepare("SELECT * FROM t WHERE a = $1").unwrap();
    let one = |s: &mut zqlite_query::Session, a: i32| {
        rows(&s.execute_prepared(&sel, &[Value::Int4(a)]).unwrap())[0].clone()
    };
    s.execute("BEGIN", &[]).unwrap();
    s.execute_prepared(&ins, &[Value::Int4(1)]).unwrap();
    assert!(ins.has_plan());
    s.execute("SAVEPOINT s1", &[]).unwrap();
    s.execute("ALTER TABLE t ADD COLUMN c int DEFAULT 7", &[])
        .unwrap();
    s.execute_prepared(&ins, &[Value::Int4(2)]).unwrap();
    assert_eq!(
        one(&mut s, 2),
        [Value::Int4(2), Value::Text("x".into()), Value::Int4(7)]
    );
    // After the rollback the catalog differs from every one a plan was bound to.
    s.execute("ROLLBACK TO SAVEPOINT s1", &[]).unwrap();
    s.execute("ALTER TABLE t ADD COLUMN d text DEFAULT 'd'", &[])
        .unwrap();
    s.execute_prepared(&ins, &[Value::Int4(3)]).unwrap();
    assert_eq!(
        one(&mut s, 3),
        [
            Value::Int4(3),
            Value::Text("x".into()),
            Value::Text("d".into())
        ]
    );
    s.execute("COMMIT", &[]).unwrap();
    assert_eq!(
        one(&mut s, 1),
        [
            Value::Int4(1),
            Value::Text("x".into()),
            Value::Text("d".into())
        ]
    );
    // Another session shares the prepared statement's plan cache safely.
    let mut other = db.session();
    assert_eq!(one(&mut other, 3)[0], Value::Int4(3));
    // A parameter of another type is bound again, not run with the old plan.
    let r = s.execute_prepared(&sel, &[Value::Int8(1)]).unwrap();
    assert_eq!(rows(&r).len(), 1);
    // A prepared insert is one statement: the error and the text cache behave.
    let err = s.prepare("SELECT 1; SELECT 2").unwrap_err();
    assert_eq!(err.sqlstate(), "42601");
    let err = s.execute_prepared(&ins, &[Value::Int4(1)]).unwrap_err();
    assert_eq!(err.sqlstate(), "23505");
    let empty = s.prepare("-- nothing").unwrap();
    assert!(rows(&s.execute_prepared(&empty, &[]).unwrap()).is_empty());
}

#[test]
fn update_and_delete_find_rows_through_indexes() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (a int PRIMARY KEY, b int, c text); CREATE INDEX t_b ON t (b)",
        &[],
    )
    .unwrap();
    let insert = s.prepare("INSERT INTO t VALUES ($1, $2, $3)").unwrap();
    for i in 1..=100 {
        let row = [
            Value::Int4(i),
            Value::Int4(i % 10),
            Value::Text(format!("r{i}")),
        ];
        s.execute_prepared(&insert, &row).unwrap();
    }
    let tag =
        |s: &mut zqlite_query::Session, sql: &str, p: &[Value]| s.execute(sql, p).unwrap()[0].tag();
    assert_eq!(
        tag(
            &mut s,
            "UPDATE t SET c = 'pk' WHERE a = $1 AND b = 3",
            &[Value::Int4(13)]
        ),
        "UPDATE 1"
    );
    assert_eq!(
        tag(
            &mut s,
            "UPDATE t SET c = 'pk' WHERE a = $1 AND b = 4",
            &[Value::Int4(13)]
        ),
        "UPDATE 0"
    );
    assert_eq!(
        tag(
            &mut s,
            "UPDATE t SET b = b + 100 WHERE b = $1",
            &[Value::Int4(7)]
        ),
        "UPDATE 10"
    );
    assert_eq!(
        tag(
            &mut s,
            "DELETE FROM t WHERE b >= $1 AND b < 200",
            &[Value::Int4(100)]
        ),
        "DELETE 10"
    );
    assert_eq!(
        tag(
            &mut s,
            "DELETE FROM t WHERE a BETWEEN $1 AND 20",
            &[Value::Int4(11)]
        ),
        "DELETE 9"
    );
    let r = s
        .execute("SELECT count(*), sum(a) FROM t WHERE c = 'pk'", &[])
        .unwrap();
    assert_eq!(rows(&r[0])[0], [Value::Int8(0), Value::Null]);
    let r = s.execute("SELECT count(*) FROM t", &[]).unwrap();
    assert_eq!(rows(&r[0])[0][0], Value::Int8(81));
    let plan = s
        .execute("EXPLAIN SELECT * FROM t WHERE b = 3", &[])
        .unwrap();
    assert!(format!("{:?}", rows(&plan[0])).contains("IndexScan"));
}

/// READ COMMITTED (the default): a block's UPDATE locks the row; a second block waits for
/// the first to commit, then updates the newest version. REPEATABLE READ fails instead.
#[test]
fn read_committed_updates_wait_for_the_row_and_apply_to_the_newest_version() {
    use std::sync::mpsc;
    use std::time::Duration;

    let db = Database::open_in_memory().unwrap();
    let mut s1 = db.session();
    s1.execute(
        "CREATE TABLE acct (id int PRIMARY KEY, balance int NOT NULL); \
         INSERT INTO acct VALUES (1, 100), (2, 100)",
        &[],
    )
    .unwrap();
    let balance = |s: &mut zqlite_query::Session, id: i32| {
        let r = s
            .execute("SELECT balance FROM acct WHERE id = $1", &[Value::Int4(id)])
            .unwrap();
        rows(&r[0])[0][0].clone()
    };

    s1.execute(
        "BEGIN; UPDATE acct SET balance = balance - 30 WHERE id = 1",
        &[],
    )
    .unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let db2 = db.clone();
    let second = std::thread::spawn(move || {
        let mut s2 = db2.session();
        s2.execute("BEGIN", &[]).unwrap();
        // Waits here until the first block commits.
        let r = s2
            .execute(
                "UPDATE acct SET balance = balance + 5 WHERE id = 1 AND balance > 50",
                &[],
            )
            .unwrap();
        done_tx.send(()).unwrap();
        s2.execute("COMMIT", &[]).unwrap();
        r[0].tag()
    });
    assert!(
        done_rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the second UPDATE must wait for the row lock"
    );
    s1.execute("COMMIT", &[]).unwrap();
    // Re-checked on the committed version (70 > 50), then applied to it: 70 + 5.
    assert_eq!(second.join().unwrap(), "UPDATE 1");
    assert_eq!(balance(&mut s1, 1), Value::Int4(75));

    // An autocommit UPDATE waits for a block's lock too, and nothing is lost.
    s1.execute(
        "BEGIN; UPDATE acct SET balance = balance * 2 WHERE id = 2",
        &[],
    )
    .unwrap();
    let db3 = db.clone();
    let auto = std::thread::spawn(move || {
        db3.session()
            .execute("UPDATE acct SET balance = balance + 1 WHERE id = 2", &[])
            .unwrap()[0]
            .tag()
    });
    std::thread::sleep(Duration::from_millis(100));
    s1.execute("COMMIT", &[]).unwrap();
    assert_eq!(auto.join().unwrap(), "UPDATE 1");
    assert_eq!(balance(&mut s1, 2), Value::Int4(201));

    // REPEATABLE READ keeps snapshot isolation: the later committer of a row fails.
    let mut a = db.session();
    let mut b = db.session();
    a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ", &[])
        .unwrap();
    b.execute("BEGIN; SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", &[])
        .unwrap();
    assert_eq!(balance(&mut a, 1), Value::Int4(75));
    assert_eq!(balance(&mut b, 1), Value::Int4(75));
    a.execute("UPDATE acct SET balance = 0 WHERE id = 1", &[])
        .unwrap();
    b.execute("UPDATE acct SET balance = 1 WHERE id = 1", &[])
        .unwrap();
    a.execute("COMMIT", &[]).unwrap();
    let err = b.execute("COMMIT", &[]).unwrap_err();
    assert_eq!(err.sqlstate(), "40001");

    // Two blocks locking two rows in opposite orders: one gets a deadlock error.
    let mut a = db.session();
    a.execute("BEGIN; UPDATE acct SET balance = 1 WHERE id = 1", &[])
        .unwrap();
    let db4 = db.clone();
    let (locked_tx, locked_rx) = mpsc::channel();
    let other = std::thread::spawn(move || {
        let mut b = db4.session();
        b.execute("BEGIN; UPDATE acct SET balance = 2 WHERE id = 2", &[])
            .unwrap();
        locked_tx.send(()).unwrap();
        let r = b.execute("UPDATE acct SET balance = 2 WHERE id = 1", &[]);
        let outcome = r.map(|_| ()).map_err(|e| e.sqlstate().to_string());
        let _ = b.execute("ROLLBACK", &[]);
        outcome
    });
    locked_rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let mine = a.execute("UPDATE acct SET balance = 1 WHERE id = 2", &[]);
    let mine = mine.map(|_| ()).map_err(|e| e.sqlstate().to_string());
    if mine.is_err() {
        a.execute("ROLLBACK", &[]).unwrap();
    } else {
        a.execute("COMMIT", &[]).unwrap();
    }
    let theirs = other.join().unwrap();
    let codes: Vec<_> = [&mine, &theirs]
        .iter()
        .filter_map(|r| r.as_ref().err().cloned())
        .collect();
    assert_eq!(codes, ["40P01"], "exactly one side is the deadlock victim");
}

#[test]
fn now_is_the_transaction_start() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    let one = |s: &mut zqlite_query::Session, sql: &str| {
        rows(&s.execute(sql, &[]).unwrap()[0])[0][0].clone()
    };
    s.execute("BEGIN", &[]).unwrap();
    let first = one(&mut s, "SELECT now()");
    let clock = one(&mut s, "SELECT clock_timestamp()");
    std::thread::sleep(std::time::Duration::from_millis(3));
    assert_eq!(
        one(&mut s, "SELECT now()"),
        first,
        "the same within a block"
    );
    assert_eq!(one(&mut s, "SELECT transaction_timestamp()"), first);
    assert_ne!(
        one(&mut s, "SELECT clock_timestamp()"),
        clock,
        "the clock moves on"
    );
    s.execute("COMMIT", &[]).unwrap();
    let after = one(&mut s, "SELECT now()");
    assert_ne!(after, first, "a new transaction has a new start");
    std::thread::sleep(std::time::Duration::from_millis(3));
    assert_ne!(
        one(&mut s, "SELECT now()"),
        after,
        "each autocommit statement is its own"
    );
}
