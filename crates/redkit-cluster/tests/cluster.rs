//! The cluster client against a real Redis Cluster (3 primaries with a replica each, spawned for the test on free
//! loopback ports and killed afterwards). The scenarios share one cluster, in order, so the suite starts six
//! processes once rather than once per check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use redkit::prelude::*;
use redkit_cluster::{ClusterClient, key_slot};
use redkit_resp::{Cmd, ErrorKind, Executor, Pipeline, Value};
use redkit_test_support::{ClusterOptions, RedisCluster, RedisServer};

fn owner<'a>(cluster: &'a RedisCluster, client: &ClusterClient, key: &str) -> &'a RedisServer {
    let addr = client
        .topology()
        .primary_for(key_slot(key.as_bytes()))
        .unwrap()
        .clone();
    cluster.nodes().iter().find(|n| n.port() == addr.port).unwrap()
}

fn id(node: &RedisServer) -> String {
    node.cli(&["CLUSTER", "MYID"]).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_cluster() {
    let options = ClusterOptions {
        primaries: 3,
        replicas: 1,
        node_timeout_ms: 2000,
        require_full_coverage: true,
    };
    let Some(cluster) = RedisCluster::start_or_skip(options) else {
        return;
    };
    let client = ClusterClient::open(cluster.urls()).await.unwrap();
    let topology = client.topology();
    assert_eq!(topology.covered(), 16384);
    assert_eq!(topology.shards().len(), 3);
    assert!(
        topology.shards().iter().all(|s| s.replicas.len() == 1),
        "{topology:?}"
    );

    typed_commands_reach_the_owning_node(&cluster, &client).await;
    multi_key_commands_split_and_join(&client).await;
    cross_slot_commands_are_refused_unsent(&client).await;
    keyless_commands_follow_their_policies(&client).await;
    pipelines_span_every_slot(&client).await;
    transactions_stay_on_one_node(&client).await;
    moved_and_ask_are_followed(&cluster, &client).await;
}

async fn typed_commands_reach_the_owning_node(cluster: &RedisCluster, client: &ClusterClient) {
    for i in 0..200 {
        let key = format!("spread:{i}");
        client.set(&key, i).await.unwrap();
        // The value is on the node the slot table names, and nowhere else.
        let node = owner(cluster, client, &key);
        assert_eq!(node.cli(&["GET", &key]).unwrap(), i.to_string(), "{key}");
    }
    let value: Option<i64> = client.get("spread:7").await.unwrap();
    assert_eq!(value, Some(7));
    assert_eq!(client.incr("spread:7").await.unwrap(), 8);
    client.hset("h{spread}", ("f", "v")).await.unwrap();
    let field: Option<String> = client.hget("h{spread}", "f").await.unwrap();
    assert_eq!(field.as_deref(), Some("v"));
}

async fn multi_key_commands_split_and_join(client: &ClusterClient) {
    let keys: Vec<String> = (0..20).map(|i| format!("multi:{i}")).collect();
    let slots: std::collections::HashSet<u16> = keys.iter().map(|k| key_slot(k.as_bytes())).collect();
    assert!(slots.len() > 10, "the keys span many slots");
    let pairs: Vec<(String, String)> = keys.iter().map(|k| (k.clone(), format!("v-{k}"))).collect();
    client.mset(&pairs).await.unwrap();
    let mut asked = keys.clone();
    asked.insert(3, "multi:missing".into());
    let values: Vec<Option<String>> = client.mget(&asked).await.unwrap();
    assert_eq!(values.len(), 21);
    for (key, value) in asked.iter().zip(&values) {
        if key == "multi:missing" {
            assert_eq!(value, &None);
        } else {
            assert_eq!(
                value.as_deref(),
                Some(format!("v-{key}").as_str()),
                "MGET keeps the caller's order"
            );
        }
    }
    assert_eq!(client.exists(&asked).await.unwrap(), 20);
    assert_eq!(
        client.del(&asked[..10]).await.unwrap(),
        9,
        "one of the first ten is missing"
    );
    assert_eq!(client.unlink(&asked[10..]).await.unwrap(), 11);
}

async fn cross_slot_commands_are_refused_unsent(client: &ClusterClient) {
    let e = client
        .execute(Cmd::new("SUNIONSTORE").arg("dst").arg("a").arg("b"))
        .await
        .unwrap_err();
    let redkit_resp::Error::Server { error, .. } = &e else {
        panic!("{e}");
    };
    assert_eq!(error.kind(), &ErrorKind::CrossSlot);
    let e = client
        .execute(Cmd::new("MSETNX").arg("x1").arg(1).arg("x2").arg(2))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("CROSSSLOT"), "{e}");
    let none: Option<String> = client.get("x1").await.unwrap();
    assert_eq!(none, None, "nothing was sent");
    // One slot through a hash tag: allowed.
    let n: i64 = client
        .query(Cmd::new("MSETNX").arg("{x}1").arg(1).arg("{x}2").arg(2))
        .await
        .unwrap();
    assert_eq!(n, 1);
}

