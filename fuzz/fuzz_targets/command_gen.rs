//! The structured command generator, shared by the `server_commands` fuzz target and redkit-server's
//! `tests/random_commands.rs` (which includes this file by path).
//!
//! Command names, arities and flags come from the server's own table (its `COMMAND INFO` reply, see
//! [`Table::from_command_info`]); arguments are drawn from small pools — a few keys, small integers, huge,
//! negative and not-a-number numbers, stream ids and score ranges, options and subcommand words, glob patterns, Lua
//! snippets, JSON and MessagePack payloads, short raw bytes — so that commands get past their argument checks
//! often. The only shapes known here: a blocking command's timeout (made short, so nothing blocks for long) and
//! SHUTDOWN (never generated: it would end the session by design). Randomness comes from any [`Entropy`]: the
//! fuzzer's bytes, or a seeded generator in the test.

#![allow(dead_code)]

use bytes::Bytes;
use redkit_resp::Value;

/// Where choices come from.
pub(crate) trait Entropy {
    /// The next byte (0 once exhausted).
    fn byte(&mut self) -> u8;

    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        let v = usize::from(self.byte()) << 8 | usize::from(self.byte());
        v % n.max(1)
    }

    /// One of `items` (not empty).
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// One command of the server's table.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// Its name, as the server spells it (lower case).
    pub(crate) name: String,
    /// Redis arity: `n` exactly n words with the name, `-n` at least n.
    pub(crate) arity: i64,
    /// Flagged `blocking`: its timeout is made short.
    pub(crate) blocking: bool,
}

/// The commands to draw from.
#[derive(Debug, Clone)]
pub(crate) struct Table(pub(crate) Vec<Spec>);

impl Table {
    /// From the reply to `COMMAND INFO` (or `COMMAND`): one entry per command, name, arity and flags first.
    pub(crate) fn from_command_info(reply: &Value) -> Table {
        let text = |v: &Value| match v {
            Value::BulkString(b) | Value::SimpleString(b) => {
                Some(String::from_utf8_lossy(b).to_ascii_lowercase())
            }
            _ => None,
        };
        let mut specs = Vec::new();
        if let Value::Array(entries) = reply {
            for entry in entries {
                let Value::Array(fields) = entry else { continue };
                let (Some(name), Some(Value::Integer(arity))) =
                    (fields.first().and_then(text), fields.get(1))
                else {
                    continue;
                };
                let flags: Vec<String> = match fields.get(2) {
                    Some(Value::Array(f) | Value::Set(f)) => f.iter().filter_map(text).collect(),
                    _ => Vec::new(),
                };
                if name == "shutdown" {
                    continue;
                }
                specs.push(Spec {
                    name,
                    arity: *arity,
                    blocking: flags.iter().any(|f| f == "blocking"),
                });
            }
        }
        specs.sort_by(|a, b| a.name.cmp(&b.name));
        Table(specs)
    }
}

pub(crate) const KEYS: &[&str] = &["k", "k2", "{t}a", "{t}b", "w_1", "", "h"];

pub(crate) const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "100",
    "1000",
    "65535",
    "-65536",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "4294967296",
    "1e308",
    "-1e308",
    "1e309",
    "5e-324",
    "1.5",
    "-0.5",
    "0.0",
    "-0",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "NaN",
    "1e",
    "0x10",
    " 1",
    "1 ",
    "01",
    "",
    "(1",
    "(inf",
    "(-inf",
    "[a",
    "(a",
    "[",
    "-",
    "+",
    "*",
    "$",
    ">",
    "0-0",
    "0-1",
    "1-0",
    "1-*",
    "(0-1",
    "18446744073709551615-18446744073709551615",
    "18446744073709551615-18446744073709551614",
    "99999999999999999999-0",
];

