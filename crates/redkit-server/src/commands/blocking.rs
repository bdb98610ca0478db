//! Blocking commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! Each first tries its non-blocking form. If nothing is available (and it is not running inside EXEC, where Redis
//! never blocks), the session records a [`Block`]; the connection registers the client and waits. Every later
//! command ends by serving blocked clients oldest first (`engine.rs`), retrying their non-blocking form, as Redis
//! serves clients blocked on a key in arrival order.

use std::time::Duration;

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::side;
use super::registry::Decl;
use super::{Reply, err, is, parse_i64, syntax_error};
use crate::state::Block;
use crate::state::blocked::Retry;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("blpop", blpop),
    Decl::new("brpop", brpop),
    Decl::new("blmove", blmove),
    Decl::new("brpoplpush", brpoplpush),
    Decl::new("blmpop", blmpop),
    Decl::new("bzpopmin", bzpopmin),
    Decl::new("bzpopmax", bzpopmax),
    Decl::new("bzmpop", bzmpop),
];

impl Retry {
    /// Try once; `Ok(None)` while nothing is available.
    fn try_now(&self, ctx: &mut Ctx<'_>) -> Result<Option<Value>, Value> {
        match self {
            Retry::Pop { keys, left } => {
                for key in keys {
                    if let Some(mut v) = super::list::pop_n(ctx, key, *left, 1)?
                        && let Some(item) = v.pop()
                    {
                        return Ok(Some(Value::Array(vec![
                            Value::BulkString(key.clone()),
                            Value::BulkString(item),
                        ])));
                    }
                }
                Ok(None)
            }
            Retry::Move {
                src,
                dst,
                from_left,
                to_left,
            } => {
                let v = super::list::do_move(ctx, src, dst, *from_left, *to_left)?;
                Ok((!v.is_null()).then_some(v))
            }
            Retry::MPop { keys, left, count } => {
                for key in keys {
                    if let Some(items) = super::list::pop_n(ctx, key, *left, *count)?
                        && !items.is_empty()
                    {
                        return Ok(Some(Value::Array(vec![
                            Value::BulkString(key.clone()),
                            Value::Array(items.into_iter().map(Value::BulkString).collect()),
                        ])));
                    }
                }
                Ok(None)
            }
            Retry::ZPop { keys, max } => {
                for key in keys {
                    let items = super::zset::pop(ctx, key, *max, 1)?;
                    if let Some((m, s)) = items.into_iter().next() {
                        let score = super::zset::score_value(ctx, s);
                        return Ok(Some(Value::Array(vec![
                            Value::BulkString(key.clone()),
                            Value::BulkString(m),
                            score,
                        ])));
                    }
                }
                Ok(None)
            }
            Retry::XRead(read) => read.try_now(ctx),
            Retry::XReadGroup(read) => read.try_now(ctx),
            Retry::ZMPop { keys, max, count } => {
                for key in keys {
                    let items = super::zset::pop(ctx, key, *max, *count)?;
                    if !items.is_empty() {
                        let nested = super::zset::with_scores_nested(ctx, items);
                        return Ok(Some(Value::Array(vec![Value::BulkString(key.clone()), nested])));
                    }
                }
                Ok(None)
            }
        }
    }

    /// Retry for a blocked client: a reply, or `None` to keep waiting.
    pub(crate) fn run(&self, ctx: &mut Ctx<'_>) -> Option<Value> {
        match self.try_now(ctx) {
            Ok(v) => v,
            Err(e) => Some(e),
        }
    }

    fn keys(&self) -> Vec<Bytes> {
        match self {
            Retry::Pop { keys, .. }
            | Retry::MPop { keys, .. }
            | Retry::ZPop { keys, .. }
            | Retry::ZMPop { keys, .. } => keys.clone(),
            Retry::Move { src, .. } => vec![src.clone()],
            Retry::XRead(read) => read.keys(),
            Retry::XReadGroup(read) => read.keys(),
        }
    }
}

