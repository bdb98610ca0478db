//! HyperLogLog commands (`PFADD`, `PFCOUNT`, `PFMERGE`), and Redis's own sparse and dense encodings read back.

use crate::harness::*;

#[tokio::test]
async fn hyperloglogs_agree_with_redis() {
    let many = |prefix: &str, n: usize| {
        let mut c = format!("PFADD {prefix}");
        for i in 0..n {
            c.push_str(&format!(" {prefix}-element-{i}"));
        }
        c
    };
    let (small, medium, large, overlap) = (
        many("h1", 10),
        many("h2", 3000),
        many("h3", 20000),
        many("h2", 5000),
    );
    run_scenarios(&[
        &[
            "PFADD h",
            "PFADD h",
            "PFCOUNT h",
            "PFADD h a b c a",
            "PFADD h a",
            "PFCOUNT h",
            "TYPE h",
            "PFCOUNT nokey",
            "PFCOUNT h nokey",
        ],
        &[
            small.as_str(),
            medium.as_str(),
            large.as_str(),
            "PFCOUNT h1",
            "PFCOUNT h2",
            "PFCOUNT h3",
        ],
        &[
            "PFCOUNT h1 h2 h3",
            "PFMERGE m h1 h2",
            "PFCOUNT m",
            "PFMERGE m h3",
            "PFCOUNT m",
            "PFMERGE empty",
            "PFCOUNT empty",
            "EXISTS empty",
            overlap.as_str(),
            "PFCOUNT h2",
        ],
        &[
            "SET plain hello",
            "PFADD plain x",
            "PFCOUNT plain",
            "PFMERGE plain h1",
            "PFMERGE m plain",
            "LPUSH l a",
            "PFADD l x",
            "PFCOUNT l",
            "PFCOUNT h1 l",
            "PFADD",
        ],
    ])
    .await;
    // A HyperLogLog written by Redis (sparse while small, dense when large) reads back the same here.
    let Some((real, mock)) = servers().await else {
        return;
    };
    let mut pair = Pair::connect(&real, &mock, RespVersion::Resp2).await;
    for (key, n) in [("sparse", 50), ("dense", 5000)] {
        let add = many(key, n);
        let args: Vec<&str> = add.split(' ').collect();
        Pair::raw(&mut pair.real, &args).await;
        let Value::BulkString(bytes) = Pair::raw(&mut pair.real, &["GET", key]).await else {
            panic!("GET {key} on redis-server");
        };
        let set = Cmd::new("SET").arg(key).arg(bytes);
        pair.mock.send(&set).await.unwrap();
        let real_count = Pair::raw(&mut pair.real, &["PFCOUNT", key]).await;
        let mock_count = Pair::raw(&mut pair.mock, &["PFCOUNT", key]).await;
        assert_eq!(real_count, mock_count, "{key}");
        Pair::raw(&mut pair.real, &["PFADD", key, "one-more"]).await;
        Pair::raw(&mut pair.mock, &["PFADD", key, "one-more"]).await;
        assert_eq!(
            Pair::raw(&mut pair.real, &["PFCOUNT", key]).await,
            Pair::raw(&mut pair.mock, &["PFCOUNT", key]).await,
            "{key} after another add"
        );
    }
}
