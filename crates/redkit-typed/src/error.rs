//! [`Error`]: what a typed operation can fail with.

use crate::codec::CodecError;

/// A typed operation's failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stored value does not decode as the key's type — never a panic, never a silent `None`.
    #[error("{key}: the stored value does not decode with the {codec} codec: {source}")]
    Decode {
        /// The key (and field, for hashes: `key#field`).
        key: String,
        /// The codec's name.
        codec: &'static str,
        /// What the codec said.
        #[source]
        source: CodecError,
    },
    /// The value could not be encoded.
    #[error("{key}: the value does not encode with the {codec} codec: {source}")]
    Encode {
        /// The key.
        key: String,
        /// The codec's name.
        codec: &'static str,
        /// What the codec said.
        #[source]
        source: CodecError,
    },
    /// The argument cannot be used (a zero TTL, a struct that is not a map of fields, …).
    #[error("{0}")]
    Invalid(String),
    /// Redis (or the connection) failed.
    #[error(transparent)]
    Redis(#[from] redkit::Error),
}

/// The result of a typed operation.
pub type Result<T> = std::result::Result<T, Error>;
