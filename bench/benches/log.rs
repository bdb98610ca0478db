//! `log`: redkit-log against fjall, and the naive text-file design as a floor, on the same data (16-byte keys,
//! 100-byte values), in one run. Writes `target/bench/log.md`; run with `cargo xtask bench log`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fjall::{Database, KeyspaceCreateOptions, PersistMode};
use redkit_log::{Durability, Options, Store, WriteBatch};

const VALUE: [u8; 100] = [b'v'; 100];
const KEYS: u64 = 1_000_000;

fn key(i: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(b"key:0000");
    k[8..].copy_from_slice(&i.to_be_bytes());
    k
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let m = e.metadata().unwrap();
        total += if m.is_dir() { dir_size(&e.path()) } else { m.len() };
    }
    total
}

fn redkit(dir: &Path, durability: Durability) -> Store {
    Store::open(
        dir,
        Options {
            durability,
            compact_min_bytes: u64::MAX,
            ..Options::default()
        },
    )
    .unwrap()
}

fn fjall(dir: &Path) -> (Database, fjall::Keyspace) {
    let db = Database::builder(dir).open().unwrap();
    let ks = db.keyspace("bench", KeyspaceCreateOptions::default).unwrap();
    (db, ks)
}

/// The naive design: `key\tvalue` lines (key in hex, so it is text) appended to one file; a get scans the file
/// for the last match.
struct Naive {
    path: PathBuf,
    file: File,
}

impl Naive {
    fn open(dir: &Path) -> Naive {
        let path = dir.join("data.txt");
        let file = OpenOptions::new().create(true).append(true).open(&path).unwrap();
        Naive { path, file }
    }
    fn put(&mut self, k: &[u8], v: &[u8], sync: bool) {
        let mut line = Vec::with_capacity(2 * k.len() + v.len() + 2);
        line.extend(hex(k));
        line.push(b'\t');
        line.extend_from_slice(v);
        line.push(b'\n');
        self.file.write_all(&line).unwrap();
        if sync {
            self.file.sync_data().unwrap();
        }
    }
    fn get(&self, k: &[u8]) -> Option<Vec<u8>> {
        let want = hex(k);
        let mut found = None;
        for line in BufReader::new(File::open(&self.path).unwrap()).split(b'\n') {
            let line = line.unwrap();
            if line.len() > want.len() && line[..want.len()] == want[..] && line[want.len()] == b'\t' {
                found = Some(line[want.len() + 1..].to_vec());
            }
        }
        found
    }
}

fn hex(k: &[u8]) -> Vec<u8> {
    k.iter().flat_map(|b| format!("{b:02x}").into_bytes()).collect()
}

struct Row {
    workload: String,
    redkit: f64,
    fjall: f64,
    naive: Option<f64>,
    unit: &'static str,
}

fn measure(f: impl Fn() -> f64) -> f64 {
    redkit_bench::median_of((0..redkit_bench::runs(3)).map(|_| f()).collect())
}

fn sequential_puts(n: u64, durability: Durability) -> Row {
    let redkit_rate = measure(|| {
        let d = tempfile::tempdir().unwrap();
        let s = redkit(d.path(), durability);
        let t = Instant::now();
        for i in 0..n {
            s.put(&key(i), &VALUE).unwrap();
        }
        rate(n, t.elapsed())
    });
    let fjall_rate = measure(|| {
        let d = tempfile::tempdir().unwrap();
        let (db, ks) = fjall(d.path());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flusher = (durability == Durability::EverySec).then(|| {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1000));
                    db.persist(PersistMode::SyncData).unwrap();
                }
            })
        });
        let t = Instant::now();
        for i in 0..n {
            ks.insert(key(i), VALUE).unwrap();
            if durability == Durability::Always {
                db.persist(PersistMode::SyncData).unwrap();
            }
        }
        let r = rate(n, t.elapsed());
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(f) = flusher {
            f.join().unwrap();
        }
        r
    });
    let naive_rate = measure(|| {
        let d = tempfile::tempdir().unwrap();
        let mut s = Naive::open(d.path());
        let t = Instant::now();
        for i in 0..n {
            s.put(&key(i), &VALUE, durability == Durability::Always);
        }
        rate(n, t.elapsed())
    });
    Row {
        workload: format!("sequential puts, {durability:?} ({n})"),
        redkit: redkit_rate,
        fjall: fjall_rate,
        naive: Some(naive_rate),
        unit: "puts/s",
    }
}

