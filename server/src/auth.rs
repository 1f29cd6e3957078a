//! Client authentication: trust on loopback until roles exist, SCRAM-SHA-256 after.
//!
//! - No role configured: loopback clients are trusted under any role name; other hosts are
//!   refused (28000), since nobody could prove who they are.
//! - Once any role exists (`CREATE ROLE name LOGIN PASSWORD '...'`), every client, loopback
//!   included, logs in with SCRAM-SHA-256 as a role that exists, may log in and has a
//!   password. A wrong password, an unknown role and a role without a password all fail the
//!   same way (28P01 `password authentication failed for user "..."`), and an unknown role
//!   still goes through a whole exchange, so a client cannot probe which roles exist. A role
//!   with NOLOGIN gets 28000.
//! - The exchange itself is `zqlite_query::scram`; this module moves its messages.

use std::net::SocketAddr;

use bytes::Bytes;
use pgwire::messages::PgWireBackendMessage as B;
use pgwire::messages::PgWireFrontendMessage as F;
use pgwire::messages::startup::Authentication;
use zqlite_projections::catalog::Catalog;
use zqlite_query::scram::{ScramError, ServerExchange, Verifier};

use crate::error::{Error, Result};
use crate::framing::MessageStream;

const MECHANISM: &str = "SCRAM-SHA-256";

/// A refused login: SQLSTATE and message for the FATAL error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub message: String,
}

/// Authenticates `user` connecting from `peer`; `Ok(Err(..))` is a refusal to report.
pub(crate) async fn authenticate(
    stream: &mut MessageStream,
    catalog: &Catalog,
    user: &str,
    peer: Option<SocketAddr>,
) -> Result<std::result::Result<(), Refusal>> {
    if catalog.roles().next().is_none() {
        if peer.is_some_and(|p| p.ip().is_loopback()) {
            return Ok(Ok(()));
        }
        return Ok(Err(Refusal {
            code: "28000",
            message: format!(
                "no trust entry for host \"{}\", user \"{user}\": only loopback clients may \
                 connect until a role with a password exists",
                peer.map_or_else(|| "unknown".to_string(), |p| p.ip().to_string())
            ),
        }));
    }
    let role = catalog.role(user);
    let verifier = role
        .and_then(|r| r.password.as_deref())
        .and_then(Verifier::parse);
    let known = verifier.is_some();
    // A stand-in for unknown roles, so the exchange looks the same and then fails.
    let verifier = verifier.unwrap_or_else(Verifier::matching_nothing);
    let failed = || Refusal {
        code: "28P01",
        message: format!("password authentication failed for user \"{user}\""),
    };

    stream.send(B::Authentication(Authentication::SASL(vec![
        MECHANISM.to_string(),
    ])))?;
    stream.flush().await?;
    let initial = match next_password_message(stream).await? {
        Some(p) => p
            .into_sasl_initial_response()
            .map_err(|e| Error::Protocol(format!("bad SASLInitialResponse: {e}")))?,
        None => return Ok(Err(failed())),
    };
    if initial.auth_method != MECHANISM {
        return Ok(Err(Refusal {
            code: "28000",
            message: format!(
                "SASL authentication mechanism {} is not supported",
                initial.auth_method
            ),
        }));
    }
    let client_first = text(initial.data.as_deref().unwrap_or_default())?;
    let (exchange, server_first) = match ServerExchange::start(verifier, client_first) {
        Ok(started) => started,
        Err(e) => return Err(Error::Protocol(e.to_string())),
    };
    stream.send(B::Authentication(Authentication::SASLContinue(
        Bytes::from(server_first),
    )))?;
    stream.flush().await?;
    let response = match next_password_message(stream).await? {
        Some(p) => p
            .into_sasl_response()
            .map_err(|e| Error::Protocol(format!("bad SASLResponse: {e}")))?,
        None => return Ok(Err(failed())),
    };
    let server_final = match exchange.finish(text(&response.data)?) {
        Ok(server_final) if known => server_final,
        Ok(_) | Err(ScramError::WrongPassword) => return Ok(Err(failed())),
        Err(e @ ScramError::Malformed(_)) => return Err(Error::Protocol(e.to_string())),
    };
    if role.is_some_and(|r| !r.login) {
        return Ok(Err(Refusal {
            code: "28000",
            message: format!("role \"{user}\" is not permitted to log in"),
        }));
    }
    stream.send(B::Authentication(Authentication::SASLFinal(Bytes::from(
        server_final,
    ))))?;
    Ok(Ok(()))
}

async fn next_password_message(
    stream: &mut MessageStream,
) -> Result<Option<pgwire::messages::startup::PasswordMessageFamily>> {
    match stream.next().await? {
        Some(F::PasswordMessageFamily(p)) => Ok(Some(p)),
        // The client gave up (psql asks for a password, then hangs up when there is none).
        None => Ok(None),
        Some(other) => Err(Error::Protocol(format!(
            "expected a SASL response, got {other:?}"
        ))),
    }
}

fn text(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| Error::Protocol("SCRAM message is not UTF-8".into()))
}
