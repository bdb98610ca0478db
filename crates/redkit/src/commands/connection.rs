//! Connection commands: identity, names, client management, and the transaction primitives (which only make
//! sense on a [`Dedicated`](crate::Dedicated) connection).
//!
//! AUTH, HELLO, SELECT, QUIT, RESET, MULTI, EXEC, DISCARD, WATCH and UNWATCH change the connection they run on,
//! so the shared [`Client`](crate::Client) refuses them with
//! [`Error::SharedConnectionRefused`](crate::Error::SharedConnectionRefused); use them on a
//! [`Dedicated`](crate::Dedicated) or pooled connection.

use std::time::Duration;

use redkit_resp::{Cmd, ToArg, Value};

use super::commands;
use super::options::{ClientKillFilter, Millis};

commands! {
    /// Connection and client commands.
    pub trait ConnectionCommands {
        /// PING: `PONG`.
        fn ping() -> String { Cmd::new("PING") }
        /// ECHO: the message back.
        fn echo<V>(message: impl ToArg) -> V { Cmd::new("ECHO").arg(message) }
        /// AUTH: authenticate (a user name for ACL users, or `None` for the default user).
        fn auth(username: Option<&str>, password: impl ToArg) -> () { Cmd::new("AUTH").arg(username).arg(password) }
        /// HELLO: switch protocol (2 or 3) and read the server's description.
        fn hello(protocol: u8) -> Vec<(String, Value)> { Cmd::new("HELLO").arg(protocol) }
        /// SELECT: switch database. Refused on the shared client, where it would affect everyone: use a dedicated
        /// connection or the URL's `/db` (the `db` setting of the configuration).
        fn select(db: i64) -> () { Cmd::new("SELECT").arg(db) }
        /// QUIT: ask the server to close the connection.
        fn quit() -> () { Cmd::new("QUIT") }
        /// RESET: reset the connection's state (database, MULTI, WATCH, subscriptions, tracking, name).
        fn reset() -> String { Cmd::new("RESET") }
        /// CLIENT ID: this connection's ID.
        fn client_id() -> i64 { Cmd::new("CLIENT").arg("ID") }
        /// CLIENT GETNAME: this connection's name.
        fn client_getname() -> Option<String> { Cmd::new("CLIENT").arg("GETNAME") }
        /// CLIENT SETNAME: name this connection.
        fn client_setname(name: impl ToArg) -> () { Cmd::new("CLIENT").arg("SETNAME").arg(name) }
        /// CLIENT LIST: one line per client.
        fn client_list() -> String { Cmd::new("CLIENT").arg("LIST") }
        /// CLIENT INFO: this connection's line of CLIENT LIST.
        fn client_info() -> String { Cmd::new("CLIENT").arg("INFO") }
        /// CLIENT KILL with filters: how many clients were closed.
        fn client_kill(filter: ClientKillFilter) -> i64 { Cmd::new("CLIENT").arg("KILL").arg(filter) }
        /// CLIENT PAUSE: suspend clients for `timeout` (`write_only`: only writes).
        fn client_pause(timeout: Duration, write_only: bool) -> () {
            Cmd::new("CLIENT").arg("PAUSE").arg(Millis(timeout)).arg(if write_only { "WRITE" } else { "ALL" })
        }
        /// CLIENT UNPAUSE: resume paused clients.
        fn client_unpause() -> () { Cmd::new("CLIENT").arg("UNPAUSE") }
        /// CLIENT TRACKING ON/OFF with options (`BCAST`, `PREFIX p`, `OPTIN`, `NOLOOP`, …). Allowed on the shared
        /// client (invalidations arrive through `Client::pushes` under RESP3); like all connection state it is lost
        /// on reconnect.
        fn client_tracking(on: bool, options: impl ToArg) -> () {
            Cmd::new("CLIENT").arg("TRACKING").arg(if on { "ON" } else { "OFF" }).arg(options)
        }
        /// MULTI: start queueing a transaction (dedicated connections only).
        fn multi() -> () { Cmd::new("MULTI") }
        /// EXEC: run the queued transaction; `None` if a WATCHed key changed.
        fn exec() -> Option<Vec<Value>> { Cmd::new("EXEC") }
        /// DISCARD: drop the queued transaction.
        fn discard() -> () { Cmd::new("DISCARD") }
        /// WATCH: abort the next EXEC if any of the keys changes.
        fn watch(keys: impl ToArg) -> () { Cmd::new("WATCH").arg(keys) }
        /// UNWATCH: forget watched keys.
        fn unwatch() -> () { Cmd::new("UNWATCH") }
    }
}
