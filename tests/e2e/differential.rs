//! Differential testing against a real PostgreSQL 15: every statement of the corpus in
//! `tests/differential/<area>.sql` runs on a throwaway PostgreSQL and on the real `zqlite`
//! binary, and the answers must be identical: the same column names and type OIDs, the same
//! rows as text in the same order, the same row count for commands, the same SQLSTATE for
//! errors.
//!
//! - Corpus format (see [`corpus`]): statements end with `;` at the end of a line; whole-line
//!   `--` comments. Every query whose row order is not fixed must say `ORDER BY`; the
//!   `RETURNING` rows of `INSERT`, `UPDATE` and `DELETE`, which cannot be ordered, are
//!   compared sorted, without their column types.
//! - Each file runs in its own fresh database: `CREATE DATABASE` on PostgreSQL, a fresh data
//!   directory and `zqlite serve` per file for zqlite (which has one database). Areas run
//!   concurrently; statements of an area run in file order, on both servers at once.
//! - How answers are taken and compared: [`answer`]. What differs is classified as
//!   unsupported (zqlite's 0A000), wrong answer, other error, or missing error.
//! - `tests/differential/known-differences.txt` lists the statements that differ today
//!   ([`report`]). The test fails on a difference that is not listed (a regression) and on a
//!   listed statement that is now identical or gone (the list only shrinks by hand or bless).
//! - `ZQLITE_DIFF_BLESS=1` rewrites that list and the generated part of
//!   `docs/sql-compatibility.md` from the current answers, and passes.
//! - Every difference, with both answers, is written to `<target dir>/differential-report.txt`.
//! - PostgreSQL 15 must be installed (Debian's `postgresql-15`): without it the test fails.

mod answer;
mod corpus;
mod postgres;
mod report;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use answer::Kind;
use corpus::Area;
use postgres::Postgres;
use report::{AreaResult, Outcome, Verdict};

use crate::server::Server;

/// The repository's root (the `zqlite` package lives in `tools/`).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tools/ has a parent")
        .to_path_buf()
}

/// Cargo's target directory: the binary under test is `<target>/<profile>/zqlite`.
fn target_dir() -> PathBuf {
    let bin = crate::zqlite_binary();
    bin.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

/// `zqlite serve` on a fresh data directory under `dir`. Starting waits (blocking) for the
/// server to listen; it is retried on new ports, which another process may take between
/// being probed free and being bound.
async fn start_zqlite(dir: &Path) -> Server {
    let mut attempt = 0;
    loop {
        let data = dir.join(format!("data-{attempt}"));
        match tokio::task::spawn_blocking(move || Server::start(&data, &[])).await {
            Ok(server) => return server,
            Err(e) if attempt == 2 => panic!("zqlite serve did not start: {e}"),
            Err(_) => attempt += 1,
        }
    }
}

/// Runs one area on both servers; the zqlite server and its data live only as long as this.
async fn run_area(pg: Arc<Postgres>, area: Area) -> AreaResult {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let server = start_zqlite(tmp.path()).await;
    let db = format!("diff_{}", area.name());
    let (pg_client, zq_client) = tokio::join!(pg.fresh_database(&db), server.client());
    let mut outcomes = Vec::with_capacity(area.statements.len());
    for statement in &area.statements {
        let dml = statement.is_dml();
        let (postgres, zqlite) = tokio::join!(
            answer::run(&pg_client, &statement.sql, dml),
            answer::run(&zq_client, &statement.sql, dml)
        );
        let kind = Kind::of(&postgres, &zqlite);
        outcomes.push(Outcome {
            file: area.file.clone(),
            statement: statement.clone(),
            postgres,
            zqlite,
            kind,
        });
    }
    drop(zq_client);
    drop(server);
    AreaResult {
        name: area.name().to_string(),
        outcomes,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn differential_corpus_against_postgresql() {
    let started = Instant::now();
    let root = repo_root();
    let corpus_dir = root.join("tests/differential");
    let known_path = corpus_dir.join("known-differences.txt");
    let doc_path = root.join("docs/sql-compatibility.md");
    let areas = corpus::load(&corpus_dir);
    assert!(!areas.is_empty(), "no *.sql in {}", corpus_dir.display());

    let pg = Arc::new(Postgres::start().unwrap_or_else(|e| panic!("{e}")));
    let tasks: Vec<_> = areas
        .into_iter()
        .map(|area| tokio::spawn(run_area(Arc::clone(&pg), area)))
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("an area's run does not panic"));
    }
    // Stops PostgreSQL now rather than at the end of the test.
    drop(Arc::into_inner(pg));

    let report_path = target_dir().join("differential-report.txt");
    std::fs::write(&report_path, report::render_report(&results))
        .unwrap_or_else(|e| panic!("writing {}: {e}", report_path.display()));
    println!(
        "zqlite against PostgreSQL 15 ({:.1} s):\n{}every difference: {}",
        started.elapsed().as_secs_f64(),
        report::summary(&results),
        report_path.display()
    );

    if std::env::var_os("ZQLITE_DIFF_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&known_path, report::render_known(&results))
            .unwrap_or_else(|e| panic!("writing {}: {e}", known_path.display()));
        let current = std::fs::read_to_string(&doc_path).unwrap_or_default();
        std::fs::write(&doc_path, report::render_doc(&current, &results))
            .unwrap_or_else(|e| panic!("writing {}: {e}", doc_path.display()));
        println!(
            "blessed: rewrote {} and {}",
            known_path.display(),
            doc_path.display()
        );
        return;
    }

    let known = report::parse_known(&std::fs::read_to_string(&known_path).unwrap_or_default());
    let verdict = Verdict::of(&results, &known);
    if verdict.passed() {
        return;
    }
    let mut message = String::new();
    for o in &verdict.regressions {
        message.push_str("new difference (a regression, or a new statement to fix or list):\n");
        message.push_str(&report::describe(o));
        message.push('\n');
    }
    for o in &verdict.now_identical {
        message.push_str(&format!(
            "now identical, remove from known-differences: {} ({}:{})\n",
            o.statement.key, o.file, o.statement.line
        ));
    }
    for key in &verdict.stale {
        message.push_str(&format!(
            "not in the corpus any more, remove from known-differences: {key}\n"
        ));
    }
    panic!(
        "{} new differences, {} now identical, {} stale entries in {}:\n\n{message}\
         After checking them, `ZQLITE_DIFF_BLESS=1 cargo test -p zqlite --test e2e differential` \
         rewrites the list and docs/sql-compatibility.md.",
        verdict.regressions.len(),
        verdict.now_identical.len(),
        verdict.stale.len(),
        known_path.display()
    );
}
