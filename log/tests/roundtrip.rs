//! Appends and reads back random records across segment rolls and reopenings.

mod common;

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use zqlite_log::sim::SimFs;
use zqlite_log::{Log, NewRecord, RealFs, RecordKind};

use common::*;

fn cases() -> u32 {
    std::env::var("ZQLITE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Random payloads, random batch sizes, random segment sizes: every record comes back
    /// with its LSN, kind and payload, from the live log and after reopening, from any LSN.
    #[test]
    fn records_round_trip(
        batches in prop::collection::vec(
            prop::collection::vec((any::<u8>(), prop::collection::vec(any::<u8>(), 0..600)), 1..12),
            1..25,
        ),
        segment_size in 4096u64..20_000,
        start in 0u64..200,
    ) {
        let fs = SimFs::new();
        let opts = sim_options(&fs, segment_size);
        let dir = Path::new("/data/log");
        let log = Log::open_with(dir, opts.clone()).unwrap();
        let mut expected = Vec::new();
        for batch in &batches {
            let records: Vec<_> = batch.iter().map(|(k, p)| NewRecord::new(RecordKind(*k), p.clone())).collect();
            let appended = log.append_blocking(&records).unwrap();
            prop_assert_eq!(appended.first_lsn, expected.len() as u64 + 1);
            prop_assert_eq!(appended.last_lsn, (expected.len() + records.len()) as u64);
            expected.extend(records);
        }
        let check = |log: &Log| -> Result<(), TestCaseError> {
            let all = read_all(log);
            prop_assert_eq!(all.len(), expected.len());
            for (i, (got, want)) in all.iter().zip(&expected).enumerate() {
                prop_assert_eq!(got.lsn, i as u64 + 1);
                prop_assert_eq!(got.kind, want.kind);
                prop_assert_eq!(&got.payload, &want.payload);
            }
            let from = start.min(expected.len() as u64 + 1);
            let tail: Vec<_> = log.read_from(from).map(|r| r.unwrap().lsn).collect();
            let want: Vec<u64> = (from.max(1)..=expected.len() as u64).collect();
            prop_assert_eq!(tail, want);
            Ok(())
        };
        check(&log)?;
        log.close().unwrap();
        let log = reopen(dir, &opts);
        check(&log)?;
        let report = zqlite_log::verify(dir, &fs, None).unwrap();
        prop_assert!(report.is_sound(), "{:?}", report.problems);
        prop_assert_eq!(report.records, expected.len() as u64);
    }
}

#[test]
fn real_files_roll_segments_and_keep_lsns_contiguous() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let opts = small_options(Arc::new(RealFs), 16 * 1024);
    let log = Log::open_with(&dir, opts.clone()).unwrap();
    for lsn in 1..=500u64 {
        log.append_blocking(&[record(lsn, 100)]).unwrap();
    }
    assert!(log.segment_paths().len() > 3, "segments rolled");
    log.close().unwrap();
    let log = reopen(&dir, &opts);
    let all = read_all(&log);
    assert_eq!(all.len(), 500);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r.lsn, i as u64 + 1);
        assert_eq!(r.payload, payload_for(r.lsn, 100));
    }
    assert_eq!(
        log.append_blocking(&[record(501, 5)]).unwrap().first_lsn,
        501
    );
}

#[test]
fn a_missing_or_damaged_index_is_rebuilt_on_open() {
    let fs = SimFs::new();
    let opts = sim_options(&fs, 8192);
    let dir = Path::new("/data/log");
    let log = Log::open_with(dir, opts.clone()).unwrap();
    for lsn in 1..=300u64 {
        log.append_blocking(&[record(lsn, 50)]).unwrap();
    }
    let segments = log.segment_paths();
    log.close().unwrap();
    let first_idx = segments[0].with_extension("idx");
    let second_idx = segments[1].with_extension("idx");
    zqlite_log::FileSystem::remove(&fs, &first_idx).unwrap();
    let mut damaged = fs.read(&second_idx).unwrap();
    damaged[30] ^= 0xff;
    fs.overwrite(&second_idx, damaged);

    let log = reopen(dir, &opts);
    assert_eq!(log.recovery_report().indexes_rebuilt, 2);
    assert_eq!(read_all(&log).len(), 300);
    assert!(fs.read(&first_idx).is_some(), "index written again");
    log.close().unwrap();
    assert_eq!(reopen(dir, &opts).recovery_report().indexes_rebuilt, 0);
}

#[test]
fn time_lookups_find_the_first_record_at_or_after_a_moment() {
    let fs = SimFs::new();
    let opts = sim_options(&fs, 8192);
    let log = Log::open_with("/data/log", opts).unwrap();
    let mut stamps = Vec::new();
    for lsn in 1..=200u64 {
        let appended = log.append_blocking(&[record(lsn, 40)]).unwrap();
        stamps.push(appended.timestamp);
        if lsn % 50 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    assert_eq!(log.lsn_at_time(i64::MIN).unwrap(), Some(1));
    assert_eq!(log.lsn_at_time(stamps[199] + 1).unwrap(), None);
    for probe in [0usize, 49, 50, 120, 199] {
        let ts = stamps[probe];
        let first = stamps.iter().position(|&s| s >= ts).unwrap() as u64 + 1;
        assert_eq!(log.lsn_at_time(ts).unwrap(), Some(first));
    }
    let records = read_all(&log);
    assert!(records.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
}

/// Records larger than a read chunk (1 MiB) after small ones in the active segment: a reader
/// positioned at any of them, live or after reopening, gets each one whole.
#[test]
fn records_larger_than_a_read_chunk_come_back_whole() {
    let fs = SimFs::new();
    let mut opts = sim_options(&fs, 64 << 20);
    opts.max_record_size = 8 << 20;
    let dir = Path::new("/data/log");
    let sizes = [100usize, 3 << 20, 10, 5 << 20, 7, 1 << 20, 20];
    let log = Log::open_with(dir, opts.clone()).unwrap();
    for (i, len) in sizes.iter().enumerate() {
        log.append_blocking(&[record(i as u64 + 1, *len)]).unwrap();
    }
    let check = |log: &Log| {
        for from in 1..=sizes.len() as u64 {
            let got: Vec<_> = log
                .read_from(from)
                .collect::<Result<Vec<_>, _>>()
                .expect("the log reads back");
            assert_eq!(got.len(), sizes.len() + 1 - from as usize, "from {from}");
            for r in got {
                assert_eq!(r.payload, payload_for(r.lsn, sizes[r.lsn as usize - 1]));
            }
        }
    };
    check(&log);
    log.close().unwrap();
    let log = Log::open_with(dir, opts).unwrap();
    check(&log);
}
