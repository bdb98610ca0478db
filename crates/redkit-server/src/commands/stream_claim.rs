//! Stream consumer groups' pending entries: XPENDING (the summary and the extended form), XCLAIM, XAUTOCLAIM.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::registry::Decl;
use super::stream::{entry_value, parse_bound, parse_id, stream_mut, stream_of};
use super::{Reply, err, int, is, parse_i64, syntax_error};
use crate::state::stream::{Group, Pending, StreamId};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("xpending", xpending),
    Decl::new("xclaim", xclaim),
    Decl::new("xautoclaim", xautoclaim),
];

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
