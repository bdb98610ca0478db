//! Strings: GET, SET and its options, counters, ranges, multi-key forms.

use bytes::{Bytes, BytesMut};
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::registry::Decl;
use super::{
    Reply, bulk, err, format_float, int, is, not_integer, ok, parse_f64, parse_i64, read, syntax_error,
    wrongtype,
};
use crate::state::db::{Data, Entry, StrEnc};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("get", get),
    Decl::new("set", set),
    Decl::new("setnx", setnx),
    Decl::new("setex", setex),
    Decl::new("psetex", psetex),
    Decl::new("getset", getset),
    Decl::new("getdel", getdel),
    Decl::new("getex", getex),
    Decl::new("append", append),
    Decl::new("strlen", strlen),
    Decl::new("getrange", getrange),
    Decl::new("substr", getrange),
    Decl::new("setrange", setrange),
    Decl::new("incr", incr),
    Decl::new("decr", decr),
    Decl::new("incrby", incrby),
    Decl::new("decrby", decrby),
    Decl::new("incrbyfloat", incrbyfloat),
    Decl::new("mget", mget),
    Decl::new("mset", mset),
    Decl::new("msetnx", msetnx),
    Decl::new("lcs", lcs),
];

/// Largest string Redis allows (`proto-max-bulk-len`, 512 MiB).
const MAX_STRING: usize = 512 * 1024 * 1024;

fn string_of(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, Value> {
    read(ctx, key, |d| match d {
        Data::Str(s) => Some(s.clone()),
        _ => None,
    })
}

pub(crate) fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(string_of(ctx, &args[1])?.map_or(Value::Null, |s| bulk(&s)))
}

/// Parse an expiry value in `unit` ms (relative) or as an absolute time, Redis's checks and messages included.
fn expire_at(ctx: &Ctx<'_>, arg: &[u8], unit_ms: i64, absolute: bool, command: &str) -> Result<i64, Value> {
    let n = parse_i64(arg)?;
    if n <= 0 {
        return Err(err(&format!("ERR invalid expire time in '{command}' command")));
    }
    let ms = n
        .checked_mul(unit_ms)
        .ok_or_else(|| err(&format!("ERR invalid expire time in '{command}' command")))?;
    if absolute {
        Ok(ms)
    } else {
        ctx.now
            .checked_add(ms)
            .ok_or_else(|| err(&format!("ERR invalid expire time in '{command}' command")))
    }
}

/// SET's arguments, parsed before anything is applied.
struct SetArgs<'a> {
    key: &'a Bytes,
    value: &'a Bytes,
    /// NX: only when the key is missing; XX: only when it exists.
    nx: bool,
    xx: bool,
    /// GET: answer the old value.
    get: bool,
    /// KEEPTTL: keep the key's expiry.
    keepttl: bool,
    /// EX/PX/EXAT/PXAT, as an absolute deadline in milliseconds.
    expiry: Option<i64>,
}

/// SET's expiry options: name, milliseconds per unit, absolute.
const SET_EXPIRY: [(&str, i64, bool); 4] = [
    ("EX", 1000, false),
    ("PX", 1, false),
    ("EXAT", 1000, true),
    ("PXAT", 1, true),
];

impl<'a> SetArgs<'a> {
    /// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]`, with Redis's tolerance for repeats (NX NX)
    /// and its syntax error for conflicts (NX XX, EX with KEEPTTL, two expiries).
    fn parse(ctx: &Ctx<'_>, argv: &'a [Bytes]) -> Result<SetArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let mut set = SetArgs {
            key: args.next_bytes()?,
            value: args.next_bytes()?,
            nx: false,
            xx: false,
            get: false,
            keepttl: false,
            expiry: None,
        };
        while let Some(word) = args.next() {
            if is(word, "NX") && !set.xx {
                set.nx = true;
            } else if is(word, "XX") && !set.nx {
                set.xx = true;
            } else if is(word, "GET") {
                set.get = true;
            } else if is(word, "KEEPTTL") && set.expiry.is_none() {
                set.keepttl = true;
            } else if let Some(&(_, unit_ms, absolute)) = SET_EXPIRY.iter().find(|(name, ..)| is(word, name))
                && let Some(time) = args.next()
                && set.expiry.is_none()
                && !set.keepttl
            {
                set.expiry = Some(expire_at(ctx, time, unit_ms, absolute, "set")?);
            } else {
                return Err(syntax_error());
            }
        }
        Ok(set)
    }
}

