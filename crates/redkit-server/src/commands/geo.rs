//! Geo: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS(_RO), GEORADIUSBYMEMBER(_RO).
//!
//! Members live in a sorted set whose scores are Redis's 52-bit interleaved geohashes (26 bits of latitude over
//! ±85.05112878°, 26 of longitude), computed as Redis computes them, so `ZRANGE … WITHSCORES` on a geo key shows
//! Redis's scores and positions decode to the same cell centres. Distances use Redis's haversine (Earth radius
//! 6,372,797.560856 m). Searches scan the same nine geohash cells Redis scans, in its order (step estimate,
//! neighbours, coarsening and dropped sides as in `geohash_helper.c`), so what is found, the order without ASC/DESC
//! and where ANY stops agree with Redis.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::geohash::{
    Cell, EARTH_RADIUS_M, LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, cell_area, decode, distance, encode,
    encode_step, estimate_steps, lat_distance, neighbour, score_bits,
};
use super::range_args::take;
use super::registry::Decl;
use super::{Reply, err, int, is, parse_f64, parse_i64, syntax_error};
use crate::state::db::{Data, ZSet};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("geoadd", geoadd),
    Decl::new("geodist", geodist),
    Decl::new("geohash", geohash),
    Decl::new("geopos", geopos),
    Decl::new("geosearch", geosearch),
    Decl::new("geosearchstore", geosearchstore),
    Decl::new("georadius", georadius),
    Decl::new("georadius_ro", georadius_ro),
    Decl::new("georadiusbymember", georadiusbymember),
    Decl::new("georadiusbymember_ro", georadiusbymember_ro),
];

/// A coordinate as Redis replies it: 17 decimals, trailing zeros removed — as a bulk string, or in RESP3 as a
/// double of that (rounded) value.
fn coordinate(v: f64, resp3: bool) -> Value {
    let text = format!("{v:.17}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if resp3 {
        return Value::Double(text.parse().unwrap_or(v));
    }
    Value::bulk(text.to_owned())
}

fn unit(arg: &[u8]) -> Result<f64, Value> {
    let u = String::from_utf8_lossy(arg).to_ascii_lowercase();
    match u.as_str() {
        "m" => Ok(1.0),
        "km" => Ok(1000.0),
        "ft" => Ok(0.3048),
        "mi" => Ok(1609.34),
        _ => Err(err("ERR unsupported unit provided. please use M, KM, FT, MI")),
    }
}

/// A `longitude latitude` pair, checked against Redis's limits.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), Value> {
    let (lon, lat) = (parse_f64(lon)?, parse_f64(lat)?);
    if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return Err(err(&format!(
            "ERR invalid longitude,latitude pair {lon:.6},{lat:.6}"
        )));
    }
    Ok((lon, lat))
}

fn zset_of<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a ZSet>, Value> {
    super::read(ctx, key, |d| match d {
        Data::ZSet(z) => Some(&**z),
        _ => None,
    })
}

/// The position of `member` of the sorted set at `src`, a search's centre: `(0, 0)` when there is no such key.
fn member_center(ctx: &mut Ctx<'_>, src: &[u8], member: &Bytes) -> Result<(f64, f64), Value> {
    match zset_of(ctx, src)? {
        None => Ok((0.0, 0.0)),
        Some(z) => z
            .scores
            .get(member)
            .map(|s| decode(score_bits(*s)))
            .ok_or_else(|| err("ERR could not decode requested zset member")),
    }
}

/// GEOADD's arguments, parsed before anything is applied.
struct GeoAddArgs<'a> {
    key: &'a Bytes,
    /// NX: only add new members; XX: only update existing ones.
    nx: bool,
    xx: bool,
    /// CH: count changed members as well as added ones.
    ch: bool,
    /// Each member's score (its geohash).
    points: Vec<(f64, &'a Bytes)>,
}

