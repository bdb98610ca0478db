//! [`Client`]: one connection multiplexed across any number of tasks, with automatic pipelining and reconnects.
//!
//! # How a request travels
//! 1. The caller's task sends the [`Cmd`] (or [`Pipeline`]) over a channel to the connection's driver task, with a
//!    oneshot channel for the answer, and waits on it (bounded by the request timeout).
//! 2. The driver's *writer* takes every request queued at that moment, encodes them into one buffer, records them
//!    as pending in order, and writes the buffer in one call: concurrent callers share writes (automatic
//!    pipelining) without anyone configuring a batch.
//! 3. The driver's *reader* decodes replies and pairs each with the oldest pending request. Redis answers in order,
//!    so this pairing is exact.
//!
//! Dropping a request future only drops the receiving end of its oneshot channel: its reply is still read and paired
//! with it, then discarded, so no reply ever shifts onto another request.
//!
//! # Failures
//! When the connection drops, every request in flight fails with [`Error::ConnectionLost`]: it may or may not have
//! run (at-most-once delivery). The driver reconnects with exponential backoff and jitter; requests sent meanwhile
//! wait in the queue (within their timeout) and go out on the new connection. Requests whose caller gave up are
//! skipped, not sent late.
//!
//! Blocking commands (BLPOP, XREAD … BLOCK, WAIT, …) never go through the shared connection: they run on spare
//! connections of their own, with their own timeout plus [`Config::blocking_margin`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use redkit_resp::{Cmd, Error, Executor, Pipeline, RespCodec, Result, Value, reply_result};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::codec::Decoder;

use crate::blocking::blocking_timeout;
use crate::config::Config;
use crate::connection::Connection;
use crate::dedicated::Dedicated;
use crate::transport::Transport;

/// Requests queued for the writer at most.
const QUEUE: usize = 8192;
/// Stop adding requests to one write beyond this many bytes.
const MAX_WRITE_BATCH: usize = 512 * 1024;
/// Spare connections kept for blocking commands.
const MAX_SPARE: usize = 8;

/// A cheap-to-clone, multiplexed Redis client. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct Client {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: Config,
    requests: mpsc::Sender<Request>,
    spare: Mutex<Vec<Connection>>,
    pushes: broadcast::Sender<Value>,
}

/// A request to the driver.
enum Request {
    One {
        cmd: Cmd,
        reply: oneshot::Sender<Result<Value>>,
    },
    Many {
        pipeline: Pipeline,
        reply: oneshot::Sender<Result<Vec<Value>>>,
    },
}

impl Request {
    fn abandoned(&self) -> bool {
        match self {
            Request::One { reply, .. } => reply.is_closed(),
            Request::Many { reply, .. } => reply.is_closed(),
        }
    }
}

/// A request written and waiting for its replies.
enum Pending {
    One {
        cmd: Cmd,
        reply: oneshot::Sender<Result<Value>>,
    },
    Many {
        expected: usize,
        replies: Vec<Value>,
        reply: oneshot::Sender<Result<Vec<Value>>>,
    },
}

