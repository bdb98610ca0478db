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
//! as one [`WriteBatch`](redkit_log::WriteBatch), which the store applies all or nothing even across a crash.
//! `appendfsync` maps onto the store's durability: `always` fsyncs before the replies go out (group commit),
//! `everysec` once a second, `no` leaves it to the OS. The store compacts itself as superseded records pile up
//! (`auto-aof-rewrite`'s job), and BGREWRITEAOF compacts on demand.
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
//! cannot write its AOF) and replaces the replies of the failed batch with that error (a [`WriteError`]), so
//! nothing that was acknowledged is lost; the changes stay pending and are written again every 100 ms until the
//! store takes them.
//!
//! # Where things are
//! - `format.rs`: the stored form of a key and its entry.
//! - `load.rs`: loading the store into the keyspace, and the [`LoadReport`].
//! - `writer.rs`: the batch of changes of the append-only write path; `syncer.rs`: group commit for
//!   `appendfsync always`.
//! - `snapshot.rs`: SAVE and BGSAVE's snapshot of the dataset, the background threads (BGSAVE, BGREWRITEAOF).
//! - `error.rs`: [`PersistError`] (opening and loading) and [`WriteError`] (writing, while the server runs).
//! - here: the configuration ([`Persistence`], [`AppendFsync`]) and the server's side of it all, which ties the
//!   rest together.

mod error;
mod format;
mod load;
mod snapshot;
mod syncer;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use redkit_log::{Durability, Options, Store};

use crate::state::db::Db;

use snapshot::Background;

pub use error::{PersistError, WriteError};
pub use load::LoadReport;
pub(crate) use syncer::Syncer;

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
    /// Set while the store refuses writes: what the store said, and writes are denied with MISCONF.
    pub(crate) write_error: Option<Arc<redkit_log::Error>>,
    load: LoadReport,
}

impl Drop for Persister {
    fn drop(&mut self) {
        if let Some(syncer) = &self.syncer {
            syncer.stop();
        }
    }
}

/// Database writes so far, over all databases.
fn total_writes(dbs: &[Db]) -> u64 {
    dbs.iter().map(|d| d.writes).sum()
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
        let options = Options {
            durability: config.appendfsync.durability(),
            repair: config.repair,
            fault_hook,
            ..Options::default()
        };
        let store = Store::open(&config.dir, options).map_err(|source| PersistError::Store {
            dir: config.dir.clone(),
            source,
        })?;
        let load = load::load(&store, &config.dir, config.repair, dbs, now)?;
        let writes = total_writes(dbs);
        if config.appendonly {
            for db in dbs.iter_mut() {
                db.dirty = Some(Default::default());
            }
        }
        let bg = Background::new(now);
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

    /// `appendonly yes`.
    pub(crate) fn appendonly(&self) -> bool {
        self.appendonly
    }

    /// The fsync policy.
    pub(crate) fn appendfsync(&self) -> AppendFsync {
        self.appendfsync
    }

    /// Write what changed since the last call (append-only mode). On failure the changes stay pending, and when
    /// the store refused them further writes are refused with MISCONF until a retry succeeds.
    pub(crate) fn write_changes(&mut self, dbs: &mut [Db]) -> Result<(), WriteError> {
        if !self.appendonly {
            return Ok(());
        }
        let batch = writer::pending(&self.store, dbs)?;
        if batch.is_empty() {
            self.clear_error();
            return Ok(());
        }
        match self.store.write_batch(batch) {
            Ok(_) => {
                if let Some(syncer) = &self.syncer {
                    self.ticket = Some(syncer.written());
                }
                writer::written(dbs);
                self.clear_error();
                Ok(())
            }
            Err(e) => {
                let e = Arc::new(e);
                tracing::error!(error = %e, "writing the append-only store failed; refusing writes");
                self.write_error = Some(e.clone());
                Err(WriteError::Append(e))
            }
        }
    }

    fn clear_error(&mut self) {
        if self.write_error.take().is_some() {
            tracing::warn!("the append-only store takes writes again");
        }
    }

    /// Changes since the last save (`rdb_changes_since_last_save`).
    pub(crate) fn changes_since_save(&self, dbs: &[Db]) -> u64 {
        total_writes(dbs).saturating_sub(self.writes_at_save)
    }

    /// SAVE: write the dataset (snapshot mode) or make sure everything appended is on disk (append-only mode), now.
    pub(crate) fn save(&mut self, dbs: &mut [Db], now: i64) -> Result<(), WriteError> {
        self.bg.check_not_saving()?;
        let result = if self.appendonly {
            self.write_changes(dbs).and_then(|()| self.fsync())
        } else {
            let batch = snapshot::snapshot(&self.store, dbs)?;
            snapshot::write_snapshot(&self.store, batch)
        };
        if result.is_ok() {
            self.writes_at_save = total_writes(dbs);
        }
        self.bg.save_outcome(result, now)
    }

    /// Make sure everything written so far is on disk, writing nothing new (a shutdown that must not save).
    pub(crate) fn sync(&mut self) -> Result<(), WriteError> {
        self.fsync()
    }

    fn fsync(&self) -> Result<(), WriteError> {
        self.store.flush().map_err(|e| WriteError::Fsync(Arc::new(e)))
    }

    /// BGSAVE: the same on a thread (the snapshot is taken now, under the server lock).
    pub(crate) fn bgsave(&mut self, dbs: &mut [Db]) -> Result<(), WriteError> {
        self.bg.check_not_saving()?;
        let batch = if self.appendonly {
            self.write_changes(dbs)?;
            None
        } else {
            Some(snapshot::snapshot(&self.store, dbs)?)
        };
        let writes = total_writes(dbs);
        snapshot::start_bgsave(self.store.clone(), self.bg.clone(), batch)?;
        // Counted as saved from here on, as Redis resets the counter when the fork starts.
        self.writes_at_save = writes;
        Ok(())
    }

    /// BGREWRITEAOF: compact the store on a thread.
    pub(crate) fn bgrewrite(&mut self) -> Result<(), WriteError> {
        snapshot::start_rewrite(self.store.clone(), self.bg.clone())
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
