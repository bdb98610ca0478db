//! The background flusher of [`Durability::EverySec`]: a thread that fsyncs the active segment once a second when
//! something was written since the last sync. Its handle, held by every [`Store`](super::Store) clone, stops it
//! when the last clone goes, and then syncs whatever is left (in every durability mode). The handle's type,
//! `FlusherHandle`, is declared in `shared.rs` (a `Store` holds it); what it does — `start` and its `Drop` — is
//! here.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::options::Durability;
use super::shared::{FlusherHandle, Inner, lock};
use crate::error::{Error, Result};

/// Stop the flusher thread (if any) and sync the active segment.
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

/// Start the flusher thread if the durability mode is `EverySec`; the handle that stops it.
pub(super) fn start(inner: &Arc<Inner>) -> Result<FlusherHandle> {
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
    Ok(FlusherHandle(Mutex::new(flusher), inner.clone()))
}

/// Once a second until stopped: fsync the active segment if writes were appended since the last sync.
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
