//! A real Redis Cluster for tests: `primaries` nodes serving the 16384 slots, each with `replicas` replicas, on
//! free loopback ports (client and bus ports both chosen free), made by `redis-cli --cluster create` and waited for
//! until every node reports `cluster_state:ok` and knows every other. Every node is killed when the cluster is
//! dropped.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::server::{RedisServer, ServerOptions, StartError, free_port};

/// How long a new cluster may take to agree on its slots.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(30);

/// Options for [`RedisCluster::start`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// How many primaries share the slots.
    pub primaries: usize,
    /// How many replicas each primary gets.
    pub replicas: usize,
    /// `cluster-node-timeout` in milliseconds: how soon a dead primary's replica takes over.
    pub node_timeout_ms: u64,
    /// `cluster-require-full-coverage` (Redis's default `yes`): while some slot has no live primary, every node
    /// refuses every command with CLUSTERDOWN; with `no`, the healthy slots keep being served.
    pub require_full_coverage: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            primaries: 3,
            replicas: 0,
            node_timeout_ms: 2000,
            require_full_coverage: true,
        }
    }
}

/// A running Redis Cluster of `redis-server` processes.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    options: ClusterOptions,
}

impl RedisCluster {
    /// Start a cluster, or return `None` after printing why the test is skipped (no `redis-server` outside CI).
    /// Panics when the cluster cannot be formed although the binary exists, or when it is missing in CI.
    pub fn start_or_skip(options: ClusterOptions) -> Option<RedisCluster> {
        crate::server::start_or_skip("a redis cluster", || RedisCluster::start(options))
    }

    /// Start the nodes, join them with `redis-cli --cluster create`, and wait until the cluster is whole.
    pub fn start(options: ClusterOptions) -> Result<RedisCluster, StartError> {
        let count = options.primaries * (1 + options.replicas);
        if options.primaries == 0 {
            return Err(StartError("a cluster needs at least one primary".into()));
        }
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            nodes.push(start_node(&options)?);
        }
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for node in &nodes {
            create.arg(format!("127.0.0.1:{}", node.port()));
        }
        create
            .args([
                "--cluster-replicas",
                &options.replicas.to_string(),
                "--cluster-yes",
            ])
            .stdin(std::process::Stdio::null());
        let out = create
            .output()
            .map_err(|e| StartError(format!("running redis-cli --cluster create: {e}")))?;
        if !out.status.success() {
            return Err(StartError(format!(
                "redis-cli --cluster create failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let cluster = RedisCluster { nodes, options };
        cluster.wait_healthy(CLUSTER_TIMEOUT)?;
        Ok(cluster)
    }

    /// The nodes, primaries first as `redis-cli` assigned them (the first `primaries` nodes), then replicas.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// A node, to kill or restart it.
    pub fn node_mut(&mut self, i: usize) -> Option<&mut RedisServer> {
        self.nodes.get_mut(i)
    }

    /// `redis://127.0.0.1:PORT` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The options the cluster was started with.
    pub fn options(&self) -> &ClusterOptions {
        &self.options
    }

    /// Wait until every node reports `cluster_state:ok`, sees every other node, and (for replicas) has synced with
    /// its primary and is reported `online` by CLUSTER SHARDS.
    pub fn wait_healthy(&self, limit: Duration) -> Result<(), StartError> {
        let deadline = Instant::now() + limit;
        let live = self.nodes.len();
        loop {
            let mut last = String::new();
            let healthy = self.nodes.iter().all(|node| {
                let info = node.cli(&["CLUSTER", "INFO"]).unwrap_or_default();
                let replication = node.cli(&["INFO", "replication"]).unwrap_or_default();
                last = format!("{info} {replication}");
                let replica_synced =
                    !replication.contains("role:slave") || replication.contains("master_link_status:up");
                // CLUSTER SHARDS says `loading` for a replica until its replication offset has been gossiped.
                let shards = node.cli(&["CLUSTER", "SHARDS"]).unwrap_or_default();
                let all_online = !shards.lines().any(|l| l == "loading" || l == "failed");
                info.contains("cluster_state:ok")
                    && replica_synced
                    && all_online
                    && info
                        .lines()
                        .find_map(|l| l.strip_prefix("cluster_known_nodes:"))
                        .and_then(|n| n.trim().parse::<usize>().ok())
                        .is_some_and(|n| n >= live)
            });
            if healthy {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartError(format!(
                    "cluster not healthy after {limit:?}: {}",
                    last.replace("\r\n", " ")
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// One cluster-enabled node with its bus on a free port of its own.
fn start_node(options: &ClusterOptions) -> Result<RedisServer, StartError> {
    let mut last = StartError("not started".into());
    for _ in 0..5 {
        let bus = free_port()?;
        let node = RedisServer::with(ServerOptions {
            args: vec![
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-node-timeout".into(),
                options.node_timeout_ms.to_string(),
                "--cluster-port".into(),
                bus.to_string(),
                "--cluster-require-full-coverage".into(),
                if options.require_full_coverage {
                    "yes"
                } else {
                    "no"
                }
                .into(),
            ],
            ..ServerOptions::default()
        });
        match node {
            Ok(node) if node.port() != bus => return Ok(node),
            Ok(_) => {}
            Err(e) => last = e,
        }
    }
    Err(last)
}
