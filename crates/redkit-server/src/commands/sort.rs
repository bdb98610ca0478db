//! SORT and SORT_RO: sort a list, set or sorted set — numerically or (ALPHA) by bytes, by the element itself or by
//! the values of other keys (`BY pattern`, `*` replaced by the element, `->field` for a hash field; a pattern without
//! `*` means no sorting), a LIMIT window, GET patterns (`#` is the element), and STORE into a list.
//!
//! The algorithm is Redis's `sort.c`: equal numeric scores fall back to comparing the elements' bytes (so the
//! result is deterministic), a missing BY key scores 0 (or sorts first with ALPHA), LIMIT is clamped the same way,
//! an unsorted list or sorted set is read directly in the window (reversed by DESC), and an unsorted set being
//! stored is sorted by bytes, as Redis does to keep the stored result deterministic. As in Redis 7.0, a sorted set
//! that is sorted is converted to its skiplist encoding.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::registry::Decl;
use super::{Reply, err, int, is, syntax_error};
use crate::state::db::Data;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[Decl::new("sort", sort), Decl::new("sort_ro", sort_ro)];

/// The arguments of SORT and SORT_RO, parsed before the key is read.
struct SortArgs<'a> {
    key: &'a Bytes,
    /// BY: the pattern of the keys (or hash fields) to sort by.
    by: Option<&'a Bytes>,
    /// GET: the patterns of what to answer for each element, in order (none: the element).
    gets: Vec<&'a Bytes>,
    /// LIMIT: offset and count, unclamped.
    limit: Option<(i64, i64)>,
    /// DESC (the last of ASC and DESC wins).
    desc: bool,
    /// ALPHA: compare bytes, not numbers.
    alpha: bool,
    /// STORE (SORT only): the list to store the result in.
    store: Option<&'a Bytes>,
}

impl<'a> SortArgs<'a> {
    /// `key [BY pattern] [LIMIT offset count] [GET pattern]… [ASC|DESC] [ALPHA] [STORE destination]`, in any
    /// order, as Redis reads them: a word short of its values, STORE in SORT_RO, and any other word are `ERR syntax
    /// error`; LIMIT's offset and count are integers.
    fn parse(argv: &'a [Bytes], read_only: bool) -> Result<SortArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let mut sort = SortArgs {
            key: args.next_bytes()?,
            by: None,
            gets: Vec::new(),
            limit: None,
            desc: false,
            alpha: false,
            store: None,
        };
        while let Some(word) = args.next() {
            let values = args.remaining();
            if is(word, "ASC") {
                sort.desc = false;
            } else if is(word, "DESC") {
                sort.desc = true;
            } else if is(word, "ALPHA") {
                sort.alpha = true;
            } else if is(word, "LIMIT") && values >= 2 {
                sort.limit = Some((args.next_i64()?, args.next_i64()?));
            } else if is(word, "STORE") && values >= 1 && !read_only {
                sort.store = Some(args.next_bytes()?);
            } else if is(word, "BY") && values >= 1 {
                sort.by = Some(args.next_bytes()?);
            } else if is(word, "GET") && values >= 1 {
                sort.gets.push(args.next_bytes()?);
            } else {
                return Err(syntax_error());
            }
        }
        Ok(sort)
    }
}

