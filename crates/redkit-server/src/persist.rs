//! Persistence: the dataset kept in a [`redkit_log`] store, so a restarted server finds its data again.
//!
//! The store holds one record per key: the store key is the database index (one byte) followed by the Redis key,
//! and the value is a format byte followed by the entry in MessagePack — its type, contents, string encoding and
//! **absolute** expiry deadline (Unix ms), so a key whose time passed while the server was down is gone after the
//! restart, and every other key keeps its deadline.
//!
//! **Append-only mode** (`appendonly yes`): every database remembers the keys that commands changed (the same
//! hook WATCH uses). After each batch of commands — one pipelined read's worth, an EXEC, a script — and *before any
//! reply of the batch is sent*, the current entries of those keys (or tombstones for the removed ones) are written
//! as one [`WriteBatch`], which the store applies all or nothing even across a crash. `appendfsync` maps onto the
//! store's durability: `always` fsyncs before the replies go out (group commit), `everysec` once a second, `no`
//! leaves it to the OS. The store compacts itself as superseded records pile up (`auto-aof-rewrite`'s job), and
//! BGREWRITEAOF compacts on demand.
//!
//! **Snapshot mode** (`appendonly no` with a directory): nothing is written until SAVE or BGSAVE, which replace the
//! stored dataset with the current one (as an RDB file would be replaced).
//!
//! **Loading**: the store's recovery rules apply first (a torn tail of the last segment is cut off; damage
//! elsewhere refuses to start unless `repair` is set, which drops it and says so); then every record is decoded,
//! and one that does not decode likewise refuses to start, or with `repair` is dropped and reported. The
//! [`LoadReport`] says what happened; `redkit-server` prints it.
//!
//! A write to the store that fails makes the server refuse further writes with `MISCONF` (as Redis does when it
//! cannot write its AOF) and replaces the replies of the failed batch with that error, so nothing that was
//! acknowledged is lost; the changes stay pending and are written again every 100 ms until the store takes them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use bytes::Bytes;
use redkit_log::{Durability, Options, Store, WriteBatch};

use crate::state::db::{Db, Entry};

/// The format byte in front of every stored entry.
const FORMAT: u8 = 1;

/// When appended writes reach the disk (`appendfsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppendFsync {
    /// fsync before replying: an acknowledged write survives a crash of the process or the machine.
    Always,
    /// fsync once a second: a machine crash may lose about a second of writes, a process crash nothing.
    #[default]
    EverySec,
    /// Leave it to the operating system.
    No,
}

impl AppendFsync {
    /// The name CONFIG GET reports.
    pub fn name(self) -> &'static str {
        match self {
            AppendFsync::Always => "always",
            AppendFsync::EverySec => "everysec",
            AppendFsync::No => "no",
        }
    }

    fn durability(self) -> Durability {
        match self {
            // `always` is the syncer's job (group commit across connections, outside the server lock); the store
            // itself syncs segments it rolls, and once a second.
            AppendFsync::Always => Durability::EverySec,
            AppendFsync::EverySec => Durability::EverySec,
            AppendFsync::No => Durability::Never,
        }
    }
}

impl std::str::FromStr for AppendFsync {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Ok(AppendFsync::Always),
            "everysec" => Ok(AppendFsync::EverySec),
            "no" => Ok(AppendFsync::No),
            other => Err(format!(
                "unknown appendfsync policy '{other}' (always, everysec or no)"
            )),
        }
    }
}

/// Where and how the server keeps its data.
#[derive(Debug, Clone)]
pub struct Persistence {
    /// The data directory (created if missing). One server at a time may use it.
    pub dir: PathBuf,
    /// `appendonly yes`: persist every write as it happens. Otherwise only SAVE and BGSAVE write.
    pub appendonly: bool,
    /// When appended writes reach the disk.
    pub appendfsync: AppendFsync,
    /// Start even when the data is damaged, dropping what cannot be read (and reporting it). Without it, damage
    /// anywhere but a torn tail stops the start with an error that says where.
    pub repair: bool,
}

