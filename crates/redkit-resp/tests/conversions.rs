//! Every `ToArg` and `FromValue` impl, the failure cases included, plus commands, server errors and the
//! `Executor` seam.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use redkit_resp::{
    Cmd, DynExecutor, Error, ErrorKind, Executor, FromValue, Pipeline, Result, ServerError, ToArg, Value,
    VerbatimFormat, reply_result,
};

fn args_of(arg: impl ToArg) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    arg.write_args(&mut out);
    out
}

fn one(s: &str) -> Vec<Vec<u8>> {
    vec![s.as_bytes().to_vec()]
}

#[test]
fn strings_and_bytes_are_single_binary_safe_args() {
    assert_eq!(args_of("a b\r\n"), one("a b\r\n"));
    assert_eq!(args_of(String::from("x")), one("x"));
    assert_eq!(args_of(Cow::Borrowed("c")), one("c"));
    assert_eq!(args_of(&b"\x00\xff"[..]), vec![vec![0u8, 0xff]]);
    assert_eq!(args_of(vec![1u8, 2]), vec![vec![1u8, 2]]);
    assert_eq!(args_of([7u8; 2]), vec![vec![7u8, 7]]);
    assert_eq!(args_of(Bytes::from_static(b"b")), one("b"));
    assert_eq!(args_of(BytesMut::from(&b"m"[..])), one("m"));
    assert_eq!(args_of(Box::new("boxed")), one("boxed"));
}

#[test]
fn integers_are_decimal_args() {
    assert_eq!(args_of(42u8), one("42"));
    assert_eq!(args_of(-5i8), one("-5"));
    assert_eq!(args_of(i16::MIN), one("-32768"));
    assert_eq!(args_of(u16::MAX), one("65535"));
    assert_eq!(args_of(-1i32), one("-1"));
    assert_eq!(args_of(u32::MAX), one("4294967295"));
    assert_eq!(args_of(i64::MIN), one("-9223372036854775808"));
    assert_eq!(args_of(u64::MAX), one("18446744073709551615"));
    assert_eq!(
        args_of(i128::MIN),
        one("-170141183460469231731687303715884105728")
    );
    assert_eq!(args_of(u128::MAX), one("340282366920938463463374607431768211455"));
    assert_eq!(args_of(-3isize), one("-3"));
    assert_eq!(args_of(3usize), one("3"));
}

#[test]
fn floats_use_redis_syntax() {
    assert_eq!(args_of(1.5f64), one("1.5"));
    assert_eq!(args_of(-0.25f64), one("-0.25"));
    assert_eq!(args_of(f64::INFINITY), one("inf"));
    assert_eq!(args_of(f64::NEG_INFINITY), one("-inf"));
    assert_eq!(args_of(0.1f32), one("0.1"));
    assert_eq!(args_of(f32::NEG_INFINITY), one("-inf"));
    // Round-trips exactly: the shortest decimal that parses back to the same f64.
    let x = 0.1 + 0.2;
    let text = String::from_utf8(args_of(x).remove(0)).unwrap();
    assert_eq!(text.parse::<f64>().unwrap(), x);
}

#[test]
fn collections_options_and_tuples_spread_into_args() {
    assert_eq!(args_of(["a", "b"]), [one("a"), one("b")].concat());
    assert_eq!(args_of(vec![1i64, 2]), [one("1"), one("2")].concat());
    assert_eq!(args_of(&["x"][..]), one("x"));
    assert_eq!(args_of(None::<&str>), Vec::<Vec<u8>>::new());
    assert_eq!(args_of(Some(5)), one("5"));
    assert_eq!(args_of(("f", 1)), [one("f"), one("1")].concat());
    assert_eq!(args_of(("a", 1, 2.5)), [one("a"), one("1"), one("2.5")].concat());
    assert_eq!(args_of(("a", "b", "c", "d")).len(), 4);
    assert_eq!(args_of(vec![("k1", "v1"), ("k2", "v2")]).len(), 4);
    let mut into_bytes: Vec<Bytes> = Vec::new();
    "q".write_args(&mut into_bytes);
    assert_eq!(into_bytes, [Bytes::from_static(b"q")]);
}

