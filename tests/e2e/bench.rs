//! `zqlite bench log` runs end to end and reports every measurement it promises.

use std::process::Command;

use crate::zqlite_binary;

#[test]
fn bench_log_reports_raw_limits_appends_and_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(zqlite_binary())
        .args([
            "bench",
            "log",
            "--seconds",
            "0.2",
            "--read-records",
            "20000",
            "--dir",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "disk: fdatasync of small appends",
        "disk: sequential write + fdatasync",
        "log: durable appends, 1 appenders",
        "log: durable appends, 16 appenders",
        "log: durable appends, 256 appenders",
        "log: durable appends, 1 thread, blocking API",
        "log: sequential read, decoded and checked",
    ] {
        let found = stdout.lines().find(|l| l.starts_with(line));
        let found = found.unwrap_or_else(|| panic!("missing {line:?} in:\n{stdout}"));
        let figure: f64 = found[44..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(figure > 0.0, "{found}");
    }
    // The temporary benchmark directory is cleaned up.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn bench_log_rejects_bad_arguments_with_a_message() {
    let output = Command::new(zqlite_binary())
        .args(["bench", "log", "--seconds", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--seconds must be positive"));
}
