//! Keys: existence, deletion, types, expiry, renaming, KEYS and SCAN.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::{Args, Conditions, ScanArgs, db_index};
use super::registry::Decl;
use super::{Reply, err, glob_match, int, is, ok, syntax_error};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("del", del),
    Decl::new("unlink", del),
    Decl::new("exists", exists),
    Decl::new("touch", exists),
    Decl::new("type", key_type),
    Decl::new("ttl", ttl),
    Decl::new("pttl", pttl),
    Decl::new("expiretime", expiretime),
    Decl::new("pexpiretime", pexpiretime),
    Decl::new("expire", expire),
    Decl::new("pexpire", pexpire),
    Decl::new("expireat", expireat),
    Decl::new("pexpireat", pexpireat),
    Decl::new("persist", persist),
    Decl::new("rename", rename),
    Decl::new("renamenx", renamenx),
    Decl::new("copy", copy),
    Decl::new("move", move_key),
    Decl::new("randomkey", randomkey),
    Decl::new("keys", keys),
    Decl::new("scan", scan),
    Decl::new("dbsize", dbsize),
];

pub(crate) fn del(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let db = ctx.db();
    Ok(int(args[1..]
        .iter()
        .filter(|k| db.remove(k, now).is_some())
        .count()))
}

pub(crate) fn exists(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let db = ctx.db();
    Ok(int(args[1..].iter().filter(|k| db.contains(k, now)).count()))
}

pub(crate) fn key_type(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    Ok(Value::simple(
        ctx.db().get(&args[1], now).map_or("none", |e| e.data.type_name()),
    ))
}

/// -2 for a missing key, -1 for no expiry, else the remaining time in `unit_ms` (rounded as Redis does).
fn remaining(ctx: &mut Ctx<'_>, key: &[u8], unit_ms: i64) -> Reply {
    let now = ctx.now;
    Ok(Value::Integer(match ctx.db().get(key, now) {
        None => -2,
        Some(e) => match e.expire_at {
            None => -1,
            Some(t) => {
                let ms = (t - now).max(0);
                (ms + unit_ms / 2) / unit_ms
            }
        },
    }))
}

pub(crate) fn ttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    remaining(ctx, &args[1], 1000)
}

pub(crate) fn pttl(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    remaining(ctx, &args[1], 1)
}

fn expire_time(ctx: &mut Ctx<'_>, key: &[u8], unit_ms: i64) -> Reply {
    let now = ctx.now;
    Ok(Value::Integer(match ctx.db().get(key, now) {
        None => -2,
        Some(e) => e.expire_at.map_or(-1, |t| t / unit_ms),
    }))
}

pub(crate) fn expiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    expire_time(ctx, &args[1], 1000)
}

pub(crate) fn pexpiretime(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    expire_time(ctx, &args[1], 1)
}

/// The arguments of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT, parsed before the key is read.
struct ExpireArgs<'a> {
    key: &'a Bytes,
    /// The new deadline, absolute, in milliseconds.
    at: i64,
    /// NX/XX/GT/LT, compatible with each other.
    conditions: Conditions,
}

impl<'a> ExpireArgs<'a> {
    /// `key time [NX|XX|GT|LT]…`, `time` in units of `unit_ms` milliseconds, from now or (`absolute`) from the
    /// epoch. Checked in this order: the time is an integer, the options are known (`ERR Unsupported option …`),
    /// compatible, and the deadline fits (`ERR invalid expire time in '<command>' command`).
    fn parse(now: i64, argv: &'a [Bytes], unit_ms: i64, absolute: bool) -> Result<ExpireArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let n = args.next_i64()?;
        let mut conditions = Conditions::default();
        while let Some(word) = args.peek() {
            if !conditions.eat(&mut args) {
                return Err(err(&format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(word)
                )));
            }
        }
        let Conditions { nx, xx, gt, lt } = conditions;
        if nx && (xx || gt || lt) {
            return Err(err(
                "ERR NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if gt && lt {
            return Err(err("ERR GT and LT options at the same time are not compatible"));
        }
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_lowercase();
        let invalid = || err(&format!("ERR invalid expire time in '{name}' command"));
        let ms = n.checked_mul(unit_ms).ok_or_else(invalid)?;
        let at = if absolute {
            ms
        } else {
            now.checked_add(ms).ok_or_else(invalid)?
        };
        Ok(ExpireArgs { key, at, conditions })
    }
}

/// EXPIRE and friends: `unit_ms` per unit, relative or absolute, with NX/XX/GT/LT.
fn set_expire(ctx: &mut Ctx<'_>, args: &[Bytes], unit_ms: i64, absolute: bool) -> Reply {
    let ExpireArgs {
        key,
        at,
        conditions: Conditions { nx, xx, gt, lt },
    } = ExpireArgs::parse(ctx.now, args, unit_ms, absolute)?;
    let now = ctx.now;
    let db = ctx.db();
    let Some(entry) = db.get_mut(key, now) else {
        return Ok(int(0));
    };
    let current = entry.expire_at;
    // No expiry counts as an infinite TTL for GT/LT.
    let applies = (!nx || current.is_none())
        && (!xx || current.is_some())
        && (!gt || current.is_some_and(|c| at > c))
        && (!lt || current.is_none_or(|c| at < c));
    if !applies {
        return Ok(int(0));
    }
    if at <= now {
        db.remove(key, now);
    } else {
        entry.expire_at = Some(at);
        db.touch(key);
    }
    Ok(int(1))
}

pub(crate) fn expire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_expire(ctx, args, 1000, false)
}

pub(crate) fn pexpire(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_expire(ctx, args, 1, false)
}

pub(crate) fn expireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_expire(ctx, args, 1000, true)
}

