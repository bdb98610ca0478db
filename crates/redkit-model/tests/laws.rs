//! The laws hold for the model and its map view; the harness finds and shrinks a broken store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::convert::Infallible;

use proptest::prelude::*;
use redkit_model::harness::{self, Config, Op};
use redkit_model::{KvStore, Log, laws};

fn key() -> impl Strategy<Value = Vec<u8>> {
    (0..4u8).prop_map(|i| vec![b'k', i])
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..8)
}

/// A random history to start from, so laws are checked in arbitrary states, not only on empty stores.
fn history() -> impl Strategy<Value = Vec<Op>> {
    harness::ops_strategy(Config {
        keys: 4,
        max_ops: 16,
        maintenance: false,
        ..Config::default()
    })
}

fn replay_into<S: KvStore>(s: &mut S, ops: &[Op]) {
    harness::run(s, ops, 4).unwrap();
}

proptest! {
    #[test]
    fn every_law_holds_for_the_log_and_the_map(h in history(), k in key(), v in value(), other in key()) {
        prop_assume!(k != other);
        let mut log = Log::new();
        replay_into(&mut log, &h);
        laws::check_all(&mut log, &k, &v, &other).unwrap();
        let mut map = BTreeMap::new();
        replay_into(&mut map, &h);
        laws::check_all(&mut map, &k, &v, &other).unwrap();
    }

    #[test]
    fn replaying_the_log_gives_the_map(h in history()) {
        let mut log = Log::new();
        let mut map = BTreeMap::new();
        replay_into(&mut log, &h);
        replay_into(&mut map, &h);
        prop_assert_eq!(log.replay(), map);
    }

    #[test]
    fn compaction_preserves_every_read_and_keeps_one_record_per_key(h in history()) {
        let mut log = Log::new();
        replay_into(&mut log, &h);
        let compacted = log.compact();
        prop_assert_eq!(compacted.replay(), log.replay());
        let keys: Vec<&Vec<u8>> = compacted.records().iter().map(|(k, _)| k).collect();
        let mut dedup = keys.clone();
        dedup.sort();
        dedup.dedup();
        prop_assert_eq!(keys.len(), dedup.len());
        prop_assert!(compacted.records().iter().all(|(_, v)| v.is_some()));
        // Newest records keep their relative order.
        let order: Vec<usize> = compacted.records().iter()
            .map(|r| log.records().iter().rposition(|x| x == r).unwrap()).collect();
        prop_assert!(order.windows(2).all(|w| w[0] < w[1]));
        // Compacting twice changes nothing.
        prop_assert_eq!(compacted.compact(), compacted);
    }

    #[test]
    fn stores_agreeing_on_reads_are_observationally_equal(h in history()) {
        let mut log = Log::new();
        let mut map = BTreeMap::new();
        replay_into(&mut log, &h);
        replay_into(&mut map, &h);
        let keys: Vec<Vec<u8>> = (0..4u8).map(|i| vec![b'k', i]).collect();
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        prop_assert!(laws::observationally_equal(&mut log, &mut map, &refs).unwrap());
    }
}

#[test]
fn the_model_and_the_map_pass_the_harness() {
    harness::check(Config::default(), Log::new).unwrap();
    harness::check(Config::default(), BTreeMap::new).unwrap();
}

/// A map-backed store with one deliberate bug.
#[derive(Default)]
struct Buggy {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    /// DEL always reports that the key existed.
    lying_del: bool,
    /// Reopening loses every key.
    forgetful_reopen: bool,
}

impl KvStore for Buggy {
    type Error = Infallible;
    fn set(&mut self, k: &[u8], v: &[u8]) -> Result<(), Infallible> {
        self.map.set(k, v)
    }
    fn get(&mut self, k: &[u8]) -> Result<Option<Vec<u8>>, Infallible> {
        KvStore::get(&mut self.map, k)
    }
    fn del(&mut self, k: &[u8]) -> Result<bool, Infallible> {
        let existed = KvStore::del(&mut self.map, k)?;
        Ok(existed || self.lying_del)
    }
    fn exists(&mut self, k: &[u8]) -> Result<bool, Infallible> {
        self.map.exists(k)
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        KvStore::flush(&mut self.map)
    }
    fn reopen(&mut self) -> Result<(), Infallible> {
        if self.forgetful_reopen {
            self.map.clear();
        }
        Ok(())
    }
}

#[test]
fn the_harness_finds_and_shrinks_bugs() {
    let err = harness::check(Config::default(), || Buggy {
        lying_del: true,
        ..Buggy::default()
    })
    .unwrap_err();
    assert!(err.contains("minimal failing sequence (1 ops): [del("), "{err}");
    let err = laws::del_removes_and_reports(
        &mut Buggy {
            lying_del: true,
            ..Buggy::default()
        },
        b"k",
    )
    .unwrap_err();
    assert_eq!(err.law, "del-removes-and-reports");

    let err = harness::check(Config::default(), || Buggy {
        forgetful_reopen: true,
        ..Buggy::default()
    })
    .unwrap_err();
    // Shrinking is greedy, not exhaustive: the minimal sequence has two operations, a found one at most three.
    assert!(
        err.contains("minimal failing sequence (2 ops)") || err.contains("minimal failing sequence (3 ops)"),
        "{err}"
    );
    assert!(err.contains("reopen()"), "{err}");
}
