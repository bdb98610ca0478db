//! Lua scripting: `EVAL`/`EVALSHA`/`SCRIPT`, the sandbox and Redis's Lua libraries, replies nested past the
//! converter's limit, and long scripts (`BUSY`, `SCRIPT KILL`).

use crate::harness::*;

#[tokio::test]
async fn scripting_agrees_with_redis() {
    let scripts: &[&str] = &[
        "return 1",
        "return 'hello'",
        "return 3.99",
        "return -3.99",
        "return true",
        "return false",
        "return nil",
        "return {1, 2, {3, 'x'}, nil, 5}",
        "return {ok='FINE'}",
        "return {err='MYERR custom'}",
        "return redis.status_reply('DONE')",
        "return redis.error_reply('ERR oops')",
        "return redis.sha1hex('abc')",
        "return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}",
        "return redis.call('SET', KEYS[1], ARGV[1])",
        "return redis.call('GET', KEYS[1])",
        "return redis.call('GET', 'missing')",
        "return redis.call('INCRBY', 'n', 10)",
        "return redis.call('HSET', 'h', 'a', 1, 'b', 2.5)",
        // Hash order is the server's own: sort it.
        "local t = redis.call('HGETALL', 'h') table.sort(t) return t",
        "return redis.call('ZADD', 'z', 1.5, 'm')",
        "return redis.call('ZRANGE', 'z', 0, -1, 'WITHSCORES')",
        "return redis.call('ZSCORE', 'z', 'm')",
        "return redis.pcall('INCR', 'h')",
        "return type(redis.pcall('INCR', 'h'))",
        "redis.call('SET', 'x', 1) return redis.call('GET', 'x')",
        "return redis.call('EXISTS', 'x', 'y', 'h')",
        "local t = redis.call('LRANGE', 'nolist', 0, -1) return #t",
        "return redis.call('TYPE', 'h')",
        "return redis.call('PING')",
    ];
    let mut commands: Vec<Vec<String>> = Vec::new();
    for body in scripts {
        commands.push(
            ["EVAL", body, "2", "k", "other", "v1", "v2"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        );
    }
    let more: &[&[&str]] = &[
        &["SCRIPT", "LOAD", "return ARGV[1]"],
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "0000",
        ],
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0", "hi"],
        &["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0", "hi"],
        &[
            "EVALSHA_RO",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "0",
            "ro",
        ],
        &["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
        &["EVAL", "return 1", "-1"],
        &["EVAL", "return 1", "3", "a"],
        &["EVAL", "return 1", "x"],
        &["EVAL_RO", "return redis.call('GET', 'k')", "1", "k"],
        &["SCRIPT", "FLUSH"],
        &["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"],
        &["SCRIPT", "FLUSH", "ASYNC"],
        &["SCRIPT", "FLUSH", "FOO"],
        &["SCRIPT", "KILL"],
        &["EVAL", "return redis.call('INCR', 'h')", "0"],
        &["EVAL", "return nosuch", "0"],
        &["EVAL", "x = 1", "0"],
        &["EVAL", "return (", "0"],
        &["EVAL", "error('boom')", "0"],
        &["EVAL", "return redis.call('NOSUCHCOMMAND')", "0"],
        &["EVAL", "return redis.call('MULTI')", "0"],
        &["EVAL", "return redis.call()", "0"],
        &["EVAL", "return redis.call('GET', {})", "0"],
        &["EVAL_RO", "return redis.call('SET', 'k', 1)", "0"],
        &["SCRIPT", "LOAD", "return ("],
        &["SCRIPT", "FOO"],
    ];
    commands.extend(more.iter().map(|c| c.iter().map(|s| (*s).to_owned()).collect()));
    run_commands(&commands).await;
}

/// The Lua sandbox and Redis's Lua libraries (`cjson`, `cmsgpack`, `bit`, `struct`): results, number formatting
/// and error texts, hostile inputs included.
#[tokio::test]
async fn lua_libraries_and_sandbox_agree_with_redis() {
    let hex = "local function hex(s) return (string.gsub(s, '.', function(c) return string.format('%02x', c:byte()) end)) end ";
    let scripts: Vec<String> = [
        // The globals Redis leaves, and those it takes away.
        "local r = {} for _, n in ipairs({'dofile', 'loadfile', 'print', 'getfenv', 'setfenv', 'newproxy', 'module', 'require', 'io', 'os', 'package', 'debug'}) do r[#r + 1] = type(rawget(_G, n)) end return r",
        "local r = {} for _, n in ipairs({'assert', 'collectgarbage', 'coroutine', 'error', 'gcinfo', 'getmetatable', 'ipairs', 'load', 'loadstring', 'next', 'pairs', 'pcall', 'rawequal', 'rawget', 'rawset', 'select', 'setmetatable', 'tonumber', 'tostring', 'type', 'unpack', 'xpcall', 'bit', 'cjson', 'cmsgpack', 'struct', 'math', 'string', 'table'}) do r[#r + 1] = type(rawget(_G, n)) end return r",
        "return io.popen('id'):read('*a')",
        "return os.execute('id')",
        "return require('io')",
        "return _VERSION",
        "return type(string.dump)",
        // Read-only tables.
        "x = 1",
        "rawset(_G, 'x', 1) return 1",
        "setmetatable(_G, nil) return 1",
        "getmetatable(_G).__index = nil return 1",
        "getmetatable('').__index = {} return 1",
        "getmetatable('').__index.upper = nil return 1",
        "string.upper = nil return 1",
        "cjson.encode = nil return 1",
        "redis.call = nil return 1",
        "return ('abc'):upper()",
        "local t = setmetatable({}, {__index = function(t, k) return k .. '!' end}) return t.x",
        // Precompiled chunks (CVE-2015-4335).
        "local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), e}",
        "local f, e = loadstring('\\27Lua') return {tostring(f), e}",
        "local i = 0 local f, e = load(function() i = i + 1 if i == 1 then return '\\27Lua' end return nil end) return {tostring(f), e}",
        "return loadstring('return 5')()",
        "local f = load(string.dump(function() return 1 end)) return f",
        // Runaway scripts.
        "local function f(n) return 1 + f(n) end return f(1)",
        "return unpack({}, 1, 1e8)",
        "return #string.rep('x', 2^31)",
        // Replies.
        "return {double = 3.5}",
        "return {map = {a = 1}}",
        "return {set = {a = true}}",
        "return {err = 5}",
        "return 1.9e30",
        "return -0.5",
        "return cmsgpack.unpack('\\203\\127\\248\\0\\0\\0\\0\\0\\0')",
        "local t = {} local c = t for i = 1, 100 do c[1] = {} c = c[1] end c[1] = 'deep' return t",
        // cjson.
        "return {cjson._NAME, cjson._VERSION, cjson.decode_max_depth(), cjson.encode_max_depth(), tostring(cjson.null), cjson.encode_number_precision(), tostring(cjson.encode_keep_buffer()), cjson.encode_invalid_numbers(), tostring(cjson.decode_invalid_numbers())}",
        "return cjson.decode(string.rep('[', 100000))",
        "return cjson.encode(cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)))",
        "local t = {} t[1] = t return cjson.encode(t)",
        "return cjson.encode({1, 2, 3, nil, 5})",
        "return cjson.encode({[1] = 1, [20] = 2})",
        "return cjson.encode({})",
        "return cjson.encode({a = 'x/y', b = 1/3, c = 1e300, d = -0.0, e = 100000000000000, f = 12345678901234567})",
        "return cjson.encode({1, 'two', {three = 3}, true, false, cjson.null})",
        "return cjson.encode(0/0)",
        "return cjson.encode(function() end)",
        "return cjson.encode({[true] = 1})",
        "return cjson.encode(cjson.null)",
        "return cjson.encode('\\1\\127\\128\"\\\\\\n\\t')",
        "return {cjson.decode('[1,2]')[2], cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"'), tostring(cjson.decode('null')), cjson.decode(' 0x10 '), tostring(cjson.decode('-Infinity'))}",
        "local t = cjson.decode('{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}') return {t.a[1], t.a[3].b == cjson.null, t.c}",
        "return cjson.decode('{\"a\":1,}')",
        "return cjson.decode('[1] x')",
        "return cjson.decode('\"abc')",
        "return cjson.decode('\"\\\\q\"')",
        "return cjson.decode('\"\\\\u12\"')",
        "return cjson.decode('{1:2}')",
        "return cjson.decode('')",
        "return cjson.decode('a\\0b')",
        "return cjson.decode('tru')",
        "return cjson.decode('01')",
        "return cjson.decode('[1,')",
        "return cjson.decode()",
        "return cjson.encode(1, 2)",
        "local ok, e = pcall(cjson.decode, '[1,') return e",
        "local d = cjson.decode return d()",
        "return cjson.encode_number_precision(15)",
        "local a, b, c = cjson.encode_sparse_array() return {tostring(a), b, c}",
        // cmsgpack.
        "return cmsgpack.unpack(string.rep('\\145', 10000))",
        "return cmsgpack.unpack('\\221\\255\\255\\255\\255')",
        "return cmsgpack.unpack('\\219\\255\\255\\255\\255abc')",
        "return cmsgpack.unpack('\\223\\255\\255\\255\\255')",
        "return cmsgpack.unpack('\\193')",
        "return cmsgpack.unpack('\\196\\2ab')",
        "return cmsgpack.pack()",
        "return cmsgpack.unpack()",
        "return cmsgpack.unpack('')",
        "return {cmsgpack.unpack('\\129\\192\\1')}",
        "local t = {} t[1] = t return HEX(cmsgpack.pack(t))",
        "return HEX(cmsgpack.pack({1, 2, {a = 1}}, 1.5, 0.1, -1, -33, 300, 2^40, -2^40, 'x', true, nil, function() end))",
        "return HEX(cmsgpack.pack(string.rep('a', 40), string.rep('b', 300), {a = 1, b = 2}, {}))",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 99)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}",
        "local t = cmsgpack.unpack(cmsgpack.pack({a = {1, 2, 'x'}, b = -2^40, c = 0.25})) return {t.a[3], t.b, tostring(t.c)}",
        // bit.
        "return {bit.tobit(2^32 + 5), bit.tohex(-1), bit.tohex(255, -4), bit.bor(1, 2, 4), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(1, 33), bit.bswap(0x12345678), bit.tobit(1.5), bit.tobit(2.5), bit.tobit('7'), bit.bnot(0), bit.ror(1, 1), bit.bxor(5, 3), bit.band(0xff, 0x0f, 0x3)}",
        "return bit.tohex(1, 100)",
        "return bit.band()",
        "return bit.band(1, 2, 'x', 'y')",
        "return bit.band('a')",
        // struct.
        "return {struct.size('!8bd'), struct.size('bd'), struct.size('i16'), struct.size('<>!  '), struct.size('z')}",
        "return struct.size('s')",
        "return struct.size('c0')",
        "return struct.pack('z')",
        "return struct.pack('!3i')",
        "return struct.pack('i33')",
        "return struct.pack('i99999999999', 1)",
        "return struct.pack('c5', 'ab')",
        "return struct.pack('>i', 'x')",
        "return {struct.unpack('>i2', '\\255\\254')}",
        "return {struct.unpack('c0', '\\3abc')}",
        "return {struct.unpack('bc0', '\\3abc')}",
        "return {struct.unpack('s', 'abc')}",
        "return {struct.unpack('i', 'ab')}",
        "return {struct.unpack('b', 'ab', 0)}",
        "return {struct.unpack('b', 'ab', 3)}",
        "return {struct.unpack('>d', struct.pack('>d', 1.5))}",
        "return HEX(struct.pack('>!4bi<hs', 1, 2, 3, 'xy'))",
        "return {struct.unpack('<I', struct.pack('<i', -1))}",
        "return {struct.unpack('>!4bi<hs', struct.pack('>!4bi<hs', 1, 2, 3, 'xy'))}",
    ]
    .iter()
    .map(|s| s.replace("HEX(", &format!("{hex} return hex(")).replacen(&format!("return {hex} return"), &format!("{hex} return"), 1))
    .collect();
    let mut commands: Vec<Vec<String>> = scripts
        .iter()
        .map(|body| vec!["EVAL".to_owned(), body.clone(), "0".to_owned()])
        .collect();
    // A precompiled chunk given to EVAL or SCRIPT LOAD is refused the same way; and the engine survives all this.
    commands.push(vec!["EVAL".into(), "\x1bLuaQ\x00return 1".into(), "0".into()]);
    commands.push(vec!["SCRIPT".into(), "LOAD".into(), "\x1bLua".into()]);
    commands.push(vec!["EVAL".into(), "return 'still here'".into(), "0".into()]);
    run_commands(&commands).await;
}

