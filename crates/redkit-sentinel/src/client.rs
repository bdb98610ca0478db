//! [`SentinelClient`]: the current primary's multiplexed `redkit::Client`, replaced when the sentinels name another.
//!
//! Three things keep it current, so that no single missed signal leaves it on a demoted primary:
//! - a subscriber on **every** sentinel to `+switch-master` (one sentinel dying with the primary cannot hide the
//!   event);
//! - a **reconciler** that asks the sentinels for the primary every `reconcile_interval` and checks `ROLE` on the
//!   one in use (a missed event, or a primary demoted behind the sentinels' back, is caught within that time);
//! - the **requests** themselves: a `READONLY` reply (the node was demoted) or an unreachable primary triggers a
//!   switch at once.
//!
//! Retries: a `READONLY` error means the write was refused, so it is sent again to the new primary; a request
//! finding the primary unreachable waits for a switch (up to `failover_deadline`) since nothing was sent; a
//! command in flight when the connection dropped may have run and is returned as it is (never sent twice).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redkit::{Client, Subscriber};
use redkit_resp::{Cmd, Error, Executor, Pipeline, Result, Value};
use tokio::sync::{Mutex, watch};

use crate::config::SentinelConfig;

/// The primary in use.
#[derive(Debug, Clone)]
struct Primary {
    host: String,
    port: u16,
    client: Client,
}

/// A client for a primary that Redis Sentinel monitors: an [`Executor`] that follows failovers.
///
/// Cheap to clone (clones share the connection). The background tasks stop when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct SentinelClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: SentinelConfig,
    primary: RwLock<Arc<Primary>>,
    /// Serializes switches (concurrent triggers resolve once).
    switching: Mutex<()>,
    /// Bumped after each switch to a new primary.
    switches: watch::Sender<u64>,
}

impl SentinelClient {
    /// Ask the sentinels for the primary, connect to it, check that it is one (`ROLE`), and start following
    /// failovers.
    pub async fn connect(config: SentinelConfig) -> Result<SentinelClient> {
        if config.sentinels.is_empty() {
            return Err(Error::Config(
                "Sentinel needs at least one sentinel address".into(),
            ));
        }
        let primary = resolve(&config).await?;
        let (switches, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            config,
            primary: RwLock::new(Arc::new(primary)),
            switching: Mutex::new(()),
            switches,
        });
        for (host, port) in inner.config.sentinels.clone() {
            tokio::spawn(watch_sentinel(Arc::downgrade(&inner), host, port));
        }
        tokio::spawn(reconcile(Arc::downgrade(&inner)));
        Ok(SentinelClient { inner })
    }

    /// [`SentinelClient::connect`] with a `redis+sentinel://` URL (see [`SentinelConfig::from_url`]).
    pub async fn open(url: &str) -> Result<SentinelClient> {
        SentinelClient::connect(SentinelConfig::from_url(url)?).await
    }

    /// The primary in use, as `(host, port)`.
    pub fn primary(&self) -> (String, u16) {
        let p = self.inner.current();
        (p.host.clone(), p.port)
    }

    /// How many times the client moved to another primary.
    pub fn switches(&self) -> u64 {
        *self.inner.switches.borrow()
    }

    /// The current primary's connection.
    pub fn client(&self) -> Client {
        self.inner.current().client.clone()
    }
}

