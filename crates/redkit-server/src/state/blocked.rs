//! What a blocked client waits with: its [`Block`] request, its place in the queue ([`Waiter`]), and the non-blocking form of its command ([`Retry`]).

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::stream::StreamId;

/// A client blocked by BLPOP & co: what to retry, and where to send the reply.
pub(crate) struct Waiter {
    pub(crate) client: u64,
    pub(crate) db: usize,
    pub(crate) protocol: RespVersion,
    pub(crate) keys: Vec<Bytes>,
    /// The command to retry, in its non-blocking form (it answers `None` while nothing is available).
    pub(crate) retry: Retry,
    pub(crate) reply: tokio::sync::oneshot::Sender<Value>,
}

/// What a blocking command asks of its connection.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) keys: Vec<Bytes>,
    pub(crate) timeout: Option<std::time::Duration>,
    pub(crate) retry: Retry,
}

/// The non-blocking form of a blocked command.
#[derive(Debug, Clone)]
pub(crate) enum Retry {
    Pop {
        keys: Vec<Bytes>,
        left: bool,
    },
    Move {
        src: Bytes,
        dst: Bytes,
        from_left: bool,
        to_left: bool,
    },
    MPop {
        keys: Vec<Bytes>,
        left: bool,
        count: usize,
    },
    ZPop {
        keys: Vec<Bytes>,
        max: bool,
    },
    ZMPop {
        keys: Vec<Bytes>,
        max: bool,
        count: usize,
    },
    XRead(BlockedRead),
    XReadGroup(GroupRead),
}

/// A blocked XREAD, retried when its streams change.
#[derive(Debug, Clone)]
pub(crate) struct BlockedRead {
    pub(crate) keys: Vec<Bytes>,
    pub(crate) ids: Vec<StreamId>,
    pub(crate) count: Option<usize>,
}

/// XREADGROUP's arguments.
#[derive(Debug, Clone)]
pub(crate) struct GroupRead {
    pub(crate) group: Bytes,
    pub(crate) consumer: Bytes,
    pub(crate) count: Option<usize>,
    pub(crate) noack: bool,
    pub(crate) keys: Vec<Bytes>,
    pub(crate) ids: Vec<Option<StreamId>>,
}
