//! The layer against a private redis-server: exact counters under concurrency, Prometheus text parsed back, spans
//! and metrics through OpenTelemetry's in-memory exporters, and the slow log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::trace::{SpanKind, Status, TracerProvider};
use opentelemetry::{KeyValue, Value as OtelValue};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use redkit::prelude::*;
use redkit::{Client, Cmd, Config, Executor, Pipeline};
use redkit_observe::{Instrumented, Metrics, MetricsConfig, Target};
use redkit_test_support::RedisServer;

async fn client(server: &RedisServer) -> Client {
    let config = Config::from_url(&server.url())
        .unwrap()
        .with_request_timeout(Some(Duration::from_secs(10)));
    Client::connect(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_are_exact_under_concurrency() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let metrics = Metrics::default();
    let redis = Instrumented::new(client(&server).await, metrics.clone());
    let mut expected_written = 0usize;
    let mut tasks = Vec::new();
    for t in 0..50 {
        for i in 0..200 {
            expected_written += Cmd::new("SET").arg(format!("k{t}")).arg(i).encoded_len();
            expected_written += Cmd::new("GET").arg(format!("k{t}")).encoded_len();
        }
        expected_written += Cmd::new("HGET").arg(format!("k{t}")).arg("f").encoded_len();
        let redis = redis.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..200 {
                redis.set(format!("k{t}"), i).await.unwrap();
                let _: Option<i64> = redis.get(format!("k{t}")).await.unwrap();
            }
            // One WRONGTYPE per task.
            assert!(redis.hget::<String>(format!("k{t}"), "f").await.is_err());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = metrics.snapshot();
    assert_eq!(s.commands["SET"].count, 10_000);
    assert_eq!(s.commands["GET"].count, 10_000);
    assert_eq!(s.commands["HGET"].count, 50);
    assert_eq!(s.commands["HGET"].errors.get("WRONGTYPE"), Some(&50));
    assert!(s.commands["SET"].errors.is_empty());
    assert_eq!(s.in_flight, 0);
    assert_eq!(s.bytes_written, expected_written as u64);
    // 10,000 "+OK\r\n", 10,000 small bulk strings, 50 error lines.
    assert!(s.bytes_read > 10_000 * 5 + 10_000 * 6, "{}", s.bytes_read);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["commands"]["GET"]["count"], 10_000);
}

/// `name{label="v",…} value` lines of a Prometheus text exposition, labels unescaped.
fn parse_prometheus(text: &str) -> Vec<(String, HashMap<String, String>, f64)> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), HashMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap();
                let mut labels = HashMap::new();
                let mut chars = body.chars().peekable();
                while chars.peek().is_some() {
                    let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                    assert_eq!(chars.next(), Some('"'));
                    let mut val = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => match chars.next() {
                                Some('n') => val.push('\n'),
                                Some(other) => val.push(other),
                                None => panic!("dangling escape in {line}"),
                            },
                            '"' => break,
                            c => val.push(c),
                        }
                    }
                    if chars.peek() == Some(&',') {
                        chars.next();
                    }
                    labels.insert(key, val);
                }
                (name.to_owned(), labels)
            }
        };
        out.push((name, labels, value.parse().unwrap()));
    }
    out
}

#[tokio::test]
async fn prometheus_text_parses_back_to_the_figures() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let metrics = Metrics::default();
    let redis = Instrumented::new(client(&server).await, metrics.clone());
    for i in 0..7 {
        redis.set("a", i).await.unwrap();
    }
    let _: Option<String> = redis.get("a").await.unwrap();
    // A name that needs escaping in a label value: an unknown command, refused by the server.
    assert!(redis.execute(Cmd::new("we\"ird\\cmd")).await.is_err());
    redis
        .execute_pipeline(Pipeline::new().with(Cmd::new("PING")).with(Cmd::new("PING")))
        .await
        .unwrap();

    let samples = parse_prometheus(&metrics.prometheus_text());
    let find = |name: &str, labels: &[(&str, &str)]| -> f64 {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
            .unwrap_or_else(|| panic!("no {name} {labels:?}"))
    };
    assert_eq!(
        find("redkit_commands_total", &[("command", "SET"), ("status", "ok")]),
        7.0
    );
    assert_eq!(
        find("redkit_commands_total", &[("command", "GET"), ("status", "ok")]),
        1.0
    );
    assert_eq!(
        find(
            "redkit_commands_total",
            &[("command", "WE\"IRD\\CMD"), ("status", "ERR")]
        ),
        1.0
    );
    assert_eq!(
        find(
            "redkit_commands_total",
            &[("command", "PIPELINE"), ("status", "ok")]
        ),
        1.0
    );
    assert_eq!(
        find("redkit_command_duration_seconds_count", &[("command", "SET")]),
        7.0
    );
    assert_eq!(
        find(
            "redkit_command_duration_seconds_bucket",
            &[("command", "SET"), ("le", "+Inf")]
        ),
        7.0
    );
    assert_eq!(find("redkit_in_flight", &[]), 0.0);
    let written = find("redkit_bytes_written_total", &[]);
    assert_eq!(written as u64, metrics.snapshot().bytes_written);
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a OtelValue> {
    attrs.iter().find(|kv| kv.key.as_str() == key).map(|kv| &kv.value)
}

