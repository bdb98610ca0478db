//! [`Metrics`]: what the [`Instrumented`](crate::Instrumented) layer records, per command name.
//!
//! Counters are atomics; each command's latencies go into its own HDR histogram (1 µs to 1 hour, 3 significant
//! digits: bounded memory, real quantiles). Prometheus collectors are resolved once per command name and kept
//! beside the histogram, so recording a command is a map lookup and a few atomic adds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use redkit_resp::{Error, Value};

use crate::snapshot::{CommandSnapshot, SlowEntry, Snapshot};

/// Prometheus histogram buckets for command durations, in seconds (50 µs to 10 s).
const BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0,
];

/// How the layer records: slow-log threshold and size, and key redaction.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Commands at least this slow enter the slow log.
    pub slow_threshold: Duration,
    /// Most entries the slow log keeps (the oldest go first).
    pub slow_log_len: usize,
    /// Show keys in the slow log; when `false` they read `?`.
    pub log_keys: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            slow_threshold: Duration::from_millis(10),
            slow_log_len: 128,
            log_keys: false,
        }
    }
}

/// One command name's figures.
#[derive(Debug)]
struct CommandStats {
    count: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    latency: Mutex<Histogram<u64>>,
    ok_counter: prometheus::IntCounter,
    duration: prometheus::Histogram,
}

/// The Prometheus collectors, registered in a registry.
#[derive(Debug, Clone)]
struct Prom {
    commands: prometheus::IntCounterVec,
    duration: prometheus::HistogramVec,
    written: prometheus::IntCounter,
    read: prometheus::IntCounter,
    in_flight: prometheus::IntGauge,
    registry: prometheus::Registry,
}

impl Prom {
    fn new() -> Result<Prom, prometheus::Error> {
        let registry = prometheus::Registry::new();
        let commands = prometheus::IntCounterVec::new(
            prometheus::Opts::new("redkit_commands_total", "Commands sent, by command and outcome."),
            &["command", "status"],
        )?;
        let duration = prometheus::HistogramVec::new(
            prometheus::HistogramOpts::new(
                "redkit_command_duration_seconds",
                "Time from sending a command to its reply, by command.",
            )
            .buckets(BUCKETS.to_vec()),
            &["command"],
        )?;
        let written = prometheus::IntCounter::new("redkit_bytes_written_total", "Bytes of commands sent.")?;
        let read = prometheus::IntCounter::new("redkit_bytes_read_total", "Bytes of replies received.")?;
        let in_flight = prometheus::IntGauge::new("redkit_in_flight", "Commands sent and not yet answered.")?;
        registry.register(Box::new(commands.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(written.clone()))?;
        registry.register(Box::new(read.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        Ok(Prom {
            commands,
            duration,
            written,
            read,
            in_flight,
            registry,
        })
    }
}

/// What the instrumentation layer records. Cheap to clone (clones share the figures), so one `Metrics` can serve
/// several layers (a client and a pool, say).
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: MetricsConfig,
    commands: RwLock<HashMap<String, Arc<CommandStats>>>,
    written: AtomicU64,
    read: AtomicU64,
    in_flight: AtomicI64,
    slow: Mutex<VecDeque<SlowEntry>>,
    prom: Prom,
}

#[allow(clippy::expect_used)] // Constant bounds, valid for hdrhistogram: nothing at run time can make this fail.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(MetricsConfig::default())
    }
}

impl Metrics {
    /// Empty figures.
    #[allow(clippy::expect_used)] // Fixed metric names and labels that Prometheus accepts: cannot fail.
    pub fn new(config: MetricsConfig) -> Metrics {
        Metrics {
            inner: Arc::new(Inner {
                config,
                commands: RwLock::new(HashMap::new()),
                written: AtomicU64::new(0),
                read: AtomicU64::new(0),
                in_flight: AtomicI64::new(0),
                slow: Mutex::new(VecDeque::new()),
                prom: Prom::new().expect("valid Prometheus metric definitions"),
            }),
        }
    }

    /// The Prometheus registry holding `redkit_commands_total`, `redkit_command_duration_seconds`,
    /// `redkit_bytes_{written,read}_total` and `redkit_in_flight`. Register more collectors in it (a pool's
    /// gauges, say) or gather it into another exposition.
    pub fn registry(&self) -> &prometheus::Registry {
        &self.inner.prom.registry
    }

