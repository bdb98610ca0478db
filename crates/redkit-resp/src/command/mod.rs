//! The command table: what redkit knows about every Redis 7.0 command and subcommand, in one place.
//!
//! Each [`CommandInfo`] carries Redis's own facts — arity, [flags](CommandFlags), [ACL
//! categories](AclCategories), the legacy first/last/step [key range](LegacyKeyRange) and Redis 7's [key
//! specifications](KeySpec), the command tips with the cluster [request](RequestPolicy) and
//! [response](ResponsePolicy) policies, and the docs' group, version, summary and complexity — generated from
//! redis-server 7.0's COMMAND INFO and COMMAND DOCS by `gen/command_table.py` into `table.rs`. Two facts are
//! redkit's own: where a blocking command's [timeout](BlockingTimeout) sits, and what a command does to the
//! [connection](ConnectionEffect) it runs on.
//!
//! Everything in redkit that needs to know about a command reads this table and nothing else:
//!
//! - the multiplexed client sends blocking commands on a spare connection with a deadline past their
//!   [`BlockingTimeout`], and refuses commands whose [`ConnectionEffect`] is not shareable;
//! - the pool maps each [`ConnectionEffect`] onto the session state it cleans before a connection is reused;
//! - the embedded server joins its handlers with the table at start-up (arity, `write`/`readonly`/`noscript`
//!   flags, COMMAND INFO, COMMAND DOCS, key positions).
//!
//! Lookups are case-insensitive and do not allocate: [`command_info`] by name, [`CommandInfo::subcommand`] within
//! a container (`CLIENT`, `CONFIG`, …), and [`resolve`] for a request as sent (name and arguments).
//!
//! ```
//! use redkit_resp::command::{ArgPosition, CommandFlags, RequestPolicy, TimeoutUnit, command_info, resolve};
//!
//! let set = command_info(b"SET").unwrap();
//! assert_eq!(set.arity, -3);
//! assert!(set.flags.contains(CommandFlags::WRITE | CommandFlags::DENYOOM));
//!
//! let blpop = command_info(b"blpop").unwrap().blocking_timeout.unwrap();
//! assert_eq!((blpop.unit, blpop.at), (TimeoutUnit::Seconds, ArgPosition::Last));
//!
//! let keys = resolve(b"CLIENT", [&b"KILL"[..]]).unwrap();
//! assert_eq!(keys.name, "client|kill");
//! assert_eq!(command_info(b"dbsize").unwrap().request_policy, RequestPolicy::AllShards);
//! ```

mod effect;
mod table;

use std::time::Duration;

use bitflags::bitflags;

pub use effect::{ConnectionEffect, Subscription, connection_effect};

/// One command or subcommand as Redis 7.0 defines it, plus where it blocks and what it does to its connection.
#[derive(Debug)]
#[non_exhaustive]
pub struct CommandInfo {
    /// The lower-case name; a subcommand is `container|sub` (`client|kill`), as COMMAND INFO spells it.
    pub name: &'static str,
    /// The container's name for a subcommand (`client`), `None` for a command.
    pub container: Option<&'static str>,
    /// Redis's arity: the exact number of words (name included) when positive, the minimum when negative.
    pub arity: i32,
    /// Redis's command flags.
    pub flags: CommandFlags,
    /// The ACL categories the command belongs to.
    pub acl_categories: AclCategories,
    /// The first/last/step key positions COMMAND INFO reports (all zero when the keys move).
    pub keys: LegacyKeyRange,
    /// Redis 7's key specifications: where each group of keys starts and how far it runs.
    pub key_specs: &'static [KeySpec],
    /// The command tips as Redis spells them (`nondeterministic_output`, `request_policy:all_shards`, …).
    pub tips: &'static [&'static str],
    /// Where a cluster client sends the command (from the `request_policy` tip).
    pub request_policy: RequestPolicy,
    /// How a cluster client joins the replies of several nodes (from the `response_policy` tip).
    pub response_policy: ResponsePolicy,
    /// Where the timeout of a command that waits on the server sits; `None` for a command that never waits.
    pub blocking_timeout: Option<BlockingTimeout>,
    /// What the command does to the connection it runs on; `None` for one that leaves it as it was. For SELECT
    /// it is `Select(None)`: [`connection_effect`] reads the index from the request.
    pub connection_effect: Option<ConnectionEffect>,
    /// The docs' group (`string`, `list`, `server`, …).
    pub group: &'static str,
    /// The Redis version that introduced the command.
    pub since: &'static str,
    /// The docs' one-line summary.
    pub summary: &'static str,
    /// The docs' time complexity.
    pub complexity: &'static str,
    /// A container's subcommands, sorted by name; empty for every other command.
    pub subcommands: &'static [CommandInfo],
}