#[tokio::test]
async fn spans_follow_the_database_conventions() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let metric_exporter = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metric_exporter.clone()).build())
        .build();
    let meter = opentelemetry::metrics::MeterProvider::meter(&meter_provider, "redkit-test");
    let target = Target {
        address: "127.0.0.1".into(),
        port: server.port(),
        db: 0,
    };
    let redis = Instrumented::new(client(&server).await, Metrics::default())
        .with_tracer(provider.tracer("redkit-test"), target)
        .with_meter(&meter);
    redis.set("secret-key", "secret-value").await.unwrap();
    assert!(redis.hget::<String>("secret-key", "f").await.is_err());
    redis
        .execute_pipeline(
            Pipeline::new()
                .with(Cmd::new("PING"))
                .with(Cmd::new("ECHO").arg("x")),
        )
        .await
        .unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(names, ["SET", "HGET", "PIPELINE"]);
    for s in &spans {
        assert_eq!(s.span_kind, SpanKind::Client);
        assert_eq!(
            attr(&s.attributes, "db.system.name"),
            Some(&OtelValue::from("redis"))
        );
        assert_eq!(attr(&s.attributes, "db.namespace"), Some(&OtelValue::from("0")));
        assert_eq!(
            attr(&s.attributes, "server.address"),
            Some(&OtelValue::from("127.0.0.1"))
        );
        assert_eq!(
            attr(&s.attributes, "server.port"),
            Some(&OtelValue::from(i64::from(server.port())))
        );
        // Arguments never reach a span unless asked for.
        assert!(attr(&s.attributes, "db.query.text").is_none());
    }
    assert_eq!(
        attr(&spans[0].attributes, "db.operation.name"),
        Some(&OtelValue::from("SET"))
    );
    assert!(
        matches!(spans[1].status, Status::Error { .. }),
        "{:?}",
        spans[1].status
    );
    assert_eq!(
        attr(&spans[1].attributes, "error.type"),
        Some(&OtelValue::from("WRONGTYPE"))
    );
    assert_eq!(
        attr(&spans[2].attributes, "db.operation.batch.size"),
        Some(&OtelValue::from(2i64))
    );
    assert_eq!(spans[0].status, Status::Unset);

    // With query text on, arguments are redacted.
    exporter.reset();
    let with_text = Instrumented::new(client(&server).await, Metrics::default())
        .with_tracer(provider.tracer("redkit-test"), Target::default())
        .with_query_text();
    with_text.set("secret-key", "secret-value").await.unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(
        attr(&spans[0].attributes, "db.query.text"),
        Some(&OtelValue::from("SET ? ?"))
    );

    meter_provider.force_flush().unwrap();
    let exported = metric_exporter.get_finished_metrics().unwrap();
    let names: Vec<String> = exported
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .map(|m| m.name().to_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "db.client.operation.duration"),
        "{names:?}"
    );
}

#[tokio::test]
async fn the_slow_log_keeps_the_newest_and_redacts_keys() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let metrics = Metrics::new(MetricsConfig {
        slow_threshold: Duration::ZERO,
        slow_log_len: 3,
        log_keys: false,
    });
    let redis = Instrumented::new(client(&server).await, metrics.clone());
    for key in ["a", "b", "c", "d"] {
        redis.set(key, "v").await.unwrap();
    }
    let slow = metrics.slow_log();
    assert_eq!(slow.len(), 3);
    assert!(
        slow.iter()
            .all(|e| e.command == "SET" && e.key.as_deref() == Some("?"))
    );
    let shown = Metrics::new(MetricsConfig {
        slow_threshold: Duration::ZERO,
        slow_log_len: 3,
        log_keys: true,
    });
    let redis = Instrumented::new(client(&server).await, shown.clone());
    redis.set("visible", "v").await.unwrap();
    assert_eq!(shown.slow_log()[0].key.as_deref(), Some("visible"));
    // Nothing is slow at the default 10 ms threshold on a local server.
    let quiet = Metrics::default();
    let redis = Instrumented::new(client(&server).await, quiet.clone());
    redis.set("x", "v").await.unwrap();
    assert!(quiet.slow_log().len() <= 1);
}

#[tokio::test]
async fn pool_figures_are_exported_beside_the_commands() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let config = Config::from_url(&server.url()).unwrap();
    let pool = redkit_pool::Pool::connect(
        config,
        redkit_pool::PoolConfig {
            min_idle: 2,
            ..redkit_pool::PoolConfig::new(4)
        },
    )
    .await
    .unwrap();
    let metrics = Metrics::default();
    for name in ["main", "jobs"] {
        let observed = pool.clone();
        metrics
            .observe_pool(name, move || {
                let s = observed.status();
                redkit_observe::PoolFigures {
                    max_size: s.max_size as u64,
                    idle: s.idle as u64,
                    in_use: s.in_use as u64,
                    waiters: s.waiters as u64,
                    created: s.created,
                    recycled: s.recycled,
                    discarded: s.discarded,
                    timeouts: s.timeouts,
                }
            })
            .unwrap();
    }
    assert!(
        metrics.observe_pool("main", Default::default).is_err(),
        "one registration per name"
    );
    let redis = Instrumented::new(pool.clone(), metrics.clone());
    redis.set("k", "v").await.unwrap();
    let held = pool.get().await.unwrap();
    let samples = parse_prometheus(&metrics.prometheus_text());
    let value = |name: &str, labels: &[(&str, &str)]| {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
    };
    assert_eq!(
        value(
            "redkit_pool_connections",
            &[("pool", "main"), ("state", "in_use")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value("redkit_pool_connections", &[("pool", "jobs"), ("state", "idle")]),
        Some(1.0)
    );
    assert_eq!(
        value("redkit_pool_max_connections", &[("pool", "main")]),
        Some(4.0)
    );
    assert_eq!(
        value("redkit_pool_connections_created_total", &[("pool", "main")]),
        Some(2.0)
    );
    assert_eq!(
        value("redkit_commands_total", &[("command", "SET"), ("status", "ok")]),
        Some(1.0)
    );
    drop(held);
}
