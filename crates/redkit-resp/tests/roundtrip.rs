//! Properties of the codec: every value survives encode → decode, however the bytes are chunked; arbitrary bytes
//! never panic or allocate without bound; hostile headers are errors, not allocations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use redkit_resp::{
    Error, Limits, ProtocolError, RespCodec, RespVersion, Value, VerbatimFormat, encode_value,
};
use tokio_util::codec::Decoder;

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

/// Bytes that may appear in a simple string or RESP2 error: anything but CR and LF.
fn line_bytes() -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF", |b| *b != b'\r' && *b != b'\n'),
        0..24,
    )
    .prop_map(Bytes::from)
}

fn resp2_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        line_bytes().prop_map(Value::SimpleString),
        line_bytes().prop_map(Value::Error),
        any::<i64>().prop_map(Value::Integer),
        bytes(64).prop_map(Value::BulkString),
        Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        proptest::collection::vec(inner, 0..6).prop_map(Value::Array)
    })
}

fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("NaN never compares equal", |d| !d.is_nan()),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
    ]
}

fn resp3_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        line_bytes().prop_map(Value::SimpleString),
        bytes(24).prop_map(Value::Error),
        any::<i64>().prop_map(Value::Integer),
        bytes(64).prop_map(Value::BulkString),
        Just(Value::Null),
        double().prop_map(Value::Double),
        any::<bool>().prop_map(Value::Boolean),
        ("-?[1-9][0-9]{0,40}").prop_map(|s| Value::BigNumber(Bytes::from(s))),
        (any::<[u8; 3]>(), bytes(32)).prop_map(|(f, text)| Value::VerbatimString {
            format: VerbatimFormat(f),
            text
        }),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        let pairs = proptest::collection::vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Set),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Push),
            pairs.clone().prop_map(Value::Map),
            (pairs, inner).prop_map(|(attributes, data)| Value::Attribute {
                attributes,
                data: Box::new(data)
            }),
        ]
    })
}

/// Feed `wire` to a fresh codec `chunk` bytes at a time; collect every value decoded.
fn decode_chunked(wire: &[u8], chunk: usize, version: RespVersion) -> Result<Vec<Value>, Error> {
    let mut codec = RespCodec::new(version);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in wire.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        while let Some(v) = codec.decode(&mut buf)? {
            out.push(v);
        }
    }
    if let Some(v) = codec.decode_eof(&mut buf)? {
        out.push(v);
    }
    assert!(buf.is_empty(), "bytes left over after decoding everything");
    Ok(out)
}

fn encode_all(values: &[Value], version: RespVersion) -> BytesMut {
    let mut wire = BytesMut::new();
    for v in values {
        encode_value(v, version, &mut wire);
    }
    wire
}

/// Pieces of RESP, to build inputs that reach deep into the grammar more often than random bytes do.
const TOKENS: &[&[u8]] = &[
    b"*",
    b"$",
    b"%",
    b"~",
    b">",
    b"|",
    b"=",
    b"!",
    b":",
    b",",
    b"#",
    b"_",
    b"(",
    b"+",
    b"-",
    b"1",
    b"2",
    b"-1",
    b"0",
    b"?",
    b"t",
    b"inf",
    b"\r\n",
    b"\r",
    b"\n",
    b"txt:",
    b"99999999999999999999",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn resp2_values_round_trip_in_any_chunking(
        values in proptest::collection::vec(resp2_value(), 1..8),
        chunk in 1usize..64,
    ) {
        let wire = encode_all(&values, RespVersion::Resp2);
        prop_assert_eq!(&decode_chunked(&wire, chunk, RespVersion::Resp2)?, &values);
        prop_assert_eq!(&decode_chunked(&wire, wire.len(), RespVersion::Resp2)?, &values);
        // RESP3 is a superset: a RESP3 decoder reads RESP2 replies to the same values.
        prop_assert_eq!(&decode_chunked(&wire, chunk, RespVersion::Resp3)?, &values);
    }

    #[test]
    fn into_resp2_is_what_a_resp2_client_decodes(value in resp3_value()) {
        let wire = encode_all(std::slice::from_ref(&value), RespVersion::Resp2);
        let decoded = decode_chunked(&wire, wire.len(), RespVersion::Resp2)?;
        // NaN never equals itself: compare through the encoding of the converted value instead.
        let converted = value.into_resp2();
        prop_assert_eq!(encode_all(std::slice::from_ref(&converted), RespVersion::Resp2), wire);
        prop_assert_eq!(decoded.len(), 1);
    }

    #[test]
    fn resp3_values_round_trip_in_any_chunking(
        values in proptest::collection::vec(resp3_value(), 1..8),
        chunk in 1usize..64,
    ) {
        let wire = encode_all(&values, RespVersion::Resp3);
        prop_assert_eq!(&decode_chunked(&wire, chunk, RespVersion::Resp3)?, &values);
        prop_assert_eq!(&decode_chunked(&wire, wire.len(), RespVersion::Resp3)?, &values);
    }

    #[test]
    fn resp3_values_downgrade_to_valid_resp2(value in resp3_value()) {
        let wire = encode_all(std::slice::from_ref(&value), RespVersion::Resp2);
        let decoded = decode_chunked(&wire, wire.len(), RespVersion::Resp2)?;
        prop_assert_eq!(decoded.len(), 1);
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_grow_without_bound(
        input in proptest::collection::vec(any::<u8>(), 0..512),
        chunk in 1usize..32,
        resp3 in any::<bool>(),
    ) {
        let version = if resp3 { RespVersion::Resp3 } else { RespVersion::Resp2 };
        feed_arbitrary(&input, chunk, version);
    }

    #[test]
    fn token_soup_never_panics(
        tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..64),
        chunk in 1usize..16,
        resp3 in any::<bool>(),
    ) {
        let input: Vec<u8> = tokens.concat();
        let version = if resp3 { RespVersion::Resp3 } else { RespVersion::Resp2 };
        feed_arbitrary(&input, chunk, version);
    }
}

