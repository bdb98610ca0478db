//! Typed keys against a private redis-server and the embedded server: every structure round-trips exactly,
//! decode failures are errors, namespaces clear themselves.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::Duration;

use redkit::{Client, Config, Executor, Ttl};
use redkit_test_support::RedisServer;
use redkit_typed::{Error, Int, Json, MsgPack, Namespace, Raw, Text, TypedHash, TypedKey, TypedSortedSet};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    name: String,
    age: u32,
    email: Option<String>,
    tags: Vec<String>,
    score: f64,
    meta: BTreeMap<String, i64>,
}

fn ada() -> User {
    User {
        name: "Ada \"quoted\" \u{1F980}\n".into(),
        age: 36,
        email: None,
        tags: vec!["math".into(), "42".into(), String::new()],
        score: 0.1 + 0.2,
        meta: BTreeMap::from([("logins".into(), -3)]),
    }
}

/// A client for each backend: a private redis-server (when found) and the embedded server over TCP.
async fn backends() -> Vec<(
    &'static str,
    Client,
    Option<RedisServer>,
    Option<redkit_server::TcpServer>,
)> {
    let mut out = Vec::new();
    if let Some(real) = RedisServer::start_or_skip() {
        let c = Client::connect(Config::from_url(&real.url()).unwrap())
            .await
            .unwrap();
        out.push(("redis-server", c, Some(real), None));
    }
    let mock = redkit_server::TcpServer::start().await.unwrap();
    let c = Client::connect(Config::from_url(&mock.url()).unwrap())
        .await
        .unwrap();
    out.push(("embedded server", c, None, Some(mock)));
    out
}

#[tokio::test]
async fn keys_round_trip_with_every_codec() {
    for (backend, c, _real, _mock) in backends().await {
        let user: TypedKey<User> = TypedKey::new("user:1");
        assert_eq!(user.get(&c).await.unwrap(), None, "{backend}: missing is None");
        user.set(&c, &ada()).await.unwrap();
        assert_eq!(user.get(&c).await.unwrap(), Some(ada()), "{backend}");
        let packed: TypedKey<User, MsgPack> = TypedKey::new("user:1:mp");
        packed.set(&c, &ada()).await.unwrap();
        assert_eq!(packed.get(&c).await.unwrap(), Some(ada()), "{backend}");
        let text: TypedKey<String, Text> = TypedKey::new("greeting");
        text.set(&c, &"héllo".to_owned()).await.unwrap();
        assert_eq!(
            c.execute(redkit::Cmd::new("GET").arg("greeting")).await.unwrap(),
            redkit::Value::bulk("héllo")
        );
        let raw: TypedKey<Vec<u8>, Raw> = TypedKey::new("blob");
        raw.set(&c, &vec![0, 255, 13, 10]).await.unwrap();
        assert_eq!(raw.get(&c).await.unwrap(), Some(vec![0, 255, 13, 10]));

        // Integers stay Redis integers: INCR works on them, and the typed key reads the result.
        let counter: TypedKey<i64, Int> = TypedKey::new("counter");
        counter.set(&c, &41).await.unwrap();
        c.execute(redkit::Cmd::new("INCR").arg("counter")).await.unwrap();
        assert_eq!(counter.get(&c).await.unwrap(), Some(42));
        assert_eq!(counter.incr_by(&c, -50).await.unwrap(), -8);

        // TTLs in Durations.
        user.set_ex(&c, &ada(), Duration::from_secs(100)).await.unwrap();
        assert!(matches!(user.ttl(&c).await.unwrap(), Ttl::Expires(d) if d > Duration::from_secs(90)));
        assert!(user.expire(&c, Duration::from_millis(1500)).await.unwrap());
        assert!(matches!(
            user.set_ex(&c, &ada(), Duration::ZERO).await,
            Err(Error::Invalid(_))
        ));
        assert!(!user.set_nx(&c, &ada()).await.unwrap());
        assert_eq!(user.get_del(&c).await.unwrap(), Some(ada()));
        assert!(!user.exists(&c).await.unwrap());
        assert_eq!(user.ttl(&c).await.unwrap(), Ttl::NoKey);

        // A value that does not decode is an error naming the key and the codec.
        c.execute(redkit::Cmd::new("SET").arg("user:2").arg("not json"))
            .await
            .unwrap();
        let bad: TypedKey<User, Json> = TypedKey::new("user:2");
        match bad.get(&c).await {
            Err(Error::Decode { key, codec, .. }) => {
                assert_eq!((key.as_str(), codec), ("user:2", "json"), "{backend}");
            }
            other => panic!("{backend}: expected a decode error, got {other:?}"),
        }
        // …and so is the wrong Redis type.
        c.execute(redkit::Cmd::new("RPUSH").arg("alist").arg("x"))
            .await
            .unwrap();
        let wrong: TypedKey<String> = TypedKey::new("alist");
        assert!(matches!(wrong.get(&c).await, Err(Error::Redis(_))), "{backend}");
    }
}

