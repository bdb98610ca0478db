//! [`Pool`]: the pool, its settings ([`PoolConfig`]), its maintenance task, and [`PooledConnection`], the
//! exclusive handle [`Pool::get`] returns (a checked-out [`PooledConn`](crate::PooledConn)).
//!
//! The pool is deadpool's, with a redkit [`Manager`]; around it this module adds what deadpool leaves to its
//! users: min idle (pre-warmed at start, topped up afterwards), an idle reaper and maximum lifetime, acquire
//! statistics, and the [`Executor`] implementation (one checkout per command or pipeline).

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool::managed::{Object, PoolError as DeadpoolError, TimeoutType};
use redkit::{Cmd, Config, Executor, Pipeline, Result, Value};

use crate::error::PoolError;
use crate::manager::Manager;
use crate::stats::{Stats, Status};

/// How a [`Pool`] behaves.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most connections open at once.
    pub max_size: usize,
    /// Connections kept open and idle: opened at start, replaced when reaped or closed.
    pub min_idle: usize,
    /// How long [`Pool::get`] waits for a free connection (including opening one).
    pub acquire_timeout: Duration,
    /// Idle connections beyond `min_idle` are closed after this long unused.
    pub idle_timeout: Option<Duration>,
    /// Connections are closed once this old (checked when returned and by the reaper).
    pub max_lifetime: Option<Duration>,
    /// Check a connection with PING (within this time) before handing it out again; `None` skips the check.
    pub validate: Option<Duration>,
    /// How often the maintenance task reaps and tops up.
    pub maintenance_interval: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 8,
            min_idle: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(3600)),
            validate: Some(Duration::from_secs(1)),
            maintenance_interval: Duration::from_secs(30),
        }
    }
}

impl PoolConfig {
    /// The default settings with `max_size` connections.
    pub fn new(max_size: usize) -> PoolConfig {
        PoolConfig {
            max_size,
            ..PoolConfig::default()
        }
    }
}

type Inner = deadpool::managed::Pool<Manager>;

/// A pool of redkit connections. Cheap to clone (clones share the pool); the maintenance task stops when the
/// last clone is dropped or [`Pool::close`] is called.
#[derive(Debug, Clone)]
pub struct Pool {
    inner: Inner,
    config: Arc<PoolConfig>,
    stats: Arc<Stats>,
}

