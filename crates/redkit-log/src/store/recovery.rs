//! Recovery: rebuilding the index, the segment table and the append position from the directory on open, by the
//! recovery rules in the crate docs. `recover` runs these steps in order, each its own function:
//!
//! 1. `read_manifest`: which segments the last compaction left live.
//! 2. `list_files`: sort the directory into live segments, hint files and debris (rule 1, `is_live`);
//!    `remove_debris` deletes the debris.
//! 3. `replay_segments`: index every live segment, oldest first (rules 2 and 3) — from its hint file
//!    (`read_hints`) when that checks out, else by reading it whole and replaying its complete batches
//!    (`scan_segment`, `replay_records`).
//! 4. Damage a scan stopped at: `classify_damage` decides whether it is a torn tail (rule 4, `runs_to_end`), a
//!    repair or an error (rule 5) and records it in the [`RecoveryReport`] (declared in `options.rs`);
//!    `truncate` cuts the segment back to the start of the damaged batch.
//! 5. `build_index`: each key's newest record, tombstones left out.
//! 6. `open_writer`: where appends continue — the last append segment if it has room, else a new one.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::options::{Options, RecoveryReport};
use super::shared::{Loc, Segment, State, Writer, open_segment, sync_dir};
use crate::error::{Error, Result};
use crate::format::{self, FileKind, Hint, Manifest, Parsed, parse_file_name, parse_record};

/// What recovery rebuilt: the shared state, the append position, and what it had to do.
pub(super) struct Recovered {
    pub(super) state: State,
    pub(super) writer: Writer,
    pub(super) report: RecoveryReport,
}

/// Rebuild the index from the directory. See the crate docs for the rules, and the module docs for the steps.
pub(super) fn recover(dir: &Path, options: &Options) -> Result<Recovered> {
    let manifest = read_manifest(dir)?;
    let Listing {
        files,
        hints,
        garbage,
        next_id,
    } = list_files(dir, manifest.as_ref())?;
    remove_debris(garbage);

    let last_append = last_append_segment(&files);
    let mut report = RecoveryReport::default();
    let Replay {
        newest,
        max_seq,
        mut segments,
        total_bytes,
    } = replay_segments(dir, &files, &hints, last_append, options, &mut report)?;

    let index = build_index(newest);
    let live_bytes = index.values().map(|l: &Loc| u64::from(l.size)).sum();
    let writer = open_writer(dir, options, last_append, &mut segments, next_id, max_seq)?;
    Ok(Recovered {
        state: State {
            index,
            segments,
            live_bytes,
            total_bytes,
        },
        writer,
        report,
    })
}

/// Step 1: read and check `MANIFEST`; `None` when there is none (the store was never compacted). A manifest that
/// does not check out is [`Error::Corruption`].
fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let manifest_path = dir.join("MANIFEST");
    match fs::read_to_string(&manifest_path) {
        Ok(text) => Ok(Some(format::decode_manifest(&text).map_err(|reason| {
            Error::Corruption {
                segment: manifest_path.clone(),
                offset: 0,
                reason: reason.into(),
            }
        })?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&manifest_path, e)),
    }
}

/// The store directory, sorted out against the manifest.
struct Listing {
    /// Live segments, append and compacted, by id.
    files: BTreeMap<u64, FileKind>,
    /// Hint files, by the id of their segment.
    hints: BTreeMap<u64, PathBuf>,
    /// Debris to remove: temp files, segments that are not live, and the hint files of segments that are not live.
    garbage: Vec<PathBuf>,
    /// The first id free for a new segment: above every file's id, and at least the manifest's `next-id`.
    next_id: u64,
}