#[tokio::test]
async fn hashes_and_collections_round_trip() {
    for (backend, c, _real, _mock) in backends().await {
        let ns = Namespace::new("t");
        let profile: TypedHash<User> = ns.hash("profile");
        assert_eq!(profile.get(&c).await.unwrap(), None);
        profile.set(&c, &ada()).await.unwrap();
        assert_eq!(profile.get(&c).await.unwrap(), Some(ada()), "{backend}");
        // One hash field per struct field, integers still integers.
        assert_eq!(profile.incr_field(&c, "age", 1).await.unwrap(), 37);
        assert_eq!(profile.get_field::<u32, _>(&c, "age").await.unwrap(), Some(37));
        profile
            .set_field(&c, "email", &Some("ada@example.com"))
            .await
            .unwrap();
        let got = profile.get(&c).await.unwrap().unwrap();
        assert_eq!((got.age, got.email.as_deref()), (37, Some("ada@example.com")));
        // Setting again replaces the whole hash.
        c.execute(redkit::Cmd::new("HSET").arg(profile.name()).arg("stale").arg("1"))
            .await
            .unwrap();
        profile.set(&c, &ada()).await.unwrap();
        let fields: i64 = c
            .query(redkit::Cmd::new("HLEN").arg(profile.name()))
            .await
            .unwrap();
        assert_eq!(fields, 6, "{backend}: no stale field");
        let field = ns.field::<Vec<String>>("profile", "tags");
        assert_eq!(field.get(&c).await.unwrap(), Some(ada().tags));

        let list = ns.list::<User>("queue");
        list.push_back(&c, &ada()).await.unwrap();
        let mut bob = ada();
        bob.name = "Bob".into();
        list.push_front(&c, &bob).await.unwrap();
        assert_eq!(list.range(&c, 0, -1).await.unwrap(), vec![bob.clone(), ada()]);
        assert_eq!(list.pop_back(&c).await.unwrap(), Some(ada()));
        assert_eq!(list.len(&c).await.unwrap(), 1);

        let set = ns.set::<(u8, String)>("pairs");
        assert!(set.add(&c, &(1, "a".into())).await.unwrap());
        assert!(!set.add(&c, &(1, "a".into())).await.unwrap());
        assert!(set.contains(&c, &(1, "a".into())).await.unwrap());
        set.add(&c, &(2, "b".into())).await.unwrap();
        let mut members = set.members(&c).await.unwrap();
        members.sort();
        assert_eq!(members, vec![(1, "a".into()), (2, "b".into())]);

        let board: TypedSortedSet<String, Text> = TypedSortedSet::new("t:board");
        board.add(&c, &"ada".into(), 3.5).await.unwrap();
        board.add(&c, &"bob".into(), -1.0).await.unwrap();
        assert_eq!(board.score(&c, &"ada".into()).await.unwrap(), Some(3.5));
        assert_eq!(board.rank(&c, &"ada".into()).await.unwrap(), Some(1));
        assert_eq!(
            board.range_with_scores(&c, 0, -1).await.unwrap(),
            vec![("bob".to_owned(), -1.0), ("ada".to_owned(), 3.5)]
        );

        // Clearing the namespace removes exactly its keys (SCAN + UNLINK), children included.
        c.execute(redkit::Cmd::new("SET").arg("tother").arg("keep"))
            .await
            .unwrap();
        ns.child("deep").key::<u8>("x").set(&c, &1).await.unwrap();
        for i in 0..1200 {
            ns.key::<u32>(&format!("bulk:{i}")).set(&c, &i).await.unwrap();
        }
        let removed = ns.clear(&c).await.unwrap();
        // profile, queue, pairs, board, deep:x and the bulk keys.
        assert_eq!(removed, 1200 + 5, "{backend}");
        let left: i64 = c.query(redkit::Cmd::new("DBSIZE")).await.unwrap();
        assert!(left >= 1, "{backend}");
        assert_eq!(
            c.execute(redkit::Cmd::new("GET").arg("tother")).await.unwrap(),
            redkit::Value::bulk("keep")
        );
    }
}

#[tokio::test]
async fn streams_of_structs() {
    // Streams come to the embedded server in its part 2: real server only.
    let Some(real) = RedisServer::start_or_skip() else {
        return;
    };
    let c = Client::connect(Config::from_url(&real.url()).unwrap())
        .await
        .unwrap();
    let events = Namespace::new("s").stream::<User>("events");
    let id1 = events.add(&c, &ada()).await.unwrap();
    let mut bob = ada();
    bob.name = "Bob".into();
    let id2 = events.add(&c, &bob).await.unwrap();
    assert!(id1 < id2);
    let all = events.range(&c, "-", "+", None).await.unwrap();
    assert_eq!(all, vec![(id1.clone(), ada()), (id2, bob)]);
    assert_eq!(events.range(&c, "-", "+", Some(1)).await.unwrap().len(), 1);
    assert_eq!(events.len(&c).await.unwrap(), 2);
}
