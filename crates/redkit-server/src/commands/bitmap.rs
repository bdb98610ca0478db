//! Bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO — bit operations on string values.
//!
//! Bit 0 is the most significant bit of byte 0, as in Redis. Writing past the end grows the string with zero
//! bytes; a string changed by a bit operation is held raw, as Redis holds it.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::args::Args;
use super::registry::Decl;
use super::{Reply, err, int, is, parse_i64, syntax_error};
use crate::state::db::{Data, StrEnc};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("setbit", setbit),
    Decl::new("getbit", getbit),
    Decl::new("bitcount", bitcount),
    Decl::new("bitpos", bitpos),
    Decl::new("bitop", bitop),
    Decl::new("bitfield", bitfield),
    Decl::new("bitfield_ro", bitfield_ro),
];

/// The largest string Redis lets bit operations make: 512 MiB, so bit offsets below 2^32.
const MAX_BITS: u64 = 1 << 32;

fn offset_error() -> Value {
    err("ERR bit offset is not an integer or out of range")
}

/// The string at `key` (`None` if missing); WRONGTYPE for another type.
fn bytes_of(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Bytes>, Value> {
    super::read(ctx, key, |d| match d {
        Data::Str(s) => Some(s.clone()),
        _ => None,
    })
}

fn store(ctx: &mut Ctx<'_>, key: &Bytes, value: Vec<u8>) {
    let now = ctx.now;
    ctx.db()
        .set_keep_ttl_as(key.clone(), Data::Str(Bytes::from(value)), now, StrEnc::Raw);
}

fn parse_bit_offset(arg: &[u8]) -> Result<u64, Value> {
    let n = parse_i64(arg).map_err(|_| offset_error())?;
    u64::try_from(n)
        .ok()
        .filter(|n| *n < MAX_BITS)
        .ok_or_else(offset_error)
}

fn get_bit(bytes: &[u8], bit: u64) -> u8 {
    let byte = (bit / 8) as usize;
    bytes.get(byte).map_or(0, |b| (b >> (7 - (bit % 8) as u32)) & 1)
}

fn set_bit(bytes: &mut Vec<u8>, bit: u64, on: bool) {
    let byte = (bit / 8) as usize;
    if bytes.len() <= byte {
        bytes.resize(byte + 1, 0);
    }
    let mask = 1u8 << (7 - (bit % 8) as u32);
    if on {
        bytes[byte] |= mask;
    } else {
        bytes[byte] &= !mask;
    }
}

pub(crate) fn setbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let bit = parse_bit_offset(&args[2])?;
    let on = match args[3].as_ref() {
        b"1" => true,
        b"0" => false,
        _ => return Err(err("ERR bit is not an integer or out of range")),
    };
    let mut bytes = bytes_of(ctx, &args[1])?.map(|b| b.to_vec()).unwrap_or_default();
    let old = get_bit(&bytes, bit);
    set_bit(&mut bytes, bit, on);
    store(ctx, &args[1], bytes);
    Ok(int(old))
}

pub(crate) fn getbit(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let bit = parse_bit_offset(&args[2])?;
    let bytes = bytes_of(ctx, &args[1])?.unwrap_or_default();
    Ok(int(get_bit(&bytes, bit)))
}

/// A `start end` range over `len` units (bytes or bits), negative indexes from the end, as GETRANGE: `None` when
/// it selects nothing.
fn clamp_range(start: i64, end: i64, len: i64) -> Option<(i64, i64)> {
    let fix = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (s, e) = (fix(start), fix(end).min(len - 1));
    (len > 0 && s <= e && s < len).then_some((s, e))
}

/// A `start end [BYTE|BIT]` range of BITCOUNT and BITPOS, unclamped.
#[derive(Debug, Clone, Copy)]
struct BitRange {
    start: i64,
    end: i64,
    /// BIT: the indexes count bits, not bytes.
    bits: bool,
}

