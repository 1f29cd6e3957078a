//! Kill -9 during concurrent SQL transactions: every acknowledged transaction is back whole
//! after reopening, and no unacknowledged transaction is partly visible.
//!
//! The test binary re-executes itself as the child, which opens a database with the SQL layer
//! and runs four sessions committing `BEGIN; INSERT x3; COMMIT` transactions, printing
//! `ack <n>` after each COMMIT returns. The parent SIGKILLs it at random moments and checks
//! through SQL. `ZQLITE_CRASH_ROUNDS` sets the rounds (default 30).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use zqlite_query::{Database, QueryResult, Value};

const CHILD_ENV: &str = "ZQLITE_SQL_CRASH_CHILD_DIR";
const TEST_NAME: &str = "sql_crash::kill_9_during_sql_transactions_keeps_them_whole";

fn run_child(dir: &Path) -> ! {
    let db = Arc::new(Database::open(dir).expect("child opens the database"));
    db.session()
        .execute(
            "CREATE TABLE IF NOT EXISTS parts (txn bigint, part int, PRIMARY KEY (txn, part))",
            &[],
        )
        .expect("schema");
    let base = std::process::id() as i64 * 1_000_000;
    let threads: Vec<_> = (0..4i64)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut session = db.session();
                for i in 0.. {
                    let n = base + t * 100_000 + i;
                    let sql = format!(
                        "BEGIN; INSERT INTO parts VALUES ({n}, 0); INSERT INTO parts VALUES ({n}, 1); \
                         INSERT INTO parts VALUES ({n}, 2); COMMIT"
                    );
                    session.execute(&sql, &[]).expect("transaction");
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {n}").and_then(|()| out.flush()).expect("parent reads stdout");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    unreachable!("sessions run until killed")
}

#[test]
fn kill_9_during_sql_transactions_keeps_them_whole() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        run_child(Path::new(&dir));
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut acked = Vec::new();
    let schedule = zqlite_log::sim::crash_schedule(Duration::from_millis(50));
    for (round, run_for) in schedule.iter().enumerate() {
        let lines =
            zqlite_log::sim::run_child_then_kill(TEST_NAME, (CHILD_ENV, dir.as_os_str()), *run_for)
                .unwrap();
        acked.extend(
            lines
                .iter()
                .filter_map(|l| l.strip_prefix("ack ")?.parse::<i64>().ok()),
        );

        let db =
            Database::open(&dir).unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        let mut parts: BTreeMap<i64, Vec<i32>> = BTreeMap::new();
        let results = db
            .session()
            .execute("SELECT txn, part FROM parts ORDER BY txn, part", &[]);
        if let Ok(results) = results {
            let Some(QueryResult::Rows { rows, .. }) = results.last() else {
                panic!("rows expected")
            };
            for row in rows {
                let (Value::Int8(n), Value::Int4(p)) = (&row[0], &row[1]) else {
                    panic!("{row:?}")
                };
                parts.entry(*n).or_default().push(*p);
            }
        }
        for (n, p) in &parts {
            assert_eq!(
                p,
                &vec![0, 1, 2],
                "round {round}: transaction {n} is partly visible"
            );
        }
        for n in &acked {
            assert!(
                parts.contains_key(n),
                "round {round}: acknowledged transaction {n} lost"
            );
        }
        db.close().unwrap();
    }
    assert!(
        acked.len() > schedule.len(),
        "the child committed transactions ({})",
        acked.len()
    );
}
