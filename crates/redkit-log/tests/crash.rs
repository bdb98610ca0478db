//! Kill test: a child process writes with `Always` durability and reports each acknowledged write; the parent
//! SIGKILLs it at random moments, reopens the store, and checks that every acknowledged write is there and nothing
//! is half-written. 200 cycles here; `cargo xtask crash --cycles N` runs longer campaigns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use redkit_log::{Durability, Options, Store, WriteBatch};

const CHILD_DIR: &str = "REDKIT_LOG_CRASH_DIR";
const CHILD_START: &str = "REDKIT_LOG_CRASH_START";

fn options() -> Options {
    Options {
        durability: Durability::Always,
        segment_size: 16 << 10,
        compact_min_bytes: u64::MAX,
        ..Options::default()
    }
}

fn value(i: u64) -> Vec<u8> {
    format!("value-{i}-{}", "v".repeat((i % 23) as usize)).into_bytes()
}

/// The child: only runs when the parent sets the environment. Writes single puts and three-key batches, printing
/// `ack N` after each returns, and compacts now and then (so kills also land inside compactions).
#[test]
fn crash_child() {
    let (Ok(dir), Ok(start)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_START)) else {
        return;
    };
    let start: u64 = start.parse().unwrap();
    let store = Store::open(&dir, options()).unwrap();
    let mut out = std::io::stdout().lock();
    for i in start.. {
        if i.is_multiple_of(5) {
            let mut batch = WriteBatch::new();
            for part in ["a", "b", "c"] {
                batch.put(format!("batch{i}{part}"), value(i));
            }
            store.write_batch(batch).unwrap();
        } else {
            store.put(format!("key{i}").as_bytes(), &value(i)).unwrap();
        }
        writeln!(out, "ack {i}").unwrap();
        out.flush().unwrap();
        if i.is_multiple_of(41) {
            store.compact().unwrap();
        }
    }
}

fn check(store: &Store, i: u64, acked: bool) {
    if i.is_multiple_of(5) {
        let parts: Vec<Option<Vec<u8>>> = ["a", "b", "c"]
            .iter()
            .map(|p| store.get(format!("batch{i}{p}").as_bytes()).unwrap())
            .collect();
        let present = parts.iter().filter(|p| p.is_some()).count();
        assert!(present == 0 || present == 3, "batch {i} is partly visible");
        assert!(
            parts.iter().flatten().all(|v| *v == value(i)),
            "batch {i} has a wrong value"
        );
        assert!(!acked || present == 3, "acknowledged batch {i} is missing");
    } else {
        let got = store.get(format!("key{i}").as_bytes()).unwrap();
        assert!(got.is_none() || got == Some(value(i)), "key{i} has a wrong value");
        assert!(!acked || got.is_some(), "acknowledged key{i} is missing");
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let cycles: usize = std::env::var("REDKIT_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(200);
    let deadline = Instant::now() + Duration::from_secs(if cycles > 200 { 3600 } else { 300 });
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let mut next = 0u64;
    let mut total_acked = 0usize;
    let mut ranges = Vec::new();
    for cycle in 0..cycles {
        assert!(
            Instant::now() < deadline,
            "crash campaign exceeded its time bound at cycle {cycle}"
        );
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR, dir.path())
            .env(CHILD_START, next.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("ack ").and_then(|n| n.parse::<u64>().ok()) {
                    let _ = tx.send(n);
                }
            }
        });
        // Kill at a random moment once it is writing (bounded wait for the first acknowledgment).
        let first = rx.recv_timeout(Duration::from_secs(20));
        assert!(first.is_ok(), "cycle {cycle}: the child acknowledged nothing");
        std::thread::sleep(Duration::from_micros(rng.u64(0..20_000)));
        child.kill().unwrap();
        child.wait().unwrap();
        reader.join().unwrap();
        let acked: Vec<u64> = first.into_iter().chain(rx.try_iter()).collect();
        let last = *acked.iter().max().unwrap_or(&next);
        total_acked += acked.len();

        let store = Store::open(dir.path(), options()).unwrap();
        for i in next..=last {
            check(&store, i, true);
        }
        // The write in flight at the kill may or may not be there, but never half of it.
        check(&store, last + 1, false);
        ranges.push((next, last));
        next = last + 2;
    }
    assert!(
        total_acked >= cycles,
        "{total_acked} writes acknowledged in {cycles} cycles"
    );
    // Every acknowledged write of every cycle is still there at the end (compactions included).
    let store = Store::open(dir.path(), options()).unwrap();
    for (from, to) in ranges {
        for i in from..=to {
            check(&store, i, true);
        }
    }
}
