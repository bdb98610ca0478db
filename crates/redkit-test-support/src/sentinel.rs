//! A real Sentinel set-up for tests: a primary, its replicas, and sentinels monitoring it under a service name, all
//! on free loopback ports with short timeouts (`down-after-milliseconds`, `failover-timeout`), waited for until
//! every sentinel knows the replicas and the other sentinels. Every process is killed when dropped.

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::{RedisServer, ServerOptions, StartError, free_port, redis_server_binary};

/// How long the sentinels may take to discover the replicas and each other.
const SENTINEL_TIMEOUT: Duration = Duration::from_secs(30);

/// Options for [`RedisSentinels::start`].
#[derive(Debug, Clone)]
pub struct SentinelOptions {
    /// The service name (`sentinel monitor <name> …`).
    pub service: String,
    /// Replicas of the primary.
    pub replicas: usize,
    /// Sentinels.
    pub sentinels: usize,
    /// Sentinels that must agree the primary is down.
    pub quorum: usize,
    /// `down-after-milliseconds`.
    pub down_after_ms: u64,
    /// `failover-timeout` in milliseconds.
    pub failover_timeout_ms: u64,
}

impl Default for SentinelOptions {
    fn default() -> Self {
        SentinelOptions {
            service: "mymaster".into(),
            replicas: 1,
            sentinels: 3,
            quorum: 2,
            down_after_ms: 1000,
            failover_timeout_ms: 10000,
        }
    }
}

/// One `redis-server --sentinel` process.
#[derive(Debug)]
pub struct Sentinel {
    child: Option<Child>,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Sentinel {
    /// The sentinel's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kill the sentinel (as a crash would).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The sentinel's log so far (for a failing test's message).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("sentinel.log")).unwrap_or_default()
    }

    /// Run one command through `redis-cli` against this sentinel.
    pub fn cli(&self, args: &[&str]) -> Result<String, StartError> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .map_err(|e| StartError(format!("running redis-cli: {e}")))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A primary, its replicas and the sentinels watching them.
#[derive(Debug)]
pub struct RedisSentinels {
    /// The primary first, then the replicas (as started; after a failover another may be the primary).
    pub nodes: Vec<RedisServer>,
    /// The sentinels.
    pub sentinels: Vec<Sentinel>,
    options: SentinelOptions,
}

impl RedisSentinels {
    /// Start the set-up, or return `None` after printing why the test is skipped (no `redis-server` outside CI).
    pub fn start_or_skip(options: SentinelOptions) -> Option<RedisSentinels> {
        crate::server::start_or_skip("redis sentinels", || RedisSentinels::start(options))
    }

    /// Start the primary, the replicas (`--replicaof`), then the sentinels, and wait until every sentinel sees
    /// every replica and the other sentinels.
    pub fn start(options: SentinelOptions) -> Result<RedisSentinels, StartError> {
        let primary = RedisServer::with(ServerOptions::default())?;
        let primary_port = primary.port().to_string();
        let mut nodes = vec![primary];
        for _ in 0..options.replicas {
            nodes.push(RedisServer::with(ServerOptions {
                args: vec!["--replicaof".into(), "127.0.0.1".into(), primary_port.clone()],
                ..ServerOptions::default()
            })?);
        }
        let mut sentinels = Vec::new();
        for _ in 0..options.sentinels {
            sentinels.push(start_sentinel(&options, &primary_port)?);
        }
        let set = RedisSentinels {
            nodes,
            sentinels,
            options,
        };
        set.wait_ready(SENTINEL_TIMEOUT)?;
        Ok(set)
    }

    /// `redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,…/service`.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port()))
            .collect();
        format!("redis+sentinel://{}/{}", hosts.join(","), self.options.service)
    }

    /// The options it was started with.
    pub fn options(&self) -> &SentinelOptions {
        &self.options
    }

    fn wait_ready(&self, limit: Duration) -> Result<(), StartError> {
        let deadline = Instant::now() + limit;
        let service = self.options.service.as_str();
        loop {
            let mut last = String::new();
            let ready = self.sentinels.iter().all(|s| {
                let info = s.cli(&["SENTINEL", "MASTER", service]).unwrap_or_default();
                last = info.replace('\n', " ");
                let field = |name: &str| {
                    let lines: Vec<&str> = info.lines().collect();
                    lines
                        .iter()
                        .position(|l| *l == name)
                        .and_then(|i| lines.get(i + 1))
                        .and_then(|v| v.parse::<usize>().ok())
                };
                field("num-slaves") == Some(self.options.replicas)
                    && field("num-other-sentinels") == Some(self.options.sentinels.saturating_sub(1))
            });
            let replicas_synced = self.nodes[1..].iter().all(|n| {
                n.cli(&["INFO", "replication"])
                    .unwrap_or_default()
                    .contains("master_link_status:up")
            });
            if ready && replicas_synced {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartError(format!("sentinels not ready after {limit:?}: {last}")));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn start_sentinel(options: &SentinelOptions, primary_port: &str) -> Result<Sentinel, StartError> {
    let binary = redis_server_binary().ok_or_else(|| StartError("redis-server not found".into()))?;
    let mut last = StartError("not started".into());
    for _ in 0..5 {
        let dir = tempfile::Builder::new()
            .prefix("redkit-sentinel-")
            .tempdir()
            .map_err(|e| StartError(format!("creating a temporary directory: {e}")))?;
        let port = free_port()?;
        let conf = dir.path().join("sentinel.conf");
        let log = dir.path().join("sentinel.log");
        let service = &options.service;
        let text = format!(
            "port {port}\nbind 127.0.0.1\nprotected-mode no\ndir {dir}\nlogfile {log}\n\
             sentinel monitor {service} 127.0.0.1 {primary_port} {quorum}\n\
             sentinel down-after-milliseconds {service} {down}\n\
             sentinel failover-timeout {service} {failover}\n\
             sentinel parallel-syncs {service} 1\n",
            dir = dir.path().display(),
            log = log.display(),
            quorum = options.quorum,
            down = options.down_after_ms,
            failover = options.failover_timeout_ms,
        );
        std::fs::File::create(&conf)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(|e| StartError(format!("writing sentinel.conf: {e}")))?;
        let child = Command::new(&binary)
            .arg(&conf)
            .arg("--sentinel")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| StartError(format!("spawning redis-server --sentinel: {e}")))?;
        let mut sentinel = Sentinel {
            child: Some(child),
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if sentinel.cli(&["PING"]).is_ok_and(|p| p == "PONG") {
                return Ok(sentinel);
            }
            let exited = sentinel
                .child
                .as_mut()
                .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
            if exited || Instant::now() >= deadline {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                last = StartError(format!(
                    "sentinel on {port} did not start: {}",
                    crate::server::last_lines(&text)
                ));
                sentinel.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Err(last)
}
