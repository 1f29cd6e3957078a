//! [`AppState`]: what every handler shares: the database, the counters, the settings and
//! the shutdown token that ends subscriptions.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use tokio_util::sync::CancellationToken;
use zqlite_projections::{PendingCommit, Store, TxMeta};
use zqlite_query::Database;

use super::config::HttpConfig;
use super::error::ApiError;
use super::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Database,
    pub metrics: Arc<Metrics>,
    pub config: Arc<HttpConfig>,
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn store(&self) -> &Store {
        self.db.store()
    }

    /// Runs a write on the store off the async runtime (it takes the committer's lock),
    /// then waits, asynchronously, until its record is durable and published.
    pub async fn write<R: Send + 'static>(
        &self,
        write: impl FnOnce(&Store) -> zqlite_projections::Result<(R, PendingCommit)> + Send + 'static,
    ) -> Result<R, ApiError> {
        let db = self.db.clone();
        let (result, pending) = tokio::task::spawn_blocking(move || write(db.store()))
            .await
            .map_err(|e| ApiError::internal(format!("the write task failed: {e}")))??;
        self.store().durable(pending).await?;
        Ok(result)
    }
}

impl AppState {
    /// Like [`AppState::write`], for writes through the query layer (appends, which run
    /// the inline projections).
    pub async fn write_sql<R: Send + 'static>(
        &self,
        write: impl FnOnce(&Database) -> zqlite_query::Result<(R, PendingCommit)> + Send + 'static,
    ) -> Result<R, ApiError> {
        let db = self.db.clone();
        let (result, pending) = tokio::task::spawn_blocking(move || write(&db))
            .await
            .map_err(|e| ApiError::internal(format!("the write task failed: {e}")))??;
        self.store().durable(pending).await?;
        Ok(result)
    }
}

/// The HTTP client's address (the server records it: see `server.rs`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Who sent a request, as the log records it with what the request commits: the client's
/// address, the tenant from the `zq-tenant` header and the application from the
/// `zq-application-name` header (default `zqlite-http`). Extracting it never fails.
#[derive(Debug, Clone, Default)]
pub struct Who {
    pub client_addr: Option<String>,
    pub tenant: Option<String>,
    pub application_name: Option<String>,
}

/// The request header naming the tenant.
pub const TENANT_HEADER: &str = "zq-tenant";
/// The request header naming the application.
pub const APPLICATION_HEADER: &str = "zq-application-name";

impl<S: Send + Sync> FromRequestParts<S> for Who {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Who, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Ok(Who {
            client_addr: parts
                .extensions
                .get::<ConnectInfo<ClientAddr>>()
                .map(|c| c.0.0.ip().to_string()),
            tenant: header(TENANT_HEADER),
            application_name: header(APPLICATION_HEADER),
        })
    }
}

impl Who {
    pub fn application_name(&self) -> String {
        self.application_name
            .clone()
            .unwrap_or_else(|| "zqlite-http".into())
    }
}

/// Who wrote a record through the HTTP API, for audit.
pub fn meta(request: &str, who: &Who) -> TxMeta {
    TxMeta {
        user: "http".into(),
        tenant: who.tenant.clone(),
        application_name: Some(who.application_name()),
        client_addr: who.client_addr.clone(),
        statements: vec![request.to_string()],
        ..TxMeta::default()
    }
}
