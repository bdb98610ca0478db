//! Pool counters and the acquire-latency histogram, and the [`Status`] snapshot made of them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Counters shared by the pool, its manager and its reaper.
#[derive(Debug)]
pub(crate) struct Stats {
    created: AtomicU64,
    recycled: AtomicU64,
    discarded: AtomicU64,
    timeouts: AtomicU64,
    /// Acquire latency in microseconds, 1 µs to 1 hour at 3 significant digits (bounded memory).
    acquire: Mutex<Histogram<u64>>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            created: AtomicU64::new(0),
            recycled: AtomicU64::new(0),
            discarded: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            acquire: Mutex::new(new_histogram()),
        }
    }
}

#[allow(clippy::expect_used)] // Constant bounds, valid for hdrhistogram: nothing at run time can make this fail.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

impl Stats {
    pub(crate) fn created(&self) {
        self.created.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn recycled(&self) {
        self.recycled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn discarded(&self) {
        self.discarded.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn discarded_n(&self, n: usize) {
        self.discarded.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn timed_out(&self) {
        self.timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn acquired(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut h = self
            .acquire
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Out of range (over an hour): saturate rather than lose the sample.
        let high = h.high();
        let _ = h.record(micros.min(high));
    }

    pub(crate) fn snapshot(&self, status: deadpool::Status) -> Status {
        let h = self
            .acquire
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let q = |p: f64| Duration::from_micros(if h.is_empty() { 0 } else { h.value_at_quantile(p) });
        Status {
            max_size: status.max_size,
            size: status.size,
            idle: status.available,
            in_use: status.size.saturating_sub(status.available),
            waiters: status.waiting,
            created: self.created.load(Ordering::Relaxed),
            recycled: self.recycled.load(Ordering::Relaxed),
            discarded: self.discarded.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            acquires: h.len(),
            acquire_p50: q(0.5),
            acquire_p90: q(0.9),
            acquire_p99: q(0.99),
            acquire_p999: q(0.999),
        }
    }
}

/// A snapshot of a pool: sizes, lifetime counters, and acquire-latency percentiles (from an HDR histogram, so
/// they are real quantiles, not averages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The size limit.
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open and not in use.
    pub idle: usize,
    /// Handed out now.
    pub in_use: usize,
    /// Callers waiting for a connection.
    pub waiters: usize,
    /// Connections ever opened.
    pub created: u64,
    /// Connections checked and handed out again.
    pub recycled: u64,
    /// Connections closed by the pool: dirty, broken, failed validation, idle too long or too old.
    pub discarded: u64,
    /// Acquires that gave up after the acquire timeout.
    pub timeouts: u64,
    /// Successful acquires measured.
    pub acquires: u64,
    /// Median time to acquire.
    pub acquire_p50: Duration,
    /// 90th percentile.
    pub acquire_p90: Duration,
    /// 99th percentile.
    pub acquire_p99: Duration,
    /// 99.9th percentile.
    pub acquire_p999: Duration,
}
