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
use super::args::{Args, MultiPop, side};
use super::list::MoveArgs;
use super::registry::Decl;
use super::{Reply, err, is, syntax_error};
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

/// The arguments of BLPOP, BRPOP, BZPOPMIN and BZPOPMAX: `key… timeout`.
struct PopArgs<'a> {
    keys: &'a [Bytes],
    wait: Option<Duration>,
}

impl<'a> PopArgs<'a> {
    /// The timeout is the last word; every word between the name and it is a key.
    fn parse(argv: &'a [Bytes]) -> Result<PopArgs<'a>, Value> {
        let (last, words) = argv.split_last().ok_or_else(syntax_error)?;
        Ok(PopArgs {
            keys: words.get(1..).unwrap_or_default(),
            wait: timeout(last)?,
        })
    }
}

fn blocking_pop(ctx: &mut Ctx<'_>, args: &[Bytes], retry: impl FnOnce(Vec<Bytes>) -> Retry) -> Reply {
    let PopArgs { keys, wait } = PopArgs::parse(args)?;
    block_or_reply(ctx, retry(keys.to_vec()), wait)
}

pub(crate) fn blpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    blocking_pop(ctx, args, |keys| Retry::Pop { keys, left: true })
}

pub(crate) fn brpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    blocking_pop(ctx, args, |keys| Retry::Pop { keys, left: false })
}

pub(crate) fn bzpopmin(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    blocking_pop(ctx, args, |keys| Retry::ZPop { keys, max: false })
}

pub(crate) fn bzpopmax(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    blocking_pop(ctx, args, |keys| Retry::ZPop { keys, max: true })
}

/// A blocking move and its timeout.
fn blocking_move(ctx: &mut Ctx<'_>, mv: MoveArgs<'_>, wait: Option<Duration>) -> Reply {
    let MoveArgs {
        source,
        destination,
        from_left,
        to_left,
    } = mv;
    let retry = Retry::Move {
        src: source.clone(),
        dst: destination.clone(),
        from_left,
        to_left,
    };
    block_or_reply(ctx, retry, wait)
}

pub(crate) fn blmove(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // LMOVE's arguments (the sides checked first), then the timeout.
    let mut words = Args::new(args);
    let mv = MoveArgs::parse(&mut words)?;
    let wait = timeout(words.next_bytes()?)?;
    blocking_move(ctx, mv, wait)
}

pub(crate) fn brpoplpush(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut words = Args::new(args);
    let (source, destination) = (words.next_bytes()?, words.next_bytes()?);
    let wait = timeout(words.next_bytes()?)?;
    let mv = MoveArgs {
        source,
        destination,
        from_left: false,
        to_left: true,
    };
    blocking_move(ctx, mv, wait)
}

/// The arguments of BLMPOP and BZMPOP: `timeout numkeys key… <where> [COUNT n]`, checked in the order this server
/// has always checked them: the timeout, numkeys, the number of words, the count, and only then (by the caller)
/// `<where>`. (Redis 7.0 checks `<where>` before the count, and the timeout last.)
struct BlockingMultiPop<'a> {
    wait: Option<Duration>,
    pop: MultiPop<'a, &'a Bytes>,
}

impl<'a> BlockingMultiPop<'a> {
    fn parse(argv: &'a [Bytes]) -> Result<BlockingMultiPop<'a>, Value> {
        let mut args = Args::new(argv);
        let wait = timeout(args.next_bytes()?)?;
        let pop = MultiPop::parse(&mut args, Ok)?;
        Ok(BlockingMultiPop { wait, pop })
    }
}

pub(crate) fn blmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let BlockingMultiPop {
        wait,
        pop: MultiPop { keys, end, count },
    } = BlockingMultiPop::parse(args)?;
    let left = side(end)?;
    let keys = keys.to_vec();
    block_or_reply(ctx, Retry::MPop { keys, left, count }, wait)
}

pub(crate) fn bzmpop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let BlockingMultiPop {
        wait,
        pop: MultiPop { keys, end, count },
    } = BlockingMultiPop::parse(args)?;
    let max = if is(end, "MAX") {
        true
    } else if is(end, "MIN") {
        false
    } else {
        return Err(syntax_error());
    };
    let keys = keys.to_vec();
    block_or_reply(ctx, Retry::ZMPop { keys, max, count }, wait)
}