pub(crate) fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let SetArgs {
        key,
        value,
        nx,
        xx,
        get,
        keepttl,
        expiry,
    } = SetArgs::parse(ctx, args)?;
    let now = ctx.now;
    let existing = ctx.db().get(key, now).cloned();
    let old = match &existing {
        Some(Entry {
            data: Data::Str(s), ..
        }) => Some(s.clone()),
        Some(_) if get => return Err(wrongtype()),
        _ => None,
    };
    let old_reply = || {
        if get {
            Ok(old.as_ref().map_or(Value::Null, bulk))
        } else {
            Ok(Value::Null)
        }
    };
    if (nx && existing.is_some()) || (xx && existing.is_none()) {
        return old_reply();
    }
    let expire_at = if keepttl {
        existing.and_then(|e| e.expire_at)
    } else {
        expiry
    };
    ctx.db().set_entry(
        key.clone(),
        Entry {
            data: Data::Str(value.clone()),
            expire_at,
            enc: StrEnc::Auto,
        },
    );
    if get { old_reply() } else { ok() }
}

pub(crate) fn setnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    if ctx.db().contains(&args[1], now) {
        return Ok(int(0));
    }
    ctx.db().set(args[1].clone(), Data::Str(args[2].clone()));
    Ok(int(1))
}

fn set_with_ttl(ctx: &mut Ctx<'_>, args: &[Bytes], unit_ms: i64, command: &str) -> Reply {
    let at = expire_at(ctx, &args[2], unit_ms, false, command)?;
    ctx.db().set_entry(
        args[1].clone(),
        Entry {
            data: Data::Str(args[3].clone()),
            expire_at: Some(at),
            enc: StrEnc::Auto,
        },
    );
    ok()
}

pub(crate) fn setex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_with_ttl(ctx, args, 1000, "setex")
}

pub(crate) fn psetex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_with_ttl(ctx, args, 1, "psetex")
}

pub(crate) fn getset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let old = string_of(ctx, &args[1])?;
    ctx.db().set(args[1].clone(), Data::Str(args[2].clone()));
    Ok(old.map_or(Value::Null, |s| bulk(&s)))
}

pub(crate) fn getdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let old = string_of(ctx, &args[1])?;
    if old.is_some() {
        let now = ctx.now;
        ctx.db().remove(&args[1], now);
    }
    Ok(old.map_or(Value::Null, |s| bulk(&s)))
}

/// What GETEX does to the key's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpiryChange {
    /// No option: leave it.
    Keep,
    /// PERSIST: remove it.
    Persist,
    /// EX/PX/EXAT/PXAT: expire at this absolute time, in milliseconds.
    At(i64),
}

/// GETEX's arguments, parsed before the key is read.
struct GetExArgs<'a> {
    key: &'a Bytes,
    change: ExpiryChange,
}

impl<'a> GetExArgs<'a> {
    /// `GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST]`: at most one change (a second one, even the same again, is
    /// `ERR syntax error`), the expiry checked as SET checks it.
    fn parse(ctx: &Ctx<'_>, argv: &'a [Bytes]) -> Result<GetExArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let mut change = ExpiryChange::Keep;
        while let Some(word) = args.next() {
            if is(word, "PERSIST") && change == ExpiryChange::Keep {
                change = ExpiryChange::Persist;
                continue;
            }
            // The next word is taken as a time whatever this one is (a wrong word is an error either way).
            match (
                SET_EXPIRY.iter().find(|(name, ..)| is(word, name)),
                args.next(),
                change,
            ) {
                (Some(&(_, unit_ms, absolute)), Some(time), ExpiryChange::Keep) => {
                    change = ExpiryChange::At(expire_at(ctx, time, unit_ms, absolute, "getex")?);
                }
                _ => return Err(syntax_error()),
            }
        }
        Ok(GetExArgs { key, change })
    }
}

pub(crate) fn getex(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let GetExArgs { key, change } = GetExArgs::parse(ctx, args)?;
    let value = string_of(ctx, key)?;
    if value.is_some() && change != ExpiryChange::Keep {
        let deadline = match change {
            ExpiryChange::At(t) => Some(t),
            ExpiryChange::Keep | ExpiryChange::Persist => None,
        };
        let now = ctx.now;
        let db = ctx.db();
        if deadline.is_some_and(|t| t <= now) {
            db.remove(key, now);
        } else if let Some(entry) = db.get_mut(key, now) {
            entry.expire_at = deadline;
            db.touch(key);
        }
    }
    Ok(value.map_or(Value::Null, |s| bulk(&s)))
}

