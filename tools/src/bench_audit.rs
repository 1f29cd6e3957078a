//! `zqlite bench audit`: one row's history on a large log, next to a full scan of the log.
//!
//! Generates a log of `--records` transactions on one table (inserts of `--keys` rows,
//! then updates of rows picked at random), with the log's sync off (the figures are about
//! reading). Then, through SQL in the same process: the first audit query (which builds the
//! audit index in one pass over the log), `zq_history` of random keys (each reads only the
//! records of its row), `zq_changes` of a narrow LSN range, and the first audit query after
//! a restart (which loads the index saved at the closing checkpoint); the reference is a
//! full sequential read and decode of the log, measured in the same run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use zqlite_log::{LogOptions, SyncMode};
use zqlite_projections::{StoreOptions, TxRecord};
use zqlite_query::{Database, QueryResult, Value};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to benchmark in (a temporary directory inside it is used and removed).
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// Transactions in the generated log (one row change each).
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Distinct rows; the records after the first `keys` update random ones.
    #[arg(long, default_value_t = 100_000)]
    keys: u64,
    /// History lookups timed (random keys).
    #[arg(long, default_value_t = 200)]
    lookups: u64,
}

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn count(db: &Database, sql: &str) -> Result<i64> {
    match db.session().execute(sql, &[])?.pop() {
        Some(QueryResult::Rows { rows, .. }) => match rows.first().and_then(|r| r.first()) {
            Some(Value::Int8(n)) => Ok(*n),
            other => bail!("{sql}: expected a count, got {other:?}"),
        },
        other => bail!("{sql}: expected rows, got {other:?}"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(args: &Args) -> Result<()> {
    anyhow::ensure!(args.keys > 0, "--keys must be positive");
    anyhow::ensure!(
        args.records >= args.keys,
        "--records must be at least --keys"
    );
    anyhow::ensure!(args.lookups > 0, "--lookups must be positive");
    let tmp = tempfile::Builder::new()
        .prefix("zqlite-bench-")
        .tempdir_in(&args.dir)
        .with_context(|| format!("creating a temporary directory in {}", args.dir.display()))?;
    let opts = StoreOptions {
        log: LogOptions {
            sync: SyncMode::Off,
            ..StoreOptions::default().log
        },
        checkpoint_bytes: 0,
        ..StoreOptions::default()
    };
    let db = Database::open_with(tmp.path(), opts.clone())?;
    println!(
        "zqlite bench audit: {} records over {} rows, in {}",
        args.records,
        args.keys,
        args.dir.display()
    );

    let started = Instant::now();
    let mut s = db.session();
    s.set_user("bench");
    s.execute("CREATE TABLE t (id int8 PRIMARY KEY, v text, n int8)", &[])?;
    let insert = s.prepare("INSERT INTO t VALUES ($1, $2, 0)")?;
    let update = s.prepare("UPDATE t SET v = $2, n = n + 1 WHERE id = $1")?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..args.records {
        let (stmt, id) = if i < args.keys {
            (&insert, i)
        } else {
            (&update, rng.next() % args.keys)
        };
        let params = [Value::Int8(id as i64), Value::Text(format!("value {i}"))];
        s.execute_prepared(stmt, &params)?;
    }
    let generated = started.elapsed();
    let head = db.store().snapshot().lsn();
    let bytes: u64 = db
        .store()
        .log()
        .segment_paths()
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{:<48} {:>10.1} s  ({} records, {:.0} MiB of segments)",
        "generate the log",
        generated.as_secs_f64(),
        head,
        bytes as f64 / (1 << 20) as f64
    );

    // Reference: read and decode every record once.
    let started = Instant::now();
    let mut decoded = 0u64;
    for record in db.store().log().read_from(1) {
        let _: TxRecord = record?.decode_msgpack()?;
        decoded += 1;
    }
    let scan = started.elapsed();
    println!(
        "{:<48} {:>10.1} ms  (reference)",
        format!("full scan: read + decode {decoded} records"),
        ms(scan)
    );

    // The first audit query builds the index (one pass over the log).
    let started = Instant::now();
    let first = count(&db, "SELECT count(*) FROM zq_history('t', '{\"id\": 0}')")?;
    let build = started.elapsed();
    anyhow::ensure!(first >= 1, "row 0 has no history");
    println!(
        "{:<48} {:>10.1} ms  ({:.2}x the full scan)",
        "first audit query (builds the index)",
        ms(build),
        build.as_secs_f64() / scan.as_secs_f64()
    );

    let mut times = Vec::new();
    let mut versions = 0i64;
    for _ in 0..args.lookups {
        let id = rng.next() % args.keys;
        let sql = format!("SELECT count(*) FROM zq_history('t', '{{\"id\": {id}}}')");
        let started = Instant::now();
        versions += count(&db, &sql)?;
        times.push(started.elapsed());
    }
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    println!(
        "{:<48} {:>10.3} ms  (p99 {:.3} ms, {:.1} versions/row, {:.5}x the full scan)",
        "zq_history of one row (warm index)",
        ms(mean),
        ms(p99),
        versions as f64 / args.lookups as f64,
        mean.as_secs_f64() / scan.as_secs_f64()
    );

    let from = head / 2;
    let started = Instant::now();
    let n = count(
        &db,
        &format!(
            "SELECT count(*) FROM zq_changes WHERE lsn > {from} AND lsn <= {}",
            from + 100
        ),
    )?;
    let range = started.elapsed();
    println!(
        "{:<48} {:>10.3} ms  ({n} changes)",
        "zq_changes of 100 records by LSN range",
        ms(range)
    );
    drop(s);

    // Restart: closing writes a checkpoint and saves the index with it; the first audit
    // query after the restart loads the index and indexes only the records after it.
    let mut s = db.session();
    s.execute("UPDATE t SET v = 'after', n = n + 1 WHERE id = 0", &[])?;
    drop(s);
    db.close()?;
    let saved = std::fs::metadata(zqlite_projections::audit::saved_index_path(tmp.path()))
        .map(|m| m.len())
        .context("the audit index was not saved")?;
    let started = Instant::now();
    let db = Database::open_with(tmp.path(), opts)?;
    let reopen = started.elapsed();
    let started = Instant::now();
    let after = count(&db, "SELECT count(*) FROM zq_history('t', '{\"id\": 0}')")?;
    let load = started.elapsed();
    anyhow::ensure!(
        after == first + 1,
        "row 0 lost its history across the restart"
    );
    println!(
        "{:<48} {:>10.1} ms  (restart {:.1} ms; index file {:.0} MiB)",
        "first audit query after a restart (saved index)",
        ms(load),
        ms(reopen),
        saved as f64 / (1 << 20) as f64
    );
    db.close()?;
    Ok(())
}
