//! [`Snapshot`]: every figure at one moment, serializable with `serde` (JSON for a status endpoint, say).

use std::collections::BTreeMap;

use serde::Serialize;

/// All figures of a [`Metrics`](crate::Metrics).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Snapshot {
    /// Per command name (`PIPELINE` for pipelines).
    pub commands: BTreeMap<String, CommandSnapshot>,
    /// Bytes of commands sent.
    pub bytes_written: u64,
    /// Bytes of replies received.
    pub bytes_read: u64,
    /// Commands sent and not yet answered.
    pub in_flight: i64,
    /// The slow log, newest first.
    pub slow_log: Vec<SlowEntry>,
}

/// One command name's figures. Latency percentiles come from an HDR histogram (2 significant digits: within
/// 1%; latencies over 60 s count as 60 s).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CommandSnapshot {
    /// Times sent.
    pub count: u64,
    /// Failures by class: the server's error code (`WRONGTYPE`, `ERR`, …) or `timeout`, `io`, `connection_lost`…
    pub errors: BTreeMap<String, u64>,
    /// Median latency, µs.
    pub p50_us: u64,
    /// 90th percentile, µs.
    pub p90_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// 99.9th percentile, µs.
    pub p999_us: u64,
    /// Slowest, µs.
    pub max_us: u64,
    /// Mean, µs.
    pub mean_us: f64,
}

/// A command that took at least the slow threshold.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SlowEntry {
    /// The command name.
    pub command: String,
    /// Its first key (or `?` when keys are redacted; `None` for commands without arguments).
    pub key: Option<String>,
    /// How long it took, µs.
    pub micros: u64,
    /// When it finished, Unix time in milliseconds.
    pub at_unix_ms: u64,
}
