//! Snapshots and background work: the whole dataset as one batch (SAVE and BGSAVE without `appendonly`), the
//! BGSAVE and BGREWRITEAOF threads, and their book-keeping for INFO and LASTSAVE.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use redkit_log::{Store, WriteBatch};

use crate::state::db::Db;

use super::error::WriteError;
use super::writer::put_database;

/// Progress and outcome of background work, shared with its thread.
#[derive(Debug, Default)]
pub(super) struct Background {
    pub(super) saving: AtomicBool,
    pub(super) rewriting: AtomicBool,
    pub(super) save_failed: AtomicBool,
    pub(super) rewrite_failed: AtomicBool,
    /// Unix seconds of the last successful save.
    pub(super) last_save: AtomicI64,
    pub(super) saves: AtomicU64,
    /// Seconds the last rewrite took (-1: none yet).
    pub(super) last_rewrite_secs: AtomicI64,
}

impl Background {
    /// Nothing done yet; the data counts as saved at `now` (Unix ms).
    pub(super) fn new(now: i64) -> Arc<Background> {
        Arc::new(Background {
            last_rewrite_secs: AtomicI64::new(-1),
            last_save: AtomicI64::new(now / 1000),
            ..Background::default()
        })
    }

    /// [`WriteError::SaveInProgress`] while a background save runs.
    pub(super) fn check_not_saving(&self) -> Result<(), WriteError> {
        if self.saving.load(Ordering::Acquire) {
            return Err(WriteError::SaveInProgress);
        }
        Ok(())
    }

    /// A save succeeded at `unix_secs`.
    fn saved(&self, unix_secs: i64) {
        self.last_save.store(unix_secs, Ordering::Release);
        self.saves.fetch_add(1, Ordering::AcqRel);
        self.save_failed.store(false, Ordering::Release);
    }

    /// The outcome of SAVE, finished at `now` (Unix ms): on failure, logged and the bare `ERR` of
    /// [`WriteError::Save`].
    pub(super) fn save_outcome(&self, result: Result<(), WriteError>, now: i64) -> Result<(), WriteError> {
        match result {
            Ok(()) => {
                self.saved(now / 1000);
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "SAVE failed");
                self.save_failed.store(true, Ordering::Release);
                Err(WriteError::Save(Box::new(e)))
            }
        }
    }
}

/// The whole dataset as one batch replacing what the store holds.
pub(super) fn snapshot(store: &Store, dbs: &[Db]) -> Result<WriteBatch, WriteError> {
    let mut batch = WriteBatch::new();
    for (i, db) in dbs.iter().enumerate() {
        put_database(&mut batch, store, i, db)?;
    }
    Ok(batch)
}

/// Write a snapshot and fsync it.
pub(super) fn write_snapshot(store: &Store, batch: WriteBatch) -> Result<(), WriteError> {
    store
        .write_batch(batch)
        .map_err(|e| WriteError::Snapshot(Arc::new(e)))?;
    store.flush().map_err(|e| WriteError::Fsync(Arc::new(e)))
}

/// BGSAVE's thread: write `batch` (a snapshot; `None` in append-only mode, where everything is written already)
/// and fsync the store.
pub(super) fn start_bgsave(
    store: Store,
    bg: Arc<Background>,
    batch: Option<WriteBatch>,
) -> Result<(), WriteError> {
    bg.saving.store(true, Ordering::Release);
    let worker = bg.clone();
    let spawned = std::thread::Builder::new()
        .name("redkit-bgsave".into())
        .spawn(move || {
            let bg = worker;
            let result = match batch {
                Some(batch) => store.write_batch(batch).and_then(|_| store.flush()),
                None => store.flush(),
            };
            match result {
                Ok(()) => bg.saved(unix_secs()),
                Err(e) => {
                    tracing::error!(error = %e, "BGSAVE failed");
                    bg.save_failed.store(true, Ordering::Release);
                }
            }
            bg.saving.store(false, Ordering::Release);
        });
    if let Err(e) = spawned {
        bg.saving.store(false, Ordering::Release);
        return Err(WriteError::SaveThread(Arc::new(e)));
    }
    Ok(())
}

/// BGREWRITEAOF: compact the store on a thread.
pub(super) fn start_rewrite(store: Store, bg: Arc<Background>) -> Result<(), WriteError> {
    if bg.rewriting.swap(true, Ordering::AcqRel) {
        return Err(WriteError::RewriteInProgress);
    }
    let worker = bg.clone();
    let spawned = std::thread::Builder::new()
        .name("redkit-bgrewriteaof".into())
        .spawn(move || {
            let bg = worker;
            let started = std::time::Instant::now();
            match store.compact() {
                Ok(_) => {
                    bg.rewrite_failed.store(false, Ordering::Release);
                }
                Err(e) => {
                    tracing::error!(error = %e, "BGREWRITEAOF failed");
                    bg.rewrite_failed.store(true, Ordering::Release);
                }
            }
            bg.last_rewrite_secs
                .store(started.elapsed().as_secs() as i64, Ordering::Release);
            bg.rewriting.store(false, Ordering::Release);
        });
    if let Err(e) = spawned {
        bg.rewriting.store(false, Ordering::Release);
        return Err(WriteError::RewriteThread(Arc::new(e)));
    }
    Ok(())
}

fn unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
