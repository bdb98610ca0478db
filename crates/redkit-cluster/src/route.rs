//! Where a command goes: one slot's primary, any node, every primary or every node, or split by slot — read from
//! the command table (`redkit_resp::command`: key specs for the keys, the `request_policy` tip for the rest), never
//! from a list of command names.
//!
//! | command | route |
//! | --- | --- |
//! | keys in one slot (GET, HSET, EVAL with keys, SUNIONSTORE `{t}a {t}b`…) | [`Route::Slot`] |
//! | keys in several slots, `request_policy:multi_shard` (MGET, MSET, DEL, UNLINK, EXISTS, TOUCH) | [`Route::Split`], replies joined in the caller's key order |
//! | keys in several slots otherwise (SUNIONSTORE a b, MSETNX a b) | refused unsent: `CROSSSLOT`, Redis's own error |
//! | no keys, `request_policy:all_shards` / `all_nodes` (DBSIZE, FLUSHALL, SCRIPT LOAD, CONFIG SET…) | [`Route::AllPrimaries`] / [`Route::AllNodes`], replies joined by the `response_policy` |
//! | no keys otherwise (PING with no policy, ECHO, TIME, PUBLISH, EVAL with no keys…) | [`Route::Any`] |
//!
//! MSETNX carries `multi_shard`, but split over slots it would set some keys and not others: it is refused across
//! slots, as Redis itself refuses it.

use bytes::Bytes;
use redkit_resp::command::{CommandInfo, RequestPolicy, ResponsePolicy, resolve};
use redkit_resp::{Cmd, Error, ServerError};

use crate::slot::key_slot;

/// Where one command is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// To the primary of this slot.
    Slot(u16),
    /// To any node (a command without keys).
    Any,
    /// To every primary; replies joined by the policy.
    AllPrimaries(ResponsePolicy),
    /// To every node, replicas too; replies joined by the policy.
    AllNodes(ResponsePolicy),
    /// Split by slot: each part goes to its slot's primary; replies joined by the policy.
    Split {
        /// One command per slot, with the original positions of its key groups.
        parts: Vec<Part>,
        /// How the parts' replies are joined.
        policy: ResponsePolicy,
        /// How many key groups the caller's command had.
        groups: usize,
    },
}

/// One slot's share of a split command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The slot.
    pub slot: u16,
    /// The command for that slot's keys.
    pub cmd: Cmd,
    /// For each key group of `cmd`, its index among the caller's key groups (MGET's reply goes back in order).
    pub groups: Vec<usize>,
}

/// Redis's reply to keys of several slots.
pub(crate) fn cross_slot(command: &str) -> Error {
    Error::Server {
        command: Some(command.to_owned()),
        error: ServerError::new("CROSSSLOT Keys in request don't hash to the same slot"),
    }
}

/// The positions of the keys in `words` (`words[0]` is the name): by the key specs, else by the legacy range.
pub fn key_positions(info: &CommandInfo, words: &[&[u8]]) -> Vec<usize> {
    if let Some(positions) = info.key_positions(words) {
        return positions;
    }
    let keys = info.keys;
    let (first, last, step) = (keys.first, keys.last, keys.step);
    let (Ok(first), Ok(step)) = (usize::try_from(first), usize::try_from(step)) else {
        return Vec::new();
    };
    if first == 0 || step == 0 || words.len() <= first {
        return Vec::new();
    }
    let last = if last < 0 {
        words.len().saturating_sub(last.unsigned_abs() as usize)
    } else {
        usize::try_from(last).map_or(0, |l| l.min(words.len() - 1))
    };
    (first..=last).step_by(step).collect()
}

/// The slot of a command's keys: `Ok(None)` without keys, `CROSSSLOT` when they span slots.
pub fn command_slot(cmd: &Cmd) -> Result<Option<u16>, Error> {
    let words: Vec<&[u8]> = cmd.args().collect();
    let Some(info) = lookup(&words) else {
        return Ok(None);
    };
    slot_of(&words, &key_positions(info, &words)).map_err(|()| cross_slot(&cmd.name()))
}

fn lookup(words: &[&[u8]]) -> Option<&'static CommandInfo> {
    let (name, rest) = words.split_first()?;
    resolve(name, rest.iter().copied())
}

fn slot_of(words: &[&[u8]], positions: &[usize]) -> Result<Option<u16>, ()> {
    let mut slot = None;
    for &i in positions {
        let Some(key) = words.get(i) else { continue };
        let s = key_slot(key);
        match slot {
            None => slot = Some(s),
            Some(prev) if prev != s => return Err(()),
            Some(_) => {}
        }
    }
    Ok(slot)
}

/// Where `cmd` goes. An unknown command goes to any node (the server answers it).
pub fn route(cmd: &Cmd) -> Result<Route, Error> {
    let words: Vec<&[u8]> = cmd.args().collect();
    let Some(info) = lookup(&words) else {
        return Ok(Route::Any);
    };
    let positions = key_positions(info, &words);
    match slot_of(&words, &positions) {
        Ok(Some(slot)) => return Ok(Route::Slot(slot)),
        Ok(None) => {}
        Err(()) if info.request_policy == RequestPolicy::MultiShard && info.name != "msetnx" => {
            return Ok(split(info, &words, &positions));
        }
        Err(()) => return Err(cross_slot(&cmd.name())),
    }
    Ok(match info.request_policy {
        RequestPolicy::AllShards => Route::AllPrimaries(info.response_policy),
        RequestPolicy::AllNodes => Route::AllNodes(info.response_policy),
        RequestPolicy::Default | RequestPolicy::MultiShard | RequestPolicy::Special => Route::Any,
    })
}

