//! Connections: CLIENT KILL's filters.

use redkit_resp::{ArgWriter, ToArg};

use super::wire::token;

/// Filters of CLIENT KILL (all given must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientKillFilter {
    args: Vec<(&'static str, String)>,
}

impl ClientKillFilter {
    /// No filter yet (add at least one).
    pub fn new() -> Self {
        Self::default()
    }
    /// The client with this ID.
    #[must_use]
    pub fn id(mut self, id: i64) -> Self {
        self.args.push(("ID", id.to_string()));
        self
    }
    /// Clients connected from `ip:port`.
    #[must_use]
    pub fn addr(mut self, addr: impl Into<String>) -> Self {
        self.args.push(("ADDR", addr.into()));
        self
    }
    /// Clients connected to this local `ip:port`.
    #[must_use]
    pub fn laddr(mut self, addr: impl Into<String>) -> Self {
        self.args.push(("LADDR", addr.into()));
        self
    }
    /// Clients of this type (`normal`, `master`, `replica`, `pubsub`).
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.args.push(("TYPE", kind.into()));
        self
    }
    /// Clients authenticated as this user.
    #[must_use]
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.args.push(("USER", user.into()));
        self
    }
    /// Whether the calling client may kill itself (default yes).
    #[must_use]
    pub fn skip_me(mut self, skip: bool) -> Self {
        self.args.push(("SKIPME", if skip { "yes" } else { "no" }.into()));
        self
    }
    /// Clients idle at least this many seconds (Redis 7.4+).
    #[must_use]
    pub fn max_age(mut self, secs: u64) -> Self {
        self.args.push(("MAXAGE", secs.to_string()));
        self
    }
}

impl ToArg for ClientKillFilter {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        for (name, value) in &self.args {
            token(out, name);
            out.write_arg(value.as_bytes());
        }
    }
}
