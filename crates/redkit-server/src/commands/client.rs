//! CLIENT: the connection registry seen from the protocol — ID, GETNAME/SETNAME, INFO/LIST, KILL, TRACKING and
//! friends, PAUSE/UNPAUSE, NO-EVICT.
//!
//! Every session has a [`ClientRecord`] in the server state, refreshed after each of its commands, so one client
//! can list and kill the others. Killing a connection signals its task through a one-shot channel.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::registry::Decl;
use super::subcommand_error;
use super::tracking;
use super::{Reply, err, int, is, ok, parse_i64, syntax_error};
use crate::state::State;
use crate::state::client::ClientRecord;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[Decl::new("client", client)];

/// A CLIENT LIST / CLIENT KILL filter.
#[derive(Default)]
struct Filter {
    ids: Option<Vec<u64>>,
    kind: Option<ClientType>,
    addr: Option<Bytes>,
    laddr: Option<Bytes>,
    user: Option<Bytes>,
    skip_me: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum ClientType {
    Normal,
    Pubsub,
    /// Replicas and masters: the embedded server has none.
    Replication,
}

fn client_type(arg: &[u8]) -> Result<ClientType, Value> {
    if is(arg, "normal") {
        Ok(ClientType::Normal)
    } else if is(arg, "pubsub") {
        Ok(ClientType::Pubsub)
    } else if is(arg, "replica") || is(arg, "slave") || is(arg, "master") {
        Ok(ClientType::Replication)
    } else {
        Err(err(&format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(arg)
        )))
    }
}

impl Filter {
    /// `CLIENT LIST [TYPE type | ID id…]`.
    fn for_list(args: &[Bytes]) -> Result<Filter, Value> {
        let mut filter = Filter::default();
        match &args[2..] {
            [] => {}
            [t, kind] if is(t, "TYPE") => filter.kind = Some(client_type(kind)?),
            [t, ids @ ..] if is(t, "ID") && !ids.is_empty() => {
                let mut list = Vec::new();
                for id in ids {
                    let id = parse_i64(id)
                        .ok()
                        .and_then(|n| u64::try_from(n).ok())
                        .filter(|n| *n > 0)
                        .ok_or_else(|| err("ERR Invalid client ID"))?;
                    list.push(id);
                }
                filter.ids = Some(list);
            }
            _ => return Err(syntax_error()),
        }
        Ok(filter)
    }

    /// The filters of `CLIENT KILL <option value>…` (ID, TYPE, ADDR, LADDR, USER, SKIPME; SKIPME yes by default).
    fn for_kill(args: &[Bytes]) -> Result<Filter, Value> {
        let mut filter = Filter {
            skip_me: true,
            ..Filter::default()
        };
        let mut i = 2;
        while i < args.len() {
            let value = args.get(i + 1).ok_or_else(syntax_error)?;
            let opt = &args[i];
            if is(opt, "ID") {
                let id = parse_i64(value)
                    .ok()
                    .and_then(|n| u64::try_from(n).ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| err("ERR client-id should be greater than 0"))?;
                filter.ids = Some(vec![id]);
            } else if is(opt, "TYPE") {
                filter.kind = Some(client_type(value)?);
            } else if is(opt, "ADDR") {
                filter.addr = Some(value.clone());
            } else if is(opt, "LADDR") {
                filter.laddr = Some(value.clone());
            } else if is(opt, "USER") {
                if !is(value, "default") {
                    return Err(err(&format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(value)
                    )));
                }
                filter.user = Some(value.clone());
            } else if is(opt, "SKIPME") {
                filter.skip_me = if is(value, "yes") {
                    true
                } else if is(value, "no") {
                    false
                } else {
                    return Err(syntax_error());
                };
            } else {
                return Err(syntax_error());
            }
            i += 2;
        }
        Ok(filter)
    }

    fn matches(&self, id: u64, record: &ClientRecord, me: u64) -> bool {
        if self.skip_me && id == me {
            return false;
        }
        if let Some(ids) = &self.ids
            && !ids.contains(&id)
        {
            return false;
        }
        let kind_ok = match self.kind {
            None => true,
            Some(ClientType::Normal) => !record.is_pubsub(),
            Some(ClientType::Pubsub) => record.is_pubsub(),
            Some(ClientType::Replication) => false,
        };
        kind_ok
            && self.addr.as_ref().is_none_or(|a| a == record.addr.as_bytes())
            && self.laddr.as_ref().is_none_or(|a| a == record.laddr.as_bytes())
            && self.user.as_ref().is_none_or(|u| u.as_ref() == b"default")
    }
}

fn client_list(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let filter = Filter::for_list(args)?;
    let now = ctx.now;
    let me = ctx.session.id();
    sync_record(ctx.state, ctx.session, ctx.now);
    let mut listed: Vec<(&u64, &ClientRecord)> = ctx
        .state
        .clients
        .iter()
        .filter(|(id, r)| filter.matches(**id, r, me))
        .collect();
    listed.sort_by_key(|(id, _)| **id);
    let text: String = listed.into_iter().map(|(id, r)| r.line(*id, now)).collect();
    Ok(Value::bulk(text))
}

