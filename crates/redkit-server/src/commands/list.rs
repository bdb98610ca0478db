//! Lists (the non-blocking commands).

use std::collections::VecDeque;

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::{Args, MultiPop, side};
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
    match super::args::pop_count(args.get(2))? {
        None => Ok(pop_n(ctx, &args[1], left, 1)?
            .and_then(|mut v| v.pop())
            .map_or(Value::Null, Value::BulkString)),
        Some(count) => Ok(match pop_n(ctx, &args[1], left, count)? {
            None => Value::Null,
            Some(v) => Value::Array(v.into_iter().map(Value::BulkString).collect()),
        }),
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

/// LINSERT's arguments.
struct LinsertArgs<'a> {
    key: &'a Bytes,
    /// BEFORE (`true`) or AFTER the pivot.
    before: bool,
    pivot: &'a Bytes,
    element: &'a Bytes,
}

impl<'a> LinsertArgs<'a> {
    /// `LINSERT key BEFORE|AFTER pivot element`; another word than BEFORE or AFTER is `ERR syntax error`.
    fn parse(argv: &'a [Bytes]) -> Result<LinsertArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let before = match args.eat_one_of(["BEFORE", "AFTER"]) {
            Some(word) => word == "BEFORE",
            None => return Err(syntax_error()),
        };
        Ok(LinsertArgs {
            key,
            before,
            pivot: args.next_bytes()?,
            element: args.next_bytes()?,
        })
    }
}

pub(crate) fn linsert(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let LinsertArgs {
        key,
        before,
        pivot,
        element,
    } = LinsertArgs::parse(args)?;
    super::touch_if_changed(ctx, key, |ctx| {
        let Some(list) = list_mut(ctx, key, false)? else {
            return Ok(int(0));
        };
        match list.iter().position(|v| v == pivot) {
            None => Ok(int(-1)),
            Some(p) => {
                list.insert(if before { p } else { p + 1 }, element.clone());
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

/// LPOS's arguments, parsed before the key is read.
struct LposArgs<'a> {
    key: &'a Bytes,
    element: &'a Bytes,
    /// RANK: which match to start from (1: the first; negative: from the end). Never 0 or `i64::MIN`.
    rank: i64,
    /// COUNT: how many matches to answer, as an array (0: all); `None` answers the first alone.
    count: Option<i64>,
    /// MAXLEN: compare at most this many elements (0: all).
    maxlen: i64,
}

impl<'a> LposArgs<'a> {
    /// `LPOS key element [RANK rank] [COUNT n] [MAXLEN len]`, in any order, each checked as it is read; a word
    /// without its value is `ERR syntax error` whatever the word.
    fn parse(argv: &'a [Bytes]) -> Result<LposArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let mut lpos = LposArgs {
            key: args.next_bytes()?,
            element: args.next_bytes()?,
            rank: 1,
            count: None,
            maxlen: 0,
        };
        while let Some(word) = args.next() {
            let value = args.next_bytes()?;
            if is(word, "RANK") {
                lpos.rank = parse_i64(value)?;
                if lpos.rank == 0 {
                    return Err(err(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                    ));
                }
                if lpos.rank == i64::MIN {
                    return Err(err(
                        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    ));
                }
            } else if is(word, "COUNT") {
                let c = parse_i64(value)?;
                if c < 0 {
                    return Err(err("ERR COUNT can't be negative"));
                }
                lpos.count = Some(c);
            } else if is(word, "MAXLEN") {
                lpos.maxlen = parse_i64(value)?;
                if lpos.maxlen < 0 {
                    return Err(err("ERR MAXLEN can't be negative"));
                }
            } else {
                return Err(syntax_error());
            }
        }
        Ok(lpos)
    }
}

pub(crate) fn lpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let LposArgs {
        key,
        element: target,
        rank,
        count,
        maxlen,
    } = LposArgs::parse(args)?;
    let found = read(ctx, key, |d| match d {
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
                if l[idx] == *target {
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

/// The arguments of LMOVE, and of BLMOVE before its timeout.
pub(crate) struct MoveArgs<'a> {
    pub(crate) source: &'a Bytes,
    pub(crate) destination: &'a Bytes,
    /// Pop from the source's left end (`true`) or right.
    pub(crate) from_left: bool,
    /// Push onto the destination's left end (`true`) or right.
    pub(crate) to_left: bool,
}

impl<'a> MoveArgs<'a> {
    /// `source destination LEFT|RIGHT LEFT|RIGHT`, the source's side checked first.
    pub(crate) fn parse(args: &mut Args<'a>) -> Result<MoveArgs<'a>, Value> {
        Ok(MoveArgs {
            source: args.next_bytes()?,
            destination: args.next_bytes()?,
            from_left: side(args.next_bytes()?)?,
            to_left: side(args.next_bytes()?)?,
        })
    }
}

pub(crate) fn lmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let MoveArgs {
        source,
        destination,
        from_left,
        to_left,
    } = MoveArgs::parse(&mut Args::new(args))?;
    do_move(ctx, source, destination, from_left, to_left)
}

pub(crate) fn rpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_move(ctx, &args[1], &args[2], false, true)
}

pub(crate) fn lmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // `numkeys key… LEFT|RIGHT [COUNT n]`: the side checked before the count.
    let MultiPop {
        keys,
        end: left,
        count,
    } = MultiPop::parse(&mut Args::new(args), |word| side(word))?;
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
