//! Server commands: FLUSHDB, FLUSHALL, TIME, INFO, CONFIG, COMMAND, SLOWLOG, MEMORY, OBJECT, LASTSAVE, WAIT.
//!
//! INFO's sections are `info.rs`'s, CONFIG's settings table (CONFIG GET and SET) `config.rs`'s.

use bytes::Bytes;
use redkit_resp::Value;
use redkit_resp::command::{CommandFlags, CommandInfo, KeySpecFlags};

use super::Ctx;
use super::config::{config_get, config_set};
use super::info::{DEFAULT_SECTIONS, info_section, usage};
use super::registry::Decl;
use super::{Reply, int, is, ok, syntax_error};
use crate::state::slowlog::SlowCommand;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("flushdb", flushdb),
    Decl::new("flushall", flushall),
    Decl::new("time", time),
    Decl::new("info", info),
    Decl::new("config", config),
    Decl::new("command", command),
    Decl::new("lastsave", lastsave),
    Decl::new("save", save),
    Decl::new("shutdown", shutdown),
    Decl::new("bgsave", bgsave),
    Decl::new("bgrewriteaof", bgrewriteaof),
    Decl::new("slowlog", slowlog),
    Decl::new("memory", memory),
    Decl::new("object", object),
    Decl::new("wait", wait),
];

fn flush_mode(args: &[Bytes]) -> Result<(), Value> {
    match args.get(1) {
        None => Ok(()),
        Some(m) if args.len() == 2 && (is(m, "SYNC") || is(m, "ASYNC")) => Ok(()),
        _ => Err(syntax_error()),
    }
}

pub(crate) fn flushdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    flush_mode(args)?;
    ctx.db().clear();
    ok()
}

pub(crate) fn flushall(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    flush_mode(args)?;
    for db in &mut ctx.state.dbs {
        db.clear();
    }
    ok()
}

pub(crate) fn time(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    // The clock itself, not the batch's reading: a script polling TIME sees it move, as in Redis.
    let us = ctx.state.clock.now_us();
    Ok(Value::Array(vec![
        Value::bulk((us / 1_000_000).to_string()),
        Value::bulk((us % 1_000_000).to_string()),
    ]))
}

/// Redis keeps at most 32 arguments of 128 bytes each per entry.
const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_STRING: usize = 128;

fn slowlog_args(args: &[Bytes]) -> Vec<Bytes> {
    let keep = if args.len() > SLOWLOG_MAX_ARGC {
        SLOWLOG_MAX_ARGC - 1
    } else {
        args.len()
    };
    let mut out: Vec<Bytes> = args[..keep]
        .iter()
        .map(|a| {
            if a.len() > SLOWLOG_MAX_STRING {
                let mut v = a[..SLOWLOG_MAX_STRING].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_STRING).as_bytes());
                Bytes::from(v)
            } else {
                a.clone()
            }
        })
        .collect();
    if keep < args.len() {
        out.push(Bytes::from(format!("... ({} more arguments)", args.len() - keep)));
    }
    out
}

/// Book-keeping after every top-level command: the client's record and the slow log. Returns when the command
/// ended, if the slow log needed the clock (the next command's start).
pub(crate) fn after_command(
    ctx: &mut Ctx<'_>,
    args: &[Bytes],
    started: std::time::Instant,
) -> Option<std::time::Instant> {
    let now = ctx.now;
    super::client::sync_record(ctx.state, ctx.session, now);
    let threshold = ctx.state.settings.slowlog_log_slower_than;
    if threshold < 0 || ctx.state.settings.slowlog_max_len == 0 {
        return None;
    }
    let ended = std::time::Instant::now();
    let micros = i64::try_from((ended - started).as_micros()).unwrap_or(i64::MAX);
    if micros < threshold {
        return Some(ended);
    }
    let skip = ctx
        .registry
        .lookup(ctx.session.last_command().as_bytes())
        .is_none_or(|c| c.info.flags.contains(CommandFlags::SKIP_SLOWLOG));
    if skip {
        return Some(ended);
    }
    let (addr, name) = ctx
        .state
        .clients
        .get(ctx.session.id())
        .map(|r| (r.addr.clone(), r.name.clone().unwrap_or_default()))
        .unwrap_or_default();
    let command = SlowCommand {
        time_s: now / 1000,
        micros,
        args: slowlog_args(args),
        addr,
        name,
    };
    ctx.state
        .slowlog
        .push(command, ctx.state.settings.slowlog_max_len);
    Some(ended)
}

