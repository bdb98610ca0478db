//! Streams and consumer groups.

use std::time::Duration;

use redkit_resp::{Cmd, ToArg, Value};

use super::commands;
use super::options::{Millis, StreamEntry, StreamId, StreamRead, StreamTrim, XAddOptions, XReadOptions};

commands! {
    /// Stream commands. Reads with `BLOCK` run on a connection of their own.
    pub trait StreamCommands {
        /// XADD with an auto-generated ID (`*`); the new entry's ID, `None` with NOMKSTREAM and no stream.
        fn xadd(key: impl ToArg, options: XAddOptions, fields: impl ToArg) -> Option<StreamId> {
            Cmd::new("XADD").arg(key).arg(options).arg("*").arg(fields)
        }
        /// XADD with an explicit (or partial, `"1526919030474-*"`) ID.
        fn xadd_id(key: impl ToArg, options: XAddOptions, id: impl ToArg, fields: impl ToArg) -> Option<StreamId> {
            Cmd::new("XADD").arg(key).arg(options).arg(id).arg(fields)
        }
        /// XRANGE: entries from `start` to `end` (`-` and `+` for the ends, `(id` for exclusive).
        fn xrange<V>(key: impl ToArg, start: impl ToArg, end: impl ToArg, count: Option<u64>) -> Vec<StreamEntry<V>> {
            Cmd::new("XRANGE").arg(key).arg(start).arg(end).arg(count.map(|c| ("COUNT", c)))
        }
        /// XRANGE with each entry read as `E` instead of a [`StreamEntry`]: `(String, Vec<(Bytes, Bytes)>)` keeps
        /// field names that are not UTF-8 (a [`StreamEntry`]'s are `String`s), `Value` keeps the reply as is.
        ///
        /// ```
        /// use bytes::Bytes;
        /// use redkit::XAddOptions;
        /// use redkit::prelude::*;
        ///
        /// # #[tokio::main(flavor = "current_thread")]
        /// # async fn main() -> redkit::Result<()> {
        /// let redis = redkit_server::Mock::new(); // or a redkit::Client, a pool…
        /// redis.xadd_id("s", XAddOptions::new(), "1-1", [(&b"\xffname"[..], "ada")]).await?;
        /// let entries: Vec<(String, Vec<(Bytes, Bytes)>)> = redis.xrange_as("s", "-", "+", None).await?;
        /// let fields = vec![(Bytes::from_static(b"\xffname"), Bytes::from_static(b"ada"))];
        /// assert_eq!(entries, [("1-1".to_owned(), fields)]);
        /// # Ok(()) }
        /// ```
        fn xrange_as<E>(key: impl ToArg, start: impl ToArg, end: impl ToArg, count: Option<u64>) -> Vec<E> {
            Cmd::new("XRANGE").arg(key).arg(start).arg(end).arg(count.map(|c| ("COUNT", c)))
        }
        /// XREVRANGE: entries from `end` down to `start`.
        fn xrevrange<V>(key: impl ToArg, end: impl ToArg, start: impl ToArg, count: Option<u64>) -> Vec<StreamEntry<V>> {
            Cmd::new("XREVRANGE").arg(key).arg(end).arg(start).arg(count.map(|c| ("COUNT", c)))
        }
        /// XLEN: the number of entries.
        fn xlen(key: impl ToArg) -> i64 { Cmd::new("XLEN").arg(key) }
        /// XDEL: delete entries; how many existed.
        fn xdel(key: impl ToArg, ids: impl ToArg) -> i64 { Cmd::new("XDEL").arg(key).arg(ids) }
        /// XTRIM: trim the stream; how many entries were removed.
        fn xtrim(key: impl ToArg, trim: StreamTrim) -> i64 { Cmd::new("XTRIM").arg(key).arg(trim) }
        /// XREAD: entries after the given IDs (`$` for new ones), per stream; empty on timeout.
        fn xread<V>(options: XReadOptions, keys: &[impl ToArg], ids: &[impl ToArg]) -> StreamRead<V> {
            Cmd::new("XREAD").arg(options).arg("STREAMS").arg(keys).arg(ids)
        }
        /// XREADGROUP: read as `consumer` of `group` (`>` for new entries, an ID for the consumer's history).
        fn xreadgroup<V>(group: impl ToArg, consumer: impl ToArg, options: XReadOptions, keys: &[impl ToArg], ids: &[impl ToArg]) -> StreamRead<V> {
            Cmd::new("XREADGROUP").arg("GROUP").arg(group).arg(consumer).arg(options).arg("STREAMS").arg(keys).arg(ids)
        }
        /// XACK: acknowledge entries; how many were pending.
        fn xack(key: impl ToArg, group: impl ToArg, ids: impl ToArg) -> i64 {
            Cmd::new("XACK").arg(key).arg(group).arg(ids)
        }
        /// XPENDING summary: `(count, smallest id, greatest id, [(consumer, count)])`.
        fn xpending(key: impl ToArg, group: impl ToArg) -> (i64, Option<String>, Option<String>, Option<Vec<(String, i64)>>) {
            Cmd::new("XPENDING").arg(key).arg(group)
        }
        /// XPENDING extended: `(id, consumer, idle ms, deliveries)` for pending entries in a range, optionally
        /// only those idle at least `min_idle` and owned by `consumer`.
        fn xpending_range(key: impl ToArg, group: impl ToArg, min_idle: Option<Duration>, start: impl ToArg, end: impl ToArg, count: u64, consumer: Option<&str>) -> Vec<(StreamId, String, i64, i64)> {
            Cmd::new("XPENDING").arg(key).arg(group).arg(min_idle.map(|d| ("IDLE", Millis(d)))).arg(start).arg(end).arg(count).arg(consumer)
        }
        /// XCLAIM: take over pending entries idle at least `min_idle`; the entries claimed. `options` may add
        /// `IDLE ms`, `TIME ms`, `RETRYCOUNT n`, `FORCE`, `LASTID id` (not `JUSTID`: see `xclaim_ids`).
        fn xclaim<V>(key: impl ToArg, group: impl ToArg, consumer: impl ToArg, min_idle: Duration, ids: impl ToArg, options: impl ToArg) -> Vec<StreamEntry<V>> {
            Cmd::new("XCLAIM").arg(key).arg(group).arg(consumer).arg(Millis(min_idle)).arg(ids).arg(options)
        }
        /// XCLAIM … JUSTID: the IDs claimed.
        fn xclaim_ids(key: impl ToArg, group: impl ToArg, consumer: impl ToArg, min_idle: Duration, ids: impl ToArg, options: impl ToArg) -> Vec<StreamId> {
            Cmd::new("XCLAIM").arg(key).arg(group).arg(consumer).arg(Millis(min_idle)).arg(ids).arg(options).arg("JUSTID")
        }
        /// XAUTOCLAIM: claim entries idle at least `min_idle` from `start`; `(next start, entries, deleted ids)`.
        fn xautoclaim<V>(key: impl ToArg, group: impl ToArg, consumer: impl ToArg, min_idle: Duration, start: impl ToArg, count: Option<u64>) -> (StreamId, Vec<StreamEntry<V>>, Vec<StreamId>) {
            Cmd::new("XAUTOCLAIM").arg(key).arg(group).arg(consumer).arg(Millis(min_idle)).arg(start).arg(count.map(|c| ("COUNT", c)))
        }
        /// XGROUP CREATE: create a group starting after `id` (`$` for new entries, `0` for all).
        fn xgroup_create(key: impl ToArg, group: impl ToArg, id: impl ToArg, mkstream: bool) -> () {
            Cmd::new("XGROUP").arg("CREATE").arg(key).arg(group).arg(id).arg(mkstream.then_some("MKSTREAM"))
        }
        /// XGROUP CREATECONSUMER: `true` if the consumer was created.
        fn xgroup_createconsumer(key: impl ToArg, group: impl ToArg, consumer: impl ToArg) -> bool {
            Cmd::new("XGROUP").arg("CREATECONSUMER").arg(key).arg(group).arg(consumer)
        }
        /// XGROUP DELCONSUMER: the number of entries the consumer had pending.
        fn xgroup_delconsumer(key: impl ToArg, group: impl ToArg, consumer: impl ToArg) -> i64 {
            Cmd::new("XGROUP").arg("DELCONSUMER").arg(key).arg(group).arg(consumer)
        }
        /// XGROUP DESTROY: `true` if the group existed.
        fn xgroup_destroy(key: impl ToArg, group: impl ToArg) -> bool {
            Cmd::new("XGROUP").arg("DESTROY").arg(key).arg(group)
        }
        /// XGROUP SETID: move the group's last-delivered ID.
        fn xgroup_setid(key: impl ToArg, group: impl ToArg, id: impl ToArg) -> () {
            Cmd::new("XGROUP").arg("SETID").arg(key).arg(group).arg(id)
        }
        /// XINFO STREAM: the stream's description as field-value pairs (a map in RESP3).
        fn xinfo_stream(key: impl ToArg) -> Vec<(String, Value)> { Cmd::new("XINFO").arg("STREAM").arg(key) }
        /// XINFO GROUPS: one description per group.
        fn xinfo_groups(key: impl ToArg) -> Vec<Vec<(String, Value)>> { Cmd::new("XINFO").arg("GROUPS").arg(key) }
        /// XINFO CONSUMERS: one description per consumer of a group.
        fn xinfo_consumers(key: impl ToArg, group: impl ToArg) -> Vec<Vec<(String, Value)>> {
            Cmd::new("XINFO").arg("CONSUMERS").arg(key).arg(group)
        }
    }
}
