//! Ordered reads: [`Iter`] over `(key, value)` pairs ([`Store::iter`], [`Store::scan_prefix`]) and
//! [`Store::keys_with_prefix`].

use super::shared::{Store, read};
use crate::error::Result;

/// Iterator over `(key, value)` pairs; see [`Store::iter`].
pub struct Iter {
    store: Store,
    keys: std::vec::IntoIter<Vec<u8>>,
}

impl std::fmt::Debug for Iter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iter")
            .field("remaining", &self.keys.len())
            .finish()
    }
}

impl Iterator for Iter {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let key = self.keys.next()?;
            match self.store.get(&key) {
                Ok(Some(v)) => return Some(Ok((key, v))),
                Ok(None) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

impl Store {
    /// Every live `(key, value)` in key order. Keys are taken from a snapshot of the index; values are read as the
    /// iterator advances (a key deleted meanwhile is skipped).
    pub fn iter(&self) -> Iter {
        self.range_iter(|_| true, None)
    }

    /// Every live `(key, value)` whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Iter {
        let p = prefix.to_vec();
        self.range_iter(move |k| k.starts_with(&p), Some(prefix.to_vec()))
    }

    /// The live keys starting with `prefix`, in key order, without reading their values.
    pub fn keys_with_prefix(&self, prefix: &[u8]) -> Vec<Vec<u8>> {
        let state = read(&self.inner.state);
        state
            .index
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// An iterator over a snapshot of the keys from `from` (or all keys) while `keep` holds.
    fn range_iter(&self, keep: impl Fn(&[u8]) -> bool, from: Option<Vec<u8>>) -> Iter {
        let state = read(&self.inner.state);
        let keys: Vec<Vec<u8>> = match &from {
            Some(start) => state
                .index
                .range(start.clone()..)
                .take_while(|(k, _)| keep(k))
                .map(|(k, _)| k.clone())
                .collect(),
            None => state.index.keys().cloned().collect(),
        };
        Iter {
            store: self.clone(),
            keys: keys.into_iter(),
        }
    }
}