impl<'a> GeoAddArgs<'a> {
    /// `GEOADD key [NX|XX] [CH] longitude latitude member [longitude latitude member …]` (options in any order).
    fn parse(argv: &'a [Bytes]) -> Result<GeoAddArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let (mut nx, mut xx, mut ch) = (false, false, false);
        while let Some(option) = args.eat_one_of(["NX", "XX", "CH"]) {
            match option {
                "NX" => nx = true,
                "XX" => xx = true,
                _ => ch = true,
            }
        }
        let triples = args.rest();
        if triples.is_empty() || !triples.len().is_multiple_of(3) || (nx && xx) {
            return Err(syntax_error());
        }
        let points = triples
            .chunks(3)
            .map(|t| {
                let (lon, lat) = lon_lat(&t[0], &t[1])?;
                Ok((encode(lon, lat, LAT_MIN, LAT_MAX) as f64, &t[2]))
            })
            .collect::<Result<_, Value>>()?;
        Ok(GeoAddArgs {
            key,
            nx,
            xx,
            ch,
            points,
        })
    }
}

pub(crate) fn geoadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let GeoAddArgs {
        key,
        nx,
        xx,
        ch,
        points,
    } = GeoAddArgs::parse(args)?;
    let Some(z) = super::collection_mut(
        ctx,
        key,
        !xx,
        || Data::ZSet(Box::default()),
        |d| match d {
            Data::ZSet(z) => Some(&mut **z),
            _ => None,
        },
    )?
    else {
        return Ok(int(0));
    };
    let (mut added, mut changed) = (0, 0);
    for (score, member) in points {
        match z.scores.get(member).copied() {
            None if !xx => {
                z.insert(member.clone(), score);
                added += 1;
            }
            Some(old) if !nx && old != score => {
                z.insert(member.clone(), score);
                changed += 1;
            }
            _ => {}
        }
    }
    ctx.db().drop_if_empty(key);
    Ok(int(if ch { added + changed } else { added }))
}

pub(crate) fn geodist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let factor = match args.len() {
        4 => 1.0,
        5 => unit(&args[4])?,
        _ => return Err(syntax_error()),
    };
    let Some(z) = zset_of(ctx, &args[1])? else {
        return Ok(Value::Null);
    };
    let (Some(a), Some(b)) = (z.scores.get(&args[2]), z.scores.get(&args[3])) else {
        return Ok(Value::Null);
    };
    let ((lon1, lat1), (lon2, lat2)) = (decode(score_bits(*a)), decode(score_bits(*b)));
    Ok(Value::bulk(format!(
        "{:.4}",
        distance(lon1, lat1, lon2, lat2) / factor
    )))
}

pub(crate) fn geopos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let resp3 = ctx.session.protocol() == redkit_resp::RespVersion::Resp3;
    let z = zset_of(ctx, &args[1])?;
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|m| match z.and_then(|z| z.scores.get(m)) {
                Some(score) => {
                    let (lon, lat) = decode(score_bits(*score));
                    Value::Array(vec![coordinate(lon, resp3), coordinate(lat, resp3)])
                }
                None => Value::Null,
            })
            .collect(),
    ))
}

pub(crate) fn geohash(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let z = zset_of(ctx, &args[1])?;
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|m| match z.and_then(|z| z.scores.get(m)) {
                Some(score) => {
                    // The standard geohash: re-encoded over ±90° of latitude, 11 characters (the last padded).
                    let (lon, lat) = decode(score_bits(*score));
                    let bits = encode(lon, lat, -90.0, 90.0);
                    let text: String = (0..11)
                        .map(|i| {
                            let idx = if i == 10 {
                                0
                            } else {
                                ((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize
                            };
                            char::from(ALPHABET[idx])
                        })
                        .collect();
                    Value::bulk(text)
                }
                None => Value::Null,
            })
            .collect(),
    ))
}

#[derive(Clone, Copy)]
enum Shape {
    Radius(f64),
    Box(f64, f64),
}

#[derive(Clone, Copy, PartialEq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// Which geo command is asking, for option rules and error texts.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Radius,
    RadiusByMember,
    Search,
    SearchStore,
}

/// A search, as the command asks for it.
struct Query {
    center: (f64, f64),
    shape: Shape,
    unit: f64,
    sort: Sort,
    count: Option<usize>,
    any: bool,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    /// STORE/STOREDIST (GEOSEARCHSTORE's destination): where to store, and whether the distances.
    store: Option<(Bytes, bool)>,
}

fn parse_distance(arg: &[u8], what: &str) -> Result<f64, Value> {
    let v = parse_f64(arg).map_err(|_| err(&format!("ERR need numeric {what}")))?;
    if v < 0.0 {
        return Err(err(if what == "radius" {
            "ERR radius cannot be negative"
        } else {
            "ERR height or width cannot be negative"
        }));
    }
    Ok(v)
}

