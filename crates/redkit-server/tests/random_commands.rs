//! Random structured commands and the fuzz corpus, bounded, in CI: the server never panics, never hangs on a
//! command that should answer, and still answers PING afterwards.
//!
//! The generator is the one of the `server_commands` fuzz target (`fuzz/fuzz_targets/command_gen.rs`, included
//! by path): command names and arities from the server's own `COMMAND INFO`, arguments from small pools. The
//! corpus of the `server_session` fuzz target (`fuzz/corpus/server_session/`) is replayed through
//! `TcpServer::serve_connection`, plus the named regression inputs below. `REDKIT_RANDOM_SEED` picks another
//! seed for the random commands, `REDKIT_RANDOM_COMMANDS` how many.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../fuzz/fuzz_targets/command_gen.rs"]
mod command_gen;
#[path = "../../../fuzz/fuzz_targets/session.rs"]
mod session;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use bytes::Bytes;
use command_gen::{Entropy, Table};
use redkit_server::{Server, ServerConfig, TcpServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Commands sent in all (`REDKIT_RANDOM_COMMANDS` for more).
const COMMANDS: usize = 3_000;
/// How long a command that answers may take.
const PER_COMMAND: Duration = Duration::from_secs(2);
/// Pub/sub commands answer with pushes, which the connection routes aside: this long, then reconnect.
const NO_REPLY_WAIT: Duration = Duration::from_millis(20);
/// How long one corpus input may run before it is stopped (scripts that loop forever, say).
const PER_INPUT: Duration = Duration::from_millis(500);
/// Corpus inputs replayed at once.
const PARALLEL: usize = 4;

/// Every panic in the process but the tests' own, on any thread: a script batch's panic on a blocking thread
/// included, which `serve_connection` does not pass on to its caller.
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// This file's tests.
const TESTS: &[&str] = &[
    "random_commands_never_panic_or_hang_the_server",
    "fuzz_corpus_and_regressions_replay_without_panics",
    "exec_of_pubsub_keeps_its_reply",
];

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Not a test's own assertion (a test thread is named after its test).
            let thread = std::thread::current();
            if !TESTS.contains(&thread.name().unwrap_or("")) {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

struct Seeded(fastrand::Rng);

impl Entropy for Seeded {
    fn byte(&mut self) -> u8 {
        self.0.u8(..)
    }
}

fn to_cmd(args: &[Bytes]) -> redkit::Cmd {
    let mut cmd = redkit::Cmd::new(args[0].clone());
    for a in &args[1..] {
        cmd = cmd.arg(a.clone());
    }
    cmd
}

fn show(args: &[Bytes]) -> String {
    args.iter()
        .map(|a| format!("{:?}", String::from_utf8_lossy(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn connect(config: &redkit::Config) -> redkit::Connection {
    tokio::time::timeout(Duration::from_secs(5), redkit::Connection::connect(config))
        .await
        .expect("connecting in time")
        .expect("connecting")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_commands_never_panic_or_hang_the_server() {
    count_panics();
    let seed = std::env::var("REDKIT_RANDOM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_u64);
    let commands = std::env::var("REDKIT_RANDOM_COMMANDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(COMMANDS);
    let server = TcpServer::start().await.unwrap();
    let config = redkit::Config::from_url(&server.url())
        .unwrap()
        .with_protocol(redkit::RespVersion::Resp3);
    let mut conn = connect(&config).await;
    let info = conn.send(&redkit::Cmd::new("COMMAND").arg("INFO")).await.unwrap();
    let table = Table::from_command_info(&info);
    assert!(
        table.0.len() > 100,
        "COMMAND INFO listed {} commands",
        table.0.len()
    );
    let mut rng = Seeded(fastrand::Rng::with_seed(seed));
    let mut hung = Vec::new();
    // The commands sent on the current connection (what led to a hang).
    let mut history: Vec<Vec<Bytes>> = Vec::new();
    let (mut answered, mut errors, mut reconnects) = (0, 0, 0);
    let started = Instant::now();
    for i in 0..commands {
        let args = command_gen::command(&table, &mut rng);
        history.push(args.clone());
        let pubsub = command_gen::no_direct_reply(&args);
        let limit = if pubsub { NO_REPLY_WAIT } else { PER_COMMAND };
        let reconnect = match tokio::time::timeout(limit, conn.send(&to_cmd(&args))).await {
            // Answered (an error reply is an answer).
            Ok(Ok(_)) => {
                answered += 1;
                (i + 1).is_multiple_of(250)
            }
            Ok(Err(redkit::Error::Server { .. } | redkit::Error::Conversion { .. })) => {
                errors += 1;
                (i + 1).is_multiple_of(250)
            }
            // QUIT, CLIENT KILL, a reply the client cannot follow (HELLO 2 then RESP2 pushes…): a new connection.
            Ok(Err(_)) => true,
            Err(_) => {
                if !pubsub {
                    hung.push(history.iter().map(|a| show(a)).collect::<Vec<_>>().join("\n"));
                }
                true
            }
        };
        if reconnect {
            reconnects += 1;
            history.clear();
            conn = connect(&config).await;
        }
    }
    let elapsed = started.elapsed();
    let mut conn = connect(&config).await;
    let pong = conn.send(&redkit::Cmd::new("PING")).await.unwrap();
    assert_eq!(pong, redkit::Value::SimpleString(Bytes::from_static(b"PONG")));
    assert!(hung.is_empty(), "no reply within {PER_COMMAND:?} to: {hung:#?}");
    assert_eq!(
        server.server().panics(),
        0,
        "connection tasks panicked (seed {seed})"
    );
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "something panicked (seed {seed})"
    );
    eprintln!(
        "{commands} random commands in {elapsed:?} (seed {seed}): {answered} answered, {errors} error replies, \
         {reconnects} reconnections"
    );
}

/// EXEC of a transaction holding a pub/sub command keeps its reply: an array of every queued command's answers
/// (UNSUBSCRIBE's one per channel), then the next command's. (redis-server 7.0.15 writes the same bytes after a
/// header of `*3` — the number of commands, not of answers — so a RESP2 client reads past the array; the array
/// here counts what it holds.) Found by the random commands: the server used to drop EXEC's array.
#[tokio::test]
async fn exec_of_pubsub_keeps_its_reply() {
    let server = TcpServer::start().await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"MULTI\r\nSET x 1\r\nUNSUBSCRIBE a b\r\nGET x\r\nEXEC\r\nPING\r\n")
        .await
        .unwrap();
    let expected: &[u8] = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n+OK\r\n\
        *3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n\
        $1\r\n1\r\n+PONG\r\n";
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < expected.len() {
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(expected));
}

/// Replay one input with a time bound; `Err` with what went wrong.
async fn replay(data: Vec<u8>) -> Result<(), String> {
    let server = Server::new(ServerConfig::default());
    let served = server.clone();
    let task =
        tokio::spawn(async move { tokio::time::timeout(PER_INPUT, session::session(served, &data)).await });
    let outcome = task.await;
    // Past its bound (or done): stop a running script; the lock must come free.
    server.begin_shutdown();
    let released = tokio::task::spawn_blocking(move || server.shutdown(false, Duration::from_secs(5)))
        .await
        .map_err(|e| e.to_string())?;
    match outcome {
        Err(e) if e.is_panic() => return Err("the session panicked".to_owned()),
        Err(e) => return Err(e.to_string()),
        Ok(_) => {}
    }
    match released {
        Ok(true) => Ok(()),
        other => Err(format!(
            "the server lock was not released after stopping the session: {other:?}"
        )),
    }
}

/// Inputs that once broke the server (three header bytes, then what the client sends), by name.
const REGRESSIONS: &[(&str, &[u8])] = &[
    (
        "script_forever_stopped_by_shutdown",
        b"\x00\x00\x00*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n",
    ),
    (
        "blpop_forever_then_eof",
        b"\x40\x80\xc0*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n",
    ),
];

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/server_session");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzz_corpus_and_regressions_replay_without_panics() {
    count_panics();
    let mut inputs: Vec<(String, Vec<u8>)> = REGRESSIONS
        .iter()
        .map(|(name, data)| (format!("regression {name}"), data.to_vec()))
        .collect();
    let files = corpus();
    assert!(!files.is_empty(), "the fuzz corpus is there");
    inputs.extend(files);
    let started = Instant::now();
    let count = inputs.len();
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut set = tokio::task::JoinSet::new();
    for (name, data) in inputs {
        while set.len() >= PARALLEL {
            set.join_next().await;
        }
        let failures = failures.clone();
        set.spawn(async move {
            if let Err(e) = replay(data).await {
                failures.lock().unwrap().push(format!("{name}: {e}"));
            }
        });
    }
    while set.join_next().await.is_some() {}
    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "something panicked");
    eprintln!("{count} inputs replayed in {:?}", started.elapsed());
}
