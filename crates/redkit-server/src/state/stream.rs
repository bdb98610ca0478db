//! The stream type: entries by [`StreamId`], approximate-trimming nodes, and consumer groups ([`Group`], [`Consumer`], [`Pending`]).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

/// Entries per node, for approximate trimming.
pub(crate) const NODE_ENTRIES: u64 = 100;

/// A stream entry id.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash, serde::Serialize, serde::Deserialize,
)]
pub(crate) struct StreamId {
    pub(crate) ms: u64,
    pub(crate) seq: u64,
}

impl StreamId {
    pub(crate) const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub(crate) fn text(self) -> String {
        format!("{}-{}", self.ms, self.seq)
    }

    pub(crate) fn next(self) -> Option<StreamId> {
        match self.seq.checked_add(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_add(1).map(|ms| StreamId { ms, seq: 0 }),
        }
    }

    pub(crate) fn prev(self) -> Option<StreamId> {
        match self.seq.checked_sub(1) {
            Some(seq) => Some(StreamId { ms: self.ms, seq }),
            None => self.ms.checked_sub(1).map(|ms| StreamId { ms, seq: u64::MAX }),
        }
    }
}

/// One entry: its fields, and the node it was written into (for approximate trimming).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    pub(crate) fields: Vec<(Bytes, Bytes)>,
    pub(crate) node: u64,
}

/// A stream.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Stream {
    pub(crate) entries: BTreeMap<StreamId, Entry>,
    pub(crate) last_id: StreamId,
    pub(crate) entries_added: u64,
    pub(crate) max_deleted: StreamId,
    /// The node new entries go into, and how many went into it.
    pub(crate) tail_node: u64,
    pub(crate) tail_count: u64,
    /// Consumer groups, by name.
    pub(crate) groups: BTreeMap<Bytes, Group>,
}

impl Stream {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn last_id(&self) -> StreamId {
        self.last_id
    }

    pub(crate) fn entries_added(&self) -> u64 {
        self.entries_added
    }

    pub(crate) fn max_deleted(&self) -> StreamId {
        self.max_deleted
    }

    /// The first entry's id (0-0 when empty).
    pub(crate) fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or_default()
    }

    pub(crate) fn entry(&self, id: StreamId) -> Option<&Entry> {
        self.entries.get(&id)
    }

    /// Entries after `after`, at most `count`.
    pub(crate) fn after(&self, after: StreamId, count: Option<usize>) -> Vec<(StreamId, &Entry)> {
        match after.next() {
            Some(start) => self.range(start, StreamId::MAX, false, count),
            None => Vec::new(),
        }
    }

    /// Entries from `start` on (inclusive), at most `count`.
    pub(crate) fn from(&self, start: StreamId, count: Option<usize>) -> Vec<(StreamId, &Entry)> {
        self.range(start, StreamId::MAX, false, count)
    }

    /// Redis's `streamRangeHasTombstones`: is the latest deletion within `[start, end]`?
    pub(crate) fn has_tombstones(&self, start: StreamId) -> bool {
        if self.entries.is_empty() || self.max_deleted == StreamId::default() {
            return false;
        }
        if self.first_id() > self.max_deleted {
            return false;
        }
        start <= self.max_deleted
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical read counter of `id`, if knowable.
    pub(crate) fn estimate_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.entries.is_empty() && id <= self.last_id {
            return Some(self.entries_added);
        }
        match id.cmp(&self.last_id) {
            std::cmp::Ordering::Equal => return Some(self.entries_added),
            std::cmp::Ordering::Greater => return None,
            std::cmp::Ordering::Less => {}
        }
        let first = self.first_id();
        if self.max_deleted == StreamId::default() || self.max_deleted < first {
            let len = self.entries.len() as u64;
            match id.cmp(&first) {
                std::cmp::Ordering::Less => return Some(self.entries_added - len),
                std::cmp::Ordering::Equal => return Some(self.entries_added - len + 1),
                std::cmp::Ordering::Greater => {}
            }
        }
        None
    }

    /// Bytes of payload, for MEMORY USAGE.
    pub(crate) fn payload(&self) -> usize {
        self.entries
            .values()
            .map(|e| e.fields.iter().map(|(f, v)| f.len() + v.len() + 8).sum::<usize>() + 24)
            .sum()
    }

    pub(crate) fn append(&mut self, id: StreamId, fields: Vec<(Bytes, Bytes)>) {
        if self.tail_count >= NODE_ENTRIES {
            self.tail_node += 1;
            self.tail_count = 0;
        }
        self.tail_count += 1;
        self.entries.insert(
            id,
            Entry {
                fields,
                node: self.tail_node,
            },
        );
        self.last_id = id;
        self.entries_added += 1;
    }

    /// Trim; the number of entries removed.
    pub(crate) fn trim(&mut self, how: &Trim) -> u64 {
        let mut removed = 0u64;
        if how.approx {
            // Whole nodes only, oldest first, within the limit.
            while let Some((_, first)) = self.entries.iter().next() {
                let node = first.node;
                let in_node: Vec<StreamId> = self
                    .entries
                    .iter()
                    .take_while(|(_, e)| e.node == node)
                    .map(|(id, _)| *id)
                    .collect();
                let n = in_node.len() as u64;
                let fits = match how.strategy {
                    Strategy::MaxLen(max) => (self.entries.len() as u64).saturating_sub(n) >= max,
                    Strategy::MinId(min) => in_node.last().is_some_and(|last| *last < min),
                };
                if !fits || how.limit.is_some_and(|l| removed + n > l) {
                    break;
                }
                for id in in_node {
                    self.entries.remove(&id);
                }
                removed += n;
            }
        } else {
            while let Some((&id, _)) = self.entries.iter().next() {
                let over = match how.strategy {
                    Strategy::MaxLen(max) => self.entries.len() as u64 > max,
                    Strategy::MinId(min) => id < min,
                };
                if !over {
                    break;
                }
                self.entries.remove(&id);
                removed += 1;
            }
        }
        removed
    }

    pub(crate) fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        count: Option<usize>,
    ) -> Vec<(StreamId, &Entry)> {
        if start > end {
            return Vec::new();
        }
        let it = self.entries.range(start..=end).map(|(id, e)| (*id, e));
        let limit = count.unwrap_or(usize::MAX);
        if rev {
            it.rev().take(limit).collect()
        } else {
            it.take(limit).collect()
        }
    }
}

/// One pending (delivered, unacknowledged) entry.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Pending {
    pub(crate) consumer: Bytes,
    pub(crate) delivered_ms: i64,
    pub(crate) count: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Consumer {
    pub(crate) seen_ms: i64,
    pub(crate) pending: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Group {
    pub(crate) last_id: StreamId,
    /// Logical reads; `None` when unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
    pub(crate) entries_read: Option<u64>,
    pub(crate) pel: BTreeMap<StreamId, Pending>,
    pub(crate) consumers: BTreeMap<Bytes, Consumer>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Strategy {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Trim {
    pub(crate) strategy: Strategy,
    pub(crate) approx: bool,
    pub(crate) limit: Option<u64>,
}
