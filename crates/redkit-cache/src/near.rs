//! [`NearCache`]: a bounded local cache in front of reads, kept correct by Redis's client-side caching.
//!
//! The near cache reads through its own multiplexed [`Client`] (RESP3) with `CLIENT TRACKING` on — in default
//! mode the server remembers which keys this connection read, in BCAST mode it announces every change under the
//! given prefixes — and evicts a key locally as soon as the server's invalidation push for it arrives. Three
//! rules keep it from ever serving a stale value:
//!
//! - a read marks its key as pending before it asks the server; an invalidation that arrives meanwhile removes
//!   the mark, and the reply is then returned but not cached;
//! - when the connection is lost (its [`epoch`](Client::connection_epoch) changes) everything local is dropped,
//!   and tracking is turned on again on the new connection before the next read;
//! - if invalidations were missed (the push channel lagged), everything local is dropped.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use redkit::prelude::{ConnectionCommands, StringCommands};
use redkit::{Client, FromValue, Value};

use crate::error::Result;

/// Which keys the server reports changes of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackingMode {
    /// The keys this near cache read (the server keeps a table of them).
    Default,
    /// Every key under these prefixes (none: every key), with no table kept on the server.
    Broadcast(Vec<String>),
}

/// How a [`NearCache`] behaves.
#[derive(Debug, Clone)]
pub struct NearCacheConfig {
    /// Most values kept locally (least recently used go first).
    pub capacity: u64,
    /// How the server reports changes.
    pub mode: TrackingMode,
}

impl Default for NearCacheConfig {
    fn default() -> Self {
        NearCacheConfig {
            capacity: 10_000,
            mode: TrackingMode::Default,
        }
    }
}

/// Hits and misses of the local cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NearCacheStats {
    /// Reads answered locally.
    pub local_hits: u64,
    /// Reads that went to the server.
    pub remote_reads: u64,
    /// Keys evicted by an invalidation push.
    pub invalidations: u64,
    /// Times everything local was dropped (connection lost, flush, missed invalidations).
    pub flushes: u64,
}

struct Shared<T> {
    local: moka::sync::Cache<String, T>,
    /// Reads in flight: key → the read's sequence number (an invalidation removes it).
    pending: Mutex<HashMap<String, u64>>,
    next_read: AtomicU64,
    /// The connection epoch tracking was last turned on for (serializes turning it on).
    tracking_epoch: tokio::sync::Mutex<Option<u64>>,
    /// The same, readable without waiting (`u64::MAX`: none): a local hit is served only while it matches the
    /// connection's current epoch, so a value is never served after its connection was lost, not even before
    /// the listener has flushed.
    tracked: AtomicU64,
    local_hits: AtomicU64,
    remote_reads: AtomicU64,
    invalidations: AtomicU64,
    flushes: AtomicU64,
}

impl<T: Clone + Send + Sync + 'static> Shared<T> {
    fn flush(&self) {
        self.local.invalidate_all();
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.flushes.fetch_add(1, Ordering::Relaxed);
    }

    fn invalidate(&self, key: &str) {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        self.local.invalidate(key);
        self.invalidations.fetch_add(1, Ordering::Relaxed);
    }
}

/// A local cache of string values read from Redis, invalidated by the server. Cheap to clone.
pub struct NearCache<T> {
    client: Client,
    config: NearCacheConfig,
    shared: Arc<Shared<T>>,
    epoch: tokio::sync::watch::Receiver<u64>,
    listener: Arc<ListenerGuard>,
}

impl<T> Clone for NearCache<T> {
    fn clone(&self) -> Self {
        NearCache {
            client: self.client.clone(),
            config: self.config.clone(),
            shared: self.shared.clone(),
            epoch: self.epoch.clone(),
            listener: self.listener.clone(),
        }
    }
}

impl<T> std::fmt::Debug for NearCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NearCache")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Stops the invalidation listener when the last clone of the near cache goes.
struct ListenerGuard(tokio::task::JoinHandle<()>);

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The keys of an invalidation push: `Some(keys)`, or `None` for "everything" (a flush).
fn invalidated_keys(push: &Value) -> Option<Option<Vec<String>>> {
    let Value::Push(items) = push else { return None };
    match items.as_slice() {
        [Value::BulkString(kind), keys] if kind.as_ref() == b"invalidate" => match keys {
            Value::Null => Some(None),
            Value::Array(keys) | Value::Set(keys) => Some(Some(
                keys.iter()
                    .filter_map(|k| match k {
                        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
                        _ => None,
                    })
                    .collect(),
            )),
            _ => None,
        },
        _ => None,
    }
}

