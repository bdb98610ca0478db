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
//! **Time limit.** A script runs to its end, however long (as in Redis). Once it has run longer than
//! `busy-reply-threshold` (`lua-time-limit`, 5 s by default), other connections are answered `BUSY` and SCRIPT KILL
//! stops it — unless it has already called a write command (`UNKILLABLE`). This works because the TCP server runs
//! a batch holding a script on a blocking thread and serves the other connections without waiting for the lock
//! (see `Server::try_execute_batch`); the script polls for a kill every thousand Lua instructions. In-process
//! callers ([`crate::Mock`]) simply wait for the script.
//!
//! FUNCTION and FCALL (`functions.rs`) share this engine and these rules.
//!
//! Not here: `redis.setresp`, SHUTDOWN NOSAVE to end an unkillable script, and the `cjson`/`struct`/`cmsgpack`
//! libraries.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use redkit_resp::{Limits, RespVersion, Value};

use super::{Reply, err, int, is, ok, parse_i64};
use crate::server::{Ctx, ScriptWatch};

/// The scripting engine: one Lua state, the script cache by SHA1, and the function libraries.
pub(crate) struct Scripts {
    pub(super) lua: Lua,
    cache: HashMap<String, Bytes>,
    /// FUNCTION LOAD's libraries, by name.
    pub(super) libraries: std::collections::BTreeMap<String, super::functions::Library>,
}

/// What a script run executes, and how its errors name it.
pub(super) enum Body<'a> {
    /// EVAL: a chunk compiled now, given KEYS and ARGV as globals; errors end `script: <sha>, on @user_script:N.`
    Chunk { sha: &'a str, code: &'a [u8] },
    /// FCALL: a registered function, called with the keys and the arguments; errors end
    /// `script: <name>, on @user_function:N.`
    Function { name: &'a str, callback: mlua::Function },
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripts")
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl Scripts {
    fn new(watch: &std::sync::Arc<ScriptWatch>) -> Result<Scripts, Value> {
        let lua = Lua::new();
        protect_globals(&lua).map_err(|e| err(&format!("ERR cannot start the Lua engine: {e}")))?;
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
        Ok(Scripts {
            lua,
            cache: HashMap::new(),
            libraries: Default::default(),
        })
    }
}

/// Redis's guard: reading an undefined global or creating one is an error.
fn protect_globals(lua: &Lua) -> mlua::Result<()> {
    lua.load(
        r#"
        local mt = {}
        mt.__newindex = function (t, n, v)
            error("Attempt to modify a readonly table", 2)
        end
        mt.__index = function (t, n)
            error("Script attempted to access nonexistent global variable '" .. tostring(n) .. "'", 2)
        end
        setmetatable(_G, mt)
        "#,
    )
    .set_name("@protect")
    .exec()
}

fn sha1hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// A reply in its RESP2 shape (maps flattened, doubles as strings, booleans as integers), as scripts see it.
fn resp2(v: &Value) -> Value {
    let mut buf = BytesMut::new();
    redkit_resp::encode_value(v, RespVersion::Resp2, &mut buf);
    let limits = Limits {
        max_bulk_len: u64::MAX,
        max_aggregate_len: u64::MAX,
        max_depth: 1024,
    };
    redkit_resp::decode(&mut buf, RespVersion::Resp2, &limits)
        .ok()
        .flatten()
        .unwrap_or(Value::Null)
}

/// `{field = value}`: how Lua holds status (`ok`) and error (`err`) replies.
fn reply_table(lua: &Lua, field: &str, value: impl mlua::IntoLua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(field, value)?;
    Ok(t)
}

/// The reply for a script that does not compile.
fn compile_error(e: &mlua::Error) -> Value {
    let text = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    err(&format!("ERR Error compiling script (new function): {text}"))
}

/// A reply as a Lua value.
fn to_lua(lua: &Lua, v: &Value) -> mlua::Result<LuaValue> {
    Ok(match v {
        Value::Integer(i) => LuaValue::Number(*i as f64),
        Value::BulkString(b) | Value::VerbatimString { text: b, .. } => {
            LuaValue::String(lua.create_string(b)?)
        }
        Value::SimpleString(s) => LuaValue::Table(reply_table(lua, "ok", lua.create_string(s)?)?),
        Value::Error(e) => LuaValue::Table(reply_table(lua, "err", lua.create_string(e)?)?),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            let t = lua.create_table()?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, item)?)?;
            }
            LuaValue::Table(t)
        }
        Value::Null => LuaValue::Boolean(false),
        other => to_lua(lua, &resp2(other))?,
    })
}

