//! [`RespCodec`]: the decoder and encoder as a `tokio_util` codec, for use with `Framed` on any byte stream.
//!
//! The codec is only about bytes; it does no I/O itself. Replies decode to [`Value`]; commands, pipelines and
//! values (for servers) encode. The protocol version can change mid-stream (after `HELLO 3` succeeds).

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::cmd::{Cmd, Pipeline};
use crate::decode::{Limits, RespVersion, Step, decode_step};
use crate::encode::encode_value;
use crate::error::{Error, ProtocolError};
use crate::value::Value;

/// Grow the read buffer by at most this much ahead of data that has arrived.
const MAX_RESERVE_AHEAD: usize = 4 * 1024 * 1024;

/// A RESP2/RESP3 codec.
///
/// ```
/// use bytes::BytesMut;
/// use redkit_resp::{Cmd, RespCodec, RespVersion, Value};
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = RespCodec::new(RespVersion::Resp3);
/// let mut wire = BytesMut::new();
/// codec.encode(&Cmd::new("PING"), &mut wire).unwrap();
/// assert_eq!(&wire[..], b"*1\r\n$4\r\nPING\r\n");
///
/// let mut replies = BytesMut::from(&b"+PONG\r\n%1\r\n+a\r\n#t\r\n"[..]);
/// assert_eq!(codec.decode(&mut replies).unwrap(), Some(Value::simple("PONG")));
/// assert_eq!(
///     codec.decode(&mut replies).unwrap(),
///     Some(Value::Map(vec![(Value::simple("a"), Value::Boolean(true))]))
/// );
/// ```
#[derive(Debug, Clone, Default)]
pub struct RespCodec {
    version: RespVersion,
    limits: Limits,
    /// The buffer cannot hold a whole frame before it is this long (learned from the last scan).
    need: usize,
}

impl RespCodec {
    /// A codec for `version` with default [`Limits`].
    pub fn new(version: RespVersion) -> RespCodec {
        RespCodec {
            version,
            limits: Limits::default(),
            need: 0,
        }
    }

    /// Replace the limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> RespCodec {
        self.limits = limits;
        self
    }

    /// The protocol version in use.
    pub fn version(&self) -> RespVersion {
        self.version
    }

    /// Switch protocol version (after a successful `HELLO`).
    pub fn set_version(&mut self, version: RespVersion) {
        self.version = version;
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

impl Decoder for RespCodec {
    type Item = Value;
    type Error = Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Value>, Error> {
        if buf.len() < self.need {
            return Ok(None);
        }
        match decode_step(buf, self.version, &self.limits)? {
            Step::Done(value) => {
                self.need = 0;
                Ok(Some(value))
            }
            Step::NeedAtLeast(n) => {
                self.need = n;
                let missing = n.saturating_sub(buf.len()).min(MAX_RESERVE_AHEAD);
                buf.reserve(missing);
                Ok(None)
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Value>, Error> {
        self.need = 0;
        match self.decode(buf)? {
            Some(v) => Ok(Some(v)),
            None if buf.is_empty() => Ok(None),
            None => Err(ProtocolError::TruncatedFrame { buffered: buf.len() }.into()),
        }
    }
}

impl Encoder<&Cmd> for RespCodec {
    type Error = Error;

    fn encode(&mut self, cmd: &Cmd, out: &mut BytesMut) -> Result<(), Error> {
        cmd.encode(out);
        Ok(())
    }
}

impl Encoder<Cmd> for RespCodec {
    type Error = Error;

    fn encode(&mut self, cmd: Cmd, out: &mut BytesMut) -> Result<(), Error> {
        cmd.encode(out);
        Ok(())
    }
}

impl Encoder<&Pipeline> for RespCodec {
    type Error = Error;

    fn encode(&mut self, pipeline: &Pipeline, out: &mut BytesMut) -> Result<(), Error> {
        pipeline.encode(out);
        Ok(())
    }
}

impl Encoder<&Value> for RespCodec {
    type Error = Error;

    fn encode(&mut self, value: &Value, out: &mut BytesMut) -> Result<(), Error> {
        encode_value(value, self.version, out);
        Ok(())
    }
}

impl Encoder<Value> for RespCodec {
    type Error = Error;

    fn encode(&mut self, value: Value, out: &mut BytesMut) -> Result<(), Error> {
        encode_value(&value, self.version, out);
        Ok(())
    }
}
