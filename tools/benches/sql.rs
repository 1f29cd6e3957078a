//! SQL benchmark: zqlite (embedded) next to SQLite (WAL, synchronous=FULL) on the same data,
//! in one run, printing rates and the zqlite/SQLite ratio against the targets.
//!
//! `cargo bench -p zqlite --bench sql -- [--rows N] [--seconds S] [--only NAME]` (defaults:
//! 1,000,000 rows, 3 s per timed measurement; `--only` runs the measurements whose name
//! contains NAME, after loading the data). Both engines use one durable file-backed database in a
//! temporary directory on the same disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use zqlite_query::{Database, Prepared, QueryResult, Session, Value};

struct Config {
    rows: i64,
    seconds: f64,
    /// Run only the measurements whose name contains this (for profiling one of them).
    only: Option<String>,
}

impl Config {
    fn wants(&self, measurement: &str) -> bool {
        self.only.as_deref().is_none_or(|o| measurement.contains(o))
    }
}

fn config() -> Config {
    let mut cfg = Config {
        rows: 1_000_000,
        seconds: 3.0,
        only: None,
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--rows" => cfg.rows = pair[1].parse().expect("--rows takes a number"),
            "--seconds" => cfg.seconds = pair[1].parse().expect("--seconds takes a number"),
            "--only" => cfg.only = Some(pair[1].clone()),
            _ => {}
        }
    }
    cfg
}

