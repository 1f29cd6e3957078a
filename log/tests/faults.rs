//! Failed writes and syncs, and crashes after the N-th sync, through the fault-injecting file
//! system.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use zqlite_log::sim::{Faults, SimFs};
use zqlite_log::{Error, Log, verify};

use common::*;

fn assert_writer_failed(err: &Error, errno: i32) {
    match err {
        Error::WriterFailed { cause } => match &**cause {
            Error::Io { source, .. } => assert_eq!(source.raw_os_error(), Some(errno), "{err}"),
            other => panic!("unexpected cause {other}"),
        },
        other => panic!("expected WriterFailed, got {other}"),
    }
}

fn fails_and_stays_failed(faults: Faults, errno: i32) {
    let fs = SimFs::new();
    let opts = sim_options(&fs, 64 * 1024);
    let dir = Path::new("/d/log");
    let log = Log::open_with(dir, opts.clone()).unwrap();
    for lsn in 1..=10 {
        log.append_blocking(&[record(lsn, 100)]).unwrap();
    }
    fs.set_faults(faults);
    let err = log.append_blocking(&[record(11, 100)]).unwrap_err();
    assert_writer_failed(&err, errno);
    // The writer refuses everything until reopened, even with the fault gone.
    fs.set_faults(Faults::default());
    let err = log.append_blocking(&[record(11, 100)]).unwrap_err();
    assert_writer_failed(&err, errno);
    assert_eq!(log.durable_lsn(), 10);
    assert!(log.close().is_err());

    let log = reopen(dir, &opts);
    let all = read_all(&log);
    assert!(all.len() >= 10, "acknowledged records survive");
    for r in &all[..10] {
        assert_eq!(r.payload, payload_for(r.lsn, 100));
    }
    let next = all.len() as u64 + 1;
    assert_eq!(
        log.append_blocking(&[record(next, 1)]).unwrap().first_lsn,
        next
    );
}

#[test]
fn a_full_disk_fails_the_append_and_stops_the_writer() {
    fails_and_stays_failed(
        Faults {
            write_budget: Some(50),
            ..Faults::default()
        },
        28,
    );
}

#[test]
fn a_failed_sync_fails_the_append_and_stops_the_writer() {
    fails_and_stays_failed(
        Faults {
            fail_sync_from: Some(1),
            ..Faults::default()
        },
        5,
    );
}

/// For every N, freeze durability after the N-th sync of a workload that rolls segments,
/// crash, and reopen: the log opens, is sound, holds a contiguous prefix of what was written,
/// and contains every append acknowledged before the N-th sync.
#[test]
fn crash_after_every_sync_keeps_every_acknowledged_append() {
    let workload: Vec<usize> = (0..60).map(|i| 1 + (i * 7) % 5).collect();
    let total_syncs = {
        let fs = SimFs::new();
        let log = Log::open_with("/d/log", sim_options(&fs, 4096)).unwrap();
        let mut lsn = 1;
        for &n in &workload {
            let records: Vec<_> = (0..n as u64).map(|i| record(lsn + i, 90)).collect();
            lsn += n as u64;
            log.append_blocking(&records).unwrap();
        }
        fs.sync_count()
    };
    assert!(total_syncs > workload.len() as u64, "rolls add syncs");

    for n in 1..=total_syncs {
        let fs = SimFs::new();
        fs.set_faults(Faults {
            freeze_after_syncs: Some(n),
            ..Faults::default()
        });
        let dir = Path::new("/d/log");
        let mut must_survive = BTreeMap::new();
        if let Ok(log) = Log::open_with(dir, sim_options(&fs, 4096)) {
            let mut lsn = 1;
            for &count in &workload {
                let records: Vec<_> = (0..count as u64).map(|i| record(lsn + i, 90)).collect();
                lsn += count as u64;
                let appended = log.append_blocking(&records).unwrap();
                if fs.sync_count() <= n {
                    for (i, r) in records.into_iter().enumerate() {
                        must_survive.insert(appended.first_lsn + i as u64, r.payload);
                    }
                }
            }
        }
        let after = fs.crash();
        let log = Log::open_with(dir, sim_options(&after, 4096))
            .unwrap_or_else(|e| panic!("crash after sync {n}: reopen failed: {e}"));
        let all = read_all(&log);
        for (i, r) in all.iter().enumerate() {
            assert_eq!(r.lsn, i as u64 + 1, "crash after sync {n}");
            assert_eq!(r.payload, payload_for(r.lsn, 90), "crash after sync {n}");
        }
        for lsn in must_survive.keys() {
            assert!(
                *lsn <= all.len() as u64,
                "crash after sync {n}: acknowledged LSN {lsn} lost"
            );
        }
        log.close().unwrap();
        let report = verify(dir, &after, None).unwrap();
        assert!(
            report.is_sound(),
            "crash after sync {n}: {:?}",
            report.problems
        );
    }
}
