//! The server's state, below the commands: the keyspace, the sessions, and every registry a command reads or
//! changes. Commands depend on state; nothing here imports a command.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use redkit_resp::Value;

pub(crate) mod blocked;
pub(crate) mod client;
pub(crate) mod config;
pub(crate) mod cursors;
pub(crate) mod db;
pub(crate) mod pubsub;
pub(crate) mod script_watch;
pub(crate) mod scripts;
pub(crate) mod session;
pub(crate) mod settings;
pub(crate) mod slowlog;
pub(crate) mod stream;
pub(crate) mod tracking;

pub(crate) use blocked::{Block, Waiter};
pub(crate) use config::ServerConfig;
pub(crate) use db::{Clock, Db};
pub(crate) use script_watch::ScriptWatch;
pub(crate) use session::Session;

/// Number of databases, as in Redis's default configuration.
pub(crate) const DATABASES: usize = 16;

/// The state every connection shares.
pub(crate) struct State {
    pub(crate) dbs: Vec<Db>,
    pub(crate) clock: Clock,
    pub(crate) config: ServerConfig,
    /// SCAN cursors: cursor → (db, last key returned).
    pub(crate) cursors: HashMap<u64, (usize, Bytes)>,
    pub(crate) next_cursor: u64,
    pub(crate) commands_processed: u64,
    pub(crate) started_ms: i64,
    /// Who subscribes to what.
    pub(crate) pubsub: pubsub::Registry,
    /// Clients blocked on keys, in the order they blocked (served first come, first served).
    pub(crate) blocked: std::collections::VecDeque<Waiter>,
    /// Every connected client, by id.
    pub(crate) clients: rustc_hash::FxHashMap<u64, client::ClientRecord>,
    /// CLIENT TRACKING's table.
    pub(crate) tracking: tracking::Tracking,
    /// Run-time settings (CONFIG GET/SET).
    pub(crate) settings: settings::Settings,
    /// Recent slow commands.
    pub(crate) slowlog: slowlog::Slowlog,
    /// SSCAN/HSCAN/ZSCAN cursors over large collections.
    pub(crate) element_cursors: cursors::Cursors,
    pub(crate) connections_received: u64,
    /// The Lua engine and script cache, made on first use.
    pub(crate) scripts: Option<scripts::Scripts>,
    /// The data directory's store, when the server persists.
    pub(crate) persist: Option<crate::persist::Persister>,
    /// Replies for blocked clients served during this batch: sent once the batch's writes are persisted.
    pub(crate) ready: Vec<(tokio::sync::oneshot::Sender<Value>, Value)>,
    /// The running script, as seen from outside the lock.
    pub(crate) watch: Arc<ScriptWatch>,
    /// The limits connections enforce (CONFIG SET changes them).
    pub(crate) limits: Arc<crate::limits::Limits>,
}
