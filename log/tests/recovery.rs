//! Opening after damage: torn tails are cut, corruption is refused with file and offset, and
//! repair is explicit.

mod common;

use std::path::Path;
use std::sync::Arc;

use zqlite_log::sim::SimFs;
use zqlite_log::{Error, FileSystem, Log, LogOptions, RealFs, RecoveryMode, verify};

use common::*;

/// Truncating the last segment at every byte offset inside its last frame loses exactly that
/// frame, and appending resumes at its LSN.
#[test]
fn torn_tail_at_every_offset_of_the_last_frame_is_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let opts = small_options(Arc::new(RealFs), 1 << 20);
    let log = Log::open_with(&dir, opts.clone()).unwrap();
    for lsn in 1..=5 {
        log.append_blocking(&[record(lsn, 60)]).unwrap();
    }
    let segment = log.segment_paths().pop().unwrap();
    log.close().unwrap();
    let pristine = std::fs::read(&segment).unwrap();
    let data_end = pristine.iter().rposition(|&b| b != 0).unwrap() + 1;
    let frame_len = 8 + 49 + 8 + 60;
    let last_frame = data_end - frame_len;

    for cut in last_frame..data_end {
        std::fs::write(&segment, &pristine[..cut]).unwrap();
        let log = reopen(&dir, &opts);
        let all = read_all(&log);
        assert_eq!(all.len(), 4, "cut at {cut}");
        assert_eq!(all[3].payload, payload_for(4, 60));
        let torn = log.recovery_report().torn_bytes_truncated;
        assert_eq!(torn, (cut - last_frame) as u64, "cut at {cut}");
        assert_eq!(log.append_blocking(&[record(5, 60)]).unwrap().first_lsn, 5);
        log.close().unwrap();
        assert_eq!(read_all(&reopen(&dir, &opts)).len(), 5);
    }
}

/// Garbage (not zeros) after the last frame, as a torn write of a later frame leaves it, is
/// cut too.
#[test]
fn garbage_after_the_last_frame_is_a_torn_tail() {
    let fs = SimFs::new();
    let opts = sim_options(&fs, 1 << 20);
    let dir = Path::new("/d/log");
    let log = Log::open_with(dir, opts.clone()).unwrap();
    for lsn in 1..=3 {
        log.append_blocking(&[record(lsn, 10)]).unwrap();
    }
    let segment = log.segment_paths().pop().unwrap();
    log.close().unwrap();
    let mut bytes = fs.read(&segment).unwrap();
    let end = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
    bytes[end..end + 7].copy_from_slice(&[0x40, 0, 0, 0, 1, 2, 3]);
    fs.overwrite(&segment, bytes);
    let log = reopen(dir, &opts);
    assert_eq!(read_all(&log).len(), 3);
    assert!(log.recovery_report().torn_bytes_truncated > 0);
}

fn log_with_sealed_segments(fs: &SimFs, dir: &Path) -> (LogOptions, Vec<std::path::PathBuf>) {
    let opts = sim_options(fs, 4096);
    let log = Log::open_with(dir, opts.clone()).unwrap();
    for lsn in 1..=100 {
        log.append_blocking(&[record(lsn, 100)]).unwrap();
    }
    let segments = log.segment_paths();
    assert!(segments.len() >= 3);
    log.close().unwrap();
    (opts, segments)
}

#[test]
fn a_flipped_bit_in_a_sealed_segment_is_reported_with_file_and_offset() {
    let fs = SimFs::new();
    let dir = Path::new("/d/log");
    let (opts, segments) = log_with_sealed_segments(&fs, dir);
    let target = &segments[1];
    let mut bytes = fs.read(target).unwrap();
    let offset = 64 + 8 + 49 + 8 + 100 + 70; // inside the second frame's payload
    bytes[offset] ^= 0x08;
    fs.overwrite(target, bytes);
    // The index still matches the file, so opening trusts it; verify and reads find the flip.
    let report = verify(dir, &fs, None).unwrap();
    assert!(!report.is_sound());
    let problem = &report.problems[0];
    assert_eq!(&problem.path, target);
    assert_eq!(problem.offset, (64 + 8 + 49 + 8 + 100) as u64);
    assert!(problem.message.contains("checksum"), "{problem}");

    let log = reopen(dir, &opts);
    let err = log
        .read_from(1)
        .find_map(|r| r.err())
        .expect("the read fails");
    match err {
        Error::Corruption { path, offset, .. } => {
            assert_eq!(&path, target);
            assert_eq!(offset, (64 + 8 + 49 + 8 + 100) as u64);
        }
        other => panic!("unexpected error {other}"),
    }
    drop(log);

    // Without its index, the sealed segment is scanned on open and the open fails.
    fs.remove(&target.with_extension("idx")).unwrap();
    let err = Log::open_with(dir, opts.clone()).unwrap_err();
    assert!(
        matches!(&err, Error::Corruption { path, .. } if path == target),
        "{err}"
    );
    assert!(err.to_string().contains("offset 229"), "{err}");
}

