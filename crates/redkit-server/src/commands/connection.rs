//! Connection commands: PING, ECHO, SELECT, SWAPDB, HELLO, AUTH, QUIT, RESET.

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::Ctx;
use super::args::db_index;
use super::registry::Decl;
use super::{Reply, err, int, is, ok, parse_i64, syntax_error};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("ping", ping).in_subscribed_mode(),
    Decl::new("echo", echo),
    Decl::new("select", select),
    Decl::new("swapdb", swapdb),
    Decl::new("hello", hello),
    Decl::new("auth", auth),
    Decl::new("quit", quit).immediate().in_subscribed_mode(),
    Decl::new("reset", reset).immediate().in_subscribed_mode(),
];

pub(crate) fn ping(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // In RESP2 subscribed mode PING answers like a message: ["pong", arg].
    if ctx.session.protocol() == RespVersion::Resp2
        && ctx.session.subscriptions().count() > 0
        && args.len() <= 2
    {
        let arg = args.get(1).cloned().unwrap_or_default();
        return Ok(Value::Array(vec![Value::bulk("pong"), Value::BulkString(arg)]));
    }
    match args.len() {
        1 => Ok(Value::simple("PONG")),
        2 => Ok(Value::BulkString(args[1].clone())),
        _ => Err(err("ERR wrong number of arguments for 'ping' command")),
    }
}

pub(crate) fn echo(_ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(Value::BulkString(args[1].clone()))
}

pub(crate) fn select(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    ctx.session.select(db_index(&args[1])?);
    ok()
}

pub(crate) fn swapdb(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    parse_i64(&args[1]).map_err(|_| err("ERR invalid first DB index"))?;
    parse_i64(&args[2]).map_err(|_| err("ERR invalid second DB index"))?;
    let (a, b) = (db_index(&args[1])?, db_index(&args[2])?);
    ctx.state.dbs.swap(a, b);
    for i in [a, b] {
        let db = &mut ctx.state.dbs[i];
        db.new_epoch();
        db.writes += 1;
        db.changed_whole();
    }
    ok()
}

/// Compare a password in time independent of where the two differ (and of their lengths): both are hashed, and
/// the digests compared byte by byte without stopping early — what Redis's `time_independent_strcmp` is for.
fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let (a, b) = (
        sha1_smol::Sha1::from(expected).digest().bytes(),
        sha1_smol::Sha1::from(given).digest().bytes(),
    );
    let diff = a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Equal digests of unequal inputs would need a SHA-1 collision: compare the inputs too, only then.
    diff == 0 && expected == given
}

fn check_password(ctx: &mut Ctx<'_>, user: Option<&[u8]>, pass: &[u8]) -> Result<(), Value> {
    let wrong = || err("WRONGPASS invalid username-password pair or user is disabled.");
    if user.is_some_and(|u| u != b"default") {
        return Err(wrong());
    }
    match &ctx.state.config.requirepass {
        Some(p) if same_secret(p.as_bytes(), pass) => {
            ctx.session.set_authenticated(true);
            Ok(())
        }
        Some(_) => Err(wrong()),
        None if user.is_some() => {
            // The default user has no password: any password works ("nopass").
            ctx.session.set_authenticated(true);
            Ok(())
        }
        None => Err(err(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        )),
    }
}

pub(crate) fn auth(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match args.len() {
        2 => check_password(ctx, None, &args[1])?,
        3 => check_password(ctx, Some(&args[1]), &args[2])?,
        _ => return Err(syntax_error()),
    }
    ok()
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]`: read in order, AUTH checked as it is met
/// (a wrong password is the first error, as in Redis).
struct HelloArgs {
    /// The protocol asked for, or the session's.
    protocol: RespVersion,
    /// SETNAME's name (`Some(None)` clears it).
    name: Option<Option<Bytes>>,
}

impl HelloArgs {
    fn parse(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Result<HelloArgs, Value> {
        let mut hello = HelloArgs {
            protocol: ctx.session.protocol(),
            name: None,
        };
        let Some((version, mut rest)) = argv.get(1..).and_then(<[Bytes]>::split_first) else {
            return Ok(hello);
        };
        let n =
            parse_i64(version).map_err(|_| err("ERR Protocol version is not an integer or out of range"))?;
        hello.protocol = match n {
            2 => RespVersion::Resp2,
            3 => RespVersion::Resp3,
            _ => return Err(err("NOPROTO unsupported protocol version")),
        };
        loop {
            rest = match rest {
                [] => break,
                [option, user, pass, tail @ ..] if is(option, "AUTH") => {
                    check_password(ctx, Some(user), pass)?;
                    tail
                }
                [option, name, tail @ ..] if is(option, "SETNAME") => {
                    hello.name = Some(super::client::valid_name(name)?);
                    tail
                }
                [option, ..] => {
                    return Err(err(&format!(
                        "ERR Syntax error in HELLO option '{}'",
                        String::from_utf8_lossy(option)
                    )));
                }
            };
        }
        Ok(hello)
    }
}

pub(crate) fn hello(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let HelloArgs { protocol, name } = HelloArgs::parse(ctx, args)?;
    if !ctx.session.is_authenticated() {
        return Err(err(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    ctx.session.set_protocol(protocol);
    if let Some(n) = name {
        ctx.session.set_name(n);
    }
    let proto = if protocol == RespVersion::Resp3 { 3 } else { 2 };
    Ok(Value::Map(vec![
        (Value::bulk("server"), Value::bulk("redis")),
        (Value::bulk("version"), Value::bulk("7.0.15")),
        (Value::bulk("proto"), Value::Integer(proto)),
        (Value::bulk("id"), int(ctx.session.id())),
        (Value::bulk("mode"), Value::bulk("standalone")),
        (Value::bulk("role"), Value::bulk("master")),
        (Value::bulk("modules"), Value::Array(vec![])),
    ]))
}

pub(crate) fn quit(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    ctx.session.close_after_reply();
    ok()
}

pub(crate) fn reset(ctx: &mut Ctx<'_>, _args: &[Bytes]) -> Reply {
    super::transaction::release_watches(ctx.state, ctx.session);
    ctx.session.reset(ctx.state.config.requirepass.is_none());
    ctx.state.pubsub.forget(ctx.session.id());
    Ok(Value::simple("RESET"))
}