impl BitRange {
    /// `start end [BYTE|BIT]`: a third word other than BYTE or BIT is `ERR syntax error`, found before the indexes
    /// are read.
    fn parse(start: &[u8], end: &[u8], unit: Option<&Bytes>) -> Result<BitRange, Value> {
        let bits = match unit {
            None => false,
            Some(unit) if is(unit, "BYTE") || is(unit, "BIT") => is(unit, "BIT"),
            Some(_) => return Err(syntax_error()),
        };
        Ok(BitRange {
            start: parse_i64(start)?,
            end: parse_i64(end)?,
            bits,
        })
    }
}

/// BITCOUNT's arguments, parsed before the key is read.
struct BitCountArgs<'a> {
    key: &'a Bytes,
    /// The range to count in (`None`: the whole string).
    range: Option<BitRange>,
}

impl<'a> BitCountArgs<'a> {
    /// `BITCOUNT key [start end [BYTE|BIT]]`: a start without an end is `ERR syntax error`.
    fn parse(argv: &'a [Bytes]) -> Result<BitCountArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let range = match args.rest() {
            [] => None,
            [start, end] => Some(BitRange::parse(start, end, None)?),
            [start, end, unit] => Some(BitRange::parse(start, end, Some(unit))?),
            _ => return Err(syntax_error()),
        };
        Ok(BitCountArgs { key, range })
    }
}

pub(crate) fn bitcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let BitCountArgs { key, range } = BitCountArgs::parse(args)?;
    let Some(bytes) = bytes_of(ctx, key)? else {
        return Ok(int(0));
    };
    // As Redis: two negative indexes the wrong way round select nothing (before they are clamped).
    if let Some(BitRange { start, end, .. }) = range
        && start < 0
        && end < 0
        && start > end
    {
        return Ok(int(0));
    }
    let n = match range {
        None => bytes.iter().map(|b| u64::from(b.count_ones())).sum(),
        Some(BitRange {
            start,
            end,
            bits: false,
        }) => match clamp_range(start, end, bytes.len() as i64) {
            None => 0,
            Some((s, e)) => bytes[s as usize..=e as usize]
                .iter()
                .map(|b| u64::from(b.count_ones()))
                .sum(),
        },
        Some(BitRange {
            start,
            end,
            bits: true,
        }) => match clamp_range(start, end, bytes.len() as i64 * 8) {
            None => 0,
            Some((s, e)) => (s..=e).map(|bit| u64::from(get_bit(&bytes, bit as u64))).sum(),
        },
    };
    Ok(int(n))
}

/// BITPOS's arguments, parsed before the key is read.
struct BitPosArgs<'a> {
    key: &'a Bytes,
    /// The bit to look for, 0 or 1.
    bit: u8,
    /// Where to look: the start (0 unless given), the end (`None`: the string's end, past which a 0 is found),
    /// and whether they count bits.
    start: i64,
    end: Option<i64>,
    bits: bool,
}

impl<'a> BitPosArgs<'a> {
    /// `BITPOS key bit [start [end [BYTE|BIT]]]`: the bit first (`ERR The bit argument must be 1 or 0.`), then the
    /// range as BITCOUNT reads it.
    fn parse(argv: &'a [Bytes]) -> Result<BitPosArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let bit = match args.next_bytes()?.as_ref() {
            b"1" => 1u8,
            b"0" => 0u8,
            _ => return Err(err("ERR The bit argument must be 1 or 0.")),
        };
        let (start, end, bits) = match args.rest() {
            [] => (0, None, false),
            [start] => (parse_i64(start)?, None, false),
            [start, end] => (parse_i64(start)?, Some(parse_i64(end)?), false),
            [start, end, unit] => {
                let range = BitRange::parse(start, end, Some(unit))?;
                (range.start, Some(range.end), range.bits)
            }
            _ => return Err(syntax_error()),
        };
        Ok(BitPosArgs {
            key,
            bit,
            start,
            end,
            bits,
        })
    }
}

