//! The errors of persistence: [`PersistError`] when the data directory cannot be opened or loaded, [`WriteError`]
//! when writing to it fails (or is refused) while the server runs.

use std::path::PathBuf;
use std::sync::Arc;

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// The store could not be opened or read (damage, a lock held by another server, I/O).
    #[error("cannot load the data directory {}: {source}", dir.display())]
    Store {
        /// The directory.
        dir: PathBuf,
        /// What the store said.
        #[source]
        source: redkit_log::Error,
    },
    /// The fsync thread of `appendfsync always` could not be started.
    #[error("cannot start the fsync thread: {0}")]
    Thread(#[source] std::io::Error),
    /// A record was readable but is not an entry this server wrote. Start with repair to drop it.
    #[error(
        "cannot load the data directory {}: {what}; start with repair to drop it and go on",
        dir.display()
    )]
    Undecodable {
        /// The directory.
        dir: PathBuf,
        /// Which record, and why.
        what: String,
    },
}

/// Why writing to the data directory failed, or was refused, while the server runs: what failed, with the store's
/// error where that is the cause.
///
/// Its text is what clients and the log see: after `MISCONF Errors writing to the AOF file: ` when the write or
/// the fsync of a batch of commands failed (their replies), as the error reply of SAVE, BGSAVE and BGREWRITEAOF,
/// and as the error of [`Server::shutdown`](crate::Server::shutdown). Cheap to clone: the causes are shared.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// An entry could not be encoded for the store (nothing was written).
    #[error("cannot encode an entry: {0}")]
    Encode(#[source] Arc<rmp_serde::encode::Error>),
    /// The store refused the batch of changes of an append-only write. Further writes are refused with `MISCONF`
    /// until a retry succeeds.
    #[error(transparent)]
    Append(Arc<redkit_log::Error>),
    /// The fsync of what was written failed.
    #[error(transparent)]
    Fsync(Arc<redkit_log::Error>),
    /// The fsync thread of `appendfsync always` is gone, so no write can be confirmed durable.
    #[error("the fsync thread is gone")]
    FsyncThreadGone,
    /// The store refused the snapshot of the dataset (SAVE or BGSAVE without `appendonly`).
    #[error(transparent)]
    Snapshot(Arc<redkit_log::Error>),
    /// SAVE failed. Its text is Redis's bare `ERR` (the cause, its source, is logged).
    #[error("ERR")]
    Save(#[source] Box<WriteError>),
    /// SAVE or BGSAVE while a background save runs.
    #[error("ERR Background save already in progress")]
    SaveInProgress,
    /// BGREWRITEAOF while a rewrite runs.
    #[error("ERR Background append only file rewriting already in progress")]
    RewriteInProgress,
    /// The thread of a BGSAVE could not be started.
    #[error("ERR cannot start a thread for the background save")]
    SaveThread(#[source] Arc<std::io::Error>),
    /// The thread of a BGREWRITEAOF could not be started.
    #[error("ERR cannot start a thread for the rewrite")]
    RewriteThread(#[source] Arc<std::io::Error>),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::WriteError;
    use std::sync::Arc;

    /// The texts are the ones clients and the log have always seen.
    #[test]
    fn texts_are_unchanged() {
        let store = || Arc::new(redkit_log::Error::Locked { dir: "/data".into() });
        let io = || Arc::new(std::io::Error::other("no threads"));
        let cases = [
            (
                WriteError::Append(store()),
                "/data is locked by another open store",
            ),
            (
                WriteError::Fsync(store()),
                "/data is locked by another open store",
            ),
            (
                WriteError::Snapshot(store()),
                "/data is locked by another open store",
            ),
            (WriteError::FsyncThreadGone, "the fsync thread is gone"),
            (WriteError::Save(Box::new(WriteError::Fsync(store()))), "ERR"),
            (
                WriteError::SaveInProgress,
                "ERR Background save already in progress",
            ),
            (
                WriteError::RewriteInProgress,
                "ERR Background append only file rewriting already in progress",
            ),
            (
                WriteError::SaveThread(io()),
                "ERR cannot start a thread for the background save",
            ),
            (
                WriteError::RewriteThread(io()),
                "ERR cannot start a thread for the rewrite",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text, "{error:?}");
        }
        let saved = WriteError::Save(Box::new(WriteError::Fsync(store())));
        let cause = std::error::Error::source(&saved).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("/data is locked by another open store"));
    }
}
