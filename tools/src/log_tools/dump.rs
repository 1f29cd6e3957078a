//! `zqlite log dump`: records decoded for people (`--format table`) or programs
//! (`--format jsonl`, one JSON object per record), filtered by LSN range, commit time and
//! table.
//!
//! Table names need the definitions as of each record, so reading starts at the newest valid
//! checkpoint before `--from-lsn` (its catalog) or at the beginning, and follows every DDL
//! change from there; records before the requested range are read but not printed.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use serde_json::{Value as Json, json};
use zqlite_log::{Lsn, ReadOnlyLog, RealFs, Record};

use super::decode::{Payload, Tables, decode, kind_name};
use super::{DataDir, checkpoint_files, hex, is_broken_pipe, time};
use crate::exit::{Exit, fail};
use crate::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DumpFormat {
    /// A block per record: a header line, its statements, one line per change.
    Table,
    /// One JSON object per line and record.
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (as given to `zqlite serve --data`).
    #[arg(long, env = "ZQLITE_DATA", default_value = "zqlite-data")]
    data: PathBuf,
    /// First LSN to print.
    #[arg(long, value_name = "N")]
    from_lsn: Option<Lsn>,
    /// Last LSN to print.
    #[arg(long, value_name = "M")]
    to_lsn: Option<Lsn>,
    /// Print records committed at or after this time (RFC 3339, e.g. 2026-11-28T10:00:00Z).
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// Print records committed at or before this time (RFC 3339).
    #[arg(long, value_name = "T")]
    until: Option<String>,
    /// Print only changes to this table (and records that have some). A change matches by
    /// the table's name at the time of the change; a rename matches both names.
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
    #[arg(long, value_enum, default_value_t = DumpFormat::Table)]
    format: DumpFormat,
    /// Add each record's payload in hex.
    #[arg(long)]
    raw: bool,
}

/// The validated filters of a dump.
#[derive(Debug, Clone, Default)]
struct Filter {
    from: Lsn,
    to: Option<Lsn>,
    since: Option<i64>,
    until: Option<i64>,
    table: Option<String>,
}

impl Filter {
    fn from_args(args: &Args) -> anyhow::Result<Filter> {
        let usage = |msg: String| fail(Exit::Usage, anyhow!(msg));
        if let (Some(from), Some(to)) = (args.from_lsn, args.to_lsn)
            && from > to
        {
            return Err(usage(format!(
                "--from-lsn {from} is after --to-lsn {to}: the range is empty"
            )));
        }
        let parse = |t: &Option<String>| t.as_deref().map(time::parse).transpose().map_err(usage);
        let since = parse(&args.since)?;
        let until = parse(&args.until)?;
        if let (Some(since), Some(until)) = (since, until)
            && since > until
        {
            return Err(usage(format!(
                "--since {} is after --until {}: the range is empty",
                time::rfc3339(since),
                time::rfc3339(until)
            )));
        }
        Ok(Filter {
            from: args.from_lsn.unwrap_or(1).max(1),
            to: args.to_lsn,
            since,
            until,
            table: args.table.clone(),
        })
    }

    /// Whether reading can stop before `record` (LSNs and timestamps only grow).
    fn past_end(&self, record: &Record) -> bool {
        self.to.is_some_and(|to| record.lsn > to)
            || self.until.is_some_and(|until| record.timestamp > until)
    }

    fn in_range(&self, record: &Record) -> bool {
        record.lsn >= self.from && self.since.is_none_or(|since| record.timestamp >= since)
    }
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let filter = Filter::from_args(args)?;
    let dir = DataDir::existing(&args.data)?;
    let log = ReadOnlyLog::open(&dir.log, Arc::new(RealFs))
        .with_context(|| format!("cannot read {}", dir.log.display()))?;
    let (mut tables, start) = starting_point(&dir, filter.from);

