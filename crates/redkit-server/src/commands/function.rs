//! Functions: FUNCTION LOAD/LIST/DELETE/FLUSH/STATS/KILL and FCALL/FCALL_RO, on the scripting engine's Lua state.
//!
//! A library is Lua code behind a `#!lua name=<library>` line. Loading runs it once in a bare environment that
//! holds only `redis.register_function`, `redis.log` and the version fields (any other name is Redis's
//! "nonexistent global variable" error); each registered callback is kept and later called by FCALL with the keys
//! and the arguments, under the same rules as EVAL (atomic, the time limit, `redis.call` and friends, errors ending
//! `script: <function>, on @user_function:N.`). A function flagged `no-writes` may not write and is the only kind
//! FCALL_RO runs. Libraries are not persisted with the dataset.

use std::collections::BTreeMap;

use bytes::Bytes;
use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::registry::Decl;
use super::scripting::{Body, engine, run_body, split_keys};
use super::{Reply, err, int, is, ok};
use crate::state::scripts::{Function, Library, Scripts};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("function", function),
    Decl::new("fcall", fcall).runs_script(),
    Decl::new("fcall_ro", fcall_ro).runs_script(),
];

/// The flags `redis.register_function` accepts.
const FLAGS: [&str; 5] = [
    "no-writes",
    "allow-oom",
    "allow-stale",
    "no-cluster",
    "allow-cross-slot-keys",
];

const NAME_RULE: &str = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `#!lua name=<library>`: the library name, and the code with that line blanked (so line numbers still count it).
fn parse_metadata(code: &[u8]) -> Result<(String, Vec<u8>), Value> {
    if !code.starts_with(b"#!") {
        return Err(err("ERR Missing library metadata"));
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err(err("ERR Invalid library metadata"));
    };
    let line = String::from_utf8_lossy(&code[2..end]);
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or_default();
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(err(&format!("ERR Engine '{engine}' not found")));
    }
    let mut name = None;
    for part in parts {
        match part.strip_prefix("name=") {
            Some(n) => name = Some(n.to_owned()),
            None => return Err(err(&format!("ERR Invalid metadata value given: {part}"))),
        }
    }
    let name = name.ok_or_else(|| err("ERR Library name was not given"))?;
    if !valid_name(&name) {
        return Err(err(NAME_RULE));
    }
    Ok((name, code[end..].to_vec()))
}

/// A registration error, as Lua raises it (Redis's text, no position).
fn reg_error(text: &str) -> mlua::Error {
    mlua::Error::RuntimeError(text.to_owned())
}

/// One `redis.register_function(...)` call: positional `(name, callback)` or a table of named arguments.
fn registration(args: MultiValue) -> mlua::Result<(String, Function)> {
    let args: Vec<LuaValue> = args.into_iter().collect();
    let (name, callback, flags, description) = match args.as_slice() {
        [LuaValue::Table(t)] => {
            let (mut name, mut callback, mut flags, mut description) = (None, None, Vec::new(), None);
            for pair in t.pairs::<String, LuaValue>() {
                let (key, value) = pair?;
                match (key.as_str(), value) {
                    ("function_name", LuaValue::String(s)) => name = Some(s.to_str()?.to_owned()),
                    ("callback", LuaValue::Function(f)) => callback = Some(f),
                    ("flags", LuaValue::Table(list)) => {
                        for flag in list.sequence_values::<String>() {
                            flags.push(flag.map_err(|_| reg_error("ERR unknown flag given"))?);
                        }
                    }
                    ("description", LuaValue::String(s)) => {
                        description = Some(Bytes::copy_from_slice(&s.as_bytes()));
                    }
                    ("function_name", _) => {
                        return Err(reg_error(
                            "ERR function_name argument given to redis.register_function must be a string",
                        ));
                    }
                    ("callback", _) => {
                        return Err(reg_error(
                            "ERR callback argument given to redis.register_function must be a function",
                        ));
                    }
                    ("flags", _) => {
                        return Err(reg_error(
                            "ERR flags argument to redis.register_function must be a table representing function flags",
                        ));
                    }
                    ("description", _) => {
                        return Err(reg_error(
                            "ERR description argument given to redis.register_function must be a string",
                        ));
                    }
                    _ => return Err(reg_error("ERR unknown argument given to redis.register_function")),
                }
            }
            let name = name
                .ok_or_else(|| reg_error("ERR redis.register_function must get a function name argument"))?;
            let callback = callback
                .ok_or_else(|| reg_error("ERR redis.register_function must get a callback argument"))?;
            (name, callback, flags, description)
        }
        [_] => {
            return Err(reg_error(
                "ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
            ));
        }
        [name, callback] => {
            let LuaValue::String(name) = name else {
                return Err(reg_error(
                    "ERR first argument to redis.register_function must be a string",
                ));
            };
            let LuaValue::Function(callback) = callback else {
                return Err(reg_error(
                    "ERR second argument to redis.register_function must be a function",
                ));
            };
            (name.to_str()?.to_owned(), callback.clone(), Vec::new(), None)
        }
        _ => {
            return Err(reg_error(
                "ERR wrong number of arguments to redis.register_function",
            ));
        }
    };
    if flags.iter().any(|f| !FLAGS.contains(&f.as_str())) {
        return Err(reg_error("ERR unknown flag given"));
    }
    if !valid_name(&name) {
        // Redis words a bad function name as a bad library name.
        return Err(reg_error(NAME_RULE));
    }
    Ok((
        name,
        Function {
            callback,
            flags,
            description,
        },
    ))
}

