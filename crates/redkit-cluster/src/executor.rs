//! [`ClusterClient`] as an [`Executor`]: one command through the request loop, a pipeline split per node. This is
//! the top of the crate: it uses the client and the pipeline splitter, and nothing uses it.

use redkit_resp::{Cmd, Error, Executor, Pipeline, Result, ServerError, Value};

use crate::client::ClusterClient;
use crate::pipeline;
use crate::route::{Route, route};

impl Executor for ClusterClient {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        let name = cmd.name();
        let reply = match route(&cmd)? {
            // Split by slot: each node gets its parts in one round trip, all nodes at once.
            Route::Split { .. } => pipeline::run(&self.inner, Pipeline::new().with(cmd))
                .await?
                .pop()
                .unwrap_or(Value::Null),
            routed => self.inner.run(cmd, routed).await?,
        };
        match reply {
            Value::Error(text) => Err(Error::Server {
                command: Some(name),
                error: ServerError::from_bytes(&text),
            }),
            other => Ok(other),
        }
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        pipeline::run(&self.inner, pipeline).await
    }
}
