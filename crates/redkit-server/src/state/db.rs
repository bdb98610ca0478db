//! The keyspace: sixteen databases of typed values with expiry, and the clock they expire by.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// The server's clock: the system clock plus an offset that tests can advance, so keys expire without sleeping.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Unix time in milliseconds, as the server sees it.
    pub fn now_ms(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        real + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Unix time in microseconds, as the server sees it (TIME).
    pub fn now_us(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        real + self.offset_ms.load(Ordering::Relaxed) * 1000
    }

    /// Move the server's time forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(
            i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
            Ordering::Relaxed,
        );
    }
}

/// A score with a total order (scores are never NaN; `-0` is stored as `0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Score(pub(crate) f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A sorted set: member → score, and (score, member) in an order-statistic B-tree, so rank and range lookups are
/// O(log n) (rank of a position, position of a rank).
#[derive(Debug, Clone, Default)]
pub(crate) struct ZSet {
    pub(crate) scores: HashMap<Bytes, f64>,
    pub(crate) order: indexset::BTreeSet<(Score, Bytes)>,
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.scores == other.scores
    }
}

/// Persisted as its `(member, score)` pairs in score order; the order tree is rebuilt on load.
impl serde::Serialize for ZSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.order.iter().map(|(score, member)| (member, score.0)))
    }
}

impl<'de> serde::Deserialize<'de> for ZSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs = Vec::<(Bytes, f64)>::deserialize(deserializer)?;
        let mut zset = ZSet::default();
        for (member, score) in pairs {
            if score.is_nan() {
                return Err(serde::de::Error::custom("a sorted-set score is NaN"));
            }
            zset.insert(member, score);
        }
        Ok(zset)
    }
}

impl ZSet {
    pub(crate) fn len(&self) -> usize {
        self.scores.len()
    }

    /// Set a member's score; `true` if the member is new.
    pub(crate) fn insert(&mut self, member: Bytes, score: f64) -> bool {
        let score = if score == 0.0 { 0.0 } else { score };
        let new = match self.scores.insert(member.clone(), score) {
            Some(old) => {
                self.order.remove(&(Score(old), member.clone()));
                false
            }
            None => true,
        };
        self.order.insert((Score(score), member));
        new
    }

    pub(crate) fn remove(&mut self, member: &Bytes) -> bool {
        match self.scores.remove(member) {
            Some(old) => {
                self.order.remove(&(Score(old), member.clone()));
                true
            }
            None => false,
        }
    }

    /// Zero-based rank, lowest score first.
    pub(crate) fn rank(&self, member: &Bytes) -> Option<usize> {
        let score = *self.scores.get(member)?;
        Some(self.order.rank(&(Score(score), member.clone())))
    }

    /// The element at a rank.
    pub(crate) fn at(&self, rank: usize) -> Option<&(Score, Bytes)> {
        self.order.get_index(rank)
    }

    /// Number of elements ordered before `(score, member)`.
    pub(crate) fn position(&self, score: f64, member: &Bytes) -> usize {
        self.order.rank(&(Score(score), member.clone()))
    }
}

/// A stored value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Data {
    Str(Bytes),
    List(VecDeque<Bytes>),
    Set(HashSet<Bytes>),
    /// In insertion order, as Redis's listpack keeps a small hash (so HGETALL answers in Redis's order).
    Hash(indexmap::IndexMap<Bytes, Bytes>),
    /// Boxed: a sorted set is twice the size of the other variants, and most keys are not sorted sets.
    ZSet(Box<ZSet>),
    Stream(Box<super::stream::Stream>),
}

impl Data {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Data::Str(_) => "string",
            Data::List(_) => "list",
            Data::Set(_) => "set",
            Data::Hash(_) => "hash",
            Data::ZSet(_) => "zset",
            Data::Stream(_) => "stream",
        }
    }

    fn is_empty_collection(&self) -> bool {
        match self {
            Data::Str(_) => false,
            Data::List(l) => l.is_empty(),
            Data::Set(s) => s.is_empty(),
            Data::Hash(h) => h.is_empty(),
            Data::ZSet(z) => z.len() == 0,
            // An empty stream stays (its last id matters), as in Redis.
            Data::Stream(_) => false,
        }
    }
}

/// How a string value is held, which decides what OBJECT ENCODING reports (as in Redis 7.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) enum StrEnc {
    /// As SET stores it: `int` when it reads as an integer, else `embstr` up to 44 bytes, else `raw`.
    #[default]
    Auto,
    /// Never integer-encoded (INCRBYFLOAT's result): `embstr` or `raw` by length.
    NoInt,
    /// Modified in place (APPEND to an existing value, SETRANGE): always `raw`.
    Raw,
    /// A collection that has been in its large encoding (hashtable, skiplist): Redis never converts back.
    Big,
}