impl Persistence {
    /// Append-only persistence in `dir` with `appendfsync everysec`, Redis's default policy.
    pub fn append_only(dir: impl Into<PathBuf>) -> Persistence {
        Persistence {
            dir: dir.into(),
            appendonly: true,
            appendfsync: AppendFsync::EverySec,
            repair: false,
        }
    }

    /// Snapshots only (SAVE/BGSAVE) in `dir`.
    pub fn snapshots(dir: impl Into<PathBuf>) -> Persistence {
        Persistence {
            appendonly: false,
            ..Persistence::append_only(dir)
        }
    }

    /// The same, with another fsync policy.
    pub fn with_fsync(mut self, appendfsync: AppendFsync) -> Persistence {
        self.appendfsync = appendfsync;
        self
    }

    /// The same, starting despite damage (dropping what cannot be read, and reporting it).
    pub fn with_repair(mut self, repair: bool) -> Persistence {
        self.repair = repair;
        self
    }
}

/// What loading the data directory found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Keys loaded.
    pub keys_loaded: u64,
    /// Keys whose deadline passed while the server was down (removed from the store).
    pub keys_expired: u64,
    /// Torn tails the store cut off: `(file, offset, bytes removed)`. Writes there were never acknowledged with
    /// `appendfsync always`.
    pub truncated: Vec<(PathBuf, u64, u64)>,
    /// With repair: damage dropped, `(file, offset, bytes dropped)`.
    pub repaired: Vec<(PathBuf, u64, u64)>,
    /// With repair: records that did not decode and were dropped, described.
    pub dropped: Vec<String>,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} keys loaded, {} expired while the server was down",
            self.keys_loaded, self.keys_expired
        )?;
        for (file, offset, len) in &self.truncated {
            write!(
                f,
                "; a torn write of {len} bytes at offset {offset} of {} was cut off",
                file.display()
            )?;
        }
        for (file, offset, len) in &self.repaired {
            write!(
                f,
                "; REPAIRED: {len} damaged bytes from offset {offset} of {} were dropped",
                file.display()
            )?;
        }
        for what in &self.dropped {
            write!(f, "; REPAIRED: dropped {what}")?;
        }
        Ok(())
    }
}

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// The store could not be opened or read (damage, a lock held by another server, I/O).
    #[error("cannot load the data directory {}: {source}", dir.display())]
    Store {
        /// The directory.
        dir: PathBuf,
        /// What the store said.
        #[source]
        source: redkit_log::Error,
    },
    /// The fsync thread of `appendfsync always` could not be started.
    #[error("cannot start the fsync thread: {0}")]
    Thread(#[source] std::io::Error),
    /// A record was readable but is not an entry this server wrote. Start with repair to drop it.
    #[error(
        "cannot load the data directory {}: {what}; start with repair to drop it and go on",
        dir.display()
    )]
    Undecodable {
        /// The directory.
        dir: PathBuf,
        /// Which record, and why.
        what: String,
    },
}

/// Progress and outcome of background work, shared with its thread.
#[derive(Debug, Default)]
struct Background {
    saving: AtomicBool,
    rewriting: AtomicBool,
    save_failed: AtomicBool,
    rewrite_failed: AtomicBool,
    /// Unix seconds of the last successful save.
    last_save: AtomicI64,
    saves: AtomicU64,
    /// Seconds the last rewrite took (-1: none yet).
    last_rewrite_secs: AtomicI64,
}

