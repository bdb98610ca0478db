//! Client-side caching support: CLIENT TRACKING, CACHING, TRACKINGINFO, GETREDIR, and the invalidation messages.
//!
//! Default mode: the server remembers which clients read which keys (read-only commands only) and, when such a key
//! changes — written, deleted, expired — sends each of them one invalidation and forgets the pair until the client
//! reads the key again. BCAST mode: every change to a key under one of the client's prefixes (all keys without
//! prefixes) is announced, with no remembering. Writes mark keys in their database (`Db::touch`); after each command
//! [`deliver`] turns the marks into messages, so the cost is nil while no client tracks.
//!
//! A RESP3 client gets `>2 invalidate [keys]` pushes; with `REDIRECT id` the messages go to that client instead — as
//! pushes if it speaks RESP3, or as `__redis__:invalidate` messages if it is a RESP2 subscriber. FLUSHDB and FLUSHALL
//! send a null invalidation ("everything") to every tracking client.

use std::collections::HashMap;

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::Ctx;
use super::args::Args;
use super::{CommandSpec, Reply, err, int, is, ok, parse_i64, syntax_error};
use crate::state::State;
use crate::state::tracking::TrackingMode;

const INVALIDATE_CHANNEL: &str = "__redis__:invalidate";

fn set_active(state: &mut State) {
    let on = state.tracking.active();
    for db in &mut state.dbs {
        db.track_writes(on);
    }
}

/// A tracking client disconnected.
pub(crate) fn client_gone(state: &mut State) {
    state.tracking.client_off();
    set_active(state);
}

fn parse_redirect(ctx: &Ctx<'_>, arg: &[u8]) -> Result<u64, Value> {
    let id = parse_i64(arg)?;
    let id = u64::try_from(id).unwrap_or(0);
    if id == ctx.session.id() {
        return Ok(id);
    }
    if !ctx.state.clients.contains(id) {
        return Err(err("ERR The client ID you want redirect to does not exist"));
    }
    Ok(id)
}

/// `CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]… [BCAST] [OPTIN] [OPTOUT] [NOLOOP]`, read before any check
/// of how the options combine (those come after, in Redis's order, against the client's current mode).
struct TrackingArgs {
    on: bool,
    mode: TrackingMode,
}

impl TrackingArgs {
    /// The REDIRECT target must exist when named (checked as it is read, as Redis does).
    fn parse(ctx: &Ctx<'_>, argv: &[Bytes]) -> Result<TrackingArgs, Value> {
        let mut args = Args::at(argv, 2);
        let on = match args.eat_one_of(["ON", "OFF"]) {
            Some("ON") => true,
            Some(_) => false,
            None => return Err(syntax_error()),
        };
        let mut mode = TrackingMode::default();
        while let Some(opt) = args.next() {
            if is(opt, "REDIRECT")
                && let Some(id) = args.next()
            {
                mode.redirect = Some(parse_redirect(ctx, id)?);
            } else if is(opt, "PREFIX")
                && let Some(prefix) = args.next()
            {
                mode.prefixes.push(prefix.clone());
            } else if is(opt, "BCAST") {
                mode.bcast = true;
            } else if is(opt, "OPTIN") {
                mode.optin = true;
            } else if is(opt, "OPTOUT") {
                mode.optout = true;
            } else if is(opt, "NOLOOP") {
                mode.noloop = true;
            } else {
                return Err(syntax_error());
            }
        }
        Ok(TrackingArgs { on, mode })
    }
}

