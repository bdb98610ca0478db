//! The argument cursor: how a command reads its words, with Redis's exact errors.
//!
//! A handler parses its arguments into a small struct first, then applies it — as mini-redis's `Parse` does:
//!
//! ```text
//! let mut args = Args::new(argv);            // argv[0] is the command name
//! let key = args.next_bytes()?;              // ERR syntax error when missing
//! while let Some(word) = args.next() {       // the options, in any order
//!     if is(word, "GET") { … }
//!     else if let Some(unit) = args.eat_one_of(["EX", "PX"]) { … }
//!     else { return Err(syntax_error()) }
//! }
//! ```
//!
//! The grammars several families share live here too: a database index, a list side (LEFT/RIGHT), the
//! `STREAMS key… id…` tail of XREAD and XREADGROUP, the SCAN options ([`ScanArgs`]), `numkeys key… [LIMIT n]`
//! ([`InterCard`]), `numkeys key… <where> [COUNT n]` ([`MultiPop`]) and a RANDMEMBER-style count ([`Pick`]).

use bytes::Bytes;
use redkit_resp::Value;

use super::{count_option, err, is, parse_i64, repeat_count, syntax_error};
use crate::state::DATABASES;

/// A cursor over a command's words (`args[0]` is the name; reading starts after it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Args<'a> {
    args: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    /// A cursor at the first argument after the command name.
    pub(crate) fn new(args: &'a [Bytes]) -> Args<'a> {
        Args::at(args, 1)
    }

    /// A cursor at word `pos` (0 is the command name).
    pub(crate) fn at(args: &'a [Bytes], pos: usize) -> Args<'a> {
        Args {
            args,
            pos: pos.min(args.len()),
        }
    }

    /// The next word without taking it.
    pub(crate) fn peek(&self) -> Option<&'a Bytes> {
        self.args.get(self.pos)
    }

    /// The next word, or `None` at the end.
    pub(crate) fn next(&mut self) -> Option<&'a Bytes> {
        let word = self.args.get(self.pos)?;
        self.pos += 1;
        Some(word)
    }

    /// The next word; `ERR syntax error` at the end.
    pub(crate) fn next_bytes(&mut self) -> Result<&'a Bytes, Value> {
        self.next().ok_or_else(syntax_error)
    }

    /// Take the next word if it is `keyword` (case-insensitive).
    pub(crate) fn eat(&mut self, keyword: &str) -> bool {
        let found = self.peek().is_some_and(|w| is(w, keyword));
        if found {
            self.pos += 1;
        }
        found
    }

    /// Take the next word if it is one of `keywords`; which one.
    pub(crate) fn eat_one_of<const N: usize>(&mut self, keywords: [&'static str; N]) -> Option<&'static str> {
        let word = self.peek()?;
        let found = keywords.into_iter().find(|k| is(word, k))?;
        self.pos += 1;
        Some(found)
    }

    /// Every word not read yet (the cursor moves to the end).
    pub(crate) fn rest(&mut self) -> &'a [Bytes] {
        let rest = &self.args[self.pos..];
        self.pos = self.args.len();
        rest
    }

    /// The next `n` words, or `None` (reading nothing) when fewer are left.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [Bytes]> {
        let words = self.args.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(words)
    }

    /// How many words are left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.args.len() - self.pos
    }

    /// The next word as a signed 64-bit integer: `ERR syntax error` at the end, `ERR value is not an integer or
    /// out of range` for anything else Redis's `string2ll` refuses.
    pub(crate) fn next_i64(&mut self) -> Result<i64, Value> {
        parse_i64(self.next_bytes()?)
    }
}

/// The NX/XX/GT/LT conditions of EXPIRE and its family, and of ZADD (each command checks their combinations with
/// its own error texts).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Conditions {
    /// NX: only when there is none yet.
    pub(crate) nx: bool,
    /// XX: only when there is one.
    pub(crate) xx: bool,
    /// GT: only when the new value is greater.
    pub(crate) gt: bool,
    /// LT: only when the new value is less.
    pub(crate) lt: bool,
}

impl Conditions {
    /// Take the next word if it is NX, XX, GT or LT.
    pub(crate) fn eat(&mut self, args: &mut Args<'_>) -> bool {
        match args.eat_one_of(["NX", "XX", "GT", "LT"]) {
            Some("NX") => self.nx = true,
            Some("XX") => self.xx = true,
            Some("GT") => self.gt = true,
            Some(_) => self.lt = true,
            None => return false,
        }
        true
    }
}

