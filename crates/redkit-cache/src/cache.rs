//! [`Cache`]: cache-aside, memoize, refresh, touch, write-through, and invalidation by key, tag and pattern.
//!
//! # What is stored
//! Each cached value is a small JSON envelope, `{"v": value, "s": fresh_until_ms}`: `v` is the value (or `null`
//! for a cached "not found"), `s` the moment it turns stale (0: never, within its TTL). The Redis TTL is the
//! freshness period plus the stale-while-revalidate grace, so stale values can still be served while one caller
//! refreshes them.
//!
//! # Stampedes
//! Concurrent misses for one key in one process wait on a per-key lock, and all but the first find the value
//! cached when they get it (single flight). Across processes, with [`LockConfig`], the first caller takes a lock
//! (`SET lock token NX PX lease`) and loads; the others poll for the value (bounded by `wait`) and get the
//! winner's value; the lock is released by a compare-and-delete Lua script, so a caller whose lease ran out
//! never deletes someone else's lock.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use redkit::prelude::{ConnectionCommands, KeyCommands, ScriptingCommands, SetCommands, StringCommands};
use redkit::{Executor, ExpireCondition, ScanOptions, ScanPage, SetOptions, TypedPipeline, Value};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{BoxError, Error, Result};
use crate::stats::{CacheStats, Counters, bump};

/// The compare-and-delete that releases a lock only for its owner.
const RELEASE: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// How keys are named and how values age.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Every key this cache writes starts with `prefix:` (tags with `prefix:tag:`, locks with `prefix:lock:`).
    pub prefix: String,
    /// Random extra TTL, as a fraction of the TTL (0.1: up to 10% more), so keys written together do not all
    /// expire together.
    pub jitter: f64,
    /// Stale-while-revalidate: how long past its freshness a value may still be served (by
    /// [`Cache::get_or_load_swr`]) while one caller refreshes it.
    pub grace: Option<Duration>,
    /// Cache "not found" (a loader's `None`) for this long; `None` does not cache it.
    pub negative_ttl: Option<Duration>,
    /// Stampede protection across processes; `None` protects within this process only.
    pub lock: Option<LockConfig>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            prefix: "cache".into(),
            jitter: 0.0,
            grace: None,
            negative_ttl: None,
            lock: None,
        }
    }
}

/// The distributed lock that lets one process of many recompute a missing value.
#[derive(Debug, Clone, Copy)]
pub struct LockConfig {
    /// How long a lock holds if its owner never releases it (a crash).
    pub lease: Duration,
    /// How long the others wait for the winner's value before loading it themselves.
    pub wait: Duration,
    /// How often they look.
    pub poll: Duration,
}

