//! The server core: shared state, per-connection sessions, and the dispatch of one command.
//!
//! A command's life: [`Server::execute`] looks the name up in the command table (`commands/mod.rs`), checks arity,
//! authentication and MULTI state, then calls the family's `apply` function under the one server lock — commands
//! are atomic, as in Redis. Replies are [`Value`]s; the connection encodes them for its protocol.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use crate::commands::Ctx;
use crate::state::db::Clock;
use crate::state::{ScriptWatch, ServerConfig, Session, State, Waiter};

/// SHUTDOWN's request to stop, as seen by whoever runs the server (the `redkit-server` binary, [`crate::TcpServer`]).
#[derive(Debug, Clone)]
pub struct ShutdownSignal(tokio::sync::watch::Receiver<Option<bool>>);

impl ShutdownSignal {
    /// Wait until SHUTDOWN is called (forever if it never is).
    pub async fn wait(&mut self) {
        if self.0.wait_for(Option::is_some).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// What SHUTDOWN asked for: `Some(true)` to save, `Some(false)` for NOSAVE, `None` before any SHUTDOWN.
    pub fn save(&self) -> Option<bool> {
        *self.0.borrow()
    }
}

/// Why [`Server::try_execute_batch`] did not run the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contended {
    /// A script holds the lock, within its time limit: try again when it ends.
    Wait,
    /// A script holds the lock past its time limit: answer from outside the lock.
    Busy,
}

/// The outcome of a command: a reply now, or a wait.
#[derive(Debug)]
pub enum Executed {
    /// The reply.
    Reply(Value),
    /// The command blocks: its reply arrives on this channel, or, after the timeout (if any), the client gets a
    /// null reply — call [`Server::unblock`] then.
    Blocked(tokio::sync::oneshot::Receiver<Value>, Option<std::time::Duration>),
}

/// The embedded server: shared state behind one lock. Cheap to clone.
#[derive(Clone)]
pub struct Server {
    state: Arc<Mutex<State>>,
    clock: Clock,
    watch: Arc<ScriptWatch>,
    limits: Arc<crate::limits::Limits>,
    /// With `appendfsync always`: the group-commit thread replies wait for.
    syncer: Option<Arc<crate::persist::Syncer>>,
}

/// Writes of a batch that must be fsynced before its replies go out (`appendfsync always`).
#[derive(Debug)]
pub(crate) struct Durable(Arc<crate::persist::Syncer>, u64);

impl Durable {
    /// Wait for the fsync; its error as the reply every command of the batch gets instead.
    pub(crate) async fn wait(self) -> Result<(), Value> {
        self.0.wait(self.1).await.map_err(|e| misconf(&e))
    }

    pub(crate) fn wait_blocking(self) -> Result<(), Value> {
        self.0.wait_blocking(self.1).map_err(|e| misconf(&e))
    }
}

fn misconf(e: &crate::WriteError) -> Value {
    Value::error(format!("MISCONF Errors writing to the AOF file: {e}"))
}

