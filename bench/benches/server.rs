//! `server`: `redis-benchmark` against `redis-server` and the `redkit-server` binary (release build, default
//! settings: one thread), in the same run, with `-c 50` and `-c 50 -P 16`; plus the RSS growth of each process for
//! 1M small string keys; and both with an append-only file (`appendfsync always` and `everysec`). Writes
//! `target/bench/server.md`; run with `cargo xtask bench server` (which builds the binary and passes its path in
//! `REDKIT_SERVER_BIN`).
//!
//! The redis-benchmark comparison is interleaved: each of the runs benches every server once, in an order rotated
//! by one from run to run so that none always goes first, and the table holds each test's median. With
//! `cargo xtask bench server --baseline REV`, which passes `REDKIT_SERVER_BASELINE_BIN` (that revision's binary)
//! and `REDKIT_SERVER_BASELINE_REV`, a third server takes part in that comparison, with its own column and the
//! `redkit/baseline` ratio for both pipelines; the memory and append-only sections leave it out.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use redkit::Executor;
use redkit_test_support::RedisServer;

/// The `redkit-server` process, killed on drop (with its data directory, if it has one).
struct EmbeddedProcess {
    child: std::process::Child,
    port: u16,
    _dir: Option<tempfile::TempDir>,
}

impl EmbeddedProcess {
    fn start() -> EmbeddedProcess {
        EmbeddedProcess::start_with(None, &[])
    }

    /// The baseline binary and the revision it was built from, when `REDKIT_SERVER_BASELINE_BIN` names one.
    fn baseline() -> Option<(EmbeddedProcess, String)> {
        let bin = std::env::var("REDKIT_SERVER_BASELINE_BIN")
            .ok()
            .filter(|b| !b.is_empty())?;
        let rev = std::env::var("REDKIT_SERVER_BASELINE_REV").unwrap_or_else(|_| bin.clone());
        Some((EmbeddedProcess::start_bin(&bin, None, &[]), rev))
    }

    /// With an append-only file in a fresh directory.
    fn append_only(fsync: &str) -> EmbeddedProcess {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().display().to_string();
        EmbeddedProcess::start_with(
            Some(dir),
            &["--dir", &path, "--appendonly", "yes", "--appendfsync", fsync],
        )
    }

    fn start_with(dir: Option<tempfile::TempDir>, args: &[&str]) -> EmbeddedProcess {
        let bin = std::env::var("REDKIT_SERVER_BIN")
            .expect("REDKIT_SERVER_BIN names the redkit-server binary (cargo xtask bench server sets it)");
        EmbeddedProcess::start_bin(&bin, dir, args)
    }

    fn start_bin(bin: &str, dir: Option<tempfile::TempDir>, args: &[&str]) -> EmbeddedProcess {
        let port = redkit_test_support::free_port().expect("a free loopback port");
        let child = Command::new(bin)
            .args(["--port", &port.to_string()])
            .args(args)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redkit-server starts");
        // Owned at once, so the process is killed and reaped on every path.
        let process = EmbeddedProcess {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return process;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("{bin} did not listen on port {port} within 5 s");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for EmbeddedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TESTS: &str = "set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset";

/// One redis-benchmark run: test name → requests per second.
fn bench(port: u16, pipeline: u32) -> BTreeMap<String, f64> {
    bench_with(port, pipeline, 100_000, TESTS)
}

/// Tests of the append-only comparison: LPUSH grows one list (a known cost of the embedded server's per-key
/// records), the others rewrite small values.
const AOF_TESTS: &str = "set,incr,hset,sadd,lpush";

fn bench_with(port: u16, pipeline: u32, requests: u32, tests: &str) -> BTreeMap<String, f64> {
    let out = Command::new("redis-benchmark")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-c",
            "50",
            "-n",
            &requests.to_string(),
            "-P",
            &pipeline.to_string(),
        ])
        .args(["--csv", "-t", tests])
        .output()
        .expect("redis-benchmark runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split(',').map(|c| c.trim_matches('"'));
            let name = cols.next()?.to_owned();
            let rps: f64 = cols.next()?.parse().ok()?;
            Some((name, rps))
        })
        .collect()
}

/// `redkit_bench::runs(3)` rounds of [`bench`] against every port, each round benching every server once, in an
/// order rotated by one from round to round (so that no server always goes first); per server, in the order of
/// `ports`, each test's median.
fn interleaved(ports: &[u16], pipeline: u32) -> Vec<BTreeMap<String, f64>> {
    let mut all: Vec<Vec<BTreeMap<String, f64>>> = vec![Vec::new(); ports.len()];
    for round in 0..redkit_bench::runs(3) {
        for i in 0..ports.len() {
            let s = (round + i) % ports.len();
            all[s].push(bench(ports[s], pipeline));
        }
    }
    all.iter().map(|runs| medians(runs)).collect()
}

fn median_of_runs(run: impl Fn() -> BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    let all: Vec<BTreeMap<String, f64>> = (0..redkit_bench::runs(3)).map(|_| run()).collect();
    medians(&all)
}

/// Each test's median over some runs (the tests of the first run).
fn medians(all: &[BTreeMap<String, f64>]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for name in all[0].keys() {
        let v: Vec<f64> = all.iter().filter_map(|m| m.get(name).copied()).collect();
        out.insert(name.clone(), redkit_bench::median_of(v));
    }
    out
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn redis_pid(server: &RedisServer) -> u32 {
    server
        .cli(&["INFO", "server"])
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("process_id:")?.trim().parse().ok())
        .unwrap()
}

