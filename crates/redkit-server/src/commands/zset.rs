//! Sorted sets: scores, ranks, ranges by rank/score/lex, pops, set algebra.
//!
//! Ranks and score ranges are O(log n) through the order-statistic tree in [`ZSet`]; lex ranges scan.

use std::collections::HashMap;

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::Ctx;
use super::args::{Args, Conditions};
use super::registry::Decl;
use super::{Reply, err, int, is, parse_f64, parse_i64, syntax_error, wrongtype};
use crate::state::db::{Data, Entry, ZSet};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("zadd", zadd),
    Decl::new("zincrby", zincrby),
    Decl::new("zcard", zcard),
    Decl::new("zscore", zscore),
    Decl::new("zmscore", zmscore),
    Decl::new("zrem", zrem),
    Decl::new("zrank", zrank),
    Decl::new("zrevrank", zrevrank),
    Decl::new("zcount", zcount),
    Decl::new("zlexcount", zlexcount),
    Decl::new("zrange", zrange),
    Decl::new("zrangestore", zrangestore),
    Decl::new("zrevrange", zrevrange),
    Decl::new("zrangebyscore", zrangebyscore),
    Decl::new("zrevrangebyscore", zrevrangebyscore),
    Decl::new("zrangebylex", zrangebylex),
    Decl::new("zrevrangebylex", zrevrangebylex),
    Decl::new("zremrangebyrank", zremrangebyrank),
    Decl::new("zremrangebyscore", zremrangebyscore),
    Decl::new("zremrangebylex", zremrangebylex),
    Decl::new("zpopmin", zpopmin),
    Decl::new("zpopmax", zpopmax),
    Decl::new("zmpop", zmpop),
    Decl::new("zrandmember", zrandmember),
    Decl::new("zunion", zunion),
    Decl::new("zinter", zinter),
    Decl::new("zdiff", zdiff),
    Decl::new("zunionstore", zunionstore),
    Decl::new("zinterstore", zinterstore),
    Decl::new("zdiffstore", zdiffstore),
    Decl::new("zintercard", zintercard),
];

/// `%.17g`, as Redis formats scores in RESP2 (and `inf`/`-inf`).
pub(crate) fn g17(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == 0.0 {
        return "0".into();
    }
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    let sci = format!("{v:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        format!(
            "{}e{}{:02}",
            trim(mantissa.to_owned()),
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        let decimals = (16 - exp).max(0) as usize;
        trim(format!("{v:.decimals$}"))
    }
}

pub(crate) fn score_value(ctx: &Ctx<'_>, v: f64) -> Value {
    if ctx.session.protocol == RespVersion::Resp3 {
        Value::Double(v)
    } else {
        Value::bulk(g17(v))
    }
}

/// Members with scores: flat in RESP2, pairs in RESP3.
fn with_scores(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>) -> Value {
    if ctx.session.protocol == RespVersion::Resp3 {
        Value::Array(
            items
                .into_iter()
                .map(|(m, s)| Value::Array(vec![Value::BulkString(m), Value::Double(s)]))
                .collect(),
        )
    } else {
        Value::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Value::BulkString(m), Value::bulk(g17(s))])
                .collect(),
        )
    }
}

fn zset_ref<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a ZSet>, Value> {
    super::read(ctx, key, |d| match d {
        Data::ZSet(z) => Some(&**z),
        _ => None,
    })
}

fn zset_mut<'a>(ctx: &'a mut Ctx<'_>, key: &Bytes, create: bool) -> Result<Option<&'a mut ZSet>, Value> {
    super::collection_mut(
        ctx,
        key,
        create,
        || Data::ZSet(Box::default()),
        |d| match d {
            Data::ZSet(x) => Some(x),
            _ => None,
        },
    )
}

fn not_float() -> Value {
    err("ERR value is not a valid float")
}