pub(crate) const OPTIONS: &[&str] = &[
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "KEEPTTL",
    "PERSIST",
    "GET",
    "COUNT",
    "LIMIT",
    "WITHSCORES",
    "WITHSCORE",
    "BYSCORE",
    "BYLEX",
    "REV",
    "BLOCK",
    "STREAMS",
    "GROUP",
    "MKSTREAM",
    "NOACK",
    "MAXLEN",
    "MINID",
    "~",
    "=",
    "JUSTID",
    "IDLE",
    "TIME",
    "RETRYCOUNT",
    "FORCE",
    "ENTRIESREAD",
    "MATCH",
    "TYPE",
    "string",
    "list",
    "hash",
    "zset",
    "stream",
    "ALPHA",
    "BY",
    "DESC",
    "ASC",
    "STORE",
    "LEN",
    "IDX",
    "MINMATCHLEN",
    "WITHMATCHLEN",
    "LEFT",
    "RIGHT",
    "BEFORE",
    "AFTER",
    "RANK",
    "MAXLEN",
    "WEIGHTS",
    "AGGREGATE",
    "MIN",
    "MAX",
    "SUM",
    "FROMLONLAT",
    "FROMMEMBER",
    "BYRADIUS",
    "BYBOX",
    "km",
    "m",
    "ft",
    "WITHCOORD",
    "WITHDIST",
    "WITHHASH",
    "ANY",
    "STOREDIST",
    "OVERFLOW",
    "WRAP",
    "SAT",
    "FAIL",
    "INCRBY",
    "SET",
    "u8",
    "i64",
    "u63",
    "i1",
    "#1",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "BIT",
    "BYTE",
    "REPLACE",
    "DB",
    "ENCODING",
    "FREQ",
    "IDLETIME",
    "REFCOUNT",
    "USAGE",
    "SAMPLES",
    "HELP",
    "INFO",
    "LIST",
    "DOCS",
    "GETKEYS",
    "CREATE",
    "SETID",
    "DESTROY",
    "DELCONSUMER",
    "CREATECONSUMER",
    "CONSUMERS",
    "GROUPS",
    "STREAM",
    "FULL",
    "CHANNELS",
    "NUMSUB",
    "NUMPAT",
    "SHARDCHANNELS",
    "SHARDNUMSUB",
    "TRACKING",
    "ON",
    "OFF",
    "BCAST",
    "PREFIX",
    "OPTIN",
    "OPTOUT",
    "NOLOOP",
    "REDIRECT",
    "CACHING",
    "yes",
    "no",
    "ID",
    "SETNAME",
    "GETNAME",
    "SETINFO",
    "LIB-NAME",
    "KILL",
    "USER",
    "ADDR",
    "LADDR",
    "SKIPME",
    "PAUSE",
    "UNPAUSE",
    "WRITE",
    "ALL",
    "NO-EVICT",
    "NO-TOUCH",
    "TRACKINGINFO",
    "GETREDIR",
    "UNBLOCK",
    "ERROR",
    "LOAD",
    "FLUSH",
    "EXISTS",
    "DELETE",
    "RESTORE",
    "APPEND",
    "DUMP",
    "STATS",
    "ASYNC",
    "SYNC",
    "LIBRARYNAME",
    "WITHCODE",
    "RESET",
    "RESETSTAT",
    "GET",
    "DOCTOR",
    "FILTERBY",
    "ACLCAT",
    "PATTERN",
    "MODULE",
    "AUTH",
    "default",
    "SCHEDULE",
    "SETNAME",
    "maxmemory",
    "busy-reply-threshold",
    "lua-time-limit",
    "hash-max-listpack-entries",
    "zset-max-listpack-entries",
    "set-max-intset-entries",
    "list-max-listpack-size",
    "notify-keyspace-events",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "appendonly",
    "*",
    "max*",
    "KEA",
    "1mb",
];

pub(crate) const PATTERNS: &[&str] = &[
    "*",
    "k*",
    "?",
    "[a-z]*",
    "[^k]*",
    "\\*",
    "[",
    "[a-",
    "[]",
    "*{t}*",
    "*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*?*b",
    "\\",
    "[\\",
    "a**b",
    "c*",
    "__keyspace@0__:*",
];

pub(crate) const LUA: &[&str] = &[
    "return 1",
    "return ARGV[1]",
    "return redis.call('GET', KEYS[1])",
    "return redis.call('SET', KEYS[1], ARGV[1])",
    "return redis.pcall(ARGV[1], KEYS[1], ARGV[2])",
    "return redis.call(ARGV[1], KEYS[1], ARGV[2], ARGV[3])",
    "return redis.pcall(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])",
    "return {1, 'a', {2, false}, 3.7, true, nil, 4}",
    "return {err = ARGV[1]}",
    "return {ok = ARGV[1]}",
    "return cjson.encode(cjson.decode(ARGV[1]))",
    "return cjson.decode(ARGV[1])",
    "return cjson.encode({ARGV[1], {a = 1}, {}, 1.5e300})",
    "return cmsgpack.unpack(ARGV[1])",
    "return cmsgpack.pack(KEYS, ARGV, {a = {b = {c = 1}}})",
    "return cmsgpack.unpack(cmsgpack.pack(ARGV[1], tonumber(ARGV[2])))",
    "return struct.unpack(ARGV[1], ARGV[2])",
    "return struct.pack(ARGV[1], tonumber(ARGV[2]) or 0)",
    "return bit.tohex(tonumber(ARGV[1]) or 0, tonumber(ARGV[2]) or 8)",
    "return bit.band(tonumber(ARGV[1]) or 0, 255)",
    "redis.setresp(3) return redis.call('HGETALL', KEYS[1])",
    "redis.setresp(3) return redis.call(ARGV[1], KEYS[1])",
    "return redis.sha1hex(ARGV[1])",
    "error(ARGV[1])",
    "error({err = 'x'})",
    "return redis.error_reply(ARGV[1])",
    "return redis.status_reply(ARGV[1])",
    "local t = {} for i = 1, 300 do t[i] = i end return t",
    "local t = {} t[1] = t return t",
    "return string.format(ARGV[1] or '%s', 1, 2)",
    "return tostring(tonumber(ARGV[1]))",
    "return string.rep(ARGV[1] or 'x', 100)",
    "return redis.call('EVAL', 'return 1', 0)",
    "return loadstring(ARGV[1])",
    "x = 1",
    "setmetatable(_G, nil) return 1",
    "return redis.breakpoint()",
    "redis.log(redis.LOG_WARNING, ARGV[1]) return 0",
    "return redis.set_repl(redis.REPL_ALL)",
    "return redis.acl_check_cmd(ARGV[1])",
    "return pcall(redis.call, 'BLPOP', KEYS[1], 0)",
    "return redis.call('TIME')",
    "return #redis.call('KEYS', '*')",
    "#!lua name=lib\nredis.register_function('f', function(keys, args) return redis.call(args[1], keys[1]) end)",
    "#!lua name=lib2\nredis.register_function{function_name='g', callback=function() return 1 end, flags={'no-writes'}}",
    "#!lua name=lib3\nredis.register_function('f', function() return 2 end)",
    "#!lua name=bad\nreturn 1",
    "#!lua\nredis.register_function('h', function() end)",
];