async fn load(url: &str, keys: u64) {
    let client = redkit::Client::open(url).await.unwrap();
    for chunk in 0..keys / 1000 {
        let mut cmd = redkit::Cmd::new("MSET");
        for i in chunk * 1000..(chunk + 1) * 1000 {
            cmd.push_arg(format!("key:{i:08}")).push_arg("value-0123456789");
        }
        client.execute(cmd).await.unwrap();
    }
}

fn main() {
    let Some(real) = RedisServer::start_or_skip() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mock = EmbeddedProcess::start();
    let baseline = EmbeddedProcess::baseline();
    let mut ports = vec![real.port(), mock.port];
    ports.extend(baseline.iter().map(|(b, _)| b.port));
    let mut table = match &baseline {
        None => format!(
            "### `server` (redis-benchmark -c 50 -n 100000, median of {} runs; requests/s)\n\n\
             | test | redis-server | redkit-server | ratio | redis-server -P 16 | redkit-server -P 16 | ratio -P 16 |\n\
             |---|---:|---:|---:|---:|---:|---:|\n",
            redkit_bench::runs(3)
        ),
        Some((_, rev)) => format!(
            "### `server` (redis-benchmark -c 50 -n 100000, median of {} interleaved runs; requests/s; baseline: \
             redkit-server at {rev})\n\n\
             | test | redis-server | redkit-server | baseline | ratio | redkit/baseline \
             | redis-server -P 16 | redkit-server -P 16 | baseline -P 16 | ratio -P 16 | redkit/baseline -P 16 |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            redkit_bench::runs(3)
        ),
    };
    eprintln!("without pipelining…");
    let p1 = interleaved(&ports, 1);
    eprintln!("with -P 16…");
    let p16 = interleaved(&ports, 16);
    let rate = |runs: &BTreeMap<String, f64>, name: &str| runs.get(name).copied().unwrap_or(0.0);
    for (name, r) in &p1[0] {
        let (m, rp, mp) = (rate(&p1[1], name), rate(&p16[0], name), rate(&p16[1], name));
        if baseline.is_none() {
            table.push_str(&format!(
                "| {name} | {r:.0} | {m:.0} | {:.2}× | {rp:.0} | {mp:.0} | {:.2}× |\n",
                m / r,
                mp / rp
            ));
        } else {
            let (b, bp) = (rate(&p1[2], name), rate(&p16[2], name));
            table.push_str(&format!(
                "| {name} | {r:.0} | {m:.0} | {b:.0} | {:.2}× | {:.3}× | {rp:.0} | {mp:.0} | {bp:.0} | {:.2}× | {:.3}× |\n",
                m / r,
                m / b,
                mp / rp,
                mp / bp
            ));
        }
    }
    drop(baseline);
    eprintln!("memory…");
    let keys = 1_000_000;
    real.cli(&["FLUSHALL"]).unwrap();
    let before_real = rss_kb(redis_pid(&real));
    runtime.block_on(load(&real.url(), keys));
    let real_mb = (rss_kb(redis_pid(&real)).saturating_sub(before_real)) as f64 / 1024.0;
    runtime.block_on(async {
        redkit::Client::open(&mock.url())
            .await
            .unwrap()
            .execute(redkit::Cmd::new("FLUSHALL"))
            .await
            .unwrap()
    });
    let before_mock = rss_kb(mock.child.id());
    runtime.block_on(load(&mock.url(), keys));
    let mock_mb = (rss_kb(mock.child.id()).saturating_sub(before_mock)) as f64 / 1024.0;
    table.push_str(&format!(
        "\nMemory for {keys} string keys (12-byte keys, 16-byte values), RSS growth: redis-server {real_mb:.0} MiB, \
         redkit-server {mock_mb:.0} MiB ({:.2}×).\n",
        mock_mb / real_mb
    ));
    drop(mock);
    table.push_str(&format!(
        "\n#### With an append-only file (redis-benchmark -c 50 -n 20000, median of {} runs; requests/s)\n\n\
         | appendfsync | test | redis-server | redkit-server | ratio |\n|---|---|---:|---:|---:|\n",
        redkit_bench::runs(3)
    ));
    for fsync in ["always", "everysec"] {
        eprintln!("appendfsync {fsync}…");
        let real = RedisServer::with(redkit_test_support::ServerOptions {
            args: ["--appendonly", "yes", "--appendfsync", fsync]
                .map(str::to_owned)
                .to_vec(),
            ..Default::default()
        })
        .expect("redis-server starts");
        let mock = EmbeddedProcess::append_only(fsync);
        let r = median_of_runs(|| bench_with(real.port(), 1, 20_000, AOF_TESTS));
        let m = median_of_runs(|| bench_with(mock.port, 1, 20_000, AOF_TESTS));
        for (name, r) in &r {
            let m = m.get(name).copied().unwrap_or(0.0);
            table.push_str(&format!(
                "| {fsync} | {name} | {r:.0} | {m:.0} | {:.2}× |\n",
                m / r
            ));
        }
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("server.md"), &table).unwrap();
    println!("{table}");
}
