//! [`ClusterClient`]: the slot table, one multiplexed `redkit::Client` per node, and the request loop that follows
//! redirections.
//!
//! A request is routed ([`route`](crate::route)), sent to its node, and its reply inspected:
//!
//! | reply | what happens | counts against `max_redirects` |
//! | --- | --- | --- |
//! | `MOVED slot addr` | the slot is pointed at `addr` at once, one background refresh is scheduled, the command is resent there | yes |
//! | `ASK slot addr` | `ASKING` and the command are sent to `addr` together; the table is left alone | yes |
//! | `TRYAGAIN` (a multi-key command during a migration) | resent after a short backoff | yes |
//! | `CLUSTERDOWN` | a refresh is scheduled; resent after a backoff | yes |
//! | the node cannot be connected to | a refresh is scheduled and waited for (waiting is free), then resent | yes |
//! | the connection dropped with the command in flight, or it timed out | returned: the command may have run, and is never sent twice | — |
//!
//! Every request also has a deadline (`retry_deadline`) across all its attempts and waits.
//!
//! Refreshes are coalesced: however many requests see a MOVED at once, one task reads the topology, at most once
//! per `min_refresh_interval`, from up to `refresh_quorum` nodes, and keeps the view most of them agree on.
//! Requests never wait for a refresh unless their node is unreachable.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use redkit::Client;
use redkit_resp::{Cmd, Error, ErrorKind, Executor, Pipeline, Result, Value, reply_result};
use tokio::sync::{OnceCell, watch};
use tokio::task::JoinSet;

use crate::config::ClusterConfig;
use crate::join::{join, join_split};
use crate::route::Route;
use crate::topology::{NodeAddr, Topology};

/// A Redis Cluster client: an [`Executor`] that routes each command to the node serving its keys.
///
/// Cheap to clone (clones share the slot table and the connections).
#[derive(Clone, Debug)]
pub struct ClusterClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: ClusterConfig,
    topology: RwLock<Arc<Topology>>,
    nodes: Mutex<HashMap<NodeAddr, Arc<OnceCell<Client>>>>,
    refreshing: AtomicBool,
    /// Bumped after every refresh attempt, successful or not.
    generation: watch::Sender<u64>,
    last_refresh: Mutex<Option<Instant>>,
    topology_reads: AtomicU64,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterClient")
            .field("seeds", &self.config.seeds)
            .field("topology_reads", &self.topology_reads.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// What one attempt's reply asks of the request loop.
enum Next {
    /// The answer (or an error that is not a redirection).
    Done(Result<Value>),
    /// Send again, after doing this; the error is returned if the budget runs out.
    Retry(Retry, Error),
}

enum Retry {
    Moved(u16, NodeAddr),
    Ask(NodeAddr),
    Backoff {
        refresh: bool,
    },
    /// The node could not be connected to: a refresh was waited for.
    Unreachable,
}

impl ClusterClient {
    /// Connect: read the topology from the first seed that answers. Fails when none does, or when the cluster
    /// serves no slot at all.
    pub async fn connect(config: ClusterConfig) -> Result<ClusterClient> {
        if config.seeds.is_empty() {
            return Err(Error::Config("a cluster needs at least one seed node".into()));
        }
        let (generation, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            config,
            topology: RwLock::new(Arc::new(Topology::from_shards(Vec::new()).map_err(config_error)?)),
            nodes: Mutex::new(HashMap::new()),
            refreshing: AtomicBool::new(false),
            generation,
            last_refresh: Mutex::new(None),
            topology_reads: AtomicU64::new(0),
        });
        let seeds = inner.config.seeds.clone();
        let topology = inner.read_topology(&seeds).await?;
        if topology.covered() == 0 {
            return Err(Error::Config("the cluster serves no slots yet".into()));
        }
        inner.install(topology);
        Ok(ClusterClient { inner })
    }

    /// [`ClusterClient::connect`] with seed URLs (`["redis://h1:7000", "redis://h2:7001"]`) or one
    /// `redis+cluster://h1:7000,h2:7001` URL.
    pub async fn open<I, S>(urls: I) -> Result<ClusterClient>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let urls: Vec<String> = urls.into_iter().map(|u| u.as_ref().to_owned()).collect();
        let config = match urls.as_slice() {
            [one] if one.contains("+cluster://") => ClusterConfig::from_url(one)?,
            _ => ClusterConfig::from_urls(&urls)?,
        };
        ClusterClient::connect(config).await
    }

    /// The slot table as last read (or patched by a MOVED).
    pub fn topology(&self) -> Arc<Topology> {
        self.inner.current()
    }

    /// How many times the topology was read from the cluster since connecting (each read asks up to
    /// `refresh_quorum` nodes). A burst of MOVEDs should move this by one, not by thousands.
    pub fn topology_reads(&self) -> u64 {
        self.inner.topology_reads.load(Ordering::Relaxed)
    }

    /// Read the topology now and wait for it (after a resharding the application knows about, say).
    pub async fn refresh(&self) -> Result<()> {
        let nodes = self.inner.refresh_candidates();
        let topology = self.inner.read_topology(&nodes).await?;
        self.inner.install(topology);
        Ok(())
    }

    /// The connection to one node (for commands that must go to a node of your choosing).
    pub async fn node(&self, addr: &NodeAddr) -> Result<Client> {
        self.inner.client(addr).await
    }
}

