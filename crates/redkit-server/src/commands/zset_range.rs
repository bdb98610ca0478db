//! Sorted-set ranges: ZRANGE and ZRANGESTORE with their BYSCORE/BYLEX/REV/LIMIT forms, the legacy ZREVRANGE and
//! ZRANGEBYSCORE/ZRANGEBYLEX family, ZCOUNT, ZLEXCOUNT and ZREMRANGEBYRANK/SCORE/LEX.
//!
//! Score ranges are O(log n) through the order-statistic tree in [`ZSet`]; lex ranges scan.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::range_args::take;
use super::registry::Decl;
use super::zset::{reply_members, store, zset_mut, zset_ref};
use super::{Reply, err, int, is, parse_f64, parse_i64, syntax_error};
use crate::state::db::ZSet;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
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
];

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

/// How a range command orders its bounds: by rank, by score or by member.
#[derive(Clone, Copy, PartialEq)]
enum By {
    Rank,
    Score,
    Lex,
}

/// The arguments of every ZRANGE-style read — ZRANGE, ZRANGESTORE, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE,
/// ZRANGEBYLEX, ZREVRANGEBYLEX — parsed before anything is applied.
struct RangeArgs<'a> {
    /// The sorted set read.
    key: &'a Bytes,
    query: Query,
    /// REV (or a ZREV… command): the high end first.
    rev: bool,
    /// LIMIT offset count.
    limit: Option<(i64, i64)>,
    withscores: bool,
}

impl<'a> RangeArgs<'a> {
    /// The options are read before the bounds (whose errors come after theirs, as in Redis). With `rev`, a score
    /// or lex range names the max first.
    fn new(
        key: &'a Bytes,
        (a, b): (&Bytes, &Bytes),
        by: By,
        rev: bool,
        limit: Option<(i64, i64)>,
        withscores: bool,
    ) -> Result<RangeArgs<'a>, Value> {
        let (lo, hi) = if rev && by != By::Rank { (b, a) } else { (a, b) };
        let query = match by {
            By::Rank => Query::Rank(parse_i64(lo)?, parse_i64(hi)?),
            By::Score => Query::Score(score_bound(lo)?, score_bound(hi)?),
            By::Lex => Query::Lex(lex_bound(lo)?, lex_bound(hi)?),
        };
        Ok(RangeArgs {
            key,
            query,
            rev,
            limit,
            withscores,
        })
    }

    /// `key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` (the ZRANGE form) from the cursor;
    /// WITHSCORES only where `allow_withscores` (not ZRANGESTORE).
    fn zrange(mut args: Args<'a>, allow_withscores: bool) -> Result<RangeArgs<'a>, Value> {
        let key = args.next_bytes()?;
        let bounds = (args.next_bytes()?, args.next_bytes()?);
        let (mut by_score, mut by_lex, mut rev, mut limit, mut withscores) =
            (false, false, false, None, false);
        while let Some(word) = args.next() {
            if is(word, "BYSCORE") {
                by_score = true;
            } else if is(word, "BYLEX") {
                by_lex = true;
            } else if is(word, "REV") {
                rev = true;
            } else if allow_withscores && is(word, "WITHSCORES") {
                withscores = true;
            } else if is(word, "LIMIT")
                && let Some(l) = limit_option(&mut args)?
            {
                limit = Some(l);
            } else {
                return Err(syntax_error());
            }
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
        let by = if by_score {
            By::Score
        } else if by_lex {
            By::Lex
        } else {
            By::Rank
        };
        RangeArgs::new(key, bounds, by, rev, limit, withscores)
    }

    /// The legacy forms: `key start stop [WITHSCORES]` (ZREVRANGE), `key min max [WITHSCORES] [LIMIT offset
    /// count]` (ZRANGEBYSCORE and ZREVRANGEBYSCORE, max first), `key min max [LIMIT offset count]` (ZRANGEBYLEX and
    /// ZREVRANGEBYLEX, max first).
    fn legacy(argv: &'a [Bytes], by: By, rev: bool) -> Result<RangeArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let bounds = (args.next_bytes()?, args.next_bytes()?);
        let (mut limit, mut withscores) = (None, false);
        while let Some(word) = args.next() {
            if by != By::Lex && is(word, "WITHSCORES") {
                withscores = true;
            } else if by != By::Rank
                && is(word, "LIMIT")
                && let Some(l) = limit_option(&mut args)?
            {
                limit = Some(l);
            } else {
                return Err(syntax_error());
            }
        }
        RangeArgs::new(key, bounds, by, rev, limit, withscores)
    }

    /// The members in range, with their scores, in reply order (none for a missing key).
    fn items(&self, ctx: &mut Ctx<'_>) -> Result<Vec<(Bytes, f64)>, Value> {
        Ok(zset_ref(ctx, self.key)?
            .map(|z| members_at(z, &select(z, &self.query, self.rev, self.limit)))
            .unwrap_or_default())
    }
}

/// LIMIT's `offset count`, once the cursor is past LIMIT: `None` (nothing taken) unless both words are there.
fn limit_option(args: &mut Args<'_>) -> Result<Option<(i64, i64)>, Value> {
    let Some([offset, count]) = take(args) else {
        return Ok(None);
    };
    Ok(Some((parse_i64(offset)?, parse_i64(count)?)))
}

pub(crate) fn zrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let range = RangeArgs::zrange(Args::new(args), true)?;
    let items = range.items(ctx)?;
    Ok(reply_members(ctx, items, range.withscores))
}

pub(crate) fn zrangestore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let range = RangeArgs::zrange(Args::at(args, 2), false)?;
    let items = range.items(ctx)?;
    store(ctx, &args[1], items)
}

/// The legacy range commands: ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX.
fn legacy(ctx: &mut Ctx<'_>, args: &[Bytes], by: By, rev: bool) -> Reply {
    let range = RangeArgs::legacy(args, by, rev)?;
    let items = range.items(ctx)?;
    Ok(reply_members(ctx, items, range.withscores))
}

pub(crate) fn zrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, By::Rank, true)
}
pub(crate) fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, By::Score, false)
}
pub(crate) fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, By::Score, true)
}
pub(crate) fn zrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, By::Lex, false)
}
pub(crate) fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    legacy(ctx, args, By::Lex, true)
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