pub(crate) fn info(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut wanted: Vec<String> = args[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    if wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == "default" || w == "all" || w == "everything")
    {
        wanted = DEFAULT_SECTIONS.iter().map(|s| (*s).to_owned()).collect();
    }
    let mut text = String::new();
    for section in DEFAULT_SECTIONS {
        if wanted.iter().any(|w| w == section) {
            info_section(ctx, section, &mut text);
        }
    }
    Ok(Value::bulk(text))
}

pub(crate) fn config(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    if is(sub, "GET") && args.len() >= 3 {
        config_get(ctx, args)
    } else if is(sub, "SET") {
        config_set(ctx, args)
    } else if is(sub, "RESETSTAT") && args.len() == 2 {
        ctx.state.commands_processed = 0;
        ctx.state.connections_received = 0;
        for db in &mut ctx.state.dbs {
            db.expired = 0;
        }
        ok()
    } else if is(sub, "REWRITE") && args.len() == 2 {
        Err(super::err("ERR The server is running without a config file"))
    } else {
        let known = ["GET", "SET", "RESETSTAT", "REWRITE"].iter().any(|k| is(sub, k));
        Err(super::subcommand_error("config", sub, known))
    }
}

fn strs(items: impl Iterator<Item = &'static str>) -> Value {
    Value::Set(items.map(Value::simple).collect())
}

/// One COMMAND INFO entry: name, arity, flags, first key, last key, step, ACL categories, tips, key specs,
/// subcommands (the last three are reported empty).
fn command_info_entry(name: &str, meta: &CommandInfo) -> Value {
    Value::Array(vec![
        Value::bulk(name.to_owned()),
        Value::Integer(meta.arity.into()),
        strs(meta.flags.names()),
        Value::Integer(meta.keys.first.into()),
        Value::Integer(meta.keys.last.into()),
        Value::Integer(meta.keys.step.into()),
        strs(meta.acl_categories.names()),
        Value::Array(vec![]),
        Value::Array(vec![]),
        Value::Array(vec![]),
    ])
}

fn command_docs_entry(meta: &CommandInfo) -> Value {
    Value::Map(vec![
        (Value::bulk("since"), Value::bulk(meta.since)),
        (Value::bulk("group"), Value::bulk(meta.group)),
        (Value::bulk("complexity"), Value::bulk(meta.complexity)),
    ])
}

