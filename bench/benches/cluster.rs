//! `cluster`: redkit's `ClusterClient` against the `redis` crate's `cluster_async` and `fred`, in one run against
//! one private 3-primary Redis Cluster (no replicas).
//!
//! Workloads (16-byte values; keys spread over every slot):
//! - `concurrent`: 64 tasks sharing one client, GET and SET alternately;
//! - `pipeline`: batches of 100 SETs on 100 different slots. The `redis` crate refuses pipelines across slots, so
//!   its figure is its best workaround: one pipeline per slot, sent concurrently;
//! - `mget`: MGET of 10 keys on 10 slots (a contender that refuses it scores 0, with the error).
//!
//! Each workload runs 5 times (`--runs N` of `cargo xtask bench`) per contender, interleaved; the table gives the
//! median run's ops/s, p50 and p99, and redkit's ratio to the better of the others. Written to
//! `target/bench/cluster.md` (run with `cargo xtask bench cluster`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::future::Future;
use std::time::Instant;

use fred::interfaces::{ClientLike, KeysInterface};
use redkit::prelude::*;
use redkit_bench::{Sample, histogram, median, micros, sample};
use redkit_test_support::{ClusterOptions, RedisCluster};

const DEFAULT_RUNS: usize = 5;
const TASKS: usize = 64;
const OPS_PER_TASK: usize = 1_000;
const BATCHES: usize = 200;
const BATCH: usize = 100;
const MGETS: usize = 2_000;
const MGET_KEYS: usize = 10;
const VALUE: &[u8; 16] = b"0123456789abcdef";

/// What each contender must do; `Err` carries why it cannot.
trait BenchClient: Clone + Send + Sync + 'static {
    fn set(&self, key: String) -> impl Future<Output = Result<(), String>> + Send;
    fn get(&self, key: String) -> impl Future<Output = Result<(), String>> + Send;
    fn set_batch(&self, keys: Vec<String>) -> impl Future<Output = Result<(), String>> + Send;
    fn mget(&self, keys: Vec<String>) -> impl Future<Output = Result<usize, String>> + Send;
}

