//! [`TypedPipeline`]: queue typed commands, send them in one round trip, read a typed tuple back.

use std::sync::{Mutex, MutexGuard, PoisonError};

use redkit_resp::{Cmd, Error, ErrorKind, Executor, FromValue, Pipeline, Result, ServerError, Value};

use crate::commands::Issue;

/// A pipeline with the same typed methods as a client. Each method queues a command; [`TypedPipeline::query`]
/// sends them all in one round trip and converts the replies, in order, into a tuple (or `Vec<Value>`).
///
/// With [`TypedPipeline::atomic`], the commands run as one MULTI/EXEC transaction: no other client's command
/// runs between them.
///
/// ```no_run
/// use redkit::prelude::*;
///
/// # async fn demo(client: redkit::Client) -> redkit::Result<()> {
/// let pipe = TypedPipeline::new();
/// pipe.set("a", 1).incr("a").get::<i64>("a");
/// let ((), two, read): ((), i64, Option<i64>) = pipe.query(&client).await?;
/// assert_eq!((two, read), (2, Some(2)));
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct TypedPipeline {
    cmds: Mutex<Pipeline>,
    atomic: bool,
}

impl TypedPipeline {
    /// An empty pipeline.
    pub fn new() -> TypedPipeline {
        TypedPipeline::default()
    }

    /// Run the commands as one MULTI/EXEC transaction.
    #[must_use]
    pub fn atomic(mut self) -> TypedPipeline {
        self.atomic = true;
        self
    }

    /// Queue a command built by hand.
    pub fn cmd(&self, cmd: Cmd) -> &TypedPipeline {
        self.lock().add(cmd);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Pipeline> {
        // A panic while pushing a command cannot leave the pipeline half-updated: keep using it.
        self.cmds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many commands are queued.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Send the commands and return each reply as is (error replies in place).
    pub async fn execute<E: Executor + ?Sized>(self, executor: &E) -> Result<Vec<Value>> {
        let atomic = self.atomic;
        let cmds = self.cmds.into_inner().unwrap_or_else(PoisonError::into_inner);
        if !atomic {
            return executor.execute_pipeline(cmds).await;
        }
        let n = cmds.len();
        let mut wrapped = Pipeline::with_capacity(n + 2);
        wrapped.add(Cmd::new("MULTI"));
        wrapped.extend(cmds);
        wrapped.add(Cmd::new("EXEC"));
        let mut replies = executor.execute_pipeline(wrapped).await?;
        unwrap_exec(&mut replies, n)
    }

    /// Send the commands and convert the replies, in order, into `T` (a tuple with one element per command,
    /// `Vec<T>`, …). An error reply fails the conversion with that [`Error::Server`].
    pub async fn query<T: FromValue, E: Executor + ?Sized>(self, executor: &E) -> Result<T> {
        T::from_value(Value::Array(self.execute(executor).await?))
    }
}

/// From `[OK, QUEUED…, EXEC reply]`, the EXEC reply's elements. A command rejected while queueing makes EXEC
/// fail with EXECABORT; the error then carries the first rejection's text.
pub(crate) fn unwrap_exec(replies: &mut Vec<Value>, queued: usize) -> Result<Vec<Value>> {
    let exec = replies.pop().unwrap_or(Value::Null);
    let first_rejection = replies.iter().skip(1).take(queued).find_map(|v| match v {
        Value::Error(text) => Some(String::from_utf8_lossy(text).into_owned()),
        _ => None,
    });
    match exec {
        Value::Array(results) => Ok(results),
        Value::Null => Err(Error::WatchAborted { attempts: 1 }),
        Value::Error(text) => {
            let mut error = ServerError::from_bytes(&text);
            if let (ErrorKind::ExecAbort, Some(first)) = (error.kind(), first_rejection) {
                error = ServerError::new(format!("{} (first rejected command: {first})", error.text()));
            }
            Err(Error::Server {
                command: Some("EXEC".into()),
                error,
            })
        }
        other => Err(redkit_resp::ConversionError::unexpected("EXEC's array of replies", &other).into()),
    }
}

impl Issue for TypedPipeline {
    type Output<'a, T: FromValue + Send + 'a>
        = &'a TypedPipeline
    where
        Self: 'a;

    fn issue<'a, T: FromValue + Send + 'a>(&'a self, cmd: Cmd) -> &'a TypedPipeline {
        self.cmd(cmd)
    }
}
