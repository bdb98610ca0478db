//! `cargo xtask callgrind-server [--baseline REV] [--requests N]`: the instructions the release `redkit-server`
//! binary executes per request, counted by `valgrind --tool=callgrind`, and with `--baseline REV` the same for
//! that revision's binary (built as `cargo xtask bench server --baseline` builds it, see `server_bin.rs`).
//!
//! Each binary runs twice under callgrind on a free loopback port: once with the workload,
//! `redis-benchmark -c 1 -n N -P 16 -t set,get,incr,lpush,hset` (one client, so the order of the commands, and
//! with it the count, is the same from run to run; N defaults to 20000), and once without it; both are stopped
//! with `redis-cli shutdown nosave`. The workload's cost is the difference of the two totals (start-up and
//! shutdown cancel out), divided by N × 5 requests. Instruction counts do not depend on the machine's load, so
//! this is the figure to compare on a shared machine; it leaves out what the kernel does (system calls run
//! outside the count) and the cost of waiting. The one time-driven part of the server, the expiry cycle every
//! 100 ms, adds a little to the longer run (well under 1% here).
//!
//! The table goes to standard output and `target/bench/callgrind-server.md`; the callgrind profiles (for
//! `callgrind_annotate`) and valgrind's logs stay in `target/callgrind-server/`.

use std::fs::File;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, server_bin, workspace_root};

const USAGE: &str = "usage: cargo xtask callgrind-server [--baseline <git-rev>] [--requests N]";

/// The workload's `redis-benchmark` tests: each sends N requests.
const TESTS: &[&str] = &["set", "get", "incr", "lpush", "hset"];

/// How long a server under valgrind may take to listen.
const START_LIMIT: Duration = Duration::from_secs(60);

/// How long it may take to exit after SHUTDOWN (callgrind writes its profile then).
const STOP_LIMIT: Duration = Duration::from_secs(120);

/// How long `redis-cli` may take to deliver SHUTDOWN.
const CLI_LIMIT: Duration = Duration::from_secs(60);

/// How long the workload may take: a fixed allowance plus a generous time per request (a pipelined request
/// takes well under a millisecond under callgrind).
fn workload_limit(requests: u64) -> Duration {
    Duration::from_secs(120)
        + Duration::from_millis(5).saturating_mul(u32::try_from(requests).unwrap_or(u32::MAX))
}

/// The command's options.
#[derive(Debug, PartialEq)]
struct Options {
    baseline: Option<String>,
    requests: u64,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        baseline: None,
        requests: 20_000,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--baseline" => {
                options.baseline = Some(
                    it.next()
                        .filter(|r| !r.is_empty() && !r.starts_with("--"))
                        .ok_or("--baseline takes a git revision")?
                        .clone(),
                );
            }
            "--requests" => {
                options.requests = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or("--requests takes a positive number")?;
            }
            _ => return Err(USAGE.into()),
        }
    }
    Ok(options)
}

/// One binary's two runs.
struct Measured {
    binary: &'static str,
    revision: String,
    /// Instructions of the run with the workload.
    run: u64,
    /// Instructions of the run without it.
    idle: u64,
}

impl Measured {
    fn workload(&self) -> u64 {
        self.run.saturating_sub(self.idle)
    }

    fn per_request(&self, requests: u64) -> f64 {
        self.workload() as f64 / requests as f64
    }
}

pub(crate) fn main(args: &[String]) -> Result {
    let options = parse(args)?;
    for tool in ["valgrind", "redis-benchmark", "redis-cli"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            return Err(format!(
                "{tool} is not installed (callgrind-server needs valgrind and Redis's tools)"
            ));
        }
    }
    let current = server_bin::current()?;
    let baseline = options.baseline.as_deref().map(server_bin::build).transpose()?;
    let root = workspace_root();
    let profiles = root.join("target/callgrind-server");
    std::fs::create_dir_all(&profiles).map_err(|e| format!("creating {}: {e}", profiles.display()))?;
    let requests = options.requests * TESTS.len() as u64;

    let mut rows = vec![measure(
        "redkit-server",
        server_bin::working_tree_label(),
        &current,
        options.requests,
        &profiles.join("current"),
    )?];
    if let Some(baseline) = baseline {
        rows.push(measure(
            "baseline",
            baseline.label,
            &baseline.bin,
            options.requests,
            &profiles.join("baseline"),
        )?);
    }

    let table = render(options.requests, &rows);
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    let path = out_dir.join("callgrind-server.md");
    std::fs::write(&path, &table).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("{table}");
    eprintln!(
        "written to {} ({requests} requests per workload run; profiles in {})",
        path.display(),
        profiles.display()
    );
    Ok(())
}