#[test]
fn cmd_builds_reads_back_and_debugs() {
    let mut cmd = Cmd::new("hset").arg("h").args_from([("f1", 1), ("f2", 2)]);
    cmd.push_arg(None::<i32>).push_arg("tail");
    assert_eq!(cmd.arg_count(), 7);
    assert_eq!(cmd.name(), "HSET");
    assert_eq!(cmd.name_bytes(), b"hset");
    let args: Vec<&[u8]> = cmd.args().collect();
    assert_eq!(args, [&b"hset"[..], b"h", b"f1", b"1", b"f2", b"2", b"tail"]);
    assert_eq!(cmd.args().len(), 7);
    assert_eq!(cmd.to_bytes().len(), cmd.encoded_len());
    assert_eq!(
        format!("{:?}", Cmd::new("SET").arg("k").arg(&b"v\x00"[..])),
        r#"SET "k" "v\x00""#
    );
}

#[test]
fn pipeline_encodes_all_commands_into_one_buffer() {
    let mut pipe: Pipeline = (0..3).map(|i| Cmd::new("GET").arg(i)).collect();
    pipe.extend([Cmd::new("PING")]);
    assert_eq!(pipe.len(), 4);
    let mut wire = BytesMut::new();
    pipe.encode(&mut wire);
    assert_eq!(wire.len(), pipe.encoded_len());
    let expected: Vec<u8> = pipe.cmds().iter().flat_map(|c| c.to_bytes().to_vec()).collect();
    assert_eq!(&wire[..], &expected[..]);
    pipe.clear();
    assert!(pipe.is_empty());
}

fn conv<T: FromValue>(v: Value) -> Result<T> {
    T::from_value(v)
}

fn conversion_message<T: FromValue + std::fmt::Debug>(v: Value) -> String {
    match conv::<T>(v) {
        Err(Error::Conversion { error, .. }) => error.to_string(),
        other => panic!("expected a conversion error, got {other:?}"),
    }
}

#[test]
fn strings_convert_from_every_string_like_reply() {
    assert_eq!(conv::<String>(Value::bulk("a")).unwrap(), "a");
    assert_eq!(conv::<String>(Value::simple("OK")).unwrap(), "OK");
    assert_eq!(
        conv::<String>(Value::VerbatimString {
            format: VerbatimFormat::TEXT,
            text: "v".into()
        })
        .unwrap(),
        "v"
    );
    assert_eq!(conv::<String>(Value::Integer(-4)).unwrap(), "-4");
    assert_eq!(conv::<String>(Value::Double(2.5)).unwrap(), "2.5");
    assert_eq!(conv::<String>(Value::BigNumber("123".into())).unwrap(), "123");
    assert_eq!(
        conversion_message::<String>(Value::bulk(vec![0xff])),
        "expected a UTF-8 string, got invalid UTF-8 at byte 0"
    );
    assert_eq!(
        conversion_message::<String>(Value::Null),
        "expected a string, got null"
    );
    assert_eq!(
        conversion_message::<String>(Value::Array(vec![])),
        "expected a string, got array of 0 element(s)"
    );
    assert_eq!(conv::<Bytes>(Value::bulk("b")).unwrap(), Bytes::from_static(b"b"));
    assert_eq!(conv::<Vec<u8>>(Value::bulk(vec![0, 255])).unwrap(), vec![0, 255]);
    assert_eq!(
        conv::<Vec<u8>>(Value::Array(vec![Value::Integer(1), Value::Integer(2)])).unwrap(),
        vec![1, 2]
    );
}

#[test]
fn integers_are_range_checked_and_keep_their_sign() {
    assert_eq!(conv::<i64>(Value::Integer(-7)).unwrap(), -7);
    assert_eq!(conv::<i64>(Value::bulk("-12")).unwrap(), -12);
    assert_eq!(conv::<i32>(Value::simple("5")).unwrap(), 5);
    assert_eq!(conv::<u8>(Value::Integer(255)).unwrap(), 255);
    assert_eq!(
        conv::<i128>(Value::BigNumber("170141183460469231731687303715884105727".into())).unwrap(),
        i128::MAX
    );
    assert_eq!(conv::<usize>(Value::Integer(3)).unwrap(), 3);
    assert_eq!(
        conversion_message::<u64>(Value::Integer(-1)),
        "expected an integer in u64's range, got integer -1"
    );
    assert_eq!(
        conversion_message::<i8>(Value::Integer(128)),
        "expected an integer in i8's range, got integer 128"
    );
    assert_eq!(
        conversion_message::<i64>(Value::bulk("12x")),
        "expected an integer in i64's range, got bulk string \"12x\""
    );
    assert!(conv::<i16>(Value::Null).is_err());
    assert!(conv::<u32>(Value::Double(1.0)).is_err());
    assert!(conv::<u16>(Value::Integer(70000)).is_err());
    assert!(conv::<isize>(Value::Boolean(true)).is_err());
    assert!(conv::<u128>(Value::Integer(-2)).is_err());
}