pub(crate) fn client_tracking(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let TrackingArgs { on, mut mode } = TrackingArgs::parse(ctx, args)?;
    let id = ctx.session.id();
    let current = ctx.state.clients.get(id).and_then(|r| r.tracking.clone());
    if !on {
        if current.is_some() {
            if let Some(r) = ctx.state.clients.get_mut(id) {
                r.tracking = None;
            }
            ctx.state.tracking.client_off();
            set_active(ctx.state);
        }
        return ok();
    }
    if !mode.bcast && !mode.prefixes.is_empty() {
        return Err(err("ERR PREFIX option requires BCAST mode to be enabled"));
    }
    if current.as_ref().is_some_and(|cur| cur.bcast != mode.bcast) {
        return Err(err(
            "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }

    if mode.optin && mode.optout {
        return Err(err("ERR You can't specify both OPTIN mode and OPTOUT mode"));
    }
    if let Some(cur) = &current
        && ((mode.optin && cur.optout) || (mode.optout && cur.optin))
    {
        return Err(err(
            "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.",
        ));
    }
    if mode.bcast && (mode.optin || mode.optout) {
        return Err(err("ERR OPTIN and OPTOUT are not compatible with BCAST"));
    }
    // Prefixes of one client must not overlap (one would be announced twice): each new one is checked against the
    // existing ones, then against the other new ones.
    let existing: Vec<Bytes> = current.as_ref().map(|c| c.prefixes.clone()).unwrap_or_default();
    let overlap = |p: &Bytes, q: &Bytes| p.starts_with(q) || q.starts_with(p);
    for (i, p) in mode.prefixes.iter().enumerate() {
        let clash = existing
            .iter()
            .find(|q| overlap(p, q))
            .map(|q| ("an existing", q))
            .or_else(|| {
                mode.prefixes
                    .iter()
                    .enumerate()
                    .find(|(j, q)| *j != i && overlap(p, q))
                    .map(|(_, q)| ("another provided", q))
            });
        if let Some((which, q)) = clash {
            return Err(err(&format!(
                "ERR Prefix '{}' overlaps with {which} prefix '{}'. Prefixes for a single client must not overlap.",
                String::from_utf8_lossy(p),
                String::from_utf8_lossy(q)
            )));
        }
    }
    let mut all = existing;
    all.extend(mode.prefixes.iter().cloned());
    mode.prefixes = all;
    if current.is_none() {
        ctx.state.tracking.client_on();
    }
    if let Some(r) = ctx.state.clients.get_mut(id) {
        r.tracking = Some(mode);
    }
    set_active(ctx.state);
    ok()
}

pub(crate) fn caching(ctx: &mut Ctx<'_>, arg: &[u8]) -> Reply {
    let id = ctx.session.id();
    let mode = ctx
        .state
        .clients.get_mut(id)
        .and_then(|r| r.tracking.as_mut())
        .filter(|m| m.optin || m.optout)
        .ok_or_else(|| {
            err(
                "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled",
            )
        })?;
    if is(arg, "YES") {
        if !mode.optin {
            return Err(err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ));
        }
        mode.caching = Some(true);
    } else if is(arg, "NO") {
        if !mode.optout {
            return Err(err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ));
        }
        mode.caching = Some(false);
    } else {
        return Err(syntax_error());
    }
    ctx.session.set_caching_flag();
    ok()
}

pub(crate) fn tracking_info(ctx: &mut Ctx<'_>) -> Value {
    let mode = ctx
        .state
        .clients
        .get(ctx.session.id())
        .and_then(|r| r.tracking.clone());
    let Some(mode) = mode else {
        return Value::Map(vec![
            (Value::bulk("flags"), Value::Set(vec![Value::bulk("off")])),
            (Value::bulk("redirect"), Value::Integer(-1)),
            (Value::bulk("prefixes"), Value::Array(vec![])),
        ]);
    };
    let mut flags = vec![Value::bulk("on")];
    for (set, name) in [
        (mode.bcast, "bcast"),
        (mode.optin, "optin"),
        (mode.optout, "optout"),
        (mode.caching == Some(true), "caching-yes"),
        (mode.caching == Some(false), "caching-no"),
        (mode.noloop, "noloop"),
    ] {
        if set {
            flags.push(Value::bulk(name));
        }
    }
    let redirect = match mode.redirect {
        Some(r) if !ctx.state.clients.contains(r) => {
            flags.push(Value::bulk("broken_redirect"));
            int(r)
        }
        Some(r) => int(r),
        None => Value::Integer(0),
    };
    Value::Map(vec![
        (Value::bulk("flags"), Value::Set(flags)),
        (Value::bulk("redirect"), redirect),
        (
            Value::bulk("prefixes"),
            Value::Array(mode.prefixes.iter().cloned().map(Value::BulkString).collect()),
        ),
    ])
}

pub(crate) fn get_redirect(ctx: &mut Ctx<'_>) -> Value {
    match ctx
        .state
        .clients
        .get(ctx.session.id())
        .and_then(|r| r.tracking.as_ref())
    {
        None => Value::Integer(-1),
        Some(m) => m.redirect.map_or(Value::Integer(0), int),
    }
}

/// After a command ran: remember the keys a default-mode tracking client read, and spend a CLIENT CACHING flag.
pub(crate) fn after_command(ctx: &mut Ctx<'_>, spec: &CommandSpec, args: &[Bytes]) {
    let id = ctx.session.id();
    let Some(mode) = ctx.state.clients.tracking_mut(id) else {
        return;
    };
    let caching = mode.caching;
    // The flag set by CLIENT CACHING lasts for the one command after it (a whole MULTI/EXEC counts as one).
    if !ctx.session.take_caching_flag() && !ctx.session.in_multi() && !ctx.session.in_exec() {
        mode.caching = None;
    }
    if mode.bcast {
        return;
    }
    let track = if mode.optin {
        caching == Some(true)
    } else if mode.optout {
        caching != Some(false)
    } else {
        true
    };
    let readonly = spec
        .info
        .flags
        .contains(redkit_resp::command::CommandFlags::READONLY);
    if !track || !readonly {
        return;
    }
    for key in spec.keys(args) {
        ctx.state.tracking.remember(&key, id);
    }
    limit_table(ctx.state);
}

/// Keep the tracking table within `tracking-table-max-keys`, as Redis does: a key forgotten early is invalidated
/// for its readers (so their caches stay correct).
fn limit_table(state: &mut State) {
    while let Some((key, readers)) = state.tracking.evict_one() {
        for client in readers {
            send(state, client, Value::Array(vec![Value::BulkString(key.clone())]));
        }
    }
}

/// Send the invalidations for what the last command changed; `writer` is the client that ran it (NOLOOP).
pub(crate) fn deliver(state: &mut State, writer: Option<u64>) {
    if !state.tracking.active() {
        return;
    }
    let mut keys = Vec::new();
    let mut flushed = false;
    for db in &mut state.dbs {
        flushed |= db.take_tracked(&mut keys);
    }
    if flushed {
        state.tracking.forget_all();
        let targets: Vec<u64> = state
            .clients
            .iter()
            .filter(|(_, r)| r.tracking.is_some())
            .map(|(id, _)| *id)
            .collect();
        for id in targets {
            send(state, id, Value::Null);
        }
    }
    if keys.is_empty() {
        return;
    }
    keys.sort();
    keys.dedup();
    // Default mode: each reader once per key, then forgotten.
    let mut per_client: HashMap<u64, Vec<Bytes>> = HashMap::new();
    for key in &keys {
        if let Some(readers) = state.tracking.take_readers(key) {
            for client in readers {
                per_client.entry(client).or_default().push(key.clone());
            }
        }
    }
    // BCAST: every client whose prefixes cover the key.
    for (id, record) in state.clients.iter() {
        if let Some(mode) = &record.tracking
            && mode.bcast
        {
            for key in &keys {
                if mode.prefixes.is_empty() || mode.prefixes.iter().any(|p| key.starts_with(p)) {
                    per_client.entry(*id).or_default().push(key.clone());
                }
            }
        }
    }
    for (id, keys) in per_client {
        let Some(mode) = state.clients.tracking(id) else {
            continue;
        };
        if mode.noloop && Some(id) == writer {
            continue;
        }
        if mode.bcast {
            send(
                state,
                id,
                Value::Array(keys.into_iter().map(Value::BulkString).collect()),
            );
        } else {
            for key in keys {
                send(state, id, Value::Array(vec![Value::BulkString(key)]));
            }
        }
    }
}

/// Deliver one invalidation (`keys`: an array of keys, or null for "everything") for tracking client `id`.
fn send(state: &State, id: u64, keys: Value) {
    let Some(record) = state.clients.get(id) else {
        return;
    };
    let Some(mode) = &record.tracking else {
        return;
    };
    let target_id = mode.redirect.unwrap_or(id);
    let Some(target) = state.clients.get(target_id) else {
        // The redirect target is gone: a RESP3 client is told so.
        if record.resp == RespVersion::Resp3
            && let Some(mailbox) = &record.mailbox
        {
            let _ = mailbox.send(Value::Push(vec![
                Value::bulk("tracking-redir-broken"),
                int(target_id),
            ]));
        }
        return;
    };
    let Some(mailbox) = &target.mailbox else {
        return;
    };
    let message = if target.resp == RespVersion::Resp3 {
        Value::Push(vec![Value::bulk("invalidate"), keys])
    } else if target.subs[0] > 0 || target.subs[1] > 0 {
        Value::Push(vec![
            Value::bulk("message"),
            Value::bulk(INVALIDATE_CHANNEL),
            keys,
        ])
    } else {
        return;
    };
    let _ = mailbox.send(message);
}
