//! Benchmarks of redkit against other Redis crates; see `benches/` and `cargo xtask bench`.