impl CommandInfo {
    /// `true` when `argc` words (the name included, and for a subcommand the container's name too) satisfy the
    /// arity.
    pub fn accepts_arity(&self, argc: usize) -> bool {
        let arity = self.arity.unsigned_abs() as usize;
        if self.arity >= 0 {
            argc == arity
        } else {
            argc >= arity
        }
    }

    /// The subcommand `sub` of this container (case-insensitive), e.g. `KILL` of `CLIENT`.
    pub fn subcommand(&self, sub: &[u8]) -> Option<&'static CommandInfo> {
        let container = self.name.len();
        find(self.subcommands, sub, |info| {
            &info.name.as_bytes()[container + 1..]
        })
    }

    /// The name as a client sends it, in upper case with a space before a subcommand (`CLIENT KILL`).
    pub fn display_name(&self) -> String {
        self.name.replace('|', " ").to_ascii_uppercase()
    }

    /// The timeout a blocking request asks for (`args` are the arguments after the command name): `None` when the
    /// command does not block (or, like XREAD without BLOCK, not this time), `Some(None)` when it may wait forever
    /// (a zero or unreadable timeout: the server decides), `Some(Some(t))` when it waits up to `t`.
    pub fn request_timeout<'a, I>(&self, args: I) -> Option<Option<Duration>>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let timeout = self.blocking_timeout?;
        let mut args = args.into_iter();
        let arg = match timeout.at {
            ArgPosition::Index(i) => args.nth(i),
            ArgPosition::Last => args.last(),
            ArgPosition::AfterToken(token) => {
                args.position(|a| a.eq_ignore_ascii_case(token.as_bytes()))?;
                args.next()
            }
        };
        Some(timeout.unit.parse(arg))
    }
}

/// Binary search of a name-sorted table, comparing in lower case without allocating.
fn find(
    table: &'static [CommandInfo],
    name: &[u8],
    key: impl Fn(&CommandInfo) -> &[u8],
) -> Option<&'static CommandInfo> {
    if name.is_empty() || name.len() > table::LONGEST_NAME {
        return None;
    }
    let mut lower = [0u8; table::LONGEST_NAME];
    let lower = &mut lower[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let at = table.binary_search_by(|info| key(info).cmp(lower)).ok()?;
    table.get(at)
}

/// The command named `name` (case-insensitive); for a container such as `CLIENT` the container itself.
pub fn command_info(name: &[u8]) -> Option<&'static CommandInfo> {
    find(table::COMMANDS, name, |info| info.name.as_bytes())
}

/// The command a request runs: `name`'s entry, or for a container the subcommand its first argument names.
/// `None` for an unknown command, or a container whose subcommand is missing or unknown.
pub fn resolve<'a, I>(name: &[u8], args: I) -> Option<&'static CommandInfo>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let info = command_info(name)?;
    if info.subcommands.is_empty() {
        return Some(info);
    }
    info.subcommand(args.into_iter().next()?)
}

/// Every command, sorted by name; subcommands are in their container's [`CommandInfo::subcommands`].
pub fn commands() -> &'static [CommandInfo] {
    table::COMMANDS
}

