//! The limits on what clients can make the server hold, with Redis's configuration names and defaults: read by
//! the connections without the server lock (they are atomics), changed by CONFIG SET under it.
//!
//! | limit | config name | default | what happens past it |
//! | --- | --- | --- | --- |
//! | connected clients | `maxclients` | 10000 | the new connection gets `ERR max number of clients reached` and is closed |
//! | idle time | `timeout` | 0 (never) | an idle client (not subscribed, not blocked) is closed |
//! | unparsed input | `client-query-buffer-limit` | 1 GiB | the client is closed, with Redis's log line |
//! | pending output | `client-output-buffer-limit` | `normal 0 0 0 … pubsub 32mb 8mb 60` | the client is closed |
//! | loopback only without a password | `protected-mode` | yes | a non-loopback peer gets `DENIED …` |
//!
//! Before AUTH (with a password set) a request may hold at most 10 arguments of at most 16 KiB each, as in Redis
//! since CVE-2021-32675; the request parser (`request.rs`) enforces that.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Redis's default `maxclients`.
pub(crate) const DEFAULT_MAXCLIENTS: u64 = 10_000;
/// Redis's default `client-query-buffer-limit` (1 GiB).
pub(crate) const DEFAULT_QUERY_BUFFER: u64 = 1 << 30;
/// The smallest `client-query-buffer-limit` CONFIG SET accepts (1 MiB), as in Redis.
pub(crate) const MIN_QUERY_BUFFER: u64 = 1 << 20;

/// The client classes `client-output-buffer-limit` distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Every client that is neither a replica nor subscribed.
    Normal,
    /// Replicas (no replication here: the setting is kept for CONFIG GET only).
    Replica,
    /// Clients subscribed to a channel or pattern.
    Pubsub,
}

impl Class {
    const ALL: [Class; 3] = [Class::Normal, Class::Replica, Class::Pubsub];

    fn name(self) -> &'static str {
        match self {
            Class::Normal => "normal",
            Class::Replica => "slave",
            Class::Pubsub => "pubsub",
        }
    }

    fn parse(name: &str) -> Option<Class> {
        match name.to_ascii_lowercase().as_str() {
            "normal" => Some(Class::Normal),
            "replica" | "slave" => Some(Class::Replica),
            "pubsub" => Some(Class::Pubsub),
            _ => None,
        }
    }
}

/// One class's output limit: 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct OutputLimit {
    /// Bytes past which the client is closed at once.
    pub(crate) hard: u64,
    /// Bytes past which, held for `soft_secs` seconds, the client is closed.
    pub(crate) soft: u64,
    /// How long the soft limit may be exceeded.
    pub(crate) soft_secs: u64,
}

impl OutputLimit {
    /// Whether `pending` bytes, above the soft limit since `over_since` (if they are), break this limit.
    pub(crate) fn exceeded(&self, pending: u64, over_since: Option<std::time::Instant>) -> bool {
        if self.hard > 0 && pending >= self.hard {
            return true;
        }
        self.soft > 0
            && pending >= self.soft
            && over_since.is_some_and(|t| t.elapsed().as_secs() >= self.soft_secs)
    }
}

#[derive(Debug, Default)]
struct AtomicLimit {
    hard: AtomicU64,
    soft: AtomicU64,
    soft_secs: AtomicU64,
}

/// The limits, shared by the state (CONFIG) and every connection.
#[derive(Debug)]
pub(crate) struct Limits {
    maxclients: AtomicU64,
    timeout_secs: AtomicU64,
    query_buffer: AtomicU64,
    output: [AtomicLimit; 3],
    protected_mode: AtomicBool,
    /// A password is set: unauthenticated connections get the pre-AUTH limits.
    password_set: AtomicBool,
    /// Connections open now.
    connected: AtomicUsize,
    /// Connection tasks that panicked (each is logged; tests that send random input assert none).
    panics: AtomicU64,
}

