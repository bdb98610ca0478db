//! Lists: pushes, pops (also blocking), ranges, positions, moves.

use std::time::Duration;

use redkit_resp::{Cmd, ToArg};

use super::commands;
use super::options::{BlockTimeout, KeyedPop, LPosOptions, Position, Side};

commands! {
    /// List commands. The blocking ones run on a connection of their own, with their timeout plus a margin.
    pub trait ListCommands {
        /// LPUSH: add to the head; the new length.
        fn lpush(key: impl ToArg, values: impl ToArg) -> i64 { Cmd::new("LPUSH").arg(key).arg(values) }
        /// RPUSH: add to the tail; the new length.
        fn rpush(key: impl ToArg, values: impl ToArg) -> i64 { Cmd::new("RPUSH").arg(key).arg(values) }
        /// LPUSHX: add to the head of an existing list; the new length (0: no list).
        fn lpushx(key: impl ToArg, values: impl ToArg) -> i64 { Cmd::new("LPUSHX").arg(key).arg(values) }
        /// RPUSHX: add to the tail of an existing list; the new length (0: no list).
        fn rpushx(key: impl ToArg, values: impl ToArg) -> i64 { Cmd::new("RPUSHX").arg(key).arg(values) }
        /// LPOP: remove and return the head.
        fn lpop<V>(key: impl ToArg) -> Option<V> { Cmd::new("LPOP").arg(key) }
        /// RPOP: remove and return the tail.
        fn rpop<V>(key: impl ToArg) -> Option<V> { Cmd::new("RPOP").arg(key) }
        /// LPOP with a count: up to `count` elements from the head.
        fn lpop_count<V>(key: impl ToArg, count: u64) -> Vec<V> { Cmd::new("LPOP").arg(key).arg(count) }
        /// RPOP with a count: up to `count` elements from the tail.
        fn rpop_count<V>(key: impl ToArg, count: u64) -> Vec<V> { Cmd::new("RPOP").arg(key).arg(count) }
        /// LRANGE: elements `start..=stop` (negative from the end).
        fn lrange<V>(key: impl ToArg, start: i64, stop: i64) -> Vec<V> {
            Cmd::new("LRANGE").arg(key).arg(start).arg(stop)
        }
        /// LINDEX: the element at an index.
        fn lindex<V>(key: impl ToArg, index: i64) -> Option<V> { Cmd::new("LINDEX").arg(key).arg(index) }
        /// LLEN: the length (0 for a missing key).
        fn llen(key: impl ToArg) -> i64 { Cmd::new("LLEN").arg(key) }
        /// LSET: replace the element at an index.
        fn lset(key: impl ToArg, index: i64, value: impl ToArg) -> () {
            Cmd::new("LSET").arg(key).arg(index).arg(value)
        }
        /// LINSERT: insert next to the first `pivot`; the new length, -1 if the pivot is absent, 0 if no list.
        fn linsert(key: impl ToArg, position: Position, pivot: impl ToArg, value: impl ToArg) -> i64 {
            Cmd::new("LINSERT").arg(key).arg(position).arg(pivot).arg(value)
        }
        /// LTRIM: keep only `start..=stop`.
        fn ltrim(key: impl ToArg, start: i64, stop: i64) -> () { Cmd::new("LTRIM").arg(key).arg(start).arg(stop) }
        /// LREM: remove `count` occurrences (0: all; negative: from the tail); how many were removed.
        fn lrem(key: impl ToArg, count: i64, value: impl ToArg) -> i64 {
            Cmd::new("LREM").arg(key).arg(count).arg(value)
        }
        /// LPOS: the index of the first matching element.
        fn lpos(key: impl ToArg, value: impl ToArg, options: LPosOptions) -> Option<i64> {
            Cmd::new("LPOS").arg(key).arg(value).arg(options)
        }
        /// LPOS … COUNT: the indexes of up to `count` matches (0: all).
        fn lpos_count(key: impl ToArg, value: impl ToArg, count: u64, options: LPosOptions) -> Vec<i64> {
            Cmd::new("LPOS").arg(key).arg(value).arg(options).arg("COUNT").arg(count)
        }
        /// LMOVE: pop from one side of `source`, push onto a side of `dest`; the element moved.
        fn lmove<V>(source: impl ToArg, dest: impl ToArg, from: Side, to: Side) -> Option<V> {
            Cmd::new("LMOVE").arg(source).arg(dest).arg(from).arg(to)
        }
        /// LMPOP: pop up to `count` from the first non-empty list.
        fn lmpop<V>(keys: &[impl ToArg], side: Side, count: u64) -> KeyedPop<V> {
            Cmd::new("LMPOP").arg(keys.len()).arg(keys).arg(side).arg("COUNT").arg(count)
        }
        /// RPOPLPUSH: pop the tail of `source`, push it onto the head of `dest`.
        fn rpoplpush<V>(source: impl ToArg, dest: impl ToArg) -> Option<V> {
            Cmd::new("RPOPLPUSH").arg(source).arg(dest)
        }
        /// BLPOP: pop the head of the first non-empty list, waiting up to `timeout` (`None`: forever);
        /// the key and element, or `None` on timeout.
        fn blpop<V>(keys: impl ToArg, timeout: Option<Duration>) -> Option<(String, V)> {
            Cmd::new("BLPOP").arg(keys).arg(BlockTimeout(timeout))
        }
        /// BRPOP: like BLPOP, from the tail.
        fn brpop<V>(keys: impl ToArg, timeout: Option<Duration>) -> Option<(String, V)> {
            Cmd::new("BRPOP").arg(keys).arg(BlockTimeout(timeout))
        }
        /// BLMOVE: LMOVE, waiting for an element.
        fn blmove<V>(source: impl ToArg, dest: impl ToArg, from: Side, to: Side, timeout: Option<Duration>) -> Option<V> {
            Cmd::new("BLMOVE").arg(source).arg(dest).arg(from).arg(to).arg(BlockTimeout(timeout))
        }
        /// BLMPOP: LMPOP, waiting for an element.
        fn blmpop<V>(timeout: Option<Duration>, keys: &[impl ToArg], side: Side, count: u64) -> KeyedPop<V> {
            Cmd::new("BLMPOP").arg(BlockTimeout(timeout)).arg(keys.len()).arg(keys).arg(side).arg("COUNT").arg(count)
        }
        /// BRPOPLPUSH: RPOPLPUSH, waiting for an element.
        fn brpoplpush<V>(source: impl ToArg, dest: impl ToArg, timeout: Option<Duration>) -> Option<V> {
            Cmd::new("BRPOPLPUSH").arg(source).arg(dest).arg(BlockTimeout(timeout))
        }
    }
}