/// The batch's pending fsync, if it wrote anything that needs one.
fn take_durable(state: &mut State) -> Option<Durable> {
    let p = state.persist.as_mut()?;
    let ticket = p.ticket.take()?;
    Some(Durable(p.syncer.clone()?, ticket))
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Default for Server {
    fn default() -> Self {
        Server::new(ServerConfig::default())
    }
}

impl Server {
    /// A server with an empty keyspace that keeps nothing on disk.
    pub fn new(config: ServerConfig) -> Server {
        Server::from_state(Server::empty_state(config, Clock::default()))
    }

    /// A server that keeps its data in `persistence.dir`, loading what is there: see [`crate::persist`] for the
    /// format, the modes and the recovery rules. The report says what loading found and did (keys loaded and
    /// expired, torn writes cut off, damage dropped under repair).
    pub fn open(
        config: ServerConfig,
        persistence: &crate::Persistence,
    ) -> Result<(Server, crate::LoadReport), crate::PersistError> {
        Server::open_with_hook(config, persistence, None)
    }

    /// [`Server::open`] with a fault-injection hook on the store (for tests).
    pub(crate) fn open_with_hook(
        config: ServerConfig,
        persistence: &crate::Persistence,
        hook: Option<redkit_log::FaultHook>,
    ) -> Result<(Server, crate::LoadReport), crate::PersistError> {
        let mut state = Server::empty_state(config, Clock::default());
        let now = state.clock.now_ms();
        let persister = crate::persist::Persister::open_with(persistence, &mut state.dbs, now, hook)?;
        let report = persister.load_report().clone();
        state.persist = Some(persister);
        Ok((Server::from_state(state), report))
    }

    fn from_state(state: State) -> Server {
        let clock = state.clock.clone();
        let watch = state.watch.clone();
        let limits = state.limits.clone();
        let syncer = state.persist.as_ref().and_then(|p| p.syncer.clone());
        Server {
            state: Arc::new(Mutex::new(state)),
            clock,
            watch,
            limits,
            syncer,
        }
    }

    fn empty_state(config: ServerConfig, clock: Clock) -> State {
        let started_ms = clock.now_ms();
        let limits = crate::limits::Limits::default();
        limits.set_maxclients(config.maxclients);
        limits.set_timeout_secs(config.timeout.map_or(0, |t| t.as_secs().max(1)));
        limits.set_protected_mode(config.protected_mode);
        limits.set_password_set(config.requirepass.is_some());
        State::new(config, clock, started_ms, limits)
    }

    /// The clock keys expire by; `advance` it to expire keys without sleeping.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new in-process session (RESP2 until HELLO 3). Call [`Server::disconnect`] when done with it.
    pub fn session(&self) -> Session {
        self.open_session(String::new(), String::new()).0
    }

    /// A new session for a network connection from `peer` to `local`, and the signal that CLIENT KILL closed it.
    pub fn connect(
        &self,
        peer: std::net::SocketAddr,
        local: std::net::SocketAddr,
    ) -> (Session, tokio::sync::oneshot::Receiver<()>) {
        self.open_session(peer.to_string(), local.to_string())
    }

    fn open_session(&self, addr: String, laddr: String) -> (Session, tokio::sync::oneshot::Receiver<()>) {
        let id = self.watch.next_client_id.fetch_add(1, Ordering::Relaxed);
        let (kill, killed) = tokio::sync::oneshot::channel();
        let mut record = crate::state::client::ClientRecord::new(addr, laddr, self.clock.now_ms());
        record.kill = Some(kill);
        let mut session = Session::detached(id, 0, RespVersion::Resp2, false);
        session.defer_registration(record);
        (session, killed)
    }

    /// Run one command (`args[0]` is its name) for `session`. A blocking command that would block answers null
    /// here; use [`Server::execute_or_block`] to wait.
    pub fn execute(&self, session: &mut Session, args: &[Bytes]) -> Value {
        match self.execute_or_block(session, args) {
            Executed::Reply(v) => v,
            Executed::Blocked(rx, _) => {
                self.unblock(session);
                // Nothing was served meanwhile (we held no lock between), so this is the timeout answer.
                drop(rx);
                Value::Null
            }
        }
    }

    /// Run one command; blocking commands that find nothing register the client and return a channel.
    pub fn execute_or_block(&self, session: &mut Session, args: &[Bytes]) -> Executed {
        let mut state = self.lock();
        let now = state.clock.now_ms();
        let outcome = run_one(&mut state, session, args, now, std::time::Instant::now()).0;
        let finished = finish_batch(&mut state, false);
        let durable = take_durable(&mut state);
        drop(state);
        let finished = finished.and_then(|()| durable.map_or(Ok(()), Durable::wait_blocking));
        match (finished, outcome) {
            (Err(refused), Executed::Reply(_)) => Executed::Reply(refused),
            (_, outcome) => outcome,
        }
    }

    /// Run pipelined commands from the front of `queue` under one acquisition of the server lock, pushing each
    /// reply (or, for SUBSCRIBE and friends, each of its replies) onto `replies`. Stops early, returning the
    /// blocked command's [`Executed::Blocked`], when a command blocks, or after a command that closes the
    /// connection (QUIT); the commands after it stay in `queue`.
    pub fn execute_batch(
        &self,
        session: &mut Session,
        queue: &mut std::collections::VecDeque<Vec<Bytes>>,
        replies: &mut Vec<Value>,
    ) -> Option<Executed> {
        let first = replies.len();
        let mut state = self.lock();
        let outcome = batch_locked(&mut state, session, queue, replies);
        let durable = take_durable(&mut state);
        drop(state);
        if let Some(Err(refused)) = durable.map(Durable::wait_blocking) {
            for reply in &mut replies[first..] {
                *reply = refused.clone();
            }
        }
        outcome
    }

    /// A reply handed over from another batch (a blocked client served by someone else's write), once the writes
    /// so far are durable — or the error of their failed fsync.
    pub(crate) async fn handed_over(&self, reply: Value) -> Value {
        match &self.syncer {
            Some(s) => Durable(s.clone(), s.newest())
                .wait()
                .await
                .map_or_else(|refused| refused, |()| reply),
            None => reply,
        }
    }

    /// [`Server::execute_batch`] for a batch that may run a script, called off the async runtime's threads: while
    /// the script runs, connections calling [`Server::try_execute_batch`] wait for it or, past the time limit, are
    /// answered `BUSY`.
    pub(crate) fn execute_script_batch(
        &self,
        session: &mut Session,
        queue: &mut std::collections::VecDeque<Vec<Bytes>>,
        replies: &mut Vec<Value>,
    ) -> Option<Executed> {
        self.watch.batches.fetch_add(1, Ordering::SeqCst);
        let outcome = self.execute_batch(session, queue, replies);
        self.watch.batches.fetch_sub(1, Ordering::SeqCst);
        self.watch.done.notify_waiters();
        outcome
    }

    /// [`Server::execute_batch`] unless a script holds the lock (then the caller waits or answers BUSY; see
    /// [`Contended`]). Never blocks for longer than an ordinary command holds the lock.
    pub(crate) fn try_execute_batch(
        &self,
        session: &mut Session,
        queue: &mut std::collections::VecDeque<Vec<Bytes>>,
        replies: &mut Vec<Value>,
    ) -> Result<(Option<Executed>, Option<Durable>), Contended> {
        let Some(mut state) = self.lock_unless_script() else {
            return Err(if self.watch.busy() {
                Contended::Busy
            } else {
                Contended::Wait
            });
        };
        let outcome = batch_locked(&mut state, session, queue, replies);
        Ok((outcome, take_durable(&mut state)))
    }

    /// The running script's watch (answers while busy; waiting for the end).
    pub(crate) fn script_watch(&self) -> &ScriptWatch {
        &self.watch
    }

    /// The limits connections enforce.
    pub(crate) fn limits(&self) -> &crate::limits::Limits {
        &self.limits
    }

    /// Connection tasks that panicked since the server started. Each is also logged; a panic is a bug, and the
    /// tests that send random input assert this stays 0.
    pub fn panics(&self) -> u64 {
        self.limits.panics()
    }

    /// Resolves once SHUTDOWN asked the server to stop; [`ShutdownSignal::save`] then says whether to save.
    pub fn shutdown_requested(&self) -> ShutdownSignal {
        ShutdownSignal(self.watch.shutdown_request.subscribe())
    }

    /// Stop for shutdown: a running script is stopped at its next instruction check, even one that has written
    /// (its caller gets an error, and the batch is not persisted), and from here on nothing more is written to
    /// the data directory except by [`Server::shutdown`]. Safe to call from a signal handler's task while a
    /// script holds the lock.
    pub fn begin_shutdown(&self) {
        self.watch.shutdown.store(true, Ordering::SeqCst);
        self.watch.kill.store(true, Ordering::SeqCst);
    }

    /// Shut down within `limit`: stop a running script ([`Server::begin_shutdown`]), then, with `save`, write
    /// what is pending to the data directory and fsync it. Returns `Ok(false)` when the lock could not be had
    /// within `limit` (nothing was saved beyond what earlier batches wrote).
    pub fn shutdown(&self, save: bool, limit: std::time::Duration) -> Result<bool, crate::WriteError> {
        self.begin_shutdown();
        let deadline = std::time::Instant::now() + limit.min(std::time::Duration::from_secs(3600));
        loop {
            match self.state.try_lock() {
                Ok(mut state) => return shutdown_in(&mut state, save).map(|()| true),
                Err(TryLockError::Poisoned(p)) => {
                    return shutdown_in(&mut p.into_inner(), save).map(|()| true);
                }
                Err(TryLockError::WouldBlock) if std::time::Instant::now() >= deadline => return Ok(false),
                Err(TryLockError::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
    }

    /// Wait (at most `limit`) for a running script batch to end.
    pub(crate) async fn script_ended(&self, limit: std::time::Duration) {
        let _ = tokio::time::timeout(limit, self.watch.done.notified()).await;
    }
}

/// Run pipelined commands under the held lock; see [`Server::execute_batch`].
fn batch_locked(
    state: &mut State,
    session: &mut Session,
    queue: &mut std::collections::VecDeque<Vec<Bytes>>,
    replies: &mut Vec<Value>,
) -> Option<Executed> {
    {
        // One reading of the clock for the batch (it runs in microseconds), and one instant per command: each
        // command's duration runs from the end of the one before.
        let now = state.clock.now_ms();
        let mut started = std::time::Instant::now();
        let first = replies.len();
        let mut blocked = None;
        while let Some(args) = queue.pop_front() {
            let (outcome, ended) = run_one(state, session, &args, now, started);
            started = ended.unwrap_or(started);
            match outcome {
                Executed::Reply(v) => match session.take_replies() {
                    Some(many) => replies.extend(many),
                    None => replies.push(v),
                },
                b @ Executed::Blocked(..) => {
                    blocked = Some(b);
                    break;
                }
            }
            if session.is_closing() {
                break;
            }
        }
        // Nothing of this batch is acknowledged unless its writes are persisted.
        if let Err(refused) = finish_batch(state, false) {
            for reply in &mut replies[first..] {
                *reply = refused.clone();
            }
        }
        blocked
    }
}

impl Server {
    /// Give `session` a mailbox for pub/sub messages (a connection does this; in-process sessions cannot
    /// subscribe).
    pub fn attach_mailbox(&self, session: &mut Session) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
        if session.is_unregistered() {
            // Not registered yet: the record travels with the session, no lock needed.
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            if let Some(record) = session.unregistered_mut() {
                record.mailbox = Some(tx.clone());
            }
            session.set_mailbox(tx);
            return rx;
        }
        attach_mailbox_in(&mut self.lock(), session)
    }

    /// Forget everything `session` left behind: subscriptions and any blocked command.
    pub fn disconnect(&self, session: &mut Session) {
        disconnect_in(&mut self.lock(), session);
    }

    /// Stop waiting for `session`'s blocked command (its timeout passed, or the client went away).
    pub fn unblock(&self, session: &Session) {
        unblock_in(&mut self.lock(), session);
    }

    /// Run the active expiry cycle now.
    pub fn expire_cycle(&self) {
        expire_cycle_in(&mut self.lock());
    }

    /// Run `f` on the state under the lock, for the async connection code: while a script holds the lock this
    /// waits asynchronously (never blocking the runtime thread that must answer BUSY and SCRIPT KILL).
    pub(crate) async fn with_state<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut f = Some(f);
        loop {
            if let Some(mut guard) = self.lock_unless_script()
                && let Some(f) = f.take()
            {
                return f(&mut guard);
            }
            self.script_ended(std::time::Duration::from_millis(5)).await;
        }
    }

    /// The lock, unless a script batch holds it or waits for it.
    fn lock_unless_script(&self) -> Option<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) if self.watch.batches.load(Ordering::SeqCst) > 0 => None,
            Err(TryLockError::WouldBlock) => Some(self.lock()),
        }
    }

    /// Keys in the databases' WATCH version tables (for tests: it must fall back to 0 once nobody watches).
    #[cfg(test)]
    pub(crate) fn watched_keys(&self) -> usize {
        self.lock().dbs.iter().map(crate::state::Db::watched_keys).sum()
    }

    #[allow(clippy::type_complexity)]
    /// Every database's entries as `(key, value, expiry, string encoding)`, leaving out those expired by `now`.
    #[cfg(test)]
    pub(crate) fn contents(
        &self,
        now: i64,
    ) -> Vec<
        Vec<(
            Bytes,
            crate::state::db::Data,
            Option<i64>,
            crate::state::db::StrEnc,
        )>,
    > {
        self.lock()
            .dbs
            .iter()
            .map(|db| {
                db.entries()
                    .filter(|(_, e)| e.expire_at.is_none_or(|t| t > now))
                    .map(|(k, e)| (k.clone(), e.data.clone(), e.expire_at, e.enc))
                    .collect()
            })
            .collect()
    }

    /// Write pending changes to the data directory and fsync it (as on shutdown). Without persistence, nothing.
    pub fn flush_to_disk(&self) -> Result<(), crate::WriteError> {
        let mut state = self.lock();
        let state = &mut *state;
        match &mut state.persist {
            Some(p) => p.save(&mut state.dbs, state.clock.now_ms()),
            None => Ok(()),
        }
    }
}

