//! Who subscribes to what: one session's [`Subscriptions`], and the server-wide [`Registry`] messages are delivered from.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use redkit_resp::Value;
use tokio::sync::mpsc::UnboundedSender;

/// What one session subscribes to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subscriptions {
    pub(crate) channels: BTreeSet<Bytes>,
    pub(crate) patterns: BTreeSet<Bytes>,
    pub(crate) shard: BTreeSet<Bytes>,
}

impl Subscriptions {
    /// Every subscription (what puts a RESP2 connection in subscribed mode).
    pub(crate) fn count(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard.len()
    }

    /// Channels, patterns and shard channels, counted apart (CLIENT LIST's `sub`, `psub`, `ssub`).
    pub(crate) fn counts(&self) -> [usize; 3] {
        [self.channels.len(), self.patterns.len(), self.shard.len()]
    }
}

pub(crate) type Subscribers = HashMap<Bytes, HashMap<u64, UnboundedSender<Value>>>;

/// Who subscribes to what, server-wide.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) channels: Subscribers,
    pub(crate) patterns: Subscribers,
    pub(crate) shard: Subscribers,
}

impl Registry {
    /// Channels with at least one subscriber.
    pub(crate) fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Patterns with at least one subscriber.
    pub(crate) fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Drop every subscription of a client.
    pub(crate) fn forget(&mut self, client: u64) {
        for map in [&mut self.channels, &mut self.patterns, &mut self.shard] {
            for subs in map.values_mut() {
                subs.remove(&client);
            }
            map.retain(|_, subs| !subs.is_empty());
        }
    }
}
