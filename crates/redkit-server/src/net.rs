//! [`TcpServer`]: the embedded server over TCP — RESP2/RESP3 and inline commands, pipelined, many connections.
//!
//! One task per connection reads requests (`request.rs`), runs them in batches under the server lock and writes
//! the replies — reading and writing at the same time, as Redis does: a client that sends its whole pipeline
//! before reading any reply is answered in full, its replies held in memory meanwhile (bounded by
//! `client-output-buffer-limit`, unlimited for normal clients by default, as in Redis). The limits of
//! `limits.rs` are enforced here: `maxclients`, `protected-mode`, `client-query-buffer-limit`,
//! `client-output-buffer-limit`, `timeout`. A panic in a connection task is caught, counted
//! ([`Server::panics`]) and logged, and closes only that connection.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use redkit_resp::{Value, encode_value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::driver::{Blocked, blocked_reply, run_batch, wait_blocked};
use crate::engine::{Executed, Server};
use crate::limits::{Class, Limits};
use crate::request::{Request, RequestParser};
use crate::state::{ServerConfig, Session};

/// The embedded server listening on a TCP port. Dropping it stops the server and closes its connections.
#[derive(Debug)]
pub struct TcpServer {
    addr: SocketAddr,
    server: Server,
    stop: std::sync::Arc<watch::Sender<bool>>,
}

impl TcpServer {
    /// Start on `127.0.0.1` and a free port.
    pub async fn start() -> std::io::Result<TcpServer> {
        TcpServer::start_with(ServerConfig::default(), "127.0.0.1:0").await
    }

    /// Start with a configuration on `addr`.
    pub async fn start_with(config: ServerConfig, addr: &str) -> std::io::Result<TcpServer> {
        TcpServer::serve(Server::new(config), addr).await
    }

    /// Serve an existing [`Server`] — one opened on a data directory with [`Server::open`], say — on `addr`.
    pub async fn serve(server: Server, addr: &str) -> std::io::Result<TcpServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let stop = std::sync::Arc::new(stop);
        tokio::spawn(accept_loop(listener, server.clone(), stopped.clone()));
        tokio::spawn(expire_loop(server.clone(), stopped.clone()));
        // SHUTDOWN stops listening and closes every connection, as Redis's exit does.
        let (mut requested, on_shutdown, mut stopped) = (server.shutdown_requested(), stop.clone(), stopped);
        tokio::spawn(async move {
            tokio::select! {
                () = requested.wait() => { let _ = on_shutdown.send(true); }
                _ = stopped.changed() => {}
            }
        });
        Ok(TcpServer { addr, server, stop })
    }

    /// Serve one connection over any byte stream — an in-memory `tokio::io::duplex`, a Unix socket — exactly as
    /// a TCP connection from `peer` is served (limits, protected mode, batching, blocking), until the peer closes
    /// it, CLIENT KILL or SHUTDOWN. Runs on the caller's task: a panic (a bug) reaches the caller, which is what
    /// the fuzzers want.
    pub async fn serve_connection<S>(server: Server, stream: S, peer: SocketAddr)
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (_stop, stopped) = watch::channel(false);
        let mut shutdown = server.shutdown_requested();
        tokio::select! {
            () = AnyStream(stream).serve(peer, peer, server.clone(), stopped) => {}
            () = shutdown.wait() => {}
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `redis://ADDR`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// The server behind it (its clock, for tests).
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Run until the process is stopped (for the `redkit-server` binary) or SHUTDOWN asks to stop.
    pub async fn wait(&self) {
        let mut stopped = self.stop.subscribe();
        let mut shutdown = self.server.shutdown_requested();
        while !*stopped.borrow() {
            tokio::select! {
                changed = stopped.changed() => if changed.is_err() { return },
                () = shutdown.wait() => return,
            }
        }
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(listener: TcpListener, server: Server, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let local = stream.local_addr().unwrap_or(peer);
                    spawn_connection(stream, peer, local, server.clone(), stopped.clone());
                }
                Err(e) => {
                    // Out of file descriptors (EMFILE) and the like: wait before trying again rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(100)) => {}
                        _ = stopped.changed() => return,
                    }
                }
            },
            _ = stopped.changed() => return,
        }
    }
}

