//! An embedded Redis-compatible server, for tests and local use: in process (no network), over TCP (any Redis
//! client can connect), or as the `redkit-server` binary.
//!
//! ```
//! use redkit_server::Mock;
//! use redkit_resp::{Cmd, Executor};
//!
//! # futures_executor(async {
//! let mock = Mock::new();
//! mock.execute(Cmd::new("SET").arg("greeting").arg("hello")).await.unwrap();
//! let v: Option<String> = mock.query(Cmd::new("GET").arg("greeting")).await.unwrap();
//! assert_eq!(v.as_deref(), Some("hello"));
//!
//! // Expire keys without sleeping.
//! mock.execute(Cmd::new("SET").arg("session").arg("x").arg("EX").arg(60)).await.unwrap();
//! mock.clock().advance(std::time::Duration::from_secs(61));
//! let gone: Option<String> = mock.query(Cmd::new("GET").arg("session")).await.unwrap();
//! assert_eq!(gone, None);
//! # });
//! # fn futures_executor<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! # Where things are
//! A request's way through the crate, top to bottom (each layer imports only the ones below it):
//!
//! | step | where |
//! | --- | --- |
//! | read off the socket, connection limits (`maxclients`, `timeout`, buffer limits, protected mode) | `net.rs`, `limits.rs` |
//! | parsed (multibulk and inline, resumable, Redis's protocol errors and pre-AUTH limits) | `request.rs` |
//! | batched, run on the script thread or answered `BUSY`, blocked, made durable — for TCP and [`Mock`] alike | `driver.rs` |
//! | under the server lock: a batch, then blocked clients served, tracking invalidations sent | `engine.rs` ([`Server`]) |
//! | looked up and checked (arity, AUTH, MULTI queueing, subscribed mode, MISCONF) | `commands/dispatch.rs` |
//! | the command's facts (arity, flags, keys) | `redkit_resp::command`, joined with the handlers in `commands/registry.rs` and `commands/families.rs` |
//! | its arguments parsed, with Redis's errors | `commands/args.rs` (the cursor and shared option parsers) |
//! | applied | `commands/<family>.rs` (`string.rs`, `list.rs`, `zset.rs`, …: one per family, named as the client's) |
//! | on the state | `state/` (`db.rs` keyspace and expiry, `session.rs`, `blocked.rs`, `pubsub.rs`, `tracking.rs`, `scripts.rs`, …) |
//! | persisted (append-only batches, group commit, snapshots) | `persist/` on `redkit-log` |
//! | replied (encoded for the session's protocol, pushes in between) | `net.rs` via `redkit_resp::encode_value` |
//!
//! Beside them: `glob.rs` (the pattern matcher: Redis's answers in polynomial time) and `lua/` (the sandbox and
//! Redis's Lua libraries `cjson`, `cmsgpack`, `bit`, `struct`). The modules' imports form a DAG — state never
//! imports a command, commands never import the engine or the driver; `cargo xtask modules crates/redkit-server`
//! checks it (and `cargo xtask ci` runs that check on every crate).
//!
//! # Security
//! Everything a client can make the server allocate is bounded with Redis's limit names and errors, scripts run in
//! Redis 7.0's sandbox, protected mode and the loopback default keep other machines out, and SIGTERM or SHUTDOWN
//! stop the server promptly even during a script. The crate README's "Security" section lists every limit and the
//! threat model; `tests/attacks.rs` sends each attack.
//!
//! # Status
//! Every core data type — strings and bitmaps, keys (with SCAN), lists, sets, hashes, sorted sets (ranks and score
//! ranges in O(log n) through an order-statistic tree), HyperLogLog, geo, streams with consumer groups — plus
//! transactions (MULTI/EXEC/WATCH), Lua scripting (EVAL/EVALSHA, FUNCTION/FCALL, a vendored Lua 5.1), pub/sub (channels,
//! patterns, shard channels, RESP3 pushes, RESP2 subscribed mode), client-side caching (CLIENT TRACKING) and the
//! connection and server commands, with Redis 7.0's error messages and reply formats, checked reply for reply
//! against a real `redis-server` by the differential tests. Blocking commands (lists, sorted sets, XREAD,
//! XREADGROUP) wait for writes from other clients, served in the order they blocked. Scripts past
//! `busy-reply-threshold` make other TCP clients get `BUSY`, and SCRIPT KILL stops them; FUNCTION libraries and
//! FCALL run on the same engine. Not yet: DUMP/RESTORE; unknown commands answer Redis's `unknown command`
//! error.
//!
//! # Persistence
//! With a data directory the server keeps its dataset in a `redkit-log` store (see [`persist`] for the format,
//! the fsync policies and the recovery rules):
//!
//! ```
//! use redkit_server::{Mock, Persistence, ServerConfig};
//! use redkit_resp::{Cmd, Executor};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let persistence = Persistence::append_only(dir.path());
//! let (mock, report) = Mock::open(ServerConfig::default(), &persistence).unwrap();
//! assert_eq!(report.keys_loaded, 0);
//! mock.execute(Cmd::new("RPUSH").arg("queue").arg("a").arg("b")).await.unwrap();
//! drop(mock);
//!
//! let (mock, report) = Mock::open(ServerConfig::default(), &persistence).unwrap();
//! assert_eq!(report.keys_loaded, 1);
//! let items: Vec<String> = mock.query(Cmd::new("LRANGE").arg("queue").arg(0).arg(-1)).await.unwrap();
//! assert_eq!(items, ["a", "b"]);
//! # });
//! ```
//!
//! Known difference: INCRBYFLOAT and HINCRBYFLOAT compute in `f64` where Redis uses 80-bit `long double`, so a
//! result can differ from Redis's in the 17th significant digit (Redis prints `205.60000000000000001` for
//! `10.6 + 200`, this server `205.6`).