/// A reply nested past the converter's limit: arrays, then Redis's `reached lua stack limit` error in place of the
/// value (Redis nests 7995 arrays, the embedded server 1000), not a crashed server.
#[tokio::test]
async fn cyclic_script_replies_agree_with_redis() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some((real, mock)) = servers().await else {
        return;
    };
    async fn reply(addr: std::net::SocketAddr, body: &str) -> Vec<u8> {
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let cmd = format!(
            "*3\r\n$4\r\nEVAL\r\n${}\r\n{body}\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n",
            body.len()
        );
        conn.write_all(cmd.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        while !out.ends_with(b"+PONG\r\n") {
            let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf))
                .await
                .expect("a reply within 10 s")
                .unwrap();
            assert!(n > 0, "connection closed");
            out.extend_from_slice(&buf[..n]);
        }
        out
    }
    let real_addr = std::net::SocketAddr::from(([127, 0, 0, 1], real.port()));
    for body in [
        "local t = {} t[1] = t return t",
        "local t = {} t[1] = 1 t[2] = t return t",
    ] {
        let expected = reply(real_addr, body).await;
        let got = reply(mock.addr(), body).await;
        // The same frames once the nesting is cut to the embedded server's depth.
        let cut = |frames: &[u8], depth: usize| -> Vec<u8> {
            let text = String::from_utf8_lossy(frames).into_owned();
            let lines: Vec<&str> = text.split_inclusive("\r\n").collect();
            let mut out = String::new();
            let mut arrays = 0;
            for line in &lines {
                if line.starts_with('*') {
                    arrays += 1;
                    if arrays > depth {
                        continue;
                    }
                } else if arrays >= depth && !line.starts_with('-') && !line.starts_with('+') {
                    continue;
                }
                out.push_str(line);
            }
            out.into_bytes()
        };
        let expected = cut(&expected, 1000);
        let got = cut(&got, 1000);
        assert!(
            expected == got,
            "{body}: redis-server sent {} bytes ending {:?}, redkit-server {} bytes ending {:?}",
            expected.len(),
            String::from_utf8_lossy(&expected[expected.len().saturating_sub(60)..]),
            got.len(),
            String::from_utf8_lossy(&got[got.len().saturating_sub(60)..]),
        );
    }
}