impl Client {
    /// Connect to the server `config` describes. Fails fast if the first connection cannot be made (wrong
    /// password, unreachable host, TLS to a plain server, …); later drops are repaired in the background.
    pub async fn connect(config: Config) -> Result<Client> {
        let first = Connection::connect(&config).await?;
        let (requests, rx) = mpsc::channel(QUEUE);
        let (pushes, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            config: config.clone(),
            requests,
            spare: Mutex::new(Vec::new()),
            pushes,
        });
        tokio::spawn(drive(config, rx, first, shared.pushes.clone()));
        Ok(Client { shared })
    }

    /// [`Client::connect`] with a URL (see [`Config::from_url`]).
    pub async fn open(url: &str) -> Result<Client> {
        Client::connect(Config::from_url(url)?).await
    }

    /// The configuration this client connects with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// RESP3 pushes that arrive on the shared connection (e.g. client-side caching invalidations).
    pub fn pushes(&self) -> broadcast::Receiver<Value> {
        self.shared.pushes.subscribe()
    }

    /// An exclusive connection for stateful work: WATCH/MULTI, SELECT, CLIENT TRACKING, blocking commands.
    pub async fn dedicated(&self) -> Result<Dedicated> {
        Ok(Dedicated::new(
            Connection::connect(&self.shared.config).await?,
            self.shared.config.request_timeout,
        ))
    }

    /// Send one command with a timeout other than the configured default (`None`: wait forever).
    pub async fn execute_timeout(&self, cmd: Cmd, limit: Option<Duration>) -> Result<Value> {
        if let Some(block) = blocking_timeout(&cmd) {
            return self.execute_blocking(cmd, block).await;
        }
        let name_on_error = NameOnError::new(&cmd);
        let (tx, rx) = oneshot::channel();
        self.submit(Request::One { cmd, reply: tx })
            .await
            .map_err(|e| name_on_error.attach(e))?;
        wait(rx, limit).await.map_err(|e| name_on_error.attach(e))
    }

    async fn submit(&self, request: Request) -> Result<()> {
        self.shared
            .requests
            .send(request)
            .await
            .map_err(|_| Error::Closed)
    }

    /// A blocking command on a spare connection, bounded by its own timeout plus the margin.
    async fn execute_blocking(&self, cmd: Cmd, block: Option<Duration>) -> Result<Value> {
        let spare = self.shared.spare.lock().ok().and_then(|mut s| s.pop());
        let mut conn = match spare {
            Some(c) => c,
            None => Connection::connect(&self.shared.config).await?,
        };
        let limit = block.map(|b| b + self.shared.config.blocking_margin);
        let result = conn.send_timeout(&cmd, limit).await;
        let healthy = match &result {
            Ok(_) => true,
            Err(e) => e.server_error().is_some(),
        };
        if healthy
            && conn.is_idle()
            && let Ok(mut spare) = self.shared.spare.lock()
            && spare.len() < MAX_SPARE
        {
            spare.push(conn);
        }
        result
    }
}

/// The command name, kept without allocating so errors can name it.
struct NameOnError {
    bytes: [u8; 24],
    len: usize,
}

impl NameOnError {
    fn new(cmd: &Cmd) -> NameOnError {
        let name = cmd.name_bytes();
        let len = name.len().min(24);
        let mut bytes = [0u8; 24];
        bytes[..len].copy_from_slice(&name[..len]);
        NameOnError { bytes, len }
    }

    fn attach(&self, e: Error) -> Error {
        e.with_command(String::from_utf8_lossy(&self.bytes[..self.len]).to_ascii_uppercase())
    }
}

/// Wait for a reply; a dropped sender means the connection went away with the request in flight.
async fn wait<T>(rx: oneshot::Receiver<Result<T>>, limit: Option<Duration>) -> Result<T> {
    let lost = |_| Error::ConnectionLost {
        command: None,
        reason: "the connection dropped while the request was in flight".into(),
    };
    match limit {
        None => rx.await.map_err(lost)?,
        Some(limit) => match tokio::time::timeout(limit, rx).await {
            Ok(r) => r.map_err(lost)?,
            Err(_) => Err(Error::Timeout {
                command: None,
                after: limit,
            }),
        },
    }
}

impl Executor for Client {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        self.execute_timeout(cmd, self.shared.config.request_timeout)
            .await
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        if pipeline.is_empty() {
            return Ok(Vec::new());
        }
        let (tx, rx) = oneshot::channel();
        self.submit(Request::Many { pipeline, reply: tx }).await?;
        wait(rx, self.shared.config.request_timeout)
            .await
            .map_err(|e| e.with_command("pipeline"))
    }
}

