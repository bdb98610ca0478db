//! `cache`: what the cache layers cost and save, against a private `redis-server`, in one run:
//! - a near-cache local hit (the target: under 1 µs), next to a plain `GET` round trip on the same client;
//! - a `Cache::get_or_load` hit (one `GET` of the envelope) and a miss (`GET`, the loader, `SET`);
//! - a Zipf-distributed read workload (10,000 keys, s = 1.0) through a near cache holding 1,000 values: the local
//!   hit rate and the throughput, next to the same reads without the near cache.
//!
//! Median of `REDKIT_BENCH_RUNS` (default 5) runs. Writes `target/bench/cache.md`; run with
//! `cargo xtask bench cache`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use redkit::{Client, Cmd, Config, Executor, RespVersion};
use redkit_cache::{BoxError, Cache, CacheConfig, NearCache, NearCacheConfig};
use redkit_test_support::RedisServer;

const KEYS: usize = 10_000;
const ZIPF_READS: usize = 100_000;

/// Key indexes with a Zipf(1.0) distribution over `n` keys, from a precomputed CDF.
fn zipf(n: usize, draws: usize) -> Vec<usize> {
    let weights: Vec<f64> = (1..=n).map(|k| 1.0 / k as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(n);
    let mut acc = 0.0;
    for w in weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut rng = fastrand::Rng::with_seed(7);
    (0..draws)
        .map(|_| {
            let u = rng.f64();
            cdf.partition_point(|c| *c < u).min(n - 1)
        })
        .collect()
}

/// Mean time per call of `op`, run `n` times in sequence.
async fn per_op<F, Fut>(n: usize, mut op: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    for i in 0..n {
        op(i).await;
    }
    started.elapsed() / n as u32
}

fn main() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let runs = redkit_bench::runs(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = Config::from_url(&server.url())
        .unwrap()
        .with_protocol(RespVersion::Resp3)
        .with_request_timeout(Some(Duration::from_secs(30)));
    let (mut local_hit, mut plain_get, mut cache_hit, mut cache_miss) = (vec![], vec![], vec![], vec![]);
    let (mut zipf_rate, mut zipf_near, mut zipf_plain) = (vec![], vec![], vec![]);
    let draws = zipf(KEYS, ZIPF_READS);
    rt.block_on(async {
        let client = Client::connect(config.clone()).await.unwrap();
        for i in 0..KEYS {
            client
                .execute(Cmd::new("SET").arg(format!("z:{i}")).arg(format!("value-{i}")))
                .await
                .unwrap();
        }
        for run in 0..runs {
            eprintln!("run {} of {runs}…", run + 1);
            let near: NearCache<String> = NearCache::new(
                Client::connect(config.clone()).await.unwrap(),
                NearCacheConfig {
                    capacity: 1_000,
                    ..NearCacheConfig::default()
                },
            )
            .await
            .unwrap();
            near.get("z:0").await.unwrap();
            let d = per_op(1_000_000, |_| {
                let near = &near;
                async move {
                    std::hint::black_box(near.get("z:0").await.unwrap());
                }
            })
            .await;
            local_hit.push(d.as_nanos() as f64);
            let d = per_op(20_000, |_| {
                let client = &client;
                async move {
                    let _: Option<String> = client.query(Cmd::new("GET").arg("z:0")).await.unwrap();
                }
            })
            .await;
            plain_get.push(d.as_nanos() as f64);

            let cache = Cache::new(client.clone(), CacheConfig::default());
            cache
                .set("hot", &"value".to_owned(), Duration::from_secs(600))
                .await
                .unwrap();
            let d = per_op(20_000, |_| {
                let cache = &cache;
                async move {
                    let _: String = cache
                        .get_or_load("hot", Duration::from_secs(600), || async {
                            Ok::<_, BoxError>("x".into())
                        })
                        .await
                        .unwrap();
                }
            })
            .await;
            cache_hit.push(d.as_nanos() as f64);
            let d = per_op(10_000, |i| {
                let cache = &cache;
                async move {
                    let _: String = cache
                        .get_or_load(&format!("miss:{run}:{i}"), Duration::from_secs(60), || async {
                            Ok::<_, BoxError>("loaded".into())
                        })
                        .await
                        .unwrap();
                }
            })
            .await;
            cache_miss.push(d.as_nanos() as f64);

            let before = near.stats();
            let started = Instant::now();
            for k in &draws {
                std::hint::black_box(near.get(&format!("z:{k}")).await.unwrap());
            }
            let near_secs = started.elapsed().as_secs_f64();
            let after = near.stats();
            zipf_rate.push((after.local_hits - before.local_hits) as f64 / ZIPF_READS as f64);
            zipf_near.push(ZIPF_READS as f64 / near_secs);
            let started = Instant::now();
            for k in &draws {
                let _: Option<String> = client.query(Cmd::new("GET").arg(format!("z:{k}"))).await.unwrap();
            }
            zipf_plain.push(ZIPF_READS as f64 / started.elapsed().as_secs_f64());
        }
    });
    let (zn, zp) = (
        redkit_bench::median_of(zipf_near),
        redkit_bench::median_of(zipf_plain),
    );
    let table = format!(
        "### `cache` (median of {runs} runs)\n\n\
         | measurement | value |\n|---|---:|\n\
         | near-cache local hit | {:.0} ns |\n\
         | plain `GET` round trip (same client) | {:.1} µs |\n\
         | `Cache::get_or_load` hit | {:.1} µs |\n\
         | `Cache::get_or_load` miss + load + store | {:.1} µs |\n\
         | Zipf reads, near cache of 1,000 over {KEYS} keys: local hit rate | {:.1}% |\n\
         | Zipf reads through the near cache | {zn:.0} reads/s |\n\
         | Zipf reads with plain `GET` | {zp:.0} reads/s |\n\
         | near cache vs plain on the Zipf reads | {:.2}× |\n",
        redkit_bench::median_of(local_hit),
        redkit_bench::median_of(plain_get) / 1000.0,
        redkit_bench::median_of(cache_hit) / 1000.0,
        redkit_bench::median_of(cache_miss) / 1000.0,
        redkit_bench::median_of(zipf_rate) * 100.0,
        zn / zp,
    );
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("cache.md"), &table).unwrap();
    println!("{table}");
}