/// The end of a shutdown under the lock: save (with `save`) unless a killed script left its batch half done.
fn shutdown_in(state: &mut State, save: bool) -> Result<(), crate::WriteError> {
    let state = &mut *state;
    match &mut state.persist {
        Some(p) if save && !state.watch.interrupted.load(Ordering::SeqCst) => {
            p.save(&mut state.dbs, state.clock.now_ms())
        }
        Some(p) => p.sync(),
        None => Ok(()),
    }
}

/// Register `session`'s client record (at its first command): from here on CLIENT LIST shows it and AUTH is
/// required if a password is set.
fn register(state: &mut State, session: &mut Session) {
    if let Some(record) = session.take_unregistered() {
        if state.config.requirepass.is_none() {
            session.set_authenticated(true);
        }
        state.connections_received += 1;
        state.clients.register(session.id(), record);
    }
}

/// Give a registered `session` a mailbox; see [`Server::attach_mailbox`].
fn attach_mailbox_in(
    state: &mut State,
    session: &mut Session,
) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    if let Some(record) = state.clients.get_mut(session.id()) {
        record.mailbox = Some(tx.clone());
    }
    session.set_mailbox(tx);
    rx
}

/// See [`Server::disconnect`].
pub(crate) fn disconnect_in(state: &mut State, session: &mut Session) {
    crate::commands::transaction::release_watches(state, session);
    state.pubsub.forget(session.id());
    state.blocked.forget(session.id());
    let was_tracking = state
        .clients
        .remove(session.id())
        .is_some_and(|r| r.tracking.is_some());
    if was_tracking {
        crate::commands::tracking::client_gone(state);
    }
}

