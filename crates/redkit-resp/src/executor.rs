//! [`Executor`]: the one seam of redkit — "send this command (or pipeline), give me the replies".
//!
//! Everything that talks to a server implements it: the network client, a pool, a cluster router, the in-process
//! embedded server. Everything that *uses* a server is generic over it: the typed command methods, typed keys,
//! caches, the Arrow bridge. Behaviour such as metrics or retries is added as a layer: a type that wraps an
//! `Executor` and is one itself.
//!
//! # The contract
//! - [`Executor::execute`] returns the reply to one command. An error reply comes back as [`Error::Server`] with
//!   the command's name attached ([`reply_result`] does exactly that), so `?` works and layers can count errors by
//!   [`ErrorKind`](crate::ErrorKind).
//! - [`Executor::execute_pipeline`] returns one reply per command, in order, exactly `pipeline.len()` of them;
//!   an error reply to one command stays in place as [`Value::Error`] and does not fail the others. `Err` means the
//!   pipeline as a whole failed (connection lost, timeout).
//! - Both are cancel-safe for the caller: dropping the future abandons the reply, and never hands it to another
//!   request.
//!
//! # Static and dynamic dispatch
//! `Executor` uses `async fn`-style methods (`impl Future` returns), so generic code pays no allocation per
//! command; that also makes it not object-safe. For a trait object use [`DynExecutor`], implemented for every
//! `Executor`, whose methods return boxed futures; `Box<dyn DynExecutor>` and `Arc<dyn DynExecutor>` are
//! `Executor`s again, so dynamic and generic code mix freely:
//!
//! ```
//! use std::sync::Arc;
//! use redkit_resp::{Cmd, DynExecutor, Executor, Pipeline, Result, Value};
//!
//! /// A toy executor that answers PING and echoes everything else's arguments.
//! struct Echo;
//!
//! impl Executor for Echo {
//!     async fn execute(&self, cmd: Cmd) -> Result<Value> {
//!         Ok(match &cmd.name()[..] {
//!             "PING" => Value::simple("PONG"),
//!             _ => Value::Array(cmd.args().skip(1).map(|a| Value::bulk(a.to_vec())).collect()),
//!         })
//!     }
//!
//!     async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
//!         let mut out = Vec::with_capacity(pipeline.len());
//!         for cmd in pipeline {
//!             out.push(self.execute(cmd).await?);
//!         }
//!         Ok(out)
//!     }
//! }
//!
//! async fn ping<E: Executor>(e: &E) -> Result<String> {
//!     e.query(Cmd::new("PING")).await
//! }
//!
//! # futures::executor::block_on(async {
//! assert_eq!(ping(&Echo).await.unwrap(), "PONG");
//! let dynamic: Arc<dyn DynExecutor> = Arc::new(Echo);
//! assert_eq!(ping(&dynamic).await.unwrap(), "PONG");
//! # });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::cmd::{Cmd, Pipeline};
use crate::error::{Error, Result};
use crate::from_value::FromValue;
use crate::server_error::ServerError;
use crate::value::Value;

/// A boxed, `Send` future, as returned by [`DynExecutor`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends commands to something that answers like Redis. See the [module docs](self) for the contract.
pub trait Executor: Send + Sync {
    /// Send one command and wait for its reply; an error reply is `Err(Error::Server)`.
    fn execute(&self, cmd: Cmd) -> impl Future<Output = Result<Value>> + Send;

    /// Send every command of `pipeline` in one round trip; one reply per command, errors in place.
    fn execute_pipeline(&self, pipeline: Pipeline) -> impl Future<Output = Result<Vec<Value>>> + Send;

    /// Send one command and convert its reply; a failed conversion names the command.
    fn query<T: FromValue>(&self, cmd: Cmd) -> impl Future<Output = Result<T>> + Send {
        async move {
            let name = cmd.name();
            let value = self.execute(cmd).await?;
            T::from_value(value).map_err(|e| e.with_command(name))
        }
    }
}

/// Turn a reply into the result [`Executor::execute`] returns: an error reply becomes [`Error::Server`] naming
/// `command`.
pub fn reply_result(command: &Cmd, reply: Value) -> Result<Value> {
    match reply {
        Value::Error(text) => Err(Error::Server {
            command: Some(command.name()),
            error: ServerError::from_bytes(&text),
        }),
        other => Ok(other),
    }
}

/// The object-safe form of [`Executor`], implemented for every `Executor`.
pub trait DynExecutor: Send + Sync {
    /// [`Executor::execute`], boxed.
    fn execute_boxed(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>>;

    /// [`Executor::execute_pipeline`], boxed.
    fn execute_pipeline_boxed(&self, pipeline: Pipeline) -> BoxFuture<'_, Result<Vec<Value>>>;
}

impl<E: Executor> DynExecutor for E {
    fn execute_boxed(&self, cmd: Cmd) -> BoxFuture<'_, Result<Value>> {
        Box::pin(self.execute(cmd))
    }

    fn execute_pipeline_boxed(&self, pipeline: Pipeline) -> BoxFuture<'_, Result<Vec<Value>>> {
        Box::pin(self.execute_pipeline(pipeline))
    }
}

impl Executor for dyn DynExecutor + '_ {
    fn execute(&self, cmd: Cmd) -> impl Future<Output = Result<Value>> + Send {
        self.execute_boxed(cmd)
    }

    fn execute_pipeline(&self, pipeline: Pipeline) -> impl Future<Output = Result<Vec<Value>>> + Send {
        self.execute_pipeline_boxed(pipeline)
    }
}

macro_rules! forward_executor {
    ($($ty:ty),*) => {$(
        impl<E: Executor + ?Sized> Executor for $ty {
            fn execute(&self, cmd: Cmd) -> impl Future<Output = Result<Value>> + Send {
                (**self).execute(cmd)
            }

            fn execute_pipeline(&self, pipeline: Pipeline) -> impl Future<Output = Result<Vec<Value>>> + Send {
                (**self).execute_pipeline(pipeline)
            }
        }
    )*};
}

forward_executor!(&E, Box<E>, Arc<E>);
