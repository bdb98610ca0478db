//! [`Subscriber`]: pub/sub on a connection of its own, as an async stream of messages that survives reconnects.
//!
//! A background task owns the connection. Subscription changes are sent to it and confirmed by the server before
//! the call returns. If the connection drops, the task reconnects with backoff and subscribes again to every
//! channel, pattern and shard channel, and the stream continues; messages published while it was disconnected
//! are lost, as they are for any Redis subscriber.

use std::collections::{BTreeSet, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use redkit_resp::{Cmd, Error, Result, ServerError, ToArg, Value};
use tokio::sync::{mpsc, oneshot};

use crate::config::Config;
use crate::connection::Connection;

/// Messages buffered for a slow consumer before the subscriber stops reading from the server.
const BUFFER: usize = 4096;

/// What kind of subscription delivered a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A channel subscription (SUBSCRIBE).
    Channel,
    /// A pattern subscription (PSUBSCRIBE).
    Pattern,
    /// A shard channel subscription (SSUBSCRIBE).
    Shard,
}

/// A published message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// How it was subscribed to.
    pub kind: MessageKind,
    /// The channel it was published on.
    pub channel: Bytes,
    /// The matching pattern, for pattern subscriptions.
    pub pattern: Option<Bytes>,
    /// The message.
    pub payload: Bytes,
}

impl Message {
    /// The payload as UTF-8 text, if it is.
    pub fn payload_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.payload).ok()
    }

    /// The channel as UTF-8 text, if it is.
    pub fn channel_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.channel).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Subscribe,
    Unsubscribe,
    PSubscribe,
    PUnsubscribe,
    SSubscribe,
    SUnsubscribe,
}

impl Op {
    fn command(self) -> &'static str {
        match self {
            Op::Subscribe => "SUBSCRIBE",
            Op::Unsubscribe => "UNSUBSCRIBE",
            Op::PSubscribe => "PSUBSCRIBE",
            Op::PUnsubscribe => "PUNSUBSCRIBE",
            Op::SSubscribe => "SSUBSCRIBE",
            Op::SUnsubscribe => "SUNSUBSCRIBE",
        }
    }

    /// The confirmation's first element (`subscribe`, `punsubscribe`, …).
    fn ack(self) -> &'static [u8] {
        match self {
            Op::Subscribe => b"subscribe",
            Op::Unsubscribe => b"unsubscribe",
            Op::PSubscribe => b"psubscribe",
            Op::PUnsubscribe => b"punsubscribe",
            Op::SSubscribe => b"ssubscribe",
            Op::SUnsubscribe => b"sunsubscribe",
        }
    }
}

struct Control {
    op: Op,
    names: Vec<Bytes>,
    done: oneshot::Sender<Result<()>>,
}

/// A pub/sub subscriber. See the [module docs](self).
///
/// ```no_run
/// use redkit::{Config, Subscriber};
///
/// # async fn demo() -> redkit::Result<()> {
/// let mut sub = Subscriber::connect(Config::from_url("redis://127.0.0.1")?).await?;
/// sub.subscribe("news").await?;
/// while let Some(msg) = sub.next_message().await {
///     println!("{:?}: {:?}", msg.channel, msg.payload);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Subscriber {
    control: mpsc::UnboundedSender<Control>,
    messages: mpsc::Receiver<Message>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("op", &self.op)
            .field("names", &self.names)
            .finish()
    }
}

impl Subscriber {
    /// Connect (failing fast if the server cannot be reached) and start the background task.
    pub async fn connect(config: Config) -> Result<Subscriber> {
        let conn = Connection::connect(&config).await?;
        let (control, control_rx) = mpsc::unbounded_channel();
        let (messages_tx, messages) = mpsc::channel(BUFFER);
        tokio::spawn(Driver::new(config, messages_tx).run(conn, control_rx));
        Ok(Subscriber { control, messages })
    }

    async fn change(&self, op: Op, names: impl ToArg) -> Result<()> {
        let mut list: Vec<Bytes> = Vec::new();
        names.write_args(&mut list);
        if list.is_empty() {
            return Ok(());
        }
        let (done, rx) = oneshot::channel();
        self.control
            .send(Control {
                op,
                names: list,
                done,
            })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// SUBSCRIBE to channels (one name, or a slice).
    pub async fn subscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(Op::Subscribe, channels).await
    }

    /// UNSUBSCRIBE from channels.
    pub async fn unsubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(Op::Unsubscribe, channels).await
    }

    /// PSUBSCRIBE to glob patterns.
    pub async fn psubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change(Op::PSubscribe, patterns).await
    }

    /// PUNSUBSCRIBE from patterns.
    pub async fn punsubscribe(&self, patterns: impl ToArg) -> Result<()> {
        self.change(Op::PUnsubscribe, patterns).await
    }

    /// SSUBSCRIBE to shard channels.
    pub async fn ssubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(Op::SSubscribe, channels).await
    }

    /// SUNSUBSCRIBE from shard channels.
    pub async fn sunsubscribe(&self, channels: impl ToArg) -> Result<()> {
        self.change(Op::SUnsubscribe, channels).await
    }

    /// The next message; `None` once the subscriber has shut down.
    pub async fn next_message(&mut self) -> Option<Message> {
        self.messages.recv().await
    }
}

impl Stream for Subscriber {
    type Item = Message;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.messages.poll_recv(cx)
    }
}

/// A change sent to the server: its op, confirmations still to come, and who to tell (none for restores).
type Awaiting = (Op, usize, Option<oneshot::Sender<Result<()>>>);

