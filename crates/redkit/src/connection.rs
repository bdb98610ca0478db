//! [`Connection`]: one exclusive connection — connect, handshake, send, receive.
//!
//! A `Connection` is what every other part of the client is made of: the multiplexed [`Client`](crate::Client)
//! runs one in a background task, blocking commands and [`Dedicated`](crate::Dedicated) handles use their own, and
//! the [`Subscriber`](crate::Subscriber) owns one in pub/sub mode.
//!
//! # Cancel safety
//! A request future may be dropped at any point. The connection counts the replies it still owes to abandoned
//! requests and discards exactly that many before the next request reads, so a late reply never lands on the
//! wrong caller. A request dropped in the middle of *writing* leaves a partial command on the wire; the connection
//! then refuses further use ([`Connection::is_broken`]) instead of guessing.

use std::time::Duration;

use bytes::BytesMut;
use redkit_resp::{Cmd, Error, ErrorKind, Pipeline, RespCodec, RespVersion, Result, Value, reply_result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::codec::Decoder;

use crate::config::Config;
use crate::transport::Transport;

/// Read buffer size; grows as large replies need.
const READ_CHUNK: usize = 16 * 1024;

/// One exclusive connection to a server.
#[derive(Debug)]
pub struct Connection {
    io: Transport,
    read_buf: BytesMut,
    write_buf: BytesMut,
    codec: RespCodec,
    /// Replies owed to requests whose futures were dropped.
    owed: usize,
    /// A write was interrupted: the stream holds a partial command.
    writing: bool,
    /// Where RESP3 pushes (invalidation messages, …) go; dropped when `None`.
    pushes: Option<mpsc::UnboundedSender<Value>>,
    db: i64,
    addr: String,
}

impl Connection {
    /// Connect and handshake, all within `config.connect_timeout`.
    pub async fn connect(config: &Config) -> Result<Connection> {
        let limit = config.connect_timeout;
        match tokio::time::timeout(limit, Connection::connect_unbounded(config)).await {
            Ok(result) => result,
            Err(_) => {
                let what = match config.tls {
                    Some(_) => format!(
                        "connect to {} over TLS (does the server speak TLS on that port?)",
                        config.addr
                    ),
                    None => format!("connect to {}", config.addr),
                };
                Err(Error::Timeout {
                    command: Some(what),
                    after: limit,
                })
            }
        }
    }

    async fn connect_unbounded(config: &Config) -> Result<Connection> {
        let io = Transport::open(config).await?;
        let mut conn = Connection {
            io,
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: BytesMut::with_capacity(READ_CHUNK),
            codec: RespCodec::new(RespVersion::Resp2),
            owed: 0,
            writing: false,
            pushes: None,
            db: 0,
            addr: config.addr.to_string(),
        };
        conn.handshake(config).await?;
        Ok(conn)
    }

    /// HELLO (with AUTH and SETNAME) or, on servers without HELLO, AUTH and CLIENT SETNAME; then SELECT.
    async fn handshake(&mut self, config: &Config) -> Result<()> {
        let auth = config
            .password
            .as_ref()
            .map(|p| (config.username.as_deref().unwrap_or("default"), p));
        let mut negotiated = false;
        if config.protocol == RespVersion::Resp3 {
            let hello = Cmd::new("HELLO")
                .arg(3)
                .arg(auth.map(|(u, p)| ("AUTH", u, p.as_str())))
                .arg(config.client_name.as_deref().map(|n| ("SETNAME", n)));
            self.codec.set_version(RespVersion::Resp3);
            match self.send(&hello).await {
                Ok(_) => negotiated = true,
                Err(e) if is_unknown_command(&e) => self.codec.set_version(RespVersion::Resp2),
                Err(e) => return Err(e.with_command("HELLO")),
            }
        }
        if !negotiated {
            if let Some((user, pass)) = auth {
                let cmd = match &config.username {
                    Some(_) => Cmd::new("AUTH").arg(user).arg(pass),
                    None => Cmd::new("AUTH").arg(pass),
                };
                self.send(&cmd).await?;
            }
            if let Some(name) = &config.client_name {
                self.send(&Cmd::new("CLIENT").arg("SETNAME").arg(name)).await?;
            }
        }
        if config.db != 0 {
            self.send(&Cmd::new("SELECT").arg(config.db)).await?;
            self.db = config.db;
        }
        Ok(())
    }

    /// The protocol negotiated with the server.
    pub fn protocol(&self) -> RespVersion {
        self.codec.version()
    }

    /// The database selected at connect time.
    pub fn db(&self) -> i64 {
        self.db
    }

    /// The server address, for messages.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Send RESP3 pushes (e.g. `CLIENT TRACKING` invalidations) to `sink` instead of dropping them.
    pub fn set_push_sink(&mut self, sink: Option<mpsc::UnboundedSender<Value>>) {
        self.pushes = sink;
    }

    /// `true` when a write was interrupted and the connection cannot be used any more.
    pub fn is_broken(&self) -> bool {
        self.writing
    }

    /// `true` when no reply is owed to an abandoned request and nothing is half-written.
    pub fn is_idle(&self) -> bool {
        self.owed == 0 && !self.writing
    }

    /// Send one command and read its reply; an error reply is `Err(Error::Server)`.
    pub async fn send(&mut self, cmd: &Cmd) -> Result<Value> {
        self.write_buf.clear();
        cmd.encode(&mut self.write_buf);
        let reply = self.round_trip(1).await.map_err(|e| e.with_command(cmd.name()))?;
        reply_result(cmd, reply)
    }

    /// Send a command with a reply timeout; on timeout the reply is owed and discarded later.
    pub async fn send_timeout(&mut self, cmd: &Cmd, limit: Option<Duration>) -> Result<Value> {
        match limit {
            None => self.send(cmd).await,
            Some(limit) => match tokio::time::timeout(limit, self.send(cmd)).await {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout {
                    command: Some(cmd.name()),
                    after: limit,
                }),
            },
        }
    }

    /// Send every command of `pipeline`, then read one reply per command (error replies stay in place).
    pub async fn send_pipeline(&mut self, pipeline: &Pipeline) -> Result<Vec<Value>> {
        if pipeline.is_empty() {
            return Ok(Vec::new());
        }
        self.write_buf.clear();
        pipeline.encode(&mut self.write_buf);
        self.settle().await?;
        self.write_pending(pipeline.len()).await?;
        let mut replies = Vec::with_capacity(pipeline.len());
        for _ in 0..pipeline.len() {
            replies.push(self.read_reply().await?);
            self.owed -= 1;
        }
        Ok(replies)
    }

    /// Write one command without waiting for its reply (pub/sub, MONITOR-style use).
    pub(crate) async fn write_only(&mut self, cmd: &Cmd) -> Result<()> {
        self.settle().await?;
        self.write_buf.clear();
        cmd.encode(&mut self.write_buf);
        self.write_pending(0).await
    }

    /// Read the next value of any kind, pushes included (pub/sub mode).
    pub(crate) async fn read_any(&mut self) -> Result<Value> {
        loop {
            if let Some(v) = self.codec.decode(&mut self.read_buf)? {
                return Ok(v);
            }
            self.fill().await?;
        }
    }

    async fn round_trip(&mut self, replies: usize) -> Result<Value> {
        self.settle().await?;
        self.write_pending(replies).await?;
        let v = self.read_reply().await?;
        self.owed -= 1;
        Ok(v)
    }

    /// Write `write_buf`, counting `replies` as owed before the first byte goes out.
    async fn write_pending(&mut self, replies: usize) -> Result<()> {
        self.owed += replies;
        self.writing = true;
        self.io
            .write_all(&self.write_buf)
            .await
            .map_err(|e| self.lost(e))?;
        self.writing = false;
        Ok(())
    }

    /// Discard replies owed to abandoned requests; refuse a connection with a half-written command.
    async fn settle(&mut self) -> Result<()> {
        if self.writing {
            return Err(Error::ConnectionLost {
                command: None,
                reason: "a previous request was cancelled while its command was being written".into(),
            });
        }
        while self.owed > 0 {
            self.read_reply().await?;
            self.owed -= 1;
        }
        Ok(())
    }

    /// The next reply, routing RESP3 pushes aside.
    async fn read_reply(&mut self) -> Result<Value> {
        loop {
            match self.codec.decode(&mut self.read_buf)? {
                Some(v @ Value::Push(_)) => {
                    if let Some(sink) = &self.pushes {
                        let _ = sink.send(v);
                    }
                }
                Some(v) => return Ok(v),
                None => self.fill().await?,
            }
        }
    }

    async fn fill(&mut self) -> Result<()> {
        if self.read_buf.capacity() - self.read_buf.len() < READ_CHUNK / 4 {
            self.read_buf.reserve(READ_CHUNK);
        }
        match self.io.read_buf(&mut self.read_buf).await {
            Ok(0) => Err(Error::ConnectionLost {
                command: None,
                reason: format!("{} closed the connection", self.addr),
            }),
            Ok(_) => Ok(()),
            Err(e) => Err(self.lost(e)),
        }
    }

    fn lost(&self, e: std::io::Error) -> Error {
        Error::ConnectionLost {
            command: None,
            reason: format!("I/O error on {}: {e}", self.addr),
        }
    }

    /// Split into the parts the multiplexer drives.
    pub(crate) fn into_parts(self) -> (Transport, BytesMut, RespCodec) {
        (self.io, self.read_buf, self.codec)
    }
}

/// `HELLO` unknown to the server (Redis before 6).
fn is_unknown_command(e: &Error) -> bool {
    e.server_error().is_some_and(|s| {
        matches!(s.kind(), ErrorKind::Err) && s.detail().starts_with("unknown command")
            || matches!(s.kind(), ErrorKind::Other(code) if code == "NOPROTO")
    })
}
