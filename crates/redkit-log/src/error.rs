//! [`Error`]: what can go wrong, with the file and offset where it did.

use std::io;
use std::path::{Path, PathBuf};

/// `Result<T, redkit_log::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of the store. Nothing is dropped or changed silently: every problem is one of these, or a warning in
/// the [`RecoveryReport`](crate::RecoveryReport).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on `path` failed. The store stays consistent: a failed append is cut off the segment.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A record (or the manifest) does not check out somewhere other than the end of the active segment.
    #[error("corruption in {} at offset {offset}: {reason}", segment.display())]
    Corruption {
        /// The damaged file.
        segment: PathBuf,
        /// Where the damage starts.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// Another process (or another `Store` in this one) has the directory open.
    #[error("{} is locked by another open store", dir.display())]
    Locked {
        /// The directory.
        dir: PathBuf,
    },
    /// A key or value is larger than the configured limit.
    #[error("{what} of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// `"key"` or `"value"`.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A failed write could not be cut off the segment; writes are refused until the store is reopened (which
    /// truncates the partial record as a torn tail).
    #[error("a failed write could not be undone; reopen the store")]
    Broken,
}

impl Error {
    pub(crate) fn io(path: &Path, source: io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
