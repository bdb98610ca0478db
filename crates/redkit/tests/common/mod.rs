//! Shared by the integration tests: a private redis-server per test, clients for both protocols.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use redkit::{Client, Config, RespVersion};
use redkit_test_support::RedisServer;

/// Both protocols: every family test runs on each.
pub(crate) const PROTOCOLS: [RespVersion; 2] = [RespVersion::Resp2, RespVersion::Resp3];

/// A private server, or `None` (with a printed reason) where redis-server is missing outside CI.
pub(crate) fn server() -> Option<RedisServer> {
    RedisServer::start_or_skip()
}

pub(crate) fn config(server: &RedisServer, protocol: RespVersion) -> Config {
    Config::from_url(&server.url())
        .unwrap()
        .with_protocol(protocol)
        .with_request_timeout(Some(Duration::from_secs(10)))
}

pub(crate) async fn client(server: &RedisServer, protocol: RespVersion) -> Client {
    let client = Client::connect(config(server, protocol)).await.unwrap();
    // Each protocol's run starts from an empty database on this private server.
    redkit::Executor::execute(&client, redkit::Cmd::new("FLUSHALL"))
        .await
        .unwrap();
    client
}

/// Run `$body` with `$c` bound to a client, once per protocol, against a private server.
#[macro_export]
macro_rules! each_protocol {
    (|$c:ident| $body:block) => {{
        let Some(server) = common::server() else { return };
        for protocol in common::PROTOCOLS {
            let $c = common::client(&server, protocol).await;
            let run = async { $body };
            tokio::time::timeout(std::time::Duration::from_secs(60), run)
                .await
                .unwrap_or_else(|_| panic!("test body timed out on {protocol:?}"));
        }
    }};
}
