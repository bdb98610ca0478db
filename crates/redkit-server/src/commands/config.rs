//! CONFIG's settings: the table CONFIG GET reads (every parameter, its value, whether it can be set here) and
//! CONFIG SET, which checks every pair before it changes anything. The CONFIG command itself (and RESETSTAT,
//! REWRITE) is `server.rs`'s.

use bytes::Bytes;
use redkit_resp::Value;

use super::{Ctx, Reply, ok};

/// What CONFIG GET reports: (name, current value, settable here).
fn config_values(ctx: &Ctx<'_>) -> Vec<(&'static str, String, bool)> {
    let s = &ctx.state.settings;
    let mut values = vec![
        ("databases", "16".into(), false),
        ("maxmemory", "0".into(), false),
        ("maxmemory-policy", "noeviction".into(), false),
        ("maxclients", ctx.state.limits.maxclients().to_string(), true),
        (
            "client-query-buffer-limit",
            ctx.state.limits.query_buffer().to_string(),
            true,
        ),
        ("client-output-buffer-limit", ctx.state.limits.output_text(), true),
        (
            "protected-mode",
            if ctx.state.limits.protected_mode() {
                "yes"
            } else {
                "no"
            }
            .into(),
            true,
        ),
        (
            "appendonly",
            if ctx.state.persist.as_ref().is_some_and(|p| p.appendonly()) {
                "yes"
            } else {
                "no"
            }
            .into(),
            false,
        ),
        (
            "appendfsync",
            ctx.state
                .persist
                .as_ref()
                .map_or(crate::AppendFsync::EverySec, |p| p.appendfsync())
                .name()
                .into(),
            false,
        ),
        ("save", String::new(), false),
        ("timeout", ctx.state.limits.timeout_secs().to_string(), true),
        ("hz", "10".into(), false),
        ("proto-max-bulk-len", "536870912".into(), false),
        ("notify-keyspace-events", String::new(), false),
        ("set-max-intset-entries", "512".into(), false),
        ("hash-max-listpack-entries", "128".into(), false),
        ("hash-max-listpack-value", "64".into(), false),
        ("zset-max-listpack-entries", "128".into(), false),
        ("zset-max-listpack-value", "64".into(), false),
        (
            "requirepass",
            ctx.state.config.requirepass.clone().unwrap_or_default(),
            true,
        ),
        (
            "slowlog-log-slower-than",
            s.slowlog_log_slower_than.to_string(),
            true,
        ),
        ("slowlog-max-len", s.slowlog_max_len.to_string(), true),
        ("busy-reply-threshold", s.busy_reply_threshold.to_string(), true),
        ("lua-time-limit", s.busy_reply_threshold.to_string(), true),
    ];
    if let Some(p) = &ctx.state.persist {
        values.push(("dir", p.dir().display().to_string(), false));
    }
    values
}

/// CONFIG GET pattern…: the parameters any pattern matches, each once, with their values.
pub(super) fn config_get(ctx: &Ctx<'_>, args: &[Bytes]) -> Reply {
    let known = config_values(ctx);
    let mut out: Vec<(&str, String)> = Vec::new();
    for pattern in &args[2..] {
        for (k, v, _) in &known {
            if super::glob_match(&pattern.to_ascii_lowercase(), k.as_bytes())
                && !out.iter().any(|(n, _)| n == k)
            {
                out.push((k, v.clone()));
            }
        }
    }
    Ok(Value::Map(
        out.into_iter()
            .map(|(k, v)| (Value::bulk(k), Value::bulk(v)))
            .collect(),
    ))
}

/// A checked change to the connection limits, applied once every pair of a CONFIG SET is checked.
type LimitChange = Box<dyn FnOnce(&crate::limits::Limits)>;

