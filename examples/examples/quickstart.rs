//! Quickstart: the protocol core on its own, then the client — against `REDIS_URL` when it is set, otherwise
//! against the embedded server (`redkit-mock`), started in process on a free loopback port.
//!
//! ```sh
//! cargo run --example quickstart                                   # embedded server
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example quickstart  # a real server
//! ```

use std::time::Duration;

use bytes::BytesMut;
use redkit::prelude::*;
use redkit::{Client, Config, SetOptions};
use redkit_resp::{Error, FromValue, Pipeline, RespCodec, RespVersion, encode_value};
use tokio_util::codec::{Decoder, Encoder};

#[tokio::main]
async fn main() -> Result<(), Error> {
    protocol_tour()?;
    match std::env::var("REDIS_URL") {
        Ok(url) => client_tour(&url).await,
        Err(_) => {
            let embedded = redkit_mock::MockServer::start().await?;
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
async fn client_tour(url: &str) -> Result<(), Error> {
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
    Ok(())
}
