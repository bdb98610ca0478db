//! [`MockServer`]: the embedded server over TCP — RESP2/RESP3 and inline commands, pipelined, many connections.

use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use redkit_resp::{Limits, Value, encode_value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use std::collections::VecDeque;
use std::time::Duration;

use crate::server::{Contended, Executed, Server, ServerConfig, Session};

/// Longest inline command line, as Redis (64 KiB).
const MAX_INLINE: usize = 64 * 1024;
/// Most arguments in one command, as Redis (1024 * 1024).
const MAX_MULTIBULK: u64 = 1024 * 1024;

/// The embedded server listening on a TCP port. Dropping it stops the server and closes its connections.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    server: Server,
    stop: watch::Sender<bool>,
}

impl MockServer {
    /// Start on `127.0.0.1` and a free port.
    pub async fn start() -> std::io::Result<MockServer> {
        MockServer::start_with(ServerConfig::default(), "127.0.0.1:0").await
    }

    /// Start with a configuration on `addr`.
    pub async fn start_with(config: ServerConfig, addr: &str) -> std::io::Result<MockServer> {
        MockServer::serve(Server::new(config), addr).await
    }

    /// Serve an existing [`Server`] — one opened on a data directory with [`Server::open`], say — on `addr`.
    pub async fn serve(server: Server, addr: &str) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(accept_loop(listener, server.clone(), stopped.clone()));
        tokio::spawn(expire_loop(server.clone(), stopped));
        Ok(MockServer { addr, server, stop })
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

    /// Run until the process is stopped (for the `redkit-server` binary).
    pub async fn wait(&self) {
        let mut stopped = self.stop.subscribe();
        while !*stopped.borrow() {
            if stopped.changed().await.is_err() {
                return;
            }
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn accept_loop(listener: TcpListener, server: Server, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve(stream, server.clone(), stopped.clone()));
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            },
            _ = stopped.changed() => return,
        }
    }
}

async fn expire_loop(server: Server, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tick.tick() => server.with_state(crate::server::expire_cycle_in).await,
            _ = stopped.changed() => return,
        }
    }
}

/// One parsed request, or why the input is not one.
enum Request {
    Command(Vec<Bytes>),
    Empty,
}

/// Parse one request from the front of `buf`: `Ok(None)` for "need more bytes"; `Err` carries Redis's protocol
/// error text (the connection is then closed).
fn parse_request(buf: &mut BytesMut) -> Result<Option<Request>, String> {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] == b'*' {
        return parse_multibulk(buf);
    }
    // Inline: one line of space-separated arguments, quotes allowed.
    let Some(end) = buf.iter().position(|&b| b == b'\n') else {
        return if buf.len() > MAX_INLINE {
            Err("too big inline request".into())
        } else {
            Ok(None)
        };
    };
    let line = buf.split_to(end + 1);
    let text = &line[..line.len() - 1];
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    match split_args(text) {
        Some(args) if args.is_empty() => Ok(Some(Request::Empty)),
        Some(args) => Ok(Some(Request::Command(args))),
        None => Err("unbalanced quotes in request".into()),
    }
}

/// The integer on the line starting at `from` (after a `*` or `$`), and where the next line starts; `Ok(None)` if
/// the line is not complete yet.
fn line_int(buf: &[u8], from: usize, too_big: &str, invalid: &str) -> Result<Option<(i64, usize)>, String> {
    let Some(nl) = buf[from..].iter().position(|&b| b == b'\n') else {
        return if buf.len() - from > MAX_INLINE {
            Err(too_big.into())
        } else {
            Ok(None)
        };
    };
    let end = from + nl;
    let digits = buf[from..end].strip_suffix(b"\r").unwrap_or(&buf[from..end]);
    let n = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<i64>().ok())
        .ok_or_else(|| invalid.to_owned())?;
    Ok(Some((n, end + 1)))
}

