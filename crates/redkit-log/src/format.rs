//! The bytes on disk: records, hint files, the manifest, and file names. Pure functions, no I/O.
//!
//! # Record
//! ```text
//!  0        4        8                16    17       21            21+klen        8+len
//!  ┌────────┬────────┬────────────────┬─────┬────────┬──────────────┬──────────────┐
//!  │ crc32c │  len   │      seq       │flags│  klen  │     key      │    value     │
//!  │ u32 LE │ u32 LE │     u64 LE     │ u8  │ u32 LE │  klen bytes  │ (rest)       │
//!  └────────┴────────┴────────────────┴─────┴────────┴──────────────┴──────────────┘
//!           └──────────────── crc32c covers these bytes: len … end of value ──────┘
//! ```
//! `len` counts the bytes after itself (13 + key + value). `flags` bit 0 marks a tombstone (no value), bit 1 marks
//! a record that is not the last of its write batch: a batch is complete only when its last record (bit 1 clear)
//! is present and valid.
//!
//! # Hint file (one per compacted segment)
//! Entries `klen u32 | key | offset u64 | size u32 | seq u64`, then `count u64 | crc32c u32` over everything
//! before the crc. A hint that does not check out is ignored and the segment is scanned instead.
//!
//! # Manifest
//! Text: `redkit-log manifest 1`, `next-id N`, `live ID ID …`, then `crc X` over the preceding lines. Replaced
//! atomically: written to `MANIFEST.tmp`, fsynced, renamed over `MANIFEST`, directory fsynced.

/// Bytes before the key: crc, len, seq, flags, klen.
pub(crate) const HEADER: usize = 21;
/// `len` counts this many bytes besides key and value.
pub(crate) const LEN_FIXED: u32 = 13;
/// Flag: tombstone.
pub(crate) const TOMBSTONE: u8 = 1;
/// Flag: more records of the same batch follow.
pub(crate) const BATCH_CONTINUES: u8 = 2;

/// A record as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    pub(crate) seq: u64,
    pub(crate) flags: u8,
    pub(crate) key: &'a [u8],
    pub(crate) value: &'a [u8],
}

impl Record<'_> {
    pub(crate) fn is_tombstone(&self) -> bool {
        self.flags & TOMBSTONE != 0
    }

    pub(crate) fn continues_batch(&self) -> bool {
        self.flags & BATCH_CONTINUES != 0
    }
}

/// The encoded size of a record.
pub(crate) fn record_size(key: &[u8], value: &[u8]) -> usize {
    HEADER + key.len() + value.len()
}

/// Append one record to `out`.
pub(crate) fn encode_record(out: &mut Vec<u8>, seq: u64, flags: u8, key: &[u8], value: &[u8]) {
    let start = out.len();
    let len = LEN_FIXED as usize + key.len() + value.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.push(flags);
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(value);
    let crc = crc32c::crc32c(&out[start + 4..]);
    out[start..start + 4].copy_from_slice(&crc.to_le_bytes());
}

/// What parsing a record at some offset found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed<'a> {
    /// A valid record of `size` bytes.
    Record(Record<'a>, usize),
    /// Fewer bytes than the record needs: the file ends inside it.
    Truncated,
    /// The bytes are there but do not check out.
    Invalid(&'static str),
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Parse the record at the start of `buf`.
pub(crate) fn parse_record(buf: &[u8]) -> Parsed<'_> {
    let (Some(crc), Some(len)) = (u32_at(buf, 0), u32_at(buf, 4)) else {
        return Parsed::Truncated;
    };
    if len < LEN_FIXED {
        return Parsed::Invalid("record length too small");
    }
    let size = 8 + len as usize;
    let Some(body) = buf.get(4..size) else {
        return Parsed::Truncated;
    };
    if crc32c::crc32c(body) != crc {
        return Parsed::Invalid("checksum mismatch");
    }
    let (Some(seq), Some(&flags), Some(klen)) = (u64_at(buf, 8), buf.get(16), u32_at(buf, 17)) else {
        return Parsed::Invalid("short header");
    };
    let key_end = HEADER + klen as usize;
    if key_end > size {
        return Parsed::Invalid("key longer than the record");
    }
    let record = Record {
        seq,
        flags,
        key: &buf[HEADER..key_end],
        value: &buf[key_end..size],
    };
    if record.is_tombstone() && !record.value.is_empty() {
        return Parsed::Invalid("tombstone with a value");
    }
    Parsed::Record(record, size)
}

/// One entry of a hint file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hint {
    pub(crate) key: Vec<u8>,
    pub(crate) offset: u64,
    pub(crate) size: u32,
    pub(crate) seq: u64,
}

pub(crate) fn encode_hints(hints: &[Hint]) -> Vec<u8> {
    let mut out = Vec::new();
    for h in hints {
        out.extend_from_slice(&(h.key.len() as u32).to_le_bytes());
        out.extend_from_slice(&h.key);
        out.extend_from_slice(&h.offset.to_le_bytes());
        out.extend_from_slice(&h.size.to_le_bytes());
        out.extend_from_slice(&h.seq.to_le_bytes());
    }
    out.extend_from_slice(&(hints.len() as u64).to_le_bytes());
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The entries of a hint file, or `None` if it does not check out.
pub(crate) fn decode_hints(buf: &[u8]) -> Option<Vec<Hint>> {
    let body_len = buf.len().checked_sub(4)?;
    let crc = u32_at(buf, body_len)?;
    if crc32c::crc32c(&buf[..body_len]) != crc {
        return None;
    }
    let count = u64_at(buf, body_len.checked_sub(8)?)?;
    let entries = &buf[..body_len - 8];
    let mut hints = Vec::new();
    let mut at = 0;
    while at < entries.len() {
        let klen = u32_at(entries, at)? as usize;
        let key = entries.get(at + 4..at + 4 + klen)?.to_vec();
        at += 4 + klen;
        let offset = u64_at(entries, at)?;
        let size = u32_at(entries, at + 8)?;
        let seq = u64_at(entries, at + 12)?;
        at += 20;
        hints.push(Hint {
            key,
            offset,
            size,
            seq,
        });
    }
    (hints.len() as u64 == count).then_some(hints)
}

/// The manifest: which segments are live, and the id below which a segment not listed is garbage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Manifest {
    pub(crate) next_id: u64,
    pub(crate) live: Vec<u64>,
}

