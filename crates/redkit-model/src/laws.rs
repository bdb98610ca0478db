//! The laws of a key-value store, as checks over any [`KvStore`].
//!
//! They are properties of an implementation, checked by running it — not axioms assumed of every conceivable
//! store (an earlier formalisation stated them that way, over all stores at once, and was inconsistent). Each check
//! runs a few operations and compares what it observes; `Err` names the law and what was seen.

use std::fmt;

use crate::KvStore;

/// A law that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LawViolation {
    /// Which law.
    pub law: &'static str,
    /// What was observed.
    pub detail: String,
}

impl fmt::Display for LawViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "law {:?} violated: {}", self.law, self.detail)
    }
}

impl std::error::Error for LawViolation {}

/// The result of a law check.
pub type LawResult = Result<(), LawViolation>;

fn ensure(law: &'static str, holds: bool, detail: impl FnOnce() -> String) -> LawResult {
    if holds {
        Ok(())
    } else {
        Err(LawViolation {
            law,
            detail: detail(),
        })
    }
}

fn io<T, E: fmt::Debug>(law: &'static str, r: Result<T, E>) -> Result<T, LawViolation> {
    r.map_err(|e| LawViolation {
        law,
        detail: format!("operation failed: {e:?}"),
    })
}

fn show(v: &Option<Vec<u8>>) -> String {
    match v {
        Some(v) => format!("Some({:?})", String::from_utf8_lossy(v)),
        None => "None".into(),
    }
}

/// `set(k, v)` then `get(k)` returns `v`.
pub fn set_then_get<S: KvStore>(s: &mut S, k: &[u8], v: &[u8]) -> LawResult {
    const LAW: &str = "set-then-get";
    io(LAW, s.set(k, v))?;
    let got = io(LAW, s.get(k))?;
    ensure(LAW, got.as_deref() == Some(v), || {
        format!("get returned {}", show(&got))
    })
}

/// `get(k)` is `None` exactly when `exists(k)` is false.
pub fn get_none_iff_absent<S: KvStore>(s: &mut S, k: &[u8]) -> LawResult {
    const LAW: &str = "get-none-iff-absent";
    let got = io(LAW, s.get(k))?;
    let exists = io(LAW, s.exists(k))?;
    ensure(LAW, got.is_some() == exists, || {
        format!("get returned {} but exists returned {exists}", show(&got))
    })
}

/// `del(k)` reports whether `k` existed, and afterwards it does not.
pub fn del_removes_and_reports<S: KvStore>(s: &mut S, k: &[u8]) -> LawResult {
    const LAW: &str = "del-removes-and-reports";
    let before = io(LAW, s.exists(k))?;
    let reported = io(LAW, s.del(k))?;
    let after = io(LAW, s.exists(k))?;
    ensure(LAW, reported == before && !after, || {
        format!("existed {before}, del reported {reported}, exists after {after}")
    })
}

/// Setting or deleting `k` never changes `other`.
pub fn keys_are_independent<S: KvStore>(s: &mut S, k: &[u8], v: &[u8], other: &[u8]) -> LawResult {
    const LAW: &str = "keys-are-independent";
    if k == other {
        return Ok(());
    }
    let before = io(LAW, s.get(other))?;
    io(LAW, s.set(k, v))?;
    let mid = io(LAW, s.get(other))?;
    io(LAW, s.del(k))?;
    let after = io(LAW, s.get(other))?;
    ensure(LAW, before == mid && mid == after, || {
        format!(
            "other key went {} → {} → {}",
            show(&before),
            show(&mid),
            show(&after)
        )
    })
}

/// Setting twice is setting once; deleting twice is deleting once (the second reports `false`).
pub fn set_and_del_are_idempotent<S: KvStore>(s: &mut S, k: &[u8], v: &[u8]) -> LawResult {
    const LAW: &str = "set-and-del-are-idempotent";
    io(LAW, s.set(k, v))?;
    io(LAW, s.set(k, v))?;
    let got = io(LAW, s.get(k))?;
    ensure(LAW, got.as_deref() == Some(v), || {
        format!("after two sets get returned {}", show(&got))
    })?;
    io(LAW, s.del(k))?;
    let second = io(LAW, s.del(k))?;
    let exists = io(LAW, s.exists(k))?;
    ensure(LAW, !second && !exists, || {
        format!("second del reported {second}, exists {exists}")
    })
}

