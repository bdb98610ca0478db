//! List commands: pushes and pops, ranges, `LSET`, `LINSERT`, `LREM`, `LPOS`, `LTRIM`, `LMOVE`, `LMPOP`.

use crate::harness::*;

#[tokio::test]
async fn lists_agree_with_redis() {
    run_scenarios(&[
        &[
            "RPUSH l a b c",
            "LPUSH l z",
            "LPUSHX nokey x",
            "RPUSHX l d",
            "LRANGE l 0 -1",
            "LLEN l",
            "LLEN nokey",
        ],
        &[
            "LRANGE l 1 2",
            "LRANGE l -2 -1",
            "LRANGE l 5 10",
            "LRANGE l -100 100",
            "LRANGE l 2 1",
            "LRANGE nokey 0 -1",
        ],
        &[
            "LINDEX l 0",
            "LINDEX l -1",
            "LINDEX l 99",
            "LINDEX l x",
            "LPOP l",
            "RPOP l",
            "LPOP l 2",
            "RPOP l 5",
            "LPOP l",
        ],
        &[
            "LPOP nokey",
            "LPOP nokey 2",
            "RPUSH l a",
            "LPOP l -1",
            "LPOP l 0",
            "EXISTS l",
            "RPUSH l a b",
            "LPOP l 1 2",
        ],
        &[
            "RPUSH m a b a c a",
            "LSET m 1 B",
            "LSET m 99 x",
            "LSET nokey 0 x",
            "LINSERT m BEFORE c pre",
            "LINSERT m AFTER zz x",
        ],
        &[
            "LINSERT m MIDDLE c x",
            "LINSERT nokey BEFORE a b",
            "LREM m -1 a",
            "LREM m 0 zz",
            "LRANGE m 0 -1",
            "LREM m 0 a",
        ],
        &[
            "RPUSH p a b a c a",
            "LPOS p a",
            "LPOS p a RANK 2",
            "LPOS p a RANK -1",
            "LPOS p a RANK 0",
            "LPOS p q",
            "LPOS p a COUNT 0",
        ],
        &[
            "LPOS p a COUNT 2 RANK -1",
            "LPOS p a COUNT 0 MAXLEN 1",
            "LPOS p a COUNT -1",
            "LPOS p a MAXLEN -1",
            "LPOS p a FOO 1",
        ],
        &[
            "LTRIM p 1 2",
            "LRANGE p 0 -1",
            "LTRIM p 5 10",
            "EXISTS p",
            "LTRIM nokey 0 1",
        ],
        &[
            "RPUSH src 1 2 3",
            "LMOVE src dst LEFT RIGHT",
            "RPOPLPUSH src dst",
            "LRANGE dst 0 -1",
            "LMOVE src dst UP DOWN",
        ],
        &[
            "LMOVE nokey dst LEFT LEFT",
            "SET str v",
            "LMOVE src str LEFT LEFT",
            "LMOVE nokey str LEFT LEFT",
            "RPOPLPUSH str dst",
        ],
        &[
            "LMPOP 2 nokey dst LEFT COUNT 5",
            "LMPOP 1 nokey LEFT",
            "LMPOP 0 a LEFT",
            "LMPOP 1 dst SIDEWAYS",
            "LMPOP 1 dst LEFT COUNT 0",
        ],
        &["LPUSH str x", "LRANGE str 0 1", "LLEN str", "LPOP str", "RPUSH"],
    ])
    .await;
}
