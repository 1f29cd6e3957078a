//! `zqlite log verify`: the log crate's full verification of `DATA/log`, plus every checkpoint
//! in `DATA/snapshots` read back with the checks opening makes.
//!
//! Problems (damage in the log) make the log unsound: exit 1, each printed with file and
//! offset. Warnings (a torn tail or stale index the next open repairs, a damaged or stale
//! checkpoint that opening skips) are printed but leave the exit code 0.

use std::path::PathBuf;

use anyhow::{Context, anyhow};
use serde_json::{Value as Json, json};
use zqlite_log::{Anchor, Finding, RealFs, VerifyReport};

use super::{DataDir, checkpoint_files, hex, time::rfc3339};
use crate::exit::{Exit, fail};
use crate::progress::Progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (as given to `zqlite serve --data`).
    #[arg(long, env = "ZQLITE_DATA", default_value = "zqlite-data")]
    data: PathBuf,
    /// Print one JSON object (the summary and every finding) instead of text.
    #[arg(long)]
    json: bool,
    /// A point of the hash chain noted from an earlier verify, as LSN:HEX: the log must still
    /// hold that record unchanged (proves it was neither cut short nor rewritten).
    #[arg(long, value_parser = parse_anchor)]
    anchor: Option<Anchor>,
}

fn parse_anchor(input: &str) -> Result<Anchor, String> {
    let bad = || format!("invalid anchor {input:?}: give LSN:HEX (64 hex digits)");
    let (lsn, chain) = input.split_once(':').ok_or_else(bad)?;
    let lsn = lsn.parse().map_err(|_| bad())?;
    if chain.len() != 64 || !chain.is_ascii() {
        return Err(bad());
    }
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&chain[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(Anchor { lsn, chain: bytes })
}

/// A checkpoint and what reading it back found.
#[derive(Debug)]
struct CheckedCheckpoint {
    file: super::CheckpointFile,
    /// Why opening would skip it, if it would.
    skipped: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let dir = DataDir::existing(&args.data)?;
    let mut progress: Option<Progress> = None;
    let report = zqlite_log::verify_with_progress(&dir.log, &RealFs, args.anchor, &mut |p| {
        let bar = progress.get_or_insert_with(|| Progress::start("verify", p.bytes_total, false));
        bar.update(p.bytes_done, p.records);
    })
    .with_context(|| format!("cannot verify {}", dir.log.display()))?;
    if let Some(progress) = progress {
        progress.finish(report.records);
    }
    let checkpoints = check_checkpoints(&dir, &report);

    let out = if args.json {
        format!("{}\n", to_json(&dir, &report, &checkpoints))
    } else {
        to_text(&dir, &report, &checkpoints)
    };
    print_out(&out)?;
    if report.is_sound() {
        Ok(())
    } else {
        let n = report.problems.len();
        Err(fail(
            Exit::Damaged,
            anyhow!(
                "the log in {} is damaged: {n} problem{} (listed above with file and offset)",
                dir.log.display(),
                if n == 1 { "" } else { "s" }
            ),
        ))
    }
}

fn print_out(out: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if !super::is_broken_pipe(&e) => Err(e).context("writing to stdout"),
        _ => Ok(()),
    }
}

fn check_checkpoints(dir: &DataDir, report: &VerifyReport) -> Vec<CheckedCheckpoint> {
    let last_lsn = report.last_lsn.unwrap_or(0);
    checkpoint_files(dir)
        .into_iter()
        .map(|file| {
            let skipped = if file.lsn > last_lsn {
                Some(format!(
                    "it claims LSN {} but the log ends at {last_lsn}",
                    file.lsn
                ))
            } else {
                match zqlite_projections::read_checkpoint(&RealFs, &file.path) {
                    Ok(state) if state.lsn() != file.lsn => Some(format!(
                        "it holds the state at LSN {} but is named for {}",
                        state.lsn(),
                        file.lsn
                    )),
                    Ok(_) => None,
                    Err(reason) => Some(reason),
                }
            };
            CheckedCheckpoint { file, skipped }
        })
        .collect()
}