/// Runs `op` repeatedly for `seconds` and returns operations per second.
fn rate(seconds: f64, mut op: impl FnMut(u64)) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..64 {
            op(n);
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Runs `op(thread, i)` in `threads` threads for `seconds`; total operations per second.
fn concurrent_rate(
    threads: usize,
    seconds: f64,
    op: impl Fn(usize, u64) + Send + Sync + 'static,
) -> f64 {
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (op, stop, done) = (op.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    op(t, i);
                    i += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("benchmark thread");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn key(i: u64, rows: i64) -> i64 {
    (i.wrapping_mul(2_654_435_761) % rows as u64) as i64
}

/// Prints one measurement; `target` is the ratio the project commits to, where it has one.
fn report(name: &str, zq: f64, lite: f64, target: Option<f64>, unit: &str) {
    let ratio = zq / lite;
    let verdict = match target {
        Some(t) if ratio >= t => format!("(target {t:.1}x: meets)"),
        Some(t) => format!("(target {t:.1}x: below)"),
        None => String::new(),
    };
    // Slow measurements (a few per second) need decimals to be readable.
    let digits = if zq.min(lite) < 100.0 { 2 } else { 0 };
    println!("{name:<40} {zq:>12.digits$} {lite:>12.digits$} {unit:<10} {ratio:>6.2}x  {verdict}");
}

fn rows_of(result: &[QueryResult]) -> usize {
    match result.last() {
        Some(QueryResult::Rows { rows, .. }) => rows.len(),
        _ => 0,
    }
}

fn main() {
    let cfg = config();
    let tmp = tempfile::tempdir().expect("temporary directory");
    let db = Arc::new(Database::open(tmp.path().join("zqlite")).expect("open zqlite"));
    let lite_path = tmp.path().join("sqlite.db");
    let lite = Connection::open(&lite_path).expect("open sqlite");
    lite.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
        .unwrap();
    let schema = "CREATE TABLE branches (id integer PRIMARY KEY, name text);
                  CREATE TABLE accounts (id bigint PRIMARY KEY, name text, balance double precision, branch integer);
                  CREATE TABLE events (id bigint PRIMARY KEY, body text);";
    db.session().execute(schema, &[]).expect("zqlite schema");
    lite.execute_batch(schema).unwrap();
    println!(
        "zqlite vs SQLite (WAL, synchronous=FULL): {} rows, {:.1} s per measurement",
        cfg.rows, cfg.seconds
    );
    println!(
        "{:<40} {:>12} {:>12} {:<10} {:>7}",
        "measurement", "zqlite", "sqlite", "unit", "ratio"
    );

    // Bulk load: 100k rows in one transaction (measured), then the rest untimed.
    let bulk = 100_000.min(cfg.rows);
    let start = Instant::now();
    {
        let mut s = db.session();
        s.execute("BEGIN", &[]).unwrap();
        let insert = s
            .prepare("INSERT INTO accounts VALUES ($1, $2, $3, $4)")
            .unwrap();
        for id in 0..bulk {
            s.execute_prepared(
                &insert,
                &[
                    Value::Int8(id),
                    Value::Text(format!("account-{id:012}")),
                    Value::Float8(id as f64 * 0.25),
                    Value::Int4((id % 100) as i32),
                ],
            )
            .unwrap();
        }
        s.execute("COMMIT", &[]).unwrap();
    }
    let zq_bulk = bulk as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    {
        let tx = lite.unchecked_transaction().unwrap();
        let mut stmt = tx
            .prepare("INSERT INTO accounts VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        for id in 0..bulk {
            stmt.execute(params![
                id,
                format!("account-{id:012}"),
                id as f64 * 0.25,
                id % 100
            ])
            .unwrap();
        }
        drop(stmt);
        tx.commit().unwrap();
    }
    let lite_bulk = bulk as f64 / start.elapsed().as_secs_f64();
    report(
        "100k inserts in one transaction",
        zq_bulk,
        lite_bulk,
        Some(0.5),
        "rows/s",
    );

    for chunk_start in (bulk..cfg.rows).step_by(100_000) {
        let end = (chunk_start + 100_000).min(cfg.rows);
        let mut s = db.session();
        s.execute("BEGIN", &[]).unwrap();
        let tx = lite.unchecked_transaction().unwrap();
        {
            let mut stmt = tx
                .prepare("INSERT INTO accounts VALUES (?1, ?2, ?3, ?4)")
                .unwrap();
            for id in chunk_start..end {
                let name = format!("account-{id:012}");
                s.execute(
                    "INSERT INTO accounts VALUES ($1, $2, $3, $4)",
                    &[
                        Value::Int8(id),
                        Value::Text(name.clone()),
                        Value::Float8(id as f64 * 0.25),
                        Value::Int4((id % 100) as i32),
                    ],
                )
                .unwrap();
                stmt.execute(params![id, name, id as f64 * 0.25, id % 100])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
        s.execute("COMMIT", &[]).unwrap();
    }
    let mut s = db.session();
    s.execute("BEGIN", &[]).unwrap();
    for b in 0..100 {
        s.execute(
            &format!("INSERT INTO branches VALUES ({b}, 'branch-{b}')"),
            &[],
        )
        .unwrap();
        lite.execute(
            "INSERT INTO branches VALUES (?1, ?2)",
            params![b, format!("branch-{b}")],
        )
        .unwrap();
    }
    s.execute("COMMIT", &[]).unwrap();

    let rows = cfg.rows;
    // Point select by primary key, prepared.
    if cfg.wants("point select by primary key (prepared)") {
        let point = s
            .prepare("SELECT name, balance FROM accounts WHERE id = $1")
            .unwrap();
        let zq = rate(cfg.seconds, |i| {
            let r = s
                .execute_prepared(&point, &[Value::Int8(key(i, rows))])
                .unwrap();
            assert_eq!(rows_of(std::slice::from_ref(&r)), 1);
        });
        let mut stmt = lite
            .prepare("SELECT name, balance FROM accounts WHERE id = ?1")
            .unwrap();
        let sq = rate(cfg.seconds, |i| {
            let n: usize = stmt
                .query_map(params![key(i, rows)], |_| Ok(()))
                .unwrap()
                .count();
            assert_eq!(n, 1);
        });
        drop(stmt);
        report(
            "point select by primary key (prepared)",
            zq,
            sq,
            Some(1.0),
            "queries/s",
        );
    }
    // 1% range scan.
    if cfg.wants("1% range scan (sum)") {
        let span = (rows / 100).max(1);
        let zq = rate(cfg.seconds / 3.0, |i| {
            let lo = key(i, rows - span);
            s.query_cached(
                "SELECT sum(balance) FROM accounts WHERE id >= $1 AND id < $2",
                &[Value::Int8(lo), Value::Int8(lo + span)],
            )
            .unwrap();
        });
        let mut stmt = lite
            .prepare("SELECT sum(balance) FROM accounts WHERE id >= ?1 AND id < ?2")
            .unwrap();
        let sq = rate(cfg.seconds / 3.0, |i| {
            let lo = key(i, rows - span);
            let _: f64 = stmt
                .query_row(params![lo, lo + span], |r| r.get(0))
                .unwrap();
        });
        drop(stmt);
        report("1% range scan (sum)", zq, sq, None, "queries/s");
    }
    // Join + GROUP BY over every account.
    if cfg.wants("join + GROUP BY over all rows") {
        let join = "SELECT b.name, count(*), sum(a.balance) FROM accounts a JOIN branches b ON a.branch = b.id GROUP BY b.name";
        let start = Instant::now();
        let groups = rows_of(&s.execute(join, &[]).unwrap());
        let zq = 1.0 / start.elapsed().as_secs_f64();
        let start = Instant::now();
        let mut stmt = lite.prepare(join).unwrap();
        let lite_groups = stmt.query_map([], |_| Ok(())).unwrap().count();
        let sq = 1.0 / start.elapsed().as_secs_f64();
        drop(stmt);
        assert_eq!(groups, lite_groups);
        report("join + GROUP BY over all rows", zq, sq, None, "queries/s");
    }
    // Durable single-row autocommit inserts.
    {
        for writers in [1usize, 16] {
            let name = format!("durable autocommit inserts, {writers} writers");
            if !cfg.wants(&name) {
                continue;
            }
            let next_id = Arc::new(AtomicU64::new(writers as u64 * 10_000_000));
            let zq = {
                let db = db.clone();
                let next_id = next_id.clone();
                concurrent_rate(writers, cfg.seconds, move |_, _| {
                    // Each writer thread keeps its session and prepared statement, as SQLite's
                    // keep their connection and cached statement.
                    thread_local! {
                        static WRITER: std::cell::OnceCell<std::cell::RefCell<(Session, Prepared)>> =
                            const { std::cell::OnceCell::new() };
                    }
                    WRITER.with(|w| {
                        let mut w = w
                            .get_or_init(|| {
                                let mut s = db.session();
                                let p = s.prepare("INSERT INTO events VALUES ($1, 'e')").unwrap();
                                std::cell::RefCell::new((s, p))
                            })
                            .borrow_mut();
                        let (s, p) = &mut *w;
                        let id = next_id.fetch_add(1, Ordering::Relaxed) as i64;
                        s.execute_prepared(p, &[Value::Int8(id)]).unwrap();
                    });
                })
            };
            let path = lite_path.clone();
            let next_id = Arc::new(AtomicU64::new(writers as u64 * 10_000_000));
            let sq = concurrent_rate(writers, cfg.seconds, move |_, _| {
                thread_local! {
                    static CONN: std::cell::OnceCell<Connection> = const { std::cell::OnceCell::new() };
                }
                CONN.with(|c| {
                    let conn = c.get_or_init(|| {
                        let conn = Connection::open(&path).unwrap();
                        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;")
                            .unwrap();
                        conn
                    });
                    let id = next_id.fetch_add(1, Ordering::Relaxed) as i64;
                    conn.prepare_cached("INSERT INTO events VALUES (?1, 'e')")
                        .unwrap()
                        .execute(params![id])
                        .unwrap();
                });
            });
            let target = (writers == 16).then_some(5.0);
            report(&name, zq, sq, target, "commits/s");
        }
    }
}
