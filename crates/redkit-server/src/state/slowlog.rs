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
    entries: std::collections::VecDeque<SlowEntry>,
    next_id: u64,
}

/// What a slow command leaves in the log (its id and its place are the log's).
#[derive(Debug)]
pub(crate) struct SlowCommand {
    pub(crate) time_s: i64,
    pub(crate) micros: i64,
    pub(crate) args: Vec<Bytes>,
    pub(crate) addr: String,
    pub(crate) name: Bytes,
}

impl Slowlog {
    /// Log a slow command as the newest entry, keeping at most `max_len` (`slowlog-max-len`).
    pub(crate) fn push(&mut self, command: SlowCommand, max_len: usize) {
        let SlowCommand {
            time_s,
            micros,
            args,
            addr,
            name,
        } = command;
        self.entries.push_front(SlowEntry {
            id: self.next_id,
            time_s,
            micros,
            args,
            addr,
            name,
        });
        self.next_id += 1;
        self.entries.truncate(max_len);
    }

    /// The entries, newest first.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &SlowEntry> {
        self.entries.iter()
    }

    /// How many entries are kept (SLOWLOG LEN).
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// SLOWLOG RESET: forget every entry (ids keep counting).
    pub(crate) fn reset(&mut self) {
        self.entries.clear();
    }
}
