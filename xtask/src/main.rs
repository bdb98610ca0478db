//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `cargo xtask ci`: formatting, module import cycles, lints, the whole test suite and the docs, as CI runs them.
//! - `cargo xtask modules [--verbose] <crate-dir>...`: check that the modules of each crate import each other
//!   without cycles (see `modules.rs`); reads source text only.
//! - `cargo xtask bench [NAME…] [--runs N] [--baseline REV]`: run benchmarks (all when no name is given) and write a
//!   markdown table of medians to `target/bench/NAME.md`. With `--baseline REV` (for `server`) the redis-benchmark
//!   comparison also runs the `redkit-server` binary built from git revision `REV`, interleaved with the others, and
//!   adds its column and the `redkit/baseline` ratio (see `server_bin.rs` for how and where it is built).
//! - `cargo xtask callgrind-server [--baseline REV] [--requests N]`: the instructions the release `redkit-server`
//!   executes per request of a fixed `redis-benchmark` workload, counted by callgrind, and with `--baseline REV`
//!   the same for that revision and the ratio of the two; writes `target/bench/callgrind-server.md` (see
//!   `callgrind.rs`).
//! - `cargo xtask fuzz-diff [--cases N]`: a longer run of the differential property test (random command
//!   sequences against `redis-server` and the embedded server).
//! - `cargo xtask crash [--server] [--cycles N]`: a longer kill-and-recover campaign against `redkit-log` (the
//!   test suite runs 200 cycles), or with `--server` against `redkit-server --appendonly yes --appendfsync always`
//!   as a process under write load (the suite runs 50).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime};

mod callgrind;
mod modules;
mod server_bin;

/// Benchmarks of the bench-only package, each a bench target in `bench/benches/`.
const BENCHES: &[&str] = &[
    "resp", "client", "cluster", "log", "server", "pool", "observe", "cache",
];

/// Benchmarks with their own harness, which repeat their runs and write `target/bench/NAME.md` themselves.
const SELF_REPORTING: &[&str] = &["client", "cluster", "log", "server", "pool", "observe", "cache"];