pub(crate) fn bitpos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let BitPosArgs {
        key,
        bit: want,
        start,
        end,
        bits,
    } = BitPosArgs::parse(args)?;
    let Some(bytes) = bytes_of(ctx, key)? else {
        return Ok(int(if want == 1 { -1 } else { 0 }));
    };
    let unit_len = if bits {
        bytes.len() as i64 * 8
    } else {
        bytes.len() as i64
    };
    let Some((s, e)) = clamp_range(start, end.unwrap_or(-1), unit_len) else {
        return Ok(int(-1));
    };
    let (first_bit, last_bit) = if bits { (s, e) } else { (s * 8, e * 8 + 7) };
    for bit in first_bit..=last_bit {
        if get_bit(&bytes, bit as u64) == want {
            return Ok(int(bit));
        }
    }
    // Looking for a clear bit with no end given: the string is treated as padded with zeros on the right.
    if want == 0 && end.is_none() {
        return Ok(int(last_bit + 1));
    }
    Ok(int(-1))
}

pub(crate) fn bitop(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let op = &args[1];
    let sources = &args[3..];
    let kind = if is(op, "AND") {
        0
    } else if is(op, "OR") {
        1
    } else if is(op, "XOR") {
        2
    } else if is(op, "NOT") {
        if sources.len() != 1 {
            return Err(err("ERR BITOP NOT must be called with a single source key."));
        }
        3
    } else {
        return Err(syntax_error());
    };
    let mut values = Vec::with_capacity(sources.len());
    for key in sources {
        values.push(bytes_of(ctx, key)?.unwrap_or_default());
    }
    let len = values.iter().map(Bytes::len).max().unwrap_or(0);
    let byte = |v: &Bytes, i: usize| v.get(i).copied().unwrap_or(0);
    let result: Vec<u8> = (0..len)
        .map(|i| match kind {
            0 => values.iter().fold(0xff, |acc, v| acc & byte(v, i)),
            1 => values.iter().fold(0, |acc, v| acc | byte(v, i)),
            2 => values.iter().fold(0, |acc, v| acc ^ byte(v, i)),
            _ => !byte(&values[0], i),
        })
        .collect();
    let now = ctx.now;
    if result.is_empty() {
        ctx.db().remove(&args[2], now);
    } else {
        let n = result.len();
        ctx.db().set(args[2].clone(), Data::Str(Bytes::from(result)));
        if let Some(e) = ctx.db().get_mut(&args[2], now) {
            e.enc = StrEnc::Raw;
        }
        return Ok(int(n));
    }
    Ok(int(0))
}

/// A BITFIELD integer type: signed or not, and its width.
#[derive(Clone, Copy)]
struct FieldType {
    signed: bool,
    bits: u32,
}

fn parse_type(arg: &[u8]) -> Result<FieldType, Value> {
    let bad = || {
        err(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
        )
    };
    let (signed, digits) = match arg.split_first() {
        Some((b'i' | b'I', rest)) => (true, rest),
        Some((b'u' | b'U', rest)) => (false, rest),
        _ => return Err(bad()),
    };
    let bits: u32 = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(bad)?;
    let max = if signed { 64 } else { 63 };
    if bits == 0 || bits > max {
        return Err(bad());
    }
    Ok(FieldType { signed, bits })
}

/// A BITFIELD offset: a bit number, or `#n` for the n-th field of the type's width.
fn parse_field_offset(arg: &[u8], t: FieldType) -> Result<u64, Value> {
    let (multiply, digits) = match arg.split_first() {
        Some((b'#', rest)) => (true, rest),
        _ => (false, arg),
    };
    let n = parse_i64(digits).map_err(|_| offset_error())?;
    let n = u64::try_from(n).map_err(|_| offset_error())?;
    let bit = if multiply {
        n.checked_mul(u64::from(t.bits)).ok_or_else(offset_error)?
    } else {
        n
    };
    if bit + u64::from(t.bits) > MAX_BITS {
        return Err(offset_error());
    }
    Ok(bit)
}

fn read_field(bytes: &[u8], at: u64, t: FieldType) -> i64 {
    let mut raw: u64 = 0;
    for i in 0..u64::from(t.bits) {
        raw = (raw << 1) | u64::from(get_bit(bytes, at + i));
    }
    if t.signed && t.bits < 64 && raw & (1 << (t.bits - 1)) != 0 {
        // Sign-extend.
        (raw | (!0u64 << t.bits)) as i64
    } else {
        raw as i64
    }
}

