//! A crash-safe log-structured key-value store: the database design of redkit, where the store *is* a log.
//!
//! Every write appends a record to the active segment file; a delete appends a tombstone; an in-memory index maps
//! each key to the newest record's place, so a read is one positioned read; compaction rewrites the immutable
//! segments keeping only live records. Its specification is [`redkit_model::Log`](https://docs.rs/redkit-model),
//! and the test suite checks the store against it with the model-based harness, across reopens and compactions.
//!
//! # Where things are
//! - `lib.rs`: these docs (the file format, the recovery rules, the durability modes) and the public re-exports.
//! - `error.rs`: [`Error`] and [`Result`].
//! - `format.rs`: the bytes on disk — records, hint files, the manifest, file names — as pure functions, no I/O.
//! - `store/mod.rs`: [`Store`] — opening, [`get`](Store::get), [`stats`](Store::stats); the re-exports, and
//!   the lock order.
//! - `store/options.rs`: [`Options`], [`Durability`] and fault injection ([`FaultHook`]); [`Stats`] and
//!   [`RecoveryReport`].
//! - `store/shared.rs`: the state every part shares — the `Store` struct, its inner state, the append position,
//!   segments — and the lock and segment helpers.
//! - `store/writer.rs`: appending — [`put`](Store::put), [`delete`](Store::delete), [`WriteBatch`], rolling to a
//!   new segment, group commit (the durability wait of `Always`), [`flush`](Store::flush).
//! - `store/flusher.rs`: the background fsync thread of `EverySec`, and the final sync when the last clone of a
//!   store is dropped.
//! - `store/recovery.rs`: rebuilding the index on open, one function per step (read the manifest, list the
//!   directory, replay the segments, classify damage, truncate, open the active segment).
//! - `store/compaction.rs`: [`Store::compact`] and its automatic trigger, hint and manifest writing;
//!   [`CompactionStats`].
//! - `store/iter.rs`: ordered reads — [`Iter`], [`Store::iter`], [`Store::scan_prefix`],
//!   [`Store::keys_with_prefix`].
//!
//! # Example
//! ```
//! use redkit_log::{Options, Store, WriteBatch};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(dir.path(), Options::default()).unwrap();
//! store.put(b"user:1", b"ada").unwrap();
//! let mut batch = WriteBatch::new();
//! batch.put("user:2", "grace").delete("user:1");
//! store.write_batch(batch).unwrap();            // all or nothing, even across a crash
//! assert_eq!(store.get(b"user:1").unwrap(), None);
//! assert_eq!(store.get(b"user:2").unwrap(), Some(b"grace".to_vec()));
//! drop(store);
//! let reopened = Store::open(dir.path(), Options::default()).unwrap();
//! assert_eq!(reopened.scan_prefix(b"user:").count(), 1);
//! ```
//!
//! # Files
//! A store directory holds `LOCK` (held with an OS file lock while open: one writer per directory), append
//! segments `<id>.seg`, compacted segments `<id>.cseg` with their hint files `<id>.hint`, and `MANIFEST`. Ids are
//! 16 hex digits. The byte layout of records, hints and the manifest is described in `format.rs`; a record is:
//!
//! ```text
//!  ┌────────┬────────┬──────────┬───────┬────────┬─────┬───────┐
//!  │ crc32c │  len   │   seq    │ flags │  klen  │ key │ value │      crc32c covers len … value
//!  │ 4 B LE │ 4 B LE │  8 B LE  │  1 B  │ 4 B LE │     │       │      flags: 1 = tombstone,
//!  └────────┴────────┴──────────┴───────┴────────┴─────┴───────┘             2 = batch continues
//! ```
//!
//! # Recovery rules (on open)
//! 1. The manifest names the live compacted segments and every append segment that existed when it was written;
//!    append segments created after it (id ≥ its `next-id`) are live too. Anything else is debris of an
//!    interrupted compaction and is removed.
//! 2. A compacted segment with a valid hint file is indexed from the hint; any other segment is scanned.
//! 3. Records apply by sequence number (newest wins; a tombstone removes), and a write batch applies only if its
//!    last record is present and valid: a batch is all or nothing.
//! 4. Damage that runs to the end of the *last append segment* — a record cut short, or a bad record with nothing
//!    valid after it — is a torn write: it is truncated away (back to the start of its batch) with a warning
//!    naming the file and offset, and listed in [`Store::recovery`].
//! 5. Damage anywhere else is [`Error::Corruption`] with the file and offset, unless [`Options::repair`] is set:
//!    then every valid record before the damage is kept, the rest of that segment is dropped, and what was dropped
//!    is listed in [`RecoveryReport::repaired`]. Nothing is lost or changed silently.
//!
//! # Durability modes
//! | mode | a write returns `Ok` after | lost on a process crash | lost on a machine crash |
//! | --- | --- | --- | --- |
//! | [`Durability::Always`] | its fsync (shared by concurrent writers: group commit) | nothing | nothing |
//! | [`Durability::EverySec`] | the write to the OS | nothing | up to ~1 s of writes |
//! | [`Durability::Never`] | the write to the OS | nothing | whatever the OS had not written back |
//!
//! Readers see a write as soon as it is in the log, before its fsync (like Redis).
//!
//! # Compaction
//! [`Store::compact`] (or the automatic trigger, by dead-bytes ratio) rolls the active segment, copies the live
//! records of every older segment into new compacted segments with hint files, fsyncs them, writes a new manifest
//! atomically (temp file, fsync, rename, directory fsync), swaps the index entries that did not change meanwhile,
//! and deletes the inputs. Reads and writes continue throughout.

mod error;
mod format;
mod store;

pub use error::{Error, Result};
pub use store::{
    CompactionStats, Durability, Fault, FaultHook, FaultPoint, Iter, Options, RecoveryReport, Stats, Store,
    WriteBatch,
};