impl Default for Limits {
    fn default() -> Self {
        let limits = Limits {
            maxclients: AtomicU64::new(DEFAULT_MAXCLIENTS),
            timeout_secs: AtomicU64::new(0),
            query_buffer: AtomicU64::new(DEFAULT_QUERY_BUFFER),
            output: Default::default(),
            protected_mode: AtomicBool::new(true),
            password_set: AtomicBool::new(false),
            connected: AtomicUsize::new(0),
            panics: AtomicU64::new(0),
        };
        limits.set_output(
            Class::Replica,
            OutputLimit {
                hard: 256 << 20,
                soft: 64 << 20,
                soft_secs: 60,
            },
        );
        limits.set_output(
            Class::Pubsub,
            OutputLimit {
                hard: 32 << 20,
                soft: 8 << 20,
                soft_secs: 60,
            },
        );
        limits
    }
}

impl Limits {
    /// `maxclients`.
    pub(crate) fn maxclients(&self) -> u64 {
        self.maxclients.load(Ordering::Relaxed)
    }

    pub(crate) fn set_maxclients(&self, n: u64) {
        self.maxclients.store(n, Ordering::Relaxed);
    }

    /// `timeout`: idle clients are closed after this long; `None` never.
    pub(crate) fn idle_timeout(&self) -> Option<std::time::Duration> {
        match self.timeout_secs.load(Ordering::Relaxed) {
            0 => None,
            s => Some(std::time::Duration::from_secs(s)),
        }
    }

    pub(crate) fn timeout_secs(&self) -> u64 {
        self.timeout_secs.load(Ordering::Relaxed)
    }

    pub(crate) fn set_timeout_secs(&self, s: u64) {
        self.timeout_secs.store(s, Ordering::Relaxed);
    }

    /// `client-query-buffer-limit`, in bytes.
    pub(crate) fn query_buffer(&self) -> u64 {
        self.query_buffer.load(Ordering::Relaxed)
    }

    pub(crate) fn set_query_buffer(&self, n: u64) {
        self.query_buffer.store(n, Ordering::Relaxed);
    }

