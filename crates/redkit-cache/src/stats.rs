//! Cache counters, and the [`CacheStats`] snapshot made of them.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $(pub(crate) $name: AtomicU64,)*
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> CacheStats {
                CacheStats {
                    $($name: self.$name.load(Ordering::Relaxed),)*
                }
            }
        }

        /// What a cache has done since it was made.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct CacheStats {
            $($(#[$doc])* pub $name: u64,)*
        }
    };
}

counters! {
    /// Reads answered from the cache with a fresh value.
    hits,
    /// Reads that found nothing usable.
    misses,
    /// Reads answered with a cached "not found".
    negative_hits,
    /// Reads answered with a stale value while it was refreshed (stale-while-revalidate).
    stale_served,
    /// Loader runs.
    loads,
    /// Loader runs that failed.
    load_errors,
    /// Callers that waited for another caller's load (in this process or another) instead of loading.
    coalesced,
    /// Write-behind writes that reached the store.
    write_behind_written,
    /// Write-behind writes that failed after every retry.
    write_behind_failed,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
