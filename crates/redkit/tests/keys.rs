//! Key commands against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use redkit::prelude::*;
use redkit::{ExpireCondition, ExpireTime, ScanOptions, Ttl};

#[tokio::test]
async fn existence_types_and_deletion() {
    each_protocol!(|c| {
        c.mset([("a", "1"), ("b", "2"), ("c", "3")]).await.unwrap();
        c.lpush("list", "x").await.unwrap();
        assert_eq!(c.exists(["a", "b", "nope", "a"]).await.unwrap(), 3);
        assert_eq!(c.key_type("a").await.unwrap(), "string");
        assert_eq!(c.key_type("list").await.unwrap(), "list");
        assert_eq!(c.key_type("nope").await.unwrap(), "none");
        assert_eq!(c.del(["a", "nope"]).await.unwrap(), 1);
        assert_eq!(c.unlink("b").await.unwrap(), 1);
        assert_eq!(c.touch(["c", "nope"]).await.unwrap(), 1);
        assert!(c.randomkey::<String>().await.unwrap().is_some());
        let mut keys: Vec<String> = c.keys("*").await.unwrap();
        keys.sort();
        assert_eq!(keys, ["c", "list"]);
        assert_eq!(c.object_encoding("c").await.unwrap().as_deref(), Some("int"));
        assert!(c.object_idletime("c").await.unwrap().is_some());
        assert!(c.object_freq("c").await.is_err(), "FREQ needs an LFU policy");
        assert_eq!(c.object_encoding("nope").await.unwrap(), None);
    });
}

#[tokio::test]
async fn expiry_in_durations_and_times() {
    each_protocol!(|c| {
        c.set("k", "v").await.unwrap();
        assert_eq!(c.ttl("k").await.unwrap().0, Ttl::NoExpiry);
        assert_eq!(c.ttl("nope").await.unwrap().0, Ttl::NoKey);
        assert_eq!(c.pttl("nope").await.unwrap(), Ttl::NoKey);
        assert!(
            c.expire("k", Duration::from_secs(100), ExpireCondition::Always)
                .await
                .unwrap()
        );
        assert!(
            !c.expire("k", Duration::from_secs(50), ExpireCondition::Gt)
                .await
                .unwrap()
        );
        assert!(
            c.expire("k", Duration::from_secs(50), ExpireCondition::Lt)
                .await
                .unwrap()
        );
        assert!(
            !c.expire("k", Duration::from_secs(50), ExpireCondition::Nx)
                .await
                .unwrap()
        );
        assert!(
            c.pexpire("k", Duration::from_millis(40_500), ExpireCondition::Xx)
                .await
                .unwrap()
        );
        assert!(
            matches!(c.pttl("k").await.unwrap(), Ttl::Expires(d) if d <= Duration::from_millis(40_500) && d > Duration::from_secs(39))
        );
        assert!(
            !c.expire("nope", Duration::from_secs(1), ExpireCondition::Always)
                .await
                .unwrap()
        );

        let at = SystemTime::now() + Duration::from_secs(1000);
        assert!(c.expire_at("k", at, ExpireCondition::Always).await.unwrap());
        let secs = c.expiretime("k").await.unwrap();
        assert!(secs > 0);
        assert!(c.pexpire_at("k", at, ExpireCondition::Always).await.unwrap());
        match c.pexpiretime("k").await.unwrap() {
            ExpireTime::At(t) => {
                let diff = t.duration_since(at).unwrap_or_else(|e| e.duration());
                assert!(diff < Duration::from_millis(2), "{diff:?}");
            }
            other => panic!("expected an expiry time, got {other:?}"),
        }
        assert_eq!(c.pexpiretime("nope").await.unwrap(), ExpireTime::NoKey);
        assert!(c.persist("k").await.unwrap());
        assert_eq!(c.pexpiretime("k").await.unwrap(), ExpireTime::NoExpiry);
        assert!(!c.persist("k").await.unwrap());
        assert_eq!(c.expiretime("k").await.unwrap(), -1);

        // A key that expires is gone afterwards (bounded wait).
        c.set("short", "v").await.unwrap();
        c.pexpire("short", Duration::from_millis(30), ExpireCondition::Always)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(c.get::<String>("short").await.unwrap(), None);
    });
}

#[tokio::test]
async fn rename_copy_move() {
    each_protocol!(|c| {
        c.set("a", "1").await.unwrap();
        c.rename("a", "b").await.unwrap();
        assert!(c.rename("nope", "x").await.is_err());
        c.set("c", "3").await.unwrap();
        assert!(!c.renamenx("b", "c").await.unwrap());
        assert!(c.renamenx("b", "d").await.unwrap());
        assert!(c.copy("d", "e", false).await.unwrap());
        assert!(!c.copy("d", "e", false).await.unwrap());
        assert!(c.copy("c", "e", true).await.unwrap());
        assert_eq!(c.get::<String>("e").await.unwrap().as_deref(), Some("3"));
        assert!(c.copy_to_db("e", "e", 1, false).await.unwrap());
        assert!(c.move_to_db("d", 2).await.unwrap());
        assert_eq!(c.exists("d").await.unwrap(), 0);
    });
}

#[tokio::test]
async fn dump_restore() {
    // DUMP/RESTORE (Redis's RDB payload) is not in the embedded server: real server only.
    each_protocol!(real_only, |c| {
        c.set("e", "3").await.unwrap();
        let dumped = c.dump("e").await.unwrap().expect("dump of an existing key");
        assert_eq!(c.dump("nope").await.unwrap(), None);
        c.restore("restored", Duration::ZERO, dumped.clone(), false)
            .await
            .unwrap();
        assert!(
            c.restore("restored", Duration::ZERO, dumped.clone(), false)
                .await
                .is_err(),
            "BUSYKEY"
        );
        c.restore("restored", Duration::from_secs(100), dumped, true)
            .await
            .unwrap();
        assert_eq!(c.get::<String>("restored").await.unwrap().as_deref(), Some("3"));
        assert!(matches!(c.pttl("restored").await.unwrap(), Ttl::Expires(_)));
    });
}

#[tokio::test]
async fn scan_pages_and_streams_visit_every_key() {
    each_protocol!(|c| {
        let pairs: Vec<(String, i64)> = (0..250).map(|i| (format!("user:{i}"), i)).collect();
        c.mset(&pairs).await.unwrap();
        c.sadd("other", "x").await.unwrap();

        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        for _ in 0..1000 {
            let page = c
                .scan::<String>(cursor, ScanOptions::new().pattern("user:*").count(50))
                .await
                .unwrap();
            seen.extend(page.items);
            cursor = page.cursor;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(cursor, 0, "the scan finished within the bound");
        assert_eq!(seen.len(), 250);

        let all: Vec<String> = redkit::collect_scan(redkit::scan_all(&c, ScanOptions::new().count(20)))
            .await
            .unwrap();
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 251);
        let sets: Vec<String> = redkit::collect_scan(redkit::scan_all(&c, ScanOptions::new().kind("set")))
            .await
            .unwrap();
        assert_eq!(sets, ["other"]);
    });
}