/// The environment a library's code runs in when loaded: only `redis`, with only what registration needs.
fn load_environment(lua: &Lua) -> mlua::Result<Table> {
    let guard: Table = lua
        .load(
            r#"
            return {
                __index = function (t, n)
                    error("Script attempted to access nonexistent global variable '" .. tostring(n) .. "'", 2)
                end,
                __newindex = function (t, n, v)
                    error("Attempt to modify a readonly table", 2)
                end,
            }
            "#,
        )
        .set_name("@protect")
        .eval()?;
    let redis = lua.create_table()?;
    redis.raw_set("log", lua.create_function(|_, _: MultiValue| Ok(()))?)?;
    for (i, level) in ["LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"]
        .iter()
        .enumerate()
    {
        redis.raw_set(*level, i)?;
    }
    redis.raw_set("REDIS_VERSION", "7.0.15")?;
    redis.raw_set("REDIS_VERSION_NUM", 0x0007_000f)?;
    let env = lua.create_table()?;
    env.raw_set("redis", redis.clone())?;
    redis.set_metatable(Some(guard.clone()));
    env.set_metatable(Some(guard));
    Ok(env)
}

/// The innermost message of a Lua error, as Redis prints it after "Error registering functions: ".
fn registration_text(e: &mlua::Error) -> String {
    let mut inner = e;
    loop {
        match inner {
            mlua::Error::CallbackError { cause, .. } => inner = cause,
            mlua::Error::RuntimeError(msg) => {
                let msg = msg.lines().next().unwrap_or_default();
                return if msg.starts_with("ERR ") {
                    msg.to_owned()
                } else {
                    format!("ERR {msg}")
                };
            }
            other => return format!("ERR {other}"),
        }
    }
}

fn load(ctx: &mut Ctx<'_>, code: &Bytes, replace: bool) -> Reply {
    let (name, body) = parse_metadata(code)?;
    let scripts = engine(ctx)?;
    if !replace && scripts.has_library(&name) {
        return Err(err(&format!("ERR Library '{name}' already exists")));
    }
    let lua = scripts.lua();
    let env = load_environment(lua).map_err(|e| err(&format!("ERR {e}")))?;
    let chunk = lua
        .load(body.as_slice())
        .set_name("@user_function")
        .set_mode(mlua::ChunkMode::Text)
        .set_environment(env.clone())
        .into_function()
        .map_err(|e| {
            let text = match &e {
                mlua::Error::SyntaxError { message, .. } => message.clone(),
                other => other.to_string(),
            };
            err(&format!("ERR Error compiling function: {text}"))
        })?;
    let registered = std::cell::RefCell::new(Vec::<(String, Function)>::new());
    let outcome = lua.scope(|scope| {
        let redis: Table = env.raw_get("redis")?;
        redis.raw_set(
            "register_function",
            scope.create_function(|_, args: MultiValue| {
                let (fname, function) = registration(args)?;
                let mut list = registered.borrow_mut();
                if list.iter().any(|(n, _)| *n == fname) {
                    return Err(reg_error("ERR Function already exists in the library"));
                }
                list.push((fname, function));
                Ok(())
            })?,
        )?;
        let ran = chunk.call::<()>(());
        redis.raw_set("register_function", LuaValue::Nil)?;
        ran
    });
    if let Err(e) = outcome {
        return Err(err(&format!(
            "ERR Error registering functions: {}",
            registration_text(&e)
        )));
    }
    let functions: BTreeMap<String, Function> = registered.into_inner().into_iter().collect();
    // Created in the bare load environment, the callbacks run with the ordinary globals (`redis.call` and all).
    for f in functions.values() {
        f.callback
            .set_environment(lua.globals())
            .map_err(|e| err(&format!("ERR {e}")))?;
    }
    if functions.is_empty() {
        return Err(err("ERR No functions registered"));
    }
    for fname in functions.keys() {
        if scripts.function_owner(fname, &name).is_some() {
            return Err(err(&format!("ERR Function {fname} already exists")));
        }
    }
    scripts.add_library(
        name.clone(),
        Library {
            code: code.clone(),
            functions,
        },
    );
    Ok(Value::bulk(name))
}

/// `FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern]`, each at most once.
struct ListArgs<'a> {
    with_code: bool,
    pattern: Option<&'a Bytes>,
}

