//! [`PooledConn`]: a connection plus what it knows of its own session state, and [`PooledConnection`], the
//! exclusive handle [`Pool::get`](crate::Pool::get) returns.
//!
//! A pooled connection watches the commands sent through it for the ones that change the server-side session —
//! MULTI, WATCH, SELECT, SUBSCRIBE, CLIENT TRACKING, AUTH, HELLO, CLIENT SETNAME, CLIENT REPLY, MONITOR — so the
//! pool can tell a clean connection from a dirty one when it comes back. State is marked *before* the command is
//! sent: a future dropped mid-way leaves the connection marked dirty, never marked clean by mistake.

use std::time::Duration;

use deadpool::managed::Object;
use redkit::{Cmd, Connection, Executor, Pipeline, Result, Value};
use tokio::sync::Mutex;

use crate::manager::Manager;

/// What a connection's session looks like, as far as the commands sent through it tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SessionState {
    /// Inside MULTI (queued commands would leak into the next user's EXEC).
    pub(crate) in_multi: bool,
    /// Keys are WATCHed (the next user's EXEC could abort for them).
    pub(crate) watching: bool,
    /// The database selected, if SELECT changed it.
    pub(crate) db: Option<i64>,
    /// Changes a reset cannot cheaply undo: subscriptions, CLIENT TRACKING, AUTH/HELLO/SETNAME, CLIENT REPLY,
    /// MONITOR. Such a connection is closed rather than reused.
    pub(crate) tainted: Option<&'static str>,
}

impl SessionState {
    /// Update for a command about to be sent.
    pub(crate) fn observe(&mut self, cmd: &Cmd) {
        let mut args = cmd.args();
        let Some(name) = args.next() else {
            return;
        };
        let sub = args.next();
        let is = |a: &[u8], b: &str| a.eq_ignore_ascii_case(b.as_bytes());
        match name {
            n if is(n, "MULTI") => self.in_multi = true,
            n if is(n, "EXEC") || is(n, "DISCARD") => {
                self.in_multi = false;
                self.watching = false;
            }
            n if is(n, "WATCH") => self.watching = true,
            n if is(n, "UNWATCH") => self.watching = false,
            n if is(n, "SELECT") => {
                self.db = sub
                    .and_then(|s| std::str::from_utf8(s).ok())
                    .and_then(|s| s.parse().ok())
                    // An unreadable index: assume the worst.
                    .or(Some(-1));
            }
            n if is(n, "SUBSCRIBE") || is(n, "PSUBSCRIBE") || is(n, "SSUBSCRIBE") => {
                self.tainted = Some("subscribed");
            }
            n if is(n, "MONITOR") => self.tainted = Some("MONITOR"),
            n if is(n, "AUTH") || is(n, "HELLO") => self.tainted = Some("re-authenticated"),
            n if is(n, "RESET") => self.tainted = Some("RESET"),
            n if is(n, "CLIENT") => match sub {
                Some(s) if is(s, "TRACKING") => self.tainted = Some("CLIENT TRACKING"),
                Some(s) if is(s, "SETNAME") => self.tainted = Some("renamed"),
                Some(s) if is(s, "REPLY") => self.tainted = Some("CLIENT REPLY"),
                _ => {}
            },
            _ => {}
        }
    }

    /// Update for every command of a pipeline about to be sent.
    pub(crate) fn observe_pipeline(&mut self, pipeline: &Pipeline) {
        for cmd in pipeline.cmds() {
            self.observe(cmd);
        }
    }
}

/// A connection owned by the pool.
#[derive(Debug)]
pub struct PooledConn {
    pub(crate) conn: Mutex<(Connection, SessionState)>,
    pub(crate) request_timeout: Option<Duration>,
}

impl PooledConn {
    pub(crate) fn new(conn: Connection, request_timeout: Option<Duration>) -> PooledConn {
        PooledConn {
            conn: Mutex::new((conn, SessionState::default())),
            request_timeout,
        }
    }

    pub(crate) async fn send(&self, cmd: &Cmd) -> Result<Value> {
        let mut guard = self.conn.lock().await;
        let (conn, state) = &mut *guard;
        state.observe(cmd);
        conn.send_timeout(cmd, self.request_timeout).await
    }

    pub(crate) async fn send_pipeline(&self, pipeline: &Pipeline) -> Result<Vec<Value>> {
        let mut guard = self.conn.lock().await;
        let (conn, state) = &mut *guard;
        state.observe_pipeline(pipeline);
        match self.request_timeout {
            None => conn.send_pipeline(pipeline).await,
            Some(limit) => tokio::time::timeout(limit, conn.send_pipeline(pipeline))
                .await
                .unwrap_or(Err(redkit::Error::Timeout {
                    command: Some("pipeline".into()),
                    after: limit,
                })),
        }
    }
}

/// An exclusive pooled connection, for stateful sequences (WATCH/MULTI/EXEC, SELECT, blocking commands). Use it
/// through [`Commands`](redkit::Commands) like any executor; dropping it returns the connection to the pool, which
/// cleans or closes it before anyone else gets it.
#[derive(Debug)]
pub struct PooledConnection {
    pub(crate) obj: Object<Manager>,
}

impl Executor for PooledConnection {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        self.obj.send(&cmd).await
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        self.obj.send_pipeline(&pipeline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(cmds: &[&[&str]]) -> SessionState {
        let mut s = SessionState::default();
        for c in cmds {
            s.observe(&Cmd::new(c[0]).args_from(&c[1..]));
        }
        s
    }

    #[test]
    fn tracks_transactions_watches_and_databases() {
        assert_eq!(after(&[&["GET", "k"]]), SessionState::default());
        assert!(after(&[&["multi"]]).in_multi);
        assert_eq!(
            after(&[&["WATCH", "k"], &["MULTI"], &["EXEC"]]),
            SessionState::default()
        );
        assert!(after(&[&["WATCH", "k"]]).watching);
        assert!(!after(&[&["WATCH", "k"], &["UNWATCH"]]).watching);
        assert_eq!(after(&[&["SELECT", "3"]]).db, Some(3));
        assert_eq!(after(&[&["SELECT", "x"]]).db, Some(-1));
    }

    #[test]
    fn marks_what_cannot_be_undone_cheaply() {
        for cmd in [
            &["SUBSCRIBE", "c"][..],
            &["psubscribe", "p*"],
            &["CLIENT", "TRACKING", "on"],
            &["client", "setname", "x"],
            &["AUTH", "pw"],
            &["HELLO", "3"],
            &["MONITOR"],
        ] {
            assert!(after(&[cmd]).tainted.is_some(), "{cmd:?}");
        }
        assert!(after(&[&["CLIENT", "ID"]]).tainted.is_none());
    }
}
