//! The pool against a private redis-server: sharing under cancellation, dirty connections, restarts, timeouts,
//! min idle and reaping.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use redkit::prelude::*;
use redkit::{Cmd, Config, Executor, Value};
use redkit_pool::{Pool, PoolConfig, PoolError};
use redkit_test_support::RedisServer;

fn config(server: &RedisServer) -> Config {
    Config::from_url(&server.url())
        .unwrap()
        .with_request_timeout(Some(Duration::from_secs(10)))
}

/// Poll `check` every 20 ms for up to 5 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..250 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what}: still not true after 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_share_a_small_pool_through_cancellations() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let pool = Pool::connect(config(&server), PoolConfig::new(4)).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("task:{i}");
            let work = async {
                if i % 3 == 0 {
                    // An exclusive connection and a pipeline.
                    let conn = pool.get().await.unwrap();
                    let replies = conn
                        .execute_pipeline(
                            redkit::Pipeline::new()
                                .with(Cmd::new("SET").arg(&key).arg(i))
                                .with(Cmd::new("GET").arg(&key)),
                        )
                        .await
                        .unwrap();
                    assert_eq!(
                        replies[1],
                        Value::bulk(i.to_string()),
                        "a reply for another request"
                    );
                } else {
                    pool.set(&key, i).await.unwrap();
                    let got: Option<u32> = StringCommands::get(&pool, &key).await.unwrap();
                    assert_eq!(got, Some(i), "a reply for another request");
                }
            };
            // Every fifth task is abandoned part-way, leaving replies owed on its connection.
            if i % 5 == 0 {
                let cut = Duration::from_micros(u64::from(fastrand::u32(0..400)));
                let _ = tokio::time::timeout(cut, work).await;
            } else {
                work.await;
            }
        }));
    }
    let all = async {
        for t in tasks {
            t.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("no deadlock: 200 tasks finish within 60 s");
    let status = pool.status();
    assert!(status.size <= 4, "{status:?}");
    assert_eq!(status.in_use, 0, "every connection came back: {status:?}");
    // The pool still answers correctly after all that.
    pool.set("after", "ok").await.unwrap();
    assert_eq!(
        StringCommands::get::<String>(&pool, "after")
            .await
            .unwrap()
            .as_deref(),
        Some("ok")
    );
}

#[tokio::test]
async fn connections_left_dirty_come_back_clean() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    // One connection, so every `get` sees the previous user's connection (or its replacement).
    let pool = Pool::connect(config(&server), PoolConfig::new(1)).await.unwrap();

    // Left inside MULTI with a queued command.
    let conn = pool.get().await.unwrap();
    conn.execute(Cmd::new("MULTI")).await.unwrap();
    conn.execute(Cmd::new("SET").arg("leak").arg("1")).await.unwrap();
    drop(conn);
    let conn = pool.get().await.unwrap();
    let exec = conn.execute(Cmd::new("EXEC")).await;
    assert!(exec.is_err(), "no MULTI carried over: {exec:?}");
    assert_eq!(conn.get::<String>("leak").await.unwrap(), None);
    drop(conn);

    // Left WATCHing a key that someone else then changes: the next user's transaction must not abort.
    let conn = pool.get().await.unwrap();
    conn.execute(Cmd::new("WATCH").arg("w")).await.unwrap();
    drop(conn);
    let other = redkit::Client::connect(config(&server)).await.unwrap();
    other.set("w", "changed").await.unwrap();
    let conn = pool.get().await.unwrap();
    conn.execute(Cmd::new("MULTI")).await.unwrap();
    conn.execute(Cmd::new("SET").arg("t").arg("1")).await.unwrap();
    let exec = conn.execute(Cmd::new("EXEC")).await.unwrap();
    assert_ne!(exec, Value::Null, "the old WATCH was undone");
    drop(conn);

    // Left on another database.
    let conn = pool.get().await.unwrap();
    conn.execute(Cmd::new("SELECT").arg(5)).await.unwrap();
    conn.set("in5", "x").await.unwrap();
    drop(conn);
    assert_eq!(
        StringCommands::get::<String>(&pool, "in5").await.unwrap(),
        None,
        "back on database 0"
    );

    // Left subscribed, or with tracking on: closed and replaced.
    let discarded = pool.status().discarded;
    let conn = pool.get().await.unwrap();
    // Over RESP3 the confirmation is a push, not a reply: do not wait for one.
    let subscribe = conn.execute(Cmd::new("SUBSCRIBE").arg("ch"));
    let _ = tokio::time::timeout(Duration::from_millis(200), subscribe).await;
    drop(conn);
    assert_eq!(
        pool.execute(Cmd::new("PING")).await.unwrap(),
        Value::simple("PONG")
    );
    let conn = pool.get().await.unwrap();
    conn.execute(Cmd::new("CLIENT").arg("TRACKING").arg("on"))
        .await
        .unwrap();
    drop(conn);
    let conn = pool.get().await.unwrap();
    let info: String = conn
        .query(Cmd::new("CLIENT").arg("TRACKINGINFO"))
        .await
        .map(|v: Value| format!("{v:?}"))
        .unwrap();
    assert!(
        info.contains("off"),
        "tracking is off on the connection handed out: {info}"
    );
    drop(conn);
    assert!(pool.status().discarded >= discarded + 2, "{:?}", pool.status());

    // Left with a reply still owed to a dropped request.
    let conn = pool.get().await.unwrap();
    let blocked = conn.execute(Cmd::new("BLPOP").arg("nothing").arg("0.3"));
    assert!(
        tokio::time::timeout(Duration::from_millis(20), blocked)
            .await
            .is_err()
    );
    drop(conn);
    pool.set("owed", "mine").await.unwrap();
    assert_eq!(
        StringCommands::get::<String>(&pool, "owed")
            .await
            .unwrap()
            .as_deref(),
        Some("mine")
    );
}

