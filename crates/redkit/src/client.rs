//! [`Client`]: one connection multiplexed across any number of tasks, with automatic pipelining and reconnects.
//!
//! # How a request travels
//! 1. The caller's task sends the [`Cmd`] (or [`Pipeline`]) over a channel to the connection's driver task, with a
//!    oneshot channel for the answer and its deadline, and waits on the oneshot.
//! 2. The driver's *writer* takes every request queued at that moment, encodes them into one buffer, records them
//!    as pending in order, and writes the buffer in one call: concurrent callers share writes (automatic
//!    pipelining) without anyone configuring a batch.
//! 3. The driver's *reader* decodes replies and pairs each with the oldest pending request. Redis answers in order,
//!    so this pairing is exact.
//!
//! Dropping a request future only drops the receiving end of its oneshot channel: its reply is still read and paired
//! with it, then discarded, so no reply ever shifts onto another request.
//!
//! # Timeouts
//! Deadlines are enforced by the driver, with one timer for the whole connection rather than one per request: the
//! timer is armed for the earliest deadline and, when it fires, fails every overdue request with
//! [`Error::Timeout`] (their replies, if they still come, are discarded in order). A request that is already
//! overdue when the writer reaches it is failed without being sent.
//!
//! # Failures
//! When the connection drops, every request in flight fails with [`Error::ConnectionLost`]: it may or may not have
//! run (at-most-once delivery). The driver reconnects with exponential backoff and jitter; requests sent meanwhile
//! wait (within their deadline) and go out on the new connection. Requests whose caller gave up are skipped, not
//! sent late.
//!
//! Blocking commands (BLPOP, XREAD … BLOCK, WAIT, …) never go through the shared connection: they run on spare
//! connections of their own, with their own timeout plus [`Config::blocking_margin`].
//!
//! # Refused commands
//! Commands that would change the shared connection for everyone or desynchronise its replies (SUBSCRIBE,
//! MONITOR, CLIENT REPLY, SELECT, HELLO, AUTH, RESET, QUIT, a bare MULTI/EXEC/WATCH, …) are refused before the
//! request reaches the driver, with [`Error::SharedConnectionRefused`]; see
//! [`Client`](Client#commands-refused-on-the-shared-connection) for the list and what to use instead.
//!
//! A timeout too large for the clock to count (`Duration::MAX`, `?timeout=18446744073709551615`) is no deadline
//! at all: deadlines are computed with checked arithmetic.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use redkit_resp::{Cmd, ConnectionEffect, Error, Executor, Pipeline, RespCodec, Result, Value, reply_result};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, Sleep};
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
/// "No deadline" for the connection timer.
const FAR: Duration = Duration::from_secs(86_400 * 365);

/// A cheap-to-clone, multiplexed Redis client. See the [module docs](self).
///
/// # Commands refused on the shared connection
/// Every clone of a `Client` shares one connection, and replies are paired with requests in order. A command that
/// changes that connection's session state or its reply stream would therefore reach every task using it — or
/// wedge them all (a SUBSCRIBE's confirmation arrives as a push under RESP3, so the request, and every request
/// queued behind it, would wait in vain). Such commands are refused before anything is sent, whether they come
/// from a typed method (`client.select(2)`), a raw [`Cmd`] through [`Executor::execute`], or a [`Pipeline`]: the
/// call fails at once with [`Error::SharedConnectionRefused`], whose message names what to use instead, and the
/// connection stays usable for everyone.
///
/// | refused | use instead |
/// | --- | --- |
/// | SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBE forms | [`Subscriber`](crate::Subscriber) |
/// | MONITOR, CLIENT REPLY, WATCH, UNWATCH, RESET | [`Client::dedicated`] ([`Dedicated`]), [`Client::watch`], [`Client::transaction`], or a pool connection |
/// | SELECT | the database in the URL (`redis://host/2`, `?db=2`, [`Config::db`]) |
/// | HELLO, AUTH | `?protocol=resp2\|resp3` and credentials in the URL (`redis://user:password@host`) |
/// | MULTI, EXEC, DISCARD on their own | [`Client::transaction`], [`TypedPipeline::atomic`](crate::TypedPipeline::atomic), or one pipeline from MULTI to EXEC |
/// | QUIT | drop the `Client` (every clone) |
///
/// A pipeline may contain whole transactions — MULTI, commands, then EXEC or DISCARD — since it is written in
/// one piece and no other task's command can land inside. CLIENT TRACKING and CLIENT SETNAME are allowed: replies
/// stay one per command (invalidations are pushes, see [`Client::pushes`]). Like all connection state, they are
/// lost when the connection is replaced, so watch [`Client::connection_epoch`] and set them again (or give the
/// name in the URL, `?client_name=`, which every new connection applies). Which commands are refused is decided
/// by [`redkit_resp::connection_effect`], the same list the pool uses to clean connections.
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
    /// Bumped when the shared connection is lost and again when it is replaced.
    epoch: tokio::sync::watch::Sender<u64>,
}

