//! Streams: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XREAD (with BLOCK); consumer groups are in `stream_group.rs`.
//!
//! Entries are kept in id order. Approximate trimming (`~`) removes whole nodes, as Redis does; nodes are modelled
//! as runs of 100 entries in insertion order (Redis's `stream-node-max-entries`; its 4 KiB node byte limit is not
//! modelled, so with large entries `~` may keep more than Redis keeps).

use bytes::Bytes;
use redkit_resp::{RespVersion, Value};

use super::Ctx;
use super::args::{Args, streams};
use super::registry::Decl;
use super::{Reply, err, int, is, parse_i64, syntax_error};
use crate::state::Block;
use crate::state::blocked::{BlockedRead, Retry};
use crate::state::db::Data;
use crate::state::stream::{Entry, NODE_ENTRIES, Strategy, Stream, StreamId, Trim};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("xadd", xadd),
    Decl::new("xlen", xlen),
    Decl::new("xrange", xrange),
    Decl::new("xrevrange", xrevrange),
    Decl::new("xdel", xdel),
    Decl::new("xtrim", xtrim),
    Decl::new("xread", xread),
];

pub(crate) fn invalid_id() -> Value {
    err("ERR Invalid stream ID specified as stream command argument")
}

/// `ms-seq`, or `ms` alone with `missing_seq` for the sequence.
pub(crate) fn parse_id(arg: &[u8], missing_seq: u64) -> Result<StreamId, Value> {
    let text = std::str::from_utf8(arg).map_err(|_| invalid_id())?;
    let num = |s: &str| -> Result<u64, Value> {
        if s.is_empty() || s.starts_with('+') || s.starts_with('-') {
            return Err(invalid_id());
        }
        s.parse().map_err(|_| invalid_id())
    };
    match text.split_once('-') {
        Some((ms, seq)) => Ok(StreamId {
            ms: num(ms)?,
            seq: num(seq)?,
        }),
        None => Ok(StreamId {
            ms: num(text)?,
            seq: missing_seq,
        }),
    }
}

/// A range bound: `-`, `+`, an id (incomplete ones widened), or `(` for exclusive.
pub(crate) fn parse_bound(arg: &[u8], start: bool) -> Result<StreamId, Value> {
    match arg {
        b"-" => return Ok(StreamId::default()),
        b"+" => return Ok(StreamId::MAX),
        _ => {}
    }
    if let Some(rest) = arg.strip_prefix(b"(") {
        let id = parse_id(rest, if start { 0 } else { u64::MAX })?;
        let moved = if start { id.next() } else { id.prev() };
        return moved.ok_or_else(|| {
            err(if start {
                "ERR invalid start ID for the interval"
            } else {
                "ERR invalid end ID for the interval"
            })
        });
    }
    parse_id(arg, if start { 0 } else { u64::MAX })
}

/// `MAXLEN|MINID [=|~] threshold [LIMIT count]`, the trimming of XADD and XTRIM, read from the cursor once it is
/// at the strategy's word (`None`, the cursor unmoved, when it is at neither).
fn parse_trim(args: &mut Args<'_>) -> Result<Option<Trim>, Value> {
    let Some(word) = args.eat_one_of(["MAXLEN", "MINID"]) else {
        return Ok(None);
    };
    let approx = match args.eat_one_of(["~", "="]) {
        Some(op) => op == "~",
        None => false,
    };
    let threshold = args.next_bytes()?;
    let strategy = if word == "MAXLEN" {
        let n = parse_i64(threshold)?;
        if n < 0 {
            return Err(err("ERR The MAXLEN argument must be >= 0."));
        }
        Strategy::MaxLen(n as u64)
    } else {
        Strategy::MinId(parse_id(threshold, 0)?)
    };
    let mut limit = None;
    if args.eat("LIMIT") {
        let n = parse_i64(args.next_bytes()?)?;
        if n < 0 {
            return Err(err("ERR The LIMIT argument must be >= 0."));
        }
        if !approx {
            return Err(err(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
        limit = Some(n as u64);
    }
    // Redis's default effort for `~`: 100 nodes' worth.
    if approx && limit.is_none() {
        limit = Some(NODE_ENTRIES * 100);
    }
    if limit == Some(0) {
        limit = None;
    }
    Ok(Some(Trim {
        strategy,
        approx,
        limit,
    }))
}

pub(crate) fn stream_of<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a Stream>, Value> {
    super::read(ctx, key, |d| match d {
        Data::Stream(s) => Some(&**s),
        _ => None,
    })
}

pub(crate) fn stream_mut<'a>(
    ctx: &'a mut Ctx<'_>,
    key: &Bytes,
    create: bool,
) -> Result<Option<&'a mut Stream>, Value> {
    super::collection_mut(
        ctx,
        key,
        create,
        || Data::Stream(Box::default()),
        |d| match d {
            Data::Stream(s) => Some(&mut **s),
            _ => None,
        },
    )
}

pub(crate) fn entry_value(id: StreamId, e: &Entry) -> Value {
    Value::Array(vec![
        Value::bulk(id.text()),
        Value::Array(
            e.fields
                .iter()
                .flat_map(|(f, v)| [Value::BulkString(f.clone()), Value::BulkString(v.clone())])
                .collect(),
        ),
    ])
}

/// The id XADD is asked for: `*`, `ms-*`, or a whole one.
enum WantedId {
    Auto,
    AutoSeq(u64),
    Exact(StreamId),
}

/// XADD's arguments, parsed before anything is applied.
struct XAddArgs<'a> {
    key: &'a Bytes,
    /// NOMKSTREAM: a missing stream is not created.
    nomkstream: bool,
    trim: Option<Trim>,
    id: WantedId,
    /// The field-value pairs (an even, non-zero number of words).
    fields: &'a [Bytes],
}

