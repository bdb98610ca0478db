//! `pool`: the concurrent workload of the `client` benchmark (64 tasks, 2,000 SET/GET each, 16-byte values)
//! through `redkit-pool` pools of 1, 4 and 8 connections (validating each connection with PING when it is handed
//! out, the default, and without) and through the multiplexed `Client`, against one
//! private `redis-server`, interleaved, median of `REDKIT_BENCH_RUNS` (default 5) runs. Writes
//! `target/bench/pool.md`; run with `cargo xtask bench pool`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use redkit::{Config, DynExecutor};
use redkit_bench::{OPS_PER_TASK, Sample, TASKS, concurrent_set_get, median, runs};
use redkit_pool::{Pool, PoolConfig};
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
    let contenders: Vec<(String, Arc<dyn DynExecutor>)> = rt.block_on(async {
        let mut out: Vec<(String, Arc<dyn DynExecutor>)> = vec![(
            "multiplexed `Client`".into(),
            Arc::new(redkit::Client::connect(config.clone()).await.unwrap()),
        )];
        for (size, validate) in [(1, true), (4, true), (8, true), (4, false), (8, false)] {
            let defaults = PoolConfig::new(size);
            let pool = Pool::connect(
                config.clone(),
                PoolConfig {
                    min_idle: size,
                    acquire_timeout: Duration::from_secs(30),
                    validate: if validate { defaults.validate } else { None },
                    ..defaults
                },
            )
            .await
            .unwrap();
            let name = if validate {
                format!("`Pool` of {size}")
            } else {
                format!("`Pool` of {size}, no validation")
            };
            out.push((name, Arc::new(pool)));
        }
        out
    });
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); contenders.len()];
    for run in 0..runs {
        eprintln!("run {} of {runs}…", run + 1);
        for (i, (_, exec)) in contenders.iter().enumerate() {
            samples[i].push(rt.block_on(concurrent_set_get(exec.clone(), "pool")));
        }
    }
    let medians: Vec<Sample> = samples.into_iter().map(median).collect();
    let base = medians[0].ops_per_sec;
    let mut table = format!(
        "### `pool` ({TASKS} tasks × {OPS_PER_TASK} SET/GET, median of {runs} runs; latencies in µs)\n\n\
         | contender | ops/s | p50 | p99 | vs multiplexed client |\n|---|---:|---:|---:|---:|\n"
    );
    for ((name, _), s) in contenders.iter().zip(&medians) {
        table.push_str(&format!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.2}× |\n",
            s.ops_per_sec,
            s.p50_us,
            s.p99_us,
            s.ops_per_sec / base
        ));
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("pool.md"), &table).unwrap();
    println!("{table}");
}