/// A key's value and expiry (Unix ms).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    pub(crate) data: Data,
    pub(crate) expire_at: Option<i64>,
    /// For strings: how the value is held.
    pub(crate) enc: StrEnc,
}

/// A WATCHed key: how often it changed since it was first watched, and by how many watchers.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Watched {
    version: u64,
    watchers: usize,
}

/// One database. Keys are kept in order so SCAN can resume after the last key it returned.
#[derive(Debug, Default)]
pub(crate) struct Db {
    entries: BTreeMap<Bytes, Entry>,
    /// Change counters of the keys someone WATCHes (only those: other writes pay nothing).
    versions: HashMap<Bytes, Watched>,
    /// Bumped when the whole database changes at once (FLUSHDB, SWAPDB).
    pub(crate) epoch: u64,
    /// Keys written since the last look, while some client tracks keys (CLIENT TRACKING); `None` otherwise.
    tracked: Option<Vec<Bytes>>,
    /// Set by a flush while some client tracks keys.
    flushed: bool,
    /// Keys removed because their time came (the `expired_keys` statistic).
    pub(crate) expired: u64,
    /// Writes so far (`rdb_changes_since_last_save` counts from these).
    pub(crate) writes: u64,
    /// With an append-only file: what changed since the last write to it.
    pub(crate) dirty: Option<Dirty>,
    /// Set while a command that may change nothing runs: it records its change itself, if it made one.
    pub(crate) quiet: bool,
}

/// What changed in a database since its last write to the persistent store.
#[derive(Debug, Default)]
pub(crate) struct Dirty {
    /// Keys written or removed (possibly repeated).
    pub(crate) keys: Vec<Bytes>,
    /// The database changed as a whole (FLUSHDB, SWAPDB): its stored copy is replaced by the current contents.
    pub(crate) whole: bool,
}

impl Db {
    /// The live entry for `key`, expiring it first if its time has come.
    pub(crate) fn get(&mut self, key: &[u8], now: i64) -> Option<&Entry> {
        self.expire_if_due(key, now);
        self.entries.get(key)
    }

    pub(crate) fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Entry> {
        self.expire_if_due(key, now);
        self.entries.get_mut(key)
    }

    pub(crate) fn contains(&mut self, key: &[u8], now: i64) -> bool {
        self.get(key, now).is_some()
    }

    fn expire_if_due(&mut self, key: &[u8], now: i64) {
        if self
            .entries
            .get(key)
            .is_some_and(|e| e.expire_at.is_some_and(|t| t <= now))
        {
            self.entries.remove(key);
            self.expired += 1;
            self.mark(key);
        }
    }

    /// Store a value, dropping any expiry.
    pub(crate) fn set(&mut self, key: Bytes, data: Data) {
        self.touch(&key);
        self.entries.insert(
            key,
            Entry {
                data,
                expire_at: None,
                enc: StrEnc::Auto,
            },
        );
    }

    /// Replace a key's value, keeping its expiry (APPEND, SETRANGE, INCR and friends).
    pub(crate) fn set_keep_ttl(&mut self, key: Bytes, data: Data, now: i64) {
        self.set_keep_ttl_as(key, data, now, StrEnc::Auto);
    }

    /// [`Db::set_keep_ttl`] for a string held a particular way.
    pub(crate) fn set_keep_ttl_as(&mut self, key: Bytes, data: Data, now: i64, enc: StrEnc) {
        let expire_at = self.get(&key, now).and_then(|e| e.expire_at);
        self.set_entry(key, Entry { data, expire_at, enc });
    }

    /// Store an entry as given.
    pub(crate) fn set_entry(&mut self, key: Bytes, entry: Entry) {
        self.touch(&key);
        self.entries.insert(key, entry);
    }

    pub(crate) fn remove(&mut self, key: &[u8], now: i64) -> Option<Entry> {
        self.expire_if_due(key, now);
        let removed = self.entries.remove(key);
        if removed.is_some() {
            self.touch(key);
        }
        removed
    }

    /// Record a change to `key` (for WATCH and CLIENT TRACKING); called by every write.
    pub(crate) fn touch(&mut self, key: &[u8]) {
        if !self.quiet {
            self.mark(key);
        }
    }

    /// Record for persistence alone that `key`'s stored form changed (its encoding) — not a change WATCH or CLIENT
    /// TRACKING see.
    pub(crate) fn stored_form_changed(&mut self, key: &[u8]) {
        if let Some(dirty) = &mut self.dirty
            && !dirty.whole
        {
            dirty.keys.push(Bytes::copy_from_slice(key));
        }
    }

    /// [`Db::touch`], even while quiet (keys removed because their time came are always a change).
    fn mark(&mut self, key: &[u8]) {
        self.writes += 1;
        if let Some(dirty) = &mut self.dirty
            && !dirty.whole
        {
            dirty.keys.push(Bytes::copy_from_slice(key));
        }
        if !self.versions.is_empty()
            && let Some(w) = self.versions.get_mut(key)
        {
            w.version += 1;
        }
        if let Some(tracked) = &mut self.tracked {
            tracked.push(Bytes::copy_from_slice(key));
        }
    }

