//! What a command does to the connection it runs on: [`connection_effect`](super::connection_effect) and [`ConnectionEffect`].
//!
//! This module is the one place in redkit that knows which commands change a connection's session state or its
//! reply stream, and how. Everything that cares reads it:
//!
//! - the multiplexed `redkit::Client` refuses, before sending, every command whose effect is not
//!   [shareable](ConnectionEffect::is_shareable) (a subscription would wedge every task sharing the connection,
//!   a SELECT would move them all to another database, …), with the advice of
//!   [`ConnectionEffect::shared_connection_advice`];
//! - `redkit-pool` maps each effect onto the session state it tracks, to clean a connection (DISCARD, UNWATCH,
//!   SELECT) or close it before the next user gets it.
//!
//! The effects are kept in the command table (`table.rs`, generated with this list from `gen/command_table.py`);
//! the lookup reads a container's subcommand (`CLIENT REPLY`) and SELECT's index from the request.
//!
//! | command | effect | on a shared connection |
//! | --- | --- | --- |
//! | SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE | [`Subscribe`](ConnectionEffect::Subscribe): pub/sub mode, replies become messages | refused |
//! | UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE | [`Unsubscribe`](ConnectionEffect::Unsubscribe): one message per channel, not one reply | refused |
//! | MONITOR | [`Monitor`](ConnectionEffect::Monitor): the connection becomes a stream of every command the server runs | refused |
//! | CLIENT REPLY | [`ClientReply`](ConnectionEffect::ClientReply): replies are suppressed (OFF, SKIP) | refused |
//! | QUIT | [`Quit`](ConnectionEffect::Quit): the server closes the connection | refused |
//! | RESET | [`Reset`](ConnectionEffect::Reset): everything below is undone, and the protocol drops to RESP2 | refused |
//! | HELLO | [`Hello`](ConnectionEffect::Hello): protocol, and with AUTH/SETNAME user and name | refused |
//! | AUTH | [`Auth`](ConnectionEffect::Auth): the user every later command runs as | refused |
//! | SELECT | [`Select`](ConnectionEffect::Select): the database every later command runs on | refused |
//! | MULTI, EXEC, DISCARD | [`Multi`](ConnectionEffect::Multi), [`Exec`](ConnectionEffect::Exec), [`Discard`](ConnectionEffect::Discard): later commands are queued, then run or dropped | refused alone; a pipeline that opens with MULTI and closes with EXEC/DISCARD is fine |
//! | WATCH, UNWATCH | [`Watch`](ConnectionEffect::Watch), [`Unwatch`](ConnectionEffect::Unwatch): the next EXEC may abort | refused |
//! | CLIENT TRACKING | [`ClientTracking`](ConnectionEffect::ClientTracking): invalidations arrive as RESP3 pushes (or on the redirect connection) | allowed |
//! | CLIENT SETNAME | [`ClientSetName`](ConnectionEffect::ClientSetName): the connection's name | allowed |
//!
//! ```
//! use redkit_resp::{Cmd, ConnectionEffect, Subscription, connection_effect};
//!
//! assert_eq!(connection_effect(b"get", [&b"k"[..]]), None);
//! assert_eq!(
//!     Cmd::new("psubscribe").arg("news.*").connection_effect(),
//!     Some(ConnectionEffect::Subscribe(Subscription::Pattern))
//! );
//! assert_eq!(Cmd::new("SELECT").arg(2).connection_effect(), Some(ConnectionEffect::Select(Some(2))));
//! assert!(Cmd::new("CLIENT").arg("TRACKING").arg("ON").connection_effect().is_some_and(|e| e.is_shareable()));
//! ```

use std::fmt;

/// Which kind of pub/sub subscription a command makes or drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subscription {
    /// Channels: SUBSCRIBE, UNSUBSCRIBE.
    Channel,
    /// Glob patterns: PSUBSCRIBE, PUNSUBSCRIBE.
    Pattern,
    /// Shard channels: SSUBSCRIBE, SUNSUBSCRIBE.
    Shard,
}

