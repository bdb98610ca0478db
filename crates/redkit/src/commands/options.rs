//! Option builders and result types shared by the command families. Options are [`ToArg`]s that write their
//! own tokens, so a command body reads `Cmd::new("SET").arg(key).arg(value).arg(options)`.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redkit_resp::{ArgWriter, ConversionError, Error, FromValue, Result, ToArg, Value};

fn token<W: ArgWriter + ?Sized>(out: &mut W, t: &str) {
    out.write_arg(t.as_bytes());
}

fn millis(d: Duration) -> u128 {
    d.as_millis()
}

fn unix_millis(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// The time to live of a key, from TTL / PTTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ttl {
    /// The key does not exist (`-2`).
    NoKey,
    /// The key exists and does not expire (`-1`).
    NoExpiry,
    /// The key expires after this long.
    Expires(Duration),
}

impl Ttl {
    fn from_reply(value: Value, unit: Duration) -> Result<Ttl> {
        match i64::from_value(value)? {
            -2 => Ok(Ttl::NoKey),
            -1 => Ok(Ttl::NoExpiry),
            n if n >= 0 => Ok(Ttl::Expires(
                unit.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX)),
            )),
            n => Err(
                ConversionError::new("a TTL (-2, -1 or a non-negative count)", format!("integer {n}")).into(),
            ),
        }
    }
}

/// [`Ttl`] read from a `TTL` reply (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlSeconds(pub Ttl);

impl FromValue for TtlSeconds {
    fn from_value(value: Value) -> Result<Self> {
        Ttl::from_reply(value, Duration::from_secs(1)).map(TtlSeconds)
    }
}

impl FromValue for Ttl {
    /// From a `PTTL` reply (milliseconds).
    fn from_value(value: Value) -> Result<Self> {
        Ttl::from_reply(value, Duration::from_millis(1))
    }
}

/// When a key's expiry is set: a point in time, from EXPIRETIME / PEXPIRETIME.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpireTime {
    /// The key does not exist.
    NoKey,
    /// The key has no expiry.
    NoExpiry,
    /// The key expires at this time.
    At(SystemTime),
}

impl FromValue for ExpireTime {
    /// From a `PEXPIRETIME` reply (Unix milliseconds).
    fn from_value(value: Value) -> Result<Self> {
        match i64::from_value(value)? {
            -2 => Ok(ExpireTime::NoKey),
            -1 => Ok(ExpireTime::NoExpiry),
            n => Ok(ExpireTime::At(
                UNIX_EPOCH + Duration::from_millis(n.unsigned_abs()),
            )),
        }
    }
}

/// An expiry to set with SET or GETEX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Expire after this long (sent as `PX` milliseconds).
    In(Duration),
    /// Expire at this time (sent as `PXAT`).
    At(SystemTime),
    /// SET only: keep the key's current expiry (`KEEPTTL`).
    KeepTtl,
    /// GETEX only: remove the expiry (`PERSIST`).
    Persist,
}

impl ToArg for Expiry {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self {
            Expiry::In(d) => {
                token(out, "PX");
                millis(*d).max(1).write_args(out);
            }
            Expiry::At(t) => {
                token(out, "PXAT");
                unix_millis(*t).write_args(out);
            }
            Expiry::KeepTtl => token(out, "KEEPTTL"),
            Expiry::Persist => token(out, "PERSIST"),
        }
    }
}

/// Whether a write applies only to new or only to existing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Condition {
    /// Always.
    #[default]
    Always,
    /// Only if the key (or member) does not exist (`NX`).
    Nx,
    /// Only if it exists (`XX`).
    Xx,
}

impl ToArg for Condition {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self {
            Condition::Always => {}
            Condition::Nx => token(out, "NX"),
            Condition::Xx => token(out, "XX"),
        }
    }
}

/// Options of SET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetOptions {
    condition: Condition,
    expiry: Option<Expiry>,
}

