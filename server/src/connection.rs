//! One client connection after startup: the message loop, the simple query protocol and
//! result sending. The extended protocol's handlers are in `extended.rs`.
//!
//! Invariants:
//! - Every Query message and every Sync gets exactly one ReadyForQuery, whose status is
//!   `I` outside a transaction block, `T` inside one and `E` after an error inside one.
//! - After an error in an extended-protocol message, messages up to the next Sync are
//!   discarded (PostgreSQL's rule), so a pipelined batch stops at its first error.
//! - A protocol violation ends only this connection (the caller logs it).
//! - Shutdown is noticed between messages: a statement that started always finishes and its
//!   reply is sent.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use pgwire::messages::PgWireBackendMessage as B;
use pgwire::messages::PgWireFrontendMessage as F;
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, ReadyForQuery, TransactionStatus,
};
use pgwire::messages::startup::ParameterStatus;
use tokio_util::sync::CancellationToken;
use zqlite_query::{Database, InterruptHandle, QueryResult};

use crate::blocking::SessionSlot;
use crate::copy::{CopyFormat, ServerCopy, parse_server_copy};
use crate::copy_out::{CopyOut, encode_row, header_line};
use crate::encode::{data_row, row_description};
use crate::error::{Error, Result};
use crate::framing::MessageStream;
use crate::portal::{Portal, Prepared};
use crate::settings::{Settings, Utility, parse_utility};
use crate::split::split_statements;
use crate::sqlerror::SqlError;
use crate::startup::{self, StartupInfo};

/// Flush the write buffer once it holds this much (large results stream out).
const FLUSH_AT: usize = 64 * 1024;

#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) stream: MessageStream,
    pub(crate) session: SessionSlot,
    pub(crate) db: Database,
    pub(crate) statements: HashMap<String, Arc<Prepared>>,
    pub(crate) portals: HashMap<String, Portal>,
    pub(crate) settings: Settings,
    status: TransactionStatus,
    skip_until_sync: bool,
}

impl Connection {
    pub(crate) fn new(
        stream: MessageStream,
        db: Database,
        info: &StartupInfo,
        peer: Option<SocketAddr>,
    ) -> Connection {
        let mut session = db.session();
        session.set_user(info.user.clone());
        session.set_client_addr(peer.map(|p| p.ip().to_string()));
        let mut conn = Connection {
            stream,
            session: SessionSlot::new(session),
            db,
            statements: HashMap::new(),
            portals: HashMap::new(),
            settings: Settings::new(info),
            status: TransactionStatus::Idle,
            skip_until_sync: false,
        };
        conn.sync_audit_settings();
        conn
    }

    /// Hands the settings the log records with each commit (application_name, zq.tenant)
    /// to the session; called whenever settings may have changed.
    fn sync_audit_settings(&mut self) {
        let application_name = self.settings.value("application_name").map(String::from);
        let tenant = self.settings.value(startup::TENANT).map(String::from);
        self.session.with(|s| {
            s.set_application_name(application_name);
            s.set_tenant(tenant);
        });
    }

    /// The handle that cancels this connection's running statement.
    pub(crate) fn interrupt_handle(&self) -> InterruptHandle {
        self.session.interrupt_handle()
    }