/// How a command changes the connection it runs on: its session state (database, user, transaction, watched
/// keys, name, tracking) or its reply stream (one reply per command, in order, in the negotiated protocol).
///
/// See the [command table's docs](super) for where it is kept, and [`connection_effect`](super::connection_effect) for the lookup; [`connection_effect`](super::connection_effect) classifies a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectionEffect {
    /// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE: the connection enters pub/sub mode; confirmations and messages arrive
    /// as pushes (RESP3) or as a stream of arrays (RESP2), not as one reply per command.
    Subscribe(Subscription),
    /// UNSUBSCRIBE, PUNSUBSCRIBE, SUNSUBSCRIBE: one confirmation per channel (pushes under RESP3), not one reply.
    Unsubscribe(Subscription),
    /// MONITOR: after its `OK`, the connection carries every command the server runs.
    Monitor,
    /// CLIENT REPLY ON|OFF|SKIP: OFF and SKIP suppress replies, so later replies no longer match commands.
    ClientReply,
    /// QUIT: the server closes the connection after replying.
    Quit,
    /// RESET: leaves MULTI, WATCH, pub/sub, MONITOR and tracking, selects database 0, deauthenticates to the
    /// default user, clears the name and switches the protocol to RESP2.
    Reset,
    /// HELLO: switches the protocol (the encoding of every later reply) and, with AUTH and SETNAME, the user and
    /// the connection's name.
    Hello,
    /// AUTH: every later command runs as this user.
    Auth,
    /// SELECT: every later command runs on this database; `None` when the index is not a readable integer.
    Select(Option<i64>),
    /// MULTI: later commands are queued (replied `QUEUED`) until EXEC or DISCARD.
    Multi,
    /// EXEC: runs the queued commands; leaves MULTI and forgets WATCHed keys.
    Exec,
    /// DISCARD: drops the queued commands; leaves MULTI and forgets WATCHed keys.
    Discard,
    /// WATCH: the next EXEC aborts if one of the keys changes.
    Watch,
    /// UNWATCH: forgets WATCHed keys.
    Unwatch,
    /// CLIENT TRACKING: the server sends invalidations for keys this connection reads — as RESP3 pushes on it,
    /// or to the REDIRECT connection. Replies stay one per command.
    ClientTracking,
    /// CLIENT SETNAME: the connection's name, as CLIENT LIST shows it.
    ClientSetName,
}

impl ConnectionEffect {
    /// `true` when the command changes what later replies look like or whether they come at all (pub/sub,
    /// MONITOR, CLIENT REPLY, QUIT, RESET, HELLO): a connection that pairs replies with requests in order loses
    /// track after it.
    pub fn changes_reply_stream(self) -> bool {
        use ConnectionEffect::*;
        matches!(
            self,
            Subscribe(_) | Unsubscribe(_) | Monitor | ClientReply | Quit | Reset | Hello
        )
    }

    /// `true` when the command is harmless on a connection that many callers share: replies stay one per
    /// command, in order, and no other caller's command runs differently because of it (CLIENT TRACKING, CLIENT
    /// SETNAME). Its effect is still tied to that one connection and is lost when it reconnects.
    pub fn is_shareable(self) -> bool {
        self.shared_connection_advice().is_none()
    }