impl<'a> XAddArgs<'a> {
    /// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|ms-*|id field value [field value …]`
    /// (the options in any order, a later trim replacing an earlier one); the fields are counted before the id is
    /// read.
    fn parse(argv: &'a [Bytes]) -> Result<XAddArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let (mut nomkstream, mut trim) = (false, None);
        loop {
            if args.eat("NOMKSTREAM") {
                nomkstream = true;
            } else if let Some(t) = parse_trim(&mut args)? {
                trim = Some(t);
            } else if args.peek().is_some_and(|w| is(w, "LIMIT")) {
                return Err(err(
                    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
                ));
            } else {
                break;
            }
        }
        let id_arg = args.next_bytes()?;
        let fields = args.rest();
        if fields.is_empty() || !fields.len().is_multiple_of(2) {
            return Err(err("ERR wrong number of arguments for 'xadd' command"));
        }
        let id = if id_arg.as_ref() == b"*" {
            WantedId::Auto
        } else if let Some(ms) = id_arg.strip_suffix(b"-*") {
            WantedId::AutoSeq(parse_id(ms, 0)?.ms)
        } else {
            let id = parse_id(id_arg, 0)?;
            if id == StreamId::default() {
                return Err(err("ERR The ID specified in XADD must be greater than 0-0"));
            }
            WantedId::Exact(id)
        };
        Ok(XAddArgs {
            key,
            nomkstream,
            trim,
            id,
            fields,
        })
    }
}