mod commands;
mod driver;
mod engine;
mod glob;
mod limits;
mod lua;
mod net;
pub mod persist;
pub mod request;
mod state;
#[cfg(test)]
mod test_support;

use std::collections::VecDeque;

use bytes::Bytes;
use redkit_resp::{Cmd, Executor, Pipeline, RespVersion, Result, Value, reply_result};

pub use engine::{Executed, Server, ShutdownSignal};
pub use net::TcpServer;
pub use persist::{AppendFsync, LoadReport, PersistError, Persistence, WriteError};
pub use state::config::ServerConfig;
pub use state::db::Clock;
pub use state::session::Session;

/// The embedded server in process: an [`Executor`], so typed commands, pipelines and everything built on the
/// executor seam run against it directly. It speaks RESP3 semantics (maps, sets, doubles).
#[derive(Debug)]
pub struct Mock {
    server: Server,
    session: tokio::sync::Mutex<Session>,
}

impl Default for Mock {
    fn default() -> Self {
        Mock::new()
    }
}

impl Mock {
    /// A fresh, empty server.
    pub fn new() -> Mock {
        Mock::with_config(ServerConfig::default())
    }

    /// A fresh server with a configuration.
    pub fn with_config(config: ServerConfig) -> Mock {
        Mock::on(Server::new(config))
    }

    /// A server keeping its data in a directory (see [`Persistence`]), with what loading it found.
    pub fn open(
        config: ServerConfig,
        persistence: &Persistence,
    ) -> std::result::Result<(Mock, LoadReport), PersistError> {
        let (server, report) = Server::open(config, persistence)?;
        Ok((Mock::on(server), report))
    }

    fn on(server: Server) -> Mock {
        let mut session = server.session();
        session.set_protocol(RespVersion::Resp3);
        session.set_authenticated(true);
        Mock {
            server,
            session: tokio::sync::Mutex::new(session),
        }
    }

    /// The clock keys expire by.
    pub fn clock(&self) -> &Clock {
        self.server.clock()
    }

    /// The server (to open more sessions on the same data).
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Run commands through the session driver, as a connection runs a pipeline: in batches under the server
    /// lock, every reply after its writes are durable, a blocking command waited out without holding the session
    /// (so other tasks sharing this mock go on meanwhile).
    async fn run(&self, cmds: &[Cmd]) -> Vec<Value> {
        let mut queue: VecDeque<Vec<Bytes>> = cmds
            .iter()
            .map(|cmd| cmd.args().map(Bytes::copy_from_slice).collect())
            .collect();
        let mut replies = Vec::with_capacity(queue.len());
        while !queue.is_empty() {
            let mut session = self.session.lock().await;
            let outcome = driver::run_batch(&self.server, &mut session, &mut queue, &mut replies).await;
            // QUIT cannot close an in-process session: the commands after it run.
            session.reopen();
            let Some(Executed::Blocked(rx, timeout)) = outcome else {
                continue;
            };
            drop(session);
            let mut wait = Some((
                rx,
                timeout.and_then(|t| tokio::time::Instant::now().checked_add(t)),
            ));
            let waited = driver::wait_blocked(&mut wait).await;
            if let Some(wait) = wait {
                let session = self.session.lock().await;
                replies.push(driver::blocked_reply(&self.server, &session, waited, wait).await);
            }
        }
        replies
    }
}

impl Executor for Mock {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        let reply = self
            .run(std::slice::from_ref(&cmd))
            .await
            .pop()
            .unwrap_or(Value::Null);
        reply_result(&cmd, reply)
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        Ok(self.run(pipeline.cmds()).await)
    }
}
