//! [`Error`]: what a cache operation can fail with.

/// The error a loader or store function returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A cache operation's failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Redis (or the connection) failed.
    #[error(transparent)]
    Redis(#[from] redkit::Error),
    /// A cached value did not decode (it is treated as absent by loads; returned by plain reads).
    #[error("{key}: the cached value does not decode: {reason}")]
    Decode {
        /// The cache key.
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// The value could not be encoded.
    #[error("{key}: the value does not encode: {reason}")]
    Encode {
        /// The cache key.
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// The loader failed; nothing was cached.
    #[error("{key}: loading the value failed: {source}")]
    Load {
        /// The cache key.
        key: String,
        /// The loader's error.
        #[source]
        source: BoxError,
    },
    /// The store rejected the write; the cache was left as it was.
    #[error("{key}: writing to the store failed (cache unchanged): {source}")]
    Store {
        /// The cache key.
        key: String,
        /// The store's error.
        #[source]
        source: BoxError,
    },
    /// An argument cannot be used (a zero TTL, …).
    #[error("{0}")]
    Invalid(String),
}

/// The result of a cache operation.
pub type Result<T> = std::result::Result<T, Error>;
