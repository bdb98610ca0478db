//! Observability for redkit, as a layer around any [`Executor`](redkit_resp::Executor).
//!
//! [`Instrumented`] wraps a client, a pool, the embedded server — anything that executes commands — and records,
//! per command name (and per pipeline, as `PIPELINE`): counts, failures by class (the server's error code, or
//! `timeout`, `io`, …), latency in an HDR histogram (real p50/p90/p99/p99.9, bounded memory), bytes written and
//! read, and commands in flight; plus a slow-command log. [`Metrics`] exports it all to Prometheus (a registry
//! with `redkit_commands_total{command,status}`, `redkit_command_duration_seconds`, `redkit_bytes_*_total`,
//! `redkit_in_flight`) and as a [`Snapshot`] for JSON. With a tracer, each command and pipeline also gets an
//! OpenTelemetry client span following the database semantic conventions (`db.system.name = "redis"`,
//! `db.operation.name`, `db.namespace`, `server.address`, `server.port`, `db.operation.batch.size`, and
//! `db.query.text` only on request, arguments redacted), and a `db.client.operation.duration` histogram.
//!
//! ```
//! use redkit::prelude::*;
//! use redkit_observe::{Instrumented, Metrics};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = Metrics::default();
//! // Any executor: here the in-process embedded server; a `redkit::Client` or a pool in production.
//! let redis = Instrumented::new(redkit_server::Mock::new(), metrics.clone());
//! redis.set("k", "v").await?;
//! let _: Option<String> = redis.get("k").await?;
//! assert!(redis.incr("k").await.is_err()); // "v" is not an integer: ERR
//!
//! let snapshot = metrics.snapshot();
//! assert_eq!(snapshot.commands["GET"].count, 1);
//! assert_eq!(snapshot.commands["INCR"].errors.get("ERR"), Some(&1));
//! assert!(metrics.prometheus_text().contains("redkit_commands_total{command=\"SET\",status=\"ok\"} 1"));
//! # Ok(())
//! # }
//! ```

mod cache;
mod layer;
mod metrics;
mod pool;
mod snapshot;

pub use cache::CacheFigures;
pub use layer::{Instrumented, Target};
pub use metrics::{Metrics, MetricsConfig};
pub use pool::PoolFigures;
pub use snapshot::{CommandSnapshot, SlowEntry, Snapshot};