#[test]
fn a_bad_frame_followed_by_valid_frames_is_corruption_until_repaired() {
    let fs = SimFs::new();
    let opts = sim_options(&fs, 1 << 20);
    let dir = Path::new("/d/log");
    let log = Log::open_with(dir, opts.clone()).unwrap();
    for lsn in 1..=10 {
        log.append_blocking(&[record(lsn, 30)]).unwrap();
    }
    let segment = log.segment_paths().pop().unwrap();
    log.close().unwrap();
    let frame = 8 + 49 + 8 + 30;
    let third = 64 + 2 * frame;
    let mut bytes = fs.read(&segment).unwrap();
    bytes[third + 20] ^= 1;
    fs.overwrite(&segment, bytes);

    let err = Log::open_with(dir, opts.clone()).unwrap_err();
    match &err {
        Error::Corruption {
            path,
            offset,
            reason,
        } => {
            assert_eq!(path, &segment);
            assert_eq!(*offset, third as u64);
            assert!(reason.contains("followed by valid frames"), "{reason}");
        }
        other => panic!("unexpected {other}"),
    }
    // Nothing was truncated by the refused open.
    assert!(fs.read(&segment).unwrap().len() > third + 8 * frame);

    let repair = LogOptions {
        recovery: RecoveryMode::Repair,
        ..opts.clone()
    };
    let log = Log::open_with(dir, repair).unwrap();
    assert_eq!(log.recovery_report().repaired_from_lsn, Some(3));
    assert_eq!(read_all(&log).len(), 2);
    assert_eq!(log.append_blocking(&[record(3, 30)]).unwrap().first_lsn, 3);
    log.close().unwrap();
    assert!(verify(dir, &fs, None).unwrap().is_sound());
}

#[test]
fn repair_of_a_sealed_segment_drops_everything_after_the_damage() {
    let fs = SimFs::new();
    let dir = Path::new("/d/log");
    let (opts, segments) = log_with_sealed_segments(&fs, dir);
    let mut bytes = fs.read(&segments[1]).unwrap();
    bytes[64 + 30] ^= 1;
    fs.overwrite(&segments[1], bytes);
    fs.remove(&segments[1].with_extension("idx")).unwrap();
    let repair = LogOptions {
        recovery: RecoveryMode::Repair,
        ..opts
    };
    let log = Log::open_with(dir, repair).unwrap();
    let report = log.recovery_report().clone();
    let kept = read_all(&log).len() as u64;
    assert_eq!(report.repaired_from_lsn, Some(kept + 1));
    assert_eq!(report.segments_deleted.len(), segments.len() - 2);
    assert_eq!(log.segment_paths().len(), 2);
    log.close().unwrap();
    assert!(verify(dir, &fs, None).unwrap().is_sound());
}

#[test]
fn a_missing_middle_segment_is_refused_and_verify_names_the_gap() {
    let fs = SimFs::new();
    let dir = Path::new("/d/log");
    let (opts, segments) = log_with_sealed_segments(&fs, dir);
    fs.remove(&segments[1]).unwrap();
    fs.remove(&segments[1].with_extension("idx")).unwrap();
    let err = Log::open_with(dir, opts).unwrap_err();
    assert!(err.to_string().contains("a segment is missing"), "{err}");
    let report = verify(dir, &fs, None).unwrap();
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].path, segments[2]);
    assert!(report.problems[0].message.contains("LSN gap"));
}

#[test]
fn an_anchor_detects_a_cut_or_rewritten_log() {
    let fs = SimFs::new();
    let dir = Path::new("/d/log");
    let (opts, _) = log_with_sealed_segments(&fs, dir);
    let report = verify(dir, &fs, None).unwrap();
    let anchor = zqlite_log::Anchor {
        lsn: report.last_lsn.unwrap(),
        chain: report.head_chain.unwrap(),
    };
    assert!(verify(dir, &fs, Some(anchor)).unwrap().is_sound());

    // Rewrite history: a fresh log with different content reaching the same LSN.
    let other = SimFs::new();
    let log = Log::open_with(dir, sim_options(&other, 4096)).unwrap();
    for lsn in 1..=100 {
        log.append_blocking(&[record(lsn + 1000, 100)]).unwrap();
    }
    log.close().unwrap();
    let rewritten = verify(dir, &other, Some(anchor)).unwrap();
    assert!(
        rewritten
            .problems
            .iter()
            .any(|p| p.message.contains("rewritten"))
    );

    // Cut: the newest segment removed, the previous one made the tail.
    let log = Log::open_with(dir, opts).unwrap();
    let last = log.segment_paths().pop().unwrap();
    log.close().unwrap();
    fs.remove(&last).unwrap();
    let cut = verify(dir, &fs, Some(anchor)).unwrap();
    assert!(
        cut.problems
            .iter()
            .any(|p| p.message.contains("it was cut")),
        "{:?}",
        cut.problems
    );
}

