//! The slow log ([`Slowlog`]): the most recent commands that took at least `slowlog-log-slower-than`.

use bytes::Bytes;

/// One SLOWLOG entry.
#[derive(Debug)]
pub(crate) struct SlowEntry {
    pub(crate) id: u64,
    pub(crate) time_s: i64,
    pub(crate) micros: i64,
    pub(crate) args: Vec<Bytes>,
    pub(crate) addr: String,
    pub(crate) name: Bytes,
}

/// The slow log: the most recent commands that took at least `slowlog-log-slower-than`, newest first.
#[derive(Debug, Default)]
pub(crate) struct Slowlog {
    pub(crate) entries: std::collections::VecDeque<SlowEntry>,
    pub(crate) next_id: u64,
}
