#!/usr/bin/env python3
"""Write the seed sessions of the server_session target into fuzz/corpus/server_session/.

Each file is three header bytes (where the fuzz target cuts the rest into chunks) and the bytes one client
sends: RESP requests (or inline ones), pipelined. Run from the fuzz/ directory: python3 seeds/make_server_session.py
"""
import hashlib
import os


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def inline(line):
    return line.encode() + b"\r\n"


SEEDS = {
    "set_get": [resp("SET", "k", "v"), resp("GET", "k"), resp("DEL", "k"), resp("GET", "k")],
    "inline": [inline("SET a 1"), inline("INCR a"), inline('SET b "x y\\n"'), inline("MGET a b c"), inline("PING")],
    "pipeline": [resp("RPUSH", "l", "a", "b", "c"), resp("LRANGE", "l", 0, -1), resp("LPOP", "l", 2),
                 resp("LLEN", "l"), resp("INCRBYFLOAT", "f", "1.5"), resp("APPEND", "s", "xyz"),
                 resp("GETRANGE", "s", 0, -1), resp("SETRANGE", "s", 10, "q"), resp("STRLEN", "s")],
    "multi_exec": [resp("MULTI"), resp("SET", "a", 1), resp("INCR", "a"), resp("LPUSH", "a", "x"), resp("EXEC"),
                   resp("WATCH", "a"), resp("MULTI"), resp("GET", "a"), resp("EXEC")],
    "multi_error": [resp("MULTI"), resp("SET", "a"), resp("NOSUCH"), resp("EXEC"), resp("DISCARD"),
                    resp("EXEC"), resp("MULTI"), resp("MULTI")],
    "eval": [resp("EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", 1, "k", "v"),
             resp("EVAL", "return {redis.call('GET', KEYS[1]), 1, 'x', {2, 3}}", 1, "k"),
             resp("EVAL", "return redis.pcall('INCR', KEYS[1])", 1, "k"),
             resp("EVAL", "return redis.error_reply('boom')", 0),
             resp("EVAL", "return redis.status_reply('fine')", 0)],
    "eval_error": [resp("EVAL", "error('x')", 0), resp("EVAL", "return 1 +", 0),
                   resp("EVAL", "redis.call('NOSUCH')", 0), resp("EVAL", "return redis.call()", 0),
                   resp("EVALSHA", "0000000000000000000000000000000000000000", 0)],
    "script_load": [resp("SCRIPT", "LOAD", "return ARGV[1]"),
                    resp("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", 0, "x"),
                    resp("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"), resp("SCRIPT", "FLUSH")],
    "cjson": [resp("EVAL", "return cjson.encode({a=1, b={1,2,3}, c='x'})", 0),
              resp("EVAL", "return cjson.decode(ARGV[1]).a", 0, '{"a": "q", "b": [1, 2.5, null]}'),
              resp("EVAL", "return cjson.decode(ARGV[1])", 0, "[[[[[[1]]]]]]"),
              resp("EVAL", "return cjson.decode(ARGV[1])", 0, '{"a":')],
    "cmsgpack": [resp("EVAL", "return cmsgpack.pack({1, 2, 'x', {a=1}})", 0),
                 resp("EVAL", "return cmsgpack.unpack(cmsgpack.pack(1, 'two', 3.5))", 0),
                 resp("EVAL", "return cmsgpack.unpack(ARGV[1])", 0, b"\xdd\xff\xff\xff\xff"),
                 resp("EVAL", "return bit.band(7, 3) .. struct.pack('>I', 5)", 0)],
    "lua_loop": [resp("EVAL", "local n = 0 for i = 1, 100000 do n = n + i end return n", 0), resp("PING")],
    "lua_forever": [resp("EVAL", "while true do end", 0), resp("PING")],
    "function": [resp("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function(k, a) return a[1] end)"),
                 resp("FCALL", "f", 0, "hello"), resp("FUNCTION", "LIST"), resp("FUNCTION", "DELETE", "lib"),
                 resp("FCALL", "f", 0)],
    "subscribe": [resp("SUBSCRIBE", "c1", "c2"), resp("PSUBSCRIBE", "c*"), resp("PING"), resp("GET", "x"),
                  resp("UNSUBSCRIBE"), resp("PUNSUBSCRIBE"), resp("PUBLISH", "c1", "m")],
    "subscribe_resp3": [resp("HELLO", 3), resp("SUBSCRIBE", "c"), resp("PUBLISH", "c", "hi"), resp("GET", "x"),
                        resp("SSUBSCRIBE", "s"), resp("SPUBLISH", "s", "m"), resp("PUBSUB", "CHANNELS")],
    "blpop": [resp("BLPOP", "q", "0.05"), resp("RPUSH", "q", "x"), resp("BLPOP", "q", 1), resp("BRPOPLPUSH", "q", "r", "0.01"),
              resp("BLMOVE", "q", "r", "LEFT", "RIGHT", "0.01"), resp("BZPOPMIN", "z", "0.01")],
    "blpop_forever": [resp("BLPOP", "never", 0), resp("PING")],
    "multi_blpop": [resp("MULTI"), resp("BLPOP", "q", 0), resp("EXEC")],
    "hello3": [resp("HELLO", 3, "SETNAME", "me"), resp("HSET", "h", "a", 1, "b", 2), resp("HGETALL", "h"),
               resp("ZADD", "z", 1, "a", "2.5", "b"), resp("ZRANGE", "z", 0, -1, "WITHSCORES"),
               resp("SADD", "s", 1, 2), resp("SMEMBERS", "s"), resp("CLIENT", "INFO"), resp("HELLO", 2)],
    "tracking": [resp("HELLO", 3), resp("CLIENT", "TRACKING", "ON"), resp("GET", "k"), resp("SET", "k", 1),
                 resp("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a"), resp("SET", "ab", 1),
                 resp("CLIENT", "CACHING", "yes"), resp("CLIENT", "GETREDIR"), resp("CLIENT", "TRACKINGINFO")],
    "tracking_resp2": [resp("CLIENT", "TRACKING", "ON", "REDIRECT", 1), resp("CLIENT", "ID"),
                       resp("CLIENT", "TRACKING", "ON", "OPTIN"), resp("CLIENT", "TRACKING", "OFF")],
    "streams": [resp("XADD", "s", "*", "f", "v"), resp("XADD", "s", "MAXLEN", "~", 10, "*", "f", "w"),
                resp("XGROUP", "CREATE", "s", "g", "0"), resp("XREADGROUP", "GROUP", "g", "c", "COUNT", 10, "STREAMS", "s", ">"),
                resp("XPENDING", "s", "g"), resp("XACK", "s", "g", "0-1"), resp("XAUTOCLAIM", "s", "g", "c2", 0, "0"),
                resp("XINFO", "STREAM", "s"), resp("XRANGE", "s", "-", "+"), resp("XTRIM", "s", "MINID", 0)],
    "xread_block": [resp("XREAD", "BLOCK", 10, "STREAMS", "s", "$"),
                    resp("XREADGROUP", "GROUP", "g", "c", "BLOCK", 10, "STREAMS", "s", ">"), resp("PING")],
    "sort": [resp("RPUSH", "l", 3, 1, 2), resp("SET", "w_1", 10), resp("SET", "w_2", 5), resp("SORT", "l"),
             resp("SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*", "DESC", "LIMIT", 0, 2),
             resp("SORT", "l", "ALPHA", "STORE", "d"), resp("SORT_RO", "l", "BY", "nosort")],
    "lcs": [resp("MSET", "a", "ohmytext", "b", "mynewtext"), resp("LCS", "a", "b"), resp("LCS", "a", "b", "LEN"),
            resp("LCS", "a", "b", "IDX", "MINMATCHLEN", 2, "WITHMATCHLEN")],
    "zsets": [resp("ZADD", "z", "NX", "inf", "a", "-inf", "b", 0, "c"), resp("ZRANGEBYSCORE", "z", "(0", "+inf", "LIMIT", 0, 1),
              resp("ZRANGEBYLEX", "z", "[a", "(c"), resp("ZINCRBY", "z", "nan", "a"), resp("ZUNIONSTORE", "u", 2, "z", "z", "WEIGHTS", 2, 3),
              resp("ZRANDMEMBER", "z", -5, "WITHSCORES"), resp("ZSCAN", "z", 0, "MATCH", "*")],
    "keys": [resp("MSET", "a1", 1, "a2", 2, "b", 3), resp("KEYS", "a[0-9]"), resp("SCAN", 0, "MATCH", "*", "COUNT", 1),
             resp("EXPIRE", "a1", 100), resp("TTL", "a1"), resp("PERSIST", "a1"), resp("RENAME", "a1", "c"),
             resp("COPY", "c", "d"), resp("TYPE", "d"), resp("OBJECT", "ENCODING", "d"), resp("SELECT", 3), resp("SWAPDB", 0, 3)],
    "bits_hll_geo": [resp("SETBIT", "b", 100, 1), resp("BITCOUNT", "b"), resp("BITPOS", "b", 1),
                     resp("BITFIELD", "b", "INCRBY", "i5", 100, 1, "GET", "u4", 0), resp("BITOP", "NOT", "d", "b"),
                     resp("PFADD", "h", "a", "b"), resp("PFCOUNT", "h"), resp("GEOADD", "g", "13.36", "38.11", "p"),
                     resp("GEOSEARCH", "g", "FROMLONLAT", 15, 37, "BYRADIUS", 200, "km", "ASC")],
    "config_client": [resp("CONFIG", "GET", "*"), resp("CONFIG", "SET", "maxmemory", "1mb"), resp("CLIENT", "LIST"),
                      resp("CLIENT", "SETNAME", "x"), resp("CLIENT", "NO-EVICT", "on"), resp("INFO"), resp("DBSIZE"),
                      resp("COMMAND", "COUNT"), resp("COMMAND", "INFO", "get"), resp("TIME"), resp("FLUSHALL")],
    "auth": [resp("AUTH", "nopass"), resp("CONFIG", "SET", "requirepass", "pw"), resp("AUTH", "pw"),
             resp("HELLO", 3, "AUTH", "default", "pw"), resp("ACL", "WHOAMI")],
    "quit": [resp("SET", "a", 1), resp("QUIT"), resp("GET", "a")],
    "shutdown": [resp("SET", "a", 1), resp("SHUTDOWN", "NOSAVE"), resp("GET", "a")],
    "bad_multibulk": [b"*99999999999\r\n"],
    "bad_bulk": [b"*1\r\n$99999999999\r\n"],
    "bad_type": [b"*1\r\n:5\r\n"],
    "bad_quotes": [b'SET a "unbalanced\r\n'],
    "bad_negative": [b"*-1\r\n*0\r\n*2\r\n$-1\r\n"],
    "partial": [resp("SET", "k", "v")[:-5]],
    "big_bulk": [b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$20000\r\n" + b"x" * 20000 + b"\r\n", resp("STRLEN", "k")],
    "numbers": [resp("INCRBY", "n", "9223372036854775807"), resp("INCR", "n"), resp("DECRBY", "m", "-9223372036854775808"),
                resp("INCRBYFLOAT", "f", "1e308"), resp("INCRBYFLOAT", "f", "1e308"), resp("SETRANGE", "s", "-1", "x"),
                resp("LRANGE", "l", "-9223372036854775808", "9223372036854775807"), resp("EXPIRE", "n", "9223372036854775807")],
}

HEADERS = [b"\x00\x00\x00", b"\x40\x80\xc0", b"\x10\x11\x12", b"\xff\x01\x7f"]


def main():
    out = os.path.join(os.path.dirname(__file__), "..", "corpus", "server_session")
    os.makedirs(out, exist_ok=True)
    for i, (name, parts) in enumerate(sorted(SEEDS.items())):
        data = HEADERS[i % len(HEADERS)] + b"".join(parts)
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