/// Serve one connection on its own task, watched: a panic is counted and logged, and closes only it.
fn spawn_connection(
    stream: impl Duplex,
    peer: SocketAddr,
    local: SocketAddr,
    server: Server,
    stopped: watch::Receiver<bool>,
) {
    let watcher = server.clone();
    let task = tokio::spawn(stream.serve(peer, local, server, stopped));
    tokio::spawn(async move {
        if let Err(e) = task.await
            && e.is_panic()
        {
            watcher.limits().count_panic();
            tracing::error!(%peer, "a connection task panicked (a bug: please report it); its connection is closed");
        }
    });
}

async fn expire_loop(server: Server, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tick.tick() => server.with_state(crate::engine::expire_cycle_in).await,
            _ = stopped.changed() => return,
        }
    }
}

/// Redis 7.0's explanation for a peer refused by protected mode.
const DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Whether a new connection from `peer` may be served; otherwise the bytes to send it before closing.
pub(crate) fn refusal(limits: &Limits, peer: &SocketAddr) -> Option<&'static [u8]> {
    if limits.protected_mode() && !limits.password_set() && !peer.ip().is_loopback() {
        return Some(DENIED.as_bytes());
    }
    None
}

/// A byte stream a connection can be served on, split into halves that read and write at the same time.
pub(crate) trait Duplex: Send + 'static {
    /// Serve the connection on this stream's halves.
    fn serve(
        self,
        peer: SocketAddr,
        local: SocketAddr,
        server: Server,
        stopped: watch::Receiver<bool>,
    ) -> impl std::future::Future<Output = ()> + Send;
}

impl Duplex for tokio::net::TcpStream {
    async fn serve(
        mut self,
        peer: SocketAddr,
        local: SocketAddr,
        server: Server,
        stopped: watch::Receiver<bool>,
    ) {
        // A TCP stream splits into borrowed halves without a lock.
        let (reader, writer) = self.split();
        serve(reader, writer, peer, local, server, stopped).await;
    }
}

/// Any other stream (`tokio::io::split`: the halves share a lock).
struct AnyStream<S>(S);

impl<S: AsyncRead + AsyncWrite + Send + 'static> Duplex for AnyStream<S> {
    async fn serve(
        self,
        peer: SocketAddr,
        local: SocketAddr,
        server: Server,
        stopped: watch::Receiver<bool>,
    ) {
        let (reader, writer) = tokio::io::split(self.0);
        serve(reader, writer, peer, local, server, stopped).await;
    }
}

async fn serve<R, W>(
    mut reader: R,
    mut writer: W,
    peer: SocketAddr,
    local: SocketAddr,
    server: Server,
    mut stopped: watch::Receiver<bool>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if let Some(refused) = refusal(server.limits(), &peer) {
        let _ = writer.write_all(refused).await;
        return;
    }
    if !server.limits().admit() {
        let _ = writer.write_all(b"-ERR max number of clients reached\r\n").await;
        return;
    }
    // Released however this task ends (a panic included).
    let _admitted = Admitted(server.clone());
    // Neither waits for the server lock: the client registers with its first command.
    let (mut session, mut killed) = server.connect(peer, local);
    let mut mailbox = server.attach_mailbox(&mut session);
    let mut ends = Ends {
        stopped: &mut stopped,
        killed: &mut killed,
    };
    let mut connection = Connection {
        server: &server,
        session: &mut session,
        mailbox: &mut mailbox,
        peer,
    };
    connection.run(&mut reader, &mut writer, &mut ends).await;
    server
        .with_state(|s| crate::engine::disconnect_in(s, &mut session))
        .await;
}

/// A connection counted against `maxclients`, until dropped.
struct Admitted(Server);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.limits().release();
    }
}

/// What ends a connection besides its peer: server shutdown, and CLIENT KILL.
struct Ends<'a> {
    stopped: &'a mut watch::Receiver<bool>,
    killed: &'a mut tokio::sync::oneshot::Receiver<()>,
}