/// Decode whatever comes; a value or "need more" or an error are all fine, a panic or a huge buffer are not.
fn feed_arbitrary(input: &[u8], chunk: usize, version: RespVersion) {
    let mut codec = RespCodec::new(version);
    let mut buf = BytesMut::new();
    for piece in input.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            let before = buf.len();
            match codec.decode(&mut buf) {
                Ok(Some(_)) => assert!(buf.len() < before, "a decoded value consumed nothing"),
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(
            buf.capacity() <= 8 * 1024 * 1024,
            "buffer grew to {} bytes",
            buf.capacity()
        );
    }
}

fn decode_one(wire: &[u8], version: RespVersion, limits: Limits) -> Result<Option<Value>, ProtocolError> {
    let mut buf = BytesMut::from(wire);
    redkit_resp::decode(&mut buf, version, &limits)
}

#[test]
fn a_huge_declared_bulk_is_an_error_not_an_allocation() {
    for wire in [
        &b"$4611686018427387904\r\n"[..],
        b"!4611686018427387904\r\n",
        b"=4611686018427387904\r\n",
    ] {
        let err = decode_one(wire, RespVersion::Resp3, Limits::default()).unwrap_err();
        assert!(
            matches!(
                err,
                ProtocolError::BulkTooLong {
                    len: 4611686018427387904,
                    ..
                }
            ),
            "{err}"
        );
    }
    let err = decode_one(b"*4611686018427387904\r\n", RespVersion::Resp2, Limits::default()).unwrap_err();
    assert!(matches!(err, ProtocolError::AggregateTooLong { .. }), "{err}");
    let err = decode_one(b"%4611686018427387904\r\n", RespVersion::Resp3, Limits::default()).unwrap_err();
    assert!(matches!(err, ProtocolError::AggregateTooLong { .. }), "{err}");
}

#[test]
fn a_declared_bulk_within_limits_reserves_a_bounded_amount() {
    let mut codec = RespCodec::new(RespVersion::Resp2);
    let mut buf = BytesMut::from(&b"$536870912\r\nabc"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() <= 8 * 1024 * 1024);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut wire = b"*1\r\n".repeat(200_000);
    wire.extend_from_slice(b":1\r\n");
    let err = decode_one(&wire, RespVersion::Resp2, Limits::default()).unwrap_err();
    assert_eq!(err, ProtocolError::TooDeep { max: 128 });

    let mut wire = b"|1\r\n+a\r\n+b\r\n".repeat(1_000);
    wire.extend_from_slice(b":1\r\n");
    let err = decode_one(&wire, RespVersion::Resp3, Limits::default()).unwrap_err();
    assert_eq!(err, ProtocolError::TooDeep { max: 128 });

    // Exactly at the limit is fine.
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(
        decode_one(b"*1\r\n*1\r\n*1\r\n:1\r\n", RespVersion::Resp2, limits)
            .unwrap()
            .is_some()
    );
    assert!(decode_one(b"*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", RespVersion::Resp2, limits).is_err());
}