    /// Why a shared (multiplexed) connection must refuse the command, and what to use instead; `None` when it is
    /// [shareable](ConnectionEffect::is_shareable). This is the text of
    /// [`Error::SharedConnectionRefused`](crate::Error::SharedConnectionRefused).
    pub fn shared_connection_advice(self) -> Option<&'static str> {
        use ConnectionEffect::*;
        Some(match self {
            Subscribe(_) | Unsubscribe(_) => {
                "it would put the shared connection into pub/sub mode, where confirmations and messages arrive as \
                 pushes no request is waiting for and every other task's command stalls; subscribe with \
                 `redkit::Subscriber` (`Subscriber::connect(client.config().clone())`), which owns its connection \
                 and restores subscriptions after a reconnect"
            }
            Monitor => {
                "MONITOR turns the connection into a stream of every command the server runs; use an exclusive \
                 connection: `client.dedicated()` (`redkit::Dedicated`) or a pool connection (`Pool::get`)"
            }
            ClientReply => {
                "CLIENT REPLY OFF/SKIP suppresses replies, so every later reply would be handed to the wrong \
                 caller; use an exclusive connection: `client.dedicated()` (`redkit::Dedicated`) or a pool \
                 connection (`Pool::get`)"
            }
            Quit => {
                "QUIT would close the connection every task shares (and the client would reconnect); to close it, \
                 drop the `Client` and all its clones"
            }
            Reset => {
                "RESET would reset the database, user, protocol, name and tracking of the connection every task \
                 shares; use an exclusive connection for state you need to reset: `client.dedicated()` \
                 (`redkit::Dedicated`) or a pool connection (`Pool::get`)"
            }
            Hello => {
                "HELLO would change the protocol (and with AUTH/SETNAME the user and name) under every task \
                 sharing the connection, and a reconnect would silently undo it; choose the protocol in the URL \
                 (`?protocol=resp2` or `?protocol=resp3`, `Config::protocol`) and the credentials too \
                 (`redis://user:password@host`, `?client_name=`)"
            }
            Auth => {
                "AUTH would change the user of every task sharing the connection, and a reconnect would silently \
                 undo it; put the credentials in the URL (`redis://user:password@host`, `Config::username` and \
                 `Config::password`)"
            }
            Select(_) => {
                "SELECT would switch the database under every task sharing the connection, and a reconnect would \
                 silently switch back; choose the database with the URL's `/db` path (`redis://host:6379/2`) or \
                 `?db=2` (`Config::db`), or use an exclusive connection (`client.dedicated()`)"
            }
            Multi | Exec | Discard => {
                "a MULTI/EXEC/DISCARD sent on its own would pull other tasks' commands into the transaction; use \
                 `client.transaction()`, `TypedPipeline::atomic()`, or a pipeline that opens with MULTI and closes \
                 with EXEC or DISCARD"
            }
            Watch | Unwatch => {
                "WATCH on a shared connection would be cancelled or tripped by other tasks' commands; use \
                 `client.transaction()` or `client.watch()` (they run on a dedicated connection), or an exclusive \
                 connection (`client.dedicated()` or `Pool::get`)"
            }
            ClientTracking | ClientSetName => return None,
        })
    }
}

