//! A client, a pool and the instrumentation layer composed, with the figures served at `/metrics`.
//!
//! ```text
//! cargo run --example metrics_server             # one workload, one scrape printed, then exit
//! cargo run --example metrics_server -- --serve  # keep serving http://127.0.0.1:9464/metrics
//! ```
//!
//! Uses `REDIS_URL` when set, else an embedded server. The HTTP side is deliberately tiny (one request per
//! connection, `GET /metrics` only): in a real service, hang `Metrics::prometheus_text` on your web framework.

use std::time::Duration;

use redkit::prelude::*;
use redkit::{Client, Config};
use redkit_observe::{Instrumented, Metrics, PoolFigures};
use redkit_pool::{Pool, PoolConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Answer one HTTP request on `stream`: the metrics for `GET /metrics`, 404 otherwise.
async fn answer(mut stream: tokio::net::TcpStream, metrics: Metrics) -> Result<(), Error> {
    let mut request = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut request)).await??;
    let head = String::from_utf8_lossy(&request[..n]);
    let (status, body) = if head.starts_with("GET /metrics ") {
        ("200 OK", metrics.prometheus_text())
    } else {
        ("404 Not Found", "not found\n".to_owned())
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    Ok(())
}

async fn scrape(addr: std::net::SocketAddr) -> Result<String, Error> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let serve = std::env::args().any(|a| a == "--serve");
    // A server: REDIS_URL, or the embedded one.
    let embedded;
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            embedded = redkit_server::TcpServer::start().await?;
            embedded.url()
        }
    };
    let config = Config::from_url(&url)?;

    // One `Metrics` for both the multiplexed client and the pool; the pool's gauges beside them.
    let metrics = Metrics::default();
    let client = Instrumented::new(Client::connect(config.clone()).await?, metrics.clone());
    let pool = Pool::connect(config, PoolConfig::new(4)).await?;
    let observed = pool.clone();
    metrics.observe_pool("main", move || {
        let s = observed.status();
        PoolFigures {
            max_size: s.max_size as u64,
            idle: s.idle as u64,
            in_use: s.in_use as u64,
            waiters: s.waiters as u64,
            created: s.created,
            recycled: s.recycled,
            discarded: s.discarded,
            timeouts: s.timeouts,
        }
    })?;
    let pooled = Instrumented::new(pool, metrics.clone());

    // Some traffic.
    for i in 0..100 {
        client.set(format!("user:{i}"), i).await?;
        let _: Option<i64> = client.get(format!("user:{i}")).await?;
    }
    pooled.incr("visits").await?;
    let _ = client.hget::<String>("user:1", "name").await; // WRONGTYPE: counted as such

    let listener = TcpListener::bind(if serve { "127.0.0.1:9464" } else { "127.0.0.1:0" }).await?;
    let addr = listener.local_addr()?;
    let served = metrics.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let metrics = served.clone();
            tokio::spawn(async move {
                if let Err(e) = answer(stream, metrics).await {
                    eprintln!("metrics request failed: {e}");
                }
            });
        }
    });

    if serve {
        println!("serving http://{addr}/metrics — Ctrl-C to stop");
        tokio::signal::ctrl_c().await?;
    } else {
        let response = scrape(addr).await?;
        for line in response
            .lines()
            .filter(|l| l.starts_with("redkit_commands_total") || l.starts_with("redkit_pool_connections{"))
        {
            println!("{line}");
        }
        println!("{}", summary(&metrics));
    }
    Ok(())
}

/// A one-line summary from the snapshot (the snapshot also serializes with serde, e.g. to JSON).
fn summary(metrics: &Metrics) -> String {
    let s = metrics.snapshot();
    let get = &s.commands["GET"];
    format!(
        "GET: {} calls, p50 {} µs, p99 {} µs; {} bytes written, {} read",
        get.count, get.p50_us, get.p99_us, s.bytes_written, s.bytes_read
    )
}