pub(crate) fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut options = Args::at(args, 2);
    let (mut conditions, mut ch, mut incr) = (Conditions::default(), false, false);
    loop {
        if conditions.eat(&mut options) {
            continue;
        }
        if options.eat("CH") {
            ch = true;
        } else if options.eat("INCR") {
            incr = true;
        } else {
            break;
        }
    }
    let Conditions { nx, xx, gt, lt } = conditions;
    let pairs = options.rest();
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(syntax_error());
    }
    if nx && xx {
        return Err(err("ERR XX and NX options at the same time are not compatible"));
    }
    if (nx && (gt || lt)) || (gt && lt) {
        return Err(err(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && pairs.len() > 2 {
        return Err(err("ERR INCR option supports a single increment-element pair"));
    }
    let parsed: Vec<(f64, Bytes)> = pairs
        .chunks(2)
        .map(|p| Ok((parse_f64(&p[0]).map_err(|_| not_float())?, p[1].clone())))
        .collect::<Result<_, Value>>()?;
    let missing = zset_ref(ctx, &args[1])?.is_none();
    if xx && missing {
        return Ok(if incr { Value::Null } else { int(0) });
    }
    let Some(z) = zset_mut(ctx, &args[1], true)? else {
        return Ok(int(0));
    };
    let (mut added, mut changed) = (0, 0);
    let mut incr_result = None;
    for (score, member) in parsed {
        let current = z.scores.get(&member).copied();
        let mut new = score;
        if incr {
            new = current.unwrap_or(0.0) + score;
            if new.is_nan() {
                return Err(err("ERR resulting score is not a number (NaN)"));
            }
        }
        let applies = match current {
            None => !xx,
            Some(c) => !nx && (!gt || new > c) && (!lt || new < c),
        };
        if !applies {
            continue;
        }
        incr_result = Some(new);
        match current {
            None => {
                z.insert(member, new);
                added += 1;
            }
            Some(c) if c != new => {
                z.insert(member, new);
                changed += 1;
            }
            Some(_) => {}
        }
    }
    ctx.db().drop_if_empty(&args[1]);
    if incr {
        return Ok(incr_result.map_or(Value::Null, |s| score_value(ctx, s)));
    }
    Ok(int(if ch { added + changed } else { added }))
}

pub(crate) fn zincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let by = parse_f64(&args[2]).map_err(|_| not_float())?;
    let Some(z) = zset_mut(ctx, &args[1], true)? else {
        return Ok(Value::Null);
    };
    let new = z.scores.get(&args[3]).copied().unwrap_or(0.0) + by;
    if new.is_nan() {
        return Err(err("ERR resulting score is not a number (NaN)"));
    }
    z.insert(args[3].clone(), new);
    Ok(score_value(ctx, new))
}

pub(crate) fn zcard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(zset_ref(ctx, &args[1])?.map_or(0, ZSet::len)))
}

pub(crate) fn zscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let s = zset_ref(ctx, &args[1])?.and_then(|z| z.scores.get(&args[2]).copied());
    Ok(s.map_or(Value::Null, |s| score_value(ctx, s)))
}

pub(crate) fn zmscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let scores: Vec<Option<f64>> = match zset_ref(ctx, &args[1])? {
        Some(z) => args[2..].iter().map(|m| z.scores.get(m).copied()).collect(),
        None => vec![None; args.len() - 2],
    };
    Ok(Value::Array(
        scores
            .into_iter()
            .map(|s| s.map_or(Value::Null, |s| score_value(ctx, s)))
            .collect(),
    ))
}

pub(crate) fn zrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    super::touch_if_changed(ctx, &args[1], |ctx| {
        let Some(z) = zset_mut(ctx, &args[1], false)? else {
            return Ok(int(0));
        };
        let n = args[2..].iter().filter(|m| z.remove(m)).count();
        ctx.db().drop_if_empty(&args[1]);
        Ok(int(n))
    })
}

fn rank(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> Reply {
    let r = zset_ref(ctx, &args[1])?
        .and_then(|z| z.rank(&args[2]).map(|r| if rev { z.len() - 1 - r } else { r }));
    Ok(r.map_or(Value::Null, int))
}

pub(crate) fn zrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    rank(ctx, args, false)
}

pub(crate) fn zrevrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    rank(ctx, args, true)
}

