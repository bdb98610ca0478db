//! Sorted-set commands against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use redkit::prelude::*;
use redkit::{Aggregate, LexBound, ScanOptions, ScoreBound, ZAddOptions, ZCombineOptions, ZRangeOptions};

fn lex(s: &'static str) -> LexBound {
    LexBound::Inclusive(Bytes::from_static(s.as_bytes()))
}

#[tokio::test]
async fn add_score_rank_range() {
    each_protocol!(|c| {
        assert_eq!(
            c.zadd("z", ZAddOptions::new(), [(1.0, "a"), (2.0, "b"), (3.5, "c")])
                .await
                .unwrap(),
            3
        );
        assert_eq!(c.zadd("z", ZAddOptions::new().nx(), (9.0, "a")).await.unwrap(), 0);
        assert_eq!(
            c.zadd("z", ZAddOptions::new().xx().ch(), (1.5, "a"))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            c.zadd("z", ZAddOptions::new().gt().ch(), (1.0, "a"))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            c.zadd("z", ZAddOptions::new().lt().ch(), (1.0, "a"))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            c.zadd_incr("z", ZAddOptions::new(), 0.5, "a").await.unwrap(),
            Some(1.5)
        );
        assert_eq!(
            c.zadd_incr("z", ZAddOptions::new().nx(), 1.0, "a").await.unwrap(),
            None
        );
        assert_eq!(c.zcard("z").await.unwrap(), 3);
        assert_eq!(c.zscore("z", "c").await.unwrap(), Some(3.5));
        assert_eq!(c.zscore("z", "nope").await.unwrap(), None);
        assert_eq!(c.zmscore("z", ["a", "nope"]).await.unwrap(), [Some(1.5), None]);
        assert_eq!(c.zrank("z", "b").await.unwrap(), Some(1));
        assert_eq!(c.zrevrank("z", "b").await.unwrap(), Some(1));
        assert_eq!(c.zrank("z", "nope").await.unwrap(), None);
        assert_eq!(c.zincr_by("z", 10.0, "a").await.unwrap(), 11.5);
        assert_eq!(
            c.zcount("z", ScoreBound::Exclusive(2.0), ScoreBound::PlusInf)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            c.zcount("z", ScoreBound::MinusInf, ScoreBound::Inclusive(2.0))
                .await
                .unwrap(),
            1
        );

        assert_eq!(
            c.zrange::<String>("z", ZRangeOptions::rank(0, -1)).await.unwrap(),
            ["b", "c", "a"]
        );
        assert_eq!(
            c.zrange::<String>("z", ZRangeOptions::rank(0, 0).rev())
                .await
                .unwrap(),
            ["a"]
        );
        let by_score = ZRangeOptions::score(ScoreBound::Inclusive(2.0), ScoreBound::PlusInf);
        assert_eq!(
            c.zrange::<String>("z", by_score.clone()).await.unwrap(),
            ["b", "c", "a"]
        );
        assert_eq!(
            c.zrange::<String>("z", by_score.clone().rev().limit(0, 2))
                .await
                .unwrap(),
            ["a", "c"]
        );
        let scored = c
            .zrange_with_scores::<String>("z", ZRangeOptions::rank(0, 1))
            .await
            .unwrap();
        assert_eq!(scored, [("b".to_owned(), 2.0), ("c".to_owned(), 3.5)]);
        assert_eq!(c.zrangestore("copy", "z", by_score.limit(1, 5)).await.unwrap(), 2);
        assert_eq!(
            c.zrangebyscore::<String>("z", ScoreBound::MinusInf, ScoreBound::Inclusive(3.5), None)
                .await
                .unwrap(),
            ["b", "c"]
        );
        assert_eq!(
            c.zrangebyscore::<String>("z", ScoreBound::MinusInf, ScoreBound::PlusInf, Some((1, 1)))
                .await
                .unwrap(),
            ["c"]
        );
        assert_eq!(c.zrevrange::<String>("z", 0, 0).await.unwrap(), ["a"]);
        assert_eq!(
            c.zrevrangebyscore::<String>("z", ScoreBound::PlusInf, ScoreBound::Exclusive(2.0), None)
                .await
                .unwrap(),
            ["a", "c"]
        );
        assert!(c.zrandmember::<String>("z").await.unwrap().is_some());
        assert_eq!(
            c.zrandmember_with_scores::<String>("z", 2).await.unwrap().len(),
            2
        );
        let scanned: Vec<(String, f64)> =
            redkit::collect_scan(redkit::zscan_all(&c, "z", ScanOptions::new()))
                .await
                .unwrap();
        assert_eq!(scanned.len(), 3);
        assert_eq!(
            c.zscan::<String>("z", 0, ScanOptions::new().pattern("c"))
                .await
                .unwrap()
                .items,
            [("c".to_owned(), 3.5)]
        );
        assert_eq!(c.zrem("z", ["c", "nope"]).await.unwrap(), 1);
    });
}

