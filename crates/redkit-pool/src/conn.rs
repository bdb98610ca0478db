//! [`PooledConn`]: a connection plus what it knows of its own session state (`SessionState`) — what the
//! [`Manager`](crate::Manager) makes, judges and recycles. The exclusive handle [`Pool::get`](crate::Pool::get)
//! returns, [`PooledConnection`](crate::PooledConnection), is in `pool.rs`.
//!
//! A pooled connection watches the commands sent through it for the ones that change the server-side session —
//! MULTI, WATCH, SELECT, SUBSCRIBE, CLIENT TRACKING, AUTH, HELLO, CLIENT SETNAME, CLIENT REPLY, MONITOR, RESET,
//! QUIT — so the pool can tell a clean connection from a dirty one when it comes back. Which commands those are
//! is decided in one place, [`redkit_resp::connection_effect`], which the multiplexed client also reads. State is
//! marked *before* the command is sent: a future dropped mid-way leaves the connection marked dirty, never marked
//! clean by mistake.

use std::time::Duration;

use redkit::{Cmd, Connection, Pipeline, Result, Value};
use tokio::sync::Mutex;

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
    /// MONITOR, RESET, QUIT. Such a connection is closed rather than reused.
    pub(crate) tainted: Option<&'static str>,
}

impl SessionState {
    /// Update for a command about to be sent. Which commands change the session, and how, is
    /// [`redkit_resp::connection_effect`]'s to say; this maps each effect onto what the pool can repair.
    pub(crate) fn observe(&mut self, cmd: &Cmd) {
        use redkit_resp::ConnectionEffect as E;
        let Some(effect) = cmd.connection_effect() else {
            return;
        };
        match effect {
            E::Multi => self.in_multi = true,
            E::Exec | E::Discard => {
                self.in_multi = false;
                self.watching = false;
            }
            E::Watch => self.watching = true,
            E::Unwatch => self.watching = false,
            // An unreadable index: assume the worst.
            E::Select(db) => self.db = Some(db.unwrap_or(-1)),
            E::Subscribe(_) => self.tainted = Some("subscribed"),
            E::Monitor => self.tainted = Some("MONITOR"),
            E::Auth | E::Hello => self.tainted = Some("re-authenticated"),
            E::Reset => self.tainted = Some("RESET"),
            E::Quit => self.tainted = Some("QUIT"),
            E::ClientTracking => self.tainted = Some("CLIENT TRACKING"),
            E::ClientSetName => self.tainted = Some("renamed"),
            E::ClientReply => self.tainted = Some("CLIENT REPLY"),
            // Unsubscribing only undoes a subscription, which already marked the connection; and whatever a future
            // effect is, a connection it touched is not known to be clean.
            E::Unsubscribe(_) => {}
            _ => self.tainted = Some("session state changed"),
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

    #[test]
    fn follows_the_shared_classification() {
        for cmd in [
            &["SSUBSCRIBE", "s"][..],
            &["RESET"],
            &["QUIT"],
            &["CLIENT", "REPLY", "OFF"],
            &["auth", "user", "pw"],
        ] {
            assert!(after(&[cmd]).tainted.is_some(), "{cmd:?}");
        }
        assert_eq!(after(&[&["MULTI"], &["DISCARD"]]), SessionState::default());
        assert_eq!(after(&[&["select", "7"]]).db, Some(7));
        assert_eq!(after(&[&["SELECT"]]).db, Some(-1));
        assert_eq!(after(&[&["UNSUBSCRIBE"]]), SessionState::default());
        let mut s = SessionState::default();
        s.observe_pipeline(
            &[Cmd::new("WATCH").arg("k"), Cmd::new("SELECT").arg(2)]
                .into_iter()
                .collect(),
        );
        assert!(s.watching && s.db == Some(2));
    }
}
