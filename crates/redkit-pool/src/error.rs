//! [`PoolError`]: why a connection could not be handed out.

use std::time::Duration;

/// Why [`Pool::get`](crate::Pool::get) failed.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Every connection stayed in use for the whole acquire timeout.
    #[error("no pooled connection became free within {waited:?} (all {max_size} in use)")]
    AcquireTimeout {
        /// How long the caller waited.
        waited: Duration,
        /// The pool's size limit.
        max_size: usize,
    },
    /// A new connection was needed and could not be made.
    #[error("cannot reach the server: {0}")]
    Unreachable(#[source] redkit::Error),
    /// The pool was closed.
    #[error("the pool is closed")]
    Closed,
}

impl From<PoolError> for redkit::Error {
    /// So a [`Pool`](crate::Pool) can be an [`Executor`](redkit::Executor): a timeout stays a timeout, an
    /// unreachable server its own error, a closed pool [`redkit::Error::Closed`].
    fn from(e: PoolError) -> redkit::Error {
        match e {
            PoolError::AcquireTimeout { waited, .. } => redkit::Error::Timeout {
                command: Some("acquire a pooled connection".into()),
                after: waited,
            },
            PoolError::Unreachable(e) => e,
            PoolError::Closed => redkit::Error::Closed,
        }
    }
}
