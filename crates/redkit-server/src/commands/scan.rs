//! SSCAN, HSCAN, ZSCAN: cursors over one collection.
//!
//! Like Redis, a collection in a compact encoding (intset, listpack) is returned whole with cursor 0, whatever the
//! COUNT. A larger one is walked in pages: the first call takes a snapshot of the member names in byte order, and
//! each page returns the next COUNT of them that are still present, with their current values. So every element
//! present for the whole scan is returned exactly once, and one removed meanwhile is not returned after its removal
//! — Redis's guarantees, without its possible duplicates.

use std::sync::Arc;

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::{Args, ScanArgs};
use super::registry::Decl;
use super::zset::g17;
use super::{Reply, glob_match, wrongtype};
use crate::state::cursors::Cursor;
use crate::state::db::Data;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("sscan", sscan),
    Decl::new("hscan", hscan),
    Decl::new("zscan", zscan),
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Set,
    Hash,
    ZSet,
}

fn members(data: &Data) -> Vec<Bytes> {
    let mut out: Vec<Bytes> = match data {
        Data::Set(s) => s.iter().cloned().collect(),
        Data::Hash(h) => h.keys().cloned().collect(),
        Data::ZSet(z) => z.scores.keys().cloned().collect(),
        _ => Vec::new(),
    };
    out.sort();
    out
}

/// Append `member` (and its value) to `out` if it is still in `data` and matches.
fn emit(data: &Data, member: &Bytes, pattern: Option<&Bytes>, out: &mut Vec<Value>) {
    if pattern.is_some_and(|p| !glob_match(p, member)) {
        return;
    }
    match data {
        Data::Set(s) if s.contains(member) => out.push(Value::BulkString(member.clone())),
        Data::Hash(h) => {
            if let Some(v) = h.get(member) {
                out.push(Value::BulkString(member.clone()));
                out.push(Value::BulkString(v.clone()));
            }
        }
        Data::ZSet(z) => {
            if let Some(score) = z.scores.get(member) {
                out.push(Value::BulkString(member.clone()));
                out.push(Value::bulk(g17(*score)));
            }
        }
        _ => {}
    }
}

fn scan(ctx: &mut Ctx<'_>, argv: &[Bytes], kind: Kind) -> Reply {
    // `key cursor [MATCH pattern] [COUNT n]`, all checked before the key is read.
    let mut args = Args::new(argv);
    let key = args.next_bytes()?;
    let ScanArgs {
        cursor,
        pattern,
        count,
        ..
    } = ScanArgs::parse(&mut args, false)?;
    let done = |items: Vec<Value>| Ok(Value::Array(vec![Value::bulk("0"), Value::Array(items)]));
    let now = ctx.now;
    let db_index = ctx.session.db_index();
    let state = &mut *ctx.state;
    let Some(entry) = state.dbs[db_index].get(key, now) else {
        return done(Vec::new());
    };
    let data = &entry.data;
    let right_type = matches!(
        (kind, data),
        (Kind::Set, Data::Set(_)) | (Kind::Hash, Data::Hash(_)) | (Kind::ZSet, Data::ZSet(_))
    );
    if !right_type {
        return Err(wrongtype());
    }
    let mut items = Vec::new();
    if matches!(super::entry_encoding(entry), "intset" | "listpack") {
        // Compact encodings come back whole, in their stored order (sorted sets by score).
        match data {
            Data::ZSet(z) => {
                for i in 0..z.len() {
                    if let Some((_, m)) = z.at(i) {
                        emit(data, m, pattern, &mut items);
                    }
                }
            }
            // An intset in ascending order, a listpack hash in insertion order: as Redis.
            Data::Set(set) => {
                for m in super::set::ordered_members(set) {
                    emit(data, &m, pattern, &mut items);
                }
            }
            Data::Hash(h) => {
                for m in h.keys() {
                    emit(data, m, pattern, &mut items);
                }
            }
            _ => {}
        }
        return done(items);
    }
    let cursors = &mut state.element_cursors;
    let (snapshot, pos) = if cursor == 0 {
        (Arc::new(members(data)), 0)
    } else {
        match cursors.get(cursor) {
            Some(c) if c.db == db_index && c.key == key => (c.members.clone(), c.pos),
            _ => return done(Vec::new()),
        }
    };
    let end = (pos + count).min(snapshot.len());
    for m in &snapshot[pos..end] {
        emit(data, m, pattern, &mut items);
    }
    if end >= snapshot.len() {
        return done(items);
    }
    let id = cursors.open(Cursor {
        db: db_index,
        // A copy: the key may be a slice of the request, which must not stay alive for the cursor.
        key: Bytes::copy_from_slice(key),
        members: snapshot,
        pos: end,
    });
    Ok(Value::Array(vec![
        Value::bulk(id.to_string()),
        Value::Array(items),
    ]))
}

pub(crate) fn sscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    scan(ctx, args, Kind::Set)
}

pub(crate) fn hscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    scan(ctx, args, Kind::Hash)
}

pub(crate) fn zscan(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    scan(ctx, args, Kind::ZSet)
}
