//! Strings and bitmaps: SET's options and expiries (SET, GETEX), BITOP's operations and BITCOUNT/BITPOS ranges.

use std::time::{Duration, SystemTime};

use redkit_resp::{ArgWriter, ToArg};

use super::key::Condition;
use super::wire::{millis, token, unix_millis};

/// An expiry to set with SET or GETEX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Expire after this long (sent as `PX` milliseconds).
    In(Duration),
    /// Expire at this time (sent as `PXAT`).
    At(SystemTime),
    /// SET only: keep the key's current expiry (`KEEPTTL`).
    KeepTtl,
    /// GETEX only: remove the expiry (`PERSIST`).
    Persist,
}

impl ToArg for Expiry {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self {
            Expiry::In(d) => {
                token(out, "PX");
                millis(*d).max(1).write_args(out);
            }
            Expiry::At(t) => {
                token(out, "PXAT");
                unix_millis(*t).write_args(out);
            }
            Expiry::KeepTtl => token(out, "KEEPTTL"),
            Expiry::Persist => token(out, "PERSIST"),
        }
    }
}

/// Options of SET.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SetOptions {
    condition: Condition,
    expiry: Option<Expiry>,
}

impl SetOptions {
    /// No options: a plain SET.
    pub fn new() -> SetOptions {
        SetOptions::default()
    }
    /// Only set a key that does not exist.
    #[must_use]
    pub fn nx(mut self) -> Self {
        self.condition = Condition::Nx;
        self
    }
    /// Only set a key that exists.
    #[must_use]
    pub fn xx(mut self) -> Self {
        self.condition = Condition::Xx;
        self
    }
    /// Expire after `ttl`.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.expiry = Some(Expiry::In(ttl));
        self
    }
    /// Expire at `at`.
    #[must_use]
    pub fn expire_at(mut self, at: SystemTime) -> Self {
        self.expiry = Some(Expiry::At(at));
        self
    }
    /// Keep the current expiry.
    #[must_use]
    pub fn keep_ttl(mut self) -> Self {
        self.expiry = Some(Expiry::KeepTtl);
        self
    }
}

impl ToArg for SetOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        self.condition.write_args(out);
        self.expiry.write_args(out);
    }
}

/// A bitwise operation of BITOP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// AND.
    And,
    /// OR.
    Or,
    /// XOR.
    Xor,
    /// NOT (one source key).
    Not,
}

impl ToArg for BitOp {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(
            out,
            match self {
                BitOp::And => "AND",
                BitOp::Or => "OR",
                BitOp::Xor => "XOR",
                BitOp::Not => "NOT",
            },
        );
    }
}

/// Units of BITCOUNT/BITPOS ranges (Redis 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitUnit {
    /// Byte offsets.
    Byte,
    /// Bit offsets.
    Bit,
}

/// A BITCOUNT/BITPOS range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitRange {
    /// First offset (negative from the end).
    pub start: i64,
    /// Last offset, inclusive.
    pub end: i64,
    /// Whether offsets count bytes or bits.
    pub unit: BitUnit,
}

impl ToArg for BitRange {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        (self.start, self.end).write_args(out);
        token(out, if self.unit == BitUnit::Bit { "BIT" } else { "BYTE" });
    }
}
