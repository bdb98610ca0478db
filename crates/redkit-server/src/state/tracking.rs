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

/// Redis's default `tracking-table-max-keys`: the keys remembered for default-mode tracking.
pub(crate) const TRACKING_TABLE_MAX_KEYS: usize = 1_000_000;

/// The server-wide tracking state: how many clients track, and (default mode) which clients read which key.
#[derive(Debug, Default)]
pub(crate) struct Tracking {
    /// Default mode: key → clients that read it.
    table: HashMap<Bytes, HashSet<u64>>,
    /// Clients with tracking on.
    clients: usize,
}

impl Tracking {
    /// `true` while at least one client tracks (otherwise tracking costs nothing).
    pub(crate) fn active(&self) -> bool {
        self.clients > 0
    }

    /// How many clients track (INFO's `tracking_clients`).
    pub(crate) fn clients(&self) -> usize {
        self.clients
    }

    /// A client turned tracking on.
    pub(crate) fn client_on(&mut self) {
        self.clients += 1;
    }

    /// A client turned tracking off, or disconnected while tracking.
    pub(crate) fn client_off(&mut self) {
        self.clients = self.clients.saturating_sub(1);
    }

    /// Remember that `client` read `key`. A new key is copied: it may be a slice of the request, which must not
    /// stay alive for it.
    pub(crate) fn remember(&mut self, key: &Bytes, client: u64) {
        match self.table.get_mut(key) {
            Some(readers) => {
                readers.insert(client);
            }
            None => {
                self.table
                    .insert(Bytes::copy_from_slice(key), HashSet::from([client]));
            }
        }
    }

    /// While the table holds more than [`TRACKING_TABLE_MAX_KEYS`] keys, one key and its readers, forgotten (they
    /// are to be invalidated, so their caches stay correct).
    pub(crate) fn evict_one(&mut self) -> Option<(Bytes, HashSet<u64>)> {
        if self.table.len() <= TRACKING_TABLE_MAX_KEYS {
            return None;
        }
        let key = self.table.keys().next().cloned()?;
        let readers = self.table.remove(&key)?;
        Some((key, readers))
    }

    /// The clients that read `key` since it last changed, forgotten.
    pub(crate) fn take_readers(&mut self, key: &Bytes) -> Option<HashSet<u64>> {
        self.table.remove(key)
    }

    /// Forget every reader (FLUSHDB, FLUSHALL: everything is invalidated).
    pub(crate) fn forget_all(&mut self) {
        self.table.clear();
    }
}
