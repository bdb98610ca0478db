//! SSCAN/HSCAN/ZSCAN cursors over large collections ([`Cursors`]): bounded in count and in the member names their snapshots hold.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

/// Most open cursors kept; the oldest are dropped beyond this (a dropped cursor ends its scan early).
const MAX_CURSORS: usize = 1024;

/// Most member names all open cursors' snapshots hold together (each is a shared handle, ~32 bytes): past it the
/// oldest cursors are dropped, so scans of large collections cannot make the server hold copy after copy.
const MAX_HELD_MEMBERS: usize = 8 << 20;

/// Open element cursors.
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    pub(crate) open: HashMap<u64, Cursor>,
    pub(crate) next: u64,
    /// Member names held by the distinct snapshots of the open cursors.
    pub(crate) held: usize,
}

impl Cursors {
    pub(crate) fn insert(&mut self, id: u64, cursor: Cursor) {
        if Arc::strong_count(&cursor.members) == 1 {
            self.held += cursor.members.len();
        }
        self.open.insert(id, cursor);
        while (self.open.len() > MAX_CURSORS || self.held > MAX_HELD_MEMBERS) && self.open.len() > 1 {
            let Some(oldest) = self.open.keys().min().copied() else {
                break;
            };
            self.remove(oldest);
        }
    }

    pub(crate) fn remove(&mut self, id: u64) {
        if let Some(c) = self.open.remove(&id)
            && Arc::strong_count(&c.members) == 1
        {
            self.held = self.held.saturating_sub(c.members.len());
        }
    }
}

#[derive(Debug)]
pub(crate) struct Cursor {
    pub(crate) db: usize,
    pub(crate) key: Bytes,
    pub(crate) members: Arc<Vec<Bytes>>,
    pub(crate) pos: usize,
}