pub(crate) const PAYLOADS: &[&[u8]] = &[
    br#"{"a":[1,2,{"b":null}],"c":"\u00e9"}"#,
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]",
    b"1e999",
    b"\"\\ud800\"",
    b"{\"a\":",
    b"\xdd\xff\xff\xff\xff",
    b"\xdf\xff\xff\xff\xff",
    b"\x93\x01\xa1x\xc0",
    b"\xc4\x05ab",
    b"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00",
    b">I4",
    b"<i8",
    b"c0",
    b"!1024",
    b"s",
    b"%99999s",
    b"GET",
    b"INCR",
    b"LPUSH",
    b"XADD",
    b"SUBSCRIBE",
];

/// A blocking command's timeouts: short, or not a valid timeout at all.
const TIMEOUTS: &[&str] = &["0.001", "0.01", "0.02", "-1", "nan", "x", "1e400"];
/// XREAD's BLOCK: milliseconds.
const BLOCK_MS: &[&str] = &["1", "5", "-1", "x"];

/// One argument.
fn arg(e: &mut dyn Entropy) -> Bytes {
    match e.byte() % 16 {
        0..=3 => Bytes::from_static(e.pick(KEYS).as_bytes()),
        4..=5 => Bytes::from(format!("{}", i64::from(e.byte() % 24) - 3)),
        6..=7 => Bytes::from_static(e.pick(NUMBERS).as_bytes()),
        8..=10 => Bytes::from_static(e.pick(OPTIONS).as_bytes()),
        11 => Bytes::from_static(e.pick(PATTERNS).as_bytes()),
        12 => Bytes::from_static(e.pick(LUA).as_bytes()),
        13 => Bytes::from_static(PAYLOADS[e.below(PAYLOADS.len())]),
        14 => {
            let n = usize::from(e.byte() % 8);
            Bytes::from((0..n).map(|_| e.byte()).collect::<Vec<u8>>())
        }
        _ => Bytes::from(format!("m{}", e.byte() % 8)),
    }
}

/// One command: its name (from `table`) and its arguments; a blocking command's timeout is made short.
pub(crate) fn command(table: &Table, e: &mut dyn Entropy) -> Vec<Bytes> {
    let spec = &table.0[e.below(table.0.len())];
    let mut n = usize::from(e.byte() % 8);
    // Mostly the right number of arguments.
    if !e.byte().is_multiple_of(8) {
        let min = usize::try_from(spec.arity.unsigned_abs().saturating_sub(1)).unwrap_or(0);
        n = if spec.arity > 0 { min } else { n.max(min) };
    }
    let mut args = vec![Bytes::from(spec.name.to_ascii_uppercase())];
    args.extend((0..n).map(|_| arg(e)));
    if spec.blocking {
        shorten_timeouts(&spec.name, &mut args, e);
    }
    args
}

/// XREAD and XREADGROUP: every BLOCK's milliseconds; BLMPOP and BZMPOP: the first argument; the others
/// (BLPOP, BLMOVE, BZPOPMIN, …): the last.
fn shorten_timeouts(name: &str, args: &mut [Bytes], e: &mut dyn Entropy) {
    if name.starts_with('x') {
        for i in 1..args.len() {
            if args[i - 1].eq_ignore_ascii_case(b"BLOCK") {
                args[i] = Bytes::from_static(e.pick(BLOCK_MS).as_bytes());
            }
        }
        return;
    }
    let at = if name.ends_with("mpop") { 1 } else { args.len() - 1 };
    if at > 0 && at < args.len() {
        args[at] = Bytes::from_static(e.pick(TIMEOUTS).as_bytes());
    }
}

/// Whether a command legitimately gets no ordinary reply over a connection (pub/sub, whose answers are pushes or
/// subscribed-mode messages).
pub(crate) fn no_direct_reply(args: &[Bytes]) -> bool {
    args.first().is_some_and(|n| {
        String::from_utf8_lossy(n)
            .to_ascii_lowercase()
            .contains("subscribe")
    })
}
