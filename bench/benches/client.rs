//! `client`: redkit's client against the `redis` crate (`MultiplexedConnection`), `fred`, and `redis-benchmark`,
//! in one run against one private `redis-server`.
//!
//! Workloads (16-byte values unless said otherwise):
//! - `seq`: one task, SET then GET, each awaited (`redis-benchmark -c 1 -t set,get`);
//! - `concurrent`: 64 tasks sharing one client (`redis-benchmark -c 64 -t set,get`, 64 connections);
//! - `pipeline`: batches of 100 SETs (`redis-benchmark -P 100 -t set`);
//! - `large`: GET of a 1 MiB value (`redis-benchmark -d 1048576 -t get`).
//!
//! Each workload runs 5 times (`--runs N` of `cargo xtask bench`) per contender, interleaved; the table gives the median run's ops/s, p50 and
//! p99 latency, and the ratio to the baselines. Written to `target/bench/client.md` (run with
//! `cargo xtask bench client`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use fred::interfaces::{ClientLike, KeysInterface};
use redkit::prelude::*;
use redkit_bench::{Sample, histogram, median, micros, sample};
use redkit_test_support::RedisServer;

/// Runs per contender and workload (`REDKIT_BENCH_RUNS` overrides).
const DEFAULT_RUNS: usize = 5;
const SEQ_OPS: usize = 20_000;
const TASKS: usize = 64;
const OPS_PER_TASK: usize = 2_000;
const BATCHES: usize = 400;
const BATCH: usize = 100;
const LARGE_OPS: usize = 300;
const LARGE: usize = 1 << 20;
const VALUE: &[u8; 16] = b"0123456789abcdef";

/// What each contender must do.
trait BenchClient: Clone + Send + Sync + 'static {
    fn set(&self, key: String, value: &'static [u8]) -> impl Future<Output = ()> + Send;
    fn get(&self, key: String) -> impl Future<Output = usize> + Send;
    fn set_batch(&self, keys: Vec<String>, value: &'static [u8]) -> impl Future<Output = ()> + Send;
}

impl BenchClient for redkit::Client {
    async fn set(&self, key: String, value: &'static [u8]) {
        StringCommands::set(self, key, value).await.unwrap();
    }
    async fn get(&self, key: String) -> usize {
        StringCommands::get::<bytes::Bytes>(self, key)
            .await
            .unwrap()
            .map_or(0, |b| b.len())
    }
    async fn set_batch(&self, keys: Vec<String>, value: &'static [u8]) {
        let pipe = TypedPipeline::new();
        for k in keys {
            pipe.set(k, value);
        }
        pipe.execute(self).await.unwrap();
    }
}

impl BenchClient for redis::aio::MultiplexedConnection {
    async fn set(&self, key: String, value: &'static [u8]) {
        let mut c = self.clone();
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .query_async::<()>(&mut c)
            .await
            .unwrap();
    }
    async fn get(&self, key: String) -> usize {
        let mut c = self.clone();
        redis::cmd("GET")
            .arg(key)
            .query_async::<Option<Vec<u8>>>(&mut c)
            .await
            .unwrap()
            .map_or(0, |v| v.len())
    }
    async fn set_batch(&self, keys: Vec<String>, value: &'static [u8]) {
        let mut c = self.clone();
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.cmd("SET").arg(k).arg(value).ignore();
        }
        pipe.query_async::<()>(&mut c).await.unwrap();
    }
}

impl BenchClient for fred::clients::Client {
    async fn set(&self, key: String, value: &'static [u8]) {
        KeysInterface::set::<(), _, _>(self, key, value, None, None, false)
            .await
            .unwrap();
    }
    async fn get(&self, key: String) -> usize {
        KeysInterface::get::<Option<bytes::Bytes>, _>(self, key)
            .await
            .unwrap()
            .map_or(0, |b| b.len())
    }
    async fn set_batch(&self, keys: Vec<String>, value: &'static [u8]) {
        let pipe = self.pipeline();
        for k in keys {
            let () = KeysInterface::set::<(), _, _>(&pipe, k, value, None, None, false)
                .await
                .unwrap();
        }
        let _: Vec<fred::types::Value> = pipe.all().await.unwrap();
    }
}

