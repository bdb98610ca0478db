//! The near cache against a private redis-server and the embedded server: invalidation by another client,
//! connection loss, BCAST prefixes, the size bound.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use redkit::{Client, Cmd, Config, Executor, RespVersion};
use redkit_cache::{NearCache, NearCacheConfig, TrackingMode};
use redkit_test_support::RedisServer;

async fn servers() -> (
    Vec<(&'static str, String)>,
    Option<RedisServer>,
    redkit_server::TcpServer,
) {
    let real = RedisServer::start_or_skip();
    let mock = redkit_server::TcpServer::start().await.unwrap();
    let mut urls = Vec::new();
    if let Some(r) = &real {
        urls.push(("redis-server", r.url()));
    }
    urls.push(("embedded server", mock.url()));
    (urls, real, mock)
}

async fn client(url: &str) -> Client {
    let config = Config::from_url(url)
        .unwrap()
        .with_protocol(RespVersion::Resp3)
        .with_request_timeout(Some(Duration::from_secs(10)));
    Client::connect(config).await.unwrap()
}

/// Read `key` through `near` until it shows `want` (bounded: 2 s).
async fn until_reads(near: &NearCache<String>, key: &str, want: Option<&str>) {
    for _ in 0..200 {
        if near.get(key).await.unwrap().as_deref() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{key} never read as {want:?}");
}

#[tokio::test]
async fn another_clients_write_evicts_the_local_copy() {
    let (urls, _real, _mock) = servers().await;
    for (backend, url) in urls {
        let near: NearCache<String> = NearCache::new(client(&url).await, NearCacheConfig::default())
            .await
            .unwrap();
        let writer = client(&url).await;
        writer.execute(Cmd::new("SET").arg("k").arg("v1")).await.unwrap();
        assert_eq!(near.get("k").await.unwrap().as_deref(), Some("v1"));
        assert_eq!(near.get("k").await.unwrap().as_deref(), Some("v1"));
        assert_eq!(near.stats().local_hits, 1, "{backend}: the second read was local");
        writer.execute(Cmd::new("SET").arg("k").arg("v2")).await.unwrap();
        until_reads(&near, "k", Some("v2")).await;
        writer.execute(Cmd::new("DEL").arg("k")).await.unwrap();
        until_reads(&near, "k", None).await;
        // A flush on the server drops everything local too.
        writer.execute(Cmd::new("SET").arg("a").arg("1")).await.unwrap();
        assert_eq!(near.get("a").await.unwrap().as_deref(), Some("1"));
        writer.execute(Cmd::new("FLUSHALL")).await.unwrap();
        until_reads(&near, "a", None).await;
        assert!(near.stats().invalidations >= 2, "{backend}: {:?}", near.stats());
    }
}

#[tokio::test]
async fn a_lost_connection_never_leaves_a_stale_value() {
    let (urls, _real, _mock) = servers().await;
    for (backend, url) in urls {
        let near: NearCache<String> = NearCache::new(client(&url).await, NearCacheConfig::default())
            .await
            .unwrap();
        let writer = client(&url).await;
        writer.execute(Cmd::new("SET").arg("k").arg("old")).await.unwrap();
        assert_eq!(near.get("k").await.unwrap().as_deref(), Some("old"));
        // Cut the near cache's connection, change the key while it is gone.
        let id: i64 = near.client().query(Cmd::new("CLIENT").arg("ID")).await.unwrap();
        let killed: i64 = writer
            .query(Cmd::new("CLIENT").arg("KILL").arg("ID").arg(id))
            .await
            .unwrap();
        assert_eq!(killed, 1, "{backend}");
        writer.execute(Cmd::new("SET").arg("k").arg("new")).await.unwrap();
        // From here on, every read is either an error (while reconnecting) or the new value — never "old".
        let mut saw_new = false;
        for _ in 0..200 {
            match near.get("k").await {
                Ok(v) => {
                    assert_ne!(v.as_deref(), Some("old"), "{backend}: a stale value was served");
                    if v.as_deref() == Some("new") {
                        saw_new = true;
                        break;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
        assert!(saw_new, "{backend}");
        // Tracking is on again on the new connection: a later write is still seen.
        writer
            .execute(Cmd::new("SET").arg("k").arg("newer"))
            .await
            .unwrap();
        until_reads(&near, "k", Some("newer")).await;
        assert!(near.stats().flushes >= 1);
    }
}

#[tokio::test]
async fn broadcast_mode_announces_prefixes_without_reads() {
    let (urls, _real, _mock) = servers().await;
    for (backend, url) in urls {
        let near: NearCache<String> = NearCache::new(
            client(&url).await,
            NearCacheConfig {
                mode: TrackingMode::Broadcast(vec!["user:".into()]),
                ..NearCacheConfig::default()
            },
        )
        .await
        .unwrap();
        let writer = client(&url).await;
        writer
            .execute(Cmd::new("SET").arg("user:1").arg("ada"))
            .await
            .unwrap();
        until_reads(&near, "user:1", Some("ada")).await;
        writer
            .execute(Cmd::new("SET").arg("user:1").arg("bob"))
            .await
            .unwrap();
        until_reads(&near, "user:1", Some("bob")).await;
        assert!(near.stats().invalidations >= 1, "{backend}");
    }
}

#[tokio::test]
async fn the_local_cache_stays_within_its_bound() {
    let (urls, _real, _mock) = servers().await;
    for (backend, url) in urls {
        let near: NearCache<String> = NearCache::new(
            client(&url).await,
            NearCacheConfig {
                capacity: 100,
                ..NearCacheConfig::default()
            },
        )
        .await
        .unwrap();
        let writer = client(&url).await;
        for i in 0..1000 {
            writer
                .execute(Cmd::new("SET").arg(format!("k{i}")).arg(i))
                .await
                .unwrap();
            near.get(&format!("k{i}")).await.unwrap();
        }
        let len = near.local_len();
        assert!(len <= 100, "{backend}: {len} values kept locally");
        assert!(len > 0);
    }
}
