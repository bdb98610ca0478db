//! How a [`ClusterClient`](crate::ClusterClient) connects: the seed nodes, the per-node connection settings
//! (credentials, TLS, protocol, timeouts — one `redkit::Config` used for every node), and the redirect budget.

use std::time::Duration;

use redkit::{Addr, Config};
use redkit_resp::{Error, Result};

use crate::topology::NodeAddr;

/// Settings of a cluster client.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Nodes to ask for the topology first (any reachable one will do).
    pub seeds: Vec<NodeAddr>,
    /// The connection settings used for every node; its address is replaced by each node's.
    pub node: Config,
    /// How many redirections (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, an unreachable node) one request may follow
    /// before its last error is returned.
    pub max_redirects: u32,
    /// How long one request may keep following redirections and waiting for a topology refresh, in all.
    pub retry_deadline: Duration,
    /// The shortest time between two topology reads: MOVEDs that arrive together cause one read, not one each.
    pub min_refresh_interval: Duration,
    /// How many nodes a refresh asks; the view most of them agree on wins.
    pub refresh_quorum: usize,
}

impl ClusterConfig {
    /// Settings for these seed nodes, with `redkit::Config`'s defaults for each connection.
    pub fn new(seeds: Vec<NodeAddr>) -> ClusterConfig {
        ClusterConfig {
            seeds,
            node: Config::default(),
            max_redirects: 16,
            retry_deadline: Duration::from_secs(10),
            min_refresh_interval: Duration::from_millis(100),
            refresh_quorum: 3,
        }
    }

    /// Settings from seed URLs (`redis://h1:7000`, `rediss://…`): credentials, TLS and options are read from the
    /// first; every URL contributes its host and port.
    pub fn from_urls<I, S>(urls: I) -> Result<ClusterConfig>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut seeds = Vec::new();
        let mut template = None;
        for url in urls {
            let config = Config::from_url(url.as_ref())?;
            let Addr::Tcp { host, port } = &config.addr else {
                return Err(Error::Config(
                    "a cluster node needs a TCP address, not a Unix socket".into(),
                ));
            };
            seeds.push(NodeAddr {
                host: host.clone(),
                port: *port,
            });
            template.get_or_insert(config);
        }
        let Some(node) = template else {
            return Err(Error::Config("a cluster needs at least one seed node".into()));
        };
        if node.db != 0 {
            return Err(Error::Config("Redis Cluster has only database 0".into()));
        }
        Ok(ClusterConfig {
            node,
            ..ClusterConfig::new(seeds)
        })
    }

    /// Settings from a `redis+cluster://host1:7000,host2:7001/?options` URL (or `rediss+cluster://` for TLS):
    /// the hosts are the seeds; user, password and options apply to every node.
    ///
    /// ```
    /// use redkit_cluster::ClusterConfig;
    ///
    /// let c = ClusterConfig::from_url("redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001/?protocol=resp2").unwrap();
    /// assert_eq!(c.seeds.len(), 2);
    /// assert_eq!(c.seeds[1].to_string(), "10.0.0.2:7001");
    /// assert_eq!(c.node.password.as_deref(), Some("pw"));
    /// assert!(ClusterConfig::from_url("redis://10.0.0.1:7000").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<ClusterConfig> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::Config(format!("not a URL: {url}")))?;
        let scheme = match scheme {
            "redis+cluster" => "redis",
            "rediss+cluster" => "rediss",
            other => {
                return Err(Error::Config(format!(
                    "a cluster URL starts with redis+cluster:// or rediss+cluster://, not {other}://"
                )));
            }
        };
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((u, h)) => (format!("{u}@"), h),
            None => (String::new(), authority),
        };
        let urls: Vec<String> = hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(|host| format!("{scheme}://{userinfo}{host}{tail}"))
            .collect();
        ClusterConfig::from_urls(urls)
    }

    /// The connection settings for one node.
    pub(crate) fn for_node(&self, addr: &NodeAddr) -> Config {
        let mut config = self.node.clone();
        config.addr = Addr::Tcp {
            host: addr.host.clone(),
            port: addr.port,
        };
        // A request for a node that is down fails at once, unsent, and is routed again (its slot may have a
        // new owner) instead of waiting for that node to come back.
        config.queue_while_disconnected = false;
        config
    }
}
