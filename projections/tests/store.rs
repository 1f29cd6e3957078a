//! The store: replay gives the live state's digest, checkpoints are only a cache,
//! concurrent transactions conflict correctly, and commits are durable and atomic.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use zqlite_log::LogOptions;
use zqlite_log::sim::SimFs;
use zqlite_projections::{
    Change, DataType, ExpectedVersion, FkAction, NewEvent, Store, StoreOptions, TxMeta, Value,
    replay_all,
};

fn sim_options(fs: &SimFs) -> StoreOptions {
    StoreOptions {
        log: LogOptions {
            fs: Arc::new(fs.clone()),
            segment_size: 64 * 1024,
            ..LogOptions::default()
        },
        checkpoint_bytes: 0,
        checkpoints_kept: 2,
        history_checkpoints: 0,
    }
}

/// A deterministic pseudo-random workload of inserts, updates, deletes and DDL.
fn random_workload(store: &Store, seed: u64, transactions: usize) {
    let mut x = seed | 1;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    create(
        store,
        table(
            1,
            "accounts",
            &[("owner", DataType::Text), ("balance", DataType::Int8)],
        ),
    );
    let mut notes = heap_table(
        2,
        "notes",
        &[("account", DataType::Int8), ("body", DataType::Text)],
    );
    notes
        .foreign_keys
        .push(fk("notes_account_fkey", 0, 1, FkAction::Cascade));
    create(store, notes);
    // Rows sized to the table's current width (columns come and go during the workload).
    let widen = |txn: &zqlite_projections::Transaction, mut row: Vec<Value>| {
        let width = txn.state().catalog().table(1).unwrap().columns.len();
        row.resize(width, Value::Null);
        row
    };
    for i in 0..transactions {
        let mut txn = store.begin();
        for _ in 0..1 + next(5) {
            let id = next(50) as i64;
            let exists = txn.state().table_data(1).unwrap().get(&[int(id)]).is_some();
            match next(4) {
                0 | 1 if !exists => {
                    let row = widen(
                        &txn,
                        vec![
                            int(id),
                            text(&format!("owner {id}")),
                            int(next(1000) as i64),
                        ],
                    );
                    txn.insert(1, row).unwrap();
                }
                0 | 1 => {
                    txn.insert(2, vec![int(id), text(&format!("note {i}"))])
                        .unwrap();
                }
                2 if exists => {
                    let row = widen(&txn, vec![int(id), text("updated"), int(i as i64)]);
                    txn.update(1, &[int(id)], row).unwrap();
                }
                3 if exists => txn.delete(1, &[int(id)]).unwrap(),
                _ => {}
            }
        }
        if i == transactions / 2 {
            txn.apply(Change::CreateIndex {
                table: 1,
                index: zqlite_projections::IndexDef::on_columns(
                    "accounts_owner".into(),
                    &[1],
                    false,
                    false,
                ),
            })
            .unwrap();
            txn.apply(Change::AddColumn {
                table: 1,
                column: column("flag", DataType::Bool, true),
                fill: Value::Bool(true),
            })
            .unwrap();
        }
        // Event streams in the same transactions: appends to a few streams, soft and hard
        // deletes, metadata.
        if next(3) == 0 {
            let stream = format!("s{}", next(4));
            let live = txn
                .state()
                .events()
                .stream(&stream)
                .is_none_or(|s| !s.tombstoned);
            match next(10) {
                _ if !live => {}
                0 if txn
                    .state()
                    .events()
                    .stream(&stream)
                    .is_some_and(|s| s.exists()) =>
                {
                    txn.apply(Change::DeleteStream {
                        stream,
                        hard: next(3) == 0,
                    })
                    .unwrap();
                }
                1 => txn
                    .apply(Change::SetStreamMetadata {
                        stream,
                        max_count: Some(next(5)),
                        max_age_seconds: None,
                    })
                    .unwrap(),
                _ => {
                    let events = (0..1 + next(3))
                        .map(|_| NewEvent {
                            id: uuid::Uuid::from_u128(u128::from(next(u64::MAX)) << 64 | i as u128),
                            event_type: format!("T{}", next(3)),
                            data: format!("{{\"i\":{i}}}"),
                            metadata: None,
                        })
                        .collect();
                    txn.apply(Change::AppendEvents {
                        stream,
                        expected: ExpectedVersion::Any,
                        events,
                    })
                    .unwrap();
                }
            }
        }
        if i == transactions * 3 / 4 {
            txn.apply(Change::DropColumn {
                table: 1,
                column: 3,
            })
            .unwrap();
        }
        let pending = store.commit(txn, TxMeta::default()).unwrap();
        store.wait(pending).unwrap();
    }
}

