//! Publishing and pub/sub introspection. Subscribing needs a connection of its own: see
//! [`Subscriber`](crate::Subscriber).

use redkit_resp::{Cmd, ToArg};

use super::commands;

commands! {
    /// Pub/sub commands that work on any connection.
    pub trait PubSubCommands {
        /// PUBLISH: send a message; how many subscribers received it.
        fn publish(channel: impl ToArg, message: impl ToArg) -> i64 { Cmd::new("PUBLISH").arg(channel).arg(message) }
        /// SPUBLISH: send a message to a shard channel.
        fn spublish(channel: impl ToArg, message: impl ToArg) -> i64 { Cmd::new("SPUBLISH").arg(channel).arg(message) }
        /// PUBSUB CHANNELS: active channels, optionally matching a pattern.
        fn pubsub_channels<V>(pattern: Option<&str>) -> Vec<V> { Cmd::new("PUBSUB").arg("CHANNELS").arg(pattern) }
        /// PUBSUB NUMSUB: subscriber counts per channel.
        fn pubsub_numsub<V>(channels: impl ToArg) -> Vec<(V, i64)> { Cmd::new("PUBSUB").arg("NUMSUB").arg(channels) }
        /// PUBSUB NUMPAT: the number of pattern subscriptions.
        fn pubsub_numpat() -> i64 { Cmd::new("PUBSUB").arg("NUMPAT") }
        /// PUBSUB SHARDCHANNELS: active shard channels.
        fn pubsub_shardchannels<V>(pattern: Option<&str>) -> Vec<V> {
            Cmd::new("PUBSUB").arg("SHARDCHANNELS").arg(pattern)
        }
    }
}
