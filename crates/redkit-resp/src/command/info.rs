//! The command table's types: [`CommandInfo`] and the facts it carries.

use std::time::Duration;

use bitflags::bitflags;

use super::effect::ConnectionEffect;

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
    /// it is `Select(None)`: [`connection_effect`](super::connection_effect) reads the index from the request.
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