pub(crate) fn pexpireat(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    set_expire(ctx, args, 1, true)
}

pub(crate) fn persist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let db = ctx.db();
    match db.get_mut(&args[1], now) {
        Some(e) if e.expire_at.is_some() => {
            e.expire_at = None;
            db.touch(&args[1]);
            Ok(int(1))
        }
        _ => Ok(int(0)),
    }
}

fn do_rename(ctx: &mut Ctx<'_>, args: &[Bytes], nx: bool) -> Reply {
    let now = ctx.now;
    let db = ctx.db();
    if db.get(&args[1], now).is_none() {
        return Err(err("ERR no such key"));
    }
    if args[1] == args[2] {
        return if nx { Ok(int(0)) } else { ok() };
    }
    if nx && db.contains(&args[2], now) {
        return Ok(int(0));
    }
    let Some(entry) = db.remove(&args[1], now) else {
        return Err(err("ERR no such key"));
    };
    db.remove(&args[2], now);
    db.set_entry(args[2].clone(), entry);
    if nx { Ok(int(1)) } else { ok() }
}

pub(crate) fn rename(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_rename(ctx, args, false)
}

pub(crate) fn renamenx(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    do_rename(ctx, args, true)
}

/// COPY's arguments, parsed before any key is read.
struct CopyArgs<'a> {
    source: &'a Bytes,
    destination: &'a Bytes,
    /// DB: the destination's database (`None`: the current one).
    db: Option<usize>,
    /// REPLACE: overwrite an existing destination.
    replace: bool,
}

impl<'a> CopyArgs<'a> {
    /// `COPY source destination [DB index] [REPLACE]`, in any order, the last DB winning.
    fn parse(argv: &'a [Bytes]) -> Result<CopyArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let mut copy = CopyArgs {
            source: args.next_bytes()?,
            destination: args.next_bytes()?,
            db: None,
            replace: false,
        };
        while let Some(word) = args.next() {
            if is(word, "REPLACE") {
                copy.replace = true;
            } else if is(word, "DB")
                && let Some(index) = args.next()
            {
                copy.db = Some(db_index(index)?);
            } else {
                return Err(syntax_error());
            }
        }
        Ok(copy)
    }
}

pub(crate) fn copy(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let CopyArgs {
        source,
        destination,
        db,
        replace,
    } = CopyArgs::parse(args)?;
    let target_db = db.unwrap_or(ctx.session.db_index());
    let now = ctx.now;
    let src_db = ctx.session.db_index();
    if src_db == target_db && source == destination {
        return Err(err("ERR source and destination objects are the same"));
    }
    let Some(entry) = ctx.state.dbs[src_db].get(source, now).cloned() else {
        return Ok(int(0));
    };
    let dest = &mut ctx.state.dbs[target_db];
    if dest.contains(destination, now) {
        if !replace {
            return Ok(int(0));
        }
        dest.remove(destination, now);
    }
    dest.set_entry(destination.clone(), entry);
    Ok(int(1))
}

pub(crate) fn move_key(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let target = db_index(&args[2])?;
    let src = ctx.session.db_index();
    if src == target {
        return Err(err("ERR source and destination objects are the same"));
    }
    let now = ctx.now;
    if ctx.state.dbs[target].contains(&args[1], now) || !ctx.state.dbs[src].contains(&args[1], now) {
        return Ok(int(0));
    }
    let Some(entry) = ctx.state.dbs[src].remove(&args[1], now) else {
        return Ok(int(0));
    };
    ctx.state.dbs[target].set_entry(args[1].clone(), entry);
    Ok(int(1))
}

pub(crate) fn randomkey(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let now = ctx.now;
    Ok(ctx.db().random_key(now).map_or(Value::Null, Value::BulkString))
}

pub(crate) fn keys(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let pattern = args[1].clone();
    Ok(Value::Array(
        ctx.db()
            .keys(now)
            .into_iter()
            .filter(|k| glob_match(&pattern, k))
            .map(Value::BulkString)
            .collect(),
    ))
}

pub(crate) fn dbsize(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let now = ctx.now;
    Ok(int(ctx.db().len(now)))
}

/// SCAN walks the keys in order; the cursor names the last key returned (kept server-side), so every key present
/// for the whole scan is returned exactly once even while others come and go.
pub(crate) fn scan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let ScanArgs {
        cursor,
        pattern,
        count,
        kind,
    } = ScanArgs::parse(&mut Args::new(args), true)?;
    let db_index = ctx.session.db_index();
    let after = match cursor {
        0 => None,
        c => match ctx.state.cursors.resume(c, db_index) {
            Some(key) => Some(key.clone()),
            // An unknown cursor ends the scan, as a stale cursor effectively does in Redis.
            _ => return Ok(Value::Array(vec![Value::bulk("0"), Value::Array(vec![])])),
        },
    };
    let now = ctx.now;
    let batch = ctx.db().keys_after(after.as_ref(), count, now);
    let more = batch.len() == count && !ctx.db().keys_after(batch.last(), 1, now).is_empty();
    let mut items = Vec::new();
    for key in &batch {
        if pattern.is_some_and(|p| !glob_match(p, key)) {
            continue;
        }
        if let Some(t) = kind {
            let matches = ctx
                .db()
                .get(key, now)
                .is_some_and(|e| t.eq_ignore_ascii_case(e.data.type_name().as_bytes()));
            if !matches {
                continue;
            }
        }
        items.push(Value::BulkString(key.clone()));
    }
    let next = match (more, batch.last()) {
        (true, Some(last)) => ctx.state.cursors.save(db_index, last.clone()),
        _ => 0,
    };
    Ok(Value::Array(vec![
        Value::bulk(next.to_string()),
        Value::Array(items),
    ]))
}
