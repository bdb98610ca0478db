//! The command table and what handlers share: argument parsing with Redis's exact error messages, and type checks.
//!
//! One file per family; each command is one `fn(&mut Ctx, &[Bytes]) -> Reply` listed in [`TABLE`] with its Redis
//! arity (positive: exactly that many arguments, name included; negative: at least that many).

use std::sync::OnceLock;

use bytes::Bytes;
use redkit_resp::Value;

use crate::db::{Data, Entry};
use crate::server::Ctx;

mod bitmaps;
pub(crate) mod blocking;
pub(crate) mod clients;
mod connection;
mod functions;
mod geo;
mod groups;
mod hashes;
mod hyperloglog;
mod keys;
mod lists;
mod meta;
pub(crate) mod pubsub;
pub(crate) mod scan;
pub(crate) mod scripting;
pub(crate) mod server;
pub(crate) mod sets;
mod sort;
pub(crate) mod streams;
mod strings;
pub(crate) mod tracking;
pub(crate) mod transactions;
mod zsets;

/// A handler's result: the reply, or an error reply (`Err` so `?` works in handlers).
pub(crate) type Reply = Result<Value, Value>;

/// A command handler.
pub(crate) type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> Reply;

/// One entry of the command table.
pub(crate) struct CommandSpec {
    /// Lower-case name, as Redis reports it in errors.
    pub(crate) name: &'static str,
    /// Redis arity.
    pub(crate) arity: i32,
    pub(crate) apply: Handler,
    /// Allowed before AUTH.
    pub(crate) no_auth: bool,
    /// Runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    pub(crate) not_queued: bool,
    /// Allowed in RESP2 subscribed mode.
    pub(crate) in_subscribed_mode: bool,
}

const fn cmd(name: &'static str, arity: i32, apply: Handler) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        apply,
        no_auth: false,
        not_queued: false,
        in_subscribed_mode: false,
    }
}

const fn cmd_flags(
    name: &'static str,
    arity: i32,
    apply: Handler,
    no_auth: bool,
    not_queued: bool,
) -> CommandSpec {
    let in_subscribed_mode = matches!(name.as_bytes(), b"quit" | b"reset");
    CommandSpec {
        name,
        arity,
        apply,
        no_auth,
        not_queued,
        in_subscribed_mode,
    }
}

/// A command allowed in RESP2 subscribed mode.
const fn sub_cmd(name: &'static str, arity: i32, apply: Handler) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        apply,
        no_auth: false,
        not_queued: false,
        in_subscribed_mode: true,
    }
}