const MANIFEST_MAGIC: &str = "redkit-log manifest 1";

pub(crate) fn encode_manifest(m: &Manifest) -> String {
    let live: Vec<String> = m.live.iter().map(u64::to_string).collect();
    let body = format!(
        "{MANIFEST_MAGIC}\nnext-id {}\nlive {}\n",
        m.next_id,
        live.join(" ")
    );
    let crc = crc32c::crc32c(body.as_bytes());
    format!("{body}crc {crc}\n")
}

/// The manifest, or why it is unreadable.
pub(crate) fn decode_manifest(text: &str) -> Result<Manifest, &'static str> {
    let crc_at = text.rfind("crc ").ok_or("no checksum line")?;
    let (body, crc_line) = text.split_at(crc_at);
    let crc: u32 = crc_line
        .trim_start_matches("crc ")
        .trim()
        .parse()
        .map_err(|_| "bad checksum line")?;
    if crc32c::crc32c(body.as_bytes()) != crc {
        return Err("checksum mismatch");
    }
    let mut lines = body.lines();
    if lines.next() != Some(MANIFEST_MAGIC) {
        return Err("unknown manifest version");
    }
    let next_id = lines
        .next()
        .and_then(|l| l.strip_prefix("next-id "))
        .and_then(|n| n.parse().ok())
        .ok_or("bad next-id line")?;
    let live = lines
        .next()
        .and_then(|l| l.strip_prefix("live"))
        .ok_or("bad live line")?
        .split_whitespace()
        .map(|id| id.parse().map_err(|_| "bad segment id"))
        .collect::<Result<Vec<u64>, _>>()?;
    Ok(Manifest { next_id, live })
}

/// The kinds of file in a store directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileKind {
    /// An append segment (`.seg`): written by puts.
    Segment,
    /// A compaction output (`.cseg`): live only when the manifest lists it.
    Compacted,
    /// A hint file (`.hint`).
    Hint,
}

pub(crate) fn file_name(id: u64, kind: FileKind) -> String {
    let ext = match kind {
        FileKind::Segment => "seg",
        FileKind::Compacted => "cseg",
        FileKind::Hint => "hint",
    };
    format!("{id:016x}.{ext}")
}

pub(crate) fn parse_file_name(name: &str) -> Option<(u64, FileKind)> {
    let (stem, ext) = name.split_once('.')?;
    if stem.len() != 16 {
        return None;
    }
    let id = u64::from_str_radix(stem, 16).ok()?;
    let kind = match ext {
        "seg" => FileKind::Segment,
        "cseg" => FileKind::Compacted,
        "hint" => FileKind::Hint,
        _ => return None,
    };
    Some((id, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_detect_damage() {
        let mut buf = Vec::new();
        encode_record(&mut buf, 7, 0, b"key", b"value");
        encode_record(&mut buf, 8, TOMBSTONE | BATCH_CONTINUES, b"gone", b"");
        let Parsed::Record(r, size) = parse_record(&buf) else {
            panic!("expected a record")
        };
        assert_eq!(
            (r.seq, r.key, r.value, size),
            (7, &b"key"[..], &b"value"[..], record_size(b"key", b"value"))
        );
        let Parsed::Record(r, _) = parse_record(&buf[size..]) else {
            panic!("expected a record")
        };
        assert!(r.is_tombstone() && r.continues_batch());
        for cut in 0..size {
            assert_eq!(parse_record(&buf[..cut]), Parsed::Truncated, "cut at {cut}");
        }
        let mut flipped = buf.clone();
        flipped[25] ^= 0x40;
        assert_eq!(parse_record(&flipped), Parsed::Invalid("checksum mismatch"));
        assert_eq!(
            parse_record(&[0u8; 32]),
            Parsed::Invalid("record length too small")
        );
    }

    #[test]
    fn hints_and_manifests_round_trip_and_reject_damage() {
        let hints = vec![
            Hint {
                key: b"a".to_vec(),
                offset: 0,
                size: 30,
                seq: 1,
            },
            Hint {
                key: vec![],
                offset: 30,
                size: 21,
                seq: 9,
            },
        ];
        let bytes = encode_hints(&hints);
        assert_eq!(decode_hints(&bytes), Some(hints));
        let mut bad = bytes.clone();
        bad[2] ^= 1;
        assert_eq!(decode_hints(&bad), None);
        assert_eq!(decode_hints(&bytes[..bytes.len() - 1]), None);

        let m = Manifest {
            next_id: 12,
            live: vec![3, 7, 11],
        };
        let text = encode_manifest(&m);
        assert_eq!(decode_manifest(&text), Ok(m));
        assert!(decode_manifest(&text.replace("next-id 12", "next-id 13")).is_err());
        assert_eq!(
            parse_file_name(&file_name(255, FileKind::Compacted)),
            Some((255, FileKind::Compacted))
        );
        assert_eq!(parse_file_name("LOCK"), None);
    }
}
