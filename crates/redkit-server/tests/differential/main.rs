//! The embedded server against a real `redis-server`, reply for reply: scenario tests per command family, and a
//! stateful property test of random command sequences over small pools of keys, fields and values (so they collide
//! and hit WRONGTYPE), both over RESP2 and RESP3.
//!
//! Every test starts its own `redis-server` (`$REDIS_SERVER`, or the one on the `PATH`) and an embedded
//! `TcpServer`, both on free ports, sends each command to both and compares the replies: exactly, or normalised
//! where Redis's own replies are not deterministic (see [`harness`]). The embedded server follows Redis 7.0, so
//! without a `redis-server`, or with another version, the tests print why on stderr and pass — except under CI
//! (`CI` set), where that is a failure.
//!
//! The modules are shaped like the server's `src/commands/`: [`harness`] holds what they share, each other module
//! one command family (named after its `src/commands/` file), and [`random`] the random sequences.
//!
//! Running:
//!
//! ```text
//! cargo nextest run -p redkit-server --test differential
//! cargo test -p redkit-server --test differential -- zsets::      # one family
//! REDKIT_DIFF_CASES=5000 cargo test -p redkit-server --test differential -- random::
//! DIFF_TRACE=1 cargo test -p redkit-server --test differential -- scripting:: --nocapture
//! ```
//!
//! `REDKIT_DIFF_CASES` is the number of random cases per protocol (each a sequence of 1–39 commands) run by
//! `random::random_command_sequences_agree_with_redis`; 200 by default. `DIFF_TRACE` prints each command of the
//! scenario tests to stderr as it is sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod bitmap;
mod blocking;
mod function;
mod geo;
mod hyperloglog;
mod key;
mod list;
mod random;
mod scan;
mod scripting;
mod server;
mod set;
mod sort;
mod stream;
mod stream_group;
mod string;
mod tracking;
mod transaction;
mod zset;