impl Inner {
    fn current(&self) -> Arc<Primary> {
        self.primary
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Ask the sentinels again and move to the primary they name, unless it is the one in use and still a
    /// primary. Concurrent calls resolve once.
    async fn switch(&self) -> Result<()> {
        let _one = self.switching.lock().await;
        let current = self.current();
        let (host, port) = ask_sentinels(&self.config).await?;
        if (host.as_str(), port) == (current.host.as_str(), current.port)
            && role_is_master(&current.client).await
        {
            return Ok(());
        }
        self.switch_to_locked(host, port).await
    }

    /// Move to `host:port` after checking it is a primary (a `+switch-master` event). Serialized with every other
    /// switch, so two signals naming the same primary move the client once.
    async fn switch_to(&self, host: String, port: u16) -> Result<()> {
        let _one = self.switching.lock().await;
        self.switch_to_locked(host, port).await
    }

    /// [`Inner::switch_to`] with the switch lock held.
    async fn switch_to_locked(&self, host: String, port: u16) -> Result<()> {
        let current = self.current();
        if (host.as_str(), port) == (current.host.as_str(), current.port)
            && role_is_master(&current.client).await
        {
            return Ok(());
        }
        let client = Client::connect(self.config.for_node(&host, port)).await?;
        if !role_is_master(&client).await {
            return Err(Error::Config(format!(
                "{host}:{port}, named primary of {} by the sentinels, is not a primary (yet)",
                self.config.service
            )));
        }
        tracing::info!(service = %self.config.service, from = %format!("{}:{}", current.host, current.port), to = %format!("{host}:{port}"), "switched primary");
        *self
            .primary
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(Primary { host, port, client });
        self.switches.send_modify(|n| *n += 1);
        Ok(())
    }

    /// Try to switch until one succeeds or `deadline` passes; `true` when the primary changed.
    async fn await_switch(&self, deadline: Instant) -> bool {
        let before = *self.switches.borrow();
        loop {
            if self.switch().await.is_ok() && *self.switches.borrow() != before {
                return true;
            }
            let current = self.current();
            if !is_down(&current.client) && role_is_master(&current.client).await {
                // The old primary is back (restarted) and still primary: carry on with it.
                return false;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Run `send` on the current primary, following a failover when the primary refuses writes or is down.
    async fn run<T, F, Fut>(&self, send: F) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let deadline = Instant::now() + self.config.failover_deadline;
        loop {
            let current = self.current();
            if is_down(&current.client) {
                if self.await_switch(deadline).await || !is_down(&self.current().client) {
                    continue;
                }
                return Err(down(&current));
            }
            match send(current.client.clone()).await {
                // Refused by a node that was demoted: nothing was written; send again to the new primary.
                Err(Error::Server { ref error, .. })
                    if error.code() == "READONLY" && Instant::now() < deadline =>
                {
                    self.await_switch(deadline).await;
                }
                // The connection was down: nothing was sent; wait for the new primary and send it there.
                Err(Error::Io { ref source, .. })
                    if source.kind() == std::io::ErrorKind::NotConnected && Instant::now() < deadline =>
                {
                    self.await_switch(deadline).await;
                }
                Err(e @ (Error::ConnectionLost { .. } | Error::Io { .. })) => {
                    // The command may have run: not sent again. Find the new primary for the next request.
                    let inner_switch = self.switch();
                    let _ = tokio::time::timeout(Duration::from_secs(1), inner_switch).await;
                    return Err(e);
                }
                other => return other,
            }
        }
    }
}

fn down(primary: &Primary) -> Error {
    Error::Io {
        command: None,
        source: std::io::Error::new(
            std::io::ErrorKind::NotConnected,
            format!(
                "the primary {}:{} is unreachable and the sentinels name no other (nothing was sent)",
                primary.host, primary.port
            ),
        ),
    }
}

/// `true` while the connection is lost and not yet replaced.
fn is_down(client: &Client) -> bool {
    *client.connection_epoch().borrow() % 2 == 1
}

/// `ROLE`'s first word is `master`.
async fn role_is_master(client: &Client) -> bool {
    let limit = Some(Duration::from_secs(1));
    match client.execute_timeout(Cmd::new("ROLE"), limit).await {
        Ok(Value::Array(parts)) => {
            matches!(parts.first(), Some(Value::BulkString(b) | Value::SimpleString(b)) if b.as_ref() == b"master")
        }
        _ => false,
    }
}

/// Ask each sentinel in turn for the primary's address; the first answer wins.
async fn ask_sentinels(config: &SentinelConfig) -> Result<(String, u16)> {
    let mut last = Error::Config(format!("no sentinel knows {}", config.service));
    for (host, port) in &config.sentinels {
        let sentinel = match Client::connect(config.for_sentinel(host, *port)).await {
            Ok(c) => c,
            Err(e) => {
                last = e;
                continue;
            }
        };
        let cmd = Cmd::new("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&config.service);
        match sentinel.execute_timeout(cmd, Some(Duration::from_secs(1))).await {
            Ok(Value::Array(parts)) => {
                let text = |v: Option<&Value>| match v {
                    Some(Value::BulkString(b) | Value::SimpleString(b)) => {
                        std::str::from_utf8(b).ok().map(str::to_owned)
                    }
                    _ => None,
                };
                if let (Some(h), Some(p)) = (text(parts.first()), text(parts.get(1)))
                    && let Ok(p) = p.parse::<u16>()
                {
                    return Ok((h, p));
                }
                last = Error::Config(format!(
                    "sentinel {host}:{port}: an address that is not host and port"
                ));
            }
            Ok(_) => last = Error::Config(format!("sentinel {host}:{port} does not know {}", config.service)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The primary the sentinels name, connected and checked.
async fn resolve(config: &SentinelConfig) -> Result<Primary> {
    let (host, port) = ask_sentinels(config).await?;
    let client = Client::connect(config.for_node(&host, port)).await?;
    if !role_is_master(&client).await {
        return Err(Error::Config(format!(
            "{host}:{port}, named primary of {} by the sentinels, is not a primary",
            config.service
        )));
    }
    Ok(Primary { host, port, client })
}

/// Follow `+switch-master` on one sentinel for as long as the client lives, reconnecting with a pause.
async fn watch_sentinel(inner: std::sync::Weak<Inner>, host: String, port: u16) {
    loop {
        let Some(config) = inner.upgrade().map(|i| i.config.for_sentinel(&host, port)) else {
            return;
        };
        let subscriber = match Subscriber::connect(config).await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::debug!(sentinel = %format!("{host}:{port}"), error = %e, "sentinel unreachable");
                None
            }
        };
        if let Some(mut subscriber) = subscriber
            && subscriber.subscribe("+switch-master").await.is_ok()
        {
            loop {
                // Wake now and then to notice that the client is gone.
                let message = tokio::time::timeout(Duration::from_secs(1), subscriber.next_message()).await;
                let Some(inner) = inner.upgrade() else { return };
                match message {
                    Ok(Some(message)) => {
                        if let Some((host, port)) = switch_target(&message.payload, &inner.config.service)
                            && let Err(e) = inner.switch_to(host, port).await
                        {
                            tracing::warn!(error = %e, "could not follow +switch-master; the reconciler will retry");
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {}
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `+switch-master`'s payload, `<name> <old-ip> <old-port> <new-ip> <new-port>`: the new address, for our service.
fn switch_target(payload: &Bytes, service: &str) -> Option<(String, u16)> {
    let text = std::str::from_utf8(payload).ok()?;
    let words: Vec<&str> = text.split(' ').collect();
    match words.as_slice() {
        [name, _, _, host, port] if *name == service => Some(((*host).to_owned(), port.parse().ok()?)),
        _ => None,
    }
}

/// Every `reconcile_interval`, ask the sentinels again (and check ROLE), for as long as the client lives.
async fn reconcile(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(interval) = inner.upgrade().map(|i| i.config.reconcile_interval) else {
            return;
        };
        tokio::time::sleep(interval).await;
        let Some(inner) = inner.upgrade() else { return };
        if let Err(e) = inner.switch().await {
            tracing::debug!(error = %e, "sentinel reconcile failed");
        }
    }
}

impl Executor for SentinelClient {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        self.inner
            .run(|client| {
                let cmd = cmd.clone();
                async move { client.execute(cmd).await }
            })
            .await
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        self.inner
            .run(|client| {
                let pipeline = pipeline.clone();
                async move { client.execute_pipeline(pipeline).await }
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_messages_are_parsed() {
        let payload = Bytes::from_static(b"mymaster 127.0.0.1 6379 127.0.0.1 6380");
        assert_eq!(
            switch_target(&payload, "mymaster"),
            Some(("127.0.0.1".into(), 6380))
        );
        assert_eq!(switch_target(&payload, "other"), None);
        for bad in [&b"mymaster 1 2 3"[..], b"mymaster a b c 99999", b"", b"\xff\xfe"] {
            assert_eq!(switch_target(&Bytes::copy_from_slice(bad), "mymaster"), None);
        }
    }
}
