//! Client-side caching: the invalidations `CLIENT TRACKING` sends (default, `NOLOOP`, `BCAST`, `OPTIN`,
//! `REDIRECT`), compared frame by frame over raw connections.

use crate::harness::*;

/// One connection's script: commands sent in order, then everything it received, frame by frame.
async fn frames(addr: std::net::SocketAddr, script: &[(usize, &str)]) -> Vec<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push((
            tokio::net::TcpStream::connect(addr).await.unwrap(),
            bytes::BytesMut::new(),
        ));
    }
    // Client ids differ between servers: `$0`..`$2` in a command stand for connection n's id.
    let mut client_ids: Vec<i64> = Vec::new();
    let mut log = Vec::new();
    for (n, line) in [(0usize, "CLIENT ID"), (1, "CLIENT ID"), (2, "CLIENT ID")]
        .into_iter()
        .chain(script.iter().copied())
    {
        let mut text = line.to_owned();
        for (i, id) in client_ids.iter().enumerate() {
            text = text.replace(&format!("${i}"), &id.to_string());
        }
        let args: Vec<&str> = text.split(' ').collect();
        let mut request = bytes::BytesMut::new();
        redkit_resp::encode_value(
            &Value::Array(args.iter().map(|a| Value::bulk(a.to_string())).collect()),
            RespVersion::Resp2,
            &mut request,
        );
        let (stream, buf) = &mut conns[n];
        stream.write_all(&request).await.unwrap();
        // Read frames until the reply (not a push) arrives; pushes before it are recorded too.
        let limits = redkit_resp::Limits::default();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            match redkit_resp::decode(buf, RespVersion::Resp3, &limits).unwrap() {
                Some(Value::Push(items)) => {
                    log.push(format!("conn {n} push {}", canonical(&Value::Push(items))))
                }
                Some(Value::Array(items)) if matches!(items.first(), Some(Value::BulkString(b)) if b.as_ref() == b"message") =>
                {
                    log.push(format!("conn {n} message {}", canonical(&Value::Array(items))));
                }
                Some(reply) => {
                    if client_ids.len() < 3 {
                        if let Value::Integer(id) = reply {
                            client_ids.push(id);
                        }
                    } else if text.starts_with("HELLO") {
                        // HELLO's reply carries the client id, which differs between servers.
                        log.push(format!("conn {n} `{line}` -> {}", shape(&reply)));
                    } else {
                        let mut text = canonical(&reply);
                        // CLIENT GETREDIR answers a client id.
                        if line.starts_with("CLIENT GETREDIR") {
                            for (i, id) in client_ids.iter().enumerate() {
                                text = text.replace(&format!("Integer({id})"), &format!("Integer(${i})"));
                            }
                        }
                        log.push(format!("conn {n} `{line}` -> {text}"));
                    }
                    break;
                }
                None => {
                    let read = tokio::time::timeout_at(deadline, stream.read_buf(buf)).await;
                    assert!(matches!(read, Ok(Ok(n)) if n > 0), "`{text}` got no reply");
                }
            }
        }
    }
    log
}

#[tokio::test]
async fn client_tracking_invalidations_agree_with_redis() {
    let Some((real, mock)) = servers().await else {
        return;
    };
    let real_addr: std::net::SocketAddr = real.url().trim_start_matches("redis://").parse().unwrap();
    let scripts: &[&[(usize, &str)]] = &[
        // Default mode over RESP3: one invalidation per read key, then forgotten until read again.
        &[
            (0, "HELLO 3"),
            (0, "CLIENT TRACKING on"),
            (0, "GET k"),
            (0, "MGET a b"),
            (1, "SET k 1"),
            (0, "PING"),
            (1, "SET k 2"),
            (0, "PING"),
            (0, "GET k"),
            (1, "DEL k"),
            (1, "MSET a 1 b 2"),
            (0, "PING"),
            (0, "GET a"),
            (1, "FLUSHALL"),
            (0, "PING"),
            (0, "CLIENT TRACKING off"),
            (0, "GET k"),
            (1, "SET k 3"),
            (0, "PING"),
        ],
        // A client's own writes: invalidated, unless NOLOOP.
        &[
            (0, "HELLO 3"),
            (0, "CLIENT TRACKING on"),
            (0, "GET x"),
            (0, "SET x 1"),
            (0, "PING"),
            (0, "CLIENT TRACKING off"),
            (0, "CLIENT TRACKING on NOLOOP"),
            (0, "GET x"),
            (0, "SET x 2"),
            (0, "PING"),
            (1, "SET x 3"),
            (0, "PING"),
        ],
        // BCAST with prefixes: every matching write, no reads needed.
        &[
            (0, "HELLO 3"),
            (0, "CLIENT TRACKING on BCAST PREFIX user: PREFIX job:"),
            (1, "SET user:1 a"),
            (0, "PING"),
            (1, "SET other 1"),
            (0, "PING"),
            (1, "MSET job:1 x job:2 y"),
            (0, "PING"),
            (1, "HSET user:2 f v"),
            (1, "EXPIRE user:2 0"),
            (0, "PING"),
        ],
        // OPTIN: only keys read right after CLIENT CACHING yes are tracked.
        &[
            (0, "HELLO 3"),
            (0, "CLIENT TRACKING on OPTIN"),
            (0, "GET a"),
            (0, "CLIENT CACHING yes"),
            (0, "GET b"),
            (1, "SET a 1"),
            (1, "SET b 1"),
            (0, "PING"),
        ],
        // REDIRECT to a RESP2 subscriber of __redis__:invalidate.
        &[
            (2, "SUBSCRIBE __redis__:invalidate"),
            (0, "CLIENT TRACKING on REDIRECT $2"),
            (0, "GET r"),
            (1, "SET r 1"),
            (2, "PING"),
            (0, "CLIENT GETREDIR"),
            (1, "FLUSHDB"),
            (2, "PING"),
        ],
    ];
    for script in scripts {
        let expected = frames(real_addr, script).await;
        let got = frames(mock.addr(), script).await;
        assert_eq!(expected, got, "script {script:?}");
        // Each script starts from empty servers.
        let _ = frames(real_addr, &[(0, "FLUSHALL")]).await;
        let _ = frames(mock.addr(), &[(0, "FLUSHALL")]).await;
    }
}
