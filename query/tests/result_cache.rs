//! The query result cache: answers are served again only while every table they read is
//! unchanged (exact invalidation, never a stale answer, also under concurrent writers);
//! queries of the clock, chance, sequences or system relations, and reads inside a
//! transaction block, bypass it; `zq_query_cache` counts hits and misses.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread;

use zqlite_query::{Database, QueryResult, Value};

fn rows(r: &QueryResult) -> Vec<Vec<Value>> {
    match r {
        QueryResult::Rows { rows, .. } => rows.clone(),
        other => panic!("expected rows, got {other:?}"),
    }
}

fn query(s: &mut zqlite_query::Session, sql: &str) -> Vec<Vec<Value>> {
    rows(&s.execute(sql, &[]).unwrap().pop().unwrap())
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int8(n) => *n,
        Value::Int4(n) => i64::from(*n),
        other => panic!("expected an integer, got {other:?}"),
    }
}

fn cached_db() -> Database {
    let db = Database::open_in_memory().unwrap();
    db.set_query_cache_capacity(8 << 20);
    db
}

#[test]
fn answers_are_reused_until_a_table_they_read_changes() {
    let db = cached_db();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE a (id int PRIMARY KEY, v int); CREATE TABLE b (id int PRIMARY KEY); \
         INSERT INTO a VALUES (1, 10), (2, 20); INSERT INTO b VALUES (1)",
        &[],
    )
    .unwrap();
    let sum = "SELECT sum(v) FROM a WHERE id IN (SELECT id FROM a)";
    assert_eq!(query(&mut s, sum), vec![vec![Value::Int8(30)]]);
    assert_eq!(query(&mut s, sum), vec![vec![Value::Int8(30)]]);
    let stats = db.query_cache().stats();
    assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));

    // A commit to another table leaves the answer valid.
    s.execute("INSERT INTO b VALUES (2)", &[]).unwrap();
    assert_eq!(query(&mut s, sum), vec![vec![Value::Int8(30)]]);
    assert_eq!(db.query_cache().stats().hits, 2);

    // A commit to a table it reads invalidates it, also through another session.
    db.session()
        .execute("UPDATE a SET v = 11 WHERE id = 1", &[])
        .unwrap();
    assert_eq!(query(&mut s, sum), vec![vec![Value::Int8(31)]]);
    let stats = db.query_cache().stats();
    assert_eq!((stats.hits, stats.invalidations), (2, 1));

    // Parameters are part of the key.
    let by_id = |s: &mut zqlite_query::Session, id: i32| {
        rows(
            &s.execute("SELECT v FROM a WHERE id = $1", &[Value::Int4(id)])
                .unwrap()[0],
        )
    };
    assert_eq!(by_id(&mut s, 1), vec![vec![Value::Int4(11)]]);
    assert_eq!(by_id(&mut s, 2), vec![vec![Value::Int4(20)]]);
    assert_eq!(by_id(&mut s, 1), vec![vec![Value::Int4(11)]]);

    // DDL changes the catalog version: nothing read before it is served after it.
    s.execute("ALTER TABLE a ADD COLUMN w int DEFAULT 5", &[])
        .unwrap();
    assert_eq!(
        query(&mut s, "SELECT * FROM a ORDER BY id"),
        vec![
            vec![Value::Int4(1), Value::Int4(11), Value::Int4(5)],
            vec![Value::Int4(2), Value::Int4(20), Value::Int4(5)],
        ]
    );
    s.execute("TRUNCATE a", &[]).unwrap();
    assert_eq!(query(&mut s, sum), vec![vec![Value::Null]]);
}

#[test]
fn volatile_and_system_queries_and_blocks_bypass_the_cache() {
    let db = cached_db();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1); \
         CREATE SEQUENCE seq",
        &[],
    )
    .unwrap();
    for sql in [
        "SELECT random() FROM t",
        "SELECT now() FROM t",
        "SELECT nextval('seq') FROM t",
        "SELECT count(*) FROM zq_log",
        "SELECT relname FROM pg_class WHERE relname = 't'",
    ] {
        let first = query(&mut s, sql);
        let second = query(&mut s, sql);
        if sql.contains("nextval") {
            assert_ne!(first, second, "{sql}");
        }
    }
    assert_eq!(db.query_cache().stats().entries, 0);
    assert_eq!(db.query_cache().stats().hits, 0);

    // Inside a block the state may hold the block's own changes: no lookups at all.
    s.execute("BEGIN", &[]).unwrap();
    s.execute("INSERT INTO t VALUES (2)", &[]).unwrap();
    assert_eq!(
        query(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(2)]]
    );
    s.execute("ROLLBACK", &[]).unwrap();
    let stats = db.query_cache().stats();
    assert_eq!((stats.hits + stats.misses, stats.entries), (0, 0));
    assert_eq!(
        query(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int8(1)]]
    );
}

