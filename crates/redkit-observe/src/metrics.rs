//! [`Metrics`]: what the [`Instrumented`](crate::Instrumented) layer records, per command name.
//!
//! The hot path is small on purpose: one map lookup under a read lock, one short critical section per command
//! (its HDR histogram — 1 µs to 60 s, 2 significant digits: about 20 KiB, real quantiles within 1% — its count
//! and its error classes, in a stripe of its own per recording thread, so threads do not queue on one lock), and
//! three shared atomics (bytes written, bytes read, in flight). Everything Prometheus shows is
//! derived from those at scrape time by a collector ([`CommandCollector`]), histogram buckets included, so no
//! second set of counters is kept in step on every command.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use prometheus::core::{Collector, Desc};
use prometheus::proto::{self, LabelPair, MetricFamily, MetricType};
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

/// One command name's figures, updated together under one lock.
#[derive(Debug)]
struct CommandCell {
    count: u64,
    errors: BTreeMap<String, u64>,
    latency: Histogram<u64>,
}

impl CommandCell {
    fn new() -> CommandCell {
        CommandCell {
            count: 0,
            errors: BTreeMap::new(),
            latency: new_histogram(),
        }
    }

    fn merge(&mut self, other: &CommandCell) {
        self.count += other.count;
        for (class, n) in &other.errors {
            *self.errors.entry(class.clone()).or_insert(0) += n;
        }
        // Same bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }
}

/// Stripes per command: each thread records into its own, so threads do not queue on one lock; readers merge.
const STRIPES: usize = 8;

/// A command's figures, striped by recording thread.
#[derive(Debug)]
struct CommandStats {
    stripes: [Mutex<CommandCell>; STRIPES],
}

impl CommandStats {
    fn new() -> CommandStats {
        CommandStats {
            stripes: std::array::from_fn(|_| Mutex::new(CommandCell::new())),
        }
    }

    /// This thread's stripe.
    fn mine(&self) -> &Mutex<CommandCell> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static STRIPE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
        }
        &self.stripes[STRIPE.with(|s| *s)]
    }

    /// All stripes merged.
    fn merged(&self) -> CommandCell {
        let mut all = CommandCell::new();
        for stripe in &self.stripes {
            all.merge(&lock(stripe));
        }
        all
    }
}

/// What a [`Metrics`] holds.
#[derive(Debug)]
struct Inner {
    config: MetricsConfig,
    /// By command name: looked up once per command, so a fast hash of the short name.
    commands: RwLock<rustc_hash::FxHashMap<String, Arc<CommandStats>>>,
    written: AtomicU64,
    read: AtomicU64,
    in_flight: AtomicI64,
    slow: Mutex<VecDeque<SlowEntry>>,
}

/// What the instrumentation layer records. Cheap to clone (clones share the figures), so one `Metrics` can serve
/// several layers (a client and a pool, say).
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
    registry: prometheus::Registry,
}

