//! `zqlite bench log`: what the log achieves against what the disk allows.
//!
//! In one run, on the same file system: the raw `fdatasync` rate of small appends to a
//! zero-filled file and the sequential write bandwidth (the physical limits), then durable
//! append throughput of 200-byte records with 1, 16 and 256 concurrent appenders, and the
//! sequential read rate of decoded records. Ratios against the raw limits are printed with them.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use zqlite_log::{Log, LogOptions, NewRecord, RecordKind};

const RECORD_SIZE: usize = 200;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to benchmark in (a temporary directory inside it is used and removed).
    /// Defaults to the current directory, so the disk measured is the one data would use.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Seconds each timed measurement runs.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Records written and then read back for the sequential read measurement.
    #[arg(long, default_value_t = 2_000_000)]
    read_records: u64,
}

pub fn run(args: &Args) -> Result<()> {
    anyhow::ensure!(args.seconds > 0.0, "--seconds must be positive");
    anyhow::ensure!(args.read_records > 0, "--read-records must be positive");
    let tmp = tempfile::Builder::new()
        .prefix("zqlite-bench-")
        .tempdir_in(&args.dir)
        .with_context(|| format!("creating a temporary directory in {}", args.dir.display()))?;
    let duration = Duration::from_secs_f64(args.seconds);

    println!(
        "zqlite bench log: {}-byte records, {:.1} s per measurement, in {}",
        RECORD_SIZE,
        args.seconds,
        args.dir.display()
    );
    let raw_syncs = raw_fdatasync_rate(tmp.path(), duration)?;
    println!(
        "{:<44} {:>14.0} syncs/s",
        "disk: fdatasync of small appends", raw_syncs
    );
    let bandwidth = raw_write_bandwidth(tmp.path())?;
    println!(
        "{:<44} {:>14.0} MiB/s",
        "disk: sequential write + fdatasync", bandwidth
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    for appenders in [1usize, 16, 256] {
        let dir = tmp.path().join(format!("append-{appenders}"));
        let rate = runtime.block_on(durable_append_rate(&dir, appenders, duration))?;
        let note = if appenders == 1 {
            format!("{:.0}% of raw fdatasync rate", 100.0 * rate / raw_syncs)
        } else {
            format!("{:.1} records per raw fdatasync", rate / raw_syncs)
        };
        println!(
            "{:<44} {:>14.0} records/s  ({note})",
            format!("log: durable appends, {appenders} appenders"),
            rate
        );
    }

    let dir = tmp.path().join("append-thread");
    let rate = blocking_append_rate(&dir, duration)?;
    println!(
        "{:<44} {:>14.0} records/s  ({:.0}% of raw fdatasync rate)",
        "log: durable appends, 1 thread, blocking API",
        rate,
        100.0 * rate / raw_syncs
    );

    let (read_rate, read_mib) = sequential_read_rate(&tmp.path().join("read"), args.read_records)?;
    println!(
        "{:<44} {:>14.0} records/s  ({read_mib:.0} MiB/s of frames)",
        "log: sequential read, decoded and checked", read_rate
    );
    Ok(())
}

/// Appends of one frame-sized block to a zero-filled file, each followed by `fdatasync`.
fn raw_fdatasync_rate(dir: &Path, duration: Duration) -> Result<f64> {
    let path = dir.join("raw-sync");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)?;
    let size = 64 << 20;
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(size / zeros.len()) {
        file.write_all(&zeros)?;
    }
    file.sync_all()?;
    let block = vec![0xabu8; RECORD_SIZE + 57];
    let start = Instant::now();
    let mut offset = 0u64;
    let mut syncs = 0u64;
    while start.elapsed() < duration && offset + (block.len() as u64) < size as u64 {
        file.write_all_at(&block, offset)?;
        file.sync_data()?;
        offset += block.len() as u64;
        syncs += 1;
    }
    Ok(syncs as f64 / start.elapsed().as_secs_f64())
}

/// 256 MiB written in 1 MiB chunks to a new file, then one `fdatasync`.
fn raw_write_bandwidth(dir: &Path) -> Result<f64> {
    let path = dir.join("raw-bandwidth");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let chunk = vec![0x5au8; 1 << 20];
    let start = Instant::now();
    for _ in 0..256 {
        file.write_all(&chunk)?;
    }
    file.sync_data()?;
    let mib_per_s = 256.0 / start.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(mib_per_s)
}

async fn durable_append_rate(dir: &Path, appenders: usize, duration: Duration) -> Result<f64> {
    let log = Arc::new(Log::open(dir)?);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let payload = vec![0x42u8; RECORD_SIZE];
    let tasks: Vec<_> = (0..appenders)
        .map(|_| {
            let (log, stop, done, payload) =
                (log.clone(), stop.clone(), done.clone(), payload.clone());
            tokio::spawn(async move {
                let records = [NewRecord::new(RecordKind(1), payload)];
                while !stop.load(Ordering::Relaxed) {
                    log.append(&records).await?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    let start = Instant::now();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await??;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    Arc::try_unwrap(log)
        .map_err(|_| anyhow::anyhow!("appenders still hold the log"))?
        .close()?;
    Ok(rate)
}

/// One thread appending with the blocking API (an embedded single writer).
fn blocking_append_rate(dir: &Path, duration: Duration) -> Result<f64> {
    let log = Log::open(dir)?;
    let records = [NewRecord::new(RecordKind(1), vec![0x42u8; RECORD_SIZE])];
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < duration {
        log.append_blocking(&records)?;
        done += 1;
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    log.close()?;
    Ok(rate)
}

/// Writes `count` records in large batches, reopens the log, and times reading them all.
fn sequential_read_rate(dir: &Path, count: u64) -> Result<(f64, f64)> {
    let opts = LogOptions::default();
    let log = Log::open_with(dir, opts.clone())?;
    let batch: Vec<_> = (0..1000)
        .map(|_| NewRecord::new(RecordKind(1), vec![7u8; RECORD_SIZE]))
        .collect();
    let mut written = 0;
    while written < count {
        let n = (count - written).min(batch.len() as u64) as usize;
        log.submit(&batch[..n])?;
        written += n as u64;
    }
    log.close()?;
    let log = Log::open_with(dir, opts)?;
    let start = Instant::now();
    let mut records = 0u64;
    let mut bytes = 0u64;
    for record in log.read_from(1) {
        let record = record?;
        records += 1;
        bytes += record.payload.len() as u64 + 57;
    }
    let secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(records == count, "read {records} records, wrote {count}");
    Ok((
        records as f64 / secs,
        bytes as f64 / secs / (1 << 20) as f64,
    ))
}
