//! [`FromValue`]: typed results from replies, with errors that say what was expected and what came.
//!
//! The rules, the same for RESP2 and RESP3 replies:
//! - An error reply converts to [`Error::Server`] for every target type except [`Value`] itself.
//! - RESP3 attributes are skipped; conversions see the value they describe.
//! - A null converts to `None` for `Option<T>`, to an empty collection for `Vec`, maps and sets (Redis answers a
//!   missing key with an empty aggregate or a null interchangeably), to `false` for `bool` (a write that did not
//!   apply), and is an error for other scalars.
//! - Integers are range-checked (`-1` never becomes `u64::MAX`), and parse from bulk text (`GET` of a counter).
//! - Maps convert from a RESP3 map, a flat RESP2 array `[k1, v1, k2, v2, …]` or an array of pairs; likewise
//!   `Vec<(K, V)>`, so `HGETALL` and `ZRANGE … WITHSCORES` read the same on both protocols.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

use bytes::Bytes;

use crate::error::{ConversionError, Error, Result};
use crate::server_error::ServerError;
use crate::value::Value;

/// A type that can be built from a reply.
///
/// ```
/// use redkit_resp::{FromValue, Value};
///
/// let reply = Value::Array(vec![Value::bulk("7"), Value::Null, Value::Integer(-3)]);
/// let parsed: Vec<Option<i64>> = FromValue::from_value(reply).unwrap();
/// assert_eq!(parsed, [Some(7), None, Some(-3)]);
///
/// let err = u8::from_value(Value::Integer(300)).unwrap_err();
/// assert_eq!(err.to_string(), "expected an integer in u8's range, got integer 300");
/// ```
pub trait FromValue: Sized {
    /// Convert a reply.
    fn from_value(value: Value) -> Result<Self>;

    /// Convert a reply into a `Vec<Self>`: an aggregate element by element, except for bytes and pairs.
    #[doc(hidden)]
    fn from_value_vec(value: Value) -> Result<Vec<Self>> {
        sequence(value, "an array")?
            .into_iter()
            .map(Self::from_value)
            .collect()
    }
}

/// Strip attributes and turn an error reply into `Err`.
fn reply(value: Value) -> Result<Value> {
    match value.without_attributes() {
        Value::Error(text) => Err(Error::Server {
            command: None,
            error: ServerError::from_bytes(&text),
        }),
        other => Ok(other),
    }
}

fn mismatch<T>(expected: &'static str, got: &Value) -> Result<T> {
    Err(ConversionError::unexpected(expected, got).into())
}

