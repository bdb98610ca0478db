//! The model-based harness of `redkit-model`, run against a real redis-server through the client: Redis must
//! agree with the log model on every observation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use redkit::prelude::*;
use redkit::{Client, Error};
use redkit_model::KvStore;
use redkit_model::harness::{self, Config};

/// The client as a blocking `KvStore`, on its own runtime.
struct Redis {
    rt: tokio::runtime::Runtime,
    client: Client,
}

impl KvStore for Redis {
    type Error = Error;

    fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.rt.block_on(self.client.set(key, value))
    }
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.rt.block_on(self.client.get::<Vec<u8>>(key))
    }
    fn del(&mut self, key: &[u8]) -> Result<bool, Error> {
        self.rt.block_on(self.client.del(key)).map(|n| n == 1)
    }
    fn exists(&mut self, key: &[u8]) -> Result<bool, Error> {
        self.rt.block_on(self.client.exists(key)).map(|n| n == 1)
    }
    fn flush(&mut self) -> Result<(), Error> {
        self.rt.block_on(self.client.flushdb(false))
    }
}

#[test]
fn redis_agrees_with_the_model() {
    let Some(server) = common::server() else { return };
    for protocol in common::PROTOCOLS {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = rt
            .block_on(Client::connect(common::config(&server, protocol)))
            .unwrap();
        let mut redis = Redis { rt, client };
        redkit_model::laws::check_all(&mut redis, b"k", b"v", b"other").unwrap();
        let config = Config {
            cases: 48,
            maintenance: false,
            ..Config::default()
        };
        // One connection for every case: each case starts from an empty database.
        let redis = std::cell::RefCell::new(redis);
        harness::check(config, || {
            let mut r = redis.borrow_mut();
            r.flush().unwrap();
            Shared(&redis)
        })
        .unwrap();
    }
}

/// A borrowed store, so every generated case reuses the one connection.
struct Shared<'a>(&'a std::cell::RefCell<Redis>);

impl KvStore for Shared<'_> {
    type Error = Error;
    fn set(&mut self, k: &[u8], v: &[u8]) -> Result<(), Error> {
        self.0.borrow_mut().set(k, v)
    }
    fn get(&mut self, k: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.0.borrow_mut().get(k)
    }
    fn del(&mut self, k: &[u8]) -> Result<bool, Error> {
        self.0.borrow_mut().del(k)
    }
    fn exists(&mut self, k: &[u8]) -> Result<bool, Error> {
        self.0.borrow_mut().exists(k)
    }
    fn flush(&mut self) -> Result<(), Error> {
        self.0.borrow_mut().flush()
    }
}