impl BenchClient for redkit_cluster::ClusterClient {
    async fn set(&self, key: String) -> Result<(), String> {
        StringCommands::set(self, key, &VALUE[..])
            .await
            .map_err(|e| e.to_string())
    }
    async fn get(&self, key: String) -> Result<(), String> {
        StringCommands::get::<bytes::Bytes>(self, key)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    async fn set_batch(&self, keys: Vec<String>) -> Result<(), String> {
        let pipe = TypedPipeline::new();
        for k in keys {
            pipe.set(k, &VALUE[..]);
        }
        pipe.execute(self).await.map(|_| ()).map_err(|e| e.to_string())
    }
    async fn mget(&self, keys: Vec<String>) -> Result<usize, String> {
        let values: Vec<Option<bytes::Bytes>> = StringCommands::mget(self, keys)
            .await
            .map_err(|e| e.to_string())?;
        Ok(values.len())
    }
}

impl BenchClient for redis::cluster_async::ClusterConnection {
    async fn set(&self, key: String) -> Result<(), String> {
        let mut c = self.clone();
        redis::cmd("SET")
            .arg(key)
            .arg(&VALUE[..])
            .query_async::<()>(&mut c)
            .await
            .map_err(|e| e.to_string())
    }
    async fn get(&self, key: String) -> Result<(), String> {
        let mut c = self.clone();
        redis::cmd("GET")
            .arg(key)
            .query_async::<Option<Vec<u8>>>(&mut c)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    /// The workaround for pipelines across slots: one pipeline per slot, concurrently.
    async fn set_batch(&self, keys: Vec<String>) -> Result<(), String> {
        let mut by_slot: HashMap<u16, Vec<String>> = HashMap::new();
        for k in keys {
            by_slot
                .entry(redkit_cluster::key_slot(k.as_bytes()))
                .or_default()
                .push(k);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (_, keys) in by_slot {
            let mut c = self.clone();
            tasks.spawn(async move {
                let mut pipe = redis::pipe();
                for k in keys {
                    pipe.cmd("SET").arg(k).arg(&VALUE[..]).ignore();
                }
                pipe.query_async::<()>(&mut c).await.map_err(|e| e.to_string())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.map_err(|e| e.to_string())??;
        }
        Ok(())
    }
    async fn mget(&self, keys: Vec<String>) -> Result<usize, String> {
        let mut c = self.clone();
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        Ok(values.len())
    }
}

impl BenchClient for fred::clients::Client {
    async fn set(&self, key: String) -> Result<(), String> {
        KeysInterface::set::<(), _, _>(self, key, &VALUE[..], None, None, false)
            .await
            .map_err(|e| e.to_string())
    }
    async fn get(&self, key: String) -> Result<(), String> {
        KeysInterface::get::<Option<bytes::Bytes>, _>(self, key)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    async fn set_batch(&self, keys: Vec<String>) -> Result<(), String> {
        let pipe = self.pipeline();
        for k in keys {
            let () = KeysInterface::set::<(), _, _>(&pipe, k, &VALUE[..], None, None, false)
                .await
                .map_err(|e| e.to_string())?;
        }
        let _: Vec<fred::types::Value> = pipe.all().await.map_err(|e| e.to_string())?;
        Ok(())
    }
    async fn mget(&self, keys: Vec<String>) -> Result<usize, String> {
        let values: Vec<Option<bytes::Bytes>> =
            KeysInterface::mget(self, keys).await.map_err(|e| e.to_string())?;
        Ok(values.len())
    }
}

/// A run's sample, or why the contender could not do the workload.
type Outcome = Result<Sample, String>;

async fn concurrent<C: BenchClient>(c: &C) -> Outcome {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            for i in 0..OPS_PER_TASK {
                let key = format!("conc:{t}:{i}");
                let start = Instant::now();
                if i % 2 == 0 {
                    c.set(key).await?;
                } else {
                    c.get(key).await?;
                }
                h.record(micros(start.elapsed())).unwrap();
            }
            Ok::<_, String>(h)
        }));
    }
    let mut all = histogram();
    for t in tasks {
        all.add(t.await.unwrap()?).unwrap();
    }
    Ok(sample(TASKS * OPS_PER_TASK, started.elapsed(), &all))
}

async fn pipeline<C: BenchClient>(c: &C) -> Outcome {
    let mut h = histogram();
    let started = Instant::now();
    for b in 0..BATCHES {
        let keys: Vec<String> = (0..BATCH).map(|i| format!("pipe:{b}:{i}")).collect();
        let t = Instant::now();
        c.set_batch(keys).await?;
        h.record(micros(t.elapsed())).unwrap();
    }
    Ok(sample(BATCHES * BATCH, started.elapsed(), &h))
}

async fn mget<C: BenchClient>(c: &C) -> Outcome {
    let mut h = histogram();
    let started = Instant::now();
    for m in 0..MGETS {
        let keys: Vec<String> = (0..MGET_KEYS)
            .map(|i| format!("mget:{}", (m * MGET_KEYS + i) % 997))
            .collect();
        let t = Instant::now();
        assert_eq!(c.mget(keys).await?, MGET_KEYS);
        h.record(micros(t.elapsed())).unwrap();
    }
    Ok(sample(MGETS, started.elapsed(), &h))
}

struct Contenders {
    redkit: redkit_cluster::ClusterClient,
    redis: redis::cluster_async::ClusterConnection,
    fred: fred::clients::Client,
}

fn best(runs: Vec<Outcome>) -> Outcome {
    let mut ok = Vec::new();
    for r in runs {
        ok.push(r?);
    }
    Ok(median(ok))
}

async fn workload<F, G, H, Fut1, Fut2, Fut3>(c: &Contenders, f: F, g: G, h: H) -> [Outcome; 3]
where
    F: Fn(redkit_cluster::ClusterClient) -> Fut1,
    G: Fn(redis::cluster_async::ClusterConnection) -> Fut2,
    H: Fn(fred::clients::Client) -> Fut3,
    Fut1: Future<Output = Outcome>,
    Fut2: Future<Output = Outcome>,
    Fut3: Future<Output = Outcome>,
{
    let (mut a, mut b, mut d) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..redkit_bench::runs(DEFAULT_RUNS) {
        a.push(f(c.redkit.clone()).await);
        b.push(g(c.redis.clone()).await);
        d.push(h(c.fred.clone()).await);
    }
    [best(a), best(b), best(d)]
}

fn cell(o: &Outcome) -> String {
    match o {
        Ok(s) => format!("{:.0} | {:.0} | {:.0}", s.ops_per_sec, s.p50_us, s.p99_us),
        Err(e) => {
            let short: String = e.chars().take(60).collect();
            format!("0 ({short}) | — | —")
        }
    }
}

fn main() {
    let options = ClusterOptions {
        primaries: 3,
        replicas: 0,
        node_timeout_ms: 5000,
        require_full_coverage: true,
    };
    let Some(cluster) = RedisCluster::start_or_skip(options) else {
        return;
    };
    let urls = cluster.urls();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let table = runtime.block_on(async move {
        let redkit = redkit_cluster::ClusterClient::open(&urls).await.unwrap();
        let redis = redis::cluster::ClusterClient::new(urls.clone())
            .unwrap()
            .get_async_connection()
            .await
            .unwrap();
        let fred_url = urls[0].replacen("redis://", "redis-cluster://", 1);
        let fred = fred::types::Builder::from_config(fred::types::config::Config::from_url(&fred_url).unwrap())
            .build()
            .unwrap();
        fred.init().await.unwrap();
        for i in 0..997 {
            BenchClient::set(&redkit, format!("mget:{i}")).await.unwrap();
        }
        let c = Contenders { redkit, redis, fred };
        let mut rows = Vec::new();
        eprintln!("concurrent…");
        rows.push((
            "concurrent (64 tasks, GET/SET)",
            workload(
                &c,
                |x| async move { concurrent(&x).await },
                |x| async move { concurrent(&x).await },
                |x| async move { concurrent(&x).await },
            )
            .await,
        ));
        eprintln!("pipeline…");
        rows.push((
            "pipeline of 100 SETs over 100 slots",
            workload(
                &c,
                |x| async move { pipeline(&x).await },
                |x| async move { pipeline(&x).await },
                |x| async move { pipeline(&x).await },
            )
            .await,
        ));
        eprintln!("mget…");
        rows.push((
            "MGET of 10 keys over 10 slots",
            workload(
                &c,
                |x| async move { mget(&x).await },
                |x| async move { mget(&x).await },
                |x| async move { mget(&x).await },
            )
            .await,
        ));
        let runs = redkit_bench::runs(DEFAULT_RUNS);
        let mut table = format!(
            "### `cluster` (3 primaries on this machine, median of {runs} interleaved runs; ops/s, p50 µs, p99 µs)\n\n\
             The `redis` crate's pipeline figure is its workaround (one pipeline per slot, concurrently): it refuses \
             pipelines across slots.\n\n\
             | workload | redkit | p50 | p99 | `redis` cluster_async | p50 | p99 | `fred` | p50 | p99 | redkit / better other |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        );
        for (name, [a, b, d]) in rows {
            let other = [&b, &d]
                .iter()
                .filter_map(|o| o.as_ref().ok().map(|s| s.ops_per_sec))
                .fold(0.0, f64::max);
            let ratio = match (&a, other) {
                (Ok(s), o) if o > 0.0 => format!("{:.2}×", s.ops_per_sec / o),
                (Ok(_), _) => "— (no other contender can)".to_owned(),
                (Err(_), _) => "—".to_owned(),
            };
            table.push_str(&format!("| {name} | {} | {} | {} | {ratio} |\n", cell(&a), cell(&b), cell(&d)));
        }
        table
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("cluster.md"), &table).unwrap();
    println!("{table}");
}
