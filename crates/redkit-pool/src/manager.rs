//! [`Manager`]: how deadpool makes, checks and recycles redkit connections.
//!
//! Recycling is where a returned connection is judged, in this order: past its maximum lifetime → closed; broken
//! by a write cut short → closed; tainted (subscribed, tracking, re-authenticated, renamed…) → closed; inside
//! MULTI, WATCHing or on another database → repaired with DISCARD/UNWATCH/SELECT in one round trip; then, if
//! validation is on, a PING within the validation timeout (which also drains replies still owed to dropped
//! requests). Anything that fails is closed and replaced by a fresh connection.

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{Metrics, RecycleError, RecycleResult};
use redkit::{Cmd, Config, Connection, Pipeline};

use crate::conn::{PooledConn, SessionState};
use crate::stats::Stats;

/// The deadpool manager for redkit connections.
#[derive(Debug)]
pub struct Manager {
    pub(crate) config: Config,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) validate: Option<Duration>,
    pub(crate) stats: Arc<Stats>,
}

impl deadpool::managed::Manager for Manager {
    type Type = PooledConn;
    type Error = redkit::Error;

    async fn create(&self) -> Result<PooledConn, redkit::Error> {
        let conn = Connection::connect(&self.config).await?;
        self.stats.created();
        Ok(PooledConn::new(conn, self.config.request_timeout))
    }

    async fn recycle(&self, obj: &mut PooledConn, metrics: &Metrics) -> RecycleResult<redkit::Error> {
        let result = self.check(obj, metrics).await;
        match &result {
            Ok(()) => self.stats.recycled(),
            Err(e) => {
                tracing::debug!(reason = %e, "closing a pooled connection");
                self.stats.discarded();
            }
        }
        result
    }
}

impl Manager {
    async fn check(&self, obj: &mut PooledConn, metrics: &Metrics) -> RecycleResult<redkit::Error> {
        if self.max_lifetime.is_some_and(|max| metrics.age() > max) {
            return Err(RecycleError::message("past its maximum lifetime"));
        }
        let (conn, state) = obj.conn.get_mut();
        if conn.is_broken() {
            return Err(RecycleError::message("a write was cut short"));
        }
        if let Some(why) = state.tainted {
            return Err(RecycleError::message(format!("session state changed: {why}")));
        }
        let mut repair = Pipeline::new();
        if state.in_multi {
            repair.add(Cmd::new("DISCARD"));
        }
        if state.watching || state.in_multi {
            repair.add(Cmd::new("UNWATCH"));
        }
        if state.db.is_some_and(|db| db != self.config.db) {
            repair.add(Cmd::new("SELECT").arg(self.config.db));
        }
        let limit = self.validate.unwrap_or(Duration::from_secs(5));
        if !repair.is_empty() {
            let replies = tokio::time::timeout(limit, conn.send_pipeline(&repair))
                .await
                .map_err(|_| RecycleError::message("reset timed out"))?
                .map_err(RecycleError::Backend)?;
            // DISCARD may fail harmlessly (EXEC already ran on the wire); SELECT and UNWATCH must succeed.
            let failed = replies
                .iter()
                .zip(repair.cmds())
                .any(|(r, c)| matches!(r, redkit::Value::Error(_)) && c.name() != "DISCARD");
            if failed {
                return Err(RecycleError::message("reset failed"));
            }
            *state = SessionState::default();
        }
        if let Some(limit) = self.validate {
            match tokio::time::timeout(limit, conn.send(&Cmd::new("PING"))).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(RecycleError::Backend(e)),
                Err(_) => return Err(RecycleError::message("validation PING timed out")),
            }
        }
        Ok(())
    }
}
