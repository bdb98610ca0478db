//! Lists: sides, LINSERT's position, LPOS's options, and the reply of the MPOP commands.

use redkit_resp::{ArgWriter, ToArg};

use super::wire::token;

/// A side of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The head (`LEFT`).
    Left,
    /// The tail (`RIGHT`).
    Right,
}

impl ToArg for Side {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(out, if *self == Side::Left { "LEFT" } else { "RIGHT" });
    }
}

/// Where LINSERT puts the new element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Before the pivot.
    Before,
    /// After the pivot.
    After,
}

impl ToArg for Position {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(
            out,
            if *self == Position::Before {
                "BEFORE"
            } else {
                "AFTER"
            },
        );
    }
}

/// Options of LPOS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LPosOptions {
    rank: Option<i64>,
    maxlen: Option<u64>,
}

impl LPosOptions {
    /// The first match from the head.
    pub fn new() -> Self {
        Self::default()
    }
    /// The n-th match (negative: from the tail).
    #[must_use]
    pub fn rank(mut self, rank: i64) -> Self {
        self.rank = Some(rank);
        self
    }
    /// Compare at most this many elements.
    #[must_use]
    pub fn maxlen(mut self, maxlen: u64) -> Self {
        self.maxlen = Some(maxlen);
        self
    }
}

impl ToArg for LPosOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if let Some(r) = self.rank {
            token(out, "RANK");
            r.write_args(out);
        }
        if let Some(m) = self.maxlen {
            token(out, "MAXLEN");
            m.write_args(out);
        }
    }
}

/// The reply of LMPOP / BLMPOP / ZMPOP: the key popped from and its elements; `None` when nothing was popped.
pub type KeyedPop<T> = Option<(String, Vec<T>)>;
