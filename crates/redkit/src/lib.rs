//! An async Redis client for tokio: one multiplexed connection shared by any number of tasks, pipelines,
//! transactions, pub/sub, scripts, and a typed method for every command.
//!
//! ```no_run
//! use std::time::Duration;
//! use redkit::prelude::*;
//! use redkit::{Client, SetOptions};
//!
//! # async fn demo() -> redkit::Result<()> {
//! let client = Client::open("redis://127.0.0.1:6379").await?;
//! client.set_with("session:42", "ada", SetOptions::new().ttl(Duration::from_secs(60))).await?;
//! let user: Option<String> = client.get("session:42").await?;
//! let ttl = client.pttl("session:42").await?;
//! println!("{user:?} expires in {ttl:?}");
//! # Ok(()) }
//! ```
//!
//! # Where things are
//! | piece | module |
//! | --- | --- |
//! | URLs and settings | [`config`] |
//! | one exclusive connection, handshake, cancel-safe request/reply | [`connection`] |
//! | the multiplexed, auto-pipelining, reconnecting client | [`client`] |
//! | typed commands, one file per family | [`commands`] |
//! | pipelines and MULTI/EXEC | [`pipeline`], [`transaction`] |
//! | pub/sub | [`subscriber`] |
//! | scripts | [`script`] |
//! | SCAN as a stream | [`scan`] |
//!
//! # How the client fits the `Executor` seam
//! [`Client`], [`Dedicated`] and anything else that can run a command implement [`Executor`] from
//! `redkit-resp`: "send this command or pipeline, give me the replies". The typed command traits are implemented
//! for *every* `Executor`, and layers (metrics, pools, retries) wrap one executor in another. A Redis Cluster
//! router is therefore just another `Executor`: it holds a slot map and one `Client` per node, computes each
//! command's slot from its key arguments (`Cmd::args`), sends it to the owning node's client, and on a
//! `MOVED`/`ASK` reply ([`ErrorKind::Moved`]/[`ErrorKind::Ask`], with slot and address already parsed) updates
//! its map or sends `ASKING` and retries. Nothing above the seam changes.

mod blocking;
pub mod client;
pub mod commands;
pub mod config;
pub mod connection;
pub mod dedicated;
pub mod pipeline;
pub mod scan;
pub mod script;
pub mod subscriber;
pub mod transaction;
mod transport;

pub use client::Client;
pub use commands::Commands;
pub use commands::options::*;
pub use commands::server::{Info, ServerTime, SlowlogEntry};
pub use config::{Addr, Backoff, Config, TlsConfig, TlsRoots};
pub use connection::Connection;
pub use dedicated::Dedicated;
pub use pipeline::TypedPipeline;
pub use redkit_resp::{
    BoxFuture, Cmd, ConnectionEffect, ConversionError, DynExecutor, Error, ErrorKind, Executor, FromValue,
    Pipeline, RespVersion, Result, ServerError, Subscription, ToArg, Value,
};
pub use scan::{ScanStream, collect_scan, hscan_all, scan_all, sscan_all, zscan_all};
pub use script::Script;
pub use subscriber::{Message, MessageKind, Subscriber};
pub use transaction::Watched;

/// A command built by hand, for anything the typed methods do not cover:
/// `client.query::<i64>(redkit::cmd("OBJECT").arg("REFCOUNT").arg("key"))`.
pub fn cmd(name: &str) -> Cmd {
    Cmd::new(name)
}

/// Everything needed to call commands: `use redkit::prelude::*;`.
pub mod prelude {
    pub use crate::commands::Issue;
    pub use crate::commands::connection::ConnectionCommands;
    pub use crate::commands::geo::GeoCommands;
    pub use crate::commands::hash::HashCommands;
    pub use crate::commands::hyperloglog::HyperLogLogCommands;
    pub use crate::commands::key::KeyCommands;
    pub use crate::commands::list::ListCommands;
    pub use crate::commands::pubsub::PubSubCommands;
    pub use crate::commands::scripting::ScriptingCommands;
    pub use crate::commands::server::ServerCommands;
    pub use crate::commands::set::SetCommands;
    pub use crate::commands::stream::StreamCommands;
    pub use crate::commands::string::StringCommands;
    pub use crate::commands::zset::SortedSetCommands;
    pub use crate::pipeline::TypedPipeline;
    pub use redkit_resp::{Cmd, Executor, FromValue, ToArg, Value};
}