/// Every command the server knows.
static TABLE: &[CommandSpec] = &[
    // strings
    cmd("get", 2, strings::get),
    cmd("set", -3, strings::set),
    cmd("setnx", 3, strings::setnx),
    cmd("setex", 4, strings::setex),
    cmd("psetex", 4, strings::psetex),
    cmd("getset", 3, strings::getset),
    cmd("getdel", 2, strings::getdel),
    cmd("getex", -2, strings::getex),
    cmd("append", 3, strings::append),
    cmd("strlen", 2, strings::strlen),
    cmd("getrange", 4, strings::getrange),
    cmd("substr", 4, strings::getrange),
    cmd("setrange", 4, strings::setrange),
    cmd("incr", 2, strings::incr),
    cmd("decr", 2, strings::decr),
    cmd("incrby", 3, strings::incrby),
    cmd("decrby", 3, strings::decrby),
    cmd("incrbyfloat", 3, strings::incrbyfloat),
    cmd("mget", -2, strings::mget),
    cmd("mset", -3, strings::mset),
    cmd("msetnx", -3, strings::msetnx),
    cmd("lcs", -3, strings::lcs),
    // streams
    cmd("xadd", -5, streams::xadd),
    cmd("xlen", 2, streams::xlen),
    cmd("xrange", -4, streams::xrange),
    cmd("xrevrange", -4, streams::xrevrange),
    cmd("xdel", -3, streams::xdel),
    cmd("xtrim", -4, streams::xtrim),
    cmd("xread", -4, streams::xread),
    cmd("xgroup", -2, groups::xgroup),
    cmd("xreadgroup", -7, groups::xreadgroup),
    cmd("xack", -4, groups::xack),
    cmd("xpending", -3, groups::xpending),
    cmd("xclaim", -6, groups::xclaim),
    cmd("xautoclaim", -6, groups::xautoclaim),
    cmd("xinfo", -2, groups::xinfo),
    // scripting
    cmd("eval", -3, scripting::eval),
    cmd("eval_ro", -3, scripting::eval_ro),
    cmd("evalsha", -3, scripting::evalsha),
    cmd("evalsha_ro", -3, scripting::evalsha_ro),
    cmd("script", -2, scripting::script),
    cmd("function", -2, functions::function),
    cmd("sort", -2, sort::sort),
    cmd("sort_ro", -2, sort::sort_ro),
    cmd("fcall", -3, functions::fcall),
    cmd("fcall_ro", -3, functions::fcall_ro),
    // geo
    cmd("geoadd", -5, geo::geoadd),
    cmd("geodist", -4, geo::geodist),
    cmd("geohash", -2, geo::geohash),
    cmd("geopos", -2, geo::geopos),
    cmd("geosearch", -7, geo::geosearch),
    cmd("geosearchstore", -8, geo::geosearchstore),
    cmd("georadius", -6, geo::georadius),
    cmd("georadius_ro", -6, geo::georadius_ro),
    cmd("georadiusbymember", -5, geo::georadiusbymember),
    cmd("georadiusbymember_ro", -5, geo::georadiusbymember_ro),
    // HyperLogLog
    cmd("pfadd", -2, hyperloglog::pfadd),
    cmd("pfcount", -2, hyperloglog::pfcount),
    cmd("pfmerge", -2, hyperloglog::pfmerge),
    // bitmaps
    cmd("setbit", 4, bitmaps::setbit),
    cmd("getbit", 3, bitmaps::getbit),
    cmd("bitcount", -2, bitmaps::bitcount),
    cmd("bitpos", -3, bitmaps::bitpos),
    cmd("bitop", -4, bitmaps::bitop),
    cmd("bitfield", -2, bitmaps::bitfield),
    cmd("bitfield_ro", -2, bitmaps::bitfield_ro),
    // keys
    cmd("del", -2, keys::del),
    cmd("unlink", -2, keys::del),
    cmd("exists", -2, keys::exists),
    cmd("touch", -2, keys::exists),
    cmd("type", 2, keys::key_type),
    cmd("ttl", 2, keys::ttl),
    cmd("pttl", 2, keys::pttl),
    cmd("expiretime", 2, keys::expiretime),
    cmd("pexpiretime", 2, keys::pexpiretime),
    cmd("expire", -3, keys::expire),
    cmd("pexpire", -3, keys::pexpire),
    cmd("expireat", -3, keys::expireat),
    cmd("pexpireat", -3, keys::pexpireat),
    cmd("persist", 2, keys::persist),
    cmd("rename", 3, keys::rename),
    cmd("renamenx", 3, keys::renamenx),
    cmd("copy", -3, keys::copy),
    cmd("move", 3, keys::move_key),
    cmd("randomkey", 1, keys::randomkey),
    cmd("keys", 2, keys::keys),
    cmd("scan", -2, keys::scan),
    cmd("dbsize", 1, keys::dbsize),
    // lists
    cmd("lpush", -3, lists::lpush),
    cmd("rpush", -3, lists::rpush),
    cmd("lpushx", -3, lists::lpushx),
    cmd("rpushx", -3, lists::rpushx),
    cmd("lpop", -2, lists::lpop),
    cmd("rpop", -2, lists::rpop),
    cmd("llen", 2, lists::llen),
    cmd("lrange", 4, lists::lrange),
    cmd("lindex", 3, lists::lindex),
    cmd("lset", 4, lists::lset),
    cmd("linsert", 5, lists::linsert),
    cmd("ltrim", 4, lists::ltrim),
    cmd("lrem", 4, lists::lrem),
    cmd("lpos", -3, lists::lpos),
    cmd("lmove", 5, lists::lmove),
    cmd("rpoplpush", 3, lists::rpoplpush),
    cmd("lmpop", -4, lists::lmpop),
    cmd("blpop", -3, blocking::blpop),
    cmd("brpop", -3, blocking::brpop),
    cmd("blmove", 6, blocking::blmove),
    cmd("brpoplpush", 4, blocking::brpoplpush),
    cmd("blmpop", -5, blocking::blmpop),
    // sets
    cmd("sadd", -3, sets::sadd),
    cmd("srem", -3, sets::srem),
    cmd("scard", 2, sets::scard),
    cmd("sismember", 3, sets::sismember),
    cmd("smismember", -3, sets::smismember),
    cmd("smembers", 2, sets::smembers),
    cmd("spop", -2, sets::spop),
    cmd("srandmember", -2, sets::srandmember),
    cmd("smove", 4, sets::smove),
    cmd("sinter", -2, sets::sinter),
    cmd("sunion", -2, sets::sunion),
    cmd("sdiff", -2, sets::sdiff),
    cmd("sinterstore", -3, sets::sinterstore),
    cmd("sunionstore", -3, sets::sunionstore),
    cmd("sdiffstore", -3, sets::sdiffstore),
    cmd("sintercard", -3, sets::sintercard),
    cmd("sscan", -3, scan::sscan),
    // hashes
    cmd("hset", -4, hashes::hset),
    cmd("hmset", -4, hashes::hmset),
    cmd("hsetnx", 4, hashes::hsetnx),
    cmd("hget", 3, hashes::hget),
    cmd("hmget", -3, hashes::hmget),
    cmd("hgetall", 2, hashes::hgetall),
    cmd("hdel", -3, hashes::hdel),
    cmd("hexists", 3, hashes::hexists),
    cmd("hlen", 2, hashes::hlen),
    cmd("hkeys", 2, hashes::hkeys),
    cmd("hvals", 2, hashes::hvals),
    cmd("hstrlen", 3, hashes::hstrlen),
    cmd("hincrby", 4, hashes::hincrby),
    cmd("hincrbyfloat", 4, hashes::hincrbyfloat),
    cmd("hrandfield", -2, hashes::hrandfield),
    cmd("hscan", -3, scan::hscan),
    // sorted sets
    cmd("zadd", -4, zsets::zadd),
    cmd("zincrby", 4, zsets::zincrby),
    cmd("zcard", 2, zsets::zcard),
    cmd("zscore", 3, zsets::zscore),
    cmd("zmscore", -3, zsets::zmscore),
    cmd("zrem", -3, zsets::zrem),
    cmd("zrank", 3, zsets::zrank),
    cmd("zrevrank", 3, zsets::zrevrank),
    cmd("zcount", 4, zsets::zcount),
    cmd("zlexcount", 4, zsets::zlexcount),
    cmd("zrange", -4, zsets::zrange),
    cmd("zrangestore", -5, zsets::zrangestore),
    cmd("zrevrange", -4, zsets::zrevrange),
    cmd("zrangebyscore", -4, zsets::zrangebyscore),
    cmd("zrevrangebyscore", -4, zsets::zrevrangebyscore),
    cmd("zrangebylex", -4, zsets::zrangebylex),
    cmd("zrevrangebylex", -4, zsets::zrevrangebylex),
    cmd("zremrangebyrank", 4, zsets::zremrangebyrank),
    cmd("zremrangebyscore", 4, zsets::zremrangebyscore),
    cmd("zremrangebylex", 4, zsets::zremrangebylex),
    cmd("zpopmin", -2, zsets::zpopmin),
    cmd("zpopmax", -2, zsets::zpopmax),
    cmd("zmpop", -4, zsets::zmpop),
    cmd("zrandmember", -2, zsets::zrandmember),
    cmd("zscan", -3, scan::zscan),
    cmd("zunion", -3, zsets::zunion),
    cmd("zinter", -3, zsets::zinter),
    cmd("zdiff", -3, zsets::zdiff),
    cmd("zunionstore", -4, zsets::zunionstore),
    cmd("zinterstore", -4, zsets::zinterstore),
    cmd("zdiffstore", -4, zsets::zdiffstore),
    cmd("zintercard", -3, zsets::zintercard),
    cmd("bzpopmin", -3, blocking::bzpopmin),
    cmd("bzpopmax", -3, blocking::bzpopmax),
    cmd("bzmpop", -5, blocking::bzmpop),
    // transactions
    cmd_flags("multi", 1, transactions::multi, false, true),
    cmd_flags("exec", 1, transactions::exec, false, true),
    cmd_flags("discard", 1, transactions::discard, false, true),
    cmd_flags("watch", -2, transactions::watch, false, true),
    cmd("unwatch", 1, transactions::unwatch),
    // connection
    sub_cmd("ping", -1, connection::ping),
    sub_cmd("subscribe", -2, pubsub::subscribe),
    sub_cmd("unsubscribe", -1, pubsub::unsubscribe),
    sub_cmd("psubscribe", -2, pubsub::psubscribe),
    sub_cmd("punsubscribe", -1, pubsub::punsubscribe),
    sub_cmd("ssubscribe", -2, pubsub::ssubscribe),
    sub_cmd("sunsubscribe", -1, pubsub::sunsubscribe),
    cmd("publish", 3, pubsub::publish),
    cmd("spublish", 3, pubsub::spublish),
    cmd("pubsub", -2, pubsub::pubsub),
    cmd("echo", 2, connection::echo),
    cmd("select", 2, connection::select),
    cmd("swapdb", 3, connection::swapdb),
    cmd_flags("hello", -1, connection::hello, true, false),
    cmd_flags("auth", -2, connection::auth, true, false),
    cmd_flags("quit", -1, connection::quit, true, true),
    cmd_flags("reset", 1, connection::reset, true, true),
    cmd("client", -2, clients::client),
    // server
    cmd("flushdb", -1, server::flushdb),
    cmd("flushall", -1, server::flushall),
    cmd("time", 1, server::time),
    cmd("info", -1, server::info),
    cmd("config", -2, server::config),
    cmd("command", -1, server::command),
    cmd("lastsave", 1, server::lastsave),
    cmd("save", 1, server::save),
    cmd("shutdown", -1, server::shutdown),
    cmd("bgsave", -1, server::bgsave),
    cmd("bgrewriteaof", 1, server::bgrewriteaof),
    cmd("slowlog", -2, server::slowlog),
    cmd("memory", -2, server::memory),
    cmd("object", -2, server::object),
    cmd("wait", 3, server::wait),
];

