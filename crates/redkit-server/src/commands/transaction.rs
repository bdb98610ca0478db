//! MULTI/EXEC/DISCARD and optimistic locking with WATCH.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::dispatch::dispatch;
use super::registry::Decl;
use super::{Reply, err, ok};
use crate::state::session::WatchedKey;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("multi", multi).immediate(),
    Decl::new("exec", exec).immediate(),
    Decl::new("discard", discard).immediate(),
    Decl::new("watch", watch).immediate(),
    Decl::new("unwatch", unwatch),
];

pub(crate) fn multi(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if !ctx.session.transaction_mut().begin() {
        return Err(err("ERR MULTI calls can not be nested"));
    }
    ok()
}

pub(crate) fn discard(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    if ctx.session.transaction_mut().take().is_none() {
        return Err(err("ERR DISCARD without MULTI"));
    }
    release_watches(ctx.state, ctx.session);
    ok()
}

/// Forget `session`'s WATCHed keys, releasing each from its database's version table (unless the database has
/// started a new epoch since, which dropped the table).
pub(crate) fn release_watches(state: &mut crate::state::State, session: &mut crate::state::Session) {
    for watched in session.transaction_mut().unwatch() {
        if let Some(d) = state.dbs.get_mut(watched.db)
            && d.epoch == watched.epoch
        {
            d.unwatch(&watched.key);
        }
    }
}

/// Whether any WATCHed key changed (or its database was flushed or swapped) since WATCH.
fn watch_broken(ctx: &mut Ctx<'_>) -> bool {
    let now = ctx.now;
    let broken = ctx.session.transaction().watched().iter().any(|w| {
        let d = &mut ctx.state.dbs[w.db];
        // Reading expires the key if due, which counts as a change, as in Redis.
        d.get(&w.key, now);
        d.version(&w.key) != w.version || d.epoch != w.epoch
    });
    release_watches(ctx.state, ctx.session);
    broken
}

pub(crate) fn exec(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    let Some((queue, rejected)) = ctx.session.transaction_mut().take() else {
        return Err(err("ERR EXEC without MULTI"));
    };
    if rejected {
        release_watches(ctx.state, ctx.session);
        return Err(err("EXECABORT Transaction discarded because of previous errors."));
    }
    if watch_broken(ctx) {
        return Ok(Value::Null);
    }
    // Blocking commands never block inside a transaction.
    ctx.session.set_in_exec(true);
    let mut replies = Vec::with_capacity(queue.len());
    let mut pushes = Vec::new();
    let resp3 = ctx.session.resp3();
    for args in &queue {
        let reply = dispatch(ctx, args);
        // A command answering more than once ((UN)SUBSCRIBE: once per channel) has all its answers in the array —
        // where Redis's header counts commands, not answers, and a RESP2 client reads past it. RESP3 pushes go out
        // of band, before the array.
        match ctx.session.take_replies() {
            Some(many) => {
                for v in many {
                    match v {
                        Value::Push(_) if resp3 => pushes.push(v),
                        other => replies.push(other),
                    }
                }
            }
            None => replies.push(reply),
        }
    }
    ctx.session.set_in_exec(false);
    if pushes.is_empty() {
        return Ok(Value::Array(replies));
    }
    pushes.push(Value::Array(replies));
    ctx.session.reply_with(pushes);
    Ok(Value::Null)
}

pub(crate) fn watch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if ctx.session.in_multi() {
        return Err(err("ERR WATCH inside MULTI is not allowed"));
    }
    let now = ctx.now;
    let db = ctx.session.db_index();
    for key in &args[1..] {
        let d = &mut ctx.state.dbs[db];
        d.get(key, now);
        let watched = WatchedKey {
            db,
            key: key.clone(),
            version: d.watch(key),
            epoch: d.epoch,
        };
        ctx.session.transaction_mut().watch(watched);
    }
    ok()
}

pub(crate) fn unwatch(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    release_watches(ctx.state, ctx.session);
    ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::test_support::run;
    use redkit_resp::Value;

    use crate::engine::Server;

    #[test]
    fn watched_keys_are_forgotten_once_nobody_watches_them() {
        let server = Server::new(crate::ServerConfig::default());
        let (mut a, mut b) = (server.session(), server.session());
        // 100,000 distinct keys watched and unwatched leave nothing behind.
        for round in 0..1000 {
            let keys: Vec<String> = (0..100).map(|i| format!("k{round}:{i}")).collect();
            let mut args = vec!["WATCH"];
            args.extend(keys.iter().map(String::as_str));
            assert_eq!(run(&server, &mut a, &args), Value::simple("OK"));
            assert_eq!(run(&server, &mut a, &["UNWATCH"]), Value::simple("OK"));
        }
        assert_eq!(server.watched_keys(), 0);
        // Two watchers of one key: the first one's EXEC does not forget the key for the second.
        for s in [&mut a, &mut b] {
            assert_eq!(run(&server, s, &["WATCH", "shared"]), Value::simple("OK"));
        }
        assert_eq!(run(&server, &mut a, &["MULTI"]), Value::simple("OK"));
        assert_eq!(run(&server, &mut a, &["EXEC"]), Value::Array(vec![]));
        assert_eq!(
            run(&server, &mut a, &["SET", "shared", "changed"]),
            Value::simple("OK")
        );
        assert_eq!(run(&server, &mut b, &["MULTI"]), Value::simple("OK"));
        assert_eq!(run(&server, &mut b, &["PING"]), Value::simple("QUEUED"));
        assert_eq!(run(&server, &mut b, &["EXEC"]), Value::Null);
        assert_eq!(server.watched_keys(), 0);
        // Disconnecting and DISCARD release too.
        assert_eq!(run(&server, &mut b, &["WATCH", "x", "y"]), Value::simple("OK"));
        server.disconnect(&mut b);
        assert_eq!(run(&server, &mut a, &["WATCH", "z"]), Value::simple("OK"));
        assert_eq!(run(&server, &mut a, &["MULTI"]), Value::simple("OK"));
        assert_eq!(run(&server, &mut a, &["DISCARD"]), Value::simple("OK"));
        assert_eq!(server.watched_keys(), 0);
    }
}