/// When a request gives up: the deadline and the limit it came from (for the error message).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    /// The deadline `limit` from now; `None` (no deadline) when there is no limit, or when it lies beyond what an
    /// `Instant` can represent (a limit of centuries is "wait forever", not a panic).
    fn after(limit: Option<Duration>) -> Option<Deadline> {
        let limit = limit?;
        Some(Deadline {
            at: Instant::now().checked_add(limit)?,
            limit,
        })
    }
}

/// Where a request's answer goes.
enum Reply {
    One(Cmd, oneshot::Sender<Result<Value>>),
    Many(oneshot::Sender<Result<Vec<Value>>>),
}

impl Reply {
    fn abandoned(&self) -> bool {
        match self {
            Reply::One(_, tx) => tx.is_closed(),
            Reply::Many(tx) => tx.is_closed(),
        }
    }

    fn fail(self, error: Error) {
        match self {
            Reply::One(cmd, tx) => {
                let _ = tx.send(Err(error.with_command(cmd.name())));
            }
            Reply::Many(tx) => {
                let _ = tx.send(Err(error.with_command("pipeline")));
            }
        }
    }

    fn timeout(self, deadline: Deadline) {
        self.fail(Error::Timeout {
            command: None,
            after: deadline.limit,
        });
    }
}

/// A request to the driver.
struct Request {
    /// A pipeline's commands (a single command travels inside its [`Reply`], which needs it for errors).
    payload: Payload,
    reply: Reply,
    deadline: Option<Deadline>,
}

enum Payload {
    One,
    Many(Pipeline),
}

impl Request {
    fn overdue(&self, now: Instant) -> bool {
        self.deadline.is_some_and(|d| d.at <= now)
    }
}

/// A request written and waiting for its replies. `reply` is `None` once its caller has been answered with a
/// timeout: its replies are then read and dropped.
struct Pending {
    expected: usize,
    replies: Vec<Value>,
    reply: Option<Reply>,
    deadline: Option<Deadline>,
}

