//! Benchmarks of redkit against other Redis crates; see `benches/` and `cargo xtask bench`.
//!
//! What the self-reporting harnesses share: latency histograms and the samples made of them.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hdrhistogram::Histogram;

/// One run of a workload: throughput and latency percentiles.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Operations per second.
    pub ops_per_sec: f64,
    /// Median latency, µs.
    pub p50_us: f64,
    /// 99th percentile latency, µs.
    pub p99_us: f64,
}

/// A latency histogram: 1 µs to 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

/// The sample for `ops` operations that took `elapsed`, with latencies in `h`.
pub fn sample(ops: usize, elapsed: Duration, h: &Histogram<u64>) -> Sample {
    Sample {
        ops_per_sec: ops as f64 / elapsed.as_secs_f64(),
        p50_us: h.value_at_quantile(0.50) as f64,
        p99_us: h.value_at_quantile(0.99) as f64,
    }
}

/// Whole microseconds, at least 1 (the histogram's lowest value).
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// The run with the median throughput.
pub fn median(mut runs: Vec<Sample>) -> Sample {
    runs.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
    runs[runs.len() / 2]
}