/// A score bound: value and exclusivity.
#[derive(Clone, Copy)]
struct Bound {
    value: f64,
    exclusive: bool,
}

fn score_bound(arg: &[u8]) -> Result<Bound, Value> {
    let bad = || err("ERR min or max is not a float");
    let (exclusive, rest) = match arg.strip_prefix(b"(") {
        Some(r) => (true, r),
        None => (false, arg),
    };
    let value = parse_f64(rest).map_err(|_| bad())?;
    Ok(Bound { value, exclusive })
}

/// The index range `[lo, hi)` of members with `min ≤ score ≤ max` (exclusivity respected).
fn score_span(z: &ZSet, min: Bound, max: Bound) -> (usize, usize) {
    let empty = Bytes::new();
    let first_at_least = |v: f64| z.position(v, &empty);
    let first_above = |v: f64| {
        if v == f64::INFINITY {
            z.len()
        } else {
            z.position(v.next_up(), &empty)
        }
    };
    let lo = if min.exclusive {
        first_above(min.value)
    } else {
        first_at_least(min.value)
    };
    let hi = if max.exclusive {
        first_at_least(max.value)
    } else {
        first_above(max.value)
    };
    (lo, hi.max(lo))
}

/// A lex bound: `-`, `+`, `[x` or `(x`.
#[derive(Clone)]
enum Lex {
    Min,
    Max,
    Incl(Bytes),
    Excl(Bytes),
}

fn lex_bound(arg: &Bytes) -> Result<Lex, Value> {
    match arg.first() {
        Some(b'-') if arg.len() == 1 => Ok(Lex::Min),
        Some(b'+') if arg.len() == 1 => Ok(Lex::Max),
        Some(b'[') => Ok(Lex::Incl(arg.slice(1..))),
        Some(b'(') => Ok(Lex::Excl(arg.slice(1..))),
        _ => Err(err("ERR min or max not valid string range item")),
    }
}

fn lex_gte_min(m: &[u8], min: &Lex) -> bool {
    match min {
        Lex::Min => true,
        Lex::Max => false,
        Lex::Incl(b) => m >= &b[..],
        Lex::Excl(b) => m > &b[..],
    }
}

fn lex_lte_max(m: &[u8], max: &Lex) -> bool {
    match max {
        Lex::Min => false,
        Lex::Max => true,
        Lex::Incl(b) => m <= &b[..],
        Lex::Excl(b) => m < &b[..],
    }
}

/// Indexes of members in a lex range, in order.
fn lex_indexes(z: &ZSet, min: &Lex, max: &Lex) -> Vec<usize> {
    (0..z.len())
        .filter(|&i| {
            z.at(i)
                .is_some_and(|(_, m)| lex_gte_min(m, min) && lex_lte_max(m, max))
        })
        .collect()
}

/// What a ZRANGE-style query asks for.
enum Query {
    Rank(i64, i64),
    Score(Bound, Bound),
    Lex(Lex, Lex),
}

/// Resolve a query to member indexes in reply order.
fn select(z: &ZSet, query: &Query, rev: bool, limit: Option<(i64, i64)>) -> Vec<usize> {
    let n = z.len();
    let mut idx: Vec<usize> = match query {
        Query::Rank(start, stop) => {
            let len = n as i64;
            let mut s = if *start < 0 { len + start } else { *start };
            let mut e = if *stop < 0 { len + stop } else { *stop };
            s = s.max(0);
            if s > e || s >= len {
                return Vec::new();
            }
            e = e.min(len - 1);
            let (s, e) = (s as usize, e as usize);
            if rev {
                (n - 1 - e..=n - 1 - s).rev().collect()
            } else {
                (s..=e).collect()
            }
        }
        Query::Score(min, max) => {
            let (lo, hi) = score_span(z, *min, *max);
            if rev {
                (lo..hi).rev().collect()
            } else {
                (lo..hi).collect()
            }
        }
        Query::Lex(min, max) => {
            let mut v = lex_indexes(z, min, max);
            if rev {
                v.reverse();
            }
            v
        }
    };
    if let Some((offset, count)) = limit {
        if offset < 0 {
            return Vec::new();
        }
        idx = idx.into_iter().skip(offset as usize).collect();
        if count >= 0 {
            idx.truncate(count as usize);
        }
    }
    idx
}

