//! Kill -9 of a real process committing transactions: every acknowledged transaction is back
//! whole after reopening, and no transaction is partly visible.
//!
//! The test re-executes its own binary as the child. Child threads commit transactions that
//! each insert three rows tagged with the transaction's number, printing `ack <n>` once the
//! commit is durable; the parent SIGKILLs the child at random moments and checks the state.
//! `ZQLITE_CRASH_ROUNDS` sets the rounds (default 30).

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use common::*;
use zqlite_projections::{Change, DataType, Store, StoreOptions, TxMeta, Value};

const CHILD_ENV: &str = "ZQLITE_STORE_CRASH_CHILD_DIR";
const TEST_NAME: &str = "kill_9_keeps_acknowledged_transactions_whole";

fn options() -> StoreOptions {
    StoreOptions {
        checkpoint_bytes: 256 * 1024,
        ..StoreOptions::default()
    }
}

fn run_child(dir: &Path) -> ! {
    let store = Arc::new(Store::open(dir, options()).expect("child opens the store"));
    if store.snapshot().table_by_name("items").is_none() {
        let def = heap_table(
            1,
            "items",
            &[("txn", DataType::Int8), ("part", DataType::Int8)],
        );
        commit_with(&store, |t| t.apply(Change::CreateTable(def)).unwrap());
    }
    // Transaction numbers continue after those already in the table.
    let start = store.snapshot().table_by_name("items").unwrap().1.len() as i64
        + 1_000_000 * std::process::id() as i64;
    let counter = Arc::new(AtomicI64::new(start));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (store, counter) = (store.clone(), counter.clone());
            std::thread::spawn(move || {
                loop {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let mut txn = store.begin();
                    for part in 0..3 {
                        txn.insert(1, vec![int(n), int(part)]).expect("insert");
                    }
                    let pending = store.commit(txn, TxMeta::default()).expect("commit");
                    store.wait(pending).expect("durable");
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {n}")
                        .and_then(|()| out.flush())
                        .expect("parent reads stdout");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    unreachable!("committers run until killed")
}

#[test]
fn kill_9_keeps_acknowledged_transactions_whole() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        run_child(Path::new(&dir));
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let mut acked = Vec::new();
    let schedule = zqlite_log::sim::crash_schedule(Duration::from_millis(30));
    for (round, run_for) in schedule.iter().enumerate() {
        let lines =
            zqlite_log::sim::run_child_then_kill(TEST_NAME, (CHILD_ENV, dir.as_os_str()), *run_for)
                .unwrap();
        for line in lines {
            if let Some(n) = line.strip_prefix("ack ") {
                acked.push(n.parse::<i64>().unwrap());
            }
        }

        let store = Store::open(&dir, options())
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        let snap = store.snapshot();
        let mut parts: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        if let Some((_, data)) = snap.table_by_name("items") {
            for (_, entry) in data.scan() {
                let (Value::Int8(n), Value::Int8(p)) = (&entry.row[0], &entry.row[1]) else {
                    panic!()
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
        let replayed = zqlite_projections::replay_all(store.log()).unwrap();
        assert_eq!(
            replayed.digest(),
            snap.digest(),
            "round {round}: checkpoint + tail = full replay"
        );
        drop(store);
    }
    assert!(!acked.is_empty());
}