/// Packages that only `cargo xtask bench` builds: heavy comparison crates live there.
const BENCH_ONLY: &str = "redkit-bench";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench(&args[1..]),
        Some("callgrind-server") => callgrind::main(&args[1..]),
        Some("crash") => crash(&args[1..]),
        Some("fuzz-diff") => fuzz_diff(&args[1..]),
        Some("modules") => modules::main(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask ci | cargo xtask bench [NAME…] [--runs N] [--baseline <git-rev>]");
            eprintln!("       cargo xtask callgrind-server [--baseline <git-rev>] [--requests N]");
            eprintln!("       cargo xtask crash [--server] [--cycles N] | cargo xtask fuzz-diff [--cases N]");
            eprintln!("       cargo xtask modules [--verbose] <crate-dir>...");
            eprintln!("benchmarks: {}", BENCHES.join(", "));
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

/// Run a command, echoing it first; fail with its name if it fails.
fn run(step: &str, cmd: &mut Command) -> Result {
    eprintln!("\n==> {step}: {cmd:?}");
    let started = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("{step}: could not start: {e}"))?;
    eprintln!(
        "==> {step}: {} in {:.1}s",
        if status.success() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// Run a step in this process, reported like [`run`] reports a command.
fn step(name: &str, what: &str, f: impl FnOnce() -> Result) -> Result {
    eprintln!("\n==> {name}: {what}");
    let started = Instant::now();
    let result = f();
    eprintln!(
        "==> {name}: {} in {:.1}s",
        if result.is_ok() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    result.map_err(|e| format!("{name} failed: {e}"))
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn ci() -> Result {
    let started = Instant::now();
    let all = ["--workspace", "--exclude", BENCH_ONLY];
    run("fmt", cargo().args(["fmt", "--all", "--", "--check"]))?;
    step(
        "modules",
        "no import cycles between the modules of each crate under crates/",
        || modules::ci(&workspace_root()),
    )?;
    run(
        "clippy",
        cargo()
            .arg("clippy")
            .args(all)
            .args(["--all-targets", "--", "-D", "warnings"]),
    )?;
    run(
        "docs",
        cargo()
            .arg("doc")
            .args(all)
            .arg("--no-deps")
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // The test runner goes last, so that its summary closes the output.
    if has_nextest() {
        // nextest does not run doctests.
        run("doctests", cargo().arg("test").args(all).arg("--doc"))?;
        run(
            "tests",
            cargo().args(["nextest", "run"]).args(all).arg("--no-fail-fast"),
        )?;
    } else {
        run("tests", cargo().arg("test").args(all).arg("--no-fail-fast"))?;
    }
    eprintln!(
        "\nxtask ci: all steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn crash(args: &[String]) -> Result {
    const USAGE: &str = "usage: cargo xtask crash [--server] [--cycles N]";
    let mut cycles = 2000;
    let mut server = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--server" => server = true,
            "--cycles" => {
                cycles = rest
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .ok_or("--cycles takes a positive number")?;
            }
            _ => return Err(USAGE.into()),
        }
    }
    // The store alone, or `redkit-server --appendonly yes --appendfsync always` as a process.
    let (what, package, test, name) = if server {
        (
            "redkit-server",
            "redkit-server",
            "persistence",
            "acknowledged_writes_survive_sigkill",
        )
    } else {
        (
            "redkit-log",
            "redkit-log",
            "crash",
            "acknowledged_writes_survive_sigkill",
        )
    };
    run(
        &format!("{what} crash campaign ({cycles} cycles)"),
        cargo()
            .args([
                "test",
                "--release",
                "-p",
                package,
                "--test",
                test,
                "--",
                name,
                "--nocapture",
            ])
            .env("REDKIT_CRASH_CYCLES", cycles.to_string()),
    )
}

fn fuzz_diff(args: &[String]) -> Result {
    let cases = match args {
        [] => 10_000,
        [flag, n] if flag == "--cases" => n.parse::<u64>().map_err(|_| "--cases takes a positive number")?,
        _ => return Err("usage: cargo xtask fuzz-diff [--cases N]".into()),
    };
    run(
        &format!("differential property test ({cases} cases per protocol)"),
        cargo()
            .args([
                "test",
                "--release",
                "-p",
                "redkit-server",
                "--test",
                "differential",
                "--",
            ])
            .arg("random_command_sequences_agree_with_redis")
            .env("REDKIT_DIFF_CASES", cases.to_string()),
    )
}

fn bench(args: &[String]) -> Result {
    let mut names = Vec::new();
    let mut runs = 1usize;
    let mut baseline_rev = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--baseline" => {
                baseline_rev = Some(
                    it.next()
                        .filter(|r| !r.is_empty() && !r.starts_with("--"))
                        .ok_or("--baseline takes a git revision")?,
                );
            }
            "--runs" => {
                runs = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--runs takes a positive number")?;
            }
            name if BENCHES.contains(&name) => names.push(name.to_owned()),
            other => {
                return Err(format!(
                    "unknown benchmark {other:?}; known: {}",
                    BENCHES.join(", ")
                ));
            }
        }
    }
    if names.is_empty() {
        names = BENCHES.iter().map(|s| s.to_string()).collect();
    }
    if baseline_rev.is_some() && !names.iter().any(|n| n == "server") {
        return Err(
            "--baseline applies to the server benchmark: cargo xtask bench server --baseline <git-rev>"
                .into(),
        );
    }
    let out_dir = workspace_root().join("target/bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    for name in names {
        if SELF_REPORTING.contains(&name.as_str()) {
            let mut cmd = cargo();
            cmd.args(["bench", "-p", BENCH_ONLY, "--bench", &name]);
            if name == "server" {
                // The server benchmark runs the real `redkit-server` binary, as a user would.
                cmd.env("REDKIT_SERVER_BIN", server_bin::current()?);
                if let Some(rev) = baseline_rev {
                    let baseline = server_bin::build(rev)?;
                    cmd.env("REDKIT_SERVER_BASELINE_BIN", baseline.bin)
                        .env("REDKIT_SERVER_BASELINE_REV", baseline.label);
                }
            }
            if runs > 1 {
                cmd.env("REDKIT_BENCH_RUNS", runs.to_string());
            }
            run(&format!("bench {name}"), &mut cmd)?;
            let path = out_dir.join(format!("{name}.md"));
            let table =
                std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            println!("{table}");
            continue;
        }
        // benchmark id → median nanoseconds of each run, plus its throughput.
        let mut medians: BTreeMap<(String, String), (Vec<f64>, Throughput)> = BTreeMap::new();
        for run_no in 1..=runs {
            let started = SystemTime::now();
            run(
                &format!("bench {name} (run {run_no} of {runs})"),
                cargo().args(["bench", "-p", BENCH_ONLY, "--bench", &name]),
            )?;
            for est in read_estimates(&workspace_root().join("target/criterion"), started)? {
                medians
                    .entry((est.group, est.function))
                    .or_insert_with(|| (Vec::new(), est.throughput))
                    .0
                    .push(est.median_ns);
            }
        }
        let table = render(&name, runs, &medians);
        let path = out_dir.join(format!("{name}.md"));
        std::fs::write(&path, &table).map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!("{table}");
        eprintln!("written to {}", path.display());
    }
    Ok(())
}

#[derive(Clone, Copy, Debug)]
enum Throughput {
    Elements(f64),
    Bytes(f64),
    None,
}

struct Estimate {
    group: String,
    function: String,
    median_ns: f64,
    throughput: Throughput,
}

/// Every criterion result written since `since` under `dir` (`<group>/<function>/new/*.json`).
fn read_estimates(dir: &Path, since: SystemTime) -> Result<Vec<Estimate>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.file_name().and_then(|n| n.to_str()) != Some("estimates.json")
                || path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()) != Some("new")
            {
                continue;
            }
            let fresh = entry
                .metadata()
                .and_then(|m| m.modified())
                .map(|t| t >= since)
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            let Some(new_dir) = path.parent() else { continue };
            let estimates = read_json(&path)?;
            let meta = read_json(&new_dir.join("benchmark.json"))?;
            let median_ns = estimates["median"]["point_estimate"]
                .as_f64()
                .ok_or("estimates.json without a median")?;
            let throughput = match (&meta["throughput"]["Elements"], &meta["throughput"]["Bytes"]) {
                (serde_json::Value::Number(n), _) => Throughput::Elements(n.as_f64().unwrap_or(0.0)),
                (_, serde_json::Value::Number(n)) => Throughput::Bytes(n.as_f64().unwrap_or(0.0)),
                _ => Throughput::None,
            };
            out.push(Estimate {
                group: meta["group_id"].as_str().unwrap_or("?").to_owned(),
                function: meta["function_id"].as_str().unwrap_or("?").to_owned(),
                median_ns,
                throughput,
            });
        }
    }
    Ok(out)
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn format_time(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.2} s", n / 1e9),
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