/// A multibulk request (`*N` then N `$len` bulk strings), as Redis reads it: counts and lengths are checked before
/// anything is allocated.
fn parse_multibulk(buf: &mut BytesMut) -> Result<Option<Request>, String> {
    let Some((n, mut pos)) = line_int(buf, 1, "too big mbulk count string", "invalid multibulk length")?
    else {
        return Ok(None);
    };
    if n > MAX_MULTIBULK as i64 {
        return Err("invalid multibulk length".into());
    }
    if n <= 0 {
        buf.advance(pos);
        return Ok(Some(Request::Empty));
    }
    let mut spans = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let Some(&marker) = buf.get(pos) else {
            return Ok(None);
        };
        if marker != b'$' {
            return Err(format!("expected '$', got '{}'", marker as char));
        }
        let Some((len, start)) = line_int(buf, pos + 1, "too big bulk count string", "invalid bulk length")?
        else {
            return Ok(None);
        };
        if !(0..=Limits::DEFAULT_MAX_BULK_LEN as i64).contains(&len) {
            return Err("invalid bulk length".into());
        }
        let end = start + len as usize;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        spans.push((start, end));
        pos = end + 2;
    }
    // A command that may store its arguments gets them in one fresh copy of the request, so stored data never
    // holds the read buffer alive; a read-only one gets slices of the buffer itself.
    let (name_start, name_end) = spans[0];
    let stores = name_end - name_start > 32 || {
        let mut lower = [0u8; 32];
        let lower = &mut lower[..name_end - name_start];
        lower.copy_from_slice(&buf[name_start..name_end]);
        lower.make_ascii_lowercase();
        crate::commands::lookup_with_storage(lower).is_none_or(|(_, stores)| stores)
    };
    let (frame, base) = if stores {
        let frame = Bytes::copy_from_slice(&buf[name_start..pos]);
        buf.advance(pos);
        (frame, name_start)
    } else {
        (buf.split_to(pos).freeze(), 0)
    };
    Ok(Some(Request::Command(
        spans
            .into_iter()
            .map(|(start, end)| frame.slice(start - base..end - base))
            .collect(),
    )))
}

/// Split an inline command like Redis's `sdssplitargs`: spaces separate, "double" and 'single' quotes group,
/// `\n`-style escapes and `\xHH` inside double quotes. `None` for unbalanced quotes.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let mut args = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            if in_dq {
                let c = *line.get(i)?;
                if c == b'\\'
                    && i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    let hex = std::str::from_utf8(&line[i + 2..i + 4]).ok()?;
                    cur.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 3;
                } else if c == b'\\' && i + 1 < line.len() {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    // A closing quote must be followed by a space or the end.
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    in_dq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                let c = *line.get(i)?;
                if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    in_sq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                match line.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(c) => cur.push(*c),
                }
            }
            i += 1;
        }
        if in_dq || in_sq {
            return None;
        }
        args.push(Bytes::from(cur));
    }
    Some(args)
}

async fn serve(mut stream: TcpStream, server: Server, mut stopped: watch::Receiver<bool>) {
    let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    // Neither waits for the server lock: the client registers with its first command.
    let (mut session, mut killed) = server.connect(peer, local);
    let mut mailbox = server.attach_mailbox(&mut session);
    let mut ends = Ends {
        stopped: &mut stopped,
        killed: &mut killed,
    };
    serve_session(&mut stream, &server, &mut session, &mut mailbox, &mut ends).await;
    server
        .with_state(|s| crate::server::disconnect_in(s, &session))
        .await;
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

async fn serve_session(
    stream: &mut TcpStream,
    server: &Server,
    session: &mut crate::server::Session,
    mailbox: &mut tokio::sync::mpsc::UnboundedReceiver<Value>,
    ends: &mut Ends<'_>,
) {
    let mut input = BytesMut::with_capacity(16 * 1024);
    let mut output = BytesMut::with_capacity(16 * 1024);
    let mut queue = std::collections::VecDeque::new();
    let mut replies = Vec::new();
    loop {
        // Parse every complete request already buffered; a malformed one ends the connection after the replies to
        // those before it.
        let mut protocol_error = None;
        loop {
            match parse_request(&mut input) {
                Ok(None) => break,
                Ok(Some(Request::Empty)) => {}
                Ok(Some(Request::Command(args))) => queue.push_back(args),
                Err(reason) => {
                    protocol_error = Some(reason);
                    break;
                }
            }
        }
        // Run them in batches under one lock, then write the replies in one go.
        while !queue.is_empty() {
            let stopped = run_batch(server, session, &mut queue, &mut replies).await;
            for r in replies.drain(..) {
                encode_value(&r, session.protocol(), &mut output);
            }
            if session.is_closing() {
                let _ = stream.write_all(&output).await;
                return;
            }
            let Some(Executed::Blocked(mut rx, timeout)) = stopped else {
                continue;
            };
            // Answer what came before, then wait for a push, the timeout, a kill or shutdown.
            if !output.is_empty() {
                if stream.write_all(&output).await.is_err() {
                    server.with_state(|s| crate::server::unblock_in(s, session)).await;
                    return;
                }
                output.clear();
            }
            let waited = match timeout {
                Some(t) => tokio::select! {
                    r = &mut rx => r.ok(),
                    () = tokio::time::sleep(t) => None,
                    () = ends.any() => return,
                },
                None => tokio::select! {
                    r = &mut rx => r.ok(),
                    () = ends.any() => return,
                },
            };
            let reply = match waited {
                Some(v) => server.handed_over(v).await,
                None => {
                    server.with_state(|s| crate::server::unblock_in(s, session)).await;
                    // Served just before the unblock? Then that reply stands.
                    rx.try_recv().unwrap_or(Value::Null)
                }
            };
            encode_value(&reply, session.protocol(), &mut output);
        }
        if let Some(reason) = protocol_error {
            encode_value(
                &Value::error(format!("ERR Protocol error: {reason}")),
                session.protocol(),
                &mut output,
            );
            let _ = stream.write_all(&output).await;
            return;
        }
        if !output.is_empty() {
            if stream.write_all(&output).await.is_err() {
                return;
            }
            output.clear();
        }
        if input.capacity() - input.len() < 4096 {
            input.reserve(16 * 1024);
        }
        tokio::select! {
            read = stream.read_buf(&mut input) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    // Pushes queued before these commands arrived go out before their replies.
                    while let Ok(message) = mailbox.try_recv() {
                        encode_value(&message, session.protocol(), &mut output);
                    }
                }
            },
            Some(message) = mailbox.recv() => {
                encode_value(&message, session.protocol(), &mut output);
                while let Ok(more) = mailbox.try_recv() {
                    encode_value(&more, session.protocol(), &mut output);
                }
            }
            () = ends.any() => return,
        }
    }
}

