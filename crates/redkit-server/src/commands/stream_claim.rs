//! Stream consumer groups' pending entries: XPENDING (the summary and the extended form), XCLAIM, XAUTOCLAIM.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
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

/// XPENDING's extended form: `[IDLE ms] start end count [consumer]`.
struct PendingRange<'a> {
    min_idle: Option<i64>,
    start: StreamId,
    end: StreamId,
    count: i64,
    consumer: Option<&'a Bytes>,
}

/// XPENDING's arguments: the key and group, and the extended form's range when given.
struct XPendingArgs<'a> {
    key: &'a Bytes,
    group: &'a Bytes,
    range: Option<PendingRange<'a>>,
}

impl<'a> XPendingArgs<'a> {
    /// `XPENDING key group [[IDLE ms] start end count [consumer]]`, read before the group is looked up.
    fn parse(argv: &'a [Bytes]) -> Result<XPendingArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let (key, group) = (args.next_bytes()?, args.next_bytes()?);
        if args.peek().is_none() {
            return Ok(XPendingArgs {
                key,
                group,
                range: None,
            });
        }
        let min_idle = if args.eat("IDLE") {
            Some(parse_i64(args.next_bytes()?)?)
        } else {
            None
        };
        let [start, end, count, consumer @ ..] = args.rest() else {
            return Err(syntax_error());
        };
        let consumer = match consumer {
            [] => None,
            [c] => Some(c),
            _ => return Err(syntax_error()),
        };
        Ok(XPendingArgs {
            key,
            group,
            range: Some(PendingRange {
                min_idle,
                start: parse_bound(start, true)?,
                end: parse_bound(end, false)?,
                count: parse_i64(count)?,
                consumer,
            }),
        })
    }
}

pub(crate) fn xpending(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let XPendingArgs { key, group, range } = XPendingArgs::parse(args)?;
    let g = pending_group(ctx, key, group)?;
    let Some(PendingRange {
        min_idle,
        start,
        end,
        count,
        consumer,
    }) = range
    else {
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
            .filter(|(_, p)| consumer.is_none_or(|c| *c == p.consumer))
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

/// When XCLAIM records the claimed entries as delivered.
#[derive(Debug, Clone, Copy)]
enum Delivered {
    Now,
    /// IDLE ms: that long ago.
    IdleFor(i64),
    /// TIME ms: at that Unix time.
    At(i64),
}

/// XCLAIM's arguments after the key, group and consumer.
struct XClaimArgs {
    min_idle: i64,
    ids: Vec<StreamId>,
    /// IDLE or TIME, the last one given.
    delivered: Delivered,
    retry: Option<u64>,
    force: bool,
    justid: bool,
}

impl XClaimArgs {
    /// `XCLAIM key group consumer min-idle id… [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id]`:
    /// the ids run up to the first word that is not one.
    fn parse(argv: &[Bytes]) -> Result<XClaimArgs, Value> {
        let mut args = Args::at(argv, 4);
        let min_idle = parse_i64(args.next_bytes()?)
            .map_err(|_| err("ERR Invalid min-idle-time argument for XCLAIM"))?;
        let mut ids = Vec::new();
        while let Some(id) = args.peek().and_then(|a| parse_id(a, 0).ok()) {
            ids.push(id);
            args.next();
        }
        let mut claim = XClaimArgs {
            min_idle,
            ids,
            delivered: Delivered::Now,
            retry: None,
            force: false,
            justid: false,
        };
        let invalid = |option: &str| err(&format!("ERR Invalid {option} option argument for XCLAIM"));
        while let Some(word) = args.next() {
            if is(word, "IDLE") {
                let idle = parse_i64(args.next_bytes()?).map_err(|_| invalid("IDLE"))?;
                claim.delivered = Delivered::IdleFor(idle);
            } else if is(word, "TIME") {
                let at = parse_i64(args.next_bytes()?).map_err(|_| invalid("TIME"))?;
                claim.delivered = Delivered::At(at);
            } else if is(word, "RETRYCOUNT") {
                let n = parse_i64(args.next_bytes()?).map_err(|_| invalid("RETRYCOUNT"))?;
                claim.retry = Some(u64::try_from(n).unwrap_or(0));
            } else if is(word, "LASTID") {
                parse_id(args.next_bytes()?, 0)?;
            } else if is(word, "FORCE") {
                claim.force = true;
            } else if is(word, "JUSTID") {
                claim.justid = true;
            } else {
                return Err(err(&format!(
                    "ERR Unrecognized XCLAIM option '{}'",
                    String::from_utf8_lossy(word)
                )));
            }
        }
        Ok(claim)
    }
}

pub(crate) fn xclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    let claim = XClaimArgs::parse(args);
    // The key and group first, then the arguments' errors, as Redis.
    if !stream_of(ctx, key)?.is_some_and(|s| s.groups.contains_key(group)) {
        return Err(no_key_or_group(key, group));
    }
    let XClaimArgs {
        min_idle,
        ids,
        delivered,
        retry,
        force,
        justid,
    } = claim?;
    let mut at = match delivered {
        Delivered::Now => now,
        Delivered::IdleFor(idle) => now.saturating_sub(idle),
        Delivered::At(at) => at,
    };
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

/// XAUTOCLAIM's arguments after the key, group and consumer.
struct XAutoClaimArgs {
    min_idle: i64,
    start: StreamId,
    count: usize,
    justid: bool,
}

impl XAutoClaimArgs {
    /// `XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]` (COUNT 100 by default).
    fn parse(argv: &[Bytes]) -> Result<XAutoClaimArgs, Value> {
        let mut args = Args::at(argv, 4);
        let min_idle = parse_i64(args.next_bytes()?)
            .map_err(|_| err("ERR Invalid min-idle-time argument for XAUTOCLAIM"))?;
        let start = parse_bound(args.next_bytes()?, true)?;
        let (mut count, mut justid) = (100usize, false);
        while let Some(word) = args.next() {
            if is(word, "COUNT")
                && let Some(n) = args.next()
            {
                let n = parse_i64(n)?;
                if !(1..=i64::MAX / 10).contains(&n) {
                    return Err(err("ERR COUNT must be > 0"));
                }
                count = n as usize;
            } else if is(word, "JUSTID") {
                justid = true;
            } else {
                return Err(syntax_error());
            }
        }
        Ok(XAutoClaimArgs {
            min_idle,
            start,
            count,
            justid,
        })
    }
}

pub(crate) fn xautoclaim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let (key, group, consumer) = (&args[1], &args[2], &args[3]);
    let claim = XAutoClaimArgs::parse(args);
    // The key and group first, then the arguments' errors.
    if !stream_of(ctx, key)?.is_some_and(|s| s.groups.contains_key(group)) {
        return Err(no_key_or_group(key, group));
    }
    let XAutoClaimArgs {
        min_idle,
        start,
        count,
        justid,
    } = claim?;
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
