//! Appending: [`Store::put`], [`Store::delete`], [`WriteBatch`]es, rolling to a new segment, and group commit —
//! the durability wait of [`Durability::Always`], where concurrent writers share one fsync. The state they work
//! on (`Writer`, the append position, and `SyncState`, the group-commit progress) is declared in `shared.rs`.

use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use super::options::{Durability, Fault, FaultPoint};
use super::shared::{Loc, Segment, Store, Writer, lock, open_segment, read, sync_dir, write};
use crate::error::{Error, Result};
use crate::format::{self, BATCH_CONTINUES, FileKind, TOMBSTONE, encode_record};

/// Several writes applied atomically: after a crash either all of them are visible or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }
    /// Add a put.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> &mut WriteBatch {
        self.ops.push((key.into(), Some(value.into())));
        self
    }
    /// Add a delete.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) -> &mut WriteBatch {
        self.ops.push((key.into(), None));
        self
    }
    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl Store {
    /// Store `value` under `key`; its sequence number.
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<u64> {
        let mut batch = WriteBatch::new();
        batch.put(key, value);
        self.write_batch(batch)
    }

    /// Delete `key`; whether it had a value. A tombstone is written only when it had one (decided under the
    /// writer lock, so two concurrent deletes of one key report `true` once).
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        let mut batch = WriteBatch::new();
        batch.delete(key);
        Ok(self.write(batch, true)?.is_some())
    }

    /// Apply every operation of `batch` atomically; the sequence number of its last record.
    pub fn write_batch(&self, batch: WriteBatch) -> Result<u64> {
        Ok(self.write(batch, false)?.unwrap_or(0))
    }

    /// Write a batch; with `only_existing`, a single delete of a missing key writes nothing and returns `None`.
    fn write(&self, batch: WriteBatch, only_existing: bool) -> Result<Option<u64>> {
        if batch.is_empty() {
            return Ok(Some(lock(&self.inner.writer).next_seq.saturating_sub(1)));
        }
        for (key, value) in &batch.ops {
            // The record format stores lengths in 32 bits, whatever the configured limits say.
            let max_key = self.inner.options.max_key_len.min(u32::MAX as usize / 2);
            if key.len() > max_key {
                return Err(Error::TooLarge {
                    what: "key",
                    len: key.len(),
                    max: max_key,
                });
            }
            let value_len = value.as_ref().map_or(0, Vec::len);
            let max_value = self.inner.options.max_value_len.min(u32::MAX as usize / 2);
            if value_len > max_value {
                return Err(Error::TooLarge {
                    what: "value",
                    len: value_len,
                    max: max_value,
                });
            }
        }
        if self.inner.broken.load(Ordering::Acquire) {
            return Err(Error::Broken);
        }
        let Some((last_seq, ticket)) = self.append(&batch, only_existing)? else {
            return Ok(None);
        };
        match self.inner.options.durability {
            Durability::Always => self.sync_to(ticket)?,
            Durability::EverySec | Durability::Never => {}
        }
        self.maybe_compact();
        Ok(Some(last_seq))
    }

    /// Append a batch's records under the writer lock and index them.
    fn append(&self, batch: &WriteBatch, only_existing: bool) -> Result<Option<(u64, u64)>> {
        let inner = &self.inner;
        let mut w = lock(&inner.writer);
        if only_existing
            && batch
                .ops
                .iter()
                .any(|(k, _)| !read(&inner.state).index.contains_key(k))
        {
            return Ok(None);
        }
        let first_seq = w.next_seq;
        let mut buf = Vec::with_capacity(
            batch
                .ops
                .iter()
                .map(|(k, v)| format::record_size(k, v.as_deref().unwrap_or(&[])))
                .sum(),
        );
        let mut sizes = Vec::with_capacity(batch.ops.len());
        for (i, (key, value)) in batch.ops.iter().enumerate() {
            let mut flags = if value.is_none() { TOMBSTONE } else { 0 };
            if i + 1 < batch.ops.len() {
                flags |= BATCH_CONTINUES;
            }
            let before = buf.len();
            encode_record(
                &mut buf,
                first_seq + i as u64,
                flags,
                key,
                value.as_deref().unwrap_or(&[]),
            );
            sizes.push(buf.len() - before);
        }
        if w.offset > 0 && w.offset + buf.len() as u64 > inner.options.segment_size {
            self.roll(&mut w)?;
        }
        let offset = w.offset;
        let segment = w.active.clone();
        self.write_at(&segment, offset, &buf)?;
        w.offset += buf.len() as u64;
        w.next_seq += batch.ops.len() as u64;
        w.written += 1;
        let ticket = w.written;
        // Index while still holding the writer lock, so index order is log order.
        let mut state = write(&inner.state);
        state.total_bytes += buf.len() as u64;
        let mut at = offset;
        for (i, ((key, value), size)) in batch.ops.iter().zip(&sizes).enumerate() {
            let loc = Loc {
                segment: segment.id,
                offset: at,
                size: *size as u32,
                seq: first_seq + i as u64,
            };
            at += *size as u64;
            let old = match value {
                Some(_) => {
                    state.live_bytes += *size as u64;
                    state.index.insert(key.clone(), loc)
                }
                None => state.index.remove(key),
            };
            if let Some(old) = old {
                state.live_bytes = state.live_bytes.saturating_sub(u64::from(old.size));
            }
        }
        Ok(Some((first_seq + batch.ops.len() as u64 - 1, ticket)))
    }

    /// Write `buf` at `offset`; on failure put the segment back as it was (or refuse further writes).
    fn write_at(&self, segment: &Segment, offset: u64, buf: &[u8]) -> Result<()> {
        let fault = match &self.inner.options.fault_hook {
            Some(hook) => hook(&FaultPoint::Append {
                segment: segment.id,
                offset,
                len: buf.len(),
            }),
            None => Fault::Proceed,
        };
        let result = match fault {
            Fault::Proceed => segment.file.write_all_at(buf, offset),
            Fault::Fail(kind) => Err(io::Error::new(kind, "injected write failure")),
            Fault::Torn(n) => segment
                .file
                .write_all_at(&buf[..n.min(buf.len())], offset)
                .and(Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    "injected torn write",
                ))),
        };
        if let Err(e) = result {
            // Cut off whatever part of the write landed, so the log stays a sequence of whole records.
            if segment.file.set_len(offset).is_err() {
                self.inner.broken.store(true, Ordering::Release);
            }
            return Err(Error::io(&segment.path, e));
        }
        Ok(())
    }

    /// fsync `segment`, through the fault hook.
    fn sync_segment(&self, segment: &Segment) -> Result<()> {
        if let Some(hook) = &self.inner.options.fault_hook {
            match hook(&FaultPoint::Sync { segment: segment.id }) {
                Fault::Proceed => {}
                Fault::Fail(kind) => {
                    return Err(Error::io(
                        &segment.path,
                        io::Error::new(kind, "injected fsync failure"),
                    ));
                }
                Fault::Torn(_) => {
                    return Err(Error::io(
                        &segment.path,
                        io::Error::other("injected fsync failure"),
                    ));
                }
            }
        }
        segment.file.sync_data().map_err(|e| Error::io(&segment.path, e))
    }

    /// Start a new append segment (the old one is fsynced first, unless durability is `Never`).
    pub(super) fn roll(&self, w: &mut Writer) -> Result<()> {
        if self.inner.options.durability != Durability::Never {
            self.sync_segment(&w.active)?;
        }
        let id = w.segment_id(&self.inner.dir)?;
        let segment = Arc::new(open_segment(&self.inner.dir, id, FileKind::Segment, true)?);
        sync_dir(&self.inner.dir)?;
        w.next_id = id + 1;
        w.active = segment.clone();
        w.offset = 0;
        write(&self.inner.state).segments.insert(id, segment);
        Ok(())
    }

    /// Group commit: make every write up to `ticket` durable, sharing one fsync among concurrent writers.
    fn sync_to(&self, ticket: u64) -> Result<()> {
        let inner = &self.inner;
        let mut s = lock(&inner.sync);
        loop {
            if s.synced >= ticket {
                return Ok(());
            }
            if !s.syncing {
                s.syncing = true;
                drop(s);
                let (target, active) = {
                    let w = lock(&inner.writer);
                    (w.written, w.active.clone())
                };
                let result = self.sync_segment(&active);
                s = lock(&inner.sync);
                s.syncing = false;
                if result.is_ok() {
                    s.synced = s.synced.max(target);
                }
                inner.synced_cv.notify_all();
                result?;
            } else {
                s = inner.synced_cv.wait(s).unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    /// fsync the active segment now, whatever the durability mode.
    pub fn flush(&self) -> Result<()> {
        let (target, active) = {
            let w = lock(&self.inner.writer);
            (w.written, w.active.clone())
        };
        self.sync_segment(&active)?;
        let mut s = lock(&self.inner.sync);
        s.synced = s.synced.max(target);
        Ok(())
    }
}