impl Client {
    /// Connect to the server `config` describes. Fails fast if the first connection cannot be made (wrong
    /// password, unreachable host, TLS to a plain server, …); later drops are repaired in the background.
    pub async fn connect(config: Config) -> Result<Client> {
        let first = Connection::connect(&config).await?;
        let (requests, rx) = mpsc::channel(QUEUE);
        let (pushes, _) = broadcast::channel(1024);
        let (epoch, _) = tokio::sync::watch::channel(0);
        let shared = Arc::new(Shared {
            config: config.clone(),
            requests,
            spare: Mutex::new(Vec::new()),
            pushes,
            epoch,
        });
        tokio::spawn(drive(
            config,
            rx,
            first,
            shared.pushes.clone(),
            shared.epoch.clone(),
        ));
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

    /// The shared connection's epoch: it changes when the connection is lost and again when it is replaced.
    /// Server-side state tied to a connection (CLIENT TRACKING, say) must be set up again after a change, and
    /// anything learned through the old connection (invalidations it would have carried) is unknown.
    pub fn connection_epoch(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.epoch.subscribe()
    }

    /// An exclusive connection for stateful work: WATCH/MULTI, SELECT, CLIENT TRACKING, blocking commands.
    pub async fn dedicated(&self) -> Result<Dedicated> {
        Ok(Dedicated::new(
            Connection::connect(&self.shared.config).await?,
            self.shared.config.request_timeout,
        ))
    }

    /// A new [`TypedPipeline`](crate::TypedPipeline): queue typed commands, then `.query(&client)` them in one
    /// round trip.
    pub fn pipeline(&self) -> crate::TypedPipeline {
        crate::TypedPipeline::new()
    }

    /// Send one command with a timeout other than the configured default (`None`: wait forever).
    ///
    /// Commands that would change the shared connection's state or reply stream fail at once with
    /// [`Error::SharedConnectionRefused`], unsent (see
    /// [the type's docs](Client#commands-refused-on-the-shared-connection)).
    pub async fn execute_timeout(&self, cmd: Cmd, limit: Option<Duration>) -> Result<Value> {
        refuse_unshareable(&cmd)?;
        if let Some(block) = blocking_timeout(&cmd) {
            return self.execute_blocking(cmd, block).await;
        }
        let (tx, rx) = oneshot::channel();
        let request = Request {
            payload: Payload::One,
            reply: Reply::One(cmd, tx),
            deadline: Deadline::after(limit),
        };
        self.submit(request).await?;
        rx.await.map_err(|_| lost())?
    }

    /// Send a pipeline with a timeout other than the configured default.
    ///
    /// A pipeline with a command that would change the shared connection's state or reply stream fails at once
    /// with [`Error::SharedConnectionRefused`] and nothing of it is sent; MULTI … EXEC (or DISCARD) inside one
    /// pipeline is allowed, as [`TypedPipeline::atomic`](crate::TypedPipeline::atomic) sends it.
    pub async fn execute_pipeline_timeout(
        &self,
        pipeline: Pipeline,
        limit: Option<Duration>,
    ) -> Result<Vec<Value>> {
        if pipeline.is_empty() {
            return Ok(Vec::new());
        }
        refuse_unshareable_in(&pipeline)?;
        let (tx, rx) = oneshot::channel();
        let request = Request {
            payload: Payload::Many(pipeline),
            reply: Reply::Many(tx),
            deadline: Deadline::after(limit),
        };
        self.submit(request).await?;
        rx.await.map_err(|_| lost().with_command("pipeline"))?
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
        let limit = block.map(|b| b.saturating_add(self.shared.config.blocking_margin));
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

/// Refuse a command whose effect on the connection would reach every task sharing it (see
/// [`redkit_resp::connection_effect`], the one list of such commands).
fn refuse_unshareable(cmd: &Cmd) -> Result<()> {
    match cmd.connection_effect() {
        Some(effect) if !effect.is_shareable() => Err(refused(cmd, effect)),
        _ => Ok(()),
    }
}

/// [`refuse_unshareable`] for a pipeline, which may hold one or more whole transactions: MULTI, then commands
/// without a connection effect, then EXEC or DISCARD. The pipeline is written in one piece, so no other task's
/// command lands inside the transaction.
fn refuse_unshareable_in(pipeline: &Pipeline) -> Result<()> {
    let mut open: Option<&Cmd> = None;
    for cmd in pipeline.cmds() {
        let effect = match cmd.connection_effect() {
            None => continue,
            Some(e) if e.is_shareable() => continue,
            Some(e) => e,
        };
        match (effect, open) {
            (ConnectionEffect::Multi, None) => open = Some(cmd),
            (ConnectionEffect::Exec | ConnectionEffect::Discard, Some(_)) => open = None,
            _ => return Err(refused(cmd, effect)),
        }
    }
    // A MULTI left open would queue every later command of every task.
    match open {
        Some(multi) => Err(refused(multi, ConnectionEffect::Multi)),
        None => Ok(()),
    }
}

fn refused(cmd: &Cmd, effect: ConnectionEffect) -> Error {
    Error::SharedConnectionRefused {
        command: cmd.name(),
        effect,
    }
}

fn lost() -> Error {
    Error::ConnectionLost {
        command: None,
        reason: "the connection dropped while the request was in flight".into(),
    }
}

impl Executor for Client {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        self.execute_timeout(cmd, self.shared.config.request_timeout)
            .await
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        self.execute_pipeline_timeout(pipeline, self.shared.config.request_timeout)
            .await
    }
}

/// The driver task: keep a connection up and run requests over it until every `Client` is dropped.
async fn drive(
    config: Config,
    mut requests: mpsc::Receiver<Request>,
    first: Connection,
    pushes: broadcast::Sender<Value>,
    epoch: tokio::sync::watch::Sender<u64>,
) {
    let mut conn = first;
    // Requests that arrived while disconnected, sent first on the next connection.
    let mut backlog: VecDeque<Request> = VecDeque::new();
    loop {
        match run(conn, &mut requests, &mut backlog, &pushes, &epoch).await {
            Exit::Shutdown => return,
            Exit::Lost(reason) => {
                tracing::warn!(addr = %config.addr, %reason, "connection lost; reconnecting")
            }
        }
        let reconnected = tokio::select! {
            c = reconnect(&config) => Some(c),
            () = hold(&mut requests, &mut backlog, config.queue_while_disconnected) => None,
        };
        match reconnected {
            Some(c) => {
                tracing::info!(addr = %config.addr, "reconnected");
                conn = c;
                epoch.send_modify(|e| *e += 1);
            }
            // Every client is gone and nothing is left to send.
            None => return,
        }
    }
}

/// Connect again, with backoff, until it works.
async fn reconnect(config: &Config) -> Connection {
    let mut attempt = 0u32;
    loop {
        match Connection::connect(config).await {
            Ok(c) => return c,
            Err(e) => {
                let delay = config.backoff.delay(attempt);
                tracing::warn!(addr = %config.addr, error = %e, ?delay, "reconnect failed");
                attempt = attempt.saturating_add(1);
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// The error of a request not sent because the connection is down (`Config::queue_while_disconnected` off).
fn not_connected() -> Error {
    Error::Io {
        command: None,
        source: std::io::Error::new(
            std::io::ErrorKind::NotConnected,
            "the connection is down; nothing was sent",
        ),
    }
}

/// While disconnected: keep new requests for later and fail those whose deadline passes — or, with `queue` off,
/// fail every request at once, unsent. Returns once every client is dropped and the backlog is empty.
async fn hold(requests: &mut mpsc::Receiver<Request>, backlog: &mut VecDeque<Request>, queue: bool) {
    let mut open = true;
    if !queue {
        for r in backlog.drain(..) {
            r.reply.fail(not_connected());
        }
    }
    loop {
        let now = Instant::now();
        expire_backlog(backlog, now);
        if !open && backlog.is_empty() {
            return;
        }
        let next = backlog.iter().filter_map(|r| r.deadline.map(|d| d.at)).min();
        tokio::select! {
            request = requests.recv(), if open => match request {
                Some(r) if r.reply.abandoned() => {}
                Some(r) if !queue => r.reply.fail(not_connected()),
                Some(r) => backlog.push_back(r),
                None => open = false,
            },
            () = tokio::time::sleep_until(next.unwrap_or(now + FAR)), if next.is_some() => {}
        }
    }
}

fn expire_backlog(backlog: &mut VecDeque<Request>, now: Instant) {
    let mut kept = VecDeque::with_capacity(backlog.len());
    for r in backlog.drain(..) {
        match r.deadline {
            Some(d) if d.at <= now => r.reply.timeout(d),
            _ if r.reply.abandoned() => {}
            _ => kept.push_back(r),
        }
    }
    *backlog = kept;
}

enum Exit {
    Shutdown,
    Lost(String),
}

/// Run one connection: a writer and a reader, concurrently, until either ends. A lost connection bumps `epoch`
/// before the callers of its unanswered commands hear of it, so a caller that sees `ConnectionLost` also sees
/// the connection down.
async fn run(
    conn: Connection,
    requests: &mut mpsc::Receiver<Request>,
    backlog: &mut VecDeque<Request>,
    pushes: &broadcast::Sender<Value>,
    epoch: &tokio::sync::watch::Sender<u64>,
) -> Exit {
    let (io, read_buf, codec) = conn.into_parts();
    let (reader, writer) = tokio::io::split(io);
    let (pending_tx, mut pending_rx) = mpsc::unbounded_channel();
    let mut queue = VecDeque::new();
    let exit = tokio::select! {
        exit = write_loop(writer, requests, backlog, pending_tx) => exit,
        exit = read_loop(reader, read_buf, codec, &mut pending_rx, &mut queue, pushes) => exit,
    };
    if let Exit::Lost(reason) = &exit {
        epoch.send_modify(|e| *e += 1);
        // Everything written and not answered may or may not have run: tell each caller, naming its command.
        while let Ok(p) = pending_rx.try_recv() {
            queue.push_back(p);
        }
        for p in queue {
            if let Some(reply) = p.reply {
                reply.fail(Error::ConnectionLost {
                    command: None,
                    reason: reason.clone(),
                });
            }
        }
    }
    exit
}

async fn write_loop(
    mut io: WriteHalf<Transport>,
    requests: &mut mpsc::Receiver<Request>,
    backlog: &mut VecDeque<Request>,
    pending: mpsc::UnboundedSender<Pending>,
) -> Exit {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    loop {
        let first = match backlog.pop_front() {
            Some(r) => r,
            None => match requests.recv().await {
                Some(r) => r,
                None => {
                    let _ = io.shutdown().await;
                    return Exit::Shutdown;
                }
            },
        };
        let now = Instant::now();
        let mut next = Some(first);
        while let Some(request) = next.take() {
            if request.reply.abandoned() {
                // The caller is gone: never send it late.
            } else if request.overdue(now) {
                if let Some(d) = request.deadline {
                    request.reply.timeout(d);
                }
            } else {
                let expected = match (&request.payload, &request.reply) {
                    (Payload::Many(p), _) => {
                        p.encode(&mut buf);
                        p.len()
                    }
                    (Payload::One, Reply::One(cmd, _)) => {
                        cmd.encode(&mut buf);
                        1
                    }
                    (Payload::One, Reply::Many(..)) => 0,
                };
                let entry = Pending {
                    expected,
                    replies: Vec::with_capacity(if expected > 1 { expected } else { 0 }),
                    reply: Some(request.reply),
                    deadline: request.deadline,
                };
                // Recorded before the bytes go out, so the reader always finds it.
                if pending.send(entry).is_err() {
                    return Exit::Lost("reader stopped".into());
                }
            }
            if buf.len() < MAX_WRITE_BATCH {
                next = backlog.pop_front().or_else(|| requests.try_recv().ok());
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

/// The connection's one timer: armed for the earliest live deadline, re-armed only when it fires or an earlier
/// deadline arrives.
struct Timer {
    sleep: Pin<Box<Sleep>>,
    armed: Option<Instant>,
}

impl Timer {
    fn new() -> Timer {
        Timer {
            sleep: Box::pin(tokio::time::sleep(FAR)),
            armed: None,
        }
    }

    fn arm(&mut self, at: Instant) {
        if self.armed.is_none_or(|armed| at < armed) {
            self.sleep.as_mut().reset(at);
            self.armed = Some(at);
        }
    }

    /// Fail every overdue request in `queue`, then re-arm for the earliest deadline left.
    fn fire(&mut self, queue: &mut VecDeque<Pending>) {
        let now = Instant::now();
        let mut earliest: Option<Instant> = None;
        for p in queue.iter_mut() {
            if let (Some(d), Some(_)) = (p.deadline, &p.reply) {
                if d.at <= now {
                    if let Some(reply) = p.reply.take() {
                        reply.timeout(d);
                    }
                } else {
                    earliest = Some(earliest.map_or(d.at, |e| e.min(d.at)));
                }
            }
        }
        self.armed = None;
        self.sleep.as_mut().reset(now + FAR);
        if let Some(at) = earliest {
            self.arm(at);
        }
    }
}

async fn read_loop(
    mut io: ReadHalf<Transport>,
    mut buf: BytesMut,
    mut codec: RespCodec,
    pending: &mut mpsc::UnboundedReceiver<Pending>,
    queue: &mut VecDeque<Pending>,
    pushes: &broadcast::Sender<Value>,
) -> Exit {
    let mut timer = Timer::new();
    loop {
        // Take in newly written requests.
        while let Ok(p) = pending.try_recv() {
            if let (Some(d), Some(_)) = (p.deadline, &p.reply) {
                timer.arm(d.at);
            }
            queue.push_back(p);
        }
        // Pair every complete reply with the oldest pending request.
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
            if queue.is_empty() {
                match pending.try_recv() {
                    Ok(p) => queue.push_back(p),
                    Err(_) => return Exit::Lost("a reply arrived that no request was waiting for".into()),
                }
            }
            let Some(front) = queue.front_mut() else { continue };
            if front.replies.len() + 1 >= front.expected {
                if let Some(done) = queue.pop_front() {
                    answer(done, value);
                }
            } else {
                front.replies.push(value);
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        tokio::select! {
            read = io.read_buf(&mut buf) => match read {
                Ok(0) => return Exit::Lost("the server closed the connection".into()),
                Ok(_) => {}
                Err(e) => return Exit::Lost(format!("read failed: {e}")),
            },
            p = pending.recv() => {
                if let Some(p) = p {
                    if let (Some(d), Some(_)) = (p.deadline, &p.reply) {
                        timer.arm(d.at);
                    }
                    queue.push_back(p);
                }
            }
            () = timer.sleep.as_mut(), if timer.armed.is_some() => timer.fire(queue),
        }
    }
}

/// Hand a completed request its replies, `last` being the final one (a dropped or timed-out caller gets nothing).
fn answer(done: Pending, last: Value) {
    let Pending {
        mut replies, reply, ..
    } = done;
    match reply {
        Some(Reply::One(cmd, tx)) => {
            let _ = tx.send(reply_result(&cmd, last));
        }
        Some(Reply::Many(tx)) => {
            replies.push(last);
            let _ = tx.send(Ok(replies));
        }
        None => {}
    }
}