#[tokio::test]
async fn recovers_after_the_server_restarts() {
    let Some(mut server) = RedisServer::start_or_skip() else {
        return;
    };
    let pool = Pool::connect(
        config(&server),
        PoolConfig {
            min_idle: 2,
            ..PoolConfig::new(2)
        },
    )
    .await
    .unwrap();
    pool.set("k", "v").await.unwrap();
    server.restart().unwrap();
    // The idle connections are dead; validation finds out and replaces them.
    let mut ok = false;
    for _ in 0..50 {
        if pool.execute(Cmd::new("PING")).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the pool serves again after the restart");
    assert!(pool.status().discarded >= 1, "{:?}", pool.status());
}

#[tokio::test]
async fn acquire_times_out_with_a_clear_error() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let pool = Pool::connect(
        config(&server),
        PoolConfig {
            acquire_timeout: Duration::from_millis(100),
            ..PoolConfig::new(1)
        },
    )
    .await
    .unwrap();
    let held = pool.get().await.unwrap();
    let err = pool.get().await.unwrap_err();
    assert!(
        matches!(err, PoolError::AcquireTimeout { max_size: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("all 1 in use"), "{err}");
    // Through the executor it is a timeout naming what timed out.
    let err = pool.execute(Cmd::new("PING")).await.unwrap_err();
    assert!(err.to_string().contains("acquire a pooled connection"), "{err}");
    drop(held);
    assert_eq!(pool.status().timeouts, 2);
    pool.close();
    assert!(matches!(pool.get().await, Err(PoolError::Closed)));
}

#[tokio::test]
async fn unreachable_server_is_reported_with_its_cause() {
    let port = redkit_test_support::free_port().unwrap();
    let config = Config::from_url(&format!("redis://127.0.0.1:{port}")).unwrap();
    let err = Pool::connect(
        config,
        PoolConfig {
            min_idle: 1,
            ..PoolConfig::new(2)
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, PoolError::Unreachable(_)), "{err}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the cause is kept: {err}"
    );
}

#[tokio::test]
async fn min_idle_is_pre_warmed_and_idle_connections_are_reaped() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let pool = Pool::connect(
        config(&server),
        PoolConfig {
            min_idle: 2,
            idle_timeout: Some(Duration::from_millis(100)),
            maintenance_interval: Duration::from_millis(50),
            ..PoolConfig::new(4)
        },
    )
    .await
    .unwrap();
    let s = pool.status();
    assert_eq!((s.size, s.idle, s.created), (2, 2, 2), "{s:?}");
    let held: Vec<_> = futures_join(&pool, 4).await;
    assert_eq!(pool.status().size, 4);
    drop(held);
    // Beyond min idle, idle connections are closed once idle for 100 ms.
    eventually("reaped back to 2", || pool.status().size == 2).await;
    let s = pool.status();
    assert!(s.discarded >= 2, "{s:?}");
    assert!(s.acquires >= 4 && s.acquire_p99 >= s.acquire_p50, "{s:?}");
}

async fn futures_join(pool: &Pool, n: usize) -> Vec<redkit_pool::PooledConnection> {
    let mut held = Vec::new();
    for _ in 0..n {
        held.push(pool.get().await.unwrap());
    }
    held
}

/// The pool's connections are exclusive: commands the shared client refuses go through, and the connection they
/// leave changed is closed rather than handed out again.
#[tokio::test]
async fn exclusive_connections_take_stateful_commands_and_are_replaced_after() {
    let Some(server) = RedisServer::start_or_skip() else {
        return;
    };
    let run = async {
        let pool = Pool::connect(config(&server), PoolConfig::new(1)).await.unwrap();
        let discarded = pool.status().discarded;

        let conn = pool.get().await.unwrap();
        conn.execute(Cmd::new("CLIENT").arg("SETNAME").arg("renamed"))
            .await
            .unwrap();
        drop(conn);
        let conn = pool.get().await.unwrap();
        assert_eq!(conn.client_getname().await.unwrap(), None, "a fresh connection");
        assert_eq!(
            conn.execute(Cmd::new("RESET")).await.unwrap(),
            Value::simple("RESET")
        );
        drop(conn);

        let conn = pool.get().await.unwrap();
        assert_eq!(
            conn.execute(Cmd::new("MONITOR")).await.unwrap(),
            Value::simple("OK")
        );
        drop(conn);

        // No reply comes to CLIENT REPLY OFF: do not wait for one.
        let conn = pool.get().await.unwrap();
        let off = conn.execute(Cmd::new("CLIENT").arg("REPLY").arg("OFF"));
        let _ = tokio::time::timeout(Duration::from_millis(200), off).await;
        drop(conn);

        let conn = pool.get().await.unwrap();
        conn.execute(Cmd::new("QUIT")).await.unwrap();
        drop(conn);

        assert_eq!(
            pool.execute(Cmd::new("PING")).await.unwrap(),
            Value::simple("PONG")
        );
        eventually("five dirty connections closed", || {
            pool.status().discarded >= discarded + 5
        })
        .await;
    };
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the test body timed out");
}