impl fmt::Display for ConnectionEffect {
    /// The command family, as Redis spells it: `SUBSCRIBE`, `CLIENT REPLY`, `SELECT 2`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConnectionEffect::*;
        let prefix = |s: Subscription| match s {
            Subscription::Channel => "",
            Subscription::Pattern => "P",
            Subscription::Shard => "S",
        };
        match *self {
            Subscribe(s) => write!(f, "{}SUBSCRIBE", prefix(s)),
            Unsubscribe(s) => write!(f, "{}UNSUBSCRIBE", prefix(s)),
            Monitor => f.write_str("MONITOR"),
            ClientReply => f.write_str("CLIENT REPLY"),
            Quit => f.write_str("QUIT"),
            Reset => f.write_str("RESET"),
            Hello => f.write_str("HELLO"),
            Auth => f.write_str("AUTH"),
            Select(Some(db)) => write!(f, "SELECT {db}"),
            Select(None) => f.write_str("SELECT"),
            Multi => f.write_str("MULTI"),
            Exec => f.write_str("EXEC"),
            Discard => f.write_str("DISCARD"),
            Watch => f.write_str("WATCH"),
            Unwatch => f.write_str("UNWATCH"),
            ClientTracking => f.write_str("CLIENT TRACKING"),
            ClientSetName => f.write_str("CLIENT SETNAME"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::ConnectionEffect::*;
    use super::*;
    use crate::Cmd;
    use crate::command::connection_effect;

    fn effect(words: &[&str]) -> Option<ConnectionEffect> {
        Cmd::new(words[0]).args_from(&words[1..]).connection_effect()
    }

    #[test]
    fn classifies_every_command_with_an_effect() {
        let cases: &[(&[&str], ConnectionEffect)] = &[
            (&["SUBSCRIBE", "a", "b"], Subscribe(Subscription::Channel)),
            (&["psubscribe", "p*"], Subscribe(Subscription::Pattern)),
            (&["SSubscribe", "s"], Subscribe(Subscription::Shard)),
            (&["UNSUBSCRIBE"], Unsubscribe(Subscription::Channel)),
            (&["PUNSUBSCRIBE", "p*"], Unsubscribe(Subscription::Pattern)),
            (&["sunsubscribe"], Unsubscribe(Subscription::Shard)),
            (&["MONITOR"], Monitor),
            (&["CLIENT", "REPLY", "OFF"], ClientReply),
            (&["client", "reply", "skip"], ClientReply),
            (&["QUIT"], Quit),
            (&["reset"], Reset),
            (&["HELLO", "3"], Hello),
            (&["HELLO"], Hello),
            (&["AUTH", "pw"], Auth),
            (&["auth", "user", "pw"], Auth),
            (&["SELECT", "3"], Select(Some(3))),
            (&["select", "x"], Select(None)),
            (&["SELECT"], Select(None)),
            (&["MULTI"], Multi),
            (&["exec"], Exec),
            (&["DISCARD"], Discard),
            (&["WATCH", "k"], Watch),
            (&["unwatch"], Unwatch),
            (&["CLIENT", "TRACKING", "on"], ClientTracking),
            (&["client", "setname", "x"], ClientSetName),
        ];
        for (words, expected) in cases {
            assert_eq!(effect(words), Some(*expected), "{words:?}");
        }
    }

    #[test]
    fn leaves_other_commands_alone() {
        for words in [
            &["GET", "k"][..],
            &["SET", "k", "v"],
            &["PUBLISH", "c", "m"],
            &["SPUBLISH", "c", "m"],
            &["PUBSUB", "CHANNELS"],
            &["CLIENT", "ID"],
            &["CLIENT", "GETNAME"],
            &["CLIENT", "TRACKINGINFO"],
            &["CLIENT", "LIST"],
            &["CLIENT"],
            &["SELECTX", "1"],
            &["EXECUTE"],
            &["SUBSCRIBERS"],
            &["A_VERY_LONG_COMMAND_NAME"],
            &["ACL", "SETUSER", "u"],
            &["SWAPDB", "0", "1"],
            &["CONFIG", "RESETSTAT"],
            &["SLOWLOG", "RESET"],
        ] {
            assert_eq!(effect(words), None, "{words:?}");
        }
        assert_eq!(connection_effect(b"", [&b"x"[..]]), None);
        assert_eq!(connection_effect(b"CLIENT", [&b"REPLY"[..]]), Some(ClientReply));
    }

    #[test]
    fn only_tracking_and_setname_are_shareable() {
        let all = [
            Subscribe(Subscription::Channel),
            Unsubscribe(Subscription::Shard),
            Monitor,
            ClientReply,
            Quit,
            Reset,
            Hello,
            Auth,
            Select(Some(1)),
            Multi,
            Exec,
            Discard,
            Watch,
            Unwatch,
        ];
        for e in all {
            assert!(!e.is_shareable(), "{e}");
            assert!(e.shared_connection_advice().is_some_and(|a| !a.is_empty()));
        }
        assert!(ClientTracking.is_shareable() && ClientSetName.is_shareable());
        assert!(!ClientTracking.changes_reply_stream());
        assert!(Monitor.changes_reply_stream() && Reset.changes_reply_stream());
        assert!(!Select(None).changes_reply_stream());
    }

    #[test]
    fn advice_names_the_right_tool() {
        let advice = |e: ConnectionEffect| e.shared_connection_advice().unwrap();
        assert!(advice(Subscribe(Subscription::Pattern)).contains("Subscriber"));
        assert!(advice(Unsubscribe(Subscription::Channel)).contains("Subscriber"));
        for e in [Monitor, ClientReply, Watch, Reset] {
            assert!(advice(e).contains("dedicated"), "{e}");
        }
        assert!(advice(Select(Some(2))).contains("/2"));
        assert!(advice(Hello).contains("?protocol="));
        assert!(advice(Auth).contains("user:password@"));
        for e in [Multi, Exec, Discard] {
            assert!(advice(e).contains("transaction()"), "{e}");
        }
    }

    #[test]
    fn displays_as_redis_spells_it() {
        assert_eq!(Subscribe(Subscription::Shard).to_string(), "SSUBSCRIBE");
        assert_eq!(Unsubscribe(Subscription::Pattern).to_string(), "PUNSUBSCRIBE");
        assert_eq!(Select(Some(4)).to_string(), "SELECT 4");
        assert_eq!(ClientReply.to_string(), "CLIENT REPLY");
    }
}
