//! `zqlite rebuild`: proves the checkpoints against the log, and replaces them with one made
//! from the log alone.
//!
//! Steps, under the log's lock (so never beside a live server: exit 3):
//! 1. Open the state the normal way ([`open_state`], exactly what `zqlite serve` does: the
//!    newest valid checkpoint plus the log after it) and take its digest.
//! 2. Replay the whole log from LSN 1, ignoring checkpoints, and take that digest.
//! 3. Move the existing checkpoints aside (`DATA/discarded-checkpoints/rebuild-SECONDS/`),
//!    write a checkpoint of the full replay, and read it back.
//! 4. If the digests are equal, the moved checkpoints are proven redundant and deleted;
//!    otherwise they stay aside for inspection and the command exits 1.
//!
//! Invariants:
//! - No checkpoint is deleted before a state made from the log alone is written and read
//!   back; until then they are only moved. A crash in between leaves a directory without
//!   checkpoints, which opens by replaying the whole log (a checkpoint is only a cache).
//! - If the log itself cannot be replayed, nothing is changed (exit 1).
//!
//! `zqlite rebuild --projection NAME` rebuilds one SQL projection instead: it opens the
//! database (also never beside a live server) and runs `zq_rebuild_projection(NAME)`, one
//! transaction that empties the projection's tables and applies every stored event again.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde_json::json;
use zqlite_log::{Log, Lsn, RealFs};
use zqlite_projections::{
    Opened, State, StoreOptions, checkpoint_files, open_state, prune_checkpoints, read_checkpoint,
    write_checkpoint,
};

use crate::checkpoint::classify_open_error;
use crate::exit::{Exit, fail};
use crate::log_tools::{DataDir, hex};
use crate::progress::Progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (as given to `zqlite serve --data`); it must not be in use.
    #[arg(long, env = "ZQLITE_DATA", default_value = "zqlite-data")]
    data: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Rebuild this projection instead: empty its tables and run it over every stored
    /// event again, in one transaction (as `SELECT * FROM zq_rebuild_projection(NAME)`).
    #[arg(long, value_name = "NAME")]
    projection: Option<String>,
}

const BESIDE_A_SERVER: &str = "`zqlite rebuild` replaces the data directory's checkpoints and \
    does not run beside the server using them; stop the server first (to check a live \
    directory without stopping it, `zqlite replay` a copy and `zqlite rebuild` that).";

/// The outcome, for the summary.
struct Rebuilt {
    lsn: Lsn,
    /// The normal open's checkpoint, records replayed after it, and digest; or why it failed.
    normal: Result<(Option<Lsn>, u64, [u8; 32]), String>,
    full: [u8; 32],
    checkpoint: PathBuf,
    discarded: Vec<PathBuf>,
    /// Where the discarded checkpoints were kept (only when the digests differ).
    kept_aside: Option<PathBuf>,
}

