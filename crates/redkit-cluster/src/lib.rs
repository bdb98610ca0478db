//! A Redis Cluster client for redkit: a slot table over one multiplexed connection per node, routing read from
//! the command table, redirections followed within a budget, and pipelines that may span every slot.
//!
//! [`ClusterClient`] implements [`Executor`](redkit_resp::Executor), so the typed commands
//! ([`redkit::Commands`]), pipelines, `redkit-typed`, `redkit-cache` and `redkit-observe` work on a cluster
//! unchanged.
//!
//! | where | what |
//! | --- | --- |
//! | [`slot`] | [`key_slot`] and [`hash_tag`]: CRC16 of the key or its `{tag}`, as `CLUSTER KEYSLOT` |
//! | [`topology`] | [`Topology`]: `CLUSTER SHARDS` / `CLUSTER SLOTS` parsed into 16384 slots → shard |
//! | [`route`] | [`Route`]: which node(s) a command goes to, from its key specs and `request_policy` tip |
//! | `join` | how several nodes' replies become one, by the `response_policy` tip |
//! | [`client`] | [`ClusterClient`]: connections, the request loop (MOVED, ASK, TRYAGAIN, CLUSTERDOWN), refreshes |
//! | `pipeline` | pipelines split per node, sent at once, answers back in order; transactions kept whole |
//! | `executor` | `impl Executor for ClusterClient`: the top, joining the client and the pipeline splitter |
//! | [`config`] | [`ClusterConfig`]: seeds, per-node connection settings, the redirect budget and deadline |
//!
//! Data flows one way: a command is routed (`route`), sent by the client to the node the topology names,
//! and its replies joined (`join`); `topology` and `slot` know nothing of connections.
//!
//! ## Routing rules
//! - A command's keys are found by the command table's key specs (`EVAL`'s numkeys, `XREAD`'s `STREAMS`,
//!   `ZUNIONSTORE`'s count…): keys in one slot go to that slot's primary.
//! - Keys in several slots: MGET, MSET, DEL, UNLINK, EXISTS and TOUCH (`request_policy:multi_shard`) are split by
//!   slot, sent concurrently, and joined — MGET's values in the caller's key order, DEL's counts summed, MSET's
//!   `OK` once all parts succeeded. Any other command across slots (MSETNX included, which would no longer be
//!   all-or-nothing) is refused unsent with Redis's own `CROSSSLOT` error.
//! - No keys: `request_policy:all_shards` commands (DBSIZE, FLUSHALL, KEYS, SCRIPT EXISTS…) go to every primary,
//!   `all_nodes` ones (SCRIPT LOAD, CONFIG SET…) to every node, joined by the `response_policy` (sums, AND,
//!   "all succeeded"…; `special` replies come back as a map from `host:port` to each node's reply). Other
//!   keyless commands go to one primary.
//!
//! ## Retry semantics
//! Only answers that prove a command did not run are retried: MOVED (the slot is patched at once and one
//! coalesced refresh scheduled), ASK (ASKING then the command, on the importing node), TRYAGAIN and CLUSTERDOWN
//! (after a backoff), and a node whose connection is down (nothing is sent to it: node connections run with
//! `queue_while_disconnected` off; the client waits for a refresh, then fails fast while the cluster still names
//! that node). Each request gets `max_redirects` (16) such retries within `retry_deadline` (10 s). A connection
//! lost or a timeout with the command in flight is returned as it is — the command may have run, and a write is
//! never sent twice; a read (a command Redis flags `readonly`) is sent again.
//!
//! ## Failover
//! Measured on a 3×2 cluster with `cluster-node-timeout 2000` and a primary killed under a 16-task write load
//! (`tests/failover.rs`): no request to a healthy primary's slots failed; the dead primary's slots failed fast
//! until ~3–4 s after the kill and then moved to the promoted replica; no acknowledged write was lost. With
//! Redis's default `cluster-require-full-coverage yes` every node answers CLUSTERDOWN for ~1 s around the
//! promotion, which the client waits out; with `no`, the healthy slots never paused more than a few milliseconds.
//!
//! ```
//! use redkit_cluster::{hash_tag, key_slot};
//!
//! // Keys that share a hash tag share a slot: they can be used together in one command or transaction.
//! assert_eq!(key_slot(b"cart:{u42}:items"), key_slot(b"cart:{u42}:total"));
//! assert_eq!(hash_tag(b"cart:{u42}:items"), b"u42");
//! ```
//!
//! Connecting (needs a running cluster):
//!
//! ```no_run
//! use redkit::prelude::*;
//! use redkit_cluster::ClusterClient;
//!
//! # async fn demo() -> redkit_resp::Result<()> {
//! let cluster = ClusterClient::open(["redis+cluster://127.0.0.1:7000,127.0.0.1:7001"]).await?;
//! cluster.set("greeting", "hello").await?;
//! let keys: Vec<Option<String>> = cluster.mget(&["greeting", "missing"]).await?;
//! assert_eq!(keys, [Some("hello".to_owned()), None]);
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod config;
mod executor;
mod join;
mod pipeline;
pub mod route;
pub mod slot;
pub mod topology;

pub use client::ClusterClient;
pub use config::ClusterConfig;
pub use route::{Part, Route, command_slot};
pub use slot::{SLOTS, hash_tag, key_slot};
pub use topology::{NodeAddr, Shard, Topology, TopologyError};
