//! Lists (the non-blocking commands).

use std::collections::VecDeque;

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::side;
use super::registry::Decl;
use super::{Reply, bulk, err, int, is, ok, parse_i64, read, syntax_error, wrongtype};
use crate::commands::string::clamp_range;
use crate::state::db::Data;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("lpush", lpush),
    Decl::new("rpush", rpush),
    Decl::new("lpushx", lpushx),
    Decl::new("rpushx", rpushx),
    Decl::new("lpop", lpop),
    Decl::new("rpop", rpop),
    Decl::new("llen", llen),
    Decl::new("lrange", lrange),
    Decl::new("lindex", lindex),
    Decl::new("lset", lset),
    Decl::new("linsert", linsert),
    Decl::new("ltrim", ltrim),
    Decl::new("lrem", lrem),
    Decl::new("lpos", lpos),
    Decl::new("lmove", lmove),
    Decl::new("rpoplpush", rpoplpush),
    Decl::new("lmpop", lmpop),
];

fn list_len(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<usize>, Value> {
    read(ctx, key, |d| match d {
        Data::List(l) => Some(l.len()),
        _ => None,
    })
}

/// The list at `key` for writing; `create` makes an empty one if missing.
fn list_mut<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &Bytes,
    create: bool,
) -> Result<Option<&'a mut VecDeque<Bytes>>, Value> {
    super::collection_mut(
        ctx,
        key,
        create,
        || Data::List(VecDeque::new()),
        |d| match d {
            Data::List(x) => Some(x),
            _ => None,
        },
    )
}

fn push(ctx: &mut Ctx<'_>, args: &[Bytes], left: bool, only_existing: bool) -> Reply {
    let Some(list) = list_mut(ctx, &args[1], !only_existing)? else {
        return Ok(int(0));
    };
    for v in &args[2..] {
        if left {
            list.push_front(v.clone());
        } else {
            list.push_back(v.clone());
        }
    }
    Ok(int(list.len()))
}

pub(crate) fn lpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    push(ctx, args, true, false)
}
pub(crate) fn rpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    push(ctx, args, false, false)
}
pub(crate) fn lpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    push(ctx, args, true, true)
}
pub(crate) fn rpushx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    push(ctx, args, false, true)
}

/// Pop up to `count` from one end; removes the key when the list empties.
pub(crate) fn pop_n(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    left: bool,
    count: usize,
) -> Result<Option<Vec<Bytes>>, Value> {
    let Some(list) = list_mut(ctx, key, false)? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for _ in 0..count {
        match if left { list.pop_front() } else { list.pop_back() } {
            Some(v) => out.push(v),
            None => break,
        }
    }
    ctx.db().drop_if_empty(key);
    Ok(Some(out))
}

fn pop(ctx: &mut Ctx<'_>, args: &[Bytes], left: bool) -> Reply {
    if args.len() > 3 {
        let name = if left { "lpop" } else { "rpop" };
        return Err(err(&format!(
            "ERR wrong number of arguments for '{name}' command"
        )));
    }
    match args.get(2) {
        None => Ok(pop_n(ctx, &args[1], left, 1)?
            .and_then(|mut v| v.pop())
            .map_or(Value::Null, Value::BulkString)),
        Some(c) => {
            let count = parse_i64(c)?;
            if count < 0 {
                return Err(err("ERR value is out of range, must be positive"));
            }
            Ok(match pop_n(ctx, &args[1], left, count as usize)? {
                None => Value::Null,
                Some(v) => Value::Array(v.into_iter().map(Value::BulkString).collect()),
            })
        }
    }
}

pub(crate) fn lpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    pop(ctx, args, true)
}
pub(crate) fn rpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    pop(ctx, args, false)
}

pub(crate) fn llen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(list_len(ctx, &args[1])?.unwrap_or(0)))
}

pub(crate) fn lrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (start, end) = (parse_i64(&args[2])?, parse_i64(&args[3])?);
    let items = read(ctx, &args[1], |d| match d {
        Data::List(l) => Some(match clamp_range(start, end, l.len()) {
            Some((a, b)) => l.range(a..=b).map(bulk).collect(),
            None => Vec::new(),
        }),
        _ => None,
    })?;
    Ok(Value::Array(items.unwrap_or_default()))
}

fn index_of(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

pub(crate) fn lindex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let i = parse_i64(&args[2])?;
    let v = read(ctx, &args[1], |d| match d {
        Data::List(l) => Some(index_of(i, l.len()).and_then(|i| l.get(i)).cloned()),
        _ => None,
    })?;
    Ok(v.flatten().map_or(Value::Null, Value::BulkString))
}

pub(crate) fn lset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let i = parse_i64(&args[2])?;
    let Some(list) = list_mut(ctx, &args[1], false)? else {
        return Err(err("ERR no such key"));
    };
    let Some(i) = index_of(i, list.len()) else {
        return Err(err("ERR index out of range"));
    };
    list[i] = args[3].clone();
    ok()
}

pub(crate) fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    super::touch_if_changed(ctx, &args[1], |ctx| {
        let before = if is(&args[2], "BEFORE") {
            true
        } else if is(&args[2], "AFTER") {
            false
        } else {
            return Err(syntax_error());
        };
        let Some(list) = list_mut(ctx, &args[1], false)? else {
            return Ok(int(0));
        };
        match list.iter().position(|v| *v == args[3]) {
            None => Ok(int(-1)),
            Some(p) => {
                list.insert(if before { p } else { p + 1 }, args[4].clone());
                Ok(int(list.len()))
            }
        }
    })
}

