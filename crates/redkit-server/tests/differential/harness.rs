//! What every family shares: starting both servers (a `redis-server` on a free port, checked to be Redis 7.0,
//! and an embedded `TcpServer`), a [`Pair`] of connections that sends each command to both, and the comparison of
//! their replies — exactly, or normalised where Redis's own replies are not deterministic (unordered aggregates,
//! random picks, TTLs, clock-dependent fields, `COMMAND` and `INFO` metadata).

pub(crate) use std::time::Duration;

pub(crate) use redkit::{Cmd, Config, Connection, RespVersion, Value};
pub(crate) use redkit_server::TcpServer;
pub(crate) use redkit_test_support::RedisServer;

use redkit::Pipeline;

/// How two replies are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// Equal values.
    Exact,
    /// Aggregates compared as multisets (SMEMBERS, HGETALL, KEYS, …).
    Unordered,
    /// Only the kind and length (random replies).
    Shape,
    /// TTL-like integers: the same sign class (−2, −1, or positive).
    Ttl,
    /// COMMAND / COMMAND INFO: the first seven fields of each entry (name, arity, flags, keys, ACL categories).
    CommandMeta,
    /// COMMAND DOCS: since, group and complexity of each command.
    CommandDocs,
    /// INFO: the same sections, and every field the embedded server reports is one Redis reports too.
    InfoFields,
    /// Replies with clock-dependent or internal fields (idle times, radix tree sizes): compared with those blanked.
    Timeless,
}

fn compare_mode(args: &[&str]) -> Compare {
    let name = args[0].to_ascii_uppercase();
    let sub = args.get(1).map(|s| s.to_ascii_uppercase()).unwrap_or_default();
    match (name.as_str(), sub.as_str()) {
        ("COMMAND", "INFO" | "") => return Compare::CommandMeta,
        ("COMMAND", "DOCS") => return Compare::CommandDocs,
        ("COMMAND", "LIST") => return Compare::Unordered,
        ("INFO", _) => return Compare::InfoFields,
        ("SLOWLOG", "GET") => return Compare::Shape,
        ("XPENDING", _) | ("XINFO", _) => return Compare::Timeless,
        ("CLIENT", "TRACKINGINFO") => return Compare::Unordered,
        ("CLIENT", "GETREDIR" | "KILL" | "CACHING" | "TRACKING") => return Compare::Exact,
        ("CONFIG", "GET") => return Compare::Unordered,
        ("FUNCTION", "LIST") => return Compare::Unordered,
        _ => {}
    }
    match name.as_str() {
        // Sets other than intsets, and the keyspace, have no defined order. (Small hashes do — insertion order,
        // which the embedded server keeps — so HGETALL, HKEYS, HVALS and HSCAN compare exactly.)
        "SMEMBERS" | "SINTER" | "SUNION" | "SDIFF" | "KEYS" | "SCAN" | "SSCAN" => Compare::Unordered,
        "SPOP" | "SRANDMEMBER" | "HRANDFIELD" | "ZRANDMEMBER" | "RANDOMKEY" | "TIME" | "CLIENT" | "HELLO"
        | "LASTSAVE" | "MEMORY" => Compare::Shape,
        "TTL" | "PTTL" | "EXPIRETIME" | "PEXPIRETIME" => Compare::Ttl,
        _ => Compare::Exact,
    }
}

/// A canonical, order-insensitive rendering of a value (pairs of maps and flat arrays sorted).
pub(crate) fn canonical(v: &Value) -> String {
    match v {
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            let mut parts: Vec<String> = items.iter().map(canonical).collect();
            parts.sort();
            format!("[{}]", parts.join(","))
        }
        Value::Map(pairs) => {
            let mut parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", canonical(k), canonical(v)))
                .collect();
            parts.sort();
            format!("{{{}}}", parts.join(","))
        }
        other => format!("{other:?}"),
    }
}

pub(crate) fn shape(v: &Value) -> String {
    match v {
        Value::Array(i) | Value::Set(i) | Value::Push(i) => format!("aggregate of {}", i.len()),
        Value::Map(p) => format!("map of {}", p.len()),
        Value::Null => "null".into(),
        Value::Error(e) => format!("error {:?}", String::from_utf8_lossy(e)),
        _ => "scalar".into(),
    }
}

fn ttl_class(v: &Value) -> String {
    match v {
        Value::Integer(n) if *n >= 0 => "positive".into(),
        other => format!("{other:?}"),
    }
}

/// COMMAND INFO entries cut to their first seven fields, flags and categories as sorted strings.
fn command_meta(v: &Value) -> Vec<String> {
    let Value::Array(entries) = v else {
        return vec![format!("{v:?}")];
    };
    entries
        .iter()
        .map(|e| match e {
            Value::Array(fields) => fields.iter().take(7).map(canonical).collect::<Vec<_>>().join(" "),
            other => format!("{other:?}"),
        })
        .collect()
}