impl Rebuilt {
    fn equal(&self) -> bool {
        matches!(&self.normal, Ok((_, _, digest)) if *digest == self.full)
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let dir = DataDir::existing(&args.data)?;
    if let Some(name) = &args.projection {
        return rebuild_projection(args, &dir, name);
    }
    let opts = StoreOptions::default();
    let log = Log::open_with(&dir.log, opts.log.clone())
        .map_err(|e| classify_open_error(&dir, e.into(), BESIDE_A_SERVER))?;
    let result = rebuild(&dir, &log);
    // Closing releases the lock; an error closing is reported only if nothing else failed.
    let closed = log
        .close()
        .with_context(|| format!("cannot close {}", dir.log.display()));
    let rebuilt = match result? {
        Some(rebuilt) => rebuilt,
        None => {
            closed?;
            if args.json {
                println!(
                    "{}",
                    json!({"data": dir.root.display().to_string(), "lsn": 0, "equal": true})
                );
            } else {
                println!(
                    "the log in {} is empty: nothing to rebuild",
                    dir.log.display()
                );
            }
            return Ok(());
        }
    };
    closed?;
    print_summary(args, &dir, &rebuilt)?;
    if rebuilt.equal() {
        return Ok(());
    }
    let why = match &rebuilt.normal {
        Ok((checkpoint, _, digest)) => format!(
            "opening the normal way (checkpoint at LSN {}, then the log) gives digest {}, a full \
             replay of the log gives {}",
            checkpoint.unwrap_or(0),
            hex(digest),
            hex(&rebuilt.full)
        ),
        Err(e) => format!("opening the normal way failed: {e}"),
    };
    Err(fail(
        Exit::Damaged,
        anyhow!(
            "the checkpoints of {} disagree with the log: {why}. The new checkpoint holds the \
             log's state; the old ones are kept in {}",
            dir.root.display(),
            rebuilt
                .kept_aside
                .as_deref()
                .map_or_else(|| "(none)".into(), |p| p.display().to_string())
        ),
    ))
}

/// Steps 1 to 4 of the module documentation; `None` for an empty log.
fn rebuild(dir: &DataDir, log: &Log) -> anyhow::Result<Option<Rebuilt>> {
    let lsn = log.durable_lsn();
    if lsn == 0 {
        return Ok(None);
    }
    let normal = open_state(&RealFs, &dir.snapshots, log)
        .map(
            |Opened {
                 state,
                 checkpoint_lsn,
                 replayed,
             }| (checkpoint_lsn, replayed, state.digest()),
        )
        .map_err(|e| e.to_string());

    let mut progress = Progress::start_records("rebuild", lsn);
    let mut full = State::default();
    full.replay_from(log.read_from(1), None, |state| {
        progress.update(state.lsn(), state.lsn())
    })
    .map_err(|e| {
        fail(
            Exit::Damaged,
            anyhow!(
                "the log in {} cannot be read or replayed (checkpoints left as they were): {e}",
                dir.log.display()
            ),
        )
    })?;
    progress.finish(full.lsn());
    if full.lsn() != lsn {
        return Err(fail(
            Exit::Failed,
            anyhow!(
                "the full replay ended at LSN {} but the log's durable LSN is {lsn}",
                full.lsn()
            ),
        ));
    }
    let full_digest = full.digest();

    let old = checkpoint_files(&RealFs, &dir.snapshots);
    let aside = dir.root.join("discarded-checkpoints").join(format!(
        "rebuild-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    ));
    let mut discarded = Vec::new();
    if !old.is_empty() {
        std::fs::create_dir_all(&aside)
            .with_context(|| format!("cannot create {}", aside.display()))?;
        for (_, path) in &old {
            let to = aside.join(path.file_name().expect("checkpoint paths end in a name"));
            std::fs::rename(path, &to)
                .with_context(|| format!("cannot move {} to {}", path.display(), to.display()))?;
            discarded.push(path.clone());
        }
        sync_dir(&aside)?;
        sync_dir(&dir.snapshots)?;
    }

    let checkpoint = write_checkpoint(&RealFs, &dir.snapshots, &full)
        .map_err(|e| fail(Exit::Failed, anyhow!("cannot write the checkpoint: {e}")))?;
    let back = read_checkpoint(&RealFs, &checkpoint).map_err(|e| {
        fail(
            Exit::Failed,
            anyhow!(
                "the new checkpoint {} does not read back: {e}",
                checkpoint.display()
            ),
        )
    })?;
    if back.digest() != full_digest {
        return Err(fail(
            Exit::Failed,
            anyhow!(
                "the new checkpoint {} reads back with another digest",
                checkpoint.display()
            ),
        ));
    }
    // Leftover temporary files go; the new checkpoint is the only one.
    prune_checkpoints(&RealFs, &dir.snapshots, 1, 0);

    let mut rebuilt = Rebuilt {
        lsn,
        normal,
        full: full_digest,
        checkpoint,
        discarded,
        kept_aside: None,
    };
    if !rebuilt.discarded.is_empty() {
        if rebuilt.equal() {
            std::fs::remove_dir_all(&aside)
                .with_context(|| format!("cannot delete {}", aside.display()))?;
            // The parent only ever holds rebuild directories; remove it when it is empty.
            let _ = std::fs::remove_dir(dir.root.join("discarded-checkpoints"));
        } else {
            rebuilt.kept_aside = Some(aside);
        }
    }
    Ok(Some(rebuilt))
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the directory {}", dir.display()))
}

fn print_summary(args: &Args, dir: &DataDir, r: &Rebuilt) -> anyhow::Result<()> {
    let paths = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
    };
    if args.json {
        let (checkpoint_lsn, replayed, digest, error) = match &r.normal {
            Ok((c, n, d)) => (*c, Some(*n), Some(hex(d)), None),
            Err(e) => (None, None, None, Some(e.clone())),
        };
        println!(
            "{}",
            json!({
                "data": dir.root.display().to_string(),
                "lsn": r.lsn,
                "equal": r.equal(),
                "normal": {
                    "checkpoint_lsn": checkpoint_lsn,
                    "replayed": replayed,
                    "digest": digest,
                    "error": error,
                },
                "full": {"replayed": r.lsn, "digest": hex(&r.full)},
                "checkpoint": r.checkpoint.display().to_string(),
                "discarded": paths(&r.discarded),
                "kept_aside": r.kept_aside.as_ref().map(|p| p.display().to_string()),
            })
        );
        return Ok(());
    }
    let normal = match &r.normal {
        Ok((Some(c), n, d)) => format!("{} (checkpoint at LSN {c} + {n} records)", hex(d)),
        Ok((None, n, d)) => format!("{} (no checkpoint, {n} records)", hex(d)),
        Err(e) => format!("failed: {e}"),
    };
    println!("data:          {}", dir.root.display());
    println!("LSN:           {}", r.lsn);
    println!("normal open:   {normal}");
    println!("full replay:   {} ({} records)", hex(&r.full), r.lsn);
    println!(
        "digests:       {}",
        if r.equal() { "equal" } else { "DIFFER" }
    );
    println!("checkpoint:    {}", r.checkpoint.display());
    match &r.kept_aside {
        Some(aside) => println!("old checkpoints kept in {}", aside.display()),
        None if !r.discarded.is_empty() => {
            println!(
                "old checkpoints deleted: {}",
                paths(&r.discarded).join(", ")
            )
        }
        None => {}
    }
    Ok(())
}

/// `zqlite rebuild --projection NAME`: one transaction that empties the projection's tables
/// and runs it over the whole event store; prints its new progress.
fn rebuild_projection(args: &Args, dir: &DataDir, name: &str) -> anyhow::Result<()> {
    let db = zqlite_query::Database::open_with(&dir.root, StoreOptions::default()).map_err(
        |e| match e {
            zqlite_query::Error::Storage(e) => classify_open_error(dir, e, BESIDE_A_SERVER),
            other => anyhow!("cannot open {}: {other}", dir.root.display()),
        },
    )?;
    let mut session = db.session();
    session.set_user("zqlite rebuild");
    let result = session
        .execute(
            "SELECT name, last_position, events_applied FROM zq_rebuild_projection($1)",
            &[zqlite_query::Value::Text(name.to_string())],
        )
        .map_err(|e| {
            fail(
                Exit::Failed,
                anyhow!("cannot rebuild projection {name:?}: {e}"),
            )
        })?;
    drop(session);
    let row = result
        .first()
        .and_then(|r| r.rows())
        .and_then(|rows| rows.first())
        .cloned()
        .ok_or_else(|| anyhow!("zq_rebuild_projection returned no row"))?;
    db.close()
        .with_context(|| format!("cannot close {}", dir.root.display()))?;
    let number = |v: &zqlite_query::Value| match v {
        zqlite_query::Value::Int8(n) => Some(*n),
        _ => None,
    };
    let (last, applied) = (number(&row[1]), number(&row[2]).unwrap_or(0));
    if args.json {
        println!(
            "{}",
            json!({"projection": name, "last_position": last, "events_applied": applied})
        );
    } else {
        let last = last.map_or_else(|| "none".to_string(), |p| p.to_string());
        println!("rebuilt projection {name}: {applied} events applied, last position {last}");
    }
    Ok(())
}
