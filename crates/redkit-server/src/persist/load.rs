//! Loading: every record of the store decoded into the keyspace, and the [`LoadReport`] of what was found.
//!
//! The store's recovery rules apply first (a torn tail of the last segment is cut off; damage elsewhere refuses
//! to start unless `repair` is set, which drops it and says so); then every record is decoded, and one that does
//! not decode likewise refuses to start, or with `repair` is dropped and reported. A key whose deadline passed
//! while the server was down is not loaded, and removed from the store.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use redkit_log::{Store, WriteBatch};

use crate::state::db::Db;

use super::error::PersistError;
use super::format::{RecordError, decode, printable};

/// What loading the data directory found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Keys loaded.
    pub keys_loaded: u64,
    /// Keys whose deadline passed while the server was down (removed from the store).
    pub keys_expired: u64,
    /// Torn tails the store cut off: `(file, offset, bytes removed)`. Writes there were never acknowledged with
    /// `appendfsync always`.
    pub truncated: Vec<(PathBuf, u64, u64)>,
    /// With repair: damage dropped, `(file, offset, bytes dropped)`.
    pub repaired: Vec<(PathBuf, u64, u64)>,
    /// With repair: records that did not decode and were dropped, described.
    pub dropped: Vec<String>,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} keys loaded, {} expired while the server was down",
            self.keys_loaded, self.keys_expired
        )?;
        for (file, offset, len) in &self.truncated {
            write!(
                f,
                "; a torn write of {len} bytes at offset {offset} of {} was cut off",
                file.display()
            )?;
        }
        for (file, offset, len) in &self.repaired {
            write!(
                f,
                "; REPAIRED: {len} damaged bytes from offset {offset} of {} were dropped",
                file.display()
            )?;
        }
        for what in &self.dropped {
            write!(f, "; REPAIRED: dropped {what}")?;
        }
        Ok(())
    }
}