/// Step 2: list the directory and sort its files into live segments, hint files and debris. Files that are not
/// the store's (by name) are left alone.
fn list_files(dir: &Path, manifest: Option<&Manifest>) -> Result<Listing> {
    let mut files: BTreeMap<u64, FileKind> = BTreeMap::new();
    let mut hints: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut garbage: Vec<PathBuf> = Vec::new();
    let mut next_id = manifest.map_or(0, |m| m.next_id);
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            garbage.push(entry.path());
            continue;
        }
        let Some((id, kind)) = parse_file_name(&name) else {
            continue;
        };
        let after = id.checked_add(1).ok_or_else(|| Error::Corruption {
            segment: entry.path(),
            offset: 0,
            reason: "the file's id leaves no room for another segment".into(),
        })?;
        next_id = next_id.max(after);
        match kind {
            FileKind::Hint => {
                hints.insert(id, entry.path());
            }
            _ => {
                if is_live(manifest, id, kind) {
                    files.insert(id, kind);
                } else {
                    garbage.push(entry.path());
                }
            }
        }
    }
    for (id, path) in &hints {
        if !files.contains_key(id) {
            garbage.push(path.clone());
        }
    }
    Ok(Listing {
        files,
        hints,
        garbage,
        next_id,
    })
}

/// Recovery rule 1: a segment is live when the manifest names it, or when it is an append segment created after
/// the manifest (id ≥ its `next-id`). Without a manifest, every append segment is live and no compacted one is.
fn is_live(manifest: Option<&Manifest>, id: u64, kind: FileKind) -> bool {
    match manifest {
        Some(m) => m.live.contains(&id) || (kind == FileKind::Segment && id >= m.next_id),
        None => kind == FileKind::Segment,
    }
}

/// Step 2, continued: delete the debris of an interrupted compaction, logging each file. A file that cannot be
/// removed is left where it is.
fn remove_debris(garbage: Vec<PathBuf>) {
    for path in garbage {
        tracing::info!(file = %path.display(), "removing a file left by an interrupted compaction");
        let _ = fs::remove_file(path);
    }
}

/// The newest append segment: the only one whose damaged end counts as a torn write, and the one appends continue
/// in if it has room.
fn last_append_segment(files: &BTreeMap<u64, FileKind>) -> Option<u64> {
    files
        .iter()
        .rev()
        .find(|(_, k)| **k == FileKind::Segment)
        .map(|(id, _)| *id)
}

/// What replaying the live segments built.
#[derive(Default)]
struct Replay {
    /// Key → newest `(seq, location)`, the location `None` for a tombstone. A `BTreeMap`, so the index is built
    /// from it in one sorted pass.
    newest: BTreeMap<Vec<u8>, (u64, Option<Loc>)>,
    /// The highest sequence number seen, tombstones included.
    max_seq: u64,
    /// The segment table: every live segment, opened.
    segments: BTreeMap<u64, Arc<Segment>>,
    /// Bytes in those segments (after any truncation).
    total_bytes: u64,
}

impl Replay {
    /// Recovery rule 3: apply one record; the newest sequence number per key wins.
    fn apply(&mut self, key: Vec<u8>, seq: u64, loc: Option<Loc>) {
        self.max_seq = self.max_seq.max(seq);
        match self.newest.entry(key) {
            Entry::Occupied(mut e) => {
                if e.get().0 < seq {
                    e.insert((seq, loc));
                }
            }
            Entry::Vacant(e) => {
                e.insert((seq, loc));
            }
        }
    }

    /// Apply the entries of segment `id`'s hint file (all values: compacted segments hold no tombstones).
    fn apply_hints(&mut self, id: u64, entries: Vec<Hint>) {
        for h in entries {
            let loc = Loc {
                segment: id,
                offset: h.offset,
                size: h.size,
                seq: h.seq,
            };
            self.apply(h.key, h.seq, Some(loc));
        }
    }
}

