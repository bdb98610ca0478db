//! The public plain-data types of a [`Store`](super::Store): how it behaves ([`Options`], [`Durability`], fault
//! injection with [`FaultHook`], [`FaultPoint`] and [`Fault`]) and what it reports ([`Stats`],
//! [`RecoveryReport`]). No behaviour, and no imports from the rest of the store: every other file of it reads
//! these.
//!
//! [`RecoveryReport`] is here rather than in `recovery.rs` because every open store keeps one in its shared state
//! (`shared.rs`), which recovery itself builds on.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// Never fsync (except on [`Store::flush`](super::Store::flush) and compaction): a process crash loses
    /// nothing, a machine crash may lose anything not yet written back by the OS.
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
    /// segment, and report it in [`Store::recovery`](super::Store::recovery) — instead of refusing to open with
    /// [`Error::Corruption`](crate::Error::Corruption).
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

/// Sizes and counts, from [`Store::stats`](super::Store::stats).
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

/// What recovery had to do on open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Torn tails cut off the active segment: `(file, offset, bytes removed)`.
    pub truncated: Vec<(PathBuf, u64, u64)>,
    /// With [`Options::repair`]: damage found and dropped, `(file, offset, bytes dropped)`.
    pub repaired: Vec<(PathBuf, u64, u64)>,
    /// Segments whose index came from a hint file rather than a scan.
    pub from_hints: u64,
}