/// The driver task: keep a connection up and run requests over it until every `Client` is dropped.
async fn drive(
    config: Config,
    mut requests: mpsc::Receiver<Request>,
    first: Connection,
    pushes: broadcast::Sender<Value>,
) {
    let mut conn = Some(first);
    let mut attempt = 0u32;
    loop {
        let current = match conn.take() {
            Some(c) => c,
            None => match Connection::connect(&config).await {
                Ok(c) => {
                    tracing::info!(addr = %config.addr, "reconnected");
                    attempt = 0;
                    c
                }
                Err(e) => {
                    if requests.is_closed() {
                        return;
                    }
                    let delay = config.backoff.delay(attempt);
                    tracing::warn!(addr = %config.addr, error = %e, ?delay, "reconnect failed");
                    attempt = attempt.saturating_add(1);
                    tokio::time::sleep(delay).await;
                    continue;
                }
            },
        };
        match run(current, &mut requests, &pushes).await {
            Exit::Shutdown => return,
            Exit::Lost(reason) => {
                tracing::warn!(addr = %config.addr, %reason, "connection lost; reconnecting")
            }
        }
    }
}

enum Exit {
    Shutdown,
    Lost(String),
}

/// Run one connection: a writer and a reader, concurrently, until either ends.
async fn run(
    conn: Connection,
    requests: &mut mpsc::Receiver<Request>,
    pushes: &broadcast::Sender<Value>,
) -> Exit {
    let (io, read_buf, codec) = conn.into_parts();
    let (reader, writer) = tokio::io::split(io);
    let (pending_tx, pending_rx) = mpsc::unbounded_channel();
    tokio::select! {
        exit = write_loop(writer, requests, pending_tx) => exit,
        exit = read_loop(reader, read_buf, codec, pending_rx, pushes) => exit,
    }
    // Dropping the loops drops every pending request's sender: their callers see `ConnectionLost`.
}

async fn write_loop(
    mut io: WriteHalf<Transport>,
    requests: &mut mpsc::Receiver<Request>,
    pending: mpsc::UnboundedSender<Pending>,
) -> Exit {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        let Some(first) = requests.recv().await else {
            let _ = io.shutdown().await;
            return Exit::Shutdown;
        };
        let mut next = Some(first);
        while let Some(request) = next.take() {
            if !request.abandoned() {
                let entry = match request {
                    Request::One { cmd, reply } => {
                        cmd.encode(&mut buf);
                        Pending::One { cmd, reply }
                    }
                    Request::Many { pipeline, reply } => {
                        pipeline.encode(&mut buf);
                        Pending::Many {
                            expected: pipeline.len(),
                            replies: Vec::with_capacity(pipeline.len()),
                            reply,
                        }
                    }
                };
                // Recorded before the bytes go out, so the reader always finds it.
                if pending.send(entry).is_err() {
                    return Exit::Lost("reader stopped".into());
                }
            }
            if buf.len() < MAX_WRITE_BATCH {
                next = requests.try_recv().ok();
            }
        }
        if !buf.is_empty() {
            if let Err(e) = io.write_all(&buf).await {
                return Exit::Lost(format!("write failed: {e}"));
            }
            buf.clear();
        }
    }
}

async fn read_loop(
    mut io: ReadHalf<Transport>,
    mut buf: BytesMut,
    mut codec: RespCodec,
    mut pending: mpsc::UnboundedReceiver<Pending>,
    pushes: &broadcast::Sender<Value>,
) -> Exit {
    let mut current: Option<Pending> = None;
    loop {
        loop {
            let value = match codec.decode(&mut buf) {
                Ok(Some(v)) => v,
                Ok(None) => break,
                Err(e) => return Exit::Lost(format!("undecodable reply: {e}")),
            };
            if value.is_push() {
                let _ = pushes.send(value);
                continue;
            }
            let Some(entry) = current.take().or_else(|| pending.try_recv().ok()) else {
                return Exit::Lost("a reply arrived that no request was waiting for".into());
            };
            match entry {
                Pending::One { cmd, reply } => {
                    let _ = reply.send(reply_result(&cmd, value));
                }
                Pending::Many {
                    expected,
                    mut replies,
                    reply,
                } => {
                    replies.push(value);
                    if replies.len() == expected {
                        let _ = reply.send(Ok(replies));
                    } else {
                        current = Some(Pending::Many {
                            expected,
                            replies,
                            reply,
                        });
                    }
                }
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        match io.read_buf(&mut buf).await {
            Ok(0) => return Exit::Lost("the server closed the connection".into()),
            Ok(_) => {}
            Err(e) => return Exit::Lost(format!("read failed: {e}")),
        }
    }
}
