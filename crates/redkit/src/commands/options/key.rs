//! Keys: TTL and expiry-time replies, the conditions of writes and of the EXPIRE family, and SCAN's options and
//! pages (shared by SSCAN, HSCAN and ZSCAN).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redkit_resp::{ArgWriter, ConversionError, FromValue, Result, ToArg, Value};

use super::wire::token;

/// The time to live of a key, from TTL / PTTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ttl {
    /// The key does not exist (`-2`).
    NoKey,
    /// The key exists and does not expire (`-1`).
    NoExpiry,
    /// The key expires after this long.
    Expires(Duration),
}

impl Ttl {
    fn from_reply(value: Value, unit: Duration) -> Result<Ttl> {
        match i64::from_value(value)? {
            -2 => Ok(Ttl::NoKey),
            -1 => Ok(Ttl::NoExpiry),
            n if n >= 0 => Ok(Ttl::Expires(
                unit.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX)),
            )),
            n => Err(
                ConversionError::new("a TTL (-2, -1 or a non-negative count)", format!("integer {n}")).into(),
            ),
        }
    }
}

/// [`Ttl`] read from a `TTL` reply (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlSeconds(pub Ttl);

impl FromValue for TtlSeconds {
    fn from_value(value: Value) -> Result<Self> {
        Ttl::from_reply(value, Duration::from_secs(1)).map(TtlSeconds)
    }
}

impl FromValue for Ttl {
    /// From a `PTTL` reply (milliseconds).
    fn from_value(value: Value) -> Result<Self> {
        Ttl::from_reply(value, Duration::from_millis(1))
    }
}

/// When a key's expiry is set: a point in time, from EXPIRETIME / PEXPIRETIME.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpireTime {
    /// The key does not exist.
    NoKey,
    /// The key has no expiry.
    NoExpiry,
    /// The key expires at this time.
    At(SystemTime),
}

impl FromValue for ExpireTime {
    /// From a `PEXPIRETIME` reply (Unix milliseconds).
    fn from_value(value: Value) -> Result<Self> {
        match i64::from_value(value)? {
            -2 => Ok(ExpireTime::NoKey),
            -1 => Ok(ExpireTime::NoExpiry),
            n => Ok(ExpireTime::At(
                UNIX_EPOCH + Duration::from_millis(n.unsigned_abs()),
            )),
        }
    }
}

/// Whether a write applies only to new or only to existing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Condition {
    /// Always.
    #[default]
    Always,
    /// Only if the key (or member) does not exist (`NX`).
    Nx,
    /// Only if it exists (`XX`).
    Xx,
}

impl ToArg for Condition {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self {
            Condition::Always => {}
            Condition::Nx => token(out, "NX"),
            Condition::Xx => token(out, "XX"),
        }
    }
}

/// When EXPIRE-family commands apply (Redis 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpireCondition {
    /// Always.
    #[default]
    Always,
    /// Only if the key has no expiry.
    Nx,
    /// Only if the key has an expiry.
    Xx,
    /// Only if the new expiry is later.
    Gt,
    /// Only if the new expiry is sooner.
    Lt,
}

impl ToArg for ExpireCondition {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self {
            ExpireCondition::Always => {}
            ExpireCondition::Nx => token(out, "NX"),
            ExpireCondition::Xx => token(out, "XX"),
            ExpireCondition::Gt => token(out, "GT"),
            ExpireCondition::Lt => token(out, "LT"),
        }
    }
}

/// Options of SCAN, SSCAN, HSCAN and ZSCAN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanOptions {
    pattern: Option<Bytes>,
    count: Option<u64>,
    kind: Option<String>,
}

impl ScanOptions {
    /// No filter, the server's default batch size.
    pub fn new() -> ScanOptions {
        ScanOptions::default()
    }
    /// Only keys (members) matching a glob pattern (`MATCH`).
    #[must_use]
    pub fn pattern(mut self, pattern: impl Into<Bytes>) -> Self {
        self.pattern = Some(pattern.into());
        self
    }
    /// Ask for about this many per call (`COUNT`).
    #[must_use]
    pub fn count(mut self, count: u64) -> Self {
        self.count = Some(count);
        self
    }
    /// SCAN only: only keys of this type (`TYPE string|list|set|zset|hash|stream`).
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

impl ToArg for ScanOptions {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if let Some(p) = &self.pattern {
            token(out, "MATCH");
            out.write_arg(p);
        }
        if let Some(c) = self.count {
            token(out, "COUNT");
            c.write_args(out);
        }
        if let Some(k) = &self.kind {
            token(out, "TYPE");
            out.write_arg(k.as_bytes());
        }
    }
}

/// One page of a SCAN-family reply: the next cursor (0 when done) and the items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPage<T> {
    /// Pass this to the next call; `0` means the scan is complete.
    pub cursor: u64,
    /// The items of this page.
    pub items: Vec<T>,
}

impl<T: FromValue> FromValue for ScanPage<T> {
    fn from_value(value: Value) -> Result<Self> {
        let (cursor, items): (u64, Vec<T>) = FromValue::from_value(value)?;
        Ok(ScanPage { cursor, items })
    }
}
