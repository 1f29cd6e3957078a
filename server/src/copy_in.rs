//! Runs `COPY ... FROM STDIN` on a [`Connection`] (simple query protocol).
//!
//! - The rows are inserted by the query layer in batches of multi-row INSERTs with typed
//!   parameters (each field parsed with the column type's input function).
//! - Outside a transaction block the COPY runs in its own transaction: all rows or none.
//!   Inside a block, a failed INSERT fails the block; a malformed line is reported without
//!   failing it (the session offers no way to mark its block failed).
//! - After an error, CopyData is read and dropped until CopyDone or CopyFail, then the
//!   error is reported (the client cannot be interrupted mid-stream).

use bytes::BytesMut;
use pgwire::messages::PgWireBackendMessage as B;
use pgwire::messages::PgWireFrontendMessage as F;
use pgwire::messages::copy::CopyInResponse;
use zqlite_query::value::parse_value;
use zqlite_query::{DataType, Value};

use crate::connection::Connection;
use crate::copy::{CopyIn, decode_line};
use crate::error::{Error, Result};
use crate::sqlerror::SqlError;

/// Rows per INSERT statement.
const BATCH_ROWS: usize = 500;

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Connection {
    /// Runs the COPY; `Ok(Ok(tag))` on success.
    pub(crate) async fn copy_in(&mut self, copy: CopyIn) -> Result<Result<String, SqlError>> {
        let state = self.db.store().snapshot();
        let Some(table) = state.catalog().table_by_name(&copy.table).cloned() else {
            return Ok(Err(SqlError::new(
                "42P01",
                format!("relation \"{}\" does not exist", copy.table),
            )));
        };
        drop(state);
        let mut columns: Vec<(String, DataType)> = Vec::new();
        if copy.columns.is_empty() {
            columns.extend(table.columns.iter().map(|c| (c.name.clone(), c.data_type)));
        } else {
            for name in &copy.columns {
                let Some(c) = table.columns.iter().find(|c| c.name == *name) else {
                    return Ok(Err(SqlError::new(
                        "42703",
                        format!(
                            "column \"{name}\" of relation \"{}\" does not exist",
                            table.name
                        ),
                    )));
                };
                columns.push((c.name.clone(), c.data_type));
            }
        }
        let n = columns.len();
        self.stream.send(B::CopyInResponse(CopyInResponse::new(
            0,
            n as i16,
            vec![0; n],
        )))?;
        self.stream.flush().await?;

        let insert_prefix = format!(
            "INSERT INTO {} ({}) VALUES ",
            quote_ident(&table.name),
            columns
                .iter()
                .map(|(c, _)| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut run = CopyRun {
            copy,
            columns,
            insert_prefix,
            pending: BytesMut::new(),
            rows: Vec::new(),
            line_no: 0,
            total: 0,
            failure: None,
            ended: false,
            own_transaction: !self.session.in_transaction(),
            began: false,
        };
        loop {
            match self.stream.next().await? {
                Some(F::CopyData(d)) => {
                    run.pending.extend_from_slice(&d.data);
                    run.take_lines(false);
                    if run.rows.len() >= BATCH_ROWS {
                        self.insert_batch(&mut run).await?;
                    }
                }
                Some(F::CopyDone(_)) => {
                    run.take_lines(true);
                    self.insert_batch(&mut run).await?;
                    break;
                }
                Some(F::CopyFail(f)) => {
                    run.fail(SqlError::new(
                        "57014",
                        format!("COPY from stdin failed: {}", f.message),
                    ));
                    break;
                }
                Some(F::Flush(_) | F::Sync(_)) => {}
                Some(other) => {
                    return Err(Error::Protocol(format!(
                        "unexpected message during COPY: {other:?}"
                    )));
                }
                None => return Err(Error::Protocol("connection closed during COPY".into())),
            }
        }
        self.finish_copy(run).await
    }

    async fn insert_batch(&mut self, run: &mut CopyRun) -> Result<()> {
        if run.failure.is_some() || run.rows.is_empty() {
            run.rows.clear();
            return Ok(());
        }
        if run.own_transaction && !run.began {
            run.began = true;
            if let Err(e) = self.session.run(|s| s.execute("BEGIN", &[])).await? {
                run.fail(e.into());
                return Ok(());
            }
        }
        let width = run.columns.len();
        let rows = std::mem::take(&mut run.rows);
        let count = rows.len();
        let mut sql = run.insert_prefix.clone();
        for r in 0..count {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", r * width + c + 1));
            }
            sql.push(')');
        }
        let params: Vec<Value> = rows.into_iter().flatten().collect();
        match self.session.run(move |s| s.execute(&sql, &params)).await? {
            Ok(_) => run.total += count as u64,
            Err(e) => run.fail(e.into()),
        }
        Ok(())
    }

    async fn finish_copy(&mut self, run: CopyRun) -> Result<Result<String, SqlError>> {
        let end = match (&run.failure, run.own_transaction && run.began) {
            (None, true) => Some("COMMIT"),
            (Some(_), true) => Some("ROLLBACK"),
            (_, false) => None,
        };
        let mut failure = run.failure;
        if let Some(end) = end
            && let Err(e) = self.session.run(move |s| s.execute(end, &[])).await?
        {
            failure.get_or_insert(e.into());
        }
        Ok(match failure {
            Some(e) => Err(e),
            None => Ok(format!("COPY {}", run.total)),
        })
    }
}

/// One COPY in progress.
#[derive(Debug)]
struct CopyRun {
    copy: CopyIn,
    columns: Vec<(String, DataType)>,
    insert_prefix: String,
    /// Bytes after the last complete line.
    pending: BytesMut,
    rows: Vec<Vec<Value>>,
    line_no: u64,
    total: u64,
    failure: Option<SqlError>,
    /// `\.` seen: the rest is ignored.
    ended: bool,
    own_transaction: bool,
    began: bool,
}

impl CopyRun {
    fn fail(&mut self, e: SqlError) {
        self.failure.get_or_insert(e);
        self.rows.clear();
    }

    /// Decodes every complete line in `pending` (and, at the end, the unterminated rest).
    fn take_lines(&mut self, at_end: bool) {
        while let Some(pos) = self.pending.iter().position(|b| *b == b'\n') {
            let line = self.pending.split_to(pos + 1);
            self.line(&line[..pos]);
        }
        if at_end && !self.pending.is_empty() {
            let rest = self.pending.split();
            self.line(&rest);
        }
    }

    fn line(&mut self, raw: &[u8]) {
        self.line_no += 1;
        if self.ended || self.failure.is_some() {
            return;
        }
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw == b"\\." {
            self.ended = true;
            return;
        }
        if self.line_no == 1 && self.copy.header {
            return;
        }
        let context = |e: SqlError, line: u64| SqlError {
            message: format!("{} (COPY line {line})", e.message),
            ..e
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            let e = SqlError::new("22021", "invalid byte sequence for encoding \"UTF8\"");
            return self.fail(context(e, self.line_no));
        };
        let fields = match decode_line(&self.copy, text) {
            Ok(f) => f,
            Err(e) => return self.fail(context(e, self.line_no)),
        };
        if fields.len() != self.columns.len() {
            let message = if fields.len() < self.columns.len() {
                format!(
                    "missing data for column \"{}\"",
                    self.columns[fields.len()].0
                )
            } else {
                "extra data after last expected column".to_string()
            };
            return self.fail(context(SqlError::new("22P04", message), self.line_no));
        }
        let mut row = Vec::with_capacity(fields.len());
        for (field, (_, ty)) in fields.iter().zip(&self.columns) {
            match field {
                None => row.push(Value::Null),
                Some(text) => match parse_value(text, ty) {
                    Ok(v) => row.push(v),
                    Err(e) => {
                        let e = SqlError::from(zqlite_query::Error::from(e));
                        return self.fail(context(e, self.line_no));
                    }
                },
            }
        }
        self.rows.push(row);
    }
}
