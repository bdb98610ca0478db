//! Cache counters: [`CacheFigures`] read from any cache at scrape time (the cache crate and this one do not know
//! each other; the caller maps its cache's stats, see [`Metrics::observe_cache`](crate::Metrics::observe_cache)).

use std::collections::HashMap;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{Counter, LabelPair, Metric, MetricFamily, MetricType};

/// What a cache reports at one moment (counters since it was made).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheFigures {
    /// Lookups answered with a fresh value.
    pub hits: u64,
    /// Lookups that found nothing usable.
    pub misses: u64,
    /// Lookups answered with a cached "not found".
    pub negative_hits: u64,
    /// Lookups answered with a stale value while it was refreshed.
    pub stale_served: u64,
    /// Loader runs.
    pub loads: u64,
    /// Loader runs that failed.
    pub load_errors: u64,
}

type Source = Box<dyn Fn() -> CacheFigures + Send + Sync>;

pub(crate) struct CacheCollector {
    cache: String,
    source: Source,
    descs: Vec<Desc>,
}

const LOOKUPS: &str = "redkit_cache_lookups_total";
const LOADS: &str = "redkit_cache_loads_total";

impl CacheCollector {
    pub(crate) fn new(cache: &str, source: Source) -> prometheus::Result<CacheCollector> {
        let constant = HashMap::from([("cache".to_owned(), cache.to_owned())]);
        Ok(CacheCollector {
            cache: cache.to_owned(),
            source,
            descs: vec![
                Desc::new(
                    LOOKUPS.into(),
                    "Cache lookups by result (hit, miss, negative_hit, stale).".into(),
                    vec!["result".into()],
                    constant.clone(),
                )?,
                Desc::new(
                    LOADS.into(),
                    "Loader runs by outcome (ok, error).".into(),
                    vec!["status".into()],
                    constant,
                )?,
            ],
        })
    }

    fn counter(&self, label: &str, value: &str, n: u64) -> Metric {
        let pair = |k: &str, v: &str| {
            let mut l = LabelPair::default();
            l.set_name(k.to_owned());
            l.set_value(v.to_owned());
            l
        };
        let mut c = Counter::default();
        c.set_value(n as f64);
        let mut m = Metric::default();
        m.set_label(vec![pair("cache", &self.cache), pair(label, value)]);
        m.set_counter(c);
        m
    }
}

impl Collector for CacheCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let f = (self.source)();
        let family = |name: &str, help: &str, metrics: Vec<Metric>| {
            let mut fam = MetricFamily::default();
            fam.set_name(name.to_owned());
            fam.set_help(help.to_owned());
            fam.set_field_type(MetricType::COUNTER);
            fam.set_metric(metrics);
            fam
        };
        vec![
            family(
                LOOKUPS,
                "Cache lookups by result (hit, miss, negative_hit, stale).",
                vec![
                    self.counter("result", "hit", f.hits),
                    self.counter("result", "miss", f.misses),
                    self.counter("result", "negative_hit", f.negative_hits),
                    self.counter("result", "stale", f.stale_served),
                ],
            ),
            family(
                LOADS,
                "Loader runs by outcome (ok, error).",
                vec![
                    self.counter("status", "ok", f.loads.saturating_sub(f.load_errors)),
                    self.counter("status", "error", f.load_errors),
                ],
            ),
        ]
    }
}