/// `cursor [MATCH pattern] [COUNT n] [TYPE type]`: the words after SCAN, and (TYPE refused) after the key of SSCAN,
/// HSCAN and ZSCAN.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScanArgs<'a> {
    /// Where the scan resumes (0 starts one).
    pub(crate) cursor: u64,
    /// MATCH: only names matching this glob.
    pub(crate) pattern: Option<&'a Bytes>,
    /// COUNT: how many names to visit (10 unless given).
    pub(crate) count: usize,
    /// TYPE (SCAN only): only keys of this type.
    pub(crate) kind: Option<&'a Bytes>,
}

impl<'a> ScanArgs<'a> {
    /// The cursor (`ERR invalid cursor` unless it is a decimal `u64`), then options in any order, the last of a
    /// repeated one winning. A word whose value is missing, a COUNT below 1, TYPE unless `allow_type`, and any other
    /// word: `ERR syntax error`, the missing value checked before the word is.
    pub(crate) fn parse(args: &mut Args<'a>, allow_type: bool) -> Result<ScanArgs<'a>, Value> {
        let cursor = std::str::from_utf8(args.next_bytes()?)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| err("ERR invalid cursor"))?;
        let mut scan = ScanArgs {
            cursor,
            pattern: None,
            count: 10,
            kind: None,
        };
        while let Some(word) = args.next() {
            let value = args.next_bytes()?;
            if is(word, "MATCH") {
                scan.pattern = Some(value);
            } else if is(word, "COUNT") {
                scan.count = usize::try_from(parse_i64(value)?)
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(syntax_error)?;
            } else if allow_type && is(word, "TYPE") {
                scan.kind = Some(value);
            } else {
                return Err(syntax_error());
            }
        }
        Ok(scan)
    }
}

/// `numkeys key… [LIMIT n]` of SINTERCARD and ZINTERCARD.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InterCard<'a> {
    /// The keys to intersect.
    pub(crate) keys: &'a [Bytes],
    /// LIMIT: stop counting there (0, the default: no limit).
    pub(crate) limit: usize,
}

impl<'a> InterCard<'a> {
    /// `numkeys` (an integer above 0), that many keys, then nothing or exactly `LIMIT n` (n ≥ 0): anything else
    /// after the keys is `ERR syntax error`, found before the limit is read.
    pub(crate) fn parse(argv: &'a [Bytes]) -> Result<InterCard<'a>, Value> {
        let mut args = Args::new(argv);
        let n = args.next_i64()?;
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| err("ERR numkeys should be greater than 0"))?;
        let keys = args
            .take(n)
            .ok_or_else(|| err("ERR Number of keys can't be greater than number of args"))?;
        let limit = match args.rest() {
            [] => 0,
            [word, value] if is(word, "LIMIT") => {
                usize::try_from(parse_i64(value)?).map_err(|_| err("ERR LIMIT can't be negative"))?
            }
            _ => return Err(syntax_error()),
        };
        Ok(InterCard { keys, limit })
    }
}

/// `numkeys key… <where> [COUNT n]` of LMPOP, ZMPOP, and (after their timeout) BLMPOP and BZMPOP; `W` is what the
/// command makes of `<where>` (a list side, MIN or MAX).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MultiPop<'a, W> {
    /// The keys, tried in order.
    pub(crate) keys: &'a [Bytes],
    /// The end to pop from, as `end` read the `<where>` word.
    pub(crate) end: W,
    /// COUNT: how many elements at most (1 unless given).
    pub(crate) count: usize,
}

impl<'a, W> MultiPop<'a, W> {
    /// `numkeys` (an integer above 0, `ERR numkeys should be greater than 0`), as many keys and a `<where>` word
    /// (else `ERR syntax error`), `<where>` read by `end`, then nothing or exactly `COUNT n` (n > 0).
    pub(crate) fn parse(
        args: &mut Args<'a>,
        end: impl FnOnce(&'a Bytes) -> Result<W, Value>,
    ) -> Result<MultiPop<'a, W>, Value> {
        let n = args.next_i64()?;
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| err("ERR numkeys should be greater than 0"))?;
        if args.remaining() <= n {
            return Err(syntax_error());
        }
        let keys = args.take(n).ok_or_else(syntax_error)?;
        let end = end(args.next_bytes()?)?;
        let count = count_option(args.rest())?;
        Ok(MultiPop { keys, end, count })
    }
}

