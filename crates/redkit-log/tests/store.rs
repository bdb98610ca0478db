//! The store against its model, and against torn writes, corruption, injected faults, concurrency and compaction.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use redkit_log::{Durability, Error, Fault, FaultPoint, Options, Store, WriteBatch};
use redkit_model::KvStore;
use redkit_model::harness::{self, Config};

fn small(durability: Durability) -> Options {
    Options {
        durability,
        segment_size: 512,
        compact_min_bytes: u64::MAX,
        ..Options::default()
    }
}

/// The store as a `KvStore`, reopening and compacting on request.
struct Adapter {
    dir: tempfile::TempDir,
    options: Options,
    store: Option<Store>,
}

impl Adapter {
    fn new(options: Options) -> Adapter {
        let dir = tempfile::tempdir().unwrap();
        let store = Some(Store::open(dir.path(), options.clone()).unwrap());
        Adapter { dir, options, store }
    }

    fn s(&self) -> &Store {
        self.store.as_ref().unwrap()
    }
}

impl KvStore for Adapter {
    type Error = Error;

    fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), Error> {
        self.s().put(key, value).map(drop)
    }
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
        self.s().get(key)
    }
    fn del(&mut self, key: &[u8]) -> Result<bool, Error> {
        self.s().delete(key)
    }
    fn exists(&mut self, key: &[u8]) -> Result<bool, Error> {
        Ok(self.s().contains(key))
    }
    fn flush(&mut self) -> Result<(), Error> {
        let keys: Vec<Vec<u8>> = self
            .s()
            .iter()
            .map(|r| r.map(|(k, _)| k))
            .collect::<Result<_, _>>()?;
        let mut batch = WriteBatch::new();
        for k in keys {
            batch.delete(k);
        }
        self.s().write_batch(batch).map(drop)
    }
    fn reopen(&mut self) -> Result<(), Error> {
        self.store = None;
        self.store = Some(Store::open(self.dir.path(), self.options.clone())?);
        Ok(())
    }
    fn compact(&mut self) -> Result<(), Error> {
        self.s().compact().map(drop)
    }
}

#[test]
fn the_store_agrees_with_the_model_across_reopens_and_compactions() {
    for durability in [Durability::Always, Durability::Never] {
        let config = Config {
            cases: 96,
            max_ops: 80,
            ..Config::default()
        };
        harness::check(config, || Adapter::new(small(durability))).unwrap();
    }
}

#[test]
fn the_laws_hold_for_the_store() {
    let mut a = Adapter::new(small(Durability::Never));
    redkit_model::laws::check_all(&mut a, b"k", b"v", b"other").unwrap();
    a.reopen().unwrap();
    redkit_model::laws::compaction_preserves_reads(&mut a, &[b"k", b"other"]).unwrap();
}

