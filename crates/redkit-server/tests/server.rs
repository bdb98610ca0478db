//! The TCP server: hostile input never crashes or hangs it; inline commands, pipelining, stock Redis tools, and the
//! in-process executor with redkit's typed commands.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use redkit::prelude::*;
use redkit_server::{Mock, ServerConfig, TcpServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Send `input`, then read until the server closes or `wait` passes; the bytes it answered.
async fn exchange(server: &TcpServer, input: &[u8], wait: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let _ = stream.write_all(input).await;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

async fn alive(server: &TcpServer) {
    let reply = exchange(server, b"PING\r\n", Duration::from_millis(200)).await;
    assert_eq!(reply, b"+PONG\r\n", "the server still answers");
}

#[tokio::test]
async fn protocol_errors_close_the_connection_with_redis_messages() {
    let server = TcpServer::start().await.unwrap();
    let cases: &[(&[u8], &str)] = &[
        (
            b"*99999999999\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$99999999999\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (b"*1\r\n:5\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"),
        (
            b"SET a \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, expected) in cases {
        let reply = exchange(&server, input, Duration::from_secs(2)).await;
        assert_eq!(
            String::from_utf8_lossy(&reply),
            *expected,
            "for {:?}",
            String::from_utf8_lossy(input)
        );
    }
    let long_line = vec![b'a'; 70 * 1024];
    let reply = exchange(&server, &long_line, Duration::from_secs(2)).await;
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "-ERR Protocol error: too big inline request\r\n"
    );
    alive(&server).await;
}

#[tokio::test]
async fn random_bytes_never_crash_or_hang_the_server() {
    let server = TcpServer::start().await.unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..200 {
        let len = rng.usize(0..512);
        let mut input: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        // Half the time, make it look like RESP so the parser goes deeper.
        if rng.bool() {
            input.insert(0, b'*');
        }
        let _ = exchange(&server, &input, Duration::from_millis(50)).await;
    }
    // Truncated frames, then the client goes away.
    for input in [
        &b"*3\r\n$3\r\nSET\r\n$1\r\n"[..],
        b"*2\r\n$4\r\nECHO\r\n$10\r\nabc",
        b"*",
    ] {
        let _ = exchange(&server, input, Duration::from_millis(50)).await;
    }
    alive(&server).await;
}

#[tokio::test]
async fn inline_and_pipelined_commands() {
    let server = TcpServer::start().await.unwrap();
    let reply = exchange(
        &server,
        b"SET a \"b c\"\r\nGET a\r\n\r\nPING x\r\nQUIT\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "+OK\r\n$3\r\nb c\r\n$1\r\nx\r\n+OK\r\n"
    );
    let reply = exchange(
        &server,
        b"*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&reply), "+PONG\r\n$2\r\nhi\r\n");
}

#[tokio::test]
async fn requirepass_is_enforced() {
    let server = TcpServer::start_with(ServerConfig::with_password("pw"), "127.0.0.1:0")
        .await
        .unwrap();
    let reply = exchange(
        &server,
        b"GET a\r\nAUTH wrong\r\nAUTH pw\r\nGET a\r\n",
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n$-1\r\n"
    );
    let url = format!("redis://:pw@{}", server.addr());
    let client = redkit::Client::open(&url).await.unwrap();
    assert_eq!(client.ping().await.unwrap(), "PONG");
    assert!(
        redkit::Client::open(&format!("redis://:bad@{}", server.addr()))
            .await
            .is_err()
    );
}

/// The tools run as child processes on blocking threads: the server's tasks keep the runtime's workers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_redis_tools_work_against_it() {
    let server = TcpServer::start().await.unwrap();
    let port = server.addr().port().to_string();
    let cli = |args: &[&str]| {
        let mut cmd = std::process::Command::new("timeout");
        cmd.args(["20", "redis-cli", "-p", &port]).args(args);
        tokio::task::spawn_blocking(move || cmd.output())
    };
    let out = match cli(&["SET", "tool", "works"]).await.unwrap() {
        Ok(out) if out.status.code() != Some(127) => out,
        _ => {
            assert!(
                !redkit_test_support::in_ci(),
                "redis-cli is required in CI but was not found"
            );
            eprintln!("skipping: redis-cli not installed");
            return;
        }
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK");
    let out = cli(&["GET", "tool"]).await.unwrap().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "works");
    let bench = tokio::task::spawn_blocking(move || {
        std::process::Command::new("timeout")
            .args([
                "60",
                "redis-benchmark",
                "-p",
                &port,
                "-t",
                "set,get,incr,lpush,rpop,sadd,hset",
                "-n",
                "2000",
                "-c",
                "8",
                "-q",
            ])
            .output()
    })
    .await
    .unwrap();
    if let Ok(out) = bench {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        for test in ["SET", "GET", "INCR", "LPUSH", "RPOP", "SADD", "HSET"] {
            assert!(
                text.contains(&format!("{test}:")),
                "redis-benchmark ran {test}: {text}"
            );
        }
    }
}

#[tokio::test]
async fn the_typed_client_api_runs_in_process() {
    let mock = Mock::new();
    mock.set("n", 1).await.unwrap();
    assert_eq!(mock.incr_by("n", 41).await.unwrap(), 42);
    assert_eq!(mock.get::<String>("missing").await.unwrap(), None);
    mock.hset("h", [("a", "1"), ("b", "2")]).await.unwrap();
    let all: std::collections::BTreeMap<String, i64> = mock.hgetall("h").await.unwrap();
    assert_eq!(all.len(), 2);
    let pipe = TypedPipeline::new();
    pipe.rpush("l", ["x", "y"]).lrange::<String>("l", 0, -1);
    let (len, items): (i64, Vec<String>) = pipe.query(&mock).await.unwrap();
    assert_eq!((len, items), (2, vec!["x".to_owned(), "y".to_owned()]));
    let err = mock.lpush("n", "x").await.unwrap_err();
    assert_eq!(err.server_kind(), Some(&redkit::ErrorKind::WrongType));
    // The virtual clock expires keys without sleeping.
    mock.set_with("s", "v", redkit::SetOptions::new().ttl(Duration::from_secs(30)))
        .await
        .unwrap();
    mock.clock().advance(Duration::from_secs(31));
    assert_eq!(mock.get::<String>("s").await.unwrap(), None);
}

/// Blocked clients wake on pushes from other clients, oldest first, and time out with a null reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_clients_wake_in_arrival_order() {
    let server = TcpServer::start().await.unwrap();
    let url = server.url();
    let open = || redkit::Client::open(&url);
    let (a, b, pusher) = (
        open().await.unwrap(),
        open().await.unwrap(),
        open().await.unwrap(),
    );
    let first = tokio::spawn(async move { a.blpop::<String>("q", Some(Duration::from_secs(5))).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = tokio::spawn(async move { b.blpop::<String>("q", Some(Duration::from_secs(5))).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    pusher.rpush("q", "one").await.unwrap();
    assert_eq!(
        first.await.unwrap().unwrap(),
        Some(("q".to_owned(), "one".to_owned()))
    );
    pusher.rpush("q", "two").await.unwrap();
    assert_eq!(
        second.await.unwrap().unwrap(),
        Some(("q".to_owned(), "two".to_owned()))
    );
    // A push inside MULTI/EXEC wakes a blocked client too.
    let c = open().await.unwrap();
    let waiter = tokio::spawn(async move { c.bzpopmax::<String>("z", Some(Duration::from_secs(5))).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pipe = TypedPipeline::new().atomic();
    pipe.zadd("z", redkit::ZAddOptions::new(), [(1.0, "low"), (9.0, "high")]);
    pipe.execute(&pusher).await.unwrap();
    assert_eq!(
        waiter.await.unwrap().unwrap(),
        Some(("z".to_owned(), "high".to_owned(), 9.0))
    );
    // Timeout: null, after about the timeout.
    let started = std::time::Instant::now();
    assert_eq!(
        pusher
            .brpop::<String>("empty", Some(Duration::from_millis(100)))
            .await
            .unwrap(),
        None
    );
    assert!(started.elapsed() >= Duration::from_millis(90));
    // In process, too.
    let mock = std::sync::Arc::new(Mock::new());
    let m = mock.clone();
    let waiter = tokio::spawn(async move {
        m.blmove::<String>(
            "src",
            "dst",
            redkit::Side::Left,
            redkit::Side::Right,
            Some(Duration::from_secs(5)),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    mock.lpush("src", "moved").await.unwrap();
    assert_eq!(waiter.await.unwrap().unwrap().as_deref(), Some("moved"));
    assert_eq!(mock.lrange::<String>("dst", 0, -1).await.unwrap(), ["moved"]);
}

/// What a pub/sub session observes, to compare the embedded server with redis-server.
async fn pubsub_observations(url: &str, protocol: redkit::RespVersion) -> Vec<String> {
    use redkit::{Config, Subscriber};
    let config = Config::from_url(url).unwrap().with_protocol(protocol);
    let client = redkit::Client::connect(config.clone()).await.unwrap();
    let mut sub = Subscriber::connect(config).await.unwrap();
    sub.subscribe(["news", "sport"]).await.unwrap();
    sub.psubscribe("weather.*").await.unwrap();
    sub.ssubscribe("shard-1").await.unwrap();
    let mut seen = Vec::new();
    seen.push(format!(
        "publish news: {}",
        client.publish("news", "hello").await.unwrap()
    ));
    seen.push(format!(
        "publish weather.rome: {}",
        client.publish("weather.rome", "sunny").await.unwrap()
    ));
    seen.push(format!(
        "spublish: {}",
        client.spublish("shard-1", "s").await.unwrap()
    ));
    seen.push(format!(
        "publish nobody: {}",
        client.publish("nobody", "x").await.unwrap()
    ));
    for _ in 0..3 {
        let m = tokio::time::timeout(Duration::from_secs(5), sub.next_message())
            .await
            .unwrap()
            .unwrap();
        seen.push(format!(
            "{:?} {:?} {:?} {:?}",
            m.kind, m.pattern, m.channel, m.payload
        ));
    }
    // Redis lists channels in hash-table order: compare them sorted.
    let mut channels = client.pubsub_channels::<String>(None).await.unwrap();
    channels.sort();
    seen.push(format!("channels: {channels:?}"));
    seen.push(format!(
        "numsub: {:?}",
        client.pubsub_numsub::<String>(["news", "nobody"]).await.unwrap()
    ));
    seen.push(format!("numpat: {}", client.pubsub_numpat().await.unwrap()));
    seen.push(format!(
        "shardchannels: {:?}",
        client
            .pubsub_shardchannels::<String>(Some("shard-*"))
            .await
            .unwrap()
    ));
    sub.unsubscribe("news").await.unwrap();
    sub.punsubscribe("weather.*").await.unwrap();
    seen.push(format!(
        "after unsubscribe: {}",
        client.publish("news", "gone").await.unwrap()
    ));
    seen.push(format!(
        "still sport: {}",
        client.publish("sport", "goal").await.unwrap()
    ));
    let m = tokio::time::timeout(Duration::from_secs(5), sub.next_message())
        .await
        .unwrap()
        .unwrap();
    seen.push(format!("{:?} {:?}", m.channel, m.payload));
    // RESP2 subscribed mode refuses other commands, with Redis's message.
    let mut raw = redkit::Connection::connect(
        &redkit::Config::from_url(url)
            .unwrap()
            .with_protocol(redkit::RespVersion::Resp2),
    )
    .await
    .unwrap();
    let mut p = redkit::Pipeline::new();
    p.add(redkit::Cmd::new("SUBSCRIBE").arg("c1"));
    p.add(redkit::Cmd::new("GET").arg("k"));
    p.add(redkit::Cmd::new("PING"));
    seen.push(format!(
        "subscribed mode: {:?}",
        raw.send_pipeline(&p).await.unwrap()
    ));
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_behaves_like_redis() {
    let Some(real) = redkit_test_support::RedisServer::start_or_skip() else {
        return;
    };
    let mock = TcpServer::start().await.unwrap();
    for protocol in [redkit::RespVersion::Resp2, redkit::RespVersion::Resp3] {
        let expected = pubsub_observations(&real.url(), protocol).await;
        let got = pubsub_observations(&mock.url(), protocol).await;
        assert_eq!(got, expected, "{protocol:?}");
    }
}
