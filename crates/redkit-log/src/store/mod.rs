//! [`Store`]: the log-structured store. This file holds the public API's entry points (open, get, stats), the
//! options, and the state every part shares; each concern lives in its own file:
//!
//! - `writer.rs`: appending records ([`Store::put`], [`Store::delete`], [`WriteBatch`]), rolling segments, and
//!   group commit — the durability wait of [`Durability::Always`] — and [`Store::flush`].
//! - `flusher.rs`: the background fsync thread of [`Durability::EverySec`], and the final sync on close.
//! - `recovery.rs`: rebuilding the index from the directory on open, one named step per function.
//! - `compaction.rs`: [`Store::compact`], its automatic trigger, and the manifest and hint writes.
//! - `iter.rs`: [`Iter`] and the ordered reads ([`Store::iter`], [`Store::scan_prefix`],
//!   [`Store::keys_with_prefix`]).
//!
//! # Shared state and locks
//! `Inner` holds the index and segment table (`State`, behind an `RwLock`), the append position (`Writer`,
//! behind a `Mutex`: one appender at a time) and the group-commit progress (`SyncState`). Lock order:
//! `writer` before `state`; `sync` is never held while `writer` is taken.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Error, Result};
use crate::format::{FileKind, Parsed, file_name, parse_record};

mod compaction;
mod flusher;
mod iter;
mod recovery;
mod writer;

pub use compaction::CompactionStats;
pub use iter::Iter;
pub use recovery::RecoveryReport;
pub use writer::WriteBatch;

use flusher::FlusherHandle;
use writer::{SyncState, Writer};

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

/// Where a key's newest value lives: the record at `offset` of segment `segment`, `size` bytes, sequence `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loc {
    segment: u64,
    offset: u64,
    size: u32,
    seq: u64,
}

/// An open segment file (append or compacted).
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

/// The index and the segment table, shared by readers, the writer and compaction.
struct State {
    index: BTreeMap<Vec<u8>, Loc>,
    segments: BTreeMap<u64, Arc<Segment>>,
    live_bytes: u64,
    total_bytes: u64,
}

/// Everything one open store shares between its clones and its background threads.
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
        let recovered = recovery::recover(&dir, &options)?;
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
        let closer = flusher::start(&inner)?;
        Ok(Store {
            _closer: Arc::new(closer),
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