/// A set absorbs an earlier set of the same key.
pub fn set_absorbs_earlier_set<S: KvStore>(s: &mut S, k: &[u8], v1: &[u8], v2: &[u8]) -> LawResult {
    const LAW: &str = "set-absorbs-earlier-set";
    io(LAW, s.set(k, v1))?;
    io(LAW, s.set(k, v2))?;
    let got = io(LAW, s.get(k))?;
    ensure(LAW, got.as_deref() == Some(v2), || {
        format!("get returned {}", show(&got))
    })
}

/// `set(k, v); del(k)` is observed the same as `del(k)`.
pub fn set_then_del_is_del<S: KvStore>(s: &mut S, k: &[u8], v: &[u8]) -> LawResult {
    const LAW: &str = "set-then-del-is-del";
    io(LAW, s.set(k, v))?;
    let reported = io(LAW, s.del(k))?;
    let got = io(LAW, s.get(k))?;
    let exists = io(LAW, s.exists(k))?;
    ensure(LAW, reported && got.is_none() && !exists, || {
        format!(
            "del reported {reported}, then get {} and exists {exists}",
            show(&got)
        )
    })
}

/// Writes to distinct keys commute: either order leaves the same observations (checked on one store, flushed
/// between the two orders).
pub fn distinct_keys_commute<S: KvStore>(s: &mut S, k1: &[u8], v1: &[u8], k2: &[u8], v2: &[u8]) -> LawResult {
    const LAW: &str = "distinct-keys-commute";
    if k1 == k2 {
        return Ok(());
    }
    io(LAW, s.flush())?;
    io(LAW, s.set(k1, v1))?;
    io(LAW, s.set(k2, v2))?;
    let first = (io(LAW, s.get(k1))?, io(LAW, s.get(k2))?);
    io(LAW, s.flush())?;
    io(LAW, s.set(k2, v2))?;
    io(LAW, s.set(k1, v1))?;
    let second = (io(LAW, s.get(k1))?, io(LAW, s.get(k2))?);
    ensure(LAW, first == second, || {
        format!("one order gave {first:?}, the other {second:?}")
    })
}

/// Compaction (and any other maintenance) preserves every read over `keys`.
pub fn compaction_preserves_reads<S: KvStore>(s: &mut S, keys: &[&[u8]]) -> LawResult {
    const LAW: &str = "compaction-preserves-reads";
    let before = observe(s, keys).map_err(|e| LawViolation { law: LAW, detail: e })?;
    io(LAW, s.compact())?;
    let after = observe(s, keys).map_err(|e| LawViolation { law: LAW, detail: e })?;
    ensure(LAW, before == after, || {
        format!("reads before {before:?}, after {after:?}")
    })
}

/// What `get` and `exists` returned for one key.
pub type Observation = (Option<Vec<u8>>, bool);

/// Every `get` and `exists` over `keys`: what "observationally equal" compares.
pub fn observe<S: KvStore>(s: &mut S, keys: &[&[u8]]) -> Result<Vec<Observation>, String> {
    keys.iter()
        .map(|k| {
            Ok((
                s.get(k).map_err(|e| format!("{e:?}"))?,
                s.exists(k).map_err(|e| format!("{e:?}"))?,
            ))
        })
        .collect()
}

/// Two stores that agree on every `get` and `exists` over `keys` are observationally equal.
pub fn observationally_equal<A: KvStore, B: KvStore>(
    a: &mut A,
    b: &mut B,
    keys: &[&[u8]],
) -> Result<bool, String> {
    Ok(observe(a, keys)? == observe(b, keys)?)
}

/// Run every law once with the given keys and values (`other` must differ from `k`).
pub fn check_all<S: KvStore>(s: &mut S, k: &[u8], v: &[u8], other: &[u8]) -> LawResult {
    set_then_get(s, k, v)?;
    get_none_iff_absent(s, k)?;
    get_none_iff_absent(s, other)?;
    del_removes_and_reports(s, k)?;
    keys_are_independent(s, k, v, other)?;
    set_and_del_are_idempotent(s, k, v)?;
    set_absorbs_earlier_set(s, k, v, other)?;
    set_then_del_is_del(s, k, v)?;
    distinct_keys_commute(s, k, v, other, v)?;
    io("setup", s.set(other, v))?;
    compaction_preserves_reads(s, &[k, other])
}