impl SetOptions {
    /// No options: a plain SET.
    pub fn new() -> SetOptions {
        SetOptions::default()
    }
    /// Only set a key that does not exist.
    #[must_use]
    pub fn nx(mut self) -> Self {
        self.condition = Condition::Nx;
        self
    }
    /// Only set a key that exists.
    #[must_use]
    pub fn xx(mut self) -> Self {
        self.condition = Condition::Xx;
        self
    }
    /// Expire after `ttl`.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.expiry = Some(Expiry::In(ttl));
        self
    }
    /// Expire at `at`.
    #[must_use]
    pub fn expire_at(mut self, at: SystemTime) -> Self {
        self.expiry = Some(Expiry::At(at));
        self
    }
    /// Keep the current expiry.
    #[must_use]
    pub fn keep_ttl(mut self) -> Self {
        self.expiry = Some(Expiry::KeepTtl);
        self
    }
}

impl ToArg for SetOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        self.condition.write_args(out);
        self.expiry.write_args(out);
    }
}

/// When EXPIRE-family commands apply (Redis 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpireCondition {
    /// Always.
    #[default]
    Always,
    /// Only if the key has no expiry.
    Nx,
    /// Only if the key has an expiry.
    Xx,
    /// Only if the new expiry is later.
    Gt,
    /// Only if the new expiry is sooner.
    Lt,
}

impl ToArg for ExpireCondition {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self {
            ExpireCondition::Always => {}
            ExpireCondition::Nx => token(out, "NX"),
            ExpireCondition::Xx => token(out, "XX"),
            ExpireCondition::Gt => token(out, "GT"),
            ExpireCondition::Lt => token(out, "LT"),
        }
    }
}

/// A time span sent as whole seconds (rounded up, so a positive span never becomes 0).
#[derive(Debug, Clone, Copy)]
pub struct Seconds(pub Duration);

impl ToArg for Seconds {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        let d = self.0;
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        secs.write_args(out);
    }
}

/// A time span sent as milliseconds (rounded up).
#[derive(Debug, Clone, Copy)]
pub struct Millis(pub Duration);

impl ToArg for Millis {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        let d = self.0;
        let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
        ms.write_args(out);
    }
}

/// A blocking timeout in fractional seconds; `None` blocks forever (`0`).
#[derive(Debug, Clone, Copy)]
pub struct BlockTimeout(pub Option<Duration>);

impl ToArg for BlockTimeout {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self.0 {
            None => 0.write_args(out),
            Some(d) => d.as_secs_f64().max(0.001).write_args(out),
        }
    }
}

/// A point in time sent as Unix seconds.
#[derive(Debug, Clone, Copy)]
pub struct UnixSeconds(pub SystemTime);

impl ToArg for UnixSeconds {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        (unix_millis(self.0) / 1000).write_args(out);
    }
}

/// A point in time sent as Unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct UnixMillis(pub SystemTime);

impl ToArg for UnixMillis {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        unix_millis(self.0).write_args(out);
    }
}

/// Options of SCAN, SSCAN, HSCAN and ZSCAN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanOptions {
    pattern: Option<Bytes>,
    count: Option<u64>,
    kind: Option<String>,
}

impl ScanOptions {
    /// No filter, the server's default batch size.
    pub fn new() -> ScanOptions {
        ScanOptions::default()
    }
    /// Only keys (members) matching a glob pattern (`MATCH`).
    #[must_use]
    pub fn pattern(mut self, pattern: impl Into<Bytes>) -> Self {
        self.pattern = Some(pattern.into());
        self
    }
    /// Ask for about this many per call (`COUNT`).
    #[must_use]
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }
    /// SCAN only: only keys of this type (`TYPE string|list|set|zset|hash|stream`).
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

impl ToArg for ScanOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if let Some(p) = &self.pattern {
            token(out, "MATCH");
            out.write_arg(p);
        }
        if let Some(c) = self.count {
            token(out, "COUNT");
            c.write_args(out);
        }
        if let Some(k) = &self.kind {
            token(out, "TYPE");
            out.write_arg(k.as_bytes());
        }
    }
}

/// One page of a SCAN-family reply: the next cursor (0 when done) and the items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPage<T> {
    /// Pass this to the next call; `0` means the scan is complete.
    pub cursor: u64,
    /// The items of this page.
    pub items: Vec<T>,
}