/// A Lua value as a reply.
fn from_lua(v: &LuaValue) -> Value {
    match v {
        LuaValue::Nil => Value::Null,
        LuaValue::Boolean(true) => Value::Integer(1),
        LuaValue::Boolean(false) => Value::Null,
        LuaValue::Integer(i) => Value::Integer(*i),
        LuaValue::Number(n) => Value::Integer(*n as i64),
        LuaValue::String(s) => Value::BulkString(Bytes::copy_from_slice(&s.as_bytes())),
        LuaValue::Table(t) => {
            if let Ok(LuaValue::String(e)) = t.raw_get::<LuaValue>("err") {
                return Value::Error(Bytes::copy_from_slice(&e.as_bytes()));
            }
            if let Ok(LuaValue::String(s)) = t.raw_get::<LuaValue>("ok") {
                return Value::SimpleString(Bytes::copy_from_slice(&s.as_bytes()));
            }
            let mut items = Vec::new();
            for i in 1.. {
                match t.raw_get::<LuaValue>(i) {
                    Ok(LuaValue::Nil) | Err(_) => break,
                    Ok(item) => items.push(from_lua(&item)),
                }
            }
            Value::Array(items)
        }
        _ => Value::Null,
    }
}

/// A `redis.call` argument as bytes: strings as they are, numbers as Redis formats them.
fn arg_bytes(v: &LuaValue) -> Option<Bytes> {
    match v {
        LuaValue::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        LuaValue::Integer(i) => Some(Bytes::from(i.to_string())),
        LuaValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e17 => {
            Some(Bytes::from((*n as i64).to_string()))
        }
        LuaValue::Number(n) => Some(Bytes::from(super::zsets::g17(*n))),
        _ => None,
    }
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
    if super::lookup(lower.as_bytes()).is_none() {
        return Err("ERR Unknown Redis command called from script".into());
    }
    let meta = super::meta::meta(&lower);
    if meta.is_some_and(|m| m.flags.contains(&"noscript")) {
        return Err("ERR This Redis command is not allowed from script".into());
    }
    let writes = meta.is_some_and(|m| m.flags.contains(&"write"));
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
    let reply = crate::server::dispatch(ctx, &cmd);
    match reply {
        Value::Error(e) => Err(String::from_utf8_lossy(&e).into_owned()),
        other => Ok(other),
    }
}

/// The engine, made on first use.
pub(super) fn engine<'a>(ctx: &'a mut Ctx<'_>) -> Result<&'a mut Scripts, Value> {
    if ctx.state.scripts.is_none() {
        ctx.state.scripts = Some(Scripts::new(&ctx.state.watch)?);
    }
    ctx.state
        .scripts
        .as_mut()
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
    let scripts = match ctx.state.scripts.take() {
        Some(s) => s,
        None => Scripts::new(&ctx.state.watch)?,
    };
    let body = match pick(&scripts) {
        Ok(body) => body,
        Err(e) => {
            ctx.state.scripts = Some(scripts);
            return Err(e);
        }
    };
    // Commands inside a script never block (as in MULTI/EXEC), and reply in RESP2 shapes whatever the client
    // speaks (Redis's default for scripts).
    let was_in_exec = std::mem::replace(&mut ctx.session.in_exec, true);
    let protocol = std::mem::replace(&mut ctx.session.protocol, RespVersion::Resp2);
    let watch = ctx.state.watch.clone();
    watch.begin();
    let result = execute(&scripts.lua, ctx, body, keys, argv, read_only);
    watch.end();
    ctx.session.in_exec = was_in_exec;
    ctx.session.protocol = protocol;
    ctx.state.scripts = Some(scripts);
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
    let (function, name, chunk, call_args) = match body {
        Body::Chunk { sha, code } => {
            let function = lua
                .load(code)
                .set_name("@user_script")
                .into_function()
                .map_err(|e| compile_error(&e))?;
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
        lua.globals().raw_set("redis", redis)?;
        match call_args {
            Some(args) => function.call::<LuaValue>(args),
            None => function.call::<LuaValue>(()),
        }
    });
    let _ = lua.globals().raw_set("redis", LuaValue::Nil);
    match outcome {
        Ok(v) => Ok(from_lua(&v)),
        Err(e) => Err(script_error(&e, name, chunk)),
    }
}