/// Load every record of `store` (opened on `dir`) into `dbs` (which are empty); `now` decides which keys expired
/// meanwhile, and with `repair` a record that does not decode is dropped (and reported) rather than refused.
pub(super) fn load(
    store: &Store,
    dir: &Path,
    repair: bool,
    dbs: &mut [Db],
    now: i64,
) -> Result<LoadReport, PersistError> {
    let store_error = |source| PersistError::Store {
        dir: dir.to_path_buf(),
        source,
    };
    let recovery = store.recovery();
    let mut load = LoadReport {
        truncated: recovery.truncated.clone(),
        repaired: recovery.repaired.clone(),
        ..LoadReport::default()
    };
    let mut cleanup = WriteBatch::new();
    for record in store.iter() {
        let (key, value) = record.map_err(store_error)?;
        let parsed = match key.split_first() {
            Some((&db, name)) if (db as usize) < dbs.len() => {
                decode(&value).map(|entry| (db as usize, name, entry))
            }
            _ => Err(RecordError::NoDatabase),
        };
        match parsed {
            Ok((db, name, entry)) => {
                if entry.expire_at.is_some_and(|t| t <= now) {
                    load.keys_expired += 1;
                    cleanup.delete(key.clone());
                } else {
                    dbs[db].set_entry(Bytes::copy_from_slice(name), entry);
                    load.keys_loaded += 1;
                }
            }
            Err(reason) if repair => {
                load.dropped
                    .push(format!("the record {} ({reason})", printable(&key)));
                cleanup.delete(key.clone());
            }
            Err(reason) => {
                return Err(PersistError::Undecodable {
                    dir: dir.to_path_buf(),
                    what: format!("the record {} does not decode ({reason})", printable(&key)),
                });
            }
        }
    }
    if !cleanup.is_empty() {
        store.write_batch(cleanup).map_err(store_error)?;
    }
    Ok(load)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::test_support::run;
    use std::path::Path;

    use crate::engine::Server;
    use crate::persist::Persistence;
    use crate::state::ServerConfig;

    /// A random command over a handful of keys, touching every type and every way a key changes.
    fn random_command(rng: &mut fastrand::Rng) -> Vec<String> {
        let k = |rng: &mut fastrand::Rng| format!("k{}", rng.usize(0..6));
        let v = |rng: &mut fastrand::Rng| format!("v{}", rng.usize(0..8));
        let n = |rng: &mut fastrand::Rng| rng.usize(0..40).to_string();
        let (k1, k2, k3, v1, v2, n1) = (k(rng), k(rng), k(rng), v(rng), v(rng), n(rng));
        let text = match rng.usize(0..52) {
            0 => format!("SET {k1} {v1}"),
            1 => format!("SET {k1} {n1} PX 100000"),
            2 => format!("SET {k1} {v1} PX 1"),
            3 => format!("APPEND {k1} {v1}"),
            4 => format!("INCR {k1}"),
            5 => format!("DEL {k1} {k2}"),
            6 => format!("EXPIRE {k1} 1000"),
            7 => format!("PERSIST {k1}"),
            8 => format!("RPUSH {k1} {v1} {v2}"),
            9 => format!("LPOP {k1}"),
            10 => format!("LMOVE {k1} {k2} LEFT RIGHT"),
            11 => format!("SADD {k1} {v1} {n1}"),
            12 => format!("SREM {k1} {v1}"),
            13 => format!("SPOP {k1}"),
            14 => format!("HSET {k1} {v1} {v2}"),
            15 => format!("HDEL {k1} {v1}"),
            16 => format!("HINCRBY {k1} {v1} 3"),
            17 => format!("ZADD {k1} {n1} {v1}"),
            18 => format!("ZINCRBY {k1} 1.5 {v1}"),
            19 => format!("ZREM {k1} {v1}"),
            20 => format!("ZPOPMIN {k1}"),
            21 => format!("XADD {k1} * f {v1}"),
            22 => format!("XADD {k1} MAXLEN 3 * f {v1}"),
            23 => format!("XGROUP CREATE {k1} g 0 MKSTREAM"),
            24 => format!("XREADGROUP GROUP g c{n1} COUNT 2 STREAMS {k1} >"),
            25 => format!("XAUTOCLAIM {k1} g other 0 0-0 COUNT 1"),
            26 => format!("XTRIM {k1} MAXLEN 1"),
            27 => format!("PFADD {k1} {v1} {v2} {n1}"),
            28 => format!("PFMERGE {k1} {k2} {k3}"),
            29 => format!("GEOADD {k1} 13.361389 38.115556 {v1}"),
            30 => format!("SETBIT {k1} {n1} 1"),
            31 => format!("BITOP OR {k1} {k2} {k3}"),
            32 => format!("RENAME {k1} {k2}"),
            33 => format!("COPY {k1} {k2} REPLACE"),
            34 => format!("MOVE {k1} {}", rng.usize(0..3)),
            35 => format!("SELECT {}", rng.usize(0..3)),
            36 => format!("SWAPDB {} {}", rng.usize(0..3), rng.usize(0..3)),
            37 => "FLUSHDB".into(),
            38 => format!("SINTERSTORE {k1} {k2} {k3}"),
            39 => format!("ZUNIONSTORE {k1} 2 {k2} {k3}"),
            40 => format!("GETDEL {k1}"),
            41 => format!("GETEX {k1} PX 50000"),
            42 => format!("SETRANGE {k1} 2 {v1}"),
            43 => format!("LTRIM {k1} 1 -1"),
            44 => format!("LSET {k1} 0 {v1}"),
            45 => format!("SORT {k1} ALPHA STORE {k2}"),
            46 => format!("INCRBYFLOAT {k1} 0.5"),
            47 => format!("HINCRBYFLOAT {k1} {v1} 0.25"),
            48 => format!("EXPIREAT {k1} 1"),
            49 => format!("BLPOP {k1} {k2} 1"),
            50 => format!("SMOVE {k1} {k2} {v1}"),
            _ => format!("RESTORE-ASKING {k1}"),
        };
        let mut args: Vec<String> = text.split(' ').map(str::to_owned).collect();
        // Scripts and transactions change keys too.
        match rng.usize(0..30) {
            0 => {
                args = vec![
                    "EVAL".into(),
                    "redis.call('rpush', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[2])".into(),
                    "2".into(),
                    k1,
                    format!("{k2}n"),
                    v1,
                ];
            }
            1 => args.insert(0, "MULTI-EXEC".into()),
            _ => {}
        }
        args
    }

    fn open(dir: &Path) -> Server {
        match Server::open(ServerConfig::default(), &Persistence::append_only(dir)) {
            Ok((server, _)) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// Random commands (every type, expiry, several databases, SWAPDB, FLUSHDB, MOVE, scripts, transactions) with
    /// reopens in between: after each reopen the server holds exactly what it held before.
    #[test]
    fn every_change_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let seed = std::env::var("REDKIT_PERSIST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| fastrand::u64(..));
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut server = open(dir.path());
        let mut session = server.session();
        for step in 0..2_000 {
            let args = random_command(&mut rng);
            if args[0] == "MULTI-EXEC" {
                run(&server, &mut session, &["MULTI"]);
                run(&server, &mut session, &args[1..]);
                run(
                    &server,
                    &mut session,
                    &["SET".into(), "tx".into(), step.to_string()],
                );
                run(&server, &mut session, &["EXEC"]);
            } else {
                run(&server, &mut session, &args);
            }
            if step % 97 == 96 {
                let now = server.clock().now_ms() + 50;
                let before = server.contents(now);
                let db = session.db_index();
                server.disconnect(&mut session);
                drop(session);
                drop(server);
                server = open(dir.path());
                session = server.session();
                session.select(db);
                let after = server.contents(now);
                for (i, (b, a)) in before.iter().zip(&after).enumerate() {
                    assert_eq!(
                        b, a,
                        "database {i} differs after a reopen at step {step} (seed {seed})"
                    );
                }
            }
        }
    }
}
