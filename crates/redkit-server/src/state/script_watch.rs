//! The running script, watched from outside the server lock ([`ScriptWatch`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// The running script, watched from outside the server lock, so that while a script holds the lock other
/// connections can be answered `BUSY` and SCRIPT KILL can stop it.
#[derive(Debug)]
pub(crate) struct ScriptWatch {
    /// Batches with a script on their way to (or under) the lock.
    pub(crate) batches: AtomicUsize,
    /// When the running script started, in microseconds since `epoch`; 0 while none runs.
    started: AtomicU64,
    epoch: std::time::Instant,
    /// The running script has called a write command (SCRIPT KILL then answers UNKILLABLE).
    pub(crate) wrote: AtomicBool,
    /// SCRIPT KILL asked the running script to stop.
    pub(crate) kill: AtomicBool,
    /// `busy-reply-threshold` (alias `lua-time-limit`), in milliseconds.
    pub(crate) threshold_ms: AtomicU64,
    pub(crate) done: tokio::sync::Notify,
    /// Client ids, handed out without the lock (a connection arriving while a script runs gets one at once).
    pub(crate) next_client_id: AtomicU64,
    /// The server is shutting down: the running script is stopped even if it wrote, and nothing more is persisted.
    pub(crate) shutdown: AtomicBool,
    /// Shutdown stopped a script that had written: its batch is half done, so nothing more may be saved.
    pub(crate) interrupted: AtomicBool,
    /// Set by SHUTDOWN: `Some(save)` once a shutdown is asked for.
    pub(crate) shutdown_request: tokio::sync::watch::Sender<Option<bool>>,
}

impl Default for ScriptWatch {
    fn default() -> Self {
        ScriptWatch {
            batches: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            epoch: std::time::Instant::now(),
            wrote: AtomicBool::new(false),
            kill: AtomicBool::new(false),
            threshold_ms: AtomicU64::new(5000),
            done: tokio::sync::Notify::new(),
            next_client_id: AtomicU64::new(1),
            shutdown: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
            shutdown_request: tokio::sync::watch::Sender::new(None),
        }
    }
}

impl ScriptWatch {
    fn micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// A script starts (called under the lock).
    pub(crate) fn begin(&self) {
        self.wrote.store(false, Ordering::SeqCst);
        // A script starting during shutdown is stopped at once.
        self.kill
            .store(self.shutdown.load(Ordering::SeqCst), Ordering::SeqCst);
        self.started.store(self.micros(), Ordering::SeqCst);
    }

    /// The script ended.
    pub(crate) fn end(&self) {
        self.started.store(0, Ordering::SeqCst);
    }

    /// A script has run past the threshold: other clients get BUSY.
    pub(crate) fn busy(&self) -> bool {
        let started = self.started.load(Ordering::SeqCst);
        started != 0
            && self.micros().saturating_sub(started)
                >= self.threshold_ms.load(Ordering::Relaxed).saturating_mul(1000)
    }

    pub(crate) fn running(&self) -> bool {
        self.started.load(Ordering::SeqCst) != 0
    }
}
