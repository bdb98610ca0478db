//! The one error type of redkit: [`Error`], with [`ConversionError`] and [`ProtocolError`] as its parts.
//!
//! Every crate in the workspace returns this `Error`, so layers (pool, metrics, cluster routing) can inspect a
//! failure without knowing which executor produced it. Messages say what failed and, where known, on which
//! command: executors attach the command name with [`Error::with_command`].

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::command::ConnectionEffect;
use crate::server_error::{ErrorKind, ServerError};
use crate::value::Value;

/// A convenient alias for `Result<T, redkit_resp::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between building a command and holding its typed result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error reply.
    #[error("{}{error}", on(command))]
    Server {
        /// The command that failed, when known.
        command: Option<String>,
        /// The classified error reply.
        error: ServerError,
    },
    /// The reply arrived but is not of the type asked for.
    #[error("{}{error}", on(command))]
    Conversion {
        /// The command whose reply did not convert, when known.
        command: Option<String>,
        /// What was expected and what came.
        error: ConversionError,
    },
    /// The bytes on the wire are not valid RESP, or break a configured limit.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// Reading from or writing to the connection failed.
    #[error("{}I/O error: {source}", on(command))]
    Io {
        /// The command in flight, when known.
        command: Option<String>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// No reply arrived in time.
    #[error("{}timed out after {after:?}", on(command))]
    Timeout {
        /// The command that timed out, when known.
        command: Option<String>,
        /// How long was waited.
        after: Duration,
    },
    /// The connection dropped while the command was in flight; it may or may not have run (at-most-once).
    #[error("{}connection lost: {reason}", on(command))]
    ConnectionLost {
        /// The command in flight, when known.
        command: Option<String>,
        /// Why the connection is gone.
        reason: String,
    },
    /// An optimistic transaction gave up: a WATCHed key changed before EXEC on every attempt.
    #[error("transaction aborted: a watched key changed ({attempts} attempt(s))")]
    WatchAborted {
        /// How many times the transaction was tried.
        attempts: u32,
    },
    /// A configuration value (URL, option, argument) is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The executor was shut down and takes no more commands.
    #[error("the executor is closed")]
    Closed,
    /// Refused before anything was sent: the command would change the session state or the reply stream of a
    /// connection that many callers share (the multiplexed `redkit::Client`) — a subscription, MONITOR,
    /// CLIENT REPLY, SELECT, HELLO, AUTH, RESET, QUIT, or a MULTI/EXEC/DISCARD/WATCH/UNWATCH outside a
    /// transaction. The connection is untouched and other callers are unaffected; the message names what to use
    /// instead ([`ConnectionEffect::shared_connection_advice`]).
    #[error(
        "{command} refused on a shared connection: {}",
        .effect.shared_connection_advice().unwrap_or("it changes the connection's state")
    )]
    SharedConnectionRefused {
        /// The refused command, in upper case (`SUBSCRIBE`, `CLIENT`, …).
        command: String,
        /// What it would have done to the connection.
        effect: ConnectionEffect,
    },
}

fn on(command: &Option<String>) -> String {
    command.as_ref().map(|c| format!("{c}: ")).unwrap_or_default()
}

impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::Io {
            command: None,
            source,
        }
    }
}

impl From<ServerError> for Error {
    fn from(error: ServerError) -> Self {
        Error::Server { command: None, error }
    }
}

impl From<ConversionError> for Error {
    fn from(error: ConversionError) -> Self {
        Error::Conversion { command: None, error }
    }
}

impl Error {
    /// Attach the name of the command this error belongs to, unless one is already set.
    pub fn with_command(mut self, name: impl Into<String>) -> Error {
        let slot = match &mut self {
            Error::Server { command, .. }
            | Error::Conversion { command, .. }
            | Error::Io { command, .. }
            | Error::Timeout { command, .. }
            | Error::ConnectionLost { command, .. } => command,
            Error::Protocol(_)
            | Error::Config(_)
            | Error::Closed
            | Error::WatchAborted { .. }
            | Error::SharedConnectionRefused { .. } => {
                return self;
            }
        };
        if slot.is_none() {
            *slot = Some(name.into());
        }
        self
    }

