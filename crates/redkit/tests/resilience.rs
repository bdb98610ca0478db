//! Cancellation, reconnects, TLS, Unix sockets and fail-fast connects, against real redis-server processes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redkit::prelude::*;
use redkit::{Client, Config, Error, Subscriber, TlsConfig, TlsRoots};
use redkit_test_support::{RedisServer, ServerOptions};

/// Dropping request futures at random points never shifts a reply onto another request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_requests_never_shift_replies() {
    let Some(server) = common::server() else { return };
    for protocol in common::PROTOCOLS {
        let client = Client::connect(common::config(&server, protocol)).await.unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        let completed = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut tasks = Vec::new();
        for task in 0..32u64 {
            let (client, dropped, completed) = (client.clone(), dropped.clone(), completed.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed(task);
                // Bounded: at most 5,000 requests per task, and stop once 10,000 were dropped in all.
                for i in 0..5_000u64 {
                    if dropped.load(Ordering::Relaxed) >= 10_000 || Instant::now() > deadline {
                        break;
                    }
                    let payload = format!("{task}:{i}:{}", "x".repeat(rng.usize(0..64)));
                    let request = client.echo::<String>(payload.clone());
                    let outcome = match rng.u8(0..3) {
                        // Poll once, then drop: the command is queued or written, its reply still to come.
                        0 => {
                            let mut request = request;
                            futures_poll_once(&mut request).await
                        }
                        // A random, tiny deadline: drops at any point of the round trip.
                        1 => tokio::time::timeout(Duration::from_micros(rng.u64(1..300)), request)
                            .await
                            .ok(),
                        _ => Some(request.await),
                    };
                    match outcome {
                        Some(reply) => {
                            assert_eq!(reply.unwrap(), payload, "a reply landed on the wrong request");
                            completed.fetch_add(1, Ordering::Relaxed);
                        }
                        None => {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let (dropped, completed) = (dropped.load(Ordering::Relaxed), completed.load(Ordering::Relaxed));
        assert!(dropped >= 10_000, "only {dropped} requests were dropped");
        assert!(completed > 1_000, "only {completed} requests completed");
        // The connection is still in step afterwards.
        for i in 0..100 {
            assert_eq!(
                client.echo::<String>(format!("after-{i}")).await.unwrap(),
                format!("after-{i}")
            );
        }
    }
}

/// Poll a future once; `None` (and the future dropped by the caller) if it was not ready.
async fn futures_poll_once<F: std::future::Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut *fut).poll(cx) {
        std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// A dedicated connection stays usable after a request on it is dropped mid-flight.
#[tokio::test]
async fn dedicated_connection_survives_dropped_requests() {
    let Some(server) = common::server() else { return };
    let client = Client::connect(common::config(&server, redkit::RespVersion::Resp3))
        .await
        .unwrap();
    let d = client.dedicated().await.unwrap();
    for i in 0..200 {
        let slow = d.execute(redkit::Cmd::new("ECHO").arg(format!("dropped-{i}")));
        let _ = tokio::time::timeout(Duration::from_micros(50), slow).await;
        assert_eq!(
            d.echo::<String>(format!("kept-{i}")).await.unwrap(),
            format!("kept-{i}")
        );
    }
}

/// Ping until the client answers again, bounded (100 tries, 50 ms apart).
async fn recovers(client: &Client) {
    for _ in 0..100 {
        if client.ping().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the client did not recover within 5 s");
}

/// With `queue_while_disconnected` off, requests made while the connection is down fail at once, unsent, with
/// `NotConnected` — and work again once the server is back.
#[tokio::test]
async fn requests_fail_unsent_while_down_when_not_queued() {
    let Some(mut server) = common::server() else {
        return;
    };
    let mut config = common::config(&server, redkit::RespVersion::Resp3);
    config.queue_while_disconnected = false;
    let client = Client::connect(config).await.unwrap();
    client.set("k", "v").await.unwrap();
    server.kill();
    let mut epoch = client.connection_epoch();
    tokio::time::timeout(Duration::from_secs(5), epoch.wait_for(|e| e % 2 == 1))
        .await
        .unwrap()
        .unwrap();
    let started = Instant::now();
    let err = client.get::<String>("k").await.unwrap_err();
    assert!(
        matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotConnected),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "not held until a timeout"
    );
    server.restart().unwrap();
    recovers(&client).await;
}

/// The server dies mid-request: in-flight requests fail clearly, later ones succeed after it is back, and
/// subscriptions are restored.
#[tokio::test]
async fn reconnects_after_the_server_restarts() {
    let Some(mut server) = common::server() else {
        return;
    };
    let config = common::config(&server, redkit::RespVersion::Resp3);
    let client = Client::connect(config.clone()).await.unwrap();
    let mut sub = Subscriber::connect(config).await.unwrap();
    sub.subscribe("events").await.unwrap();
    client.set("k", "v").await.unwrap();

    // A request in flight when the server dies.
    let in_flight = {
        let c = client.clone();
        // A script that keeps the server busy for a second (DEBUG SLEEP is disabled by default since Redis 7).
        let busy = "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] \
                    repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s > 1000000 return 1";
        tokio::spawn(async move { c.execute(redkit::Cmd::new("EVAL").arg(busy).arg(0)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.kill();
    let err = in_flight.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    assert_eq!(err.command(), Some("EVAL"));

    // While it is down, requests fail (bounded by their timeout) rather than hang forever.
    let down = client
        .execute_timeout(redkit::Cmd::new("PING"), Some(Duration::from_millis(200)))
        .await;
    assert!(down.is_err());

    server.restart().unwrap();
    recovers(&client).await;
    assert_eq!(
        client.get::<String>("k").await.unwrap(),
        None,
        "a fresh server (no persistence)"
    );
    client.set("k", "again").await.unwrap();

    // The subscriber reconnects and subscribes again; publish until a message arrives (bounded).
    let mut got = None;
    for i in 0..100 {
        let receivers = client
            .publish("events", format!("after-restart-{i}"))
            .await
            .unwrap();
        if receivers > 0 {
            got = tokio::time::timeout(Duration::from_secs(5), sub.next_message())
                .await
                .ok()
                .flatten();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let message = got.expect("the subscription was restored after the restart");
    assert!(message.payload_str().unwrap().starts_with("after-restart-"));
}

#[tokio::test]
async fn tls_with_a_custom_ca_and_with_verification_off() {
    let options = ServerOptions {
        tls: true,
        ..ServerOptions::default()
    };
    let Some(server) = RedisServer::with_or_skip(options) else {
        return;
    };
    let files = server.tls_files().unwrap().clone();
    let ca = std::fs::read(&files.ca_cert).unwrap();
    for protocol in common::PROTOCOLS {
        let config = Config::from_url(&server.url())
            .unwrap()
            .with_protocol(protocol)
            .with_tls(TlsConfig {
                roots: TlsRoots::Custom(ca.clone()),
                ..TlsConfig::default()
            });
        let c = Client::connect(config).await.unwrap();
        c.set("secure", "yes").await.unwrap();
        assert_eq!(c.get::<String>("secure").await.unwrap().as_deref(), Some("yes"));
    }
    let insecure = format!("{}?danger_accept_invalid_certs=true", server.url());
    let c = Client::open(&insecure).await.unwrap();
    assert_eq!(c.ping().await.unwrap(), "PONG");

    // The system's roots do not know the test CA: refused, quickly.
    let started = Instant::now();
    let mut config = Config::from_url(&server.url()).unwrap();
    config.tls = Some(TlsConfig {
        roots: TlsRoots::Custom(std::fs::read(&files.cert).unwrap()),
        ..TlsConfig::default()
    });
    let err = Client::connect(config).await.unwrap_err();
    assert!(err.to_string().contains("TLS handshake"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[cfg(unix)]
#[tokio::test]
async fn unix_socket_connections() {
    let options = ServerOptions {
        unix_socket: true,
        ..ServerOptions::default()
    };
    let Some(server) = RedisServer::with_or_skip(options) else {
        return;
    };
    let path = server.unix_socket().unwrap();
    for protocol in common::PROTOCOLS {
        let url = format!("unix://{}?db=2", path.display());
        let c = Client::connect(Config::from_url(&url).unwrap().with_protocol(protocol))
            .await
            .unwrap();
        c.set("over-unix", 1).await.unwrap();
        assert_eq!(c.incr("over-unix").await.unwrap(), 2);
        assert!(c.client_info().await.unwrap().contains("db=2"));
    }
}

#[tokio::test]
async fn wrong_password_fails_fast_with_wrongpass() {
    let options = ServerOptions {
        password: Some("right".into()),
        ..ServerOptions::default()
    };
    let Some(server) = RedisServer::with_or_skip(options) else {
        return;
    };
    for protocol in common::PROTOCOLS {
        let started = Instant::now();
        let url = format!("redis://:wrong@127.0.0.1:{}", server.port());
        let err = Client::connect(Config::from_url(&url).unwrap().with_protocol(protocol))
            .await
            .unwrap_err();
        assert_eq!(err.server_kind(), Some(&redkit::ErrorKind::WrongPass), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // No password at all: the server says authentication is required.
        let url = format!("redis://127.0.0.1:{}", server.port());
        let c = Client::connect(Config::from_url(&url).unwrap().with_protocol(protocol)).await;
        match c {
            Err(e) => assert_eq!(e.server_kind(), Some(&redkit::ErrorKind::NoAuth), "{e}"),
            // RESP2 without credentials connects; the first command is refused.
            Ok(c) => assert_eq!(
                c.ping().await.unwrap_err().server_kind(),
                Some(&redkit::ErrorKind::NoAuth)
            ),
        }
    }
}

#[tokio::test]
async fn tls_to_a_plain_server_fails_fast() {
    let Some(server) = common::server() else { return };
    let started = Instant::now();
    // A plain server waits for the end of a line that a TLS ClientHello never sends, so it is the connect
    // timeout, which covers the handshake, that ends the attempt, with an error that says what was tried.
    let url = format!(
        "rediss://127.0.0.1:{}?danger_accept_invalid_certs=true&connect_timeout=500ms",
        server.port()
    );
    let err = Client::open(&url).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}: {err}",
        started.elapsed()
    );
    assert!(err.is_timeout() || err.is_connection_error(), "{err:?}");
    assert!(err.to_string().contains("TLS"), "{err}");
}

#[tokio::test]
async fn unreachable_and_silent_servers_fail_fast() {
    // Nothing listens: refused at once.
    let port = redkit_test_support::free_port().unwrap();
    let err = Client::open(&format!("redis://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("connecting to 127.0.0.1"), "{err}");

    // Something accepts but never answers: the connect timeout covers the handshake.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut sink = [0u8; 256];
        let _ = socket.set_read_timeout(Some(Duration::from_millis(100)));
        // Read and ignore until the client gives up (bounded: 3 s).
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            if let Ok(0) = socket.read(&mut sink) {
                break;
            }
        }
    });
    let started = Instant::now();
    let err = Client::open(&format!("redis://127.0.0.1:{port}?connect_timeout=300ms"))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    silent.join().unwrap();
}

/// A request that outlives its deadline fails with a timeout naming it; its late reply is discarded, and the
/// connection stays in step.
#[tokio::test]
async fn request_timeouts_keep_the_connection_in_step() {
    let Some(server) = common::server() else { return };
    for protocol in common::PROTOCOLS {
        let client = Client::connect(common::config(&server, protocol)).await.unwrap();
        let busy = "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] \
                    repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - s > 300000 return 'late'";
        let slow = client.execute_timeout(
            redkit::Cmd::new("EVAL").arg(busy).arg(0),
            Some(Duration::from_millis(50)),
        );
        // Queued behind the slow script, with its own short deadline.
        let behind = client.execute_timeout(redkit::Cmd::new("PING"), Some(Duration::from_millis(100)));
        let (slow, behind) = tokio::join!(slow, behind);
        let err = slow.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(err.command(), Some("EVAL"));
        assert_eq!(err.to_string(), "EVAL: timed out after 50ms");
        assert!(behind.unwrap_err().is_timeout());
        // After the script ends, every reply goes to its own request.
        for i in 0..50 {
            assert_eq!(
                client.echo::<String>(format!("n{i}")).await.unwrap(),
                format!("n{i}")
            );
        }
    }
}
