//! A serde struct as a list of fields and back: each field's value is its own JSON text, so a struct stored as a
//! hash (or a stream entry) round-trips exactly, strings and numbers included, and numeric fields still work with
//! HINCRBY.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::CodecError;
use crate::error::{Error, Result};

/// The fields of `value`, which must serialize as a map (a struct, or a map with string keys).
pub(crate) fn to_fields<S: Serialize>(key: &str, value: &S) -> Result<Vec<(String, Vec<u8>)>> {
    let encode_error = |e: String| Error::Encode {
        key: key.to_owned(),
        codec: "json fields",
        source: CodecError(e),
    };
    let json = serde_json::to_value(value).map_err(|e| encode_error(e.to_string()))?;
    let serde_json::Value::Object(map) = json else {
        return Err(Error::Invalid(format!(
            "{key}: a value stored as fields must be a struct or a map with string keys"
        )));
    };
    map.into_iter()
        .map(|(field, v)| {
            serde_json::to_vec(&v)
                .map(|bytes| (field, bytes))
                .map_err(|e| encode_error(e.to_string()))
        })
        .collect()
}

/// The struct made of `fields` (field name, JSON text).
pub(crate) fn from_fields<S: DeserializeOwned>(
    key: &str,
    fields: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Result<S> {
    let decode_error = |e: String| Error::Decode {
        key: key.to_owned(),
        codec: "json fields",
        source: CodecError(e),
    };
    let mut map = serde_json::Map::new();
    for (field, bytes) in fields {
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| decode_error(format!("field {field:?}: {e}")))?;
        map.insert(field, v);
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| decode_error(e.to_string()))
}
