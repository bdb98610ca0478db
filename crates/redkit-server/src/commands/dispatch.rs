//! One command, from its words to its reply: look the name up in the registry, check arity, authentication,
//! subscribed mode and MULTI (queueing), refuse writes the store cannot take, apply the handler, then let
//! tracking see which keys it read. EXEC and `redis.call` run their commands through here too.

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::registry::{CommandSpec, Ctx};

/// Redis's error for an unknown command, quoting up to the first arguments.
fn unknown_command(args: &[Bytes]) -> Value {
    let name = String::from_utf8_lossy(&args[0]);
    let mut text = format!("ERR unknown command '{name}', with args beginning with: ");
    for a in args.iter().skip(1).take(127) {
        text.push_str(&format!("'{}' ", String::from_utf8_lossy(&a[..a.len().min(128)])));
    }
    Value::error(text)
}

pub(crate) fn arity_error(spec: &CommandSpec) -> Value {
    Value::error(format!(
        "ERR wrong number of arguments for '{}' command",
        spec.name
    ))
}

fn arity_ok(spec: &CommandSpec, argc: usize) -> bool {
    spec.accepts_arity(argc)
}

/// `POST` or `Host:` as a command: an HTTP request sent to the server, most likely by a web page attacking it
/// through the browser (cross-protocol scripting). As Redis does: log it and close the connection, answering
/// nothing.
fn security_warning(ctx: &mut Ctx<'_>) -> Value {
    tracing::warn!(
        "Possible SECURITY ATTACK detected. It looks like somebody is sending POST or Host: commands to Redis. This is likely due to an attacker attempting to use Cross Protocol Scripting to compromise your Redis instance. Connection aborted."
    );
    ctx.session.close_after_reply();
    ctx.session.reply_with(Vec::new());
    Value::Null
}

pub(crate) fn dispatch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Value {
    let Some(first) = args.first() else {
        return Value::error("ERR empty command");
    };
    // Lower-case the name on the stack (command names are short).
    let mut buf = [0u8; 32];
    let registry = ctx.registry;
    let spec = if first.len() <= buf.len() {
        let lower = &mut buf[..first.len()];
        lower.copy_from_slice(first);
        lower.make_ascii_lowercase();
        registry.lookup(lower)
    } else {
        None
    };
    let Some(spec) = spec else {
        if first.eq_ignore_ascii_case(b"post") || first.eq_ignore_ascii_case(b"host:") {
            return security_warning(ctx);
        }
        ctx.session.transaction_mut().reject();
        return unknown_command(args);
    };
    if !arity_ok(spec, args.len()) {
        ctx.session.transaction_mut().reject();
        return arity_error(spec);
    }
    if !ctx.session.is_authenticated() && !spec.no_auth {
        return Value::error("NOAUTH Authentication required.");
    }
    if ctx.session.protocol() == RespVersion::Resp2
        && ctx.session.subscriptions().count() > 0
        && !spec.in_subscribed_mode
    {
        return Value::error(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        ));
    }
    if ctx.session.in_multi() && !spec.not_queued {
        ctx.session.transaction_mut().queue(args.to_vec());
        return Value::simple("QUEUED");
    }
    if let Some(refused) = ctx.state.persist.as_ref().and_then(|p| p.write_error.as_deref())
        && spec.is_write()
    {
        return Value::error(format!("MISCONF Errors writing to the AOF file: {refused}"));
    }
    ctx.state.commands_processed += 1;
    ctx.session.set_last_command(spec.name);
    let reply = (spec.apply)(ctx, args).unwrap_or_else(|e| e);
    if ctx.state.tracking.active() {
        super::tracking::after_command(ctx, spec, args);
    }
    reply
}
