//! Tails: every durable record once, in order, while appenders run.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use zqlite_log::sim::SimFs;
use zqlite_log::{Log, NewRecord, RecordKind, SyncMode};

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tail_from_the_start_sees_every_record_exactly_once_in_order() {
    let fs = SimFs::new();
    let opts = zqlite_log::LogOptions {
        sync: SyncMode::Always,
        ..sim_options(&fs, 16 * 1024)
    };
    let log = Arc::new(Log::open_with("/d/log", opts).unwrap());
    // Some history before the tail starts.
    for i in 0..50u64 {
        log.append(&[NewRecord::new(RecordKind(0), i.to_le_bytes())])
            .await
            .unwrap();
    }
    let mut tail = log.tail(0);
    let written = Arc::new(Mutex::new(BTreeMap::new()));
    let appenders: Vec<_> = (0..4u64)
        .map(|w| {
            let log = log.clone();
            let written = written.clone();
            tokio::spawn(async move {
                for i in 0..300u64 {
                    let payload = (w * 1_000_000 + i).to_le_bytes().to_vec();
                    let batch = 1 + (i % 3) as usize;
                    let records = vec![NewRecord::new(RecordKind(1), payload.clone()); batch];
                    let appended = log.append(&records).await.unwrap();
                    let mut written = written.lock().unwrap();
                    for lsn in appended.first_lsn..=appended.last_lsn {
                        written.insert(lsn, payload.clone());
                    }
                }
            })
        })
        .collect();
    let expected_total = 50 + 4 * (100 * (1 + 2 + 3)) as u64;
    let mut seen = Vec::new();
    while (seen.len() as u64) < expected_total {
        let record = tokio::time::timeout(std::time::Duration::from_secs(20), tail.next())
            .await
            .expect("the tail keeps up")
            .expect("the log is open")
            .unwrap();
        seen.push(record);
    }
    for a in appenders {
        a.await.unwrap();
    }
    for (i, r) in seen.iter().enumerate() {
        assert_eq!(r.lsn, i as u64 + 1);
    }
    {
        let written = written.lock().unwrap();
        for r in &seen[50..] {
            assert_eq!(&r.payload, &written[&r.lsn]);
        }
    }
    // Nothing more arrives, and a closed log ends the tail.
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(50), tail.next())
            .await
            .is_err()
    );
    let log = Arc::try_unwrap(log).expect("appenders are done");
    log.close().unwrap();
    assert!(tail.next().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_sync_mode_still_acknowledges_only_after_a_sync() {
    let fs = SimFs::new();
    let opts = zqlite_log::LogOptions {
        sync: SyncMode::Batch(std::time::Duration::from_millis(5)),
        ..sim_options(&fs, 1 << 20)
    };
    let log = Arc::new(Log::open_with("/d/log", opts).unwrap());
    let tasks: Vec<_> = (0..8u64)
        .map(|i| {
            let log = log.clone();
            let fs = fs.clone();
            tokio::spawn(async move {
                for j in 0..20 {
                    let appended = log.append(&[record(i * 100 + j, 10)]).await.unwrap();
                    // The crash image at this moment already holds the acknowledged record.
                    let after = fs.crash();
                    let reopened = Log::open_with("/d/log", sim_options(&after, 1 << 20)).unwrap();
                    assert!(reopened.durable_lsn() >= appended.last_lsn);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let syncs = fs.sync_count();
    assert!(syncs < 160, "syncs are shared: {syncs}");
}
