//! Sets: membership, algebra, random members, scanning.

use redkit_resp::{Cmd, ToArg};

use super::commands;
use super::options::{ScanOptions, ScanPage};

commands! {
    /// Set commands.
    pub trait SetCommands {
        /// SADD: add members; how many were new.
        fn sadd(key: impl ToArg, members: impl ToArg) -> i64 { Cmd::new("SADD").arg(key).arg(members) }
        /// SCARD: the number of members.
        fn scard(key: impl ToArg) -> i64 { Cmd::new("SCARD").arg(key) }
        /// SISMEMBER: whether `member` is in the set.
        fn sismember(key: impl ToArg, member: impl ToArg) -> bool { Cmd::new("SISMEMBER").arg(key).arg(member) }
        /// SMISMEMBER: membership of each of several members.
        fn smismember(key: impl ToArg, members: impl ToArg) -> Vec<bool> {
            Cmd::new("SMISMEMBER").arg(key).arg(members)
        }
        /// SMEMBERS: every member.
        fn smembers<V>(key: impl ToArg) -> Vec<V> { Cmd::new("SMEMBERS").arg(key) }
        /// SREM: remove members; how many were there.
        fn srem(key: impl ToArg, members: impl ToArg) -> i64 { Cmd::new("SREM").arg(key).arg(members) }
        /// SPOP: remove and return a random member.
        fn spop<V>(key: impl ToArg) -> Option<V> { Cmd::new("SPOP").arg(key) }
        /// SPOP with a count: remove and return up to `count` random members.
        fn spop_count<V>(key: impl ToArg, count: u64) -> Vec<V> { Cmd::new("SPOP").arg(key).arg(count) }
        /// SRANDMEMBER: a random member, not removed.
        fn srandmember<V>(key: impl ToArg) -> Option<V> { Cmd::new("SRANDMEMBER").arg(key) }
        /// SRANDMEMBER with a count: distinct members if positive, possibly repeated if negative.
        fn srandmember_count<V>(key: impl ToArg, count: i64) -> Vec<V> {
            Cmd::new("SRANDMEMBER").arg(key).arg(count)
        }
        /// SMOVE: move a member between sets; `true` if moved.
        fn smove(source: impl ToArg, dest: impl ToArg, member: impl ToArg) -> bool {
            Cmd::new("SMOVE").arg(source).arg(dest).arg(member)
        }
        /// SDIFF: members of the first set not in the others.
        fn sdiff<V>(keys: impl ToArg) -> Vec<V> { Cmd::new("SDIFF").arg(keys) }
        /// SDIFFSTORE: store SDIFF in `dest`; its size.
        fn sdiffstore(dest: impl ToArg, keys: impl ToArg) -> i64 { Cmd::new("SDIFFSTORE").arg(dest).arg(keys) }
        /// SINTER: members in every set.
        fn sinter<V>(keys: impl ToArg) -> Vec<V> { Cmd::new("SINTER").arg(keys) }
        /// SINTERSTORE: store SINTER in `dest`; its size.
        fn sinterstore(dest: impl ToArg, keys: impl ToArg) -> i64 { Cmd::new("SINTERSTORE").arg(dest).arg(keys) }
        /// SINTERCARD: the size of the intersection, counting at most `limit` (0: no limit).
        fn sintercard(keys: &[impl ToArg], limit: u64) -> i64 {
            Cmd::new("SINTERCARD").arg(keys.len()).arg(keys).arg("LIMIT").arg(limit)
        }
        /// SUNION: members in any set.
        fn sunion<V>(keys: impl ToArg) -> Vec<V> { Cmd::new("SUNION").arg(keys) }
        /// SUNIONSTORE: store SUNION in `dest`; its size.
        fn sunionstore(dest: impl ToArg, keys: impl ToArg) -> i64 { Cmd::new("SUNIONSTORE").arg(dest).arg(keys) }
        /// SSCAN: one page of members.
        fn sscan<V>(key: impl ToArg, cursor: u64, options: ScanOptions) -> ScanPage<V> {
            Cmd::new("SSCAN").arg(key).arg(cursor).arg(options)
        }
    }
}
