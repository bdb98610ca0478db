//! Commands that would change the shared connection's state or reply stream are refused by the multiplexed
//! `Client` before anything is sent — raw, typed or in a pipeline — and the client stays usable; transactions
//! and the commands that are safe to share still work; huge timeouts do not overflow.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use redkit::prelude::*;
use redkit::{Client, Cmd, Config, ConnectionEffect, Error, Pipeline, RespVersion, Subscription};

/// Every refused call must fail at once: far sooner than the 10 s request timeout of the test clients.
const AT_ONCE: Duration = Duration::from_secs(2);

fn words(cmd: &[&str]) -> Cmd {
    Cmd::new(cmd[0]).args_from(&cmd[1..])
}

/// `result` is the refusal of a command with `effect`, and its message names `tool`.
fn assert_refused<T: std::fmt::Debug>(result: redkit::Result<T>, effect: ConnectionEffect, tool: &str) {
    match result {
        Err(e @ Error::SharedConnectionRefused { .. }) => {
            assert_eq!(e.refused_effect(), Some(effect), "{e}");
            let msg = e.to_string();
            assert!(msg.contains("refused on a shared connection"), "{msg}");
            assert!(
                msg.contains(tool),
                "{effect}: the message should name {tool}: {msg}"
            );
            assert!(!e.is_connection_error() && !e.is_timeout());
        }
        other => panic!("{effect}: expected a refusal, got {other:?}"),
    }
}

async fn at_once<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(AT_ONCE, f)
        .await
        .unwrap_or_else(|_| panic!("{what} was not refused at once"))
}

/// Raw commands through `Executor::execute`, each followed by a GET on the same client.
#[tokio::test]
async fn raw_commands_that_change_the_connection_are_refused_at_once() {
    use ConnectionEffect::*;
    let cases: &[(&[&str], ConnectionEffect, &str)] = &[
        (
            &["SUBSCRIBE", "news"],
            Subscribe(Subscription::Channel),
            "Subscriber",
        ),
        (
            &["psubscribe", "news.*"],
            Subscribe(Subscription::Pattern),
            "Subscriber",
        ),
        (
            &["SSUBSCRIBE", "shard"],
            Subscribe(Subscription::Shard),
            "Subscriber",
        ),
        (&["UNSUBSCRIBE"], Unsubscribe(Subscription::Channel), "Subscriber"),
        (
            &["PUNSUBSCRIBE", "news.*"],
            Unsubscribe(Subscription::Pattern),
            "Subscriber",
        ),
        (&["SUNSUBSCRIBE"], Unsubscribe(Subscription::Shard), "Subscriber"),
        (&["MONITOR"], Monitor, "dedicated()"),
        (&["CLIENT", "REPLY", "OFF"], ClientReply, "dedicated()"),
        (&["client", "reply", "skip"], ClientReply, "dedicated()"),
        (&["SELECT", "1"], Select(Some(1)), "?db="),
        (&["HELLO", "3"], Hello, "?protocol="),
        (&["HELLO", "2"], Hello, "?protocol="),
        (&["AUTH", "nope"], Auth, "user:password@"),
        (&["AUTH", "someone", "nope"], Auth, "user:password@"),
        (&["RESET"], Reset, "dedicated()"),
        (&["QUIT"], Quit, "drop the `Client`"),
        (&["MULTI"], Multi, "transaction()"),
        (&["EXEC"], Exec, "transaction()"),
        (&["DISCARD"], Discard, "transaction()"),
        (&["WATCH", "k"], Watch, "dedicated()"),
        (&["UNWATCH"], Unwatch, "transaction()"),
    ];
    each_protocol!(|c| {
        c.set("k", "before").await.unwrap();
        let id = c.client_id().await.unwrap();
        let epoch = *c.connection_epoch().borrow();
        for (cmd, effect, tool) in cases {
            let refused = at_once(&format!("{cmd:?}"), c.execute(words(cmd))).await;
            assert_refused(refused, *effect, tool);
            assert_eq!(
                at_once("GET after a refusal", c.get::<String>("k"))
                    .await
                    .unwrap()
                    .as_deref(),
                Some("before"),
                "after {cmd:?}"
            );
        }
        // Nothing reached the server: same connection, same database, not in MULTI, replies still in step.
        assert_eq!(
            c.client_id().await.unwrap(),
            id,
            "the connection was never replaced"
        );
        assert_eq!(*c.connection_epoch().borrow(), epoch);
        c.set("k", "after").await.unwrap();
        assert_eq!(c.get::<String>("k").await.unwrap().as_deref(), Some("after"));
        assert_eq!(c.echo::<String>("in step").await.unwrap(), "in step");
    });
}

