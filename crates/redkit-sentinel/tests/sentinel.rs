//! The Sentinel client against real sentinels: a primary, one replica and three sentinels (quorum 2,
//! `down-after-milliseconds` 1000), spawned on free loopback ports and killed afterwards. The primary is killed
//! with SIGKILL — once alone, and once together with a sentinel — and the client must carry on against the promoted
//! replica by itself. The time it took is printed (reported, not asserted beyond a generous bound).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use redkit::prelude::*;
use redkit_sentinel::SentinelClient;
use redkit_test_support::{RedisSentinels, SentinelOptions};

/// Write until a write succeeds on a node other than `old_port`, bounded; how long it took and how many writes
/// failed on the way.
async fn writes_resume(
    set: &RedisSentinels,
    client: &SentinelClient,
    old_port: u16,
    limit: Duration,
) -> (Duration, usize) {
    let started = Instant::now();
    let mut failed = 0;
    let mut n = 0u64;
    let mut last_error = String::new();
    loop {
        n += 1;
        let result = client.set(format!("after:{n}"), n).await;
        let ok = result.is_ok();
        if let Err(e) = result {
            last_error = e.to_string();
        }
        if ok && client.primary().1 != old_port {
            return (started.elapsed(), failed);
        }
        if !ok {
            failed += 1;
        }
        if started.elapsed() >= limit {
            let service = set.options().service.clone();
            let views: Vec<String> = set
                .sentinels
                .iter()
                .map(|s| {
                    s.cli(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", &service])
                        .unwrap_or_default()
                })
                .collect();
            let roles: Vec<String> = set
                .nodes
                .iter()
                .map(|n| n.cli(&["ROLE"]).unwrap_or_default())
                .collect();
            for s in &set.sentinels {
                eprintln!("--- sentinel {} log:\n{}", s.port(), s.log());
            }
            panic!(
                "no write on a new primary within {limit:?}: the client uses {:?}; the sentinels name {views:?}; \
                 the nodes' roles {roles:?}; the last error: {last_error}",
                client.primary()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn start() -> Option<(RedisSentinels, SentinelClient)> {
    let set = RedisSentinels::start_or_skip(SentinelOptions::default())?;
    let client = SentinelClient::open(&set.url()).await.unwrap();
    assert_eq!(
        client.primary().1,
        set.nodes[0].port(),
        "the sentinels name the primary"
    );
    client.set("before", "failover").await.unwrap();
    Some((set, client))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_replaced() {
    let Some((mut set, client)) = start().await else {
        return;
    };
    let old = set.nodes[0].port();
    set.nodes[0].kill();
    let (took, failed) = writes_resume(&set, &client, old, Duration::from_secs(30)).await;
    eprintln!(
        "sentinel failover: writes resumed on the promoted replica {took:?} after the kill; {failed} failed"
    );
    assert_eq!(client.primary().1, set.nodes[1].port(), "the replica took over");
    assert_eq!(client.switches(), 1);
    let kept: Option<String> = client.get("before").await.unwrap();
    assert_eq!(
        kept.as_deref(),
        Some("failover"),
        "the write before the kill was replicated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_and_sentinel_are_survived() {
    let Some((mut set, client)) = start().await else {
        return;
    };
    let old = set.nodes[0].port();
    // The first sentinel is the one the client asked first and subscribed to first.
    set.sentinels[0].kill();
    set.nodes[0].kill();
    let (took, failed) = writes_resume(&set, &client, old, Duration::from_secs(30)).await;
    eprintln!(
        "sentinel failover, a sentinel down too: writes resumed {took:?} after the kill; {failed} failed"
    );
    assert_eq!(client.primary().1, set.nodes[1].port());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_primary_is_left() {
    let Some((set, client)) = start().await else {
        return;
    };
    // A manual failover: the sentinels promote the replica and demote the primary, which stays reachable.
    let service = set.options().service.clone();
    assert_eq!(
        set.sentinels[1].cli(&["SENTINEL", "FAILOVER", &service]).unwrap(),
        "OK"
    );
    let old = set.nodes[0].port();
    let (took, failed) = writes_resume(&set, &client, old, Duration::from_secs(30)).await;
    eprintln!("sentinel manual failover: writes on the new primary after {took:?}; {failed} failed");
    assert_eq!(client.primary().1, set.nodes[1].port());
}
