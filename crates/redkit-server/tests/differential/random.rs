//! Random command sequences (a stateful property test): commands drawn from templates over pools of 3 keys,
//! 2 fields and 5 values, so they collide and hit WRONGTYPE; every reply must agree, over RESP2 and RESP3.
//! `REDKIT_DIFF_CASES` sets the number of cases per protocol (200 by default).

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};

use crate::harness::*;

/// Redis's server and the embedded one disagree on nothing over random sequences of commands.
#[test]
fn random_command_sequences_agree_with_redis() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some((real, mock)) = rt.block_on(servers()) else {
        return;
    };
    let cases: u32 = std::env::var("REDKIT_DIFF_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(200);
    for protocol in [RespVersion::Resp2, RespVersion::Resp3] {
        let pair = std::cell::RefCell::new(rt.block_on(Pair::connect(&real, &mock, protocol)));
        let mut runner = TestRunner::new(RunnerConfig {
            cases,
            failure_persistence: None,
            ..RunnerConfig::default()
        });
        let result = runner.run(&proptest::collection::vec(command(), 1..40), |commands| {
            let mut pair = pair.borrow_mut();
            // A case may end inside MULTI: leave it, then start from empty databases.
            rt.block_on(pair.both(&["DISCARD"]));
            rt.block_on(pair.both(&["FLUSHALL"]));
            for c in &commands {
                let args: Vec<&str> = c.iter().map(String::as_str).collect();
                rt.block_on(pair.check(&args)).map_err(TestCaseError::fail)?;
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{protocol:?}: {e}");
        }
    }
}

/// Scripts of the random sequences (`S1`… in a template; `H1`… is the script's SHA1): conversions both ways,
/// writes, errors raised and caught, and read-only refusals.
const SCRIPTS: [&str; 6] = [
    "return redis.call('incrby', KEYS[1], ARGV[1])",
    "redis.call('set', KEYS[1], ARGV[1]) return {redis.call('get', KEYS[2]), redis.call('type', KEYS[1])}",
    "return {KEYS[1], ARGV[1], redis.call('exists', KEYS[1]), 3.7, false, {ok = 'fine'}}",
    "local n = redis.call('rpush', KEYS[1], ARGV[1]) return {n, redis.call('lrange', KEYS[1], 0, -1)}",
    "return redis.pcall('hincrby', KEYS[1], ARGV[1], 2)",
    "redis.call('geoadd', KEYS[1], 13.361389, 38.115556, ARGV[1]) return redis.call('geopos', KEYS[1], ARGV[1])",
];

/// The function library of the random sequences (`L1` in a template).
const LIBRARY: &str = "#!lua name=rk\n\
    redis.register_function('fincr', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)\n\
    redis.register_function{function_name='fget', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";

fn script_index(token: &str) -> usize {
    token[1..].parse::<usize>().map_or(0, |n| n.saturating_sub(1)) % SCRIPTS.len()
}

/// One random command over pools of 3 keys, 2 fields, 5 values.
fn command() -> impl Strategy<Value = Vec<String>> {
    let key = prop::sample::select(vec!["k1", "k2", "k3"]);
    let field = prop::sample::select(vec!["f1", "f2"]);
    let value = prop::sample::select(vec!["1", "-3", "a", "1.5", "10"]);
    let index = prop::sample::select(vec!["0", "1", "-1", "2", "-5"]);
    let template = prop::sample::select(vec![
        "SET k v",
        "GET k",
        "APPEND k v",
        "INCR k",
        "DECRBY k v",
        "INCRBYFLOAT k v",
        "STRLEN k",
        "GETRANGE k i i",
        "SETRANGE k 1 v",
        "GETSET k v",
        "GETDEL k",
        "SETNX k v",
        "MSET k v k v",
        "MGET k k",
        "DEL k",
        "EXISTS k k",
        "TYPE k",
        "RENAME k k",
        "RENAMENX k k",
        "COPY k k",
        "EXPIRE k 100",
        "PERSIST k",
        "TTL k",
        "LPUSH k v",
        "RPUSH k v v",
        "LPOP k",
        "RPOP k i",
        "LRANGE k i i",
        "LINDEX k i",
        "LSET k i v",
        "LREM k i v",
        "LLEN k",
        "LINSERT k BEFORE v v",
        "LTRIM k i i",
        "LPOS k v",
        "LMOVE k k LEFT RIGHT",
        "SADD k v v",
        "SREM k v",
        "SCARD k",
        "SISMEMBER k v",
        "SMEMBERS k",
        "SINTER k k",
        "SUNION k k",
        "SDIFF k k",
        "SINTERSTORE k k k",
        "SMOVE k k v",
        "HSET k f v",
        "HGET k f",
        "HDEL k f",
        "HLEN k",
        "HINCRBY k f v",
        "HGETALL k",
        "HKEYS k",
        "HEXISTS k f",
        "HSETNX k f v",
        "HINCRBYFLOAT k f v",
        "XADD k i f v",
        "XADD k MAXLEN 2 i f v f v",
        "XRANGE k - +",
        "XREVRANGE k + i COUNT 2",
        "XLEN k",
        "XDEL k i",
        "XTRIM k MAXLEN i",
        "XREAD COUNT 2 STREAMS k k i 0",
        "XGROUP CREATE k f i",
        "XGROUP CREATE k f $ MKSTREAM",
        "XREADGROUP GROUP f f COUNT 2 STREAMS k >",
        "XREADGROUP GROUP f f STREAMS k i",
        "XACK k f i",
        "XPENDING k f",
        "XPENDING k f - + 5",
        "XCLAIM k f f 0 i",
        "XINFO GROUPS k",
        "XINFO STREAM k FULL",
        "XINFO STREAM k FULL COUNT 1",
        "XGROUP SETID k f i",
        "EVAL S1 1 k v",
        "EVAL S2 2 k k v",
        "EVAL S3 1 k v",
        "EVAL S4 1 k v",
        "EVAL S5 1 k f",
        "EVAL S6 1 k v",
        "EVAL_RO S2 2 k k v",
        "EVAL_RO S3 1 k v",
        "EVALSHA H1 1 k v",
        "EVALSHA_RO H3 1 k v",
        "SCRIPT LOAD S1",
        "SCRIPT EXISTS H1 H3",
        "SORT k",
        "SORT k ALPHA DESC LIMIT i i",
        "SORT k ALPHA STORE k",
        "SORT_RO k BY nokey_* GET #",
        "FUNCTION LOAD REPLACE L1",
        "FCALL fincr 1 k v",
        "FCALL_RO fget 1 k",
        "FCALL_RO fincr 1 k v",
        "FUNCTION DELETE rk",
        "GEOADD k v v f",
        "GEOADD k XX CH v 1 f",
        "GEODIST k f f km",
        "GEOPOS k f f",
        "GEOHASH k f",
        "GEOSEARCH k FROMMEMBER f BYRADIUS 2000 km ASC WITHDIST WITHHASH",
        "GEOSEARCH k FROMLONLAT v v BYBOX 3000 3000 km DESC WITHCOORD",
        "GEOSEARCHSTORE k k FROMMEMBER f BYRADIUS 1000 km STOREDIST",
        "SETBIT k 3 1",
        "SETBIT k 17 1",
        "SETBIT k 9 0",
        "GETBIT k 3",
        "BITCOUNT k",
        "BITCOUNT k i i BIT",
        "BITCOUNT k i i",
        "BITPOS k 1",
        "BITPOS k 0 i",
        "BITPOS k 1 i i BIT",
        "BITOP AND k k k",
        "BITOP XOR k k k",
        "BITOP NOT k k",
        "BITFIELD k INCRBY i5 2 v",
        "BITFIELD k OVERFLOW SAT INCRBY u3 #1 v GET u4 0",
        "BITFIELD k SET i8 #0 v",
        "HMGET k f f",
        "ZADD k v f",
        "ZADD k NX v f v f",
        "ZADD k XX CH v f",
        "ZINCRBY k v f",
        "ZSCORE k f",
        "ZMSCORE k f f",
        "ZRANK k f",
        "ZREVRANK k f",
        "ZREM k f",
        "ZCARD k",
        "ZRANGE k i i WITHSCORES",
        "ZRANGE k v v BYSCORE",
        "ZRANGEBYSCORE k -inf +inf WITHSCORES",
        "ZREVRANGEBYSCORE k +inf (v",
        "ZRANGEBYLEX k - +",
        "ZCOUNT k v v",
        "ZPOPMIN k",
        "ZPOPMAX k i",
        "ZUNIONSTORE k 2 k k WEIGHTS 2 3",
        "ZINTERSTORE k 2 k k AGGREGATE MAX",
        "ZDIFF 2 k k WITHSCORES",
        "ZREMRANGEBYRANK k i i",
        "SINTERCARD 2 k k",
        "SMISMEMBER k v v",
        "LMPOP 2 k k LEFT",
        "ZMPOP 2 k k MAX COUNT 2",
        "RPOPLPUSH k k",
        "EXPIRE k 0",
        "PEXPIREAT k 1",
        "EXPIRE k 100 NX",
        "EXPIRE k 50 GT",
        "EXPIRE k 200 LT",
        "PTTL k",
        "SETEX k 100 v",
        "GETEX k PERSIST",
        "GETEX k EX 100",
        "SET k v KEEPTTL GET",
        "OBJECT ENCODING k",
        "SCAN 0",
        "KEYS *",
        "DBSIZE",
        "MULTI",
        "EXEC",
        "DISCARD",
    ]);
    (template, prop::collection::vec((key, field, value, index), 4)).prop_map(|(t, picks)| {
        let (mut k, mut f, mut v, mut i) = (0, 0, 0, 0);
        t.split(' ')
            .map(|word| match word {
                "k" => {
                    k += 1;
                    picks[(k - 1) % 4].0.to_owned()
                }
                "f" => {
                    f += 1;
                    picks[(f - 1) % 4].1.to_owned()
                }
                "v" => {
                    v += 1;
                    picks[(v - 1) % 4].2.to_owned()
                }
                "i" => {
                    i += 1;
                    picks[(i - 1) % 4].3.to_owned()
                }
                script if script.starts_with('S') && script.len() == 2 => {
                    SCRIPTS[script_index(script)].to_owned()
                }
                "L1" => LIBRARY.to_owned(),
                sha if sha.starts_with('H') && sha.len() == 2 => {
                    sha1_smol::Sha1::from(SCRIPTS[script_index(sha)])
                        .digest()
                        .to_string()
                }
                other => other.to_owned(),
            })
            .collect()
    })
}