    /// Start or stop recording written keys for CLIENT TRACKING.
    pub(crate) fn track_writes(&mut self, on: bool) {
        match (on, self.tracked.is_some()) {
            (true, false) => self.tracked = Some(Vec::new()),
            (false, true) => {
                self.tracked = None;
                self.flushed = false;
            }
            _ => {}
        }
    }

    /// Move the keys written since the last call into `out`; `true` if the database was flushed meanwhile.
    pub(crate) fn take_tracked(&mut self, out: &mut Vec<Bytes>) -> bool {
        if let Some(tracked) = &mut self.tracked {
            out.append(tracked);
        }
        std::mem::take(&mut self.flushed)
    }

    /// Start tracking changes to `key` for one more watcher; its current version. Each call is matched by one
    /// [`Db::unwatch`] in the same epoch (or by the epoch's end), so the table holds only keys someone watches.
    pub(crate) fn watch(&mut self, key: &Bytes) -> u64 {
        let w = self.versions.entry(key.clone()).or_default();
        w.watchers += 1;
        w.version
    }

    /// One watcher of `key` (counted by [`Db::watch`] in this epoch) stopped watching it.
    pub(crate) fn unwatch(&mut self, key: &[u8]) {
        if let Some(w) = self.versions.get_mut(key) {
            w.watchers = w.watchers.saturating_sub(1);
            if w.watchers == 0 {
                self.versions.remove(key);
            }
        }
    }

    /// Keys in the version table.
    #[cfg(test)]
    pub(crate) fn watched_keys(&self) -> usize {
        self.versions.len()
    }

    /// A new epoch (FLUSHDB, SWAPDB): every watcher's comparison fails on the epoch, so versions start over.
    pub(crate) fn new_epoch(&mut self) {
        self.epoch += 1;
        self.versions.clear();
    }

    /// Remove a collection that became empty, as Redis does.
    pub(crate) fn drop_if_empty(&mut self, key: &[u8]) {
        if self
            .entries
            .get(key)
            .is_some_and(|e| e.data.is_empty_collection())
        {
            self.entries.remove(key);
        }
    }

    pub(crate) fn version(&self, key: &[u8]) -> u64 {
        self.versions.get(key).map_or(0, |w| w.version)
    }

    pub(crate) fn clear(&mut self) {
        // Watchers compare the epoch too, so no per-key bookkeeping is needed.
        self.entries.clear();
        self.new_epoch();
        self.writes += 1;
        self.changed_whole();
        if self.tracked.is_some() {
            self.flushed = true;
        }
    }

    /// Every live key (expired ones are removed on the way).
    pub(crate) fn keys(&mut self, now: i64) -> Vec<Bytes> {
        self.purge_expired(now);
        self.entries.keys().cloned().collect()
    }

    /// Keys after `after` in order, at most `count`, with the last one returned (for SCAN).
    pub(crate) fn keys_after(&mut self, after: Option<&Bytes>, count: usize, now: i64) -> Vec<Bytes> {
        self.purge_expired(now);
        let range = match after {
            Some(k) => self
                .entries
                .range::<Bytes, _>((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded)),
            None => self.entries.range::<Bytes, _>(..),
        };
        range.take(count).map(|(k, _)| k.clone()).collect()
    }

    pub(crate) fn len(&mut self, now: i64) -> usize {
        self.purge_expired(now);
        self.entries.len()
    }

    /// The active expiry cycle, in full (the embedded server's keyspaces are small).
    pub(crate) fn purge_expired(&mut self, now: i64) {
        let due: Vec<Bytes> = self
            .entries
            .iter()
            .filter(|(_, e)| e.expire_at.is_some_and(|t| t <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            self.entries.remove(&k);
            self.expired += 1;
            self.mark(&k);
        }
    }

    pub(crate) fn random_key(&mut self, now: i64) -> Option<Bytes> {
        self.purge_expired(now);
        if self.entries.is_empty() {
            return None;
        }
        let n = fastrand::usize(0..self.entries.len());
        self.entries.keys().nth(n).cloned()
    }

    /// Mark the whole database as changed, for persistence (FLUSHDB, SWAPDB).
    pub(crate) fn changed_whole(&mut self) {
        if let Some(dirty) = &mut self.dirty {
            dirty.whole = true;
            dirty.keys.clear();
        }
    }

    /// The entry stored under `key`, expired or not (persistence writes what is there).
    pub(crate) fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Every entry, in key order, expired or not.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&Bytes, &Entry)> {
        self.entries.iter()
    }

    pub(crate) fn expires_count(&self) -> usize {
        self.entries.values().filter(|e| e.expire_at.is_some()).count()
    }
}
