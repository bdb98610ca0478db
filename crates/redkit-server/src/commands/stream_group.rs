//! Stream consumer groups: XGROUP, XREADGROUP (with BLOCK), XACK. Their pending entries are read and moved by
//! `stream_claim.rs` (XPENDING, XCLAIM, XAUTOCLAIM) and reported by `stream_info.rs` (XINFO).
//!
//! A group has a last-delivered id, a logical read counter (for `lag`, computed as Redis 7.0 does), a pending
//! entries list (id → consumer, delivery time, delivery count) and its consumers with their own pending ids.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::{Args, streams};
use super::registry::Decl;
use super::stream::{ReadOptions, entry_value, parse_id, read_reply, stream_mut, stream_of};
use super::{Reply, err, int, is, ok, parse_i64, syntax_error};
use crate::state::Block;
use crate::state::blocked::{GroupRead, Retry};
use crate::state::stream::{Consumer, Group, Pending, StreamId};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("xgroup", xgroup),
    Decl::new("xreadgroup", xreadgroup),
    Decl::new("xack", xack),
];

fn key_error() -> Value {
    err(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
    )
}

pub(super) fn no_group(key: &[u8], group: &[u8]) -> Value {
    err(&format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

/// `ENTRIESREAD n`'s value: a count, or -1 for none.
fn entries_read(arg: &[u8]) -> Result<Option<u64>, Value> {
    let n = parse_i64(arg)?;
    if n < 0 && n != -1 {
        return Err(err("ERR value for ENTRIESREAD must be positive or -1"));
    }
    Ok(u64::try_from(n).ok())
}

/// An optional `ENTRIESREAD n` as the last words.
fn entries_read_option(args: &mut Args<'_>) -> Result<Option<u64>, Value> {
    match args.rest() {
        [] => Ok(None),
        [opt, n] if is(opt, "ENTRIESREAD") => entries_read(n),
        _ => Err(syntax_error()),
    }
}

/// A group's last-delivered id as XGROUP CREATE and SETID name it: the stream's last id (`$`), or an id.
#[derive(Debug, Clone, Copy)]
enum GroupStart {
    Last,
    Id(StreamId),
    /// An id that does not parse (XGROUP CREATE reports it after the key is looked up, as Redis).
    Invalid,
}

impl GroupStart {
    fn parse(arg: &[u8]) -> GroupStart {
        if arg == b"$" {
            GroupStart::Last
        } else {
            parse_id(arg, 0).map_or(GroupStart::Invalid, GroupStart::Id)
        }
    }

    fn resolve(self, last: StreamId) -> Result<StreamId, Value> {
        match self {
            GroupStart::Last => Ok(last),
            GroupStart::Id(id) => Ok(id),
            GroupStart::Invalid => Err(super::stream::invalid_id()),
        }
    }
}

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD n]` (MKSTREAM first when both).
struct CreateArgs {
    start: GroupStart,
    mkstream: bool,
    entries_read: Option<u64>,
}

impl CreateArgs {
    fn parse(argv: &[Bytes]) -> Result<CreateArgs, Value> {
        let mut args = Args::at(argv, 4);
        let start = GroupStart::parse(args.next_bytes()?);
        let mkstream = args.eat("MKSTREAM");
        let entries_read = entries_read_option(&mut args)?;
        Ok(CreateArgs {
            start,
            mkstream,
            entries_read,
        })
    }
}

/// `XGROUP SETID key group id|$ [ENTRIESREAD n]`: the id is read first, then ENTRIESREAD.
struct SetIdArgs {
    start: GroupStart,
    entries_read: Option<u64>,
}

impl SetIdArgs {
    fn parse(argv: &[Bytes]) -> Result<SetIdArgs, Value> {
        let mut args = Args::at(argv, 4);
        let start = GroupStart::parse(args.next_bytes()?);
        if let GroupStart::Invalid = start {
            return Err(super::stream::invalid_id());
        }
        let entries_read = entries_read_option(&mut args)?;
        Ok(SetIdArgs { start, entries_read })
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
        let CreateArgs {
            start,
            mkstream,
            entries_read,
        } = CreateArgs::parse(args)?;
        let Some(s) = stream_mut(ctx, key, mkstream)? else {
            return Err(key_error());
        };
        let id = start.resolve(s.last_id())?;
        if s.groups.contains_key(group) {
            return Err(err("BUSYGROUP Consumer Group name already exists"));
        }
        s.groups.insert(
            group.clone(),
            Group {
                last_id: id,
                entries_read,
                ..Group::default()
            },
        );
        return ok();
    }
    // SETID's words are read once the key and the group are found (Redis, too, reads the id after them).
    let setid = is(sub, "SETID").then(|| SetIdArgs::parse(args));
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
    if let Some(setid) = setid {
        let SetIdArgs { start, entries_read } = setid?;
        g.last_id = start.resolve(last)?;
        g.entries_read = entries_read;
        return ok();
    }
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
    } else {
        let Some(c) = g.consumers.remove(&args[4]) else {
            return Ok(int(0));
        };
        for id in &c.pending {
            g.pel.remove(id);
        }
        Ok(int(c.pending.len()))
    }
}

impl GroupRead {
    pub(crate) fn keys(&self) -> Vec<Bytes> {
        self.keys.clone()
    }

    /// Serve the read now: `Ok(None)` when only new entries were asked for and there are none.
    pub(crate) fn try_now(&self, ctx: &mut Ctx<'_>) -> Result<Option<Value>, Value> {
        let now = ctx.now;
        let protocol = ctx.session.protocol();
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

/// Where XREADGROUP reads a stream from.
#[derive(Debug, Clone, Copy)]
enum GroupFrom {
    /// `>`: entries never delivered to the group.
    New,
    /// The consumer's own pending entries after an id.
    Pending(StreamId),
    /// `$`, which XREADGROUP refuses — after the key's group is found, as Redis, like an id that does not parse.
    Last,
    Invalid,
}

/// XREADGROUP's arguments, parsed before anything is applied.
struct XReadGroupArgs<'a> {
    group: &'a Bytes,
    consumer: &'a Bytes,
    options: ReadOptions,
    noack: bool,
    keys: &'a [Bytes],
    /// One for each key.
    from: Vec<GroupFrom>,
}

impl<'a> XReadGroupArgs<'a> {
    /// `XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key… id…` (options in any order; the
    /// stream list is checked before the GROUP option is missed, as Redis).
    fn parse(argv: &'a [Bytes]) -> Result<XReadGroupArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let (mut names, mut options, mut noack) = (None, ReadOptions::default(), false);
        while let Some(word) = args.peek() {
            if options.eat(&mut args)? {
                continue;
            }
            let mut ahead = args;
            ahead.next();
            if is(word, "GROUP")
                && let (Some(group), Some(consumer)) = (ahead.next(), ahead.next())
            {
                names = Some((group, consumer));
                args = ahead;
            } else if args.eat("NOACK") {
                noack = true;
            } else if args.eat("STREAMS") {
                break;
            } else {
                return Err(syntax_error());
            }
        }
        let (keys, ids) = streams(
            args.rest(),
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        )?;
        let Some((group, consumer)) = names else {
            return Err(err("ERR Missing GROUP option for XREADGROUP"));
        };
        let from = ids
            .iter()
            .map(|id| match id.as_ref() {
                b">" => GroupFrom::New,
                b"$" => GroupFrom::Last,
                _ => parse_id(id, 0).map_or(GroupFrom::Invalid, GroupFrom::Pending),
            })
            .collect();
        Ok(XReadGroupArgs {
            group,
            consumer,
            options,
            noack,
            keys,
            from,
        })
    }
}

pub(crate) fn xreadgroup(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let XReadGroupArgs {
        group,
        consumer,
        options: ReadOptions { count, block },
        noack,
        keys,
        from,
    } = XReadGroupArgs::parse(args)?;
    let mut ids = Vec::with_capacity(keys.len());
    for (key, from) in keys.iter().zip(from) {
        let has_group = stream_of(ctx, key)?.is_some_and(|s| s.groups.contains_key(group));
        if !has_group {
            return Err(no_group_read(key, group));
        }
        ids.push(match from {
            GroupFrom::New => None,
            GroupFrom::Pending(id) => Some(id),
            GroupFrom::Last => {
                return Err(err(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            GroupFrom::Invalid => return Err(super::stream::invalid_id()),
        });
    }
    let read = GroupRead {
        group: group.clone(),
        consumer: consumer.clone(),
        count,
        noack,
        keys: keys.to_vec(),
        ids,
    };
    if let Some(v) = read.try_now(ctx)? {
        return Ok(v);
    }
    if let Some(ms) = block
        && ctx.session.may_block()
    {
        ctx.session.block_on(Block {
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
