//! Strings and bitmaps: GET, SET and friends, counters, ranges, LCS, and the bit operations.

use redkit_resp::{Cmd, ToArg};

use super::commands;
use super::options::{BitOp, BitRange, Expiry, SetOptions};

commands! {
    /// String commands (and bitmaps, which are strings).
    pub trait StringCommands {
        /// GET: the value, or `None` for a missing key.
        fn get<V>(key: impl ToArg) -> Option<V> { Cmd::new("GET").arg(key) }
        /// SET: store a value (replacing any value and expiry).
        fn set(key: impl ToArg, value: impl ToArg) -> () { Cmd::new("SET").arg(key).arg(value) }
        /// SET with options (NX/XX, expiry): `true` if the value was written, `false` if NX/XX prevented it.
        fn set_with(key: impl ToArg, value: impl ToArg, options: SetOptions) -> bool {
            Cmd::new("SET").arg(key).arg(value).arg(options)
        }
        /// SET … GET: store a value and return the previous one (`None` if there was none).
        fn set_get<V>(key: impl ToArg, value: impl ToArg, options: SetOptions) -> Option<V> {
            Cmd::new("SET").arg(key).arg(value).arg(options).arg("GET")
        }
        /// SETEX: store with a time to live in whole seconds (rounded up).
        fn setex(key: impl ToArg, ttl: std::time::Duration, value: impl ToArg) -> () {
            Cmd::new("SETEX").arg(key).arg(super::options::Seconds(ttl)).arg(value)
        }
        /// PSETEX: store with a time to live in milliseconds.
        fn psetex(key: impl ToArg, ttl: std::time::Duration, value: impl ToArg) -> () {
            Cmd::new("PSETEX").arg(key).arg(super::options::Millis(ttl)).arg(value)
        }
        /// SETNX: store only if the key does not exist; `true` if stored.
        fn setnx(key: impl ToArg, value: impl ToArg) -> bool { Cmd::new("SETNX").arg(key).arg(value) }
        /// APPEND: append to the value; the new length.
        fn append(key: impl ToArg, value: impl ToArg) -> i64 { Cmd::new("APPEND").arg(key).arg(value) }
        /// GETDEL: get the value and delete the key.
        fn getdel<V>(key: impl ToArg) -> Option<V> { Cmd::new("GETDEL").arg(key) }
        /// GETEX: get the value and set (or, with `Expiry::Persist`, remove) its expiry.
        fn getex<V>(key: impl ToArg, expiry: Option<Expiry>) -> Option<V> { Cmd::new("GETEX").arg(key).arg(expiry) }
        /// GETRANGE: the substring between two byte offsets (inclusive; negative from the end).
        fn getrange<V>(key: impl ToArg, start: i64, end: i64) -> V {
            Cmd::new("GETRANGE").arg(key).arg(start).arg(end)
        }
        /// GETSET: store a value and return the old one.
        fn getset<V>(key: impl ToArg, value: impl ToArg) -> Option<V> { Cmd::new("GETSET").arg(key).arg(value) }
        /// INCR: add 1; the new value.
        fn incr(key: impl ToArg) -> i64 { Cmd::new("INCR").arg(key) }
        /// INCRBY: add `by`; the new value.
        fn incr_by(key: impl ToArg, by: i64) -> i64 { Cmd::new("INCRBY").arg(key).arg(by) }
        /// INCRBYFLOAT: add `by`; the new value.
        fn incr_by_float(key: impl ToArg, by: f64) -> f64 { Cmd::new("INCRBYFLOAT").arg(key).arg(by) }
        /// DECR: subtract 1; the new value.
        fn decr(key: impl ToArg) -> i64 { Cmd::new("DECR").arg(key) }
        /// DECRBY: subtract `by`; the new value.
        fn decr_by(key: impl ToArg, by: i64) -> i64 { Cmd::new("DECRBY").arg(key).arg(by) }
        /// MGET: the values of several keys, `None` for missing ones.
        fn mget<V>(keys: impl ToArg) -> Vec<Option<V>> { Cmd::new("MGET").arg(keys) }
        /// MSET: store several key-value pairs (`[("k1", "v1"), ("k2", "v2")]`).
        fn mset(pairs: impl ToArg) -> () { Cmd::new("MSET").arg(pairs) }
        /// MSETNX: store several pairs only if none of the keys exists; `true` if stored.
        fn msetnx(pairs: impl ToArg) -> bool { Cmd::new("MSETNX").arg(pairs) }
        /// SETRANGE: overwrite part of the value at a byte offset; the new length.
        fn setrange(key: impl ToArg, offset: u64, value: impl ToArg) -> i64 {
            Cmd::new("SETRANGE").arg(key).arg(offset).arg(value)
        }
        /// STRLEN: the length of the value in bytes (0 for a missing key).
        fn strlen(key: impl ToArg) -> i64 { Cmd::new("STRLEN").arg(key) }
        /// LCS: the longest common subsequence of two strings.
        fn lcs<V>(key1: impl ToArg, key2: impl ToArg) -> V { Cmd::new("LCS").arg(key1).arg(key2) }
        /// LCS … LEN: the length of the longest common subsequence.
        fn lcs_len(key1: impl ToArg, key2: impl ToArg) -> i64 { Cmd::new("LCS").arg(key1).arg(key2).arg("LEN") }

        /// SETBIT: set the bit at `offset`; its previous value.
        fn setbit(key: impl ToArg, offset: u64, value: bool) -> bool {
            Cmd::new("SETBIT").arg(key).arg(offset).arg(u8::from(value))
        }
        /// GETBIT: the bit at `offset`.
        fn getbit(key: impl ToArg, offset: u64) -> bool { Cmd::new("GETBIT").arg(key).arg(offset) }
        /// BITCOUNT: the number of set bits, optionally within a range.
        fn bitcount(key: impl ToArg, range: Option<BitRange>) -> i64 { Cmd::new("BITCOUNT").arg(key).arg(range) }
        /// BITOP: combine source keys into `dest`; the length of the result.
        fn bitop(op: BitOp, dest: impl ToArg, sources: impl ToArg) -> i64 {
            Cmd::new("BITOP").arg(op).arg(dest).arg(sources)
        }
        /// BITPOS: the position of the first bit equal to `bit`, optionally within a range (-1 if none).
        fn bitpos(key: impl ToArg, bit: bool, range: Option<BitRange>) -> i64 {
            Cmd::new("BITPOS").arg(key).arg(u8::from(bit)).arg(range)
        }
        /// BITFIELD: run sub-commands (`["INCRBY", "u8", "0", "1", "OVERFLOW", "SAT", …]`); one result per
        /// GET/SET/INCRBY, `None` where OVERFLOW FAIL stopped an increment.
        fn bitfield(key: impl ToArg, subcommands: impl ToArg) -> Vec<Option<i64>> {
            Cmd::new("BITFIELD").arg(key).arg(subcommands)
        }
        /// BITFIELD_RO: read-only GET sub-commands.
        fn bitfield_ro(key: impl ToArg, subcommands: impl ToArg) -> Vec<i64> {
            Cmd::new("BITFIELD_RO").arg(key).arg(subcommands)
        }
    }
}
