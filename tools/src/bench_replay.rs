//! `zqlite bench replay`: how fast the state is rebuilt from the log, next to how fast the
//! same files can merely be read.
//!
//! In one run, in a temporary directory: generate a log of N transaction records (mixed
//! inserts and updates over 10 tables, one row change each, with the metadata, statement,
//! parameters and before image a server records), then measure
//! - the raw sequential read of the segment files (bytes only, the physical reference) and
//!   the log reader's decode-and-check rate;
//! - a full replay from LSN 1 ([`zqlite_projections::replay_all`]), in records/s and as a
//!   ratio of the raw read;
//! - restart ([`Store::open`]) with a checkpoint a few thousand records behind the head;
//! - opening a past state at the middle of the log ([`Store::state_at`]), with checkpoints
//!   kept along the log the way a server keeps them (`keep_checkpoints` newest plus
//!   `history_checkpoints` spread out), then again from the cache.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use zqlite_log::{Log, LogOptions, NewRecord, SyncMode};
use zqlite_projections::{
    Change, ColumnDef, DataType, State, Store, StoreOptions, TRANSACTION, TableDef, TxMeta,
    TxRecord, Value, prune_checkpoints, replay_all, write_checkpoint,
};

const TABLES: u64 = 10;
/// Rows per table: updates hit rows inserted earlier, so the state stays bounded.
const KEYS_PER_TABLE: u64 = 100_000;
/// Records between the restart checkpoint and the head.
const RESTART_TAIL: u64 = 5_000;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to benchmark in (a temporary directory inside it is used and removed).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Log records to generate (one transaction each).
    #[arg(long, default_value_t = 10_000_000)]
    records: u64,
    /// Full replays to run (the median rate is reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    replays: u64,
    /// Checkpoints written along the log (every records/N), then pruned like a server.
    #[arg(long, default_value_t = 15)]
    checkpoints: u64,
}

pub fn run(args: &Args) -> Result<()> {
    anyhow::ensure!(
        args.records > RESTART_TAIL + 2,
        "--records must exceed {}",
        RESTART_TAIL + 2
    );
    anyhow::ensure!(args.checkpoints > 0, "--checkpoints must be positive");
    let tmp = tempfile::Builder::new()
        .prefix("zqlite-bench-replay-")
        .tempdir_in(&args.dir)
        .with_context(|| format!("creating a temporary directory in {}", args.dir.display()))?;
    let data = tmp.path().join("data");
    let n = args.records;
    println!(
        "zqlite bench replay: {n} records (inserts and updates over {TABLES} tables), in {}",
        args.dir.display()
    );

    let started = Instant::now();
    let log_bytes = generate(&data, n)?;
    println!(
        "{:<44} {:>10.1} s      ({:.0} MiB of record payloads)",
        "generate the log",
        started.elapsed().as_secs_f64(),
        log_bytes as f64 / (1 << 20) as f64
    );

    let log = Log::open(data.join("log"))?;
    let (raw, file_bytes) = raw_read_seconds(&log.segment_paths())?;
    println!(
        "{:<44} {:>10.0} records/s ({:.0} MiB in {raw:.2} s)",
        "raw sequential read of the segment files",
        n as f64 / raw,
        file_bytes as f64 / (1 << 20) as f64
    );
    let started = Instant::now();
    let mut count = 0u64;
    for record in log.read_from(1) {
        record?;
        count += 1;
    }
    let decode = started.elapsed().as_secs_f64();
    anyhow::ensure!(count == n, "read {count} records, expected {n}");
    println!(
        "{:<44} {:>10.0} records/s ({:.2}x the raw read time)",
        "log reader: decode and check every frame",
        n as f64 / decode,
        decode / raw
    );

    // The machine's speed varies from run to run: the median of several replays is
    // reported, with every run's rate.
    let mut rates = Vec::new();
    for _ in 0..args.replays {
        let started = Instant::now();
        let state = replay_all(&log)?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(state.lsn() == n, "replay ended at LSN {}", state.lsn());
        rates.push(n as f64 / seconds);
        drop(state);
    }
    let each: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "{:<44} {:>10.0} records/s ({:.2}x the raw read time; median of {}: {})",
        "full replay from LSN 1",
        median,
        n as f64 / median / raw,
        rates.len(),
        each.join(", ")
    );

    // Checkpoints along the log, as a server writes them, then pruned like one.
    let snapshots = data.join("snapshots");
    let every = (n / args.checkpoints).max(1);
    let mut targets: Vec<u64> = (1..args.checkpoints).map(|i| i * every).collect();
    targets.push(n - RESTART_TAIL);
    let mut state = State::default();
    let mut next = targets.iter().copied().peekable();
    for record in log.read_from(1) {
        state.replay(&record?)?;
        if next.peek() == Some(&state.lsn()) {
            next.next();
            write_checkpoint(&zqlite_log::RealFs, &snapshots, &state)?;
            prune_checkpoints(
                &zqlite_log::RealFs,
                &snapshots,
                StoreOptions::default().checkpoints_kept,
                StoreOptions::default().history_checkpoints,
            );
        }
        if next.peek().is_none() {
            break;
        }
    }
    drop(state);
    log.close()?;
    let kept: Vec<u64> = zqlite_projections::checkpoint_files(&zqlite_log::RealFs, &snapshots)
        .into_iter()
        .map(|(lsn, _)| lsn)
        .rev()
        .collect();
    println!("{:<44} {kept:?}", "checkpoints kept (LSNs)");

    let started = Instant::now();
    let store = Store::open(&data, StoreOptions::default())?;
    let restart = started.elapsed().as_secs_f64();
    anyhow::ensure!(store.snapshot().lsn() == n, "restart ended early");
    println!(
        "{:<44} {:>10.2} s      (checkpoint {} records behind the head; target < 2 s)",
        "restart with a recent checkpoint", restart, RESTART_TAIL
    );

    let middle = n / 2;
    let started = Instant::now();
    let opened = store.state_at(middle)?;
    let as_of = started.elapsed().as_secs_f64();
    println!(
        "{:<44} {:>10.2} s      ({:?}, {} records replayed)",
        format!("open the state as of LSN {middle}"),
        as_of,
        opened.source,
        opened.replayed
    );
    let started = Instant::now();
    let again = store.state_at(middle)?;
    println!(
        "{:<44} {:>10.6} s      ({:?})",
        "open it again",
        started.elapsed().as_secs_f64(),
        again.source
    );
    drop(store);
    Ok(())
}