fn members_at(z: &ZSet, idx: &[usize]) -> Vec<(Bytes, f64)> {
    idx.iter()
        .filter_map(|&i| z.at(i))
        .map(|(s, m)| (m.clone(), s.0))
        .collect()
}

/// A parsed ZRANGE: the query, REV, LIMIT and WITHSCORES.
type RangeArgs = (Query, bool, Option<(i64, i64)>, bool);

/// Parse `start stop [BYSCORE|BYLEX] [REV] [LIMIT o c] [WITHSCORES]` (the ZRANGE form) from `args[from..]`.
fn parse_zrange(args: &[Bytes], from: usize, allow_withscores: bool) -> Result<RangeArgs, Value> {
    let (a, b) = (&args[from], &args[from + 1]);
    let (mut by_score, mut by_lex, mut rev, mut limit, mut withscores) = (false, false, false, None, false);
    let mut i = from + 2;
    while i < args.len() {
        if is(&args[i], "BYSCORE") {
            by_score = true;
        } else if is(&args[i], "BYLEX") {
            by_lex = true;
        } else if is(&args[i], "REV") {
            rev = true;
        } else if allow_withscores && is(&args[i], "WITHSCORES") {
            withscores = true;
        } else if is(&args[i], "LIMIT") && i + 2 < args.len() {
            limit = Some((parse_i64(&args[i + 1])?, parse_i64(&args[i + 2])?));
            i += 2;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    if by_score && by_lex {
        return Err(syntax_error());
    }
    if limit.is_some() && !by_score && !by_lex {
        return Err(err(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by_lex {
        return Err(err(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // With REV, the first bound is the max.
    let (lo, hi) = if rev && (by_score || by_lex) {
        (b, a)
    } else {
        (a, b)
    };
    let query = if by_score {
        Query::Score(score_bound(lo)?, score_bound(hi)?)
    } else if by_lex {
        Query::Lex(lex_bound(lo)?, lex_bound(hi)?)
    } else {
        Query::Rank(parse_i64(a)?, parse_i64(b)?)
    };
    Ok((query, rev, limit, withscores))
}

fn reply_members(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>, withscores: bool) -> Value {
    if withscores {
        with_scores(ctx, items)
    } else {
        Value::Array(items.into_iter().map(|(m, _)| Value::BulkString(m)).collect())
    }
}

pub(crate) fn zrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (query, rev, limit, withscores) = parse_zrange(args, 2, true)?;
    let items = zset_ref(ctx, &args[1])?
        .map(|z| members_at(z, &select(z, &query, rev, limit)))
        .unwrap_or_default();
    Ok(reply_members(ctx, items, withscores))
}

pub(crate) fn zrangestore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (query, rev, limit, _) = parse_zrange(args, 3, false)?;
    let items = zset_ref(ctx, &args[2])?
        .map(|z| members_at(z, &select(z, &query, rev, limit)))
        .unwrap_or_default();
    store(ctx, &args[1], items)
}

/// Replace `dest` with these members (or delete it when there are none); their count.
fn store(ctx: &mut Ctx<'_>, dest: &Bytes, items: Vec<(Bytes, f64)>) -> Reply {
    let now = ctx.now;
    ctx.db().remove(dest, now);
    let n = items.len();
    if n > 0 {
        let mut z = ZSet::default();
        for (m, s) in items {
            z.insert(m, s);
        }
        ctx.db().set(dest.clone(), Data::ZSet(Box::new(z)));
    }
    Ok(int(n))
}

/// The legacy range commands: ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX.
fn legacy(ctx: &mut Ctx<'_>, args: &[Bytes], kind: u8, rev: bool) -> Reply {
    let (mut limit, mut withscores) = (None, false);
    let mut i = 4;
    while i < args.len() {
        if kind != b'l' && is(&args[i], "WITHSCORES") {
            withscores = true;
        } else if kind != b'r' && is(&args[i], "LIMIT") && i + 2 < args.len() {
            limit = Some((parse_i64(&args[i + 1])?, parse_i64(&args[i + 2])?));
            i += 2;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    let (a, b) = (&args[2], &args[3]);
    let query = match kind {
        b'r' => Query::Rank(parse_i64(a)?, parse_i64(b)?),
        b's' if rev => Query::Score(score_bound(b)?, score_bound(a)?),
        b's' => Query::Score(score_bound(a)?, score_bound(b)?),
        _ if rev => Query::Lex(lex_bound(b)?, lex_bound(a)?),
        _ => Query::Lex(lex_bound(a)?, lex_bound(b)?),
    };
    let items = zset_ref(ctx, &args[1])?
        .map(|z| members_at(z, &select(z, &query, rev, limit)))
        .unwrap_or_default();
    Ok(reply_members(ctx, items, withscores))
}

pub(crate) fn zrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, b'r', true)
}
pub(crate) fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, b's', false)
}
pub(crate) fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, b's', true)
}
pub(crate) fn zrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, b'l', false)
}
pub(crate) fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, b'l', true)
}