    /// Serves messages until the client leaves, breaks the protocol, or shutdown.
    pub(crate) async fn run(mut self, shutdown: CancellationToken) -> Result<()> {
        loop {
            if !self.stream.has_buffered_message() {
                self.stream.flush().await?;
            }
            let msg = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    return startup::fatal(
                        &mut self.stream,
                        "57P01",
                        "terminating connection due to administrator command",
                    )
                    .await;
                }
                msg = self.stream.next() => msg?,
            };
            let Some(msg) = msg else {
                return Ok(());
            };
            if matches!(msg, F::Terminate(_)) {
                return Ok(());
            }
            if self.skip_until_sync && !matches!(msg, F::Sync(_)) {
                continue;
            }
            let outcome = match msg {
                F::Query(q) => {
                    self.simple_query(&q.query).await?;
                    Ok(())
                }
                F::Parse(p) => self.parse(p).await?,
                F::Bind(b) => self.bind(b)?,
                F::Describe(d) => self.describe(d).await?,
                F::Execute(e) => self.execute(e).await?,
                F::Close(c) => self.close(c)?,
                F::Flush(_) => Ok(()),
                F::Sync(_) => {
                    self.skip_until_sync = false;
                    if !self.session.in_transaction() {
                        self.portals.remove("");
                    }
                    self.ready()?;
                    Ok(())
                }
                // PostgreSQL ignores COPY messages outside COPY (a client may be aborting one).
                F::CopyData(_) | F::CopyDone(_) | F::CopyFail(_) => Ok(()),
                other => {
                    return Err(Error::Protocol(format!("unexpected message {other:?}")));
                }
            };
            if let Err(e) = outcome {
                self.send_error(&e)?;
                self.skip_until_sync = true;
            }
        }
    }

    /// The simple query protocol: each statement in turn, stopping at the first error.
    async fn simple_query(&mut self, sql: &str) -> Result<()> {
        let pieces: Vec<(String, usize)> = split_statements(sql)
            .into_iter()
            .map(|p| (p.text.to_string(), p.char_start))
            .collect();
        if pieces.is_empty() {
            self.stream
                .send(B::EmptyQueryResponse(EmptyQueryResponse::new()))?;
        }
        for (text, start) in pieces {
            if let Some(u) = parse_utility(&text) {
                match self.apply_utility(u) {
                    Ok(result) => {
                        self.send_result(&result, &[], true).await?;
                        continue;
                    }
                    Err(e) => {
                        self.send_error(&e)?;
                        break;
                    }
                }
            }
            match parse_server_copy(&text) {
                Some(Ok(copy)) => match self.run_copy(copy).await? {
                    Ok(tag) => {
                        self.note_success(&tag);
                        self.stream
                            .send(B::CommandComplete(CommandComplete::new(tag)))?;
                        continue;
                    }
                    Err(e) => {
                        self.send_error(&e)?;
                        break;
                    }
                },
                Some(Err(e)) => {
                    self.send_error(&e)?;
                    break;
                }
                None => {}
            }
            let stmt = text.clone();
            let outcome = self.session.run(move |s| s.execute(&stmt, &[])).await?;
            match outcome {
                Ok(results) => {
                    self.note_success(results.last().map_or("", |r| r.command_name()));
                    for r in &results {
                        self.send_result(r, &[], true).await?;
                    }
                }
                Err(e) => {
                    self.send_error(&SqlError::from_query(&e, &text, start))?;
                    break;
                }
            }
        }
        self.ready()
    }

    /// Sends a whole result: row description (if asked), rows, command tag.
    pub(crate) async fn send_result(
        &mut self,
        result: &QueryResult,
        formats: &[i16],
        describe: bool,
    ) -> Result<()> {
        if let QueryResult::Rows { columns, rows } = result {
            if describe {
                self.stream
                    .send(B::RowDescription(row_description(columns, formats)))?;
            }
            for row in rows {
                self.stream.send(B::DataRow(data_row(row, formats)))?;
                self.stream.flush_if_over(FLUSH_AT).await?;
            }
        }
        self.stream
            .send(B::CommandComplete(CommandComplete::new(result.tag())))
    }

    /// Records a successful statement (its command tag's first word) for the next
    /// ReadyForQuery.
    pub(crate) fn note_success(&mut self, command: &str) {
        let status = if self.session.in_transaction() {
            TransactionStatus::Transaction
        } else {
            TransactionStatus::Idle
        };
        self.set_status(status, command == "COMMIT");
    }

    /// Sends an error and records it for the next ReadyForQuery.
    pub(crate) fn send_error(&mut self, e: &SqlError) -> Result<()> {
        let status = if self.session.in_transaction() {
            TransactionStatus::Error
        } else {
            TransactionStatus::Idle
        };
        self.set_status(status, false);
        self.stream.send(B::ErrorResponse(e.to_response()))
    }

    /// Moves to `status`; when that ends a transaction block, session parameters changed in
    /// the block are restored as the block's outcome requires (see `settings.rs`).
    fn set_status(&mut self, status: TransactionStatus, committed: bool) {
        let block_ended =
            self.status != TransactionStatus::Idle && status == TransactionStatus::Idle;
        self.status = status;
        if block_ended {
            for (name, value) in self.settings.end_block(committed) {
                // Encoding a ParameterStatus cannot fail for these short values.
                let _ = self.stream.send(B::ParameterStatus(ParameterStatus::new(
                    name.to_string(),
                    value,
                )));
            }
            self.sync_audit_settings();
        }
    }

    /// Runs a COPY the server handles; the command tag, or the error for the client.
    pub(crate) async fn run_copy(&mut self, copy: ServerCopy) -> Result<Result<String, SqlError>> {
        match copy {
            ServerCopy::In(c) => self.copy_in(c).await,
            ServerCopy::Out(c) => self.copy_out(c).await,
        }
    }

    /// `COPY ... TO STDOUT`: runs the query, then streams its rows as CopyData messages.
    async fn copy_out(&mut self, copy: CopyOut) -> Result<Result<String, SqlError>> {
        let query = copy.query.clone();
        let outcome = self.session.run(move |s| s.execute(&query, &[])).await?;
        let (columns, rows) = match outcome {
            Ok(mut results) => match results.pop() {
                Some(QueryResult::Rows { columns, rows }) => (columns, rows),
                _ => {
                    return Ok(Err(SqlError::new(
                        "0A000",
                        "COPY query must be a SELECT, VALUES or DML with RETURNING",
                    )));
                }
            },
            Err(e) => return Ok(Err(SqlError::from_query(&e, &copy.query, 0))),
        };
        let n = columns.len();
        self.stream.send(B::CopyOutResponse(CopyOutResponse::new(
            0,
            n as i16,
            vec![0; n],
        )))?;
        let data = |text: String| B::CopyData(CopyData::new(Bytes::from(text)));
        if copy.options.header && copy.options.format == CopyFormat::Csv {
            let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            self.stream.send(data(header_line(&copy.options, &names)))?;
        }
        for row in &rows {
            self.stream.send(data(encode_row(&copy.options, row)))?;
            self.stream.flush_if_over(FLUSH_AT).await?;
        }
        self.stream.send(B::CopyDone(CopyDone::new()))?;
        Ok(Ok(format!("COPY {}", rows.len())))
    }

    /// Runs SET/SHOW/RESET on the connection's parameters; changed reported parameters
    /// are sent as `ParameterStatus` right away (before the command's completion).
    pub(crate) fn apply_utility(&mut self, u: Utility) -> Result<QueryResult, SqlError> {
        if let Utility::Deallocate(target) = u {
            let command = match target {
                None => {
                    self.statements.clear();
                    "DEALLOCATE ALL"
                }
                Some(name) => {
                    if self.statements.remove(&name).is_none() {
                        return Err(SqlError::new(
                            "26000",
                            format!("prepared statement \"{name}\" does not exist"),
                        ));
                    }
                    "DEALLOCATE"
                }
            };
            self.note_success(command);
            return Ok(QueryResult::Command {
                command: command.into(),
                rows: None,
            });
        }
        let in_block = self.session.in_transaction();
        let reset_all = matches!(u, Utility::ResetAll);
        let applied = self.settings.apply(u, in_block)?;
        if reset_all {
            // The query layer keeps `zq.as_of`: RESET ALL resets it too.
            self.session.with_session(|s| s.reset_all());
        }
        self.sync_audit_settings();
        if let Some(warning) = &applied.warning {
            let _ = self.stream.send(B::NoticeResponse(warning.to_warning()));
        }
        for (name, value) in applied.changed {
            // Encoding a ParameterStatus cannot fail for these short values.
            let _ = self.stream.send(B::ParameterStatus(ParameterStatus::new(
                name.to_string(),
                value,
            )));
        }
        self.note_success("SET");
        Ok(applied.result)
    }

    fn ready(&mut self) -> Result<()> {
        self.stream
            .send(B::ReadyForQuery(ReadyForQuery::new(self.status)))
    }
}