/// Both runs of one binary, profiles at `prefix-run.callgrind` and `prefix-idle.callgrind`.
fn measure(
    binary: &'static str,
    revision: String,
    bin: &Path,
    requests: u64,
    prefix: &Path,
) -> Result<Measured> {
    let name = |kind: &str| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(format!("-{kind}.callgrind"));
        PathBuf::from(p)
    };
    let step = format!("callgrind {binary} ({revision})");
    let (mut idle, mut run) = (0, 0);
    crate::step(&step, "start-up and shutdown only", || {
        idle = profile(bin, &name("idle"), None)?;
        Ok(())
    })?;
    crate::step(
        &step,
        &format!("redis-benchmark -c 1 -n {requests} -P 16 -t {}", TESTS.join(",")),
        || {
            run = profile(bin, &name("run"), Some(requests))?;
            Ok(())
        },
    )?;
    Ok(Measured {
        binary,
        revision,
        run,
        idle,
    })
}

/// A process killed and reaped on drop unless it has exited.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// One run of `bin` under callgrind, with the workload when `requests` is given; its total instruction count.
fn profile(bin: &Path, out: &Path, requests: Option<u64>) -> Result<u64> {
    let log_path = out.with_extension("log");
    let log = File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("{}: {e}", log_path.display()))?;
    match std::fs::remove_file(out) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("removing the old {}: {e}", out.display())),
    }
    let port = free_port()?;
    let mut out_arg = std::ffi::OsString::from("--callgrind-out-file=");
    out_arg.push(out);
    let child = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(out_arg)
        .arg(bin)
        .args(["--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("valgrind: could not start: {e}"))?;
    let mut server = Reaped(child);
    let logged = || format!("(valgrind's log: {})", log_path.display());
    wait_listening(&mut server.0, port).map_err(|e| format!("{e} {}", logged()))?;
    if let Some(n) = requests {
        let csv = bounded(
            Command::new("redis-benchmark")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-c",
                    "1",
                    "-n",
                    &n.to_string(),
                ])
                .args(["-P", "16", "-t", &TESTS.join(","), "--csv", "-q"]),
            workload_limit(n * TESTS.len() as u64),
        )?;
        let done = reported_tests(&csv);
        if done != TESTS.len() {
            return Err(format!(
                "redis-benchmark reported {done} of {} tests:\n{csv}",
                TESTS.len()
            ));
        }
    }
    // Whatever redis-cli says (the connection closes under it), the server's exit is what counts.
    let said = bounded(
        Command::new("redis-cli").args(["-h", "127.0.0.1", "-p", &port.to_string(), "shutdown", "nosave"]),
        CLI_LIMIT,
    )
    .unwrap_or_else(|e| e);
    let status = wait_exit(&mut server.0, STOP_LIMIT, "the server under valgrind").map_err(|e| {
        format!(
            "{e} after SHUTDOWN NOSAVE (redis-cli: {:?}) {}",
            said.trim(),
            logged()
        )
    })?;
    if !status.success() {
        return Err(format!(
            "the server under valgrind exited with {status} {}",
            logged()
        ));
    }
    total_instructions(out)
}

fn free_port() -> Result<u16> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("probing for a free loopback port: {e}"))
}

/// Poll the port until the server accepts a connection, for at most [`START_LIMIT`].
fn wait_listening(child: &mut Child, port: u16) -> Result {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    while started.elapsed() < START_LIMIT {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the server under valgrind exited before listening ({status})"
            ));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "the server under valgrind did not listen on port {port} within {} s",
        START_LIMIT.as_secs()
    ))
}

/// Wait for `child` to exit, for at most `limit`; killed (and an error) past it.
fn wait_exit(child: &mut Child, limit: Duration, what: &str) -> Result<ExitStatus> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if started.elapsed() < limit => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{what} did not exit within {} s (killed)",
                    limit.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for {what}: {e}")),
        }
    }
}

/// Run a command to completion within `limit`: its standard output when it succeeds, an error otherwise
/// (killed past the limit).
fn bounded(cmd: &mut Command, limit: Duration) -> Result<String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    eprintln!("    {cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: could not start: {e}"))?;
    // Read both pipes while waiting, so that a chatty child never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let status = wait_exit(&mut child, limit, &program);
    let stdout = stdout
        .join()
        .map_err(|_| format!("{program}: reading its output failed"))?;
    let stderr = stderr
        .join()
        .map_err(|_| format!("{program}: reading its output failed"))?;
    let status = status?;
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{program} failed ({status}): {}{}",
            stdout.trim(),
            stderr.trim()
        ))
    }
}

/// The number of tests in `redis-benchmark --csv` output: the rows after the header.
fn reported_tests(csv: &str) -> usize {
    csv.lines()
        .filter(|l| l.starts_with('"') && !l.starts_with("\"test\""))
        .count()
}