/// Latencies from 1 µs to 60 s (longer ones count as 60 s) at 2 significant digits: quantiles within 1%, in about
/// 20 KiB per histogram.
#[allow(clippy::expect_used)] // Constant bounds, valid for hdrhistogram: nothing at run time can make this fail.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 2).expect("valid histogram bounds")
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
    /// Empty figures, with a Prometheus registry that exports them.
    #[allow(clippy::expect_used)] // Fixed metric names and labels that Prometheus accepts: cannot fail.
    pub fn new(config: MetricsConfig) -> Metrics {
        let inner = Arc::new(Inner {
            config,
            commands: RwLock::new(Default::default()),
            written: AtomicU64::new(0),
            read: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
            slow: Mutex::new(VecDeque::new()),
        });
        let registry = prometheus::Registry::new();
        registry
            .register(Box::new(
                CommandCollector::new(inner.clone()).expect("valid Prometheus metric definitions"),
            ))
            .expect("a fresh registry accepts the collector");
        Metrics { inner, registry }
    }

    /// The Prometheus registry holding `redkit_commands_total{command,status}`,
    /// `redkit_command_duration_seconds{command}`, `redkit_bytes_{written,read}_total` and `redkit_in_flight`.
    /// Register more collectors in it, or gather it into another exposition.
    pub fn registry(&self) -> &prometheus::Registry {
        &self.registry
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
        self.registry.register(Box::new(collector))
    }

    /// Export a cache's counters (`redkit_cache_lookups_total{cache,result}`, `redkit_cache_loads_total{cache,status}`),
    /// read from `figures` at each scrape. Fails if a cache of that name is already observed.
    pub fn observe_cache(
        &self,
        cache: &str,
        figures: impl Fn() -> crate::CacheFigures + Send + Sync + 'static,
    ) -> prometheus::Result<()> {
        let collector = crate::cache::CacheCollector::new(cache, Box::new(figures))?;
        self.registry.register(Box::new(collector))
    }

    /// The Prometheus text exposition of the registry (what a `/metrics` endpoint serves).
    pub fn prometheus_text(&self) -> String {
        let families = self.registry.gather();
        let mut out = String::new();
        // Encoding into a String cannot fail for well-formed families.
        let _ = prometheus::TextEncoder::new().encode_utf8(&families, &mut out);
        out
    }

    /// A command was sent.
    pub(crate) fn started(&self, bytes: usize) {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        self.inner.written.fetch_add(bytes as u64, Ordering::Relaxed);
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
        if let Ok(bytes) = outcome {
            self.inner.read.fetch_add(bytes as u64, Ordering::Relaxed);
        }
        self.record(name, took, outcome.map_err(error_class));
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

    /// Record one outcome: `Ok(reply bytes)` or the error class.
    pub(crate) fn record(&self, name: &str, took: Duration, outcome: Result<usize, String>) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        let apply = |stats: &CommandStats| {
            let mut c = lock(stats.mine());
            c.count += 1;
            let high = c.latency.high();
            let _ = c.latency.record(micros.min(high));
            if let Err(class) = &outcome {
                *c.errors.entry(class.clone()).or_insert(0) += 1;
            }
        };
        {
            let map = self.inner.commands.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(cell) = map.get(name) {
                apply(cell);
                return;
            }
        }
        let mut map = self
            .inner
            .commands
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let stats = map
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(CommandStats::new()));
        apply(stats);
    }

    /// Every figure, for JSON (through `serde`) or inspection.
    pub fn snapshot(&self) -> Snapshot {
        let map = self.inner.commands.read().unwrap_or_else(PoisonError::into_inner);
        let mut commands: BTreeMap<String, CommandSnapshot> = BTreeMap::new();
        for (name, stats) in map.iter() {
            let c = stats.merged();
            let h = &c.latency;
            let q = |p: f64| if h.is_empty() { 0 } else { h.value_at_quantile(p) };
            commands.insert(
                name.clone(),
                CommandSnapshot {
                    count: c.count,
                    errors: c.errors.clone(),
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

/// The Prometheus view of a [`Metrics`], computed at each scrape.
struct CommandCollector {
    inner: Arc<Inner>,
    descs: Vec<Desc>,
}

const COMMANDS_TOTAL: &str = "redkit_commands_total";
const DURATION: &str = "redkit_command_duration_seconds";
const WRITTEN: &str = "redkit_bytes_written_total";
const READ: &str = "redkit_bytes_read_total";
const IN_FLIGHT: &str = "redkit_in_flight";

impl CommandCollector {
    fn new(inner: Arc<Inner>) -> prometheus::Result<CommandCollector> {
        let desc = |name: &str, help: &str, labels: &[&str]| {
            Desc::new(
                name.into(),
                help.into(),
                labels.iter().map(|l| (*l).to_owned()).collect(),
                HashMap::new(),
            )
        };
        Ok(CommandCollector {
            inner,
            descs: vec![
                desc(
                    COMMANDS_TOTAL,
                    "Commands sent, by command and outcome.",
                    &["command", "status"],
                )?,
                desc(
                    DURATION,
                    "Time from sending a command to its reply, by command.",
                    &["command"],
                )?,
                desc(WRITTEN, "Bytes of commands sent.", &[])?,
                desc(READ, "Bytes of replies received.", &[])?,
                desc(IN_FLIGHT, "Commands sent and not yet answered.", &[])?,
            ],
        })
    }
}

fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
    pairs
        .iter()
        .map(|(k, v)| {
            let mut l = LabelPair::default();
            l.set_name((*k).to_owned());
            l.set_value((*v).to_owned());
            l
        })
        .collect()
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<proto::Metric>) -> MetricFamily {
    let mut f = MetricFamily::default();
    f.set_name(name.to_owned());
    f.set_help(help.to_owned());
    f.set_field_type(kind);
    f.set_metric(metrics);
    f
}

fn scalar(kind: MetricType, value: f64, label_pairs: Vec<LabelPair>) -> proto::Metric {
    let mut m = proto::Metric::default();
    m.set_label(label_pairs);
    if kind == MetricType::COUNTER {
        let mut c = proto::Counter::default();
        c.set_value(value);
        m.set_counter(c);
    } else {
        let mut g = proto::Gauge::default();
        g.set_value(value);
        m.set_gauge(g);
    }
    m
}

impl Collector for CommandCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let map = self.inner.commands.read().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<&String> = map.keys().collect();
        names.sort();
        let mut totals = Vec::new();
        let mut durations = Vec::new();
        for name in names {
            let Some(stats) = map.get(name) else { continue };
            let c = stats.merged();
            let failed: u64 = c.errors.values().sum();
            totals.push(scalar(
                MetricType::COUNTER,
                (c.count - failed.min(c.count)) as f64,
                labels(&[("command", name), ("status", "ok")]),
            ));
            for (class, n) in &c.errors {
                totals.push(scalar(
                    MetricType::COUNTER,
                    *n as f64,
                    labels(&[("command", name), ("status", class)]),
                ));
            }
            // Buckets from the HDR histogram: cumulative counts at each bound; the sum from its mean (within the
            // histogram's 0.1% precision).
            let h = &c.latency;
            let buckets = BUCKETS
                .iter()
                .map(|le| {
                    let mut b = proto::Bucket::default();
                    b.set_upper_bound(*le);
                    let bound_us = (*le * 1e6) as u64;
                    b.set_cumulative_count(if h.is_empty() {
                        0
                    } else {
                        h.count_between(0, bound_us)
                    });
                    b
                })
                .collect();
            let mut hist = proto::Histogram::default();
            hist.set_sample_count(h.len());
            hist.set_sample_sum(h.mean() * h.len() as f64 / 1e6);
            hist.set_bucket(buckets);
            let mut m = proto::Metric::default();
            m.set_label(labels(&[("command", name)]));
            m.set_histogram(hist);
            durations.push(m);
        }
        let counter = |name: &str, help: &str, v: u64| {
            family(
                name,
                help,
                MetricType::COUNTER,
                vec![scalar(MetricType::COUNTER, v as f64, Vec::new())],
            )
        };
        vec![
            family(
                COMMANDS_TOTAL,
                "Commands sent, by command and outcome.",
                MetricType::COUNTER,
                totals,
            ),
            family(
                DURATION,
                "Time from sending a command to its reply, by command.",
                MetricType::HISTOGRAM,
                durations,
            ),
            counter(
                WRITTEN,
                "Bytes of commands sent.",
                self.inner.written.load(Ordering::Relaxed),
            ),
            counter(
                READ,
                "Bytes of replies received.",
                self.inner.read.load(Ordering::Relaxed),
            ),
            family(
                IN_FLIGHT,
                "Commands sent and not yet answered.",
                MetricType::GAUGE,
                vec![scalar(
                    MetricType::GAUGE,
                    self.inner.in_flight.load(Ordering::Relaxed) as f64,
                    Vec::new(),
                )],
            ),
        ]
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
            assert!(err < 0.01, "got {got} µs, want {want} µs");
        }
        assert!((get.mean_us - 5_000.5).abs() < 10.0, "{}", get.mean_us);
        // A skewed one: 99% fast, 1% slow — the p99.9 sees the slow tail, the median does not.
        for i in 0..10_000u64 {
            let us = if i % 100 == 0 { 50_000 } else { 100 };
            m.record("SET", Duration::from_micros(us), Ok(0));
        }
        let set = &m.snapshot().commands["SET"];
        assert!((99..=101).contains(&set.p50_us), "{}", set.p50_us);
        assert!(set.p999_us >= 49_500, "{}", set.p999_us);
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
    fn cache_counters_are_exported_by_name() {
        let m = Metrics::default();
        m.observe_cache("pages", || crate::CacheFigures {
            hits: 7,
            misses: 3,
            loads: 3,
            load_errors: 1,
            ..Default::default()
        })
        .unwrap();
        let text = m.prometheus_text();
        assert!(
            text.contains("redkit_cache_lookups_total{cache=\"pages\",result=\"hit\"} 7"),
            "{text}"
        );
        assert!(
            text.contains("redkit_cache_loads_total{cache=\"pages\",status=\"ok\"} 2"),
            "{text}"
        );
        assert!(m.observe_cache("pages", Default::default).is_err());
    }

    #[test]
    fn an_empty_registry_still_renders() {
        let m = Metrics::default();
        let text = m.prometheus_text();
        assert!(text.contains("redkit_in_flight 0"), "{text}");
    }

    #[test]
    fn prometheus_buckets_come_from_the_histogram() {
        let m = Metrics::default();
        for us in [40u64, 90, 200, 3_000, 20_000] {
            m.record("GET", Duration::from_micros(us), Ok(0));
        }
        let text = m.prometheus_text();
        for (le, n) in [
            ("0.00005", 1),
            ("0.0001", 2),
            ("0.00025", 3),
            ("0.005", 4),
            ("0.025", 5),
            ("+Inf", 5),
        ] {
            let line = format!("redkit_command_duration_seconds_bucket{{command=\"GET\",le=\"{le}\"}} {n}");
            assert!(text.contains(&line), "missing {line} in\n{text}");
        }
        assert!(text.contains("redkit_command_duration_seconds_count{command=\"GET\"} 5"));
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
