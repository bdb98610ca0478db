//! Pub/Sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their unsubscribes, PUBLISH, SPUBLISH, PUBSUB.
//!
//! Messages and confirmations are `Value::Push`es: a RESP3 connection writes them as pushes, a RESP2 one as the
//! arrays Redis sends. Each connection has a mailbox the registry delivers into; in-process sessions have none and
//! cannot subscribe (they can publish).

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::registry::Decl;
use super::{Reply, err, int, is};
use crate::state::pubsub::Kind;

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

fn confirmation(what: &str, name: Value, count: usize) -> Value {
    Value::Push(vec![Value::bulk(what.to_owned()), name, int(count)])
}

fn subscribe_to(ctx: &mut Ctx<'_>, args: &[Bytes], kind: Kind, what: &str) -> Reply {
    let Some(mailbox) = ctx.session.mailbox().cloned() else {
        return Err(err(
            "ERR this in-process session cannot subscribe: connect to a TcpServer to receive messages",
        ));
    };
    let id = ctx.session.id();
    let mut replies = Vec::new();
    for name in &args[1..] {
        if ctx.session.subscriptions_mut().add(kind, name) {
            ctx.state.pubsub.subscribe(kind, name, id, mailbox.clone());
        }
        let count = ctx.session.subscriptions().reported(kind);
        replies.push(confirmation(what, Value::BulkString(name.clone()), count));
    }
    ctx.session.reply_with(replies);
    Ok(Value::Null)
}

fn unsubscribe_from(ctx: &mut Ctx<'_>, args: &[Bytes], kind: Kind, what: &str) -> Reply {
    let id = ctx.session.id();
    let names: Vec<Bytes> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        ctx.session.subscriptions().names(kind)
    };
    let mut replies = Vec::new();
    if names.is_empty() {
        let count = ctx.session.subscriptions().reported(kind);
        replies.push(confirmation(what, Value::Null, count));
    }
    for name in names {
        ctx.session.subscriptions_mut().remove(kind, &name);
        ctx.state.pubsub.unsubscribe(kind, &name, id);
        let count = ctx.session.subscriptions().reported(kind);
        replies.push(confirmation(what, Value::BulkString(name), count));
    }
    ctx.session.reply_with(replies);
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

pub(crate) fn publish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(ctx.state.pubsub.publish(&args[1], &args[2])))
}

pub(crate) fn spublish(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(ctx.state.pubsub.spublish(&args[1], &args[2])))
}

pub(crate) fn pubsub(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    let registry = &ctx.state.pubsub;
    let names = |kind: Kind, pattern: Option<&Bytes>| -> Value {
        Value::Array(
            registry
                .active(kind, pattern)
                .into_iter()
                .map(Value::BulkString)
                .collect(),
        )
    };
    let counts = |kind: Kind| -> Value {
        Value::Array(
            args[2..]
                .iter()
                .flat_map(|c| [Value::BulkString(c.clone()), int(registry.subscribers(kind, c))])
                .collect(),
        )
    };
    if is(sub, "CHANNELS") && args.len() <= 3 {
        Ok(names(Kind::Channel, args.get(2)))
    } else if is(sub, "SHARDCHANNELS") && args.len() <= 3 {
        Ok(names(Kind::Shard, args.get(2)))
    } else if is(sub, "NUMSUB") {
        Ok(counts(Kind::Channel))
    } else if is(sub, "SHARDNUMSUB") {
        Ok(counts(Kind::Shard))
    } else if is(sub, "NUMPAT") && args.len() == 2 {
        Ok(int(registry.pattern_count()))
    } else {
        let known = ["CHANNELS", "SHARDCHANNELS", "NUMPAT"].iter().any(|k| is(sub, k));
        Err(super::subcommand_error("pubsub", sub, known))
    }
}