/// The spec of a command by lower-case name.
/// `true` for commands Redis flags `write` (refused while the append-only store cannot be written).
pub(crate) fn is_write(spec: &CommandSpec) -> bool {
    meta::meta(spec.name).is_some_and(|m| m.flags.contains(&"write"))
}

pub(crate) fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    lookup_with_storage(name).map(|(spec, _)| spec)
}

/// The spec of a command by lower-case name, and whether it may store its arguments (anything but a read-only
/// command: writes, but also WATCH, SUBSCRIBE, CLIENT SETNAME…): a connection gives such a command a copy of its
/// arguments rather than slices of its read buffer.
pub(crate) fn lookup_with_storage(name: &[u8]) -> Option<(&'static CommandSpec, bool)> {
    // Looked up once per command: a fast hash of a short name beats SipHash here.
    static INDEX: OnceLock<rustc_hash::FxHashMap<&'static [u8], (&'static CommandSpec, bool)>> =
        OnceLock::new();
    INDEX
        .get_or_init(|| {
            TABLE
                .iter()
                .map(|c| {
                    let stores = meta::meta(c.name).is_none_or(|m| !m.flags.contains(&"readonly"));
                    (c.name.as_bytes(), (c, stores))
                })
                .collect()
        })
        .get(name)
        .copied()
}