#[tokio::test]
async fn lex_ranges_and_removal() {
    each_protocol!(|c| {
        let members: Vec<(f64, &str)> = ["a", "b", "c", "d", "e"].iter().map(|m| (0.0, *m)).collect();
        c.zadd("l", ZAddOptions::new(), &members).await.unwrap();
        assert_eq!(c.zlexcount("l", lex("b"), LexBound::Max).await.unwrap(), 4);
        assert_eq!(
            c.zrange::<String>(
                "l",
                ZRangeOptions::lex(lex("b"), LexBound::Exclusive(Bytes::from_static(b"d")))
            )
            .await
            .unwrap(),
            ["b", "c"]
        );
        assert_eq!(
            c.zrange::<String>(
                "l",
                ZRangeOptions::lex(LexBound::Min, LexBound::Max).rev().limit(0, 1)
            )
            .await
            .unwrap(),
            ["e"]
        );
        assert_eq!(
            c.zrangebylex::<String>("l", LexBound::Min, lex("b"), None)
                .await
                .unwrap(),
            ["a", "b"]
        );
        assert_eq!(
            c.zrevrangebylex::<String>("l", LexBound::Max, lex("d"), Some((0, 1)))
                .await
                .unwrap(),
            ["e"]
        );
        assert_eq!(c.zremrangebylex("l", LexBound::Min, lex("a")).await.unwrap(), 1);
        assert_eq!(c.zremrangebyrank("l", 0, 0).await.unwrap(), 1);
        c.zadd("s", ZAddOptions::new(), [(1.0, "x"), (2.0, "y"), (3.0, "z")])
            .await
            .unwrap();
        assert_eq!(
            c.zremrangebyscore("s", ScoreBound::Inclusive(2.0), ScoreBound::PlusInf)
                .await
                .unwrap(),
            2
        );
    });
}

#[tokio::test]
async fn pops_and_blocking_pops() {
    each_protocol!(|c| {
        c.zadd(
            "z",
            ZAddOptions::new(),
            [(1.0, "a"), (2.0, "b"), (3.0, "c"), (4.0, "d")],
        )
        .await
        .unwrap();
        assert_eq!(
            c.zpopmin::<String>("z", 1).await.unwrap(),
            [("a".to_owned(), 1.0)]
        );
        assert_eq!(
            c.zpopmax::<String>("z", 2).await.unwrap(),
            [("d".to_owned(), 4.0), ("c".to_owned(), 3.0)]
        );
        assert_eq!(
            c.zpopmin::<String>("empty", 1).await.unwrap(),
            Vec::<(String, f64)>::new()
        );
        assert_eq!(
            c.bzpopmin::<String>(&["empty", "z"], Some(Duration::from_secs(1)))
                .await
                .unwrap(),
            Some(("z".to_owned(), "b".to_owned(), 2.0))
        );
        assert_eq!(
            c.bzpopmax::<String>("z", Some(Duration::from_millis(50)))
                .await
                .unwrap(),
            None
        );
        c.zadd("m", ZAddOptions::new(), [(5.0, "p"), (6.0, "q")])
            .await
            .unwrap();
        assert_eq!(
            c.zmpop::<String>(&["empty", "m"], false, 1).await.unwrap(),
            Some(("m".to_owned(), vec![("q".to_owned(), 6.0)]))
        );
        assert_eq!(c.zmpop::<String>(&["empty"], true, 1).await.unwrap(), None);
    });
}

#[tokio::test]
async fn set_algebra() {
    each_protocol!(|c| {
        c.zadd("a", ZAddOptions::new(), [(1.0, "x"), (2.0, "y")])
            .await
            .unwrap();
        c.zadd("b", ZAddOptions::new(), [(10.0, "y"), (20.0, "z")])
            .await
            .unwrap();
        let sum = c
            .zunion::<String>(&["a", "b"], ZCombineOptions::new())
            .await
            .unwrap();
        assert_eq!(
            sum,
            [
                ("x".to_owned(), 1.0),
                ("y".to_owned(), 12.0),
                ("z".to_owned(), 20.0)
            ]
        );
        let weighted = c
            .zinter::<String>(
                &["a", "b"],
                ZCombineOptions::new()
                    .weights([2.0, 1.0])
                    .aggregate(Aggregate::Max),
            )
            .await
            .unwrap();
        assert_eq!(weighted, [("y".to_owned(), 10.0)]);
        assert_eq!(
            c.zdiff::<String>(&["a", "b"]).await.unwrap(),
            [("x".to_owned(), 1.0)]
        );
        assert_eq!(
            c.zunionstore("u", &["a", "b"], ZCombineOptions::new().aggregate(Aggregate::Min))
                .await
                .unwrap(),
            3
        );
        assert_eq!(c.zscore("u", "y").await.unwrap(), Some(2.0));
        assert_eq!(
            c.zinterstore("i", &["a", "b"], ZCombineOptions::new())
                .await
                .unwrap(),
            1
        );
        assert_eq!(c.zdiffstore("d", &["a", "b"]).await.unwrap(), 1);
        assert_eq!(c.zintercard(&["a", "b"], 0).await.unwrap(), 1);
    });
}
