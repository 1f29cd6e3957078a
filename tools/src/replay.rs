//! `zqlite replay`: point-in-time recovery. Makes a new data directory holding exactly the
//! state at an LSN (`--to-lsn`) or at a moment (`--to-time`: the last record committed at or
//! before it), ready for `zqlite serve --data OUT`.
//!
//! How: one pass of a [`ReadOnlyLog`] over the source (no lock, no writes, so beside a live
//! server) checks every frame's CRC and LSN up to the target, replays the records after the
//! newest usable source checkpoint (`--no-checkpoint`: from LSN 1) with [`State::replay`],
//! and notes where each segment's last wanted frame ends. The new log is those segments cut
//! at those ends: the original bytes, so commit times, the hash chain and the chain value at
//! the target are the source's own. Then a checkpoint of the replayed state at the target.
//!
//! Invariants:
//! - OUT appears complete or not at all: everything is built in a hidden temporary
//!   directory beside OUT and renamed into place last. OUT must not exist or be empty.
//! - Before the rename, the new directory is proven: `verify` of its log (every CRC, LSN and
//!   chain link) anchored at the target's chain value as read from the source, and a normal
//!   open of it yields the replayed state's LSN and digest.
//! - The source directory is never written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow};
use serde_json::json;
use zqlite_log::{Anchor, Lsn, ReadOnlyLog, RealFs, Record};
use zqlite_projections::{State, Store, StoreOptions, newest_checkpoint, write_checkpoint};

use crate::exit::{Exit, fail};
use crate::log_tools::{DataDir, hex, time};
use crate::progress::Progress;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("point").required(true).args(["to_lsn", "to_time"])))]
pub struct Args {
    /// The data directory to recover from (as given to `zqlite serve --data`); only read,
    /// so a server may keep running on it.
    #[arg(long, env = "ZQLITE_DATA", default_value = "zqlite-data")]
    data: PathBuf,
    /// Recover the state right after this LSN (see `zqlite log dump` or `log stats`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    to_lsn: Option<u64>,
    /// Recover the state as of this time (RFC 3339, e.g. 2026-11-28T10:00:00Z): after the
    /// last record committed at or before it.
    #[arg(long, value_parser = time::parse)]
    to_time: Option<i64>,
    /// The new data directory; it must not exist or be empty.
    #[arg(long)]
    out: PathBuf,
    /// Replay from LSN 1 instead of starting at the newest source checkpoint before the
    /// target (slower; trusts only the log).
    #[arg(long)]
    no_checkpoint: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// What was recovered, for the summary.
struct Recovered {
    lsn: Lsn,
    timestamp: i64,
    chain: [u8; 32],
    base_checkpoint: Option<Lsn>,
    replayed: u64,
    segments: usize,
    log_bytes: u64,
    digest: [u8; 32],
    checkpoint: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let dir = DataDir::existing(&args.data)?;
    let parent = check_out(&dir, &args.out)?;
    let log = ReadOnlyLog::open(&dir.log, Arc::new(RealFs)).map_err(|e| read_error(&dir, e))?;
    let target = match (args.to_lsn, args.to_time) {
        (Some(lsn), _) => lsn,
        (None, Some(time)) => lsn_at_time(&dir, &log, time)?,
        (None, None) => {
            return Err(fail(
                Exit::Usage,
                anyhow!("give the point to recover: --to-lsn N or --to-time T"),
            ));
        }
    };
    let tmp = tempfile::Builder::new()
        .prefix(".zqlite-replay-")
        .tempdir_in(&parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })?;
    let recovered = build(&dir, &log, target, args.no_checkpoint, tmp.path())?;
    let checkpoint = args.out.join(
        recovered
            .checkpoint
            .strip_prefix(tmp.path())
            .unwrap_or(&recovered.checkpoint),
    );
    // Renaming onto an empty directory replaces it; onto a non-empty one fails (someone
    // wrote there meanwhile), and the temporary directory is then removed on drop.
    std::fs::rename(tmp.path(), &args.out)
        .with_context(|| format!("cannot move the result into {}", args.out.display()))?;
    let _ = tmp.keep();
    sync_dir(&parent)?;
    print_summary(args, &dir, &recovered, &checkpoint)
}

