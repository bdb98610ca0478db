//! Connection and server commands against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use redkit::prelude::*;
use redkit::{Client, ClientKillFilter, Config};
use redkit_test_support::{RedisServer, ServerOptions};

#[tokio::test]
async fn connection_commands() {
    each_protocol!(|c| {
        assert_eq!(c.ping().await.unwrap(), "PONG");
        assert_eq!(c.echo::<String>("hi there").await.unwrap(), "hi there");
        let d = c.dedicated().await.unwrap();
        // HELLO changes the connection's protocol: refused on the shared client, fine on a dedicated one.
        assert!(matches!(
            c.hello(3).await,
            Err(redkit::Error::SharedConnectionRefused { .. })
        ));
        let hello = d
            .hello(if c.config().protocol == redkit::RespVersion::Resp3 {
                3
            } else {
                2
            })
            .await
            .unwrap();
        assert!(hello.iter().any(|(k, _)| k == "server"));
        let id = d.client_id().await.unwrap();
        assert!(id > 0);
        assert_eq!(d.client_getname().await.unwrap(), None);
        d.client_setname("worker-1").await.unwrap();
        assert_eq!(d.client_getname().await.unwrap().as_deref(), Some("worker-1"));
        assert!(d.client_info().await.unwrap().contains("name=worker-1"));
        assert!(c.client_list().await.unwrap().contains("name=worker-1"));
        d.select(2).await.unwrap();
        d.client_tracking(true, ["BCAST", "NOLOOP"]).await.unwrap();
        d.client_tracking(false, [] as [&str; 0]).await.unwrap();
        assert_eq!(d.reset().await.unwrap(), "RESET");
        assert_eq!(d.client_getname().await.unwrap(), None, "RESET clears the name");
        c.client_pause(Duration::from_millis(20), true).await.unwrap();
        c.client_unpause().await.unwrap();
        assert_eq!(
            c.client_kill(ClientKillFilter::new().id(id).skip_me(true))
                .await
                .unwrap(),
            1
        );
        assert!(d.ping().await.is_err(), "the killed connection is gone");
        let q = c.dedicated().await.unwrap();
        q.quit().await.unwrap();
        assert!(q.ping().await.is_err());
        assert_eq!(
            c.client_kill(ClientKillFilter::new().addr("1.2.3.4:5"))
                .await
                .unwrap(),
            0
        );
    });
}

#[tokio::test]
async fn server_commands() {
    each_protocol!(|c| {
        c.set("a", "1").await.unwrap();
        let info = c.info(None).await.unwrap();
        assert!(info.get("redis_version").is_some());
        assert!(info.sections.contains_key("server"));
        assert!(c.info(Some("keyspace")).await.unwrap().get("db0").is_some());
        assert_eq!(c.dbsize().await.unwrap(), 1);
        assert!(c.lastsave().await.unwrap() > 0);
        assert!(c.time().await.unwrap().0 > std::time::UNIX_EPOCH);
        let maxmem = c.config_get("maxmemory").await.unwrap();
        assert_eq!(maxmem.get("maxmemory").map(String::as_str), Some("0"));
        c.config_set(("slowlog-log-slower-than", "0")).await.unwrap();
        c.config_resetstat().await.unwrap();
        assert!(c.config_rewrite().await.is_err(), "no config file to rewrite");
        assert!(c.memory_usage("a").await.unwrap().unwrap() > 0);
        assert_eq!(c.memory_usage("nope").await.unwrap(), None);
        c.set("b", "2").await.unwrap();
        let slow = c.slowlog_get(Some(10)).await.unwrap();
        assert!(!slow.is_empty());
        assert!(
            slow.iter()
                .any(|e| e.args.first().map(String::as_str) == Some("SET"))
        );
        assert!(c.slowlog_len().await.unwrap() > 0);
        c.slowlog_reset().await.unwrap();
        c.config_set(("slowlog-log-slower-than", "10000")).await.unwrap();
        assert!(c.command_count().await.unwrap() > 100);
        let info = c.command_info(["get", "nosuchcommand"]).await.unwrap();
        assert!(info[0].is_some() && info[1].is_none());
        assert!(!format!("{:?}", c.command_docs("get").await.unwrap()).is_empty());
        assert_eq!(c.wait(0, Duration::from_millis(10)).await.unwrap(), 0);
        c.flushdb(false).await.unwrap();
        c.set("x", 1).await.unwrap();
        c.flushall(true).await.unwrap();
        assert_eq!(c.dbsize().await.unwrap(), 0);
    });
}

#[tokio::test]
async fn background_saves() {
    each_protocol!(|c| {
        // One background child at a time: wait (bounded) for the previous one before each job.
        no_child_running(&c).await;
        c.bgsave().await.unwrap();
        no_child_running(&c).await;
        c.bgrewriteaof().await.unwrap();
        no_child_running(&c).await;
    });
}

async fn no_child_running(c: &Client) {
    for _ in 0..250 {
        let info = c.info(Some("persistence")).await.unwrap();
        if info.get("rdb_bgsave_in_progress") == Some("0") && info.get("aof_rewrite_in_progress") == Some("0")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("a background save or rewrite is still running after 5 s");
}

#[tokio::test]
async fn auth_acl_users_and_databases() {
    let options = ServerOptions {
        password: Some("s3cret".into()),
        ..ServerOptions::default()
    };
    let Some(server) = RedisServer::with_or_skip(options) else {
        return;
    };
    for protocol in common::PROTOCOLS {
        let url = format!("redis://:s3cret@127.0.0.1:{}/5?client_name=tester", server.port());
        let c = Client::connect(Config::from_url(&url).unwrap().with_protocol(protocol))
            .await
            .unwrap();
        assert_eq!(c.client_getname().await.unwrap().as_deref(), Some("tester"));
        c.set("k", "v").await.unwrap();
        assert!(c.info(Some("keyspace")).await.unwrap().get("db5").is_some());
        c.execute(redkit::Cmd::new("ACL").args_from(["SETUSER", "app", "on", ">apppass", "~*", "+@all"]))
            .await
            .unwrap();
        let as_user = format!("redis://app:apppass@127.0.0.1:{}", server.port());
        let u = Client::connect(Config::from_url(&as_user).unwrap().with_protocol(protocol))
            .await
            .unwrap();
        assert_eq!(u.ping().await.unwrap(), "PONG");
        let d = u.dedicated().await.unwrap();
        d.auth(None, "s3cret").await.unwrap();
        d.auth(Some("app"), "apppass").await.unwrap();
        assert!(d.auth(Some("app"), "wrong").await.is_err());
    }
}
