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
mod info;
mod table;

pub use effect::{ConnectionEffect, Subscription};
pub use info::{
    AclCategories, ArgPosition, BeginSearch, BlockingTimeout, CommandFlags, CommandInfo, FindKeys, KeySpec,
    KeySpecFlags, LegacyKeyRange, RequestPolicy, ResponsePolicy, TimeoutUnit,
};

impl CommandInfo {
    /// The positions of the keys in a request (`words[0]` is the command name, as sent), found by the key
    /// specifications as Redis 7.0's `getKeysUsingKeySpecs` finds them: each spec's begin-search (an index, or a
    /// keyword searched forwards or backwards) then its find-keys (a range, or a count word); specs that only
    /// hash like keys (`not_key`) are skipped. `None` when a spec cannot be applied to these words — a count that
    /// is not a non-negative integer, keys running past the end, a spec Redis marks incomplete — where Redis falls
    /// back to the command's own key finder (and COMMAND GETKEYS reports `Invalid arguments`).
    ///
    /// ```
    /// use redkit_resp::command::command_info;
    ///
    /// let words = |s: &'static str| s.split(' ').map(str::as_bytes).collect::<Vec<_>>();
    /// let zunionstore = command_info(b"ZUNIONSTORE").unwrap();
    /// assert_eq!(zunionstore.key_positions(&words("ZUNIONSTORE out 2 a b WEIGHTS 1 2")), Some(vec![1, 3, 4]));
    /// let xread = command_info(b"XREAD").unwrap();
    /// assert_eq!(xread.key_positions(&words("XREAD COUNT 2 STREAMS s t 0 0")), Some(vec![4, 5]));
    /// assert_eq!(zunionstore.key_positions(&words("ZUNIONSTORE out x a")), None);
    /// ```
    pub fn key_positions(&self, words: &[&[u8]]) -> Option<Vec<usize>> {
        let argc = words.len() as i64;
        let mut keys = Vec::new();
        for spec in self.key_specs {
            if spec.flags.contains(KeySpecFlags::NOT_KEY) {
                continue;
            }
            let first = match spec.begin_search {
                BeginSearch::Index(at) => i64::from(at),
                BeginSearch::Keyword { keyword, start_from } => {
                    let start_from = i64::from(start_from);
                    let (start, end) = if start_from > 0 {
                        (start_from, argc - 1)
                    } else {
                        (argc + start_from, 1)
                    };
                    let mut found = None;
                    let mut i = start;
                    while i != end {
                        if i >= argc || i < 1 {
                            break;
                        }
                        if usize::try_from(i)
                            .ok()
                            .and_then(|i| words.get(i))
                            .is_some_and(|w| w.eq_ignore_ascii_case(keyword.as_bytes()))
                        {
                            found = Some(i + 1);
                            break;
                        }
                        i += if start <= end { 1 } else { -1 };
                    }
                    match found {
                        Some(first) => first,
                        None => continue,
                    }
                }
                BeginSearch::Unknown => return None,
            };
            let (first, last, step) = match spec.find_keys {
                FindKeys::Range {
                    last_key,
                    step,
                    limit,
                } => {
                    let last_key = i64::from(last_key);
                    let last = if last_key >= 0 {
                        first + last_key
                    } else if limit == 0 {
                        argc + last_key
                    } else {
                        first + ((argc - first) / i64::from(limit) + last_key)
                    };
                    (first, last, i64::from(step))
                }
                FindKeys::KeyNum {
                    key_num_index,
                    first_key,
                    step,
                } => {
                    let at = usize::try_from(first + i64::from(key_num_index)).ok()?;
                    let count: i64 = std::str::from_utf8(words.get(at)?).ok()?.parse().ok()?;
                    if count < 0 {
                        return None;
                    }
                    let first = first + i64::from(first_key);
                    (
                        first,
                        first.saturating_add(count).saturating_sub(1),
                        i64::from(step),
                    )
                }
                FindKeys::Unknown => return None,
            };
            if last >= argc || last < first || first >= argc || step <= 0 {
                return None;
            }
            let mut i = first;
            while i <= last {
                keys.push(usize::try_from(i).ok()?);
                i += step;
            }
            if spec.flags.contains(KeySpecFlags::INCOMPLETE) {
                return None;
            }
        }
        Some(keys)
    }

    /// The subcommand `sub` of this container (case-insensitive), e.g. `KILL` of `CLIENT`.
    pub fn subcommand(&self, sub: &[u8]) -> Option<&'static CommandInfo> {
        let container = self.name.len();
        find(self.subcommands, sub, |info| {
            &info.name.as_bytes()[container + 1..]
        })
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

/// How the command `name` with arguments `args` (the name excluded) changes its connection; `None` for the
/// commands that leave it as it was (GET, SET, CLIENT ID, …). Case-insensitive; the effect is the command
/// table's ([`CommandInfo::connection_effect`](CommandInfo::connection_effect)), and only the arguments
/// that decide it are read (a container's subcommand, SELECT's index).
///
/// [`Cmd::connection_effect`](crate::Cmd::connection_effect) calls it on a built command.
pub fn connection_effect<'a, I>(name: &[u8], args: I) -> Option<ConnectionEffect>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut args = args.into_iter();
    let info = command_info(name)?;
    let info = if info.subcommands.is_empty() {
        info
    } else {
        info.subcommand(args.next()?)?
    };
    match info.connection_effect? {
        ConnectionEffect::Select(_) => Some(ConnectionEffect::Select(
            args.next()
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|s| s.parse().ok()),
        )),
        effect => Some(effect),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

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
    fn key_positions_survive_hostile_counts() {
        let words = |s: &'static str| s.split(' ').map(str::as_bytes).collect::<Vec<_>>();
        let zunion = command_info(b"zunion").unwrap();
        for bad in [
            "9223372036854775807",
            "-1",
            "0",
            "x",
            "99",
            "-9223372036854775808",
        ] {
            let request = format!("ZUNION {bad} a b");
            let w: Vec<&[u8]> = request.split(' ').map(str::as_bytes).collect();
            assert_eq!(zunion.key_positions(&w), None, "{bad}");
        }
        assert_eq!(
            zunion.key_positions(&words("ZUNION 2 a b WITHSCORES")),
            Some(vec![2, 3])
        );
        assert_eq!(zunion.key_positions(&words("ZUNION")), None);
        let xread = command_info(b"xread").unwrap();
        assert_eq!(
            xread.key_positions(&words("XREAD COUNT 1")),
            Some(vec![]),
            "no STREAMS keyword: no keys"
        );
        // As in Redis, the keyword is searched up to the word before the last: none found, no keys.
        assert_eq!(xread.key_positions(&words("XREAD STREAMS")), Some(vec![]));
        let eval = command_info(b"eval").unwrap();
        assert_eq!(
            eval.key_positions(&words("EVAL s 0 x")),
            None,
            "no keys: Redis's own finder decides"
        );
        let spublish = command_info(b"spublish").unwrap();
        assert_eq!(
            spublish.key_positions(&words("SPUBLISH ch m")),
            Some(vec![]),
            "a shard channel is not a key"
        );
        let many: Vec<&[u8]> = std::iter::once(&b"MGET"[..])
            .chain(std::iter::repeat_n(&b"k"[..], 10_000))
            .collect();
        assert_eq!(
            command_info(b"mget")
                .unwrap()
                .key_positions(&many)
                .map(|k| k.len()),
            Some(10_000)
        );
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
