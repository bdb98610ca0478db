//! [`ToArg`]: how Rust values become command arguments — as bytes, never formatted into one string.
//!
//! Every argument is written as its own RESP bulk string, so keys and values may contain spaces, `\r\n` or any
//! binary data. Numbers are written in decimal without allocating; floats use Redis's syntax (`inf`, `-inf`).
//! A byte slice (`&[u8]`, `Vec<u8>`, `[u8; N]`) is one argument; a slice of anything else is one argument per
//! element, and `None` is no argument at all.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};

/// Where arguments are written: a [`Cmd`](crate::Cmd), or a plain list of byte strings.
pub trait ArgWriter {
    /// Append one argument.
    fn write_arg(&mut self, arg: &[u8]);
}

impl ArgWriter for Vec<Vec<u8>> {
    fn write_arg(&mut self, arg: &[u8]) {
        self.push(arg.to_vec());
    }
}

impl ArgWriter for Vec<Bytes> {
    fn write_arg(&mut self, arg: &[u8]) {
        self.push(Bytes::copy_from_slice(arg));
    }
}

/// A value that can be written as zero or more command arguments.
///
/// ```
/// use redkit_resp::Cmd;
///
/// let cmd = Cmd::new("ZADD").arg("board").arg(1.5).arg("alice").arg(f64::INFINITY).arg(b"b\x00b".as_slice());
/// let args: Vec<&[u8]> = cmd.args().collect();
/// assert_eq!(args, [&b"ZADD"[..], b"board", b"1.5", b"alice", b"inf", b"b\x00b"]);
/// ```
pub trait ToArg {
    /// Write this value's arguments.
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W);

    /// Write a slice of values: one argument per element, except for bytes, where the slice is one argument.
    #[doc(hidden)]
    fn write_slice<W: ArgWriter + ?Sized>(items: &[Self], out: &mut W)
    where
        Self: Sized,
    {
        for item in items {
            item.write_args(out);
        }
    }
}

impl<T: ToArg + ?Sized> ToArg for &T {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        (**self).write_args(out);
    }
}

impl<T: ToArg + ?Sized> ToArg for Box<T> {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        (**self).write_args(out);
    }
}

impl ToArg for str {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        out.write_arg(self.as_bytes());
    }
}

impl ToArg for String {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        out.write_arg(self.as_bytes());
    }
}

impl ToArg for Cow<'_, str> {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        out.write_arg(self.as_bytes());
    }
}

impl ToArg for Bytes {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        out.write_arg(self);
    }
}

impl ToArg for BytesMut {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        out.write_arg(self);
    }
}

impl<T: ToArg> ToArg for [T] {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        T::write_slice(self, out);
    }
}

impl<T: ToArg> ToArg for Vec<T> {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        T::write_slice(self, out);
    }
}

impl<T: ToArg, const N: usize> ToArg for [T; N] {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        T::write_slice(self, out);
    }
}

impl<T: ToArg> ToArg for Option<T> {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if let Some(v) = self {
            v.write_args(out);
        }
    }
}

macro_rules! tuple_to_arg {
    ($($name:ident)+) => {
        impl<$($name: ToArg),+> ToArg for ($($name,)+) {
            #[allow(non_snake_case)]
            fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
                let ($($name,)+) = self;
                $($name.write_args(out);)+
            }
        }
    };
}

tuple_to_arg!(A B);
tuple_to_arg!(A B C);
tuple_to_arg!(A B C D);

impl ToArg for u8 {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        out.write_arg(itoa::Buffer::new().format(*self).as_bytes());
    }

    fn write_slice<W: ArgWriter + ?Sized>(items: &[u8], out: &mut W) {
        out.write_arg(items);
    }
}

macro_rules! int_to_arg {
    ($($t:ty)*) => {$(
        impl ToArg for $t {
            fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
                out.write_arg(itoa::Buffer::new().format(*self).as_bytes());
            }
        }
    )*};
}

int_to_arg!(i8 i16 i32 i64 i128 isize u16 u32 u64 u128 usize);

impl ToArg for f64 {
    /// Shortest exact decimal form; `inf` and `-inf` as Redis spells them. NaN is written as `nan`, which Redis
    /// rejects with "value is not a valid float" — the error comes from the server, nothing is silently changed.
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        let mut buf = ryu::Buffer::new();
        out.write_arg(crate::encode::format_double(*self, &mut buf).as_bytes());
    }
}

impl ToArg for f32 {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        if self.is_finite() {
            out.write_arg(ryu::Buffer::new().format_finite(*self).as_bytes());
        } else {
            f64::from(*self).write_args(out);
        }
    }
}
