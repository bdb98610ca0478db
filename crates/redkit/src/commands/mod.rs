//! The typed command surface: one trait per command family, each implemented for everything that can
//! [`Issue`] a command — every [`Executor`] (client, dedicated connection, pool, embedded server) and the
//! [`TypedPipeline`](crate::TypedPipeline).
//!
//! On an executor a method returns a future of its typed result; on a pipeline it queues the command and returns
//! the pipeline. The same method, written once, serves both:
//!
//! ```no_run
//! use redkit::prelude::*;
//!
//! # async fn demo(client: redkit::Client) -> redkit::Result<()> {
//! client.set("visits", 0).await?;
//! let n: i64 = client.incr("visits").await?;
//! let name: Option<String> = client.get("user:1:name").await?;
//!
//! let pipe = TypedPipeline::new();
//! pipe.incr("visits").get::<String>("user:1:name");
//! let (visits, name): (i64, Option<String>) = pipe.query(&client).await?;
//! # Ok(()) }
//! ```
//!
//! Every command is built in exactly one place — the method body in its family's file — as a [`Cmd`]: a reader
//! looking for how `ZADD` is encoded opens `zset.rs`.
//!
//! Conventions: a value that may be missing is an `Option`; counts and integer replies are `i64`, as Redis sends
//! them; scores are `f64`; durations are [`std::time::Duration`] and points in time [`std::time::SystemTime`];
//! values you store and read back are generic (`V: FromValue` on the way out, `impl ToArg` on the way in).

use redkit_resp::{Cmd, Executor, FromValue, Result};

use crate::BoxFuture;

pub mod connection;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod key;
pub mod list;
pub mod options;
pub mod pubsub;
pub mod scripting;
pub mod server;
pub mod set;
pub mod stream;
pub mod string;
pub mod zset;

/// Something that can run (or queue) a typed command.
pub trait Issue {
    /// What issuing a command returns: a boxed future of `Result<T>` for executors, the pipeline itself for a
    /// [`TypedPipeline`](crate::TypedPipeline).
    type Output<'a, T: FromValue + Send + 'a>
    where
        Self: 'a;

    /// Run (or queue) `cmd`, whose reply converts to `T`.
    fn issue<'a, T: FromValue + Send + 'a>(&'a self, cmd: Cmd) -> Self::Output<'a, T>;
}

impl<E: Executor> Issue for E {
    type Output<'a, T: FromValue + Send + 'a>
        = BoxFuture<'a, Result<T>>
    where
        Self: 'a;

    fn issue<'a, T: FromValue + Send + 'a>(&'a self, cmd: Cmd) -> BoxFuture<'a, Result<T>> {
        Box::pin(self.query(cmd))
    }
}

/// Defines a command family trait from one-line command definitions, and implements it for every [`Issue`].
macro_rules! commands {
    (
        $(#[$meta:meta])*
        pub trait $trait:ident {
            $(
                $(#[$m:meta])*
                fn $name:ident $(<$($g:ident),*>)? ($($arg:ident : $ty:ty),* $(,)?) -> $ret:ty $body:block
            )*
        }
    ) => {
        $(#[$meta])*
        pub trait $trait: $crate::commands::Issue {
            $(
                $(#[$m])*
                #[allow(clippy::too_many_arguments)]
                fn $name<'a $(, $($g: redkit_resp::FromValue + Send + 'a),*)?>(
                    &'a self,
                    $($arg: $ty),*
                ) -> Self::Output<'a, $ret> {
                    self.issue($body)
                }
            )*
        }

        impl<T: $crate::commands::Issue + ?Sized> $trait for T {}
    };
}

pub(crate) use commands;

/// Every command family, for bounds: `fn f(c: &impl Commands)`.
pub trait Commands:
    string::StringCommands
    + key::KeyCommands
    + list::ListCommands
    + set::SetCommands
    + hash::HashCommands
    + zset::SortedSetCommands
    + stream::StreamCommands
    + hyperloglog::HyperLogLogCommands
    + geo::GeoCommands
    + scripting::ScriptingCommands
    + pubsub::PubSubCommands
    + connection::ConnectionCommands
    + server::ServerCommands
{
}

impl<T: Issue + ?Sized> Commands for T {}