impl<'a> ListArgs<'a> {
    fn parse(argv: &'a [Bytes]) -> Result<ListArgs<'a>, Value> {
        let mut args = Args::at(argv, 2);
        let mut list = ListArgs {
            with_code: false,
            pattern: None,
        };
        while let Some(word) = args.next() {
            if is(word, "WITHCODE") && !list.with_code {
                list.with_code = true;
            } else if is(word, "LIBRARYNAME") && list.pattern.is_none() {
                list.pattern = Some(
                    args.next()
                        .ok_or_else(|| err("ERR library name argument was not given"))?,
                );
            } else {
                return Err(err(&format!(
                    "ERR Unknown argument {}",
                    String::from_utf8_lossy(word)
                )));
            }
        }
        Ok(list)
    }
}

fn list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let ListArgs { with_code, pattern } = ListArgs::parse(args)?;
    let text = |s: &str| Value::bulk(s.to_owned());
    let Some(scripts) = ctx.state.scripts() else {
        return Ok(Value::Array(Vec::new()));
    };
    let libraries = scripts
        .libraries()
        .filter(|(name, _)| pattern.is_none_or(|p| super::glob_match(p, name.as_bytes())))
        .map(|(name, lib)| {
            let functions = lib
                .functions
                .iter()
                .map(|(fname, f)| {
                    Value::Map(vec![
                        (text("name"), text(fname)),
                        (
                            text("description"),
                            f.description.clone().map_or(Value::Null, Value::BulkString),
                        ),
                        (
                            text("flags"),
                            Value::Set(f.flags.iter().map(|fl| Value::simple(fl.clone())).collect()),
                        ),
                    ])
                })
                .collect();
            let mut fields = vec![
                (text("library_name"), text(name)),
                (text("engine"), text("LUA")),
                (text("functions"), Value::Array(functions)),
            ];
            if with_code {
                fields.push((text("library_code"), Value::BulkString(lib.code.clone())));
            }
            Value::Map(fields)
        })
        .collect();
    Ok(Value::Array(libraries))
}

pub(crate) fn function(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    if is(sub, "LOAD") && (args.len() == 3 || args.len() == 4) {
        let replace = args.len() == 4;
        if replace && !is(&args[2], "REPLACE") {
            return Err(err(&format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(&args[2])
            )));
        }
        load(ctx, &args[args.len() - 1], replace)
    } else if is(sub, "LIST") {
        list(ctx, args)
    } else if is(sub, "DELETE") && args.len() == 3 {
        let name = String::from_utf8_lossy(&args[2]).into_owned();
        match ctx.state.scripts_mut().and_then(|s| s.remove_library(&name)) {
            Some(_) => ok(),
            None => Err(err("ERR Library not found")),
        }
    } else if is(sub, "FLUSH") && args.len() <= 3 {
        if let Some(mode) = args.get(2)
            && !(is(mode, "SYNC") || is(mode, "ASYNC"))
        {
            return Err(err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"));
        }
        if let Some(s) = ctx.state.scripts_mut() {
            s.clear_libraries();
        }
        ok()
    } else if is(sub, "STATS") && args.len() == 2 {
        let text = |s: &str| Value::bulk(s.to_owned());
        let (libraries, functions) = ctx.state.scripts().map_or((0, 0), Scripts::counts);
        Ok(Value::Map(vec![
            (text("running_script"), Value::Null),
            (
                text("engines"),
                Value::Map(vec![(
                    text("LUA"),
                    Value::Map(vec![
                        (text("libraries_count"), int(libraries)),
                        (text("functions_count"), int(functions)),
                    ]),
                )]),
            ),
        ]))
    } else if is(sub, "KILL") && args.len() == 2 {
        // Reached only when no script holds the server (a running one is answered from outside the lock).
        Err(err("NOTBUSY No scripts in execution right now."))
    } else if (is(sub, "DUMP") && args.len() == 2) || (is(sub, "RESTORE") && args.len() >= 3) {
        Err(err(
            "ERR FUNCTION DUMP and RESTORE are not supported by the embedded server",
        ))
    } else {
        let known = [
            "LOAD", "LIST", "DELETE", "FLUSH", "STATS", "KILL", "DUMP", "RESTORE",
        ]
        .iter()
        .any(|k| is(sub, k));
        Err(super::subcommand_error("function", sub, known))
    }
}

fn fcall_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only_command: bool) -> Reply {
    let (keys, argv) = split_keys(&args[2..])?;
    let name = String::from_utf8_lossy(&args[1]).into_owned();
    let pick = |scripts: &Scripts| {
        let f = scripts
            .function(&name)
            .ok_or_else(|| err("ERR Function not found"))?;
        if read_only_command && !f.is_read_only() {
            return Err(err(
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
        Ok(Body::Function {
            name: &name,
            callback: f.callback.clone(),
        })
    };
    // A `no-writes` function may not write, whichever command called it.
    let read_only = ctx
        .state
        .scripts()
        .and_then(|s| s.function(&name))
        .is_some_and(Function::is_read_only);
    run_body(ctx, pick, keys, argv, read_only)
}

pub(crate) fn fcall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    fcall_generic(ctx, args, false)
}

pub(crate) fn fcall_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    fcall_generic(ctx, args, true)
}
