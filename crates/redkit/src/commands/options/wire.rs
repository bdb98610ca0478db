//! Writing tokens and times as arguments, for the option files.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redkit_resp::ArgWriter;

pub(super) fn token<W: ArgWriter + ?Sized>(out: &mut W, t: &str) {
    out.write_arg(t.as_bytes());
}

pub(super) fn millis(d: Duration) -> u128 {
    d.as_millis()
}

pub(super) fn unix_millis(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}
