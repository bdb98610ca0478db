//! Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, over sorted sets and plain sets
//! (whose members score 1).

use std::collections::HashMap;

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
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