fn write_field(bytes: &mut Vec<u8>, at: u64, t: FieldType, value: i64) {
    let raw = value as u64;
    for i in 0..u64::from(t.bits) {
        let bit = (raw >> (u64::from(t.bits) - 1 - i)) & 1;
        set_bit(bytes, at + i, bit == 1);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// `value` (computed in i128) fitted to the type under the overflow rule; `None` for FAIL on overflow.
fn fit(value: i128, t: FieldType, rule: Overflow) -> Option<i64> {
    let (min, max): (i128, i128) = if t.signed {
        (-(1i128 << (t.bits - 1)), (1i128 << (t.bits - 1)) - 1)
    } else {
        (0, (1i128 << t.bits) - 1)
    };
    if (min..=max).contains(&value) {
        return Some(value as i64);
    }
    match rule {
        Overflow::Fail => None,
        Overflow::Sat => Some(if value > max { max } else { min } as i64),
        Overflow::Wrap => {
            let modulus = 1i128 << t.bits;
            let mut v = value.rem_euclid(modulus);
            if t.signed && v > max {
                v -= modulus;
            }
            Some(v as i64)
        }
    }
}

/// One BITFIELD operation, with the OVERFLOW rule in force where it stands.
enum Op {
    Get(FieldType, u64),
    Set(FieldType, u64, i64, Overflow),
    Incr(FieldType, u64, i64, Overflow),
}

/// The arguments of BITFIELD and BITFIELD_RO: every operation is parsed before the key is read, so one bad
/// operation anywhere changes nothing.
struct BitfieldArgs<'a> {
    key: &'a Bytes,
    ops: Vec<Op>,
}

/// `ERR syntax error` unless `n` more words are left.
fn need(args: &Args<'_>, n: usize) -> Result<(), Value> {
    if args.remaining() < n {
        Err(syntax_error())
    } else {
        Ok(())
    }
}

impl<'a> BitfieldArgs<'a> {
    /// `key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL]…`,
    /// each operation checked as it is read: a word short of its values or unknown is `ERR syntax error`, then the
    /// type, the offset and the value. BITFIELD_RO (`read_only`) refuses any word but GET where it stands.
    fn parse(argv: &'a [Bytes], read_only: bool) -> Result<BitfieldArgs<'a>, Value> {
        let mut args = Args::new(argv);
        let key = args.next_bytes()?;
        let mut ops = Vec::new();
        let mut overflow = Overflow::Wrap;
        while let Some(sub) = args.next() {
            if is(sub, "GET") {
                need(&args, 2)?;
                let t = parse_type(args.next_bytes()?)?;
                ops.push(Op::Get(t, parse_field_offset(args.next_bytes()?, t)?));
            } else if read_only {
                return Err(err("ERR BITFIELD_RO only supports the GET subcommand"));
            } else if is(sub, "SET") || is(sub, "INCRBY") {
                need(&args, 3)?;
                let t = parse_type(args.next_bytes()?)?;
                let at = parse_field_offset(args.next_bytes()?, t)?;
                let v = args.next_i64()?;
                ops.push(if is(sub, "SET") {
                    Op::Set(t, at, v, overflow)
                } else {
                    Op::Incr(t, at, v, overflow)
                });
            } else if is(sub, "OVERFLOW") {
                need(&args, 1)?;
                overflow = match args.eat_one_of(["WRAP", "SAT", "FAIL"]) {
                    Some("WRAP") => Overflow::Wrap,
                    Some("SAT") => Overflow::Sat,
                    Some(_) => Overflow::Fail,
                    None => return Err(err("ERR Invalid OVERFLOW type specified")),
                };
            } else {
                return Err(syntax_error());
            }
        }
        Ok(BitfieldArgs { key, ops })
    }
}

fn run_bitfield(ctx: &mut Ctx<'_>, args: &[Bytes], read_only: bool) -> Reply {
    let BitfieldArgs { key, ops } = BitfieldArgs::parse(args, read_only)?;
    let existing = bytes_of(ctx, key)?;
    let mut bytes = existing.as_ref().map(|b| b.to_vec()).unwrap_or_default();
    let mut wrote = false;
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            Op::Get(t, at) => out.push(Value::Integer(read_field(&bytes, at, t))),
            Op::Set(t, at, v, rule) => {
                let old = read_field(&bytes, at, t);
                match fit(i128::from(v), t, rule) {
                    Some(v) => {
                        write_field(&mut bytes, at, t, v);
                        wrote = true;
                        out.push(Value::Integer(old));
                    }
                    None => out.push(Value::Null),
                }
            }
            Op::Incr(t, at, by, rule) => {
                let old = read_field(&bytes, at, t);
                match fit(i128::from(old) + i128::from(by), t, rule) {
                    Some(v) => {
                        write_field(&mut bytes, at, t, v);
                        wrote = true;
                        out.push(Value::Integer(v));
                    }
                    None => out.push(Value::Null),
                }
            }
        }
    }
    if wrote {
        store(ctx, key, bytes);
    }
    Ok(Value::Array(out))
}

