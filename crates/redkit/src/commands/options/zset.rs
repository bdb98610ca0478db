//! Sorted sets: ZADD's options, score and lex bounds, ZRANGE's options, ZUNION/ZINTER's, and scored replies.

use bytes::Bytes;
use redkit_resp::{ArgWriter, ToArg};

use super::key::Condition;
use super::wire::token;

/// Options of ZADD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZAddOptions {
    condition: Condition,
    comparison: Option<&'static str>,
    ch: bool,
}

impl ZAddOptions {
    /// Add or update.
    pub fn new() -> Self {
        Self::default()
    }
    /// Only add new members.
    #[must_use]
    pub fn nx(mut self) -> Self {
        self.condition = Condition::Nx;
        self
    }
    /// Only update existing members.
    #[must_use]
    pub fn xx(mut self) -> Self {
        self.condition = Condition::Xx;
        self
    }
    /// Only update when the new score is greater.
    #[must_use]
    pub fn gt(mut self) -> Self {
        self.comparison = Some("GT");
        self
    }
    /// Only update when the new score is less.
    #[must_use]
    pub fn lt(mut self) -> Self {
        self.comparison = Some("LT");
        self
    }
    /// Count changed members, not only added ones.
    #[must_use]
    pub fn ch(mut self) -> Self {
        self.ch = true;
        self
    }
}

impl ToArg for ZAddOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        self.condition.write_args(out);
        if let Some(c) = self.comparison {
            token(out, c);
        }
        if self.ch {
            token(out, "CH");
        }
    }
}

/// A score bound of a sorted-set range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ScoreBound {
    /// Including this score.
    Inclusive(f64),
    /// Excluding this score (`(1.5`).
    Exclusive(f64),
    /// Negative infinity.
    MinusInf,
    /// Positive infinity.
    PlusInf,
}

impl ToArg for ScoreBound {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self {
            ScoreBound::Inclusive(s) => s.write_args(out),
            ScoreBound::Exclusive(s) => {
                let mut text = String::from("(");
                let mut buf = Vec::<Vec<u8>>::new();
                s.write_args(&mut buf);
                text.push_str(&String::from_utf8_lossy(
                    buf.first().map(Vec::as_slice).unwrap_or(b"0"),
                ));
                out.write_arg(text.as_bytes());
            }
            ScoreBound::MinusInf => token(out, "-inf"),
            ScoreBound::PlusInf => token(out, "+inf"),
        }
    }
}

/// A lexicographic bound of a sorted-set range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// Including this member (`[a`).
    Inclusive(Bytes),
    /// Excluding this member (`(a`).
    Exclusive(Bytes),
    /// Before every member (`-`).
    Min,
    /// After every member (`+`).
    Max,
}

impl ToArg for LexBound {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        let (prefix, body): (&[u8], &[u8]) = match self {
            LexBound::Inclusive(b) => (b"[", b),
            LexBound::Exclusive(b) => (b"(", b),
            LexBound::Min => (b"-", b""),
            LexBound::Max => (b"+", b""),
        };
        out.write_arg(&[prefix, body].concat());
    }
}

/// What ZRANGE (and ZRANGESTORE) ranges over.
#[derive(Debug, Clone, PartialEq)]
pub enum ZRange {
    /// By rank: `start` and `stop` indexes (negative from the end).
    Rank(i64, i64),
    /// By score (`BYSCORE`).
    Score(ScoreBound, ScoreBound),
    /// By member name (`BYLEX`).
    Lex(LexBound, LexBound),
}

/// Options of ZRANGE: the range, order, and paging.
#[derive(Debug, Clone, PartialEq)]
pub struct ZRangeOptions {
    range: ZRange,
    rev: bool,
    limit: Option<(i64, i64)>,
}

impl ZRangeOptions {
    /// Members ranked `start..=stop`.
    pub fn rank(start: i64, stop: i64) -> Self {
        ZRangeOptions {
            range: ZRange::Rank(start, stop),
            rev: false,
            limit: None,
        }
    }
    /// Members with scores between `min` and `max`.
    pub fn score(min: ScoreBound, max: ScoreBound) -> Self {
        ZRangeOptions {
            range: ZRange::Score(min, max),
            rev: false,
            limit: None,
        }
    }
    /// Members between `min` and `max` lexicographically (all with equal scores).
    pub fn lex(min: LexBound, max: LexBound) -> Self {
        ZRangeOptions {
            range: ZRange::Lex(min, max),
            rev: false,
            limit: None,
        }
    }
    /// Highest first. For score and lex ranges, give the bounds as usual (min, max): they are swapped on the wire.
    #[must_use]
    pub fn rev(mut self) -> Self {
        self.rev = true;
        self
    }
    /// Skip `offset`, return at most `count` (score and lex ranges only).
    #[must_use]
    pub fn limit(mut self, offset: i64, count: i64) -> Self {
        self.limit = Some((offset, count));
        self
    }
}

impl ToArg for ZRangeOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match &self.range {
            ZRange::Rank(a, b) => (a, b).write_args(out),
            ZRange::Score(min, max) => {
                if self.rev {
                    (max, min).write_args(out)
                } else {
                    (min, max).write_args(out)
                }
                token(out, "BYSCORE");
            }
            ZRange::Lex(min, max) => {
                if self.rev {
                    (max, min).write_args(out)
                } else {
                    (min, max).write_args(out)
                }
                token(out, "BYLEX");
            }
        }
        if self.rev {
            token(out, "REV");
        }
        if let Some((offset, count)) = self.limit {
            token(out, "LIMIT");
            (offset, count).write_args(out);
        }
    }
}

/// How ZUNION/ZINTER combine scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// Add them (the default).
    Sum,
    /// Keep the lowest.
    Min,
    /// Keep the highest.
    Max,
}

/// Options of ZUNION, ZINTER and their STORE forms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZCombineOptions {
    weights: Vec<f64>,
    aggregate: Option<Aggregate>,
}

impl ZCombineOptions {
    /// Sum with weight 1.
    pub fn new() -> Self {
        Self::default()
    }
    /// One weight per input key.
    #[must_use]
    pub fn weights(mut self, weights: impl IntoIterator<Item = f64>) -> Self {
        self.weights = weights.into_iter().collect();
        self
    }
    /// How to combine scores.
    #[must_use]
    pub fn aggregate(mut self, aggregate: Aggregate) -> Self {
        self.aggregate = Some(aggregate);
        self
    }
}

impl ToArg for ZCombineOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if !self.weights.is_empty() {
            token(out, "WEIGHTS");
            self.weights.write_args(out);
        }
        if let Some(a) = self.aggregate {
            token(out, "AGGREGATE");
            token(
                out,
                match a {
                    Aggregate::Sum => "SUM",
                    Aggregate::Min => "MIN",
                    Aggregate::Max => "MAX",
                },
            );
        }
    }
}

/// A member with its score, from `WITHSCORES` replies (RESP2 flat or RESP3 nested).
pub type Scored<T> = Vec<(T, f64)>;