/// How many random elements SRANDMEMBER, HRANDFIELD and ZRANDMEMBER pick, from their optional count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    /// No count: one element (its reply is the element, or null).
    One,
    /// A count n ≥ 0: up to n distinct elements.
    Distinct(usize),
    /// A count −n: n elements, with repetitions.
    Repeated(usize),
}

impl Pick {
    /// The pick a count asks for; a negative count checked as Redis checks it ([`repeat_count`]: the bounds are
    /// tighter `with_values`).
    pub(crate) fn new(count: Option<i64>, with_values: bool) -> Result<Pick, Value> {
        Ok(match count {
            None => Pick::One,
            Some(n) if n >= 0 => Pick::Distinct(usize::try_from(n).unwrap_or(usize::MAX)),
            Some(n) => Pick::Repeated(repeat_count(n, with_values)?),
        })
    }
}

/// The optional count of LPOP, RPOP, SPOP, ZPOPMIN and ZPOPMAX: absent, or an integer ≥ 0 (`ERR value is out of
/// range, must be positive` below).
pub(crate) fn pop_count(arg: Option<&Bytes>) -> Result<Option<usize>, Value> {
    let Some(arg) = arg else {
        return Ok(None);
    };
    let n = parse_i64(arg)?;
    usize::try_from(n)
        .map(Some)
        .map_err(|_| err("ERR value is out of range, must be positive"))
}

/// A database index (SELECT, SWAPDB, MOVE, COPY DB): an integer, then `ERR DB index is out of range`.
pub(crate) fn db_index(arg: &[u8]) -> Result<usize, Value> {
    let n = parse_i64(arg)?;
    usize::try_from(n)
        .ok()
        .filter(|n| *n < DATABASES)
        .ok_or_else(|| err("ERR DB index is out of range"))
}

/// Which end of a list (LMOVE, BLMOVE, LMPOP): `LEFT` is `true`, `RIGHT` is `false`, else `ERR syntax error`.
pub(crate) fn side(arg: &[u8]) -> Result<bool, Value> {
    if is(arg, "LEFT") {
        Ok(true)
    } else if is(arg, "RIGHT") {
        Ok(false)
    } else {
        Err(syntax_error())
    }
}