#[test]
fn floats_read_doubles_integers_and_text() {
    assert_eq!(conv::<f64>(Value::Double(0.5)).unwrap(), 0.5);
    assert_eq!(conv::<f64>(Value::Integer(3)).unwrap(), 3.0);
    assert_eq!(conv::<f64>(Value::bulk("1.25")).unwrap(), 1.25);
    assert_eq!(conv::<f64>(Value::bulk("inf")).unwrap(), f64::INFINITY);
    assert_eq!(conv::<f64>(Value::bulk("-inf")).unwrap(), f64::NEG_INFINITY);
    assert_eq!(conv::<f32>(Value::Double(0.5)).unwrap(), 0.5);
    assert_eq!(
        conversion_message::<f64>(Value::bulk("x")),
        "expected a float, got bulk string \"x\""
    );
    assert!(conv::<f64>(Value::Null).is_err());
}

#[test]
fn booleans_read_zero_one_and_resp3_booleans() {
    assert!(conv::<bool>(Value::Integer(1)).unwrap());
    assert!(!conv::<bool>(Value::Integer(0)).unwrap());
    assert!(conv::<bool>(Value::Boolean(true)).unwrap());
    assert!(!conv::<bool>(Value::bulk("0")).unwrap());
    assert_eq!(
        conversion_message::<bool>(Value::Integer(2)),
        "expected a boolean (0 or 1), got integer 2"
    );
    assert!(conv::<bool>(Value::bulk("yes")).is_err());
    // Writes that may not apply: SET … NX answers OK or null.
    assert!(conv::<bool>(Value::simple("OK")).unwrap());
    assert!(!conv::<bool>(Value::Null).unwrap());
    assert_eq!(conv::<Option<bool>>(Value::Null).unwrap(), None);
}

#[test]
fn options_map_null_to_none() {
    assert_eq!(conv::<Option<String>>(Value::Null).unwrap(), None);
    assert_eq!(
        conv::<Option<String>>(Value::bulk("x")).unwrap(),
        Some("x".to_owned())
    );
    assert!(conv::<Option<i64>>(Value::bulk("x")).is_err());
}

#[test]
fn error_replies_become_server_errors_except_for_value() {
    let err = conv::<Option<String>>(Value::error(
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    ))
    .unwrap_err();
    assert_eq!(err.server_kind(), Some(&ErrorKind::WrongType));
    assert!(conv::<()>(Value::error("ERR no")).is_err());
    assert!(conv::<()>(Value::simple("OK")).is_ok());
    assert_eq!(
        conv::<Value>(Value::error("ERR x")).unwrap(),
        Value::error("ERR x")
    );
    // Inside aggregates too.
    let err = conv::<Vec<i64>>(Value::Array(vec![Value::Integer(1), Value::error("ERR inner")])).unwrap_err();
    assert_eq!(err.server_error().map(ServerError::text), Some("ERR inner"));
}

#[test]
fn attributes_are_transparent_to_conversions() {
    let v = Value::Attribute {
        attributes: vec![],
        data: Box::new(Value::Integer(9)),
    };
    assert_eq!(conv::<i64>(v.clone()).unwrap(), 9);
    assert_eq!(conv::<Value>(v.clone()).unwrap(), v);
}

#[test]
fn sequences_and_sets() {
    assert_eq!(
        conv::<Vec<String>>(Value::Array(vec![Value::bulk("a"), Value::bulk("b")])).unwrap(),
        ["a", "b"]
    );
    assert_eq!(
        conv::<Vec<i64>>(Value::Set(vec![Value::Integer(1)])).unwrap(),
        [1]
    );
    assert_eq!(conv::<Vec<i64>>(Value::Null).unwrap(), Vec::<i64>::new());
    assert_eq!(
        conv::<Vec<Value>>(Value::Push(vec![Value::Null])).unwrap(),
        [Value::Null]
    );
    assert_eq!(
        conversion_message::<Vec<i64>>(Value::Integer(1)),
        "expected an array, got integer 1"
    );
    let set: HashSet<String> = conv(Value::Set(vec![Value::bulk("a"), Value::bulk("a")])).unwrap();
    assert_eq!(set.len(), 1);
    let set: BTreeSet<i64> = conv(Value::Array(vec![Value::Integer(2), Value::Integer(1)])).unwrap();
    assert_eq!(set.into_iter().collect::<Vec<_>>(), [1, 2]);
    assert!(conv::<HashSet<i64>>(Value::bulk("x")).is_err());
}

