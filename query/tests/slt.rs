//! Runs every sqllogictest file of the shared corpus (PostgreSQL 15 expected results) and of
//! `tests/slt/` on a fresh in-memory database each, counting records per file.
//!
//! The test fails when a file has failing records, unless the file is listed in
//! `tests/slt-known-failures.txt` with exactly its current pass count: a file that now
//! passes more (or fewer) records than listed fails too, so the list only shrinks.
//!
//! - `SLT_FILTER=substring` runs only the files whose path contains it (while iterating);
//! - `SLT_UPDATE_KNOWN_FAILURES=1` rewrites the known-failures list from this run;
//! - `SLT_VERBOSE=1` prints every failing record.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use sqllogictest::{DB, DBOutput, DefaultColumnType, Record, Runner};
use zqlite_query::{Database, QueryResult, Session, Value};

struct Embedded {
    session: Session,
    _db: Database,
}

impl Embedded {
    fn open() -> Result<Embedded, SqlError> {
        let db = Database::open_in_memory()?;
        Ok(Embedded {
            session: db.session(),
            _db: db,
        })
    }
}

/// PostgreSQL's text output as sqllogictest files spell it.
fn render(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::Text(s) if s.is_empty() => "(empty)".to_string(),
        other => other.to_string(),
    }
}

/// An engine error as the files match it: `SQLSTATE: message`, so a record can expect
/// either (`statement error 23505`, `statement error duplicate key`).
#[derive(Debug)]
struct SqlError(String);

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SqlError {}

impl From<zqlite_query::Error> for SqlError {
    fn from(e: zqlite_query::Error) -> SqlError {
        SqlError(format!("{}: {e}", e.sqlstate()))
    }
}

impl DB for Embedded {
    type Error = SqlError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, Self::Error> {
        let mut results = self.session.execute(sql, &[])?;
        Ok(match results.pop() {
            Some(QueryResult::Rows { columns, rows }) => DBOutput::Rows {
                types: vec![DefaultColumnType::Any; columns.len()],
                rows: rows
                    .iter()
                    .map(|r| r.iter().map(render).collect())
                    .collect(),
            },
            Some(QueryResult::Command { rows, .. }) => {
                DBOutput::StatementComplete(rows.unwrap_or(0))
            }
            None => DBOutput::StatementComplete(0),
        })
    }

    fn engine_name(&self) -> &str {
        "postgres"
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    pass: usize,
    fail: usize,
}

fn run_file(path: &Path, verbose: bool) -> Counts {
    let records = match sqllogictest::parse_file::<DefaultColumnType>(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}: cannot parse: {e}", path.display());
            return Counts { pass: 0, fail: 1 };
        }
    };
    let mut runner = Runner::new(|| async { Embedded::open() });
    runner.add_label("postgresql");
    let mut counts = Counts::default();
    for record in records {
        if matches!(record, Record::Halt { .. }) {
            break;
        }
        let counted = matches!(record, Record::Statement { .. } | Record::Query { .. });
        match runner.run(record) {
            Ok(_) => counts.pass += usize::from(counted),
            Err(e) => {
                counts.fail += 1;
                if verbose {
                    eprintln!("{}\n", e.display(false));
                }
            }
        }
    }
    counts
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "slt") {
            out.push(path);
        }
    }
}

fn known_failures_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt-known-failures.txt")
}

fn read_known() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(known_failures_path()).unwrap_or_default();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next()?.to_string();
            let pass = parts.next()?.parse().ok()?;
            Some((name, pass))
        })
        .collect()
}

#[test]
fn sqllogictest_corpus() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let roots = [
        (
            "shared",
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/sqllogictest"
            )),
        ),
        ("query", manifest.join("tests/slt")),
    ];
    let shared_root = &roots[0].1;
    assert!(
        shared_root.is_dir(),
        "the shared sqllogictest corpus is missing at {}",
        shared_root.display()
    );
    let filter = std::env::var("SLT_FILTER").ok();
    let verbose = std::env::var("SLT_VERBOSE").is_ok();
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (label, root) in &roots {
        let mut found = Vec::new();
        collect(root, &mut found);
        for path in found {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let name = format!("{label}/{rel}");
            if filter.as_ref().is_none_or(|f| name.contains(f.as_str())) {
                files.push((name, path));
            }
        }
    }
    files.sort();
    // Largest first, so the two workers finish together.
    let mut queue: Vec<(String, PathBuf)> = files.clone();
    queue.sort_by_key(|(_, p)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    let queue = Mutex::new(queue);
    let results: Mutex<BTreeMap<String, (Counts, f64)>> = Mutex::new(BTreeMap::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            // Deeply nested generated WHERE clauses need more than the default 2 MiB stack.
            let builder = std::thread::Builder::new().stack_size(256 << 20);
            let spawned = builder.spawn_scoped(s, || {
                loop {
                    // The lock is only held to pop; a panic elsewhere cannot poison it usefully.
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                    let Some((name, path)) = next else { break };
                    let start = Instant::now();
                    let counts = run_file(&path, verbose);
                    let secs = start.elapsed().as_secs_f64();
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(name, (counts, secs));
                }
            });
            spawned.expect("spawn a sqllogictest worker");
        }
    });
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());

    let known = read_known();
    let mut problems = Vec::new();
    println!("{:<55} {:>7} {:>7} {:>7}", "file", "pass", "fail", "secs");
    let (mut total_pass, mut total_fail) = (0, 0);
    for (name, (c, secs)) in &results {
        println!("{name:<55} {:>7} {:>7} {secs:>7.1}", c.pass, c.fail);
        total_pass += c.pass;
        total_fail += c.fail;
        match (c.fail, known.get(name)) {
            (0, None) => {}
            (0, Some(_)) => problems.push(format!("{name}: passes now; remove it from the known failures")),
            (_, None) => problems.push(format!("{name}: {} failing records", c.fail)),
            (_, Some(&listed)) if c.pass > listed => problems.push(format!(
                "{name}: passes {} records, more than the {listed} listed; update the known failures",
                c.pass
            )),
            (_, Some(&listed)) if c.pass < listed => problems.push(format!(
                "{name}: passes {} records, fewer than the {listed} listed (regression)",
                c.pass
            )),
            _ => {}
        }
    }
    println!("{:<55} {total_pass:>7} {total_fail:>7}", "total");
    if std::env::var("SLT_UPDATE_KNOWN_FAILURES").is_ok() {
        let mut all = if filter.is_some() {
            known.clone()
        } else {
            BTreeMap::new()
        };
        for (name, (c, _)) in &results {
            if c.fail > 0 {
                all.insert(name.clone(), c.pass);
            } else {
                all.remove(name);
            }
        }
        let mut text = String::from(
            "# sqllogictest files that do not pass completely yet, with the number of records\n\
             # they pass. Written by SLT_UPDATE_KNOWN_FAILURES=1 cargo test -p zqlite-query --test slt\n",
        );
        for (name, pass) in all {
            text.push_str(&format!("{name} {pass}\n"));
        }
        std::fs::write(known_failures_path(), text).expect("write the known-failures list");
        return;
    }
    assert!(
        problems.is_empty(),
        "sqllogictest problems:\n{}",
        problems.join("\n")
    );
}
