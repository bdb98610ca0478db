//! Quickstart: the protocol core on its own, then the client, a typed key and a memoized call — against
//! `REDIS_URL` when it is set, otherwise against the embedded server (`redkit-server`), started in process on a free
//! loopback port.
//!
//! ```sh
//! cargo run --example quickstart                                   # embedded server
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example quickstart  # a real server
//! ```

use std::time::Duration;

use bytes::BytesMut;
use redkit::prelude::*;
use redkit::{Client, Config, SetOptions};
use redkit_cache::{Cache, CacheConfig};
use redkit_resp::{Error, FromValue, Pipeline, RespCodec, RespVersion, encode_value};
use redkit_typed::Namespace;
use tokio_util::codec::{Decoder, Encoder};

/// Any error of the tour.
type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    protocol_tour()?;
    match std::env::var("REDIS_URL") {
        Ok(url) => client_tour(&url).await,
        Err(_) => {
            let embedded = redkit_server::TcpServer::start().await?;
            println!(
                "\nREDIS_URL is not set: using the embedded server at {}",
                embedded.url()
            );
            client_tour(&embedded.url()).await
        }
    }
}

/// Encode a pipeline as a client would, decode a server's replies, convert them to Rust types.
fn protocol_tour() -> Result<(), Error> {
    let pipeline = Pipeline::new()
        .with(
            Cmd::new("SET")
                .arg("greeting")
                .arg("hello, redkit")
                .arg("EX")
                .arg(60),
        )
        .with(Cmd::new("INCRBY").arg("visits").arg(3))
        .with(Cmd::new("GET").arg("greeting"))
        .with(Cmd::new("GET").arg("missing"));
    let mut codec = RespCodec::new(RespVersion::Resp3);
    let mut wire = BytesMut::new();
    codec.encode(&pipeline, &mut wire)?;
    println!(
        "pipeline of {} commands, {} bytes on the wire:",
        pipeline.len(),
        wire.len()
    );
    for cmd in pipeline.cmds() {
        println!("  {cmd:?}");
    }

    // What a Redis 7 server answers over RESP3.
    let replies = [
        Value::simple("OK"),
        Value::Integer(3),
        Value::bulk("hello, redkit"),
        Value::Null,
    ];
    let mut incoming = BytesMut::new();
    for reply in &replies {
        encode_value(reply, RespVersion::Resp3, &mut incoming);
    }
    let mut decoded = Vec::new();
    while let Some(value) = codec.decode(&mut incoming)? {
        decoded.push(value);
    }
    println!("replies decode to {decoded:?}");
    let typed: ((), i64, Option<String>, Option<String>) = FromValue::from_value(Value::Array(decoded))?;
    println!("typed: {typed:?}");
    Ok(())
}

/// The same, through the client against a real server.
async fn client_tour(url: &str) -> Result<(), AnyError> {
    let client = Client::connect(Config::from_url(url)?).await?;
    println!("\nconnected to {url}");
    let key = "redkit:quickstart:greeting";
    client
        .set_with(
            key,
            "hello, redkit",
            SetOptions::new().ttl(Duration::from_secs(60)),
        )
        .await?;
    let greeting: Option<String> = client.get(key).await?;
    let ttl = client.pttl(key).await?;
    println!("GET {key} = {greeting:?}, expires: {ttl:?}");

    let pipe = TypedPipeline::new();
    pipe.incr("redkit:quickstart:visits")
        .get::<String>("redkit:quickstart:missing");
    let (visits, missing): (i64, Option<String>) = pipe.query(&client).await?;
    println!("visits = {visits}, missing = {missing:?}");
    client.del([key, "redkit:quickstart:visits"]).await?;

    // A typed key: what it holds is part of its type, stored as JSON.
    let users = Namespace::new("redkit:quickstart").child("users");
    let ada = users.key::<User>("1");
    ada.set_ex(
        &client,
        &User {
            name: "Ada".into(),
            langs: vec!["en".into(), "fr".into()],
        },
        Duration::from_secs(60),
    )
    .await?;
    println!("typed key {} = {:?}", ada.name(), ada.get(&client).await?);

    // A memoized call: the loader runs once per argument per minute.
    let cache = Cache::new(client.clone(), CacheConfig::default());
    let length = cache.memoize(
        "redkit:quickstart:len",
        Duration::from_secs(60),
        |word: String| async move { Ok::<_, redkit_cache::BoxError>(word.chars().count()) },
    );
    let first = length.call("redkit".into()).await?;
    let second = length.call("redkit".into()).await?;
    println!(
        "memoized: {first} then {second}; the loader ran {} time(s)",
        cache.stats().loads
    );
    users.clear(&client).await?;
    length.forget(&"redkit".to_owned()).await?;
    Ok(())
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct User {
    name: String,
    langs: Vec<String>,
}
