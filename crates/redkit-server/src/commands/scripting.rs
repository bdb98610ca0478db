//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD/EXISTS/FLUSH/KILL — a real Lua 5.1 (`mlua`,
//! vendored) with Redis's `redis` table and its Lua↔reply conversions.
//!
//! A script runs under the server lock, so no other command interleaves (atomic, as in Redis). Inside it,
//! `redis.call` and `redis.pcall` run commands through the same dispatch as clients do; replies reach Lua in
//! their RESP2 shapes (integers as numbers, bulk strings as strings, nulls as `false`, status and error replies
//! as `{ok=…}` / `{err=…}` tables) and the script's result goes back the other way (numbers truncated to
//! integers, `false` to null, tables to arrays up to the first nil). Globals are protected as in Redis: a script
//! cannot create or read undefined globals.
//!
//! **Sandbox.** The state holds what Redis 7.0's does (`crate::lua`): Lua's base, `table`, `string`, `math` and
//! `coroutine`, without `dofile`, `loadfile`, `print`, `getfenv`, `setfenv`, `newproxy` (and no `io`, `os`,
//! `package`, `require`, `module`), plus Redis's `cjson`, `cmsgpack`, `bit` and `struct`. The globals, the library
//! tables and the string metatable are read-only ("Attempt to modify a readonly table", also for
//! `setmetatable(_G, …)` and `rawset(_G, …)`). `loadstring`/`load` refuse precompiled chunks as Redis's Lua does
//! (CVE-2015-4335: parsed as text, `…:1: unexpected symbol near 'char(27)'`), and so do EVAL and SCRIPT LOAD. A
//! reply nested deeper than [`crate::lua::REPLY_DEPTH_LIMIT`] (1000 levels; Redis goes to 7995) ends in Redis's
//! `reached lua stack limit` error in place of the value instead of exhausting the stack, and a script's memory is bounded by [`crate::lua::MEMORY_LIMIT`] (256 MiB):
//! past it the script fails with `not enough memory` and the engine carries on.
//!
//! Deliberate differences from Redis: there is no `debug` library (Redis keeps `debug` out of scripts' reach too,
//! but its error handler uses it; loading it needs an unsafe `mlua` constructor, which this crate forbids), and so
//! no `__redis__err__handler` global; the library tables are read-only proxies, so `pairs(string)` and the like
//! find nothing (in Redis they iterate the library); Redis has no memory limit of its own; `math.random` is Lua's
//! own generator, not Redis's deterministic one; and `table.insert`/`table.remove`/`table.sort` on `_G` itself are
//! not refused.
//!
//! **Time limit.** A script runs to its end, however long (as in Redis). Once it has run longer than
//! `busy-reply-threshold` (`lua-time-limit`, 5 s by default), other connections are answered `BUSY` and SCRIPT KILL
//! stops it — unless it has already called a write command (`UNKILLABLE`). This works because the TCP server runs
//! a batch holding a script on a blocking thread and serves the other connections without waiting for the lock
//! (see `Server::try_execute_batch`); the script polls for a kill every thousand Lua instructions. In-process
//! callers ([`crate::Mock`]) simply wait for the script.
//!
//! FUNCTION and FCALL (`function.rs`) share this engine and these rules.
//!
//! The conversions between replies and Lua values, and the error replies of a failed script, are
//! `script_reply.rs`'s.
//!
//! Not here: `redis.setresp`, SHUTDOWN NOSAVE to end an unkillable script.

use bytes::Bytes;
use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use redkit_resp::command::CommandFlags;
use redkit_resp::{RespVersion, Value};

use super::Ctx;
use super::registry::Decl;
use super::script_reply::{
    Killed, RedisError, arg_bytes, compile_error, from_lua, reply_table, script_error, to_lua,
};
use super::{Reply, err, int, is, ok, parse_i64};
use crate::state::ScriptWatch;
use crate::state::scripts::Scripts;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("eval", eval).runs_script(),
    Decl::new("eval_ro", eval_ro).runs_script(),
    Decl::new("evalsha", evalsha).runs_script(),
    Decl::new("evalsha_ro", evalsha_ro).runs_script(),
    Decl::new("script", script),
];