/// The total instruction count of a callgrind profile.
fn total_instructions(path: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse_total(&text).ok_or_else(|| format!("{}: no `totals:` or `summary:` line", path.display()))
}

/// The sum of the first event (Ir) over the profile's `totals:` lines (one per dump part), or over its
/// `summary:` lines when it has none.
fn parse_total(profile: &str) -> Option<u64> {
    let sum = |key: &str| {
        let mut found = false;
        let mut total = 0u64;
        for line in profile.lines() {
            if let Some(rest) = line.strip_prefix(key) {
                let ir = rest.split_whitespace().next()?.parse::<u64>().ok()?;
                total = total.checked_add(ir)?;
                found = true;
            }
        }
        found.then_some(total)
    };
    sum("totals:").or_else(|| sum("summary:"))
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render(n: u64, rows: &[Measured]) -> String {
    let requests = n * TESTS.len() as u64;
    let mut out = format!(
        "### `callgrind-server` (instructions executed under `valgrind --tool=callgrind`; workload: \
         `redis-benchmark -c 1 -n {n} -P 16 -t {}`, {requests} requests)\n\n\
         Workload Ir = Ir of the run with the workload − Ir of a start-up-and-shutdown-only run of the same binary; \
         new/baseline compares Ir per request.\n\n\
         | binary | revision | Ir, run | Ir, start-up + shutdown | workload Ir | Ir per request | new/baseline |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
        TESTS.join(",")
    );
    let base = rows
        .iter()
        .find(|r| r.binary == "baseline")
        .map(|r| r.per_request(requests));
    for row in rows {
        let ratio = match (row.binary, base) {
            ("baseline", _) | (_, None) => "—".to_owned(),
            (_, Some(b)) => format!("{:.3}×", row.per_request(requests) / b),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1} | {ratio} |\n",
            row.binary,
            row.revision,
            thousands(row.run),
            thousands(row.idle),
            thousands(row.workload()),
            row.per_request(requests),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_parse_by_hand() {
        assert_eq!(
            parse(&args(&[])),
            Ok(Options {
                baseline: None,
                requests: 20_000
            })
        );
        assert_eq!(
            parse(&args(&["--requests", "2000", "--baseline", "HEAD~3"])),
            Ok(Options {
                baseline: Some("HEAD~3".into()),
                requests: 2000
            })
        );
        assert!(parse(&args(&["--requests", "0"])).is_err());
        assert!(parse(&args(&["--requests"])).is_err());
        assert!(parse(&args(&["--baseline"])).is_err());
        assert!(parse(&args(&["--baseline", "--requests", "5"])).is_err());
        assert!(parse(&args(&["HEAD~3"])).is_err());
    }

    #[test]
    fn totals_are_read_from_the_profile() {
        let profile = "version: 1\ncreator: callgrind-3.19.0\ncmd: redkit-server --port 1\npart: 1\n\
                       events: Ir\nsummary: 123456789\n\nfn=(1) main\n0 5\ntotals: 123456789\n";
        assert_eq!(parse_total(profile), Some(123_456_789));
        // Several dump parts: their totals add up.
        assert_eq!(parse_total("totals: 10\ntotals: 5\n"), Some(15));
        // Only a summary line.
        assert_eq!(parse_total("events: Ir Dr\nsummary: 42 7\n"), Some(42));
        assert_eq!(parse_total("events: Ir\n"), None);
        assert_eq!(parse_total("totals: many\n"), None);
    }

    #[test]
    fn the_csv_rows_are_the_tests() {
        let csv =
            "\"test\",\"rps\",\"avg_latency_ms\"\n\"SET\",\"1000.00\",\"0.1\"\n\"GET\",\"1000.00\",\"0.1\"\n";
        assert_eq!(reported_tests(csv), 2);
        assert_eq!(reported_tests(""), 0);
    }

    #[test]
    fn numbers_have_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn the_table_compares_per_request_cost_with_the_baseline() {
        let rows = [
            Measured {
                binary: "redkit-server",
                revision: "working tree at abc".into(),
                run: 1_100_000,
                idle: 100_000,
            },
            Measured {
                binary: "baseline",
                revision: "HEAD~3 (def)".into(),
                run: 1_350_000,
                idle: 100_000,
            },
        ];
        let table = render(100, &rows);
        assert!(
            table.contains(
                "| redkit-server | working tree at abc | 1,100,000 | 100,000 | 1,000,000 | 2000.0 | 0.800× |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| baseline | HEAD~3 (def) | 1,350,000 | 100,000 | 1,250,000 | 2500.0 | — |"),
            "{table}"
        );
        let alone = render(100, &rows[..1]);
        assert!(alone.contains("| 2000.0 | — |"), "{alone}");
    }
}