#[test]
fn maps_read_resp3_maps_flat_arrays_and_pair_arrays() {
    let resp3 = Value::Map(vec![
        (Value::bulk("a"), Value::Integer(1)),
        (Value::bulk("b"), Value::Integer(2)),
    ]);
    let resp2 = Value::Array(vec![
        Value::bulk("a"),
        Value::Integer(1),
        Value::bulk("b"),
        Value::Integer(2),
    ]);
    let pairs = Value::Array(vec![
        Value::Array(vec![Value::bulk("a"), Value::Integer(1)]),
        Value::Array(vec![Value::bulk("b"), Value::Integer(2)]),
    ]);
    for v in [resp3, resp2, pairs] {
        let h: HashMap<String, i64> = conv(v.clone()).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h["b"], 2);
        let b: BTreeMap<String, i64> = conv(v.clone()).unwrap();
        assert_eq!(b.keys().collect::<Vec<_>>(), ["a", "b"]);
        let ordered: Vec<(String, i64)> = conv(v).unwrap();
        assert_eq!(ordered, [("a".to_owned(), 1), ("b".to_owned(), 2)]);
    }
    assert!(conv::<HashMap<String, i64>>(Value::Null).unwrap().is_empty());
    assert_eq!(
        conversion_message::<HashMap<String, String>>(Value::Array(vec![Value::bulk("a")])),
        "expected a map, a flat array of key-value pairs, or an array of pairs, got an array of odd length 1"
    );
    assert!(conv::<BTreeMap<String, i64>>(Value::Integer(1)).is_err());
}

#[test]
fn tuples_need_exactly_their_length() {
    let (a,): (i64,) = conv(Value::Array(vec![Value::Integer(1)])).unwrap();
    assert_eq!(a, 1);
    let (k, v): (String, Option<String>) = conv(Value::Array(vec![Value::bulk("k"), Value::Null])).unwrap();
    assert_eq!((k.as_str(), v), ("k", None));
    let t: (i64, i64, String) = conv(Value::Array(vec![
        Value::Integer(1),
        Value::Integer(2),
        Value::bulk("x"),
    ]))
    .unwrap();
    assert_eq!(t, (1, 2, "x".to_owned()));
    let t: (i64, i64, i64, bool) = conv(Value::Array(vec![
        Value::Integer(1),
        Value::Integer(2),
        Value::Integer(3),
        Value::Integer(1),
    ]))
    .unwrap();
    assert_eq!(t, (1, 2, 3, true));
    assert_eq!(
        conversion_message::<(i64, i64)>(Value::Array(vec![Value::Integer(1)])),
        "expected a 2-element array, got array of 1 element(s)"
    );
    assert!(conv::<(i64, i64, i64)>(Value::Null).is_err());
}

#[test]
fn server_errors_are_classified_by_first_word() {
    let cases: &[(&str, ErrorKind)] = &[
        ("ERR syntax error", ErrorKind::Err),
        (
            "WRONGTYPE Operation against a key holding the wrong kind of value",
            ErrorKind::WrongType,
        ),
        (
            "MOVED 3999 127.0.0.1:6381",
            ErrorKind::Moved {
                slot: 3999,
                addr: "127.0.0.1:6381".into(),
            },
        ),
        (
            "ASK 3999 127.0.0.1:6381",
            ErrorKind::Ask {
                slot: 3999,
                addr: "127.0.0.1:6381".into(),
            },
        ),
        (
            "TRYAGAIN Multiple keys request during rehashing of slot",
            ErrorKind::TryAgain,
        ),
        ("CLUSTERDOWN The cluster is down", ErrorKind::ClusterDown),
        (
            "CROSSSLOT Keys in request don't hash to the same slot",
            ErrorKind::CrossSlot,
        ),
        (
            "NOSCRIPT No matching script. Please use EVAL.",
            ErrorKind::NoScript,
        ),
        ("BUSY Redis is busy running a script.", ErrorKind::Busy),
        (
            "LOADING Redis is loading the dataset in memory",
            ErrorKind::Loading,
        ),
        (
            "READONLY You can't write against a read only replica.",
            ErrorKind::ReadOnly,
        ),
        ("NOAUTH Authentication required.", ErrorKind::NoAuth),
        (
            "WRONGPASS invalid username-password pair or user is disabled.",
            ErrorKind::WrongPass,
        ),
        (
            "NOPERM this user has no permissions to run the 'get' command",
            ErrorKind::NoPerm,
        ),
        (
            "EXECABORT Transaction discarded because of previous errors.",
            ErrorKind::ExecAbort,
        ),
        ("MASTERDOWN Link with MASTER is down", ErrorKind::MasterDown),
        (
            "NOREPLICAS Not enough good replicas to write.",
            ErrorKind::NoReplicas,
        ),
        (
            "OOM command not allowed when used memory > 'maxmemory'.",
            ErrorKind::Oom,
        ),
        (
            "BUSYGROUP Consumer Group name already exists",
            ErrorKind::Other("BUSYGROUP".into()),
        ),
        ("MOVED garbage", ErrorKind::Other("MOVED".into())),
        ("", ErrorKind::Other(String::new())),
    ];
    for (text, kind) in cases {
        let e = ServerError::new(*text);
        assert_eq!(e.kind(), kind, "{text}");
        assert_eq!(e.text(), *text);
        assert_eq!(e.to_string(), *text);
    }
    let moved = ServerError::new("MOVED 12 10.0.0.1:7000");
    assert_eq!(moved.redirect(), Some((12, "10.0.0.1:7000")));
    assert_eq!(moved.code(), "MOVED");
    assert_eq!(
        ServerError::new("ERR unknown command 'FOO'").detail(),
        "unknown command 'FOO'"
    );
    assert_eq!(ServerError::new("ERR").detail(), "");
}

