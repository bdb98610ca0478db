//! Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, over sorted sets and plain sets
//! (whose members score 1).

use std::collections::HashMap;

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::registry::Decl;
use super::zset::{reply_members, store};
use super::{Reply, err, int, is, parse_f64, parse_i64, syntax_error, wrongtype};
use crate::state::db::{Data, Entry};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("zunion", zunion),
    Decl::new("zinter", zinter),
    Decl::new("zdiff", zdiff),
    Decl::new("zunionstore", zunionstore),
    Decl::new("zinterstore", zinterstore),
    Decl::new("zdiffstore", zdiffstore),
    Decl::new("zintercard", zintercard),
];

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

/// How ZUNION and ZINTER combine a member's weighted scores.
#[derive(Clone, Copy, PartialEq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// The arguments of ZUNION, ZINTER, ZDIFF and their STORE forms, parsed before any key is read.
struct CombineArgs<'a> {
    /// Where the STORE forms store.
    dest: Option<&'a Bytes>,
    keys: &'a [Bytes],
    /// One for each key (1 unless WEIGHTS).
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
}

impl<'a> CombineArgs<'a> {
    /// `[destination] numkeys key… [WEIGHTS w…] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`: no WEIGHTS or AGGREGATE
    /// for ZDIFF, no WITHSCORES for the STORE forms; a later option replaces an earlier one.
    fn parse(argv: &'a [Bytes], op: Combine, store: bool, name: &str) -> Result<CombineArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let dest = if store { Some(args.next_bytes()?) } else { None };
        let n = parse_i64(args.next_bytes()?)?;
        if n <= 0 {
            return Err(err(&format!(
                "ERR at least 1 input key is needed for '{name}' command"
            )));
        }
        let rest = args.rest();
        let n = n as usize;
        if rest.len() < n {
            return Err(syntax_error());
        }
        let (keys, options) = rest.split_at(n);
        let mut args = Args::at(options, 0);
        let mut weights = vec![1.0; n];
        let (mut aggregate, mut withscores) = (Aggregate::Sum, false);
        while let Some(word) = args.next() {
            let mut ahead = args;
            if op != Combine::Diff
                && is(word, "WEIGHTS")
                && let Some((given, after)) = ahead.rest().split_at_checked(n)
            {
                for (w, a) in weights.iter_mut().zip(given) {
                    *w = parse_f64(a).map_err(|_| err("ERR weight value is not a float"))?;
                }
                args = Args::at(after, 0);
            } else if op != Combine::Diff
                && is(word, "AGGREGATE")
                && let Some(how) = args.next()
            {
                aggregate = if is(how, "SUM") {
                    Aggregate::Sum
                } else if is(how, "MIN") {
                    Aggregate::Min
                } else if is(how, "MAX") {
                    Aggregate::Max
                } else {
                    return Err(syntax_error());
                };
            } else if !store && is(word, "WITHSCORES") {
                withscores = true;
            } else {
                return Err(syntax_error());
            }
        }
        Ok(CombineArgs {
            dest,
            keys,
            weights,
            aggregate,
            withscores,
        })
    }
}

/// ZUNION/ZINTER/ZDIFF and their STORE forms (`store`: the destination is `args[1]`).
fn combine(ctx: &mut Ctx<'_>, args: &[Bytes], op: Combine, store_result: bool, name: &str) -> Reply {
    let CombineArgs {
        dest,
        keys,
        weights,
        aggregate,
        withscores,
    } = CombineArgs::parse(args, op, store_result, name)?;
    let sources: Vec<HashMap<Bytes, f64>> = keys.iter().map(|k| source(ctx, k)).collect::<Result<_, _>>()?;
    let agg = |a: f64, b: f64| {
        let v = match aggregate {
            Aggregate::Min => a.min(b),
            Aggregate::Max => a.max(b),
            Aggregate::Sum => a + b,
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
    combine(ctx, args, Combine::Union, false, "zunion")
}
pub(crate) fn zinter(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    combine(ctx, args, Combine::Inter, false, "zinter")
}
pub(crate) fn zdiff(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    combine(ctx, args, Combine::Diff, false, "zdiff")
}
pub(crate) fn zunionstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    combine(ctx, args, Combine::Union, true, "zunionstore")
}
pub(crate) fn zinterstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    combine(ctx, args, Combine::Inter, true, "zinterstore")
}
pub(crate) fn zdiffstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    combine(ctx, args, Combine::Diff, true, "zdiffstore")
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