async fn keyless_commands_follow_their_policies(client: &ClusterClient) {
    let mut pipeline = Pipeline::new();
    for i in 0..50 {
        pipeline.add(Cmd::new("SET").arg(format!("count:{i}")).arg(i));
    }
    client.execute_pipeline(pipeline).await.unwrap();
    let total: i64 = client.query(Cmd::new("DBSIZE")).await.unwrap();
    let mut expected = 0;
    for node in client.topology().primaries() {
        let direct = client.node(node).await.unwrap();
        let n: i64 = direct.query(Cmd::new("DBSIZE")).await.unwrap();
        expected += n;
    }
    assert_eq!(total, expected, "DBSIZE is summed over the primaries");
    let keys: Vec<String> = client.query(Cmd::new("KEYS").arg("count:*")).await.unwrap();
    assert_eq!(keys.len(), 50, "KEYS is concatenated over the primaries");
    let sha: String = client
        .query(Cmd::new("SCRIPT").arg("LOAD").arg("return 1"))
        .await
        .unwrap();
    let exists: Vec<i64> = client
        .query(Cmd::new("SCRIPT").arg("EXISTS").arg(&sha))
        .await
        .unwrap();
    assert_eq!(exists, [1], "SCRIPT LOAD reached every node");
    let one: i64 = client
        .query(Cmd::new("EVALSHA").arg(&sha).arg(1).arg("any-key"))
        .await
        .unwrap();
    assert_eq!(one, 1);
    let pong: String = client.query(Cmd::new("PING")).await.unwrap();
    assert_eq!(pong, "PONG");
    let Value::Map(per_node) = client.execute(Cmd::new("INFO").arg("server")).await.unwrap() else {
        panic!("INFO's special policy answers per node");
    };
    assert_eq!(per_node.len(), 3);
}

async fn pipelines_span_every_slot(client: &ClusterClient) {
    let mut pipeline = Pipeline::new();
    for i in 0..10_000 {
        match i % 4 {
            0 => pipeline.add(Cmd::new("SET").arg(format!("p:{i}")).arg(i)),
            1 => pipeline.add(Cmd::new("GET").arg(format!("p:{}", i - 1))),
            2 => pipeline.add(Cmd::new("INCR").arg(format!("c:{}", i % 50))),
            _ => pipeline.add(Cmd::new("MGET").arg(format!("p:{}", i - 3)).arg("nope")),
        };
    }
    let replies = client.execute_pipeline(pipeline).await.unwrap();
    assert_eq!(replies.len(), 10_000);
    let mut incr = std::collections::HashMap::new();
    for (i, reply) in replies.iter().enumerate() {
        match i % 4 {
            0 => assert_eq!(reply, &Value::SimpleString(Bytes::from_static(b"OK")), "{i}"),
            1 => assert_eq!(reply, &Value::BulkString(Bytes::from((i - 1).to_string())), "{i}"),
            2 => {
                let n = incr.entry(i % 50).or_insert(0);
                *n += 1;
                assert_eq!(
                    reply,
                    &Value::Integer(*n),
                    "{i}: INCRs of one key arrive in order"
                );
            }
            _ => assert_eq!(
                reply,
                &Value::Array(vec![
                    Value::BulkString(Bytes::from((i - 3).to_string())),
                    Value::Null
                ]),
                "{i}"
            ),
        }
    }
}