#[test]
fn limits_are_configurable() {
    let limits = Limits {
        max_bulk_len: 4,
        max_aggregate_len: 2,
        max_depth: 8,
    };
    assert!(
        decode_one(b"$4\r\nabcd\r\n", RespVersion::Resp2, limits)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        decode_one(b"$5\r\nabcde\r\n", RespVersion::Resp2, limits).unwrap_err(),
        ProtocolError::BulkTooLong { len: 5, max: 4 }
    );
    assert_eq!(
        decode_one(b"*3\r\n", RespVersion::Resp2, limits).unwrap_err(),
        ProtocolError::AggregateTooLong { len: 3, max: 2 }
    );
    // A map of 2 pairs declares 4 elements.
    assert_eq!(
        decode_one(b"%2\r\n", RespVersion::Resp3, limits).unwrap_err(),
        ProtocolError::AggregateTooLong { len: 4, max: 2 }
    );
    // A simple line longer than the bulk limit with no end in sight.
    assert!(decode_one(b"+abcdefgh", RespVersion::Resp2, limits).is_err());
}

#[test]
fn malformed_frames_are_errors() {
    let cases: &[(&[u8], RespVersion)] = &[
        (b"$3\r\nfooXY", RespVersion::Resp2), // bad terminator
        (b":12a\r\n", RespVersion::Resp2),    // not an integer
        (b":9223372036854775808\r\n", RespVersion::Resp2),
        (b"$-2\r\n", RespVersion::Resp2),
        (b"%1\r\n", RespVersion::Resp2), // RESP3 type on a RESP2 connection
        (b"#x\r\n", RespVersion::Resp3),
        (b",abc\r\n", RespVersion::Resp3),
        (b"_x\r\n", RespVersion::Resp3),
        (b"=3\r\ntxt\r\n", RespVersion::Resp3), // verbatim without format separator
        (b"(12x\r\n", RespVersion::Resp3),
        (b"$?\r\n", RespVersion::Resp3), // streamed
        (b"+OK\rX", RespVersion::Resp2),
        (b"+O\nK\r\n", RespVersion::Resp2), // found by the fuzzer: a bare LF inside a line
        (b"-ERR a\nb\r\n", RespVersion::Resp3),
        (b"HELLO 3\r\n", RespVersion::Resp3),
    ];
    for (wire, version) in cases {
        let result = decode_one(wire, *version, Limits::default());
        assert!(
            result.is_err(),
            "{:?} decoded to {result:?}",
            String::from_utf8_lossy(wire)
        );
    }
}

#[test]
fn resp2_nulls_and_resp3_null() {
    for wire in [&b"$-1\r\n"[..], b"*-1\r\n"] {
        assert_eq!(
            decode_one(wire, RespVersion::Resp2, Limits::default()).unwrap(),
            Some(Value::Null)
        );
        assert_eq!(
            decode_one(wire, RespVersion::Resp3, Limits::default()).unwrap(),
            Some(Value::Null)
        );
    }
    assert_eq!(
        decode_one(b"_\r\n", RespVersion::Resp3, Limits::default()).unwrap(),
        Some(Value::Null)
    );
}

#[test]
fn bulk_strings_are_zero_copy_slices_of_the_read_buffer() {
    let mut buf = BytesMut::from(&b"*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n"[..]);
    let base = buf.as_ptr() as usize;
    let value = redkit_resp::decode(&mut buf, RespVersion::Resp2, &Limits::default()).unwrap();
    let Some(Value::Array(items)) = value else {
        panic!("expected an array")
    };
    let Value::BulkString(hello) = &items[0] else {
        panic!("expected a bulk string")
    };
    assert_eq!(
        hello.as_ptr() as usize,
        base + 8,
        "the bulk points into the original buffer"
    );
}

#[test]
fn truncated_input_at_eof_is_reported() {
    let mut codec = RespCodec::new(RespVersion::Resp2);
    let mut buf = BytesMut::from(&b"$10\r\nabc"[..]);
    let err = codec.decode_eof(&mut buf).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol(ProtocolError::TruncatedFrame { buffered: 8 })
        ),
        "{err}"
    );
}

