//! The protocol core of redkit: RESP2/RESP3 values, a zero-copy codec, binary-safe commands, typed conversions,
//! classified server errors, and the [`Executor`] seam that every other redkit crate builds on.
//!
//! This crate opens no sockets. It turns commands into bytes and bytes into [`Value`]s, and defines what "something
//! that runs Redis commands" is, so the network client, the pool, the embedded server and every layer above them
//! can meet in one place without depending on one another.
//!
//! | to … | use |
//! | --- | --- |
//! | build a command | [`Cmd`] (`Cmd::new("SET").arg(key).arg(value)`), arguments via [`ToArg`] |
//! | send several at once | [`Pipeline`] |
//! | read and write a connection | [`RespCodec`] with `tokio_util::codec::Framed`, or [`decode()`] / [`encode_value`] |
//! | get typed results | [`FromValue`] (`Option<T>` for nullable replies, range-checked integers) |
//! | look up a command's arity, flags, keys, ACL categories, cluster policies, blocking timeout | [`command_info`], [`CommandInfo`] (the [`command`] table) |
//! | know what a command does to its connection (SELECT, SUBSCRIBE, MULTI, …) | [`connection_effect`], [`ConnectionEffect`] |
//! | tell errors apart | [`Error`], [`ServerError`] and its [`ErrorKind`] (`WRONGTYPE`, `MOVED`, …) |
//! | talk to any backend | [`Executor`] (generic) or [`DynExecutor`] (boxed) |
//!
//! # Example
//! Encode a pipeline as a client would, decode the replies a server sends back, and convert them:
//!
//! ```
//! use bytes::BytesMut;
//! use redkit_resp::{Cmd, FromValue, Pipeline, RespCodec, RespVersion};
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! let mut codec = RespCodec::new(RespVersion::Resp2);
//! let pipeline = Pipeline::new()
//!     .with(Cmd::new("SET").arg("user:1").arg("ada"))
//!     .with(Cmd::new("GET").arg("user:1"))
//!     .with(Cmd::new("GET").arg("user:2"));
//! let mut wire = BytesMut::new();
//! codec.encode(&pipeline, &mut wire).unwrap();
//! assert!(wire.starts_with(b"*3\r\n$3\r\nSET\r\n$6\r\nuser:1\r\n$3\r\nada\r\n"));
//!
//! // What a server answers, arriving in one read:
//! let mut replies = BytesMut::from(&b"+OK\r\n$3\r\nada\r\n$-1\r\n"[..]);
//! let mut decoded = Vec::new();
//! while let Some(value) = codec.decode(&mut replies).unwrap() {
//!     decoded.push(value);
//! }
//! let (ok, one, two): ((), Option<String>, Option<String>) =
//!     FromValue::from_value(decoded.into()).unwrap();
//! assert_eq!((ok, one.as_deref(), two), ((), Some("ada"), None));
//! ```

pub mod arg;
pub mod cmd;
pub mod codec;
pub mod command;
pub mod decode;
pub mod encode;
pub mod error;
pub mod executor;
pub mod from_value;
pub mod server_error;
pub mod value;

pub use arg::{ArgWriter, ToArg};
pub use cmd::{Args, Cmd, Pipeline};
pub use codec::RespCodec;
pub use command::{CommandInfo, ConnectionEffect, Subscription, command_info, connection_effect};
pub use decode::{Limits, RespVersion, Scanned, decode, scan};
pub use encode::encode_value;
pub use error::{ConversionError, Error, ProtocolError, Result};
pub use executor::{BoxFuture, DynExecutor, Executor, reply_result};
pub use from_value::FromValue;
pub use server_error::{ErrorKind, ServerError};
pub use value::{Value, VerbatimFormat};