impl<T: FromValue> FromValue for ScanPage<T> {
    fn from_value(value: Value) -> Result<Self> {
        let (cursor, items): (u64, Vec<T>) = FromValue::from_value(value)?;
        Ok(ScanPage { cursor, items })
    }
}

/// A side of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The head (`LEFT`).
    Left,
    /// The tail (`RIGHT`).
    Right,
}

impl ToArg for Side {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(out, if *self == Side::Left { "LEFT" } else { "RIGHT" });
    }
}

/// Where LINSERT puts the new element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Before the pivot.
    Before,
    /// After the pivot.
    After,
}

impl ToArg for Position {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(
            out,
            if *self == Position::Before {
                "BEFORE"
            } else {
                "AFTER"
            },
        );
    }
}

/// Options of LPOS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LPosOptions {
    rank: Option<i64>,
    maxlen: Option<u64>,
}

impl LPosOptions {
    /// The first match from the head.
    pub fn new() -> Self {
        Self::default()
    }
    /// The n-th match (negative: from the tail).
    #[must_use]
    pub fn rank(mut self, rank: i64) -> Self {
        self.rank = Some(rank);
        self
    }
    /// Compare at most this many elements.
    #[must_use]
    pub fn maxlen(mut self, maxlen: u64) -> Self {
        self.maxlen = Some(maxlen);
        self
    }
}

impl ToArg for LPosOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if let Some(r) = self.rank {
            token(out, "RANK");
            r.write_args(out);
        }
        if let Some(m) = self.maxlen {
            token(out, "MAXLEN");
            m.write_args(out);
        }
    }
}

/// The reply of LMPOP / BLMPOP / ZMPOP: the key popped from and its elements; `None` when nothing was popped.
pub type KeyedPop<T> = Option<(String, Vec<T>)>;

/// Options of ZADD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZAddOptions {
    condition: Condition,
    comparison: Option<&'static str>,
    ch: bool,
}

impl ZAddOptions {
    /// Add or update.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only add new members.
    #[must_use]
    pub fn nx(mut self) -> Self {
        self.condition = Condition::Nx;
        self
    }
    /// Only update existing members.
    #[must_use]
    pub fn xx(mut self) -> Self {
        self.condition = Condition::Xx;
        self
    }
    /// Only update when the new score is greater.
    #[must_use]
    pub fn gt(mut self) -> Self {
        self.comparison = Some("GT");
        self
    }
    /// Only update when the new score is less.
    #[must_use]
    pub fn lt(mut self) -> Self {
        self.comparison = Some("LT");
        self
    }
    /// Count changed members, not only added ones.
    #[must_use]
    pub fn ch(mut self) -> Self {
        self.ch = true;
        self
    }
}

impl ToArg for ZAddOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        self.condition.write_args(out);
        if let Some(c) = self.comparison {
            token(out, c);
        }
        if self.ch {
            token(out, "CH");
        }
    }
}

/// A score bound of a sorted-set range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScoreBound {
    /// Including this score.
    Inclusive(f64),
    /// Excluding this score (`(1.5`).
    Exclusive(f64),
    /// Negative infinity.
    MinusInf,
    /// Positive infinity.
    PlusInf,
}

impl ToArg for ScoreBound {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self {
            ScoreBound::Inclusive(s) => s.write_args(out),
            ScoreBound::Exclusive(s) => {
                let mut text = String::from("(");
                let mut buf = Vec::<Vec<u8>>::new();
                s.write_args(&mut buf);
                text.push_str(&String::from_utf8_lossy(
                    buf.first().map(Vec::as_slice).unwrap_or(b"0"),
                ));
                out.write_arg(text.as_bytes());
            }
            ScoreBound::MinusInf => token(out, "-inf"),
            ScoreBound::PlusInf => token(out, "+inf"),
        }
    }
}

/// A lexicographic bound of a sorted-set range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// Including this member (`[a`).
    Inclusive(Bytes),
    /// Excluding this member (`(a`).
    Exclusive(Bytes),
    /// Before every member (`-`).
    Min,
    /// After every member (`+`).
    Max,
}