/// How many commands the server knows.
pub(crate) fn count() -> usize {
    TABLE.len()
}

/// Every command, in table order.
pub(crate) fn table() -> &'static [CommandSpec] {
    TABLE
}

/// What COMMAND INFO and COMMAND DOCS report of a command (generated from Redis 7.0, see `meta.rs`).
#[derive(Debug)]
pub(crate) struct Meta {
    pub(crate) arity: i32,
    pub(crate) flags: &'static [&'static str],
    /// First key, last key (negative: counted from the end), step; `(0, 0, 0)` for commands whose keys move.
    pub(crate) keys: (i32, i32, i32),
    pub(crate) acl: &'static [&'static str],
    pub(crate) group: &'static str,
    pub(crate) since: &'static str,
    pub(crate) complexity: &'static str,
}

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

/// The key arguments of a command (`args[0]` is its name), for CLIENT TRACKING and COMMAND GETKEYS.
pub(crate) fn command_keys(spec: &CommandSpec, args: &[Bytes]) -> Vec<Bytes> {
    let numkeys = |at: usize| -> Vec<Bytes> {
        let n = args
            .get(at)
            .and_then(|n| std::str::from_utf8(n).ok())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        at.checked_add(1 + n.min(args.len()))
            .and_then(|end| args.get(at + 1..end))
            .filter(|keys| keys.len() == n)
            .unwrap_or(&[])
            .to_vec()
    };
    match spec.name {
        "zunion" | "zinter" | "zdiff" | "zintercard" | "sintercard" | "lmpop" | "zmpop" => numkeys(1),
        "blmpop" | "bzmpop" => numkeys(2),
        "zunionstore" | "zinterstore" | "zdiffstore" => {
            let mut keys = args.get(1..2).unwrap_or(&[]).to_vec();
            keys.extend(numkeys(2));
            keys
        }
        _ => {
            let Some(meta) = meta::meta(spec.name) else {
                return Vec::new();
            };
            let (first, last, step) = meta.keys;
            if first <= 0 || step <= 0 || args.len() <= first as usize {
                return Vec::new();
            }
            let last = if last < 0 {
                args.len().saturating_sub(last.unsigned_abs() as usize)
            } else {
                (last as usize).min(args.len() - 1)
            };
            (first as usize..=last)
                .step_by(step as usize)
                .filter_map(|i| args.get(i).cloned())
                .collect()
        }
    }
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
    let db = ctx.session.db;
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
            if entry.enc != crate::db::StrEnc::Big && server::is_big(&entry.data) {
                entry.enc = crate::db::StrEnc::Big;
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

/// Parse `[MATCH pattern] [COUNT n]` (and, for SCAN, `[TYPE t]`) starting at `args[from]`.
pub(crate) fn scan_options(
    args: &[Bytes],
    from: usize,
    allow_type: bool,
) -> Result<(Option<Bytes>, usize, Option<Bytes>), Value> {
    let (mut pattern, mut count, mut kind) = (None, 10usize, None);
    let mut i = from;
    while i < args.len() {
        let value = args.get(i + 1).ok_or_else(syntax_error)?;
        if is(&args[i], "MATCH") {
            pattern = Some(value.clone());
        } else if is(&args[i], "COUNT") {
            let n = parse_i64(value)?;
            if n < 1 {
                return Err(syntax_error());
            }
            count = n as usize;
        } else if allow_type && is(&args[i], "TYPE") {
            kind = Some(value.clone());
        } else {
            return Err(syntax_error());
        }
        i += 2;
    }
    Ok((pattern, count, kind))
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