pub(crate) fn ltrim(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (start, end) = (parse_i64(&args[2])?, parse_i64(&args[3])?);
    let Some(list) = list_mut(ctx, &args[1], false)? else {
        return ok();
    };
    match clamp_range(start, end, list.len()) {
        Some((a, b)) => {
            list.truncate(b + 1);
            list.drain(..a);
        }
        None => list.clear(),
    }
    ctx.db().drop_if_empty(&args[1]);
    ok()
}

pub(crate) fn lrem(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    super::touch_if_changed(ctx, &args[1], |ctx| {
        let count = parse_i64(&args[2])?;
        let Some(list) = list_mut(ctx, &args[1], false)? else {
            return Ok(int(0));
        };
        let target = &args[3];
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        if count >= 0 {
            let mut i = 0;
            while i < list.len() && removed < limit {
                if list[i] == *target {
                    list.remove(i);
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = list.len();
            while i > 0 && removed < limit {
                i -= 1;
                if list[i] == *target {
                    list.remove(i);
                    removed += 1;
                }
            }
        }
        ctx.db().drop_if_empty(&args[1]);
        Ok(int(removed))
    })
}

pub(crate) fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut i = 3;
    while i < args.len() {
        let v = args.get(i + 1).ok_or_else(syntax_error)?;
        if is(&args[i], "RANK") {
            rank = parse_i64(v)?;
            if rank == 0 {
                return Err(err(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
            if rank == i64::MIN {
                return Err(err(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                ));
            }
        } else if is(&args[i], "COUNT") {
            let c = parse_i64(v)?;
            if c < 0 {
                return Err(err("ERR COUNT can't be negative"));
            }
            count = Some(c);
        } else if is(&args[i], "MAXLEN") {
            maxlen = parse_i64(v)?;
            if maxlen < 0 {
                return Err(err("ERR MAXLEN can't be negative"));
            }
        } else {
            return Err(syntax_error());
        }
        i += 2;
    }
    let target = args[2].clone();
    let found = read(ctx, &args[1], |d| match d {
        Data::List(l) => {
            let n = l.len();
            let limit = if maxlen == 0 { n } else { (maxlen as usize).min(n) };
            let want = match count {
                Some(0) => usize::MAX,
                Some(c) => c as usize,
                None => 1,
            };
            let mut skip = rank.unsigned_abs() as usize - 1;
            let mut hits = Vec::new();
            let order: Box<dyn Iterator<Item = usize>> = if rank > 0 {
                Box::new(0..limit)
            } else {
                Box::new((n - limit..n).rev())
            };
            for idx in order {
                if l[idx] == target {
                    if skip > 0 {
                        skip -= 1;
                    } else {
                        hits.push(idx);
                        if hits.len() >= want {
                            break;
                        }
                    }
                }
            }
            Some(hits)
        }
        _ => None,
    })?;
    let hits = found.unwrap_or_default();
    Ok(match count {
        Some(_) => Value::Array(hits.into_iter().map(int).collect()),
        None => hits.first().map_or(Value::Null, |i| int(*i)),
    })
}

pub(crate) fn do_move(ctx: &mut Ctx<'_>, src: &Bytes, dst: &Bytes, from_left: bool, to_left: bool) -> Reply {
    // Type-check the destination before popping, as Redis does.
    let now = ctx.now;
    if let Some(e) = ctx.db().get(dst, now)
        && !matches!(e.data, Data::List(_))
    {
        if list_len(ctx, src)?.is_some() {
            return Err(wrongtype());
        }
        return Ok(Value::Null);
    }
    if src == dst {
        // A rotation: the list never empties, so the key (and its expiry) stays.
        let Some(list) = list_mut(ctx, src, false)? else {
            return Ok(Value::Null);
        };
        let v = if from_left {
            list.pop_front()
        } else {
            list.pop_back()
        };
        let Some(v) = v else {
            return Ok(Value::Null);
        };
        if to_left {
            list.push_front(v.clone());
        } else {
            list.push_back(v.clone());
        }
        return Ok(Value::BulkString(v));
    }
    let Some(mut popped) = pop_n(ctx, src, from_left, 1)? else {
        return Ok(Value::Null);
    };
    let Some(v) = popped.pop() else {
        return Ok(Value::Null);
    };
    let Some(list) = list_mut(ctx, dst, true)? else {
        return Ok(Value::Null);
    };
    if to_left {
        list.push_front(v.clone());
    } else {
        list.push_back(v.clone());
    }
    Ok(Value::BulkString(v))
}

pub(crate) fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (from, to) = (side(&args[3])?, side(&args[4])?);
    do_move(ctx, &args[1], &args[2], from, to)
}

pub(crate) fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_move(ctx, &args[1], &args[2], false, true)
}

pub(crate) fn lmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let n = parse_i64(&args[1])?;
    if n <= 0 {
        return Err(err("ERR numkeys should be greater than 0"));
    }
    let n = n as usize;
    if args.len() < 2 + n + 1 {
        return Err(syntax_error());
    }
    let keys = &args[2..2 + n];
    let left = side(&args[2 + n])?;
    let count = super::count_option(&args[3 + n..])?;
    for key in keys {
        if let Some(items) = pop_n(ctx, key, left, count)?
            && !items.is_empty()
        {
            return Ok(Value::Array(vec![
                Value::BulkString(key.clone()),
                Value::Array(items.into_iter().map(Value::BulkString).collect()),
            ]));
        }
    }
    Ok(Value::Null)
}
