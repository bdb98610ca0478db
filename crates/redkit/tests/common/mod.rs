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

/// Where a family test runs: a private redis-server, and the embedded server (`redkit-server`) over TCP.
pub(crate) enum Backend {
    /// A real redis-server on a free loopback port.
    Real(RedisServer),
    /// The embedded server on a free loopback port.
    Embedded(redkit_server::TcpServer),
}

impl Backend {
    pub(crate) fn url(&self) -> String {
        match self {
            Backend::Real(s) => s.url(),
            Backend::Embedded(s) => s.url(),
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Real(_) => "redis-server",
            Backend::Embedded(_) => "embedded server",
        }
    }
}

/// The backends to run on: the real server (when found) and the embedded one (unless `real_only`).
pub(crate) async fn backends(real_only: bool) -> Vec<Backend> {
    let mut out = Vec::new();
    if let Some(server) = server() {
        out.push(Backend::Real(server));
    }
    if !real_only {
        out.push(Backend::Embedded(
            redkit_server::TcpServer::start().await.unwrap(),
        ));
    }
    out
}

pub(crate) async fn backend_client(backend: &Backend, protocol: RespVersion) -> Client {
    let config = Config::from_url(&backend.url())
        .unwrap()
        .with_protocol(protocol)
        .with_request_timeout(Some(Duration::from_secs(10)));
    let client = Client::connect(config).await.unwrap();
    redkit::Executor::execute(&client, redkit::Cmd::new("FLUSHALL"))
        .await
        .unwrap();
    client
}

/// Run `$body` with `$c` bound to a client, once per protocol, on each backend: a private redis-server and the
/// embedded server. `real_only` skips the embedded server, for commands it does not implement yet.
#[macro_export]
macro_rules! each_protocol {
    (|$c:ident| $body:block) => {
        $crate::each_protocol!(@run false, |$c| $body)
    };
    (real_only, |$c:ident| $body:block) => {
        $crate::each_protocol!(@run true, |$c| $body)
    };
    (@run $real_only:expr, |$c:ident| $body:block) => {{
        for backend in common::backends($real_only).await {
            for protocol in common::PROTOCOLS {
                let $c = common::backend_client(&backend, protocol).await;
                let run = async { $body };
                tokio::time::timeout(std::time::Duration::from_secs(60), run)
                    .await
                    .unwrap_or_else(|_| {
                        panic!("test body timed out on {} with {protocol:?}", backend.name())
                    });
            }
        }
    }};
}