#[test]
fn replaying_the_log_gives_the_live_state() {
    for seed in [1u64, 7, 42] {
        let fs = SimFs::new();
        let dir = Path::new("/db");
        let store = Store::open(dir, sim_options(&fs)).unwrap();
        random_workload(&store, seed, 200);
        let live = store.snapshot();
        let notes = live.table_by_name("notes").unwrap().1.len();
        assert!(notes > 10, "the workload wrote notes ({notes})");
        let events = live.events().next_position();
        assert!(events > 20, "the workload appended events ({events})");
        let replayed = replay_all(store.log()).unwrap();
        assert_eq!(replayed.digest(), live.digest(), "seed {seed}");
        assert_eq!(*live, replayed);
        store.close().unwrap();

        // Reopen from the checkpoint written at close, and from the log alone.
        let reopened = Store::open(dir, sim_options(&fs)).unwrap();
        assert_eq!(reopened.snapshot().digest(), live.digest());
        assert_eq!(
            *reopened.snapshot(),
            *live,
            "indexes rebuilt from a checkpoint match"
        );
        drop(reopened);
        for name in zqlite_log::FileSystem::list(&fs, &dir.join("snapshots")).unwrap() {
            zqlite_log::FileSystem::remove(&fs, &dir.join("snapshots").join(name)).unwrap();
        }
        let from_log = Store::open(dir, sim_options(&fs)).unwrap();
        assert_eq!(
            from_log.snapshot().digest(),
            live.digest(),
            "seed {seed}: checkpoints are only a cache"
        );
    }
}

#[test]
fn a_damaged_checkpoint_is_skipped_for_an_older_one_or_the_log() {
    let fs = SimFs::new();
    let dir = Path::new("/db");
    let store = Store::open(dir, sim_options(&fs)).unwrap();
    random_workload(&store, 3, 60);
    let first = store.checkpoint().unwrap();
    commit_with(&store, |t| {
        let width = t.state().catalog().table(1).unwrap().columns.len();
        let mut row = vec![int(1000), text("late"), int(1)];
        row.resize(width, Value::Null);
        t.insert(1, row).unwrap();
    });
    let digest = store.snapshot().digest();
    store.close().unwrap();
    let newest = zqlite_log::FileSystem::list(&fs, &dir.join("snapshots")).unwrap();
    assert_eq!(newest.len(), 2, "two checkpoints kept: {newest:?}");
    let newest = newest
        .into_iter()
        .map(|n| dir.join("snapshots").join(n))
        .find(|p| *p != first)
        .unwrap();
    let mut bytes = fs.read(&newest).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0xff;
    fs.overwrite(&newest, bytes);
    let store = Store::open(dir, sim_options(&fs)).unwrap();
    assert_eq!(
        store.snapshot().digest(),
        digest,
        "older checkpoint plus the log"
    );
    drop(store);
    fs.overwrite(&first, b"garbage".to_vec());
    let store = Store::open(dir, sim_options(&fs)).unwrap();
    assert_eq!(store.snapshot().digest(), digest, "full replay");
}

