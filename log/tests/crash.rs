//! Kill -9 of a real process appending to the log: every acknowledged append survives with its
//! exact payload, and LSNs stay contiguous.
//!
//! The test re-executes its own binary as the child (selected by an environment variable). The
//! child runs concurrent appenders and prints `ack <first> <last> <seed>` after each durable
//! append; the parent SIGKILLs it at a random moment, reopens the log and checks every printed
//! acknowledgement. `ZQLITE_CRASH_ROUNDS` sets the number of rounds (default 30).

mod common;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use zqlite_log::{Log, LogOptions, NewRecord, RecordKind, verify};

const CHILD_ENV: &str = "ZQLITE_CRASH_CHILD_DIR";
const TEST_NAME: &str = "kill_9_loses_no_acknowledged_append";

fn options() -> LogOptions {
    LogOptions {
        segment_size: 256 * 1024,
        preallocate_chunk: 64 * 1024,
        ..LogOptions::default()
    }
}

/// The payload of the `i`-th record of the append with `seed`.
fn payload(seed: u64, i: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i;
    (0..200)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn run_child(dir: &Path) -> ! {
    let log = Arc::new(Log::open_with(dir, options()).expect("child opens the log"));
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let stdout = std::io::stdout();
                for n in 0u64.. {
                    let seed = (std::process::id() as u64) << 40 | t << 32 | n;
                    let count = 1 + n % 4;
                    let records: Vec<_> = (0..count)
                        .map(|i| NewRecord::new(RecordKind(1), payload(seed, i)))
                        .collect();
                    let appended = log.append_blocking(&records).expect("append");
                    let mut out = stdout.lock();
                    writeln!(
                        out,
                        "ack {} {} {seed}",
                        appended.first_lsn, appended.last_lsn
                    )
                    .and_then(|()| out.flush())
                    .expect("parent reads stdout");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    unreachable!("appenders run until killed")
}

#[test]
fn kill_9_loses_no_acknowledged_append() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        run_child(Path::new(&dir));
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let mut acked = std::collections::BTreeMap::new();
    let schedule = zqlite_log::sim::crash_schedule(Duration::from_millis(20));
    for (round, run_for) in schedule.iter().enumerate() {
        let lines =
            zqlite_log::sim::run_child_then_kill(TEST_NAME, (CHILD_ENV, dir.as_os_str()), *run_for)
                .unwrap();
        for line in lines {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.len() != 4 || parts[0] != "ack" {
                continue;
            }
            let (first, last, seed): (u64, u64, u64) = (
                parts[1].parse().unwrap(),
                parts[2].parse().unwrap(),
                parts[3].parse().unwrap(),
            );
            for lsn in first..=last {
                acked.insert(lsn, payload(seed, lsn - first));
            }
        }

        let log = Log::open_with(&dir, options())
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        let records: Vec<_> = log
            .read_from(1)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("round {round}: read failed: {e}"));
        for (i, r) in records.iter().enumerate() {
            assert_eq!(r.lsn, i as u64 + 1, "round {round}: LSNs are contiguous");
        }
        for (lsn, want) in &acked {
            let got = records
                .get(*lsn as usize - 1)
                .unwrap_or_else(|| panic!("round {round}: acknowledged LSN {lsn} lost"));
            assert_eq!(&got.payload, want, "round {round}: LSN {lsn} payload");
        }
        log.close().unwrap();
        let report = verify(&dir, &zqlite_log::RealFs, None).unwrap();
        assert!(report.is_sound(), "round {round}: {:?}", report.problems);
    }
    assert!(!acked.is_empty());
}
