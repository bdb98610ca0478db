//! The session driver: how one session's requests run against the server, for a TCP connection ([`crate::net`])
//! and for the in-process [`Mock`](crate::Mock) alike — the same batching (pipelined commands under one
//! acquisition of the server lock), the same handling of scripts (a batch holding one runs on a blocking thread,
//! other sessions wait for it or are answered `BUSY`), the same durability wait (`appendfsync always`: nothing of a
//! batch is answered before its fsync, awaited without blocking the runtime), and the same blocking commands
//! (registered under the lock, answered when another session's write serves them, or null at their timeout).
//!
//! What a driver's caller adds is its transport: the connection reads requests, writes replies and pushes, and
//! enforces its limits; the mock takes commands from the executor seam.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use redkit_resp::Value;
use tokio::time::Instant;

use crate::commands::families::registry;
use crate::engine::{Contended, Executed, Server};
use crate::state::Session;

/// A blocked command's wait: its reply channel, and when it times out (`None`: never).
pub(crate) type Blocked = (tokio::sync::oneshot::Receiver<Value>, Option<Instant>);

/// Wait for a blocked command's reply; `None` when it timed out. Pending forever without one.
pub(crate) async fn wait_blocked(blocked: &mut Option<Blocked>) -> Option<Value> {
    let Some((rx, deadline)) = blocked.as_mut() else {
        return std::future::pending().await;
    };
    match deadline {
        Some(at) => tokio::select! {
            r = rx => r.ok(),
            () = tokio::time::sleep_until(*at) => None,
        },
        None => rx.await.ok(),
    }
}

/// The reply of a blocked command once its wait ended: the value another session's write served it with (after
/// that write is durable), or, at the timeout, null — unless it was served just before the unblock, which then
/// stands.
pub(crate) async fn blocked_reply(
    server: &Server,
    session: &Session,
    waited: Option<Value>,
    wait: Blocked,
) -> Value {
    let (mut rx, _) = wait;
    match waited {
        Some(v) => server.handed_over(v).await,
        None => {
            server.with_state(|s| crate::engine::unblock_in(s, session)).await;
            match rx.try_recv() {
                Ok(v) => server.handed_over(v).await,
                Err(_) => Value::Null,
            }
        }
    }
}

/// Run queued commands. A batch holding a script runs on a blocking thread, so that this one goes on serving the
/// other connections — waiting for the script, or past its time limit answering them `BUSY` and SCRIPT KILL —
/// instead of blocking on the server lock the script holds.
pub(crate) async fn run_batch(
    server: &Server,
    session: &mut Session,
    queue: &mut VecDeque<Vec<Bytes>>,
    replies: &mut Vec<Value>,
) -> Option<Executed> {
    if queue.iter().any(|args| runs_script(args, session)) {
        let stand_in = session.stand_in();
        let mut owned = std::mem::replace(session, stand_in);
        let (mut q, mut r) = (std::mem::take(queue), std::mem::take(replies));
        let on_thread = server.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let outcome = on_thread.execute_script_batch(&mut owned, &mut q, &mut r);
            (owned, q, r, outcome)
        })
        .await;
        return match joined {
            Ok((owned, q, r, outcome)) => {
                (*session, *queue, *replies) = (owned, q, r);
                outcome
            }
            Err(e) => {
                if e.is_panic() {
                    server.limits().count_panic();
                }
                tracing::error!(error = %e, "a script batch failed; closing its connection");
                session.close_after_reply();
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
                let answer = queue.front().and_then(|args| {
                    crate::commands::scripting::while_busy(server.script_watch(), session, args)
                });
                match answer {
                    Some(reply) => {
                        queue.pop_front();
                        // As under the lock: a command may answer several times, or (SHUTDOWN) not at all.
                        match session.take_replies() {
                            Some(many) => replies.extend(many),
                            None => replies.push(reply),
                        }
                        if queue.is_empty() || session.is_closing() {
                            return None;
                        }
                    }
                    None => server.script_ended(Duration::from_millis(5)).await,
                }
            }
        }
    }
}

/// `true` for a command that runs a script (directly, or as EXEC of a transaction holding one): the registry's
/// [`runs_script`](crate::commands::CommandSpec::runs_script) declaration.
fn runs_script(args: &[Bytes], session: &Session) -> bool {
    let Some(name) = args.first() else {
        return false;
    };
    let registry = registry();
    registry.runs_script(name)
        || (name.eq_ignore_ascii_case(b"EXEC")
            && session
                .transaction()
                .queued()
                .iter()
                .any(|c| c.first().is_some_and(|n| registry.runs_script(n))))
}
