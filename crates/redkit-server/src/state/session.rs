//! One connection's state ([`Session`]): who it is (id, name, database, protocol, authentication), its transaction
//! ([`Transaction`]: the MULTI queue and the WATCHed keys), its subscriptions, and what the command it is running
//! asked of the connection (to close, to block, to send several replies).
//!
//! The fields are private: a command changes a session through the methods below, which keep the rules in one
//! place (a command inside EXEC never blocks; RESET forgets everything but the identity).

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::blocked::Block;
use super::client::ClientRecord;
use super::pubsub::Subscriptions;

/// One connection's state.
#[derive(Debug)]
pub struct Session {
    id: u64,
    db: usize,
    protocol: RespVersion,
    name: Option<Bytes>,
    authenticated: bool,
    transaction: Transaction,
    /// Set by QUIT: close after replying.
    closing: bool,
    /// Set by a blocking command that found nothing to pop (outside MULTI).
    block: Option<Block>,
    /// Set while EXEC runs queued commands: blocking commands then answer at once.
    in_exec: bool,
    /// Replies to send instead of the command's return value (SUBSCRIBE answers once per channel).
    replies: Option<Vec<Value>>,
    /// Where messages for this session's subscriptions go; `None` for in-process sessions.
    mailbox: Option<tokio::sync::mpsc::UnboundedSender<Value>>,
    /// Subscribed channels, patterns and shard channels.
    subscriptions: Subscriptions,
    /// Set by CLIENT CACHING: the flag it set survives the next command.
    caching_set: bool,
    /// The last command run (CLIENT LIST's `cmd`).
    last_cmd: &'static str,
    /// The client record, until the session's first command registers it (a new connection does not wait for
    /// the server lock, which a long script may hold).
    unregistered: Option<ClientRecord>,
}

/// A WATCHed key: where it is, and the versions it had when watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WatchedKey {
    pub(crate) db: usize,
    pub(crate) key: Bytes,
    /// The key's version when watched.
    pub(crate) version: u64,
    /// The database's epoch (FLUSHDB, SWAPDB) when watched.
    pub(crate) epoch: u64,
}

/// A session's transaction: the commands queued since MULTI and the keys WATCHed.
#[derive(Debug, Default)]
pub(crate) struct Transaction {
    /// Queued commands inside MULTI, and whether one was rejected.
    queued: Option<(Vec<Vec<Bytes>>, bool)>,
    watched: Vec<WatchedKey>,
}

impl Transaction {
    /// `true` between MULTI and EXEC/DISCARD.
    pub(crate) fn active(&self) -> bool {
        self.queued.is_some()
    }

    /// Start queueing (MULTI); `false` when already queueing.
    pub(crate) fn begin(&mut self) -> bool {
        if self.queued.is_some() {
            return false;
        }
        self.queued = Some((Vec::new(), false));
        true
    }

    /// Queue a command; `false` outside MULTI.
    pub(crate) fn queue(&mut self, command: Vec<Bytes>) -> bool {
        match self.queued.as_mut() {
            Some((queue, _)) => {
                queue.push(command);
                true
            }
            None => false,
        }
    }

    /// How many commands are queued (0 outside MULTI).
    pub(crate) fn queued_count(&self) -> usize {
        self.queued.as_ref().map_or(0, |(queue, _)| queue.len())
    }

    /// The queued commands, outside MULTI none.
    pub(crate) fn queued(&self) -> &[Vec<Bytes>] {
        self.queued.as_ref().map_or(&[], |(queue, _)| queue.as_slice())
    }

    /// Mark the transaction as failed (a command was refused while queueing: EXEC then answers EXECABORT).
    pub(crate) fn reject(&mut self) {
        if let Some((_, rejected)) = self.queued.as_mut() {
            *rejected = true;
        }
    }

    /// End queueing (EXEC, DISCARD): the queued commands and whether one was rejected; `None` outside MULTI.
    pub(crate) fn take(&mut self) -> Option<(Vec<Vec<Bytes>>, bool)> {
        self.queued.take()
    }

    /// Remember a WATCHed key.
    pub(crate) fn watch(&mut self, key: WatchedKey) {
        self.watched.push(key);
    }

    /// The WATCHed keys.
    pub(crate) fn watched(&self) -> &[WatchedKey] {
        &self.watched
    }

    /// Forget the WATCHed keys (UNWATCH, EXEC, DISCARD), handing them back so their watch lists can be cleaned.
    pub(crate) fn unwatch(&mut self) -> Vec<WatchedKey> {
        std::mem::take(&mut self.watched)
    }
}

impl Session {
    /// A session not registered as a client: for serving a blocked client's retry, and as a stand-in while a
    /// connection's own session is away on a blocking thread.
    pub(crate) fn detached(id: u64, db: usize, protocol: RespVersion, authenticated: bool) -> Session {
        Session {
            id,
            db,
            protocol,
            name: None,
            authenticated,
            transaction: Transaction::default(),
            closing: false,
            block: None,
            in_exec: false,
            replies: None,
            mailbox: None,
            subscriptions: Subscriptions::default(),
            caching_set: false,
            last_cmd: "NULL",
            unregistered: None,
        }
    }

    /// A stand-in with this session's identity (id, database, protocol, authentication) and nothing else.
    pub(crate) fn stand_in(&self) -> Session {
        Session::detached(self.id, self.db, self.protocol, self.authenticated)
    }

    /// The client id (CLIENT ID).
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The selected database.
    pub(crate) fn db_index(&self) -> usize {
        self.db
    }

    /// Select database `db` (SELECT; the caller checked the index).
    pub(crate) fn select(&mut self, db: usize) {
        self.db = db;
    }

    /// The protocol this session speaks.
    pub fn protocol(&self) -> RespVersion {
        self.protocol
    }

