//! Keys: existence, deletion, types, expiry, renaming, scanning.

use std::time::{Duration, SystemTime};

use redkit_resp::{Cmd, ToArg};

use super::commands;
use super::options::{
    ExpireCondition, ExpireTime, Millis, ScanOptions, ScanPage, Seconds, Ttl, TtlSeconds, UnixMillis,
    UnixSeconds,
};

commands! {
    /// Generic key commands.
    pub trait KeyCommands {
        /// DEL: delete keys; how many existed.
        fn del(keys: impl ToArg) -> i64 { Cmd::new("DEL").arg(keys) }
        /// UNLINK: delete keys, reclaiming memory in the background; how many existed.
        fn unlink(keys: impl ToArg) -> i64 { Cmd::new("UNLINK").arg(keys) }
        /// EXISTS: how many of the keys exist (a key named twice counts twice).
        fn exists(keys: impl ToArg) -> i64 { Cmd::new("EXISTS").arg(keys) }
        /// TYPE: `string`, `list`, `set`, `zset`, `hash`, `stream`, or `none`.
        fn key_type(key: impl ToArg) -> String { Cmd::new("TYPE").arg(key) }
        /// TTL: the remaining time to live, at second precision.
        fn ttl(key: impl ToArg) -> TtlSeconds { Cmd::new("TTL").arg(key) }
        /// PTTL: the remaining time to live, at millisecond precision.
        fn pttl(key: impl ToArg) -> Ttl { Cmd::new("PTTL").arg(key) }
        /// EXPIRE: expire after `ttl` (whole seconds, rounded up); `true` if set.
        fn expire(key: impl ToArg, ttl: Duration, condition: ExpireCondition) -> bool {
            Cmd::new("EXPIRE").arg(key).arg(Seconds(ttl)).arg(condition)
        }
        /// PEXPIRE: expire after `ttl` (milliseconds); `true` if set.
        fn pexpire(key: impl ToArg, ttl: Duration, condition: ExpireCondition) -> bool {
            Cmd::new("PEXPIRE").arg(key).arg(Millis(ttl)).arg(condition)
        }
        /// EXPIREAT: expire at a time (second precision); `true` if set.
        fn expire_at(key: impl ToArg, at: SystemTime, condition: ExpireCondition) -> bool {
            Cmd::new("EXPIREAT").arg(key).arg(UnixSeconds(at)).arg(condition)
        }
        /// PEXPIREAT: expire at a time (millisecond precision); `true` if set.
        fn pexpire_at(key: impl ToArg, at: SystemTime, condition: ExpireCondition) -> bool {
            Cmd::new("PEXPIREAT").arg(key).arg(UnixMillis(at)).arg(condition)
        }
        /// EXPIRETIME: when the key expires (second precision).
        fn expiretime(key: impl ToArg) -> i64 { Cmd::new("EXPIRETIME").arg(key) }
        /// PEXPIRETIME: when the key expires.
        fn pexpiretime(key: impl ToArg) -> ExpireTime { Cmd::new("PEXPIRETIME").arg(key) }
        /// PERSIST: remove the expiry; `true` if there was one.
        fn persist(key: impl ToArg) -> bool { Cmd::new("PERSIST").arg(key) }
        /// RENAME: rename a key (an error if it does not exist).
        fn rename(key: impl ToArg, new_key: impl ToArg) -> () { Cmd::new("RENAME").arg(key).arg(new_key) }
        /// RENAMENX: rename only if the new name is free; `true` if renamed.
        fn renamenx(key: impl ToArg, new_key: impl ToArg) -> bool { Cmd::new("RENAMENX").arg(key).arg(new_key) }
        /// COPY: copy a key's value; `true` if copied.
        fn copy(source: impl ToArg, dest: impl ToArg, replace: bool) -> bool {
            Cmd::new("COPY").arg(source).arg(dest).arg(replace.then_some("REPLACE"))
        }
        /// COPY … DB: copy into another database.
        fn copy_to_db(source: impl ToArg, dest: impl ToArg, db: i64, replace: bool) -> bool {
            Cmd::new("COPY").arg(source).arg(dest).arg("DB").arg(db).arg(replace.then_some("REPLACE"))
        }
        /// TOUCH: update last access time; how many keys exist.
        fn touch(keys: impl ToArg) -> i64 { Cmd::new("TOUCH").arg(keys) }
        /// RANDOMKEY: a random key, `None` for an empty database.
        fn randomkey<V>() -> Option<V> { Cmd::new("RANDOMKEY") }
        /// KEYS: every key matching a pattern. It blocks the server while it walks the whole keyspace: use
        /// [`scan`](KeyCommands::scan) (or [`scan_all`](crate::scan_all)) outside of tests and tiny databases.
        fn keys<V>(pattern: impl ToArg) -> Vec<V> { Cmd::new("KEYS").arg(pattern) }
        /// SCAN: one page of keys from `cursor` (start at 0; done when the returned cursor is 0).
        fn scan<V>(cursor: u64, options: ScanOptions) -> ScanPage<V> { Cmd::new("SCAN").arg(cursor).arg(options) }
        /// DUMP: the serialized value, `None` for a missing key.
        fn dump(key: impl ToArg) -> Option<bytes::Bytes> { Cmd::new("DUMP").arg(key) }
        /// RESTORE: create a key from DUMP output (`ttl` zero for none).
        fn restore(key: impl ToArg, ttl: Duration, serialized: impl ToArg, replace: bool) -> () {
            Cmd::new("RESTORE").arg(key).arg(Millis(ttl)).arg(serialized).arg(replace.then_some("REPLACE"))
        }
        /// MOVE: move a key to another database; `true` if moved.
        fn move_to_db(key: impl ToArg, db: i64) -> bool { Cmd::new("MOVE").arg(key).arg(db) }
        /// OBJECT ENCODING: the internal encoding (`listpack`, `hashtable`, …).
        fn object_encoding(key: impl ToArg) -> Option<String> { Cmd::new("OBJECT").arg("ENCODING").arg(key) }
        /// OBJECT IDLETIME: seconds since last access.
        fn object_idletime(key: impl ToArg) -> Option<i64> { Cmd::new("OBJECT").arg("IDLETIME").arg(key) }
        /// OBJECT FREQ: the LFU access counter (needs an LFU maxmemory-policy).
        fn object_freq(key: impl ToArg) -> Option<i64> { Cmd::new("OBJECT").arg("FREQ").arg(key) }
    }
}