fn client_kill(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let me = ctx.session.id();
    // The old form: CLIENT KILL addr:port, answering OK or an error.
    if args.len() == 3 {
        let target = ctx
            .state
            .clients
            .iter()
            .find(|(_, r)| r.addr.as_bytes() == args[2].as_ref())
            .map(|(id, _)| *id)
            .ok_or_else(|| err("ERR No such client"))?;
        kill(ctx, target);
        return ok();
    }
    let filter = Filter::for_kill(args)?;
    let targets: Vec<u64> = ctx
        .state
        .clients
        .iter()
        .filter(|(id, r)| filter.matches(**id, r, me))
        .map(|(id, _)| *id)
        .collect();
    for id in &targets {
        kill(ctx, *id);
    }
    Ok(int(targets.len()))
}

/// Close a connection: the caller's own after this reply, any other at once.
fn kill(ctx: &mut Ctx<'_>, id: u64) {
    if id == ctx.session.id() {
        ctx.session.close_after_reply();
        return;
    }
    if let Some(record) = ctx.state.clients.get_mut(id)
        && let Some(kill) = record.kill.take()
    {
        let _ = kill.send(());
    }
}

/// Copy what CLIENT LIST shows from a session into its record.
pub(crate) fn sync_record(state: &mut State, session: &crate::state::Session, now: i64) {
    if let Some(r) = state.clients.get_mut(session.id()) {
        r.last_ms = now;
        r.last_cmd = session.last_command();
        r.db = session.db_index();
        r.resp = session.protocol();
        r.multi = if session.in_multi() {
            i64::try_from(session.transaction().queued_count()).unwrap_or(i64::MAX)
        } else {
            -1
        };
        r.subs = session.subscriptions().counts();
        if r.name.as_ref() != session.name() {
            r.name = session.name().cloned();
        }
    }
}

/// A client name: no spaces, newlines or other special characters; empty clears it.
pub(crate) fn valid_name(name: &Bytes) -> Result<Option<Bytes>, Value> {
    if name.iter().any(|b| *b < b'!' || *b > b'~') {
        return Err(err(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok((!name.is_empty()).then(|| name.clone()))
}

pub(crate) fn client(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let sub = &args[1];
    let n = args.len();
    if is(sub, "ID") && n == 2 {
        Ok(int(ctx.session.id()))
    } else if is(sub, "GETNAME") && n == 2 {
        Ok(ctx.session.name().cloned().map_or(Value::Null, Value::BulkString))
    } else if is(sub, "SETNAME") && n == 3 {
        ctx.session.set_name(valid_name(&args[2])?);
        ok()
    } else if is(sub, "INFO") && n == 2 {
        sync_record(ctx.state, ctx.session, ctx.now);
        let line = ctx
            .state
            .clients
            .get(ctx.session.id())
            .map(|r| r.line(ctx.session.id(), ctx.now))
            .unwrap_or_default();
        Ok(Value::bulk(line))
    } else if is(sub, "LIST") {
        client_list(ctx, args)
    } else if is(sub, "KILL") && n >= 3 {
        client_kill(ctx, args)
    } else if is(sub, "NO-EVICT") && n == 3 {
        if is(&args[2], "ON") || is(&args[2], "OFF") {
            ok()
        } else {
            Err(syntax_error())
        }
    } else if is(sub, "PAUSE") && (n == 3 || n == 4) {
        // Nothing to throttle in the embedded server: PAUSE checks its arguments and has no effect.
        parse_i64(&args[2]).map_err(|_| err("ERR timeout is not an integer or out of range"))?;
        if n == 4 && !(is(&args[3], "WRITE") || is(&args[3], "ALL")) {
            return Err(syntax_error());
        }
        ok()
    } else if is(sub, "UNPAUSE") && n == 2 {
        ok()
    } else if is(sub, "TRACKING") && n >= 3 {
        tracking::client_tracking(ctx, args)
    } else if is(sub, "TRACKINGINFO") && n == 2 {
        Ok(tracking::tracking_info(ctx))
    } else if is(sub, "GETREDIR") && n == 2 {
        Ok(tracking::get_redirect(ctx))
    } else if is(sub, "CACHING") && n == 3 {
        tracking::caching(ctx, &args[2])
    } else {
        let known = [
            "ID",
            "GETNAME",
            "SETNAME",
            "INFO",
            "LIST",
            "KILL",
            "NO-EVICT",
            "PAUSE",
            "UNPAUSE",
            "TRACKING",
            "TRACKINGINFO",
            "GETREDIR",
            "CACHING",
        ]
        .iter()
        .any(|k| is(sub, k));
        Err(subcommand_error("client", sub, known))
    }
}
