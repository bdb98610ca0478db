//! [`Store`]: the log-structured store. This file holds the public API's entry points ([`Store::open`],
//! [`Store::recovery`], [`Store::get`], [`Store::contains`], [`Store::stats`]) and the re-exports; the types live
//! in two leaf files and each concern in its own file:
//!
//! - `options.rs`: the public plain-data types — [`Options`], [`Durability`], fault injection ([`FaultHook`],
//!   [`FaultPoint`], [`Fault`]), [`Stats`] and [`RecoveryReport`].
//! - `shared.rs`: the types every part shares — the [`Store`] struct, its shared state (`Inner`, `State`,
//!   `Writer`, `SyncState`), `Segment`, `Loc`, the flusher's handle — and the lock, segment-opening and
//!   value-reading helpers.
//! - `writer.rs`: appending records ([`Store::put`], [`Store::delete`], [`WriteBatch`]), rolling segments, and
//!   group commit — the durability wait of [`Durability::Always`] — and [`Store::flush`].
//! - `flusher.rs`: the background fsync thread of [`Durability::EverySec`], and the final sync on close.
//! - `recovery.rs`: rebuilding the index from the directory on open, one named step per function.
//! - `compaction.rs`: [`Store::compact`], its automatic trigger, and the manifest and hint writes;
//!   [`CompactionStats`].
//! - `iter.rs`: [`Iter`] and the ordered reads ([`Store::iter`], [`Store::scan_prefix`],
//!   [`Store::keys_with_prefix`]).
//!
//! Imports run one way: `options.rs` imports nothing of the store, `shared.rs` only `options.rs`, the concern
//! files only those two, and this file any of them.
//!
//! # Shared state and locks
//! `Inner` holds the index and segment table (`State`, behind an `RwLock`), the append position (`Writer`,
//! behind a `Mutex`: one appender at a time) and the group-commit progress (`SyncState`). Lock order:
//! `writer` before `state`; `sync` is never held while `writer` is taken.

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};

use crate::error::{Error, Result};

mod compaction;
mod flusher;
mod iter;
mod options;
mod recovery;
mod shared;
mod writer;

pub use compaction::CompactionStats;
pub use iter::Iter;
pub use options::{Durability, Fault, FaultHook, FaultPoint, Options, RecoveryReport, Stats};
pub use shared::Store;
pub use writer::WriteBatch;

use shared::{Inner, SyncState, read, read_value};

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