pub(crate) fn zcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (min, max) = (score_bound(&args[2])?, score_bound(&args[3])?);
    let n = zset_ref(ctx, &args[1])?.map_or(0, |z| {
        let (lo, hi) = score_span(z, min, max);
        hi - lo
    });
    Ok(int(n))
}

pub(crate) fn zlexcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (min, max) = (lex_bound(&args[2])?, lex_bound(&args[3])?);
    Ok(int(
        zset_ref(ctx, &args[1])?.map_or(0, |z| lex_indexes(z, &min, &max).len())
    ))
}

fn remove_indexes(ctx: &mut Ctx<'_>, key: &Bytes, idx: Vec<usize>) -> Reply {
    let Some(z) = zset_mut(ctx, key, false)? else {
        return Ok(int(0));
    };
    let members: Vec<Bytes> = idx
        .iter()
        .filter_map(|&i| z.at(i).map(|(_, m)| m.clone()))
        .collect();
    for m in &members {
        z.remove(m);
    }
    ctx.db().drop_if_empty(key);
    Ok(int(members.len()))
}

pub(crate) fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let query = Query::Rank(parse_i64(&args[2])?, parse_i64(&args[3])?);
    let idx = zset_ref(ctx, &args[1])?
        .map(|z| select(z, &query, false, None))
        .unwrap_or_default();
    remove_indexes(ctx, &args[1], idx)
}

pub(crate) fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let query = Query::Score(score_bound(&args[2])?, score_bound(&args[3])?);
    let idx = zset_ref(ctx, &args[1])?
        .map(|z| select(z, &query, false, None))
        .unwrap_or_default();
    remove_indexes(ctx, &args[1], idx)
}

pub(crate) fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let query = Query::Lex(lex_bound(&args[2])?, lex_bound(&args[3])?);
    let idx = zset_ref(ctx, &args[1])?
        .map(|z| select(z, &query, false, None))
        .unwrap_or_default();
    remove_indexes(ctx, &args[1], idx)
}

pub(crate) fn pop(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    max: bool,
    count: usize,
) -> Result<Vec<(Bytes, f64)>, Value> {
    let Some(z) = zset_mut(ctx, key, false)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for _ in 0..count {
        let at = if max {
            z.len().checked_sub(1)
        } else {
            (z.len() > 0).then_some(0)
        };
        let Some((s, m)) = at.and_then(|i| z.at(i)).cloned() else {
            break;
        };
        z.remove(&m);
        out.push((m, s.0));
    }
    ctx.db().drop_if_empty(key);
    Ok(out)
}

