//! Time travel (`SET zq.as_of`, `zq_as_of(table, point)`): at random points of a random
//! workload, what SQL reads as of an LSN equals the state a replay of the log to that LSN
//! holds, table by table and row by row.

use std::collections::BTreeSet;

use zqlite_projections::{State, StoreOptions};
use zqlite_query::{Database, Error, QueryResult, Session, Value};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn rows(r: QueryResult) -> Vec<Vec<Value>> {
    match r {
        QueryResult::Rows { rows, .. } => rows,
        other => panic!("expected rows, got {other:?}"),
    }
}

fn one(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    rows(s.execute(sql, &[]).unwrap().pop().unwrap())
}

/// Rows as sorted text, so both sides compare without caring for order.
fn canonical(rows: Vec<Vec<Value>>) -> Vec<String> {
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.to_text().unwrap_or_else(|| "NULL".into()))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    out.sort();
    out
}

/// The rows of `table` in a replayed state, read straight from the state (no SQL).
fn replayed_rows(state: &State, table: &str) -> Option<Vec<String>> {
    let (_, data) = state.table_by_name(table)?;
    Some(canonical(
        data.scan().map(|(_, e)| e.row.to_vec()).collect::<Vec<_>>(),
    ))
}

/// Runs a random workload over several tables, one transaction per statement; returns the
/// names of every table it ever created.
fn workload(s: &mut Session, rng: &mut Rng, prefix: &str, statements: usize) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut live: Vec<(String, bool)> = Vec::new(); // (name, has column c)
    let mut next_table = 0;
    for i in 0..statements {
        let roll = rng.below(100);
        if live.is_empty() || roll < 4 {
            let name = format!("{prefix}t{next_table}");
            next_table += 1;
            s.execute(
                &format!("CREATE TABLE {name} (id int PRIMARY KEY, v text, n bigint)"),
                &[],
            )
            .unwrap();
            names.insert(name.clone());
            live.push((name, false));
            continue;
        }
        let t = rng.below(live.len() as u64) as usize;
        let (name, has_c) = live[t].clone();
        let id = rng.below(40);
        let sql = match roll {
            4..=5 if live.len() > 1 => {
                live.remove(t);
                format!("DROP TABLE {name}")
            }
            6..=7 if !has_c => {
                live[t].1 = true;
                format!("ALTER TABLE {name} ADD COLUMN c text DEFAULT 'c{i}'")
            }
            8..=50 => format!(
                "INSERT INTO {name} (id, v, n) VALUES ({id}, 'v{i}', {}) ON CONFLICT (id) DO \
                 UPDATE SET v = excluded.v, n = excluded.n",
                rng.below(1000)
            ),
            51..=80 => format!(
                "UPDATE {name} SET n = n + 1, v = 'u{i}' WHERE id % 5 = {}",
                id % 5
            ),
            _ => format!("DELETE FROM {name} WHERE id = {id} OR n % 7 = {}", id % 7),
        };
        s.execute(&sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    names
}

#[test]
fn as_of_reads_equal_a_replay_to_the_same_lsn() {
    let mut opts = StoreOptions::in_memory();
    // Checkpoints now and then, some kept for history, so past states open from them too.
    opts.checkpoint_bytes = 8 * 1024;
    opts.checkpoints_kept = 1;
    opts.history_checkpoints = 3;
    let db = Database::open_with("/time-travel", opts).unwrap();
    let mut writer = db.session();
    let cases: usize = std::env::var("ZQLITE_TIME_TRAVEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    for seed in 0..cases as u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (seed + 1));
        let tables = workload(&mut writer, &mut rng, &format!("s{seed}_"), 300);
        let head = db.store().snapshot().lsn();
        let records: Vec<_> = db.store().log().read_from(1).map(|r| r.unwrap()).collect();
        let mut reader = db.session();
        for _ in 0..12 {
            let lsn = rng.below(head + 1);
            let mut replayed = State::default();
            for record in &records[..lsn as usize] {
                replayed.replay(record).unwrap();
            }
            assert_eq!(replayed.lsn(), lsn);
            reader
                .execute(&format!("SET zq.as_of = 'lsn:{lsn}'"), &[])
                .unwrap();
            assert_eq!(
                one(&mut reader, "SELECT zq_current_lsn()"),
                vec![vec![Value::Int8(lsn as i64)]]
            );
            for table in &tables {
                let expected = replayed_rows(&replayed, table);
                let by_setting = reader.execute(&format!("SELECT * FROM {table}"), &[]);
                let by_function = writer.execute(
                    &format!("SELECT * FROM zq_as_of('{table}', 'lsn:{lsn}')"),
                    &[],
                );
                for (how, got) in [("SET zq.as_of", by_setting), ("zq_as_of", by_function)] {
                    match (&expected, got) {
                        (Some(rows), Ok(mut r)) => assert_eq!(
                            &canonical(self::rows(r.pop().unwrap())),
                            rows,
                            "{how}: {table} at LSN {lsn} (seed {seed})"
                        ),
                        (None, Err(e)) => assert_eq!(e.sqlstate(), "42P01", "{how}: {e}"),
                        (expected, got) => panic!(
                            "{how}: {table} at LSN {lsn}: expected {expected:?}, got {got:?}"
                        ),
                    }
                }
            }
            reader.execute("RESET zq.as_of", &[]).unwrap();
        }
    }
}

#[test]
fn the_setting_is_read_only_transactional_and_shown() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)", &[])
        .unwrap();
    s.execute("INSERT INTO t VALUES (1, 'old')", &[]).unwrap();
    let old = one(&mut s, "SELECT zq_current_lsn()")[0][0].clone();
    s.execute("UPDATE t SET v = 'new'", &[]).unwrap();
    s.execute("INSERT INTO t VALUES (2, 'later')", &[]).unwrap();
    let Value::Int8(old) = old else {
        panic!("an LSN is a bigint")
    };

    assert_eq!(
        one(&mut s, "SHOW zq.as_of"),
        vec![vec![Value::Text("".into())]]
    );
    s.execute(&format!("SET zq.as_of = 'lsn:{old}'"), &[])
        .unwrap();
    assert_eq!(
        one(&mut s, "SHOW zq.as_of"),
        vec![vec![Value::Text(format!("lsn:{old}"))]]
    );
    assert_eq!(
        one(&mut s, "SELECT id, v FROM t"),
        vec![vec![Value::Int4(1), Value::Text("old".into())]]
    );
    for write in [
        "INSERT INTO t VALUES (3, 'x')",
        "UPDATE t SET v = 'x'",
        "DELETE FROM t",
        "CREATE TABLE u (a int)",
        "DROP TABLE t",
    ] {
        let e: Error = s.execute(write, &[]).unwrap_err();
        assert_eq!(e.sqlstate(), "25006", "{write}");
        assert!(e.to_string().contains("zq.as_of"), "{e}");
    }
    // SET in a rolled-back block is undone; SET LOCAL lasts until the block ends.
    s.execute("BEGIN", &[]).unwrap();
    s.execute("RESET zq.as_of", &[]).unwrap();
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(2)]]
    );
    s.execute("ROLLBACK", &[]).unwrap();
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(1)]]
    );
    s.execute("SET zq.as_of = DEFAULT", &[]).unwrap();
    s.execute("BEGIN", &[]).unwrap();
    s.execute(&format!("SET LOCAL zq.as_of = 'lsn:{old}'"), &[])
        .unwrap();
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(1)]]
    );
    let e = s.execute("INSERT INTO t VALUES (3, 'x')", &[]).unwrap_err();
    assert_eq!(e.sqlstate(), "25006");
    s.execute("ROLLBACK", &[]).unwrap();
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(2)]]
    );
    // ROLLBACK TO SAVEPOINT undoes a SET made after the savepoint, as PostgreSQL does.
    s.execute("BEGIN", &[]).unwrap();
    s.execute("SAVEPOINT before_travel", &[]).unwrap();
    s.execute(&format!("SET zq.as_of = 'lsn:{old}'"), &[])
        .unwrap();
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(1)]]
    );
    s.execute("ROLLBACK TO SAVEPOINT before_travel", &[])
        .unwrap();
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(2)]],
        "back to the live state"
    );
    s.execute("SAVEPOINT second", &[]).unwrap();
    s.execute(&format!("SET LOCAL zq.as_of = 'lsn:{old}'"), &[])
        .unwrap();
    s.execute("RELEASE SAVEPOINT second", &[]).unwrap();
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(1)]],
        "RELEASE keeps the setting"
    );
    s.execute("COMMIT", &[]).unwrap();
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(2)]],
        "SET LOCAL ends with the block"
    );
    s.execute("INSERT INTO t VALUES (3, 'x')", &[]).unwrap();

    // Bad values are refused with 22023, and the setting stays as it was.
    for bad in [
        "SET zq.as_of = 'lsn:999999'",
        "SET zq.as_of = 'not a time'",
        "SET zq.as_of = '2999-01-01 00:00:00+00'",
    ] {
        let e = s.execute(bad, &[]).unwrap_err();
        assert_eq!(e.sqlstate(), "22023", "{bad}: {e}");
    }
    assert_eq!(
        one(&mut s, "SHOW zq.as_of"),
        vec![vec![Value::Text("".into())]]
    );
    // A time before the first commit is the empty database.
    s.execute("SET zq.as_of = '2001-01-01 00:00:00+00'", &[])
        .unwrap();
    assert_eq!(
        one(&mut s, "SELECT zq_current_lsn()"),
        vec![vec![Value::Int8(0)]]
    );
    assert_eq!(
        s.execute("SELECT * FROM t", &[]).unwrap_err().sqlstate(),
        "42P01"
    );
    s.execute("RESET zq.as_of", &[]).unwrap();
}