fn value_of(i: usize) -> Vec<u8> {
    format!("value-{i}-{}", "x".repeat(i % 17)).into_bytes()
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg" || e == "cseg"))
        .collect();
    v.sort();
    v
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_torn_tail_is_cut_at_every_byte_and_nothing_partial_survives() {
    let base = tempfile::tempdir().unwrap();
    let options = Options {
        segment_size: 1 << 20,
        ..small(Durability::Never)
    };
    let mut ends = Vec::new();
    {
        let store = Store::open(base.path(), options.clone()).unwrap();
        for i in 0..20 {
            store.put(format!("k{i}").as_bytes(), &value_of(i)).unwrap();
            ends.push(
                std::fs::metadata(segment_files(base.path()).last().unwrap())
                    .unwrap()
                    .len(),
            );
        }
        let mut batch = WriteBatch::new();
        batch.put("b1", "x").put("b2", "y").delete("k0");
        store.write_batch(batch).unwrap();
    }
    let active = segment_files(base.path()).pop().unwrap();
    let full = std::fs::metadata(&active).unwrap().len();
    // Every cut inside the last five records and the batch.
    for cut in ends[14]..full {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base.path(), dir.path());
        let seg = dir.path().join(active.file_name().unwrap());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&seg)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let store = Store::open(dir.path(), options.clone()).unwrap();
        let complete = ends.iter().filter(|e| **e <= cut).count();
        for i in 0..20 {
            let got = store.get(format!("k{i}").as_bytes()).unwrap();
            if i == 0 && cut == full {
                assert_eq!(got, None, "the batch deleted k0");
            } else if i < complete {
                assert_eq!(
                    got,
                    Some(value_of(i)),
                    "cut {cut}: k{i} is complete and must be there"
                );
            } else {
                assert_eq!(got, None, "cut {cut}: k{i} was cut and must not appear");
            }
        }
        // The batch is all or nothing.
        let batch_visible = (
            store.get(b"b1").unwrap().is_some(),
            store.get(b"b2").unwrap().is_some(),
        );
        assert!(
            batch_visible == (true, true) && cut == full || batch_visible == (false, false),
            "cut {cut}"
        );
        if !ends.contains(&cut) && cut != full {
            assert_eq!(
                store.recovery().truncated.len(),
                1,
                "cut {cut} leaves a torn record to truncate"
            );
        }
        // Writing after recovery continues cleanly.
        store.put(b"after", b"ok").unwrap();
        drop(store);
        let again = Store::open(dir.path(), options.clone()).unwrap();
        assert_eq!(again.get(b"after").unwrap(), Some(b"ok".to_vec()));
        assert!(again.recovery().truncated.is_empty());
    }
}

