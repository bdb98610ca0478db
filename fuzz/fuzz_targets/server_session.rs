#![no_main]
//! Fuzz a whole server session with arbitrary bytes: `cargo +nightly fuzz run server_session -- -dict=server.dict`
//! (from the `fuzz/` directory).
//!
//! The first three bytes pick where the rest is cut into (at most four) chunks, so request boundaries fall
//! anywhere; the rest is what a client sends on one connection — requests, pipelines, MULTI, scripts, garbage.
//! The client writes it, shuts down its write half and reads every reply until the server closes, concurrently
//! with the server. Every input runs on a fresh `Server`; any panic aborts (libFuzzer's panic hook), on the
//! connection task or on the blocking thread a script batch runs on.
//!
//! Every input is bounded in time: past `WATCHDOG` (a script looping forever, a command blocked on a key no one
//! writes) the server is told to shut down, which stops a running script, and the session is dropped. The server
//! lock must then come free within `RELEASE`, or the input is reported as a bug; a command that hangs the
//! runtime's thread itself is caught by libFuzzer's `-timeout`.

mod session;

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use redkit_server::{Server, ServerConfig};

/// How long one input may run before the watchdog stops it.
const WATCHDOG: Duration = Duration::from_secs(2);
/// How long a stopped script may keep the server lock.
const RELEASE: Duration = Duration::from_secs(5);

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let server = Server::new(ServerConfig::default());
    // Other clients would get BUSY early; the watchdog, not the threshold, bounds a script.
    let mut admin = server.session();
    let _ = server.execute(
        &mut admin,
        &[
            Bytes::from_static(b"CONFIG"),
            Bytes::from_static(b"SET"),
            Bytes::from_static(b"busy-reply-threshold"),
            Bytes::from_static(b"100"),
        ],
    );
    let finished = runtime().block_on(async {
        tokio::time::timeout(WATCHDOG, session::session(server.clone(), data))
            .await
            .is_ok()
    });
    if !finished {
        // Stop the script, if one runs; the session was dropped with the timeout.
        server.begin_shutdown();
    }
    // A script that ignores being stopped would keep the lock (and its thread) forever.
    if !matches!(server.shutdown(false, RELEASE), Ok(true)) {
        panic!("the server lock was not released within {RELEASE:?} of stopping the session");
    }
});