fn concurrent_durable_puts(writers: u64, each: u64) -> Row {
    let redkit_rate = measure(|| {
        let d = tempfile::tempdir().unwrap();
        let s = redkit(d.path(), Durability::Always);
        let t = Instant::now();
        std::thread::scope(|scope| {
            for w in 0..writers {
                let s = s.clone();
                scope.spawn(move || {
                    for i in 0..each {
                        s.put(&key(w * each + i), &VALUE).unwrap();
                    }
                });
            }
        });
        rate(writers * each, t.elapsed())
    });
    let fjall_rate = measure(|| {
        let d = tempfile::tempdir().unwrap();
        let (db, ks) = fjall(d.path());
        let t = Instant::now();
        std::thread::scope(|scope| {
            for w in 0..writers {
                let (db, ks) = (db.clone(), ks.clone());
                scope.spawn(move || {
                    for i in 0..each {
                        ks.insert(key(w * each + i), VALUE).unwrap();
                        db.persist(PersistMode::SyncData).unwrap();
                    }
                });
            }
        });
        rate(writers * each, t.elapsed())
    });
    Row {
        workload: format!("durable puts, {writers} writers ({})", writers * each),
        redkit: redkit_rate,
        fjall: fjall_rate,
        naive: None,
        unit: "puts/s",
    }
}

fn batched_puts(batches: u64, per: u64) -> Row {
    let redkit_rate = measure(|| {
        let d = tempfile::tempdir().unwrap();
        let s = redkit(d.path(), Durability::Always);
        let t = Instant::now();
        for b in 0..batches {
            let mut batch = WriteBatch::new();
            for i in 0..per {
                batch.put(key(b * per + i), VALUE);
            }
            s.write_batch(batch).unwrap();
        }
        rate(batches * per, t.elapsed())
    });
    let fjall_rate = measure(|| {
        let d = tempfile::tempdir().unwrap();
        let (db, ks) = fjall(d.path());
        let t = Instant::now();
        for b in 0..batches {
            let mut batch = db.batch().durability(Some(PersistMode::SyncData));
            for i in 0..per {
                batch.insert(&ks, key(b * per + i), VALUE);
            }
            batch.commit().unwrap();
        }
        rate(batches * per, t.elapsed())
    });
    Row {
        workload: format!("durable batches of {per} ({})", batches * per),
        redkit: redkit_rate,
        fjall: fjall_rate,
        naive: None,
        unit: "puts/s",
    }
}