/// CONFIG SET name value…: all or nothing.
pub(super) fn config_set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(super::subcommand_error("config", &args[1], true));
    }
    let known = config_values(ctx);
    let failed = |name: &str, why: &str| {
        super::err(&format!(
            "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
        ))
    };
    // Check every pair first: CONFIG SET applies all or nothing.
    let mut settings = ctx.state.settings.clone();
    let mut requirepass = ctx.state.config.requirepass.clone();
    // The connection limits, applied only once every pair is checked.
    let mut limit_changes: Vec<LimitChange> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for pair in args[2..].chunks(2) {
        let name = String::from_utf8_lossy(&pair[0]).to_ascii_lowercase();
        let Some((_, _, settable)) = known.iter().find(|(n, _, _)| *n == name) else {
            return Err(super::err(&format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        if seen.contains(&name) {
            return Err(failed(&name, "duplicate parameter"));
        }
        seen.push(name.clone());
        if !settable {
            return Err(failed(&name, "the embedded server cannot change it"));
        }
        let value = &pair[1];
        let integer = || {
            std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<i64>().ok())
                .ok_or_else(|| failed(&name, "argument couldn't be parsed into an integer"))
        };
        match name.as_str() {
            "slowlog-log-slower-than" => {
                let v = integer()?;
                if v < -1 {
                    return Err(failed(
                        &name,
                        "argument must be between -1 and 9223372036854775807 inclusive",
                    ));
                }
                settings.slowlog_log_slower_than = v;
            }
            "slowlog-max-len" => {
                let v = integer()?;
                settings.slowlog_max_len = usize::try_from(v).map_err(|_| {
                    failed(
                        &name,
                        "argument must be between 0 and 9223372036854775807 inclusive",
                    )
                })?;
            }
            "busy-reply-threshold" | "lua-time-limit" => {
                let v = integer()?;
                if v < 0 {
                    return Err(failed(
                        &name,
                        "argument must be between 0 and 9223372036854775807 inclusive",
                    ));
                }
                settings.busy_reply_threshold = v;
            }
            "requirepass" => {
                requirepass = (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned());
            }
            "maxclients" => {
                let v = integer()?;
                if !(1..=i64::from(u32::MAX)).contains(&v) {
                    return Err(failed(
                        &name,
                        "argument must be between 1 and 4294967295 inclusive",
                    ));
                }
                let v = v.unsigned_abs();
                limit_changes.push(Box::new(move |l| l.set_maxclients(v)));
            }
            "timeout" => {
                let v = integer()?;
                if !(0..=i64::from(i32::MAX)).contains(&v) {
                    return Err(failed(
                        &name,
                        "argument must be between 0 and 2147483647 inclusive",
                    ));
                }
                let v = v.unsigned_abs();
                limit_changes.push(Box::new(move |l| l.set_timeout_secs(v)));
            }
            "client-query-buffer-limit" => {
                let v = std::str::from_utf8(value)
                    .ok()
                    .and_then(crate::limits::parse_memory)
                    .ok_or_else(|| failed(&name, "argument must be a memory value"))?;
                if v < crate::limits::MIN_QUERY_BUFFER || v > i64::MAX as u64 {
                    return Err(failed(
                        &name,
                        "argument must be between 1048576 and 9223372036854775807 inclusive",
                    ));
                }
                limit_changes.push(Box::new(move |l| l.set_query_buffer(v)));
            }
            "client-output-buffer-limit" => {
                let text = String::from_utf8_lossy(value);
                let set = crate::limits::parse_output_limits(&text).map_err(|why| failed(&name, why))?;
                limit_changes.push(Box::new(move |l| {
                    for (class, limit) in set {
                        l.set_output(class, limit);
                    }
                }));
            }
            "protected-mode" => {
                let on = if value.eq_ignore_ascii_case(b"yes") {
                    true
                } else if value.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(failed(&name, "argument must be 'yes' or 'no'"));
                };
                limit_changes.push(Box::new(move |l| l.set_protected_mode(on)));
            }
            _ => return Err(failed(&name, "the embedded server cannot change it")),
        }
    }
    ctx.state.watch.threshold_ms.store(
        u64::try_from(settings.busy_reply_threshold).unwrap_or(0),
        std::sync::atomic::Ordering::Relaxed,
    );
    ctx.state.settings = settings;
    ctx.state.limits.set_password_set(requirepass.is_some());
    ctx.state.config.requirepass = requirepass;
    for change in limit_changes {
        change(&ctx.state.limits);
    }
    ok()
}
