//! Scan cursors: SCAN's over a database's keys ([`KeyCursors`]), and SSCAN/HSCAN/ZSCAN's over large collections
//! ([`Cursors`]), bounded in count and in the member names their snapshots hold.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

/// Most open cursors kept; the oldest are dropped beyond this (a dropped cursor ends its scan early).
const MAX_CURSORS: usize = 1024;

/// Most member names all open cursors' snapshots hold together (each is a shared handle, ~32 bytes): past it the
/// oldest cursors are dropped, so scans of large collections cannot make the server hold copy after copy.
const MAX_HELD_MEMBERS: usize = 8 << 20;

/// Most SCAN cursors kept; past it all are forgotten (a forgotten cursor ends its scan, as a stale one does).
const MAX_KEY_CURSORS: usize = 100_000;

/// SCAN's cursors: each remembers its database and the last key it returned (keys are walked in order, so a scan
/// resumes after that key whatever changed meanwhile).
#[derive(Debug)]
pub(crate) struct KeyCursors {
    open: HashMap<u64, (usize, Bytes)>,
    next: u64,
}

impl Default for KeyCursors {
    fn default() -> Self {
        KeyCursors {
            open: HashMap::new(),
            next: 1,
        }
    }
}

impl KeyCursors {
    /// Where cursor `id` left off in database `db`: `None` for a cursor unknown, forgotten, or of another database.
    pub(crate) fn resume(&self, id: u64, db: usize) -> Option<&Bytes> {
        self.open.get(&id).filter(|(at, _)| *at == db).map(|(_, key)| key)
    }

    /// A new cursor that resumes after `last` in database `db`.
    pub(crate) fn save(&mut self, db: usize, last: Bytes) -> u64 {
        let id = self.next;
        self.next += 1;
        if self.open.len() > MAX_KEY_CURSORS {
            self.open.clear();
        }
        self.open.insert(id, (db, last));
        id
    }
}

/// Open element cursors.
#[derive(Debug, Default)]
pub(crate) struct Cursors {
    open: HashMap<u64, Cursor>,
    next: u64,
    /// Member names held by the distinct snapshots of the open cursors.
    held: usize,
}

impl Cursors {
    /// An open cursor by id.
    pub(crate) fn get(&self, id: u64) -> Option<&Cursor> {
        self.open.get(&id)
    }

    /// Keep a cursor under a new id; the oldest are dropped past the bounds.
    pub(crate) fn open(&mut self, cursor: Cursor) -> u64 {
        self.next += 1;
        let id = self.next;
        self.insert(id, cursor);
        id
    }

    fn insert(&mut self, id: u64, cursor: Cursor) {
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

    fn remove(&mut self, id: u64) {
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
