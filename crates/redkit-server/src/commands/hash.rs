//! Hashes: fields and values, counters, random fields, HSCAN.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::{Args, Pick};
use super::registry::Decl;
use super::{Reply, bulk, err, format_float, int, is, ok, parse_f64, parse_i64, read, syntax_error};
use crate::state::db::Data;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("hset", hset),
    Decl::new("hmset", hmset),
    Decl::new("hsetnx", hsetnx),
    Decl::new("hget", hget),
    Decl::new("hmget", hmget),
    Decl::new("hgetall", hgetall),
    Decl::new("hdel", hdel),
    Decl::new("hexists", hexists),
    Decl::new("hlen", hlen),
    Decl::new("hkeys", hkeys),
    Decl::new("hvals", hvals),
    Decl::new("hstrlen", hstrlen),
    Decl::new("hincrby", hincrby),
    Decl::new("hincrbyfloat", hincrbyfloat),
    Decl::new("hrandfield", hrandfield),
];

/// The hash at `key`, borrowed (no copy: point lookups stay O(1)).
fn hash_of<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &[u8],
) -> Result<Option<&'a indexmap::IndexMap<Bytes, Bytes>>, Value> {
    read(ctx, key, |d| match d {
        Data::Hash(h) => Some(h),
        _ => None,
    })
}

fn hash_mut<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &Bytes,
    create: bool,
) -> Result<Option<&'a mut indexmap::IndexMap<Bytes, Bytes>>, Value> {
    super::collection_mut(
        ctx,
        key,
        create,
        || Data::Hash(indexmap::IndexMap::new()),
        |d| match d {
            Data::Hash(x) => Some(x),
            _ => None,
        },
    )
}

fn set_fields(ctx: &mut Ctx<'_>, args: &[Bytes], name: &str) -> Result<usize, Value> {
    if !args.len().is_multiple_of(2) {
        return Err(err(&format!(
            "ERR wrong number of arguments for '{name}' command"
        )));
    }
    let Some(h) = hash_mut(ctx, &args[1], true)? else {
        return Ok(0);
    };
    Ok(args[2..]
        .chunks(2)
        .filter(|p| h.insert(p[0].clone(), p[1].clone()).is_none())
        .count())
}

pub(crate) fn hset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(set_fields(ctx, args, "hset")?))
}

pub(crate) fn hmset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_fields(ctx, args, "hmset")?;
    ok()
}

pub(crate) fn hsetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    super::touch_if_changed(ctx, &args[1], |ctx| {
        if hash_of(ctx, &args[1])?.is_some_and(|h| h.contains_key(&args[2])) {
            return Ok(int(0));
        }
        if let Some(h) = hash_mut(ctx, &args[1], true)? {
            h.insert(args[2].clone(), args[3].clone());
        }
        Ok(int(1))
    })
}

pub(crate) fn hget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(hash_of(ctx, &args[1])?
        .and_then(|h| h.get(&args[2]).cloned())
        .map_or(Value::Null, Value::BulkString))
}

pub(crate) fn hmget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let h = hash_of(ctx, &args[1])?;
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|f| h.and_then(|h| h.get(f)).map_or(Value::Null, bulk))
            .collect(),
    ))
}

pub(crate) fn hgetall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(Value::Map(hash_of(ctx, &args[1])?.map_or_else(Vec::new, |h| {
        h.iter().map(|(k, v)| (bulk(k), bulk(v))).collect()
    })))
}

pub(crate) fn hdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    super::touch_if_changed(ctx, &args[1], |ctx| {
        let Some(h) = hash_mut(ctx, &args[1], false)? else {
            return Ok(int(0));
        };
        let n = args[2..].iter().filter(|f| h.shift_remove(*f).is_some()).count();
        ctx.db().drop_if_empty(&args[1]);
        Ok(int(n))
    })
}

pub(crate) fn hexists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(u8::from(
        hash_of(ctx, &args[1])?.is_some_and(|h| h.contains_key(&args[2])),
    )))
}

pub(crate) fn hlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(hash_of(ctx, &args[1])?.map_or(0, |h| h.len())))
}

