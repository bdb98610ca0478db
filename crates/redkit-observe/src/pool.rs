//! Pool gauges: [`PoolFigures`] read from any connection pool at scrape time, exported next to the command
//! metrics. The pool crate and this one do not know each other; the caller maps its pool's status into
//! [`PoolFigures`] (see [`Metrics::observe_pool`](crate::Metrics::observe_pool)).

use std::collections::HashMap;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, Gauge, LabelPair, Metric, MetricFamily, MetricType};

/// What a pool reports at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolFigures {
    /// The size limit.
    pub max_size: u64,
    /// Open and idle.
    pub idle: u64,
    /// Handed out.
    pub in_use: u64,
    /// Callers waiting for a connection.
    pub waiters: u64,
    /// Connections ever opened.
    pub created: u64,
    /// Connections handed out again after a check.
    pub recycled: u64,
    /// Connections closed by the pool.
    pub discarded: u64,
    /// Acquires that timed out.
    pub timeouts: u64,
}

type Source = Box<dyn Fn() -> PoolFigures + Send + Sync>;

/// A Prometheus collector that asks a pool for its figures at each scrape.
pub(crate) struct PoolCollector {
    pool: String,
    source: Source,
    descs: Vec<Desc>,
}

/// (name, help, type, extra label): the families the collector exports.
const FAMILIES: [(&str, &str, MetricType); 6] = [
    (
        "redkit_pool_connections",
        "Pool connections by state (idle, in_use).",
        MetricType::GAUGE,
    ),
    (
        "redkit_pool_max_connections",
        "The pool's size limit.",
        MetricType::GAUGE,
    ),
    (
        "redkit_pool_waiters",
        "Callers waiting for a pooled connection.",
        MetricType::GAUGE,
    ),
    (
        "redkit_pool_connections_created_total",
        "Pool connections opened.",
        MetricType::COUNTER,
    ),
    (
        "redkit_pool_connections_closed_total",
        "Pool connections closed by the pool (dirty, broken, failed validation, idle or too old).",
        MetricType::COUNTER,
    ),
    (
        "redkit_pool_acquire_timeouts_total",
        "Acquires that gave up waiting.",
        MetricType::COUNTER,
    ),
];

impl PoolCollector {
    pub(crate) fn new(pool: &str, source: Source) -> prometheus::Result<PoolCollector> {
        let mut descs = Vec::new();
        // The pool's name is a constant label, so several pools can be observed side by side.
        let constant = HashMap::from([("pool".to_owned(), pool.to_owned())]);
        for (name, help, _) in FAMILIES {
            let labels = if name == "redkit_pool_connections" {
                vec!["state".to_owned()]
            } else {
                Vec::new()
            };
            descs.push(Desc::new(name.into(), help.into(), labels, constant.clone())?);
        }
        Ok(PoolCollector {
            pool: pool.to_owned(),
            source,
            descs,
        })
    }

    fn metric(&self, kind: MetricType, value: u64, state: Option<&str>) -> Metric {
        let mut labels = vec![label("pool", &self.pool)];
        if let Some(state) = state {
            labels.push(label("state", state));
        }
        let mut m = Metric::default();
        m.set_label(labels);
        if kind == MetricType::COUNTER {
            let mut c = Counter::default();
            c.set_value(value as f64);
            m.set_counter(c);
        } else {
            let mut g = Gauge::default();
            g.set_value(value as f64);
            m.set_gauge(g);
        }
        m
    }
}

fn label(name: &str, value: &str) -> LabelPair {
    let mut l = LabelPair::default();
    l.set_name(name.to_owned());
    l.set_value(value.to_owned());
    l
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let f = (self.source)();
        FAMILIES
            .iter()
            .map(|(name, help, kind)| {
                let metrics = match *name {
                    "redkit_pool_connections" => vec![
                        self.metric(*kind, f.idle, Some("idle")),
                        self.metric(*kind, f.in_use, Some("in_use")),
                    ],
                    "redkit_pool_max_connections" => vec![self.metric(*kind, f.max_size, None)],
                    "redkit_pool_waiters" => vec![self.metric(*kind, f.waiters, None)],
                    "redkit_pool_connections_created_total" => vec![self.metric(*kind, f.created, None)],
                    "redkit_pool_connections_closed_total" => vec![self.metric(*kind, f.discarded, None)],
                    _ => vec![self.metric(*kind, f.timeouts, None)],
                };
                let mut family = MetricFamily::default();
                family.set_name((*name).to_owned());
                family.set_help((*help).to_owned());
                family.set_field_type(*kind);
                family.set_metric(metrics);
                family
            })
            .collect()
    }
}