fn zpop(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> Reply {
    if args.len() > 3 {
        return Err(syntax_error());
    }
    let count = match args.get(2) {
        None => None,
        Some(c) => {
            let n = parse_i64(c)?;
            if n < 0 {
                return Err(err("ERR value is out of range, must be positive"));
            }
            Some(n as usize)
        }
    };
    let items = pop(ctx, &args[1], max, count.unwrap_or(1))?;
    Ok(match count {
        // Without a count the reply is flat, in both protocols.
        None => Value::Array(
            items
                .into_iter()
                .flat_map(|(m, s)| [Value::BulkString(m), score_value(ctx, s)])
                .collect(),
        ),
        Some(_) => with_scores(ctx, items),
    })
}

pub(crate) fn zpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    zpop(ctx, args, false)
}

pub(crate) fn zpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    zpop(ctx, args, true)
}

pub(crate) fn zmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let n = parse_i64(&args[1])?;
    if n <= 0 {
        return Err(err("ERR numkeys should be greater than 0"));
    }
    let n = n as usize;
    if args.len() < 3 + n {
        return Err(syntax_error());
    }
    let max = if is(&args[2 + n], "MAX") {
        true
    } else if is(&args[2 + n], "MIN") {
        false
    } else {
        return Err(syntax_error());
    };
    let count = super::count_option(&args[3 + n..])?;
    for key in &args[2..2 + n] {
        let items = pop(ctx, key, max, count)?;
        if !items.is_empty() {
            return Ok(Value::Array(vec![
                Value::BulkString(key.clone()),
                with_scores_nested(ctx, items),
            ]));
        }
    }
    Ok(Value::Null)
}

/// ZMPOP's element list: pairs in both protocols.
pub(crate) fn with_scores_nested(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|(m, s)| Value::Array(vec![Value::BulkString(m), score_value(ctx, s)]))
            .collect(),
    )
}

pub(crate) fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let count = args.get(2).map(|c| parse_i64(c)).transpose()?;
    let withscores = match args.get(3) {
        None => false,
        Some(a) if is(a, "WITHSCORES") && args.len() == 4 => true,
        _ => return Err(syntax_error()),
    };
    if let Some(n) = count.filter(|n| *n < 0) {
        super::repeat_count(n, withscores)?;
    }
    let all: Vec<(Bytes, f64)> = zset_ref(ctx, &args[1])?
        .map(|z| {
            (0..z.len())
                .filter_map(|i| z.at(i))
                .map(|(s, m)| (m.clone(), s.0))
                .collect()
        })
        .unwrap_or_default();
    let Some(n) = count else {
        return Ok(if all.is_empty() {
            Value::Null
        } else {
            Value::BulkString(all[fastrand::usize(0..all.len())].0.clone())
        });
    };
    let chosen: Vec<(Bytes, f64)> = if n >= 0 {
        let mut v = all;
        fastrand::shuffle(&mut v);
        v.into_iter().take(n as usize).collect()
    } else if all.is_empty() {
        Vec::new()
    } else {
        (0..super::repeat_count(n, withscores)?)
            .map(|_| all[fastrand::usize(0..all.len())].clone())
            .collect()
    };
    Ok(reply_members(ctx, chosen, withscores))
}