fn main() {
    let mut rows = Vec::new();
    eprintln!("sequential puts…");
    rows.push(sequential_puts(200_000, Durability::Never));
    rows.push(sequential_puts(200_000, Durability::EverySec));
    rows.push(sequential_puts(2_000, Durability::Always));
    eprintln!("concurrent durable puts…");
    rows.push(concurrent_durable_puts(8, 500));
    eprintln!("batched puts…");
    rows.push(batched_puts(200, 1000));

    eprintln!("loading {KEYS} keys…");
    let rdir = tempfile::tempdir().unwrap();
    let fdir = tempfile::tempdir().unwrap();
    let ndir = tempfile::tempdir().unwrap();
    {
        let s = redkit(rdir.path(), Durability::Never);
        let (db, ks) = fjall(fdir.path());
        let mut naive = Naive::open(ndir.path());
        for chunk in 0..(KEYS / 1000) {
            let mut batch = WriteBatch::new();
            let mut fbatch = db.batch();
            for i in chunk * 1000..(chunk + 1) * 1000 {
                batch.put(key(i), VALUE);
                fbatch.insert(&ks, key(i), VALUE);
                naive.put(&key(i), &VALUE, false);
            }
            s.write_batch(batch).unwrap();
            fbatch.commit().unwrap();
        }
        s.flush().unwrap();
        db.persist(PersistMode::SyncAll).unwrap();
    }
    eprintln!("random gets…");
    let gets = 200_000u64;
    let s = redkit(rdir.path(), Durability::Never);
    let (db, ks) = fjall(fdir.path());
    let redkit_get = measure(|| {
        let mut rng = fastrand::Rng::with_seed(1);
        let t = Instant::now();
        for _ in 0..gets {
            assert!(s.get(&key(rng.u64(0..KEYS))).unwrap().is_some());
        }
        rate(gets, t.elapsed())
    });
    let fjall_get = measure(|| {
        let mut rng = fastrand::Rng::with_seed(1);
        let t = Instant::now();
        for _ in 0..gets {
            assert!(ks.get(key(rng.u64(0..KEYS))).unwrap().is_some());
        }
        rate(gets, t.elapsed())
    });
    let naive = Naive::open(ndir.path());
    let naive_get = {
        let mut rng = fastrand::Rng::with_seed(1);
        let t = Instant::now();
        for _ in 0..5 {
            assert!(naive.get(&key(rng.u64(0..KEYS))).is_some());
        }
        rate(5, t.elapsed())
    };
    rows.push(Row {
        workload: format!("random gets over {KEYS} keys"),
        redkit: redkit_get,
        fjall: fjall_get,
        naive: Some(naive_get),
        unit: "gets/s",
    });
    drop((s, db, ks));

    eprintln!("reopening…");
    let reopen = |dir: &Path| {
        measure(|| {
            let t = Instant::now();
            let s = redkit(dir, Durability::Never);
            let d = t.elapsed().as_secs_f64();
            assert_eq!(s.stats().live_keys, KEYS);
            d
        })
    };
    let redkit_scan = reopen(rdir.path());
    let fjall_open = measure(|| {
        let t = Instant::now();
        let (_db, ks) = fjall(fdir.path());
        let d = t.elapsed().as_secs_f64();
        assert!(ks.get(key(KEYS - 1)).unwrap().is_some());
        d
    });
    // Overwrite every key 4 times, then compact: compaction throughput, and hints for the reopen.
    eprintln!("overwriting and compacting…");
    let (compaction_mbs, amp_before, amp_after) = {
        let s = redkit(rdir.path(), Durability::Never);
        for _ in 0..4 {
            for chunk in 0..(KEYS / 1000) {
                let mut batch = WriteBatch::new();
                for i in chunk * 1000..(chunk + 1) * 1000 {
                    batch.put(key(i), VALUE);
                }
                s.write_batch(batch).unwrap();
            }
        }
        let logical = (KEYS * (16 + 100)) as f64;
        let before = dir_size(rdir.path()) as f64 / logical;
        let t = Instant::now();
        let c = s.compact().unwrap();
        let mbs = c.bytes_in as f64 / 1e6 / t.elapsed().as_secs_f64();
        (mbs, before, dir_size(rdir.path()) as f64 / logical)
    };
    let redkit_hints = reopen(rdir.path());
    let fjall_amp = dir_size(fdir.path()) as f64 / (KEYS * (16 + 100)) as f64;

    let mut table = format!(
        "### `log` (median of {} runs; 16-byte keys, 100-byte values)\n\n\
         | workload | redkit-log | fjall | naive text file | redkit / fjall |\n|---|---:|---:|---:|---:|\n",
        redkit_bench::runs(3)
    );
    for r in &rows {
        table.push_str(&format!(
            "| {} | {:.0} {u} | {:.0} {u} | {} | {:.2}× |\n",
            r.workload,
            r.redkit,
            r.fjall,
            r.naive.map_or("—".to_owned(), |n| format!("{n:.1} {}", r.unit)),
            r.redkit / r.fjall,
            u = r.unit
        ));
    }
    table.push_str(&format!(
        "| reopen {KEYS} keys (scan, no hints) | {redkit_scan:.2} s | {fjall_open:.2} s | — | {:.2}× |\n",
        fjall_open / redkit_scan
    ));
    table.push_str(&format!(
        "| reopen {KEYS} keys (hint files, after compaction) | {redkit_hints:.2} s | — | — | — |\n"
    ));
    table.push_str(&format!(
        "| compaction after 4 overwrites of every key | {compaction_mbs:.0} MB/s read | — | — | — |\n"
    ));
    table.push_str(&format!(
        "| space amplification (disk / live data) | {amp_before:.2} before, {amp_after:.2} after compaction | {fjall_amp:.2} (1 write per key, LZ4 off) | — | — |\n"
    ));
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("log.md"), &table).unwrap();
    println!("{table}");
}
