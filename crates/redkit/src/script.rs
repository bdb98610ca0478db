//! [`Script`]: a Lua script hashed once and run by SHA1, loaded on demand.

use bytes::Bytes;
use redkit_resp::{Cmd, ErrorKind, Executor, FromValue, Result, ToArg};

/// A Lua script, run with EVALSHA; when the server does not have it (`NOSCRIPT`, e.g. after a restart or
/// SCRIPT FLUSH), it is sent once with EVAL, which also loads it.
///
/// ```no_run
/// use redkit::Script;
///
/// # async fn demo(client: redkit::Client) -> redkit::Result<()> {
/// // Release a lock only if we still own it.
/// let release = Script::new("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end");
/// let released: i64 = release.invoke(&client, &["lock:job:7"], "owner-token-123").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    code: Bytes,
    sha1: String,
}

impl Script {
    /// A script from its Lua source.
    pub fn new(code: impl Into<Bytes>) -> Script {
        let code = code.into();
        let sha1 = sha1_smol::Sha1::from(&code[..]).digest().to_string();
        Script { code, sha1 }
    }

    /// The SHA1 the server knows the script by (lower-case hex).
    pub fn sha1(&self) -> &str {
        &self.sha1
    }

    /// The Lua source.
    pub fn code(&self) -> &[u8] {
        &self.code
    }

    /// Run the script with `keys` and `args`.
    pub async fn invoke<T: FromValue, E: Executor + ?Sized>(
        &self,
        executor: &E,
        keys: &[impl ToArg],
        args: impl ToArg,
    ) -> Result<T> {
        self.run(executor, "EVALSHA", "EVAL", keys, args).await
    }

    /// Run the script read-only (EVALSHA_RO / EVAL_RO): it may run on replicas and may not write.
    pub async fn invoke_ro<T: FromValue, E: Executor + ?Sized>(
        &self,
        executor: &E,
        keys: &[impl ToArg],
        args: impl ToArg,
    ) -> Result<T> {
        self.run(executor, "EVALSHA_RO", "EVAL_RO", keys, args).await
    }

    /// Load the script without running it (SCRIPT LOAD).
    pub async fn load<E: Executor + ?Sized>(&self, executor: &E) -> Result<()> {
        executor
            .execute(Cmd::new("SCRIPT").arg("LOAD").arg(&self.code))
            .await
            .map(drop)
    }

    async fn run<T: FromValue, E: Executor + ?Sized>(
        &self,
        executor: &E,
        by_sha: &str,
        by_code: &str,
        keys: &[impl ToArg],
        args: impl ToArg,
    ) -> Result<T> {
        let cmd = Cmd::new(by_sha)
            .arg(&self.sha1)
            .arg(keys.len())
            .arg(keys)
            .arg(args);
        let retry = Cmd::new(by_code).arg(&self.code).args_from(cmd.args().skip(2));
        let reply = match executor.execute(cmd).await {
            Err(e) if matches!(e.server_kind(), Some(ErrorKind::NoScript)) => executor.execute(retry).await?,
            other => other?,
        };
        T::from_value(reply).map_err(|e| e.with_command(by_sha))
    }
}