    /// `client-output-buffer-limit` of one class.
    pub(crate) fn output(&self, class: Class) -> OutputLimit {
        let a = &self.output[class as usize];
        OutputLimit {
            hard: a.hard.load(Ordering::Relaxed),
            soft: a.soft.load(Ordering::Relaxed),
            soft_secs: a.soft_secs.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn set_output(&self, class: Class, limit: OutputLimit) {
        let a = &self.output[class as usize];
        a.hard.store(limit.hard, Ordering::Relaxed);
        a.soft.store(limit.soft, Ordering::Relaxed);
        a.soft_secs.store(limit.soft_secs, Ordering::Relaxed);
    }

    /// CONFIG GET's text: `normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60`.
    pub(crate) fn output_text(&self) -> String {
        Class::ALL
            .iter()
            .map(|&c| {
                let l = self.output(c);
                format!("{} {} {} {}", c.name(), l.hard, l.soft, l.soft_secs)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `protected-mode`.
    pub(crate) fn protected_mode(&self) -> bool {
        self.protected_mode.load(Ordering::Relaxed)
    }

    pub(crate) fn set_protected_mode(&self, on: bool) {
        self.protected_mode.store(on, Ordering::Relaxed);
    }

    /// Whether a password is set (kept in step with `requirepass`).
    pub(crate) fn password_set(&self) -> bool {
        self.password_set.load(Ordering::Relaxed)
    }

    pub(crate) fn set_password_set(&self, set: bool) {
        self.password_set.store(set, Ordering::Relaxed);
    }

    /// Count a new connection; `false` (and not counted) when `maxclients` are already connected.
    pub(crate) fn admit(&self) -> bool {
        let max = usize::try_from(self.maxclients()).unwrap_or(usize::MAX);
        self.connected
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < max).then_some(n + 1))
            .is_ok()
    }

    /// A connection counted by [`Limits::admit`] closed.
    pub(crate) fn release(&self) {
        let _ = self
            .connected
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// Connections open now.
    #[cfg(test)]
    pub(crate) fn connected(&self) -> usize {
        self.connected.load(Ordering::SeqCst)
    }

    /// A connection task panicked.
    pub(crate) fn count_panic(&self) {
        self.panics.fetch_add(1, Ordering::SeqCst);
    }

    /// Connection tasks that panicked since start.
    pub(crate) fn panics(&self) -> u64 {
        self.panics.load(Ordering::SeqCst)
    }
}

/// Redis's `memtoull`: a byte count with an optional unit (`b`, `k`=1000, `kb`=1024, `m`, `mb`, `g`, `gb`; any
/// case). `None` for anything else.
pub(crate) fn parse_memory(text: &str) -> Option<u64> {
    let text = text.to_ascii_lowercase();
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1_000_000,
        "mb" => 1 << 20,
        "g" => 1_000_000_000,
        "gb" => 1 << 30,
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(mul)
}

/// Parse a `client-output-buffer-limit` value (`<class> <hard> <soft> <soft seconds>` groups) into the limits
/// it sets, or Redis's reason for refusing it.
pub(crate) fn parse_output_limits(text: &str) -> Result<Vec<(Class, OutputLimit)>, &'static str> {
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.");
    }
    words
        .chunks(4)
        .map(|group| {
            let class = Class::parse(group[0])
                .ok_or("Invalid client class specified in buffer limit configuration.")?;
            let bad = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            let hard = parse_memory(group[1]).ok_or(bad)?;
            let soft = parse_memory(group[2]).ok_or(bad)?;
            let soft_secs = group[3].parse::<u64>().map_err(|_| bad)?;
            Ok((
                class,
                OutputLimit {
                    hard,
                    soft,
                    soft_secs,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_are_redis_units() {
        assert_eq!(parse_memory("0"), Some(0));
        assert_eq!(parse_memory("1mb"), Some(1 << 20));
        assert_eq!(parse_memory("1MB"), Some(1 << 20));
        assert_eq!(parse_memory("2k"), Some(2000));
        assert_eq!(parse_memory("3gb"), Some(3 << 30));
        assert_eq!(parse_memory("1xb"), None);
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("mb"), None);
        assert_eq!(parse_memory("99999999999999999999gb"), None);
    }

    #[test]
    fn output_limits_parse_and_print_as_redis() {
        let limits = Limits::default();
        assert_eq!(
            limits.output_text(),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        let set = parse_output_limits("pubsub 1mb 256kb 5 replica 0 0 0").unwrap_or_default();
        assert_eq!(set.len(), 2);
        for (class, limit) in set {
            limits.set_output(class, limit);
        }
        assert_eq!(
            limits.output_text(),
            "normal 0 0 0 slave 0 0 0 pubsub 1048576 262144 5"
        );
        assert!(parse_output_limits("pubsub 1mb 2mb").is_err());
        assert!(parse_output_limits("master 1 1 1").is_err());
        assert!(parse_output_limits("pubsub x 1 1").is_err());
    }

    #[test]
    fn soft_limits_need_their_time() {
        let limit = OutputLimit {
            hard: 100,
            soft: 10,
            soft_secs: 60,
        };
        assert!(limit.exceeded(100, None));
        assert!(!limit.exceeded(50, None));
        assert!(!limit.exceeded(50, Some(std::time::Instant::now())));
        let unlimited = OutputLimit::default();
        assert!(!unlimited.exceeded(u64::MAX, Some(std::time::Instant::now())));
    }

    #[test]
    fn admission_stops_at_maxclients() {
        let limits = Limits::default();
        limits.set_maxclients(2);
        assert!(limits.admit());
        assert!(limits.admit());
        assert!(!limits.admit());
        limits.release();
        assert!(limits.admit());
        assert_eq!(limits.connected(), 2);
    }
}
