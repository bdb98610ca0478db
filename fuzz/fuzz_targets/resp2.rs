#![no_main]
//! Fuzz the RESP2 decoder: `cargo +nightly fuzz run resp2` (from the `fuzz/` directory).

mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::check(data, redkit_resp::RespVersion::Resp2));
