//! The run-time settings CONFIG GET/SET work on ([`Settings`]).

/// The run-time settings CONFIG GET/SET work on.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Microseconds; negative disables the slow log, 0 logs everything.
    pub(crate) slowlog_log_slower_than: i64,
    pub(crate) slowlog_max_len: usize,
    /// `busy-reply-threshold` (`lua-time-limit`): milliseconds a script runs before others get BUSY.
    pub(crate) busy_reply_threshold: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            busy_reply_threshold: 5000,
        }
    }
}