/// Step 3: open every live segment, oldest first, and replay it — a compacted segment from its hint file when
/// that checks out (rule 2), any other segment by a scan, which also deals with damage.
fn replay_segments(
    dir: &Path,
    files: &BTreeMap<u64, FileKind>,
    hints: &BTreeMap<u64, PathBuf>,
    last_append: Option<u64>,
    options: &Options,
    report: &mut RecoveryReport,
) -> Result<Replay> {
    let mut replay = Replay::default();
    for (&id, &kind) in files {
        let segment = open_segment(dir, id, kind, false)?;
        let from_hint = (kind == FileKind::Compacted)
            .then(|| hints.get(&id))
            .flatten()
            .and_then(|p| read_hints(p));
        let kept = match from_hint {
            Some(entries) => {
                report.from_hints += 1;
                replay.apply_hints(id, entries);
                segment.len()?
            }
            None => scan_segment(&segment, last_append, options, &mut replay, report)?,
        };
        replay.total_bytes += kept;
        replay.segments.insert(id, Arc::new(segment));
    }
    Ok(replay)
}

/// The entries of a hint file, or `None` when it cannot be read or does not check out (the segment is scanned
/// instead).
fn read_hints(path: &Path) -> Option<Vec<Hint>> {
    fs::read(path).ok().and_then(|b| format::decode_hints(&b))
}

/// Step 3, for a segment without a usable hint: read it whole and replay its complete batches; if the scan stopped
/// at damage, classify and report it (step 4) and truncate the segment to the end of its last complete batch. The
/// bytes of the segment that remain.
fn scan_segment(
    segment: &Segment,
    last_append: Option<u64>,
    options: &Options,
    replay: &mut Replay,
    report: &mut RecoveryReport,
) -> Result<u64> {
    let mut bytes = Vec::new();
    (&segment.file)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(&segment.path, e))?;
    let scan = replay_records(segment.id, &bytes, replay);
    let Some(damage) = scan.damage else {
        return Ok(bytes.len() as u64);
    };
    let is_last_append = Some(segment.id) == last_append;
    classify_damage(
        segment,
        &bytes,
        scan.batch_start,
        damage,
        is_last_append,
        options,
        report,
    )?;
    truncate(segment, scan.batch_start)?;
    Ok(scan.batch_start as u64)
}

