//! String and bitmap commands against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use redkit::prelude::*;
use redkit::{BitOp, BitRange, BitUnit, Expiry, SetOptions, Ttl};

#[tokio::test]
async fn get_set_and_options() {
    each_protocol!(|c| {
        assert_eq!(c.get::<String>("missing").await.unwrap(), None);
        c.set("k", "v").await.unwrap();
        assert_eq!(c.get::<String>("k").await.unwrap().as_deref(), Some("v"));
        assert_eq!(c.get::<Bytes>("k").await.unwrap(), Some(Bytes::from_static(b"v")));
        // Binary-safe.
        c.set("bin", &b"a\x00\r\n"[..]).await.unwrap();
        assert_eq!(
            c.get::<Vec<u8>>("bin").await.unwrap(),
            Some(b"a\x00\r\n".to_vec())
        );

        assert!(!c.set_with("k", "w", SetOptions::new().nx()).await.unwrap());
        assert!(
            c.set_with("k", "w", SetOptions::new().xx().ttl(Duration::from_secs(100)))
                .await
                .unwrap()
        );
        assert!(matches!(c.pttl("k").await.unwrap(), Ttl::Expires(d) if d > Duration::from_secs(90)));
        assert!(c.set_with("k", "x", SetOptions::new().keep_ttl()).await.unwrap());
        assert!(matches!(c.pttl("k").await.unwrap(), Ttl::Expires(_)));
        assert_eq!(
            c.set_get::<String>("k", "y", SetOptions::new())
                .await
                .unwrap()
                .as_deref(),
            Some("x")
        );
        assert_eq!(c.pttl("k").await.unwrap(), Ttl::NoExpiry);
        assert_eq!(
            c.set_get::<String>("new", "1", SetOptions::new()).await.unwrap(),
            None
        );
        let at = std::time::SystemTime::now() + Duration::from_secs(500);
        assert!(
            c.set_with("k", "z", SetOptions::new().expire_at(at))
                .await
                .unwrap()
        );
        assert!(matches!(c.pttl("k").await.unwrap(), Ttl::Expires(d) if d > Duration::from_secs(400)));

        c.setex("ex", Duration::from_millis(1500), "v").await.unwrap();
        assert!(matches!(c.ttl("ex").await.unwrap().0, Ttl::Expires(d) if d == Duration::from_secs(2)));
        c.psetex("px", Duration::from_millis(5000), "v").await.unwrap();
        assert!(matches!(c.pttl("px").await.unwrap(), Ttl::Expires(d) if d <= Duration::from_secs(5)));
        assert!(c.setnx("nx", "1").await.unwrap());
        assert!(!c.setnx("nx", "2").await.unwrap());
    });
}

#[tokio::test]
async fn read_modify_commands() {
    each_protocol!(|c| {
        assert_eq!(c.append("s", "Hello").await.unwrap(), 5);
        assert_eq!(c.append("s", " World").await.unwrap(), 11);
        assert_eq!(c.strlen("s").await.unwrap(), 11);
        assert_eq!(c.strlen("nope").await.unwrap(), 0);
        assert_eq!(c.getrange::<String>("s", 0, 4).await.unwrap(), "Hello");
        assert_eq!(c.getrange::<String>("s", -5, -1).await.unwrap(), "World");
        assert_eq!(c.setrange("s", 6, "Redis").await.unwrap(), 11);
        assert_eq!(
            c.getset::<String>("s", "new").await.unwrap().as_deref(),
            Some("Hello Redis")
        );
        assert_eq!(c.getdel::<String>("s").await.unwrap().as_deref(), Some("new"));
        assert_eq!(c.getdel::<String>("s").await.unwrap(), None);

        c.set("g", "v").await.unwrap();
        assert_eq!(
            c.getex::<String>("g", Some(Expiry::In(Duration::from_secs(50))))
                .await
                .unwrap()
                .as_deref(),
            Some("v")
        );
        assert!(matches!(c.pttl("g").await.unwrap(), Ttl::Expires(_)));
        assert_eq!(
            c.getex::<String>("g", Some(Expiry::Persist))
                .await
                .unwrap()
                .as_deref(),
            Some("v")
        );
        assert_eq!(c.pttl("g").await.unwrap(), Ttl::NoExpiry);
        assert_eq!(c.getex::<String>("g", None).await.unwrap().as_deref(), Some("v"));
    });
}

