//! List commands, blocking ones included, against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use redkit::prelude::*;
use redkit::{LPosOptions, Position, Side};

#[tokio::test]
async fn push_pop_range() {
    each_protocol!(|c| {
        assert_eq!(c.rpush("l", ["a", "b", "c"]).await.unwrap(), 3);
        assert_eq!(c.lpush("l", "z").await.unwrap(), 4);
        assert_eq!(c.lpushx("nope", "x").await.unwrap(), 0);
        assert_eq!(c.rpushx("l", "d").await.unwrap(), 5);
        assert_eq!(c.lpushx("l", "y").await.unwrap(), 6);
        assert_eq!(
            c.lrange::<String>("l", 0, -1).await.unwrap(),
            ["y", "z", "a", "b", "c", "d"]
        );
        assert_eq!(c.llen("l").await.unwrap(), 6);
        assert_eq!(c.lindex::<String>("l", -1).await.unwrap().as_deref(), Some("d"));
        assert_eq!(c.lindex::<String>("l", 100).await.unwrap(), None);
        assert_eq!(c.lpop::<String>("l").await.unwrap().as_deref(), Some("y"));
        assert_eq!(c.rpop::<String>("l").await.unwrap().as_deref(), Some("d"));
        assert_eq!(c.lpop_count::<String>("l", 2).await.unwrap(), ["z", "a"]);
        assert_eq!(c.rpop_count::<String>("l", 5).await.unwrap(), ["c", "b"]);
        assert_eq!(c.lpop::<String>("l").await.unwrap(), None);
        assert_eq!(
            c.lpop_count::<String>("l", 2).await.unwrap(),
            Vec::<String>::new()
        );
    });
}

#[tokio::test]
async fn edit_in_place() {
    each_protocol!(|c| {
        c.rpush("l", ["a", "b", "a", "c", "a"]).await.unwrap();
        c.lset("l", 1, "B").await.unwrap();
        assert!(c.lset("l", 99, "x").await.is_err());
        assert_eq!(c.linsert("l", Position::Before, "c", "pre").await.unwrap(), 6);
        assert_eq!(c.linsert("l", Position::After, "zzz", "x").await.unwrap(), -1);
        assert_eq!(c.lrem("l", -1, "a").await.unwrap(), 1);
        assert_eq!(
            c.lrange::<String>("l", 0, -1).await.unwrap(),
            ["a", "B", "a", "pre", "c"]
        );
        assert_eq!(c.lpos("l", "a", LPosOptions::new()).await.unwrap(), Some(0));
        assert_eq!(
            c.lpos("l", "a", LPosOptions::new().rank(2)).await.unwrap(),
            Some(2)
        );
        assert_eq!(
            c.lpos("l", "a", LPosOptions::new().rank(-1)).await.unwrap(),
            Some(2)
        );
        assert_eq!(c.lpos("l", "q", LPosOptions::new()).await.unwrap(), None);
        assert_eq!(
            c.lpos_count("l", "a", 0, LPosOptions::new()).await.unwrap(),
            [0, 2]
        );
        assert_eq!(
            c.lpos_count("l", "a", 0, LPosOptions::new().maxlen(1))
                .await
                .unwrap(),
            [0]
        );
        c.ltrim("l", 1, 2).await.unwrap();
        assert_eq!(c.lrange::<String>("l", 0, -1).await.unwrap(), ["B", "a"]);
    });
}

#[tokio::test]
async fn moves_and_multi_pops() {
    each_protocol!(|c| {
        c.rpush("src", ["1", "2", "3"]).await.unwrap();
        assert_eq!(
            c.lmove::<String>("src", "dst", Side::Left, Side::Right)
                .await
                .unwrap()
                .as_deref(),
            Some("1")
        );
        assert_eq!(
            c.rpoplpush::<String>("src", "dst").await.unwrap().as_deref(),
            Some("3")
        );
        assert_eq!(c.lrange::<String>("dst", 0, -1).await.unwrap(), ["3", "1"]);
        assert_eq!(
            c.lmpop::<String>(&["empty", "dst"], Side::Left, 5).await.unwrap(),
            Some(("dst".to_owned(), vec!["3".to_owned(), "1".to_owned()]))
        );
        assert_eq!(c.lmpop::<String>(&["empty"], Side::Left, 1).await.unwrap(), None);
        assert_eq!(
            c.lmove::<String>("empty", "dst", Side::Left, Side::Left)
                .await
                .unwrap(),
            None
        );
    });
}

#[tokio::test]
async fn blocking_pops_wait_time_out_and_wake() {
    each_protocol!(|c| {
        // Times out: None, after about the timeout.
        let started = Instant::now();
        assert_eq!(
            c.blpop::<String>("q", Some(Duration::from_millis(100)))
                .await
                .unwrap(),
            None
        );
        assert!(started.elapsed() >= Duration::from_millis(90));

        c.rpush("q", ["a", "b"]).await.unwrap();
        assert_eq!(
            c.blpop::<String>(&["none", "q"], Some(Duration::from_secs(1)))
                .await
                .unwrap(),
            Some(("q".to_owned(), "a".to_owned()))
        );
        assert_eq!(
            c.brpop::<String>("q", Some(Duration::from_secs(1)))
                .await
                .unwrap(),
            Some(("q".to_owned(), "b".to_owned()))
        );

        // Wakes when another task pushes; meanwhile the shared connection keeps serving.
        let waiter = {
            let c = c.clone();
            tokio::spawn(async move {
                c.brpoplpush::<String>("q", "q2", Some(Duration::from_secs(5)))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            c.incr("unblocked-counter").await.unwrap(),
            1,
            "the shared connection is not stalled"
        );
        c.rpush("q", "c").await.unwrap();
        assert_eq!(waiter.await.unwrap().unwrap().as_deref(), Some("c"));

        c.rpush("q", "d").await.unwrap();
        assert_eq!(
            c.blmove::<String>("q", "q3", Side::Right, Side::Left, Some(Duration::from_secs(1)))
                .await
                .unwrap()
                .as_deref(),
            Some("d")
        );
        c.rpush("q", ["e", "f"]).await.unwrap();
        assert_eq!(
            c.blmpop::<String>(Some(Duration::from_secs(1)), &["q"], Side::Right, 2)
                .await
                .unwrap(),
            Some(("q".to_owned(), vec!["f".to_owned(), "e".to_owned()]))
        );
        assert_eq!(
            c.blmpop::<String>(Some(Duration::from_millis(50)), &["q"], Side::Right, 2)
                .await
                .unwrap(),
            None
        );
    });
}
