//! Hashes: fields and values, counters, random fields, scanning.

use redkit_resp::{Cmd, ToArg};

use super::commands;
use super::options::{ScanOptions, ScanPage};

commands! {
    /// Hash commands.
    pub trait HashCommands {
        /// HSET: set fields (`[("f1", v1), ("f2", v2)]` or `("f", v)`); how many were new.
        fn hset(key: impl ToArg, pairs: impl ToArg) -> i64 { Cmd::new("HSET").arg(key).arg(pairs) }
        /// HGET: a field's value.
        fn hget<V>(key: impl ToArg, field: impl ToArg) -> Option<V> { Cmd::new("HGET").arg(key).arg(field) }
        /// HGETALL: every field and value (collect into a `HashMap`, `BTreeMap` or `Vec<(F, V)>`).
        fn hgetall<V>(key: impl ToArg) -> V { Cmd::new("HGETALL").arg(key) }
        /// HDEL: remove fields; how many existed.
        fn hdel(key: impl ToArg, fields: impl ToArg) -> i64 { Cmd::new("HDEL").arg(key).arg(fields) }
        /// HEXISTS: whether a field exists.
        fn hexists(key: impl ToArg, field: impl ToArg) -> bool { Cmd::new("HEXISTS").arg(key).arg(field) }
        /// HINCRBY: add to a field; its new value.
        fn hincr_by(key: impl ToArg, field: impl ToArg, by: i64) -> i64 {
            Cmd::new("HINCRBY").arg(key).arg(field).arg(by)
        }
        /// HINCRBYFLOAT: add to a field; its new value.
        fn hincr_by_float(key: impl ToArg, field: impl ToArg, by: f64) -> f64 {
            Cmd::new("HINCRBYFLOAT").arg(key).arg(field).arg(by)
        }
        /// HKEYS: every field.
        fn hkeys<V>(key: impl ToArg) -> Vec<V> { Cmd::new("HKEYS").arg(key) }
        /// HLEN: the number of fields.
        fn hlen(key: impl ToArg) -> i64 { Cmd::new("HLEN").arg(key) }
        /// HVALS: every value.
        fn hvals<V>(key: impl ToArg) -> Vec<V> { Cmd::new("HVALS").arg(key) }
        /// HSETNX: set a field only if it does not exist; `true` if set.
        fn hsetnx(key: impl ToArg, field: impl ToArg, value: impl ToArg) -> bool {
            Cmd::new("HSETNX").arg(key).arg(field).arg(value)
        }
        /// HMGET: several fields' values, `None` for missing ones.
        fn hmget<V>(key: impl ToArg, fields: impl ToArg) -> Vec<Option<V>> { Cmd::new("HMGET").arg(key).arg(fields) }
        /// HMSET: set fields (deprecated in favour of HSET, kept for old servers).
        fn hmset(key: impl ToArg, pairs: impl ToArg) -> () { Cmd::new("HMSET").arg(key).arg(pairs) }
        /// HSTRLEN: the length of a field's value.
        fn hstrlen(key: impl ToArg, field: impl ToArg) -> i64 { Cmd::new("HSTRLEN").arg(key).arg(field) }
        /// HRANDFIELD: a random field.
        fn hrandfield<V>(key: impl ToArg) -> Option<V> { Cmd::new("HRANDFIELD").arg(key) }
        /// HRANDFIELD with a count: distinct fields if positive, possibly repeated if negative.
        fn hrandfield_count<V>(key: impl ToArg, count: i64) -> Vec<V> { Cmd::new("HRANDFIELD").arg(key).arg(count) }
        /// HRANDFIELD … WITHVALUES: random fields with their values.
        fn hrandfield_with_values<V>(key: impl ToArg, count: i64) -> Vec<(String, V)> {
            Cmd::new("HRANDFIELD").arg(key).arg(count).arg("WITHVALUES")
        }
        /// HSCAN: one page of field-value pairs.
        fn hscan<V>(key: impl ToArg, cursor: u64, options: ScanOptions) -> ScanPage<V> {
            Cmd::new("HSCAN").arg(key).arg(cursor).arg(options)
        }
    }
}