    /// Export a connection pool's figures (`redkit_pool_connections{pool,state}`, `redkit_pool_max_connections`,
    /// `redkit_pool_waiters`, `redkit_pool_connections_{created,closed}_total`,
    /// `redkit_pool_acquire_timeouts_total`), labelled `pool="<name>"`, read from `figures` at each scrape. Fails if
    /// a pool of that name is already observed.
    pub fn observe_pool(
        &self,
        pool: &str,
        figures: impl Fn() -> crate::PoolFigures + Send + Sync + 'static,
    ) -> prometheus::Result<()> {
        let collector = crate::pool::PoolCollector::new(pool, Box::new(figures))?;
        self.inner.prom.registry.register(Box::new(collector))
    }

    /// The Prometheus text exposition of the registry (what a `/metrics` endpoint serves).
    pub fn prometheus_text(&self) -> String {
        let families = self.inner.prom.registry.gather();
        let mut out = String::new();
        // Encoding into a String cannot fail for well-formed families.
        let _ = prometheus::TextEncoder::new().encode_utf8(&families, &mut out);
        out
    }

    fn stats(&self, name: &str) -> Arc<CommandStats> {
        if let Some(s) = self
            .inner
            .commands
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
        {
            return s.clone();
        }
        let mut map = self
            .inner
            .commands
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(name.to_owned())
            .or_insert_with(|| {
                let prom = &self.inner.prom;
                Arc::new(CommandStats {
                    count: AtomicU64::new(0),
                    errors: Mutex::new(BTreeMap::new()),
                    latency: Mutex::new(new_histogram()),
                    ok_counter: prom.commands.with_label_values(&[name, "ok"]),
                    duration: prom.duration.with_label_values(&[name]),
                })
            })
            .clone()
    }

    /// A command was sent.
    pub(crate) fn started(&self, bytes: usize) {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        self.inner.prom.in_flight.inc();
        self.inner.written.fetch_add(bytes as u64, Ordering::Relaxed);
        self.inner.prom.written.inc_by(bytes as u64);
    }

    /// A command (or pipeline, under the name `PIPELINE`) finished.
    pub(crate) fn finished(
        &self,
        name: &str,
        key: Option<&[u8]>,
        took: Duration,
        outcome: Result<usize, &Error>,
    ) {
        self.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.inner.prom.in_flight.dec();
        self.record(name, took, outcome.map_err(error_class));
        if let Ok(bytes) = outcome {
            self.inner.read.fetch_add(bytes as u64, Ordering::Relaxed);
            self.inner.prom.read.inc_by(bytes as u64);
        }
        if took >= self.inner.config.slow_threshold && self.inner.config.slow_log_len > 0 {
            let key = key.map(|k| {
                if self.inner.config.log_keys {
                    String::from_utf8_lossy(k).into_owned()
                } else {
                    "?".to_owned()
                }
            });
            let mut slow = lock(&self.inner.slow);
            slow.push_back(SlowEntry {
                command: name.to_owned(),
                key,
                micros: u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
                at_unix_ms: SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            });
            while slow.len() > self.inner.config.slow_log_len {
                slow.pop_front();
            }
        }
    }

    /// Record one outcome: `Ok(())` or the error class.
    pub(crate) fn record(&self, name: &str, took: Duration, outcome: Result<usize, String>) {
        let stats = self.stats(name);
        stats.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        {
            let mut h = lock(&stats.latency);
            let high = h.high();
            let _ = h.record(micros.min(high));
        }
        stats.duration.observe(took.as_secs_f64());
        match outcome {
            Ok(_) => stats.ok_counter.inc(),
            Err(class) => {
                self.inner.prom.commands.with_label_values(&[name, &class]).inc();
                *lock(&stats.errors).entry(class).or_insert(0) += 1;
            }
        }
    }

    /// Every figure, for JSON (through `serde`) or inspection.
    pub fn snapshot(&self) -> Snapshot {
        let map = self.inner.commands.read().unwrap_or_else(PoisonError::into_inner);
        let mut commands: BTreeMap<String, CommandSnapshot> = BTreeMap::new();
        for (name, s) in map.iter() {
            let h = lock(&s.latency);
            let q = |p: f64| if h.is_empty() { 0 } else { h.value_at_quantile(p) };
            let errors = lock(&s.errors).clone();
            commands.insert(
                name.clone(),
                CommandSnapshot {
                    count: s.count.load(Ordering::Relaxed),
                    errors,
                    p50_us: q(0.5),
                    p90_us: q(0.9),
                    p99_us: q(0.99),
                    p999_us: q(0.999),
                    max_us: h.max(),
                    mean_us: h.mean(),
                },
            );
        }
        Snapshot {
            commands,
            bytes_written: self.inner.written.load(Ordering::Relaxed),
            bytes_read: self.inner.read.load(Ordering::Relaxed),
            in_flight: self.inner.in_flight.load(Ordering::Relaxed),
            slow_log: lock(&self.inner.slow).iter().rev().cloned().collect(),
        }
    }

