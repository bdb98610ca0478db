//! [`Value`]: one owned reply from a Redis server, covering every RESP2 and RESP3 type.
//!
//! String-like variants hold [`Bytes`], which the decoder slices straight out of the read buffer, so a 1 MiB bulk
//! reply costs no copy. Aggregates keep the order the server sent (maps are a `Vec` of pairs, not a hash map), so a
//! decoded value re-encodes to the same bytes.

use bytes::Bytes;

/// The three-byte format tag of a RESP3 verbatim string (`=15\r\ntxt:Some string\r\n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerbatimFormat(pub [u8; 3]);

impl VerbatimFormat {
    /// `txt`: plain text (what Redis sends).
    pub const TEXT: VerbatimFormat = VerbatimFormat(*b"txt");
    /// `mkd`: markdown.
    pub const MARKDOWN: VerbatimFormat = VerbatimFormat(*b"mkd");

    /// The three-byte tag written on the wire.
    pub fn as_bytes(&self) -> &[u8; 3] {
        &self.0
    }
}

/// One RESP value: a reply from a server, or (for servers) a reply to send.
///
/// RESP2 has the first six variants; RESP3 adds the rest. When a value is encoded as RESP2 the RESP3-only types
/// are written the way Redis itself downgrades them (see [`crate::encode`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `+OK`: a short, binary-free status string.
    SimpleString(Bytes),
    /// `-ERR …` or RESP3 `!`: an error reply, the whole text (code and message).
    Error(Bytes),
    /// `:42`: a signed 64-bit integer.
    Integer(i64),
    /// `$5\r\nhello`: a binary-safe string.
    BulkString(Bytes),
    /// `*N`: an ordered list of values.
    Array(Vec<Value>),
    /// `$-1`, `*-1` (RESP2) or `_` (RESP3): no value, e.g. GET of a missing key.
    Null,
    /// `%N`: key-value pairs, in the order the server sent them.
    Map(Vec<(Value, Value)>),
    /// `~N`: an unordered collection, kept in the order received.
    Set(Vec<Value>),
    /// `,3.14`: a double, including `inf`, `-inf` and `nan`.
    Double(f64),
    /// `#t` / `#f`.
    Boolean(bool),
    /// `(3492890328409238509324850943850943825024385`: an integer too large for `i64`, as its decimal text.
    BigNumber(Bytes),
    /// `=N\r\ntxt:…`: a string meant to be shown as is.
    VerbatimString {
        /// Whether the text is plain text or markdown.
        format: VerbatimFormat,
        /// The text, without the format prefix.
        text: Bytes,
    },
    /// `>N`: out-of-band data (pub/sub messages, client-side cache invalidations).
    Push(Vec<Value>),
    /// `|N`: attributes the server attached to the value that follows them.
    Attribute {
        /// The attribute pairs.
        attributes: Vec<(Value, Value)>,
        /// The value the attributes describe.
        data: Box<Value>,
    },
}

impl Value {
    /// A short name of the variant, used in conversion errors ("bulk string", "map", …).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::SimpleString(_) => "simple string",
            Value::Error(_) => "error",
            Value::Integer(_) => "integer",
            Value::BulkString(_) => "bulk string",
            Value::Array(_) => "array",
            Value::Null => "null",
            Value::Map(_) => "map",
            Value::Set(_) => "set",
            Value::Double(_) => "double",
            Value::Boolean(_) => "boolean",
            Value::BigNumber(_) => "big number",
            Value::VerbatimString { .. } => "verbatim string",
            Value::Push(_) => "push",
            Value::Attribute { .. } => "attribute",
        }
    }

    /// A bulk string value from anything that converts into [`Bytes`].
    pub fn bulk(data: impl Into<Bytes>) -> Value {
        Value::BulkString(data.into())
    }

    /// A simple string (status) value, e.g. `Value::simple("OK")`.
    pub fn simple(data: impl Into<Bytes>) -> Value {
        Value::SimpleString(data.into())
    }

    /// An error value from its full text, e.g. `Value::error("ERR syntax error")`.
    pub fn error(text: impl Into<Bytes>) -> Value {
        Value::Error(text.into())
    }

    /// `true` for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// `true` for [`Value::Error`].
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }

    /// `true` for [`Value::Push`] (an out-of-band message, not a reply to a command).
    pub fn is_push(&self) -> bool {
        matches!(self, Value::Push(_))
    }

    /// The bytes of a string-like value (simple, bulk, verbatim, big number, error), else `None`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::SimpleString(b)
            | Value::BulkString(b)
            | Value::Error(b)
            | Value::BigNumber(b)
            | Value::VerbatimString { text: b, .. } => Some(b),
            _ => None,
        }
    }

    /// The value with any RESP3 attributes removed (attributes are metadata, not part of the reply).
    pub fn without_attributes(self) -> Value {
        match self {
            Value::Attribute { data, .. } => data.without_attributes(),
            other => other,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::BulkString(Bytes::from(s))
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