    /// The command this error belongs to, when known.
    pub fn command(&self) -> Option<&str> {
        match self {
            Error::Server { command, .. }
            | Error::Conversion { command, .. }
            | Error::Io { command, .. }
            | Error::Timeout { command, .. }
            | Error::ConnectionLost { command, .. } => command.as_deref(),
            Error::SharedConnectionRefused { command, .. } => Some(command),
            Error::Protocol(_) | Error::Config(_) | Error::Closed | Error::WatchAborted { .. } => None,
        }
    }

    /// The server's error reply, if this is one.
    pub fn server_error(&self) -> Option<&ServerError> {
        match self {
            Error::Server { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The server error's kind, if this is a server error.
    pub fn server_kind(&self) -> Option<&ErrorKind> {
        self.server_error().map(ServerError::kind)
    }

    /// `true` when the connection itself failed (I/O, protocol, lost, closed): the executor, not the command, is
    /// at fault, and a fresh connection may succeed.
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::Protocol(_) | Error::ConnectionLost { .. } | Error::Closed
        )
    }

    /// The effect that got the command refused, for [`Error::SharedConnectionRefused`].
    pub fn refused_effect(&self) -> Option<ConnectionEffect> {
        match self {
            Error::SharedConnectionRefused { effect, .. } => Some(*effect),
            _ => None,
        }
    }

    /// `true` for [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }
}

/// A reply that could not be converted into the requested Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionError {
    expected: Cow<'static, str>,
    got: String,
}

impl ConversionError {
    /// `expected` names the target ("an integer", "a 2-element array"); `got` describes what arrived.
    pub fn new(expected: impl Into<Cow<'static, str>>, got: impl Into<String>) -> ConversionError {
        ConversionError {
            expected: expected.into(),
            got: got.into(),
        }
    }

    /// What the conversion needed, with a short preview of the value that came instead.
    pub fn unexpected(expected: impl Into<Cow<'static, str>>, got: &Value) -> ConversionError {
        ConversionError::new(expected, describe(got))
    }

    /// What the conversion needed.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// What arrived instead.
    pub fn got(&self) -> &str {
        &self.got
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, got {}", self.expected, self.got)
    }
}

impl std::error::Error for ConversionError {}

/// Longest preview of a string value shown in a conversion error.
const PREVIEW: usize = 40;

/// A short description of a value for error messages: its kind and a preview of its content.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::Integer(i) => format!("integer {i}"),
        Value::Double(d) => format!("double {d}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Null => "null".to_owned(),
        Value::Array(v) | Value::Set(v) | Value::Push(v) => {
            format!("{} of {} element(s)", value.kind_name(), v.len())
        }
        Value::Map(m) => format!("map of {} pair(s)", m.len()),
        Value::Attribute { data, .. } => format!("attribute-wrapped {}", describe(data)),
        other => {
            let bytes = other.as_bytes().unwrap_or_default();
            let shown = &bytes[..bytes.len().min(PREVIEW)];
            let ellipsis = if bytes.len() > PREVIEW { "…" } else { "" };
            format!(
                "{} {:?}{ellipsis}",
                other.kind_name(),
                String::from_utf8_lossy(shown)
            )
        }
    }
}

/// Bytes that are not valid RESP, or a frame that breaks the decoder's [`Limits`](crate::Limits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The bytes do not form a RESP frame.
    #[error("invalid RESP: {0}")]
    Invalid(String),
    /// A bulk string declares a length above the limit.
    #[error("bulk string of {len} bytes exceeds the limit of {max} bytes")]
    BulkTooLong {
        /// The declared length.
        len: u64,
        /// The configured limit.
        max: u64,
    },
    /// An aggregate declares more elements than the limit.
    #[error("aggregate of {len} elements exceeds the limit of {max} elements")]
    AggregateTooLong {
        /// The declared number of elements.
        len: u64,
        /// The configured limit.
        max: u64,
    },
    /// Aggregates nest deeper than the limit.
    #[error("aggregates nest deeper than the limit of {max} levels")]
    TooDeep {
        /// The configured limit.
        max: usize,
    },
    /// A RESP3 streamed string or aggregate (`$?`, `*?`); Redis never sends them.
    #[error("streamed RESP3 frames are not supported")]
    Streamed,
    /// The peer closed the connection in the middle of a frame.
    #[error("connection closed in the middle of a frame ({buffered} bytes buffered)")]
    TruncatedFrame {
        /// How many bytes of the partial frame had arrived.
        buffered: usize,
    },
}
