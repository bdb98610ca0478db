//! Who subscribes to what: one session's [`Subscriptions`], and the server-wide [`Registry`] messages are delivered
//! from. Both are kept in step by the commands (a session's subscription is in both or in neither); messages are
//! delivered here, so a publisher never sees the maps.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use redkit_resp::Value;
use tokio::sync::mpsc::UnboundedSender;

/// What is subscribed to: a channel (SUBSCRIBE), a pattern (PSUBSCRIBE) or a shard channel (SSUBSCRIBE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Channel,
    Pattern,
    Shard,
}

/// What one session subscribes to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Subscriptions {
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
    shard: BTreeSet<Bytes>,
}

impl Subscriptions {
    fn of(&mut self, kind: Kind) -> &mut BTreeSet<Bytes> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// Add a subscription; `false` when it was there already.
    pub(crate) fn add(&mut self, kind: Kind, name: &Bytes) -> bool {
        self.of(kind).insert(name.clone())
    }

    /// Remove a subscription; `false` when there was none.
    pub(crate) fn remove(&mut self, kind: Kind, name: &Bytes) -> bool {
        self.of(kind).remove(name)
    }

    /// Every subscription of a kind, in order (what an UNSUBSCRIBE without names leaves).
    pub(crate) fn names(&self, kind: Kind) -> Vec<Bytes> {
        let set = match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        };
        set.iter().cloned().collect()
    }

    /// The count a (un)subscribe confirmation reports: channels and patterns together, shard channels on their own.
    pub(crate) fn reported(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard.len(),
            Kind::Channel | Kind::Pattern => self.channels.len() + self.patterns.len(),
        }
    }

    /// Every subscription (what puts a RESP2 connection in subscribed mode).
    pub(crate) fn count(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard.len()
    }

    /// Channels, patterns and shard channels, counted apart (CLIENT LIST's `sub`, `psub`, `ssub`).
    pub(crate) fn counts(&self) -> [usize; 3] {
        [self.channels.len(), self.patterns.len(), self.shard.len()]
    }
}

/// Subscribers by channel (or pattern): client id → mailbox.
type Subscribers = HashMap<Bytes, HashMap<u64, UnboundedSender<Value>>>;

/// Who subscribes to what, server-wide.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    channels: Subscribers,
    patterns: Subscribers,
    shard: Subscribers,
}

/// Deliver to every live subscriber in `subs`; how many received it.
fn deliver(subs: Option<&HashMap<u64, UnboundedSender<Value>>>, message: &Value) -> usize {
    subs.map_or(0, |subs| {
        subs.values()
            .filter(|tx| tx.send(message.clone()).is_ok())
            .count()
    })
}

impl Registry {
    fn of(&self, kind: Kind) -> &Subscribers {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard,
        }
    }

    fn of_mut(&mut self, kind: Kind) -> &mut Subscribers {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard,
        }
    }

    /// Deliver `client`'s messages for `name` to `mailbox`.
    pub(crate) fn subscribe(
        &mut self,
        kind: Kind,
        name: &Bytes,
        client: u64,
        mailbox: UnboundedSender<Value>,
    ) {
        self.of_mut(kind)
            .entry(name.clone())
            .or_default()
            .insert(client, mailbox);
    }

    /// Stop delivering `client`'s messages for `name` (a name nobody subscribes to any more is dropped).
    pub(crate) fn unsubscribe(&mut self, kind: Kind, name: &Bytes, client: u64) {
        let map = self.of_mut(kind);
        if let Some(subs) = map.get_mut(name) {
            subs.remove(&client);
            if subs.is_empty() {
                map.remove(name);
            }
        }
    }

    /// PUBLISH: deliver `payload` to the channel's subscribers and to every matching pattern's; how many received
    /// it.
    pub(crate) fn publish(&self, channel: &Bytes, payload: &Bytes) -> usize {
        let message = Value::Push(vec![
            Value::bulk("message"),
            Value::BulkString(channel.clone()),
            Value::BulkString(payload.clone()),
        ]);
        let mut n = deliver(self.channels.get(channel), &message);
        for (pattern, subs) in &self.patterns {
            if crate::glob::matches(pattern, channel) {
                let m = Value::Push(vec![
                    Value::bulk("pmessage"),
                    Value::BulkString(pattern.clone()),
                    Value::BulkString(channel.clone()),
                    Value::BulkString(payload.clone()),
                ]);
                n += deliver(Some(subs), &m);
            }
        }
        n
    }

    /// SPUBLISH: deliver `payload` to the shard channel's subscribers; how many received it.
    pub(crate) fn spublish(&self, channel: &Bytes, payload: &Bytes) -> usize {
        let message = Value::Push(vec![
            Value::bulk("smessage"),
            Value::BulkString(channel.clone()),
            Value::BulkString(payload.clone()),
        ]);
        deliver(self.shard.get(channel), &message)
    }

    /// The names of a kind with at least one subscriber, matching `pattern` when given, sorted.
    pub(crate) fn active(&self, kind: Kind, pattern: Option<&Bytes>) -> Vec<Bytes> {
        let mut names: Vec<Bytes> = self
            .of(kind)
            .keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::matches(p, c)))
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// How many subscribe to `name` (PUBSUB NUMSUB).
    pub(crate) fn subscribers(&self, kind: Kind, name: &Bytes) -> usize {
        self.of(kind).get(name).map_or(0, HashMap::len)
    }

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