    let mut progress = Progress::start("dump", log.total_bytes(), true);
    let mut reader = log.read_from(start);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut read = 0u64;
    let mut printed = 0u64;
    let mut last_lsn = None;
    let mut undecodable = 0u64;
    let mut outcome = Ok(());
    while let Some(record) = reader.next() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                outcome = Err(fail(Exit::Damaged, e));
                break;
            }
        };
        read += 1;
        progress.update(reader.bytes_done(), read);
        last_lsn = Some(record.lsn);
        if filter.past_end(&record) {
            break;
        }
        let payload = decode(&record);
        if let Payload::Undecodable(_) = payload {
            undecodable += 1;
        }
        let entry = entry(&record, &payload, &mut tables, &filter, args.raw);
        if let Some(entry) = entry {
            printed += 1;
            let written = match args.format {
                DumpFormat::Jsonl => writeln!(out, "{entry}"),
                DumpFormat::Table => out.write_all(as_table(&entry).as_bytes()),
            };
            if let Err(e) = written {
                if is_broken_pipe(&e) {
                    return Ok(());
                }
                return Err(e).context("writing to stdout");
            }
        }
    }
    progress.update(reader.bytes_done(), read);
    progress.finish(read);
    match out.flush() {
        Err(e) if !is_broken_pipe(&e) => return Err(e).context("writing to stdout"),
        _ => {}
    }
    if let Some((path, offset)) = reader.torn_tail() {
        tracing::warn!(
            "the log ends in an incomplete frame at {} offset {offset} (a torn write the next open truncates, or a record a live server is writing)",
            path.display()
        );
    }
    outcome?;
    if undecodable > 0 {
        return Err(fail(
            Exit::Damaged,
            anyhow!(
                "{undecodable} record(s) could not be decoded (printed with their error): written by a newer zqlite?"
            ),
        ));
    }
    let last = last_lsn.unwrap_or(start.saturating_sub(1));
    if printed == 0 && filter.from > last.max(1) {
        return Err(fail(
            Exit::Usage,
            anyhow!(
                "--from-lsn {} is past the end of the log (its last LSN is {last})",
                filter.from
            ),
        ));
    }
    Ok(())
}

/// Where reading starts for records from `from` on: after the newest valid checkpoint
/// before `from`, with its table definitions, or at the beginning with none.
fn starting_point(dir: &DataDir, from: Lsn) -> (Tables, Lsn) {
    for file in checkpoint_files(dir) {
        if file.lsn >= from {
            continue;
        }
        match zqlite_projections::read_checkpoint(&RealFs, &file.path) {
            Ok(state) if state.lsn() == file.lsn => {
                return (Tables::from_catalog(state.catalog()), file.lsn + 1);
            }
            Ok(_) => {}
            Err(reason) => tracing::warn!(
                "skipping the damaged checkpoint {}: {reason}",
                file.path.display()
            ),
        }
    }
    (Tables::default(), 1)
}

/// The JSON object printed for a record, or `None` when the filters leave nothing of it.
/// Follows the record's DDL in `tables` either way.
fn entry(
    record: &Record,
    payload: &Payload,
    tables: &mut Tables,
    filter: &Filter,
    raw: bool,
) -> Option<Json> {
    let show = filter.in_range(record);
    let mut object = json!({
        "lsn": record.lsn,
        "time": time::rfc3339(record.timestamp),
        "kind": kind_name(record.kind),
    });
    match payload {
        Payload::Transaction(tx) => {
            let mut changes = Vec::new();
            for change in &tx.changes {
                if show
                    && filter
                        .table
                        .as_deref()
                        .is_none_or(|t| tables.concerns(change, t))
                {
                    changes.push(tables.describe(change));
                }
                tables.track(change);
            }
            if !show || (filter.table.is_some() && changes.is_empty()) {
                return None;
            }
            let meta = &tx.meta;
            object["user"] = json!(meta.user);
            object["tenant"] = json!(meta.tenant);
            object["application_name"] = json!(meta.application_name);
            object["client_addr"] = json!(meta.client_addr);
            object["statements"] = json!(meta.statements);
            object["changes"] = Json::Array(changes);
        }
        Payload::Unknown if show && filter.table.is_none() => {}
        Payload::Undecodable(error) if show => object["error"] = json!(error),
        _ => return None,
    }
    if raw {
        object["payload_hex"] = json!(hex(&record.payload));
    }
    Some(object)
}

