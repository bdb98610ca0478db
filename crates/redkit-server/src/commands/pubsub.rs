//! Pub/Sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their unsubscribes, PUBLISH, SPUBLISH, PUBSUB.
//!
//! Messages and confirmations are `Value::Push`es: a RESP3 connection writes them as pushes, a RESP2 one as the
//! arrays Redis sends. Each connection has a mailbox the registry delivers into; in-process sessions have none and
//! cannot subscribe (they can publish).

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use redkit_resp::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::Ctx;
use super::registry::Decl;
use super::{Reply, err, int, is};
use crate::state::pubsub::Subscribers;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("subscribe", subscribe).in_subscribed_mode(),
    Decl::new("unsubscribe", unsubscribe).in_subscribed_mode(),
    Decl::new("psubscribe", psubscribe).in_subscribed_mode(),
    Decl::new("punsubscribe", punsubscribe).in_subscribed_mode(),
    Decl::new("ssubscribe", ssubscribe).in_subscribed_mode(),
    Decl::new("sunsubscribe", sunsubscribe).in_subscribed_mode(),
    Decl::new("publish", publish),
    Decl::new("spublish", spublish),
    Decl::new("pubsub", pubsub),
];

#[derive(Clone, Copy)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

fn parts<'a>(ctx: &'a mut Ctx<'_>, kind: Kind) -> (&'a mut BTreeSet<Bytes>, &'a mut Subscribers) {
    match kind {
        Kind::Channel => (
            &mut ctx.session.subscriptions.channels,
            &mut ctx.state.pubsub.channels,
        ),
        Kind::Pattern => (
            &mut ctx.session.subscriptions.patterns,
            &mut ctx.state.pubsub.patterns,
        ),
        Kind::Shard => (&mut ctx.session.subscriptions.shard, &mut ctx.state.pubsub.shard),
    }
}

/// The count a confirmation reports: channels and patterns together, shard channels on their own.
fn reported(ctx: &Ctx<'_>, kind: Kind) -> usize {
    let s = &ctx.session.subscriptions;
    match kind {
        Kind::Shard => s.shard.len(),
        _ => s.channels.len() + s.patterns.len(),
    }
}

fn confirmation(what: &str, name: Value, count: usize) -> Value {
    Value::Push(vec![Value::bulk(what.to_owned()), name, int(count)])
}

fn subscribe_to(ctx: &mut Ctx<'_>, args: &[Bytes], kind: Kind, what: &str) -> Reply {
    let Some(mailbox) = ctx.session.mailbox.clone() else {
        return Err(err(
            "ERR this in-process session cannot subscribe: connect to a TcpServer to receive messages",
        ));
    };
    let id = ctx.session.id;
    let mut replies = Vec::new();
    for name in &args[1..] {
        let (mine, registry) = parts(ctx, kind);
        if mine.insert(name.clone()) {
            registry
                .entry(name.clone())
                .or_default()
                .insert(id, mailbox.clone());
        }
        let count = reported(ctx, kind);
        replies.push(confirmation(what, Value::BulkString(name.clone()), count));
    }
    ctx.session.replies = Some(replies);
    Ok(Value::Null)
}

fn unsubscribe_from(ctx: &mut Ctx<'_>, args: &[Bytes], kind: Kind, what: &str) -> Reply {
    let id = ctx.session.id;
    let names: Vec<Bytes> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        parts(ctx, kind).0.iter().cloned().collect()
    };
    let mut replies = Vec::new();
    if names.is_empty() {
        let count = reported(ctx, kind);
        replies.push(confirmation(what, Value::Null, count));
    }
    for name in names {
        let (mine, registry) = parts(ctx, kind);
        mine.remove(&name);
        if let Some(subs) = registry.get_mut(&name) {
            subs.remove(&id);
            if subs.is_empty() {
                registry.remove(&name);
            }
        }
        let count = reported(ctx, kind);
        replies.push(confirmation(what, Value::BulkString(name), count));
    }
    ctx.session.replies = Some(replies);
    Ok(Value::Null)
}

pub(crate) fn subscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    subscribe_to(ctx, args, Kind::Channel, "subscribe")
}
pub(crate) fn psubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    subscribe_to(ctx, args, Kind::Pattern, "psubscribe")
}
pub(crate) fn ssubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    subscribe_to(ctx, args, Kind::Shard, "ssubscribe")
}
pub(crate) fn unsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    unsubscribe_from(ctx, args, Kind::Channel, "unsubscribe")
}
pub(crate) fn punsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    unsubscribe_from(ctx, args, Kind::Pattern, "punsubscribe")
}
pub(crate) fn sunsubscribe(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    unsubscribe_from(ctx, args, Kind::Shard, "sunsubscribe")
}

/// Deliver to every live subscriber in `subs`; how many received it.
fn deliver(subs: Option<&HashMap<u64, UnboundedSender<Value>>>, message: &Value) -> usize {
    subs.map_or(0, |subs| {
        subs.values()
            .filter(|tx| tx.send(message.clone()).is_ok())
            .count()
    })
}

pub(crate) fn publish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (channel, payload) = (&args[1], &args[2]);
    let registry = &ctx.state.pubsub;
    let message = Value::Push(vec![
        Value::bulk("message"),
        Value::BulkString(channel.clone()),
        Value::BulkString(payload.clone()),
    ]);
    let mut n = deliver(registry.channels.get(channel), &message);
    for (pattern, subs) in &registry.patterns {
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
    Ok(int(n))
}

pub(crate) fn spublish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let message = Value::Push(vec![
        Value::bulk("smessage"),
        Value::BulkString(args[1].clone()),
        Value::BulkString(args[2].clone()),
    ]);
    Ok(int(deliver(ctx.state.pubsub.shard.get(&args[1]), &message)))
}

pub(crate) fn pubsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    let registry = &ctx.state.pubsub;
    let names = |map: &Subscribers, pattern: Option<&Bytes>| -> Value {
        let mut v: Vec<&Bytes> = map
            .keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::matches(p, c)))
            .collect();
        v.sort();
        Value::Array(v.into_iter().map(|c| Value::BulkString(c.clone())).collect())
    };
    let counts = |map: &Subscribers| -> Value {
        Value::Array(
            args[2..]
                .iter()
                .flat_map(|c| {
                    [
                        Value::BulkString(c.clone()),
                        int(map.get(c).map_or(0, HashMap::len)),
                    ]
                })
                .collect(),
        )
    };
    if is(sub, "CHANNELS") && args.len() <= 3 {
        Ok(names(&registry.channels, args.get(2)))
    } else if is(sub, "SHARDCHANNELS") && args.len() <= 3 {
        Ok(names(&registry.shard, args.get(2)))
    } else if is(sub, "NUMSUB") {
        Ok(counts(&registry.channels))
    } else if is(sub, "SHARDNUMSUB") {
        Ok(counts(&registry.shard))
    } else if is(sub, "NUMPAT") && args.len() == 2 {
        Ok(int(registry.patterns.len()))
    } else {
        let known = ["CHANNELS", "SHARDCHANNELS", "NUMPAT"].iter().any(|k| is(sub, k));
        Err(super::subcommand_error("pubsub", sub, known))
    }
}
