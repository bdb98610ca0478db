//! Time spans and points in time as commands take them: whole seconds, milliseconds, blocking timeouts, Unix
//! times.

use std::time::{Duration, SystemTime};

use redkit_resp::{ArgWriter, ToArg};

use super::wire::unix_millis;

/// A time span sent as whole seconds (rounded up, so a positive span never becomes 0).
#[derive(Debug, Clone, Copy)]
pub struct Seconds(pub Duration);

impl ToArg for Seconds {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        let d = self.0;
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        secs.write_args(out);
    }
}

/// A time span sent as milliseconds (rounded up).
#[derive(Debug, Clone, Copy)]
pub struct Millis(pub Duration);

impl ToArg for Millis {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        let d = self.0;
        let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
        ms.write_args(out);
    }
}

/// A blocking timeout in fractional seconds; `None` blocks forever (`0`).
#[derive(Debug, Clone, Copy)]
pub struct BlockTimeout(pub Option<Duration>);

impl ToArg for BlockTimeout {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match self.0 {
            None => 0.write_args(out),
            Some(d) => d.as_secs_f64().max(0.001).write_args(out),
        }
    }
}

/// A point in time sent as Unix seconds.
#[derive(Debug, Clone, Copy)]
pub struct UnixSeconds(pub SystemTime);

impl ToArg for UnixSeconds {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        (unix_millis(self.0) / 1000).write_args(out);
    }
}

/// A point in time sent as Unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct UnixMillis(pub SystemTime);

impl ToArg for UnixMillis {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        unix_millis(self.0).write_args(out);
    }
}
