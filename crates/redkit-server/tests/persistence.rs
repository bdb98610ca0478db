//! `redkit-server` with a data directory, as a process: restarts, expiry across a restart, snapshots, damaged
//! directories, and the crash test — write load with `appendfsync always`, SIGKILL at a random moment, restart,
//! and every acknowledged write must be there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redkit::{Cmd, Config, Connection, Value};

/// One `redkit-server` process; killed (SIGKILL) when dropped.
struct Proc {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Start on a free port with `args`; `Err(stderr)` if it exits instead of listening (within 10 s).
    fn start(dir: &Path, args: &[&str]) -> Result<Proc, String> {
        let port = redkit_test_support::free_port().map_err(|e| e.to_string())?;
        let log = dir.with_extension(format!("{port}.log"));
        let stderr = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(env!("CARGO_BIN_EXE_redkit-server"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut proc = Proc { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = proc.child.try_wait() {
                return Err(proc.stderr());
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(proc);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(format!("not listening after 10 s: {}", proc.stderr()))
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn connect(&self) -> Connection {
        let mut config = Config::from_url(&format!("redis://127.0.0.1:{}", self.port)).unwrap();
        config.request_timeout = Some(Duration::from_secs(10));
        Connection::connect(&config).await.unwrap()
    }
}

async fn send(conn: &mut Connection, args: &[&str]) -> Value {
    conn.send(&Cmd::new(args[0]).args_from(&args[1..])).await.unwrap()
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) | Value::SimpleString(b) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

const ALWAYS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

/// Every type, in two databases, with and without expiry, back after SIGKILL.
#[tokio::test]
async fn the_whole_dataset_returns_after_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = Proc::start(&dir, ALWAYS).unwrap();
    let mut c = server.connect().await;
    let script: &[&[&str]] = &[
        &["SET", "s", "hello"],
        &["SET", "n", "41"],
        &["INCR", "n"],
        &["RPUSH", "l", "a", "b", "c"],
        &["SADD", "set", "x", "y"],
        &["HSET", "h", "f1", "v1", "f2", "v2"],
        &["ZADD", "z", "1.5", "one", "2", "two"],
        &["XADD", "st", "1-1", "f", "v"],
        &["XGROUP", "CREATE", "st", "g", "0"],
        &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "st", ">"],
        &["PFADD", "hll", "a", "b", "c"],
        &["GEOADD", "geo", "13.361389", "38.115556", "Palermo"],
        &["SETBIT", "bits", "7", "1"],
        &["SET", "ttl", "v", "PX", "100000"],
        &["SELECT", "5"],
        &["SET", "in5", "five"],
        &["SELECT", "0"],
    ];
    for cmd in script {
        send(&mut c, cmd).await;
    }
    let reads: &[&[&str]] = &[
        &["GET", "s"],
        &["GET", "n"],
        &["LRANGE", "l", "0", "-1"],
        &["SMISMEMBER", "set", "x", "y", "z"],
        &["SCARD", "set"],
        &["HGETALL", "h"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["XPENDING", "st", "g"],
        &["XRANGE", "st", "-", "+"],
        &["PFCOUNT", "hll"],
        &["GEOPOS", "geo", "Palermo"],
        &["GETBIT", "bits", "7"],
        &["TYPE", "hll"],
        &["OBJECT", "ENCODING", "n"],
    ];
    let mut before = Vec::new();
    for r in reads {
        before.push(send(&mut c, r).await);
    }
    server.kill9();

    let server = Proc::start(&dir, ALWAYS).unwrap();
    assert!(server.stderr().contains("12 keys loaded"), "{}", server.stderr());
    let mut c = server.connect().await;
    for (r, expected) in reads.iter().zip(&before) {
        assert_eq!(&send(&mut c, r).await, expected, "{r:?}");
    }
    let pttl = send(&mut c, &["PTTL", "ttl"]).await;
    assert!(
        matches!(pttl, Value::Integer(ms) if ms > 90_000 && ms <= 100_000),
        "{pttl:?}"
    );
    send(&mut c, &["SELECT", "5"]).await;
    assert_eq!(text(&send(&mut c, &["GET", "in5"]).await), "five");
}

/// Deadlines are absolute: a key whose time passed while the server was down is gone, the others keep theirs.
#[tokio::test]
async fn expiry_deadlines_hold_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = Proc::start(&dir, ALWAYS).unwrap();
    let mut c = server.connect().await;
    send(&mut c, &["SET", "short", "v", "PX", "300"]).await;
    send(&mut c, &["SET", "long", "v", "PX", "60000"]).await;
    send(&mut c, &["SET", "forever", "v"]).await;
    server.kill9();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let server = Proc::start(&dir, ALWAYS).unwrap();
    assert!(
        server.stderr().contains("2 keys loaded, 1 expired"),
        "{}",
        server.stderr()
    );
    let mut c = server.connect().await;
    assert_eq!(send(&mut c, &["EXISTS", "short"]).await, Value::Integer(0));
    let pttl = send(&mut c, &["PTTL", "long"]).await;
    // 60 s minus the ~0.6 s the server was down (and start-up time).
    assert!(
        matches!(pttl, Value::Integer(ms) if ms > 50_000 && ms < 59_500),
        "{pttl:?}"
    );
    assert_eq!(send(&mut c, &["PTTL", "forever"]).await, Value::Integer(-1));
    let info = text(&send(&mut c, &["INFO", "persistence"]).await);
    assert!(info.contains("aof_enabled:1"), "{info}");
    assert!(info.contains("rdb_last_load_keys_expired:1"), "{info}");
}

/// Without `--appendonly`, only SAVE and BGSAVE write; LASTSAVE and INFO follow.
#[tokio::test]
async fn snapshots_are_written_by_save_and_bgsave() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = Proc::start(&dir, &[]).unwrap();
    let mut c = server.connect().await;
    send(&mut c, &["SET", "saved", "1"]).await;
    let info = text(&send(&mut c, &["INFO", "persistence"]).await);
    assert!(info.contains("rdb_changes_since_last_save:1"), "{info}");
    assert!(info.contains("aof_enabled:0"), "{info}");
    assert_eq!(text(&send(&mut c, &["SAVE"]).await), "OK");
    let info = text(&send(&mut c, &["INFO", "persistence"]).await);
    assert!(info.contains("rdb_changes_since_last_save:0"), "{info}");
    assert!(info.contains("rdb_saves:1"), "{info}");
    send(&mut c, &["SET", "unsaved", "1"]).await;
    server.kill9();

    let server = Proc::start(&dir, &[]).unwrap();
    let mut c = server.connect().await;
    assert_eq!(text(&send(&mut c, &["GET", "saved"]).await), "1");
    assert_eq!(send(&mut c, &["EXISTS", "unsaved"]).await, Value::Integer(0));
    send(&mut c, &["DEL", "saved"]).await;
    send(&mut c, &["SET", "background", "1"]).await;
    assert_eq!(
        text(&send(&mut c, &["BGSAVE"]).await),
        "Background saving started"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = text(&send(&mut c, &["INFO", "persistence"]).await);
        if info.contains("rdb_bgsave_in_progress:0") && info.contains("rdb_saves:1") {
            assert!(info.contains("rdb_last_bgsave_status:ok"), "{info}");
            break;
        }
        assert!(Instant::now() < deadline, "BGSAVE did not finish: {info}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();

    let server = Proc::start(&dir, &[]).unwrap();
    let mut c = server.connect().await;
    assert_eq!(send(&mut c, &["EXISTS", "saved"]).await, Value::Integer(0));
    assert_eq!(text(&send(&mut c, &["GET", "background"]).await), "1");
}

/// BGREWRITEAOF compacts the store; the data stays.
#[tokio::test]
async fn bgrewriteaof_compacts_and_keeps_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let server = Proc::start(&dir, &["--appendonly", "yes"]).unwrap();
    let mut c = server.connect().await;
    for i in 0..200 {
        send(&mut c, &["SET", "k", &i.to_string()]).await;
    }
    let size = |info: &str, field: &str| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix(field)?.trim().parse().ok())
            .unwrap()
    };
    let info = text(&send(&mut c, &["INFO", "persistence"]).await);
    assert!(
        size(&info, "aof_current_size:") > 20 * size(&info, "aof_base_size:"),
        "{info}"
    );
    assert_eq!(
        text(&send(&mut c, &["BGREWRITEAOF"]).await),
        "Background append only file rewriting started"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let info = text(&send(&mut c, &["INFO", "persistence"]).await);
        if size(&info, "aof_rewrites:") == 1 && info.contains("aof_rewrite_in_progress:0") {
            assert!(
                size(&info, "aof_current_size:") < 2 * size(&info, "aof_base_size:"),
                "{info}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "BGREWRITEAOF did not finish: {info}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill9();
    let server = Proc::start(&dir, &["--appendonly", "yes"]).unwrap();
    let mut c = server.connect().await;
    assert_eq!(text(&send(&mut c, &["GET", "k"]).await), "199");
}

/// The segment file of a store directory (there is one until compaction).
fn segment(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "seg"))
        .unwrap()
}

async fn write_keys(dir: &Path, n: usize) {
    let server = Proc::start(dir, ALWAYS).unwrap();
    let mut c = server.connect().await;
    for i in 0..n {
        send(&mut c, &["SET", &format!("key:{i:03}"), &"x".repeat(50)]).await;
    }
    server.kill9();
}

/// Damage in the middle of the log stops the start with the file and offset; `--repair` starts, keeping what came
/// before the damage and saying what it dropped.
#[tokio::test]
async fn a_damaged_directory_is_refused_or_repaired_never_silently_loaded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    write_keys(&dir, 100).await;
    let seg = segment(&dir);
    let mut bytes = std::fs::read(&seg).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();

    let refused = Proc::start(&dir, ALWAYS).err().expect("started on damaged data");
    assert!(
        refused.contains("corruption in") && refused.contains(".seg"),
        "{refused}"
    );

    let mut args = ALWAYS.to_vec();
    args.push("--repair");
    let server = Proc::start(&dir, &args).unwrap();
    let log = server.stderr();
    assert!(log.contains("REPAIRED"), "{log}");
    let mut c = server.connect().await;
    let Value::Integer(kept) = send(&mut c, &["DBSIZE"]).await else {
        panic!("DBSIZE")
    };
    assert!(kept > 30 && kept < 100, "{kept} keys kept");
    // The keys kept are the first ones written, and all of them.
    for i in 0..kept {
        assert_eq!(
            send(&mut c, &["EXISTS", &format!("key:{i:03}")]).await,
            Value::Integer(1)
        );
    }
}

/// A write cut short at the end of the log (the crash's own damage) is cut off with a message; nothing else goes.
#[tokio::test]
async fn a_torn_tail_is_cut_off_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    write_keys(&dir, 20).await;
    let seg = segment(&dir);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&[0x55; 13]);
    std::fs::write(&seg, &bytes).unwrap();
    let server = Proc::start(&dir, ALWAYS).unwrap();
    let log = server.stderr();
    assert!(
        log.contains("20 keys loaded") && log.contains("torn write of 13 bytes"),
        "{log}"
    );
}