/// The `--format table` block of a record's JSON object.
fn as_table(entry: &Json) -> String {
    use std::fmt::Write;
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = format!(
        "LSN {}  {}  {}",
        entry["lsn"],
        text(&entry["time"]),
        text(&entry["kind"])
    );
    for field in ["user", "tenant", "application_name", "client_addr"] {
        if let Some(v) = entry
            .get(field)
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
        {
            let _ = write!(out, "  {field}={}", text(v));
        }
    }
    out.push('\n');
    if let Some(error) = entry.get("error") {
        let _ = writeln!(out, "  error: {}", text(error));
    }
    for statement in entry["statements"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "  statement: {}", text(statement));
    }
    for change in entry["changes"].as_array().into_iter().flatten() {
        let _ = write!(out, "  {}", text(&change["op"]));
        let Some(fields) = change.as_object() else {
            continue;
        };
        for subject in ["table", "view", "sequence"] {
            if let Some(name) = fields.get(subject) {
                let _ = write!(out, " {}", text(name));
            }
        }
        for (name, value) in fields {
            if !["op", "table", "view", "sequence"].contains(&name.as_str()) {
                let _ = write!(out, " {name}={value}");
            }
        }
        out.push('\n');
    }
    if let Some(payload) = entry.get("payload_hex") {
        let _ = writeln!(out, "  payload: {}", text(payload));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        use clap::Parser;
        #[derive(Debug, clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: Args,
        }
        Cli::parse_from(std::iter::once("dump").chain(extra.iter().copied())).args
    }

    fn exit_of(result: anyhow::Result<Filter>) -> Exit {
        crate::exit::exit_of(&result.unwrap_err())
    }

    #[test]
    fn bad_ranges_and_times_are_usage_errors() {
        assert_eq!(
            exit_of(Filter::from_args(&args(&[
                "--from-lsn",
                "9",
                "--to-lsn",
                "3"
            ]))),
            Exit::Usage
        );
        assert_eq!(
            exit_of(Filter::from_args(&args(&["--since", "last tuesday"]))),
            Exit::Usage
        );
        assert_eq!(
            exit_of(Filter::from_args(&args(&[
                "--since",
                "2026-01-02T00:00:00Z",
                "--until",
                "2026-01-01T00:00:00Z"
            ]))),
            Exit::Usage
        );
        let ok = Filter::from_args(&args(&[
            "--from-lsn",
            "3",
            "--to-lsn",
            "3",
            "--since",
            "2026-01-01T00:00:00Z",
        ]))
        .unwrap();
        assert_eq!((ok.from, ok.to), (3, Some(3)));
        assert_eq!(ok.since, Some(1_767_225_600_000_000));
    }

    #[test]
    fn table_format_lists_statements_and_changes() {
        let entry = json!({
            "lsn": 3, "time": "2026-01-01T00:00:00.000000Z", "kind": "transaction",
            "user": "zqlite", "tenant": null, "statements": ["INSERT INTO t VALUES (1)"],
            "changes": [{"op": "insert", "table": "t", "row": {"id": 1}}],
            "payload_hex": "80",
        });
        assert_eq!(
            as_table(&entry),
            concat!(
                "LSN 3  2026-01-01T00:00:00.000000Z  transaction  user=zqlite\n",
                "  statement: INSERT INTO t VALUES (1)\n",
                "  insert t row={\"id\":1}\n",
                "  payload: 80\n",
            )
        );
    }
}