/// SCRIPT KILL's interruption, raised by the instruction hook at `line`.
#[derive(Debug)]
struct Killed {
    line: i32,
}

impl std::fmt::Display for Killed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Script killed by user with SCRIPT KILL...")
    }
}

impl std::error::Error for Killed {}

/// The reply to `args` while a script has run past its time limit, given without the server lock; `None` for the
/// commands Redis lets through (`allow-busy`: MULTI, AUTH, HELLO…), which wait for the script to end here.
pub(crate) fn while_busy(watch: &ScriptWatch, args: &[Bytes]) -> Option<Value> {
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
    let lets_through = [
        "MULTI", "DISCARD", "WATCH", "UNWATCH", "HELLO", "AUTH", "QUIT", "RESET",
    ];
    if lets_through.iter().any(|n| is(name, n)) {
        return None;
    }
    Some(err(
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
    ))
}

/// An error table raised by `redis.call`, carried through Lua as an external error.
#[derive(Debug)]
struct RedisError(Table);

impl std::fmt::Display for RedisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: String = self.0.raw_get("err").unwrap_or_default();
        f.write_str(&text)
    }
}

impl std::error::Error for RedisError {}

/// The reply for a script that failed, as Redis 7 words it: the error (a command's own, or the Lua error with its
/// `user_script:N:` position), then ` script: <sha1>, on @user_script:N.`.
fn script_error(e: &mlua::Error, sha: &str, chunk: &str) -> Value {
    let mut inner = e;
    loop {
        match inner {
            mlua::Error::CallbackError { cause, .. } => inner = cause,
            mlua::Error::ExternalError(ext) => {
                if let Some(k) = ext.downcast_ref::<Killed>() {
                    return err(&format!("ERR {k} script: {sha}, on @{chunk}:{}.", k.line));
                }
                if let Some(r) = ext.downcast_ref::<RedisError>() {
                    let line: i64 = r.0.raw_get("line").unwrap_or(0);
                    return err(&format!("{r} script: {sha}, on @{chunk}:{line}."));
                }
                return err(&format!("ERR {ext} script: {sha}, on @{chunk}:0."));
            }
            mlua::Error::RuntimeError(msg) => {
                let msg = msg.lines().next().unwrap_or_default();
                let line = msg
                    .strip_prefix(chunk)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .and_then(|rest| rest.split(':').next())
                    .unwrap_or("0");
                return err(&format!("ERR {msg} script: {sha}, on @{chunk}:{line}."));
            }
            other => return err(&format!("ERR {other} script: {sha}, on @{chunk}:0.")),
        }
    }
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
    if ctx.state.scripts.is_none() {
        ctx.state.scripts = Some(Scripts::new(&ctx.state.watch)?);
    }
    if let Some(s) = ctx.state.scripts.as_mut() {
        s.cache.insert(sha.clone(), body.clone());
    }
    run_script(ctx, &sha, &body, keys, argv, read_only)
}

fn evalsha_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> Reply {
    let (keys, argv) = split_keys(&args[2..])?;
    let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let body = ctx
        .state
        .scripts
        .as_ref()
        .and_then(|s| s.cache.get(&sha).cloned())
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
        let scripts = match ctx.state.scripts.as_mut() {
            Some(s) => s,
            None => ctx.state.scripts.insert(Scripts::new(&ctx.state.watch)?),
        };
        // Loading compiles: a script with a syntax error is refused.
        scripts
            .lua
            .load(body.as_ref())
            .set_name("@user_script")
            .into_function()
            .map_err(|e| compile_error(&e))?;
        let sha = sha1hex(&body);
        scripts.cache.insert(sha.clone(), body);
        Ok(Value::bulk(sha))
    } else if is(sub, "EXISTS") && args.len() >= 3 {
        let cache = ctx.state.scripts.as_ref().map(|s| &s.cache);
        Ok(Value::Array(
            args[2..]
                .iter()
                .map(|sha| {
                    let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                    int(u8::from(cache.is_some_and(|c| c.contains_key(&sha))))
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
        if let Some(s) = ctx.state.scripts.as_mut() {
            s.cache.clear();
        }
        ok()
    } else if is(sub, "KILL") && args.len() == 2 {
        Err(err("NOTBUSY No scripts in execution right now."))
    } else {
        let known = ["LOAD", "EXISTS", "FLUSH", "KILL"].iter().any(|k| is(sub, k));
        Err(super::connection::subcommand_error("script", sub, known))
    }
}
