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