/// The elements of an aggregate (a map flattened to `k1, v1, …`); null is empty.
fn sequence(value: Value, expected: &'static str) -> Result<Vec<Value>> {
    match reply(value)? {
        Value::Array(items) | Value::Set(items) | Value::Push(items) => Ok(items),
        Value::Map(pairs) => Ok(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
        Value::Null => Ok(Vec::new()),
        other => mismatch(expected, &other),
    }
}

/// Key-value pairs from a map, a flat array or an array of 2-element arrays; null is empty.
fn pairs(value: Value) -> Result<Vec<(Value, Value)>> {
    const EXPECTED: &str = "a map, a flat array of key-value pairs, or an array of pairs";
    let items = match reply(value)? {
        Value::Map(pairs) => return Ok(pairs),
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => items,
        other => return mismatch(EXPECTED, &other),
    };
    let nested = !items.is_empty()
        && items
            .iter()
            .all(|i| matches!(peel(i), Value::Array(p) if p.len() == 2));
    if nested {
        return items
            .into_iter()
            .map(|item| match item.without_attributes() {
                Value::Array(pair) => {
                    let mut it = pair.into_iter();
                    match (it.next(), it.next()) {
                        (Some(k), Some(v)) => Ok((k, v)),
                        _ => Err(ConversionError::new("a 2-element array", "a shorter array").into()),
                    }
                }
                other => mismatch("a 2-element array", &other),
            })
            .collect();
    }
    if items.len() % 2 != 0 {
        return Err(ConversionError::new(EXPECTED, format!("an array of odd length {}", items.len())).into());
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

/// The value under any attributes, by reference.
fn peel(value: &Value) -> &Value {
    match value {
        Value::Attribute { data, .. } => peel(data),
        other => other,
    }
}

/// The bytes of a string-like reply; integers and doubles as their decimal text.
fn text_bytes(value: Value, expected: &'static str) -> Result<Bytes> {
    match reply(value)? {
        Value::SimpleString(b) | Value::BulkString(b) | Value::BigNumber(b) => Ok(b),
        Value::VerbatimString { text, .. } => Ok(text),
        Value::Integer(i) => Ok(Bytes::copy_from_slice(itoa::Buffer::new().format(i).as_bytes())),
        Value::Double(d) => {
            let mut buf = ryu::Buffer::new();
            Ok(Bytes::copy_from_slice(
                crate::encode::format_double(d, &mut buf).as_bytes(),
            ))
        }
        other => mismatch(expected, &other),
    }
}

impl FromValue for Value {
    /// The reply as is: error replies stay [`Value::Error`], attributes stay.
    fn from_value(value: Value) -> Result<Self> {
        Ok(value)
    }
}

impl FromValue for () {
    /// Any reply that is not an error (`OK`, `QUEUED`, …).
    fn from_value(value: Value) -> Result<Self> {
        reply(value).map(drop)
    }
}

impl FromValue for Bytes {
    fn from_value(value: Value) -> Result<Self> {
        text_bytes(value, "a string")
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self> {
        let bytes = text_bytes(value, "a string")?;
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            ConversionError::new(
                "a UTF-8 string",
                format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()),
            )
            .into()
        })
    }
}

impl FromValue for bool {
    /// From `:0`/`:1`, RESP3 `#f`/`#t`, or the text `0`/`1`; also from the replies of writes that may not
    /// apply: `+OK` is `true` and null is `false` (`SET … NX` on an existing key).
    fn from_value(value: Value) -> Result<Self> {
        match reply(value)? {
            Value::Boolean(b) => Ok(b),
            Value::Integer(0) | Value::Null => Ok(false),
            Value::Integer(1) => Ok(true),
            ref v @ (Value::BulkString(ref b) | Value::SimpleString(ref b)) => match &b[..] {
                b"0" => Ok(false),
                b"1" | b"OK" => Ok(true),
                _ => mismatch("a boolean (0 or 1)", v),
            },
            other => mismatch("a boolean (0 or 1)", &other),
        }
    }
}

impl FromValue for f64 {
    /// From a RESP3 double, an integer, or decimal text (`"3.5"`, `"inf"`, `"-inf"`).
    fn from_value(value: Value) -> Result<Self> {
        match reply(value)? {
            Value::Double(d) => Ok(d),
            Value::Integer(i) => Ok(i as f64),
            ref v @ (Value::BulkString(ref b) | Value::SimpleString(ref b)) => {
                match std::str::from_utf8(b).ok().and_then(|s| s.parse::<f64>().ok()) {
                    Some(d) => Ok(d),
                    None => mismatch("a float", v),
                }
            }
            other => mismatch("a float", &other),
        }
    }
}

impl FromValue for f32 {
    fn from_value(value: Value) -> Result<Self> {
        f64::from_value(value).map(|d| d as f32)
    }
}

/// Parse an integer reply or integer text into `T`, range-checked.
fn integer<T>(value: Value, expected: &'static str) -> Result<T>
where
    T: TryFrom<i64> + std::str::FromStr,
{
    match reply(value)? {
        ref v @ Value::Integer(i) => T::try_from(i).or_else(|_| mismatch(expected, v)),
        ref v @ (Value::BulkString(ref b) | Value::SimpleString(ref b) | Value::BigNumber(ref b)) => {
            match std::str::from_utf8(b).ok().and_then(|s| s.parse::<T>().ok()) {
                Some(n) => Ok(n),
                None => mismatch(expected, v),
            }
        }
        other => mismatch(expected, &other),
    }
}

macro_rules! from_value_int {
    ($($t:ty)*) => {$(
        impl FromValue for $t {
            fn from_value(value: Value) -> Result<Self> {
                integer(value, concat!("an integer in ", stringify!($t), "'s range"))
            }
        }
    )*};
}

from_value_int!(i8 i16 i32 i64 i128 isize u16 u32 u64 u128 usize);

impl FromValue for u8 {
    fn from_value(value: Value) -> Result<Self> {
        integer(value, "an integer in u8's range")
    }

    /// `Vec<u8>` is the bytes of a string reply (or an array of small integers).
    fn from_value_vec(value: Value) -> Result<Vec<u8>> {
        match reply(value)? {
            v @ (Value::Array(_) | Value::Set(_) | Value::Push(_) | Value::Null) => {
                sequence(v, "an array")?.into_iter().map(u8::from_value).collect()
            }
            other => Ok(text_bytes(other, "a string")?.to_vec()),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    /// `None` for a null reply, otherwise the converted value.
    fn from_value(value: Value) -> Result<Self> {
        match reply(value)? {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: Value) -> Result<Self> {
        T::from_value_vec(value)
    }
}

impl<T: FromValue + Eq + Hash, S: BuildHasher + Default> FromValue for HashSet<T, S> {
    fn from_value(value: Value) -> Result<Self> {
        sequence(value, "a set or an array")?
            .into_iter()
            .map(T::from_value)
            .collect()
    }
}

impl<T: FromValue + Ord> FromValue for BTreeSet<T> {
    fn from_value(value: Value) -> Result<Self> {
        sequence(value, "a set or an array")?
            .into_iter()
            .map(T::from_value)
            .collect()
    }
}

impl<K: FromValue + Eq + Hash, V: FromValue, S: BuildHasher + Default> FromValue for HashMap<K, V, S> {
    fn from_value(value: Value) -> Result<Self> {
        pairs(value)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn from_value(value: Value) -> Result<Self> {
        pairs(value)?
            .into_iter()
            .map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?)))
            .collect()
    }
}

/// The elements of an aggregate of exactly `n` elements.
fn exactly(value: Value, n: usize, expected: &'static str) -> Result<std::vec::IntoIter<Value>> {
    match reply(value)? {
        Value::Array(items) | Value::Set(items) | Value::Push(items) if items.len() == n => {
            Ok(items.into_iter())
        }
        other => mismatch(expected, &other),
    }
}

macro_rules! from_value_tuple {
    ($n:literal, $expected:literal, $($name:ident)+) => {
        impl<$($name: FromValue),+> FromValue for ($($name,)+) {
            fn from_value(value: Value) -> Result<Self> {
                let mut it = exactly(value, $n, $expected)?;
                Ok(($($name::from_value(it.next().unwrap_or(Value::Null))?,)+))
            }
        }
    };
}

from_value_tuple!(1, "a 1-element array", A);
from_value_tuple!(3, "a 3-element array", A B C);
from_value_tuple!(4, "a 4-element array", A B C D);

impl<A: FromValue, B: FromValue> FromValue for (A, B) {
    fn from_value(value: Value) -> Result<Self> {
        let mut it = exactly(value, 2, "a 2-element array")?;
        Ok((
            A::from_value(it.next().unwrap_or(Value::Null))?,
            B::from_value(it.next().unwrap_or(Value::Null))?,
        ))
    }

    /// `Vec<(A, B)>` reads key-value pairs: a map, a flat array, or an array of pairs.
    fn from_value_vec(value: Value) -> Result<Vec<Self>> {
        pairs(value)?
            .into_iter()
            .map(|(a, b)| Ok((A::from_value(a)?, B::from_value(b)?)))
            .collect()
    }
}