/// COMMAND DOCS as (command, since, group, complexity), whatever the protocol's map shape.
fn command_docs(v: &Value) -> Vec<String> {
    fn pairs(v: &Value) -> Vec<(Value, Value)> {
        match v {
            Value::Map(p) => p.clone(),
            Value::Array(items) => items
                .chunks(2)
                .filter_map(|c| Some((c.first()?.clone(), c.get(1)?.clone())))
                .collect(),
            _ => Vec::new(),
        }
    }
    let mut out: Vec<String> = pairs(v)
        .into_iter()
        .map(|(name, doc)| {
            let fields: Vec<String> = pairs(&doc)
                .into_iter()
                .filter(|(k, _)| {
                    matches!(k, Value::BulkString(b) if ["since", "group", "complexity"].contains(&&*String::from_utf8_lossy(b)))
                })
                .map(|(k, v)| format!("{k:?}={v:?}"))
                .collect();
            format!("{name:?}: {}", canonical_list(fields))
        })
        .collect();
    out.sort();
    out
}

fn canonical_list(mut items: Vec<String>) -> String {
    items.sort();
    items.join(",")
}

/// INFO text as (section, field names).
fn info_fields(v: &Value) -> Vec<(String, Vec<String>)> {
    let text = match v {
        Value::BulkString(b) | Value::VerbatimString { text: b, .. } => {
            String::from_utf8_lossy(b).into_owned()
        }
        other => return vec![(format!("{other:?}"), Vec::new())],
    };
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("# ") {
            sections.push((name.to_owned(), Vec::new()));
        } else if let (Some((field, _)), Some(last)) = (line.split_once(':'), sections.last_mut()) {
            last.1.push(field.to_owned());
        }
    }
    sections
}

fn info_agrees(real: &Value, mock: &Value) -> bool {
    let (real, mock) = (info_fields(real), info_fields(mock));
    let names = |s: &[(String, Vec<String>)]| s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    // Sections Redis has and the embedded server leaves out: modules, errorstats, cluster.
    let optional = ["Modules", "Errorstats", "Cluster", "Commandstats", "Latencystats"];
    let real_names: Vec<String> = names(&real)
        .into_iter()
        .filter(|n| !optional.contains(&n.as_str()))
        .collect();
    if real_names != names(&mock) {
        return false;
    }
    mock.iter().all(|(section, fields)| {
        let theirs = real
            .iter()
            .find(|(n, _)| n == section)
            .map(|(_, f)| f.clone())
            .unwrap_or_default();
        // Keyspace lines depend on the data, which both hold the same.
        fields.iter().all(|f| theirs.contains(f))
    })
}

