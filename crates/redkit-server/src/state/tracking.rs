//! CLIENT TRACKING's state: each client's [`TrackingMode`] and the server-wide table of who read which key ([`Tracking`]).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;

/// One client's tracking options.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrackingMode {
    pub(crate) redirect: Option<u64>,
    pub(crate) bcast: bool,
    pub(crate) prefixes: Vec<Bytes>,
    pub(crate) optin: bool,
    pub(crate) optout: bool,
    pub(crate) noloop: bool,
    /// CLIENT CACHING yes/no, for the next command only.
    pub(crate) caching: Option<bool>,
}

/// The server-wide tracking state.
#[derive(Debug, Default)]
pub(crate) struct Tracking {
    /// Default mode: key → clients that read it.
    pub(crate) table: HashMap<Bytes, HashSet<u64>>,
    /// Clients with tracking on.
    pub(crate) clients: usize,
}
