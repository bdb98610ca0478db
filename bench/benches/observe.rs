//! `observe`: what instrumentation costs. The concurrent workload of the `client` benchmark (64 tasks, 2,000
//! SET/GET each, 16-byte values) on one multiplexed client against a private `redis-server`, bare, with
//! `redkit-observe` metrics, and with metrics plus an OpenTelemetry span per command (SDK tracer, always sampled,
//! no exporter: the cost of making and ending spans). Interleaved, median of `REDKIT_BENCH_RUNS` (default 5) runs.
//! Writes `target/bench/observe.md`; run with `cargo xtask bench observe`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::TracerProvider;
use redkit::{Config, DynExecutor};
use redkit_bench::{OPS_PER_TASK, Sample, TASKS, concurrent_set_get, median, runs};
use redkit_observe::{Instrumented, Metrics, Target};
use redkit_test_support::RedisServer;

fn main() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let runs = runs(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = Config::from_url(&server.url())
        .unwrap()
        .with_request_timeout(Some(Duration::from_secs(30)));
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let contenders: Vec<(&str, Arc<dyn DynExecutor>)> = rt.block_on(async {
        let connect = || async { redkit::Client::connect(config.clone()).await.unwrap() };
        vec![
            ("bare client", Arc::new(connect().await) as Arc<dyn DynExecutor>),
            (
                "with metrics",
                Arc::new(Instrumented::new(connect().await, Metrics::default())),
            ),
            (
                "with metrics and tracing",
                Arc::new(
                    Instrumented::new(connect().await, Metrics::default()).with_tracer(
                        provider.tracer("redkit-bench"),
                        Target {
                            address: "127.0.0.1".into(),
                            port: server.port(),
                            db: 0,
                        },
                    ),
                ),
            ),
        ]
    });
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); contenders.len()];
    for run in 0..runs {
        eprintln!("run {} of {runs}…", run + 1);
        for (i, (_, exec)) in contenders.iter().enumerate() {
            samples[i].push(rt.block_on(concurrent_set_get(exec.clone(), "obs")));
        }
    }
    let medians: Vec<Sample> = samples.into_iter().map(median).collect();
    let base = medians[0].ops_per_sec;
    let mut table = format!(
        "### `observe` ({TASKS} tasks × {OPS_PER_TASK} SET/GET on one client, median of {runs} runs; latencies in µs)\n\n\
         | contender | ops/s | p50 | p99 | vs bare |\n|---|---:|---:|---:|---:|\n"
    );
    for ((name, _), s) in contenders.iter().zip(&medians) {
        table.push_str(&format!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.3}× |\n",
            s.ops_per_sec,
            s.p50_us,
            s.p99_us,
            s.ops_per_sec / base
        ));
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("observe.md"), &table).unwrap();
    println!("{table}");
}