#[test]
fn corruption_in_the_middle_is_an_error_with_its_offset_and_repair_keeps_what_precedes_it() {
    let dir = tempfile::tempdir().unwrap();
    let options = small(Durability::Never);
    let mut offsets = Vec::new();
    {
        let store = Store::open(dir.path(), options.clone()).unwrap();
        for i in 0..60 {
            store.put(format!("k{i:02}").as_bytes(), &value_of(i)).unwrap();
            offsets.push(i);
        }
    }
    let segs = segment_files(dir.path());
    assert!(segs.len() >= 3, "several segments: {segs:?}");
    let victim = &segs[0];
    let mut bytes = std::fs::read(victim).unwrap();
    // Find the third record's offset by walking lengths: each record is 8 + len bytes.
    let mut at = 0usize;
    for _ in 0..2 {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    bytes[at + 22] ^= 0xff;
    std::fs::write(victim, &bytes).unwrap();

    match Store::open(dir.path(), options.clone()) {
        Err(Error::Corruption { segment, offset, .. }) => {
            assert_eq!(&segment, victim);
            assert_eq!(offset, at as u64);
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    let repaired = Store::open(
        dir.path(),
        Options {
            repair: true,
            ..options
        },
    )
    .unwrap();
    assert_eq!(repaired.recovery().repaired.len(), 1);
    assert_eq!(repaired.recovery().repaired[0].1, at as u64);
    assert_eq!(repaired.get(b"k00").unwrap(), Some(value_of(0)));
    assert_eq!(repaired.get(b"k01").unwrap(), Some(value_of(1)));
    assert_eq!(
        repaired.get(b"k02").unwrap(),
        None,
        "the damaged record is dropped"
    );
    assert_eq!(
        repaired.get(b"k59").unwrap(),
        Some(value_of(59)),
        "later segments are kept"
    );
}

#[test]
fn injected_write_and_sync_failures_return_errors_and_reopen_consistently() {
    let dir = tempfile::tempdir().unwrap();
    let appends = Arc::new(AtomicUsize::new(0));
    let mode = Arc::new(AtomicUsize::new(0));
    let (a, m) = (appends.clone(), mode.clone());
    let hook: redkit_log::FaultHook = Arc::new(move |point| match point {
        FaultPoint::Append { .. } => {
            let n = a.fetch_add(1, Ordering::SeqCst);
            match (m.load(Ordering::SeqCst), n % 5) {
                (1, 3) => Fault::Fail(std::io::ErrorKind::Other),
                (2, 3) => Fault::Torn(7),
                _ => Fault::Proceed,
            }
        }
        FaultPoint::Sync { .. } if m.load(Ordering::SeqCst) == 3 => Fault::Fail(std::io::ErrorKind::Other),
        FaultPoint::Sync { .. } => Fault::Proceed,
    });
    let options = Options {
        fault_hook: Some(hook),
        ..small(Durability::Always)
    };
    let mut acknowledged = Vec::new();
    let mut failed = Vec::new();
    {
        let store = Store::open(dir.path(), options.clone()).unwrap();
        for phase in 1..=2 {
            mode.store(phase, Ordering::SeqCst);
            for i in 0..20 {
                let key = format!("p{phase}-{i}");
                match store.put(key.as_bytes(), &value_of(i)) {
                    Ok(_) => acknowledged.push((key, value_of(i))),
                    Err(e) => {
                        assert!(matches!(e, Error::Io { .. }), "{e}");
                        failed.push(key);
                    }
                }
            }
        }
        assert_eq!(failed.len(), 8, "every fifth append failed");
        // The store keeps working after failures.
        mode.store(0, Ordering::SeqCst);
        store.put(b"after", b"fine").unwrap();
        // An fsync failure is an error too; the write may or may not survive, but never half of it.
        mode.store(3, Ordering::SeqCst);
        assert!(store.put(b"unsynced", b"maybe").is_err());
        mode.store(0, Ordering::SeqCst);
    }
    let store = Store::open(
        dir.path(),
        Options {
            fault_hook: None,
            ..options
        },
    )
    .unwrap();
    for (k, v) in &acknowledged {
        assert_eq!(store.get(k.as_bytes()).unwrap().as_ref(), Some(v), "{k}");
    }
    for k in &failed {
        assert_eq!(
            store.get(k.as_bytes()).unwrap(),
            None,
            "{k} failed and must be absent"
        );
    }
    assert_eq!(store.get(b"after").unwrap(), Some(b"fine".to_vec()));
    let maybe = store.get(b"unsynced").unwrap();
    assert!(maybe.is_none() || maybe.as_deref() == Some(&b"maybe"[..]));
    assert!(
        store.recovery().truncated.is_empty(),
        "failed writes were cut off at once"
    );
}

#[test]
fn concurrent_durable_writers_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let syncs = Arc::new(AtomicUsize::new(0));
    let s = syncs.clone();
    let hook: redkit_log::FaultHook = Arc::new(move |point| {
        if matches!(point, FaultPoint::Sync { .. }) {
            s.fetch_add(1, Ordering::SeqCst);
        }
        Fault::Proceed
    });
    let options = Options {
        fault_hook: Some(hook),
        segment_size: 1 << 20,
        ..small(Durability::Always)
    };
    let store = Store::open(dir.path(), options.clone()).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..200 {
                    store.put(format!("t{t}-{i}").as_bytes(), &value_of(i)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let fsyncs = syncs.load(Ordering::SeqCst);
    assert!(
        fsyncs < 1600,
        "group commit shares fsyncs: {fsyncs} for 1600 writes"
    );
    drop(store);
    let store = Store::open(
        dir.path(),
        Options {
            fault_hook: None,
            ..options
        },
    )
    .unwrap();
    assert_eq!(store.stats().live_keys, 1600);
}

#[test]
fn compaction_runs_alongside_writes_and_uses_hints_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        segment_size: 4096,
        ..small(Durability::Never)
    };
    let store = Store::open(dir.path(), options.clone()).unwrap();
    for round in 0..4 {
        for i in 0..300 {
            store
                .put(
                    format!("key{i:04}").as_bytes(),
                    format!("r{round}-{i}").as_bytes(),
                )
                .unwrap();
        }
    }
    for i in 0..100 {
        store.delete(format!("key{i:04}").as_bytes()).unwrap();
    }
    let before = store.stats();
    assert!(before.dead_bytes > before.live_bytes);
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for i in 0..300 {
                store
                    .put(format!("key{i:04}").as_bytes(), format!("final-{i}").as_bytes())
                    .unwrap();
            }
        })
    };
    let result = store.compact().unwrap();
    writer.join().unwrap();
    assert!(result.inputs > 1 && result.outputs >= 1, "{result:?}");
    assert!(result.bytes_out < result.bytes_in);
    for i in 0..300 {
        assert_eq!(
            store.get(format!("key{i:04}").as_bytes()).unwrap(),
            Some(format!("final-{i}").into_bytes())
        );
    }
    store.compact().unwrap();
    let after = store.stats();
    assert!(after.dead_bytes < before.dead_bytes);
    assert_eq!(after.live_keys, 300);
    drop(store);
    let reopened = Store::open(dir.path(), options).unwrap();
    assert!(reopened.recovery().from_hints >= 1);
    let all: Vec<(Vec<u8>, Vec<u8>)> = reopened.iter().collect::<Result<_, _>>().unwrap();
    assert_eq!(all.len(), 300);
    assert!(
        all.windows(2).all(|w| w[0].0 < w[1].0),
        "iteration is in key order"
    );
    assert_eq!(all[7], (b"key0007".to_vec(), b"final-7".to_vec()));
}

