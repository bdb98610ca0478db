//! Server commands: FLUSHDB, FLUSHALL, TIME, INFO, CONFIG, COMMAND.

use bytes::Bytes;
use redkit_resp::Value;

use super::{Reply, int, is, ok, syntax_error};
use crate::server::Ctx;

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
    let ms = ctx.now;
    Ok(Value::Array(vec![
        Value::bulk((ms / 1000).to_string()),
        Value::bulk(((ms % 1000) * 1000).to_string()),
    ]))
}

pub(crate) fn info(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let now = ctx.now;
    let uptime = (now - ctx.state.started_ms).max(0) / 1000;
    let mut text = format!(
        "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nuptime_in_seconds:{uptime}\r\n\r\n\
         # Stats\r\ntotal_commands_processed:{}\r\n\r\n# Keyspace\r\n",
        ctx.state.commands_processed
    );
    for (i, db) in ctx.state.dbs.iter_mut().enumerate() {
        let keys = db.len(now);
        if keys > 0 {
            text.push_str(&format!(
                "db{i}:keys={keys},expires={},avg_ttl=0\r\n",
                db.expires_count()
            ));
        }
    }
    Ok(Value::bulk(text))
}

pub(crate) fn config(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    if is(sub, "GET") && args.len() >= 3 {
        let known = [
            ("databases", "16"),
            ("maxmemory", "0"),
            ("appendonly", "no"),
            ("save", ""),
        ];
        let mut out = Vec::new();
        for pattern in &args[2..] {
            for (k, v) in known {
                if super::glob_match(&pattern.to_ascii_lowercase(), k.as_bytes())
                    && !out.iter().any(|(n, _)| *n == k)
                {
                    out.push((k, v));
                }
            }
        }
        Ok(Value::Map(
            out.into_iter()
                .map(|(k, v)| (Value::bulk(k), Value::bulk(v)))
                .collect(),
        ))
    } else if is(sub, "RESETSTAT") && args.len() == 2 {
        ok()
    } else {
        let known = ["GET", "RESETSTAT"].iter().any(|k| is(sub, k));
        Err(super::connection::subcommand_error("config", sub, known))
    }
}

pub(crate) fn command(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match args.get(1) {
        Some(sub) if is(sub, "COUNT") => Ok(int(super::count())),
        _ => Ok(Value::Array(vec![])),
    }
}

pub(crate) fn lastsave(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    // Nothing is ever saved: report the start time, as a freshly started server does.
    Ok(int(ctx.state.started_ms / 1000))
}

pub(crate) fn slowlog(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // Commands run in microseconds here: nothing reaches the default 10 ms threshold, so the log stays empty.
    let sub = &args[1];
    if is(sub, "GET") && args.len() <= 3 {
        Ok(Value::Array(vec![]))
    } else if is(sub, "LEN") && args.len() == 2 {
        Ok(int(0))
    } else if is(sub, "RESET") && args.len() == 2 {
        ok()
    } else {
        let known = ["GET", "LEN", "RESET"].iter().any(|k| is(sub, k));
        Err(super::connection::subcommand_error("slowlog", sub, known))
    }
}

pub(crate) fn memory(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    if is(sub, "USAGE") && (args.len() == 3 || args.len() == 5) {
        let now = ctx.now;
        // An estimate in the spirit of Redis's: key, value and per-entry overhead.
        Ok(ctx.db().get(&args[2], now).map_or(Value::Null, |e| {
            let payload = match &e.data {
                crate::db::Data::Str(s) => s.len(),
                crate::db::Data::List(l) => l.iter().map(|v| v.len() + 16).sum(),
                crate::db::Data::Set(s) => s.iter().map(|v| v.len() + 24).sum(),
                crate::db::Data::Hash(h) => h.iter().map(|(k, v)| k.len() + v.len() + 32).sum(),
                crate::db::Data::ZSet(z) => z.scores.keys().map(|m| m.len() + 48).sum(),
            };
            int(args[2].len() + payload + 48)
        }))
    } else {
        let known = is(sub, "USAGE");
        Err(super::connection::subcommand_error("memory", sub, known))
    }
}

pub(crate) fn object(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    let now = ctx.now;
    let known = ["ENCODING", "IDLETIME", "FREQ", "REFCOUNT"]
        .iter()
        .any(|k| is(sub, k));
    if !known || args.len() != 3 {
        return Err(super::connection::subcommand_error("object", sub, known));
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
    // Redis 7.0's default encoding thresholds (128 entries, 64-byte values; 44-byte embedded strings).
    let small = |len: usize, max_value: usize| len <= 128 && max_value <= 64;
    let encoding = match &entry.data {
        crate::db::Data::Str(s) if s.len() <= 20 && super::parse_i64(s).is_ok() => "int",
        crate::db::Data::Str(s) if s.len() <= 44 => "embstr",
        crate::db::Data::Str(_) => "raw",
        // Redis 7.0: lists are always quicklists; sets are intsets or hash tables (listpack lists and sets came
        // with 7.2).
        crate::db::Data::List(_) => "quicklist",
        crate::db::Data::Set(s) if s.len() <= 512 && s.iter().all(|m| super::parse_i64(m).is_ok()) => {
            "intset"
        }
        crate::db::Data::Set(_) => "hashtable",
        crate::db::Data::Hash(h)
            if small(
                h.len(),
                h.iter().map(|(k, v)| k.len().max(v.len())).max().unwrap_or(0),
            ) =>
        {
            "listpack"
        }
        crate::db::Data::Hash(_) => "hashtable",
        crate::db::Data::ZSet(z) if small(z.len(), z.scores.keys().map(|m| m.len()).max().unwrap_or(0)) => {
            "listpack"
        }
        crate::db::Data::ZSet(_) => "skiplist",
    };
    Ok(Value::bulk(encoding))
}
