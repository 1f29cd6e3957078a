//! `zqlite log stats`: what the log holds, counted in one read: segments and bytes, records,
//! LSN and time ranges, records per kind, changes per table (inserts, updates, deletes,
//! truncates, definition changes), and the checkpoints present.
//!
//! Tables are counted by id, so a table dropped and created again under the same name shows
//! twice (the first marked dropped); a renamed table shows under its last name.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde_json::{Value as Json, json};
use zqlite_log::{Lsn, ReadOnlyLog, RealFs};
use zqlite_projections::{Change, TableId};

use super::decode::{Payload, Tables, decode, kind_name, table_id};
use super::{DataDir, checkpoint_files, time::rfc3339};
use crate::exit::{Exit, fail};
use crate::progress::Progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (as given to `zqlite serve --data`).
    #[arg(long, env = "ZQLITE_DATA", default_value = "zqlite-data")]
    data: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Changes to one table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct TableCounts {
    name: String,
    dropped: bool,
    /// Records (transactions) with at least one change to the table.
    records: u64,
    inserts: u64,
    updates: u64,
    deletes: u64,
    truncates: u64,
    /// Definition changes: create, alter, add/drop column, create/drop index, drop.
    ddl: u64,
}

/// Everything counted; see the module documentation.
#[derive(Debug, Default)]
struct Stats {
    records: u64,
    payload_bytes: u64,
    first_lsn: Option<Lsn>,
    last_lsn: Option<Lsn>,
    first_time: Option<i64>,
    last_time: Option<i64>,
    per_kind: BTreeMap<String, u64>,
    undecodable: u64,
    tables: BTreeMap<TableId, TableCounts>,
}

impl Stats {
    fn count(&mut self, record: &zqlite_log::Record, tables: &mut Tables) {
        self.records += 1;
        self.payload_bytes += record.payload.len() as u64;
        self.first_lsn.get_or_insert(record.lsn);
        self.last_lsn = Some(record.lsn);
        self.first_time.get_or_insert(record.timestamp);
        self.last_time = Some(record.timestamp);
        *self.per_kind.entry(kind_name(record.kind)).or_default() += 1;
        let tx = match decode(record) {
            Payload::Transaction(tx) => tx,
            Payload::Undecodable(_) => {
                self.undecodable += 1;
                return;
            }
            Payload::Unknown => return,
        };
        let mut touched = Vec::new();
        for change in &tx.changes {
            let Some(id) = table_id(change) else {
                tables.track(change);
                continue;
            };
            let counts = self.tables.entry(id).or_default();
            match change {
                Change::Insert { .. } => counts.inserts += 1,
                Change::Update { .. } => counts.updates += 1,
                Change::Delete { .. } => counts.deletes += 1,
                Change::Truncate { .. } => counts.truncates += 1,
                _ => counts.ddl += 1,
            }
            tables.track(change);
            match change {
                Change::DropTable { .. } => counts.dropped = true,
                _ => counts.name = tables.name(id),
            }
            if !touched.contains(&id) {
                touched.push(id);
                counts.records += 1;
            }
        }
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let dir = DataDir::existing(&args.data)?;
    let log = ReadOnlyLog::open(&dir.log, Arc::new(RealFs))
        .with_context(|| format!("cannot read {}", dir.log.display()))?;
    let mut progress = Progress::start("stats", log.total_bytes(), false);
    let mut stats = Stats::default();
    let mut tables = Tables::default();
    let mut reader = log.read_from(1);
    while let Some(record) = reader.next() {
        let record = record.map_err(|e| fail(Exit::Damaged, e))?;
        stats.count(&record, &mut tables);
        progress.update(reader.bytes_done(), stats.records);
    }
    progress.finish(stats.records);
    let checkpoints = checkpoint_files(&dir);
    let segments = log.segments().len();
    let bytes = log.total_bytes();

    let torn_tail = reader
        .torn_tail()
        .map(|(path, offset)| format!("{} at offset {offset}", path.display()));
    let out = if args.json {
        let tables: Vec<Json> = stats
            .tables
            .iter()
            .map(|(id, t)| {
                json!({
                    "id": id, "name": t.name, "dropped": t.dropped, "records": t.records,
                    "inserts": t.inserts, "updates": t.updates, "deletes": t.deletes,
                    "truncates": t.truncates, "ddl": t.ddl,
                })
            })
            .collect();
        let object = json!({
            "data": dir.root.display().to_string(),
            "segments": segments,
            "bytes": bytes,
            "records": stats.records,
            "payload_bytes": stats.payload_bytes,
            "first_lsn": stats.first_lsn,
            "last_lsn": stats.last_lsn,
            "first_time": stats.first_time.map(rfc3339),
            "last_time": stats.last_time.map(rfc3339),
            "per_kind": stats.per_kind,
            "undecodable": stats.undecodable,
            "tables": tables,
            "checkpoints": checkpoints.iter().map(|c| json!({
                "path": c.path.display().to_string(), "lsn": c.lsn, "bytes": c.bytes,
            })).collect::<Vec<_>>(),
            "torn_tail": torn_tail,
        });
        format!("{object}\n")
    } else {
        text(&dir, segments, bytes, &stats, &checkpoints, torn_tail)
    };
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

fn text(
    dir: &DataDir,
    segments: usize,
    bytes: u64,
    stats: &Stats,
    checkpoints: &[super::CheckpointFile],
    torn_tail: Option<String>,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "log:         {}", dir.log.display());
    let _ = writeln!(out, "segments:    {segments} ({bytes} bytes on disk)");
    let _ = writeln!(
        out,
        "records:     {} ({} bytes of payload)",
        stats.records, stats.payload_bytes
    );
    if let (Some(first), Some(last)) = (stats.first_lsn, stats.last_lsn) {
        let _ = writeln!(out, "LSNs:        {first} to {last}");
    }
    if let (Some(first), Some(last)) = (stats.first_time, stats.last_time) {
        let _ = writeln!(out, "time:        {} to {}", rfc3339(first), rfc3339(last));
    }
    for (kind, n) in &stats.per_kind {
        let _ = writeln!(out, "kind:        {kind}: {n}");
    }
    if stats.undecodable > 0 {
        let _ = writeln!(out, "undecodable: {}", stats.undecodable);
    }
    if let Some(torn) = torn_tail {
        let _ = writeln!(out, "torn tail:   {torn} (the next open truncates it)");
    }
    if !stats.tables.is_empty() {
        let width = stats
            .tables
            .values()
            .map(|t| t.name.len() + if t.dropped { 10 } else { 0 })
            .max()
            .unwrap_or(0)
            .max(5);
        let _ = writeln!(
            out,
            "\n{:<width$}  {:>8}  {:>10}  {:>10}  {:>10}  {:>9}  {:>5}",
            "table", "records", "inserts", "updates", "deletes", "truncates", "ddl"
        );
        for t in stats.tables.values() {
            let name = if t.dropped {
                format!("{} (dropped)", t.name)
            } else {
                t.name.clone()
            };
            let _ = writeln!(
                out,
                "{name:<width$}  {:>8}  {:>10}  {:>10}  {:>10}  {:>9}  {:>5}",
                t.records, t.inserts, t.updates, t.deletes, t.truncates, t.ddl
            );
        }
    }
    let _ = writeln!(out, "\ncheckpoints: {}", checkpoints.len());
    for c in checkpoints {
        let _ = writeln!(
            out,
            "  {} (LSN {}, {} bytes)",
            c.path.display(),
            c.lsn,
            c.bytes
        );
    }
    out
}
