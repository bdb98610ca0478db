//! Geo: distance units, GEOSEARCH's query, and its full results.

use bytes::Bytes;
use redkit_resp::{ArgWriter, FromValue, Result, ToArg, Value};

use super::wire::token;

/// Distance units of the geo commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeoUnit {
    /// Meters.
    #[default]
    Meters,
    /// Kilometers.
    Kilometers,
    /// Miles.
    Miles,
    /// Feet.
    Feet,
}

impl ToArg for GeoUnit {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        token(
            out,
            match self {
                GeoUnit::Meters => "m",
                GeoUnit::Kilometers => "km",
                GeoUnit::Miles => "mi",
                GeoUnit::Feet => "ft",
            },
        );
    }
}

/// The query of GEOSEARCH / GEOSEARCHSTORE.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoSearch {
    from: GeoFrom,
    shape: GeoShape,
    unit: GeoUnit,
    order: Option<&'static str>,
    count: Option<(u64, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
enum GeoFrom {
    Member(Bytes),
    LonLat(f64, f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum GeoShape {
    Radius(f64),
    Box(f64, f64),
}

impl GeoSearch {
    /// Around an existing member, within `radius`.
    pub fn from_member_radius(member: impl Into<Bytes>, radius: f64, unit: GeoUnit) -> GeoSearch {
        GeoSearch {
            from: GeoFrom::Member(member.into()),
            shape: GeoShape::Radius(radius),
            unit,
            order: None,
            count: None,
        }
    }
    /// Around a longitude/latitude, within `radius`.
    pub fn from_lonlat_radius(lon: f64, lat: f64, radius: f64, unit: GeoUnit) -> GeoSearch {
        GeoSearch {
            from: GeoFrom::LonLat(lon, lat),
            shape: GeoShape::Radius(radius),
            unit,
            order: None,
            count: None,
        }
    }
    /// Around an existing member, within a `width` × `height` box.
    pub fn from_member_box(member: impl Into<Bytes>, width: f64, height: f64, unit: GeoUnit) -> GeoSearch {
        GeoSearch {
            from: GeoFrom::Member(member.into()),
            shape: GeoShape::Box(width, height),
            unit,
            order: None,
            count: None,
        }
    }
    /// Around a longitude/latitude, within a `width` × `height` box.
    pub fn from_lonlat_box(lon: f64, lat: f64, width: f64, height: f64, unit: GeoUnit) -> GeoSearch {
        GeoSearch {
            from: GeoFrom::LonLat(lon, lat),
            shape: GeoShape::Box(width, height),
            unit,
            order: None,
            count: None,
        }
    }
    /// Nearest first.
    #[must_use]
    pub fn asc(mut self) -> Self {
        self.order = Some("ASC");
        self
    }
    /// Farthest first.
    #[must_use]
    pub fn desc(mut self) -> Self {
        self.order = Some("DESC");
        self
    }
    /// At most `n` results; with `any`, stop at the first `n` found (faster, not the nearest).
    #[must_use]
    pub fn count(mut self, n: u64, any: bool) -> Self {
        self.count = Some((n, any));
        self
    }
}

impl ToArg for GeoSearch {
    fn write_args<W: ArgWriter + ?Sized>(&self, out: &mut W) {
        match &self.from {
            GeoFrom::Member(m) => {
                token(out, "FROMMEMBER");
                out.write_arg(m);
            }
            GeoFrom::LonLat(lon, lat) => {
                token(out, "FROMLONLAT");
                (lon, lat).write_args(out);
            }
        }
        match self.shape {
            GeoShape::Radius(r) => {
                token(out, "BYRADIUS");
                r.write_args(out);
            }
            GeoShape::Box(w, h) => {
                token(out, "BYBOX");
                (w, h).write_args(out);
            }
        }
        self.unit.write_args(out);
        if let Some(o) = self.order {
            token(out, o);
        }
        if let Some((n, any)) = self.count {
            token(out, "COUNT");
            n.write_args(out);
            if any {
                token(out, "ANY");
            }
        }
    }
}

/// A GEOSEARCH result with everything asked for (`WITHCOORD WITHDIST WITHHASH`).
#[derive(Debug, Clone, PartialEq)]
pub struct GeoMatch {
    /// The member.
    pub member: String,
    /// Distance from the center, in the query's unit.
    pub distance: f64,
    /// The raw 52-bit geohash score.
    pub hash: i64,
    /// Longitude and latitude.
    pub coordinates: (f64, f64),
}

impl FromValue for GeoMatch {
    fn from_value(value: Value) -> Result<Self> {
        let (member, distance, hash, coordinates) = FromValue::from_value(value)?;
        Ok(GeoMatch {
            member,
            distance,
            hash,
            coordinates,
        })
    }
}
