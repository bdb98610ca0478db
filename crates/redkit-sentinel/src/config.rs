//! How a [`SentinelClient`](crate::SentinelClient) connects: the sentinels, the service (master) name, the settings
//! for the data nodes and for the sentinels, and how often the view is reconciled.

use std::time::Duration;

use redkit::{Addr, Config};
use redkit_resp::{Error, Result};

/// Settings of a Sentinel client.
#[derive(Debug, Clone)]
pub struct SentinelConfig {
    /// The sentinels to ask (`host`, `port`); any reachable one will do.
    pub sentinels: Vec<(String, u16)>,
    /// The name the sentinels monitor the primary under (`sentinel monitor <name> …`).
    pub service: String,
    /// Connection settings for the primary (credentials, TLS, database, protocol, timeouts); its address is
    /// replaced by the primary's.
    pub node: Config,
    /// Connection settings for the sentinels; their address is replaced by each sentinel's.
    pub sentinel: Config,
    /// How often the primary is asked for again even without a `+switch-master` event (a missed event is caught
    /// within this time).
    pub reconcile_interval: Duration,
    /// How long a request waits for a primary while the current one is unreachable (a failover in progress)
    /// before its error is returned.
    pub failover_deadline: Duration,
}

impl SentinelConfig {
    /// Settings for these sentinels and service, with `redkit::Config`'s defaults for every connection.
    pub fn new(sentinels: Vec<(String, u16)>, service: impl Into<String>) -> SentinelConfig {
        SentinelConfig {
            sentinels,
            service: service.into(),
            node: Config::default(),
            sentinel: Config::default(),
            reconcile_interval: Duration::from_secs(1),
            failover_deadline: Duration::from_secs(15),
        }
    }

    /// Settings from `redis+sentinel://[user:password@]host1:26379,host2:26379/service[/db][?options]` (or
    /// `rediss+sentinel://` for TLS to the data nodes). The credentials and options apply to the primary; the
    /// sentinels are reached with the same TLS setting and no credentials (set [`SentinelConfig::sentinel`] for
    /// sentinels that need a password).
    ///
    /// ```
    /// use redkit_sentinel::SentinelConfig;
    ///
    /// let c = SentinelConfig::from_url("redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2:26380/mymaster/2").unwrap();
    /// assert_eq!(c.sentinels, [("10.0.0.1".to_owned(), 26379), ("10.0.0.2".to_owned(), 26380)]);
    /// assert_eq!((c.service.as_str(), c.node.db, c.node.password.as_deref()), ("mymaster", 2, Some("pw")));
    /// assert_eq!(c.sentinel.password, None);
    /// assert!(SentinelConfig::from_url("redis+sentinel://10.0.0.1:26379").is_err()); // no service name
    /// ```
    pub fn from_url(url: &str) -> Result<SentinelConfig> {
        let bad = |why: &str| Error::Config(format!("sentinel URL {url:?}: {why}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("not a URL"))?;
        let scheme = match scheme {
            "redis+sentinel" => "redis",
            "rediss+sentinel" => "rediss",
            _ => return Err(bad("it starts with redis+sentinel:// or rediss+sentinel://")),
        };
        let (before_query, query) = match rest.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (rest, String::new()),
        };
        let (authority, path) = before_query
            .split_once('/')
            .ok_or_else(|| bad("no service name"))?;
        let (userinfo, hosts) = match authority.rsplit_once('@') {
            Some((u, h)) => (format!("{u}@"), h),
            None => (String::new(), authority),
        };
        let mut path = path.splitn(2, '/');
        let service = path
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("no service name"))?;
        let db = path.next().map(|d| format!("/{d}")).unwrap_or_default();
        let mut sentinels = Vec::new();
        let mut sentinel = None;
        for host in hosts.split(',').filter(|h| !h.is_empty()) {
            let config = Config::from_url(&format!("{scheme}://{host}{query}"))?;
            let Addr::Tcp { host, port } = &config.addr else {
                return Err(bad("a sentinel needs a TCP address"));
            };
            sentinels.push((host.clone(), *port));
            sentinel.get_or_insert(config);
        }
        let sentinel = sentinel.ok_or_else(|| bad("no sentinel hosts"))?;
        let first = &sentinels[0];
        let node = Config::from_url(&format!(
            "{scheme}://{userinfo}{}:{}{db}{query}",
            first.0, first.1
        ))?;
        Ok(SentinelConfig {
            node,
            sentinel,
            ..SentinelConfig::new(sentinels, service)
        })
    }

    pub(crate) fn for_node(&self, host: &str, port: u16) -> Config {
        let mut config = self.node.clone();
        config.addr = Addr::Tcp {
            host: host.to_owned(),
            port,
        };
        // A request made while the primary is down fails at once, unsent, so it can wait for the new primary
        // instead of for the old one to come back.
        config.queue_while_disconnected = false;
        config
    }

    pub(crate) fn for_sentinel(&self, host: &str, port: u16) -> Config {
        let mut config = self.sentinel.clone();
        config.addr = Addr::Tcp {
            host: host.to_owned(),
            port,
        };
        config.db = 0;
        config
    }
}