bitflags! {
    /// Redis's command flags, in the order COMMAND INFO lists them (iterating yields that order).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct CommandFlags: u32 {
        /// May modify the keyspace.
        const WRITE = 1 << 0;
        /// Reads the keyspace only.
        const READONLY = 1 << 1;
        /// May grow memory: refused when `maxmemory` is reached.
        const DENYOOM = 1 << 2;
        /// Implemented by a module.
        const MODULE = 1 << 3;
        /// An administrative command.
        const ADMIN = 1 << 4;
        /// Pub/sub related.
        const PUBSUB = 1 << 5;
        /// Refused inside scripts.
        const NOSCRIPT = 1 << 6;
        /// May block the client.
        const BLOCKING = 1 << 7;
        /// Allowed while the dataset loads.
        const LOADING = 1 << 8;
        /// Allowed on a replica with stale data.
        const STALE = 1 << 9;
        /// Not shown to MONITOR.
        const SKIP_MONITOR = 1 << 10;
        /// Not recorded in the slow log.
        const SKIP_SLOWLOG = 1 << 11;
        /// Allowed on an importing slot after ASKING.
        const ASKING = 1 << 12;
        /// O(1) or O(log n): never delays the server.
        const FAST = 1 << 13;
        /// Allowed before authentication.
        const NO_AUTH = 1 << 14;
        /// May replicate even when read-only.
        const MAY_REPLICATE = 1 << 15;
        /// A Sentinel command.
        const SENTINEL = 1 << 16;
        /// Only in Sentinel mode.
        const ONLY_SENTINEL = 1 << 17;
        /// May run without the keys its key specs describe.
        const NO_MANDATORY_KEYS = 1 << 18;
        /// Protected by `enable-*-command` settings.
        const PROTECTED = 1 << 19;
        /// A module command with its own key extraction.
        const MODULE_GETKEYS = 1 << 20;
        /// A module command that refuses cluster mode.
        const MODULE_NO_CLUSTER = 1 << 21;
        /// Refused during asynchronous loading.
        const NO_ASYNC_LOADING = 1 << 22;
        /// Refused inside MULTI.
        const NO_MULTI = 1 << 23;
        /// The key positions depend on the arguments (COMMAND GETKEYS needed).
        const MOVABLEKEYS = 1 << 24;
        /// Allowed while a script is busy.
        const ALLOW_BUSY = 1 << 25;
    }
}

bitflags! {
    /// Redis's ACL categories, in the order COMMAND INFO lists them (iterating yields that order).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct AclCategories: u32 {
        /// `@keyspace`
        const KEYSPACE = 1 << 0;
        /// `@read`
        const READ = 1 << 1;
        /// `@write`
        const WRITE = 1 << 2;
        /// `@set`
        const SET = 1 << 3;
        /// `@sortedset`
        const SORTEDSET = 1 << 4;
        /// `@list`
        const LIST = 1 << 5;
        /// `@hash`
        const HASH = 1 << 6;
        /// `@string`
        const STRING = 1 << 7;
        /// `@bitmap`
        const BITMAP = 1 << 8;
        /// `@hyperloglog`
        const HYPERLOGLOG = 1 << 9;
        /// `@geo`
        const GEO = 1 << 10;
        /// `@stream`
        const STREAM = 1 << 11;
        /// `@pubsub`
        const PUBSUB = 1 << 12;
        /// `@admin`
        const ADMIN = 1 << 13;
        /// `@fast`
        const FAST = 1 << 14;
        /// `@slow`
        const SLOW = 1 << 15;
        /// `@blocking`
        const BLOCKING = 1 << 16;
        /// `@dangerous`
        const DANGEROUS = 1 << 17;
        /// `@connection`
        const CONNECTION = 1 << 18;
        /// `@transaction`
        const TRANSACTION = 1 << 19;
        /// `@scripting`
        const SCRIPTING = 1 << 20;
    }
}

bitflags! {
    /// The flags of a key specification, in Redis's order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct KeySpecFlags: u16 {
        /// Read-only access.
        const RO = 1 << 0;
        /// Read-write access.
        const RW = 1 << 1;
        /// Overwrites the value.
        const OW = 1 << 2;
        /// Removes the key.
        const RM = 1 << 3;
        /// Returns, copies or uses the user data.
        const ACCESS = 1 << 4;
        /// Updates the value.
        const UPDATE = 1 << 5;
        /// Adds data to the value.
        const INSERT = 1 << 6;
        /// Removes data from the value.
        const DELETE = 1 << 7;
        /// Not a key, but hashed like one (SPUBLISH's channel).
        const NOT_KEY = 1 << 8;
        /// The spec may miss keys.
        const INCOMPLETE = 1 << 9;
        /// The flags depend on the arguments.
        const VARIABLE_FLAGS = 1 << 10;
    }
}