impl<T: FromValue + Clone + Send + Sync + 'static> NearCache<T> {
    /// A near cache reading through `client`, which must speak RESP3 (pushes) and should be its own: its
    /// connection carries the tracking. Turns tracking on before returning.
    pub async fn new(client: Client, config: NearCacheConfig) -> Result<NearCache<T>> {
        let shared = Arc::new(Shared {
            local: moka::sync::Cache::new(config.capacity),
            pending: Mutex::new(HashMap::new()),
            next_read: AtomicU64::new(0),
            tracking_epoch: tokio::sync::Mutex::new(None),
            tracked: AtomicU64::new(u64::MAX),
            local_hits: AtomicU64::new(0),
            remote_reads: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
        });
        let mut pushes = client.pushes();
        let mut epoch_changes = client.connection_epoch();
        let listening = shared.clone();
        let listener = tokio::spawn(async move {
            loop {
                tokio::select! {
                    push = pushes.recv() => match push {
                        Ok(push) => match invalidated_keys(&push) {
                            Some(Some(keys)) => keys.iter().for_each(|k| listening.invalidate(k)),
                            Some(None) => listening.flush(),
                            None => {}
                        },
                        // Invalidations were missed: nothing local can be trusted.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => listening.flush(),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    },
                    changed = epoch_changes.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        listening.flush();
                    }
                }
            }
        });
        let epoch = client.connection_epoch();
        let near = NearCache {
            client,
            config,
            shared,
            epoch,
            listener: Arc::new(ListenerGuard(listener)),
        };
        near.ensure_tracking().await?;
        Ok(near)
    }

    /// Turn tracking on for the current connection if it is not yet; the epoch it is on for.
    async fn ensure_tracking(&self) -> Result<u64> {
        let mut on = self.shared.tracking_epoch.lock().await;
        let current = *self.epoch.borrow();
        if *on == Some(current) {
            return Ok(current);
        }
        // `CLIENT TRACKING ON`, then `BCAST PREFIX p…` in broadcast mode.
        let options = match &self.config.mode {
            TrackingMode::Default => None,
            TrackingMode::Broadcast(prefixes) => Some((
                "BCAST",
                prefixes.iter().map(|p| ("PREFIX", p)).collect::<Vec<_>>(),
            )),
        };
        self.client.client_tracking(true, options).await?;
        // Anything cached before this point belongs to an older connection.
        self.shared.flush();
        *on = Some(current);
        self.shared.tracked.store(current, Ordering::Release);
        Ok(current)
    }

    /// The value of string key `key`: from the local cache when it is there, else from the server (and then
    /// cached locally until the server says it changed).
    pub async fn get(&self, key: &str) -> Result<Option<T>> {
        if self.shared.tracked.load(Ordering::Acquire) == *self.epoch.borrow()
            && let Some(v) = self.shared.local.get(key)
        {
            self.shared.local_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(v));
        }
        let epoch = self.ensure_tracking().await?;
        let seq = self.shared.next_read.fetch_add(1, Ordering::Relaxed);
        self.shared
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_owned(), seq);
        self.shared.remote_reads.fetch_add(1, Ordering::Relaxed);
        let value: Option<T> = match self.client.get(key).await {
            Ok(v) => v,
            Err(e) => {
                self.forget_pending(key, seq);
                return Err(e.into());
            }
        };
        // Cache only if no invalidation or connection change came in between.
        let still_ours = {
            let mut pending = self.shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
            let ours = pending.get(key) == Some(&seq);
            if ours {
                pending.remove(key);
            }
            ours && *self.epoch.borrow() == epoch
        };
        if still_ours && let Some(v) = &value {
            self.shared.local.insert(key.to_owned(), v.clone());
        }
        Ok(value)
    }

    fn forget_pending(&self, key: &str, seq: u64) {
        let mut pending = self.shared.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.get(key) == Some(&seq) {
            pending.remove(key);
        }
    }

    /// Drop everything cached locally.
    pub fn flush(&self) {
        self.shared.flush();
    }

    /// Values cached locally now (after pending evictions are applied).
    pub fn local_len(&self) -> u64 {
        self.shared.local.run_pending_tasks();
        self.shared.local.entry_count()
    }

    /// Local hits, remote reads, invalidations, flushes.
    pub fn stats(&self) -> NearCacheStats {
        NearCacheStats {
            local_hits: self.shared.local_hits.load(Ordering::Relaxed),
            remote_reads: self.shared.remote_reads.load(Ordering::Relaxed),
            invalidations: self.shared.invalidations.load(Ordering::Relaxed),
            flushes: self.shared.flushes.load(Ordering::Relaxed),
        }
    }

    /// The client the near cache reads through (for writes of its own, which the server also reports).
    pub fn client(&self) -> &Client {
        &self.client
    }
}