pub(crate) fn command(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let registry = ctx.registry;
    let all = || registry.commands().iter().map(|c| (c.name, c.info));
    let lookup = |name: &Bytes| {
        let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
        registry.lookup(lower.as_bytes()).map(|c| (c.name, c.info))
    };
    let Some(sub) = args.get(1) else {
        return Ok(Value::Array(
            all().map(|(n, m)| command_info_entry(n, m)).collect(),
        ));
    };
    if is(sub, "COUNT") && args.len() == 2 {
        Ok(int(registry.count()))
    } else if is(sub, "INFO") {
        if args.len() == 2 {
            return Ok(Value::Array(
                all().map(|(n, m)| command_info_entry(n, m)).collect(),
            ));
        }
        Ok(Value::Array(
            args[2..]
                .iter()
                .map(|a| lookup(a).map_or(Value::Null, |(n, m)| command_info_entry(n, m)))
                .collect(),
        ))
    } else if is(sub, "DOCS") {
        let entries: Vec<(Value, Value)> = if args.len() == 2 {
            all()
                .map(|(n, m)| (Value::bulk(n), command_docs_entry(m)))
                .collect()
        } else {
            args[2..]
                .iter()
                .filter_map(lookup)
                .map(|(n, m)| (Value::bulk(n), command_docs_entry(m)))
                .collect()
        };
        Ok(Value::Map(entries))
    } else if is(sub, "LIST") {
        let names: Vec<&str> = match &args[2..] {
            [] => all().map(|(n, _)| n).collect(),
            [f, by, value] if is(f, "FILTERBY") && is(by, "ACLCAT") => {
                let cat = format!("@{}", String::from_utf8_lossy(value).to_ascii_lowercase());
                all()
                    .filter(|(_, m)| m.acl_categories.names().any(|c| c == cat))
                    .map(|(n, _)| n)
                    .collect()
            }
            [f, by, value] if is(f, "FILTERBY") && is(by, "PATTERN") => all()
                .filter(|(n, _)| super::glob_match(&value.to_ascii_lowercase(), n.as_bytes()))
                .map(|(n, _)| n)
                .collect(),
            [f, by, _] if is(f, "FILTERBY") && is(by, "MODULE") => Vec::new(),
            _ => return Err(super::syntax_error()),
        };
        Ok(Value::Array(names.into_iter().map(Value::bulk).collect()))
    } else if is(sub, "GETKEYS") && args.len() >= 4 {
        let spec = lookup(&args[2])
            .and_then(|(n, _)| registry.lookup(n.as_bytes()))
            .ok_or_else(|| super::err("ERR Invalid command specified"))?;
        let argc = args.len() - 2;
        if !spec.accepts_arity(argc) {
            return Err(super::subcommand_error("command", &args[1], true));
        }
        // As Redis's COMMAND GETKEYS: a command without key specs has no keys; one whose keys are not found in
        // these arguments answers an empty list if its keys are optional (EVAL with numkeys 0), else an error.
        let has_keys = spec
            .info
            .key_specs
            .iter()
            .any(|k| !k.flags.contains(KeySpecFlags::NOT_KEY));
        if !has_keys {
            return Err(super::err("ERR The command has no key arguments"));
        }
        let keys = spec.keys(&args[2..]);
        if keys.is_empty() && !spec.info.flags.contains(CommandFlags::NO_MANDATORY_KEYS) {
            return Err(super::err("ERR Invalid arguments specified for command"));
        }
        Ok(Value::Array(
            keys.iter().cloned().map(Value::BulkString).collect(),
        ))
    } else {
        let known = ["COUNT", "INFO", "DOCS", "LIST", "GETKEYS"]
            .iter()
            .any(|k| is(sub, k));
        Err(super::subcommand_error("command", sub, known))
    }
}

/// WAIT: there are no replicas, so no write is ever acknowledged by one.
pub(crate) fn wait(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    super::parse_i64(&args[1])?;
    let timeout = super::parse_i64(&args[2])
        .map_err(|_| super::err("ERR timeout is not an integer or out of range"))?;
    if timeout < 0 {
        return Err(super::err("ERR timeout is negative"));
    }
    Ok(int(0))
}

