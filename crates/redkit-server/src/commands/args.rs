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
//! The option parsers several families share live here too: a database index, a list side (LEFT/RIGHT), and the
//! `STREAMS key… id…` tail of XREAD and XREADGROUP.

use bytes::Bytes;
use redkit_resp::Value;

use super::{err, is, parse_i64, syntax_error};
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
    fn splits_streams_and_ids() {
        let argv = words("a b 0 $");
        let (keys, ids) = streams(&argv, "unbalanced").unwrap();
        assert_eq!((keys.len(), ids.len()), (2, 2));
        assert_eq!(text(streams(&argv[1..], "unbalanced").unwrap_err()), "unbalanced");
        assert!(streams(&[], "unbalanced").is_err());
    }
}
