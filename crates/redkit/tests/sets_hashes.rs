//! Set and hash commands against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use redkit::ScanOptions;
use redkit::prelude::*;

#[tokio::test]
async fn sets() {
    each_protocol!(|c| {
        assert_eq!(c.sadd("s", ["a", "b", "c"]).await.unwrap(), 3);
        assert_eq!(c.sadd("s", "a").await.unwrap(), 0);
        assert_eq!(c.scard("s").await.unwrap(), 3);
        assert!(c.sismember("s", "a").await.unwrap());
        assert_eq!(c.smismember("s", ["a", "z"]).await.unwrap(), [true, false]);
        assert_eq!(
            c.smembers::<String>("s")
                .await
                .unwrap()
                .into_iter()
                .collect::<BTreeSet<_>>()
                .len(),
            3
        );
        let members: BTreeSet<String> = c.smembers("s").await.unwrap().into_iter().collect();
        assert_eq!(members, ["a", "b", "c"].map(String::from).into());
        assert_eq!(c.srem("s", ["c", "z"]).await.unwrap(), 1);
        assert!(c.srandmember::<String>("s").await.unwrap().is_some());
        assert_eq!(c.srandmember_count::<String>("s", 5).await.unwrap().len(), 2);
        assert_eq!(c.srandmember_count::<String>("s", -5).await.unwrap().len(), 5);
        assert!(c.smove("s", "t", "a").await.unwrap());
        assert!(!c.smove("s", "t", "zzz").await.unwrap());
        assert_eq!(c.spop::<String>("t").await.unwrap().as_deref(), Some("a"));
        assert_eq!(c.spop::<String>("t").await.unwrap(), None);
        c.sadd("p", ["1", "2", "3"]).await.unwrap();
        assert_eq!(c.spop_count::<String>("p", 2).await.unwrap().len(), 2);

        c.sadd("x", ["1", "2", "3"]).await.unwrap();
        c.sadd("y", ["2", "3", "4"]).await.unwrap();
        let sorted = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
        assert_eq!(
            sorted(c.sdiff(["x", "y"]).await.unwrap()),
            ["1"].map(String::from).into()
        );
        assert_eq!(
            sorted(c.sinter(["x", "y"]).await.unwrap()),
            ["2", "3"].map(String::from).into()
        );
        assert_eq!(sorted(c.sunion(["x", "y"]).await.unwrap()).len(), 4);
        assert_eq!(c.sdiffstore("d", ["x", "y"]).await.unwrap(), 1);
        assert_eq!(c.sinterstore("i", ["x", "y"]).await.unwrap(), 2);
        assert_eq!(c.sunionstore("u", ["x", "y"]).await.unwrap(), 4);
        assert_eq!(c.sintercard(&["x", "y"], 0).await.unwrap(), 2);
        assert_eq!(c.sintercard(&["x", "y"], 1).await.unwrap(), 1);

        let members: Vec<String> =
            redkit::collect_scan(redkit::sscan_all(&c, "u", ScanOptions::new().count(2)))
                .await
                .unwrap();
        assert_eq!(sorted(members).len(), 4);
        let page = c
            .sscan::<String>("u", 0, ScanOptions::new().pattern("1"))
            .await
            .unwrap();
        assert!(page.items.iter().all(|m| m == "1"));

        c.set("str", "v").await.unwrap();
        let err = c.sadd("str", "x").await.unwrap_err();
        assert_eq!(err.server_kind(), Some(&redkit::ErrorKind::WrongType));
    });
}

#[tokio::test]
async fn hashes() {
    each_protocol!(|c| {
        assert_eq!(c.hset("h", [("name", "ada"), ("born", "1815")]).await.unwrap(), 2);
        assert_eq!(c.hset("h", ("name", "Ada")).await.unwrap(), 0);
        assert_eq!(
            c.hget::<String>("h", "name").await.unwrap().as_deref(),
            Some("Ada")
        );
        assert_eq!(c.hget::<String>("h", "nope").await.unwrap(), None);
        let all: HashMap<String, String> = c.hgetall("h").await.unwrap();
        assert_eq!(all["born"], "1815");
        let ordered: BTreeMap<String, String> = c.hgetall("h").await.unwrap();
        assert_eq!(ordered.len(), 2);
        let pairs: Vec<(String, String)> = c.hgetall("h").await.unwrap();
        assert_eq!(pairs.len(), 2);
        let none: HashMap<String, String> = c.hgetall("missing").await.unwrap();
        assert!(none.is_empty());
        assert!(c.hexists("h", "name").await.unwrap());
        assert_eq!(c.hincr_by("h", "n", 5).await.unwrap(), 5);
        assert_eq!(c.hincr_by("h", "n", -7).await.unwrap(), -2);
        assert_eq!(c.hincr_by_float("h", "f", 1.5).await.unwrap(), 1.5);
        assert_eq!(c.hlen("h").await.unwrap(), 4);
        assert_eq!(c.hkeys::<String>("h").await.unwrap().len(), 4);
        assert_eq!(c.hvals::<String>("h").await.unwrap().len(), 4);
        assert!(!c.hsetnx("h", "name", "x").await.unwrap());
        assert!(c.hsetnx("h", "new", "x").await.unwrap());
        assert_eq!(
            c.hmget::<String>("h", &["name", "zzz"]).await.unwrap(),
            [Some("Ada".to_owned()), None]
        );
        c.hmset("h2", [("a", "1")]).await.unwrap();
        assert_eq!(c.hstrlen("h", "name").await.unwrap(), 3);
        assert_eq!(c.hdel("h", ["new", "zzz"]).await.unwrap(), 1);
        assert!(c.hrandfield::<String>("h").await.unwrap().is_some());
        assert_eq!(c.hrandfield_count::<String>("h", 2).await.unwrap().len(), 2);
        let with: Vec<(String, String)> = c.hrandfield_with_values("h", 10).await.unwrap();
        assert_eq!(with.len(), 4);
        let scanned: Vec<(String, String)> =
            redkit::collect_scan(redkit::hscan_all(&c, "h", ScanOptions::new()))
                .await
                .unwrap();
        assert_eq!(scanned.len(), 4);
        let page = c
            .hscan::<(String, String)>("h", 0, ScanOptions::new().pattern("na*"))
            .await
            .unwrap();
        assert_eq!(page.items, [("name".to_owned(), "Ada".to_owned())]);
    });
}