#[test]
fn first_committer_wins_and_the_loser_gets_40001() {
    let store = Store::open("/db", StoreOptions::in_memory()).unwrap();
    create(&store, table(1, "t", &[("v", DataType::Int8)]));
    commit_with(&store, |t| {
        t.insert(1, vec![int(1), int(0)]).unwrap();
    });
    let mut a = store.begin();
    let mut b = store.begin();
    a.update(1, &[int(1)], vec![int(1), int(10)]).unwrap();
    b.update(1, &[int(1)], vec![int(1), int(20)]).unwrap();
    store
        .wait(store.commit(a, TxMeta::default()).unwrap())
        .unwrap();
    let err = store.commit(b, TxMeta::default()).unwrap_err();
    assert_eq!(err.sqlstate(), "40001");
    assert_eq!(rows(&store, "t"), vec![vec![int(1), int(10)]]);

    // Concurrent inserts of the same key: the second fails with a unique violation.
    let mut a = store.begin();
    let mut b = store.begin();
    a.insert(1, vec![int(2), int(1)]).unwrap();
    b.insert(1, vec![int(2), int(2)]).unwrap();
    store
        .wait(store.commit(a, TxMeta::default()).unwrap())
        .unwrap();
    assert_eq!(
        store.commit(b, TxMeta::default()).unwrap_err().sqlstate(),
        "23505"
    );

    // A write at the head never conflicts: it sees every commit before it.
    let mut stale = store.begin();
    stale.update(1, &[int(1)], vec![int(1), int(99)]).unwrap();
    let (_, pending) = store
        .write_at_head(TxMeta::default(), |t| {
            t.update(1, &[int(1)], vec![int(1), int(11)])
        })
        .unwrap();
    store.wait(pending).unwrap();
    assert_eq!(
        store
            .commit(stale, TxMeta::default())
            .unwrap_err()
            .sqlstate(),
        "40001"
    );
}

#[test]
fn concurrent_transfers_keep_the_total_and_lose_no_update() {
    let store = Arc::new(Store::open("/db", StoreOptions::in_memory()).unwrap());
    create(&store, table(1, "accounts", &[("balance", DataType::Int8)]));
    commit_with(&store, |t| {
        for id in 0..10 {
            t.insert(1, vec![int(id), int(1000)]).unwrap();
        }
    });
    let threads: Vec<_> = (0..8u64)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut retries = 0;
                let mut x = w * 7919 + 1;
                for _ in 0..100 {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let (from, to) = ((x >> 33) % 10, (x >> 17) % 10);
                    if from == to {
                        continue;
                    }
                    loop {
                        let mut txn = store.begin();
                        let balance = |t: &zqlite_projections::Transaction, id: u64| match &t
                            .state()
                            .table_data(1)
                            .unwrap()
                            .get(&[int(id as i64)])
                            .unwrap()
                            .row[1]
                        {
                            Value::Int8(v) => *v,
                            other => panic!("{other:?}"),
                        };
                        let (a, b) = (balance(&txn, from), balance(&txn, to));
                        txn.update(1, &[int(from as i64)], vec![int(from as i64), int(a - 7)])
                            .unwrap();
                        txn.update(1, &[int(to as i64)], vec![int(to as i64), int(b + 7)])
                            .unwrap();
                        match store.commit(txn, TxMeta::default()) {
                            Ok(pending) => {
                                store.wait(pending).unwrap();
                                break;
                            }
                            Err(e) if e.sqlstate() == "40001" => retries += 1,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
                retries
            })
        })
        .collect();
    let retries: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let total: i64 = rows(&store, "accounts")
        .iter()
        .map(|r| match r[1] {
            Value::Int8(v) => v,
            _ => unreachable!(),
        })
        .sum();
    assert_eq!(total, 10_000, "money is neither created nor destroyed");
    assert!(retries > 0, "the workload actually conflicted");
    let replayed = replay_all(store.log()).unwrap();
    assert_eq!(replayed.digest(), store.snapshot().digest());
}

#[test]
fn a_log_failure_stops_the_store() {
    let fs = SimFs::new();
    let store = Store::open("/db", sim_options(&fs)).unwrap();
    create(&store, table(1, "t", &[]));
    fs.set_faults(zqlite_log::sim::Faults {
        fail_sync_from: Some(1),
        ..Default::default()
    });
    let mut txn = store.begin();
    txn.insert(1, vec![int(1)]).unwrap();
    let pending = store.commit(txn, TxMeta::default()).unwrap();
    assert!(store.wait(pending).is_err());
    let err = store.commit(store.begin(), TxMeta::default()).map(|_| ());
    assert!(err.is_ok(), "a read-only commit needs no log");
    let mut txn = store.begin();
    txn.insert(1, vec![int(2)]).unwrap();
    let err = store.commit(txn, TxMeta::default()).unwrap_err();
    assert_eq!(err.sqlstate(), "57P03");
    assert!(
        rows(&store, "t").is_empty(),
        "nothing unacknowledged was published"
    );
}