pub(crate) fn lastsave(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    // Without a data directory nothing is ever saved: the start time, as a freshly started server reports.
    Ok(int(match &ctx.state.persist {
        Some(p) => p.last_save(),
        None => ctx.state.started_ms / 1000,
    }))
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: ask whoever runs the server to stop (saving unless NOSAVE), and
/// close this connection without a reply, as Redis does. The stop itself (a running script stopped, the data
/// saved, the process ended) is [`crate::Server::shutdown`]'s.
pub(crate) fn shutdown(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (mut save, mut nosave, mut abort) = (false, false, false);
    for a in &args[1..] {
        if is(a, "NOSAVE") {
            nosave = true;
        } else if is(a, "SAVE") {
            save = true;
        } else if is(a, "ABORT") {
            abort = true;
        } else if !(is(a, "NOW") || is(a, "FORCE")) {
            return Err(super::syntax_error());
        }
    }
    if (save && nosave) || (abort && args.len() > 2) {
        return Err(super::syntax_error());
    }
    if abort {
        return Err(super::err("ERR No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    ctx.state.watch.shutdown_request.send_replace(Some(!nosave));
    ctx.session.close_after_reply();
    ctx.session.reply_with(Vec::new());
    Ok(Value::Null)
}

pub(crate) fn save(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let state = &mut *ctx.state;
    if let Some(p) = &mut state.persist {
        p.save(&mut state.dbs, now)
            .map_err(|e| super::err(&e.to_string()))?;
    }
    ok()
}

pub(crate) fn bgsave(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match args.get(1) {
        None => {}
        Some(a) if args.len() == 2 && is(a, "SCHEDULE") => {}
        Some(_) => return Err(syntax_error()),
    }
    let state = &mut *ctx.state;
    if let Some(p) = &mut state.persist {
        p.bgsave(&mut state.dbs).map_err(|e| super::err(&e.to_string()))?;
    }
    Ok(Value::simple("Background saving started"))
}

pub(crate) fn bgrewriteaof(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if let Some(p) = &mut ctx.state.persist {
        p.bgrewrite().map_err(|e| super::err(&e.to_string()))?;
    }
    Ok(Value::simple("Background append only file rewriting started"))
}

pub(crate) fn slowlog(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    if is(sub, "GET") && args.len() <= 3 {
        let count = match args.get(2) {
            None => 10,
            Some(n) => match super::parse_i64(n) {
                Ok(-1) => usize::MAX,
                Ok(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => {
                    return Err(super::err("ERR count should be greater than or equal to -1"));
                }
            },
        };
        Ok(Value::Array(
            ctx.state
                .slowlog
                .entries()
                .take(count)
                .map(|e| {
                    Value::Array(vec![
                        int(e.id),
                        Value::Integer(e.time_s),
                        Value::Integer(e.micros),
                        Value::Array(e.args.iter().cloned().map(Value::BulkString).collect()),
                        Value::bulk(e.addr.clone()),
                        Value::BulkString(e.name.clone()),
                    ])
                })
                .collect(),
        ))
    } else if is(sub, "LEN") && args.len() == 2 {
        Ok(int(ctx.state.slowlog.len()))
    } else if is(sub, "RESET") && args.len() == 2 {
        ctx.state.slowlog.reset();
        ok()
    } else {
        let known = ["GET", "LEN", "RESET"].iter().any(|k| is(sub, k));
        Err(super::subcommand_error("slowlog", sub, known))
    }
}

pub(crate) fn memory(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    if is(sub, "USAGE") && (args.len() == 3 || args.len() == 5) {
        let now = ctx.now;
        Ok(ctx
            .db()
            .get(&args[2], now)
            .map_or(Value::Null, |e| int(usage(&args[2], &e.data))))
    } else {
        let known = is(sub, "USAGE");
        Err(super::subcommand_error("memory", sub, known))
    }
}

pub(crate) fn object(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    let now = ctx.now;
    let known = ["ENCODING", "IDLETIME", "FREQ", "REFCOUNT"]
        .iter()
        .any(|k| is(sub, k));
    if !known || args.len() != 3 {
        return Err(super::subcommand_error("object", sub, known));
    }
    if is(sub, "FREQ") {
        if !ctx.db().contains(&args[2], now) {
            return Ok(Value::Null);
        }
        return Err(super::err(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    let Some(entry) = ctx.db().get(&args[2], now) else {
        return Ok(Value::Null);
    };
    if is(sub, "IDLETIME") {
        return Ok(int(0));
    }
    if is(sub, "REFCOUNT") {
        return Ok(int(1));
    }
    Ok(Value::bulk(super::entry_encoding(entry)))
}