#[test]
fn bad_directories_and_headers_get_clear_errors() {
    let fs = SimFs::new();
    let opts = sim_options(&fs, 4096);
    let dir = Path::new("/d/log");
    fs.create_dir_all(dir).unwrap();
    let notes = fs.open(&dir.join("notes.txt"), true).unwrap();
    notes.write_all_at(b"hello", 0).unwrap();
    let err = Log::open_with(dir, opts.clone()).unwrap_err();
    assert!(matches!(err, Error::NotALog { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"));
    fs.remove(&dir.join("notes.txt")).unwrap();

    let seg = dir.join("00000000000000000001.seg");
    let file = fs.open(&seg, true).unwrap();
    file.write_all_at(
        b"PK\x03\x04 this is a zip file, not a log segment at all......",
        0,
    )
    .unwrap();
    let err = Log::open_with(dir, opts.clone()).unwrap_err();
    assert!(matches!(err, Error::NotALog { .. }), "{err}");

    // A log written by a future format version.
    fs.remove(&seg).unwrap();
    Log::open_with(dir, opts.clone()).unwrap().close().unwrap();
    let mut bytes = fs.read(&seg).unwrap();
    bytes[8] = 9;
    fs.overwrite(&seg, bytes.clone());
    let err = Log::open_with(dir, opts.clone()).unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedVersion { found: 9, .. }),
        "{err}"
    );

    // A truncated header on a segment with data after it is corruption, not emptiness.
    let log = {
        fs.remove(&seg).unwrap();
        Log::open_with(dir, opts.clone()).unwrap()
    };
    log.append_blocking(&[record(1, 10)]).unwrap();
    log.close().unwrap();
    let mut bytes = fs.read(&seg).unwrap();
    bytes[40] ^= 0xff;
    fs.overwrite(&seg, bytes);
    let err = Log::open_with(dir, opts).unwrap_err();
    assert!(matches!(err, Error::Corruption { offset: 0, .. }), "{err}");
}

#[test]
fn a_torn_header_on_an_empty_last_segment_is_rewritten() {
    let fs = SimFs::new();
    let dir = Path::new("/d/log");
    let (opts, segments) = log_with_sealed_segments(&fs, dir);
    let last = segments.last().unwrap();
    let log = reopen(dir, &opts);
    let before = read_all(&log).len();
    log.close().unwrap();
    // Simulate a roll torn after the file was created but before its header was written.
    let next_lsn = before as u64 + 1;
    let new_seg = dir.join(format!("{next_lsn:020}.seg"));
    let data = fs.read(last).unwrap();
    let end = data.iter().rposition(|&b| b != 0).unwrap() + 1;
    fs.overwrite(last, data[..end].to_vec());
    let header_prefix = fs.read(last).unwrap()[..20].to_vec();
    // The file exists but its header is: missing, a prefix, or zeros (length set, data lost).
    for torn in [Vec::new(), header_prefix[..20].to_vec(), vec![0; 64]] {
        let f = fs.open(&new_seg, true).unwrap();
        f.set_len(0).unwrap();
        f.write_all_at(&torn, 0).unwrap();
        let log = reopen(dir, &opts);
        assert_eq!(read_all(&log).len(), before);
        assert_eq!(
            log.append_blocking(&[record(next_lsn, 5)])
                .unwrap()
                .first_lsn,
            next_lsn
        );
        log.close().unwrap();
        assert!(verify(dir, &fs, None).unwrap().is_sound());
        fs.remove(&new_seg).unwrap();
        fs.remove(&last.with_extension("idx")).unwrap();
        fs.overwrite(last, data[..end].to_vec());
    }
}

#[test]
fn a_second_open_is_refused_and_names_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let log = Log::open(&dir).unwrap();
    let err = Log::open(&dir).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    log.close().unwrap();
    Log::open(&dir).unwrap().close().unwrap();
}

#[test]
fn oversized_and_empty_appends_are_rejected_without_side_effects() {
    let fs = SimFs::new();
    let opts = LogOptions {
        max_record_size: 1000,
        ..sim_options(&fs, 4096)
    };
    let log = Log::open_with("/d/log", opts).unwrap();
    let big = zqlite_log::NewRecord::new(zqlite_log::RecordKind(1), vec![0; 1001]);
    let err = log.append_blocking(&[record(1, 5), big]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::RecordTooLarge {
                size: 1001,
                max: 1000
            }
        ),
        "{err}"
    );
    assert!(matches!(log.append_blocking(&[]), Err(Error::EmptyAppend)));
    assert_eq!(log.append_blocking(&[record(1, 5)]).unwrap().first_lsn, 1);
    assert_eq!(read_all(&log).len(), 1);
}
