//! The append-only write path: after each batch of commands, the changed keys of every database become one
//! [`WriteBatch`] (current entries, or tombstones for removed keys), which the store applies all or nothing.
//! Until the store has taken a batch, its keys stay on the databases' dirty lists, so a failed write is retried.

use redkit_log::{Store, WriteBatch};

use bytes::Bytes;

use crate::state::db::Db;

use super::error::WriteError;
use super::format::{encode, store_key};

/// Add to `batch` what replaces the stored copy of database `i` by `db`'s contents: tombstones for the stored keys
/// it lacks, and every entry.
pub(super) fn put_database(
    batch: &mut WriteBatch,
    store: &Store,
    i: usize,
    db: &Db,
) -> Result<(), WriteError> {
    for stored in store.keys_with_prefix(&[i as u8]) {
        if db.peek(&stored[1..]).is_none() {
            batch.delete(stored);
        }
    }
    for (key, entry) in db.entries() {
        batch.put(store_key(i, key), encode(entry)?);
    }
    Ok(())
}

/// The batch of what changed in `dbs` since their changes were last [`written`] (possibly empty). The changes
/// stay pending, also when an entry does not encode.
pub(super) fn pending(store: &Store, dbs: &mut [Db]) -> Result<WriteBatch, WriteError> {
    let mut batch = WriteBatch::new();
    for (i, db) in dbs.iter_mut().enumerate() {
        let Some(dirty) = db.dirty.as_mut() else {
            continue;
        };
        if dirty.whole {
            put_database(&mut batch, store, i, db)?;
        } else if !dirty.keys.is_empty() {
            let mut keys = std::mem::take(&mut dirty.keys);
            keys.sort_unstable();
            keys.dedup();
            for key in &keys {
                match db.peek(key) {
                    Some(entry) => match encode(entry) {
                        Ok(v) => {
                            batch.put(store_key(i, key), v);
                        }
                        Err(e) => {
                            restore_keys(db, keys);
                            return Err(e);
                        }
                    },
                    None => {
                        batch.delete(store_key(i, key));
                    }
                }
            }
            // Kept until the store has them.
            restore_keys(db, keys);
        }
    }
    Ok(batch)
}

/// The store has taken the [`pending`] changes of `dbs`: nothing is pending any more.
pub(super) fn written(dbs: &mut [Db]) {
    for db in dbs.iter_mut() {
        if let Some(dirty) = db.dirty.as_mut() {
            dirty.keys.clear();
            dirty.whole = false;
        }
    }
}

/// Put `keys` back on `db`'s dirty list (a write that failed must be retried).
fn restore_keys(db: &mut Db, keys: Vec<Bytes>) {
    if let Some(dirty) = db.dirty.as_mut() {
        dirty.keys = keys;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::test_support::run;
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use crate::engine::Server;
    use crate::persist::{AppendFsync, Persistence};
    use crate::state::ServerConfig;

    fn open(dir: &std::path::Path) -> Server {
        match Server::open(ServerConfig::default(), &Persistence::append_only(dir)) {
            Ok((server, _)) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// A store that cannot be written: the batch's replies become MISCONF, further writes are refused while reads
    /// go on, and once the store takes writes again (the retry runs with the expiry cycle) nothing is missing.
    #[test]
    fn a_failed_write_is_never_acknowledged_and_is_retried() {
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let failing = Arc::new(AtomicBool::new(false));
        let hook: redkit_log::FaultHook = {
            let failing = failing.clone();
            Arc::new(move |_: &redkit_log::FaultPoint| {
                if failing.load(Ordering::Acquire) {
                    redkit_log::Fault::Fail(std::io::ErrorKind::StorageFull)
                } else {
                    redkit_log::Fault::Proceed
                }
            })
        };
        let config = Persistence::append_only(dir.path()).with_fsync(AppendFsync::Always);
        let (server, _) = Server::open_with_hook(ServerConfig::default(), &config, Some(hook))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut s = server.session();
        let cmd = |s: &mut crate::state::Session, text: &str| {
            let args: Vec<String> = text.split(' ').map(str::to_owned).collect();
            run(&server, s, &args)
        };
        assert_eq!(cmd(&mut s, "SET a 1"), redkit_resp::Value::simple("OK"));
        failing.store(true, Ordering::Release);
        let refused = cmd(&mut s, "SET b 2");
        assert!(
            matches!(&refused, redkit_resp::Value::Error(e) if e.starts_with(b"MISCONF Errors writing to the AOF file")),
            "{refused:?}"
        );
        let again = cmd(&mut s, "SET c 3");
        assert!(
            matches!(&again, redkit_resp::Value::Error(e) if e.starts_with(b"MISCONF")),
            "{again:?}"
        );
        assert_eq!(cmd(&mut s, "GET a"), redkit_resp::Value::bulk("1"));
        failing.store(false, Ordering::Release);
        server.expire_cycle();
        assert_eq!(cmd(&mut s, "SET c 3"), redkit_resp::Value::simple("OK"));
        server.disconnect(&mut s);
        drop(s);
        drop(server);
        let reopened = open(dir.path());
        let mut s = reopened.session();
        for (key, value) in [("a", "1"), ("b", "2"), ("c", "3")] {
            let got = run(&reopened, &mut s, &["GET", key]);
            assert_eq!(got, redkit_resp::Value::bulk(value), "{key}");
        }
    }
}
