//! MULTI/EXEC/DISCARD and optimistic locking with WATCH.

use bytes::Bytes;
use redkit_resp::Value;

use super::{Reply, err, ok};
use crate::server::{Ctx, dispatch};

pub(crate) fn multi(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if ctx.session.multi.is_some() {
        return Err(err("ERR MULTI calls can not be nested"));
    }
    ctx.session.multi = Some((Vec::new(), false));
    ok()
}

pub(crate) fn discard(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if ctx.session.multi.take().is_none() {
        return Err(err("ERR DISCARD without MULTI"));
    }
    ctx.session.watched.clear();
    ok()
}

/// Whether any WATCHed key changed (or its database was flushed or swapped) since WATCH.
fn watch_broken(ctx: &mut Ctx<'_>) -> bool {
    let now = ctx.now;
    let watched = std::mem::take(&mut ctx.session.watched);
    watched.iter().any(|(db, key, version, epoch)| {
        let d = &mut ctx.state.dbs[*db];
        // Reading expires the key if due, which counts as a change, as in Redis.
        d.get(key, now);
        d.version(key) != *version || d.epoch != *epoch
    })
}

pub(crate) fn exec(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let Some((queue, rejected)) = ctx.session.multi.take() else {
        return Err(err("ERR EXEC without MULTI"));
    };
    if rejected {
        ctx.session.watched.clear();
        return Err(err("EXECABORT Transaction discarded because of previous errors."));
    }
    if watch_broken(ctx) {
        return Ok(Value::Null);
    }
    // Blocking commands never block inside a transaction.
    ctx.session.in_exec = true;
    let replies = queue.iter().map(|args| dispatch(ctx, args)).collect();
    ctx.session.in_exec = false;
    Ok(Value::Array(replies))
}

pub(crate) fn watch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if ctx.session.multi.is_some() {
        return Err(err("ERR WATCH inside MULTI is not allowed"));
    }
    let now = ctx.now;
    let db = ctx.session.db;
    for key in &args[1..] {
        let d = &mut ctx.state.dbs[db];
        d.get(key, now);
        let entry = (db, key.clone(), d.watch(key), d.epoch);
        ctx.session.watched.push(entry);
    }
    ok()
}

pub(crate) fn unwatch(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    ctx.session.watched.clear();
    ok()
}
