//! Pipelines, atomic pipelines and optimistic transactions against a real redis-server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use redkit::prelude::*;
use redkit::{Error, ErrorKind, Value};

#[tokio::test]
async fn typed_pipelines_in_one_round_trip() {
    each_protocol!(|c| {
        let pipe = TypedPipeline::new();
        pipe.set("a", 1)
            .incr("a")
            .get::<i64>("a")
            .get::<String>("missing");
        assert_eq!(pipe.len(), 4);
        let ((), two, read, missing): ((), i64, Option<i64>, Option<String>) = pipe.query(&c).await.unwrap();
        assert_eq!((two, read, missing), (2, Some(2), None));

        // Errors stay in place in the raw replies, and fail the typed conversion with the server's error.
        let pipe = TypedPipeline::new();
        pipe.set("s", "text").incr("s").incr("a");
        let raw = pipe.execute(&c).await.unwrap();
        assert!(matches!(&raw[1], Value::Error(_)));
        assert_eq!(raw[2], Value::Integer(3));
        let pipe = TypedPipeline::new();
        pipe.incr("s");
        let err = pipe.query::<(i64,), _>(&c).await.unwrap_err();
        assert!(err.to_string().contains("not an integer"));

        assert_eq!(
            TypedPipeline::new().execute(&c).await.unwrap(),
            Vec::<Value>::new()
        );
    });
}

#[tokio::test]
async fn atomic_pipelines_report_exec_abort_distinctly() {
    each_protocol!(|c| {
        let pipe = TypedPipeline::new().atomic();
        pipe.set("x", 10).incr_by("x", 5).set("s", "v").incr("s");
        let replies = pipe.execute(&c).await.unwrap();
        assert_eq!(replies.len(), 4);
        assert_eq!(replies[1], Value::Integer(15));
        assert!(
            matches!(replies[3], Value::Error(_)),
            "a runtime error inside EXEC stays per command"
        );

        // A command rejected at queue time aborts the whole transaction: EXECABORT, naming the rejection.
        let pipe = TypedPipeline::new().atomic();
        pipe.set("x", 1).cmd(redkit::Cmd::new("SET").arg("only-one-arg"));
        let err = pipe.execute(&c).await.unwrap_err();
        assert_eq!(err.server_kind(), Some(&ErrorKind::ExecAbort));
        assert!(err.to_string().contains("wrong number of arguments"), "{err}");
        assert_eq!(c.get::<i64>("x").await.unwrap(), Some(15), "nothing ran");
    });
}

#[tokio::test]
async fn watch_abort_and_transaction_retries() {
    each_protocol!(|c| {
        c.set("bal", 100).await.unwrap();
        // Manual: WATCH, a concurrent write, EXEC aborts.
        let watched = c.watch("bal").await.unwrap();
        let read: i64 = watched.conn().get("bal").await.unwrap().unwrap();
        c.set("bal", 50).await.unwrap();
        let writes = TypedPipeline::new();
        writes.set("bal", read - 10);
        assert_eq!(watched.exec::<((),)>(writes).await.unwrap(), None);
        assert_eq!(c.get::<i64>("bal").await.unwrap(), Some(50));
        let watched = c.watch("bal").await.unwrap();
        watched.abort().await.unwrap();

        // The helper retries until it wins; here a competing write happens on the first attempt only.
        let mut attempts = 0;
        let result: Option<(i64,)> = c
            .transaction(&["bal"], 5, async |conn| {
                attempts += 1;
                let _bal: i64 = conn.get("bal").await?.unwrap_or(0);
                if attempts == 1 {
                    c.incr("bal").await?;
                }
                let writes = TypedPipeline::new();
                writes.decr_by("bal", 10);
                Ok(Some(writes))
            })
            .await
            .unwrap();
        assert_eq!(attempts, 2);
        assert_eq!(result, Some((41,)));

        // Always losing: WatchAborted after the bound.
        let err = c
            .transaction::<(i64,), _, _>(&["bal"], 3, async |_conn| {
                c.incr("bal").await?;
                let writes = TypedPipeline::new();
                writes.incr("bal");
                Ok(Some(writes))
            })
            .await
            .unwrap_err();
        assert!(matches!(err, Error::WatchAborted { attempts: 3 }), "{err}");

        // The body may decide not to write.
        let none = c
            .transaction::<(i64,), _, _>(&["bal"], 3, async |_conn| Ok(None))
            .await
            .unwrap();
        assert_eq!(none, None);
    });
}

#[tokio::test]
async fn dedicated_connections_keep_state() {
    each_protocol!(|c| {
        let d = c.dedicated().await.unwrap();
        d.select(3).await.unwrap();
        d.set("in-db-3", "x").await.unwrap();
        assert_eq!(
            c.exists("in-db-3").await.unwrap(),
            0,
            "the shared client stays on db 0"
        );
        assert_eq!(d.exists("in-db-3").await.unwrap(), 1);
        d.multi().await.unwrap();
        let queued = d.execute(redkit::Cmd::new("INCR").arg("n")).await.unwrap();
        assert_eq!(queued, Value::simple("QUEUED"));
        assert_eq!(d.exec().await.unwrap(), Some(vec![Value::Integer(1)]));
        d.multi().await.unwrap();
        d.discard().await.unwrap();
        d.watch("n").await.unwrap();
        d.unwatch().await.unwrap();
    });
}
