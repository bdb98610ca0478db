//! Stream consumer groups: XGROUP, XREADGROUP (with BLOCK), XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO.
//!
//! A group has a last-delivered id, a logical read counter (for `lag`, computed as Redis 7.0 does), a pending
//! entries list (id → consumer, delivery time, delivery count) and its consumers with their own pending ids.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::streams;
use super::registry::Decl;
use super::stream::{entry_value, parse_bound, parse_id, read_reply, stream_mut, stream_of};
use super::{Reply, err, int, is, ok, parse_i64, syntax_error};
use crate::state::Block;
use crate::state::blocked::{GroupRead, Retry};
use crate::state::stream::{Consumer, Group, Pending, StreamId};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("xgroup", xgroup),
    Decl::new("xreadgroup", xreadgroup),
    Decl::new("xack", xack),
    Decl::new("xpending", xpending),
    Decl::new("xclaim", xclaim),
    Decl::new("xautoclaim", xautoclaim),
    Decl::new("xinfo", xinfo),
];

fn key_error() -> Value {
    err(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
    )
}

fn no_group(key: &[u8], group: &[u8]) -> Value {
    err(&format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

/// `ENTRIESREAD n` at `args[i..]`, if there.
fn entries_read_option(args: &[Bytes], i: usize) -> Result<Option<Option<u64>>, Value> {
    match &args[i.min(args.len())..] {
        [] => Ok(None),
        [opt, n] if is(opt, "ENTRIESREAD") => {
            let n = parse_i64(n)?;
            if n < 0 && n != -1 {
                return Err(err("ERR value for ENTRIESREAD must be positive or -1"));
            }
            Ok(Some(u64::try_from(n).ok()))
        }
        _ => Err(syntax_error()),
    }
}

pub(crate) fn xgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    let n = args.len();
    let known = ["CREATE", "CREATECONSUMER", "DELCONSUMER", "DESTROY", "SETID"]
        .iter()
        .any(|k| is(sub, k));
    let arity_ok = (is(sub, "CREATE") && (5..=8).contains(&n))
        || (is(sub, "SETID") && (5..=7).contains(&n))
        || (is(sub, "DESTROY") && n == 4)
        || ((is(sub, "CREATECONSUMER") || is(sub, "DELCONSUMER")) && n == 5);
    if !known || !arity_ok {
        return Err(super::subcommand_error("xgroup", sub, known));
    }
    let (key, group) = (&args[2], &args[3]);
    let now = ctx.now;
    if is(sub, "CREATE") {
        let mut mkstream = false;
        let mut i = 5;
        if args.get(5).is_some_and(|a| is(a, "MKSTREAM")) {
            mkstream = true;
            i = 6;
        }
        let entries_read = entries_read_option(args, i)?;
        let Some(s) = stream_mut(ctx, key, mkstream)? else {
            return Err(key_error());
        };
        let id = if args[4].as_ref() == b"$" {
            s.last_id()
        } else {
            parse_id(&args[4], 0)?
        };
        if s.groups.contains_key(group) {
            return Err(err("BUSYGROUP Consumer Group name already exists"));
        }
        s.groups.insert(
            group.clone(),
            Group {
                last_id: id,
                entries_read: entries_read.flatten(),
                ..Group::default()
            },
        );
        return ok();
    }
    if stream_of(ctx, key)?.is_none() {
        return Err(key_error());
    }
    let Some(s) = stream_mut(ctx, key, false)? else {
        return Err(key_error());
    };
    if is(sub, "DESTROY") {
        return Ok(int(u8::from(s.groups.remove(group).is_some())));
    }
    let last = s.last_id();
    let Some(g) = s.groups.get_mut(group) else {
        return Err(no_group(key, group));
    };
    if is(sub, "CREATECONSUMER") {
        if g.consumers.contains_key(&args[4]) {
            return Ok(int(0));
        }
        g.consumers.insert(
            args[4].clone(),
            Consumer {
                seen_ms: now,
                ..Consumer::default()
            },
        );
        Ok(int(1))
    } else if is(sub, "DELCONSUMER") {
        let Some(c) = g.consumers.remove(&args[4]) else {
            return Ok(int(0));
        };
        for id in &c.pending {
            g.pel.remove(id);
        }
        Ok(int(c.pending.len()))
    } else {
        let id = if args[4].as_ref() == b"$" {
            last
        } else {
            parse_id(&args[4], 0)?
        };
        let entries_read = entries_read_option(args, 5)?;
        g.last_id = id;
        g.entries_read = entries_read.flatten();
        ok()
    }
}

impl GroupRead {
    pub(crate) fn keys(&self) -> Vec<Bytes> {
        self.keys.clone()
    }

    /// Serve the read now: `Ok(None)` when only new entries were asked for and there are none.
    pub(crate) fn try_now(&self, ctx: &mut Ctx<'_>) -> Result<Option<Value>, Value> {
        let now = ctx.now;
        let protocol = ctx.session.protocol;
        let mut found = Vec::new();
        let mut any_history = false;
        for (key, id) in self.keys.iter().zip(&self.ids) {
            let Some(s) = stream_mut(ctx, key, false)? else {
                return Err(no_group_read(key, &self.group));
            };
            let Some(g) = s.groups.get(&self.group) else {
                return Err(no_group_read(key, &self.group));
            };
            let after = g.last_id;
            match id {
                None => {
                    let new: Vec<(StreamId, Value, bool)> = s
                        .after(after, self.count)
                        .into_iter()
                        .map(|(id, e)| (id, entry_value(id, e), s.has_tombstones(id)))
                        .collect();
                    let estimates: Vec<Option<u64>> =
                        new.iter().map(|(id, _, _)| s.estimate_read(*id)).collect();
                    let entries_added = s.entries_added();
                    let Some(g) = s.groups.get_mut(&self.group) else {
                        return Err(no_group_read(key, &self.group));
                    };
                    // Asking for new entries and finding none makes no consumer (Redis 7.0).
                    if new.is_empty() {
                        continue;
                    }
                    let consumer = g.consumers.entry(self.consumer.clone()).or_default();
                    consumer.seen_ms = now;
                    let mut values = Vec::with_capacity(new.len());
                    for ((id, value, tombstones), estimate) in new.into_iter().zip(estimates) {
                        if id > g.last_id {
                            g.entries_read = match g.entries_read {
                                Some(n) if !tombstones => Some(n + 1),
                                _ if entries_added > 0 => estimate,
                                other => other,
                            };
                            g.last_id = id;
                        }
                        if !self.noack {
                            if let Some(old) = g.pel.insert(
                                id,
                                Pending {
                                    consumer: self.consumer.clone(),
                                    delivered_ms: now,
                                    count: 1,
                                },
                            ) && let Some(c) = g.consumers.get_mut(&old.consumer)
                            {
                                c.pending.remove(&id);
                            }
                            if let Some(c) = g.consumers.get_mut(&self.consumer) {
                                c.pending.insert(id);
                            }
                        }
                        values.push(value);
                    }
                    found.push((key.clone(), Value::Array(values)));
                }
                Some(start) => {
                    any_history = true;
                    let pending: Vec<StreamId> = g
                        .consumers
                        .get(&self.consumer)
                        .map(|c| {
                            c.pending
                                .range(start.next().unwrap_or(StreamId::MAX)..)
                                .copied()
                                .take(self.count.unwrap_or(usize::MAX))
                                .collect()
                        })
                        .unwrap_or_default();
                    let values: Vec<(StreamId, Option<Value>)> = pending
                        .iter()
                        .map(|id| (*id, s.entry(*id).map(|e| entry_value(*id, e))))
                        .collect();
                    let Some(g) = s.groups.get_mut(&self.group) else {
                        return Err(no_group_read(key, &self.group));
                    };
                    g.consumers.entry(self.consumer.clone()).or_default().seen_ms = now;
                    let mut out = Vec::with_capacity(values.len());
                    for (id, value) in values {
                        match value {
                            Some(v) => {
                                if let Some(p) = g.pel.get_mut(&id) {
                                    p.delivered_ms = now;
                                    p.count += 1;
                                }
                                out.push(v);
                            }
                            // Deleted from the stream while pending: the id with a null body.
                            None => out.push(Value::Array(vec![Value::bulk(id.text()), Value::Null])),
                        }
                    }
                    found.push((key.clone(), Value::Array(out)));
                }
            }
        }
        if found.is_empty() && !any_history {
            return Ok(None);
        }
        Ok(Some(read_reply(protocol, found)))
    }
}

fn no_group_read(key: &[u8], group: &[u8]) -> Value {
    err(&format!(
        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

pub(crate) fn xreadgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut i = 1;
    let (mut group, mut consumer, mut count, mut block, mut noack) = (None, None, None, None, false);
    while i < args.len() {
        let a = &args[i];
        if is(a, "GROUP") && i + 2 < args.len() {
            group = Some(args[i + 1].clone());
            consumer = Some(args[i + 2].clone());
            i += 3;
        } else if let Some(used) = super::stream::read_option(args, i, &mut count, &mut block)? {
            i += used;
        } else if is(a, "NOACK") {
            noack = true;
            i += 1;
        } else if is(a, "STREAMS") {
            i += 1;
            break;
        } else {
            return Err(syntax_error());
        }
    }
    let (keys, id_args) = streams(
        &args[i.min(args.len())..],
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
    )?;
    let (Some(group), Some(consumer)) = (group, consumer) else {
        return Err(err("ERR Missing GROUP option for XREADGROUP"));
    };
    let mut ids = Vec::with_capacity(keys.len());
    for (key, id) in keys.iter().zip(id_args) {
        let has_group = stream_of(ctx, key)?.is_some_and(|s| s.groups.contains_key(&group));
        if !has_group {
            return Err(no_group_read(key, &group));
        }
        if id.as_ref() == b">" {
            ids.push(None);
        } else if id.as_ref() == b"$" {
            return Err(err(
                "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
            ));
        } else {
            ids.push(Some(parse_id(id, 0)?));
        }
    }
    let read = GroupRead {
        group,
        consumer,
        count,
        noack,
        keys: keys.to_vec(),
        ids,
    };
    if let Some(v) = read.try_now(ctx)? {
        return Ok(v);
    }
    if let Some(ms) = block
        && !ctx.session.in_exec
    {
        ctx.session.block = Some(Block {
            keys: keys.to_vec(),
            timeout: (ms > 0).then(|| std::time::Duration::from_millis(ms)),
            retry: Retry::XReadGroup(read),
        });
    }
    Ok(Value::Null)
}

pub(crate) fn xack(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // A missing key or group answers 0 before the ids are read, as Redis.
    if !stream_of(ctx, &args[1])?.is_some_and(|s| s.groups.contains_key(&args[2])) {
        return Ok(int(0));
    }
    let ids = args[3..]
        .iter()
        .map(|a| parse_id(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(s) = stream_mut(ctx, &args[1], false)? else {
        return Ok(int(0));
    };
    let Some(g) = s.groups.get_mut(&args[2]) else {
        return Ok(int(0));
    };
    let mut n = 0;
    for id in ids {
        if let Some(p) = g.pel.remove(&id) {
            if let Some(c) = g.consumers.get_mut(&p.consumer) {
                c.pending.remove(&id);
            }
            n += 1;
        }
    }
    Ok(int(n))
}

fn no_key_or_group(key: &[u8], group: &[u8]) -> Value {
    err(&format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn pending_group<'a>(ctx: &'a mut Ctx<'_>, key: &Bytes, group: &Bytes) -> Result<&'a Group, Value> {
    stream_of(ctx, key)?
        .and_then(|s| s.groups.get(group))
        .ok_or_else(|| no_key_or_group(key, group))
}

pub(crate) fn xpending(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    // Extended form: [IDLE ms] start end count [consumer].
    let mut i = 3;
    let mut min_idle = None;
    if args.len() > 3 {
        if is(&args[3], "IDLE") {
            let ms = parse_i64(args.get(4).ok_or_else(syntax_error)?)?;
            min_idle = Some(ms);
            i = 5;
        }
        if args.len() < i + 3 || args.len() > i + 4 {
            return Err(syntax_error());
        }
    }
    let extended = args.len() > 3;
    let range = if extended {
        let start = parse_bound(&args[i], true)?;
        let end = parse_bound(&args[i + 1], false)?;
        let count = parse_i64(&args[i + 2])?;
        Some((start, end, count, args.get(i + 3).cloned()))
    } else {
        None
    };
    let g = pending_group(ctx, &args[1], &args[2])?;
    let Some((start, end, count, consumer)) = range else {
        if g.pel.is_empty() {
            return Ok(Value::Array(vec![int(0), Value::Null, Value::Null, Value::Null]));
        }
        let first = g.pel.keys().next().copied().unwrap_or_default();
        let last = g.pel.keys().next_back().copied().unwrap_or_default();
        let per_consumer: Vec<Value> = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pending.is_empty())
            .map(|(name, c)| {
                Value::Array(vec![
                    Value::BulkString(name.clone()),
                    Value::bulk(c.pending.len().to_string()),
                ])
            })
            .collect();
        return Ok(Value::Array(vec![
            int(g.pel.len()),
            Value::bulk(first.text()),
            Value::bulk(last.text()),
            Value::Array(per_consumer),
        ]));
    };
    if count <= 0 || start > end {
        return Ok(Value::Array(vec![]));
    }
    Ok(Value::Array(
        g.pel
            .range(start..=end)
            .filter(|(_, p)| consumer.as_ref().is_none_or(|c| *c == p.consumer))
            .filter(|(_, p)| min_idle.is_none_or(|m| now.saturating_sub(p.delivered_ms) >= m))
            .take(usize::try_from(count).unwrap_or(usize::MAX))
            .map(|(id, p)| {
                Value::Array(vec![
                    Value::bulk(id.text()),
                    Value::BulkString(p.consumer.clone()),
                    int(now.saturating_sub(p.delivered_ms).max(0)),
                    int(p.count),
                ])
            })
            .collect(),
    ))
}

/// Give `id` to `consumer` in `g`, delivered at `at` (count bumped unless `justid`).
fn claim_one(g: &mut Group, id: StreamId, consumer: &Bytes, at: i64, retry: Option<u64>, justid: bool) {
    let previous = g.pel.get(&id).map(|p| p.consumer.clone());
    if let Some(prev) = previous
        && let Some(c) = g.consumers.get_mut(&prev)
    {
        c.pending.remove(&id);
    }
    let p = g.pel.entry(id).or_insert(Pending {
        consumer: consumer.clone(),
        delivered_ms: at,
        count: 0,
    });
    p.consumer = consumer.clone();
    p.delivered_ms = at;
    match retry {
        Some(n) => p.count = n,
        None if !justid => p.count += 1,
        None => {}
    }
    // The claiming consumer is made (or refreshed) only when it claims something, as in Redis.
    let c = g.consumers.entry(consumer.clone()).or_default();
    c.pending.insert(id);
    c.seen_ms = c.seen_ms.max(at);
}

pub(crate) fn xclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    // The key and group first, as Redis.
    if !stream_of(ctx, key)?.is_some_and(|s| s.groups.contains_key(group)) {
        return Err(no_key_or_group(key, group));
    }
    let min_idle = parse_i64(&args[4]).map_err(|_| err("ERR Invalid min-idle-time argument for XCLAIM"))?;
    let mut ids = Vec::new();
    let mut i = 5;
    while i < args.len() {
        match parse_id(&args[i], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        i += 1;
    }
    let (mut at, mut retry, mut force, mut justid) = (now, None, false, false);
    while i < args.len() {
        let a = &args[i];
        let value = || args.get(i + 1).ok_or_else(syntax_error);
        if is(a, "IDLE") {
            let idle = parse_i64(value()?).map_err(|_| err("ERR Invalid IDLE option argument for XCLAIM"))?;
            at = now.saturating_sub(idle);
            i += 2;
        } else if is(a, "TIME") {
            at = parse_i64(value()?).map_err(|_| err("ERR Invalid TIME option argument for XCLAIM"))?;
            i += 2;
        } else if is(a, "RETRYCOUNT") {
            let n =
                parse_i64(value()?).map_err(|_| err("ERR Invalid RETRYCOUNT option argument for XCLAIM"))?;
            retry = Some(u64::try_from(n).unwrap_or(0));
            i += 2;
        } else if is(a, "LASTID") {
            parse_id(value()?, 0)?;
            i += 2;
        } else if is(a, "FORCE") {
            force = true;
            i += 1;
        } else if is(a, "JUSTID") {
            justid = true;
            i += 1;
        } else {
            return Err(err(&format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(a)
            )));
        }
    }
    // A delivery time in the future or before the epoch is now, as Redis clamps it.
    if at < 0 || at > now {
        at = now;
    }
    let Some(s) = stream_mut(ctx, key, false)? else {
        return Err(no_key_or_group(key, group));
    };
    let exists: Vec<bool> = ids.iter().map(|id| s.entry(*id).is_some()).collect();
    let bodies: Vec<Option<Value>> = ids
        .iter()
        .map(|id| s.entry(*id).map(|e| entry_value(*id, e)))
        .collect();
    let Some(g) = s.groups.get_mut(group) else {
        return Err(no_key_or_group(key, group));
    };
    let mut out = Vec::new();
    for ((id, exists), body) in ids.into_iter().zip(exists).zip(bodies) {
        let pending = g.pel.get(&id).map(|p| now.saturating_sub(p.delivered_ms));
        let eligible = match pending {
            Some(idle) => idle >= min_idle,
            None => force && exists,
        };
        if !eligible {
            continue;
        }
        if !exists {
            // Deleted from the stream: drop it from the pending list.
            if let Some(p) = g.pel.remove(&id)
                && let Some(c) = g.consumers.get_mut(&p.consumer)
            {
                c.pending.remove(&id);
            }
            continue;
        }
        claim_one(g, id, consumer, at, retry, justid);
        out.push(if justid {
            Value::bulk(id.text())
        } else {
            body.unwrap_or(Value::Null)
        });
    }
    Ok(Value::Array(out))
}

pub(crate) fn xautoclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    if !stream_of(ctx, key)?.is_some_and(|s| s.groups.contains_key(group)) {
        return Err(no_key_or_group(key, group));
    }
    let min_idle =
        parse_i64(&args[4]).map_err(|_| err("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?;
    let start = parse_bound(&args[5], true)?;
    let (mut count, mut justid) = (100usize, false);
    let mut i = 6;
    while i < args.len() {
        if is(&args[i], "COUNT") && i + 1 < args.len() {
            let n = parse_i64(&args[i + 1])?;
            if !(1..=i64::MAX / 10).contains(&n) {
                return Err(err("ERR COUNT must be > 0"));
            }
            count = n as usize;
            i += 2;
        } else if is(&args[i], "JUSTID") {
            justid = true;
            i += 1;
        } else {
            return Err(syntax_error());
        }
    }
    let Some(s) = stream_mut(ctx, key, false)? else {
        return Err(no_key_or_group(key, group));
    };
    let candidates: Vec<(StreamId, Option<Value>)> = match s.groups.get(group) {
        None => return Err(no_key_or_group(key, group)),
        Some(g) => g
            .pel
            .range(start..)
            .take(count.saturating_mul(10))
            .map(|(id, _)| (*id, s.entry(*id).map(|e| entry_value(*id, e))))
            .collect(),
    };
    let Some(g) = s.groups.get_mut(group) else {
        return Err(no_key_or_group(key, group));
    };
    let (mut claimed, mut deleted) = (Vec::new(), Vec::new());
    let mut next = StreamId::default();
    let mut scanned = 0usize;
    let total = candidates.len();
    for (id, body) in candidates {
        if claimed.len() >= count {
            next = id;
            break;
        }
        scanned += 1;
        let Some(idle) = g.pel.get(&id).map(|p| now.saturating_sub(p.delivered_ms)) else {
            continue;
        };
        if idle < min_idle {
            continue;
        }
        match body {
            None => {
                if let Some(p) = g.pel.remove(&id)
                    && let Some(c) = g.consumers.get_mut(&p.consumer)
                {
                    c.pending.remove(&id);
                }
                deleted.push(Value::bulk(id.text()));
            }
            Some(v) => {
                claim_one(g, id, consumer, now, None, justid);
                claimed.push(if justid { Value::bulk(id.text()) } else { v });
            }
        }
    }
    if next == StreamId::default() && scanned == total {
        // Scanned to the end unless more remain after the attempts.
        next = g
            .pel
            .range(start..)
            .nth(total)
            .map(|(id, _)| *id)
            .unwrap_or_default();
    }
    Ok(Value::Array(vec![
        Value::bulk(next.text()),
        Value::Array(claimed),
        Value::Array(deleted),
    ]))
}

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
    // XINFO STREAM key [FULL [COUNT n]]: COUNT defaults to 10; 0 (or less) means everything.
    let full = if is(sub, "STREAM") && args.len() > 3 {
        let wrong = || {
            err(&format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
                String::from_utf8_lossy(sub)
            ))
        };
        match &args[3..] {
            [f] if is(f, "FULL") => Some(10),
            [f, c, n] if is(f, "FULL") && is(c, "COUNT") => Some(parse_i64(n)?.max(0) as usize),
            _ => return Err(wrong()),
        }
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
