//! [`Codec`]: how a typed value becomes the bytes Redis stores, and back.
//!
//! | codec | types | stored as |
//! |---|---|---|
//! | [`Json`] (default) | any `Serialize + DeserializeOwned` | JSON text |
//! | [`MsgPack`] | any `Serialize + DeserializeOwned` | MessagePack (struct fields by name) |
//! | [`Raw`] | `Vec<u8>`, `Bytes` | the bytes as they are |
//! | [`Text`] | `String` | UTF-8 text |
//! | [`Int`] | `i64`, `i32`, `u32`, `u64` | a Redis integer string, so INCR/INCRBY work on it |

use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a value could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(pub(crate) String);

/// Turns values of `T` into stored bytes and back. Codecs are types (used as `TypedKey<T, C>`), not values.
pub trait Codec<T>: Send + Sync + 'static {
    /// The codec's name, for error messages.
    const NAME: &'static str;
    /// The bytes to store for `value`.
    fn encode(value: &T) -> Result<Vec<u8>, CodecError>;
    /// The value stored as `bytes`.
    fn decode(bytes: &[u8]) -> Result<T, CodecError>;
}

/// JSON through `serde_json`: readable in `redis-cli`, and exact for every serde type.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl<T: Serialize + DeserializeOwned> Codec<T> for Json {
    const NAME: &'static str = "json";
    fn encode(value: &T) -> Result<Vec<u8>, CodecError> {
        serde_json::to_vec(value).map_err(|e| CodecError(e.to_string()))
    }
    fn decode(bytes: &[u8]) -> Result<T, CodecError> {
        serde_json::from_slice(bytes).map_err(|e| CodecError(e.to_string()))
    }
}

/// MessagePack through `rmp-serde`, structs encoded as maps (field names kept, so fields may be reordered or
/// added with `#[serde(default)]`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MsgPack;

impl<T: Serialize + DeserializeOwned> Codec<T> for MsgPack {
    const NAME: &'static str = "msgpack";
    fn encode(value: &T) -> Result<Vec<u8>, CodecError> {
        rmp_serde::to_vec_named(value).map_err(|e| CodecError(e.to_string()))
    }
    fn decode(bytes: &[u8]) -> Result<T, CodecError> {
        rmp_serde::from_slice(bytes).map_err(|e| CodecError(e.to_string()))
    }
}

/// The bytes as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Raw;

impl Codec<Vec<u8>> for Raw {
    const NAME: &'static str = "raw";
    fn encode(value: &Vec<u8>) -> Result<Vec<u8>, CodecError> {
        Ok(value.clone())
    }
    fn decode(bytes: &[u8]) -> Result<Vec<u8>, CodecError> {
        Ok(bytes.to_vec())
    }
}

impl Codec<Bytes> for Raw {
    const NAME: &'static str = "raw";
    fn encode(value: &Bytes) -> Result<Vec<u8>, CodecError> {
        Ok(value.to_vec())
    }
    fn decode(bytes: &[u8]) -> Result<Bytes, CodecError> {
        Ok(Bytes::copy_from_slice(bytes))
    }
}

/// UTF-8 text, stored without quotes (what `redis-cli` shows is the string itself).
#[derive(Debug, Clone, Copy, Default)]
pub struct Text;

impl Codec<String> for Text {
    const NAME: &'static str = "text";
    fn encode(value: &String) -> Result<Vec<u8>, CodecError> {
        Ok(value.as_bytes().to_vec())
    }
    fn decode(bytes: &[u8]) -> Result<String, CodecError> {
        String::from_utf8(bytes.to_vec()).map_err(|e| CodecError(format!("not UTF-8: {e}")))
    }
}

/// Integers as Redis integer strings (`"42"`), so INCR, INCRBY and DECR keep working on the stored value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Int;

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Codec<$t> for Int {
            const NAME: &'static str = "int";
            fn encode(value: &$t) -> Result<Vec<u8>, CodecError> {
                Ok(value.to_string().into_bytes())
            }
            fn decode(bytes: &[u8]) -> Result<$t, CodecError> {
                let text = std::str::from_utf8(bytes).map_err(|_| CodecError("not an integer (not UTF-8)".into()))?;
                text.parse().map_err(|e| CodecError(format!("{text:?} is not an {}: {e}", stringify!($t))))
            }
        }
    )*};
}

int_codec!(i64, i32, u32, u64);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct User {
        name: String,
        age: u32,
        tags: Vec<String>,
        nick: Option<String>,
    }

    fn user() -> User {
        User {
            name: "Ada \u{1F980}\n\"quoted\"".into(),
            age: 36,
            tags: vec!["a".into(), String::new()],
            nick: None,
        }
    }

    #[test]
    fn serde_codecs_round_trip_exactly() {
        let u = user();
        assert_eq!(
            <Json as Codec<User>>::decode(&Json::encode(&u).unwrap()).unwrap(),
            u
        );
        assert_eq!(
            <MsgPack as Codec<User>>::decode(&MsgPack::encode(&u).unwrap()).unwrap(),
            u
        );
        let f = 0.1f64 + 0.2;
        assert_eq!(
            <Json as Codec<f64>>::decode(&Json::encode(&f).unwrap()).unwrap(),
            f
        );
    }

    #[test]
    fn plain_codecs_and_their_errors() {
        assert_eq!(<Int as Codec<i64>>::encode(&-42).unwrap(), b"-42");
        assert_eq!(<Int as Codec<i64>>::decode(b"17").unwrap(), 17);
        assert!(<Int as Codec<u32>>::decode(b"-1").is_err());
        assert!(
            <Int as Codec<i64>>::decode(b"1.5")
                .unwrap_err()
                .to_string()
                .contains("not an i64")
        );
        assert!(<Text as Codec<String>>::decode(&[0xff]).is_err());
        assert_eq!(
            <Raw as Codec<Vec<u8>>>::decode(&[0, 1, 255]).unwrap(),
            vec![0, 1, 255]
        );
        assert!(<Json as Codec<User>>::decode(b"{\"name\":1}").is_err());
    }
}