/// Parse a geo search (`argv` starts at the command name) before the key is read. A centre given as a member is
/// looked up when the command runs: Redis looks it up where it is named, so an error in a word after the name
/// comes after the member's own error. `member` is set to the member whose position is the centre once it is read
/// (FROMMEMBER's as soon as its name is, GEORADIUSBYMEMBER's after its radius and unit); otherwise the query's
/// `center` is the centre.
fn parse_query<'a>(
    argv: &'a [Bytes],
    kind: Kind,
    read_only: bool,
    member: &mut Option<&'a Bytes>,
) -> Result<Query, Value> {
    let mut args = Args::new(argv);
    let store = match kind {
        Kind::SearchStore => Some((args.next_bytes()?.clone(), false)),
        _ => None,
    };
    args.next_bytes()?; // the key searched
    let mut q = Query {
        center: (0.0, 0.0),
        shape: Shape::Radius(0.0),
        unit: 1.0,
        sort: Sort::None,
        count: None,
        any: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        store,
    };
    match kind {
        Kind::Radius => {
            let [lon, lat, radius, unit_name] = take(&mut args).ok_or_else(syntax_error)?;
            q.center = lon_lat(lon, lat)?;
            q.shape = Shape::Radius(parse_distance(radius, "radius")?);
            q.unit = unit(unit_name)?;
        }
        Kind::RadiusByMember => {
            let [name, radius, unit_name] = take(&mut args).ok_or_else(syntax_error)?;
            q.shape = Shape::Radius(parse_distance(radius, "radius")?);
            q.unit = unit(unit_name)?;
            *member = Some(name);
        }
        Kind::Search | Kind::SearchStore => {}
    }
    let search = matches!(kind, Kind::Search | Kind::SearchStore);
    let (mut from, mut by) = (false, false);
    while let Some(word) = args.next() {
        if is(word, "WITHDIST") {
            q.with_dist = true;
        } else if is(word, "WITHHASH") {
            q.with_hash = true;
        } else if is(word, "WITHCOORD") {
            q.with_coord = true;
        } else if is(word, "ANY") {
            q.any = true;
        } else if is(word, "ASC") {
            q.sort = Sort::Asc;
        } else if is(word, "DESC") {
            q.sort = Sort::Desc;
        } else if is(word, "COUNT")
            && let Some([n]) = take(&mut args)
        {
            let n = parse_i64(n)?;
            if n <= 0 {
                return Err(err("ERR COUNT must be > 0"));
            }
            q.count = Some(usize::try_from(n).unwrap_or(usize::MAX));
        } else if (is(word, "STORE") || is(word, "STOREDIST"))
            && !read_only
            && !search
            && let Some([dest]) = take(&mut args)
        {
            q.store = Some((dest.clone(), is(word, "STOREDIST")));
        } else if is(word, "STOREDIST") && kind == Kind::SearchStore {
            q.store = Some((argv[1].clone(), true));
        } else if is(word, "FROMMEMBER")
            && search
            && !from
            && let Some([name]) = take(&mut args)
        {
            *member = Some(name);
            from = true;
        } else if is(word, "FROMLONLAT")
            && search
            && !from
            && let Some([lon, lat]) = take(&mut args)
        {
            q.center = lon_lat(lon, lat)?;
            from = true;
        } else if is(word, "BYRADIUS")
            && search
            && !by
            && let Some([radius, unit_name]) = take(&mut args)
        {
            q.shape = Shape::Radius(parse_distance(radius, "radius")?);
            q.unit = unit(unit_name)?;
            by = true;
        } else if is(word, "BYBOX")
            && search
            && !by
            && let Some([w, h, unit_name]) = take(&mut args)
        {
            let w = parse_distance(w, "width")?;
            let h = parse_distance(h, "height")?;
            q.unit = unit(unit_name)?;
            q.shape = Shape::Box(w, h);
            by = true;
        } else {
            return Err(syntax_error());
        }
    }
    let name = String::from_utf8_lossy(&argv[0]);
    if q.store.is_some() && (q.with_dist || q.with_hash || q.with_coord) {
        return Err(err(&if kind == Kind::SearchStore {
            format!("ERR {name} is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
        } else {
            format!(
                "ERR STORE option in {name} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
            )
        }));
    }
    if search && !from {
        return Err(err(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if search && !by {
        return Err(err(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if q.any && q.count.is_none() {
        return Err(err("ERR the ANY argument requires COUNT argument"));
    }
    if q.count.is_some() && q.sort == Sort::None && !q.any {
        q.sort = Sort::Asc;
    }
    Ok(q)
}

/// The cells Redis scans for a query, in its order: the centre's, then north, south, east, west, north-east,
/// north-west, south-east, south-west (`geohashCalculateAreasByShapeWGS84`).
fn search_cells(q: &Query) -> [Cell; 9] {
    let (lon, lat) = q.center;
    let (half_w, half_h, radius_m) = match q.shape {
        Shape::Radius(r) => (r * q.unit, r * q.unit, r * q.unit),
        Shape::Box(w, h) => (
            w / 2.0 * q.unit,
            h / 2.0 * q.unit,
            ((w / 2.0) * (w / 2.0) + (h / 2.0) * (h / 2.0)).sqrt() * q.unit,
        ),
    };
    // The bounding box (`geohashBoundingBox`).
    let lat_delta = (half_h / EARTH_RADIUS_M).to_degrees();
    let lon_delta_top = (half_w / EARTH_RADIUS_M / (lat + lat_delta).to_radians().cos()).to_degrees();
    let lon_delta_bottom = (half_w / EARTH_RADIUS_M / (lat - lat_delta).to_radians().cos()).to_degrees();
    let lon_delta = if lat < 0.0 {
        lon_delta_bottom
    } else {
        lon_delta_top
    };
    let (min_lon, max_lon) = (lon - lon_delta, lon + lon_delta);
    let (min_lat, max_lat) = (lat - lat_delta, lat + lat_delta);

    let mut step = estimate_steps(radius_m, lat);
    let around = |step: u32| {
        let hash = encode_step(lon, lat, step);
        let at = |dx, dy| neighbour(hash, step, dx, dy);
        [
            hash,
            at(0, 1),
            at(0, -1),
            at(1, 0),
            at(-1, 0),
            at(1, 1),
            at(-1, 1),
            at(1, -1),
            at(-1, -1),
        ]
    };
    let mut cells = around(step);
    // A step too fine to cover the box with the nine cells is coarsened once.
    let (north, south, east, west) = (
        cell_area(cells[1], step),
        cell_area(cells[2], step),
        cell_area(cells[3], step),
        cell_area(cells[4], step),
    );
    let too_fine = north.3 < max_lat || south.2 > min_lat || east.1 < max_lon || west.0 > min_lon;
    if step > 1 && too_fine {
        step -= 1;
        cells = around(step);
    }
    let mut out: [Cell; 9] = cells.map(|bits| Some((bits, step)));
    // Neighbours on a side the search cannot reach are dropped.
    if step >= 2 {
        let area = cell_area(cells[0], step);
        let mut drop = |which: [usize; 3]| {
            for i in which {
                out[i] = None;
            }
        };
        if area.2 < min_lat {
            drop([2, 8, 7]);
        }
        if area.3 > max_lat {
            drop([1, 5, 6]);
        }
        if area.0 < min_lon {
            drop([4, 8, 6]);
        }
        if area.1 > max_lon {
            drop([3, 7, 5]);
        }
    }
    out
}

/// `true` when the decoded position lies in the query's shape; the distance from the centre in meters.
fn within(q: &Query, x: f64, y: f64) -> Option<f64> {
    let (cx, cy) = q.center;
    match q.shape {
        Shape::Radius(r) => {
            let d = distance(cx, cy, x, y);
            (d <= r * q.unit).then_some(d)
        }
        Shape::Box(w, h) => {
            let (w, h) = (w * q.unit, h * q.unit);
            if lat_distance(y, cy) > h / 2.0 || distance(x, y, cx, y) > w / 2.0 {
                None
            } else {
                Some(distance(cx, cy, x, y))
            }
        }
    }
}

/// Members inside the shape, (member, score, distance in meters), found as Redis finds them: the score range of
/// each search cell in turn (a cell equal to the one scanned just before is skipped), members in score order
/// within a cell — so the order without ASC/DESC, what ANY stops at, and which oddly-scored members (set with ZADD)
/// are found all agree with Redis.
fn matches(z: &ZSet, q: &Query) -> Vec<(Bytes, f64, f64)> {
    let limit = if q.any { q.count } else { None };
    let mut out = Vec::new();
    let cells = search_cells(q);
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        let Some((bits, step)) = *cell else { continue };
        if let Some(l) = last
            && l != 0
            && cells[l] == *cell
        {
            continue;
        }
        if limit.is_some_and(|n| !out.is_empty() && out.len() >= n) {
            break;
        }
        let shift = 52 - step * 2;
        let (min, max) = ((bits << shift) as f64, ((bits + 1) << shift) as f64);
        let mut rank = z.position(min, &Bytes::new());
        while let Some((score, member)) = z.at(rank) {
            if score.0 >= max || limit.is_some_and(|n| out.len() >= n) {
                break;
            }
            let (x, y) = decode(score_bits(score.0));
            if let Some(d) = within(q, x, y) {
                out.push((member.clone(), score.0, d));
            }
            rank += 1;
        }
        last = Some(i);
    }
    out
}

fn run(ctx: &mut Ctx<'_>, args: &[Bytes], kind: Kind, read_only: bool) -> Reply {
    let src = if kind == Kind::SearchStore {
        &args[2]
    } else {
        &args[1]
    };
    let mut member = None;
    let query = parse_query(args, kind, read_only, &mut member);
    // The key's type first, as Redis; then the member named as the centre (a member of a missing key is no error:
    // the search is simply empty); then the other words' errors.
    let exists = zset_of(ctx, src)?.is_some();
    let center = member.map(|name| member_center(ctx, src, name)).transpose()?;
    let mut q = query?;
    if let Some(center) = center {
        q.center = center;
    }
    let mut found = if exists {
        zset_of(ctx, src)?.map(|z| matches(z, &q)).unwrap_or_default()
    } else {
        Vec::new()
    };
    match q.sort {
        Sort::Asc => found.sort_by(|a, b| a.2.total_cmp(&b.2)),
        Sort::Desc => found.sort_by(|a, b| b.2.total_cmp(&a.2)),
        Sort::None => {}
    }
    if let Some(n) = q.count {
        found.truncate(n);
    }
    if let Some((dest, store_dist)) = q.store {
        let now = ctx.now;
        if found.is_empty() {
            ctx.db().remove(&dest, now);
            return Ok(int(0));
        }
        let mut z = ZSet::default();
        for (member, score, d) in &found {
            z.insert(member.clone(), if store_dist { d / q.unit } else { *score });
        }
        let n = z.len();
        ctx.db().set(dest, Data::ZSet(Box::new(z)));
        return Ok(int(n));
    }
    let plain = !(q.with_dist || q.with_hash || q.with_coord);
    let resp3 = ctx.session.protocol() == redkit_resp::RespVersion::Resp3;
    Ok(Value::Array(
        found
            .into_iter()
            .map(|(member, score, d)| {
                if plain {
                    return Value::BulkString(member);
                }
                let mut item = vec![Value::BulkString(member)];
                if q.with_dist {
                    item.push(Value::bulk(format!("{:.4}", d / q.unit)));
                }
                if q.with_hash {
                    item.push(Value::Integer(score as i64));
                }
                if q.with_coord {
                    let (x, y) = decode(score_bits(score));
                    item.push(Value::Array(vec![coordinate(x, resp3), coordinate(y, resp3)]));
                }
                Value::Array(item)
            })
            .collect(),
    ))
}

pub(crate) fn geosearch(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, Kind::Search, true)
}

pub(crate) fn geosearchstore(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, Kind::SearchStore, false)
}

pub(crate) fn georadius(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, Kind::Radius, false)
}

pub(crate) fn georadius_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, Kind::Radius, true)
}

pub(crate) fn georadiusbymember(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, Kind::RadiusByMember, false)
}

pub(crate) fn georadiusbymember_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run(ctx, args, Kind::RadiusByMember, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_positions_match_redis() {
        // Palermo, as GEOADD / ZSCORE / GEOPOS report it in Redis 7.0.
        let bits = encode(13.361389, 38.115556, LAT_MIN, LAT_MAX);
        assert_eq!(bits, 3_479_099_956_230_698);
        let (lon, lat) = decode(bits);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        let catania = decode(encode(15.087269, 37.502669, LAT_MIN, LAT_MAX));
        assert_eq!(
            format!("{:.4}", distance(lon, lat, catania.0, catania.1)),
            "166274.1516"
        );
    }
}