pub(crate) fn bitfield(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run_bitfield(ctx, args, false)
}

pub(crate) fn bitfield_ro(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    run_bitfield(ctx, args, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::error_text;

    fn words(text: &str) -> Vec<Bytes> {
        text.split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn bitfield_operations_are_read_and_checked_in_order() {
        let argv = words("BITFIELD k GET u8 0 OVERFLOW SAT SET i4 #2 -1 overflow fail INCRBY u2 3 1");
        let BitfieldArgs { key, ops } = BitfieldArgs::parse(&argv, false).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(key.as_ref(), b"k");
        assert!(matches!(
            ops.as_slice(),
            [
                Op::Get(
                    FieldType {
                        signed: false,
                        bits: 8
                    },
                    0
                ),
                Op::Set(
                    FieldType {
                        signed: true,
                        bits: 4
                    },
                    8,
                    -1,
                    Overflow::Sat
                ),
                Op::Incr(
                    FieldType {
                        signed: false,
                        bits: 2
                    },
                    3,
                    1,
                    Overflow::Fail
                ),
            ]
        ));
        let error = |line: &str, read_only: bool| match BitfieldArgs::parse(&words(line), read_only) {
            Ok(_) => "parsed".to_owned(),
            Err(e) => error_text(&e),
        };
        let bad_type = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
        // Each operation whole, in turn: a short one is a syntax error even after a bad type elsewhere.
        assert_eq!(error("BITFIELD k GET u8", false), "ERR syntax error");
        assert_eq!(error("BITFIELD k GET x8 0 GET u8", false), bad_type);
        assert_eq!(error("BITFIELD k SET u8 0 1 GET x8 0", false), bad_type);
        assert_eq!(error("BITFIELD k SET x8 x x", false), bad_type);
        assert_eq!(
            error("BITFIELD k SET u8 x x", false),
            "ERR bit offset is not an integer or out of range"
        );
        assert_eq!(
            error("BITFIELD k SET u8 0 x", false),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(error("BITFIELD k OVERFLOW", false), "ERR syntax error");
        assert_eq!(
            error("BITFIELD k OVERFLOW up", false),
            "ERR Invalid OVERFLOW type specified"
        );
        assert_eq!(error("BITFIELD k FOO", false), "ERR syntax error");
        assert_eq!(error("BITFIELD_RO k GET u8 0", true), "parsed");
        assert_eq!(error("BITFIELD_RO k GET x8 0 SET u8 0 1", true), bad_type);
        assert_eq!(
            error("BITFIELD_RO k GET u8 0 SET x8 0 1", true),
            "ERR BITFIELD_RO only supports the GET subcommand"
        );
    }

    #[test]
    fn fields_wrap_saturate_and_fail_like_redis() {
        let u2 = FieldType {
            signed: false,
            bits: 2,
        };
        let i8t = FieldType {
            signed: true,
            bits: 8,
        };
        assert_eq!(fit(5, u2, Overflow::Wrap), Some(1));
        assert_eq!(fit(5, u2, Overflow::Sat), Some(3));
        assert_eq!(fit(5, u2, Overflow::Fail), None);
        assert_eq!(fit(128, i8t, Overflow::Wrap), Some(-128));
        assert_eq!(fit(-129, i8t, Overflow::Sat), Some(-128));
        let mut b = Vec::new();
        write_field(&mut b, 3, i8t, -5);
        assert_eq!(read_field(&b, 3, i8t), -5);
    }
}
