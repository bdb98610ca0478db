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
use super::registry::Decl;
use super::{Reply, err, int, is, parse_i64, syntax_error};
use crate::state::db::Data;

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[Decl::new("sort", sort), Decl::new("sort_ro", sort_ro)];

struct Options {
    by: Option<Bytes>,
    gets: Vec<Bytes>,
    limit: Option<(i64, i64)>,
    desc: bool,
    alpha: bool,
    store: Option<Bytes>,
}

fn parse(args: &[Bytes], read_only: bool) -> Result<Options, Value> {
    let mut o = Options {
        by: None,
        gets: Vec::new(),
        limit: None,
        desc: false,
        alpha: false,
        store: None,
    };
    let mut i = 2;
    while i < args.len() {
        let rest = args.len() - i - 1;
        let a = &args[i];
        if is(a, "ASC") {
            o.desc = false;
        } else if is(a, "DESC") {
            o.desc = true;
        } else if is(a, "ALPHA") {
            o.alpha = true;
        } else if is(a, "LIMIT") && rest >= 2 {
            o.limit = Some((parse_i64(&args[i + 1])?, parse_i64(&args[i + 2])?));
            i += 2;
        } else if is(a, "STORE") && rest >= 1 && !read_only {
            o.store = Some(args[i + 1].clone());
            i += 1;
        } else if is(a, "BY") && rest >= 1 {
            o.by = Some(args[i + 1].clone());
            i += 1;
        } else if is(a, "GET") && rest >= 1 {
            o.gets.push(args[i + 1].clone());
            i += 1;
        } else {
            return Err(syntax_error());
        }
        i += 1;
    }
    Ok(o)
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
    let mut o = parse(args, read_only)?;
    let now = ctx.now;
    // A BY pattern without `*` sorts nothing.
    let mut dont_sort = o.by.as_ref().is_some_and(|p| !p.contains(&b'*'));
    // Redis 7.0 converts a sorted set it sorts to its skiplist encoding (for good: OBJECT ENCODING shows it).
    if let Some(entry) = ctx.db().get_mut(&args[1], now)
        && matches!(entry.data, Data::ZSet(_))
        && entry.enc != crate::state::db::StrEnc::Big
    {
        entry.enc = crate::state::db::StrEnc::Big;
        ctx.db().stored_form_changed(&args[1]);
    }
    let source = match ctx.db().get(&args[1], now).map(|e| &e.data) {
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
    if dont_sort && matches!(source, Some(Source::Set(_))) && o.store.is_some() {
        dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let total = source.as_ref().map_or(0, Source::len) as i64;
    let (mut start, mut end) = match o.limit {
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
                window = if o.desc {
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
            let by = match &o.by {
                Some(pattern) => lookup(ctx, pattern, &element),
                None => Some(element.clone()),
            };
            let key = if o.alpha {
                Key::Text(by)
            } else {
                let score = match by {
                    None => 0.0,
                    Some(b) => std::str::from_utf8(&b)
                        .ok()
                        .and_then(|t| t.trim_start().parse::<f64>().ok())
                        .filter(|s| !s.is_nan())
                        .ok_or_else(|| err("ERR One or more scores can't be converted into double"))?,
                };
                Key::Score(score)
            };
            keyed.push((key, element));
        }
        let by_pattern = o.by.is_some();
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
            if o.desc { cmp.reverse() } else { cmp }
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
        if o.gets.is_empty() {
            out.push(Some(element.clone()));
        }
        for pattern in &o.gets {
            out.push(lookup(ctx, pattern, element));
        }
    }
    match o.store {
        Some(dest) => {
            let n = out.len();
            if n == 0 {
                ctx.db().remove(&dest, now);
            } else {
                let list = out.into_iter().map(Option::unwrap_or_default).collect();
                ctx.db().set(dest, Data::List(list));
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
