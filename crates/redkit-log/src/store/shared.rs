//! The types every part of the store shares, and the small helpers they all use: [`Store`] itself, its shared
//! state (`Inner`: the index and segment table `State`, the append position `Writer`, the group-commit progress
//! `SyncState`), `Segment` and `Loc`, the handle of the background flusher, the lock helpers, and opening a
//! segment and reading a value from one. The lock order is in the docs of `store/mod.rs`.
//!
//! These types refer to one another (a `Store` holds the flusher handle, which holds the shared state, which holds
//! the writer), so they live together here; the code that works on them lives in the other files, each importing
//! only this file and `options.rs`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::thread::JoinHandle;

use super::options::{Options, RecoveryReport};
use crate::error::{Error, Result};
use crate::format::{FileKind, Parsed, file_name, parse_record};

/// Where a key's newest value lives: the record at `offset` of segment `segment`, `size` bytes, sequence `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Loc {
    pub(super) segment: u64,
    pub(super) offset: u64,
    pub(super) size: u32,
    pub(super) seq: u64,
}

/// An open segment file (append or compacted).
#[derive(Debug)]
pub(super) struct Segment {
    pub(super) id: u64,
    pub(super) path: PathBuf,
    pub(super) file: File,
}

impl Segment {
    pub(super) fn len(&self) -> Result<u64> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// The index and the segment table, shared by readers, the writer and compaction.
pub(super) struct State {
    pub(super) index: BTreeMap<Vec<u8>, Loc>,
    pub(super) segments: BTreeMap<u64, Arc<Segment>>,
    pub(super) live_bytes: u64,
    pub(super) total_bytes: u64,
}

/// The append position, behind the writer lock: one appender at a time.
pub(super) struct Writer {
    pub(super) active: Arc<Segment>,
    pub(super) offset: u64,
    pub(super) next_seq: u64,
    pub(super) next_id: u64,
    /// Writes appended so far (tickets for group commit).
    pub(super) written: u64,
}

impl Writer {
    /// The id the next new segment gets; the store refuses to go on once ids run out (a directory holding a file
    /// named with the largest id), rather than wrapping around onto an existing segment.
    pub(super) fn segment_id(&self, dir: &Path) -> Result<u64> {
        if self.next_id == u64::MAX {
            return Err(Error::Corruption {
                segment: dir.to_path_buf(),
                offset: 0,
                reason: "segment ids are exhausted".into(),
            });
        }
        Ok(self.next_id)
    }
}

/// Group-commit progress: the tickets known durable, and whether some writer is fsyncing for the others.
#[derive(Default)]
pub(super) struct SyncState {
    pub(super) synced: u64,
    pub(super) syncing: bool,
}

/// Everything one open store shares between its clones and its background threads.
pub(super) struct Inner {
    pub(super) dir: PathBuf,
    pub(super) options: Options,
    pub(super) _lock: File,
    pub(super) state: RwLock<State>,
    pub(super) writer: Mutex<Writer>,
    pub(super) sync: Mutex<SyncState>,
    pub(super) synced_cv: Condvar,
    pub(super) compacting: Mutex<()>,
    pub(super) compactions: AtomicU64,
    pub(super) auto_compacting: AtomicBool,
    /// Set when the active segment could not be restored after a failed write: writes are refused.
    pub(super) broken: AtomicBool,
    pub(super) stop: Mutex<bool>,
    pub(super) stop_cv: Condvar,
    pub(super) recovery: RecoveryReport,
}

/// Stops the flusher thread (if any) and syncs the active segment when dropped. Made by `flusher::start`, which
/// also holds its `Drop`: see `flusher.rs`.
pub(super) struct FlusherHandle(pub(super) Mutex<Option<JoinHandle<()>>>, pub(super) Arc<Inner>);

/// A log-structured key-value store in a directory. Cheap to clone; all clones share one store.
#[derive(Clone)]
pub struct Store {
    pub(super) inner: Arc<Inner>,
    /// Stops the background flusher and syncs when the last clone goes.
    pub(super) _closer: Arc<FlusherHandle>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .field("stats", &self.stats())
            .finish()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn read(l: &RwLock<State>) -> RwLockReadGuard<'_, State> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn write(l: &RwLock<State>) -> RwLockWriteGuard<'_, State> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

pub(super) fn open_segment(dir: &Path, id: u64, kind: FileKind, create: bool) -> Result<Segment> {
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

/// Read and verify the record at `loc`, which must be a value for `key`.
pub(super) fn read_value(segment: &Segment, loc: Loc, key: &[u8]) -> Result<Vec<u8>> {
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