#[test]
fn special_doubles_round_trip() {
    for (d, text) in [
        (f64::INFINITY, ",inf\r\n"),
        (f64::NEG_INFINITY, ",-inf\r\n"),
        (1.5, ",1.5\r\n"),
    ] {
        let mut wire = BytesMut::new();
        encode_value(&Value::Double(d), RespVersion::Resp3, &mut wire);
        assert_eq!(&wire[..], text.as_bytes());
        assert_eq!(
            decode_one(&wire, RespVersion::Resp3, Limits::default()).unwrap(),
            Some(Value::Double(d))
        );
    }
    let mut wire = BytesMut::new();
    encode_value(&Value::Double(f64::NAN), RespVersion::Resp3, &mut wire);
    assert_eq!(&wire[..], b",nan\r\n");
    let Some(Value::Double(d)) = decode_one(&wire, RespVersion::Resp3, Limits::default()).unwrap() else {
        panic!("expected a double")
    };
    assert!(d.is_nan());
}

#[test]
fn resp2_downgrades_follow_redis() {
    let value = Value::Array(vec![
        Value::Map(vec![(Value::bulk("k"), Value::Integer(1))]),
        Value::Set(vec![Value::bulk("m")]),
        Value::Double(2.5),
        Value::Boolean(true),
        Value::Null,
        Value::VerbatimString {
            format: VerbatimFormat::TEXT,
            text: Bytes::from_static(b"hi"),
        },
        Value::Attribute {
            attributes: vec![(Value::simple("ttl"), Value::Integer(3))],
            data: Box::new(Value::Integer(7)),
        },
    ]);
    let mut wire = BytesMut::new();
    encode_value(&value, RespVersion::Resp2, &mut wire);
    assert_eq!(
        &wire[..],
        &b"*7\r\n*2\r\n$1\r\nk\r\n:1\r\n*1\r\n$1\r\nm\r\n$3\r\n2.5\r\n:1\r\n$-1\r\n$2\r\nhi\r\n:7\r\n"[..]
    );
}

#[test]
fn errors_with_line_breaks_stay_intact_in_resp3() {
    let value = Value::error("ERR line one\r\nline two");
    let mut wire = BytesMut::new();
    encode_value(&value, RespVersion::Resp3, &mut wire);
    assert!(wire.starts_with(b"!"));
    assert_eq!(
        decode_one(&wire, RespVersion::Resp3, Limits::default()).unwrap(),
        Some(value)
    );
    wire.clear();
    encode_value(&Value::error("ERR a\r\nb"), RespVersion::Resp2, &mut wire);
    assert_eq!(&wire[..], b"-ERR a  b\r\n");
}

/// `redis-protocol`'s RESP2 frame as a `Value`, to use that crate as a reference decoder.
fn reference_value(frame: redis_protocol::resp2::types::BytesFrame) -> Value {
    use redis_protocol::resp2::types::BytesFrame as F;
    match frame {
        F::SimpleString(b) => Value::SimpleString(b),
        F::Error(s) => Value::Error(Bytes::copy_from_slice(s.as_bytes())),
        F::Integer(i) => Value::Integer(i),
        F::BulkString(b) => Value::BulkString(b),
        F::Array(items) => Value::Array(items.into_iter().map(reference_value).collect()),
        F::Null => Value::Null,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// On valid RESP2 (UTF-8 errors, which that crate requires), this decoder and `redis-protocol` agree.
    #[test]
    fn resp2_decoding_agrees_with_redis_protocol(values in proptest::collection::vec(resp2_value(), 1..8)) {
        let values: Vec<Value> = values.into_iter().map(utf8_errors).collect();
        let wire = encode_all(&values, RespVersion::Resp2);
        let mut theirs = Vec::new();
        let mut buf = wire.clone();
        while let Some((frame, _, _)) = redis_protocol::resp2::decode::decode_bytes_mut(&mut buf)
            .map_err(|e| TestCaseError::fail(format!("redis-protocol rejected valid RESP2: {e:?}")))?
        {
            theirs.push(reference_value(frame));
        }
        prop_assert_eq!(&decode_chunked(&wire, wire.len(), RespVersion::Resp2)?, &theirs);
    }
}

fn utf8_errors(value: Value) -> Value {
    match value {
        Value::Error(b) => Value::Error(Bytes::from(
            String::from_utf8_lossy(&b).replace(['\r', '\n'], " "),
        )),
        Value::Array(items) => Value::Array(items.into_iter().map(utf8_errors).collect()),
        other => other,
    }
}
