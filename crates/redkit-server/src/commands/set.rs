//! Sets: membership, random members, algebra, SSCAN.

use std::collections::HashSet;

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::{Args, InterCard, Pick};
use super::registry::Decl;
use super::{Reply, int, parse_i64, read, syntax_error};
use crate::state::db::Data;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("sadd", sadd),
    Decl::new("srem", srem),
    Decl::new("scard", scard),
    Decl::new("sismember", sismember),
    Decl::new("smismember", smismember),
    Decl::new("smembers", smembers),
    Decl::new("spop", spop),
    Decl::new("srandmember", srandmember),
    Decl::new("smove", smove),
    Decl::new("sinter", sinter),
    Decl::new("sunion", sunion),
    Decl::new("sdiff", sdiff),
    Decl::new("sinterstore", sinterstore),
    Decl::new("sunionstore", sunionstore),
    Decl::new("sdiffstore", sdiffstore),
    Decl::new("sintercard", sintercard),
];

/// The set at `key`, borrowed (no copy: membership tests stay O(1)).
fn set_of<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a HashSet<Bytes>>, Value> {
    read(ctx, key, |d| match d {
        Data::Set(s) => Some(s),
        _ => None,
    })
}

fn set_mut<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &Bytes,
    create: bool,
) -> Result<Option<&'a mut HashSet<Bytes>>, Value> {
    super::collection_mut(
        ctx,
        key,
        create,
        || Data::Set(HashSet::new()),
        |d| match d {
            Data::Set(x) => Some(x),
            _ => None,
        },
    )
}

fn members(set: impl IntoIterator<Item = Bytes>) -> Value {
    Value::Set(set.into_iter().map(Value::BulkString).collect())
}

/// An intset's members in Redis's order: ascending by value.
pub(crate) fn ordered_members(set: &HashSet<Bytes>) -> Vec<Bytes> {
    let mut numbers: Vec<(i64, Bytes)> = set
        .iter()
        .map(|m| (parse_i64(m).unwrap_or(0), m.clone()))
        .collect();
    numbers.sort_by_key(|(n, _)| *n);
    numbers.into_iter().map(|(_, m)| m).collect()
}

pub(crate) fn sadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    super::touch_if_changed(ctx, &args[1], |ctx| {
        let Some(set) = set_mut(ctx, &args[1], true)? else {
            return Ok(int(0));
        };
        Ok(int(args[2..].iter().filter(|m| set.insert((*m).clone())).count()))
    })
}

pub(crate) fn srem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    super::touch_if_changed(ctx, &args[1], |ctx| {
        let Some(set) = set_mut(ctx, &args[1], false)? else {
            return Ok(int(0));
        };
        let n = args[2..].iter().filter(|m| set.remove(*m)).count();
        ctx.db().drop_if_empty(&args[1]);
        Ok(int(n))
    })
}

pub(crate) fn scard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(set_of(ctx, &args[1])?.map_or(0, |s| s.len())))
}

pub(crate) fn sismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(u8::from(
        set_of(ctx, &args[1])?.is_some_and(|s| s.contains(&args[2])),
    )))
}

pub(crate) fn smismember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let set = set_of(ctx, &args[1])?;
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|m| int(u8::from(set.is_some_and(|s| s.contains(m)))))
            .collect(),
    ))
}

pub(crate) fn smembers(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let intset = ctx
        .db()
        .get(&args[1], now)
        .is_some_and(|e| super::entry_encoding(e) == "intset");
    Ok(match set_of(ctx, &args[1])? {
        Some(set) if intset => members(ordered_members(set)),
        Some(set) => members(set.iter().cloned().collect::<Vec<_>>()),
        None => members(Vec::new()),
    })
}

pub(crate) fn spop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let count = super::args::pop_count(args.get(2))?;
    if args.len() > 3 {
        return Err(syntax_error());
    }
    let Some(set) = set_mut(ctx, &args[1], false)? else {
        return Ok(if count.is_some() {
            Value::Set(vec![])
        } else {
            Value::Null
        });
    };
    let mut all: Vec<Bytes> = set.iter().cloned().collect();
    fastrand::shuffle(&mut all);
    let take = count.unwrap_or(1).min(all.len());
    let popped: Vec<Bytes> = all.into_iter().take(take).collect();
    for m in &popped {
        set.remove(m);
    }
    ctx.db().drop_if_empty(&args[1]);
    Ok(match count {
        None => popped.into_iter().next().map_or(Value::Null, Value::BulkString),
        Some(_) => members(popped),
    })
}

