//! Counters of the HTTP and PostgreSQL servers and `GET /metrics` in the Prometheus text
//! format (0.0.4), with the store's commit count and the log's sync latency histogram.
//!
//! Counters only go up; `open_connections` and `pg_connections` are gauges kept by the
//! listeners (a connection counts from accept until its socket is dropped).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use zqlite_log::SyncStats;
use zqlite_projections::Store;

/// The HTTP server's counters. See the module documentation.
#[derive(Debug, Default)]
pub struct Metrics {
    pub open_connections: AtomicU64,
    pub requests: AtomicU64,
    pub append_requests: AtomicU64,
    pub events_appended: AtomicU64,
    pub append_micros: AtomicU64,
    pub sql_statements: AtomicU64,
    pub sql_micros: AtomicU64,
    pub subscribers: AtomicU64,
    pub subscribers_dropped: AtomicU64,
    /// PostgreSQL protocol sessions open now (kept by [`crate::PgServer`]).
    pub pg_connections: AtomicU64,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Metrics {
    pub fn appended(&self, events: u64, took: Duration) {
        self.append_requests.fetch_add(1, Ordering::Relaxed);
        self.events_appended.fetch_add(events, Ordering::Relaxed);
        self.append_micros
            .fetch_add(micros(took), Ordering::Relaxed);
    }

    pub fn statement(&self, took: Duration) {
        self.sql_statements.fetch_add(1, Ordering::Relaxed);
        self.sql_micros.fetch_add(micros(took), Ordering::Relaxed);
    }

    /// The Prometheus text exposition of these counters and of the store.
    pub fn render(&self, store: &Store) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let seconds = |c: &AtomicU64| get(c) as f64 / 1e6;
        let snapshot = store.snapshot();
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "zqlite_commits_total",
            "counter",
            "Committed transactions (log records) readable now.",
            snapshot.lsn().to_string(),
        );
        metric(
            "zqlite_events_total",
            "counter",
            "Events ever appended (the next global position).",
            snapshot.events().next_position().to_string(),
        );
        metric(
            "zqlite_http_requests_total",
            "counter",
            "HTTP requests received.",
            get(&self.requests).to_string(),
        );
        metric(
            "zqlite_http_open_connections",
            "gauge",
            "HTTP connections open now.",
            get(&self.open_connections).to_string(),
        );
        metric(
            "zqlite_http_appends_total",
            "counter",
            "Successful append requests (each durable before its answer).",
            get(&self.append_requests).to_string(),
        );
        metric(
            "zqlite_http_appended_events_total",
            "counter",
            "Events appended through the HTTP API.",
            get(&self.events_appended).to_string(),
        );
        metric(
            "zqlite_http_append_seconds_sum",
            "counter",
            "Total time of successful appends, including the log's sync.",
            seconds(&self.append_micros).to_string(),
        );
        metric(
            "zqlite_http_sql_statements_total",
            "counter",
            "POST /v1/sql requests answered.",
            get(&self.sql_statements).to_string(),
        );
        metric(
            "zqlite_http_sql_seconds_sum",
            "counter",
            "Total time of POST /v1/sql requests.",
            seconds(&self.sql_micros).to_string(),
        );
        metric(
            "zqlite_http_subscribers",
            "gauge",
            "Subscriptions open now.",
            get(&self.subscribers).to_string(),
        );
        metric(
            "zqlite_http_subscribers_dropped_total",
            "counter",
            "Subscriptions dropped for not keeping up.",
            get(&self.subscribers_dropped).to_string(),
        );
        metric(
            "zqlite_pg_open_connections",
            "gauge",
            "PostgreSQL protocol sessions open now.",
            get(&self.pg_connections).to_string(),
        );
        render_sync_histogram(&mut out, &store.log().sync_stats());
        out
    }
}

/// The log's sync latency as a Prometheus histogram.
fn render_sync_histogram(out: &mut String, stats: &SyncStats) {
    let name = "zqlite_log_fsync_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Time of each log sync (fdatasync) that made a batch of commits durable.\n\
         # TYPE {name} histogram"
    );
    for (bound, count) in &stats.buckets {
        let le = if bound.is_infinite() {
            "+Inf".to_string()
        } else {
            bound.to_string()
        };
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_sum {}", stats.sum_seconds);
    let _ = writeln!(out, "{name}_count {}", stats.count);
}