/// See [`Server::unblock`].
pub(crate) fn unblock_in(state: &mut State, session: &Session) {
    state.blocked.forget(session.id());
}

/// See [`Server::expire_cycle`].
pub(crate) fn expire_cycle_in(state: &mut State) {
    let now = state.clock.now_ms();
    for db in &mut state.dbs {
        db.purge_expired(now);
    }
    crate::commands::tracking::deliver(state, None);
    // Expired keys are removed from the store too; after a failed write, this is the retry.
    let _ = finish_batch(state, true);
}

/// The end of a batch: persist its writes, then send the replies of the blocked clients it served. On a failed
/// write, the error every reply of the batch is replaced with.
///
/// While the store refuses writes, write commands are refused (MISCONF), so a batch can only have read: its replies
/// go out, and the pending changes wait for the retry of the expiry cycle (`retry`).
fn finish_batch(state: &mut State, retry: bool) -> Result<(), Value> {
    let shutting_down = state.watch.shutdown.load(Ordering::SeqCst);
    if shutting_down && state.watch.wrote.load(Ordering::SeqCst) {
        state.watch.interrupted.store(true, Ordering::SeqCst);
    }
    let outcome = match &mut state.persist {
        // Past the start of a shutdown nothing more is written (a stopped script may have left its batch half
        // done) and nothing unwritten is acknowledged.
        Some(_) if shutting_down => Err(Value::error("ERR the server is shutting down")),
        Some(p) if retry || p.write_error.is_none() => {
            p.write_changes(&mut state.dbs).map_err(|e| misconf(&e))
        }
        _ => Ok(()),
    };
    for (tx, value) in state.ready.drain(..) {
        let _ = tx.send(match &outcome {
            Ok(()) => value,
            Err(refused) => refused.clone(),
        });
    }
    outcome
}

