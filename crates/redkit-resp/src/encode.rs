//! Encoding [`Value`]s as RESP2 or RESP3 bytes, straight into a [`BytesMut`].
//!
//! Commands are encoded by [`Cmd`](crate::Cmd) itself (their arguments are pre-encoded as they are added); this
//! module is for replies, which the embedded server and tests write.
//!
//! # RESP2 downgrades
//! RESP2 has no maps, sets, doubles, booleans, big numbers, verbatim strings, pushes or attributes. Encoding a
//! value as RESP2 writes them the way Redis does for a RESP2 client: maps as flat arrays `[k1, v1, k2, v2, …]`,
//! sets and pushes as arrays, doubles, big numbers and verbatim strings as bulk strings, booleans as `:1`/`:0`,
//! null as `$-1`, and attributes are dropped.
//!
//! Simple strings and simple errors cannot contain `\r` or `\n`; like Redis, the encoder replaces them with
//! spaces in a simple string, and writes an error that contains them as a RESP3 blob error (`!`) or, in RESP2, with
//! them replaced.

use bytes::{BufMut, BytesMut};

use crate::decode::RespVersion;
use crate::value::Value;

/// Append the RESP encoding of `value` to `out`.
///
/// ```
/// use bytes::BytesMut;
/// use redkit_resp::{encode_value, RespVersion, Value};
///
/// let mut out = BytesMut::new();
/// encode_value(&Value::Map(vec![(Value::simple("a"), Value::Integer(1))]), RespVersion::Resp3, &mut out);
/// assert_eq!(&out[..], b"%1\r\n+a\r\n:1\r\n");
/// out.clear();
/// encode_value(&Value::Map(vec![(Value::simple("a"), Value::Integer(1))]), RespVersion::Resp2, &mut out);
/// assert_eq!(&out[..], b"*2\r\n+a\r\n:1\r\n");
/// ```
pub fn encode_value(value: &Value, version: RespVersion, out: &mut BytesMut) {
    let resp3 = version == RespVersion::Resp3;
    match value {
        Value::SimpleString(s) => line(out, b'+', s),
        Value::Error(e) if resp3 && e.iter().any(|&b| b == b'\r' || b == b'\n') => blob(out, b'!', e),
        Value::Error(e) => line(out, b'-', e),
        Value::Integer(i) => header(out, b':', *i),
        Value::BulkString(b) => blob(out, b'$', b),
        Value::Array(items) => seq(out, b'*', items, version),
        Value::Null if resp3 => out.put_slice(b"_\r\n"),
        Value::Null => out.put_slice(b"$-1\r\n"),
        Value::Map(pairs) if resp3 => map(out, b'%', pairs, version),
        Value::Map(pairs) => {
            header(out, b'*', pairs.len() * 2);
            for (k, v) in pairs {
                encode_value(k, version, out);
                encode_value(v, version, out);
            }
        }
        Value::Set(items) => seq(out, if resp3 { b'~' } else { b'*' }, items, version),
        Value::Push(items) => seq(out, if resp3 { b'>' } else { b'*' }, items, version),
        Value::Double(d) => {
            let mut buf = ryu::Buffer::new();
            let text = format_double(*d, &mut buf);
            if resp3 {
                line(out, b',', text.as_bytes());
            } else {
                blob(out, b'$', text.as_bytes());
            }
        }
        Value::Boolean(b) if resp3 => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Value::Boolean(b) => out.put_slice(if *b { b":1\r\n" } else { b":0\r\n" }),
        Value::BigNumber(n) if resp3 => line(out, b'(', n),
        Value::BigNumber(n) => blob(out, b'$', n),
        Value::VerbatimString { format, text } if resp3 => {
            header(out, b'=', text.len() + 4);
            out.put_slice(format.as_bytes());
            out.put_u8(b':');
            out.put_slice(text);
            out.put_slice(b"\r\n");
        }
        Value::VerbatimString { text, .. } => blob(out, b'$', text),
        Value::Attribute { attributes, data } => {
            if resp3 {
                map(out, b'|', attributes, version);
            }
            encode_value(data, version, out);
        }
    }
}

