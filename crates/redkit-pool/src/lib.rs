//! A connection pool for redkit, built on [`deadpool`].
//!
//! Most programs are best served by redkit's multiplexed [`Client`](redkit::Client): one connection carries any
//! number of concurrent requests. A pool is for the other cases — many exclusive, stateful sequences at once
//! (WATCH/MULTI/EXEC, blocking pops, SELECT), or a deliberate spread of load over several connections.
//!
//! - [`Pool`] is an [`Executor`](redkit::Executor): each command or pipeline takes a connection, uses it, and
//!   returns it, so every typed command of [`Commands`](redkit::Commands) works on a pool directly.
//! - [`Pool::get`] hands out a [`PooledConnection`] for exclusive use until dropped.
//! - A connection never comes back dirty: one returned inside MULTI, with WATCHed keys or on another database is
//!   repaired (DISCARD, UNWATCH, SELECT) before reuse; one that subscribed, turned on CLIENT TRACKING,
//!   re-authenticated, was renamed, ran MONITOR, CLIENT REPLY, RESET or QUIT, or had a write cut short is closed
//!   and replaced. The commands that change a connection are those of
//!   [`redkit_resp::connection_effect`]. Replies still owed to dropped
//!   requests are drained by the validation PING.
//! - [`PoolConfig`]: max size, min idle (opened at start and kept), acquire timeout, idle timeout, maximum
//!   lifetime, validation on acquire.
//! - [`Pool::status`]: sizes, counters and acquire-latency percentiles.
//!
//! ```
//! use redkit::Config;
//! use redkit::prelude::*;
//! use redkit_pool::{Pool, PoolConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = redkit_server::TcpServer::start().await?;
//! # let url = server.url();
//! // `url` is e.g. "redis://127.0.0.1:6379" (here, an embedded server).
//! let pool = Pool::connect(Config::from_url(&url)?, PoolConfig::new(4)).await?;
//! pool.set("greeting", "hello").await?;
//! // `pool.get()` acquires a connection; the GET command is reached through its trait.
//! let greeting: Option<String> = StringCommands::get(&pool, "greeting").await?;
//! assert_eq!(greeting.as_deref(), Some("hello"));
//!
//! // An exclusive connection for a transaction.
//! let conn = pool.get().await?;
//! conn.watch("greeting").await?;
//! drop(conn); // back to the pool: the WATCH is undone before anyone else gets it
//! assert_eq!(pool.status().in_use, 0);
//! # Ok(())
//! # }
//! ```

mod conn;
mod error;
mod manager;
mod pool;
mod stats;

pub use conn::PooledConn;
pub use error::PoolError;
pub use manager::Manager;
pub use pool::{Pool, PoolConfig, PooledConnection};
pub use stats::Status;