/// A directory is used by one server at a time.
#[tokio::test]
async fn a_second_server_on_the_same_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let _first = Proc::start(&dir, ALWAYS).unwrap();
    let second = Proc::start(&dir, ALWAYS)
        .err()
        .expect("two servers on one directory");
    assert!(second.contains("locked"), "{second}");
}

/// Writers of one cycle: every acknowledged SET, INCR and RPUSH.
#[derive(Default)]
struct Acked {
    sets: Vec<(String, String)>,
    counter: i64,
    pushed: i64,
}

async fn load(port: u16, task: usize, cycle: usize, counter_key: String, list_key: String) -> Acked {
    let mut acked = Acked::default();
    let Ok(mut config) = Config::from_url(&format!("redis://127.0.0.1:{port}")) else {
        return acked;
    };
    config.request_timeout = Some(Duration::from_secs(5));
    let Ok(mut c) = Connection::connect(&config).await else {
        return acked;
    };
    // Bounded: the server is killed within a second, and every request has a timeout.
    for i in 0..100_000 {
        let key = format!("set:{cycle}:{task}:{i}");
        let value = format!("{i}");
        match c.send(&Cmd::new("SET").arg(&key).arg(&value)).await {
            Ok(Value::SimpleString(_)) => acked.sets.push((key, value)),
            _ => break,
        }
        match c.send(&Cmd::new("INCR").arg(&counter_key)).await {
            Ok(Value::Integer(n)) => acked.counter = n,
            _ => break,
        }
        match c.send(&Cmd::new("RPUSH").arg(&list_key).arg(i.to_string())).await {
            Ok(Value::Integer(n)) => acked.pushed = n,
            _ => break,
        }
    }
    acked
}

