//! Stream commands and consumer groups against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use redkit::prelude::*;
use redkit::{StreamEntry, StreamId, StreamTrim, XAddOptions, XReadOptions};

#[tokio::test]
async fn add_range_trim() {
    each_protocol!(|c| {
        let id1 = c
            .xadd_id("s", XAddOptions::new(), "1-1", [("f", "v1")])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(id1, StreamId::new(1, 1));
        let id2 = c
            .xadd_id("s", XAddOptions::new(), "1-*", [("f", "v2"), ("g", "w")])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(id2, StreamId::new(1, 2));
        let err = c
            .xadd_id("s", XAddOptions::new(), "1-1", ("f", "x"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("equal or smaller"), "{err}");
        let id3 = c
            .xadd("s", XAddOptions::new(), ("f", "v3"))
            .await
            .unwrap()
            .unwrap();
        assert!(id3 > id2);
        assert_eq!(
            c.xadd("nostream", XAddOptions::new().nomkstream(), ("f", "v"))
                .await
                .unwrap(),
            None
        );
        assert_eq!(c.xlen("s").await.unwrap(), 3);

        let all: Vec<StreamEntry<String>> = c.xrange("s", "-", "+", None).await.unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[1].fields,
            [
                ("f".to_owned(), "v2".to_owned()),
                ("g".to_owned(), "w".to_owned())
            ]
        );
        assert_eq!(all[1].get("g").map(String::as_str), Some("w"));
        let after: Vec<StreamEntry<String>> = c.xrange("s", "(1-1", "+", Some(1)).await.unwrap();
        assert_eq!(after[0].id, id2);
        let rev: Vec<StreamEntry<String>> = c.xrevrange("s", "+", "-", Some(1)).await.unwrap();
        assert_eq!(rev[0].id, id3);
        assert_eq!(c.xdel("s", [id1]).await.unwrap(), 1);
        for i in 0..10 {
            c.xadd("s", XAddOptions::new().trim(StreamTrim::maxlen(5)), ("i", i))
                .await
                .unwrap();
        }
        assert_eq!(c.xlen("s").await.unwrap(), 5);
        assert_eq!(c.xtrim("s", StreamTrim::maxlen(2)).await.unwrap(), 3);
        let approx = c
            .xtrim("s", StreamTrim::maxlen(0).approximate().limit(10))
            .await
            .unwrap();
        let exact = c
            .xtrim("s", StreamTrim::minid(StreamId::new(u64::MAX >> 1, 0)))
            .await
            .unwrap();
        assert_eq!(
            approx + exact,
            2,
            "approximate trimming may remove less, MINID removes the rest"
        );
        assert_eq!(c.xlen("s").await.unwrap(), 0);
        let info = c.xinfo_stream("s").await.unwrap();
        assert!(info.iter().any(|(k, _)| k == "length"));
    });
}

#[tokio::test]
async fn read_and_blocking_read() {
    each_protocol!(|c| {
        c.xadd_id("s", XAddOptions::new(), "5-0", ("a", "1"))
            .await
            .unwrap();
        let read = c
            .xread::<String>(XReadOptions::new(), &["s"], &["0"])
            .await
            .unwrap();
        assert_eq!(read["s"][0].id, StreamId::new(5, 0));
        let nothing = c
            .xread::<String>(
                XReadOptions::new().block(Duration::from_millis(50)),
                &["s"],
                &["$"],
            )
            .await
            .unwrap();
        assert!(nothing.is_empty());

        let reader = {
            let c = c.clone();
            tokio::spawn(async move {
                c.xread::<String>(
                    XReadOptions::new().count(1).block(Duration::from_secs(5)),
                    &["s"],
                    &["$"],
                )
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        c.xadd_id("s", XAddOptions::new(), "6-0", ("a", "2"))
            .await
            .unwrap();
        let woke = reader.await.unwrap().unwrap();
        assert_eq!(woke["s"][0].get("a").map(String::as_str), Some("2"));
    });
}

#[tokio::test]
async fn consumer_groups() {
    each_protocol!(|c| {
        c.xgroup_create("s", "g", "$", true).await.unwrap();
        let err = c.xgroup_create("s", "g", "$", false).await.unwrap_err();
        assert_eq!(
            err.server_kind(),
            Some(&redkit::ErrorKind::Other("BUSYGROUP".into()))
        );
        assert!(c.xgroup_createconsumer("s", "g", "alice").await.unwrap());
        for i in 1..=3 {
            c.xadd_id("s", XAddOptions::new(), format!("{i}-0"), ("n", i))
                .await
                .unwrap();
        }
        let got = c
            .xreadgroup::<String>("g", "alice", XReadOptions::new().count(2), &["s"], &[">"])
            .await
            .unwrap();
        assert_eq!(got["s"].len(), 2);
        let (count, lo, hi, consumers) = c.xpending("s", "g").await.unwrap();
        assert_eq!(
            (count, lo.as_deref(), hi.as_deref()),
            (2, Some("1-0"), Some("2-0"))
        );
        assert_eq!(consumers.unwrap(), [("alice".to_owned(), 2)]);
        let detail = c
            .xpending_range("s", "g", None, "-", "+", 10, Some("alice"))
            .await
            .unwrap();
        assert_eq!(detail.len(), 2);
        assert_eq!(
            (detail[0].0, detail[0].1.as_str(), detail[0].3),
            (StreamId::new(1, 0), "alice", 1)
        );
        assert_eq!(c.xack("s", "g", ["1-0"]).await.unwrap(), 1);

        let claimed: Vec<StreamEntry<String>> = c
            .xclaim("s", "g", "bob", Duration::ZERO, "2-0", ("RETRYCOUNT", 5))
            .await
            .unwrap();
        assert_eq!(claimed[0].id, StreamId::new(2, 0));
        let ids = c
            .xclaim_ids("s", "g", "alice", Duration::ZERO, "2-0", ["FORCE"])
            .await
            .unwrap();
        assert_eq!(ids, [StreamId::new(2, 0)]);
        c.xreadgroup::<String>("g", "bob", XReadOptions::new().noack(), &["s"], &[">"])
            .await
            .unwrap();
        let (next, entries, deleted): (StreamId, Vec<StreamEntry<String>>, Vec<StreamId>) = c
            .xautoclaim("s", "g", "bob", Duration::ZERO, "0-0", Some(10))
            .await
            .unwrap();
        assert_eq!((next, entries.len(), deleted.len()), (StreamId::new(0, 0), 1, 0));

        assert_eq!(c.xinfo_groups("s").await.unwrap().len(), 1);
        assert_eq!(c.xinfo_consumers("s", "g").await.unwrap().len(), 2);
        c.xgroup_setid("s", "g", "0").await.unwrap();
        assert_eq!(c.xgroup_delconsumer("s", "g", "bob").await.unwrap(), 1);
        assert!(c.xgroup_destroy("s", "g").await.unwrap());
        assert!(!c.xgroup_destroy("s", "g").await.unwrap());
    });
}