/// Refuses an OUT that exists and is not an empty directory, or that lies inside the source;
/// creates OUT's parent directories. Returns the parent.
fn check_out(dir: &DataDir, out: &Path) -> anyhow::Result<PathBuf> {
    if out.exists() {
        let empty = out.is_dir()
            && std::fs::read_dir(out)
                .with_context(|| format!("cannot list {}", out.display()))?
                .next()
                .is_none();
        if !empty {
            return Err(fail(
                Exit::Usage,
                anyhow!(
                    "{} already exists and is not an empty directory: `zqlite replay` only \
                     writes a new data directory (give --out a new or empty directory)",
                    out.display()
                ),
            ));
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let source = dir.root.canonicalize().context("resolving --data")?;
    let parent_real = parent.canonicalize().context("resolving --out")?;
    if parent_real.starts_with(&source) {
        return Err(fail(
            Exit::Usage,
            anyhow!(
                "--out {} lies inside the source data directory {}: give a directory outside it",
                out.display(),
                dir.root.display()
            ),
        ));
    }
    Ok(parent)
}

fn read_error(dir: &DataDir, e: zqlite_log::Error) -> anyhow::Error {
    let exit = if e.is_corruption() {
        Exit::Damaged
    } else {
        Exit::Failed
    };
    fail(exit, anyhow!("cannot read {}: {e}", dir.log.display()))
}

/// The LSN of the last record committed at or before `time`.
fn lsn_at_time(dir: &DataDir, log: &ReadOnlyLog, time: i64) -> anyhow::Result<Lsn> {
    let mut progress = Progress::start("find time", log.total_bytes(), false);
    let mut reader = log.read_from(1);
    let mut found: Option<Lsn> = None;
    let mut first_time = None;
    let mut records = 0;
    while let Some(record) = reader.next() {
        let record = record.map_err(|e| read_error(dir, e))?;
        first_time.get_or_insert(record.timestamp);
        // Commit times never decrease along LSNs, so the first later one ends the search.
        if record.timestamp > time {
            break;
        }
        found = Some(record.lsn);
        records += 1;
        progress.update(reader.bytes_done(), records);
    }
    progress.finish(records);
    found.ok_or_else(|| {
        let why = match first_time {
            Some(first) => format!("the first was committed at {}", time::rfc3339(first)),
            None => "the log is empty".to_string(),
        };
        fail(
            Exit::Usage,
            anyhow!(
                "no record was committed at or before {} ({why}): there is no state to recover",
                time::rfc3339(time)
            ),
        )
    })
}

/// Builds the recovered data directory in `tmp`; see the module documentation.
fn build(
    dir: &DataDir,
    log: &ReadOnlyLog,
    target: Lsn,
    no_checkpoint: bool,
    tmp: &Path,
) -> anyhow::Result<Recovered> {
    let base = match no_checkpoint {
        true => None,
        false => newest_checkpoint(&RealFs, &dir.snapshots, target),
    };
    let base_checkpoint = base.as_ref().map(State::lsn);
    let mut state = base.unwrap_or_default();
    let total: u64 = log
        .segments()
        .iter()
        .filter(|s| s.first_lsn <= target)
        .map(|s| s.len)
        .sum();
    let mut progress = Progress::start("replay", total, false);
    // Per segment, the offset just past the last wanted frame.
    let mut ends: Vec<(PathBuf, u64)> = Vec::new();
    let mut last: Option<Record> = None;
    let mut replayed = 0u64;
    let mut reader = log.read_from(1);
    while let Some(record) = reader.next() {
        let record = record.map_err(|e| read_error(dir, e))?;
        let (segment, end) = reader
            .last_record_end()
            .expect("a record was just returned");
        match ends.last_mut() {
            Some((path, offset)) if *path == segment.path => *offset = end,
            _ => ends.push((segment.path.clone(), end)),
        }
        if record.lsn > state.lsn() {
            state.replay(&record).map_err(|e| {
                fail(
                    Exit::Damaged,
                    anyhow!(
                        "cannot replay {} at LSN {}: {e}",
                        dir.log.display(),
                        record.lsn
                    ),
                )
            })?;
            replayed += 1;
        }
        progress.update(reader.bytes_done(), record.lsn);
        let done = record.lsn == target;
        last = Some(record);
        if done {
            break;
        }
    }
    progress.finish(last.as_ref().map_or(0, |r| r.lsn));
    let last = match last {
        Some(record) if record.lsn == target => record,
        other => {
            return Err(fail(
                Exit::Usage,
                anyhow!(
                    "--to-lsn {target} is past the end of the log in {}, which ends at LSN {}",
                    dir.log.display(),
                    other.map_or(0, |r| r.lsn)
                ),
            ));
        }
    };

    let new_log = tmp.join("log");
    std::fs::create_dir(&new_log)
        .with_context(|| format!("cannot create {}", new_log.display()))?;
    let mut log_bytes = 0;
    for (path, end) in &ends {
        let name = path.file_name().expect("segment paths end in a file name");
        copy_prefix(path, &new_log.join(name), *end)?;
        log_bytes += end;
    }
    sync_dir(&new_log)?;

    let anchor = Anchor {
        lsn: target,
        chain: last.chain,
    };
    let report = zqlite_log::verify(&new_log, &RealFs, Some(anchor))
        .with_context(|| format!("cannot verify the new log in {}", new_log.display()))?;
    if !report.is_sound() || report.last_lsn != Some(target) {
        let problems: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        return Err(fail(
            Exit::Failed,
            anyhow!(
                "the new log does not verify (ends at {:?}, expected LSN {target}): {}; was {} \
                 changed while it was copied?",
                report.last_lsn,
                problems.join("; "),
                dir.log.display()
            ),
        ));
    }

    let checkpoint = write_checkpoint(&RealFs, &tmp.join("snapshots"), &state)
        .map_err(|e| fail(Exit::Failed, anyhow!("cannot write the checkpoint: {e}")))?;
    let digest = state.digest();
    let opts = StoreOptions {
        checkpoint_bytes: 0,
        ..StoreOptions::default()
    };
    let store = Store::open(tmp, opts).map_err(|e| {
        fail(
            Exit::Failed,
            anyhow!("the new data directory does not open: {e}"),
        )
    })?;
    let opened = store.snapshot();
    if opened.lsn() != target || opened.digest() != digest {
        return Err(fail(
            Exit::Failed,
            anyhow!(
                "the new data directory opens at LSN {} with digest {}, not the replayed LSN \
                 {target} with digest {}",
                opened.lsn(),
                hex(&opened.digest()),
                hex(&digest)
            ),
        ));
    }
    // Dropping, not closing: closing would write the same checkpoint again.
    drop(store);
    Ok(Recovered {
        lsn: target,
        timestamp: last.timestamp,
        chain: last.chain,
        base_checkpoint,
        replayed,
        segments: ends.len(),
        log_bytes,
        digest,
        checkpoint,
    })
}

/// Copies the first `len` bytes of `from` to a new file `to` and syncs it. Log bytes before
/// a durable frame's end never change, so this is the prefix the reader checked.
fn copy_prefix(from: &Path, to: &Path, len: u64) -> anyhow::Result<()> {
    use std::io::Read;
    let source =
        std::fs::File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let mut target =
        std::fs::File::create_new(to).with_context(|| format!("cannot create {}", to.display()))?;
    let copied = std::io::copy(&mut source.take(len), &mut target)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
    if copied != len {
        return Err(fail(
            Exit::Failed,
            anyhow!(
                "{} shrank to {copied} bytes while being copied (expected at least {len})",
                from.display()
            ),
        ));
    }
    target
        .flush()
        .and_then(|()| target.sync_all())
        .with_context(|| format!("cannot sync {}", to.display()))
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the directory {}", dir.display()))
}

fn print_summary(
    args: &Args,
    dir: &DataDir,
    r: &Recovered,
    checkpoint: &Path,
) -> anyhow::Result<()> {
    let out = if args.json {
        format!(
            "{}\n",
            json!({
                "data": dir.root.display().to_string(),
                "out": args.out.display().to_string(),
                "lsn": r.lsn,
                "time": time::rfc3339(r.timestamp),
                "chain": hex(&r.chain),
                "base_checkpoint_lsn": r.base_checkpoint,
                "replayed": r.replayed,
                "segments": r.segments,
                "log_bytes": r.log_bytes,
                "digest": hex(&r.digest),
                "checkpoint": checkpoint.display().to_string(),
            })
        )
    } else {
        let base = match r.base_checkpoint {
            Some(lsn) => format!("the checkpoint at LSN {lsn} plus {} records", r.replayed),
            None => format!("{} records from LSN 1", r.replayed),
        };
        format!(
            "recovered {} as of LSN {} (committed {}) into {}\n\
             log:        {} segment(s), {} bytes; chain at LSN {}: {}\n\
             replayed:   {base}\n\
             digest:     {}\n\
             checkpoint: {}\n\
             serve it with: zqlite serve --data {}\n",
            dir.root.display(),
            r.lsn,
            time::rfc3339(r.timestamp),
            args.out.display(),
            r.segments,
            r.log_bytes,
            r.lsn,
            hex(&r.chain),
            hex(&r.digest),
            checkpoint.display(),
            args.out.display(),
        )
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if !crate::log_tools::is_broken_pipe(&e) => Err(e).context("writing to stdout"),
        _ => Ok(()),
    }
}