/// One command under the lock: dispatch, book-keeping, then wake whoever it unblocked and send invalidations.
fn run_one(
    state: &mut State,
    session: &mut Session,
    args: &[Bytes],
    now: i64,
    started: std::time::Instant,
) -> (Executed, Option<std::time::Instant>) {
    if session.is_unregistered() {
        register(state, session);
    }
    let mut ctx = Ctx {
        state,
        session,
        now,
        registry: crate::commands::families::registry(),
    };
    let reply = crate::commands::dispatch::dispatch(&mut ctx, args);
    let ended = crate::commands::server::after_command(&mut ctx, args, started);
    let outcome = match ctx.session.take_block() {
        None => Executed::Reply(reply),
        Some(block) => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            ctx.state.blocked.push(Waiter {
                client: ctx.session.id(),
                db: ctx.session.db_index(),
                protocol: ctx.session.protocol(),
                keys: block.keys,
                retry: block.retry,
                reply: tx,
            });
            Executed::Blocked(rx, block.timeout)
        }
    };
    if !state.blocked.is_empty() {
        serve_blocked(state);
    }
    crate::commands::tracking::deliver(state, Some(session.id()));
    (outcome, ended)
}

/// Serve blocked clients, oldest first, while any of them can now be answered.
fn serve_blocked(state: &mut State) {
    let now = state.clock.now_ms();
    let mut i = 0;
    while let Some(waiter) = state.blocked.live(i) {
        let db = waiter.db;
        if !waiter.keys.iter().any(|k| state.dbs[db].contains(k, now)) {
            i += 1;
            continue;
        }
        let (retry, protocol, client) = (waiter.retry.clone(), waiter.protocol, waiter.client);
        let mut session = Session::detached(client, db, protocol, true);
        session.set_in_exec(true);
        let mut ctx = Ctx {
            state,
            session: &mut session,
            now,
            registry: crate::commands::families::registry(),
        };
        match retry.run(&mut ctx) {
            Some(value) => {
                if let Some(w) = state.blocked.remove(i) {
                    state.ready.push((w.reply, value));
                }
                // Serving one may make data for (or take it from) the others: start over, oldest first.
                i = 0;
            }
            None => i += 1,
        }
    }
}