/// Run queued commands. A batch holding a script runs on a blocking thread, so that this one goes on serving the
/// other connections — waiting for the script, or past its time limit answering them `BUSY` and SCRIPT KILL —
/// instead of blocking on the server lock the script holds.
async fn run_batch(
    server: &Server,
    session: &mut Session,
    queue: &mut VecDeque<Vec<Bytes>>,
    replies: &mut Vec<Value>,
) -> Option<Executed> {
    if queue.iter().any(|args| runs_script(args, session)) {
        let stand_in = Session::detached(session.id, session.db, session.protocol(), session.authenticated);
        let mut owned = std::mem::replace(session, stand_in);
        let (mut q, mut r) = (std::mem::take(queue), std::mem::take(replies));
        let server = server.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let outcome = server.execute_script_batch(&mut owned, &mut q, &mut r);
            (owned, q, r, outcome)
        })
        .await;
        return match joined {
            Ok((owned, q, r, outcome)) => {
                (*session, *queue, *replies) = (owned, q, r);
                outcome
            }
            Err(e) => {
                tracing::error!(error = %e, "a script batch failed; closing its connection");
                session.closing = true;
                None
            }
        };
    }
    let first = replies.len();
    loop {
        match server.try_execute_batch(session, queue, replies) {
            Ok((outcome, durable)) => {
                // `appendfsync always`: nothing of the batch is answered before its fsync.
                if let Some(durable) = durable
                    && let Err(refused) = durable.wait().await
                {
                    for reply in &mut replies[first..] {
                        *reply = refused.clone();
                    }
                }
                return outcome;
            }
            Err(Contended::Wait) => server.script_ended(Duration::from_millis(5)).await,
            Err(Contended::Busy) => {
                let answer = queue
                    .front()
                    .and_then(|args| crate::commands::scripting::while_busy(server.script_watch(), args));
                match answer {
                    Some(reply) => {
                        queue.pop_front();
                        replies.push(reply);
                        if queue.is_empty() {
                            return None;
                        }
                    }
                    None => server.script_ended(Duration::from_millis(5)).await,
                }
            }
        }
    }
}

/// `true` for a command that runs a script (directly, or as EXEC of a transaction holding one).
fn runs_script(args: &[Bytes], session: &Session) -> bool {
    // Every batch passes here: most commands are ruled out by their first letter (EVAL…, EXEC, FCALL…).
    let Some(name) = args
        .first()
        .filter(|n| matches!(n.first(), Some(b'e' | b'E' | b'f' | b'F')))
    else {
        return false;
    };
    let script = |name: &[u8]| {
        ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"]
            .iter()
            .any(|s| name.eq_ignore_ascii_case(s.as_bytes()))
    };
    script(name)
        || (name.eq_ignore_ascii_case(b"EXEC")
            && session
                .multi
                .as_ref()
                .is_some_and(|(queued, _)| queued.iter().any(|c| c.first().is_some_and(|n| script(n)))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect()
        })
    }

    #[test]
    fn inline_arguments_split_like_redis() {
        assert_eq!(split("set a b"), Some(vec!["set".into(), "a".into(), "b".into()]));
        assert_eq!(
            split("  set   \"a b\"  'c d' "),
            Some(vec!["set".into(), "a b".into(), "c d".into()])
        );
        assert_eq!(
            split("set k \"\\x41\\n\""),
            Some(vec!["set".into(), "k".into(), "A\n".into()])
        );
        assert_eq!(split("set \"unbalanced"), None);
        assert_eq!(split("set \"a\"b"), None);
        assert_eq!(split(""), Some(vec![]));
    }
}
