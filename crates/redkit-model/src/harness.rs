//! Model-based testing: random operation sequences run against the model ([`Log`]) and an implementation, every
//! observation compared, failures shrunk to a minimal sequence.
//!
//! Keys come from a small pool so that operations collide on the same keys — that is where stores go wrong.
//! Maintenance operations ([`Op::Reopen`], [`Op::Compact`]) must not change anything the model can see.
//!
//! ```
//! use redkit_model::harness::{self, Config};
//! use redkit_model::Log;
//!
//! // Any KvStore; here the map view, which must agree with the log model.
//! harness::check(Config::default(), std::collections::BTreeMap::new).unwrap();
//! // The model agrees with itself, compaction included.
//! harness::check(Config::default(), Log::new).unwrap();
//! ```

use std::fmt;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestError, TestRunner};

use crate::{KvStore, Log};

/// One operation of a test sequence.
#[derive(Clone, PartialEq, Eq)]
pub enum Op {
    /// `set(key, value)`.
    Set(Vec<u8>, Vec<u8>),
    /// `get(key)`.
    Get(Vec<u8>),
    /// `del(key)`.
    Del(Vec<u8>),
    /// `exists(key)`.
    Exists(Vec<u8>),
    /// `flush()`.
    Flush,
    /// Close and reopen the store (no observable effect).
    Reopen,
    /// Compact the store (no observable effect).
    Compact,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Set(k, v) => write!(f, "set({:?}, {:?})", text(k), text(v)),
            Op::Get(k) => write!(f, "get({:?})", text(k)),
            Op::Del(k) => write!(f, "del({:?})", text(k)),
            Op::Exists(k) => write!(f, "exists({:?})", text(k)),
            Op::Flush => f.write_str("flush()"),
            Op::Reopen => f.write_str("reopen()"),
            Op::Compact => f.write_str("compact()"),
        }
    }
}

/// How many sequences, how long, over how many keys.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Random sequences to run.
    pub cases: u32,
    /// Longest sequence.
    pub max_ops: usize,
    /// Size of the key pool (small, so keys collide).
    pub keys: usize,
    /// Include `Reopen` and `Compact` operations.
    pub maintenance: bool,
    /// Include `Flush`.
    pub flush: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cases: 256,
            max_ops: 64,
            keys: 6,
            maintenance: true,
            flush: true,
        }
    }
}

/// A strategy for one operation over a pool of `keys` keys.
pub fn op_strategy(config: Config) -> BoxedStrategy<Op> {
    let key = (0..config.keys.max(1)).prop_map(|i| format!("k{i}").into_bytes());
    let value = proptest::collection::vec(any::<u8>(), 0..12);
    let mut choices: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (6, (key.clone(), value).prop_map(|(k, v)| Op::Set(k, v)).boxed()),
        (4, key.clone().prop_map(Op::Get).boxed()),
        (3, key.clone().prop_map(Op::Del).boxed()),
        (2, key.prop_map(Op::Exists).boxed()),
    ];
    if config.flush {
        choices.push((1, Just(Op::Flush).boxed()));
    }
    if config.maintenance {
        choices.push((1, Just(Op::Reopen).boxed()));
        choices.push((1, Just(Op::Compact).boxed()));
    }
    proptest::strategy::Union::new_weighted(choices).boxed()
}

/// A strategy for operation sequences.
pub fn ops_strategy(config: Config) -> BoxedStrategy<Vec<Op>> {
    proptest::collection::vec(op_strategy(config), 0..=config.max_ops).boxed()
}

/// Where an implementation and the model first disagreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// Index of the operation.
    pub step: usize,
    /// The operation.
    pub op: Op,
    /// What the model observed.
    pub model: String,
    /// What the implementation observed (or its error).
    pub store: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {} {:?}: model says {}, store says {}",
            self.step, self.op, self.model, self.store
        )
    }
}

/// Run `ops` against `store` and the model, comparing every observation, then every key of the pool.
pub fn run<S: KvStore>(store: &mut S, ops: &[Op], keys: usize) -> Result<(), Divergence> {
    let mut model = Log::new();
    for (step, op) in ops.iter().enumerate() {
        let diverge = |model: String, store: String| Divergence {
            step,
            op: op.clone(),
            model,
            store,
        };
        let (expected, got) = match op {
            Op::Set(k, v) => {
                KvStore::set(&mut model, k, v).ok();
                ("()".to_owned(), store.set(k, v).map(|()| "()".to_owned()))
            }
            Op::Get(k) => (
                format!("{:?}", model.get(k)),
                store.get(k).map(|v| format!("{v:?}")),
            ),
            Op::Del(k) => (
                format!("{}", Log::del(&mut model, k)),
                store.del(k).map(|b| b.to_string()),
            ),
            Op::Exists(k) => (
                format!("{}", model.exists(k)),
                store.exists(k).map(|b| b.to_string()),
            ),
            Op::Flush => {
                KvStore::flush(&mut model).ok();
                ("()".to_owned(), store.flush().map(|()| "()".to_owned()))
            }
            Op::Reopen => ("()".to_owned(), store.reopen().map(|()| "()".to_owned())),
            Op::Compact => {
                model = model.compact();
                ("()".to_owned(), store.compact().map(|()| "()".to_owned()))
            }
        };
        match got {
            Ok(got) if got == expected => {}
            Ok(got) => return Err(diverge(expected, got)),
            Err(e) => return Err(diverge(expected, format!("error {e:?}"))),
        }
    }
    for i in 0..keys.max(1) {
        let k = format!("k{i}").into_bytes();
        let expected = format!("{:?}", model.get(&k));
        let got = store
            .get(&k)
            .map(|v| format!("{v:?}"))
            .unwrap_or_else(|e| format!("error {e:?}"));
        if got != expected {
            return Err(Divergence {
                step: ops.len(),
                op: Op::Get(k),
                model: expected,
                store: got,
            });
        }
    }
    Ok(())
}

/// Run `config.cases` random sequences, each on a fresh store from `factory`; on a divergence, shrink the
/// sequence and return the minimal one with what went wrong.
pub fn check<S, F>(config: Config, factory: F) -> Result<(), String>
where
    S: KvStore,
    F: Fn() -> S,
{
    let mut runner = TestRunner::new(RunnerConfig {
        cases: config.cases,
        failure_persistence: None,
        ..RunnerConfig::default()
    });
    let result = runner.run(&ops_strategy(config), |ops| {
        let mut store = factory();
        run(&mut store, &ops, config.keys).map_err(|d| TestCaseError::fail(d.to_string()))
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, ops)) => Err(format!(
            "minimal failing sequence ({} ops): {ops:?}\n{reason}",
            ops.len()
        )),
        Err(TestError::Abort(reason)) => Err(format!("aborted: {reason}")),
    }
}
