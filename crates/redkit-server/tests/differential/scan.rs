//! `SSCAN`, `HSCAN` and `ZSCAN` over small encodings (one call) and large ones (walked to the end).

use crate::harness::*;

/// Walk a SCAN-family cursor to its end (bounded), collecting every element.
async fn scan_all(conn: &mut Connection, command: &[&str]) -> Vec<Value> {
    let mut cursor = "0".to_owned();
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let mut args: Vec<&str> = vec![command[0], command[1], &cursor];
        args.extend_from_slice(&command[2..]);
        let reply = Pair::raw(conn, &args).await;
        let Value::Array(mut parts) = reply else {
            panic!("{args:?} replied {reply:?}");
        };
        let (Some(Value::Array(items)), Some(Value::BulkString(next))) = (parts.pop(), parts.pop()) else {
            panic!("{args:?}: unexpected reply shape");
        };
        out.extend(items);
        cursor = String::from_utf8_lossy(&next).into_owned();
        if cursor == "0" {
            return out;
        }
    }
    panic!("{command:?} did not finish in 10,000 pages");
}

#[tokio::test]
async fn collection_scans_agree_with_redis() {
    let Some((real, mock)) = servers().await else {
        return;
    };
    let members: Vec<String> = (0..300).map(|i| format!("member:{i}")).collect();
    let ints: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    for protocol in [RespVersion::Resp2, RespVersion::Resp3] {
        let mut pair = Pair::connect(&real, &mock, protocol).await;
        let mut setup: Vec<Vec<String>> = Vec::new();
        for (key, cmd, small) in [("bigset", "SADD", false), ("intset", "SADD", true)] {
            let source = if small { &ints } else { &members };
            let mut c = vec![cmd.to_owned(), key.to_owned()];
            c.extend(source.iter().cloned());
            setup.push(c);
        }
        let mut h = vec!["HSET".to_owned(), "bighash".to_owned()];
        let mut z = vec!["ZADD".to_owned(), "bigzset".to_owned()];
        for (i, m) in members.iter().enumerate() {
            h.extend([m.clone(), format!("v{i}")]);
            z.extend([format!("{}.5", i % 17), m.clone()]);
        }
        setup.extend([h, z]);
        setup.push(vec![
            "HSET".into(),
            "smallhash".into(),
            "f".into(),
            "v".into(),
            "g".into(),
            "w".into(),
        ]);
        setup.push(vec![
            "ZADD".into(),
            "smallzset".into(),
            "2".into(),
            "b".into(),
            "1".into(),
            "a".into(),
        ]);
        for c in &setup {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            pair.check(&args).await.unwrap();
        }
        // Small encodings come back whole in one call, in the same order as Redis.
        for args in [
            &["ZSCAN", "smallzset", "0"][..],
            &["HSCAN", "smallhash", "0", "MATCH", "f*"],
            &["SSCAN", "intset", "0", "COUNT", "5"],
            &["SSCAN", "nokey", "0"],
            &["SSCAN", "bighash", "0"],
            &["HSCAN", "bigset", "x"],
            &["ZSCAN", "bigzset", "0", "COUNT", "0"],
            &["ZSCAN", "bigzset", "0", "NOSUCH", "1"],
        ] {
            pair.check(args).await.unwrap();
        }
        // Large ones page; a whole walk returns the same multiset, each element once.
        for command in [
            &["SSCAN", "bigset"][..],
            &["SSCAN", "bigset", "COUNT", "7"],
            &["SSCAN", "bigset", "MATCH", "member:1*", "COUNT", "50"],
            &["HSCAN", "bighash", "COUNT", "20"],
            &["ZSCAN", "bigzset"],
        ] {
            let real_items = scan_all(&mut pair.real, command).await;
            let mock_items = scan_all(&mut pair.mock, command).await;
            assert_eq!(
                canonical(&Value::Array(real_items)),
                canonical(&Value::Array(mock_items)),
                "{protocol:?} {command:?}"
            );
        }
    }
}
