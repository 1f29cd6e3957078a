//! `zqlite checkpoint`: write a checkpoint of a data directory now and prune old ones.
//!
//! Unlike the `log` tools this writes, so it opens the store the way `zqlite serve` does:
//! it takes the log's lock (`DATA/log/LOCK`, an `flock` naming the holder's pid) and recovers
//! a torn tail. While a server holds the directory the lock is taken, and the command refuses
//! with exit code 3 and says why (a running server checkpoints by itself, every
//! `checkpoint_bytes` of log and when it stops).

use std::path::PathBuf;

use anyhow::anyhow;
use serde_json::json;
use zqlite_projections::{Store, StoreOptions};

use crate::exit::{Exit, fail};
use crate::log_tools::{DataDir, checkpoint_files};

/// The store's default for how many checkpoints to keep (`StoreOptions::checkpoints_kept`).
pub fn default_keep() -> u64 {
    StoreOptions::default().checkpoints_kept as u64
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (as given to `zqlite serve --data`); it must not be in use.
    #[arg(long, env = "ZQLITE_DATA", default_value = "zqlite-data")]
    data: PathBuf,
    /// How many checkpoints to keep, the new one included (older ones are deleted, also
    /// the spread-out older ones a server keeps for time travel); the same setting as
    /// `zqlite serve --keep-checkpoints`.
    #[arg(long, visible_alias = "keep-checkpoints", default_value_t = default_keep(), value_parser = clap::value_parser!(u64).range(1..))]
    keep: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let dir = DataDir::existing(&args.data)?;
    let opts = StoreOptions {
        // The checkpoint is written below, not by the background trigger.
        checkpoint_bytes: 0,
        checkpoints_kept: usize::try_from(args.keep).unwrap_or(usize::MAX),
        // An explicit `--keep` keeps exactly that many: no older ones for time travel.
        history_checkpoints: 0,
        ..StoreOptions::default()
    };
    let store = Store::open(&dir.root, opts).map_err(|e| {
        classify_open_error(
            &dir,
            e,
            "`zqlite checkpoint` writes to the data directory and does not run beside it. A \
             running server writes checkpoints itself (and one when it stops); stop it first to \
             checkpoint by hand.",
        )
    })?;
    let lsn = store.snapshot().lsn();
    if lsn == 0 {
        println!("the log is empty: nothing to checkpoint");
        return Ok(());
    }
    let path = store
        .checkpoint()
        .map_err(|e| fail(Exit::Failed, anyhow!("cannot write the checkpoint: {e}")))?;
    // Dropping (not closing) the store: `close` would write the same checkpoint again.
    drop(store);
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let kept = checkpoint_files(&dir);
    if args.json {
        println!(
            "{}",
            json!({
                "path": path.display().to_string(),
                "lsn": lsn,
                "bytes": bytes,
                "kept": kept.iter().map(|c| json!({
                    "path": c.path.display().to_string(), "lsn": c.lsn, "bytes": c.bytes,
                })).collect::<Vec<_>>(),
            })
        );
    } else {
        println!("wrote {} (LSN {lsn}, {bytes} bytes)", path.display());
        println!("checkpoints kept: {}", kept.len());
        for c in &kept {
            println!("  {} (LSN {})", c.path.display(), c.lsn);
        }
    }
    Ok(())
}

/// The exit code and wording for a store (or log) that would not open. `beside_a_server`
/// says why the command does not run beside a live server, for the exit-3 refusal.
pub fn classify_open_error(
    dir: &DataDir,
    error: zqlite_projections::Error,
    beside_a_server: &str,
) -> anyhow::Error {
    match error {
        zqlite_projections::Error::Log(zqlite_log::Error::Locked { holder, .. }) => fail(
            Exit::Locked,
            anyhow!(
                "{} is in use by a live zqlite process ({holder}, holding {}): {beside_a_server} \
                 The read-only `zqlite log verify|dump|stats` and `zqlite replay` work beside it.",
                dir.root.display(),
                dir.log.join("LOCK").display()
            ),
        ),
        zqlite_projections::Error::Log(e) if e.is_corruption() => fail(
            Exit::Damaged,
            anyhow!("cannot open {}: {e}", dir.root.display()),
        ),
        zqlite_projections::Error::Decode { .. } => fail(
            Exit::Damaged,
            anyhow!("cannot open {}: {error}", dir.root.display()),
        ),
        e => fail(
            Exit::Failed,
            anyhow!("cannot open {}: {e}", dir.root.display()),
        ),
    }
}
