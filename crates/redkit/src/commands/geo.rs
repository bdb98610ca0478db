//! Geospatial indexes (sorted sets of geohash-scored members).

use redkit_resp::{Cmd, ToArg};

use super::commands;
use super::options::{Condition, GeoMatch, GeoSearch, GeoUnit};

commands! {
    /// Geo commands.
    pub trait GeoCommands {
        /// GEOADD: add `(longitude, latitude, member)` triples; how many were added (changed, with `ch`).
        fn geoadd(key: impl ToArg, condition: Condition, ch: bool, items: impl ToArg) -> i64 {
            Cmd::new("GEOADD").arg(key).arg(condition).arg(ch.then_some("CH")).arg(items)
        }
        /// GEODIST: the distance between two members.
        fn geodist(key: impl ToArg, member1: impl ToArg, member2: impl ToArg, unit: GeoUnit) -> Option<f64> {
            Cmd::new("GEODIST").arg(key).arg(member1).arg(member2).arg(unit)
        }
        /// GEOHASH: 11-character geohash strings.
        fn geohash(key: impl ToArg, members: impl ToArg) -> Vec<Option<String>> {
            Cmd::new("GEOHASH").arg(key).arg(members)
        }
        /// GEOPOS: `(longitude, latitude)` of each member.
        fn geopos(key: impl ToArg, members: impl ToArg) -> Vec<Option<(f64, f64)>> {
            Cmd::new("GEOPOS").arg(key).arg(members)
        }
        /// GEOSEARCH: the matching members.
        fn geosearch<V>(key: impl ToArg, query: GeoSearch) -> Vec<V> { Cmd::new("GEOSEARCH").arg(key).arg(query) }
        /// GEOSEARCH … WITHCOORD WITHDIST WITHHASH: members with distance, hash and position.
        fn geosearch_with(key: impl ToArg, query: GeoSearch) -> Vec<GeoMatch> {
            Cmd::new("GEOSEARCH").arg(key).arg(query).arg(("WITHDIST", "WITHHASH", "WITHCOORD"))
        }
        /// GEOSEARCHSTORE: store the matches in `dest` (with `store_dist`, scored by distance); how many.
        fn geosearchstore(dest: impl ToArg, source: impl ToArg, query: GeoSearch, store_dist: bool) -> i64 {
            Cmd::new("GEOSEARCHSTORE").arg(dest).arg(source).arg(query).arg(store_dist.then_some("STOREDIST"))
        }
    }
}
