//! [`Dedicated`]: an exclusive connection, for state that must not be shared (WATCH/MULTI, SELECT, CLIENT
//! TRACKING, blocking commands).

use std::time::Duration;

use redkit_resp::{Cmd, Executor, Pipeline, Result, Value};
use tokio::sync::Mutex;

use crate::blocking::blocking_timeout;
use crate::connection::Connection;

/// Extra time a blocking command may take beyond its own timeout on a dedicated connection.
const BLOCKING_MARGIN: Duration = Duration::from_secs(2);

/// An exclusive connection, usable through [`Commands`](crate::Commands) like any executor. Requests on it run
/// one at a time, in order.
#[derive(Debug)]
pub struct Dedicated {
    conn: Mutex<Connection>,
    timeout: Option<Duration>,
}

impl Dedicated {
    pub(crate) fn new(conn: Connection, timeout: Option<Duration>) -> Dedicated {
        Dedicated {
            conn: Mutex::new(conn),
            timeout,
        }
    }

    /// The underlying connection.
    pub fn into_inner(self) -> Connection {
        self.conn.into_inner()
    }

    fn limit_for(&self, cmd: &Cmd) -> Option<Duration> {
        match blocking_timeout(cmd) {
            None => self.timeout,
            Some(None) => None,
            Some(Some(block)) => Some(block.saturating_add(BLOCKING_MARGIN)),
        }
    }
}

impl Executor for Dedicated {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        let limit = self.limit_for(&cmd);
        self.conn.lock().await.send_timeout(&cmd, limit).await
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        let mut conn = self.conn.lock().await;
        match self.timeout {
            None => conn.send_pipeline(&pipeline).await,
            Some(limit) => tokio::time::timeout(limit, conn.send_pipeline(&pipeline))
                .await
                .unwrap_or(Err(redkit_resp::Error::Timeout {
                    command: Some("pipeline".into()),
                    after: limit,
                })),
        }
    }
}
