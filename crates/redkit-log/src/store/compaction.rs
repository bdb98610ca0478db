//! Compaction: [`Store::compact`] copies the live records of every immutable segment into new compacted segments
//! with hint files and swaps them in under a new manifest; `maybe_compact`, called after every write, runs it in a
//! background thread once dead bytes reach [`Options::compact_dead_ratio`] of a store holding at least
//! [`Options::compact_min_bytes`].
//!
//! [`Options::compact_dead_ratio`]: super::Options::compact_dead_ratio
//! [`Options::compact_min_bytes`]: super::Options::compact_min_bytes

use std::collections::HashMap;
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::shared::{Loc, Segment, Store, lock, open_segment, read, read_value, sync_dir, write};
use crate::error::{Error, Result};
use crate::format::{self, FileKind, Hint, Manifest, encode_record, file_name};

/// What [`Store::compact`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CompactionStats {
    /// Segments merged.
    pub inputs: u64,
    /// Segments written.
    pub outputs: u64,
    /// Bytes read from the inputs.
    pub bytes_in: u64,
    /// Bytes written to the outputs.
    pub bytes_out: u64,
}

impl Store {
    /// Compact in a background thread if dead bytes pass the configured ratio and size (one at a time).
    pub(super) fn maybe_compact(&self) {
        let opts = &self.inner.options;
        let stats = self.stats();
        let total = stats.live_bytes + stats.dead_bytes;
        if total < opts.compact_min_bytes
            || (stats.dead_bytes as f64) < opts.compact_dead_ratio * total as f64
        {
            return;
        }
        if self.inner.auto_compacting.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        let spawned = std::thread::Builder::new()
            .name("redkit-log-compaction".into())
            .spawn(move || {
                if let Err(e) = store.compact() {
                    tracing::warn!(error = %e, "automatic compaction failed");
                }
                store.inner.auto_compacting.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.inner.auto_compacting.store(false, Ordering::Release);
        }
    }

    /// Merge every immutable segment into new ones holding only live records, with hint files, and swap them in
    /// atomically. Reads and writes continue meanwhile.
    pub fn compact(&self) -> Result<CompactionStats> {
        let inner = &self.inner;
        let _one_at_a_time = lock(&inner.compacting);
        // 1. Make everything written so far immutable.
        let first_new = {
            let mut w = lock(&inner.writer);
            if w.offset > 0 {
                self.roll(&mut w)?;
            }
            w.active.id
        };
        // 2. What to copy: the live records in segments older than the new active one.
        let (inputs, entries) = {
            let state = read(&inner.state);
            let inputs: Vec<Arc<Segment>> = state
                .segments
                .range(..first_new)
                .map(|(_, s)| s.clone())
                .collect();
            let entries: Vec<(Vec<u8>, Loc)> = state
                .index
                .iter()
                .filter(|(_, l)| l.segment < first_new)
                .map(|(k, l)| (k.clone(), *l))
                .collect();
            (inputs, entries)
        };
        if inputs.is_empty() {
            return Ok(CompactionStats::default());
        }
        let input_ids: Vec<u64> = inputs.iter().map(|s| s.id).collect();
        let by_id: HashMap<u64, Arc<Segment>> = inputs.iter().map(|s| (s.id, s.clone())).collect();
        let mut stats = CompactionStats {
            inputs: inputs.len() as u64,
            ..CompactionStats::default()
        };
        for s in &inputs {
            stats.bytes_in += s.len()?;
        }
        // 3. Copy them into compacted segments, rolling at the segment size.
        let mut outputs: Vec<(Arc<Segment>, Vec<Hint>)> = Vec::new();
        let mut moved: Vec<(Vec<u8>, Loc, Loc)> = Vec::with_capacity(entries.len());
        let mut buf = Vec::new();
        let mut out: Option<(Arc<Segment>, u64, Vec<Hint>)> = None;
        for (key, loc) in entries {
            let Some(src) = by_id.get(&loc.segment) else {
                continue;
            };
            let value = read_value(src, loc, &key)?;
            buf.clear();
            encode_record(&mut buf, loc.seq, 0, &key, &value);
            if out
                .as_ref()
                .is_some_and(|(_, off, _)| *off > 0 && off + buf.len() as u64 > inner.options.segment_size)
                && let Some((seg, _, hints)) = out.take()
            {
                outputs.push((seg, hints));
            }
            if out.is_none() {
                let id = {
                    let mut w = lock(&inner.writer);
                    let id = w.segment_id(&inner.dir)?;
                    w.next_id = id + 1;
                    id
                };
                out = Some((
                    Arc::new(open_segment(&inner.dir, id, FileKind::Compacted, true)?),
                    0,
                    Vec::new(),
                ));
            }
            if let Some((seg, off, hints)) = out.as_mut() {
                seg.file
                    .write_all_at(&buf, *off)
                    .map_err(|e| Error::io(&seg.path, e))?;
                let new = Loc {
                    segment: seg.id,
                    offset: *off,
                    size: buf.len() as u32,
                    seq: loc.seq,
                };
                hints.push(Hint {
                    key: key.clone(),
                    offset: *off,
                    size: new.size,
                    seq: loc.seq,
                });
                moved.push((key, loc, new));
                *off += buf.len() as u64;
                stats.bytes_out += buf.len() as u64;
            }
        }
        if let Some((seg, _, hints)) = out.take() {
            outputs.push((seg, hints));
        }
        for (seg, hints) in &outputs {
            seg.file.sync_all().map_err(|e| Error::io(&seg.path, e))?;
            let hint_path = inner.dir.join(file_name(seg.id, FileKind::Hint));
            write_synced(&hint_path, &format::encode_hints(hints))?;
        }
        sync_dir(&inner.dir)?;
        stats.outputs = outputs.len() as u64;
        // 4. Swap: a new manifest, then the index and the segment table, under both locks.
        {
            let w = lock(&inner.writer);
            let mut state = write(&inner.state);
            let mut live: Vec<u64> = state
                .segments
                .keys()
                .copied()
                .filter(|id| !input_ids.contains(id))
                .collect();
            live.extend(outputs.iter().map(|(s, _)| s.id));
            live.sort_unstable();
            write_manifest(
                &inner.dir,
                &Manifest {
                    next_id: w.next_id,
                    live,
                },
            )?;
            for id in &input_ids {
                state.segments.remove(id);
            }
            for (seg, _) in &outputs {
                state.segments.insert(seg.id, seg.clone());
            }
            for (key, old, new) in moved {
                if let Some(current) = state.index.get_mut(&key)
                    && *current == old
                {
                    *current = new;
                }
            }
            let mut total = 0;
            for seg in state.segments.values() {
                total += if seg.id == w.active.id {
                    w.offset
                } else {
                    seg.len()?
                };
            }
            state.total_bytes = total;
            state.live_bytes = state.index.values().map(|l| u64::from(l.size)).sum();
        }
        // 5. The inputs are garbage now (open readers keep their file handles).
        for seg in &inputs {
            let _ = fs::remove_file(&seg.path);
            let _ = fs::remove_file(inner.dir.join(file_name(seg.id, FileKind::Hint)));
        }
        inner.compactions.fetch_add(1, Ordering::Relaxed);
        Ok(stats)
    }
}

/// Write `bytes` to a new file at `path` and fsync it.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    std::io::Write::write_all(&mut f, bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Replace the manifest atomically: temp file, fsync, rename, directory fsync.
fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let tmp = dir.join("MANIFEST.tmp");
    write_synced(&tmp, format::encode_manifest(manifest).as_bytes())?;
    let path = dir.join("MANIFEST");
    fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)
}