/// What a script run executes, and how its errors name it.
pub(super) enum Body<'a> {
    /// EVAL: a chunk compiled now, given KEYS and ARGV as globals; errors end `script: <sha>, on @user_script:N.`
    Chunk { sha: &'a str, code: &'a [u8] },
    /// FCALL: a registered function, called with the keys and the arguments; errors end
    /// `script: <name>, on @user_function:N.`
    Function { name: &'a str, callback: mlua::Function },
}

/// A new engine: Redis 7.0's libraries and `redis.*` API in a Lua state with its memory limit, and the hook SCRIPT
/// KILL stops a script with.
fn start_engine(watch: &std::sync::Arc<ScriptWatch>) -> Result<Scripts, Value> {
    let start = |e: mlua::Error| err(&format!("ERR cannot start the Lua engine: {e}"));
    let lua = Lua::new_with(
        mlua::StdLib::TABLE | mlua::StdLib::STRING | mlua::StdLib::MATH,
        mlua::LuaOptions::default(),
    )
    .map_err(start)?;
    crate::lua::install(&lua).map_err(start)?;
    lua.set_memory_limit(crate::lua::MEMORY_LIMIT).map_err(start)?;
    // SCRIPT KILL sets the flag from another connection; the running script notices it here.
    let watch = watch.clone();
    lua.set_hook(
        mlua::HookTriggers::new().every_nth_instruction(1000),
        move |_, debug| {
            if watch.kill.load(std::sync::atomic::Ordering::SeqCst) {
                Err(mlua::Error::external(Killed {
                    line: debug.curr_line(),
                }))
            } else {
                Ok(mlua::VmState::Continue)
            }
        },
    );
    Ok(Scripts::new(lua))
}

fn sha1hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// Compile a script's body as Redis does: text only (a precompiled chunk is parsed as text, and fails there).
pub(super) fn compile(lua: &Lua, code: &[u8], name: &str) -> mlua::Result<mlua::Function> {
    if code.first() == Some(&0x1b) {
        let chunk = name.strip_prefix('@').unwrap_or(name);
        return Err(mlua::Error::SyntaxError {
            message: format!("{chunk}:1: unexpected symbol near 'char(27)'"),
            incomplete_input: false,
        });
    }
    lua.load(code)
        .set_name(name)
        .set_mode(mlua::ChunkMode::Text)
        .into_function()
}

/// Run one command from a script; an error reply is returned as `Err` (for `redis.call` to raise).
fn call_from_script(ctx: &mut Ctx<'_>, args: MultiValue, read_only: bool) -> Result<Value, String> {
    let mut cmd = Vec::with_capacity(args.len());
    for a in args.iter() {
        cmd.push(
            arg_bytes(a).ok_or_else(|| {
                "ERR Lua redis lib command arguments must be strings or integers".to_owned()
            })?,
        );
    }
    let Some(name) = cmd.first() else {
        return Err("ERR Please specify at least one argument for this redis lib call".into());
    };
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    let Some(spec) = ctx.registry.lookup(lower.as_bytes()) else {
        return Err("ERR Unknown Redis command called from script".into());
    };
    let flags = spec.info.flags;
    if flags.contains(CommandFlags::NOSCRIPT) {
        return Err("ERR This Redis command is not allowed from script".into());
    }
    let writes = flags.contains(CommandFlags::WRITE);
    if read_only && writes {
        return Err("ERR Write commands are not allowed from read-only scripts.".into());
    }
    if writes {
        // From here on SCRIPT KILL would leave a half-done script: it answers UNKILLABLE.
        ctx.state
            .watch
            .wrote
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    let reply = super::dispatch::dispatch(ctx, &cmd);
    match reply {
        Value::Error(e) => Err(String::from_utf8_lossy(&e).into_owned()),
        other => Ok(other),
    }
}

/// The engine, made on first use.
pub(super) fn engine<'a>(ctx: &'a mut Ctx<'_>) -> Result<&'a mut Scripts, Value> {
    if ctx.state.scripts().is_none() {
        let scripts = start_engine(&ctx.state.watch)?;
        ctx.state.install_scripts(scripts);
    }
    ctx.state
        .scripts_mut()
        .ok_or_else(|| err("ERR cannot start the Lua engine"))
}

fn run_script(
    ctx: &mut Ctx<'_>,
    sha: &str,
    body: &[u8],
    keys: &[Bytes],
    argv: &[Bytes],
    read_only: bool,
) -> Reply {
    run_body(
        ctx,
        |_| Ok(Body::Chunk { sha, code: body }),
        keys,
        argv,
        read_only,
    )
}

/// Run a script or function (chosen by `pick` from the engine) atomically, with the time-limit watch.
pub(super) fn run_body<'b>(
    ctx: &mut Ctx<'_>,
    pick: impl FnOnce(&Scripts) -> Result<Body<'b>, Value>,
    keys: &[Bytes],
    argv: &[Bytes],
    read_only: bool,
) -> Reply {
    let scripts = match ctx.state.take_scripts() {
        Some(s) => s,
        None => start_engine(&ctx.state.watch)?,
    };
    let body = match pick(&scripts) {
        Ok(body) => body,
        Err(e) => {
            ctx.state.install_scripts(scripts);
            return Err(e);
        }
    };
    // Commands inside a script never block (as in MULTI/EXEC), and reply in RESP2 shapes whatever the client
    // speaks (Redis's default for scripts).
    let (was_in_exec, protocol) = (ctx.session.in_exec(), ctx.session.protocol());
    ctx.session.set_in_exec(true);
    ctx.session.set_protocol(RespVersion::Resp2);
    let watch = ctx.state.watch.clone();
    watch.begin();
    let result = execute(scripts.lua(), ctx, body, keys, argv, read_only);
    watch.end();
    ctx.session.set_in_exec(was_in_exec);
    ctx.session.set_protocol(protocol);
    ctx.state.install_scripts(scripts);
    result
}

