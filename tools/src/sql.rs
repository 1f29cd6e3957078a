//! `zqlite sql`: run SQL against a data directory, without a server.
//!
//! Statements come from `-c` (repeatable) or `-f FILE` and run in one session, in order.
//! Results print like psql (or as CSV/JSON); an error prints psql-style (`ERROR:`, with
//! `LINE n:` and a caret under the position when known) to stderr and ends the run with exit
//! code 1, after the statements before it took effect.

use std::path::PathBuf;

use anyhow::{Context, Result};
use zqlite_query::Database;

use crate::output::{Format, render};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (created if missing).
    #[arg(long, default_value = "zqlite-data")]
    data: PathBuf,
    /// SQL to run (may be given several times).
    #[arg(short = 'c', long = "command")]
    commands: Vec<String>,
    /// A file of SQL statements to run.
    #[arg(short = 'f', long = "file")]
    file: Option<PathBuf>,
    /// How to print results.
    #[arg(long, value_enum, default_value_t = Format::Aligned)]
    format: Format,
}

/// What went wrong in a statement, already printed for the user.
#[derive(Debug)]
pub struct StatementFailed;

impl std::fmt::Display for StatementFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a statement failed")
    }
}

impl std::error::Error for StatementFailed {}

pub fn run(args: &Args) -> Result<()> {
    let mut scripts = args.commands.clone();
    if let Some(file) = &args.file {
        scripts.push(
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?,
        );
    }
    anyhow::ensure!(
        !scripts.is_empty(),
        "nothing to run: give -c SQL or -f FILE"
    );
    let db =
        Database::open(&args.data).with_context(|| format!("opening {}", args.data.display()))?;
    let mut session = db.session();
    let mut outcome = Ok(());
    for script in &scripts {
        match session.execute(script, &[]) {
            Ok(results) => {
                for result in &results {
                    print!("{}", render(result, args.format));
                }
            }
            Err(e) => {
                eprint!("{}", describe_error(&e, script));
                outcome = Err(StatementFailed.into());
                break;
            }
        }
    }
    drop(session);
    db.close().context("closing the database")?;
    outcome
}

/// psql's rendering of an error: severity, message, detail, and the offending line with a
/// caret under the column.
pub fn describe_error(error: &zqlite_query::Error, sql: &str) -> String {
    let mut out = format!("ERROR:  {error}\n");
    if let Some(detail) = error.detail() {
        out.push_str(&format!("DETAIL:  {detail}\n"));
    }
    if let Some(loc) = error.location()
        && let Some(line) = sql.lines().nth(loc.line.saturating_sub(1) as usize)
    {
        let prefix = format!("LINE {}: ", loc.line);
        out.push_str(&format!("{prefix}{line}\n"));
        let col = (loc.column.saturating_sub(1) as usize).min(line.chars().count());
        out.push_str(&format!("{}^\n", " ".repeat(prefix.len() + col)));
    }
    out
}
