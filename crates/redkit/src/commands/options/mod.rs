//! Option builders and result types shared by the command families. Options are [`ToArg`](redkit_resp::ToArg)s
//! that write their own tokens, so a command body reads `Cmd::new("SET").arg(key).arg(value).arg(options)`.
//!
//! One file per family, named as the command files (`key.rs`, `string.rs`, `zset.rs`…), plus `time.rs` for the
//! durations and times several families send; every type is re-exported here (and from the crate root).

mod connection;
mod geo;
mod key;
mod list;
mod stream;
mod string;
mod time;
mod wire;
mod zset;

pub use connection::ClientKillFilter;
pub use geo::{GeoMatch, GeoSearch, GeoUnit};
pub use key::{Condition, ExpireCondition, ExpireTime, ScanOptions, ScanPage, Ttl, TtlSeconds};
pub use list::{KeyedPop, LPosOptions, Position, Side};
pub use stream::{StreamEntry, StreamId, StreamRead, StreamTrim, XAddOptions, XReadOptions};
pub use string::{BitOp, BitRange, BitUnit, Expiry, SetOptions};
pub use time::{BlockTimeout, Millis, Seconds, UnixMillis, UnixSeconds};
pub use zset::{
    Aggregate, LexBound, ScoreBound, Scored, ZAddOptions, ZCombineOptions, ZRange, ZRangeOptions,
};

/// How many of the given items exist, were added, … : a count the server returns as an integer.
pub type Count = i64;
