//! Quickstart: build a pipeline, encode it as a client would, decode a server's replies, and convert them.
//!
//! Run with `cargo run --example quickstart`. (Once the client and embedded server land, this example talks to a
//! real server through them.)

use bytes::BytesMut;
use redkit_resp::{Cmd, Error, FromValue, Pipeline, RespCodec, RespVersion, Value, encode_value};
use tokio_util::codec::{Decoder, Encoder};

fn main() -> Result<(), Error> {
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
        .with(Cmd::new("GET").arg("missing"))
        .with(Cmd::new("HGETALL").arg("user:1"));

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
        Value::Map(vec![
            (Value::bulk("name"), Value::bulk("Ada")),
            (Value::bulk("born"), Value::bulk("1815")),
        ]),
    ];
    let mut incoming = BytesMut::new();
    for reply in &replies {
        encode_value(reply, RespVersion::Resp3, &mut incoming);
    }
    println!("\n{} bytes of replies decode to:", incoming.len());
    let mut decoded = Vec::new();
    while let Some(value) = codec.decode(&mut incoming)? {
        println!("  {value:?}");
        decoded.push(value);
    }

    type Replies = ((), i64, Option<String>, Option<String>, Vec<(String, String)>);
    let mut values = decoded.into_iter();
    let typed: Replies = (
        <()>::from_value(values.next().unwrap_or(Value::Null))?,
        i64::from_value(values.next().unwrap_or(Value::Null))?,
        Option::from_value(values.next().unwrap_or(Value::Null))?,
        Option::from_value(values.next().unwrap_or(Value::Null))?,
        Vec::from_value(values.next().unwrap_or(Value::Null))?,
    );
    println!("\ntyped: {typed:?}");
    Ok(())
}
