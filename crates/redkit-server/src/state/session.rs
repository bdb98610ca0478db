//! One connection's state ([`Session`]), and what a blocked client waits with ([`Block`], [`Waiter`]).

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::blocked::Block;

/// One connection's state.
#[derive(Debug)]
pub struct Session {
    pub(crate) id: u64,
    pub(crate) db: usize,
    pub(crate) protocol: RespVersion,
    pub(crate) name: Option<Bytes>,
    pub(crate) authenticated: bool,
    /// Queued commands inside MULTI, and whether one was rejected.
    pub(crate) multi: Option<(Vec<Vec<Bytes>>, bool)>,
    /// WATCHed keys: (db, key, version, db epoch).
    pub(crate) watched: Vec<(usize, Bytes, u64, u64)>,
    /// Set by QUIT: close after replying.
    pub(crate) closing: bool,
    /// Set by a blocking command that found nothing to pop (outside MULTI).
    pub(crate) block: Option<Block>,
    /// Set while EXEC runs queued commands: blocking commands then answer at once.
    pub(crate) in_exec: bool,
    /// Replies to send instead of the command's return value (SUBSCRIBE answers once per channel).
    pub(crate) replies: Option<Vec<Value>>,
    /// Where messages for this session's subscriptions go; `None` for in-process sessions.
    pub(crate) mailbox: Option<tokio::sync::mpsc::UnboundedSender<Value>>,
    /// Subscribed channels, patterns and shard channels.
    pub(crate) subscriptions: super::pubsub::Subscriptions,
    /// Set by CLIENT CACHING: the flag it set survives the next command.
    pub(crate) caching_set: bool,
    /// The last command run (CLIENT LIST's `cmd`).
    pub(crate) last_cmd: &'static str,
    /// The client record, until the session's first command registers it (a new connection does not wait for
    /// the server lock, which a long script may hold).
    pub(crate) unregistered: Option<super::client::ClientRecord>,
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
            multi: None,
            watched: Vec::new(),
            closing: false,
            block: None,
            in_exec: false,
            replies: None,
            mailbox: None,
            subscriptions: Default::default(),
            caching_set: false,
            last_cmd: "NULL",
            unregistered: None,
        }
    }

    /// The protocol this session speaks.
    pub fn protocol(&self) -> RespVersion {
        self.protocol
    }

    /// `true` once QUIT asked to close the connection.
    pub fn is_closing(&self) -> bool {
        self.closing
    }
}
