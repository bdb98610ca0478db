//! Redis's geohash arithmetic (`geohash.c`, `geohash_helper.c`): 52-bit interleaved cells over ±85.05112878°
//! of latitude, their neighbours and areas, the step estimate for a search radius, and the haversine distance with
//! Redis's Earth radius. Pure functions: the commands in `geo.rs` build on them.

pub(super) const LAT_MIN: f64 = -85.051_128_78;
pub(super) const LAT_MAX: f64 = 85.051_128_78;
pub(super) const LON_MIN: f64 = -180.0;
pub(super) const LON_MAX: f64 = 180.0;
pub(super) const STEP: u32 = 26;
pub(super) const EARTH_RADIUS_M: f64 = 6_372_797.560_856;

/// Spread the 32 bits of `x` over the even bits of a u64.
pub(super) fn spread(x: u32) -> u64 {
    let mut v = u64::from(x);
    v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
    v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333;
    (v | (v << 1)) & 0x5555_5555_5555_5555
}

/// The even bits of `v`, packed.
pub(super) fn squash(v: u64) -> u32 {
    let mut v = v & 0x5555_5555_5555_5555;
    v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
    v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
    v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((v | (v >> 16)) & 0x0000_0000_FFFF_FFFF) as u32
}

/// The geohash bits of a position in the given latitude range (Redis's `geohashEncode`, 26 steps).
pub(super) fn encode(lon: f64, lat: f64, lat_min: f64, lat_max: f64) -> u64 {
    let lat_offset = (lat - lat_min) / (lat_max - lat_min) * f64::from(1u32 << STEP);
    let lon_offset = (lon - LON_MIN) / (LON_MAX - LON_MIN) * f64::from(1u32 << STEP);
    // Latitude in the even bits, longitude in the odd ones (C's double-to-uint32 truncation).
    spread(lat_offset as u32) | (spread(lon_offset as u32) << 1)
}

/// The geohash bits of a sorted-set score, converted as C converts a double to `uint64_t` on x86-64 (negative
/// scores wrap around), so a score set by ZADD decodes to the position Redis reports.
pub(super) fn score_bits(score: f64) -> u64 {
    if score < 0.0 {
        (score as i64) as u64
    } else {
        score as u64
    }
}

/// The centre of a geohash cell, as Redis decodes a score.
pub(super) fn decode(bits: u64) -> (f64, f64) {
    let (ilat, ilon) = (f64::from(squash(bits)), f64::from(squash(bits >> 1)));
    let cells = f64::from(1u32 << STEP);
    let (lat_scale, lon_scale) = (LAT_MAX - LAT_MIN, LON_MAX - LON_MIN);
    let lat_lo = LAT_MIN + (ilat / cells) * lat_scale;
    let lat_hi = LAT_MIN + ((ilat + 1.0) / cells) * lat_scale;
    let lon_lo = LON_MIN + (ilon / cells) * lon_scale;
    let lon_hi = LON_MIN + ((ilon + 1.0) / cells) * lon_scale;
    let lon = ((lon_lo + lon_hi) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((lat_lo + lat_hi) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

pub(super) fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_M * (lat2.to_radians() - lat1.to_radians()).abs()
}

/// Redis's haversine distance in meters.
pub(super) fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let v = ((lon2.to_radians() - lon1.to_radians()) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (lat1.to_radians(), lat2.to_radians());
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// Redis's step estimate for a search of `range_m` meters around latitude `lat` (`geohashEstimateStepsByRadius`).
pub(super) fn estimate_steps(range_m: f64, lat: f64) -> u32 {
    if range_m == 0.0 {
        return STEP;
    }
    const MERCATOR_MAX: f64 = 20_037_726.37;
    let (mut range, mut step) = (range_m, 1i32);
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, STEP as i32) as u32
}

/// A cell at `step` bits per axis: its interleaved bits (which may carry one bit past `2 * step`, as Redis's do
/// for longitude 180) and the step; `None` where Redis zeroes a useless neighbour.
pub(super) type Cell = Option<(u64, u32)>;

/// The cell of a position at `step` (Redis's `geohashEncode`; the offsets truncate as C's double-to-uint32).
pub(super) fn encode_step(lon: f64, lat: f64, step: u32) -> u64 {
    let cells = (1u64 << step) as f64;
    let lat_offset = (lat - LAT_MIN) / (LAT_MAX - LAT_MIN) * cells;
    let lon_offset = (lon - LON_MIN) / (LON_MAX - LON_MIN) * cells;
    spread(lat_offset as u32) | (spread(lon_offset as u32) << 1)
}

/// A cell's bounds: (lon min, lon max, lat min, lat max) (Redis's `geohashDecode`).
pub(super) fn cell_area(bits: u64, step: u32) -> (f64, f64, f64, f64) {
    let (ilat, ilon) = (f64::from(squash(bits)), f64::from(squash(bits >> 1)));
    let cells = (1u64 << step) as f64;
    let (lat_scale, lon_scale) = (LAT_MAX - LAT_MIN, LON_MAX - LON_MIN);
    (
        LON_MIN + (ilon / cells) * lon_scale,
        LON_MIN + ((ilon + 1.0) / cells) * lon_scale,
        LAT_MIN + (ilat / cells) * lat_scale,
        LAT_MIN + ((ilat + 1.0) / cells) * lat_scale,
    )
}

/// The neighbouring cell `dx` columns and `dy` rows away, wrapping around (Redis's `geohash_move_x/y`).
pub(super) fn neighbour(bits: u64, step: u32, dx: i8, dy: i8) -> u64 {
    let shift = 64 - step * 2;
    let mut out = bits;
    for (d, odd) in [(dx, true), (dy, false)] {
        if d == 0 {
            continue;
        }
        let (mine, other) = if odd {
            (0xaaaa_aaaa_aaaa_aaaa_u64, 0x5555_5555_5555_5555_u64)
        } else {
            (0x5555_5555_5555_5555_u64, 0xaaaa_aaaa_aaaa_aaaa_u64)
        };
        let mut v = out & mine;
        let keep = out & other;
        let zz = other >> shift;
        v = if d > 0 {
            v.wrapping_add(zz.wrapping_add(1))
        } else {
            (v | zz).wrapping_sub(zz.wrapping_add(1))
        };
        v &= mine >> shift;
        out = v | keep;
    }
    out
}