/// How long one node may take to answer a topology read before the next node is asked.
const TOPOLOGY_READ_TIMEOUT: Duration = Duration::from_secs(2);

fn config_error(e: crate::topology::TopologyError) -> Error {
    Error::Config(e.to_string())
}

impl Inner {
    pub(crate) fn current(&self) -> Arc<Topology> {
        self.topology
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn install(&self, topology: Topology) {
        *self.topology.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(topology);
        let current = self.current();
        // Connections to nodes that left the cluster are dropped (each `Client` closes when its last clone goes).
        self.nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|addr, _| current.nodes().any(|n| n == addr));
    }

    /// The connection to `addr`, made on first use; concurrent first uses share one connect.
    pub(crate) async fn client(&self, addr: &NodeAddr) -> Result<Client> {
        let cell = self
            .nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(addr.clone())
            .or_default()
            .clone();
        let config = self.config.for_node(addr);
        let client = cell.get_or_try_init(|| Client::connect(config)).await?;
        // A connection that is down (lost, not replaced yet) would hold the request until it comes back: for a
        // cluster node that may never happen (its replica takes over), so the request is not sent at all.
        if *client.connection_epoch().borrow() % 2 == 1 {
            return Err(Error::Io {
                command: None,
                source: std::io::Error::new(
                    std::io::ErrorKind::NotConnected,
                    format!("cluster node {addr} is down (nothing was sent)"),
                ),
            });
        }
        Ok(client.clone())
    }

    /// The primary for `slot`, or any primary when no shard serves it (the node will redirect).
    pub(crate) fn primary_for(&self, slot: u16) -> Result<NodeAddr> {
        let topology = self.current();
        topology
            .primary_for(slot)
            .or_else(|| topology.primaries().next())
            .cloned()
            .ok_or_else(|| Error::Config("the cluster topology has no primaries".into()))
    }

    /// Some primary (for commands without keys): the one serving slot 0's shard, else the first listed.
    pub(crate) fn any_primary(&self) -> Result<NodeAddr> {
        self.primary_for(0)
    }

    fn refresh_candidates(&self) -> Vec<NodeAddr> {
        let topology = self.current();
        let mut nodes: Vec<NodeAddr> = topology.primaries().cloned().collect();
        for seed in &self.config.seeds {
            if !nodes.contains(seed) {
                nodes.push(seed.clone());
            }
        }
        nodes
    }