pub(crate) fn append(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let old = string_of(ctx, &args[1])?;
    let now = ctx.now;
    // A new key is stored as SET would; an existing value grows in place, as a raw string.
    let enc = if old.is_some() { StrEnc::Raw } else { StrEnc::Auto };
    let total = old.as_ref().map_or(0, |o| o.len() as u64) + args[2].len() as u64;
    if total > redkit_resp::Limits::DEFAULT_MAX_BULK_LEN {
        return Err(err(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    let mut buf = BytesMut::from(old.as_deref().unwrap_or_default());
    buf.extend_from_slice(&args[2]);
    let len = buf.len();
    ctx.db()
        .set_keep_ttl_as(args[1].clone(), Data::Str(buf.freeze()), now, enc);
    Ok(int(len))
}

pub(crate) fn strlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(string_of(ctx, &args[1])?.map_or(0, |s| s.len())))
}

/// Clamp Redis-style inclusive `start..=end` (negative from the end) to `len`; `None` when empty.
pub(crate) fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    s = s.max(0);
    e = e.min(len - 1);
    (s <= e && s < len && len > 0).then_some((s as usize, e as usize))
}

pub(crate) fn getrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (start, end) = (parse_i64(&args[2])?, parse_i64(&args[3])?);
    let s = string_of(ctx, &args[1])?.unwrap_or_default();
    let len = s.len() as i64;
    // Redis's own arithmetic, which differs from LRANGE's: a negative end clamps to 0.
    if start < 0 && end < 0 && start > end {
        return Ok(Value::bulk(Bytes::new()));
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return Ok(Value::bulk(Bytes::new()));
    }
    Ok(Value::BulkString(s.slice(start as usize..=end as usize)))
}

pub(crate) fn setrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let offset = parse_i64(&args[2])?;
    if offset < 0 {
        return Err(err("ERR offset is out of range"));
    }
    let old = string_of(ctx, &args[1])?;
    let value = &args[3];
    let offset = offset as usize;
    if value.is_empty() {
        return Ok(int(old.map_or(0, |s| s.len())));
    }
    if offset + value.len() > MAX_STRING {
        return Err(err(
            "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
        ));
    }
    let mut buf = BytesMut::from(old.as_deref().unwrap_or_default());
    if buf.len() < offset + value.len() {
        buf.resize(offset + value.len(), 0);
    }
    buf[offset..offset + value.len()].copy_from_slice(value);
    let len = buf.len();
    let now = ctx.now;
    ctx.db()
        .set_keep_ttl_as(args[1].clone(), Data::Str(buf.freeze()), now, StrEnc::Raw);
    Ok(int(len))
}

/// Add `by` to the integer at `key`, keeping its expiry.
fn incr_by(ctx: &mut Ctx<'_>, key: &Bytes, by: i64) -> Reply {
    let current = match string_of(ctx, key)? {
        None => 0,
        Some(s) => parse_i64(&s).map_err(|_| not_integer())?,
    };
    let new = current
        .checked_add(by)
        .ok_or_else(|| err("ERR increment or decrement would overflow"))?;
    let now = ctx.now;
    ctx.db()
        .set_keep_ttl(key.clone(), Data::Str(Bytes::from(new.to_string())), now);
    Ok(Value::Integer(new))
}

pub(crate) fn incr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    incr_by(ctx, &args[1], 1)
}

pub(crate) fn decr(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    incr_by(ctx, &args[1], -1)
}

pub(crate) fn incrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let by = parse_i64(&args[2])?;
    incr_by(ctx, &args[1], by)
}

pub(crate) fn decrby(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let by = parse_i64(&args[2])?;
    let by = by
        .checked_neg()
        .ok_or_else(|| err("ERR decrement would overflow"))?;
    incr_by(ctx, &args[1], by)
}

pub(crate) fn incrbyfloat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // Redis checks the key's type and value before the increment.
    let current = match string_of(ctx, &args[1])? {
        None => 0.0,
        Some(s) => parse_f64(&s).map_err(|_| err("ERR value is not a valid float"))?,
    };
    let by = parse_f64(&args[2])?;
    let new = current + by;
    if new.is_nan() || new.is_infinite() {
        return Err(err("ERR increment would produce NaN or Infinity"));
    }
    let text = Bytes::from(format_float(new));
    let now = ctx.now;
    ctx.db()
        .set_keep_ttl_as(args[1].clone(), Data::Str(text.clone()), now, StrEnc::NoInt);
    Ok(Value::BulkString(text))
}

pub(crate) fn mget(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let db = ctx.db();
    Ok(Value::Array(
        args[1..]
            .iter()
            .map(|k| match db.get(k, now) {
                Some(Entry {
                    data: Data::Str(s), ..
                }) => bulk(s),
                _ => Value::Null,
            })
            .collect(),
    ))
}

