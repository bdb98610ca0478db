//! Sorted-set pops and random members: ZPOPMIN, ZPOPMAX, ZMPOP, ZRANDMEMBER (the pop itself is `zset.rs`'s, shared
//! with the blocking forms).

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::args::Pick;
use super::registry::Decl;
use super::zset::{pop, reply_members, score_value, with_scores, with_scores_nested, zset_ref};
use super::{Reply, err, is, parse_i64, syntax_error};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("zpopmin", zpopmin),
    Decl::new("zpopmax", zpopmax),
    Decl::new("zmpop", zmpop),
    Decl::new("zrandmember", zrandmember),
];

fn zpop(ctx: &mut Ctx<'_>, args: &[Bytes], max: bool) -> Reply {
    if args.len() > 3 {
        return Err(syntax_error());
    }
    let count = super::args::pop_count(args.get(2))?;
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

/// ZMPOP's (and BZMPOP's) `numkeys key… MIN|MAX [COUNT n]`.
pub(super) struct MPopArgs<'a> {
    pub(super) keys: &'a [Bytes],
    /// MAX: pop the highest scores.
    pub(super) max: bool,
    /// COUNT, 1 by default.
    pub(super) count: usize,
}

impl<'a> MPopArgs<'a> {
    /// From the cursor at `numkeys`.
    pub(super) fn parse(mut args: Args<'a>) -> Result<MPopArgs<'a>, Value> {
        let n = parse_i64(args.next_bytes()?)?;
        if n <= 0 {
            return Err(err("ERR numkeys should be greater than 0"));
        }
        let n = n as usize;
        let rest = args.rest();
        let (Some(keys), Some(side)) = (rest.get(..n), rest.get(n)) else {
            return Err(syntax_error());
        };
        let max = if is(side, "MAX") {
            true
        } else if is(side, "MIN") {
            false
        } else {
            return Err(syntax_error());
        };
        let count = super::count_option(&rest[n + 1..])?;
        Ok(MPopArgs { keys, max, count })
    }
}

pub(crate) fn zmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let MPopArgs { keys, max, count } = MPopArgs::parse(Args::new(args))?;
    for key in keys {
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

/// ZRANDMEMBER's `key [count [WITHSCORES]]`, the count checked (a negative one bounded) before the key is read.
struct RandArgs<'a> {
    key: &'a Bytes,
    /// Without a count the reply is one member, not an array.
    pick: Pick,
    withscores: bool,
}

impl<'a> RandArgs<'a> {
    fn parse(argv: &'a [Bytes]) -> Result<RandArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let count = args.next().map(|c| parse_i64(c)).transpose()?;
        let withscores = match args.rest() {
            [] => false,
            [a] if is(a, "WITHSCORES") => true,
            _ => return Err(syntax_error()),
        };
        Ok(RandArgs {
            key,
            pick: Pick::new(count, withscores)?,
            withscores,
        })
    }
}

pub(crate) fn zrandmember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let RandArgs {
        key,
        pick,
        withscores,
    } = RandArgs::parse(args)?;
    let all: Vec<(Bytes, f64)> = zset_ref(ctx, key)?
        .map(|z| {
            (0..z.len())
                .filter_map(|i| z.at(i))
                .map(|(s, m)| (m.clone(), s.0))
                .collect()
        })
        .unwrap_or_default();
    let chosen: Vec<(Bytes, f64)> = match pick {
        Pick::One => {
            return Ok(if all.is_empty() {
                Value::Null
            } else {
                Value::BulkString(all[fastrand::usize(0..all.len())].0.clone())
            });
        }
        Pick::Distinct(n) => {
            let mut v = all;
            fastrand::shuffle(&mut v);
            v.into_iter().take(n).collect()
        }
        Pick::Repeated(_) if all.is_empty() => Vec::new(),
        Pick::Repeated(n) => (0..n)
            .map(|_| all[fastrand::usize(0..all.len())].clone())
            .collect(),
    };
    Ok(reply_members(ctx, chosen, withscores))
}
