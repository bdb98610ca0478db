//! Test support for the redkit workspace: start a real `redis-server` (or a whole Redis Cluster,
//! [`RedisCluster`], or a primary with replicas and sentinels, [`RedisSentinels`]) for a test and stop it
//! afterwards.
//!
//! Each [`RedisServer`] runs on a free loopback port with its own temporary directory, never touches another
//! server's data, and is killed when dropped. It can also listen with TLS (certificates generated for the test by
//! `rcgen`) or on a Unix socket, and can be stopped and restarted on the same port to test reconnects.
//!
//! Outside CI, a machine without `redis-server` skips the tests that need one, with a printed reason; in CI
//! (`CI` set) a missing `redis-server` is a failure, so a broken install never passes silently.
//!
//! ```no_run
//! use redkit_test_support::RedisServer;
//!
//! let Some(server) = RedisServer::start_or_skip() else { return };
//! println!("a private redis-server at {}", server.url());
//! ```

mod cluster;
mod sentinel;
mod server;

pub use cluster::{ClusterOptions, RedisCluster};
pub use sentinel::{RedisSentinels, Sentinel, SentinelOptions};
pub use server::{
    RedisServer, ServerOptions, StartError, TlsFiles, free_port, generate_tls_files, in_ci,
    redis_server_binary,
};
