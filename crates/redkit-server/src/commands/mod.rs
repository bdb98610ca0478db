//! The command table and what handlers share: argument parsing with Redis's exact error messages, and type checks.
//!
//! One file per family; each command is one `fn(&mut Ctx, &[Bytes]) -> Reply` listed in [`TABLE`] with its Redis
//! arity (positive: exactly that many arguments, name included; negative: at least that many).

use bytes::Bytes;
use redkit_resp::Value;

use crate::state::db::{Data, Entry};

pub(crate) mod args;
mod bitmap;
pub(crate) mod blocking;
pub(crate) mod client;
mod config;
mod connection;
pub(crate) mod dispatch;
pub(crate) mod families;
mod function;
mod geo;
mod geohash;
mod hash;
mod hyperloglog;
mod info;
mod key;
mod list;
pub(crate) mod pubsub;
mod range_args;
pub(crate) mod registry;
pub(crate) mod scan;
mod script_reply;
pub(crate) mod scripting;
pub(crate) mod server;
pub(crate) mod set;
mod sort;
pub(crate) mod stream;
mod stream_claim;
mod stream_group;
mod stream_info;
mod string;
pub(crate) mod tracking;
pub(crate) mod transaction;
mod zset;
mod zset_algebra;
mod zset_pop;
mod zset_range;

pub(crate) use registry::{CommandSpec, Ctx, Reply};

/// The most elements a negative SRANDMEMBER/HRANDFIELD/ZRANDMEMBER count may ask for (a reply with repetitions,
/// built in memory): Redis has no bound and tries to build any reply — redis-server 7.0.15 dies on
/// `SRANDMEMBER k -9223372036854775807`; here it is `ERR value is out of range`.
pub(crate) const MAX_RANDOM_REPLY: u64 = 1 << 24;

