//! XINFO STREAM (plain and FULL), XINFO GROUPS and XINFO CONSUMERS: what a stream and its consumer groups hold.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::registry::Decl;
use super::stream::{entry_value, stream_of};
use super::stream_group::no_group;
use super::{Reply, err, int, is, parse_i64};
use crate::state::stream::{Group, StreamId};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[Decl::new("xinfo", xinfo)];

/// A reply map with text field names.
fn pairs(items: Vec<(&'static str, Value)>) -> Value {
    Value::Map(items.into_iter().map(|(k, v)| (Value::bulk(k), v)).collect())
}

/// The fields XINFO STREAM starts with, plain or FULL. The radix tree's shape is Redis's own: reported as one key
/// and node per 100-entry node.
fn stream_header(s: &crate::state::stream::Stream) -> Vec<(&'static str, Value)> {
    let nodes = s.len().div_ceil(100).max(1);
    vec![
        ("length", int(s.len())),
        ("radix-tree-keys", int(if s.len() == 0 { 0 } else { nodes })),
        ("radix-tree-nodes", int(nodes + 1)),
        ("last-generated-id", Value::bulk(s.last_id().text())),
        ("max-deleted-entry-id", Value::bulk(s.max_deleted().text())),
        ("entries-added", int(s.entries_added())),
        ("recorded-first-entry-id", Value::bulk(s.first_id().text())),
    ]
}

/// XINFO STREAM … FULL: the stream with its entries and every group's pending entries and consumers, each list cut
/// at `count` (0: no limit).
fn stream_full(s: &crate::state::stream::Stream, count: usize) -> Value {
    let limit = if count == 0 { usize::MAX } else { count };
    let entries = s
        .from(StreamId::default(), Some(limit))
        .into_iter()
        .map(|(id, e)| entry_value(id, e))
        .collect();
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pending = g
                .pel
                .iter()
                .take(limit)
                .map(|(id, p)| {
                    Value::Array(vec![
                        Value::bulk(id.text()),
                        Value::BulkString(p.consumer.clone()),
                        int(p.delivered_ms),
                        int(p.count),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cname, c)| {
                    let own = c
                        .pending
                        .iter()
                        .take(limit)
                        .filter_map(|id| {
                            let p = g.pel.get(id)?;
                            Some(Value::Array(vec![
                                Value::bulk(id.text()),
                                int(p.delivered_ms),
                                int(p.count),
                            ]))
                        })
                        .collect();
                    pairs(vec![
                        ("name", Value::BulkString(cname.clone())),
                        ("seen-time", int(c.seen_ms)),
                        ("pel-count", int(c.pending.len())),
                        ("pending", Value::Array(own)),
                    ])
                })
                .collect();
            pairs(vec![
                ("name", Value::BulkString(name.clone())),
                ("last-delivered-id", Value::bulk(g.last_id.text())),
                ("entries-read", g.entries_read.map_or(Value::Null, int)),
                ("lag", lag(s, g)),
                ("pel-count", int(g.pel.len())),
                ("pending", Value::Array(pending)),
                ("consumers", Value::Array(consumers)),
            ])
        })
        .collect();
    let mut fields = stream_header(s);
    fields.push(("entries", Value::Array(entries)));
    fields.push(("groups", Value::Array(groups)));
    pairs(fields)
}

fn lag(s: &crate::state::stream::Stream, g: &Group) -> Value {
    if s.entries_added() == 0 {
        return int(0);
    }
    if let Some(read) = g.entries_read
        && !s.has_tombstones(g.last_id)
    {
        return int(s.entries_added().saturating_sub(read));
    }
    match s.estimate_read(g.last_id) {
        Some(read) => int(s.entries_added().saturating_sub(read)),
        None => Value::Null,
    }
}

/// XINFO STREAM's `[FULL [COUNT n]]` after the key: `Some(count)` for FULL (10 by default; 0, or a negative
/// count, for everything).
fn full_option(argv: &[Bytes]) -> Result<Option<usize>, Value> {
    let mut args = Args::at(argv, 3);
    match args.rest() {
        [] => Ok(None),
        [f] if is(f, "FULL") => Ok(Some(10)),
        [f, c, n] if is(f, "FULL") && is(c, "COUNT") => Ok(Some(parse_i64(n)?.max(0) as usize)),
        _ => Err(err(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
            String::from_utf8_lossy(&argv[1])
        ))),
    }
}

pub(crate) fn xinfo(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let sub = &args[1];
    let known = ["STREAM", "GROUPS", "CONSUMERS"].iter().any(|k| is(sub, k));
    let arity_ok = (is(sub, "STREAM") && args.len() >= 3)
        || (is(sub, "GROUPS") && args.len() == 3)
        || (is(sub, "CONSUMERS") && args.len() == 4);
    if !known || !arity_ok {
        return Err(super::subcommand_error("xinfo", sub, known));
    }
    let full = if is(sub, "STREAM") {
        full_option(args)?
    } else {
        None
    };
    let Some(s) = stream_of(ctx, &args[2])? else {
        return Err(err("ERR no such key"));
    };
    if let Some(count) = full {
        return Ok(stream_full(s, count));
    }
    if is(sub, "GROUPS") {
        return Ok(Value::Array(
            s.groups
                .iter()
                .map(|(name, g)| {
                    pairs(vec![
                        ("name", Value::BulkString(name.clone())),
                        ("consumers", int(g.consumers.len())),
                        ("pending", int(g.pel.len())),
                        ("last-delivered-id", Value::bulk(g.last_id.text())),
                        ("entries-read", g.entries_read.map_or(Value::Null, int)),
                        ("lag", lag(s, g)),
                    ])
                })
                .collect(),
        ));
    }
    if is(sub, "CONSUMERS") {
        let Some(g) = s.groups.get(&args[3]) else {
            return Err(no_group(&args[2], &args[3]));
        };
        return Ok(Value::Array(
            g.consumers
                .iter()
                .map(|(name, c)| {
                    pairs(vec![
                        ("name", Value::BulkString(name.clone())),
                        ("pending", int(c.pending.len())),
                        ("idle", int(now.saturating_sub(c.seen_ms).max(0))),
                    ])
                })
                .collect(),
        ));
    }
    let entry = |id: Option<StreamId>| {
        id.and_then(|id| s.entry(id).map(|e| entry_value(id, e)))
            .unwrap_or(Value::Null)
    };
    let first = (s.len() > 0).then(|| s.first_id());
    let last = s.from(StreamId::default(), None).last().map(|(id, _)| *id);
    let mut fields = stream_header(s);
    fields.push(("groups", int(s.groups.len())));
    fields.push(("first-entry", entry(first)));
    fields.push(("last-entry", entry(last)));
    Ok(pairs(fields))
}
