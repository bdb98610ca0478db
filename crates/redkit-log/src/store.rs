//! [`Store`]: the log-structured store — writing, reading, group commit, compaction and recovery.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::format::{
    self, BATCH_CONTINUES, FileKind, Hint, Manifest, Parsed, TOMBSTONE, encode_record, file_name,
    parse_file_name, parse_record,
};

/// When writes reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// fsync before a write is acknowledged. Concurrent writers share fsyncs (group commit). A write that returned
    /// `Ok` survives a crash of the process or the machine.
    #[default]
    Always,
    /// A background thread fsyncs once a second: a machine crash loses at most about a second of writes; a
    /// process crash loses nothing (the data is in the OS page cache).
    EverySec,
    /// Never fsync (except on [`Store::flush`] and compaction): a process crash loses nothing, a machine crash
    /// may lose anything not yet written back by the OS.
    Never,
}

/// Where a fault-injection hook is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultPoint {
    /// Before appending `len` bytes at `offset` of segment `segment`.
    Append {
        /// Segment id.
        segment: u64,
        /// Offset of the write.
        offset: u64,
        /// Bytes to write.
        len: usize,
    },
    /// Before an fsync of segment `segment`.
    Sync {
        /// Segment id.
        segment: u64,
    },
}

/// What a fault-injection hook asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Go ahead.
    Proceed,
    /// Fail with an I/O error of this kind, writing nothing.
    Fail(io::ErrorKind),
    /// Write only this many bytes, then fail (a torn write, as on a full disk).
    Torn(usize),
}

/// A fault-injection hook, for tests: called at every [`FaultPoint`].
pub type FaultHook = Arc<dyn Fn(&FaultPoint) -> Fault + Send + Sync>;

