//! Scripts, functions and pub/sub against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use redkit::prelude::*;
use redkit::{MessageKind, Script, Subscriber};

#[tokio::test]
async fn eval_and_script_cache() {
    each_protocol!(|c| {
        let v: Vec<String> = c.eval("return {KEYS[1], ARGV[1]}", &["k"], "a").await.unwrap();
        assert_eq!(v, ["k", "a"]);
        let sha = c.script_load("return tonumber(ARGV[1]) * 2").await.unwrap();
        assert_eq!(c.evalsha::<i64>(&sha, &[] as &[&str], 21).await.unwrap(), 42);
        assert_eq!(
            c.script_exists([sha.as_str(), "0000000000000000000000000000000000000000"])
                .await
                .unwrap(),
            [true, false]
        );
        c.set("ro", "1").await.unwrap();
        assert_eq!(
            c.eval_ro::<String>("return redis.call('GET', KEYS[1])", &["ro"], &[] as &[&str])
                .await
                .unwrap(),
            "1"
        );
        let err = c
            .eval_ro::<()>("return redis.call('SET', KEYS[1], 'x')", &["ro"], &[] as &[&str])
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("Write commands are not allowed"),
            "{err}"
        );
        assert_eq!(c.evalsha_ro::<i64>(&sha, &[] as &[&str], 2).await.unwrap(), 4);
        c.script_flush().await.unwrap();
        let err = c.evalsha::<i64>(&sha, &[] as &[&str], 1).await.unwrap_err();
        assert_eq!(err.server_kind(), Some(&redkit::ErrorKind::NoScript));
        let err = c.script_kill().await.unwrap_err();
        assert!(err.to_string().contains("NOTBUSY"), "{err}");

        // Script: EVALSHA, falling back to EVAL after a flush.
        let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
        assert_eq!(script.invoke::<i64, _>(&c, &["counter"], 5).await.unwrap(), 5);
        c.script_flush().await.unwrap();
        assert_eq!(script.invoke::<i64, _>(&c, &["counter"], 5).await.unwrap(), 10);
        assert_eq!(c.script_exists(script.sha1()).await.unwrap(), [true]);
        let read = Script::new("return redis.call('GET', KEYS[1])");
        read.load(&c).await.unwrap();
        assert_eq!(
            read.invoke_ro::<i64, _>(&c, &["counter"], &[] as &[&str])
                .await
                .unwrap(),
            10
        );
    });
}

#[tokio::test]
async fn functions() {
    each_protocol!(|c| {
        let lib = "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)\n\
                   redis.register_function{function_name='myro', callback=function(keys, args) return #keys end, flags={'no-writes'}}";
        assert_eq!(c.function_load(lib, false).await.unwrap(), "mylib");
        assert!(c.function_load(lib, false).await.is_err());
        assert_eq!(c.function_load(lib, true).await.unwrap(), "mylib");
        assert_eq!(
            c.fcall::<String>("myfunc", &[] as &[&str], "hi").await.unwrap(),
            "hi"
        );
        assert_eq!(
            c.fcall_ro::<i64>("myro", &["a", "b"], &[] as &[&str])
                .await
                .unwrap(),
            2
        );
        let listed = c.function_list(Some("my*")).await.unwrap();
        assert!(format!("{listed:?}").contains("mylib"));
        c.function_delete("mylib").await.unwrap();
        assert!(c.fcall::<String>("myfunc", &[] as &[&str], "hi").await.is_err());
        c.function_load(lib, false).await.unwrap();
        c.function_flush().await.unwrap();
    });
}

async fn next(sub: &mut Subscriber) -> redkit::Message {
    tokio::time::timeout(Duration::from_secs(5), sub.next_message())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn publish_subscribe_and_introspection() {
    let Some(server) = common::server() else { return };
    for protocol in common::PROTOCOLS {
        let c = common::client(&server, protocol).await;
        let mut sub = Subscriber::connect(common::config(&server, protocol))
            .await
            .unwrap();
        sub.subscribe(&["news", "sport"]).await.unwrap();
        sub.psubscribe("weather.*").await.unwrap();
        sub.ssubscribe("shard-1").await.unwrap();

        assert_eq!(c.publish("news", "hello").await.unwrap(), 1);
        assert_eq!(c.publish("weather.rome", "sunny").await.unwrap(), 1);
        assert_eq!(c.spublish("shard-1", "s").await.unwrap(), 1);
        assert_eq!(c.publish("nobody", "x").await.unwrap(), 0);

        let m = next(&mut sub).await;
        assert_eq!(
            (m.kind, m.channel_str(), m.payload_str()),
            (MessageKind::Channel, Some("news"), Some("hello"))
        );
        let m = next(&mut sub).await;
        assert_eq!(m.kind, MessageKind::Pattern);
        assert_eq!(m.pattern.as_deref(), Some(&b"weather.*"[..]));
        assert_eq!(m.channel_str(), Some("weather.rome"));
        let m = next(&mut sub).await;
        assert_eq!((m.kind, m.payload_str()), (MessageKind::Shard, Some("s")));

        let mut channels: Vec<String> = c.pubsub_channels(None).await.unwrap();
        channels.sort();
        assert_eq!(channels, ["news", "sport"]);
        assert_eq!(
            c.pubsub_numsub::<String>(&["news", "nobody"]).await.unwrap(),
            [("news".to_owned(), 1), ("nobody".to_owned(), 0)]
        );
        assert_eq!(c.pubsub_numpat().await.unwrap(), 1);
        assert_eq!(
            c.pubsub_shardchannels::<String>(Some("shard-*")).await.unwrap(),
            ["shard-1"]
        );

        sub.unsubscribe("news").await.unwrap();
        sub.punsubscribe("weather.*").await.unwrap();
        sub.sunsubscribe("shard-1").await.unwrap();
        assert_eq!(c.publish("news", "gone").await.unwrap(), 0);
        assert_eq!(c.publish("sport", "goal").await.unwrap(), 1);
        assert_eq!(next(&mut sub).await.payload_str(), Some("goal"));
    }
}