/// A stand-in backend: remembers nothing, answers by command name.
struct Scripted;

impl Executor for Scripted {
    async fn execute(&self, cmd: Cmd) -> Result<Value> {
        let reply = match &cmd.name()[..] {
            "PING" => Value::simple("PONG"),
            "GET" => Value::bulk("not a number"),
            _ => Value::error("ERR unknown command"),
        };
        reply_result(&cmd, reply)
    }

    async fn execute_pipeline(&self, pipeline: Pipeline) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for cmd in pipeline {
            out.push(
                self.execute(cmd)
                    .await
                    .unwrap_or_else(|e| match e.server_error() {
                        Some(se) => Value::error(se.text().to_owned()),
                        None => Value::Null,
                    }),
            );
        }
        Ok(out)
    }
}

async fn generic_ping<E: Executor + ?Sized>(e: &E) -> Result<String> {
    e.query(Cmd::new("PING")).await
}

#[test]
fn the_executor_seam_names_the_failing_command() {
    futures::executor::block_on(async {
        assert_eq!(generic_ping(&Scripted).await.unwrap(), "PONG");

        let err = Scripted.query::<i64>(Cmd::new("get").arg("k")).await.unwrap_err();
        assert_eq!(err.command(), Some("GET"));
        assert_eq!(
            err.to_string(),
            "GET: expected an integer in i64's range, got bulk string \"not a number\""
        );

        let err = Scripted.execute(Cmd::new("NOPE")).await.unwrap_err();
        assert_eq!(err.to_string(), "NOPE: ERR unknown command");
        assert_eq!(err.server_kind(), Some(&ErrorKind::Err));
        assert!(!err.is_connection_error());

        let replies = Scripted
            .execute_pipeline(Pipeline::new().with(Cmd::new("PING")).with(Cmd::new("NOPE")))
            .await
            .unwrap();
        assert_eq!(
            replies,
            [Value::simple("PONG"), Value::error("ERR unknown command")]
        );
    });
}

#[test]
fn dynamic_executors_are_executors_again() {
    futures::executor::block_on(async {
        let boxed: Box<dyn DynExecutor> = Box::new(Scripted);
        assert_eq!(generic_ping(&boxed).await.unwrap(), "PONG");
        let shared: Arc<dyn DynExecutor> = Arc::new(Scripted);
        assert_eq!(generic_ping(&*shared).await.unwrap(), "PONG");
        assert_eq!(generic_ping(&Arc::new(Scripted)).await.unwrap(), "PONG");
        let by_ref: &dyn DynExecutor = &Scripted;
        assert_eq!(generic_ping(by_ref).await.unwrap(), "PONG");
    });
}

#[test]
fn error_helpers() {
    let e = Error::Timeout {
        command: None,
        after: std::time::Duration::from_millis(5),
    }
    .with_command("GET");
    assert_eq!(e.to_string(), "GET: timed out after 5ms");
    assert!(e.is_timeout());
    let e = Error::from(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe")).with_command("SET");
    assert!(e.is_connection_error());
    assert_eq!(e.to_string(), "SET: I/O error: pipe");
    assert_eq!(Error::Closed.with_command("X").command(), None);
    let lost = Error::ConnectionLost {
        command: Some("INCR".into()),
        reason: "reset".into(),
    };
    assert_eq!(lost.to_string(), "INCR: connection lost: reset");
}