impl ToArg for LexBound {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        let (prefix, body): (&[u8], &[u8]) = match self {
            LexBound::Inclusive(b) => (b"[", b),
            LexBound::Exclusive(b) => (b"(", b),
            LexBound::Min => (b"-", b""),
            LexBound::Max => (b"+", b""),
        };
        out.write_arg(&[prefix, body].concat());
    }
}

/// What ZRANGE (and ZRANGESTORE) ranges over.
#[derive(Debug, Clone, PartialEq)]
pub enum ZRange {
    /// By rank: `start` and `stop` indexes (negative from the end).
    Rank(i64, i64),
    /// By score (`BYSCORE`).
    Score(ScoreBound, ScoreBound),
    /// By member name (`BYLEX`).
    Lex(LexBound, LexBound),
}

/// Options of ZRANGE: the range, order, and paging.
#[derive(Debug, Clone, PartialEq)]
pub struct ZRangeOptions {
    range: ZRange,
    rev: bool,
    limit: Option<(i64, i64)>,
}

impl ZRangeOptions {
    /// Members ranked `start..=stop`.
    pub fn rank(start: i64, stop: i64) -> Self {
        ZRangeOptions {
            range: ZRange::Rank(start, stop),
            rev: false,
            limit: None,
        }
    }
    /// Members with scores between `min` and `max`.
    pub fn score(min: ScoreBound, max: ScoreBound) -> Self {
        ZRangeOptions {
            range: ZRange::Score(min, max),
            rev: false,
            limit: None,
        }
    }
    /// Members between `min` and `max` lexicographically (all with equal scores).
    pub fn lex(min: LexBound, max: LexBound) -> Self {
        ZRangeOptions {
            range: ZRange::Lex(min, max),
            rev: false,
            limit: None,
        }
    }
    /// Highest first. For score and lex ranges, give the bounds as usual (min, max): they are swapped on the wire.
    #[must_use]
    pub fn rev(mut self) -> Self {
        self.rev = true;
        self
    }
    /// Skip `offset`, return at most `count` (score and lex ranges only).
    #[must_use]
    pub fn limit(mut self, offset: i64, count: i64) -> Self {
        self.limit = Some((offset, count));
        self
    }
}

impl ToArg for ZRangeOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match &self.range {
            ZRange::Rank(a, b) => (a, b).write_args(out),
            ZRange::Score(min, max) => {
                if self.rev {
                    (max, min).write_args(out)
                } else {
                    (min, max).write_args(out)
                }
                token(out, "BYSCORE");
            }
            ZRange::Lex(min, max) => {
                if self.rev {
                    (max, min).write_args(out)
                } else {
                    (min, max).write_args(out)
                }
                token(out, "BYLEX");
            }
        }
        if self.rev {
            token(out, "REV");
        }
        if let Some((offset, count)) = self.limit {
            token(out, "LIMIT");
            (offset, count).write_args(out);
        }
    }
}

/// How ZUNION/ZINTER combine scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// Add them (the default).
    Sum,
    /// Keep the lowest.
    Min,
    /// Keep the highest.
    Max,
}

/// Options of ZUNION, ZINTER and their STORE forms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZCombineOptions {
    weights: Vec<f64>,
    aggregate: Option<Aggregate>,
}

impl ZCombineOptions {
    /// Sum with weight 1.
    pub fn new() -> Self {
        Self::default()
    }
    /// One weight per input key.
    #[must_use]
    pub fn weights(mut self, weights: impl IntoIterator<Item = f64>) -> Self {
        self.weights = weights.into_iter().collect();
        self
    }
    /// How to combine scores.
    #[must_use]
    pub fn aggregate(mut self, aggregate: Aggregate) -> Self {
        self.aggregate = Some(aggregate);
        self
    }
}

impl ToArg for ZCombineOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if !self.weights.is_empty() {
            token(out, "WEIGHTS");
            self.weights.write_args(out);
        }
        if let Some(a) = self.aggregate {
            token(out, "AGGREGATE");
            token(
                out,
                match a {
                    Aggregate::Sum => "SUM",
                    Aggregate::Min => "MIN",
                    Aggregate::Max => "MAX",
                },
            );
        }
    }
}

