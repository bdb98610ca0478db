//! Sorted set commands: `ZADD` and its flags, scores and ranks, `ZRANGE` in all its forms, pops, `ZMPOP`, the
//! set algebra of `ZUNION`/`ZINTER`/`ZDIFF`, and score formatting.

use crate::harness::*;

#[tokio::test]
async fn sorted_sets_agree_with_redis() {
    run_scenarios(&[
        &[
            "ZADD z 1 a 2 b 3.5 c",
            "ZADD z NX 9 a",
            "ZADD z XX CH 1.5 a",
            "ZADD z GT CH 1 a",
            "ZADD z LT CH 1 a",
            "ZCARD z",
        ],
        &[
            "ZADD z INCR 0.5 a",
            "ZADD z NX INCR 1 a",
            "ZADD z XX NX 1 a",
            "ZADD z GT LT 1 a",
            "ZADD z INCR 1 a 2 b",
            "ZADD z 1",
        ],
        &[
            "ZADD z x a",
            "ZADD z 0.1 d -inf e +inf f",
            "ZSCORE z d",
            "ZSCORE z e",
            "ZSCORE z nope",
            "ZMSCORE z a nope f",
        ],
        &[
            "ZRANK z b",
            "ZREVRANK z b",
            "ZRANK z nope",
            "ZINCRBY z 10 a",
            "ZINCRBY z x a",
            "ZCOUNT z (2 +inf",
            "ZCOUNT z -inf 2",
        ],
        &[
            "ZCOUNT z x 1",
            "ZRANGE z 0 -1",
            "ZRANGE z 0 -1 WITHSCORES",
            "ZRANGE z 0 0 REV",
            "ZRANGE z -2 -1 WITHSCORES",
        ],
        &[
            "ZRANGE z (1 +inf BYSCORE",
            "ZRANGE z +inf (1 BYSCORE REV LIMIT 0 2",
            "ZRANGE z 0 -1 LIMIT 0 1",
            "ZRANGE z 5 1",
        ],
        &[
            "ZRANGE z -inf +inf BYSCORE LIMIT 1 -1 WITHSCORES",
            "ZRANGE z - + BYLEX WITHSCORES",
            "ZRANGE z 0 -1 FOO",
        ],
        &[
            "ZRANGEBYSCORE z -inf 3.5",
            "ZRANGEBYSCORE z -inf +inf LIMIT 1 1 WITHSCORES",
            "ZREVRANGE z 0 1 WITHSCORES",
        ],
        &[
            "ZREVRANGEBYSCORE z +inf (2",
            "ZRANGEBYSCORE z (1 (2",
            "ZRANGESTORE dst z 0 1",
            "ZRANGE dst 0 -1 WITHSCORES",
        ],
        &[
            "ZRANGESTORE dst z (100 +inf BYSCORE",
            "EXISTS dst",
            "ZREM z a nope",
            "ZREM nokey a",
            "ZRANDMEMBER z 2",
            "ZRANDMEMBER nokey",
        ],
        &[
            "ZADD l 0 a 0 b 0 c 0 d 0 e",
            "ZLEXCOUNT l [b +",
            "ZRANGE l [b (d BYLEX",
            "ZRANGE l + - BYLEX REV LIMIT 0 2",
        ],
        &[
            "ZRANGEBYLEX l - [b",
            "ZREVRANGEBYLEX l + [d LIMIT 0 1",
            "ZRANGEBYLEX l a b",
            "ZREMRANGEBYLEX l - [a",
            "ZREMRANGEBYRANK l 0 0",
        ],
        &[
            "ZADD s 1 x 2 y 3 z",
            "ZREMRANGEBYSCORE s 2 +inf",
            "ZRANGE s 0 -1",
            "ZADD p 1 a 2 b 3 c 4 d",
            "ZPOPMIN p",
            "ZPOPMAX p 2",
        ],
        &[
            "ZPOPMIN p 0",
            "ZPOPMIN p -1",
            "ZPOPMIN nokey",
            "ZPOPMAX nokey 2",
            "ZADD m 5 p 6 q",
            "ZMPOP 2 nokey m MAX",
            "ZMPOP 1 m MIN COUNT 5",
        ],
        &[
            "ZMPOP 1 nokey MIN",
            "ZMPOP 0 m MIN",
            "ZADD a 1 x 2 y",
            "ZADD b 10 y 20 z",
            "SADD plain y w",
            "ZUNION 2 a b WITHSCORES",
        ],
        &[
            "ZINTER 2 a b WEIGHTS 2 1 AGGREGATE MAX WITHSCORES",
            "ZDIFF 2 a b WITHSCORES",
            "ZUNION 3 a b plain WITHSCORES",
        ],
        &[
            "ZUNIONSTORE u 2 a b AGGREGATE MIN",
            "ZRANGE u 0 -1 WITHSCORES",
            "ZINTERSTORE i 2 a b",
            "ZDIFFSTORE d 2 a b",
        ],
        &[
            "ZINTERCARD 2 a b",
            "ZINTERCARD 2 a b LIMIT 1",
            "ZUNION 0 a",
            "ZUNIONSTORE u 0 a",
            "ZINTER 2 a",
            "ZUNION 2 a b WEIGHTS 1 x",
        ],
        &[
            "ZUNION 2 a b AGGREGATE AVG",
            "SET str v",
            "ZADD str 1 a",
            "ZRANGE str 0 -1",
            "ZUNION 2 a str",
            "ZSCAN a 0 MATCH x",
        ],
        &[
            "ZADD f 0.1 a 1e20 b 1.5e-7 c 123456789.123 d",
            "ZRANGE f 0 -1 WITHSCORES",
            "ZINCRBY f 0.2 a",
            "ZADD f -0 z",
            "ZSCORE f z",
        ],
    ])
    .await;
}