/// The value `pattern` names for `element` (Redis's `lookupKeyByPattern`): `#` is the element; otherwise the first
/// `*` is replaced by it and the key read as a string, or with `->field` as a hash field. `None` when missing.
fn lookup(ctx: &mut Ctx<'_>, pattern: &[u8], element: &Bytes) -> Option<Bytes> {
    if pattern == b"#" {
        return Some(element.clone());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let arrow = pattern[star + 1..]
        .windows(2)
        .position(|w| w == b"->")
        .map(|p| star + 1 + p)
        .filter(|&p| p + 2 < pattern.len());
    let key_end = arrow.unwrap_or(pattern.len());
    let mut key = pattern[..star].to_vec();
    key.extend_from_slice(element);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    let now = ctx.now;
    let entry = ctx.db().get(&key, now)?;
    match (&entry.data, arrow) {
        (Data::Str(s), None) => Some(s.clone()),
        (Data::Hash(h), Some(p)) => h.get(&pattern[p + 2..]).cloned(),
        _ => None,
    }
}

/// What an element sorts by.
enum Key {
    Score(f64),
    Text(Option<Bytes>),
}

fn sort_generic(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> Reply {
    let SortArgs {
        key,
        mut by,
        gets,
        limit,
        desc,
        mut alpha,
        store,
    } = SortArgs::parse(args, read_only)?;
    let now = ctx.now;
    // A BY pattern without `*` sorts nothing.
    let mut dont_sort = by.is_some_and(|p| !p.contains(&b'*'));
    // Redis 7.0 converts a sorted set it sorts to its skiplist encoding (for good: OBJECT ENCODING shows it).
    if let Some(entry) = ctx.db().get_mut(key, now)
        && matches!(entry.data, Data::ZSet(_))
        && entry.enc != crate::state::db::StrEnc::Big
    {
        entry.enc = crate::state::db::StrEnc::Big;
        ctx.db().stored_form_changed(key);
    }
    let source = match ctx.db().get(key, now).map(|e| &e.data) {
        None => None,
        Some(Data::List(l)) => Some(Source::List(l.iter().cloned().collect())),
        Some(Data::Set(s)) => {
            let mut members: Vec<Bytes> = s.iter().cloned().collect();
            // Small integer sets are intsets, iterated in ascending order.
            if members.len() <= 512 && members.iter().all(|m| super::parse_i64(m).is_ok()) {
                members.sort_by_key(|m| super::parse_i64(m).unwrap_or(0));
            }
            Some(Source::Set(members))
        }
        Some(Data::ZSet(z)) => Some(Source::ZSet(
            (0..z.len())
                .filter_map(|r| z.at(r).map(|(_, m)| m.clone()))
                .collect(),
        )),
        Some(_) => {
            return Err(err(
                "WRONGTYPE Operation against a key holding the wrong kind of value",
            ));
        }
    };
    // An unsorted set being stored is sorted by bytes, so the result is the same everywhere.
    if dont_sort && matches!(source, Some(Source::Set(_))) && store.is_some() {
        dont_sort = false;
        alpha = true;
        by = None;
    }
    let total = source.as_ref().map_or(0, Source::len) as i64;
    let (mut start, mut end) = match limit {
        Some((offset, count)) => {
            // Clamped first, as Redis 7.0 does (CVE-2022-35977): no sum below can overflow.
            let start = offset.clamp(0, total);
            let count = count.clamp(-1, total);
            (start, if count < 0 { total - 1 } else { start + count - 1 })
        }
        None => (0, total - 1),
    };
    if start >= total {
        start = total - 1;
        end = total - 2;
    }
    if end >= total {
        end = total - 1;
    }
    // The elements, and the window of them to output.
    let mut elements: Vec<Bytes> = match source {
        None => Vec::new(),
        Some(Source::List(all) | Source::ZSet(all)) if dont_sort => {
            let mut window = Vec::new();
            if end >= start {
                let n = (end - start + 1) as usize;
                window = if desc {
                    all.iter().rev().skip(start as usize).take(n).cloned().collect()
                } else {
                    all.iter().skip(start as usize).take(n).cloned().collect()
                };
                end -= start;
                start = 0;
            }
            window
        }
        Some(Source::List(all) | Source::Set(all) | Source::ZSet(all)) => all,
    };
    if !dont_sort {
        let mut keyed = Vec::with_capacity(elements.len());
        for element in elements {
            let value = match by {
                Some(pattern) => lookup(ctx, pattern, &element),
                None => Some(element.clone()),
            };
            let sort_key = if alpha {
                Key::Text(value)
            } else {
                let score = match value {
                    None => 0.0,
                    Some(b) => std::str::from_utf8(&b)
                        .ok()
                        .and_then(|t| t.trim_start().parse::<f64>().ok())
                        .filter(|s| !s.is_nan())
                        .ok_or_else(|| err("ERR One or more scores can't be converted into double"))?,
                };
                Key::Score(score)
            };
            keyed.push((sort_key, element));
        }
        let by_pattern = by.is_some();
        keyed.sort_by(|(ka, a), (kb, b)| {
            let cmp = match (ka, kb) {
                (Key::Score(x), Key::Score(y)) => x
                    .partial_cmp(y)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.cmp(b)),
                (Key::Text(x), Key::Text(y)) if by_pattern => match (x, y) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                },
                _ => a.cmp(b),
            };
            if desc { cmp.reverse() } else { cmp }
        });
        elements = keyed.into_iter().map(|(_, e)| e).collect();
    }
    let window: Vec<Bytes> = if end >= start && start >= 0 {
        elements
            .into_iter()
            .skip(start as usize)
            .take((end - start + 1) as usize)
            .collect()
    } else {
        Vec::new()
    };
    let mut out: Vec<Option<Bytes>> = Vec::new();
    for element in &window {
        if gets.is_empty() {
            out.push(Some(element.clone()));
        }
        for pattern in &gets {
            out.push(lookup(ctx, pattern, element));
        }
    }
    match store {
        Some(dest) => {
            let n = out.len();
            if n == 0 {
                ctx.db().remove(dest, now);
            } else {
                let list = out.into_iter().map(Option::unwrap_or_default).collect();
                ctx.db().set(dest.clone(), Data::List(list));
            }
            Ok(int(n))
        }
        None => Ok(Value::Array(
            out.into_iter()
                .map(|v| v.map_or(Value::Null, Value::BulkString))
                .collect(),
        )),
    }
}

/// The sorted key's elements, in their own order.
enum Source {
    List(Vec<Bytes>),
    Set(Vec<Bytes>),
    ZSet(Vec<Bytes>),
}

impl Source {
    fn len(&self) -> usize {
        match self {
            Source::List(v) | Source::Set(v) | Source::ZSet(v) => v.len(),
        }
    }
}

pub(crate) fn sort(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    sort_generic(ctx, args, false)
}

pub(crate) fn sort_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    sort_generic(ctx, args, true)
}
