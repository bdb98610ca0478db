//! Cache patterns against a private redis-server and the embedded server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use redkit::{Client, Cmd, Config, Executor, Value};
use redkit_cache::{BoxError, Cache, CacheConfig, Error, LockConfig, WriteBehindConfig};
use redkit_test_support::RedisServer;

/// A client per backend: a private redis-server (when found) and the embedded server over TCP. The servers live
/// as long as the returned guards.
struct Backends {
    clients: Vec<(&'static str, Client)>,
    _real: Option<RedisServer>,
    _mock: redkit_server::TcpServer,
    /// Each backend's URL, for tests that open several clients.
    urls: Vec<(&'static str, String)>,
}

async fn backends() -> Backends {
    let real = RedisServer::start_or_skip();
    let mut clients = Vec::new();
    let real_url = real.as_ref().map(RedisServer::url);
    if let Some(url) = &real_url {
        clients.push((
            "redis-server",
            Client::connect(Config::from_url(url).unwrap()).await.unwrap(),
        ));
    }
    let mock = redkit_server::TcpServer::start().await.unwrap();
    clients.push((
        "embedded server",
        Client::connect(Config::from_url(&mock.url()).unwrap())
            .await
            .unwrap(),
    ));
    let mut urls: Vec<(&'static str, String)> = real_url.into_iter().map(|u| ("redis-server", u)).collect();
    urls.push(("embedded server", mock.url()));
    Backends {
        clients,
        _real: real,
        _mock: mock,
        urls,
    }
}

fn fail(msg: &str) -> BoxError {
    msg.to_owned().into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_misses_load_once() {
    let b = backends().await;
    for (backend, client) in &b.clients {
        let cache = Cache::new(client.clone(), CacheConfig::default());
        let calls = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_load("cold", Duration::from_secs(60), || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, BoxError>(vec![1u8, 2, 3])
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), vec![1, 2, 3]);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{backend}: the loader ran once");
        let s = cache.stats();
        assert_eq!(s.loads, 1, "{backend}: {s:?}");
        assert_eq!(s.hits + s.misses, 100, "{backend}: {s:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_with_the_lock_load_once_and_all_get_the_value() {
    let b = backends().await;
    for (backend, url) in &b.urls {
        let calls = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            // Four separate clients and caches: four "processes".
            let client = Client::connect(Config::from_url(url).unwrap()).await.unwrap();
            let cache = Cache::new(
                client,
                CacheConfig {
                    lock: Some(LockConfig {
                        lease: Duration::from_secs(5),
                        wait: Duration::from_secs(5),
                        poll: Duration::from_millis(10),
                    }),
                    ..CacheConfig::default()
                },
            );
            for _ in 0..25 {
                let cache = cache.clone();
                let calls = calls.clone();
                tasks.push(tokio::spawn(async move {
                    cache
                        .get_or_load("report", Duration::from_secs(60), || async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            Ok::<_, BoxError>("computed".to_owned())
                        })
                        .await
                }));
            }
        }
        for t in tasks {
            assert_eq!(
                t.await.unwrap().unwrap(),
                "computed",
                "{backend}: a loser gets the winner's value"
            );
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "{backend}: one process recomputed"
        );
        // The lock was released (compare-and-delete), not left to expire.
        let client = Client::connect(Config::from_url(url).unwrap()).await.unwrap();
        let exists: i64 = client
            .query(Cmd::new("EXISTS").arg("cache:lock:report"))
            .await
            .unwrap();
        assert_eq!(exists, 0, "{backend}");
    }
}

#[tokio::test]
async fn write_through_changes_the_cache_only_when_the_store_succeeds() {
    let b = backends().await;
    for (backend, client) in &b.clients {
        let cache = Cache::new(client.clone(), CacheConfig::default());
        cache.set("acct", &100u32, Duration::from_secs(60)).await.unwrap();
        let err = cache
            .write_through("acct", &200u32, Duration::from_secs(60), |_| async {
                Err(fail("disk full"))
            })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Store { .. }), "{backend}: {err}");
        assert!(err.to_string().contains("cache unchanged"));
        assert_eq!(
            cache.get::<u32>("acct").await.unwrap(),
            Some(100),
            "{backend}: untouched"
        );
        let stored = Arc::new(AtomicU32::new(0));
        let s = stored.clone();
        cache
            .write_through("acct", &300u32, Duration::from_secs(60), |v| {
                s.store(*v, Ordering::SeqCst);
                async { Ok(()) }
            })
            .await
            .unwrap();
        assert_eq!(stored.load(Ordering::SeqCst), 300);
        assert_eq!(cache.get::<u32>("acct").await.unwrap(), Some(300), "{backend}");
    }
}

#[tokio::test]
async fn tag_and_pattern_invalidation_remove_exactly_their_keys() {
    let b = backends().await;
    for (backend, client) in &b.clients {
        let cache = Cache::new(client.clone(), CacheConfig::default());
        let ttl = Duration::from_secs(60);
        cache
            .set_tagged("user:1", &"ada", ttl, &["users", "team:a"])
            .await
            .unwrap();
        cache.set_tagged("user:2", &"bob", ttl, &["users"]).await.unwrap();
        cache.set_tagged("team:a", &"A", ttl, &["team:a"]).await.unwrap();
        cache.set("other", &"keep", ttl).await.unwrap();
        assert_eq!(cache.invalidate_tag("users").await.unwrap(), 2, "{backend}");
        assert_eq!(cache.get::<String>("user:1").await.unwrap(), None);
        assert_eq!(cache.get::<String>("user:2").await.unwrap(), None);
        assert_eq!(cache.get::<String>("team:a").await.unwrap().as_deref(), Some("A"));
        assert_eq!(
            cache.get::<String>("other").await.unwrap().as_deref(),
            Some("keep")
        );
        // The tag set went with its keys; a tag's TTL follows its members.
        let tag_ttl: i64 = client
            .query(Cmd::new("PTTL").arg("cache:tag:team:a"))
            .await
            .unwrap();
        assert!(tag_ttl > 50_000, "{backend}: {tag_ttl}");
        assert_eq!(cache.invalidate_tag("users").await.unwrap(), 0);

        for i in 0..700 {
            cache.set(&format!("page:{i}"), &i, ttl).await.unwrap();
        }
        assert_eq!(
            cache.invalidate_pattern("page:*").await.unwrap(),
            700,
            "{backend}"
        );
        assert_eq!(
            cache.get::<String>("other").await.unwrap().as_deref(),
            Some("keep")
        );
        assert!(cache.invalidate("other").await.unwrap());
        assert!(!cache.invalidate("other").await.unwrap());
    }
}

#[tokio::test]
async fn negative_caching_and_stale_while_revalidate() {
    let b = backends().await;
    for (backend, client) in &b.clients {
        let cache = Cache::new(
            client.clone(),
            CacheConfig {
                negative_ttl: Some(Duration::from_secs(30)),
                grace: Some(Duration::from_secs(30)),
                ..CacheConfig::default()
            },
        );
        let lookups = Arc::new(AtomicU32::new(0));
        for _ in 0..3 {
            let l = lookups.clone();
            let found = cache
                .get_or_load_optional::<String, _, _>(
                    "missing-user",
                    Duration::from_secs(60),
                    || async move {
                        l.fetch_add(1, Ordering::SeqCst);
                        Ok(None)
                    },
                )
                .await
                .unwrap();
            assert_eq!(found, None);
        }
        assert_eq!(
            lookups.load(Ordering::SeqCst),
            1,
            "{backend}: \"not found\" was cached"
        );
        assert_eq!(cache.stats().negative_hits, 2);

        // A value fresh for 50 ms, then served stale while one background refresh runs.
        let v = cache
            .get_or_load_swr("quote", Duration::from_millis(50), || async {
                Ok::<_, BoxError>(1u32)
            })
            .await
            .unwrap();
        assert_eq!(v, 1);
        tokio::time::sleep(Duration::from_millis(80)).await;
        let refreshed = Arc::new(AtomicU32::new(0));
        let r = refreshed.clone();
        let stale = cache
            .get_or_load_swr("quote", Duration::from_secs(60), || async move {
                r.fetch_add(1, Ordering::SeqCst);
                Ok::<_, BoxError>(2u32)
            })
            .await
            .unwrap();
        assert_eq!(stale, 1, "{backend}: the stale value at once");
        let mut fresh = None;
        for _ in 0..100 {
            fresh = cache.get::<u32>("quote").await.unwrap();
            if fresh == Some(2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(fresh, Some(2), "{backend}: refreshed in the background");
        assert_eq!(refreshed.load(Ordering::SeqCst), 1);
        assert!(cache.stats().stale_served >= 1);
    }
}

#[tokio::test]
async fn write_behind_retries_reports_failures_and_flushes_on_shutdown() {
    let b = backends().await;
    for (backend, client) in &b.clients {
        let cache = Cache::new(client.clone(), CacheConfig::default());
        let stored = Arc::new(std::sync::Mutex::new(Vec::new()));
        let flaky_attempts = Arc::new(AtomicU32::new(0));
        let (s, a) = (stored.clone(), flaky_attempts.clone());
        let (writer, mut failures) = cache.write_behind(
            WriteBehindConfig {
                capacity: 4,
                attempts: 3,
                backoff: Duration::from_millis(5),
                ttl: Duration::from_secs(60),
            },
            move |key: String, value: u32| {
                let (s, a) = (s.clone(), a.clone());
                async move {
                    // "bad" never stores; "flaky" fails twice, then stores on its third (last) attempt.
                    let flaky_failing = key == "flaky" && a.fetch_add(1, Ordering::SeqCst) < 2;
                    if key == "bad" || flaky_failing {
                        return Err(fail("store unavailable"));
                    }
                    s.lock().unwrap().push((key, value));
                    Ok(())
                }
            },
        );
        writer.write("good", 1).await.unwrap();
        assert_eq!(
            cache.get::<u32>("good").await.unwrap(),
            Some(1),
            "{backend}: cached at once"
        );
        writer.write("bad", 2).await.unwrap();
        writer.write("flaky", 3).await.unwrap();
        writer.shutdown().await;
        let stored = stored.lock().unwrap().clone();
        assert!(
            stored.contains(&("good".into(), 1)) && stored.contains(&("flaky".into(), 3)),
            "{stored:?}"
        );
        let failure = failures.try_recv().expect("the failure is reported");
        assert_eq!((failure.key.as_str(), failure.attempts), ("bad", 3));
        assert!(failures.try_recv().is_err());
        assert_eq!(flaky_attempts.load(Ordering::SeqCst), 3, "retried with backoff");
        let s = cache.stats();
        assert_eq!(
            (s.write_behind_written, s.write_behind_failed),
            (2, 1),
            "{backend}: {s:?}"
        );
    }
}

#[tokio::test]
async fn memoize_refresh_touch_and_errors() {
    let b = backends().await;
    for (backend, client) in &b.clients {
        let cache = Cache::new(
            client.clone(),
            CacheConfig {
                jitter: 0.5,
                ..CacheConfig::default()
            },
        );
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let square = cache.memoize("square", Duration::from_secs(60), move |n: i64| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Ok::<_, BoxError>(n * n)
            }
        });
        assert_eq!(square.call(7).await.unwrap(), 49);
        assert_eq!(square.call(7).await.unwrap(), 49);
        assert_eq!(square.call(-3).await.unwrap(), 9);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "{backend}");
        assert!(square.forget(&7).await.unwrap());
        assert_eq!(square.call(7).await.unwrap(), 49);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Jitter: the TTL is between 60 and 90 s.
        let ttl: i64 = client
            .query(Cmd::new("PTTL").arg("cache:square:7"))
            .await
            .unwrap();
        assert!((59_000..=90_000).contains(&ttl), "{backend}: {ttl}");

        // A failing loader caches nothing and says why.
        let err = cache
            .get_or_load::<u32, _, _>("boom", Duration::from_secs(1), || async { Err(fail("db down")) })
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Load { .. }) && err.to_string().contains("db down"),
            "{err}"
        );
        assert_eq!(
            client
                .execute(Cmd::new("EXISTS").arg("cache:boom"))
                .await
                .unwrap(),
            Value::Integer(0)
        );

        assert_eq!(
            cache
                .refresh("r", Duration::from_secs(5), || async { Ok::<_, BoxError>(5u8) })
                .await
                .unwrap(),
            5
        );
        assert!(cache.touch("r", Duration::from_secs(500)).await.unwrap());
        let ttl: i64 = client.query(Cmd::new("PTTL").arg("cache:r")).await.unwrap();
        assert!(ttl > 400_000, "{backend}: {ttl}");
        assert!(!cache.touch("nothing", Duration::from_secs(5)).await.unwrap());
        assert!(matches!(
            cache.set("z", &1, Duration::ZERO).await,
            Err(Error::Invalid(_))
        ));
    }
}