/// SRANDMEMBER's arguments, parsed before the key is read.
struct RandMemberArgs<'a> {
    key: &'a Bytes,
    pick: Pick,
}

impl<'a> RandMemberArgs<'a> {
    /// `SRANDMEMBER key [count]`: a word after the count is `ERR syntax error`, found before the count is read.
    fn parse(argv: &'a [Bytes]) -> Result<RandMemberArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let count = args.next();
        if args.peek().is_some() {
            return Err(syntax_error());
        }
        let count = count.map(|c| parse_i64(c)).transpose()?;
        Ok(RandMemberArgs {
            key,
            pick: Pick::new(count, false)?,
        })
    }
}

pub(crate) fn srandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let RandMemberArgs { key, pick } = RandMemberArgs::parse(args)?;
    let all: Vec<Bytes> = set_of(ctx, key)?
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    Ok(match pick {
        Pick::One => {
            if all.is_empty() {
                Value::Null
            } else {
                Value::BulkString(all[fastrand::usize(0..all.len())].clone())
            }
        }
        Pick::Distinct(n) => {
            let mut all = all;
            fastrand::shuffle(&mut all);
            Value::Array(all.into_iter().take(n).map(Value::BulkString).collect())
        }
        Pick::Repeated(_) if all.is_empty() => Value::Array(vec![]),
        Pick::Repeated(n) => Value::Array(
            (0..n)
                .map(|_| Value::BulkString(all[fastrand::usize(0..all.len())].clone()))
                .collect(),
        ),
    })
}

pub(crate) fn smove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // As Redis: a missing source answers 0 before either type is checked.
    let now = ctx.now;
    if !ctx.db().contains(&args[1], now) {
        return Ok(int(0));
    }
    let present = match set_of(ctx, &args[1])? {
        Some(src) => src.contains(&args[3]),
        None => return Ok(int(0)),
    };
    set_of(ctx, &args[2])?;
    if !present {
        return Ok(int(0));
    }
    if args[1] == args[2] {
        return Ok(int(1));
    }
    if let Some(s) = set_mut(ctx, &args[1], false)? {
        s.remove(&args[3]);
    }
    ctx.db().drop_if_empty(&args[1]);
    if let Some(d) = set_mut(ctx, &args[2], true)? {
        d.insert(args[3].clone());
    }
    Ok(int(1))
}

/// The sets at `keys` (missing keys are empty sets); WRONGTYPE if any is another type.
fn sets(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Result<Vec<HashSet<Bytes>>, Value> {
    keys.iter()
        .map(|k| set_of(ctx, k).map(|s| s.cloned().unwrap_or_default()))
        .collect()
}

#[derive(Clone, Copy)]
enum Op {
    Inter,
    Union,
    Diff,
}

fn combine(all: Vec<HashSet<Bytes>>, op: Op) -> HashSet<Bytes> {
    let mut it = all.into_iter();
    let Some(first) = it.next() else {
        return HashSet::new();
    };
    it.fold(first, |acc, s| match op {
        Op::Inter => acc.intersection(&s).cloned().collect(),
        Op::Union => acc.union(&s).cloned().collect(),
        Op::Diff => acc.difference(&s).cloned().collect(),
    })
}

fn algebra(ctx: &mut Ctx<'_>, args: &[Bytes], op: Op) -> Reply {
    let all = sets(ctx, &args[1..])?;
    Ok(members(combine(all, op)))
}

fn algebra_store(ctx: &mut Ctx<'_>, args: &[Bytes], op: Op) -> Reply {
    let all = sets(ctx, &args[2..])?;
    let result = combine(all, op);
    let n = result.len();
    let now = ctx.now;
    ctx.db().remove(&args[1], now);
    if n > 0 {
        ctx.db().set(args[1].clone(), Data::Set(result));
    }
    Ok(int(n))
}

pub(crate) fn sinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    algebra(ctx, args, Op::Inter)
}
pub(crate) fn sunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    algebra(ctx, args, Op::Union)
}
pub(crate) fn sdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    algebra(ctx, args, Op::Diff)
}
pub(crate) fn sinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    algebra_store(ctx, args, Op::Inter)
}
pub(crate) fn sunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    algebra_store(ctx, args, Op::Union)
}
pub(crate) fn sdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    algebra_store(ctx, args, Op::Diff)
}

pub(crate) fn sintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let InterCard { keys, limit } = InterCard::parse(args)?;
    let all = sets(ctx, keys)?;
    let size = combine(all, Op::Inter).len();
    Ok(int(if limit > 0 { size.min(limit) } else { size }))
}
