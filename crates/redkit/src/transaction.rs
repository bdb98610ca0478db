//! Optimistic transactions: WATCH the keys, read, queue writes, EXEC — and retry when a watched key changed.

use redkit_resp::{Cmd, Error, Executor, FromValue, Result, ToArg, Value};

use crate::client::Client;
use crate::dedicated::Dedicated;
use crate::pipeline::TypedPipeline;

/// A dedicated connection with keys WATCHed: read through it (it is an [`Executor`]), then
/// [`exec`](Watched::exec) a pipeline of writes, which runs only if no watched key changed.
#[derive(Debug)]
pub struct Watched {
    conn: Dedicated,
}

impl Watched {
    /// The connection, for reads between WATCH and EXEC.
    pub fn conn(&self) -> &Dedicated {
        &self.conn
    }

    /// Run `writes` atomically. `Ok(None)` when a watched key changed and nothing ran.
    pub async fn exec<T: FromValue>(self, writes: TypedPipeline) -> Result<Option<T>> {
        match writes.atomic().execute(&self.conn).await {
            Ok(replies) => T::from_value(Value::Array(replies)).map(Some),
            Err(Error::WatchAborted { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Give up: UNWATCH.
    pub async fn abort(self) -> Result<()> {
        self.conn.execute(Cmd::new("UNWATCH")).await.map(drop)
    }
}

impl Client {
    /// WATCH `keys` on a fresh dedicated connection (see [`Watched`]).
    pub async fn watch(&self, keys: impl ToArg) -> Result<Watched> {
        let conn = self.dedicated().await?;
        conn.execute(Cmd::new("WATCH").arg(keys)).await?;
        Ok(Watched { conn })
    }

    /// An optimistic transaction: WATCH `keys`, run `body` (which reads through the connection it is given and
    /// returns the writes to queue), EXEC; when a watched key changed meanwhile, run it all again, up to
    /// `max_attempts` times, then fail with [`Error::WatchAborted`].
    ///
    /// ```no_run
    /// use redkit::prelude::*;
    ///
    /// # async fn demo(client: redkit::Client) -> redkit::Result<()> {
    /// // Move 10 from one balance to another, never below zero.
    /// let moved: Option<(i64, i64)> = client
    ///     .transaction(&["acct:a", "acct:b"], 5, async |conn| {
    ///         let a: i64 = conn.get("acct:a").await?.unwrap_or(0);
    ///         let writes = TypedPipeline::new();
    ///         if a >= 10 {
    ///             writes.decr_by("acct:a", 10).incr_by("acct:b", 10);
    ///             Ok(Some(writes))
    ///         } else {
    ///             Ok(None)
    ///         }
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// `body` returning `Ok(None)` ends the transaction without writing (the result is then `None`).
    pub async fn transaction<T, K, F>(&self, keys: &[K], max_attempts: u32, mut body: F) -> Result<Option<T>>
    where
        T: FromValue,
        K: ToArg,
        F: AsyncFnMut(&Dedicated) -> Result<Option<TypedPipeline>>,
    {
        let conn = self.dedicated().await?;
        for _ in 0..max_attempts.max(1) {
            conn.execute(Cmd::new("WATCH").arg(keys)).await?;
            let writes = match body(&conn).await {
                Ok(Some(writes)) => writes,
                Ok(None) => {
                    conn.execute(Cmd::new("UNWATCH")).await?;
                    return Ok(None);
                }
                Err(e) => {
                    let _ = conn.execute(Cmd::new("UNWATCH")).await;
                    return Err(e);
                }
            };
            match writes.atomic().execute(&conn).await {
                Ok(replies) => return T::from_value(Value::Array(replies)).map(Some),
                Err(Error::WatchAborted { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::WatchAborted {
            attempts: max_attempts.max(1),
        })
    }
}