/// A source of ZUNION & co: a sorted set, or a plain set whose members score 1.
fn source(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<HashMap<Bytes, f64>, Value> {
    let now = ctx.now;
    match ctx.db().get(key, now) {
        None => Ok(HashMap::new()),
        Some(Entry {
            data: Data::ZSet(z), ..
        }) => Ok(z.scores.clone()),
        Some(Entry {
            data: Data::Set(s), ..
        }) => Ok(s.iter().map(|m| (m.clone(), 1.0)).collect()),
        Some(_) => Err(wrongtype()),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Combine {
    Union,
    Inter,
    Diff,
}

/// ZUNION/ZINTER/ZDIFF and their STORE forms. `dest` is set for the STORE forms.
fn combine(ctx: &mut Ctx<'_>, args: &[Bytes], op: Combine, dest: Option<&Bytes>, name: &str) -> Reply {
    let first = if dest.is_some() { 2 } else { 1 };
    let n = parse_i64(&args[first])?;
    if n <= 0 {
        return Err(err(&format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    let n = n as usize;
    if args.len() < first + 1 + n {
        return Err(syntax_error());
    }
    let keys = &args[first + 1..first + 1 + n];
    let mut weights = vec![1.0; n];
    let mut aggregate = 0u8; // 0 sum, 1 min, 2 max
    let mut withscores = false;
    let mut i = first + 1 + n;
    while i < args.len() {
        if op != Combine::Diff && is(&args[i], "WEIGHTS") && i + n < args.len() {
            for (w, a) in weights.iter_mut().zip(&args[i + 1..=i + n]) {
                *w = parse_f64(a).map_err(|_| err("ERR weight value is not a float"))?;
            }
            i += n;
        } else if op != Combine::Diff && is(&args[i], "AGGREGATE") && i + 1 < args.len() {
            aggregate = if is(&args[i + 1], "SUM") {
                0
            } else if is(&args[i + 1], "MIN") {
                1
            } else if is(&args[i + 1], "MAX") {
                2
            } else {
                return Err(syntax_error());
            };
            i += 1;
        } else if dest.is_none() && is(&args[i], "WITHSCORES") {
            withscores = true;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    let sources: Vec<HashMap<Bytes, f64>> = keys.iter().map(|k| source(ctx, k)).collect::<Result<_, _>>()?;
    let agg = |a: f64, b: f64| {
        let v = match aggregate {
            1 => a.min(b),
            2 => a.max(b),
            _ => a + b,
        };
        if v.is_nan() { 0.0 } else { v }
    };
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() { 0.0 } else { v }
    };
    let mut result: HashMap<Bytes, f64> = HashMap::new();
    match op {
        Combine::Union => {
            for (src, w) in sources.iter().zip(&weights) {
                for (m, s) in src {
                    let v = weighted(*s, *w);
                    result
                        .entry(m.clone())
                        .and_modify(|acc| *acc = agg(*acc, v))
                        .or_insert(v);
                }
            }
        }
        Combine::Inter => {
            if let Some((first_src, rest)) = sources.split_first() {
                'members: for (m, s) in first_src {
                    let mut acc = weighted(*s, weights[0]);
                    for (src, w) in rest.iter().zip(&weights[1..]) {
                        match src.get(m) {
                            Some(s) => acc = agg(acc, weighted(*s, *w)),
                            None => continue 'members,
                        }
                    }
                    result.insert(m.clone(), acc);
                }
            }
        }
        Combine::Diff => {
            if let Some((first_src, rest)) = sources.split_first() {
                for (m, s) in first_src {
                    if !rest.iter().any(|r| r.contains_key(m)) {
                        result.insert(m.clone(), *s);
                    }
                }
            }
        }
    }
    let mut items: Vec<(Bytes, f64)> = result.into_iter().collect();
    items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    match dest {
        Some(d) => store(ctx, d, items),
        None => Ok(reply_members(ctx, items, withscores)),
    }
}

pub(crate) fn zunion(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    combine(ctx, args, Combine::Union, None, "zunion")
}
pub(crate) fn zinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    combine(ctx, args, Combine::Inter, None, "zinter")
}
pub(crate) fn zdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    combine(ctx, args, Combine::Diff, None, "zdiff")
}
pub(crate) fn zunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let dest = args[1].clone();
    combine(ctx, args, Combine::Union, Some(&dest), "zunionstore")
}
pub(crate) fn zinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let dest = args[1].clone();
    combine(ctx, args, Combine::Inter, Some(&dest), "zinterstore")
}
pub(crate) fn zdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let dest = args[1].clone();
    combine(ctx, args, Combine::Diff, Some(&dest), "zdiffstore")
}

pub(crate) fn zintercard(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (n, limit) = super::intercard_args(args)?;
    let sources: Vec<HashMap<Bytes, f64>> = args[2..2 + n]
        .iter()
        .map(|k| source(ctx, k))
        .collect::<Result<_, _>>()?;
    let size = match sources.split_first() {
        Some((first, rest)) => first
            .keys()
            .filter(|m| rest.iter().all(|r| r.contains_key(*m)))
            .count(),
        None => 0,
    };
    Ok(int(if limit > 0 { size.min(limit) } else { size }))
}