fn table_def(id: u64) -> TableDef {
    let column = |name: &str, data_type| ColumnDef {
        name: name.into(),
        data_type,
        nullable: true,
        default: None,
        identity: None,
    };
    TableDef {
        id,
        name: format!("bench_{id}"),
        columns: vec![
            column("id", DataType::Int8),
            column("n", DataType::Int8),
            column("note", DataType::Text),
        ],
        primary_key: Some(vec![0]),
        primary_key_name: Some(format!("bench_{id}_pkey")),
        indexes: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        materialized: None,
    }
}

/// Writes `n` transaction records: the tables first, then one insert or update each.
fn generate(data: &Path, n: u64) -> Result<u64> {
    let log = Log::open_with(
        data.join("log"),
        LogOptions {
            // The benchmark measures reading; syncing each batch is enough for writing.
            sync: SyncMode::Always,
            ..LogOptions::default()
        },
    )?;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut inserted = vec![0u64; TABLES as usize];
    let mut batch = Vec::with_capacity(4096);
    let mut bytes = 0u64;
    let create = TxRecord {
        meta: TxMeta::default(),
        changes: (1..=TABLES)
            .map(|id| Change::CreateTable(table_def(id)))
            .collect(),
    };
    batch.push(NewRecord::msgpack(TRANSACTION, &create)?);
    for i in 1..n {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let t = (rng % TABLES) as usize;
        let key = inserted[t];
        let update = key >= KEYS_PER_TABLE || (key > 0 && (rng >> 20).is_multiple_of(2));
        let row = |id: u64, n: u64| -> Arc<[Value]> {
            Arc::from(vec![
                Value::Int8(id as i64),
                Value::Int8(n as i64),
                Value::Text(format!("note {n}")),
            ])
        };
        let table = t as u64 + 1;
        // Each record carries what a server writes: who committed it, the statement
        // with its parameters, and for an update the row it replaced.
        let (change, statement, params) = if update {
            let id = (rng >> 24) % key;
            let change = Change::Update {
                table,
                key: vec![Value::Int8(id as i64)].into(),
                row: row(id, i),
                before: Some(row(id, i / 2)),
            };
            let statement = format!("UPDATE bench_{table} SET n = $1, note = $2 WHERE id = $3");
            (
                change,
                statement,
                vec![i.to_string(), format!("note {i}"), id.to_string()],
            )
        } else {
            inserted[t] += 1;
            let change = Change::Insert {
                table,
                rowid: None,
                row: row(key, i),
            };
            let statement = format!("INSERT INTO bench_{table} VALUES ($1, $2, $3)");
            (
                change,
                statement,
                vec![key.to_string(), i.to_string(), format!("note {i}")],
            )
        };
        let record = NewRecord::msgpack(
            TRANSACTION,
            &TxRecord {
                meta: TxMeta {
                    user: "app".into(),
                    application_name: Some("bench".into()),
                    client_addr: Some("127.0.0.1".into()),
                    statements: vec![statement],
                    params: vec![params.into_iter().map(Some).collect()],
                    ..TxMeta::default()
                },
                changes: vec![change],
            },
        )?;
        bytes += record.payload.len() as u64;
        batch.push(record);
        if batch.len() == batch.capacity() {
            log.append_blocking(&batch)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        log.append_blocking(&batch)?;
    }
    log.close()?;
    Ok(bytes)
}

/// Seconds (and bytes) to read every byte of the files once, sequentially, in 1 MiB reads.
fn raw_read_seconds(paths: &[PathBuf]) -> Result<(f64, u64)> {
    let mut buf = vec![0u8; 1 << 20];
    let started = Instant::now();
    let mut total = 0u64;
    for path in paths {
        let mut file = std::fs::File::open(path)?;
        loop {
            let read = file.read(&mut buf)?;
            if read == 0 {
                break;
            }
            total += read as u64;
        }
    }
    Ok((started.elapsed().as_secs_f64(), std::hint::black_box(total)))
}
