//! The stored form of the dataset: one record per key. The store key is the database index (one byte) followed
//! by the Redis key; the value is [`FORMAT`] followed by the entry in MessagePack (its type, contents, string
//! encoding and absolute expiry deadline).

use std::sync::Arc;

use crate::state::db::Entry;

use super::error::WriteError;

/// The format byte in front of every stored entry.
const FORMAT: u8 = 1;

/// Why a stored record is not an entry of this server.
#[derive(Debug, thiserror::Error)]
pub(super) enum RecordError {
    /// The MessagePack after the format byte does not decode.
    #[error(transparent)]
    Decode(rmp_serde::decode::Error),
    /// Another format byte.
    #[error("unknown format {0}")]
    UnknownFormat(u8),
    /// No bytes at all.
    #[error("empty record")]
    Empty,
    /// The key names no database of this server.
    #[error("not a key of any database")]
    NoDatabase,
}

/// The store key of `key` in database `db`.
pub(super) fn store_key(db: usize, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(db as u8);
    k.extend_from_slice(key);
    k
}

/// The stored value of `entry`.
pub(super) fn encode(entry: &Entry) -> Result<Vec<u8>, WriteError> {
    let mut out = vec![FORMAT];
    rmp_serde::encode::write(&mut out, entry).map_err(|e| WriteError::Encode(Arc::new(e)))?;
    Ok(out)
}

/// The entry a stored value holds.
pub(super) fn decode(value: &[u8]) -> Result<Entry, RecordError> {
    match value.split_first() {
        Some((&FORMAT, rest)) => rmp_serde::from_slice(rest).map_err(RecordError::Decode),
        Some((other, _)) => Err(RecordError::UnknownFormat(*other)),
        None => Err(RecordError::Empty),
    }
}

/// A store key as messages show it.
pub(super) fn printable(key: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(key))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn records_that_are_not_entries_say_why() {
        assert_eq!(store_key(3, b"ab"), b"\x03ab");
        assert_eq!(printable(b"\x01k"), r#""\u{1}k""#);
        let reason = |value: &[u8]| decode(value).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(reason(b""), Err("empty record".to_owned()));
        assert_eq!(reason(b"\x07abc"), Err("unknown format 7".to_owned()));
        assert!(matches!(decode(b"\x01\xc1"), Err(RecordError::Decode(_))));
    }
}
