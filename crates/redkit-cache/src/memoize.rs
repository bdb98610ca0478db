//! [`Memoized`]: a function whose results are cached, keyed by its argument.

use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use redkit::Executor;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::cache::Cache;
use crate::error::{BoxError, Error, Result};

/// `f` with its results cached for `ttl` under `namespace:<argument as JSON>`; concurrent calls with the same
/// argument run `f` once. Made by [`Cache::memoize`].
pub struct Memoized<E, A, T, F> {
    cache: Cache<E>,
    namespace: String,
    ttl: Duration,
    f: F,
    _types: PhantomData<fn(A) -> T>,
}

impl<E, A, T, F> std::fmt::Debug for Memoized<E, A, T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memoized")
            .field("namespace", &self.namespace)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<E: Executor + 'static> Cache<E> {
    /// Cache `f`'s results for `ttl`, keyed by its argument under `namespace`.
    pub fn memoize<A, T, F, Fut>(&self, namespace: &str, ttl: Duration, f: F) -> Memoized<E, A, T, F>
    where
        A: Serialize,
        T: Serialize + DeserializeOwned,
        F: Fn(A) -> Fut,
        Fut: Future<Output = std::result::Result<T, BoxError>>,
    {
        Memoized {
            cache: self.clone(),
            namespace: namespace.to_owned(),
            ttl,
            f,
            _types: PhantomData,
        }
    }
}

impl<E, A, T, F, Fut> Memoized<E, A, T, F>
where
    E: Executor + 'static,
    A: Serialize,
    T: Serialize + DeserializeOwned,
    F: Fn(A) -> Fut,
    Fut: Future<Output = std::result::Result<T, BoxError>>,
{
    /// The cache key for `arg`.
    pub fn key(&self, arg: &A) -> Result<String> {
        let json = serde_json::to_string(arg).map_err(|e| Error::Encode {
            key: self.namespace.clone(),
            reason: e.to_string(),
        })?;
        Ok(format!("{}:{json}", self.namespace))
    }

    /// The cached result for `arg`, or `f(arg)`'s (then cached).
    pub async fn call(&self, arg: A) -> Result<T> {
        let key = self.key(&arg)?;
        self.cache.get_or_load(&key, self.ttl, || (self.f)(arg)).await
    }

    /// Forget the cached result for `arg`.
    pub async fn forget(&self, arg: &A) -> Result<bool> {
        let key = self.key(arg)?;
        self.cache.invalidate(&key).await
    }
}