/// A member with its score, from `WITHSCORES` replies (RESP2 flat or RESP3 nested).
pub type Scored<T> = Vec<(T, f64)>;

/// A stream entry ID (`1526919030474-55`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// An ID from its parts.
    pub fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl std::str::FromStr for StreamId {
    type Err = ConversionError;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let bad = || ConversionError::new("a stream ID like 1526919030474-0", format!("{s:?}"));
        let (ms, seq) = s.split_once('-').unwrap_or((s, "0"));
        Ok(StreamId {
            ms: ms.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
        })
    }
}

impl FromValue for StreamId {
    fn from_value(value: Value) -> Result<Self> {
        String::from_value(value)?.parse().map_err(Error::from)
    }
}

impl ToArg for StreamId {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        out.write_arg(self.to_string().as_bytes());
    }
}

/// One stream entry: its ID and field-value pairs, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry<V = Bytes> {
    /// The entry ID.
    pub id: StreamId,
    /// Field-value pairs as added.
    pub fields: Vec<(String, V)>,
}

impl<V> StreamEntry<V> {
    /// The value of the first field named `name`.
    pub fn get(&self, name: &str) -> Option<&V> {
        self.fields.iter().find(|(f, _)| f == name).map(|(_, v)| v)
    }
}

impl<V: FromValue> FromValue for StreamEntry<V> {
    fn from_value(value: Value) -> Result<Self> {
        let (id, fields): (StreamId, Option<Vec<(String, V)>>) = FromValue::from_value(value)?;
        Ok(StreamEntry {
            id,
            fields: fields.unwrap_or_default(),
        })
    }
}

/// XREAD / XREADGROUP replies: entries per stream key (RESP2 arrays and RESP3 maps alike). Empty when the read
/// timed out.
pub type StreamRead<V = Bytes> = HashMap<String, Vec<StreamEntry<V>>>;

/// How a stream is trimmed (XADD and XTRIM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamTrim {
    strategy: &'static str,
    threshold: Bytes,
    approximate: bool,
    limit: Option<u64>,
}

impl StreamTrim {
    /// Keep at most `len` entries (`MAXLEN =`).
    pub fn maxlen(len: u64) -> StreamTrim {
        StreamTrim {
            strategy: "MAXLEN",
            threshold: len.to_string().into(),
            approximate: false,
            limit: None,
        }
    }
    /// Drop entries with IDs below `id` (`MINID =`).
    pub fn minid(id: StreamId) -> StreamTrim {
        StreamTrim {
            strategy: "MINID",
            threshold: id.to_string().into(),
            approximate: false,
            limit: None,
        }
    }
    /// Trim approximately (`~`), which is much cheaper.
    #[must_use]
    pub fn approximate(mut self) -> Self {
        self.approximate = true;
        self
    }
    /// With `~`, evict at most this many entries per call (`LIMIT`).
    #[must_use]
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }
}

impl ToArg for StreamTrim {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(out, self.strategy);
        token(out, if self.approximate { "~" } else { "=" });
        out.write_arg(&self.threshold);
        if let Some(l) = self.limit {
            token(out, "LIMIT");
            l.write_args(out);
        }
    }
}

/// Options of XADD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XAddOptions {
    nomkstream: bool,
    trim: Option<StreamTrim>,
}

impl XAddOptions {
    /// Create the stream if missing, never trim.
    pub fn new() -> Self {
        Self::default()
    }
    /// Do not create a missing stream (the reply is then `None`).
    #[must_use]
    pub fn nomkstream(mut self) -> Self {
        self.nomkstream = true;
        self
    }
    /// Trim while adding.
    #[must_use]
    pub fn trim(mut self, trim: StreamTrim) -> Self {
        self.trim = Some(trim);
        self
    }
}

impl ToArg for XAddOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if self.nomkstream {
            token(out, "NOMKSTREAM");
        }
        self.trim.write_args(out);
    }
}

/// Options of XREAD and XREADGROUP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XReadOptions {
    count: Option<u64>,
    block: Option<Duration>,
    noack: bool,
}

