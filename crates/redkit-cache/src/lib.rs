//! Cache patterns on redkit, over any [`Executor`](redkit::Executor) (the client, a pool, the embedded server).
//!
//! - Cache-aside ([`Cache::get_or_load`]), memoized functions ([`Cache::memoize`]), [`Cache::refresh`],
//!   [`Cache::touch`]; TTLs are [`std::time::Duration`]s with optional random jitter.
//! - Write-through ([`Cache::write_through`]: the cache changes only if the store write succeeded) and
//!   write-behind ([`Cache::write_behind`]: a bounded queue, retries, failures reported and counted, flushed on
//!   shutdown).
//! - Invalidation by key, by tag (each tag a set of its keys, kept in the same transaction as the write, so no
//!   scan is needed), and by pattern (SCAN + UNLINK in batches, never KEYS).
//! - Stampede protection: single flight in one process; across processes, a `SET NX PX` lock with an owner
//!   token released by a compare-and-delete script, the losers getting the winner's value.
//! - Stale-while-revalidate ([`Cache::get_or_load_swr`]) and negative caching of "not found".
//! - [`CacheStats`] counters.
//! - [`NearCache`]: a bounded local cache in front of reads, kept correct with RESP3 `CLIENT TRACKING` (default
//!   or BCAST mode), flushed when the connection is lost so a stale value is never served across it.
//!
//! ```
//! use std::time::Duration;
//! use redkit_cache::{Cache, CacheConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cache = Cache::new(redkit_server::Mock::new(), CacheConfig::default());
//! let price = cache
//!     .memoize("price", Duration::from_secs(60), |sku: String| async move {
//!         // An expensive lookup, run once per SKU per minute.
//!         Ok::<_, redkit_cache::BoxError>(sku.len() as u64 * 100)
//!     });
//! assert_eq!(price.call("apple".into()).await?, 500);
//! assert_eq!(price.call("apple".into()).await?, 500); // from the cache
//! assert_eq!(cache.stats().loads, 1);
//! # Ok(())
//! # }
//! ```

mod cache;
mod error;
mod memoize;
mod near;
mod stats;
mod write_behind;

pub use cache::{Cache, CacheConfig, LockConfig};
pub use error::{BoxError, Error, Result};
pub use memoize::Memoized;
pub use near::{NearCache, NearCacheConfig, NearCacheStats, TrackingMode};
pub use stats::CacheStats;
pub use write_behind::{WriteBehind, WriteBehindConfig, WriteFailure};