    /// Ask up to `refresh_quorum` of `nodes` (in order, skipping those that fail) for their view; keep the view
    /// most of them agree on (ties: the one covering more slots).
    async fn read_topology(&self, nodes: &[NodeAddr]) -> Result<Topology> {
        self.topology_reads.fetch_add(1, Ordering::Relaxed);
        let want = self.config.refresh_quorum.max(1);
        let mut views: Vec<(Topology, usize)> = Vec::new();
        let mut last_error = None;
        let mut answered = 0;
        for addr in nodes {
            if answered >= want {
                break;
            }
            match self.ask_topology(addr).await {
                Ok(view) => {
                    answered += 1;
                    match views.iter_mut().find(|(v, _)| *v == view) {
                        Some((_, votes)) => *votes += 1,
                        None => views.push((view, 1)),
                    }
                }
                Err(e) => {
                    tracing::debug!(node = %addr, error = %e, "topology read failed");
                    last_error = Some(e);
                }
            }
        }
        views
            .into_iter()
            .max_by_key(|(view, votes)| (*votes, view.covered()))
            .map(|(view, _)| view)
            .ok_or_else(|| last_error.unwrap_or_else(|| Error::Config("no cluster node to ask".into())))
    }

    async fn ask_topology(&self, addr: &NodeAddr) -> Result<Topology> {
        let client = self.client(addr).await?;
        let limit = Some(TOPOLOGY_READ_TIMEOUT);
        let view = match client
            .execute_timeout(Cmd::new("CLUSTER").arg("SHARDS"), limit)
            .await
        {
            Ok(reply) => Topology::from_cluster_shards(&reply, addr),
            // Before 7.0: CLUSTER SLOTS.
            Err(Error::Server { error, .. }) if error.code() == "ERR" => {
                let reply = client
                    .execute_timeout(Cmd::new("CLUSTER").arg("SLOTS"), limit)
                    .await?;
                Topology::from_cluster_slots(&reply, addr)
            }
            Err(e) => return Err(e),
        };
        Ok(view.map_err(config_error)?.normalized())
    }

    /// Schedule one background refresh unless one is running; it waits out `min_refresh_interval` first.
    pub(crate) fn schedule_refresh(self: &Arc<Self>) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = Arc::clone(self);
        tokio::spawn(async move {
            let wait = {
                let last = inner.last_refresh.lock().unwrap_or_else(PoisonError::into_inner);
                last.map_or(Duration::ZERO, |at| {
                    inner.config.min_refresh_interval.saturating_sub(at.elapsed())
                })
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let nodes = inner.refresh_candidates();
            match inner.read_topology(&nodes).await {
                Ok(view) if view.covered() > 0 => inner.install(view),
                Ok(_) => {
                    tracing::warn!("cluster topology refresh found no slots served; keeping the old view")
                }
                Err(e) => tracing::warn!(error = %e, "cluster topology refresh failed"),
            }
            *inner.last_refresh.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
            inner.refreshing.store(false, Ordering::Release);
            inner.generation.send_modify(|g| *g += 1);
        });
    }