impl XReadOptions {
    /// Return at once, with everything available.
    pub fn new() -> Self {
        Self::default()
    }
    /// At most this many entries per stream.
    #[must_use]
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }
    /// Wait up to this long for entries (`Duration::ZERO` waits forever). Runs on a connection of its own.
    #[must_use]
    pub fn block(mut self, block: Duration) -> Self {
        self.block = Some(block);
        self
    }
    /// XREADGROUP only: do not add the entries to the pending list.
    #[must_use]
    pub fn noack(mut self) -> Self {
        self.noack = true;
        self
    }
}

impl ToArg for XReadOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if let Some(c) = self.count {
            token(out, "COUNT");
            c.write_args(out);
        }
        if let Some(b) = self.block {
            token(out, "BLOCK");
            Millis(b).write_args(out);
        }
        if self.noack {
            token(out, "NOACK");
        }
    }
}

/// Distance units of the geo commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeoUnit {
    /// Meters.
    #[default]
    Meters,
    /// Kilometers.
    Kilometers,
    /// Miles.
    Miles,
    /// Feet.
    Feet,
}

impl ToArg for GeoUnit {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(
            out,
            match self {
                GeoUnit::Meters => "m",
                GeoUnit::Kilometers => "km",
                GeoUnit::Miles => "mi",
                GeoUnit::Feet => "ft",
            },
        );
    }
}

/// The query of GEOSEARCH / GEOSEARCHSTORE.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoSearch {
    from: GeoFrom,
    shape: GeoShape,
    unit: GeoUnit,
    order: Option<&'static str>,
    count: Option<(u64, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
enum GeoFrom {
    Member(Bytes),
    LonLat(f64, f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum GeoShape {
    Radius(f64),
    Box(f64, f64),
}

impl GeoSearch {
    /// Around an existing member, within `radius`.
    pub fn from_member_radius(member: impl Into<Bytes>, radius: f64, unit: GeoUnit) -> GeoSearch {
        GeoSearch {
            from: GeoFrom::Member(member.into()),
            shape: GeoShape::Radius(radius),
            unit,
            order: None,
            count: None,
        }
    }
    /// Around a longitude/latitude, within `radius`.
    pub fn from_lonlat_radius(lon: f64, lat: f64, radius: f64, unit: GeoUnit) -> GeoSearch {
        GeoSearch {
            from: GeoFrom::LonLat(lon, lat),
            shape: GeoShape::Radius(radius),
            unit,
            order: None,
            count: None,
        }
    }
    /// Around an existing member, within a `width` × `height` box.
    pub fn from_member_box(member: impl Into<Bytes>, width: f64, height: f64, unit: GeoUnit) -> GeoSearch {
        GeoSearch {
            from: GeoFrom::Member(member.into()),
            shape: GeoShape::Box(width, height),
            unit,
            order: None,
            count: None,
        }
    }
    /// Around a longitude/latitude, within a `width` × `height` box.
    pub fn from_lonlat_box(lon: f64, lat: f64, width: f64, height: f64, unit: GeoUnit) -> GeoSearch {
        GeoSearch {
            from: GeoFrom::LonLat(lon, lat),
            shape: GeoShape::Box(width, height),
            unit,
            order: None,
            count: None,
        }
    }
    /// Nearest first.
    #[must_use]
    pub fn asc(mut self) -> Self {
        self.order = Some("ASC");
        self
    }
    /// Farthest first.
    #[must_use]
    pub fn desc(mut self) -> Self {
        self.order = Some("DESC");
        self
    }
    /// At most `n` results; with `any`, stop at the first `n` found (faster, not the nearest).
    #[must_use]
    pub fn count(mut self, n: u64, any: bool) -> Self {
        self.count = Some((n, any));
        self
    }
}

impl ToArg for GeoSearch {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match &self.from {
            GeoFrom::Member(m) => {
                token(out, "FROMMEMBER");
                out.write_arg(m);
            }
            GeoFrom::LonLat(lon, lat) => {
                token(out, "FROMLONLAT");
                (lon, lat).write_args(out);
            }
        }
        match self.shape {
            GeoShape::Radius(r) => {
                token(out, "BYRADIUS");
                r.write_args(out);
            }
            GeoShape::Box(w, h) => {
                token(out, "BYBOX");
                (w, h).write_args(out);
            }
        }
        self.unit.write_args(out);
        if let Some(o) = self.order {
            token(out, o);
        }
        if let Some((n, any)) = self.count {
            token(out, "COUNT");
            n.write_args(out);
            if any {
                token(out, "ANY");
            }
        }
    }
}

/// A GEOSEARCH result with everything asked for (`WITHCOORD WITHDIST WITHHASH`).
#[derive(Debug, Clone, PartialEq)]
pub struct GeoMatch {
    /// The member.
    pub member: String,
    /// Distance from the center, in the query's unit.
    pub distance: f64,
    /// The raw 52-bit geohash score.
    pub hash: i64,
    /// Longitude and latitude.
    pub coordinates: (f64, f64),
}

impl FromValue for GeoMatch {
    fn from_value(value: Value) -> Result<Self> {
        let (member, distance, hash, coordinates) = FromValue::from_value(value)?;
        Ok(GeoMatch {
            member,
            distance,
            hash,
            coordinates,
        })
    }
}

/// A bitwise operation of BITOP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// AND.
    And,
    /// OR.
    Or,
    /// XOR.
    Xor,
    /// NOT (one source key).
    Not,
}

impl ToArg for BitOp {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(
            out,
            match self {
                BitOp::And => "AND",
                BitOp::Or => "OR",
                BitOp::Xor => "XOR",
                BitOp::Not => "NOT",
            },
        );
    }
}