macro_rules! names {
    ($ty:ty: $($flag:ident => $name:literal),* $(,)?) => {
        impl $ty {
            /// The names as Redis spells them, in Redis's order.
            pub fn names(self) -> impl Iterator<Item = &'static str> {
                self.iter().map(|flag| match flag {
                    $(f if f == Self::$flag => $name,)*
                    _ => "",
                })
            }
        }
    };
}

names!(CommandFlags: WRITE => "write", READONLY => "readonly", DENYOOM => "denyoom", MODULE => "module",
    ADMIN => "admin", PUBSUB => "pubsub", NOSCRIPT => "noscript", BLOCKING => "blocking", LOADING => "loading",
    STALE => "stale", SKIP_MONITOR => "skip_monitor", SKIP_SLOWLOG => "skip_slowlog", ASKING => "asking",
    FAST => "fast", NO_AUTH => "no_auth", MAY_REPLICATE => "may_replicate", SENTINEL => "sentinel",
    ONLY_SENTINEL => "only_sentinel", NO_MANDATORY_KEYS => "no_mandatory_keys", PROTECTED => "protected",
    MODULE_GETKEYS => "module_getkeys", MODULE_NO_CLUSTER => "module_no_cluster",
    NO_ASYNC_LOADING => "no_async_loading", NO_MULTI => "no_multi", MOVABLEKEYS => "movablekeys",
    ALLOW_BUSY => "allow_busy");
names!(AclCategories: KEYSPACE => "@keyspace", READ => "@read", WRITE => "@write", SET => "@set",
    SORTEDSET => "@sortedset", LIST => "@list", HASH => "@hash", STRING => "@string", BITMAP => "@bitmap",
    HYPERLOGLOG => "@hyperloglog", GEO => "@geo", STREAM => "@stream", PUBSUB => "@pubsub", ADMIN => "@admin",
    FAST => "@fast", SLOW => "@slow", BLOCKING => "@blocking", DANGEROUS => "@dangerous",
    CONNECTION => "@connection", TRANSACTION => "@transaction", SCRIPTING => "@scripting");
names!(KeySpecFlags: RO => "RO", RW => "RW", OW => "OW", RM => "RM", ACCESS => "access", UPDATE => "update",
    INSERT => "insert", DELETE => "delete", NOT_KEY => "not_key", INCOMPLETE => "incomplete",
    VARIABLE_FLAGS => "variable_flags");

/// The key positions COMMAND INFO reports before Redis 7's key specs: 1-based word indexes, `last` negative when
/// counted from the end, all zero for a command without keys or whose keys move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyKeyRange {
    /// The first key's position.
    pub first: i32,
    /// The last key's position (−1: the last word).
    pub last: i32,
    /// The distance between keys.
    pub step: i32,
}

/// One of Redis 7's key specifications: where a run of keys begins and how it continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// How the command uses these keys.
    pub flags: KeySpecFlags,
    /// Where the search for the first key starts.
    pub begin_search: BeginSearch,
    /// How the keys run from there.
    pub find_keys: FindKeys,
}

/// Where a key specification's first key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this word index (1-based, the name is 0).
    Index(i32),
    /// After this keyword, searched from `start_from` (negative: from the end, backwards).
    Keyword {
        /// The keyword, upper case (`STREAMS`).
        keyword: &'static str,
        /// Where the search starts.
        start_from: i32,
    },
    /// Only the command itself knows.
    Unknown,
}

