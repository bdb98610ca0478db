//! `resp`: decoding and encoding throughput of `redkit-resp`, side by side in one run with `redis-protocol` and the
//! `redis` crate's parser (`ValueCodec`, the one its async connections use).
//!
//! Every decoder starts from its own copy of the same bytes (copied outside the timed section) and decodes until
//! the buffer is empty, keeping each value alive until the next is decoded. Run with `cargo xtask bench resp`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use redkit_resp::{Cmd, Pipeline, RespCodec, RespVersion, Value, encode_value};
use tokio_util::codec::Decoder;

fn encoded(values: &[Value], version: RespVersion) -> BytesMut {
    let mut wire = BytesMut::new();
    for v in values {
        encode_value(v, version, &mut wire);
    }
    wire
}

fn bulk16(i: usize) -> Value {
    Value::bulk(format!("value-{i:010}"))
}

/// Decode everything in `wire` with `decode`, timing only the decoding.
fn run<D>(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, wire: &BytesMut, mut decode: D)
where
    D: FnMut(&mut BytesMut) -> usize,
{
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || wire.clone(),
            |buf| {
                let n = decode(buf);
                assert!(buf.is_empty());
                black_box(n)
            },
            BatchSize::SmallInput,
        )
    });
}

fn redkit(version: RespVersion) -> impl FnMut(&mut BytesMut) -> usize {
    let mut codec = RespCodec::new(version);
    move |buf| {
        let mut n = 0;
        while let Some(v) = codec.decode(buf).expect("redkit decodes") {
            black_box(&v);
            n += 1;
        }
        n
    }
}

fn redis_crate() -> impl FnMut(&mut BytesMut) -> usize {
    let mut codec = redis::ValueCodec::default();
    move |buf| {
        let mut n = 0;
        while let Some(v) = codec.decode(buf).expect("redis decodes") {
            black_box(&v);
            n += 1;
        }
        n
    }
}

fn redis_protocol_resp2() -> impl FnMut(&mut BytesMut) -> usize {
    |buf| {
        let mut n = 0;
        while let Some(v) =
            redis_protocol::resp2::decode::decode_bytes_mut(buf).expect("redis-protocol decodes")
        {
            black_box(&v);
            n += 1;
        }
        n
    }
}

fn redis_protocol_resp3() -> impl FnMut(&mut BytesMut) -> usize {
    |buf| {
        let mut n = 0;
        while let Some(v) =
            redis_protocol::resp3::decode::complete::decode_bytes_mut(buf).expect("redis-protocol decodes")
        {
            black_box(&v);
            n += 1;
        }
        n
    }
}

/// One decode group: every contender on the same RESP2-compatible bytes.
fn decode_group(c: &mut Criterion, name: &str, values: &[Value], throughput: Throughput) {
    let wire = encoded(values, RespVersion::Resp2);
    let mut group = c.benchmark_group(name);
    group.throughput(throughput);
    run(&mut group, "redkit-resp2", &wire, redkit(RespVersion::Resp2));
    run(&mut group, "redkit-resp3", &wire, redkit(RespVersion::Resp3));
    run(&mut group, "redis-protocol", &wire, redis_protocol_resp2());
    run(&mut group, "redis", &wire, redis_crate());
    group.finish();
}

fn decoding(c: &mut Criterion) {
    let bulks: Vec<Value> = (0..1000).map(bulk16).collect();
    decode_group(c, "decode_bulk16_x1000", &bulks, Throughput::Elements(1000));

    let ints: Vec<Value> = (0..1000).map(|i| Value::Integer(i * 7919)).collect();
    decode_group(c, "decode_int_x1000", &ints, Throughput::Elements(1000));

    let array = vec![Value::Array(bulks)];
    decode_group(c, "decode_array_1000", &array, Throughput::Elements(1000));

    let big = vec![Value::bulk(vec![b'x'; 1 << 20])];
    decode_group(c, "decode_bulk_1mib", &big, Throughput::Bytes(1 << 20));

    // A RESP3 map: RESP3 decoders only.
    let map = vec![Value::Map(
        (0..100)
            .map(|i| (Value::bulk(format!("field:{i}")), bulk16(i)))
            .collect(),
    )];
    let wire = encoded(&map, RespVersion::Resp3);
    let mut group = c.benchmark_group("decode_map_100");
    group.throughput(Throughput::Elements(200));
    run(&mut group, "redkit-resp3", &wire, redkit(RespVersion::Resp3));
    run(&mut group, "redis-protocol", &wire, redis_protocol_resp3());
    run(&mut group, "redis", &wire, redis_crate());
    group.finish();
}