/// Wait (bounded) until a script has run past the time limit: PING is answered BUSY. On a loaded machine the
/// script may start late, so the exchange compared below begins only then.
async fn until_busy(c: &mut Connection) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Value::Error(e) = Pair::raw(c, &["PING"]).await
            && e.starts_with(b"BUSY")
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no script became busy within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One client runs a long script while another talks to the server: what each is told, in order.
async fn busy_scenario(url: &str) -> Vec<Value> {
    let connect = || async {
        let mut c = Config::from_url(url).unwrap();
        c.request_timeout = Some(Duration::from_secs(20));
        Connection::connect(&c).await.unwrap()
    };
    let (mut a, mut b) = (connect().await, connect().await);
    let mut seen = Vec::new();
    let say = async |c: &mut Connection, args: &[&str]| Pair::raw(c, args).await;
    seen.push(say(&mut b, &["CONFIG", "SET", "busy-reply-threshold", "100"]).await);
    // A read-only script that would run forever: killed.
    let forever = "local i = 0 while true do i = i + 1 end";
    let running = tokio::spawn(async move {
        let reply = Pair::raw(&mut a, &["EVAL", forever, "0"]).await;
        (a, reply)
    });
    until_busy(&mut b).await;
    seen.push(say(&mut b, &["GET", "x"]).await);
    seen.push(say(&mut b, &["PING"]).await);
    seen.push(say(&mut b, &["SCRIPT", "KILL"]).await);
    let (mut a, reply) = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .unwrap()
        .unwrap();
    seen.push(reply);
    seen.push(say(&mut b, &["PING"]).await);
    // One that wrote cannot be killed; it runs to its end (1.5 s).
    let wrote = "redis.call('set', 'busy', '1') \
        local function now() local t = redis.call('time') return t[1] * 1000 + t[2] / 1000 end \
        local start = now() while now() < start + 1500 do end return 7";
    let running = tokio::spawn(async move { Pair::raw(&mut a, &["EVAL", wrote, "0"]).await });
    until_busy(&mut b).await;
    seen.push(say(&mut b, &["SCRIPT", "KILL"]).await);
    seen.push(say(&mut b, &["GET", "busy"]).await);
    seen.push(
        tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .unwrap()
            .unwrap(),
    );
    seen.push(say(&mut b, &["GET", "busy"]).await);
    seen.push(say(&mut b, &["SCRIPT", "KILL"]).await);
    seen.push(say(&mut b, &["DEL", "busy"]).await);
    seen.push(say(&mut b, &["CONFIG", "SET", "busy-reply-threshold", "5000"]).await);
    seen
}

/// Past `busy-reply-threshold` other clients are answered BUSY; SCRIPT KILL stops a script that has not written
/// (its caller gets Redis's error) and answers UNKILLABLE for one that has — the same, reply for reply, as Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_scripts_answer_busy_and_script_kill_stops_them() {
    let Some(real) = RedisServer::start_or_skip() else {
        return;
    };
    let mock = TcpServer::start().await.unwrap();
    let expected = busy_scenario(&real.url()).await;
    let got = busy_scenario(&mock.url()).await;
    let busy = Value::error(
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
    );
    assert_eq!(expected[1], busy, "{expected:?}");
    assert_eq!(expected[3], Value::simple("OK"), "{expected:?}");
    assert_eq!(got, expected);
}