/// Group commit for `appendfsync always`: batches are written to the store under the server lock, and each
/// connection waits — after the lock is released, before its replies go out — until an fsync that began after
/// its write has finished. One thread fsyncs in a loop, so one fsync covers every connection that wrote meanwhile
/// (as Redis's one fsync per event-loop turn does), and the server lock is never held across an fsync.
#[derive(Debug)]
pub(crate) struct Syncer {
    state: std::sync::Mutex<SyncState>,
    /// Wakes the syncing thread.
    wake: std::sync::Condvar,
    /// Wakes blocking waiters.
    synced_cv: std::sync::Condvar,
    /// For async waiters: (synced up to, the last fsync's failure).
    report: tokio::sync::watch::Sender<(u64, Option<String>)>,
    /// The thread, joined when the persister goes (it holds the store, whose directory lock must be free then).
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct SyncState {
    written: u64,
    synced: u64,
    failed: Option<String>,
    stop: bool,
}

impl Syncer {
    fn start(store: Store) -> std::io::Result<Arc<Syncer>> {
        let syncer = Arc::new(Syncer {
            state: std::sync::Mutex::new(SyncState::default()),
            wake: std::sync::Condvar::new(),
            synced_cv: std::sync::Condvar::new(),
            report: tokio::sync::watch::channel((0, None)).0,
            thread: std::sync::Mutex::new(None),
        });
        let worker = syncer.clone();
        let handle = std::thread::Builder::new()
            .name("redkit-aof-fsync".into())
            .spawn(move || worker.run(&store))?;
        *syncer
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        Ok(syncer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SyncState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn run(&self, store: &Store) {
        loop {
            let target = {
                let mut s = self.lock();
                while s.written <= s.synced && !s.stop {
                    s = self
                        .wake
                        .wait(s)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
                if s.stop {
                    return;
                }
                s.written
            };
            let outcome = store.flush().map_err(|e| e.to_string());
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
    fn written(&self) -> u64 {
        let mut s = self.lock();
        s.written += 1;
        let ticket = s.written;
        drop(s);
        self.wake.notify_one();
        ticket
    }

    /// Wait (blocking) until `ticket` is durable; the fsync error otherwise.
    pub(crate) fn wait_blocking(&self, ticket: u64) -> Result<(), String> {
        let mut rx = self.report.subscribe();
        let mut s = self.lock();
        while s.synced < ticket {
            s = self
                .synced_cv
                .wait(s)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        drop(s);
        // The outcome of the fsync that covered it.
        let report = rx.borrow_and_update().clone();
        match report {
            (synced, Some(e)) if synced >= ticket => Err(e),
            _ => Ok(()),
        }
    }

    /// Wait until `ticket` is durable; the fsync error otherwise.
    pub(crate) async fn wait(&self, ticket: u64) -> Result<(), String> {
        let mut rx = self.report.subscribe();
        match rx.wait_for(|(synced, _)| *synced >= ticket).await {
            Ok(report) => match &report.1 {
                Some(e) => Err(e.clone()),
                None => Ok(()),
            },
            Err(_) => Err("the fsync thread is gone".into()),
        }
    }

    /// The ticket of the newest write.
    pub(crate) fn newest(&self) -> u64 {
        self.lock().written
    }
}

impl Drop for Persister {
    fn drop(&mut self) {
        if let Some(syncer) = &self.syncer {
            syncer.lock().stop = true;
            syncer.wake.notify_all();
            let handle = syncer
                .thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some(handle) = handle {
                let _ = handle.join();
            }
        }
    }
}

/// The server's side of persistence: the open store and its book-keeping.
pub(crate) struct Persister {
    /// With `appendfsync always`: the group-commit thread.
    pub(crate) syncer: Option<Arc<Syncer>>,
    /// Set by a write needing an fsync before its replies go out; taken by the caller of the batch.
    pub(crate) ticket: Option<u64>,
    store: Store,
    dir: PathBuf,
    appendonly: bool,
    appendfsync: AppendFsync,
    bg: Arc<Background>,
    /// Database writes counted at the last save (`rdb_changes_since_last_save`).
    writes_at_save: u64,
    /// Set while the store refuses writes: the error text, and writes are denied with MISCONF.
    pub(crate) write_error: Option<String>,
    load: LoadReport,
}

fn store_key(db: usize, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(db as u8);
    k.extend_from_slice(key);
    k
}

fn encode(entry: &Entry) -> Result<Vec<u8>, String> {
    let mut out = vec![FORMAT];
    rmp_serde::encode::write(&mut out, entry).map_err(|e| format!("cannot encode an entry: {e}"))?;
    Ok(out)
}

fn decode(value: &[u8]) -> Result<Entry, String> {
    match value.split_first() {
        Some((&FORMAT, rest)) => rmp_serde::from_slice(rest).map_err(|e| e.to_string()),
        Some((other, _)) => Err(format!("unknown format {other}")),
        None => Err("empty record".into()),
    }
}

fn printable(key: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(key))
}

impl Persister {
    /// Open the store and load it into `dbs` (which are empty). `now` decides which keys expired meanwhile.
    /// `fault_hook` is the store's fault injection, for tests.
    pub(crate) fn open_with(
        config: &Persistence,
        dbs: &mut [Db],
        now: i64,
        fault_hook: Option<redkit_log::FaultHook>,
    ) -> Result<Persister, PersistError> {
        let store_error = |source| PersistError::Store {
            dir: config.dir.clone(),
            source,
        };
        let options = Options {
            durability: config.appendfsync.durability(),
            repair: config.repair,
            fault_hook,
            ..Options::default()
        };
        let store = Store::open(&config.dir, options).map_err(store_error)?;
        let recovery = store.recovery();
        let mut load = LoadReport {
            truncated: recovery.truncated.clone(),
            repaired: recovery.repaired.clone(),
            ..LoadReport::default()
        };
        let mut cleanup = WriteBatch::new();
        for record in store.iter() {
            let (key, value) = record.map_err(store_error)?;
            let parsed = match key.split_first() {
                Some((&db, name)) if (db as usize) < dbs.len() => {
                    decode(&value).map(|entry| (db as usize, name, entry))
                }
                _ => Err("not a key of any database".into()),
            };
            match parsed {
                Ok((db, name, entry)) => {
                    if entry.expire_at.is_some_and(|t| t <= now) {
                        load.keys_expired += 1;
                        cleanup.delete(key.clone());
                    } else {
                        dbs[db].set_entry(Bytes::copy_from_slice(name), entry);
                        load.keys_loaded += 1;
                    }
                }
                Err(reason) if config.repair => {
                    load.dropped
                        .push(format!("the record {} ({reason})", printable(&key)));
                    cleanup.delete(key.clone());
                }
                Err(reason) => {
                    return Err(PersistError::Undecodable {
                        dir: config.dir.clone(),
                        what: format!("the record {} does not decode ({reason})", printable(&key)),
                    });
                }
            }
        }
        if !cleanup.is_empty() {
            store.write_batch(cleanup).map_err(store_error)?;
        }
        let writes = dbs.iter().map(|d| d.writes).sum();
        if config.appendonly {
            for db in dbs.iter_mut() {
                db.dirty = Some(Default::default());
            }
        }
        let bg = Arc::new(Background {
            last_rewrite_secs: AtomicI64::new(-1),
            last_save: AtomicI64::new(now / 1000),
            ..Background::default()
        });
        let syncer = if config.appendonly && config.appendfsync == AppendFsync::Always {
            Some(Syncer::start(store.clone()).map_err(PersistError::Thread)?)
        } else {
            None
        };
        Ok(Persister {
            syncer,
            ticket: None,
            store,
            dir: config.dir.clone(),
            appendonly: config.appendonly,
            appendfsync: config.appendfsync,
            bg,
            writes_at_save: writes,
            write_error: None,
            load,
        })
    }

    /// What loading found.
    pub(crate) fn load_report(&self) -> &LoadReport {
        &self.load
    }

    /// The data directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn appendonly(&self) -> bool {
        self.appendonly
    }

    pub(crate) fn appendfsync(&self) -> AppendFsync {
        self.appendfsync
    }

    /// Write what changed since the last call (append-only mode). On failure the changes stay pending, further
    /// writes are refused with MISCONF until a retry succeeds, and the error text is returned.
    pub(crate) fn write_changes(&mut self, dbs: &mut [Db]) -> Result<(), String> {
        if !self.appendonly {
            return Ok(());
        }
        let mut batch = WriteBatch::new();
        for (i, db) in dbs.iter_mut().enumerate() {
            let Some(dirty) = db.dirty.as_mut() else {
                continue;
            };
            if dirty.whole {
                for stored in self.store.keys_with_prefix(&[i as u8]) {
                    if db.peek(&stored[1..]).is_none() {
                        batch.delete(stored);
                    }
                }
                for (key, entry) in db.entries() {
                    batch.put(store_key(i, key), encode(entry)?);
                }
            } else if !dirty.keys.is_empty() {
                let mut keys = std::mem::take(&mut dirty.keys);
                keys.sort_unstable();
                keys.dedup();
                for key in &keys {
                    match db.peek(key) {
                        Some(entry) => match encode(entry) {
                            Ok(v) => {
                                batch.put(store_key(i, key), v);
                            }
                            Err(e) => {
                                restore_keys(db, keys);
                                return Err(e);
                            }
                        },
                        None => {
                            batch.delete(store_key(i, key));
                        }
                    }
                }
                // Kept until the store has them.
                if let Some(dirty) = db.dirty.as_mut() {
                    dirty.keys = keys;
                }
            }
        }
        if batch.is_empty() {
            return self.clear_error();
        }
        match self.store.write_batch(batch) {
            Ok(_) => {
                if let Some(syncer) = &self.syncer {
                    self.ticket = Some(syncer.written());
                }
                for db in dbs.iter_mut() {
                    if let Some(dirty) = db.dirty.as_mut() {
                        dirty.keys.clear();
                        dirty.whole = false;
                    }
                }
                self.clear_error()
            }
            Err(e) => {
                let text = e.to_string();
                tracing::error!(error = %text, "writing the append-only store failed; refusing writes");
                self.write_error = Some(text.clone());
                Err(text)
            }
        }
    }

    fn clear_error(&mut self) -> Result<(), String> {
        if self.write_error.take().is_some() {
            tracing::warn!("the append-only store takes writes again");
        }
        Ok(())
    }

    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub(crate) fn changes_since_save(&self, dbs: &[Db]) -> u64 {
        dbs.iter()
            .map(|d| d.writes)
            .sum::<u64>()
            .saturating_sub(self.writes_at_save)
    }

    /// The whole dataset as one batch replacing what the store holds.
    fn snapshot(&self, dbs: &[Db]) -> Result<WriteBatch, String> {
        let mut batch = WriteBatch::new();
        for (i, db) in dbs.iter().enumerate() {
            for stored in self.store.keys_with_prefix(&[i as u8]) {
                if db.peek(&stored[1..]).is_none() {
                    batch.delete(stored);
                }
            }
            for (key, entry) in db.entries() {
                batch.put(store_key(i, key), encode(entry)?);
            }
        }
        Ok(batch)
    }

    /// SAVE: write the dataset (snapshot mode) or make sure everything appended is on disk (append-only mode), now.
    pub(crate) fn save(&mut self, dbs: &mut [Db], now: i64) -> Result<(), String> {
        if self.bg.saving.load(Ordering::Acquire) {
            return Err("ERR Background save already in progress".into());
        }
        let result = if self.appendonly {
            self.write_changes(dbs)
                .and_then(|()| self.store.flush().map_err(|e| e.to_string()))
        } else {
            let batch = self.snapshot(dbs)?;
            self.store
                .write_batch(batch)
                .and_then(|_| self.store.flush())
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        match result {
            Ok(()) => {
                self.writes_at_save = dbs.iter().map(|d| d.writes).sum();
                self.bg.last_save.store(now / 1000, Ordering::Release);
                self.bg.saves.fetch_add(1, Ordering::AcqRel);
                self.bg.save_failed.store(false, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "SAVE failed");
                self.bg.save_failed.store(true, Ordering::Release);
                Err("ERR".into())
            }
        }
    }

    /// Make sure everything written so far is on disk, writing nothing new (a shutdown that must not save).
    pub(crate) fn sync(&mut self) -> Result<(), String> {
        self.store.flush().map(|_| ()).map_err(|e| e.to_string())
    }

    /// BGSAVE: the same on a thread (the snapshot is taken now, under the server lock).
    pub(crate) fn bgsave(&mut self, dbs: &mut [Db]) -> Result<(), String> {
        if self.bg.saving.load(Ordering::Acquire) {
            return Err("ERR Background save already in progress".into());
        }
        let batch = if self.appendonly {
            self.write_changes(dbs)?;
            None
        } else {
            Some(self.snapshot(dbs)?)
        };
        let writes = dbs.iter().map(|d| d.writes).sum();
        self.bg.saving.store(true, Ordering::Release);
        let (store, bg) = (self.store.clone(), self.bg.clone());
        let spawned = std::thread::Builder::new()
            .name("redkit-bgsave".into())
            .spawn(move || {
                let result = match batch {
                    Some(batch) => store.write_batch(batch).and_then(|_| store.flush()),
                    None => store.flush(),
                };
                match result {
                    Ok(()) => {
                        bg.last_save.store(unix_secs(), Ordering::Release);
                        bg.saves.fetch_add(1, Ordering::AcqRel);
                        bg.save_failed.store(false, Ordering::Release);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "BGSAVE failed");
                        bg.save_failed.store(true, Ordering::Release);
                    }
                }
                bg.saving.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.bg.saving.store(false, Ordering::Release);
            return Err("ERR cannot start a thread for the background save".into());
        }
        // Counted as saved from here on, as Redis resets the counter when the fork starts.
        self.writes_at_save = writes;
        Ok(())
    }

    /// BGREWRITEAOF: compact the store on a thread.
    pub(crate) fn bgrewrite(&mut self) -> Result<(), String> {
        if self.bg.rewriting.swap(true, Ordering::AcqRel) {
            return Err("ERR Background append only file rewriting already in progress".into());
        }
        let (store, bg) = (self.store.clone(), self.bg.clone());
        let spawned = std::thread::Builder::new()
            .name("redkit-bgrewriteaof".into())
            .spawn(move || {
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
        if spawned.is_err() {
            self.bg.rewriting.store(false, Ordering::Release);
            return Err("ERR cannot start a thread for the rewrite".into());
        }
        Ok(())
    }

    /// LASTSAVE: Unix seconds of the last successful save (or of the start).
    pub(crate) fn last_save(&self) -> i64 {
        self.bg.last_save.load(Ordering::Acquire)
    }

    /// INFO persistence.
    pub(crate) fn info(&self, dbs: &[Db], out: &mut String) {
        use std::fmt::Write;
        let bg = &self.bg;
        let status = |failed: &AtomicBool| {
            if failed.load(Ordering::Acquire) {
                "err"
            } else {
                "ok"
            }
        };
        let stats = self.store.stats();
        let _ = write!(
            out,
            "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\n\
             rdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_saves:{}\r\n\
             rdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\naof_enabled:{}\r\n\
             aof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:{}\r\n\
             aof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_last_write_status:{}\r\n",
            self.changes_since_save(dbs),
            u8::from(bg.saving.load(Ordering::Acquire)),
            bg.last_save.load(Ordering::Acquire),
            status(&bg.save_failed),
            bg.saves.load(Ordering::Acquire),
            self.load.keys_expired,
            self.load.keys_loaded,
            u8::from(self.appendonly),
            u8::from(bg.rewriting.load(Ordering::Acquire)),
            bg.last_rewrite_secs.load(Ordering::Acquire),
            status(&bg.rewrite_failed),
            stats.compactions,
            if self.write_error.is_some() { "err" } else { "ok" },
        );
        if self.appendonly {
            let _ = write!(
                out,
                "aof_current_size:{}\r\naof_base_size:{}\r\naof_buffer_length:0\r\n",
                stats.live_bytes + stats.dead_bytes,
                stats.live_bytes,
            );
        }
    }
}

/// Put `keys` back on `db`'s dirty list (a write that failed must be retried).
fn restore_keys(db: &mut Db, keys: Vec<Bytes>) {
    if let Some(dirty) = db.dirty.as_mut() {
        dirty.keys = keys;
    }
}

fn unix_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::Server;
    use crate::state::ServerConfig;

    fn run(server: &Server, session: &mut crate::state::Session, args: &[String]) -> redkit_resp::Value {
        let args: Vec<Bytes> = args
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        server.execute(session, &args)
    }

    /// A random command over a handful of keys, touching every type and every way a key changes.
    fn random_command(rng: &mut fastrand::Rng) -> Vec<String> {
        let k = |rng: &mut fastrand::Rng| format!("k{}", rng.usize(0..6));
        let v = |rng: &mut fastrand::Rng| format!("v{}", rng.usize(0..8));
        let n = |rng: &mut fastrand::Rng| rng.usize(0..40).to_string();
        let (k1, k2, k3, v1, v2, n1) = (k(rng), k(rng), k(rng), v(rng), v(rng), n(rng));
        let text = match rng.usize(0..52) {
            0 => format!("SET {k1} {v1}"),
            1 => format!("SET {k1} {n1} PX 100000"),
            2 => format!("SET {k1} {v1} PX 1"),
            3 => format!("APPEND {k1} {v1}"),
            4 => format!("INCR {k1}"),
            5 => format!("DEL {k1} {k2}"),
            6 => format!("EXPIRE {k1} 1000"),
            7 => format!("PERSIST {k1}"),
            8 => format!("RPUSH {k1} {v1} {v2}"),
            9 => format!("LPOP {k1}"),
            10 => format!("LMOVE {k1} {k2} LEFT RIGHT"),
            11 => format!("SADD {k1} {v1} {n1}"),
            12 => format!("SREM {k1} {v1}"),
            13 => format!("SPOP {k1}"),
            14 => format!("HSET {k1} {v1} {v2}"),
            15 => format!("HDEL {k1} {v1}"),
            16 => format!("HINCRBY {k1} {v1} 3"),
            17 => format!("ZADD {k1} {n1} {v1}"),
            18 => format!("ZINCRBY {k1} 1.5 {v1}"),
            19 => format!("ZREM {k1} {v1}"),
            20 => format!("ZPOPMIN {k1}"),
            21 => format!("XADD {k1} * f {v1}"),
            22 => format!("XADD {k1} MAXLEN 3 * f {v1}"),
            23 => format!("XGROUP CREATE {k1} g 0 MKSTREAM"),
            24 => format!("XREADGROUP GROUP g c{n1} COUNT 2 STREAMS {k1} >"),
            25 => format!("XAUTOCLAIM {k1} g other 0 0-0 COUNT 1"),
            26 => format!("XTRIM {k1} MAXLEN 1"),
            27 => format!("PFADD {k1} {v1} {v2} {n1}"),
            28 => format!("PFMERGE {k1} {k2} {k3}"),
            29 => format!("GEOADD {k1} 13.361389 38.115556 {v1}"),
            30 => format!("SETBIT {k1} {n1} 1"),
            31 => format!("BITOP OR {k1} {k2} {k3}"),
            32 => format!("RENAME {k1} {k2}"),
            33 => format!("COPY {k1} {k2} REPLACE"),
            34 => format!("MOVE {k1} {}", rng.usize(0..3)),
            35 => format!("SELECT {}", rng.usize(0..3)),
            36 => format!("SWAPDB {} {}", rng.usize(0..3), rng.usize(0..3)),
            37 => "FLUSHDB".into(),
            38 => format!("SINTERSTORE {k1} {k2} {k3}"),
            39 => format!("ZUNIONSTORE {k1} 2 {k2} {k3}"),
            40 => format!("GETDEL {k1}"),
            41 => format!("GETEX {k1} PX 50000"),
            42 => format!("SETRANGE {k1} 2 {v1}"),
            43 => format!("LTRIM {k1} 1 -1"),
            44 => format!("LSET {k1} 0 {v1}"),
            45 => format!("SORT {k1} ALPHA STORE {k2}"),
            46 => format!("INCRBYFLOAT {k1} 0.5"),
            47 => format!("HINCRBYFLOAT {k1} {v1} 0.25"),
            48 => format!("EXPIREAT {k1} 1"),
            49 => format!("BLPOP {k1} {k2} 1"),
            50 => format!("SMOVE {k1} {k2} {v1}"),
            _ => format!("RESTORE-ASKING {k1}"),
        };
        let mut args: Vec<String> = text.split(' ').map(str::to_owned).collect();
        // Scripts and transactions change keys too.
        match rng.usize(0..30) {
            0 => {
                args = vec![
                    "EVAL".into(),
                    "redis.call('rpush', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[2])".into(),
                    "2".into(),
                    k1,
                    format!("{k2}n"),
                    v1,
                ];
            }
            1 => args.insert(0, "MULTI-EXEC".into()),
            _ => {}
        }
        args
    }

    fn open(dir: &Path) -> Server {
        match Server::open(ServerConfig::default(), &Persistence::append_only(dir)) {
            Ok((server, _)) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// A store that cannot be written: the batch's replies become MISCONF, further writes are refused while reads
    /// go on, and once the store takes writes again (the retry runs with the expiry cycle) nothing is missing.
    #[test]
    fn a_failed_write_is_never_acknowledged_and_is_retried() {
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let failing = Arc::new(AtomicBool::new(false));
        let hook: redkit_log::FaultHook = {
            let failing = failing.clone();
            Arc::new(move |_: &redkit_log::FaultPoint| {
                if failing.load(Ordering::Acquire) {
                    redkit_log::Fault::Fail(std::io::ErrorKind::StorageFull)
                } else {
                    redkit_log::Fault::Proceed
                }
            })
        };
        let config = Persistence::append_only(dir.path()).with_fsync(AppendFsync::Always);
        let (server, _) = Server::open_with_hook(ServerConfig::default(), &config, Some(hook))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut s = server.session();
        let cmd = |s: &mut crate::state::Session, text: &str| {
            let args: Vec<String> = text.split(' ').map(str::to_owned).collect();
            run(&server, s, &args)
        };
        assert_eq!(cmd(&mut s, "SET a 1"), redkit_resp::Value::simple("OK"));
        failing.store(true, Ordering::Release);
        let refused = cmd(&mut s, "SET b 2");
        assert!(
            matches!(&refused, redkit_resp::Value::Error(e) if e.starts_with(b"MISCONF Errors writing to the AOF file")),
            "{refused:?}"
        );
        let again = cmd(&mut s, "SET c 3");
        assert!(
            matches!(&again, redkit_resp::Value::Error(e) if e.starts_with(b"MISCONF")),
            "{again:?}"
        );
        assert_eq!(cmd(&mut s, "GET a"), redkit_resp::Value::bulk("1"));
        failing.store(false, Ordering::Release);
        server.expire_cycle();
        assert_eq!(cmd(&mut s, "SET c 3"), redkit_resp::Value::simple("OK"));
        server.disconnect(&mut s);
        drop(s);
        drop(server);
        let reopened = open(dir.path());
        let mut s = reopened.session();
        for (key, value) in [("a", "1"), ("b", "2"), ("c", "3")] {
            let got = run(&reopened, &mut s, &["GET".into(), key.into()]);
            assert_eq!(got, redkit_resp::Value::bulk(value), "{key}");
        }
    }

    /// Random commands (every type, expiry, several databases, SWAPDB, FLUSHDB, MOVE, scripts, transactions) with
    /// reopens in between: after each reopen the server holds exactly what it held before.
    #[test]
    fn every_change_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let seed = std::env::var("REDKIT_PERSIST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| fastrand::u64(..));
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut server = open(dir.path());
        let mut session = server.session();
        for step in 0..2_000 {
            let args = random_command(&mut rng);
            if args[0] == "MULTI-EXEC" {
                run(&server, &mut session, &["MULTI".into()]);
                run(&server, &mut session, &args[1..]);
                run(
                    &server,
                    &mut session,
                    &["SET".into(), "tx".into(), step.to_string()],
                );
                run(&server, &mut session, &["EXEC".into()]);
            } else {
                run(&server, &mut session, &args);
            }
            if step % 97 == 96 {
                let now = server.clock().now_ms() + 50;
                let before = server.contents(now);
                let db = session.db;
                server.disconnect(&mut session);
                drop(session);
                drop(server);
                server = open(dir.path());
                session = server.session();
                session.db = db;
                let after = server.contents(now);
                for (i, (b, a)) in before.iter().zip(&after).enumerate() {
                    assert_eq!(
                        b, a,
                        "database {i} differs after a reopen at step {step} (seed {seed})"
                    );
                }
            }
        }
    }
}
