//! Latency of the log's `fdatasync` calls, as a cumulative histogram (the shape Prometheus
//! expects), kept with relaxed atomics so the writer thread never waits to record one.
//!
//! Invariants: `count` equals the sum of all bucket hits; bucket bounds are fixed and
//! ascending, and [`SyncLatency::snapshot`] reports cumulative counts (each bucket includes
//! the ones below it), ending with the `+Inf` bucket equal to `count`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the histogram buckets, in seconds (`+Inf` is implied).
pub const SYNC_BUCKETS: [f64; 11] = [
    0.000_25, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0,
];

/// Counts of sync durations per bucket (non-cumulative while recording).
#[derive(Debug, Default)]
pub(crate) struct SyncLatency {
    buckets: [AtomicU64; SYNC_BUCKETS.len() + 1],
    count: AtomicU64,
    micros: AtomicU64,
}

/// A copy of the histogram: cumulative counts per bucket bound, then totals.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStats {
    /// `(upper bound in seconds, syncs that took at most that long)`, ascending; the last
    /// bound is `f64::INFINITY`.
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl SyncLatency {
    pub(crate) fn record(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = SYNC_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(SYNC_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> SyncStats {
        let mut cumulative = 0;
        let bounds = SYNC_BUCKETS.iter().copied().chain([f64::INFINITY]);
        let buckets = bounds
            .zip(&self.buckets)
            .map(|(bound, hits)| {
                cumulative += hits.load(Ordering::Relaxed);
                (bound, cumulative)
            })
            .collect();
        SyncStats {
            buckets,
            count: cumulative,
            sum_seconds: self.micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_with_the_count() {
        let h = SyncLatency::default();
        for micros in [100, 300, 300, 4_000, 2_000_000] {
            h.record(Duration::from_micros(micros));
        }
        let s = h.snapshot();
        assert_eq!(s.count, 5);
        assert_eq!(s.buckets[0], (0.000_25, 1));
        assert_eq!(s.buckets[1], (0.000_5, 3));
        assert_eq!(s.buckets[4], (0.005, 4));
        assert_eq!(s.buckets[10], (1.0, 4));
        assert_eq!(*s.buckets.last().unwrap(), (f64::INFINITY, 5));
        assert!((s.sum_seconds - 2.0047).abs() < 1e-9);
    }
}