#[tokio::test]
async fn counters_stay_signed() {
    each_protocol!(|c| {
        assert_eq!(c.incr("n").await.unwrap(), 1);
        assert_eq!(c.incr_by("n", 9).await.unwrap(), 10);
        assert_eq!(c.decr("n").await.unwrap(), 9);
        assert_eq!(c.decr_by("n", 20).await.unwrap(), -11);
        assert_eq!(c.get::<i64>("n").await.unwrap(), Some(-11));
        assert_eq!(c.incr_by_float("f", 10.5).await.unwrap(), 10.5);
        assert_eq!(c.incr_by_float("f", -0.25).await.unwrap(), 10.25);
        c.set("text", "abc").await.unwrap();
        let err = c.incr("text").await.unwrap_err();
        assert_eq!(err.command(), Some("INCR"));
        assert!(err.to_string().contains("not an integer"), "{err}");
    });
}

#[tokio::test]
async fn multi_key_commands() {
    each_protocol!(|c| {
        c.mset([("a", "1"), ("b", "2")]).await.unwrap();
        let got: Vec<Option<String>> = c.mget(["a", "missing", "b"]).await.unwrap();
        assert_eq!(got, [Some("1".to_owned()), None, Some("2".to_owned())]);
        assert!(!c.msetnx([("a", "x"), ("c", "3")]).await.unwrap());
        assert!(c.msetnx([("c", "3"), ("d", "4")]).await.unwrap());
        c.mset([("l1", "ohmytext"), ("l2", "mynewtext")]).await.unwrap();
        assert_eq!(c.lcs::<String>("l1", "l2").await.unwrap(), "mytext");
        assert_eq!(c.lcs_len("l1", "l2").await.unwrap(), 6);
    });
}

#[tokio::test]
async fn bitmaps() {
    each_protocol!(|c| {
        assert!(!c.setbit("bits", 7, true).await.unwrap());
        assert!(c.setbit("bits", 7, true).await.unwrap());
        assert!(c.getbit("bits", 7).await.unwrap());
        assert!(!c.getbit("bits", 100).await.unwrap());
        c.set("bc", "foobar").await.unwrap();
        assert_eq!(c.bitcount("bc", None).await.unwrap(), 26);
        assert_eq!(
            c.bitcount(
                "bc",
                Some(BitRange {
                    start: 1,
                    end: 1,
                    unit: BitUnit::Byte
                })
            )
            .await
            .unwrap(),
            6
        );
        assert_eq!(
            c.bitcount(
                "bc",
                Some(BitRange {
                    start: 5,
                    end: 30,
                    unit: BitUnit::Bit
                })
            )
            .await
            .unwrap(),
            17
        );
        c.set("x1", "foobar").await.unwrap();
        c.set("x2", "abcdef").await.unwrap();
        assert_eq!(c.bitop(BitOp::And, "dest", ["x1", "x2"]).await.unwrap(), 6);
        assert_eq!(c.get::<String>("dest").await.unwrap().as_deref(), Some("`bc`ab"));
        assert_eq!(c.bitop(BitOp::Not, "neg", "x1").await.unwrap(), 6);
        c.set("bp", &b"\xff\xf0\x00"[..]).await.unwrap();
        assert_eq!(c.bitpos("bp", false, None).await.unwrap(), 12);
        assert_eq!(
            c.bitpos(
                "bp",
                true,
                Some(BitRange {
                    start: 2,
                    end: -1,
                    unit: BitUnit::Byte
                })
            )
            .await
            .unwrap(),
            -1
        );
        let r = c
            .bitfield(
                "bf",
                [
                    "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1",
                ],
            )
            .await
            .unwrap();
        assert_eq!(r, [Some(1), Some(1)]);
        let r = c
            .bitfield("bf", ["OVERFLOW", "FAIL", "INCRBY", "u2", "100", "5"])
            .await
            .unwrap();
        assert_eq!(r, [None]);
        assert_eq!(c.bitfield_ro("bf", ["GET", "u2", "100"]).await.unwrap(), [1]);
    });
}
