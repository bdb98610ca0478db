//! The abstract key-value model of redkit, executable: the specification that stores are tested against.
//!
//! A store *is* a log. Every write appends `(key, Some(value))`, a delete appends a tombstone `(key, None)`, a read
//! returns the newest record for the key, and compaction keeps only the newest record per key. [`Log`] is that
//! specification, written as plainly as possible; [`KvStore`] is what an implementation offers; [`laws`] are the
//! properties every implementation must have; [`harness`] runs random operation sequences against the model and an
//! implementation, compares every observation, and shrinks a failure to a minimal sequence.
//!
//! ```
//! use redkit_model::{KvStore, Log};
//!
//! let mut log = Log::new();
//! log.set(b"a", b"1");
//! log.set(b"a", b"2");
//! assert!(log.del(b"b") == false);
//! assert_eq!(log.get(b"a"), Some(b"2".to_vec()));
//! let compacted = log.compact();
//! assert_eq!(compacted.records().len(), 1);
//! assert_eq!(compacted.replay(), log.replay());
//!
//! // The model is itself a KvStore, so the laws and the harness apply to it.
//! redkit_model::laws::check_all(&mut Log::new(), b"k", b"v", b"other").unwrap();
//! ```

pub mod harness;
pub mod laws;

use std::collections::BTreeMap;
use std::convert::Infallible;

/// One record of the log: a key and its new value, or `None` for a tombstone.
pub type Record = (Vec<u8>, Option<Vec<u8>>);

/// The specification: a log of records, newest last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    records: Vec<Record>,
}

impl Log {
    /// An empty log.
    pub fn new() -> Log {
        Log::default()
    }

    /// A log from records, oldest first.
    pub fn from_records(records: Vec<Record>) -> Log {
        Log { records }
    }

    /// The records, oldest first.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Append `(key, Some(value))`.
    pub fn set(&mut self, key: &[u8], value: &[u8]) {
        self.records.push((key.to_vec(), Some(value.to_vec())));
    }

    /// Append a tombstone; whether the key existed before.
    pub fn del(&mut self, key: &[u8]) -> bool {
        let existed = Log::exists(self, key);
        self.records.push((key.to_vec(), None));
        existed
    }

    /// The newest record's value for `key`; `None` when there is none or it is a tombstone.
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.records
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.clone())
    }

    /// Whether `get` would return a value.
    pub fn exists(&self, key: &[u8]) -> bool {
        Log::get(self, key).is_some()
    }

    /// Keep only the newest record of each key, in the order those records were written, and drop tombstones
    /// (nothing older remains for them to shadow).
    pub fn compact(&self) -> Log {
        let mut newest: BTreeMap<&[u8], usize> = BTreeMap::new();
        for (i, (k, _)) in self.records.iter().enumerate() {
            newest.insert(k, i);
        }
        let records = self
            .records
            .iter()
            .enumerate()
            .filter(|(i, (k, v))| newest.get(k.as_slice()) == Some(i) && v.is_some())
            .map(|(_, r)| r.clone())
            .collect();
        Log { records }
    }

    /// The map the log denotes.
    pub fn replay(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut map = BTreeMap::new();
        for (k, v) in &self.records {
            match v {
                Some(v) => map.insert(k.clone(), v.clone()),
                None => map.remove(k),
            };
        }
        map
    }
}

/// What a key-value store offers. Implemented by the model, the log-structured store, the embedded server and
/// (through the client) a real Redis.
pub trait KvStore {
    /// Why an operation failed (I/O, a server error, …).
    type Error: std::fmt::Debug;

    /// Store `value` under `key`.
    fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), Self::Error>;
    /// The value under `key`, `None` if absent.
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, Self::Error>;
    /// Remove `key`; whether it existed.
    fn del(&mut self, key: &[u8]) -> Result<bool, Self::Error>;
    /// Whether `key` exists.
    fn exists(&mut self, key: &[u8]) -> Result<bool, Self::Error>;
    /// Remove every key.
    fn flush(&mut self) -> Result<(), Self::Error>;
    /// Implementation maintenance that must not change any observation: close and reopen, say.
    fn reopen(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Compaction, which must not change any observation.
    fn compact(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl KvStore for Log {
    type Error = Infallible;

    fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), Infallible> {
        Log::set(self, key, value);
        Ok(())
    }
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, Infallible> {
        Ok(Log::get(self, key))
    }
    fn del(&mut self, key: &[u8]) -> Result<bool, Infallible> {
        Ok(Log::del(self, key))
    }
    fn exists(&mut self, key: &[u8]) -> Result<bool, Infallible> {
        Ok(Log::exists(self, key))
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        for key in self.replay().into_keys() {
            Log::del(self, &key);
        }
        Ok(())
    }
    fn compact(&mut self) -> Result<(), Infallible> {
        *self = Log::compact(self);
        Ok(())
    }
}

/// The map view: the denotation of a log, also a (trivially correct) store.
impl KvStore for BTreeMap<Vec<u8>, Vec<u8>> {
    type Error = Infallible;

    fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), Infallible> {
        self.insert(key.to_vec(), value.to_vec());
        Ok(())
    }
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, Infallible> {
        Ok(BTreeMap::get(self, key).cloned())
    }
    fn del(&mut self, key: &[u8]) -> Result<bool, Infallible> {
        Ok(self.remove(key).is_some())
    }
    fn exists(&mut self, key: &[u8]) -> Result<bool, Infallible> {
        Ok(self.contains_key(key))
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        self.clear();
        Ok(())
    }
}