impl Default for LockConfig {
    fn default() -> Self {
        LockConfig {
            lease: Duration::from_secs(10),
            wait: Duration::from_secs(5),
            poll: Duration::from_millis(20),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    v: Option<T>,
    s: u64,
}

/// What a cache lookup found.
enum Found<T> {
    Fresh(Option<T>),
    Stale(Option<T>),
    Missing,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) struct Inner<E> {
    pub(crate) redis: E,
    config: CacheConfig,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    pub(crate) stats: Counters,
}

/// A cache over any executor. Cheap to clone (clones share everything).
pub struct Cache<E> {
    pub(crate) inner: Arc<Inner<E>>,
}

impl<E> Clone for Cache<E> {
    fn clone(&self) -> Self {
        Cache {
            inner: self.inner.clone(),
        }
    }
}

impl<E> std::fmt::Debug for Cache<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl<E: Executor + 'static> Cache<E> {
    /// A cache storing through `redis`.
    pub fn new(redis: E, config: CacheConfig) -> Cache<E> {
        Cache {
            inner: Arc::new(Inner {
                redis,
                config,
                flights: Mutex::new(HashMap::new()),
                stats: Counters::default(),
            }),
        }
    }

    /// Counters: hits, misses, loads, errors, coalesced waits…
    pub fn stats(&self) -> CacheStats {
        self.inner.stats.snapshot()
    }

    /// The Redis key for cache key `key`.
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}:{key}", self.inner.config.prefix)
    }

    fn tag_key(&self, tag: &str) -> String {
        format!("{}:tag:{tag}", self.inner.config.prefix)
    }

    fn lock_key(&self, key: &str) -> String {
        format!("{}:lock:{key}", self.inner.config.prefix)
    }

    /// The TTL with jitter, and when the value turns stale; refuses a zero TTL.
    fn ttl_plan(&self, ttl: Duration) -> Result<(u64, u64)> {
        let ms = millis(ttl);
        if ms == 0 {
            return Err(Error::Invalid(format!(
                "a cache TTL must be at least 1 ms (got {ttl:?})"
            )));
        }
        let jitter = self.inner.config.jitter.clamp(0.0, 1.0);
        let extra = (ms as f64 * jitter * fastrand::f64()) as u64;
        let fresh = ms.saturating_add(extra);
        let stale_at = if self.inner.config.grace.is_some() {
            now_ms().saturating_add(fresh)
        } else {
            0
        };
        let hard = fresh.saturating_add(self.inner.config.grace.map_or(0, millis));
        Ok((hard, stale_at))
    }

    fn encode<T: Serialize>(&self, key: &str, value: Option<&T>, stale_at: u64) -> Result<Vec<u8>> {
        serde_json::to_vec(&Envelope {
            v: value,
            s: stale_at,
        })
        .map_err(|e| Error::Encode {
            key: key.to_owned(),
            reason: e.to_string(),
        })
    }

    async fn lookup<T: DeserializeOwned>(&self, key: &str) -> Result<Found<T>> {
        let bytes: Option<Bytes> = self.inner.redis.get(self.redis_key(key)).await?;
        let Some(bytes) = bytes else {
            return Ok(Found::Missing);
        };
        let env: Envelope<T> = serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        if env.s != 0 && now_ms() >= env.s {
            Ok(Found::Stale(env.v))
        } else {
            Ok(Found::Fresh(env.v))
        }
    }

    /// The cached value, if any (stale values included; a cached "not found" reads as `None`).
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        Ok(match self.lookup(key).await? {
            Found::Fresh(v) | Found::Stale(v) => v,
            Found::Missing => None,
        })
    }

    /// Cache `value` for `ttl`.
    pub async fn set<T: Serialize>(&self, key: &str, value: &T, ttl: Duration) -> Result<()> {
        self.set_tagged(key, value, ttl, &[]).await
    }

    /// Cache `value` for `ttl` and file it under `tags`, atomically (MULTI/EXEC): a tag always lists every key
    /// written with it, so [`Cache::invalidate_tag`] needs no scan. Each tag set lives as long as its
    /// longest-lived member.
    pub async fn set_tagged<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
        tags: &[&str],
    ) -> Result<()> {
        let (hard, stale_at) = self.ttl_plan(ttl)?;
        let bytes = self.encode(key, Some(value), stale_at)?;
        self.store_envelope(key, bytes, hard, tags).await
    }

    async fn store_envelope(&self, key: &str, bytes: Vec<u8>, hard_ms: u64, tags: &[&str]) -> Result<()> {
        let redis_key = self.redis_key(key);
        // Whole milliseconds: `SET key value PX hard_ms`, `PEXPIRE tag hard_ms NX|GT`.
        let hard = Duration::from_millis(hard_ms);
        let set = SetOptions::new().ttl(hard);
        if tags.is_empty() {
            self.inner.redis.set_with(&redis_key, bytes, set).await?;
            return Ok(());
        }
        // MULTI and EXEC are queued as commands of a plain pipeline (not `TypedPipeline::atomic`), so every
        // reply comes back as is and a failed transaction is reported below, as such.
        let p = TypedPipeline::new();
        p.multi().set_with(&redis_key, bytes, set);
        for tag in tags {
            let tag_key = self.tag_key(tag);
            p.sadd(&tag_key, &redis_key)
                // A new tag set gets the member's TTL; an existing one is only ever extended.
                .pexpire(&tag_key, hard, ExpireCondition::Nx)
                .pexpire(&tag_key, hard, ExpireCondition::Gt);
        }
        p.exec();
        let replies = p.execute(&self.inner.redis).await?;
        match replies.last() {
            Some(Value::Array(results)) if !results.iter().any(|r| matches!(r, Value::Error(_))) => Ok(()),
            other => Err(Error::Invalid(format!(
                "{key}: the tagged write did not apply ({other:?})"
            ))),
        }
    }

    /// Cache-aside: the cached value, or `loader`'s, cached for `ttl`. Concurrent misses for the same key run the
    /// loader once (per process; across processes too with [`LockConfig`]). A failed load caches nothing.
    pub async fn get_or_load<T, F, Fut>(&self, key: &str, ttl: Duration, loader: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<T, BoxError>>,
    {
        let loaded = self
            .load_optional(key, ttl, || async move { loader().await.map(Some) })
            .await?;
        loaded.ok_or_else(|| Error::Invalid(format!("{key}: the cached value is a \"not found\" marker")))
    }

    /// [`Cache::get_or_load`] for lookups that may find nothing: `None` from the loader is cached for
    /// `negative_ttl` (if configured), so repeated misses do not reach the loader.
    pub async fn get_or_load_optional<T, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        loader: F,
    ) -> Result<Option<T>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<Option<T>, BoxError>>,
    {
        self.load_optional(key, ttl, loader).await
    }

    /// The usable cached value: fresh, or a decodable value of any age when `allow_stale`.
    async fn cached<T: DeserializeOwned>(&self, key: &str) -> Option<Option<T>> {
        match self.lookup::<T>(key).await {
            Ok(Found::Fresh(v)) => Some(v),
            Ok(Found::Stale(_) | Found::Missing) => None,
            Err(e) => {
                // An undecodable entry (an older shape, say) is a miss: the load overwrites it.
                tracing::debug!(key, error = %e, "ignoring an unusable cache entry");
                None
            }
        }
    }

    fn count_hit<T>(&self, v: &Option<T>) {
        if v.is_some() {
            bump(&self.inner.stats.hits);
        } else {
            bump(&self.inner.stats.negative_hits);
        }
    }

    async fn load_optional<T, F, Fut>(&self, key: &str, ttl: Duration, loader: F) -> Result<Option<T>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<Option<T>, BoxError>>,
    {
        if let Some(v) = self.cached::<T>(key).await {
            self.count_hit(&v);
            return Ok(v);
        }
        bump(&self.inner.stats.misses);
        // Single flight in this process: the first caller loads, the others find its value.
        let flight = self.flight(key);
        let guard = flight.lock().await;
        let result = async {
            if let Some(v) = self.cached::<T>(key).await {
                bump(&self.inner.stats.coalesced);
                return Ok(v);
            }
            match self.inner.config.lock {
                None => self.load_and_store(key, ttl, loader).await,
                Some(lock) => self.load_under_lock(key, ttl, lock, loader).await,
            }
        }
        .await;
        drop(guard);
        self.land(key, &flight);
        result
    }

    async fn load_and_store<T, F, Fut>(&self, key: &str, ttl: Duration, loader: F) -> Result<Option<T>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<Option<T>, BoxError>>,
    {
        bump(&self.inner.stats.loads);
        let value = match loader().await {
            Ok(v) => v,
            Err(source) => {
                bump(&self.inner.stats.load_errors);
                return Err(Error::Load {
                    key: key.to_owned(),
                    source,
                });
            }
        };
        match (&value, self.inner.config.negative_ttl) {
            (Some(v), _) => self.set(key, v, ttl).await?,
            (None, Some(neg)) => {
                let (hard, _) = self.ttl_plan(neg)?;
                let bytes = self.encode::<T>(key, None, 0)?;
                self.store_envelope(key, bytes, hard, &[]).await?;
            }
            (None, None) => {}
        }
        Ok(value)
    }

    async fn load_under_lock<T, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        lock: LockConfig,
        loader: F,
    ) -> Result<Option<T>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<Option<T>, BoxError>>,
    {
        let lock_key = self.lock_key(key);
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        // `SET lock token NX PX lease_ms`.
        let lease = Duration::from_millis(millis(lock.lease).max(1));
        let won = self
            .inner
            .redis
            .set_with(&lock_key, &token, SetOptions::new().nx().ttl(lease))
            .await?;
        if won {
            let result = self.load_and_store(key, ttl, loader).await;
            let released = self
                .inner
                .redis
                .eval::<Value>(RELEASE, &[&lock_key], &token)
                .await;
            if let Err(e) = released {
                // The lease ends it anyway.
                tracing::warn!(key, error = %e, "could not release the cache lock");
            }
            return result;
        }
        // Another process is loading: wait (bounded) for its value.
        let deadline = tokio::time::Instant::now() + lock.wait;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(lock.poll).await;
            if let Some(v) = self.cached::<T>(key).await {
                bump(&self.inner.stats.coalesced);
                return Ok(v);
            }
        }
        tracing::debug!(
            key,
            "the lock holder's value did not arrive in time; loading here"
        );
        self.load_and_store(key, ttl, loader).await
    }

    fn flight(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.inner
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.to_owned())
            .or_default()
            .clone()
    }

    /// Forget a key's flight lock once nobody else holds or waits on it.
    fn land(&self, key: &str, flight: &Arc<tokio::sync::Mutex<()>>) {
        let mut flights = self.inner.flights.lock().unwrap_or_else(PoisonError::into_inner);
        // Ours and the map's: nobody else is waiting.
        if Arc::strong_count(flight) <= 2 {
            flights.remove(key);
        }
    }

    /// Stale-while-revalidate: a fresh value as [`Cache::get_or_load`]; a stale one (within the configured grace)
    /// is returned at once while one background task refreshes it; a missing one is loaded.
    pub async fn get_or_load_swr<T, F, Fut>(&self, key: &str, ttl: Duration, loader: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, BoxError>> + Send + 'static,
    {
        if let Ok(Found::Stale(Some(v))) = self.lookup::<T>(key).await {
            bump(&self.inner.stats.stale_served);
            let flight = self.flight(key);
            // One refresh at a time: if a refresh is already running, just serve the stale value.
            if let Ok(guard) = flight.clone().try_lock_owned() {
                let cache = self.clone();
                let key = key.to_owned();
                tokio::spawn(async move {
                    let loaded = cache
                        .load_and_store(&key, ttl, || async move { loader().await.map(Some) })
                        .await;
                    if let Err(e) = loaded {
                        tracing::warn!(key, error = %e, "background refresh failed; the stale value stays");
                    }
                    drop(guard);
                    cache.land(&key, &flight);
                });
            }
            return Ok(v);
        }
        self.get_or_load(key, ttl, loader).await
    }

    /// Reload the value now and cache it, whatever is cached.
    pub async fn refresh<T, F, Fut>(&self, key: &str, ttl: Duration, loader: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<T, BoxError>>,
    {
        let loaded = self
            .load_and_store(key, ttl, || async move { loader().await.map(Some) })
            .await?;
        loaded.ok_or_else(|| Error::Invalid(format!("{key}: nothing loaded")))
    }

    /// Give a cached value a new TTL; `false` if it is not cached.
    pub async fn touch(&self, key: &str, ttl: Duration) -> Result<bool> {
        let (hard, _) = self.ttl_plan(ttl)?;
        Ok(self
            .inner
            .redis
            .pexpire(
                self.redis_key(key),
                Duration::from_millis(hard),
                ExpireCondition::Always,
            )
            .await?)
    }

    /// Write-through: `store` first; only if it succeeds is the cache updated. A failed store leaves the cache as
    /// it was and returns [`Error::Store`].
    pub async fn write_through<T, S, Fut>(&self, key: &str, value: &T, ttl: Duration, store: S) -> Result<()>
    where
        T: Serialize,
        S: FnOnce(&T) -> Fut,
        Fut: Future<Output = std::result::Result<(), BoxError>>,
    {
        self.ttl_plan(ttl)?;
        store(value).await.map_err(|source| Error::Store {
            key: key.to_owned(),
            source,
        })?;
        self.set(key, value, ttl).await
    }

    /// Remove a key from the cache; `true` if it was cached.
    pub async fn invalidate(&self, key: &str) -> Result<bool> {
        let n = self.inner.redis.unlink(self.redis_key(key)).await?;
        Ok(n > 0)
    }

    /// Remove every key written with `tag`: the tag set is read and deleted in one transaction, then its keys
    /// are unlinked — no scan. Returns how many keys were removed.
    pub async fn invalidate_tag(&self, tag: &str) -> Result<u64> {
        let tag_key = self.tag_key(tag);
        // A plain pipeline from MULTI to EXEC: the replies are read below as they come.
        let p = TypedPipeline::new();
        p.multi().smembers::<Bytes>(&tag_key).del(&tag_key).exec();
        let replies = p.execute(&self.inner.redis).await?;
        let members: Vec<Bytes> = match replies.last() {
            Some(Value::Array(results)) => match results.first() {
                Some(Value::Array(m) | Value::Set(m)) => m
                    .iter()
                    .filter_map(|v| match v {
                        Value::BulkString(b) => Some(b.clone()),
                        _ => None,
                    })
                    .collect(),
                other => {
                    return Err(Error::Invalid(format!(
                        "tag {tag}: unexpected SMEMBERS reply {other:?}"
                    )));
                }
            },
            other => {
                return Err(Error::Invalid(format!(
                    "tag {tag}: the invalidation transaction did not run ({other:?})"
                )));
            }
        };
        let mut removed = 0u64;
        for chunk in members.chunks(500) {
            let n = self.inner.redis.unlink(chunk).await?;
            removed += u64::try_from(n).unwrap_or(0);
        }
        Ok(removed)
    }

    /// Remove every cached key matching the glob `pattern` (relative to the prefix) with SCAN + UNLINK in
    /// batches — never KEYS. Returns how many keys were removed.
    pub async fn invalidate_pattern(&self, pattern: &str) -> Result<u64> {
        let mut prefix = String::new();
        for c in self.inner.config.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                prefix.push('\\');
            }
            prefix.push(c);
        }
        let options = ScanOptions::new()
            .pattern(format!("{prefix}:{pattern}"))
            .count(500);
        let mut cursor = 0u64;
        let mut removed = 0u64;
        loop {
            let ScanPage {
                cursor: next,
                items: keys,
            } = self.inner.redis.scan::<Bytes>(cursor, options.clone()).await?;
            if !keys.is_empty() {
                let n = self.inner.redis.unlink(keys).await?;
                removed += u64::try_from(n).unwrap_or(0);
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}