    /// `true` once HELLO 3 switched the session to RESP3.
    pub(crate) fn resp3(&self) -> bool {
        self.protocol == RespVersion::Resp3
    }

    /// Switch protocol (HELLO, RESET).
    pub(crate) fn set_protocol(&mut self, protocol: RespVersion) {
        self.protocol = protocol;
    }

    /// The name CLIENT SETNAME gave.
    pub(crate) fn name(&self) -> Option<&Bytes> {
        self.name.as_ref()
    }

    /// Name the connection (CLIENT SETNAME, HELLO SETNAME); `None` clears it.
    pub(crate) fn set_name(&mut self, name: Option<Bytes>) {
        self.name = name;
    }

    /// `true` once AUTH succeeded (or no password is set).
    pub(crate) fn is_authenticated(&self) -> bool {
        self.authenticated
    }

    /// Record the outcome of AUTH (or RESET's).
    pub(crate) fn set_authenticated(&mut self, authenticated: bool) {
        self.authenticated = authenticated;
    }

    /// The MULTI queue and the WATCHed keys.
    pub(crate) fn transaction(&self) -> &Transaction {
        &self.transaction
    }

    /// The MULTI queue and the WATCHed keys, to change.
    pub(crate) fn transaction_mut(&mut self) -> &mut Transaction {
        &mut self.transaction
    }

    /// `true` between MULTI and EXEC/DISCARD.
    pub(crate) fn in_multi(&self) -> bool {
        self.transaction.active()
    }

    /// `true` once QUIT asked to close the connection.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// Close the connection once this command's reply is sent (QUIT, SHUTDOWN, CLIENT KILL of itself).
    pub(crate) fn close_after_reply(&mut self) {
        self.closing = true;
    }

    /// Keep the connection open after all (an in-process session that QUIT is reused).
    pub(crate) fn reopen(&mut self) {
        self.closing = false;
    }

    /// `true` while EXEC runs the queued commands (a blocking command then answers at once).
    pub(crate) fn in_exec(&self) -> bool {
        self.in_exec
    }

    /// Enter or leave EXEC.
    pub(crate) fn set_in_exec(&mut self, in_exec: bool) {
        self.in_exec = in_exec;
    }

    /// `true` when a command may block the connection: not inside MULTI's EXEC (Redis then answers at once).
    pub(crate) fn may_block(&self) -> bool {
        !self.in_exec
    }

    /// Ask the connection to block on `block` (the command found nothing; the caller checked
    /// [`Session::may_block`]).
    pub(crate) fn block_on(&mut self, block: Block) {
        self.block = Some(block);
    }

    /// The block a command asked for, once.
    pub(crate) fn take_block(&mut self) -> Option<Block> {
        self.block.take()
    }

    /// Send these replies instead of the command's return value (SUBSCRIBE answers once per channel; EXEC and
    /// SHUTDOWN collect what they push).
    pub(crate) fn reply_with(&mut self, replies: Vec<Value>) {
        self.replies = Some(replies);
    }

    /// The replies asked for with [`Session::reply_with`], once.
    pub(crate) fn take_replies(&mut self) -> Option<Vec<Value>> {
        self.replies.take()
    }

    /// Where this session's pub/sub messages go (`None` for in-process sessions).
    pub(crate) fn mailbox(&self) -> Option<&tokio::sync::mpsc::UnboundedSender<Value>> {
        self.mailbox.as_ref()
    }

    /// Give the session a mailbox for pub/sub messages.
    pub(crate) fn set_mailbox(&mut self, mailbox: tokio::sync::mpsc::UnboundedSender<Value>) {
        self.mailbox = Some(mailbox);
    }

    /// The channels, patterns and shard channels subscribed to.
    pub(crate) fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    /// The subscriptions, to change.
    pub(crate) fn subscriptions_mut(&mut self) -> &mut Subscriptions {
        &mut self.subscriptions
    }

    /// Set by CLIENT CACHING yes/no: the next command's reads follow it. Setting it keeps it for one command.
    pub(crate) fn set_caching_flag(&mut self) {
        self.caching_set = true;
    }

    /// Take CLIENT CACHING's flag: `true` when it was set by the command just before.
    pub(crate) fn take_caching_flag(&mut self) -> bool {
        std::mem::take(&mut self.caching_set)
    }

    /// The last command run (CLIENT LIST's `cmd`).
    pub(crate) fn last_command(&self) -> &'static str {
        self.last_cmd
    }

    /// Record the command being run.
    pub(crate) fn set_last_command(&mut self, name: &'static str) {
        self.last_cmd = name;
    }

    /// Keep the client record until the session's first command registers it.
    pub(crate) fn defer_registration(&mut self, record: ClientRecord) {
        self.unregistered = Some(record);
    }

    /// `true` until the session's first command registered its client record.
    pub(crate) fn is_unregistered(&self) -> bool {
        self.unregistered.is_some()
    }

    /// The deferred client record, to change before it is registered.
    pub(crate) fn unregistered_mut(&mut self) -> Option<&mut ClientRecord> {
        self.unregistered.as_mut()
    }

    /// The deferred client record, once, to register it.
    pub(crate) fn take_unregistered(&mut self) -> Option<ClientRecord> {
        self.unregistered.take()
    }

    /// RESET: database 0, RESP2, no name, no MULTI queue, no subscriptions, authenticated as given (the WATCHed
    /// keys are the caller's to release, as their watch lists are the keyspace's).
    pub(crate) fn reset(&mut self, authenticated: bool) {
        self.db = 0;
        self.protocol = RespVersion::Resp2;
        self.name = None;
        self.transaction.queued = None;
        self.authenticated = authenticated;
        self.subscriptions = Subscriptions::default();
    }
}