pub(crate) fn hkeys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(Value::Array(
        hash_of(ctx, &args[1])?.map_or_else(Vec::new, |h| h.keys().map(bulk).collect()),
    ))
}

pub(crate) fn hvals(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(Value::Array(
        hash_of(ctx, &args[1])?.map_or_else(Vec::new, |h| h.values().map(bulk).collect()),
    ))
}

pub(crate) fn hstrlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(hash_of(ctx, &args[1])?
        .and_then(|h| h.get(&args[2]).map(|v| v.len()))
        .unwrap_or(0)))
}

pub(crate) fn hincrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let by = parse_i64(&args[3])?;
    let current = match hash_of(ctx, &args[1])?.and_then(|h| h.get(&args[2]).cloned()) {
        None => 0,
        Some(v) => parse_i64(&v).map_err(|_| err("ERR hash value is not an integer"))?,
    };
    let new = current
        .checked_add(by)
        .ok_or_else(|| err("ERR increment or decrement would overflow"))?;
    if let Some(h) = hash_mut(ctx, &args[1], true)? {
        h.insert(args[2].clone(), Bytes::from(new.to_string()));
    }
    Ok(Value::Integer(new))
}

pub(crate) fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let by = parse_f64(&args[3])?;
    let current = match hash_of(ctx, &args[1])?.and_then(|h| h.get(&args[2]).cloned()) {
        None => 0.0,
        Some(v) => parse_f64(&v).map_err(|_| err("ERR hash value is not a float"))?,
    };
    let new = current + by;
    if new.is_nan() || new.is_infinite() {
        return Err(err("ERR increment would produce NaN or Infinity"));
    }
    let text = Bytes::from(format_float(new));
    if let Some(h) = hash_mut(ctx, &args[1], true)? {
        h.insert(args[2].clone(), text.clone());
    }
    Ok(Value::BulkString(text))
}

/// HRANDFIELD's arguments, parsed before the key is read.
struct RandFieldArgs<'a> {
    key: &'a Bytes,
    pick: Pick,
    /// WITHVALUES: each field with its value.
    with_values: bool,
}

impl<'a> RandFieldArgs<'a> {
    /// `HRANDFIELD key [count [WITHVALUES]]`: the count is read first, then anything but a lone WITHVALUES after
    /// it is `ERR syntax error`, then a negative count is checked (more tightly WITHVALUES).
    fn parse(argv: &'a [Bytes]) -> Result<RandFieldArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let count = args.next().map(|c| parse_i64(c)).transpose()?;
        let with_values = match args.rest() {
            [] => false,
            [word] if is(word, "WITHVALUES") => true,
            _ => return Err(syntax_error()),
        };
        Ok(RandFieldArgs {
            key,
            pick: Pick::new(count, with_values)?,
            with_values,
        })
    }
}

pub(crate) fn hrandfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let RandFieldArgs {
        key,
        pick,
        with_values,
    } = RandFieldArgs::parse(args)?;
    let pairs: Vec<(Bytes, Bytes)> = hash_of(ctx, key)?
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let chosen: Vec<(Bytes, Bytes)> = match pick {
        Pick::One => {
            return Ok(if pairs.is_empty() {
                Value::Null
            } else {
                Value::BulkString(pairs[fastrand::usize(0..pairs.len())].0.clone())
            });
        }
        Pick::Distinct(n) => {
            let mut all = pairs;
            fastrand::shuffle(&mut all);
            all.into_iter().take(n).collect()
        }
        Pick::Repeated(_) if pairs.is_empty() => Vec::new(),
        Pick::Repeated(n) => (0..n)
            .map(|_| pairs[fastrand::usize(0..pairs.len())].clone())
            .collect(),
    };
    let resp3 = ctx.session.protocol() == redkit_resp::RespVersion::Resp3;
    Ok(Value::Array(if with_values && resp3 {
        chosen
            .into_iter()
            .map(|(f, v)| Value::Array(vec![Value::BulkString(f), Value::BulkString(v)]))
            .collect()
    } else if with_values {
        chosen
            .into_iter()
            .flat_map(|(f, v)| [Value::BulkString(f), Value::BulkString(v)])
            .collect()
    } else {
        chosen.into_iter().map(|(f, _)| Value::BulkString(f)).collect()
    }))
}