impl Value {
    /// The value a RESP2 client decodes from this one's RESP2 encoding ([`encode_value`] with
    /// [`RespVersion::Resp2`], then decoded): maps flattened, sets and pushes as arrays, doubles, big numbers and
    /// verbatim strings as bulk strings, booleans as integers, attributes dropped, `\r`/`\n` in simple strings and
    /// errors replaced by spaces — without encoding anything.
    ///
    /// ```
    /// use redkit_resp::Value;
    ///
    /// let v = Value::Map(vec![(Value::simple("pi"), Value::Double(3.5)), (Value::simple("ok"), Value::Boolean(true))]);
    /// assert_eq!(
    ///     v.into_resp2(),
    ///     Value::Array(vec![Value::simple("pi"), Value::bulk("3.5"), Value::simple("ok"), Value::Integer(1)])
    /// );
    /// ```
    pub fn into_resp2(self) -> Value {
        let spaced = |text: bytes::Bytes| {
            if text.iter().any(|&b| b == b'\r' || b == b'\n') {
                text.iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
                    .collect::<Vec<u8>>()
                    .into()
            } else {
                text
            }
        };
        match self {
            Value::SimpleString(s) => Value::SimpleString(spaced(s)),
            Value::Error(e) => Value::Error(spaced(e)),
            v @ (Value::Integer(_) | Value::BulkString(_) | Value::Null) => v,
            Value::Array(items) | Value::Set(items) | Value::Push(items) => {
                Value::Array(items.into_iter().map(Value::into_resp2).collect())
            }
            Value::Map(pairs) => Value::Array(
                pairs
                    .into_iter()
                    .flat_map(|(k, v)| [k.into_resp2(), v.into_resp2()])
                    .collect(),
            ),
            Value::Double(d) => {
                let mut buf = ryu::Buffer::new();
                Value::BulkString(bytes::Bytes::copy_from_slice(
                    format_double(d, &mut buf).as_bytes(),
                ))
            }
            Value::Boolean(b) => Value::Integer(i64::from(b)),
            Value::BigNumber(n) => Value::BulkString(n),
            Value::VerbatimString { text, .. } => Value::BulkString(text),
            Value::Attribute { data, .. } => data.into_resp2(),
        }
    }
}

/// Format a double the way RESP3 writes it: shortest exact decimal, or `inf`, `-inf`, `nan`.
pub(crate) fn format_double(d: f64, buf: &mut ryu::Buffer) -> &str {
    if d.is_nan() {
        "nan"
    } else if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }
    } else {
        buf.format_finite(d)
    }
}

/// `<tag><n>\r\n`.
pub(crate) fn header(out: &mut BytesMut, tag: u8, n: impl itoa::Integer) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n).as_bytes();
    out.reserve(digits.len() + 3);
    out.put_u8(tag);
    out.put_slice(digits);
    out.put_slice(b"\r\n");
}

/// `<tag><len>\r\n<data>\r\n`.
pub(crate) fn blob(out: &mut BytesMut, tag: u8, data: &[u8]) {
    header(out, tag, data.len());
    out.reserve(data.len() + 2);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// `<tag><text>\r\n`, with any `\r` or `\n` in `text` replaced by a space.
fn line(out: &mut BytesMut, tag: u8, text: &[u8]) {
    out.reserve(text.len() + 3);
    out.put_u8(tag);
    if text.iter().any(|&b| b == b'\r' || b == b'\n') {
        out.extend(
            text.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    } else {
        out.put_slice(text);
    }
    out.put_slice(b"\r\n");
}

fn seq(out: &mut BytesMut, tag: u8, items: &[Value], version: RespVersion) {
    header(out, tag, items.len());
    for item in items {
        encode_value(item, version, out);
    }
}

fn map(out: &mut BytesMut, tag: u8, pairs: &[(Value, Value)], version: RespVersion) {
    header(out, tag, pairs.len());
    for (k, v) in pairs {
        encode_value(k, version, out);
        encode_value(v, version, out);
    }
}