/// `v` with times (4-element XPENDING entries' third field, 3-element XINFO FULL consumer entries' second, `idle`
/// and `seen-time` map fields) and radix tree sizes zeroed.
fn timeless(v: &Value) -> Value {
    const BLANK: [&[u8]; 5] = [
        b"idle",
        b"radix-tree-keys",
        b"radix-tree-nodes",
        b"inactive",
        b"seen-time",
    ];
    match v {
        Value::Array(items)
            if items.len() == 3
                && matches!(&items[0], Value::BulkString(_))
                && matches!(&items[1], Value::Integer(_))
                && matches!(&items[2], Value::Integer(_)) =>
        {
            Value::Array(vec![items[0].clone(), Value::Integer(0), items[2].clone()])
        }
        Value::Array(items)
            if items.len() == 4
                && matches!(&items[0], Value::BulkString(_))
                && matches!(&items[2], Value::Integer(_))
                && matches!(&items[3], Value::Integer(_)) =>
        {
            let mut items: Vec<Value> = items.iter().map(timeless).collect();
            items[2] = Value::Integer(0);
            Value::Array(items)
        }
        Value::Array(items) => {
            // Flat RESP2 maps: blank the value after a blanked name.
            let mut out: Vec<Value> = items.iter().map(timeless).collect();
            for i in 0..out.len().saturating_sub(1) {
                if matches!(&out[i], Value::BulkString(b) if BLANK.contains(&b.as_ref())) {
                    out[i + 1] = Value::Integer(0);
                }
            }
            Value::Array(out)
        }
        Value::Map(pairs) => Value::Map(
            pairs
                .iter()
                .map(|(k, v)| {
                    let blank = matches!(k, Value::BulkString(b) if BLANK.contains(&b.as_ref()));
                    (k.clone(), if blank { Value::Integer(0) } else { timeless(v) })
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn same(mode: Compare, real: &Value, mock: &Value) -> bool {
    match mode {
        Compare::Timeless => timeless(real) == timeless(mock),
        Compare::CommandMeta => command_meta(real) == command_meta(mock),
        Compare::CommandDocs => command_docs(real) == command_docs(mock),
        Compare::InfoFields => info_agrees(real, mock),
        Compare::Exact => real == mock,
        Compare::Unordered => canonical(real) == canonical(mock),
        Compare::Shape => shape(real) == shape(mock),
        Compare::Ttl => ttl_class(real) == ttl_class(mock),
    }
}

/// Two raw connections, one per server.
pub(crate) struct Pair {
    pub(crate) real: Connection,
    pub(crate) mock: Connection,
    /// Inside MULTI: how each queued command's reply inside EXEC's array is compared.
    queued: Option<Vec<Compare>>,
}

impl Pair {
    pub(crate) async fn connect(real: &RedisServer, mock: &TcpServer, protocol: RespVersion) -> Pair {
        let config = |url: String| {
            let mut c = Config::from_url(&url).unwrap().with_protocol(protocol);
            c.request_timeout = Some(Duration::from_secs(10));
            c
        };
        let mut pair = Pair {
            real: Connection::connect(&config(real.url())).await.unwrap(),
            mock: Connection::connect(&config(mock.url())).await.unwrap(),
            queued: None,
        };
        pair.both(&["FLUSHALL"]).await;
        pair
    }

    pub(crate) async fn raw(conn: &mut Connection, args: &[&str]) -> Value {
        let cmd = Cmd::new(args[0]).args_from(&args[1..]);
        let pipeline = Pipeline::new().with(cmd);
        let sent = conn.send_pipeline(&pipeline);
        let mut replies = tokio::time::timeout(Duration::from_secs(10), sent)
            .await
            .unwrap_or_else(|_| panic!("{args:?} got no reply within 10 s"))
            .unwrap();
        replies.pop().unwrap_or(Value::Null)
    }

    /// Run one command on both; `Err` describes a difference.
    pub(crate) async fn check(&mut self, args: &[&str]) -> Result<(), String> {
        let real = Pair::raw(&mut self.real, args).await;
        let mock = Pair::raw(&mut self.mock, args).await;
        let mode = compare_mode(args);
        let name = args[0].to_ascii_uppercase();
        let agreed = match (name.as_str(), &real, &mock, self.queued.take()) {
            // EXEC's replies are compared one by one, each the way its command is.
            ("EXEC", Value::Array(r), Value::Array(m), Some(modes))
                if r.len() == m.len() && r.len() == modes.len() =>
            {
                r.iter().zip(m).zip(modes).all(|((r, m), mode)| same(mode, r, m))
            }
            (_, _, _, queued) => {
                let started = name == "MULTI" && real == Value::simple("OK");
                self.queued = match (queued, started) {
                    (_, true) => Some(Vec::new()),
                    (Some(mut q), _) if real == Value::simple("QUEUED") => {
                        q.push(mode);
                        Some(q)
                    }
                    (q, _) if name != "EXEC" && name != "DISCARD" => q,
                    _ => None,
                };
                same(mode, &real, &mock)
            }
        };
        if agreed {
            Ok(())
        } else {
            Err(format!(
                "{args:?} ({mode:?}): redis-server replied {real:?}, redkit-server replied {mock:?}"
            ))
        }
    }

    pub(crate) async fn both(&mut self, args: &[&str]) {
        Pair::raw(&mut self.real, args).await;
        Pair::raw(&mut self.mock, args).await;
    }
}

pub(crate) async fn servers() -> Option<(RedisServer, TcpServer)> {
    let real = RedisServer::start_or_skip()?;
    // The embedded server follows Redis 7.0 (encodings, error texts, reply shapes); other versions differ.
    let mut conn = Connection::connect(&Config::from_url(&real.url()).unwrap())
        .await
        .unwrap();
    let info = match conn.send(&Cmd::new("INFO").arg("server")).await.unwrap() {
        Value::BulkString(b) | Value::VerbatimString { text: b, .. } => {
            String::from_utf8_lossy(&b).into_owned()
        }
        other => panic!("INFO replied {other:?}"),
    };
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("")
        .trim()
        .to_owned();
    if !version.starts_with("7.0.") {
        // Under CI a skip would pass silently: the wrong server is a failure there.
        assert!(
            !redkit_test_support::in_ci(),
            "the differential tests compare with Redis 7.0, but this redis-server is {version:?} (CI must install 7.0)"
        );
        eprintln!(
            "skipping: the differential tests compare with Redis 7.0, this redis-server is {version:?}"
        );
        return None;
    }
    let mock = TcpServer::start().await.unwrap();
    Some((real, mock))
}

/// Run each scenario (a list of commands, arguments split on spaces) on both servers, both protocols; every reply
/// must agree.
pub(crate) async fn run_scenarios(scenarios: &[&[&str]]) {
    let commands: Vec<Vec<String>> = scenarios
        .iter()
        .flat_map(|line| line.iter())
        .map(|command| command.split(' ').map(str::to_owned).collect())
        .collect();
    run_commands(&commands).await;
}

/// Run commands given as argument lists (for arguments with spaces, like scripts) on both servers and protocols.
pub(crate) async fn run_commands(commands: &[Vec<String>]) {
    let Some((real, mock)) = servers().await else {
        return;
    };
    for protocol in [RespVersion::Resp2, RespVersion::Resp3] {
        let mut pair = Pair::connect(&real, &mock, protocol).await;
        let mut failures = Vec::new();
        for c in commands {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            if std::env::var("DIFF_TRACE").is_ok() {
                eprintln!("{protocol:?} {args:?}");
            }
            if let Err(e) = pair.check(&args).await {
                failures.push(format!("{protocol:?}: {e}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} differences:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