/// Crash cycles: 50 in the normal suite, `REDKIT_CRASH_CYCLES` (set by `cargo xtask crash --server`) for more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let cycles: usize = std::env::var("REDKIT_CRASH_CYCLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    const TASKS: usize = 3;
    let mut sets: Vec<(String, String)> = Vec::new();
    let mut counters = [0i64; TASKS];
    let mut pushed = [0i64; TASKS];
    for cycle in 0..cycles {
        let server = Proc::start(&dir, ALWAYS).unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        let mut c = server.connect().await;
        // Everything acknowledged before is here.
        for chunk in sets.chunks(500) {
            let mut cmd = Cmd::new("MGET");
            for (k, _) in chunk {
                cmd = cmd.arg(k);
            }
            let Value::Array(values) = c.send(&cmd).await.unwrap() else {
                panic!("MGET")
            };
            for ((k, v), got) in chunk.iter().zip(values) {
                assert_eq!(text(&got), *v, "cycle {cycle}: acknowledged {k} lost");
            }
        }
        for t in 0..TASKS {
            let Value::BulkString(n) = c
                .send(&Cmd::new("GET").arg(format!("counter:{t}")))
                .await
                .unwrap()
            else {
                assert_eq!(counters[t], 0, "cycle {cycle}: counter {t} lost");
                continue;
            };
            let n: i64 = String::from_utf8_lossy(&n).parse().unwrap();
            // At least every acknowledged INCR; at most one more (applied, then killed before the reply).
            assert!(
                n >= counters[t] && n <= counters[t] + 1,
                "cycle {cycle}: counter {t} is {n}, acknowledged {}",
                counters[t]
            );
            counters[t] = n;
            let Value::Integer(len) = c.send(&Cmd::new("LLEN").arg(format!("list:{t}"))).await.unwrap()
            else {
                panic!("LLEN")
            };
            assert!(
                len >= pushed[t] && len <= pushed[t] + 1,
                "cycle {cycle}: list {t} has {len}, acknowledged {}",
                pushed[t]
            );
            pushed[t] = len;
        }
        drop(c);
        let workers: Vec<_> = (0..TASKS)
            .map(|t| {
                tokio::spawn(load(
                    server.port,
                    t,
                    cycle,
                    format!("counter:{t}"),
                    format!("list:{t}"),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(fastrand::u64(5..80))).await;
        server.kill9();
        for (t, worker) in workers.into_iter().enumerate() {
            let acked = tokio::time::timeout(Duration::from_secs(10), worker)
                .await
                .expect("a writer did not stop")
                .unwrap();
            sets.extend(acked.sets);
            counters[t] = counters[t].max(acked.counter);
            pushed[t] = pushed[t].max(acked.pushed);
        }
    }
    assert!(
        sets.len() > cycles,
        "too little was acknowledged to test anything: {}",
        sets.len()
    );
    eprintln!("{cycles} crash cycles, {} acknowledged SETs checked", sets.len());
}