impl Ends<'_> {
    async fn any(&mut self) {
        tokio::select! {
            _ = self.stopped.changed() => {}
            _ = &mut *self.killed => {}
        }
    }
}

/// Write what `writer` takes of `output` without waiting: `None` if it would block (the waker is registered, so
/// the loop's select picks it up), `Some(Ok(()))` once some bytes went out.
async fn write_now<W: AsyncWrite + Unpin>(
    writer: &mut W,
    output: &mut BytesMut,
) -> Option<std::io::Result<()>> {
    std::future::poll_fn(|cx| {
        let polled = std::pin::Pin::new(&mut *writer).poll_write(cx, output);
        std::task::Poll::Ready(match polled {
            std::task::Poll::Ready(Ok(0)) => Some(Err(std::io::ErrorKind::WriteZero.into())),
            std::task::Poll::Ready(Ok(n)) => {
                bytes::Buf::advance(output, n);
                Some(Ok(()))
            }
            std::task::Poll::Ready(Err(e)) => Some(Err(e)),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

/// Sleep until `at`, or forever.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// One connection's session and the server it talks to.
struct Connection<'a> {
    server: &'a Server,
    session: &'a mut Session,
    mailbox: &'a mut tokio::sync::mpsc::UnboundedReceiver<Value>,
    peer: SocketAddr,
}

impl Connection<'_> {
    async fn run<R, W>(&mut self, reader: &mut R, writer: &mut W, ends: &mut Ends<'_>)
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let limits = self.server.limits();
        let mut parser = RequestParser::default();
        let mut input = BytesMut::with_capacity(16 * 1024);
        let mut output = BytesMut::with_capacity(16 * 1024);
        let mut queue = VecDeque::new();
        let mut replies = Vec::new();
        let mut blocked: Option<Blocked> = None;
        let mut closing = false;
        let mut last_seen = Instant::now();
        let mut over_soft_since: Option<std::time::Instant> = None;
        loop {
            // Run what is buffered, unless a blocked command waits (its later requests wait in the input, within
            // the query buffer limit, as in Redis).
            while blocked.is_none() && !closing {
                // Before AUTH, one request at a time: whether the next one is held to the pre-AUTH limits depends
                // on what the one before did.
                let unauthenticated = limits.password_set() && !self.session.is_authenticated();
                let mut protocol_error = None;
                loop {
                    match parser.next(&mut input, unauthenticated) {
                        Ok(None) => break,
                        Ok(Some(Request::Empty)) => {}
                        Ok(Some(Request::Command(args))) => {
                            queue.push_back(args);
                            if unauthenticated {
                                break;
                            }
                        }
                        Err(reason) => {
                            protocol_error = Some(reason);
                            break;
                        }
                    }
                }
                if queue.is_empty() && protocol_error.is_none() {
                    break;
                }
                // Pushes queued before these commands arrived go out before their replies.
                while let Ok(message) = self.mailbox.try_recv() {
                    encode_value(&message, self.session.protocol(), &mut output);
                }
                while !queue.is_empty() {
                    let outcome = run_batch(self.server, self.session, &mut queue, &mut replies).await;
                    for r in replies.drain(..) {
                        encode_value(&r, self.session.protocol(), &mut output);
                    }
                    if self.session.is_closing() {
                        closing = true;
                        break;
                    }
                    if let Some(Executed::Blocked(rx, timeout)) = outcome {
                        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
                        blocked = Some((rx, deadline));
                        break;
                    }
                }
                // Redis answers the error after the replies to the requests before it, then closes. Behind a
                // blocked command the bad bytes stay in the input, to be found again once it is answered.
                if let Some(reason) = protocol_error
                    && blocked.is_none()
                {
                    queue.clear();
                    if !closing {
                        encode_value(
                            &Value::error(format!("ERR Protocol error: {reason}")),
                            self.session.protocol(),
                            &mut output,
                        );
                    }
                    closing = true;
                }
            }
            if output.is_empty() {
                over_soft_since = None;
            } else if self.over_output_limit(limits, output.len(), &mut over_soft_since) {
                tracing::warn!(
                    "Client id={} addr={} closed for overcoming of output buffer limits.",
                    self.session.id(),
                    self.peer
                );
                return;
            }
            // Most replies fit the socket buffer: write them now rather than on another turn of the loop.
            if !output.is_empty()
                && let Some(Err(_)) = write_now(writer, &mut output).await
            {
                return;
            }
            if closing && output.is_empty() {
                let _ = writer.flush().await;
                return;
            }
            if output.is_empty() && output.capacity() > 1 << 20 {
                output = BytesMut::with_capacity(16 * 1024);
            }
            if input.capacity() - input.len() < 4096 {
                input.reserve(16 * 1024);
            }
            // Idle clients are closed after `timeout`, unless subscribed or blocked (as in Redis).
            let idle_deadline = limits
                .idle_timeout()
                .filter(|_| blocked.is_none() && self.session.subscriptions().count() == 0)
                .and_then(|t| last_seen.checked_add(t));
            tokio::select! {
                written = writer.write_buf(&mut output), if !output.is_empty() => {
                    if written.is_err() {
                        return;
                    }
                }
                read = reader.read_buf(&mut input), if !closing => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        last_seen = Instant::now();
                        if input.len() as u64 > limits.query_buffer() {
                            let initial = String::from_utf8_lossy(&input[..input.len().min(64)]).into_owned();
                            tracing::warn!(
                                "Closing client that reached max query buffer length: id={} addr={} qbuf={} (qbuf initial bytes: {:?})",
                                self.session.id(),
                                self.peer,
                                input.len(),
                                initial
                            );
                            return;
                        }
                    }
                },
                Some(message) = self.mailbox.recv(), if !closing => {
                    encode_value(&message, self.session.protocol(), &mut output);
                    while let Ok(more) = self.mailbox.try_recv() {
                        encode_value(&more, self.session.protocol(), &mut output);
                    }
                }
                waited = wait_blocked(&mut blocked), if blocked.is_some() => {
                    let reply = match blocked.take() {
                        Some(wait) => blocked_reply(self.server, self.session, waited, wait).await,
                        None => Value::Null,
                    };
                    last_seen = Instant::now();
                    encode_value(&reply, self.session.protocol(), &mut output);
                }
                () = sleep_until(idle_deadline), if idle_deadline.is_some() => {
                    tracing::debug!("Closing idle client id={} addr={}", self.session.id(), self.peer);
                    return;
                }
                () = ends.any() => {
                    if blocked.is_some() {
                        let session = &*self.session;
                        self.server.with_state(|s| crate::engine::unblock_in(s, session)).await;
                    }
                    return;
                }
            }
        }
    }

    /// Whether `pending` bytes of output break the client's class limit (pubsub once it subscribed, normal
    /// otherwise), keeping track of how long the soft limit has been exceeded.
    fn over_output_limit(
        &self,
        limits: &Limits,
        pending: usize,
        over_soft_since: &mut Option<std::time::Instant>,
    ) -> bool {
        let class = if self.session.subscriptions().count() > 0 {
            Class::Pubsub
        } else {
            Class::Normal
        };
        let limit = limits.output(class);
        let pending = pending as u64;
        if limit.soft > 0 && pending >= limit.soft {
            over_soft_since.get_or_insert_with(std::time::Instant::now);
        } else {
            *over_soft_since = None;
        }
        limit.exceeded(pending, *over_soft_since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_refuses_only_remote_peers_without_a_password() {
        let limits = Limits::default();
        let remote: SocketAddr = ([192, 0, 2, 7], 40000).into();
        let local: SocketAddr = ([127, 0, 0, 1], 40000).into();
        let local6: SocketAddr = (std::net::Ipv6Addr::LOCALHOST, 40000).into();
        assert_eq!(refusal(&limits, &remote), Some(DENIED.as_bytes()));
        assert_eq!(refusal(&limits, &local), None);
        assert_eq!(refusal(&limits, &local6), None);
        limits.set_password_set(true);
        assert_eq!(refusal(&limits, &remote), None);
        limits.set_password_set(false);
        limits.set_protected_mode(false);
        assert_eq!(refusal(&limits, &remote), None);
    }
}
