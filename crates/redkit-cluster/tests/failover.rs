//! Failover under load: 16 tasks write unique keys through one `ClusterClient` while a primary is killed with
//! SIGKILL; its replica is promoted (`cluster-node-timeout` 2000 ms). The client must keep serving the other
//! primaries' slots without a single failure, resume on the dead primary's slots once the replica takes over, and
//! every write it acknowledged on a healthy primary must be readable afterwards. The window and the failures are
//! printed (timings are reported, not asserted: the machine is shared).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redkit::prelude::*;
use redkit_cluster::{ClusterClient, key_slot};
use redkit_test_support::{ClusterOptions, RedisCluster};

#[derive(Default)]
struct Log {
    /// (key, shard index at the start, when it was acknowledged)
    acked: Vec<(String, usize, Instant)>,
    /// (shard index at the start, when it failed)
    failed: Vec<(usize, Instant)>,
}

/// Redis's default `cluster-require-full-coverage yes`: between the dead primary's FAIL mark and its replica's
/// promotion every node answers CLUSTERDOWN, which the client waits out (so nothing fails, but everything pauses).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_survived() {
    survive_a_killed_primary(true).await;
}

/// `cluster-require-full-coverage no`: the healthy primaries keep serving their slots throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_is_survived_without_full_coverage() {
    survive_a_killed_primary(false).await;
}

async fn survive_a_killed_primary(require_full_coverage: bool) {
    let options = ClusterOptions {
        primaries: 3,
        replicas: 1,
        node_timeout_ms: 2000,
        require_full_coverage,
    };
    let Some(mut cluster) = RedisCluster::start_or_skip(options) else {
        return;
    };
    let client = ClusterClient::open(cluster.urls()).await.unwrap();
    let start_view = client.topology();
    let shard_of = {
        let view = start_view.clone();
        move |key: &str| {
            let primary = view.primary_for(key_slot(key.as_bytes())).unwrap();
            view.primaries().position(|p| p == primary).unwrap()
        }
    };
    let victim_port = cluster.nodes()[0].port();
    let victim = start_view
        .primaries()
        .position(|p| p.port == victim_port)
        .expect("node 0 is a primary");

    let log = Arc::new(Mutex::new(Log::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for task in 0..16 {
        let (client, log, stop, shard_of) = (client.clone(), log.clone(), stop.clone(), shard_of.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            // Bounded: the test stops the load within 30 s at most.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 1_000_000 {
                n += 1;
                let key = format!("fo:{task}:{n}");
                let shard = shard_of(&key);
                let result = client.set(&key, n).await;
                let now = Instant::now();
                let mut log = log.lock().unwrap();
                match result {
                    Ok(()) => log.acked.push((key, shard, now)),
                    Err(_) => log.failed.push((shard, now)),
                }
            }
        }));
    }

    // Whether the client's own runtime ever stalls (a pause seen here is not the servers').
    let ticker_stop = stop.clone();
    let ticker = tokio::spawn(async move {
        let mut worst = (Duration::ZERO, Instant::now());
        while !ticker_stop.load(std::sync::atomic::Ordering::Relaxed) {
            let t = Instant::now();
            tokio::time::sleep(Duration::from_millis(5)).await;
            let late = t.elapsed();
            if late > worst.0 {
                worst = (late, t);
            }
        }
        worst
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed_at = Instant::now();
    cluster.node_mut(0).unwrap().kill();
    // Wait for the replica's promotion to show in the client's view, bounded.
    let deadline = Instant::now() + Duration::from_secs(25);
    let promoted = loop {
        let view = client.topology();
        if view.primaries().all(|p| p.port != victim_port) && view.covered() == 16384 {
            break Some(Instant::now());
        }
        if Instant::now() >= deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let promoted = promoted.expect("the client never saw the replica take over");
    let (late, at) = ticker.await.unwrap();
    eprintln!(
        "runtime: worst 5 ms sleep took {late:?}, {:?} after the kill",
        at.saturating_duration_since(killed_at)
    );

    let log = std::mem::take(&mut *log.lock().unwrap());
    let healthy_failures = log.failed.iter().filter(|(s, _)| *s != victim).count();
    let victim_failures = log.failed.iter().filter(|(s, _)| *s == victim).count();
    let after_promotion = log
        .acked
        .iter()
        .filter(|(_, s, at)| *s == victim && *at > promoted)
        .count();
    // The longest pause in acknowledged writes to the healthy primaries' slots around the kill.
    let mut healthy: Vec<Instant> = log
        .acked
        .iter()
        .filter(|(_, s, _)| *s != victim)
        .map(|(.., at)| *at)
        .filter(|at| *at > killed_at - Duration::from_millis(500))
        .collect();
    healthy.sort();
    let (longest_gap, gap_at) = healthy
        .windows(2)
        .map(|w| (w[1] - w[0], w[0].saturating_duration_since(killed_at)))
        .max()
        .unwrap_or_default();
    let last_failure = log
        .failed
        .iter()
        .map(|(_, at)| *at)
        .max()
        .map(|at| at.saturating_duration_since(killed_at));
    eprintln!(
        "failover (require-full-coverage {require_full_coverage}): {} writes acknowledged; promotion seen {:?} after the kill; {victim_failures} failed on the \
         dead primary's slots (the last {last_failure:?} after the kill), {healthy_failures} on the others; longest \
         pause on the healthy primaries {longest_gap:?} (from {gap_at:?} after the kill); {after_promotion} writes on the promoted replica",
        log.acked.len(),
        promoted - killed_at,
    );
    assert_eq!(
        healthy_failures, 0,
        "no request to a healthy primary's slots fails"
    );
    assert!(after_promotion > 0, "writes resume on the dead primary's slots");

    // Every acknowledged write to a healthy primary is there; on the failed one, Redis's asynchronous replication
    // may have lost the last few before the kill: counted and reported.
    let mut missing_healthy = 0;
    let mut missing_victim = 0;
    let mut pipeline = redkit_resp::Pipeline::new();
    for (key, ..) in &log.acked {
        pipeline.add(redkit_resp::Cmd::new("EXISTS").arg(key));
    }
    let replies = redkit_resp::Executor::execute_pipeline(&client, pipeline)
        .await
        .unwrap();
    for ((_, shard, _), reply) in log.acked.iter().zip(replies) {
        if reply != redkit_resp::Value::Integer(1) {
            if *shard == victim {
                missing_victim += 1;
            } else {
                missing_healthy += 1;
            }
        }
    }
    eprintln!(
        "failover: acknowledged writes missing afterwards: {missing_victim} on the failed primary's slots"
    );
    assert_eq!(missing_healthy, 0);
}