    /// The slow log, newest first.
    pub fn slow_log(&self) -> Vec<SlowEntry> {
        lock(&self.inner.slow).iter().rev().cloned().collect()
    }
}

/// The `status` label of a failed command: the server's error code (`WRONGTYPE`, `ERR`, …) or the client-side
/// failure (`timeout`, `io`, …).
pub(crate) fn error_class(e: &Error) -> String {
    match e {
        Error::Server { error, .. } => error.code().to_owned(),
        Error::Conversion { .. } => "conversion".into(),
        Error::Protocol(_) => "protocol".into(),
        Error::Io { .. } => "io".into(),
        Error::Timeout { .. } => "timeout".into(),
        Error::ConnectionLost { .. } => "connection_lost".into(),
        Error::WatchAborted { .. } => "watch_aborted".into(),
        Error::Config(_) => "config".into(),
        Error::Closed => "closed".into(),
        _ => "other".into(),
    }
}

/// The size of a reply as RESP2 puts it on the wire (RESP3-only types counted as their RESP3 form).
pub(crate) fn reply_size(v: &Value) -> usize {
    fn digits(n: usize) -> usize {
        n.checked_ilog10().map_or(1, |d| d as usize + 1)
    }
    match v {
        Value::BulkString(b) => 1 + digits(b.len()) + 2 + b.len() + 2,
        Value::SimpleString(s) | Value::Error(s) => 1 + s.len() + 2,
        Value::Integer(i) => 1 + i.to_string().len() + 2,
        Value::Null => 5,
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            1 + digits(items.len()) + 2 + items.iter().map(reply_size).sum::<usize>()
        }
        Value::Map(pairs) => {
            1 + digits(pairs.len())
                + 2
                + pairs
                    .iter()
                    .map(|(k, v)| reply_size(k) + reply_size(v))
                    .sum::<usize>()
        }
        other => format!("{other:?}").len() + 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_a_known_distribution() {
        let m = Metrics::default();
        // 1..=10_000 µs, once each: the p-quantile is p × 10,000 µs (within the histogram's 0.1%).
        for us in 1..=10_000u64 {
            m.record("GET", Duration::from_micros(us), Ok(0));
        }
        let s = m.snapshot();
        let get = &s.commands["GET"];
        assert_eq!(get.count, 10_000);
        for (got, want) in [
            (get.p50_us, 5_000),
            (get.p90_us, 9_000),
            (get.p99_us, 9_900),
            (get.p999_us, 9_990),
        ] {
            let err = (got as f64 - want as f64).abs() / want as f64;
            assert!(err < 0.002, "got {got} µs, want {want} µs");
        }
        assert!((get.mean_us - 5_000.5).abs() < 10.0, "{}", get.mean_us);
        // A skewed one: 99% fast, 1% slow — the p99.9 sees the slow tail, the median does not.
        for i in 0..10_000u64 {
            let us = if i % 100 == 0 { 50_000 } else { 100 };
            m.record("SET", Duration::from_micros(us), Ok(0));
        }
        let set = &m.snapshot().commands["SET"];
        assert_eq!(set.p50_us, 100);
        assert!(set.p999_us >= 49_950, "{}", set.p999_us);
    }

    #[test]
    fn errors_are_counted_by_class() {
        let m = Metrics::default();
        m.record("INCR", Duration::from_micros(5), Err("WRONGTYPE".into()));
        m.record("INCR", Duration::from_micros(5), Err("WRONGTYPE".into()));
        m.record("INCR", Duration::from_micros(5), Err("timeout".into()));
        m.record("INCR", Duration::from_micros(5), Ok(4));
        let incr = &m.snapshot().commands["INCR"];
        assert_eq!(incr.count, 4);
        assert_eq!(incr.errors.get("WRONGTYPE"), Some(&2));
        assert_eq!(incr.errors.get("timeout"), Some(&1));
    }

    #[test]
    fn reply_sizes_match_the_wire() {
        let mut buf = bytes::BytesMut::new();
        let v = Value::Array(vec![
            Value::bulk("hello"),
            Value::Integer(-42),
            Value::Null,
            Value::simple("OK"),
        ]);
        redkit_resp::encode_value(&v, redkit_resp::RespVersion::Resp2, &mut buf);
        assert_eq!(reply_size(&v), buf.len());
    }
}
