//! Memory benchmark: resident memory of 1M rows of (bigint, text(20), double precision) held
//! by an embedded zqlite database with a file-backed log.
//!
//! `cargo bench -p zqlite --bench memory -- [--rows N]` prints the process's resident set
//! size (from `/proc/self/statm`) before and after loading, and per row. Rows are loaded
//! through a prepared INSERT in transactions of 100,000 rows.

use zqlite_query::{Database, Value};

/// Resident set size of this process, in bytes.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages in statm");
    pages * 4096
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: i64 = args
        .windows(2)
        .find(|w| w[0] == "--rows")
        .map(|w| w[1].parse().expect("--rows takes a number"))
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("temporary directory");
    let db = Database::open(tmp.path().join("zqlite")).expect("open zqlite");
    let mut s = db.session();
    s.execute(
        "CREATE TABLE items (id bigint PRIMARY KEY, name varchar(20), price double precision)",
        &[],
    )
    .expect("schema");
    let before = resident_bytes();
    let insert = s.prepare("INSERT INTO items VALUES ($1, $2, $3)").unwrap();
    for chunk in (0..rows).step_by(100_000) {
        s.execute("BEGIN", &[]).unwrap();
        for id in chunk..(chunk + 100_000).min(rows) {
            let row = [
                Value::Int8(id),
                Value::Text(format!("item-{id:015}")),
                Value::Float8(id as f64 * 0.5),
            ];
            s.execute_prepared(&insert, &row).unwrap();
        }
        s.execute("COMMIT", &[]).unwrap();
    }
    let after = resident_bytes();
    let count = s.execute("SELECT count(*) FROM items", &[]).unwrap();
    assert_eq!(count[0].rows().unwrap()[0][0], Value::Int8(rows));
    println!(
        "{rows} rows of (bigint, varchar(20), double precision): resident {:.0} MiB \
         ({:.0} MiB before loading, {:.0} bytes per row; target: under 300 MiB for 1M rows)",
        mib(after),
        mib(before),
        (after - before) as f64 / rows as f64
    );
}
