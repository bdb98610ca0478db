//! A Redis Sentinel client for redkit: ask the sentinels which node is the primary of a service, talk to it over
//! one multiplexed `redkit::Client`, and move to the promoted replica when the sentinels fail over.
//!
//! [`SentinelClient`] implements [`Executor`](redkit_resp::Executor), so the typed commands
//! ([`redkit::prelude`]), pipelines, `redkit-typed`, `redkit-cache` and `redkit-observe` work unchanged.
//!
//! | where | what |
//! | --- | --- |
//! | [`config`] | [`SentinelConfig`]: sentinels, service name, connection settings, reconcile interval, failover deadline; `redis+sentinel://` URLs |
//! | [`client`] | [`SentinelClient`]: discovery (`SENTINEL GET-MASTER-ADDR-BY-NAME`, then `ROLE`), `+switch-master` on every sentinel, the reconciler, and the request loop |
//!
//! ## Failover behaviour
//! - The primary is found by asking the sentinels in turn and confirmed with `ROLE`: a node that is not a
//!   primary (yet) is never used as one.
//! - A subscriber on every sentinel follows `+switch-master`; a reconciler asks again every
//!   `reconcile_interval` (1 s) and checks `ROLE` on the node in use — so a missed event, a sentinel that died
//!   with the primary, or a primary demoted without an event is caught within a second.
//! - Requests: a `READONLY` refusal (the node was demoted) is sent again to the new primary; a request finding
//!   the primary unreachable waits for the switch, up to `failover_deadline` (15 s), since nothing was sent; a
//!   command in flight when the connection dropped is returned as it is — it may have run, and is never sent
//!   twice.
//!
//! ```
//! use redkit_sentinel::SentinelConfig;
//!
//! let config = SentinelConfig::from_url("redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster").unwrap();
//! assert_eq!(config.service, "mymaster");
//! assert_eq!(config.sentinels.len(), 2);
//! ```
//!
//! Connecting (needs running sentinels):
//!
//! ```no_run
//! use redkit::prelude::*;
//! use redkit_sentinel::SentinelClient;
//!
//! # async fn demo() -> redkit_resp::Result<()> {
//! let client = SentinelClient::open("redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/mymaster").await?;
//! client.set("greeting", "hello").await?;
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod config;

pub use client::SentinelClient;
pub use config::SentinelConfig;