fn format_rate(t: Throughput, ns: f64) -> String {
    let per_sec = |n: f64| n / (ns / 1e9);
    match t {
        Throughput::Elements(n) => format!("{:.2} M/s", per_sec(n) / 1e6),
        Throughput::Bytes(n) => format!("{:.2} GB/s", per_sec(n) / 1e9),
        Throughput::None => "—".into(),
    }
}

/// The contender every other one in a group is compared with, when present.
const BASELINE: &str = "redis";

fn render(name: &str, runs: usize, medians: &BTreeMap<(String, String), (Vec<f64>, Throughput)>) -> String {
    let mut out = format!(
        "### `{name}` (median of {runs} run(s); ratio = time of `{BASELINE}` / time of the row)\n\n\
         | benchmark | contender | median time | throughput | vs `{BASELINE}` |\n|---|---|---:|---:|---:|\n"
    );
    let mut groups: BTreeMap<&str, Vec<(&str, f64, Throughput)>> = BTreeMap::new();
    for ((group, function), (samples, t)) in medians {
        groups
            .entry(group)
            .or_default()
            .push((function, median(samples), *t));
    }
    for (group, rows) in groups {
        let base = rows.iter().find(|r| r.0 == BASELINE).map(|r| r.1);
        for (function, ns, t) in rows {
            let ratio = base
                .map(|b| format!("{:.2}×", b / ns))
                .unwrap_or_else(|| "—".into());
            out.push_str(&format!(
                "| {group} | {function} | {} | {} | {ratio} |\n",
                format_time(ns),
                format_rate(t, ns)
            ));
        }
    }
    out
}
