//! [`Namespace`]: a key prefix that hands out typed keys and can clear itself.

use bytes::Bytes;
use redkit::prelude::KeyCommands;
use redkit::{Executor, ScanOptions, ScanPage};

use crate::codec::{Codec, Json};
use crate::collections::{TypedList, TypedSet, TypedSortedSet};
use crate::error::Result;
use crate::hash::TypedHash;
use crate::key::{TypedHashField, TypedKey};
use crate::stream::TypedStream;

/// How many keys each SCAN step asks for, and each UNLINK removes, when a namespace clears itself.
const CLEAR_BATCH: u64 = 500;

/// Keys under `prefix:` — `Namespace::new("app").child("users").key::<User>("42")` is the key `app:users:42`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    prefix: String,
}

/// `text` with glob specials escaped, so SCAN MATCH takes it literally.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Namespace {
    /// The namespace `prefix`.
    pub fn new(prefix: impl Into<String>) -> Namespace {
        Namespace {
            prefix: prefix.into(),
        }
    }

    /// The prefix (without the trailing `:`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The namespace `prefix:name`.
    pub fn child(&self, name: &str) -> Namespace {
        Namespace::new(self.full(name))
    }

    /// The full name of `name` in this namespace.
    pub fn full(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// A JSON-coded key.
    pub fn key<T>(&self, name: &str) -> TypedKey<T>
    where
        Json: Codec<T>,
    {
        TypedKey::new(self.full(name))
    }

    /// A key with codec `C`.
    pub fn key_with<T, C: Codec<T>>(&self, name: &str) -> TypedKey<T, C> {
        TypedKey::new(self.full(name))
    }

    /// A JSON-coded hash field.
    pub fn field<T>(&self, name: &str, field: &str) -> TypedHashField<T>
    where
        Json: Codec<T>,
    {
        TypedHashField::new(self.full(name), field)
    }

    /// A struct stored as a hash.
    pub fn hash<S>(&self, name: &str) -> TypedHash<S> {
        TypedHash::new(self.full(name))
    }

    /// A JSON-coded list.
    pub fn list<T>(&self, name: &str) -> TypedList<T>
    where
        Json: Codec<T>,
    {
        TypedList::new(self.full(name))
    }

    /// A JSON-coded set.
    pub fn set<T>(&self, name: &str) -> TypedSet<T>
    where
        Json: Codec<T>,
    {
        TypedSet::new(self.full(name))
    }

    /// A JSON-coded sorted set.
    pub fn sorted_set<T>(&self, name: &str) -> TypedSortedSet<T>
    where
        Json: Codec<T>,
    {
        TypedSortedSet::new(self.full(name))
    }

    /// A stream of structs.
    pub fn stream<S>(&self, name: &str) -> TypedStream<S> {
        TypedStream::new(self.full(name))
    }

    /// Remove every key of this namespace (children included): SCAN with a literal prefix pattern and UNLINK in
    /// batches — never KEYS, which blocks the server. Keys written meanwhile may survive; the count of keys
    /// removed is returned.
    pub async fn clear<E: Executor>(&self, redis: &E) -> Result<u64> {
        let options = ScanOptions::new()
            .pattern(format!("{}:*", glob_escape(&self.prefix)))
            .count(CLEAR_BATCH);
        let mut cursor = 0u64;
        let mut removed = 0u64;
        loop {
            let ScanPage {
                cursor: next,
                items: keys,
            } = redis.scan::<Bytes>(cursor, options.clone()).await?;
            if !keys.is_empty() {
                let n = redis.unlink(keys).await?;
                removed += u64::try_from(n).unwrap_or(0);
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_nest_and_patterns_are_literal() {
        let ns = Namespace::new("app").child("admin");
        assert_eq!(ns.prefix(), "app:admin");
        assert_eq!(ns.key::<u32>("visits").name(), "app:admin:visits");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
