//! Group commit for `appendfsync always`: the thread that fsyncs the store, and the tickets writers wait on.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use redkit_log::Store;

use super::error::WriteError;

/// Group commit for `appendfsync always`: batches are written to the store under the server lock, and each
/// connection waits — after the lock is released, before its replies go out — until an fsync that began after
/// its write has finished. One thread fsyncs in a loop, so one fsync covers every connection that wrote meanwhile
/// (as Redis's one fsync per event-loop turn does), and the server lock is never held across an fsync.
#[derive(Debug)]
pub(crate) struct Syncer {
    state: Mutex<SyncState>,
    /// Wakes the syncing thread.
    wake: Condvar,
    /// Wakes blocking waiters.
    synced_cv: Condvar,
    /// For async waiters: (synced up to, the last fsync's failure).
    report: tokio::sync::watch::Sender<(u64, Option<Arc<redkit_log::Error>>)>,
    /// The thread, joined when the persister goes (it holds the store, whose directory lock must be free then).
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct SyncState {
    written: u64,
    synced: u64,
    failed: Option<Arc<redkit_log::Error>>,
    stop: bool,
}

impl Syncer {
    /// Start the fsync thread on `store`.
    pub(super) fn start(store: Store) -> std::io::Result<Arc<Syncer>> {
        let syncer = Arc::new(Syncer {
            state: Mutex::new(SyncState::default()),
            wake: Condvar::new(),
            synced_cv: Condvar::new(),
            report: tokio::sync::watch::channel((0, None)).0,
            thread: Mutex::new(None),
        });
        let worker = syncer.clone();
        let handle = std::thread::Builder::new()
            .name("redkit-aof-fsync".into())
            .spawn(move || worker.run(&store))?;
        *syncer.thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        Ok(syncer)
    }

    fn lock(&self) -> MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self, store: &Store) {
        loop {
            let target = {
                let mut s = self.lock();
                while s.written <= s.synced && !s.stop {
                    s = self.wake.wait(s).unwrap_or_else(PoisonError::into_inner);
                }
                if s.stop {
                    return;
                }
                s.written
            };
            let outcome = store.flush().map_err(Arc::new);
            let mut s = self.lock();
            match outcome {
                Ok(()) => s.synced = s.synced.max(target),
                Err(e) => {
                    tracing::error!(error = %e, "fsync of the append-only store failed");
                    s.failed = Some(e);
                    // Waiters up to here are told it failed; later writes try again.
                    s.synced = s.synced.max(target);
                }
            }
            let report = (s.synced, s.failed.take());
            drop(s);
            self.synced_cv.notify_all();
            self.report.send_replace(report);
        }
    }

    /// A write just went to the store: its ticket.
    pub(super) fn written(&self) -> u64 {
        let mut s = self.lock();
        s.written += 1;
        let ticket = s.written;
        drop(s);
        self.wake.notify_one();
        ticket
    }

    /// Wait (blocking) until `ticket` is durable; the fsync error otherwise.
    pub(crate) fn wait_blocking(&self, ticket: u64) -> Result<(), WriteError> {
        let mut rx = self.report.subscribe();
        let mut s = self.lock();
        while s.synced < ticket {
            s = self.synced_cv.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        drop(s);
        // The outcome of the fsync that covered it.
        let report = rx.borrow_and_update().clone();
        match report {
            (synced, Some(e)) if synced >= ticket => Err(WriteError::Fsync(e)),
            _ => Ok(()),
        }
    }

    /// Wait until `ticket` is durable; the fsync error otherwise.
    pub(crate) async fn wait(&self, ticket: u64) -> Result<(), WriteError> {
        let mut rx = self.report.subscribe();
        match rx.wait_for(|(synced, _)| *synced >= ticket).await {
            Ok(report) => match &report.1 {
                Some(e) => Err(WriteError::Fsync(e.clone())),
                None => Ok(()),
            },
            Err(_) => Err(WriteError::FsyncThreadGone),
        }
    }

    /// The ticket of the newest write.
    pub(crate) fn newest(&self) -> u64 {
        self.lock().written
    }

    /// Stop the thread and wait for it to end (its fsync in progress finishes first).
    pub(super) fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_all();
        let handle = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}