/// A negative RANDMEMBER-style count, checked as Redis 7.0 checks it (`i64::MIN`, and with values a count below
/// `-LONG_MAX/2`), and bounded by [`MAX_RANDOM_REPLY`]: how many elements to pick, with repetition.
pub(crate) fn repeat_count(n: i64, with_values: bool) -> Result<usize, Value> {
    if n == i64::MIN {
        return Err(err(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    if (with_values && n < -(i64::MAX / 2)) || n.unsigned_abs() > MAX_RANDOM_REPLY {
        return Err(err("ERR value is out of range"));
    }
    Ok(n.unsigned_abs() as usize)
}

// ---- shared helpers ----

pub(crate) fn ok() -> Reply {
    Ok(Value::simple("OK"))
}

pub(crate) fn err(text: &str) -> Value {
    Value::error(text.to_owned())
}

pub(crate) fn syntax_error() -> Value {
    err("ERR syntax error")
}

pub(crate) fn wrongtype() -> Value {
    err("WRONGTYPE Operation against a key holding the wrong kind of value")
}

pub(crate) fn not_integer() -> Value {
    err("ERR value is not an integer or out of range")
}

pub(crate) fn int(i: impl TryInto<i64>) -> Value {
    Value::Integer(i.try_into().unwrap_or(i64::MAX))
}

pub(crate) fn bulk(b: &Bytes) -> Value {
    Value::BulkString(b.clone())
}

/// A signed 64-bit integer argument, as Redis parses it (no spaces, no `+`, no leading zeros issue).
pub(crate) fn parse_i64(arg: &[u8]) -> Result<i64, Value> {
    let s = std::str::from_utf8(arg).map_err(|_| not_integer())?;
    if s.is_empty()
        || s.starts_with('+')
        || s.len() > 20
        || (s.len() > 1 && s.starts_with('0'))
        || s.starts_with("-0")
    {
        return Err(not_integer());
    }
    s.parse().map_err(|_| not_integer())
}

/// A float argument as Redis parses it (`inf`, `-inf`, `+inf` allowed; NaN refused).
pub(crate) fn parse_f64(arg: &[u8]) -> Result<f64, Value> {
    let s = std::str::from_utf8(arg).map_err(|_| err("ERR value is not a valid float"))?;
    let named = |names: &[&str]| names.iter().any(|n| s.eq_ignore_ascii_case(n));
    let v = if named(&["inf", "+inf", "infinity", "+infinity"]) {
        f64::INFINITY
    } else if named(&["-inf", "-infinity"]) {
        f64::NEG_INFINITY
    } else if s.is_empty() || s.trim() != s {
        return Err(err("ERR value is not a valid float"));
    } else {
        s.parse::<f64>()
            .map_err(|_| err("ERR value is not a valid float"))?
    };
    if v.is_nan() {
        return Err(err("ERR value is not a valid float"));
    }
    Ok(v)
}

/// Redis's "human" float format (as INCRBYFLOAT and HINCRBYFLOAT reply): no exponent, no trailing zeros. Redis
/// computes in `long double` and prints 17 digits of that; an `f64` carries the same value to about 15 digits, so
/// results are rounded to 15 significant digits (`0.1 + 0.2` prints `0.3`, as in Redis).
pub(crate) fn format_float(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let rounded: f64 = format!("{v:.14e}").parse().unwrap_or(v);
    let mut s = format!("{rounded}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".into() } else { s }
}

/// The case-insensitive option name of an argument.
pub(crate) fn is(arg: &[u8], name: &str) -> bool {
    arg.eq_ignore_ascii_case(name.as_bytes())
}

/// Read a key's entry, checking its type with `pick`; `Ok(None)` for a missing key.
pub(crate) fn read<'a, T>(
    ctx: &'a mut Ctx<'_>,
    key: &[u8],
    pick: impl FnOnce(&'a Data) -> Option<T>,
) -> Result<Option<T>, Value> {
    let now = ctx.now;
    match ctx.db().get(key, now) {
        None => Ok(None),
        Some(Entry { data, .. }) => pick(data).map(Some).ok_or_else(wrongtype),
    }
}

/// The collection at `key` for writing, of the type `pick` selects (WRONGTYPE for another); a missing key is
/// created with `empty()` when `create`, else `Ok(None)`. The key counts as changed, for WATCH.
/// Run a command that may change nothing — SADD of members already there, SREM/HDEL/ZREM/LREM of absent ones,
/// HSETNX of an existing field, LINSERT without its pivot —
/// recording a change to `key` (for WATCH, CLIENT TRACKING and persistence) only if its reply counts one, as Redis
/// signals a write only when something changed.
pub(crate) fn touch_if_changed(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    run: impl FnOnce(&mut Ctx<'_>) -> Reply,
) -> Reply {
    let db = ctx.session.db_index();
    ctx.state.dbs[db].quiet = true;
    let reply = run(ctx);
    ctx.state.dbs[db].quiet = false;
    if matches!(reply, Ok(Value::Integer(n)) if n > 0) {
        ctx.state.dbs[db].touch(key);
    }
    reply
}

pub(crate) fn collection_mut<'a, T>(
    ctx: &'a mut Ctx<'_>,
    key: &Bytes,
    create: bool,
    empty: fn() -> Data,
    pick: fn(&mut Data) -> Option<&mut T>,
) -> Result<Option<&'a mut T>, Value> {
    let now = ctx.now;
    let db = ctx.db();
    match db.get_mut(key, now) {
        Some(entry) => {
            if pick(&mut entry.data).is_none() {
                return Err(wrongtype());
            }
            // Once in its large encoding, a collection stays there (as in Redis) even if it shrinks again.
            if entry.enc != crate::state::db::StrEnc::Big && is_big(&entry.data) {
                entry.enc = crate::state::db::StrEnc::Big;
                db.stored_form_changed(key);
            }
        }
        None if create => db.set(key.clone(), empty()),
        None => return Ok(None),
    }
    db.touch(key);
    Ok(db.get_mut(key, now).and_then(|e| pick(&mut e.data)))
}

/// Glob matching as Redis 7.0's `stringmatchlen` (see `crate::glob`, which answers in O(|pattern| · |text|)), plus
/// the shortcut Redis's KEYS and SCAN (and HSCAN, SSCAN, ZSCAN) take before calling it: a pattern of exactly `*`
/// matches everything, the empty key included (Redis's matcher alone says the empty text matches only the empty
/// pattern, so `**` does not match the empty key).
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    pattern == b"*" || crate::glob::matches(pattern, text)
}

/// An optional `COUNT n` tail (n ≥ 1); 1 when absent.
pub(crate) fn count_option(tail: &[Bytes]) -> Result<usize, Value> {
    match tail {
        [] => Ok(1),
        [c, v] if is(c, "COUNT") => match parse_i64(v)? {
            n if n > 0 => Ok(n as usize),
            _ => Err(err("ERR count should be greater than 0")),
        },
        _ => Err(syntax_error()),
    }
}

/// `numkeys key… [LIMIT n]` of SINTERCARD and ZINTERCARD: the number of keys (at `args[2..]`) and the limit
/// (0: none).
pub(crate) fn intercard_args(args: &[Bytes]) -> Result<(usize, usize), Value> {
    let n = parse_i64(&args[1])?;
    if n <= 0 {
        return Err(err("ERR numkeys should be greater than 0"));
    }
    let n = n as usize;
    if args.len() < 2 + n {
        return Err(err("ERR Number of keys can't be greater than number of args"));
    }
    let limit = match &args[2 + n..] {
        [] => 0,
        [l, v] if is(l, "LIMIT") => match parse_i64(v)? {
            l if l >= 0 => l as usize,
            _ => return Err(err("ERR LIMIT can't be negative")),
        },
        _ => return Err(syntax_error()),
    };
    Ok((n, limit))
}

/// `true` when a collection's contents need the large encoding (cheap checks first).
pub(crate) fn is_big(data: &crate::state::db::Data) -> bool {
    use crate::state::db::Data;
    match data {
        Data::Set(s) => s.len() > 512 || s.iter().any(|m| parse_i64(m).is_err()),
        Data::Hash(h) => h.len() > 128 || h.iter().any(|(k, v)| k.len() > 64 || v.len() > 64),
        Data::ZSet(z) => z.len() > 128 || z.scores.keys().any(|m| m.len() > 64),
        Data::Str(_) | Data::List(_) | Data::Stream(_) => false,
    }
}

/// The encoding Redis 7.0 would use for a value, by its default thresholds (128 entries, 64-byte values; 44-byte
/// embedded strings; 512-entry intsets).
pub(crate) fn encoding(data: &crate::state::db::Data) -> &'static str {
    let small = |len: usize, max_value: usize| len <= 128 && max_value <= 64;
    match data {
        crate::state::db::Data::Str(s) if s.len() <= 20 && parse_i64(s).is_ok() => "int",
        crate::state::db::Data::Str(s) if s.len() <= 44 => "embstr",
        crate::state::db::Data::Str(_) => "raw",
        // Redis 7.0: lists are always quicklists; sets are intsets or hash tables (listpack lists and sets came
        // with 7.2).
        crate::state::db::Data::List(_) => "quicklist",
        crate::state::db::Data::Set(s) if s.len() <= 512 && s.iter().all(|m| parse_i64(m).is_ok()) => {
            "intset"
        }
        crate::state::db::Data::Set(_) => "hashtable",
        crate::state::db::Data::Hash(h)
            if small(
                h.len(),
                h.iter().map(|(k, v)| k.len().max(v.len())).max().unwrap_or(0),
            ) =>
        {
            "listpack"
        }
        crate::state::db::Data::Hash(_) => "hashtable",
        crate::state::db::Data::ZSet(z)
            if small(z.len(), z.scores.keys().map(|m| m.len()).max().unwrap_or(0)) =>
        {
            "listpack"
        }
        crate::state::db::Data::ZSet(_) => "skiplist",
        crate::state::db::Data::Stream(_) => "stream",
    }
}