#[test]
fn the_system_view_shows_hit_rates() {
    let db = cached_db();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id int PRIMARY KEY)", &[])
        .unwrap();
    for _ in 0..4 {
        query(&mut s, "SELECT count(*) FROM t");
    }
    let stats = query(
        &mut s,
        "SELECT enabled, entries, hits, misses, hit_rate FROM zq_query_cache",
    );
    assert_eq!(
        stats,
        vec![vec![
            Value::Bool(true),
            Value::Int8(1),
            Value::Int8(3),
            Value::Int8(1),
            Value::Float8(0.75),
        ]]
    );
    db.set_query_cache_capacity(0);
    let off = query(&mut s, "SELECT enabled, entries FROM zq_query_cache");
    assert_eq!(off, vec![vec![Value::Bool(false), Value::Int8(0)]]);
}

#[test]
fn eviction_keeps_the_cache_within_its_capacity() {
    let db = Database::open_in_memory().unwrap();
    db.set_query_cache_capacity(64 << 10);
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (id int PRIMARY KEY, body text); \
         INSERT INTO t SELECT g, repeat('x', 500) FROM generate_series(1, 200) g",
        &[],
    )
    .unwrap();
    for id in 1..=200 {
        s.execute("SELECT body FROM t WHERE id = $1", &[Value::Int4(id)])
            .unwrap();
    }
    let stats = db.query_cache().stats();
    assert!(stats.used_bytes <= 64 << 10, "{stats:?}");
    assert!(stats.evictions > 0 && stats.entries < 200, "{stats:?}");
    // The most recent answers are the ones kept.
    s.execute("SELECT body FROM t WHERE id = $1", &[Value::Int4(200)])
        .unwrap();
    assert_eq!(db.query_cache().stats().hits, 1);
}

/// Writers increase counters while readers query them through the cache: a reader never sees
/// a value lower than one committed before its query started.
#[test]
fn never_a_stale_answer_under_concurrent_writes() {
    const WRITERS: usize = 2;
    const READERS: usize = 3;
    let db = cached_db();
    let mut setup = db.session();
    setup
        .execute(
            "CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL); \
             INSERT INTO counters VALUES (0, 0), (1, 0); \
             CREATE TABLE fixed (id int PRIMARY KEY); INSERT INTO fixed VALUES (1), (2), (3)",
            &[],
        )
        .unwrap();
    let committed: Arc<Vec<AtomicI64>> =
        Arc::new((0..WRITERS).map(|_| AtomicI64::new(0)).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let (db, committed, stop) = (db.clone(), committed.clone(), stop.clone());
        handles.push(thread::spawn(move || {
            let mut s = db.session();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && n < 2_000 {
                n += 1;
                s.execute(
                    "UPDATE counters SET n = $1 WHERE id = $2",
                    &[Value::Int8(n), Value::Int4(w as i32)],
                )
                .unwrap();
                committed[w].store(n, Ordering::SeqCst);
            }
        }));
    }
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let (db, committed) = (db.clone(), committed.clone());
        readers.push(thread::spawn(move || {
            let mut s = db.session();
            for _ in 0..3_000 {
                let floors: Vec<i64> = committed.iter().map(|c| c.load(Ordering::SeqCst)).collect();
                for (w, floor) in floors.iter().enumerate() {
                    let r = s
                        .execute(
                            "SELECT n FROM counters WHERE id = $1",
                            &[Value::Int4(w as i32)],
                        )
                        .unwrap();
                    let seen = int(&rows(&r[0])[0][0]);
                    assert!(
                        seen >= *floor,
                        "writer {w}: saw {seen} after {floor} committed"
                    );
                }
                let total = int(&query(&mut s, "SELECT sum(n)::bigint FROM counters")[0][0]);
                assert!(total >= floors.iter().sum::<i64>());
                assert_eq!(
                    query(&mut s, "SELECT count(*) FROM fixed"),
                    vec![vec![Value::Int8(3)]]
                );
            }
        }));
    }
    for r in readers {
        r.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let stats = db.query_cache().stats();
    assert!(stats.hits > 0 && stats.invalidations > 0, "{stats:?}");
}