/// How a key specification's keys run from its first key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// Up to `last_key` (relative to the first key; −1 is the last word), every `step` words; with `limit` > 1
    /// only that fraction of the remaining words.
    Range {
        /// The last key, relative to the first.
        last_key: i32,
        /// The distance between keys.
        step: i32,
        /// 0 or 1 for all, n for 1/n of the remaining words.
        limit: i32,
    },
    /// A word (relative to the begin-search position) gives the number of keys.
    KeyNum {
        /// Where the count is, relative to the begin-search position.
        key_num_index: i32,
        /// Where the first key is, relative to the begin-search position.
        first_key: i32,
        /// The distance between keys.
        step: i32,
    },
    /// Only the command itself knows.
    Unknown,
}

/// Where a cluster client sends a command (Redis's `request_policy` tip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestPolicy {
    /// By its keys' slot; a command without keys to any node.
    Default,
    /// To every node (primaries and replicas).
    AllNodes,
    /// To every primary.
    AllShards,
    /// Split by slot: each node gets the keys it owns.
    MultiShard,
    /// Needs handling of its own.
    Special,
}

/// How a cluster client joins the replies of several nodes (Redis's `response_policy` tip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponsePolicy {
    /// Arrays concatenated (keyless commands), or the one reply.
    Default,
    /// The first reply that is not an error.
    OneSucceeded,
    /// `OK` when every node succeeded, else the first error.
    AllSucceeded,
    /// Logical AND of integer replies.
    AggLogicalAnd,
    /// Logical OR of integer replies.
    AggLogicalOr,
    /// The minimum of integer replies.
    AggMin,
    /// The maximum of integer replies.
    AggMax,
    /// The sum of integer replies.
    AggSum,
    /// Needs handling of its own.
    Special,
}

/// Where a command that waits on the server takes its timeout, and in which unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockingTimeout {
    /// Seconds (a double: BLPOP) or milliseconds (an integer: XREAD BLOCK, WAIT).
    pub unit: TimeoutUnit,
    /// Which argument holds it.
    pub at: ArgPosition,
}

/// The unit of a blocking timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutUnit {
    /// Fractional seconds.
    Seconds,
    /// Integer milliseconds.
    Milliseconds,
}

impl TimeoutUnit {
    /// A timeout argument as a duration: `None` for zero (wait forever) or unreadable (the server decides and
    /// answers the error).
    pub fn parse(self, arg: Option<&[u8]>) -> Option<Duration> {
        let text = std::str::from_utf8(arg?).ok()?;
        match self {
            TimeoutUnit::Seconds => {
                let secs: f64 = text.parse().ok()?;
                (secs > 0.0)
                    .then(|| Duration::try_from_secs_f64(secs).ok())
                    .flatten()
            }
            TimeoutUnit::Milliseconds => {
                let ms: u64 = text.parse().ok()?;
                (ms > 0).then(|| Duration::from_millis(ms))
            }
        }
    }
}

