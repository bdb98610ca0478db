//! Sorted sets: adding and scoring members, ranks — and what the other sorted-set files share: the zset lookups,
//! the score replies, storing a result, and the pop that ZPOPMIN/ZMPOP and their blocking forms use.
//!
//! Ranks are O(log n) through the order-statistic tree in [`ZSet`]. Ranges are `zset_range.rs`'s, pops and random
//! members `zset_pop.rs`'s, and the set algebra (ZUNION & co) `zset_algebra.rs`'s.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::{Args, Conditions};
use super::registry::Decl;
use super::{Reply, err, int, parse_f64, syntax_error};
use crate::state::db::{Data, ZSet};

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
    if ctx.session.resp3() {
        Value::Double(v)
    } else {
        Value::bulk(g17(v))
    }
}

/// Members with scores: flat in RESP2, pairs in RESP3.
pub(super) fn with_scores(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>) -> Value {
    if ctx.session.resp3() {
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

pub(super) fn zset_ref<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a ZSet>, Value> {
    super::read(ctx, key, |d| match d {
        Data::ZSet(z) => Some(&**z),
        _ => None,
    })
}

pub(super) fn zset_mut<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &Bytes,
    create: bool,
) -> Result<Option<&'a mut ZSet>, Value> {
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

/// ZADD's arguments, parsed before anything is applied.
struct ZAddArgs<'a> {
    key: &'a Bytes,
    /// NX/XX/GT/LT, their combinations checked.
    conditions: Conditions,
    /// CH: count changed members as well as added ones.
    ch: bool,
    /// INCR: add to the member's score, ZINCRBY-style (a single pair).
    incr: bool,
    /// The score-member pairs.
    pairs: Vec<(f64, &'a Bytes)>,
}

impl<'a> ZAddArgs<'a> {
    /// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member …]` (options in any order, repeats
    /// allowed), with Redis's errors in its order: the pairs' count, the conflicting conditions, INCR's single pair,
    /// then the scores.
    fn parse(argv: &'a [Bytes]) -> Result<ZAddArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let (mut conditions, mut ch, mut incr) = (Conditions::default(), false, false);
        loop {
            if conditions.eat(&mut args) {
                continue;
            }
            if args.eat("CH") {
                ch = true;
            } else if args.eat("INCR") {
                incr = true;
            } else {
                break;
            }
        }
        let Conditions { nx, xx, gt, lt } = conditions;
        let pairs = args.rest();
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
        let pairs = pairs
            .chunks(2)
            .map(|p| Ok((parse_f64(&p[0]).map_err(|_| not_float())?, &p[1])))
            .collect::<Result<_, Value>>()?;
        Ok(ZAddArgs {
            key,
            conditions,
            ch,
            incr,
            pairs,
        })
    }
}

pub(crate) fn zadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let ZAddArgs {
        key,
        conditions: Conditions { nx, xx, gt, lt },
        ch,
        incr,
        pairs,
    } = ZAddArgs::parse(args)?;
    let missing = zset_ref(ctx, key)?.is_none();
    if xx && missing {
        return Ok(if incr { Value::Null } else { int(0) });
    }
    let Some(z) = zset_mut(ctx, key, true)? else {
        return Ok(int(0));
    };
    let (mut added, mut changed) = (0, 0);
    let mut incr_result = None;
    for (score, member) in pairs {
        let current = z.scores.get(member).copied();
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
                z.insert(member.clone(), new);
                added += 1;
            }
            Some(c) if c != new => {
                z.insert(member.clone(), new);
                changed += 1;
            }
            Some(_) => {}
        }
    }
    ctx.db().drop_if_empty(key);
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

/// The members, with their scores when `withscores` (flat in RESP2, pairs in RESP3).
pub(super) fn reply_members(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>, withscores: bool) -> Value {
    if withscores {
        with_scores(ctx, items)
    } else {
        Value::Array(items.into_iter().map(|(m, _)| Value::BulkString(m)).collect())
    }
}

/// Replace `dest` with these members (or delete it when there are none); their count.
pub(super) fn store(ctx: &mut Ctx<'_>, dest: &Bytes, items: Vec<(Bytes, f64)>) -> Reply {
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

/// Pop up to `count` members from the low end (the high end with `max`), with their scores.
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

/// ZMPOP's element list: pairs in both protocols.
pub(crate) fn with_scores_nested(ctx: &Ctx<'_>, items: Vec<(Bytes, f64)>) -> Value {
    Value::Array(
        items
            .into_iter()
            .map(|(m, s)| Value::Array(vec![Value::BulkString(m), score_value(ctx, s)]))
            .collect(),
    )
}