pub(crate) fn xadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let XAddArgs {
        key,
        nomkstream,
        trim,
        id: wanted,
        fields,
    } = XAddArgs::parse(args)?;
    let now = u64::try_from(ctx.now).unwrap_or(0);
    let Some(stream) = stream_mut(ctx, key, !nomkstream)? else {
        return Ok(Value::Null);
    };
    let smaller = || err("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    let last = stream.last_id;
    if last == StreamId::MAX {
        return Err(err(
            "ERR The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let id = match wanted {
        WantedId::Auto => {
            if now > last.ms {
                StreamId { ms: now, seq: 0 }
            } else {
                last.next().ok_or_else(smaller)?
            }
        }
        WantedId::AutoSeq(ms) if ms > last.ms => StreamId { ms, seq: 0 },
        WantedId::AutoSeq(ms) if ms == last.ms => {
            let seq = last.seq.checked_add(1).ok_or_else(smaller)?;
            StreamId { ms, seq }
        }
        WantedId::AutoSeq(_) => return Err(smaller()),
        WantedId::Exact(id) if id > last => id,
        WantedId::Exact(_) => return Err(smaller()),
    };
    let pairs = fields.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect();
    stream.append(id, pairs);
    if let Some(t) = &trim {
        stream.trim(t);
    }
    Ok(Value::bulk(id.text()))
}

pub(crate) fn xlen(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    Ok(int(stream_of(ctx, &args[1])?.map_or(0, Stream::len)))
}

/// XRANGE's and XREVRANGE's arguments: the interval (in id order, whichever order the command names it) and COUNT.
struct RangeArgs<'a> {
    key: &'a Bytes,
    start: StreamId,
    end: StreamId,
    /// COUNT, a negative one as 0.
    count: Option<usize>,
}

impl<'a> RangeArgs<'a> {
    /// `XRANGE key start end [COUNT n]`, or XREVRANGE's `key end start [COUNT n]` when `rev`: the start bound is
    /// read first, then the end, then COUNT.
    fn parse(argv: &'a [Bytes], rev: bool) -> Result<RangeArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let (first, second) = (args.next_bytes()?, args.next_bytes()?);
        let (start, end) = if rev { (second, first) } else { (first, second) };
        let start = parse_bound(start, true)?;
        let end = parse_bound(end, false)?;
        let count = match args.rest() {
            [] => None,
            [c, n] if is(c, "COUNT") => {
                let n = parse_i64(n)?;
                Some(usize::try_from(n.max(0)).unwrap_or(0))
            }
            _ => return Err(syntax_error()),
        };
        Ok(RangeArgs {
            key,
            start,
            end,
            count,
        })
    }
}

fn range(ctx: &mut Ctx<'_>, args: &[Bytes], rev: bool) -> Reply {
    let RangeArgs {
        key,
        start,
        end,
        count,
    } = RangeArgs::parse(args, rev)?;
    // As Redis: a zero or negative COUNT answers a null array.
    if count == Some(0) {
        return Ok(Value::Null);
    }
    let Some(s) = stream_of(ctx, key)? else {
        return Ok(Value::Array(vec![]));
    };
    Ok(Value::Array(
        s.range(start, end, rev, count)
            .into_iter()
            .map(|(id, e)| entry_value(id, e))
            .collect(),
    ))
}

pub(crate) fn xrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    range(ctx, args, false)
}

pub(crate) fn xrevrange(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    range(ctx, args, true)
}