fn execute(
    lua: &Lua,
    ctx: &mut Ctx<'_>,
    body: Body<'_>,
    keys: &[Bytes],
    argv: &[Bytes],
    read_only: bool,
) -> Reply {
    let lua_err = |e: mlua::Error| err(&format!("ERR {e}"));
    let list = |items: &[Bytes]| -> mlua::Result<Table> {
        let t = lua.create_table()?;
        for (i, item) in items.iter().enumerate() {
            t.raw_set(i + 1, lua.create_string(item)?)?;
        }
        Ok(t)
    };
    let (keys, argv) = (list(keys).map_err(lua_err)?, list(argv).map_err(lua_err)?);
    crate::lua::clear_last_error(lua);
    let (function, name, chunk, call_args) = match body {
        Body::Chunk { sha, code } => {
            let function = compile(lua, code, "@user_script").map_err(|e| compile_error(&e))?;
            let globals = lua.globals();
            globals.raw_set("KEYS", keys).map_err(lua_err)?;
            globals.raw_set("ARGV", argv).map_err(lua_err)?;
            (function, sha, "user_script", None)
        }
        Body::Function { name, callback } => (callback, name, "user_function", Some((keys, argv))),
    };
    let ctx_cell = std::cell::RefCell::new(ctx);
    let outcome: mlua::Result<LuaValue> = lua.scope(|scope| {
        let redis = lua.create_table()?;
        redis.set(
            "call",
            scope.create_function(|lua, args: MultiValue| {
                let mut ctx = ctx_cell.borrow_mut();
                match call_from_script(&mut ctx, args, read_only) {
                    Ok(v) => to_lua(lua, &v),
                    Err(e) => {
                        // Where in the script the failing call is, for the error's suffix.
                        let line = lua.inspect_stack(1).map_or(0, |d| d.curr_line());
                        let t = reply_table(lua, "err", e)?;
                        t.set("line", line)?;
                        Err(mlua::Error::external(RedisError(t)))
                    }
                }
            })?,
        )?;
        redis.set(
            "pcall",
            scope.create_function(|lua, args: MultiValue| {
                let mut ctx = ctx_cell.borrow_mut();
                match call_from_script(&mut ctx, args, read_only) {
                    Ok(v) => to_lua(lua, &v),
                    Err(e) => Ok(LuaValue::Table(reply_table(lua, "err", e)?)),
                }
            })?,
        )?;
        redis.set(
            "error_reply",
            lua.create_function(|lua, msg: mlua::String| reply_table(lua, "err", msg))?,
        )?;
        redis.set(
            "status_reply",
            lua.create_function(|lua, msg: mlua::String| reply_table(lua, "ok", msg))?,
        )?;
        redis.set(
            "sha1hex",
            lua.create_function(|_, s: mlua::String| Ok(sha1hex(&s.as_bytes())))?,
        )?;
        redis.set("log", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
        for (i, level) in ["LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"]
            .iter()
            .enumerate()
        {
            redis.set(*level, i)?;
        }
        let readonly: mlua::Function = lua.named_registry_value(crate::lua::READONLY_KEY)?;
        let redis: Table = readonly.call(redis)?;
        lua.globals().raw_set("redis", redis)?;
        match call_args {
            Some(args) => function.call::<LuaValue>(args),
            None => function.call::<LuaValue>(()),
        }
    });
    let _ = lua.globals().raw_set("redis", LuaValue::Nil);
    let reply = outcome.and_then(|v| from_lua(lua, v));
    // A script that filled the heap leaves its garbage behind: collect it now, so the next one starts afresh.
    if reply.is_err() || lua.used_memory() > crate::lua::MEMORY_LIMIT / 2 {
        let _ = lua.gc_collect();
    }
    match reply {
        Ok(v) => Ok(v),
        Err(e) => Err(script_error(&e, name, chunk)),
    }
}

/// The reply to `args` while a script has run past its time limit, given without the server lock; `None` for the
/// commands that need the state (WATCH, HELLO, AUTH, RESET), which wait for the script to end here.
///
/// As in Redis: SCRIPT KILL (and FUNCTION KILL) stop the script, or answer UNKILLABLE once it wrote; SHUTDOWN
/// NOSAVE stops it whatever it did and shuts the server down (closing this connection without a reply: an empty
/// `session.replies`, as SHUTDOWN itself does); MULTI,
/// DISCARD, UNWATCH and QUIT, which touch only the connection, are answered at once; any other command is
/// answered BUSY — inside MULTI that also flags the transaction (EXEC then aborts), and EXEC itself is answered
/// BUSY and discards the transaction, so no transaction ever runs half.
pub(crate) fn while_busy(
    watch: &ScriptWatch,
    session: &mut crate::state::Session,
    args: &[Bytes],
) -> Option<Value> {
    let name = args.first()?;
    // SCRIPT KILL and FUNCTION KILL alike stop whichever runs (Redis tells the two apart).
    if (is(name, "SCRIPT") || is(name, "FUNCTION")) && args.len() == 2 && is(&args[1], "KILL") {
        if !watch.running() {
            // It ended meanwhile: asked again under the lock, this answers NOTBUSY.
            return None;
        }
        if watch.wrote.load(std::sync::atomic::Ordering::SeqCst) {
            return Some(err(
                "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
            ));
        }
        watch.kill.store(true, std::sync::atomic::Ordering::SeqCst);
        return Some(ok().unwrap_or_else(|e| e));
    }
    // SHUTDOWN NOSAVE ends even a script that wrote (Redis's way out of UNKILLABLE); plain SHUTDOWN is BUSY.
    if is(name, "SHUTDOWN")
        && args[1..].iter().any(|a| is(a, "NOSAVE"))
        && !args[1..].iter().any(|a| is(a, "SAVE"))
    {
        tracing::warn!("User requested shutdown during a busy script...");
        watch.shutdown.store(true, std::sync::atomic::Ordering::SeqCst);
        watch.kill.store(true, std::sync::atomic::Ordering::SeqCst);
        watch.shutdown_request.send_replace(Some(false));
        session.close_after_reply();
        session.reply_with(Vec::new());
        return Some(Value::Null);
    }
    let arity = |n: usize| args.len() == n;
    if is(name, "MULTI") && arity(1) {
        return Some(if session.transaction_mut().begin() {
            Value::simple("OK")
        } else {
            err("ERR MULTI calls can not be nested")
        });
    }
    if is(name, "DISCARD") && arity(1) {
        return Some(if session.transaction_mut().take().is_some() {
            session.transaction_mut().unwatch();
            Value::simple("OK")
        } else {
            err("ERR DISCARD without MULTI")
        });
    }
    if is(name, "UNWATCH") && arity(1) && !session.in_multi() {
        session.transaction_mut().unwatch();
        return Some(Value::simple("OK"));
    }
    if is(name, "QUIT") {
        session.close_after_reply();
        return Some(Value::simple("OK"));
    }
    let busy =
        || err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
    if session.in_multi() {
        let transaction = session.transaction_mut();
        if is(name, "EXEC") {
            transaction.take();
            transaction.unwatch();
        } else {
            transaction.reject();
        }
        return Some(busy());
    }
    let waits = ["WATCH", "HELLO", "AUTH", "RESET"];
    if waits.iter().any(|n| is(name, n)) {
        return None;
    }
    Some(busy())
}

/// `numkeys key… arg…` after the script: the keys and the arguments.
pub(super) fn split_keys(args: &[Bytes]) -> Result<(&[Bytes], &[Bytes]), Value> {
    let n = parse_i64(&args[0])?;
    if n < 0 {
        return Err(err("ERR Number of keys can't be negative"));
    }
    let n = n as usize;
    if n > args.len() - 1 {
        return Err(err("ERR Number of keys can't be greater than number of args"));
    }
    Ok((&args[1..=n], &args[n + 1..]))
}

fn eval_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> Reply {
    let (keys, argv) = split_keys(&args[2..])?;
    let body = args[1].clone();
    let sha = sha1hex(&body);
    engine(ctx)?.cache(sha.clone(), body.clone());
    run_script(ctx, &sha, &body, keys, argv, read_only)
}

fn evalsha_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> Reply {
    let (keys, argv) = split_keys(&args[2..])?;
    let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let body = ctx
        .state
        .scripts()
        .and_then(|s| s.cached(&sha).cloned())
        .ok_or_else(|| err("NOSCRIPT No matching script. Please use EVAL."))?;
    run_script(ctx, &sha, &body, keys, argv, read_only)
}

pub(crate) fn eval(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    eval_generic(ctx, args, false)
}

pub(crate) fn eval_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    eval_generic(ctx, args, true)
}