async fn transactions_stay_on_one_node(client: &ClusterClient) {
    let pipeline = Pipeline::new()
        .with(Cmd::new("SET").arg("before").arg(1))
        .with(Cmd::new("MULTI"))
        .with(Cmd::new("SET").arg("{tx}a").arg(1))
        .with(Cmd::new("INCR").arg("{tx}b"))
        .with(Cmd::new("EXEC"))
        .with(Cmd::new("GET").arg("before"));
    let replies = client.execute_pipeline(pipeline).await.unwrap();
    assert_eq!(replies.len(), 6);
    assert_eq!(
        replies[4],
        Value::Array(vec![
            Value::SimpleString(Bytes::from_static(b"OK")),
            Value::Integer(1)
        ])
    );
    let spanning = Pipeline::new()
        .with(Cmd::new("MULTI"))
        .with(Cmd::new("SET").arg("a").arg(1))
        .with(Cmd::new("SET").arg("b").arg(1))
        .with(Cmd::new("EXEC"));
    let e = client.execute_pipeline(spanning).await.unwrap_err();
    assert!(e.to_string().contains("CROSSSLOT"), "{e}");
}

async fn moved_and_ask_are_followed(cluster: &RedisCluster, client: &ClusterClient) {
    let key = "migrating-key";
    let slot = key_slot(key.as_bytes()).to_string();
    client.set(key, "here").await.unwrap();
    let source = owner(cluster, client, key);
    let primaries = &cluster.nodes()[..3];
    let target = primaries.iter().find(|n| n.port() != source.port()).unwrap();
    let (source_id, target_id) = (id(source), id(target));

    // Mid-migration: the key has moved, the slot has not. The source answers ASK; the client follows it once.
    assert_eq!(
        target
            .cli(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", &source_id])
            .unwrap(),
        "OK"
    );
    assert_eq!(
        source
            .cli(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", &target_id])
            .unwrap(),
        "OK"
    );
    let port = target.port().to_string();
    assert_eq!(
        source
            .cli(&["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS", key])
            .unwrap(),
        "OK"
    );
    let reads = client.topology_reads();
    let value: Option<String> = client.get(key).await.unwrap();
    assert_eq!(value.as_deref(), Some("here"), "ASK followed");
    assert_eq!(client.topology_reads(), reads, "ASK leaves the table alone");

    // The slot moves: every node learns it. The client's table is stale; MOVED patches it.
    for node in primaries {
        node.cli(&["CLUSTER", "SETSLOT", &slot, "NODE", &target_id])
            .unwrap();
    }
    let before = client.topology_reads();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let client = client.clone();
        tasks.spawn(async move {
            let v: Option<String> = client.get(key).await.unwrap();
            v
        });
    }
    while let Some(v) = tasks.join_next().await {
        assert_eq!(v.unwrap().as_deref(), Some("here"));
    }
    assert_eq!(
        client
            .topology()
            .primary_for(key_slot(key.as_bytes()))
            .unwrap()
            .port,
        target.port(),
        "the MOVED slot points at its new owner"
    );
    // The coalesced refresh runs in the background: give it a moment, then count.
    let deadline = Instant::now() + Duration::from_secs(5);
    while client.topology_reads() == before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refreshes = client.topology_reads() - before;
    assert!(
        (1..=3).contains(&refreshes),
        "1000 requests meeting MOVED caused {refreshes} topology reads"
    );
}