pub(crate) fn mset(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len().is_multiple_of(2) {
        return Err(err("ERR wrong number of arguments for 'mset' command"));
    }
    for pair in args[1..].chunks(2) {
        ctx.db().set(pair[0].clone(), Data::Str(pair[1].clone()));
    }
    ok()
}

pub(crate) fn msetnx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len().is_multiple_of(2) {
        return Err(err("ERR wrong number of arguments for 'msetnx' command"));
    }
    let now = ctx.now;
    if args[1..].chunks(2).any(|pair| ctx.db().contains(&pair[0], now)) {
        return Ok(int(0));
    }
    for pair in args[1..].chunks(2) {
        ctx.db().set(pair[0].clone(), Data::Str(pair[1].clone()));
    }
    Ok(int(1))
}

/// LCS's arguments, parsed before the keys are read.
struct LcsArgs<'a> {
    a: &'a Bytes,
    b: &'a Bytes,
    /// LEN: only the length.
    len: bool,
    /// IDX: the matching ranges.
    idx: bool,
    /// WITHMATCHLEN: each range with its length.
    with_match_len: bool,
    /// MINMATCHLEN: only ranges at least this long (a negative value is 0).
    min_match_len: i64,
}

impl<'a> LcsArgs<'a> {
    /// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]`, in any order. LEN with IDX is refused only once
    /// the keys are read (see [`lcs`]).
    fn parse(argv: &'a [Bytes]) -> Result<LcsArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let mut lcs = LcsArgs {
            a: args.next_bytes()?,
            b: args.next_bytes()?,
            len: false,
            idx: false,
            with_match_len: false,
            min_match_len: 0,
        };
        while let Some(word) = args.next() {
            if is(word, "LEN") {
                lcs.len = true;
            } else if is(word, "IDX") {
                lcs.idx = true;
            } else if is(word, "WITHMATCHLEN") {
                lcs.with_match_len = true;
            } else if is(word, "MINMATCHLEN") && args.peek().is_some() {
                lcs.min_match_len = args.next_i64()?.max(0);
            } else {
                return Err(syntax_error());
            }
        }
        Ok(lcs)
    }
}

/// LCS: the longest common subsequence of two strings, its length, or (IDX) the matching ranges, computed and
/// walked back exactly as Redis does so the ranges come out in the same order.
pub(crate) fn lcs(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let LcsArgs {
        a,
        b,
        len: get_len,
        idx: get_idx,
        with_match_len,
        min_match_len,
    } = LcsArgs::parse(args)?;
    let now = ctx.now;
    let mut fetch = |key: &Bytes| -> Result<Bytes, Value> {
        match ctx.db().get(key, now) {
            None => Ok(Bytes::new()),
            Some(Entry {
                data: Data::Str(s), ..
            }) => Ok(s.clone()),
            Some(_) => Err(err("ERR The specified keys must contain string values")),
        }
    };
    let (a, b) = (fetch(a)?, fetch(b)?);
    // After the keys' types, as Redis checks it.
    if get_len && get_idx {
        return Err(err(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let (alen, blen) = (a.len(), b.len());
    let width = blen + 1;
    // The table is (alen+1)·(blen+1) cells: bounded as Redis bounds it, by proto-max-bulk-len.
    let cells = (alen as u64 + 1).saturating_mul(width as u64);
    if alen >= u32::MAX as usize || blen >= u32::MAX as usize {
        return Err(err("ERR String too long for LCS"));
    }
    if cells.saturating_mul(4) > redkit_resp::Limits::DEFAULT_MAX_BULK_LEN {
        return Err(err(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut table = Vec::new();
    if table.try_reserve_exact((alen + 1) * width).is_err() {
        return Err(err(
            "ERR Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    table.resize((alen + 1) * width, 0u32);
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[alen * width + blen] as usize;
    if get_len {
        return Ok(int(total));
    }
    let mut result = vec![0u8; total];
    let mut matches = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, total);
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0usize, 0usize, 0usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        let match_len = a_end + 1 - a_start.min(a_end + 1);
        if emit {
            if min_match_len == 0 || match_len as i64 >= min_match_len {
                let mut m = vec![
                    Value::Array(vec![int(a_start), int(a_end)]),
                    Value::Array(vec![int(b_start), int(b_end)]),
                ];
                if with_match_len {
                    m.push(int(match_len));
                }
                matches.push(Value::Array(m));
            }
            a_start = alen;
        }
    }
    if get_idx {
        return Ok(Value::Map(vec![
            (Value::bulk("matches"), Value::Array(matches)),
            (Value::bulk("len"), int(total)),
        ]));
    }
    Ok(Value::BulkString(Bytes::from(result)))
}
