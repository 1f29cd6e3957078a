//! [`AppState`]: what every handler shares: the database, the counters, the settings and
//! the shutdown token that ends subscriptions.

use std::sync::Arc;

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

/// Who wrote a record through the HTTP API, for audit.
pub fn meta(request: &str) -> TxMeta {
    TxMeta {
        user: "http".into(),
        application_name: Some("zqlite-http".into()),
        statements: vec![request.to_string()],
        ..TxMeta::default()
    }
}
