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

/// Runs per measurement: `REDKIT_BENCH_RUNS` (what `cargo xtask bench --runs N` sets), else `default`.
pub fn runs(default: usize) -> usize {
    std::env::var("REDKIT_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|r| *r > 0)
        .unwrap_or(default)
}

/// The median of some figures.
pub fn median_of(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Tasks of the concurrent workload.
pub const TASKS: usize = 64;
/// Operations per task.
pub const OPS_PER_TASK: usize = 2_000;

/// The concurrent workload: [`TASKS`] tasks, each alternating SET and GET of 16-byte values over 100 keys of its
/// own ([`OPS_PER_TASK`] operations), through `exec`.
pub async fn concurrent_set_get(exec: std::sync::Arc<dyn redkit::DynExecutor>, prefix: &str) -> Sample {
    use redkit::prelude::StringCommands;
    const VALUE: &[u8; 16] = b"0123456789abcdef";
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let exec = exec.clone();
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            for i in 0..OPS_PER_TASK {
                let key = format!("{prefix}:{t}:{}", i % 100);
                let start = std::time::Instant::now();
                if i % 2 == 0 {
                    StringCommands::set(&exec, key, &VALUE[..]).await.unwrap();
                } else {
                    let _: Option<bytes::Bytes> = StringCommands::get(&exec, key).await.unwrap();
                }
                h.record(micros(start.elapsed())).unwrap();
            }
            h
        }));
    }
    let mut all = histogram();
    for t in tasks {
        all.add(t.await.unwrap()).unwrap();
    }
    sample(TASKS * OPS_PER_TASK, started.elapsed(), &all)
}
