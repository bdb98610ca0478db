//! [`ClusterClient`] as an [`Executor`]: one command through the request loop, a pipeline split per node. This is
//! the top of the crate: it uses the client and the pipeline splitter, and nothing uses it.

use redkit_resp::{Cmd, Error, Executor, Pipeline, Result, ServerError, Value};

use crate::client::ClusterClient;
use crate::pipeline;

impl Executor for ClusterClient {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        let name = cmd.name();
        let reply = self.inner.run(cmd).await?;
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