/// Units of BITCOUNT/BITPOS ranges (Redis 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitUnit {
    /// Byte offsets.
    Byte,
    /// Bit offsets.
    Bit,
}

/// A BITCOUNT/BITPOS range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitRange {
    /// First offset (negative from the end).
    pub start: i64,
    /// Last offset, inclusive.
    pub end: i64,
    /// Whether offsets count bytes or bits.
    pub unit: BitUnit,
}

impl ToArg for BitRange {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        (self.start, self.end).write_args(out);
        token(out, if self.unit == BitUnit::Bit { "BIT" } else { "BYTE" });
    }
}

/// Filters of CLIENT KILL (all given must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientKillFilter {
    args: Vec<(&'static str, String)>,
}

impl ClientKillFilter {
    /// No filter yet (add at least one).
    pub fn new() -> Self {
        Self::default()
    }
    /// The client with this ID.
    #[must_use]
    pub fn id(mut self, id: i64) -> Self {
        self.args.push(("ID", id.to_string()));
        self
    }
    /// Clients connected from `ip:port`.
    #[must_use]
    pub fn addr(mut self, addr: impl Into<String>) -> Self {
        self.args.push(("ADDR", addr.into()));
        self
    }
    /// Clients connected to this local `ip:port`.
    #[must_use]
    pub fn laddr(mut self, addr: impl Into<String>) -> Self {
        self.args.push(("LADDR", addr.into()));
        self
    }
    /// Clients of this type (`normal`, `master`, `replica`, `pubsub`).
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.args.push(("TYPE", kind.into()));
        self
    }
    /// Clients authenticated as this user.
    #[must_use]
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.args.push(("USER", user.into()));
        self
    }
    /// Whether the calling client may kill itself (default yes).
    #[must_use]
    pub fn skip_me(mut self, skip: bool) -> Self {
        self.args.push(("SKIPME", if skip { "yes" } else { "no" }.into()));
        self
    }
    /// Clients idle at least this many seconds (Redis 7.4+).
    #[must_use]
    pub fn max_age(mut self, secs: u64) -> Self {
        self.args.push(("MAXAGE", secs.to_string()));
        self
    }
}

impl ToArg for ClientKillFilter {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        for (name, value) in &self.args {
            token(out, name);
            out.write_arg(value.as_bytes());
        }
    }
}

/// How many of the given items exist, were added, … : a count the server returns as an integer.
pub type Count = i64;