async fn seq<C: BenchClient>(c: &C) -> Sample {
    let mut h = histogram();
    let started = Instant::now();
    for i in 0..SEQ_OPS / 2 {
        let t = Instant::now();
        c.set(format!("seq:{}", i % 1000), VALUE).await;
        h.record(micros(t.elapsed())).unwrap();
        let t = Instant::now();
        c.get(format!("seq:{}", i % 1000)).await;
        h.record(micros(t.elapsed())).unwrap();
    }
    sample(SEQ_OPS, started.elapsed(), &h)
}

async fn concurrent<C: BenchClient>(c: &C) -> Sample {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            for i in 0..OPS_PER_TASK {
                let key = format!("conc:{t}:{}", i % 100);
                let start = Instant::now();
                if i % 2 == 0 {
                    c.set(key, VALUE).await;
                } else {
                    c.get(key).await;
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

async fn pipeline<C: BenchClient>(c: &C) -> Sample {
    let mut h = histogram();
    let started = Instant::now();
    for b in 0..BATCHES {
        let keys: Vec<String> = (0..BATCH)
            .map(|i| format!("pipe:{}", (b * BATCH + i) % 5000))
            .collect();
        let t = Instant::now();
        c.set_batch(keys, VALUE).await;
        h.record(micros(t.elapsed())).unwrap();
    }
    sample(BATCHES * BATCH, started.elapsed(), &h)
}

async fn large<C: BenchClient>(c: &C) -> Sample {
    let mut h = histogram();
    let started = Instant::now();
    for _ in 0..LARGE_OPS {
        let t = Instant::now();
        assert_eq!(c.get("large".to_owned()).await, LARGE);
        h.record(micros(t.elapsed())).unwrap();
    }
    sample(LARGE_OPS, started.elapsed(), &h)
}

/// One `redis-benchmark` run; the harmonic mean of the tests' rps (ops alternate between them).
fn redis_benchmark(port: u16, args: &[&str], tests: &str, only: Option<&str>) -> Sample {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--csv", "-t", tests])
        .args(args)
        .output()
        .expect("redis-benchmark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rps = Vec::new();
    let (mut p50, mut p99) = (0.0, 0.0);
    for line in text.lines().skip(1) {
        let cols: Vec<f64> = line
            .split(',')
            .skip(1)
            .filter_map(|c| c.trim_matches('"').parse().ok())
            .collect();
        let test = line.split(',').next().unwrap_or("").trim_matches('"');
        if only.is_some_and(|o| o != test) {
            continue;
        }
        if cols.len() >= 6 {
            rps.push(cols[0]);
            p50 = f64::max(p50, cols[3] * 1000.0);
            p99 = f64::max(p99, cols[5] * 1000.0);
        }
    }
    assert!(!rps.is_empty(), "no redis-benchmark results in {text:?}");
    let harmonic = rps.len() as f64 / rps.iter().map(|r| 1.0 / r).sum::<f64>();
    Sample {
        ops_per_sec: harmonic,
        p50_us: p50,
        p99_us: p99,
    }
}

struct Contenders {
    redkit: redkit::Client,
    redis: redis::aio::MultiplexedConnection,
    fred: fred::clients::Client,
}

async fn workload<F, G, H, Fut1, Fut2, Fut3>(c: &Contenders, f: F, g: G, h: H) -> [Sample; 3]
where
    F: Fn(redkit::Client) -> Fut1,
    G: Fn(redis::aio::MultiplexedConnection) -> Fut2,
    H: Fn(fred::clients::Client) -> Fut3,
    Fut1: Future<Output = Sample>,
    Fut2: Future<Output = Sample>,
    Fut3: Future<Output = Sample>,
{
    let (mut a, mut b, mut d) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..redkit_bench::runs(DEFAULT_RUNS) {
        a.push(f(c.redkit.clone()).await);
        b.push(g(c.redis.clone()).await);
        d.push(h(c.fred.clone()).await);
    }
    [median(a), median(b), median(d)]
}

fn main() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let port = server.port();
    let url = server.url();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let table = runtime.block_on(async move {
        let suffix = std::env::var("REDKIT_URL_SUFFIX").unwrap_or_default();
        let redkit = redkit::Client::open(&format!("{url}{suffix}")).await.unwrap();
        let redis = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let fred = fred::types::Builder::from_config(fred::types::config::Config::from_url(&url).unwrap())
            .build()
            .unwrap();
        fred.init().await.unwrap();
        let c = Contenders { redkit, redis, fred };
        let big: &'static [u8] = Box::leak(vec![b'x'; LARGE].into_boxed_slice());
        BenchClient::set(&c.redkit, "large".into(), big).await;
        BenchClient::set(&c.redkit, "key:__rand_int__".into(), big).await;

        let mut rows = Vec::new();
        let only = std::env::var("REDKIT_BENCH_ONLY").ok();
        let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
        if wanted("seq") {
            eprintln!("seq…");
            let s = workload(
                &c,
                |x| async move { seq(&x).await },
                |x| async move { seq(&x).await },
                |x| async move { seq(&x).await },
            )
            .await;
            let rb = median(
                (0..redkit_bench::runs(DEFAULT_RUNS))
                    .map(|_| {
                        redis_benchmark(
                            port,
                            &["-c", "1", "-n", &SEQ_OPS.to_string(), "-d", "16"],
                            "set,get",
                            None,
                        )
                    })
                    .collect(),
            );
            rows.push(("seq", "`-c 1 -t set,get`", s, rb));
        }
        if wanted("concurrent") {
            eprintln!("concurrent…");
            let s = workload(
                &c,
                |x| async move { concurrent(&x).await },
                |x| async move { concurrent(&x).await },
                |x| async move { concurrent(&x).await },
            )
            .await;
            let n = (TASKS * OPS_PER_TASK).to_string();
            let rb = median(
                (0..redkit_bench::runs(DEFAULT_RUNS))
                    .map(|_| redis_benchmark(port, &["-c", "64", "-n", &n, "-d", "16"], "set,get", None))
                    .collect(),
            );
            rows.push(("concurrent", "`-c 64 -t set,get`", s, rb));
        }
        if wanted("pipeline") {
            eprintln!("pipeline…");
            let s = workload(
                &c,
                |x| async move { pipeline(&x).await },
                |x| async move { pipeline(&x).await },
                |x| async move { pipeline(&x).await },
            )
            .await;
            let n = (BATCHES * BATCH).to_string();
            let rb = median(
                (0..redkit_bench::runs(DEFAULT_RUNS))
                    .map(|_| {
                        redis_benchmark(port, &["-c", "1", "-P", "100", "-n", &n, "-d", "16"], "set", None)
                    })
                    .collect(),
            );
            rows.push(("pipeline", "`-c 1 -P 100 -t set`", s, rb));
        }
        if wanted("large") {
            eprintln!("large…");
            let s = workload(
                &c,
                |x| async move { large(&x).await },
                |x| async move { large(&x).await },
                |x| async move { large(&x).await },
            )
            .await;
            let rb = median(
                (0..redkit_bench::runs(DEFAULT_RUNS))
                    .map(|_| {
                        redis_benchmark(
                            port,
                            &["-c", "1", "-n", &LARGE_OPS.to_string(), "-d", &LARGE.to_string()],
                            "set,get",
                            Some("GET"),
                        )
                    })
                    .collect(),
            );
            rows.push(("large", "`-c 1 -d 1048576 -t set,get` (GET)", s, rb));
        }
        render(&rows)
    });
    drop(server);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("client.md"), &table).unwrap();
    println!("{table}");
}

type Row<'a> = (&'a str, &'a str, [Sample; 3], Sample);

fn render(rows: &[Row<'_>]) -> String {
    let mut out = format!(
        "### `client` (median of {} runs per contender; latencies in µs)\n\n\
         | workload | contender | ops/s | p50 | p99 | vs redis-benchmark | vs `redis` crate |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
        redkit_bench::runs(DEFAULT_RUNS)
    );
    for (name, rb_args, [redkit, redis, fred], rb) in rows {
        let line = |who: &str, s: &Sample| {
            format!(
                "| {name} | {who} | {:.0} | {:.0} | {:.0} | {:.2}× | {:.2}× |\n",
                s.ops_per_sec,
                s.p50_us,
                s.p99_us,
                s.ops_per_sec / rb.ops_per_sec,
                s.ops_per_sec / redis.ops_per_sec
            )
        };
        out.push_str(&line("**redkit**", redkit));
        out.push_str(&line("`redis` (multiplexed)", redis));
        out.push_str(&line("`fred`", fred));
        out.push_str(&line(&format!("redis-benchmark {rb_args}"), rb));
    }
    out
}