/// The background task's state: what is subscribed, and confirmations awaited.
struct Driver {
    config: Config,
    messages: mpsc::Sender<Message>,
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
    shard: BTreeSet<Bytes>,
    awaiting: VecDeque<Awaiting>,
}

enum Ended {
    Shutdown,
    Lost(Error),
}

impl Driver {
    fn new(config: Config, messages: mpsc::Sender<Message>) -> Driver {
        Driver {
            config,
            messages,
            channels: BTreeSet::new(),
            patterns: BTreeSet::new(),
            shard: BTreeSet::new(),
            awaiting: VecDeque::new(),
        }
    }

    async fn run(mut self, first: Connection, mut control: mpsc::UnboundedReceiver<Control>) {
        let mut conn = Some(first);
        let mut attempt = 0u32;
        loop {
            let mut current = match conn.take() {
                Some(c) => c,
                None => match Connection::connect(&self.config).await {
                    Ok(c) => {
                        attempt = 0;
                        c
                    }
                    Err(e) => {
                        if control.is_closed() && self.messages.is_closed() {
                            return;
                        }
                        tracing::warn!(error = %e, "subscriber reconnect failed");
                        tokio::time::sleep(self.config.backoff.delay(attempt)).await;
                        attempt = attempt.saturating_add(1);
                        continue;
                    }
                },
            };
            match self.serve(&mut current, &mut control).await {
                Ended::Shutdown => return,
                Ended::Lost(e) => {
                    tracing::warn!(error = %e, "subscriber connection lost; reconnecting");
                    // Changes in flight are applied to the state already and will be re-sent; tell their callers.
                    for (_, _, done) in self.awaiting.drain(..) {
                        if let Some(done) = done {
                            let _ = done.send(Ok(()));
                        }
                    }
                }
            }
        }
    }

    /// Subscribe to everything in the state again (after a reconnect).
    async fn restore(&mut self, conn: &mut Connection) -> Result<()> {
        let sets = [
            (Op::Subscribe, self.channels.clone()),
            (Op::PSubscribe, self.patterns.clone()),
            (Op::SSubscribe, self.shard.clone()),
        ];
        for (op, names) in sets {
            if !names.is_empty() {
                conn.write_only(&Cmd::new(op.command()).args_from(&names)).await?;
                self.awaiting.push_back((op, names.len(), None));
            }
        }
        Ok(())
    }

    async fn serve(
        &mut self,
        conn: &mut Connection,
        control: &mut mpsc::UnboundedReceiver<Control>,
    ) -> Ended {
        if let Err(e) = self.restore(conn).await {
            return Ended::Lost(e);
        }
        loop {
            tokio::select! {
                change = control.recv() => {
                    let Some(change) = change else { return Ended::Shutdown };
                    if let Err(e) = self.apply(conn, change).await {
                        return Ended::Lost(e);
                    }
                }
                value = conn.read_any() => match value {
                    Ok(v) => {
                        if self.dispatch(v).await.is_err() {
                            return Ended::Shutdown;
                        }
                    }
                    Err(e) => return Ended::Lost(e),
                },
            }
        }
    }

    async fn apply(&mut self, conn: &mut Connection, change: Control) -> Result<()> {
        let Control { op, names, done } = change;
        let set = match op {
            Op::Subscribe | Op::Unsubscribe => &mut self.channels,
            Op::PSubscribe | Op::PUnsubscribe => &mut self.patterns,
            Op::SSubscribe | Op::SUnsubscribe => &mut self.shard,
        };
        for name in &names {
            if matches!(op, Op::Subscribe | Op::PSubscribe | Op::SSubscribe) {
                set.insert(name.clone());
            } else {
                set.remove(name);
            }
        }
        conn.write_only(&Cmd::new(op.command()).args_from(&names)).await?;
        self.awaiting.push_back((op, names.len(), Some(done)));
        Ok(())
    }

    /// Handle one value from the server: a message, a confirmation, or an error. `Err` when nobody listens.
    async fn dispatch(&mut self, value: Value) -> std::result::Result<(), ()> {
        let items = match value {
            Value::Push(items) | Value::Array(items) => items,
            Value::Error(text) => {
                if let Some((_, _, Some(done))) = self.awaiting.pop_front() {
                    let _ = done.send(Err(ServerError::from_bytes(&text).into()));
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        let mut it = items.into_iter().map(|v| match v {
            Value::BulkString(b) | Value::SimpleString(b) => b,
            _ => Bytes::new(),
        });
        let kind = it.next().unwrap_or_default();
        let message = match &kind[..] {
            b"message" => {
                let (channel, payload) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
                Some(Message {
                    kind: MessageKind::Channel,
                    channel,
                    pattern: None,
                    payload,
                })
            }
            b"smessage" => {
                let (channel, payload) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
                Some(Message {
                    kind: MessageKind::Shard,
                    channel,
                    pattern: None,
                    payload,
                })
            }
            b"pmessage" => {
                let pattern = it.next();
                let (channel, payload) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
                Some(Message {
                    kind: MessageKind::Pattern,
                    channel,
                    pattern,
                    payload,
                })
            }
            ack => {
                if let Some((op, remaining, _)) = self.awaiting.front_mut()
                    && op.ack() == ack
                {
                    *remaining = remaining.saturating_sub(1);
                    if *remaining == 0
                        && let Some((_, _, Some(done))) = self.awaiting.pop_front()
                    {
                        let _ = done.send(Ok(()));
                    }
                }
                None
            }
        };
        match message {
            Some(m) => self.messages.send(m).await.map_err(drop),
            None => Ok(()),
        }
    }
}