    /// `true` when a refresh finished less than `age` ago.
    fn refreshed_within(&self, age: Duration) -> bool {
        self.last_refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < age)
    }

    /// Schedule a refresh and wait for it to finish (or for the deadline).
    async fn await_refresh(self: &Arc<Self>, deadline: Instant) {
        let mut generation = self.generation.subscribe();
        generation.borrow_and_update();
        self.schedule_refresh();
        let _ = tokio::time::timeout_at(deadline.into(), generation.changed()).await;
    }

    /// Run one command on its slot's primary, following redirections.
    pub(crate) async fn run_slot(self: &Arc<Self>, cmd: Cmd, slot: u16) -> Result<Value> {
        let deadline = Instant::now() + self.config.retry_deadline;
        let mut ask: Option<NodeAddr> = None;
        let mut redirects = 0u32;
        loop {
            let (addr, asking) = match ask.take() {
                Some(addr) => (addr, true),
                None => (self.primary_for(slot)?, false),
            };
            let next = match self.client(&addr).await {
                Ok(client) => match classify(send(&client, &cmd, asking).await) {
                    // The connection was down: nothing was sent, so any command may be routed again.
                    Next::Done(Err(e)) if unsent(&e) => {
                        self.schedule_refresh();
                        Next::Retry(Retry::Unreachable, e)
                    }
                    // In flight when the node went away: it may have run. A read is safe to send again; a write is
                    // returned (never applied twice), and the next request finds the new owner.
                    Next::Done(Err(e @ (Error::ConnectionLost { .. } | Error::Io { .. }))) => {
                        self.schedule_refresh();
                        if read_only(&cmd) {
                            Next::Retry(Retry::Unreachable, e)
                        } else {
                            Next::Done(Err(e))
                        }
                    }
                    next => next,
                },
                Err(e) => Next::Retry(Retry::Unreachable, e),
            };
            let (retry, error) = match next {
                Next::Done(result) => return result.map_err(|e| e.with_command(cmd.name())),
                Next::Retry(retry, error) => (retry, error),
            };
            redirects += 1;
            if redirects > self.config.max_redirects || Instant::now() >= deadline {
                return Err(error.with_command(cmd.name()));
            }
            match retry {
                Retry::Moved(slot, to) => {
                    self.patch(slot, &to);
                    self.schedule_refresh();
                }
                Retry::Ask(to) => ask = Some(to),
                Retry::Unreachable => {
                    tracing::debug!(node = %addr, %error, "cluster node unreachable");
                    // A refresh that finished moments ago still names this node: the cluster has not replaced it
                    // yet, and waiting for another would only hold the caller. Otherwise wait for one.
                    if self.refreshed_within(self.config.min_refresh_interval)
                        && self.primary_for(slot)? == addr
                    {
                        self.schedule_refresh();
                        return Err(error.with_command(cmd.name()));
                    }
                    self.await_refresh(deadline).await;
                    // Still the same node after the refresh: its slots have no reachable owner yet (a failover
                    // in progress). Fail now rather than hold the caller; a later request finds the new owner.
                    if self.primary_for(slot)? == addr {
                        return Err(error.with_command(cmd.name()));
                    }
                }
                Retry::Backoff { refresh } => {
                    if refresh {
                        self.schedule_refresh();
                    }
                    let pause = Duration::from_millis(10u64 << redirects.min(4));
                    tokio::time::sleep_until(deadline.min(Instant::now() + pause).into()).await;
                }
            }
        }
    }

    /// Point `slot` at `to` at once (a MOVED), before the refresh confirms it.
    pub(crate) fn patch(&self, slot: u16, to: &NodeAddr) {
        let mut guard = self.topology.write().unwrap_or_else(PoisonError::into_inner);
        let mut topology = (**guard).clone();
        topology.patch(slot, to);
        *guard = Arc::new(topology);
    }

    /// Run `cmd` on every node of `targets` at once; each node's reply (error replies as values).
    async fn fan_out(self: &Arc<Self>, cmd: &Cmd, targets: Vec<NodeAddr>) -> Result<Vec<(NodeAddr, Value)>> {
        let mut tasks = JoinSet::new();
        for (i, addr) in targets.into_iter().enumerate() {
            let (inner, cmd) = (Arc::clone(self), cmd.clone());
            tasks.spawn(async move {
                let client = inner.client(&addr).await?;
                let reply = match client.execute(cmd).await {
                    Ok(v) => v,
                    Err(Error::Server { error, .. }) => Value::Error(error.text().to_owned().into()),
                    Err(e) => return Err(e),
                };
                Ok::<_, Error>((i, addr, reply))
            });
        }
        let mut replies = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let done = done.map_err(|e| Error::Config(format!("a cluster request task failed: {e}")))?;
            replies.push(done?);
        }
        replies.sort_by_key(|(i, ..)| *i);
        Ok(replies.into_iter().map(|(_, a, v)| (a, v)).collect())
    }

    /// Run one command wherever its `route` says (a split command runs best as a one-command pipeline, which
    /// sends each node its parts in one round trip: see `executor.rs`), its replies joined into one value (error replies as values).
    pub(crate) async fn run(self: &Arc<Self>, cmd: Cmd, route: Route) -> Result<Value> {
        match route {
            Route::Slot(slot) => value_or_error(self.run_slot(cmd, slot).await),
            Route::Any => {
                let addr = self.any_primary()?;
                let client = self.client(&addr).await?;
                value_or_error(client.execute(cmd).await)
            }
            Route::AllPrimaries(policy) => {
                let targets = self.current().primaries().cloned().collect();
                Ok(join(policy, self.fan_out(&cmd, targets).await?))
            }
            Route::AllNodes(policy) => {
                let targets = self.current().nodes().cloned().collect();
                Ok(join(policy, self.fan_out(&cmd, targets).await?))
            }
            Route::Split {
                parts,
                policy,
                groups,
            } => {
                let mut tasks = JoinSet::new();
                for part in parts {
                    let inner = Arc::clone(self);
                    tasks.spawn(async move {
                        let addr = inner.primary_for(part.slot)?;
                        let reply = value_or_error(inner.run_slot(part.cmd, part.slot).await)?;
                        Ok::<_, Error>((addr, part.groups, reply))
                    });
                }
                let mut replies = Vec::new();
                while let Some(done) = tasks.join_next().await {
                    let done =
                        done.map_err(|e| Error::Config(format!("a cluster request task failed: {e}")))?;
                    replies.push(done?);
                }
                Ok(join_split(policy, groups, replies))
            }
        }
    }
}

