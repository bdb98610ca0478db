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

/// The clients blocked on keys, in the order they blocked (served first come, first served, as Redis does).
#[derive(Default)]
pub(crate) struct BlockedQueue {
    waiters: std::collections::VecDeque<Waiter>,
}

impl BlockedQueue {
    /// A client blocks.
    pub(crate) fn push(&mut self, waiter: Waiter) {
        self.waiters.push_back(waiter);
    }

    /// Forget a client's wait (it disconnected, timed out, or CLIENT UNBLOCK was sent).
    pub(crate) fn forget(&mut self, client: u64) {
        self.waiters.retain(|w| w.client != client);
    }

    /// How many clients are blocked (INFO's `blocked_clients`).
    pub(crate) fn len(&self) -> usize {
        self.waiters.len()
    }

    /// `true` when no client is blocked.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }

    /// The waiter at `i` (oldest first) whose connection still waits; those that gave up before it are dropped.
    pub(crate) fn live(&mut self, i: usize) -> Option<&Waiter> {
        while self.waiters.get(i)?.reply.is_closed() {
            self.waiters.remove(i);
        }
        self.waiters.get(i)
    }

    /// Take the waiter at `i` out of the queue (it is being answered).
    pub(crate) fn remove(&mut self, i: usize) -> Option<Waiter> {
        self.waiters.remove(i)
    }
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
