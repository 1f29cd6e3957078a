//! The connection's opening: SSL (TLS when configured, else refused) and GSS refusal, the
//! StartupMessage, trust authentication and
//! the greeting (`AuthenticationOk`, `ParameterStatus`es, `BackendKeyData`,
//! `ReadyForQuery`).
//!
//! - Who may log in is `auth.rs`'s decision, taken between the StartupMessage and the
//!   greeting.
//! - Only protocol 3.0 is spoken: a client asking for 3.x (x > 0) or `_pq_.` options gets
//!   `NegotiateProtocolVersion`, as PostgreSQL answers.
//! - The default role and database are both `zqlite`.

use pgwire::messages::PgWireBackendMessage as B;
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::response::{ErrorResponse, ReadyForQuery, TransactionStatus};
use pgwire::messages::startup::{
    Authentication, BackendKeyData, NegotiateProtocolVersion, ParameterStatus, SecretKey,
};
use pgwire::messages::{PgWireFrontendMessage as F, SslNegotiationMetaMessage};

use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};
use crate::framing::{MessageStream, Phase};

/// The role and database used when the client names none.
pub(crate) const DEFAULT_NAME: &str = "zqlite";

/// Who connected, from the StartupMessage.
#[derive(Debug, Clone)]
pub(crate) struct StartupInfo {
    pub user: String,
    pub database: String,
    pub application_name: String,
    /// `zq.tenant`, from a startup parameter of that name or `-c zq.tenant=...` in
    /// `options` (empty when neither is given).
    pub tenant: String,
    minor_version: u16,
    protocol_options: Vec<String>,
}

/// What a new socket turned out to be.
#[derive(Debug)]
pub(crate) enum Opening {
    Session(StartupInfo),
    Cancel(CancelRequest),
    /// The client hung up before starting.
    Closed,
}

/// Reads up to and including the StartupMessage (or a CancelRequest).
pub(crate) async fn negotiate(
    stream: &mut MessageStream,
    tls: Option<&TlsAcceptor>,
) -> Result<Opening> {
    loop {
        let Some(msg) = stream.next().await? else {
            return Ok(Opening::Closed);
        };
        match msg {
            F::SslNegotiation(SslNegotiationMetaMessage::PostgresSsl(_)) if tls.is_some() => {
                stream.upgrade_to_tls(tls.expect("checked")).await?;
                stream.set_phase(Phase::Startup);
            }
            F::SslNegotiation(SslNegotiationMetaMessage::PostgresSsl(_))
            | F::SslNegotiation(SslNegotiationMetaMessage::PostgresGss(_)) => {
                stream.send_byte(b'N');
                stream.flush().await?;
            }
            F::SslNegotiation(SslNegotiationMetaMessage::None) => stream.set_phase(Phase::Startup),
            F::CancelRequest(c) => return Ok(Opening::Cancel(c)),
            F::Startup(s) => {
                if s.protocol_number_major != 3 {
                    return Err(Error::Protocol(format!(
                        "unsupported frontend protocol {}.{}",
                        s.protocol_number_major, s.protocol_number_minor
                    )));
                }
                stream.set_phase(Phase::Typed);
                let param = |k: &str| s.parameters.get(k).filter(|v| !v.is_empty()).cloned();
                let user = param("user").unwrap_or_else(|| DEFAULT_NAME.to_string());
                let tenant = param(TENANT)
                    .or_else(|| param("options").and_then(|o| option_value(&o, TENANT)))
                    .unwrap_or_default();
                return Ok(Opening::Session(StartupInfo {
                    tenant,
                    database: param("database").unwrap_or_else(|| user.clone()),
                    user,
                    application_name: param("application_name").unwrap_or_default(),
                    minor_version: s.protocol_number_minor,
                    protocol_options: s
                        .parameters
                        .keys()
                        .filter(|k| k.starts_with("_pq_."))
                        .cloned()
                        .collect(),
                }));
            }
            other => {
                return Err(Error::Protocol(format!(
                    "expected a startup message, got {other:?}"
                )));
            }
        }
    }
}