/// The error for a subcommand: wrong arity if `known`, else unknown.
pub(crate) fn subcommand_error(command: &str, sub: &[u8], known: bool) -> Value {
    let sub = String::from_utf8_lossy(sub);
    if known {
        err(&format!(
            "ERR wrong number of arguments for '{command}|{}' command",
            sub.to_ascii_lowercase()
        ))
    } else {
        err(&format!(
            "ERR unknown subcommand '{sub}'. Try {} HELP.",
            command.to_ascii_uppercase()
        ))
    }
}
/// What OBJECT ENCODING reports for an entry: its contents' encoding, adjusted by how it was written.
pub(crate) fn entry_encoding(entry: &crate::state::db::Entry) -> &'static str {
    use crate::state::db::{Data, StrEnc};
    match (&entry.data, entry.enc) {
        (Data::Str(_), StrEnc::Raw) => "raw",
        (Data::Str(s), StrEnc::NoInt) if s.len() <= 44 => "embstr",
        (Data::Str(_), StrEnc::NoInt) => "raw",
        (Data::Set(_) | Data::Hash(_), StrEnc::Big) => "hashtable",
        (Data::ZSet(_), StrEnc::Big) => "skiplist",
        (data, _) => encoding(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_redis() {
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h*llo", b"heeeello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"h[a-b]llo", b"hbllo"));
        assert!(glob_match(b"h\\*llo", b"h*llo"));
        assert!(!glob_match(b"h\\*llo", b"hello"));
        assert!(!glob_match(b"a*b", b"acd"));
        assert!(glob_match(b"*", b""));
        assert!(!glob_match(b"**", b""));
        assert!(!glob_match(b"*?", b""));
        assert!(glob_match(b"[a-]", b"_"));
    }

    #[test]
    fn numbers_parse_and_format_like_redis() {
        assert_eq!(parse_i64(b"-12"), Ok(-12));
        assert!(parse_i64(b"012").is_err());
        assert!(parse_i64(b"+1").is_err());
        assert!(parse_i64(b" 1").is_err());
        assert!(parse_i64(b"9223372036854775808").is_err());
        assert_eq!(parse_f64(b"inf"), Ok(f64::INFINITY));
        assert!(parse_f64(b"nan").is_err());
        assert_eq!(format_float(10.5), "10.5");
        assert_eq!(format_float(3.0), "3");
        assert_eq!(format_float(0.1 + 0.2), "0.3");
        assert_eq!(format_float(-0.0), "0");
        assert_eq!(format_float(5.0e3), "5000");
    }
}
