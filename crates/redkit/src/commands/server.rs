//! Server commands: INFO (parsed), database size and flushing, persistence, CONFIG, SLOWLOG, COMMAND, WAIT.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redkit_resp::{Cmd, FromValue, Result, ToArg, Value};

use super::commands;
use super::options::Millis;

/// INFO, parsed: section name (lower case, as in `# Server` → `server`) to its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    /// The sections, each a map of field to value.
    pub sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl Info {
    /// Parse INFO's text.
    pub fn parse(text: &str) -> Info {
        let mut info = Info::default();
        let mut current = String::from("default");
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(name) = line.strip_prefix('#') {
                current = name.trim().to_ascii_lowercase();
                info.sections.entry(current.clone()).or_default();
            } else if let Some((k, v)) = line.split_once(':') {
                info.sections
                    .entry(current.clone())
                    .or_default()
                    .insert(k.to_owned(), v.to_owned());
            }
        }
        info
    }

    /// A field from any section (`info.get("redis_version")`).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.sections
            .values()
            .find_map(|s| s.get(field))
            .map(String::as_str)
    }

    /// A field parsed as a number or other type.
    pub fn get_parsed<T: std::str::FromStr>(&self, field: &str) -> Option<T> {
        self.get(field)?.parse().ok()
    }
}

impl FromValue for Info {
    fn from_value(value: Value) -> Result<Self> {
        String::from_value(value).map(|t| Info::parse(&t))
    }
}

/// The server's clock, from TIME.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerTime(pub SystemTime);

impl FromValue for ServerTime {
    fn from_value(value: Value) -> Result<Self> {
        let (secs, micros): (u64, u64) = FromValue::from_value(value)?;
        Ok(ServerTime(
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros),
        ))
    }
}

/// One SLOWLOG entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowlogEntry {
    /// Unique, increasing ID.
    pub id: i64,
    /// When the command ran (Unix seconds).
    pub timestamp: i64,
    /// How long it took.
    pub duration: Duration,
    /// The command and its arguments (long ones shortened by the server).
    pub args: Vec<String>,
    /// The client's address, when the server records it.
    pub client_addr: Option<String>,
    /// The client's name, when set.
    pub client_name: Option<String>,
}

impl FromValue for SlowlogEntry {
    fn from_value(value: Value) -> Result<Self> {
        let items: Vec<Value> = FromValue::from_value(value)?;
        let mut it = items.into_iter();
        let mut next = || it.next().unwrap_or(Value::Null);
        let id = i64::from_value(next())?;
        let timestamp = i64::from_value(next())?;
        let micros = u64::from_value(next())?;
        let args = Vec::from_value(next())?;
        let client_addr = Option::from_value(next())?;
        let client_name = Option::<String>::from_value(next())?.filter(|n| !n.is_empty());
        Ok(SlowlogEntry {
            id,
            timestamp,
            duration: Duration::from_micros(micros),
            args,
            client_addr,
            client_name,
        })
    }
}

commands! {
    /// Server commands.
    pub trait ServerCommands {
        /// INFO: the default sections, or one named section (`"all"`, `"server"`, …), parsed.
        fn info(section: Option<&str>) -> Info { Cmd::new("INFO").arg(section) }
        /// DBSIZE: the number of keys in the current database.
        fn dbsize() -> i64 { Cmd::new("DBSIZE") }
        /// LASTSAVE: the Unix time of the last successful save.
        fn lastsave() -> i64 { Cmd::new("LASTSAVE") }
        /// BGSAVE: start a background save.
        fn bgsave() -> String { Cmd::new("BGSAVE") }
        /// BGREWRITEAOF: start an append-only-file rewrite.
        fn bgrewriteaof() -> String { Cmd::new("BGREWRITEAOF") }
        /// TIME: the server's clock.
        fn time() -> ServerTime { Cmd::new("TIME") }
        /// CONFIG GET: parameters matching a pattern, with their values.
        fn config_get(pattern: impl ToArg) -> BTreeMap<String, String> { Cmd::new("CONFIG").arg("GET").arg(pattern) }
        /// CONFIG SET: set parameters (`("maxmemory", "100mb")`).
        fn config_set(pairs: impl ToArg) -> () { Cmd::new("CONFIG").arg("SET").arg(pairs) }
        /// CONFIG REWRITE: write the running configuration to the config file.
        fn config_rewrite() -> () { Cmd::new("CONFIG").arg("REWRITE") }
        /// CONFIG RESETSTAT: reset INFO statistics.
        fn config_resetstat() -> () { Cmd::new("CONFIG").arg("RESETSTAT") }
        /// MEMORY USAGE: bytes used by a key and its value.
        fn memory_usage(key: impl ToArg) -> Option<i64> { Cmd::new("MEMORY").arg("USAGE").arg(key) }
        /// SLOWLOG GET: the most recent slow commands (up to `count`).
        fn slowlog_get(count: Option<i64>) -> Vec<SlowlogEntry> { Cmd::new("SLOWLOG").arg("GET").arg(count) }
        /// SLOWLOG LEN: entries in the slow log.
        fn slowlog_len() -> i64 { Cmd::new("SLOWLOG").arg("LEN") }
        /// SLOWLOG RESET: clear the slow log.
        fn slowlog_reset() -> () { Cmd::new("SLOWLOG").arg("RESET") }
        /// FLUSHDB: delete every key of the current database (`async_`: in the background).
        fn flushdb(async_: bool) -> () { Cmd::new("FLUSHDB").arg(if async_ { "ASYNC" } else { "SYNC" }) }
        /// FLUSHALL: delete every key of every database.
        fn flushall(async_: bool) -> () { Cmd::new("FLUSHALL").arg(if async_ { "ASYNC" } else { "SYNC" }) }
        /// COMMAND COUNT: how many commands the server knows.
        fn command_count() -> i64 { Cmd::new("COMMAND").arg("COUNT") }
        /// COMMAND INFO: descriptions of the named commands (`None` for unknown ones).
        fn command_info(names: impl ToArg) -> Vec<Option<Value>> { Cmd::new("COMMAND").arg("INFO").arg(names) }
        /// COMMAND DOCS: documentation of the named commands.
        fn command_docs(names: impl ToArg) -> Value { Cmd::new("COMMAND").arg("DOCS").arg(names) }
        /// WAIT: block until `replicas` replicas acknowledged earlier writes, or `timeout`; how many did.
        fn wait(replicas: i64, timeout: Duration) -> i64 { Cmd::new("WAIT").arg(replicas).arg(Millis(timeout)) }
    }
}