/// The `key… id…` words after XREAD's or XREADGROUP's `STREAMS`: as many ids as keys, or `unbalanced` (each
/// command words that error its own way).
pub(crate) fn streams<'a>(rest: &'a [Bytes], unbalanced: &str) -> Result<(&'a [Bytes], &'a [Bytes]), Value> {
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(err(unbalanced));
    }
    Ok(rest.split_at(rest.len() / 2))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn words(text: &str) -> Vec<Bytes> {
        text.split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn text(v: Value) -> String {
        match v {
            Value::Error(e) => String::from_utf8_lossy(&e).into_owned(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn reads_words_and_keywords() {
        let argv = words("SET k v px 15 KEEPTTL");
        let mut args = Args::new(&argv);
        assert_eq!(args.next_bytes().unwrap().as_ref(), b"k");
        assert_eq!(args.peek().unwrap().as_ref(), b"v");
        assert_eq!(args.next().unwrap().as_ref(), b"v");
        assert!(!args.eat("EX"));
        assert_eq!(args.eat_one_of(["EX", "PX"]), Some("PX"));
        assert_eq!(parse_i64(args.next_bytes().unwrap()).unwrap(), 15);
        assert!(args.eat("keepttl"));
        assert_eq!(text(args.next_bytes().unwrap_err()), "ERR syntax error");
        assert!(args.next().is_none() && args.peek().is_none() && args.rest().is_empty());
        let mut conditions = Conditions::default();
        let argv = words("ZADD k nx gt ch");
        let mut args = Args::at(&argv, 2);
        assert!(conditions.eat(&mut args) && conditions.eat(&mut args) && !conditions.eat(&mut args));
        assert!(conditions.nx && conditions.gt && !conditions.xx && !conditions.lt);
        assert_eq!(args.rest().len(), 1);
    }

    #[test]
    fn errors_are_redis_s() {
        let argv = words("INCRBY k x");
        let mut args = Args::at(&argv, 99);
        assert!(args.next().is_none() && args.rest().is_empty());
        assert_eq!(text(db_index(b"16").unwrap_err()), "ERR DB index is out of range");
        assert_eq!(text(db_index(b"-1").unwrap_err()), "ERR DB index is out of range");
        assert_eq!(
            text(db_index(b"x").unwrap_err()),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(db_index(b"15").unwrap(), 15);
        assert!(side(b"left").unwrap() && !side(b"RIGHT").unwrap() && side(b"up").is_err());
    }

    #[test]
    fn reads_integers() {
        let argv = words("INCRBY 12 x -0 9223372036854775808");
        let mut args = Args::new(&argv);
        assert_eq!(args.next_i64().unwrap(), 12);
        for _ in 0..3 {
            assert_eq!(
                text(args.next_i64().unwrap_err()),
                "ERR value is not an integer or out of range"
            );
        }
        assert_eq!(text(args.next_i64().unwrap_err()), "ERR syntax error");
    }

    #[test]
    fn counts_the_words_left() {
        let argv = words("SORT k LIMIT 0 1");
        let mut args = Args::new(&argv);
        assert_eq!(args.remaining(), 4);
        args.next();
        assert_eq!(args.remaining(), 3);
        args.rest();
        assert_eq!(args.remaining(), 0);
        assert_eq!(Args::at(&argv, 99).remaining(), 0);
    }

    #[test]
    fn takes_words() {
        let argv = words("LMPOP 2 a b LEFT");
        let mut args = Args::at(&argv, 2);
        assert!(args.take(4).is_none());
        assert_eq!(args.remaining(), 3, "a take too long reads nothing");
        assert!(args.take(usize::MAX).is_none());
        assert_eq!(args.take(2).unwrap(), &argv[2..4]);
        assert!(args.take(0).unwrap().is_empty());
        assert_eq!(args.take(1).unwrap(), &argv[4..]);
        assert!(args.take(0).unwrap().is_empty() && args.take(1).is_none());
    }

    #[test]
    fn scan_options_as_redis_reads_them() {
        let argv = words("SCAN 17 match a* COUNT 5 type list MATCH b*");
        let scan = ScanArgs::parse(&mut Args::new(&argv), true).unwrap();
        assert_eq!(scan.cursor, 17);
        assert_eq!(scan.pattern.unwrap().as_ref(), b"b*");
        assert_eq!(scan.count, 5);
        assert_eq!(scan.kind.unwrap().as_ref(), b"list");
        let argv = words("SCAN 0");
        let defaults = ScanArgs::parse(&mut Args::new(&argv), true).unwrap();
        assert!(defaults.pattern.is_none() && defaults.kind.is_none() && defaults.count == 10);
        let error = |line: &str, allow_type: bool| {
            text(ScanArgs::parse(&mut Args::at(&words(line), 2), allow_type).unwrap_err())
        };
        assert_eq!(error("SSCAN k x", false), "ERR invalid cursor");
        assert_eq!(error("SSCAN k -1", false), "ERR invalid cursor");
        assert_eq!(error("SSCAN k x COUNT 0", false), "ERR invalid cursor");
        assert_eq!(error("SSCAN k 0 TYPE set", false), "ERR syntax error");
        assert_eq!(error("SSCAN k 0 COUNT 0", false), "ERR syntax error");
        assert_eq!(error("SSCAN k 0 COUNT -1", false), "ERR syntax error");
        assert_eq!(
            error("SSCAN k 0 COUNT x", false),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(error("SSCAN k 0 COUNT 1 MATCH", false), "ERR syntax error");
        assert_eq!(error("SSCAN k 0 FOO bar", true), "ERR syntax error");
    }

    #[test]
    fn intercard_keys_and_limit() {
        let argv = words("SINTERCARD 2 a b LIMIT 3");
        let card = InterCard::parse(&argv).unwrap();
        assert_eq!((card.keys, card.limit), (&argv[2..4], 3));
        assert_eq!(InterCard::parse(&words("SINTERCARD 1 a")).unwrap().limit, 0);
        let error = |line: &str| text(InterCard::parse(&words(line)).unwrap_err());
        assert_eq!(error("SINTERCARD 0 a"), "ERR numkeys should be greater than 0");
        assert_eq!(error("SINTERCARD -1 a"), "ERR numkeys should be greater than 0");
        assert_eq!(
            error("SINTERCARD x a"),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(
            error("SINTERCARD 3 a b"),
            "ERR Number of keys can't be greater than number of args"
        );
        assert_eq!(
            error("SINTERCARD 9223372036854775807 a"),
            "ERR Number of keys can't be greater than number of args"
        );
        assert_eq!(error("SINTERCARD 1 a LIMIT -1"), "ERR LIMIT can't be negative");
        assert_eq!(
            error("SINTERCARD 1 a LIMIT x"),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(error("SINTERCARD 1 a LIMIT x y"), "ERR syntax error");
        assert_eq!(error("SINTERCARD 1 a LIMIT"), "ERR syntax error");
        assert_eq!(error("SINTERCARD 1 a FOO 1"), "ERR syntax error");
    }

    #[test]
    fn multi_pop_keys_end_and_count() {
        let argv = words("LMPOP 2 a b left COUNT 3");
        let pop = MultiPop::parse(&mut Args::new(&argv), |w| side(w)).unwrap();
        assert_eq!((pop.keys, pop.end, pop.count), (&argv[2..4], true, 3));
        let argv = words("LMPOP 1 a RIGHT");
        let pop = MultiPop::parse(&mut Args::new(&argv), |w| side(w)).unwrap();
        assert_eq!((pop.end, pop.count), (false, 1));
        let error =
            |line: &str| text(MultiPop::parse(&mut Args::new(&words(line)), |w| side(w)).unwrap_err());
        assert_eq!(error("LMPOP 0 a LEFT"), "ERR numkeys should be greater than 0");
        assert_eq!(
            error("LMPOP x a LEFT"),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(error("LMPOP 2 a LEFT"), "ERR syntax error");
        assert_eq!(error("LMPOP 1 a"), "ERR syntax error");
        assert_eq!(error("LMPOP 9223372036854775807 a LEFT"), "ERR syntax error");
        // The end is read before the count.
        assert_eq!(error("LMPOP 1 a UP COUNT 0"), "ERR syntax error");
        assert_eq!(
            error("LMPOP 1 a LEFT COUNT 0"),
            "ERR count should be greater than 0"
        );
        assert_eq!(
            error("LMPOP 1 a LEFT COUNT x"),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(error("LMPOP 1 a LEFT COUNT x FOO"), "ERR syntax error");
        assert_eq!(error("LMPOP 1 a LEFT COUNT"), "ERR syntax error");
        // An end read as it is leaves its check to the caller, after the count's.
        let argv = words("BZMPOP 1 a UP COUNT 0");
        let error = MultiPop::parse(&mut Args::new(&argv), Ok).unwrap_err();
        assert_eq!(text(error), "ERR count should be greater than 0");
    }

    #[test]
    fn picks_as_redis_counts() {
        assert_eq!(Pick::new(None, true).unwrap(), Pick::One);
        assert_eq!(Pick::new(Some(0), false).unwrap(), Pick::Distinct(0));
        assert_eq!(
            Pick::new(Some(i64::MAX), true).unwrap(),
            Pick::Distinct(i64::MAX as usize)
        );
        assert_eq!(Pick::new(Some(-3), true).unwrap(), Pick::Repeated(3));
        assert_eq!(
            text(Pick::new(Some(i64::MIN), false).unwrap_err()),
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
        );
        assert_eq!(
            text(Pick::new(Some(-(i64::MAX / 2) - 1), true).unwrap_err()),
            "ERR value is out of range"
        );
        assert_eq!(
            text(Pick::new(Some(-(1 << 25)), false).unwrap_err()),
            "ERR value is out of range"
        );
    }

    #[test]
    fn pop_counts_are_non_negative_integers() {
        let w = |t: &str| Bytes::copy_from_slice(t.as_bytes());
        assert_eq!(pop_count(None).unwrap(), None);
        assert_eq!(pop_count(Some(&w("0"))).unwrap(), Some(0));
        assert_eq!(
            pop_count(Some(&w("9223372036854775807"))).unwrap(),
            Some(i64::MAX as usize)
        );
        assert_eq!(
            text(pop_count(Some(&w("-1"))).unwrap_err()),
            "ERR value is out of range, must be positive"
        );
        assert_eq!(
            text(pop_count(Some(&w("x"))).unwrap_err()),
            "ERR value is not an integer or out of range"
        );
    }

    #[test]
    fn splits_streams_and_ids() {
        let argv = words("a b 0 $");
        let (keys, ids) = streams(&argv, "unbalanced").unwrap();
        assert_eq!((keys.len(), ids.len()), (2, 2));
        assert_eq!(text(streams(&argv[1..], "unbalanced").unwrap_err()), "unbalanced");
        assert!(streams(&[], "unbalanced").is_err());
    }
}
