//! [`WriteBehind`]: cache now, store later — a bounded queue drained by a background task with retries.
//!
//! [`WriteBehind::write`] updates the cache at once and queues the store write; a full queue is reported
//! ([`Error::Invalid`] from `try_write`) or waited on (`write`). The task retries a failing store with
//! exponential backoff; a write that still fails is counted and reported on the failure channel — never
//! swallowed. [`WriteBehind::shutdown`] stops taking writes and returns once everything queued was attempted.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use redkit::Executor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::cache::Cache;
use crate::error::{BoxError, Error, Result};
use crate::stats::bump;

/// How a write-behind queue behaves.
#[derive(Debug, Clone, Copy)]
pub struct WriteBehindConfig {
    /// Most writes waiting for the store.
    pub capacity: usize,
    /// Attempts per write (1: no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// How long a cached value lives.
    pub ttl: Duration,
}

impl Default for WriteBehindConfig {
    fn default() -> Self {
        WriteBehindConfig {
            capacity: 1024,
            attempts: 3,
            backoff: Duration::from_millis(50),
            ttl: Duration::from_secs(300),
        }
    }
}

/// A store write that failed after every attempt.
#[derive(Debug)]
pub struct WriteFailure {
    /// The cache key.
    pub key: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error.
    pub error: BoxError,
}

type StoreFn<T> = Arc<
    dyn Fn(String, T) -> Pin<Box<dyn Future<Output = std::result::Result<(), BoxError>> + Send>>
        + Send
        + Sync,
>;

/// The write side of a write-behind cache. Dropping it without [`WriteBehind::shutdown`] still lets the task
/// finish what is queued.
pub struct WriteBehind<E, T> {
    cache: Cache<E>,
    config: WriteBehindConfig,
    queue: mpsc::Sender<(String, T)>,
    task: tokio::task::JoinHandle<()>,
}

impl<E, T> std::fmt::Debug for WriteBehind<E, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBehind")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<E: Executor + 'static> Cache<E> {
    /// A write-behind queue in front of `store`; failures that outlast the retries arrive on the returned
    /// receiver (and in [`CacheStats::write_behind_failed`](crate::CacheStats)).
    pub fn write_behind<T, S, Fut>(
        &self,
        config: WriteBehindConfig,
        store: S,
    ) -> (WriteBehind<E, T>, mpsc::UnboundedReceiver<WriteFailure>)
    where
        T: Serialize + DeserializeOwned + Clone + Send + 'static,
        S: Fn(String, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), BoxError>> + Send + 'static,
    {
        let (queue, mut rx) = mpsc::channel::<(String, T)>(config.capacity.max(1));
        let (failures_tx, failures) = mpsc::unbounded_channel();
        let store: StoreFn<T> = Arc::new(move |k, v| Box::pin(store(k, v)));
        let cache = self.clone();
        let task = tokio::spawn(async move {
            while let Some((key, value)) = rx.recv().await {
                let mut delay = config.backoff;
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match store(key.clone(), value.clone()).await {
                        Ok(()) => {
                            bump(&cache.inner.stats.write_behind_written);
                            break;
                        }
                        Err(error) if attempt >= config.attempts.max(1) => {
                            bump(&cache.inner.stats.write_behind_failed);
                            tracing::warn!(key, attempts = attempt, error = %error, "write-behind store write failed");
                            let _ = failures_tx.send(WriteFailure {
                                key,
                                attempts: attempt,
                                error,
                            });
                            break;
                        }
                        Err(_) => {
                            tokio::time::sleep(delay).await;
                            delay = delay.saturating_mul(2);
                        }
                    }
                }
            }
        });
        (
            WriteBehind {
                cache: self.clone(),
                config,
                queue,
                task,
            },
            failures,
        )
    }
}

impl<E: Executor + 'static, T: Serialize + DeserializeOwned + Clone + Send + 'static> WriteBehind<E, T> {
    /// Cache `value` now and queue the store write, waiting for room in the queue.
    pub async fn write(&self, key: &str, value: T) -> Result<()> {
        self.cache.set(key, &value, self.config.ttl).await?;
        self.queue
            .send((key.to_owned(), value))
            .await
            .map_err(|_| Error::Invalid("the write-behind queue is shut down".into()))
    }

    /// Cache `value` now and queue the store write; a full queue is an error (nothing is queued, the cache
    /// already holds the value).
    pub async fn try_write(&self, key: &str, value: T) -> Result<()> {
        self.cache.set(key, &value, self.config.ttl).await?;
        self.queue.try_send((key.to_owned(), value)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Error::Invalid(format!(
                "{key}: the write-behind queue is full ({} writes waiting)",
                self.config.capacity
            )),
            mpsc::error::TrySendError::Closed(_) => {
                Error::Invalid("the write-behind queue is shut down".into())
            }
        })
    }

    /// Stop taking writes and wait until every queued write was attempted.
    pub async fn shutdown(self) {
        drop(self.queue);
        let _ = self.task.await;
    }
}