/// A blocking timeout in seconds (fractional), as Redis's `getTimeoutFromObjectOrReply` reads it: whole
/// milliseconds (so below 1 ms is 0, which waits forever), `timeout is negative` for a negative value — and for
/// one too large for a 64-bit count of milliseconds, which Redis's conversion turns negative — and no deadline
/// for one past the end of time.
fn timeout(arg: &[u8]) -> Result<Option<Duration>, Value> {
    let secs: f64 = std::str::from_utf8(arg)
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| !s.is_nan())
        .ok_or_else(|| err("ERR timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).trunc();
    if ms < 0.0 || ms >= i64::MAX as f64 {
        return Err(err("ERR timeout is negative"));
    }
    // In range: a finite value below 2^63.
    let ms = ms as i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    if ms > i64::MAX - now {
        // A deadline past the end of time: redis-server 7.0.15 waits (its sum wraps); so does this, forever.
        return Ok(None);
    }
    Ok((ms > 0).then(|| Duration::from_millis(ms.unsigned_abs())))
}

fn block_or_reply(ctx: &mut Ctx<'_>, retry: Retry, wait: Option<Duration>) -> Reply {
    if let Some(v) = retry.try_now(ctx)? {
        return Ok(v);
    }
    if ctx.session.may_block() {
        ctx.session.block_on(Block {
            keys: retry.keys(),
            timeout: wait,
            retry,
        });
    }
    Ok(Value::Null)
}

pub(crate) fn blpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let wait = timeout(&args[args.len() - 1])?;
    block_or_reply(
        ctx,
        Retry::Pop {
            keys: args[1..args.len() - 1].to_vec(),
            left: true,
        },
        wait,
    )
}

pub(crate) fn brpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let wait = timeout(&args[args.len() - 1])?;
    block_or_reply(
        ctx,
        Retry::Pop {
            keys: args[1..args.len() - 1].to_vec(),
            left: false,
        },
        wait,
    )
}

pub(crate) fn blmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (from_left, to_left) = (side(&args[3])?, side(&args[4])?);
    let wait = timeout(&args[5])?;
    block_or_reply(
        ctx,
        Retry::Move {
            src: args[1].clone(),
            dst: args[2].clone(),
            from_left,
            to_left,
        },
        wait,
    )
}

pub(crate) fn brpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let wait = timeout(&args[3])?;
    block_or_reply(
        ctx,
        Retry::Move {
            src: args[1].clone(),
            dst: args[2].clone(),
            from_left: false,
            to_left: true,
        },
        wait,
    )
}

/// `timeout numkeys key… <where> [COUNT n]`: the keys, the `<where>` argument and the count.
fn multi_pop_args(args: &[Bytes]) -> Result<(Option<Duration>, Vec<Bytes>, Bytes, usize), Value> {
    let wait = timeout(&args[1])?;
    let n = parse_i64(&args[2])?;
    if n <= 0 {
        return Err(err("ERR numkeys should be greater than 0"));
    }
    let n = n as usize;
    if args.len() < 4 + n {
        return Err(syntax_error());
    }
    let count = super::count_option(&args[4 + n..])?;
    Ok((wait, args[3..3 + n].to_vec(), args[3 + n].clone(), count))
}

pub(crate) fn blmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (wait, keys, dir, count) = multi_pop_args(args)?;
    let left = side(&dir)?;
    block_or_reply(ctx, Retry::MPop { keys, left, count }, wait)
}

pub(crate) fn bzpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let wait = timeout(&args[args.len() - 1])?;
    block_or_reply(
        ctx,
        Retry::ZPop {
            keys: args[1..args.len() - 1].to_vec(),
            max: false,
        },
        wait,
    )
}

pub(crate) fn bzpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let wait = timeout(&args[args.len() - 1])?;
    block_or_reply(
        ctx,
        Retry::ZPop {
            keys: args[1..args.len() - 1].to_vec(),
            max: true,
        },
        wait,
    )
}

pub(crate) fn bzmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (wait, keys, dir, count) = multi_pop_args(args)?;
    let max = if is(&dir, "MAX") {
        true
    } else if is(&dir, "MIN") {
        false
    } else {
        return Err(syntax_error());
    };
    block_or_reply(ctx, Retry::ZMPop { keys, max, count }, wait)
}