fn encoding(c: &mut Criterion) {
    let keys: Vec<String> = (0..1000).map(|i| format!("key:{i:012}")).collect();
    let value = b"0123456789abcdef";
    let mut group = c.benchmark_group("encode_set_x1000");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("redkit", |b| {
        let mut out = BytesMut::with_capacity(64 * 1024);
        b.iter(|| {
            out.clear();
            let pipe: Pipeline = keys
                .iter()
                .map(|k| Cmd::new("SET").arg(k).arg(&value[..]))
                .collect();
            pipe.encode(&mut out);
            black_box(out.len())
        })
    });
    group.bench_function("redis", |b| {
        let mut out = Vec::with_capacity(64 * 1024);
        b.iter(|| {
            out.clear();
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("SET").arg(k).arg(&value[..]);
            }
            for cmd in pipe.cmd_iter() {
                cmd.write_packed_command(&mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

/// Requests as a server reads them: `redkit-server`'s request parser against `redkit-resp`'s reply decoder, on
/// the same bytes — a pipeline of 1000 `SET key value` commands in one read, and one `SET` with a 1 MiB value
/// arriving in 64 reads of 16 KiB (the decoder starts over on each incomplete read; the parser keeps its place).
fn requests(c: &mut Criterion) {
    use redkit_server::request::{Request, RequestParser};
    let mut pipeline = BytesMut::new();
    for i in 0..1000 {
        Cmd::new("SET")
            .arg(format!("key:{i:08}"))
            .arg(format!("value-{i:010}"))
            .encode(&mut pipeline);
    }
    let mut group = c.benchmark_group("requests: 1000 pipelined SETs");
    group.throughput(Throughput::Elements(1000));
    run(&mut group, "redkit-server RequestParser", &pipeline, |buf| {
        let mut parser = RequestParser::default();
        let mut n = 0;
        while let Ok(Some(Request::Command(args))) = parser.next(buf, false) {
            n += black_box(args).len();
        }
        n
    });
    run(&mut group, "redkit-resp decode", &pipeline, |buf| {
        let limits = redkit_resp::Limits::default();
        let mut n = 0;
        while let Ok(Some(Value::Array(args))) = redkit_resp::decode(buf, RespVersion::Resp2, &limits) {
            n += black_box(args).len();
        }
        n
    });
    group.finish();

    let mut big = BytesMut::new();
    Cmd::new("SET")
        .arg("key")
        .arg(vec![b'x'; 1 << 20])
        .encode(&mut big);
    let chunks: Vec<&[u8]> = big.chunks(16 * 1024).collect();
    let mut group = c.benchmark_group("requests: a 1 MiB SET in 16 KiB reads");
    group.throughput(Throughput::Bytes(big.len() as u64));
    group.bench_function("redkit-server RequestParser", |b| {
        b.iter(|| {
            let (mut parser, mut buf) = (RequestParser::default(), BytesMut::with_capacity(big.len()));
            let mut done = None;
            for chunk in &chunks {
                buf.extend_from_slice(chunk);
                if let Ok(Some(request)) = parser.next(&mut buf, false) {
                    done = Some(request);
                }
            }
            assert!(matches!(done, Some(Request::Command(_))));
        })
    });
    group.bench_function("redkit-resp decode", |b| {
        b.iter(|| {
            let limits = redkit_resp::Limits::default();
            let mut buf = BytesMut::with_capacity(big.len());
            let mut done = None;
            for chunk in &chunks {
                buf.extend_from_slice(chunk);
                if let Ok(Some(value)) = redkit_resp::decode(&mut buf, RespVersion::Resp2, &limits) {
                    done = Some(value);
                }
            }
            assert!(matches!(done, Some(Value::Array(_))));
        })
    });
    group.finish();
}

criterion_group!(benches, decoding, encoding, requests);
criterion_main!(benches);