/// Where a scan of a segment stopped.
struct Scan {
    /// The end of the last complete batch: every record before it was applied, none after it.
    batch_start: usize,
    /// The first bad offset and what is wrong there; `None` when the segment ends cleanly after a whole batch.
    damage: Option<(usize, &'static str)>,
}

/// Parse the records of segment `id` from the start, applying each write batch once its last record has been read
/// (rule 3: a batch is all or nothing), up to the first record that does not parse.
fn replay_records(id: u64, bytes: &[u8], replay: &mut Replay) -> Scan {
    let mut at = 0usize;
    let mut batch_start = 0usize;
    let mut staged: Vec<(Vec<u8>, u64, Option<Loc>)> = Vec::new();
    let mut damage: Option<(usize, &'static str)> = None;
    while at < bytes.len() {
        match parse_record(&bytes[at..]) {
            Parsed::Record(r, size) => {
                let loc = (!r.is_tombstone()).then_some(Loc {
                    segment: id,
                    offset: at as u64,
                    size: size as u32,
                    seq: r.seq,
                });
                staged.push((r.key.to_vec(), r.seq, loc));
                at += size;
                if !r.continues_batch() {
                    for (k, seq, loc) in staged.drain(..) {
                        replay.apply(k, seq, loc);
                    }
                    batch_start = at;
                }
            }
            Parsed::Truncated => {
                damage = Some((at, "the file ends inside a record"));
                break;
            }
            Parsed::Invalid(reason) => {
                damage = Some((at, reason));
                break;
            }
        }
    }
    if damage.is_none() && !staged.is_empty() {
        damage = Some((at, "the file ends inside a write batch"));
    }
    Scan { batch_start, damage }
}

/// Step 4: decide what the damage at `bad_at` is and record it. Damage that runs to the end of the last append
/// segment is a torn tail (rule 4): a warning, and an entry in [`RecoveryReport::truncated`]. Other damage is,
/// with [`Options::repair`], a warning and an entry in [`RecoveryReport::repaired`] (rule 5), else
/// [`Error::Corruption`] with the file and offset. Unless it is an error, the caller then drops everything from
/// `batch_start` (the start of the damaged batch) to the end of the segment.
fn classify_damage(
    segment: &Segment,
    bytes: &[u8],
    batch_start: usize,
    (bad_at, reason): (usize, &'static str),
    is_last_append: bool,
    options: &Options,
    report: &mut RecoveryReport,
) -> Result<()> {
    let rest_is_tail = runs_to_end(bytes, bad_at);
    let torn = is_last_append && rest_is_tail;
    if torn {
        tracing::warn!(file = %segment.path.display(), offset = batch_start, reason, "truncating a torn tail");
        report.truncated.push((
            segment.path.clone(),
            batch_start as u64,
            (bytes.len() - batch_start) as u64,
        ));
    } else if options.repair {
        tracing::warn!(file = %segment.path.display(), offset = bad_at, reason, "repair: dropping a damaged segment tail");
        report.repaired.push((
            segment.path.clone(),
            batch_start as u64,
            (bytes.len() - batch_start) as u64,
        ));
    } else {
        return Err(Error::Corruption {
            segment: segment.path.clone(),
            offset: bad_at as u64,
            reason: reason.into(),
        });
    }
    Ok(())
}

/// `true` when the damage at `bad_at` runs to the end of the file, as a torn write's does: an incomplete record,
/// or a bad one with nothing valid after it, or zeros.
fn runs_to_end(bytes: &[u8], bad_at: usize) -> bool {
    match parse_record(&bytes[bad_at..]) {
        Parsed::Truncated => true,
        Parsed::Record(_, size) => bad_at + size >= bytes.len(),
        Parsed::Invalid(_) => {
            bytes[bad_at..].iter().all(|b| *b == 0) || tail_has_no_valid_record(bytes, bad_at)
        }
    }
}

/// `true` when no valid record starts anywhere after `from` (a bad record followed only by garbage).
fn tail_has_no_valid_record(bytes: &[u8], from: usize) -> bool {
    (from + 1..bytes.len()).all(|at| !matches!(parse_record(&bytes[at..]), Parsed::Record(..)))
}

/// Step 4, continued: cut `segment` back to `len` bytes, durably.
fn truncate(segment: &Segment, len: usize) -> Result<()> {
    segment
        .file
        .set_len(len as u64)
        .map_err(|e| Error::io(&segment.path, e))?;
    segment.file.sync_all().map_err(|e| Error::io(&segment.path, e))
}

/// Step 5: the index — each key's newest record, keys whose newest record is a tombstone left out.
fn build_index(newest: BTreeMap<Vec<u8>, (u64, Option<Loc>)>) -> BTreeMap<Vec<u8>, Loc> {
    newest
        .into_iter()
        .filter_map(|(k, (_, loc))| Some((k, loc?)))
        .collect()
}

/// Step 6: the append position. Appends continue in the last append segment if it is below the segment size;
/// otherwise (or with no append segment) a new one is created with id `next_id` and added to `segments`.
fn open_writer(
    dir: &Path,
    options: &Options,
    last_append: Option<u64>,
    segments: &mut BTreeMap<u64, Arc<Segment>>,
    next_id: u64,
    max_seq: u64,
) -> Result<Writer> {
    let reuse = last_append
        .and_then(|id| segments.get(&id).cloned())
        .filter(|s| s.len().is_ok_and(|l| l < options.segment_size));
    let (active, offset, next_id) = match reuse {
        Some(seg) => {
            let len = seg.len()?;
            (seg, len, next_id)
        }
        None => {
            let seg = Arc::new(open_segment(dir, next_id, FileKind::Segment, true)?);
            sync_dir(dir)?;
            segments.insert(next_id, seg.clone());
            (seg, 0, next_id.saturating_add(1))
        }
    };
    Ok(Writer {
        active,
        offset,
        next_seq: max_seq + 1,
        next_id,
        written: 0,
    })
}