/// Split a multi-key command by slot: each key with the words after it up to the next key (MSET's value) is one
/// group; the words before the first key start every part.
fn split(info: &CommandInfo, words: &[&[u8]], positions: &[usize]) -> Route {
    let mut positions = positions.to_vec();
    positions.sort_unstable();
    positions.dedup();
    let head = positions.first().map_or(words.len(), |&p| p);
    let mut parts: Vec<Part> = Vec::new();
    for (group, &start) in positions.iter().enumerate() {
        let end = positions.get(group + 1).copied().unwrap_or(words.len());
        let Some(key) = words.get(start) else { continue };
        let slot = key_slot(key);
        let index = match parts.iter().position(|p| p.slot == slot) {
            Some(i) => i,
            None => {
                let mut cmd = Cmd::new(Bytes::copy_from_slice(words[0]));
                for word in &words[1..head] {
                    cmd.push_arg(Bytes::copy_from_slice(word));
                }
                parts.push(Part {
                    slot,
                    cmd,
                    groups: Vec::new(),
                });
                parts.len() - 1
            }
        };
        let part = &mut parts[index];
        for word in &words[start..end] {
            part.cmd.push_arg(Bytes::copy_from_slice(word));
        }
        part.groups.push(group);
    }
    Route::Split {
        parts,
        policy: info.response_policy,
        groups: positions.len(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cmd(text: &str) -> Cmd {
        let mut words = text.split(' ');
        let mut c = Cmd::new(words.next().unwrap());
        for w in words {
            c.push_arg(w);
        }
        c
    }

    fn words(c: &Cmd) -> Vec<String> {
        c.args()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    }

    #[test]
    fn keyed_commands_go_to_their_slot() {
        assert_eq!(route(&cmd("GET foo")).unwrap(), Route::Slot(12182));
        assert_eq!(
            route(&cmd("SUNIONSTORE {t}a {t}b {t}c")).unwrap(),
            Route::Slot(key_slot(b"t"))
        );
        assert_eq!(
            route(&cmd("EVAL return 2 {x}1 {x}2 arg")).unwrap(),
            Route::Slot(key_slot(b"x"))
        );
        assert_eq!(
            route(&cmd("XREAD COUNT 1 STREAMS s 0")).unwrap(),
            Route::Slot(key_slot(b"s"))
        );
        assert_eq!(route(&cmd("OBJECT ENCODING foo")).unwrap(), Route::Slot(12182));
        assert_eq!(
            route(&cmd("MGET {a}1 {a}2")).unwrap(),
            Route::Slot(key_slot(b"a"))
        );
    }

    #[test]
    fn keyless_commands_follow_their_policy() {
        assert_eq!(route(&cmd("ECHO hi")).unwrap(), Route::Any);
        assert_eq!(route(&cmd("EVAL return 0")).unwrap(), Route::Any);
        assert_eq!(route(&cmd("PUBLISH ch msg")).unwrap(), Route::Any);
        assert_eq!(route(&cmd("NOSUCHCOMMAND x")).unwrap(), Route::Any);
        assert_eq!(
            route(&cmd("DBSIZE")).unwrap(),
            Route::AllPrimaries(ResponsePolicy::AggSum)
        );
        assert_eq!(
            route(&cmd("KEYS *")).unwrap(),
            Route::AllPrimaries(ResponsePolicy::Default)
        );
        assert_eq!(
            route(&cmd("SCRIPT LOAD x")).unwrap(),
            Route::AllNodes(ResponsePolicy::AllSucceeded)
        );
        assert_eq!(
            route(&cmd("CONFIG SET a b")).unwrap(),
            Route::AllNodes(ResponsePolicy::AllSucceeded)
        );
    }

    #[test]
    fn multi_key_commands_split_by_slot_in_order() {
        let Route::Split {
            parts,
            policy,
            groups,
        } = route(&cmd("MSET a 1 b 2 {a}c 3")).unwrap()
        else {
            panic!("MSET over slots splits");
        };
        assert_eq!((policy, groups), (ResponsePolicy::AllSucceeded, 3));
        let a = parts.iter().find(|p| p.slot == key_slot(b"a")).unwrap();
        assert_eq!(words(&a.cmd), ["MSET", "a", "1", "{a}c", "3"]);
        assert_eq!(a.groups, [0, 2]);
        let b = parts.iter().find(|p| p.slot == key_slot(b"b")).unwrap();
        assert_eq!(
            (words(&b.cmd), b.groups.clone()),
            (vec!["MSET".into(), "b".into(), "2".into()], vec![1])
        );
        let Route::Split { parts, policy, .. } = route(&cmd("DEL x y z")).unwrap() else {
            panic!("DEL over slots splits");
        };
        assert_eq!(policy, ResponsePolicy::AggSum);
        assert_eq!(parts.iter().map(|p| p.groups.len()).sum::<usize>(), 3);
    }

    #[test]
    fn other_commands_across_slots_are_refused_unsent() {
        for text in [
            "SUNIONSTORE a b c",
            "MSETNX a 1 b 2",
            "RENAME a b",
            "EVAL return 2 a b",
        ] {
            let e = route(&cmd(text)).unwrap_err();
            assert!(e.to_string().contains("CROSSSLOT"), "{text}: {e}");
        }
        assert!(command_slot(&cmd("SMOVE a b m")).is_err());
        assert_eq!(command_slot(&cmd("PING")).unwrap(), None);
    }

    #[test]
    fn hostile_key_counts_do_not_panic() {
        for text in [
            "EVAL s 99 a",
            "EVAL s -1 a",
            "EVAL s 9223372036854775807",
            "ZUNIONSTORE out x a",
            "XREAD STREAMS",
            "MSET a",
            "GET",
            "MIGRATE h 1 \"\" 0 5 KEYS",
        ] {
            let _ = route(&cmd(text));
        }
    }
}