pub(crate) fn xdel(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    // The key first (a missing one answers 0 whatever the ids), as Redis.
    if stream_of(ctx, &args[1])?.is_none() {
        return Ok(int(0));
    }
    let ids = args[2..]
        .iter()
        .map(|a| parse_id(a, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(s) = stream_mut(ctx, &args[1], false)? else {
        return Ok(int(0));
    };
    let mut n = 0;
    for id in ids {
        if s.entries.remove(&id).is_some() {
            n += 1;
            s.max_deleted = s.max_deleted.max(id);
        }
    }
    Ok(int(n))
}

pub(crate) fn xtrim(ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Reply {
    // `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]`, nothing after.
    let mut args = Args::new(argv);
    let key = args.next_bytes()?;
    let trim = parse_trim(&mut args)?.ok_or_else(syntax_error)?;
    if args.next().is_some() {
        return Err(syntax_error());
    }
    let Some(s) = stream_mut(ctx, key, false)? else {
        return Ok(int(0));
    };
    Ok(int(s.trim(&trim)))
}

/// Entries after `ids[i]` in each stream, at most `count` each: `(key, entries)` for the streams with any.
fn read_new(
    ctx: &mut Ctx<'_>,
    keys: &[Bytes],
    ids: &[StreamId],
    count: Option<usize>,
) -> Result<Vec<(Bytes, Value)>, Value> {
    let mut out = Vec::new();
    for (key, after) in keys.iter().zip(ids) {
        let Some(s) = stream_of(ctx, key)? else { continue };
        let Some(start) = after.next() else { continue };
        let entries: Vec<Value> = s
            .range(start, StreamId::MAX, false, count)
            .into_iter()
            .map(|(id, e)| entry_value(id, e))
            .collect();
        if !entries.is_empty() {
            out.push((key.clone(), Value::Array(entries)));
        }
    }
    Ok(out)
}

/// XREAD's reply: a map of key to entries in RESP3, an array of pairs in RESP2.
pub(crate) fn read_reply(protocol: RespVersion, found: Vec<(Bytes, Value)>) -> Value {
    if protocol == RespVersion::Resp3 {
        Value::Map(
            found
                .into_iter()
                .map(|(k, v)| (Value::BulkString(k), v))
                .collect(),
        )
    } else {
        Value::Array(
            found
                .into_iter()
                .map(|(k, v)| Value::Array(vec![Value::BulkString(k), v]))
                .collect(),
        )
    }
}

impl BlockedRead {
    pub(crate) fn keys(&self) -> Vec<Bytes> {
        self.keys.clone()
    }

    pub(crate) fn try_now(&self, ctx: &mut Ctx<'_>) -> Result<Option<Value>, Value> {
        let found = read_new(ctx, &self.keys, &self.ids, self.count)?;
        Ok((!found.is_empty()).then(|| read_reply(ctx.session.protocol(), found)))
    }
}

/// The COUNT and BLOCK options of XREAD and XREADGROUP.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ReadOptions {
    /// COUNT: at most this many entries per stream (a zero or negative count: no limit).
    pub(crate) count: Option<usize>,
    /// BLOCK: wait up to this many milliseconds (0: forever) when nothing is there yet.
    pub(crate) block: Option<u64>,
}

impl ReadOptions {
    /// Take `COUNT n` or `BLOCK ms` from the cursor: `false`, the cursor unmoved, when it is at neither (or at one
    /// with no word after it).
    pub(crate) fn eat(&mut self, args: &mut Args<'_>) -> Result<bool, Value> {
        let mut ahead = *args;
        let Some(option) = ahead.eat_one_of(["COUNT", "BLOCK"]) else {
            return Ok(false);
        };
        let Some(value) = ahead.next() else {
            return Ok(false);
        };
        *args = ahead;
        if option == "COUNT" {
            let n = parse_i64(value)?;
            self.count = (n > 0).then_some(n as usize);
        } else {
            let ms = parse_i64(value).map_err(|_| err("ERR timeout is not an integer or out of range"))?;
            if ms < 0 {
                return Err(err("ERR timeout is negative"));
            }
            self.block = Some(ms as u64);
        }
        Ok(true)
    }
}

/// Where XREAD reads a stream from: after its last entry (`$`, resolved when the command runs), or after an id.
#[derive(Debug, Clone, Copy)]
enum ReadFrom {
    Last,
    After(StreamId),
    /// An id that does not parse: reported once its key's type is checked, as Redis reads each key before its id.
    Invalid,
}

/// XREAD's arguments, parsed before anything is applied.
struct XReadArgs<'a> {
    options: ReadOptions,
    keys: &'a [Bytes],
    /// One for each key.
    from: Vec<ReadFrom>,
}

impl<'a> XReadArgs<'a> {
    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key… id…`.
    fn parse(argv: &'a [Bytes]) -> Result<XReadArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let mut options = ReadOptions::default();
        while args.peek().is_some() {
            if options.eat(&mut args)? {
                continue;
            }
            if args.eat("STREAMS") {
                break;
            }
            return Err(syntax_error());
        }
        let (keys, ids) = streams(
            args.rest(),
            "ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.",
        )?;
        let from = ids
            .iter()
            .map(|id| {
                if id.as_ref() == b"$" {
                    ReadFrom::Last
                } else {
                    parse_id(id, 0).map_or(ReadFrom::Invalid, ReadFrom::After)
                }
            })
            .collect();
        Ok(XReadArgs { options, keys, from })
    }
}

pub(crate) fn xread(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let XReadArgs {
        options: ReadOptions { count, block },
        keys,
        from,
    } = XReadArgs::parse(args)?;
    let mut ids = Vec::with_capacity(keys.len());
    for (key, from) in keys.iter().zip(from) {
        // Each key's type is checked before its id is read, as Redis.
        let last = stream_of(ctx, key)?.map_or(StreamId::default(), |s| s.last_id);
        ids.push(match from {
            ReadFrom::Last => last,
            ReadFrom::After(id) => id,
            ReadFrom::Invalid => return Err(invalid_id()),
        });
    }
    let found = read_new(ctx, keys, &ids, count)?;
    if !found.is_empty() {
        return Ok(read_reply(ctx.session.protocol(), found));
    }
    if let Some(ms) = block
        && ctx.session.may_block()
    {
        ctx.session.block_on(Block {
            keys: keys.to_vec(),
            timeout: (ms > 0).then(|| std::time::Duration::from_millis(ms)),
            retry: Retry::XRead(BlockedRead {
                keys: keys.to_vec(),
                ids,
                count,
            }),
        });
    }
    Ok(Value::Null)
}