/// `true` for an error that proves the command was not sent (the node's connection was down).
pub(crate) fn unsent(error: &Error) -> bool {
    matches!(error, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotConnected)
}

/// `true` for a command Redis flags `readonly` (safe to send twice).
fn read_only(cmd: &Cmd) -> bool {
    let words: Vec<&[u8]> = cmd.args().collect();
    words.split_first().is_some_and(|(name, rest)| {
        redkit_resp::command::resolve(name, rest.iter().copied())
            .is_some_and(|info| info.flags.contains(redkit_resp::command::CommandFlags::READONLY))
    })
}

/// Send `cmd` to one node (after ASKING when redirected by ASK), error replies as `Err(Error::Server)`.
async fn send(client: &Client, cmd: &Cmd, asking: bool) -> Result<Value> {
    if !asking {
        return client.execute(cmd.clone()).await;
    }
    let pipeline = Pipeline::new().with(Cmd::new("ASKING")).with(cmd.clone());
    let mut replies = client.execute_pipeline(pipeline).await?;
    let reply = replies.pop().unwrap_or(Value::Null);
    reply_result(cmd, reply)
}

fn classify(result: Result<Value>) -> Next {
    let error = match result {
        Err(Error::Server { command, error }) => (command, error),
        other => return Next::Done(other),
    };
    let retry = match error.1.kind() {
        ErrorKind::Moved { slot, addr } => NodeAddr::parse(addr).map(|to| Retry::Moved(*slot, to)),
        ErrorKind::Ask { addr, .. } => NodeAddr::parse(addr).map(Retry::Ask),
        ErrorKind::TryAgain => Some(Retry::Backoff { refresh: false }),
        ErrorKind::ClusterDown => Some(Retry::Backoff { refresh: true }),
        _ => None,
    };
    let error = Error::Server {
        command: error.0,
        error: error.1,
    };
    match retry {
        Some(retry) => Next::Retry(retry, error),
        None => Next::Done(Err(error)),
    }
}

/// An error reply as a value (to be joined or returned in place); other errors stay errors.
fn value_or_error(result: Result<Value>) -> Result<Value> {
    match result {
        Ok(v) => Ok(v),
        Err(Error::Server { error, .. }) => Ok(Value::Error(error.text().to_owned().into())),
        Err(e) => Err(e),
    }
}