/// How a store behaves.
#[derive(Clone)]
pub struct Options {
    /// When writes reach the disk.
    pub durability: Durability,
    /// Start a new segment once the active one reaches this size (bytes). Default 64 MiB.
    pub segment_size: u64,
    /// Compact automatically when dead bytes exceed this fraction of all bytes… Default 0.5.
    pub compact_dead_ratio: f64,
    /// …and the store holds at least this many bytes. Default 64 MiB. `u64::MAX` turns automatic compaction off.
    pub compact_min_bytes: u64,
    /// On a damaged record in the middle of the log, keep every valid record before it, drop the rest of that
    /// segment, and report it in [`Store::recovery`] — instead of refusing to open with [`Error::Corruption`].
    pub repair: bool,
    /// Largest key accepted, in bytes. Default 64 KiB.
    pub max_key_len: usize,
    /// Largest value accepted, in bytes. Default 512 MiB.
    pub max_value_len: usize,
    /// Fault injection, for tests.
    pub fault_hook: Option<FaultHook>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Always,
            segment_size: 64 << 20,
            compact_dead_ratio: 0.5,
            compact_min_bytes: 64 << 20,
            repair: false,
            max_key_len: 64 << 10,
            max_value_len: 512 << 20,
            fault_hook: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("durability", &self.durability)
            .field("segment_size", &self.segment_size)
            .field("compact_dead_ratio", &self.compact_dead_ratio)
            .field("compact_min_bytes", &self.compact_min_bytes)
            .field("repair", &self.repair)
            .field("fault_hook", &self.fault_hook.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Several writes applied atomically: after a crash either all of them are visible or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }
    /// Add a put.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut WriteBatch {
        self.ops.push((key.into(), Some(value.into())));
        self
    }
    /// Add a delete.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut WriteBatch {
        self.ops.push((key.into(), None));
        self
    }
    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Sizes and counts, from [`Store::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Keys with a value.
    pub live_keys: u64,
    /// Bytes of the records those values live in.
    pub live_bytes: u64,
    /// Bytes of superseded records and tombstones, reclaimable by compaction.
    pub dead_bytes: u64,
    /// Segment files.
    pub segments: u64,
    /// Compactions run since open.
    pub compactions: u64,
}

/// What recovery had to do on open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Torn tails cut off the active segment: `(file, offset, bytes removed)`.
    pub truncated: Vec<(PathBuf, u64, u64)>,
    /// With [`Options::repair`]: damage found and dropped, `(file, offset, bytes dropped)`.
    pub repaired: Vec<(PathBuf, u64, u64)>,
    /// Segments whose index came from a hint file rather than a scan.
    pub from_hints: u64,
}

/// What [`Store::compact`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompactionStats {
    /// Segments merged.
    pub inputs: u64,
    /// Segments written.
    pub outputs: u64,
    /// Bytes read from the inputs.
    pub bytes_in: u64,
    /// Bytes written to the outputs.
    pub bytes_out: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    segment: u64,
    offset: u64,
    size: u32,
    seq: u64,
}

#[derive(Debug)]
struct Segment {
    id: u64,
    path: PathBuf,
    file: File,
}

impl Segment {
    fn len(&self) -> Result<u64> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| Error::io(&self.path, e))
    }
}

struct State {
    index: BTreeMap<Vec<u8>, Loc>,
    segments: BTreeMap<u64, Arc<Segment>>,
    live_bytes: u64,
    total_bytes: u64,
}

struct Writer {
    active: Arc<Segment>,
    offset: u64,
    next_seq: u64,
    next_id: u64,
    /// Writes appended so far (tickets for group commit).
    written: u64,
}

#[derive(Default)]
struct SyncState {
    synced: u64,
    syncing: bool,
}

struct Inner {
    dir: PathBuf,
    options: Options,
    _lock: File,
    state: RwLock<State>,
    writer: Mutex<Writer>,
    sync: Mutex<SyncState>,
    synced_cv: Condvar,
    compacting: Mutex<()>,
    compactions: AtomicU64,
    auto_compacting: AtomicBool,
    /// Set when the active segment could not be restored after a failed write: writes are refused.
    broken: AtomicBool,
    stop: Mutex<bool>,
    stop_cv: Condvar,
    recovery: RecoveryReport,
}

/// A log-structured key-value store in a directory. Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
    /// Stops the background flusher and syncs when the last clone goes.
    _closer: Arc<FlusherHandle>,
}

struct FlusherHandle(Mutex<Option<JoinHandle<()>>>, Arc<Inner>);

impl Drop for FlusherHandle {
    fn drop(&mut self) {
        *lock(&self.1.stop) = true;
        self.1.stop_cv.notify_all();
        if let Some(handle) = lock(&self.0).take() {
            let _ = handle.join();
        }
        // Leave nothing unsynced behind on a clean close (EverySec and Never included).
        if let Ok(writer) = self.1.writer.lock() {
            let _ = writer.active.file.sync_data();
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .field("stats", &self.stats())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read(l: &RwLock<State>) -> RwLockReadGuard<'_, State> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write(l: &RwLock<State>) -> RwLockWriteGuard<'_, State> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

fn open_segment(dir: &Path, id: u64, kind: FileKind, create: bool) -> Result<Segment> {
    let path = dir.join(file_name(id, kind));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    Ok(Segment { id, path, file })
}

impl Store {
    /// Open (or create) the store in `dir`, recovering from whatever a crash left. One process at a time: a
    /// second open of the same directory fails with [`Error::Locked`].
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Store> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let lock_path = dir.join("LOCK");
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked { dir }),
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
        }
        let recovered = recover(&dir, &options)?;
        let inner = Arc::new(Inner {
            dir,
            options,
            _lock: lock_file,
            state: RwLock::new(recovered.state),
            writer: Mutex::new(recovered.writer),
            sync: Mutex::new(SyncState::default()),
            synced_cv: Condvar::new(),
            compacting: Mutex::new(()),
            compactions: AtomicU64::new(0),
            auto_compacting: AtomicBool::new(false),
            broken: AtomicBool::new(false),
            stop: Mutex::new(false),
            stop_cv: Condvar::new(),
            recovery: recovered.report,
        });
        let flusher = if inner.options.durability == Durability::EverySec {
            let inner = inner.clone();
            Some(
                std::thread::Builder::new()
                    .name("redkit-log-flusher".into())
                    .spawn(move || flusher_loop(&inner))
                    .map_err(|e| Error::io(Path::new("flusher thread"), e))?,
            )
        } else {
            None
        };
        Ok(Store {
            _closer: Arc::new(FlusherHandle(Mutex::new(flusher), inner.clone())),
            inner,
        })
    }

    /// What recovery did when this store was opened.
    pub fn recovery(&self) -> &RecoveryReport {
        &self.inner.recovery
    }

    /// The value under `key`: one positioned read, checksum verified.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let found = {
            let state = read(&self.inner.state);
            state
                .index
                .get(key)
                .and_then(|loc| state.segments.get(&loc.segment).map(|s| (*loc, s.clone())))
        };
        match found {
            None => Ok(None),
            Some((loc, segment)) => read_value(&segment, loc, key).map(Some),
        }
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &[u8]) -> bool {
        read(&self.inner.state).index.contains_key(key)
    }

    /// Store `value` under `key`; its sequence number.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<u64> {
        let mut batch = WriteBatch::new();
        batch.put(key, value);
        self.write_batch(batch)
    }

    /// Delete `key`; whether it had a value. A tombstone is written only when it had one (decided under the
    /// writer lock, so two concurrent deletes of one key report `true` once).
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        let mut batch = WriteBatch::new();
        batch.delete(key);
        Ok(self.write(batch, true)?.is_some())
    }

    /// Apply every operation of `batch` atomically; the sequence number of its last record.
    pub fn write_batch(&self, batch: WriteBatch) -> Result<u64> {
        Ok(self.write(batch, false)?.unwrap_or(0))
    }

    /// Write a batch; with `only_existing`, a single delete of a missing key writes nothing and returns `None`.
    fn write(&self, batch: WriteBatch, only_existing: bool) -> Result<Option<u64>> {
        if batch.is_empty() {
            return Ok(Some(lock(&self.inner.writer).next_seq.saturating_sub(1)));
        }
        for (key, value) in &batch.ops {
            // The record format stores lengths in 32 bits, whatever the configured limits say.
            let max_key = self.inner.options.max_key_len.min(u32::MAX as usize / 2);
            if key.len() > max_key {
                return Err(Error::TooLarge {
                    what: "key",
                    len: key.len(),
                    max: max_key,
                });
            }
            let value_len = value.as_ref().map_or(0, Vec::len);
            let max_value = self.inner.options.max_value_len.min(u32::MAX as usize / 2);
            if value_len > max_value {
                return Err(Error::TooLarge {
                    what: "value",
                    len: value_len,
                    max: max_value,
                });
            }
        }
        if self.inner.broken.load(Ordering::Acquire) {
            return Err(Error::Broken);
        }
        let Some((last_seq, ticket)) = self.append(&batch, only_existing)? else {
            return Ok(None);
        };
        match self.inner.options.durability {
            Durability::Always => self.sync_to(ticket)?,
            Durability::EverySec | Durability::Never => {}
        }
        self.maybe_compact();
        Ok(Some(last_seq))
    }

    /// Append a batch's records under the writer lock and index them.
    fn append(&self, batch: &WriteBatch, only_existing: bool) -> Result<Option<(u64, u64)>> {
        let inner = &self.inner;
        let mut w = lock(&inner.writer);
        if only_existing
            && batch
                .ops
                .iter()
                .any(|(k, _)| !read(&inner.state).index.contains_key(k))
        {
            return Ok(None);
        }
        let first_seq = w.next_seq;
        let mut buf = Vec::with_capacity(
            batch
                .ops
                .iter()
                .map(|(k, v)| format::record_size(k, v.as_deref().unwrap_or(&[])))
                .sum(),
        );
        let mut sizes = Vec::with_capacity(batch.ops.len());
        for (i, (key, value)) in batch.ops.iter().enumerate() {
            let mut flags = if value.is_none() { TOMBSTONE } else { 0 };
            if i + 1 < batch.ops.len() {
                flags |= BATCH_CONTINUES;
            }
            let before = buf.len();
            encode_record(
                &mut buf,
                first_seq + i as u64,
                flags,
                key,
                value.as_deref().unwrap_or(&[]),
            );
            sizes.push(buf.len() - before);
        }
        if w.offset > 0 && w.offset + buf.len() as u64 > inner.options.segment_size {
            self.roll(&mut w)?;
        }
        let offset = w.offset;
        let segment = w.active.clone();
        self.write_at(&segment, offset, &buf)?;
        w.offset += buf.len() as u64;
        w.next_seq += batch.ops.len() as u64;
        w.written += 1;
        let ticket = w.written;
        // Index while still holding the writer lock, so index order is log order.
        let mut state = write(&inner.state);
        state.total_bytes += buf.len() as u64;
        let mut at = offset;
        for (i, ((key, value), size)) in batch.ops.iter().zip(&sizes).enumerate() {
            let loc = Loc {
                segment: segment.id,
                offset: at,
                size: *size as u32,
                seq: first_seq + i as u64,
            };
            at += *size as u64;
            let old = match value {
                Some(_) => {
                    state.live_bytes += *size as u64;
                    state.index.insert(key.clone(), loc)
                }
                None => state.index.remove(key),
            };
            if let Some(old) = old {
                state.live_bytes = state.live_bytes.saturating_sub(u64::from(old.size));
            }
        }
        Ok(Some((first_seq + batch.ops.len() as u64 - 1, ticket)))
    }

    /// Write `buf` at `offset`; on failure put the segment back as it was (or refuse further writes).
    fn write_at(&self, segment: &Segment, offset: u64, buf: &[u8]) -> Result<()> {
        let fault = match &self.inner.options.fault_hook {
            Some(hook) => hook(&FaultPoint::Append {
                segment: segment.id,
                offset,
                len: buf.len(),
            }),
            None => Fault::Proceed,
        };
        let result = match fault {
            Fault::Proceed => segment.file.write_all_at(buf, offset),
            Fault::Fail(kind) => Err(io::Error::new(kind, "injected write failure")),
            Fault::Torn(n) => segment
                .file
                .write_all_at(&buf[..n.min(buf.len())], offset)
                .and(Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "injected torn write",
                ))),
        };
        if let Err(e) = result {
            // Cut off whatever part of the write landed, so the log stays a sequence of whole records.
            if segment.file.set_len(offset).is_err() {
                self.inner.broken.store(true, Ordering::Release);
            }
            return Err(Error::io(&segment.path, e));
        }
        Ok(())
    }

    fn sync_segment(&self, segment: &Segment) -> Result<()> {
        if let Some(hook) = &self.inner.options.fault_hook {
            match hook(&FaultPoint::Sync { segment: segment.id }) {
                Fault::Proceed => {}
                Fault::Fail(kind) => {
                    return Err(Error::io(
                        &segment.path,
                        io::Error::new(kind, "injected fsync failure"),
                    ));
                }
                Fault::Torn(_) => {
                    return Err(Error::io(
                        &segment.path,
                        io::Error::other("injected fsync failure"),
                    ));
                }
            }
        }
        segment.file.sync_data().map_err(|e| Error::io(&segment.path, e))
    }

    /// Start a new append segment (the old one is fsynced first, unless durability is `Never`).
    fn roll(&self, w: &mut Writer) -> Result<()> {
        if self.inner.options.durability != Durability::Never {
            self.sync_segment(&w.active)?;
        }
        let id = w.next_id;
        let segment = Arc::new(open_segment(&self.inner.dir, id, FileKind::Segment, true)?);
        sync_dir(&self.inner.dir)?;
        w.next_id += 1;
        w.active = segment.clone();
        w.offset = 0;
        write(&self.inner.state).segments.insert(id, segment);
        Ok(())
    }

    /// Group commit: make every write up to `ticket` durable, sharing one fsync among concurrent writers.
    fn sync_to(&self, ticket: u64) -> Result<()> {
        let inner = &self.inner;
        let mut s = lock(&inner.sync);
        loop {
            if s.synced >= ticket {
                return Ok(());
            }
            if !s.syncing {
                s.syncing = true;
                drop(s);
                let (target, active) = {
                    let w = lock(&inner.writer);
                    (w.written, w.active.clone())
                };
                let result = self.sync_segment(&active);
                s = lock(&inner.sync);
                s.syncing = false;
                if result.is_ok() {
                    s.synced = s.synced.max(target);
                }
                inner.synced_cv.notify_all();
                result?;
            } else {
                s = inner.synced_cv.wait(s).unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    /// fsync the active segment now, whatever the durability mode.
    pub fn flush(&self) -> Result<()> {
        let (target, active) = {
            let w = lock(&self.inner.writer);
            (w.written, w.active.clone())
        };
        self.sync_segment(&active)?;
        let mut s = lock(&self.inner.sync);
        s.synced = s.synced.max(target);
        Ok(())
    }

    /// Every live `(key, value)` in key order. Keys are taken from a snapshot of the index; values are read as the
    /// iterator advances (a key deleted meanwhile is skipped).
    pub fn iter(&self) -> Iter {
        self.range_iter(|_| true, None)
    }

    /// Every live `(key, value)` whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Iter {
        let p = prefix.to_vec();
        self.range_iter(move |k| k.starts_with(&p), Some(prefix.to_vec()))
    }

    /// The live keys starting with `prefix`, in key order, without reading their values.
    pub fn keys_with_prefix(&self, prefix: &[u8]) -> Vec<Vec<u8>> {
        let state = read(&self.inner.state);
        state
            .index
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn range_iter(&self, keep: impl Fn(&[u8]) -> bool, from: Option<Vec<u8>>) -> Iter {
        let state = read(&self.inner.state);
        let keys: Vec<Vec<u8>> = match &from {
            Some(start) => state
                .index
                .range(start.clone()..)
                .take_while(|(k, _)| keep(k))
                .map(|(k, _)| k.clone())
                .collect(),
            None => state.index.keys().cloned().collect(),
        };
        Iter {
            store: self.clone(),
            keys: keys.into_iter(),
        }
    }

    /// Sizes and counts.
    pub fn stats(&self) -> Stats {
        let state = read(&self.inner.state);
        Stats {
            live_keys: state.index.len() as u64,
            live_bytes: state.live_bytes,
            dead_bytes: state.total_bytes.saturating_sub(state.live_bytes),
            segments: state.segments.len() as u64,
            compactions: self.inner.compactions.load(Ordering::Relaxed),
        }
    }

    fn maybe_compact(&self) {
        let opts = &self.inner.options;
        let stats = self.stats();
        let total = stats.live_bytes + stats.dead_bytes;
        if total < opts.compact_min_bytes
            || (stats.dead_bytes as f64) < opts.compact_dead_ratio * total as f64
        {
            return;
        }
        if self.inner.auto_compacting.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        let spawned = std::thread::Builder::new()
            .name("redkit-log-compaction".into())
            .spawn(move || {
                if let Err(e) = store.compact() {
                    tracing::warn!(error = %e, "automatic compaction failed");
                }
                store.inner.auto_compacting.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.inner.auto_compacting.store(false, Ordering::Release);
        }
    }

    /// Merge every immutable segment into new ones holding only live records, with hint files, and swap them in
    /// atomically. Reads and writes continue meanwhile.
    pub fn compact(&self) -> Result<CompactionStats> {
        let inner = &self.inner;
        let _one_at_a_time = lock(&inner.compacting);
        // 1. Make everything written so far immutable.
        let first_new = {
            let mut w = lock(&inner.writer);
            if w.offset > 0 {
                self.roll(&mut w)?;
            }
            w.active.id
        };
        // 2. What to copy: the live records in segments older than the new active one.
        let (inputs, entries) = {
            let state = read(&inner.state);
            let inputs: Vec<Arc<Segment>> = state
                .segments
                .range(..first_new)
                .map(|(_, s)| s.clone())
                .collect();
            let entries: Vec<(Vec<u8>, Loc)> = state
                .index
                .iter()
                .filter(|(_, l)| l.segment < first_new)
                .map(|(k, l)| (k.clone(), *l))
                .collect();
            (inputs, entries)
        };
        if inputs.is_empty() {
            return Ok(CompactionStats::default());
        }
        let input_ids: Vec<u64> = inputs.iter().map(|s| s.id).collect();
        let by_id: HashMap<u64, Arc<Segment>> = inputs.iter().map(|s| (s.id, s.clone())).collect();
        let mut stats = CompactionStats {
            inputs: inputs.len() as u64,
            ..CompactionStats::default()
        };
        for s in &inputs {
            stats.bytes_in += s.len()?;
        }
        // 3. Copy them into compacted segments, rolling at the segment size.
        let mut outputs: Vec<(Arc<Segment>, Vec<Hint>)> = Vec::new();
        let mut moved: Vec<(Vec<u8>, Loc, Loc)> = Vec::with_capacity(entries.len());
        let mut buf = Vec::new();
        let mut out: Option<(Arc<Segment>, u64, Vec<Hint>)> = None;
        for (key, loc) in entries {
            let Some(src) = by_id.get(&loc.segment) else {
                continue;
            };
            let value = read_value(src, loc, &key)?;
            buf.clear();
            encode_record(&mut buf, loc.seq, 0, &key, &value);
            if out
                .as_ref()
                .is_some_and(|(_, off, _)| *off > 0 && off + buf.len() as u64 > inner.options.segment_size)
                && let Some((seg, _, hints)) = out.take()
            {
                outputs.push((seg, hints));
            }
            if out.is_none() {
                let id = {
                    let mut w = lock(&inner.writer);
                    w.next_id += 1;
                    w.next_id - 1
                };
                out = Some((
                    Arc::new(open_segment(&inner.dir, id, FileKind::Compacted, true)?),
                    0,
                    Vec::new(),
                ));
            }
            if let Some((seg, off, hints)) = out.as_mut() {
                seg.file
                    .write_all_at(&buf, *off)
                    .map_err(|e| Error::io(&seg.path, e))?;
                let new = Loc {
                    segment: seg.id,
                    offset: *off,
                    size: buf.len() as u32,
                    seq: loc.seq,
                };
                hints.push(Hint {
                    key: key.clone(),
                    offset: *off,
                    size: new.size,
                    seq: loc.seq,
                });
                moved.push((key, loc, new));
                *off += buf.len() as u64;
                stats.bytes_out += buf.len() as u64;
            }
        }
        if let Some((seg, _, hints)) = out.take() {
            outputs.push((seg, hints));
        }
        for (seg, hints) in &outputs {
            seg.file.sync_all().map_err(|e| Error::io(&seg.path, e))?;
            let hint_path = inner.dir.join(file_name(seg.id, FileKind::Hint));
            write_synced(&hint_path, &format::encode_hints(hints))?;
        }
        sync_dir(&inner.dir)?;
        stats.outputs = outputs.len() as u64;
        // 4. Swap: a new manifest, then the index and the segment table, under both locks.
        {
            let w = lock(&inner.writer);
            let mut state = write(&inner.state);
            let mut live: Vec<u64> = state
                .segments
                .keys()
                .copied()
                .filter(|id| !input_ids.contains(id))
                .collect();
            live.extend(outputs.iter().map(|(s, _)| s.id));
            live.sort_unstable();
            write_manifest(
                &inner.dir,
                &Manifest {
                    next_id: w.next_id,
                    live,
                },
            )?;
            for id in &input_ids {
                state.segments.remove(id);
            }
            for (seg, _) in &outputs {
                state.segments.insert(seg.id, seg.clone());
            }
            for (key, old, new) in moved {
                if let Some(current) = state.index.get_mut(&key)
                    && *current == old
                {
                    *current = new;
                }
            }
            let mut total = 0;
            for seg in state.segments.values() {
                total += if seg.id == w.active.id {
                    w.offset
                } else {
                    seg.len()?
                };
            }
            state.total_bytes = total;
            state.live_bytes = state.index.values().map(|l| u64::from(l.size)).sum();
        }
        // 5. The inputs are garbage now (open readers keep their file handles).
        for seg in &inputs {
            let _ = fs::remove_file(&seg.path);
            let _ = fs::remove_file(inner.dir.join(file_name(seg.id, FileKind::Hint)));
        }
        inner.compactions.fetch_add(1, Ordering::Relaxed);
        Ok(stats)
    }
}

/// Iterator over `(key, value)` pairs; see [`Store::iter`].
pub struct Iter {
    store: Store,
    keys: std::vec::IntoIter<Vec<u8>>,
}

impl std::fmt::Debug for Iter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter")
            .field("remaining", &self.keys.len())
            .finish()
    }
}

impl Iterator for Iter {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = self.keys.next()?;
            match self.store.get(&key) {
                Ok(Some(v)) => return Some(Ok((key, v))),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

fn flusher_loop(inner: &Inner) {
    let mut stop = lock(&inner.stop);
    loop {
        // A close that came before this thread first waited must not cost a whole interval.
        if *stop {
            return;
        }
        let (guard, _) = inner
            .stop_cv
            .wait_timeout(stop, Duration::from_secs(1))
            .unwrap_or_else(PoisonError::into_inner);
        stop = guard;
        if *stop {
            return;
        }
        let (target, active) = {
            let w = lock(&inner.writer);
            (w.written, w.active.clone())
        };
        if lock(&inner.sync).synced >= target {
            continue;
        }
        match active.file.sync_data() {
            Ok(()) => {
                let mut s = lock(&inner.sync);
                s.synced = s.synced.max(target);
            }
            Err(e) => tracing::warn!(file = %active.path.display(), error = %e, "background fsync failed"),
        }
    }
}

/// Read and verify the record at `loc`, which must be a value for `key`.
fn read_value(segment: &Segment, loc: Loc, key: &[u8]) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; loc.size as usize];
    segment
        .file
        .read_exact_at(&mut buf, loc.offset)
        .map_err(|e| Error::io(&segment.path, e))?;
    match parse_record(&buf) {
        Parsed::Record(r, _) if r.key == key && r.seq == loc.seq && !r.is_tombstone() => Ok(r.value.to_vec()),
        Parsed::Record(..) => Err(Error::Corruption {
            segment: segment.path.clone(),
            offset: loc.offset,
            reason: "the record is not the one the index expects".into(),
        }),
        Parsed::Truncated | Parsed::Invalid(_) => Err(Error::Corruption {
            segment: segment.path.clone(),
            offset: loc.offset,
            reason: "the record no longer checks out".into(),
        }),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    std::io::Write::write_all(&mut f, bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let tmp = dir.join("MANIFEST.tmp");
    write_synced(&tmp, format::encode_manifest(manifest).as_bytes())?;
    let path = dir.join("MANIFEST");
    fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)
}

struct Recovered {
    state: State,
    writer: Writer,
    report: RecoveryReport,
}

/// Rebuild the index from the directory. See the crate docs for the rules.
fn recover(dir: &Path, options: &Options) -> Result<Recovered> {
    let manifest_path = dir.join("MANIFEST");
    let manifest = match fs::read_to_string(&manifest_path) {
        Ok(text) => Some(
            format::decode_manifest(&text).map_err(|reason| Error::Corruption {
                segment: manifest_path.clone(),
                offset: 0,
                reason: reason.into(),
            })?,
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&manifest_path, e)),
    };
    let mut files: BTreeMap<u64, FileKind> = BTreeMap::new();
    let mut hints: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut garbage: Vec<PathBuf> = Vec::new();
    let mut max_id = manifest.as_ref().map_or(0, |m| m.next_id);
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            garbage.push(entry.path());
            continue;
        }
        let Some((id, kind)) = parse_file_name(&name) else {
            continue;
        };
        max_id = max_id.max(id + 1);
        match kind {
            FileKind::Hint => {
                hints.insert(id, entry.path());
            }
            _ => {
                let live = match &manifest {
                    Some(m) => m.live.contains(&id) || (kind == FileKind::Segment && id >= m.next_id),
                    None => kind == FileKind::Segment,
                };
                if live {
                    files.insert(id, kind);
                } else {
                    garbage.push(entry.path());
                }
            }
        }
    }
    for (id, path) in &hints {
        if !files.contains_key(id) {
            garbage.push(path.clone());
        }
    }
    for path in garbage {
        tracing::info!(file = %path.display(), "removing a file left by an interrupted compaction");
        let _ = fs::remove_file(path);
    }

    let last_append = files
        .iter()
        .rev()
        .find(|(_, k)| **k == FileKind::Segment)
        .map(|(id, _)| *id);
    let mut report = RecoveryReport::default();
    // key → newest (seq, location or None for a tombstone). A BTreeMap, so the index is built from it in one
    // sorted pass.
    let mut newest: BTreeMap<Vec<u8>, (u64, Option<Loc>)> = BTreeMap::new();
    let mut segments = BTreeMap::new();
    let mut total_bytes = 0u64;
    let mut max_seq = 0u64;
    let mut apply = |key: Vec<u8>, seq: u64, loc: Option<Loc>, max_seq: &mut u64| {
        *max_seq = (*max_seq).max(seq);
        match newest.entry(key) {
            std::collections::btree_map::Entry::Occupied(mut e) => {
                if e.get().0 < seq {
                    e.insert((seq, loc));
                }
            }
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert((seq, loc));
            }
        }
    };
    for (&id, &kind) in &files {
        let segment = open_segment(dir, id, kind, false)?;
        let from_hint = (kind == FileKind::Compacted)
            .then(|| hints.get(&id))
            .flatten()
            .and_then(|p| fs::read(p).ok())
            .and_then(|b| format::decode_hints(&b));
        if let Some(entries) = from_hint {
            report.from_hints += 1;
            for h in entries {
                let loc = Loc {
                    segment: id,
                    offset: h.offset,
                    size: h.size,
                    seq: h.seq,
                };
                apply(h.key, h.seq, Some(loc), &mut max_seq);
            }
            total_bytes += segment.len()?;
            segments.insert(id, Arc::new(segment));
            continue;
        }
        let mut bytes = Vec::new();
        (&segment.file)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(&segment.path, e))?;
        let mut at = 0usize;
        let mut batch_start = 0usize;
        let mut staged: Vec<(Vec<u8>, u64, Option<Loc>)> = Vec::new();
        let mut damage: Option<(usize, &'static str)> = None;
        while at < bytes.len() {
            match parse_record(&bytes[at..]) {
                Parsed::Record(r, size) => {
                    let loc = (!r.is_tombstone()).then_some(Loc {
                        segment: id,
                        offset: at as u64,
                        size: size as u32,
                        seq: r.seq,
                    });
                    staged.push((r.key.to_vec(), r.seq, loc));
                    at += size;
                    if !r.continues_batch() {
                        for (k, seq, loc) in staged.drain(..) {
                            apply(k, seq, loc, &mut max_seq);
                        }
                        batch_start = at;
                    }
                }
                Parsed::Truncated => {
                    damage = Some((at, "the file ends inside a record"));
                    break;
                }
                Parsed::Invalid(reason) => {
                    damage = Some((at, reason));
                    break;
                }
            }
        }
        if damage.is_none() && !staged.is_empty() {
            damage = Some((at, "the file ends inside a write batch"));
        }
        let mut keep = bytes.len();
        if let Some((bad_at, reason)) = damage {
            // A torn tail: damage in the last append segment that runs to the end of the file (an incomplete
            // record, or a bad one with nothing valid after it, or zeros).
            let rest_is_tail = match parse_record(&bytes[bad_at..]) {
                Parsed::Truncated => true,
                Parsed::Record(_, size) => bad_at + size >= bytes.len(),
                Parsed::Invalid(_) => {
                    bytes[bad_at..].iter().all(|b| *b == 0) || tail_has_no_valid_record(&bytes, bad_at)
                }
            };
            let torn = Some(id) == last_append && rest_is_tail;
            if torn {
                tracing::warn!(file = %segment.path.display(), offset = batch_start, reason, "truncating a torn tail");
                report.truncated.push((
                    segment.path.clone(),
                    batch_start as u64,
                    (bytes.len() - batch_start) as u64,
                ));
            } else if options.repair {
                tracing::warn!(file = %segment.path.display(), offset = bad_at, reason, "repair: dropping a damaged segment tail");
                report.repaired.push((
                    segment.path.clone(),
                    batch_start as u64,
                    (bytes.len() - batch_start) as u64,
                ));
            } else {
                return Err(Error::Corruption {
                    segment: segment.path.clone(),
                    offset: bad_at as u64,
                    reason: reason.into(),
                });
            }
            keep = batch_start;
            segment
                .file
                .set_len(keep as u64)
                .map_err(|e| Error::io(&segment.path, e))?;
            segment.file.sync_all().map_err(|e| Error::io(&segment.path, e))?;
        }
        total_bytes += keep as u64;
        segments.insert(id, Arc::new(segment));
    }

    let index: BTreeMap<Vec<u8>, Loc> = newest
        .into_iter()
        .filter_map(|(k, (_, loc))| Some((k, loc?)))
        .collect();
    let live_bytes = index.values().map(|l: &Loc| u64::from(l.size)).sum();
    // Append to the last append segment if it has room, else start a new one.
    let reuse = last_append
        .and_then(|id| segments.get(&id).cloned())
        .filter(|s| s.len().is_ok_and(|l| l < options.segment_size));
    let (active, offset, next_id) = match reuse {
        Some(seg) => {
            let len = seg.len()?;
            (seg, len, max_id)
        }
        None => {
            let seg = Arc::new(open_segment(dir, max_id, FileKind::Segment, true)?);
            sync_dir(dir)?;
            segments.insert(max_id, seg.clone());
            (seg, 0, max_id + 1)
        }
    };
    Ok(Recovered {
        state: State {
            index,
            segments,
            live_bytes,
            total_bytes,
        },
        writer: Writer {
            active,
            offset,
            next_seq: max_seq + 1,
            next_id,
            written: 0,
        },
        report,
    })
}

/// `true` when no valid record starts anywhere after `from` (a bad record followed only by garbage).
fn tail_has_no_valid_record(bytes: &[u8], from: usize) -> bool {
    (from + 1..bytes.len()).all(|at| !matches!(parse_record(&bytes[at..]), Parsed::Record(..)))
}
