//! Streams: entry IDs, entries and XREAD replies, trimming, and the options of XADD and XREAD/XREADGROUP.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use redkit_resp::{ArgWriter, ConversionError, Error, FromValue, Result, ToArg, Value};

use super::time::Millis;
use super::wire::token;

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