#[test]
fn a_query_reads_one_point_given_by_zq_as_of() {
    let db = Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE a (id int PRIMARY KEY)", &[])
        .unwrap();
    s.execute("CREATE TABLE b (id int PRIMARY KEY)", &[])
        .unwrap();
    s.execute("INSERT INTO a VALUES (1)", &[]).unwrap();
    s.execute("INSERT INTO b VALUES (1)", &[]).unwrap();
    let Value::Int8(then) = one(&mut s, "SELECT zq_current_lsn()")[0][0] else {
        panic!("an LSN is a bigint")
    };
    s.execute("INSERT INTO a VALUES (2)", &[]).unwrap();
    s.execute("INSERT INTO b VALUES (2)", &[]).unwrap();
    // Both tables, the plain one too, read the query's point; parameters work.
    let joined = rows(
        s.execute(
            "SELECT x.id, (SELECT count(*) FROM b) FROM zq_as_of('a', $1) AS x ORDER BY x.id",
            &[Value::Text(format!("lsn:{then}"))],
        )
        .unwrap()
        .pop()
        .unwrap(),
    );
    assert_eq!(joined, vec![vec![Value::Int4(1), Value::Int8(1)]]);
    assert_eq!(
        one(
            &mut s,
            &format!(
                "SELECT a.id FROM zq_as_of('a', {then}) JOIN zq_as_of('b', 'lsn:{then}') USING (id)"
            )
        ),
        vec![vec![Value::Int4(1)]]
    );
    let e = s
        .execute(
            &format!("SELECT * FROM zq_as_of('a', 'lsn:{then}'), zq_as_of('b', 'lsn:1')"),
            &[],
        )
        .unwrap_err();
    assert_eq!(e.sqlstate(), "0A000");
    let e = s
        .execute(
            &format!("INSERT INTO a SELECT id + 10 FROM zq_as_of('a', 'lsn:{then}')"),
            &[],
        )
        .unwrap_err();
    assert_eq!(e.sqlstate(), "0A000");
    let e = s
        .execute(
            &format!("CREATE VIEW v AS SELECT * FROM zq_as_of('a', 'lsn:{then}')"),
            &[],
        )
        .unwrap_err();
    assert_eq!(e.sqlstate(), "0A000");
    let e = s.execute("SELECT * FROM zq_as_of('a')", &[]).unwrap_err();
    assert_eq!(e.sqlstate(), "42883");
    let e = s
        .execute("SELECT * FROM zq_as_of('no_such', 'lsn:1')", &[])
        .unwrap_err();
    assert_eq!(e.sqlstate(), "42P01");
    // The live state is untouched.
    assert_eq!(
        one(&mut s, "SELECT count(*) FROM a"),
        vec![vec![Value::Int8(2)]]
    );
}