/// The typed methods go through the same check.
#[tokio::test]
async fn typed_methods_are_refused_too() {
    use ConnectionEffect::*;
    each_protocol!(|c| {
        c.set("k", "v").await.unwrap();
        assert_refused(at_once("select", c.select(1)).await, Select(Some(1)), "/db");
        assert_refused(at_once("hello", c.hello(3)).await, Hello, "?protocol=");
        assert_refused(at_once("auth", c.auth(None, "pw")).await, Auth, "credentials");
        assert_refused(at_once("reset", c.reset()).await, Reset, "dedicated()");
        assert_refused(at_once("quit", c.quit()).await, Quit, "drop");
        assert_refused(at_once("multi", c.multi()).await, Multi, "transaction()");
        assert_refused(at_once("exec", c.exec()).await, Exec, "transaction()");
        assert_refused(at_once("discard", c.discard()).await, Discard, "transaction()");
        assert_refused(at_once("unwatch", c.unwatch()).await, Unwatch, "dedicated()");
        assert_eq!(c.get::<String>("k").await.unwrap().as_deref(), Some("v"));
    });
}

/// A pipeline with a refused command sends nothing at all; whole transactions inside a pipeline are fine.
#[tokio::test]
async fn pipelines_are_checked_as_a_whole() {
    use ConnectionEffect::*;
    each_protocol!(|c| {
        let refused: &[(Vec<Cmd>, ConnectionEffect)] = &[
            (
                vec![Cmd::new("SET").arg("p").arg(1), Cmd::new("SUBSCRIBE").arg("ch")],
                Subscribe(Subscription::Channel),
            ),
            (
                vec![Cmd::new("SET").arg("p").arg(1), Cmd::new("SELECT").arg(2)],
                Select(Some(2)),
            ),
            (vec![Cmd::new("SET").arg("p").arg(1), Cmd::new("MULTI")], Multi),
            (vec![Cmd::new("MULTI"), Cmd::new("SET").arg("p").arg(1)], Multi),
            (vec![Cmd::new("SET").arg("p").arg(1), Cmd::new("EXEC")], Exec),
            (
                vec![Cmd::new("MULTI"), Cmd::new("MULTI"), Cmd::new("EXEC")],
                Multi,
            ),
            (
                vec![Cmd::new("MULTI"), Cmd::new("WATCH").arg("p"), Cmd::new("EXEC")],
                Watch,
            ),
            (
                vec![Cmd::new("MULTI"), Cmd::new("MONITOR"), Cmd::new("EXEC")],
                Monitor,
            ),
            (
                vec![
                    Cmd::new("SET").arg("p").arg(1),
                    Cmd::new("CLIENT").arg("REPLY").arg("OFF"),
                ],
                ClientReply,
            ),
        ];
        for (cmds, effect) in refused {
            let pipeline: Pipeline = cmds.iter().cloned().collect();
            let result = at_once(&format!("{pipeline:?}"), c.execute_pipeline(pipeline)).await;
            assert_refused(result, *effect, "");
            assert_eq!(c.get::<i64>("p").await.unwrap(), None, "nothing of {cmds:?} ran");
        }

        // Whole transactions: raw, typed atomic, and one that is discarded.
        let raw: Pipeline = [
            Cmd::new("MULTI"),
            Cmd::new("SET").arg("t").arg(1),
            Cmd::new("INCR").arg("t"),
            Cmd::new("EXEC"),
            Cmd::new("MULTI"),
            Cmd::new("INCR").arg("t"),
            Cmd::new("DISCARD"),
            Cmd::new("GET").arg("t"),
        ]
        .into_iter()
        .collect();
        let replies = c.execute_pipeline(raw).await.unwrap();
        assert_eq!(
            replies[3],
            Value::Array(vec![Value::simple("OK"), Value::Integer(2)])
        );
        assert_eq!(replies[7], Value::bulk("2"), "the discarded INCR did not run");
        let pipe = TypedPipeline::new().atomic();
        pipe.incr("t").get::<i64>("t");
        let (three, read): (i64, Option<i64>) = pipe.query(&c).await.unwrap();
        assert_eq!((three, read), (3, Some(3)));
        // The refused bare MULTI above left nothing open: a plain command runs, not QUEUED.
        assert_eq!(c.incr("t").await.unwrap(), 4);
    });
}

