//! INFO's sections (server, clients, memory, persistence, stats, replication, cpu, keyspace), and the memory
//! estimate the memory section shares with MEMORY USAGE. The INFO command itself is `server.rs`'s.

use super::Ctx;

/// An estimate of the memory a value takes, in the spirit of MEMORY USAGE: key, value and per-entry overhead.
pub(super) fn usage(key: &[u8], data: &crate::state::db::Data) -> usize {
    let payload = match data {
        crate::state::db::Data::Str(s) => s.len(),
        crate::state::db::Data::List(l) => l.iter().map(|v| v.len() + 16).sum(),
        crate::state::db::Data::Set(s) => s.iter().map(|v| v.len() + 24).sum(),
        crate::state::db::Data::Hash(h) => h.iter().map(|(k, v)| k.len() + v.len() + 32).sum(),
        crate::state::db::Data::ZSet(z) => z.scores.keys().map(|m| m.len() + 48).sum(),
        crate::state::db::Data::Stream(s) => s.payload(),
    };
    key.len() + payload + 48
}

fn human_bytes(n: usize) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n}B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / 1024.0 / 1024.0)
    } else {
        format!("{:.2}G", n / 1024.0 / 1024.0 / 1024.0)
    }
}

/// Resident set size of this process, where the platform tells (Linux).
fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// The sections INFO reports, in order, when asked for `default`, `all`, `everything` or nothing.
pub(super) const DEFAULT_SECTIONS: [&str; 8] = [
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "keyspace",
];

/// Append section `section` of INFO to `out` (nothing for an unknown name).
pub(super) fn info_section(ctx: &mut Ctx<'_>, section: &str, out: &mut String) {
    use std::fmt::Write as _;
    let now = ctx.now;
    let state = &mut *ctx.state;
    let uptime = (now - state.started_ms).max(0) / 1000;
    if !out.is_empty() {
        out.push_str("\r\n");
    }
    let _ = match section {
        "server" => write!(
            out,
            "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_mode:standalone\r\n\
             os:{} {}\r\narch_bits:{}\r\nprocess_id:{}\r\nrun_id:{:040x}\r\nuptime_in_seconds:{uptime}\r\n\
             uptime_in_days:{}\r\nhz:10\r\nconfigured_hz:10\r\nexecutable:redkit-server\r\n",
            std::env::consts::OS,
            std::env::consts::ARCH,
            usize::BITS,
            std::process::id(),
            state.started_ms,
            uptime / 86_400,
        ),
        "clients" => write!(
            out,
            "# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\n",
            state.clients.len(),
            state.limits.maxclients(),
            state.blocked.len(),
            state.tracking.clients(),
        ),
        "memory" => {
            let used: usize = state
                .dbs
                .iter_mut()
                .map(|db| {
                    db.keys(now)
                        .iter()
                        .map(|k| db.get(k, now).map_or(0, |e| usage(k, &e.data)))
                        .sum::<usize>()
                })
                .sum();
            let rss = rss_bytes();
            write!(
                out,
                "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\n\
                 used_memory_rss_human:{}\r\nmaxmemory:0\r\nmaxmemory_human:0B\r\nmaxmemory_policy:noeviction\r\n",
                human_bytes(used),
                human_bytes(rss),
            )
        }
        "persistence" => match &state.persist {
            Some(p) => {
                p.info(&state.dbs, out);
                Ok(())
            }
            None => write!(
                out,
                "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:{}\r\n\
                 rdb_bgsave_in_progress:0\r\nrdb_last_save_time:{}\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\n",
                state.dbs.iter().map(|d| d.writes).sum::<u64>(),
                state.started_ms / 1000
            ),
        },
        "stats" => write!(
            out,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\nexpired_keys:{}\r\n\
             evicted_keys:0\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\n",
            state.connections_received,
            state.commands_processed,
            state.dbs.iter().map(|d| d.expired).sum::<u64>(),
            state.pubsub.channel_count(),
            state.pubsub.pattern_count(),
        ),
        "replication" => write!(
            out,
            "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n"
        ),
        "cpu" => write!(out, "# CPU\r\n"),
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            for (i, db) in state.dbs.iter_mut().enumerate() {
                let keys = db.len(now);
                if keys > 0 {
                    let _ = write!(
                        out,
                        "db{i}:keys={keys},expires={},avg_ttl=0\r\n",
                        db.expires_count()
                    );
                }
            }
            Ok(())
        }
        _ => Ok(()),
    };
}
