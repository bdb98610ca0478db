//! Blocking list and sorted set pops (`BLPOP`, `BLMOVE`, `BLMPOP`, `BZPOPMIN`, `BZMPOP`, …) when data is there or
//! the timeout is short, their argument errors, and inside `MULTI`.

use crate::harness::*;

#[tokio::test]
async fn blocking_commands_agree_with_redis_when_they_need_not_wait() {
    run_scenarios(&[
        &[
            "RPUSH q a b c",
            "BLPOP nokey q 1",
            "BRPOP q 1",
            "BLMOVE q dst LEFT RIGHT 1",
            "BRPOPLPUSH dst q 1",
            "LRANGE q 0 -1",
        ],
        &[
            "RPUSH q2 x y z",
            "BLMPOP 1 2 nokey q2 RIGHT COUNT 2",
            "BLPOP nokey 0.05",
            "BRPOP nokey 0.05",
            "BLMPOP 0.05 1 nokey LEFT",
        ],
        &[
            "BLPOP q abc",
            "BLPOP q -1",
            "BLMOVE q d UP LEFT 1",
            "BLMPOP 1 0 q LEFT",
            "BLMPOP 1 1 q LEFT COUNT 0",
        ],
        &[
            "ZADD z 1 a 2 b 3 c",
            "BZPOPMIN nokey z 1",
            "BZPOPMAX z 1",
            "BZMPOP 1 1 z MIN COUNT 5",
            "BZPOPMIN z 0.05",
            "BZMPOP 0.05 1 z MAX",
        ],
        &[
            "SET str v",
            "BLPOP str 1",
            "BZPOPMIN str 1",
            "MULTI",
            "BLPOP nokey 0",
            "BZPOPMAX nokey 0",
            "EXEC",
        ],
    ])
    .await;
}