#[test]
fn automatic_compaction_triggers_on_dead_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        segment_size: 2048,
        compact_min_bytes: 8 << 10,
        compact_dead_ratio: 0.5,
        ..small(Durability::Never)
    };
    let store = Store::open(dir.path(), options).unwrap();
    for round in 0..20 {
        for i in 0..50 {
            store
                .put(format!("k{i}").as_bytes(), format!("{round}").as_bytes())
                .unwrap();
        }
    }
    let mut compacted = false;
    for _ in 0..200 {
        if store.stats().compactions > 0 {
            compacted = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(compacted, "no automatic compaction: {:?}", store.stats());
    assert_eq!(store.get(b"k3").unwrap(), Some(b"19".to_vec()));
}

#[test]
fn one_writer_per_directory_and_clear_limits() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    match Store::open(dir.path(), Options::default()) {
        Err(Error::Locked { .. }) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
    let big = vec![0u8; (64 << 10) + 1];
    assert!(matches!(
        store.put(&big, b"v"),
        Err(Error::TooLarge { what: "key", .. })
    ));
    assert!(!store.delete(b"missing").unwrap());
    store.put(b"p:1", b"a").unwrap();
    store.put(b"p:2", b"b").unwrap();
    store.put(b"q:1", b"c").unwrap();
    let p: Vec<Vec<u8>> = store.scan_prefix(b"p:").map(|r| r.unwrap().0).collect();
    assert_eq!(p, [b"p:1".to_vec(), b"p:2".to_vec()]);
    assert!(store.delete(b"p:1").unwrap());
    drop(store);
    assert!(
        Store::open(dir.path(), Options::default()).is_ok(),
        "the lock is released on drop"
    );
}

#[test]
fn a_segment_named_with_the_largest_id_is_refused_not_wrapped() {
    for name in ["ffffffffffffffff.seg", "fffffffffffffffe.seg"] {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), small(Durability::Always)).unwrap();
            store.put(b"k", b"v").unwrap();
        }
        std::fs::write(dir.path().join(name), b"").unwrap();
        match Store::open(dir.path(), small(Durability::Always)) {
            Err(Error::Corruption { reason, .. }) => assert!(reason.contains("id"), "{name}: {reason}"),
            Err(e) => panic!("{name}: unexpected error {e}"),
            // One id below the largest still opens; the next new segment is then refused with an error.
            Ok(store) => {
                assert_eq!(store.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
                let big = vec![0u8; 400];
                let mut failed = false;
                for i in 0..8u32 {
                    if store.put(&i.to_be_bytes(), &big).is_err() {
                        failed = true;
                        break;
                    }
                }
                assert!(failed, "{name}: a segment past the largest id was created");
            }
        }
    }
}