/// Which argument (after the command name) holds a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgPosition {
    /// The argument at this 0-based index.
    Index(usize),
    /// The last argument.
    Last,
    /// The argument after this token (`BLOCK`), when the token is there.
    AfterToken(&'static str),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_table_is_sorted_and_named_consistently() {
        let check = |table: &[CommandInfo], container: Option<&str>| {
            assert!(table.windows(2).all(|w| w[0].name < w[1].name));
            for info in table {
                assert_eq!(info.container, container);
                assert!(info.name.len() <= table::LONGEST_NAME);
                assert!(info.arity != 0, "{}", info.name);
                if let Some(c) = container {
                    assert!(info.name.starts_with(&format!("{c}|")));
                }
            }
        };
        check(commands(), None);
        for info in commands() {
            check(info.subcommands, Some(info.name));
        }
        assert!(commands().len() >= 230);
    }

    #[test]
    fn looks_up_case_insensitively_without_allocating() {
        assert_eq!(command_info(b"GeT").unwrap().name, "get");
        assert!(command_info(b"").is_none());
        assert!(command_info(b"nosuchcommand").is_none());
        assert!(command_info(&[b'a'; 300]).is_none());
        let config = command_info(b"CONFIG").unwrap();
        assert_eq!(config.subcommand(b"get").unwrap().name, "config|get");
        assert!(config.subcommand(b"nope").is_none());
        assert_eq!(resolve(b"config", [&b"SET"[..]]).unwrap().name, "config|set");
        assert!(resolve(b"config", []).is_none());
        assert_eq!(resolve(b"get", [&b"k"[..]]).unwrap().name, "get");
        assert_eq!(config.subcommand(b"get").unwrap().display_name(), "CONFIG GET");
    }

    #[test]
    fn carries_redis_facts() {
        let get = command_info(b"get").unwrap();
        assert_eq!(get.flags.names().collect::<Vec<_>>(), ["readonly", "fast"]);
        assert_eq!(
            get.acl_categories.names().collect::<Vec<_>>(),
            ["@read", "@string", "@fast"]
        );
        assert_eq!(
            get.keys,
            LegacyKeyRange {
                first: 1,
                last: 1,
                step: 1
            }
        );
        assert_eq!(get.key_specs[0].begin_search, BeginSearch::Index(1));
        assert!(get.accepts_arity(2) && !get.accepts_arity(3));
        let xread = command_info(b"xread").unwrap();
        assert_eq!(
            xread.key_specs[0].begin_search,
            BeginSearch::Keyword {
                keyword: "STREAMS",
                start_from: 1
            }
        );
        assert_eq!(
            xread.key_specs[0].find_keys,
            FindKeys::Range {
                last_key: -1,
                step: 1,
                limit: 2
            }
        );
        let blmpop = command_info(b"blmpop").unwrap();
        assert_eq!(
            blmpop.key_specs[0].find_keys,
            FindKeys::KeyNum {
                key_num_index: 0,
                first_key: 1,
                step: 1
            }
        );
        assert!(command_info(b"set").unwrap().accepts_arity(5));
        let wait = command_info(b"wait").unwrap();
        assert_eq!(
            (wait.request_policy, wait.response_policy),
            (RequestPolicy::AllShards, ResponsePolicy::AggMin)
        );
        assert_eq!(command_info(b"blpop").unwrap().group, "list");
    }

    #[test]
    fn finds_blocking_timeouts() {
        let timeout = |words: &[&str]| {
            resolve(words[0].as_bytes(), words[1..].iter().map(|w| w.as_bytes()))
                .and_then(|info| info.request_timeout(words[1..].iter().map(|w| w.as_bytes())))
        };
        assert_eq!(
            timeout(&["BLPOP", "a", "b", "1.5"]),
            Some(Some(Duration::from_millis(1500)))
        );
        assert_eq!(timeout(&["blpop", "a", "0"]), Some(None));
        assert_eq!(
            timeout(&["BLMPOP", "2", "1", "k", "LEFT"]),
            Some(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            timeout(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "3"]),
            Some(Some(Duration::from_secs(3)))
        );
        assert_eq!(
            timeout(&["XREAD", "COUNT", "1", "block", "250", "STREAMS", "s", "$"]),
            Some(Some(Duration::from_millis(250)))
        );
        assert_eq!(timeout(&["XREAD", "STREAMS", "s", "$"]), None);
        assert_eq!(
            timeout(&["WAIT", "1", "100"]),
            Some(Some(Duration::from_millis(100)))
        );
        assert_eq!(timeout(&["BLPOP", "a", "soon"]), Some(None));
        assert_eq!(timeout(&["BLPOP", "a", "inf"]), Some(None));
        assert_eq!(timeout(&["GET", "k"]), None);
        let blocking: Vec<_> = commands()
            .iter()
            .filter(|c| c.blocking_timeout.is_some())
            .map(|c| c.name)
            .collect();
        assert_eq!(
            blocking,
            [
                "blmove",
                "blmpop",
                "blpop",
                "brpop",
                "brpoplpush",
                "bzmpop",
                "bzpopmax",
                "bzpopmin",
                "wait",
                "xread",
                "xreadgroup"
            ]
        );
    }

    #[test]
    fn names_round_trip_through_redis_order() {
        let all = CommandFlags::all();
        assert_eq!(all.names().count(), 26);
        assert!(all.names().all(|n| !n.is_empty()));
        assert!(AclCategories::all().names().all(|n| n.starts_with('@')));
        assert!(KeySpecFlags::all().names().all(|n| !n.is_empty()));
    }
}
