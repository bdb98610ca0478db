//! [`ServerError`]: an error reply from the server, classified by its first word.
//!
//! Redis error replies start with an upper-case code (`ERR`, `WRONGTYPE`, `MOVED 3999 127.0.0.1:6381`, …). The
//! code decides what a caller can do about it (retry, follow a redirect, load a script), so it is parsed once into
//! an [`ErrorKind`]; the full text is kept verbatim for messages.

use std::fmt;

use bytes::Bytes;

/// What kind of error the server reported, from the first word of its reply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `ERR`: a generic error (syntax, wrong arguments, out of range, …).
    Err,
    /// `WRONGTYPE`: the key holds a value of another type.
    WrongType,
    /// `MOVED slot host:port`: in a cluster, the slot now lives on another node.
    Moved {
        /// The hash slot of the key.
        slot: u16,
        /// The `host:port` of the node that serves the slot.
        addr: String,
    },
    /// `ASK slot host:port`: in a cluster, the slot is migrating; ask that node once (after `ASKING`).
    Ask {
        /// The hash slot of the key.
        slot: u16,
        /// The `host:port` of the node to ask.
        addr: String,
    },
    /// `TRYAGAIN`: a multi-key command during resharding; retry later.
    TryAgain,
    /// `CLUSTERDOWN`: the cluster cannot serve requests.
    ClusterDown,
    /// `CROSSSLOT`: the keys of one command hash to different slots.
    CrossSlot,
    /// `NOSCRIPT`: no script with that SHA1 is loaded.
    NoScript,
    /// `BUSY`: a script or function is running; only SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE are served.
    Busy,
    /// `LOADING`: the server is loading its dataset into memory.
    Loading,
    /// `READONLY`: a write sent to a read-only replica.
    ReadOnly,
    /// `NOAUTH`: authentication is required.
    NoAuth,
    /// `WRONGPASS`: invalid username/password pair.
    WrongPass,
    /// `NOPERM`: the ACL user may not run this command or touch this key.
    NoPerm,
    /// `EXECABORT`: EXEC refused because a queued command was rejected.
    ExecAbort,
    /// `MASTERDOWN`: the replica lost its link with the master.
    MasterDown,
    /// `NOREPLICAS`: not enough good replicas to accept the write.
    NoReplicas,
    /// `OOM`: the write would exceed `maxmemory`.
    Oom,
    /// Any other code (`BUSYGROUP`, `BUSYKEY`, a module's own, …), kept verbatim.
    Other(String),
}

impl ErrorKind {
    /// Classify an error reply by its first word.
    pub fn classify(text: &str) -> ErrorKind {
        let mut words = text.split_ascii_whitespace();
        let code = words.next().unwrap_or("");
        match code {
            "ERR" => ErrorKind::Err,
            "WRONGTYPE" => ErrorKind::WrongType,
            "MOVED" | "ASK" => match parse_redirect(words.next(), words.next()) {
                Some((slot, addr)) if code == "MOVED" => ErrorKind::Moved { slot, addr },
                Some((slot, addr)) => ErrorKind::Ask { slot, addr },
                None => ErrorKind::Other(code.to_owned()),
            },
            "TRYAGAIN" => ErrorKind::TryAgain,
            "CLUSTERDOWN" => ErrorKind::ClusterDown,
            "CROSSSLOT" => ErrorKind::CrossSlot,
            "NOSCRIPT" => ErrorKind::NoScript,
            "BUSY" => ErrorKind::Busy,
            "LOADING" => ErrorKind::Loading,
            "READONLY" => ErrorKind::ReadOnly,
            "NOAUTH" => ErrorKind::NoAuth,
            "WRONGPASS" => ErrorKind::WrongPass,
            "NOPERM" => ErrorKind::NoPerm,
            "EXECABORT" => ErrorKind::ExecAbort,
            "MASTERDOWN" => ErrorKind::MasterDown,
            "NOREPLICAS" => ErrorKind::NoReplicas,
            "OOM" => ErrorKind::Oom,
            other => ErrorKind::Other(other.to_owned()),
        }
    }

    /// The code as Redis writes it (`"ERR"`, `"MOVED"`, or the verbatim unknown code).
    pub fn code(&self) -> &str {
        match self {
            ErrorKind::Err => "ERR",
            ErrorKind::WrongType => "WRONGTYPE",
            ErrorKind::Moved { .. } => "MOVED",
            ErrorKind::Ask { .. } => "ASK",
            ErrorKind::TryAgain => "TRYAGAIN",
            ErrorKind::ClusterDown => "CLUSTERDOWN",
            ErrorKind::CrossSlot => "CROSSSLOT",
            ErrorKind::NoScript => "NOSCRIPT",
            ErrorKind::Busy => "BUSY",
            ErrorKind::Loading => "LOADING",
            ErrorKind::ReadOnly => "READONLY",
            ErrorKind::NoAuth => "NOAUTH",
            ErrorKind::WrongPass => "WRONGPASS",
            ErrorKind::NoPerm => "NOPERM",
            ErrorKind::ExecAbort => "EXECABORT",
            ErrorKind::MasterDown => "MASTERDOWN",
            ErrorKind::NoReplicas => "NOREPLICAS",
            ErrorKind::Oom => "OOM",
            ErrorKind::Other(code) => code,
        }
    }
}

fn parse_redirect(slot: Option<&str>, addr: Option<&str>) -> Option<(u16, String)> {
    let slot = slot?.parse::<u16>().ok()?;
    let addr = addr?;
    (!addr.is_empty()).then(|| (slot, addr.to_owned()))
}

/// An error reply from the server: its [`ErrorKind`] and the full text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerError {
    kind: ErrorKind,
    text: String,
}

impl ServerError {
    /// Parse an error reply's text (`"WRONGTYPE Operation against a key holding the wrong kind of value"`).
    pub fn new(text: impl Into<String>) -> ServerError {
        let text = text.into();
        ServerError {
            kind: ErrorKind::classify(&text),
            text,
        }
    }

    /// From the raw bytes of an error reply; invalid UTF-8 is replaced, never rejected.
    pub fn from_bytes(bytes: &Bytes) -> ServerError {
        ServerError::new(String::from_utf8_lossy(bytes).into_owned())
    }

    /// What kind of error this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The code (first word) of the reply.
    pub fn code(&self) -> &str {
        self.kind.code()
    }

    /// The full text of the reply, code included.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text after the code (`"Operation against a key …"` for a WRONGTYPE reply).
    pub fn detail(&self) -> &str {
        let t = self.text.trim_start();
        t.split_once(char::is_whitespace)
            .map_or("", |(_, rest)| rest.trim_start())
    }

    /// A cluster redirect (`MOVED` or `ASK`): the slot and the address to go to.
    pub fn redirect(&self) -> Option<(u16, &str)> {
        match &self.kind {
            ErrorKind::Moved { slot, addr } | ErrorKind::Ask { slot, addr } => Some((*slot, addr)),
            _ => None,
        }
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for ServerError {}