impl Pool {
    /// Build a pool for `config`'s server and open its `min_idle` connections (failing if the server cannot be
    /// reached and `min_idle > 0`).
    pub async fn connect(config: Config, pool: PoolConfig) -> std::result::Result<Pool, PoolError> {
        if pool.max_size == 0 || pool.min_idle > pool.max_size {
            return Err(PoolError::Unreachable(redkit::Error::Config(format!(
                "a pool needs 0 < max_size and min_idle <= max_size (got max_size {}, min_idle {})",
                pool.max_size, pool.min_idle
            ))));
        }
        let stats = Arc::new(Stats::default());
        let manager = Manager {
            config,
            max_lifetime: pool.max_lifetime,
            validate: pool.validate,
            stats: stats.clone(),
        };
        let inner = Inner::builder(manager)
            .max_size(pool.max_size)
            .wait_timeout(Some(pool.acquire_timeout))
            .create_timeout(Some(pool.acquire_timeout))
            .recycle_timeout(Some(pool.acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| PoolError::Unreachable(redkit::Error::Config(e.to_string())))?;
        let pool = Pool {
            inner,
            config: Arc::new(pool),
            stats,
        };
        pool.top_up().await?;
        tokio::spawn(maintain(
            pool.inner.weak(),
            pool.config.clone(),
            pool.stats.clone(),
        ));
        Ok(pool)
    }

    /// An exclusive connection for a stateful sequence; it returns to the pool when dropped.
    pub async fn get(&self) -> std::result::Result<PooledConnection, PoolError> {
        let started = Instant::now();
        match self.inner.get().await {
            Ok(obj) => {
                self.stats.acquired(started.elapsed());
                Ok(PooledConnection { obj })
            }
            Err(DeadpoolError::Timeout(TimeoutType::Wait | TimeoutType::Recycle)) => {
                self.stats.timed_out();
                Err(PoolError::AcquireTimeout {
                    waited: started.elapsed(),
                    max_size: self.config.max_size,
                })
            }
            Err(DeadpoolError::Timeout(TimeoutType::Create)) => {
                self.stats.timed_out();
                Err(PoolError::Unreachable(redkit::Error::Timeout {
                    command: Some("open a pooled connection".into()),
                    after: started.elapsed(),
                }))
            }
            Err(DeadpoolError::Backend(e)) => Err(PoolError::Unreachable(e)),
            Err(DeadpoolError::Closed) => Err(PoolError::Closed),
            Err(e @ (DeadpoolError::NoRuntimeSpecified | DeadpoolError::PostCreateHook(_))) => {
                Err(PoolError::Unreachable(redkit::Error::Config(e.to_string())))
            }
        }
    }

    /// Sizes, counters and acquire-latency percentiles.
    pub fn status(&self) -> Status {
        self.stats.snapshot(self.inner.status())
    }

    /// The pool's settings.
    pub fn config(&self) -> &PoolConfig {
        &self.config
    }

    /// Close the pool: idle connections are closed now, the others when returned; `get` fails with
    /// [`PoolError::Closed`].
    pub fn close(&self) {
        self.inner.close();
    }

    /// Open connections until `min_idle` are idle (never beyond `max_size`).
    async fn top_up(&self) -> std::result::Result<(), PoolError> {
        let status = self.inner.status();
        let missing = self
            .config
            .min_idle
            .saturating_sub(status.available)
            .min(status.max_size.saturating_sub(status.size));
        // Hold them all at once, so each `get` opens a new connection instead of reusing the previous one.
        let mut held = Vec::with_capacity(missing);
        for _ in 0..missing {
            held.push(self.get().await?);
        }
        Ok(())
    }
}

/// The maintenance task: close connections idle too long (beyond `min_idle`) or too old, then top up to
/// `min_idle`. Ends with the pool.
async fn maintain(weak: deadpool::managed::WeakPool<Manager>, config: Arc<PoolConfig>, stats: Arc<Stats>) {
    loop {
        tokio::time::sleep(config.maintenance_interval).await;
        let Some(inner) = weak.upgrade() else { return };
        if inner.is_closed() {
            return;
        }
        let mut kept = 0usize;
        let removed = inner
            .retain(|_, metrics| {
                let too_old = config.max_lifetime.is_some_and(|max| metrics.age() > max);
                let idle_too_long = config.idle_timeout.is_some_and(|max| metrics.last_used() > max);
                let keep = !too_old && (!idle_too_long || kept < config.min_idle);
                kept += usize::from(keep);
                keep
            })
            .removed
            .len();
        if removed > 0 {
            stats.discarded_n(removed);
            tracing::debug!(removed, "reaped pooled connections");
        }
        let pool = Pool {
            inner,
            config: config.clone(),
            stats: stats.clone(),
        };
        if let Err(e) = pool.top_up().await {
            tracing::warn!(error = %e, "could not top the pool up to its minimum idle connections");
        }
    }
}

impl Executor for Pool {
    /// One checkout per command: a connection is taken, used for this command, and returned.
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        let conn = self.get().await?;
        conn.execute(cmd).await
    }

    /// One checkout per pipeline: every command of it goes on the same connection.
    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        let conn = self.get().await?;
        conn.execute_pipeline(pipeline).await
    }
}

/// An exclusive pooled connection, for stateful sequences (WATCH/MULTI/EXEC, SELECT, blocking commands). Use it
/// through [`Commands`](redkit::Commands) like any executor; dropping it returns the connection to the pool, which
/// cleans or closes it before anyone else gets it.
#[derive(Debug)]
pub struct PooledConnection {
    obj: Object<Manager>,
}

impl Executor for PooledConnection {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        self.obj.send(&cmd).await
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        self.obj.send_pipeline(&pipeline).await
    }
}
