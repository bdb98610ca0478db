#![no_main]
//! Fuzz the in-process server with sequences of valid commands and random arguments:
//! `cargo +nightly fuzz run server_commands` (from the `fuzz/` directory).
//!
//! The input is read through `arbitrary::Unstructured` by the generator of `command_gen.rs` (command names,
//! arities and flags from the server's own `COMMAND INFO`, asked once; arguments from small pools). Up to
//! `MAX_COMMANDS` commands run on a fresh `Mock`, each within `PER_COMMAND` (blocking commands get a short timeout
//! argument, so only a bug hits it); the server must never panic and must answer PING afterwards.

mod command_gen;

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Unstructured;
use command_gen::{Entropy, Table};
use redkit_server::Mock;
use redkit_resp::{Cmd, Executor, Value};

const MAX_COMMANDS: usize = 64;
const PER_COMMAND: Duration = Duration::from_secs(2);

struct Bytes<'a, 'b>(&'a mut Unstructured<'b>);

impl Entropy for Bytes<'_, '_> {
    fn byte(&mut self) -> u8 {
        self.0.arbitrary().unwrap_or(0)
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
}

/// The server's command table, asked once.
fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mock = Mock::new();
        let reply = runtime()
            .block_on(mock.execute(Cmd::new("COMMAND").arg("INFO")))
            .expect("COMMAND INFO");
        let table = Table::from_command_info(&reply);
        assert!(
            table.0.len() > 100,
            "COMMAND INFO listed {} commands",
            table.0.len()
        );
        table
    })
}

fn to_cmd(args: &[bytes::Bytes]) -> Cmd {
    let mut cmd = Cmd::new(args[0].clone());
    for a in &args[1..] {
        cmd = cmd.arg(a.clone());
    }
    cmd
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let table = table();
    let mut u = Unstructured::new(data);
    let mock = Mock::new();
    runtime().block_on(async {
        for _ in 0..MAX_COMMANDS {
            if u.is_empty() {
                break;
            }
            let args = command_gen::command(table, &mut Bytes(&mut u));
            let cmd = to_cmd(&args);
            if tokio::time::timeout(PER_COMMAND, mock.execute(cmd))
                .await
                .is_err()
            {
                panic!("no reply within {PER_COMMAND:?} to {args:?}");
            }
        }
        // The session may be inside MULTI: EXEC or DISCARD it before asking PING.
        let _ = mock.execute(Cmd::new("DISCARD")).await;
        let _ = mock.execute(Cmd::new("RESET")).await;
        let pong = mock.execute(Cmd::new("PING")).await;
        assert!(
            matches!(&pong, Ok(Value::SimpleString(s)) if &s[..] == b"PONG"),
            "PING answered {pong:?}"
        );
    });
});
