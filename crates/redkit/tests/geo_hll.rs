//! HyperLogLog and geo commands against a real redis-server, on RESP2 and RESP3.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use redkit::prelude::*;
use redkit::{Condition, GeoSearch, GeoUnit};

#[tokio::test]
async fn hyperloglog() {
    each_protocol!(|c| {
        assert!(c.pfadd("h1", ["a", "b", "c"]).await.unwrap());
        assert!(!c.pfadd("h1", "a").await.unwrap());
        c.pfadd("h2", ["c", "d"]).await.unwrap();
        assert_eq!(c.pfcount("h1").await.unwrap(), 3);
        assert_eq!(c.pfcount(["h1", "h2"]).await.unwrap(), 4);
        c.pfmerge("m", ["h1", "h2"]).await.unwrap();
        assert_eq!(c.pfcount("m").await.unwrap(), 4);
    });
}

#[tokio::test]
async fn geo() {
    each_protocol!(|c| {
        let places = [
            (13.361389, 38.115556, "Palermo"),
            (15.087269, 37.502669, "Catania"),
        ];
        assert_eq!(
            c.geoadd("sicily", Condition::Always, false, places)
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            c.geoadd("sicily", Condition::Xx, true, (13.361389, 38.2, "Palermo"))
                .await
                .unwrap(),
            1
        );
        c.geoadd("sicily", Condition::Always, false, &places[..1])
            .await
            .unwrap();
        let d = c
            .geodist("sicily", "Palermo", "Catania", GeoUnit::Kilometers)
            .await
            .unwrap()
            .unwrap();
        assert!((d - 166.2742).abs() < 0.001, "{d}");
        assert_eq!(
            c.geodist("sicily", "Palermo", "Nowhere", GeoUnit::Meters)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            c.geohash("sicily", ["Palermo", "Nowhere"]).await.unwrap(),
            [Some("sqc8b49rny0".to_owned()), None]
        );
        let pos = c.geopos("sicily", ["Catania", "Nowhere"]).await.unwrap();
        let (lon, lat) = pos[0].unwrap();
        assert!((lon - 15.087269).abs() < 1e-5 && (lat - 37.502669).abs() < 1e-5);
        assert_eq!(pos[1], None);

        let near = GeoSearch::from_lonlat_radius(15.0, 37.0, 200.0, GeoUnit::Kilometers).asc();
        assert_eq!(
            c.geosearch::<String>("sicily", near.clone()).await.unwrap(),
            ["Catania", "Palermo"]
        );
        let boxed = GeoSearch::from_member_box("Palermo", 400.0, 400.0, GeoUnit::Kilometers)
            .desc()
            .count(1, false);
        assert_eq!(c.geosearch::<String>("sicily", boxed).await.unwrap(), ["Catania"]);
        let with = c
            .geosearch_with("sicily", near.clone().count(1, true))
            .await
            .unwrap();
        assert_eq!(with.len(), 1);
        assert!(with[0].distance > 0.0 && with[0].hash > 0);
        let from_member = GeoSearch::from_member_radius("Palermo", 1.0, GeoUnit::Miles);
        assert_eq!(
            c.geosearch::<String>("sicily", from_member).await.unwrap(),
            ["Palermo"]
        );
        assert_eq!(
            c.geosearchstore("dest", "sicily", near.clone(), false)
                .await
                .unwrap(),
            2
        );
        assert_eq!(c.geosearchstore("dists", "sicily", near, true).await.unwrap(), 2);
        assert!(c.zscore("dists", "Catania").await.unwrap().unwrap() < 100.0);
        let box_lonlat = GeoSearch::from_lonlat_box(15.0, 37.0, 10.0, 10.0, GeoUnit::Feet);
        assert!(
            c.geosearch::<String>("sicily", box_lonlat)
                .await
                .unwrap()
                .is_empty()
        );
    });
}