pub(crate) fn evalsha(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    evalsha_generic(ctx, args, false)
}

pub(crate) fn evalsha_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    evalsha_generic(ctx, args, true)
}

pub(crate) fn script(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    if is(sub, "LOAD") && args.len() == 3 {
        let body = args[2].clone();
        let scripts = engine(ctx)?;
        // Loading compiles: a script with a syntax error is refused.
        compile(scripts.lua(), body.as_ref(), "@user_script").map_err(|e| compile_error(&e))?;
        let sha = sha1hex(&body);
        scripts.cache(sha.clone(), body);
        Ok(Value::bulk(sha))
    } else if is(sub, "EXISTS") && args.len() >= 3 {
        let scripts = ctx.state.scripts();
        Ok(Value::Array(
            args[2..]
                .iter()
                .map(|sha| {
                    let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                    int(u8::from(scripts.is_some_and(|s| s.cached(&sha).is_some())))
                })
                .collect(),
        ))
    } else if is(sub, "FLUSH") && args.len() <= 3 {
        if let Some(mode) = args.get(2)
            && !(is(mode, "SYNC") || is(mode, "ASYNC"))
        {
            return Err(err("ERR SCRIPT FLUSH only support SYNC|ASYNC option"));
        }
        // The script cache only: FUNCTION's libraries stay (FUNCTION FLUSH removes those).
        if let Some(s) = ctx.state.scripts_mut() {
            s.flush_cache();
        }
        ok()
    } else if is(sub, "KILL") && args.len() == 2 {
        Err(err("NOTBUSY No scripts in execution right now."))
    } else {
        let known = ["LOAD", "EXISTS", "FLUSH", "KILL"].iter().any(|k| is(sub, k));
        Err(super::subcommand_error("script", sub, known))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::test_support::{error_text, eval};
    use redkit_resp::Value;

    use crate::engine::Server;
    use crate::state::ServerConfig;

    #[test]
    fn memory_is_bounded_and_the_engine_survives() {
        let server = Server::new(ServerConfig::default());
        let reply = eval(&server, "local s = 'x' while true do s = s .. s end");
        assert!(
            error_text(&reply).starts_with("ERR not enough memory script: "),
            "{reply:?}"
        );
        let reply = eval(&server, "return #string.rep('x', 2^30)");
        assert!(error_text(&reply).contains("not enough memory"), "{reply:?}");
        assert_eq!(eval(&server, "return 1 + 1"), Value::Integer(2));
        assert_eq!(eval(&server, "return #string.rep('x', 2^31)"), Value::Integer(0));
    }
}
