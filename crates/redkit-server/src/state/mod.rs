//! The server's state, below the commands: the keyspace, the sessions, and every registry a command reads or
//! changes. Commands depend on state; nothing here imports a command.
//!
//! Each concern is one module whose type keeps its data private and is changed through methods that hold its
//! rules: [`Session`] (identity, its MULTI queue and WATCHed keys as [`session::Transaction`], what the running
//! command asks of the connection), [`pubsub::Registry`] (subscribe, unsubscribe, deliver), [`tracking::Tracking`]
//! (who read which key, bounded by `tracking-table-max-keys`), [`scripts::Scripts`] (the Lua state, script cache
//! and libraries), [`slowlog::Slowlog`], [`blocked::BlockedQueue`], [`client::Clients`], and the scan cursors
//! ([`cursors::KeyCursors`], [`cursors::Cursors`]). The keyspace's [`Db`] holds plain data values (`Entry`,
//! `ZSet`, `Stream`) and keeps its indexes (expiries, versions for WATCH, changed keys for persistence and
//! tracking) behind its methods.

use std::sync::Arc;

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
    /// SCAN cursors.
    pub(crate) cursors: cursors::KeyCursors,
    pub(crate) commands_processed: u64,
    pub(crate) started_ms: i64,
    /// Who subscribes to what.
    pub(crate) pubsub: pubsub::Registry,
    /// Clients blocked on keys, in the order they blocked (served first come, first served).
    pub(crate) blocked: blocked::BlockedQueue,
    /// Every connected client, by id.
    pub(crate) clients: client::Clients,
    /// CLIENT TRACKING's table.
    pub(crate) tracking: tracking::Tracking,
    /// Run-time settings (CONFIG GET/SET).
    pub(crate) settings: settings::Settings,
    /// Recent slow commands.
    pub(crate) slowlog: slowlog::Slowlog,
    /// SSCAN/HSCAN/ZSCAN cursors over large collections.
    pub(crate) element_cursors: cursors::Cursors,
    pub(crate) connections_received: u64,
    /// The Lua engine and script cache, made on first use (by the scripting commands: see [`State::scripts`]).
    scripts: Option<scripts::Scripts>,
    /// The data directory's store, when the server persists.
    pub(crate) persist: Option<crate::persist::Persister>,
    /// Replies for blocked clients served during this batch: sent once the batch's writes are persisted.
    pub(crate) ready: Vec<(tokio::sync::oneshot::Sender<Value>, Value)>,
    /// The running script, as seen from outside the lock.
    pub(crate) watch: Arc<ScriptWatch>,
    /// The limits connections enforce (CONFIG SET changes them).
    pub(crate) limits: Arc<crate::limits::Limits>,
}

impl State {
    /// A new server's state: empty databases, no clients, settings from `config`.
    pub(crate) fn new(
        config: ServerConfig,
        clock: Clock,
        started_ms: i64,
        limits: crate::limits::Limits,
    ) -> State {
        State {
            dbs: (0..DATABASES).map(|_| Db::default()).collect(),
            clock: clock.clone(),
            config,
            cursors: cursors::KeyCursors::default(),
            commands_processed: 0,
            started_ms,
            blocked: blocked::BlockedQueue::default(),
            pubsub: Default::default(),
            clients: Default::default(),
            tracking: Default::default(),
            settings: Default::default(),
            slowlog: Default::default(),
            element_cursors: Default::default(),
            connections_received: 0,
            scripts: None,
            persist: None,
            ready: Vec::new(),
            watch: Arc::new(ScriptWatch::default()),
            limits: Arc::new(limits),
        }
    }
    /// The scripting engine, once a script or function made it.
    pub(crate) fn scripts(&self) -> Option<&scripts::Scripts> {
        self.scripts.as_ref()
    }

    /// The scripting engine, to change.
    pub(crate) fn scripts_mut(&mut self) -> Option<&mut scripts::Scripts> {
        self.scripts.as_mut()
    }

    /// Install the scripting engine (made on first use, or given back after a script ran).
    pub(crate) fn install_scripts(&mut self, scripts: scripts::Scripts) -> &mut scripts::Scripts {
        self.scripts.insert(scripts)
    }

    /// Take the engine out while a script runs: the script's `redis.call`s need the state, and the engine is
    /// given back with [`State::install_scripts`].
    pub(crate) fn take_scripts(&mut self) -> Option<scripts::Scripts> {
        self.scripts.take()
    }
}