/// The transaction API runs on dedicated connections and keeps working, as do the commands the shared
/// connection allows (CLIENT SETNAME, CLIENT TRACKING).
#[tokio::test]
async fn transactions_and_shareable_commands_still_work() {
    each_protocol!(|c| {
        c.set("bal", 100).await.unwrap();
        let moved: Option<((), i64)> = c
            .transaction(&["bal"], 3, async |conn| {
                let bal: i64 = conn.get("bal").await?.unwrap_or(0);
                let writes = TypedPipeline::new();
                writes.set("bal", bal - 10).cmd(Cmd::new("GET").arg("bal"));
                Ok(Some(writes))
            })
            .await
            .unwrap();
        assert_eq!(moved, Some(((), 90)));
        let watched = c.watch("bal").await.unwrap();
        let writes = TypedPipeline::new();
        writes.incr("bal");
        assert_eq!(watched.exec::<(i64,)>(writes).await.unwrap(), Some((91,)));

        // Dedicated connections take every command.
        let d = c.dedicated().await.unwrap();
        d.select(1).await.unwrap();
        d.multi().await.unwrap();
        d.execute(Cmd::new("SET").arg("in1").arg("x")).await.unwrap();
        d.exec().await.unwrap();
        assert_eq!(
            c.get::<String>("in1").await.unwrap(),
            None,
            "the shared client is still on db 0"
        );

        // Allowed on the shared client: a name and client-side caching.
        c.client_setname("shared-client").await.unwrap();
        assert_eq!(
            c.client_getname().await.unwrap().as_deref(),
            Some("shared-client")
        );
        if c.config().protocol == RespVersion::Resp3 {
            c.client_tracking(true, [] as [&str; 0]).await.unwrap();
            assert_eq!(c.get::<i64>("bal").await.unwrap(), Some(91));
            c.client_tracking(false, [] as [&str; 0]).await.unwrap();
        }
        assert_eq!(c.get::<i64>("bal").await.unwrap(), Some(91));
    });
}

/// A timeout too large for the clock means no deadline, not a panic; blocking margins saturate.
#[tokio::test]
async fn huge_timeouts_do_not_overflow() {
    for backend in common::backends(false).await {
        for protocol in common::PROTOCOLS {
            let run = async {
                let url = format!("{}?timeout=18446744073709551615", backend.url());
                let config = Config::from_url(&url).unwrap().with_protocol(protocol);
                assert_eq!(config.request_timeout, Some(Duration::from_secs(u64::MAX)));
                let c = Client::connect(config.clone()).await.unwrap();
                c.set("k", "v").await.unwrap();
                assert_eq!(c.get::<String>("k").await.unwrap().as_deref(), Some("v"));
                let pipe = TypedPipeline::new();
                pipe.get::<String>("k");
                let (v,): (Option<String>,) = pipe.query(&c).await.unwrap();
                assert_eq!(v.as_deref(), Some("v"));
                let d = c.dedicated().await.unwrap();
                assert_eq!(d.get::<String>("k").await.unwrap().as_deref(), Some("v"));

                for limit in [Duration::MAX, Duration::from_secs(u64::MAX / 4)] {
                    let mut config = config.clone().with_request_timeout(Some(limit));
                    config.blocking_margin = Duration::MAX;
                    let c = Client::connect(config).await.unwrap();
                    assert_eq!(c.get::<String>("k").await.unwrap().as_deref(), Some("v"));
                    assert_eq!(
                        c.execute_timeout(Cmd::new("GET").arg("k"), Some(limit))
                            .await
                            .unwrap(),
                        Value::bulk("v")
                    );
                    // A blocking command's own timeout plus a huge margin.
                    let popped = c
                        .execute(Cmd::new("BLPOP").arg("empty").arg("0.05"))
                        .await
                        .unwrap();
                    assert!(matches!(popped, Value::Null | Value::Array(_)), "{popped:?}");
                }
                assert!(matches!(
                    Config::from_url(&format!("{}?timeout=1e300", backend.url())),
                    Err(Error::Config(_))
                ));
            };
            tokio::time::timeout(Duration::from_secs(60), run)
                .await
                .unwrap_or_else(|_| panic!("timed out on {} with {protocol:?}", backend.name()));
        }
    }
}
