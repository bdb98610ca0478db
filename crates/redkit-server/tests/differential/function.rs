//! Functions: `FUNCTION LOAD`/`LIST`/`DELETE`/`FLUSH`/`STATS` and `FCALL`/`FCALL_RO`.

use crate::harness::*;

/// FUNCTION LOAD/LIST/DELETE/FLUSH/STATS and FCALL/FCALL_RO: libraries, registration forms and their errors,
/// flags, and errors raised by functions — reply for reply.
#[tokio::test]
async fn functions_agree_with_redis() {
    let lib = |name: &str, body: &str| format!("#!lua name={name}\n{body}");
    let load = |code: String| vec!["FUNCTION".to_owned(), "LOAD".to_owned(), code];
    let replace = |code: String| {
        vec![
            "FUNCTION".to_owned(),
            "LOAD".to_owned(),
            "REPLACE".to_owned(),
            code,
        ]
    };
    let cmd = |text: &str| text.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let commands = vec![
        cmd("FUNCTION FLUSH"),
        load(lib(
            "mylib",
            "redis.register_function('echo', function(keys, args) return args[1] end)\n\
             redis.register_function{function_name='get', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads a key'}\n\
             redis.register_function('put', function(keys, args) return redis.call('set', keys[1], args[1]) end)",
        )),
        cmd("FCALL echo 0 hello"),
        cmd("FCALL put 1 k v"),
        cmd("FCALL get 1 k"),
        cmd("FCALL_RO get 1 k"),
        cmd("FCALL_RO put 1 k v"),
        cmd("FCALL_RO echo 0 x"),
        cmd("FCALL nosuch 0"),
        cmd("FCALL echo -1"),
        cmd("FCALL echo 5 a"),
        cmd("FUNCTION LIST"),
        cmd("FUNCTION LIST WITHCODE"),
        cmd("FUNCTION LIST LIBRARYNAME my*"),
        cmd("FUNCTION LIST LIBRARYNAME nomatch"),
        cmd("FUNCTION STATS"),
        load(lib(
            "mylib",
            "redis.register_function('x', function() return 1 end)",
        )),
        load(lib(
            "other",
            "redis.register_function('echo', function() return 1 end)",
        )),
        replace(lib(
            "mylib",
            "redis.register_function('echo', function() return 2 end)",
        )),
        cmd("FCALL echo 0"),
        cmd("FCALL put 1 k v"),
        load(lib(
            "twice",
            "redis.register_function('t', function() return 1 end)\nredis.register_function('t', function() return 2 end)",
        )),
        load(lib(
            "badfn",
            "redis.register_function('bad-name', function() return 1 end)",
        )),
        load(lib("notfn", "redis.register_function('g', 5)")),
        load(lib(
            "flags",
            "redis.register_function{function_name='h', callback=function() return 1 end, flags={'bogus'}}",
        )),
        load(lib(
            "named",
            "redis.register_function{function_name='h', callback=function() return 1 end, foo=1}",
        )),
        load(lib("single", "redis.register_function('x')")),
        load(lib("none", "return 1")),
        load(lib("loadcall", "redis.call('set', 'a', 'b')")),
        load(lib("loaderr", "error('boom')")),
        load(lib("syntax", "local x = ")),
        load(lib(
            "bad-lib",
            "redis.register_function('x', function() return 1 end)",
        )),
        load("#!lua".to_owned()),
        load("#!nosuch name=x\nreturn 1".to_owned()),
        load("#!lua name=meta foo=bar\nreturn 1".to_owned()),
        load("no shebang".to_owned()),
        load(lib(
            "ro",
            "redis.register_function{function_name='ro', callback=function(keys) return redis.call('set', keys[1], '1') end, flags={'no-writes'}}",
        )),
        cmd("FCALL ro 1 k"),
        load(lib(
            "errs",
            "redis.register_function('boom', function() error('boom') end)\n\
             redis.register_function('unknown', function() return redis.call('nosuch') end)\n\
             redis.register_function('wrongtype', function(keys) redis.call('lpush', keys[1], 'x') end)\n\
             redis.register_function('tbl', function(keys, args) return {1, 'two', {ok='fine'}, false, 3.9} end)",
        )),
        cmd("FCALL boom 0"),
        cmd("FCALL unknown 0"),
        cmd("FCALL wrongtype 1 k"),
        cmd("FCALL tbl 0"),
        cmd("FUNCTION DELETE ro"),
        cmd("FUNCTION DELETE ro"),
        cmd("FUNCTION STATS"),
        cmd("FUNCTION KILL"),
        cmd("FUNCTION FOO"),
        cmd("FUNCTION FLUSH BOGUS"),
        cmd("SCRIPT FLUSH"),
        cmd("FCALL echo 0"),
        cmd("FUNCTION FLUSH"),
        cmd("FUNCTION LIST"),
        cmd("FCALL echo 0"),
    ];
    run_commands(&commands).await;
}