#[cfg(test)]
impl StartupInfo {
    pub(crate) fn for_tests(user: &str, application_name: &str) -> StartupInfo {
        StartupInfo {
            user: user.into(),
            database: user.into(),
            application_name: application_name.into(),
            tenant: String::new(),
            minor_version: 0,
            protocol_options: Vec::new(),
        }
    }
}

/// The session setting naming the tenant recorded with each commit.
pub(crate) const TENANT: &str = "zq.tenant";

/// The value `options` (libpq's command-line style: `-c name=value` or `--name=value`,
/// separated by spaces, `\` escaping the next character) gives the setting `name`; the
/// last one wins, as in PostgreSQL.
pub(crate) fn option_value(options: &str, name: &str) -> Option<String> {
    let mut words = Vec::new();
    let mut start = None;
    let mut escaped = false;
    for (i, c) in options.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => {
                escaped = true;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    words.push(&options[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        words.push(&options[s..]);
    }
    let mut found = None;
    let mut i = 0;
    while i < words.len() {
        let setting = match words[i] {
            "-c" => {
                i += 1;
                words.get(i).copied()
            }
            w => w.strip_prefix("-c").or_else(|| w.strip_prefix("--")),
        };
        if let Some((n, v)) = setting.and_then(|s| s.split_once('='))
            && n.eq_ignore_ascii_case(name)
        {
            let mut value = String::new();
            let mut chars = v.chars();
            while let Some(c) = chars.next() {
                value.extend(if c == '\\' { chars.next() } else { Some(c) });
            }
            found = Some(value);
        }
        i += 1;
    }
    found
}

/// The `ParameterStatus` values reported at startup (name, value).
pub(crate) fn server_parameters(info: &StartupInfo) -> Vec<(&'static str, String)> {
    vec![
        ("server_version", "15.0 (zqlite)".into()),
        ("server_encoding", "UTF8".into()),
        ("client_encoding", "UTF8".into()),
        ("DateStyle", "ISO, MDY".into()),
        ("IntervalStyle", "postgres".into()),
        ("TimeZone", "UTC".into()),
        ("integer_datetimes", "on".into()),
        ("standard_conforming_strings", "on".into()),
        ("is_superuser", "on".into()),
        ("session_authorization", info.user.clone()),
        ("application_name", info.application_name.clone()),
    ]
}

/// Sends the greeting that ends a successful startup.
pub(crate) fn greet(
    stream: &mut MessageStream,
    info: &StartupInfo,
    pid: i32,
    secret: i32,
) -> Result<()> {
    if info.minor_version > 0 || !info.protocol_options.is_empty() {
        stream.send(B::NegotiateProtocolVersion(NegotiateProtocolVersion::new(
            0,
            info.protocol_options.clone(),
        )))?;
    }
    stream.send(B::Authentication(Authentication::Ok))?;
    for (name, value) in server_parameters(info) {
        stream.send(B::ParameterStatus(ParameterStatus::new(
            name.to_string(),
            value,
        )))?;
    }
    stream.send(B::BackendKeyData(BackendKeyData::new(
        pid,
        SecretKey::I32(secret),
    )))?;
    stream.send(B::ReadyForQuery(ReadyForQuery::new(
        TransactionStatus::Idle,
    )))
}

/// Sends a FATAL error (the caller then closes the connection).
pub(crate) async fn fatal(stream: &mut MessageStream, code: &str, message: &str) -> Result<()> {
    stream.send(B::ErrorResponse(ErrorResponse::new(vec![
        (b'S', "FATAL".to_string()),
        (b'V', "FATAL".to_string()),
        (b'C', code.to_string()),
        (b'M', message.to_string()),
    ])))?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_give_settings_like_libpq_writes_them() {
        assert_eq!(
            option_value("-c zq.tenant=acme", TENANT).as_deref(),
            Some("acme")
        );
        assert_eq!(
            option_value("-c geqo=off --zq.tenant=a\\ b -czq.tenant=c", TENANT).as_deref(),
            Some("c")
        );
        assert_eq!(
            option_value("--ZQ.TENANT=a\\ b", TENANT).as_deref(),
            Some("a b")
        );
        assert_eq!(option_value("-c geqo=off", TENANT), None);
        assert_eq!(option_value("", TENANT), None);
    }
}