fn finding_json(f: &Finding) -> Json {
    json!({"path": f.path.display().to_string(), "offset": f.offset, "message": f.message})
}

fn to_json(dir: &DataDir, report: &VerifyReport, checkpoints: &[CheckedCheckpoint]) -> Json {
    json!({
        "data": dir.root.display().to_string(),
        "sound": report.is_sound(),
        "segments": report.segments,
        "records": report.records,
        "frame_bytes": report.frame_bytes,
        "first_lsn": report.first_lsn,
        "last_lsn": report.last_lsn,
        "first_time": report.first_timestamp.map(rfc3339),
        "last_time": report.last_timestamp.map(rfc3339),
        "head_chain": report.head_chain.map(|c| hex(&c)),
        "problems": report.problems.iter().map(finding_json).collect::<Vec<_>>(),
        "warnings": report.warnings.iter().map(finding_json).collect::<Vec<_>>(),
        "checkpoints": checkpoints.iter().map(|c| json!({
            "path": c.file.path.display().to_string(),
            "lsn": c.file.lsn,
            "bytes": c.file.bytes,
            "valid": c.skipped.is_none(),
            "error": c.skipped,
        })).collect::<Vec<_>>(),
    })
}

fn to_text(dir: &DataDir, report: &VerifyReport, checkpoints: &[CheckedCheckpoint]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "log:         {}", dir.log.display());
    let _ = writeln!(out, "segments:    {}", report.segments);
    let _ = match (report.first_lsn, report.last_lsn) {
        (Some(first), Some(last)) => writeln!(
            out,
            "records:     {} (LSN {first} to {last}), {} bytes of frames",
            report.records, report.frame_bytes
        ),
        _ => writeln!(out, "records:     0"),
    };
    if let (Some(first), Some(last)) = (report.first_timestamp, report.last_timestamp) {
        let _ = writeln!(out, "time:        {} to {}", rfc3339(first), rfc3339(last));
    }
    if let (Some(chain), Some(lsn)) = (report.head_chain, report.last_lsn) {
        let _ = writeln!(
            out,
            "head chain:  {} (keep `--anchor {lsn}:{}` to prove later that the log was not cut or rewritten)",
            hex(&chain),
            hex(&chain)
        );
    }
    let valid = checkpoints.iter().filter(|c| c.skipped.is_none()).count();
    let _ = writeln!(out, "checkpoints: {} ({valid} valid)", checkpoints.len());
    for c in checkpoints {
        let _ = match &c.skipped {
            None => writeln!(
                out,
                "  {} (LSN {}, {} bytes): ok",
                c.file.path.display(),
                c.file.lsn,
                c.file.bytes
            ),
            Some(reason) => writeln!(
                out,
                "warning: checkpoint {}: {reason} (opening skips it; a checkpoint is only a cache of the log)",
                c.file.path.display()
            ),
        };
    }
    for f in &report.warnings {
        let _ = writeln!(out, "warning: {f}");
    }
    for f in &report.problems {
        let _ = writeln!(out, "problem: {f}");
    }
    let _ = if report.is_sound() {
        writeln!(out, "the log is sound")
    } else {
        writeln!(
            out,
            "the log is NOT sound: {} problem(s)",
            report.problems.len()
        )
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_parse_or_say_what_is_expected() {
        let hex64 = "ab".repeat(32);
        let anchor = parse_anchor(&format!("12:{hex64}")).unwrap();
        assert_eq!(anchor.lsn, 12);
        assert_eq!(anchor.chain, [0xab; 32]);
        for bad in ["12", "x:00", &format!("12:{}", "zz".repeat(32)), "12:abc"] {
            assert!(parse_anchor(bad).unwrap_err().contains("LSN:HEX"), "{bad}");
        }
    }
}
