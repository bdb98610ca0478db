//! Sorted sets: scores, ranks, ranges by rank/score/lex, pops (also blocking), set algebra, scanning.

use std::time::Duration;

use redkit_resp::{Cmd, ToArg};

use super::commands;
use super::options::{
    BlockTimeout, KeyedPop, LexBound, ScanOptions, ScanPage, ScoreBound, Scored, ZAddOptions,
    ZCombineOptions, ZRangeOptions,
};

commands! {
    /// Sorted-set commands. Scores are `f64`; `WITHSCORES` replies read as `Vec<(member, score)>` on RESP2 and
    /// RESP3 alike.
    pub trait SortedSetCommands {
        /// ZADD: add or update `(score, member)` pairs; how many were added (or changed, with CH).
        fn zadd(key: impl ToArg, options: ZAddOptions, score_members: impl ToArg) -> i64 {
            Cmd::new("ZADD").arg(key).arg(options).arg(score_members)
        }
        /// ZADD … INCR: add to one member's score; the new score, `None` if NX/XX/GT/LT prevented it.
        fn zadd_incr(key: impl ToArg, options: ZAddOptions, by: f64, member: impl ToArg) -> Option<f64> {
            Cmd::new("ZADD").arg(key).arg(options).arg("INCR").arg(by).arg(member)
        }
        /// ZCARD: the number of members.
        fn zcard(key: impl ToArg) -> i64 { Cmd::new("ZCARD").arg(key) }
        /// ZRANGE: members in a range (by rank, score or lex; see [`ZRangeOptions`]).
        fn zrange<V>(key: impl ToArg, range: ZRangeOptions) -> Vec<V> { Cmd::new("ZRANGE").arg(key).arg(range) }
        /// ZRANGE … WITHSCORES.
        fn zrange_with_scores<V>(key: impl ToArg, range: ZRangeOptions) -> Scored<V> {
            Cmd::new("ZRANGE").arg(key).arg(range).arg("WITHSCORES")
        }
        /// ZRANGESTORE: store a range in `dest`; its size.
        fn zrangestore(dest: impl ToArg, key: impl ToArg, range: ZRangeOptions) -> i64 {
            Cmd::new("ZRANGESTORE").arg(dest).arg(key).arg(range)
        }
        /// ZSCORE: a member's score.
        fn zscore(key: impl ToArg, member: impl ToArg) -> Option<f64> { Cmd::new("ZSCORE").arg(key).arg(member) }
        /// ZMSCORE: several members' scores.
        fn zmscore(key: impl ToArg, members: impl ToArg) -> Vec<Option<f64>> {
            Cmd::new("ZMSCORE").arg(key).arg(members)
        }
        /// ZRANK: a member's rank, lowest score first.
        fn zrank(key: impl ToArg, member: impl ToArg) -> Option<i64> { Cmd::new("ZRANK").arg(key).arg(member) }
        /// ZREVRANK: a member's rank, highest score first.
        fn zrevrank(key: impl ToArg, member: impl ToArg) -> Option<i64> { Cmd::new("ZREVRANK").arg(key).arg(member) }
        /// ZCOUNT: how many scores lie between two bounds.
        fn zcount(key: impl ToArg, min: ScoreBound, max: ScoreBound) -> i64 {
            Cmd::new("ZCOUNT").arg(key).arg(min).arg(max)
        }
        /// ZLEXCOUNT: how many members lie between two lex bounds.
        fn zlexcount(key: impl ToArg, min: LexBound, max: LexBound) -> i64 {
            Cmd::new("ZLEXCOUNT").arg(key).arg(min).arg(max)
        }
        /// ZINCRBY: add to a member's score; the new score.
        fn zincr_by(key: impl ToArg, by: f64, member: impl ToArg) -> f64 {
            Cmd::new("ZINCRBY").arg(key).arg(by).arg(member)
        }
        /// ZREM: remove members; how many existed.
        fn zrem(key: impl ToArg, members: impl ToArg) -> i64 { Cmd::new("ZREM").arg(key).arg(members) }
        /// ZRANDMEMBER: a random member.
        fn zrandmember<V>(key: impl ToArg) -> Option<V> { Cmd::new("ZRANDMEMBER").arg(key) }
        /// ZRANDMEMBER … WITHSCORES: random members with scores (negative count allows repeats).
        fn zrandmember_with_scores<V>(key: impl ToArg, count: i64) -> Scored<V> {
            Cmd::new("ZRANDMEMBER").arg(key).arg(count).arg("WITHSCORES")
        }
        /// ZSCAN: one page of `(member, score)` pairs.
        fn zscan<V>(key: impl ToArg, cursor: u64, options: ScanOptions) -> ScanPage<(V, f64)> {
            Cmd::new("ZSCAN").arg(key).arg(cursor).arg(options)
        }
        /// ZRANGEBYSCORE (deprecated form of ZRANGE … BYSCORE), with optional LIMIT.
        fn zrangebyscore<V>(key: impl ToArg, min: ScoreBound, max: ScoreBound, limit: Option<(i64, i64)>) -> Vec<V> {
            Cmd::new("ZRANGEBYSCORE").arg(key).arg(min).arg(max).arg(limit.map(|(o, c)| ("LIMIT", o, c)))
        }
        /// ZREVRANGE: members by rank, highest first.
        fn zrevrange<V>(key: impl ToArg, start: i64, stop: i64) -> Vec<V> {
            Cmd::new("ZREVRANGE").arg(key).arg(start).arg(stop)
        }
        /// ZREVRANGEBYSCORE: members between `max` and `min`, highest first.
        fn zrevrangebyscore<V>(key: impl ToArg, max: ScoreBound, min: ScoreBound, limit: Option<(i64, i64)>) -> Vec<V> {
            Cmd::new("ZREVRANGEBYSCORE").arg(key).arg(max).arg(min).arg(limit.map(|(o, c)| ("LIMIT", o, c)))
        }
        /// ZRANGEBYLEX: members between two lex bounds.
        fn zrangebylex<V>(key: impl ToArg, min: LexBound, max: LexBound, limit: Option<(i64, i64)>) -> Vec<V> {
            Cmd::new("ZRANGEBYLEX").arg(key).arg(min).arg(max).arg(limit.map(|(o, c)| ("LIMIT", o, c)))
        }
        /// ZREVRANGEBYLEX: members between `max` and `min`, in reverse order.
        fn zrevrangebylex<V>(key: impl ToArg, max: LexBound, min: LexBound, limit: Option<(i64, i64)>) -> Vec<V> {
            Cmd::new("ZREVRANGEBYLEX").arg(key).arg(max).arg(min).arg(limit.map(|(o, c)| ("LIMIT", o, c)))
        }
        /// ZREMRANGEBYRANK: remove members ranked `start..=stop`; how many.
        fn zremrangebyrank(key: impl ToArg, start: i64, stop: i64) -> i64 {
            Cmd::new("ZREMRANGEBYRANK").arg(key).arg(start).arg(stop)
        }
        /// ZREMRANGEBYSCORE: remove members with scores in a range; how many.
        fn zremrangebyscore(key: impl ToArg, min: ScoreBound, max: ScoreBound) -> i64 {
            Cmd::new("ZREMRANGEBYSCORE").arg(key).arg(min).arg(max)
        }
        /// ZREMRANGEBYLEX: remove members in a lex range; how many.
        fn zremrangebylex(key: impl ToArg, min: LexBound, max: LexBound) -> i64 {
            Cmd::new("ZREMRANGEBYLEX").arg(key).arg(min).arg(max)
        }
        /// ZPOPMIN: remove and return up to `count` lowest-scored members.
        fn zpopmin<V>(key: impl ToArg, count: u64) -> Scored<V> { Cmd::new("ZPOPMIN").arg(key).arg(count) }
        /// ZPOPMAX: remove and return up to `count` highest-scored members.
        fn zpopmax<V>(key: impl ToArg, count: u64) -> Scored<V> { Cmd::new("ZPOPMAX").arg(key).arg(count) }
        /// BZPOPMIN: pop the lowest member of the first non-empty set, waiting up to `timeout`;
        /// `(key, member, score)`.
        fn bzpopmin<V>(keys: impl ToArg, timeout: Option<Duration>) -> Option<(String, V, f64)> {
            Cmd::new("BZPOPMIN").arg(keys).arg(BlockTimeout(timeout))
        }
        /// BZPOPMAX: pop the highest member, waiting up to `timeout`.
        fn bzpopmax<V>(keys: impl ToArg, timeout: Option<Duration>) -> Option<(String, V, f64)> {
            Cmd::new("BZPOPMAX").arg(keys).arg(BlockTimeout(timeout))
        }
        /// ZMPOP: pop up to `count` lowest (`min = true`) or highest members from the first non-empty set.
        fn zmpop<V>(keys: &[impl ToArg], min: bool, count: u64) -> KeyedPop<(V, f64)> {
            Cmd::new("ZMPOP").arg(keys.len()).arg(keys).arg(if min { "MIN" } else { "MAX" }).arg("COUNT").arg(count)
        }
        /// ZUNIONSTORE: store the union in `dest`; its size.
        fn zunionstore(dest: impl ToArg, keys: &[impl ToArg], options: ZCombineOptions) -> i64 {
            Cmd::new("ZUNIONSTORE").arg(dest).arg(keys.len()).arg(keys).arg(options)
        }
        /// ZINTERSTORE: store the intersection in `dest`; its size.
        fn zinterstore(dest: impl ToArg, keys: &[impl ToArg], options: ZCombineOptions) -> i64 {
            Cmd::new("ZINTERSTORE").arg(dest).arg(keys.len()).arg(keys).arg(options)
        }
        /// ZDIFFSTORE: store the difference in `dest`; its size.
        fn zdiffstore(dest: impl ToArg, keys: &[impl ToArg]) -> i64 {
            Cmd::new("ZDIFFSTORE").arg(dest).arg(keys.len()).arg(keys)
        }
        /// ZUNION … WITHSCORES.
        fn zunion<V>(keys: &[impl ToArg], options: ZCombineOptions) -> Scored<V> {
            Cmd::new("ZUNION").arg(keys.len()).arg(keys).arg(options).arg("WITHSCORES")
        }
        /// ZINTER … WITHSCORES.
        fn zinter<V>(keys: &[impl ToArg], options: ZCombineOptions) -> Scored<V> {
            Cmd::new("ZINTER").arg(keys.len()).arg(keys).arg(options).arg("WITHSCORES")
        }
        /// ZDIFF … WITHSCORES.
        fn zdiff<V>(keys: &[impl ToArg]) -> Scored<V> {
            Cmd::new("ZDIFF").arg(keys.len()).arg(keys).arg("WITHSCORES")
        }
        /// ZINTERCARD: the size of the intersection, counting at most `limit` (0: no limit).
        fn zintercard(keys: &[impl ToArg], limit: u64) -> i64 {
            Cmd::new("ZINTERCARD").arg(keys.len()).arg(keys).arg("LIMIT").arg(limit)
        }
    }
}
