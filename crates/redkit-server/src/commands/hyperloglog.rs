//! HyperLogLog: PFADD, PFCOUNT, PFMERGE — Redis's own algorithm, so counts agree with Redis exactly.
//!
//! Same hash (MurmurHash64A, seed `0xadc83b19`), same 16,384 registers of 6 bits (standard error 0.81%), same
//! register choice and run length, same estimator (Ertl's, as Redis 7), and the value is a string in Redis's
//! dense format (`HYLL` header, cached cardinality, packed registers), so `TYPE` says `string` and a value copied
//! from Redis (dense or sparse) reads back. The embedded server always writes the dense form, where Redis starts
//! small HyperLogLogs sparse: replies to the PF commands agree, `STRLEN` and `GET` of a small one do not.

use bytes::Bytes;
use redkit_resp::Value;

use super::Ctx;
use super::registry::Decl;
use super::{Reply, err, int, ok};
use crate::state::db::{Data, StrEnc};

/// The commands this file implements (their facts are the command table's, `redkit_resp::command`).
pub(super) static COMMANDS: &[Decl] = &[
    Decl::new("pfadd", pfadd),
    Decl::new("pfcount", pfcount),
    Decl::new("pfmerge", pfmerge),
];

const P: u32 = 14;
const REGISTERS: usize = 1 << P;
const Q: u32 = 64 - P;
const BITS: usize = 6;
const MAX: u8 = (1 << BITS) - 1;
const HEADER: usize = 16;
const DENSE_BYTES: usize = (REGISTERS * BITS).div_ceil(8);
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

fn not_hll() -> Value {
    err("WRONGTYPE Key is not a valid HyperLogLog string value.")
}

/// MurmurHash64A, as Redis's HyperLogLog uses it.
fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for chunk in &mut chunks {
        let mut k = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate().rev() {
            h ^= u64::from(*b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to, and the run length it brings (1..=Q+1).
fn register_and_rank(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A HyperLogLog's registers, and its cached cardinality if valid.
struct Hll {
    registers: Vec<u8>,
    cached: Option<u64>,
}

impl Hll {
    fn empty() -> Hll {
        Hll {
            registers: vec![0; REGISTERS],
            cached: Some(0),
        }
    }

    /// Read Redis's format, dense or sparse; `None` if the bytes are not a HyperLogLog.
    fn parse(bytes: &[u8]) -> Option<Hll> {
        if bytes.len() < HEADER || &bytes[..4] != b"HYLL" {
            return None;
        }
        let card = &bytes[8..16];
        let cached = (card[7] & 0x80 == 0).then(|| {
            u64::from_le_bytes([
                card[0], card[1], card[2], card[3], card[4], card[5], card[6], card[7],
            ])
        });
        let body = &bytes[HEADER..];
        let mut registers = vec![0u8; REGISTERS];
        match bytes[4] {
            0 => {
                if body.len() != DENSE_BYTES {
                    return None;
                }
                for (i, r) in registers.iter_mut().enumerate() {
                    let byte = i * BITS / 8;
                    let fb = (i * BITS) & 7;
                    let b0 = u16::from(body[byte]);
                    let b1 = u16::from(body.get(byte + 1).copied().unwrap_or(0));
                    *r = (((b0 >> fb) | (b1 << (8 - fb))) & u16::from(MAX)) as u8;
                }
            }
            1 => {
                let mut at = 0usize;
                let mut i = 0usize;
                while i < body.len() {
                    let op = body[i];
                    if op & 0xc0 == 0 {
                        // ZERO: a run of up to 64 empty registers.
                        at += usize::from(op & 0x3f) + 1;
                        i += 1;
                    } else if op & 0xc0 == 0x40 {
                        // XZERO: a run of up to 16384 empty registers.
                        let next = usize::from(*body.get(i + 1)?);
                        at += ((usize::from(op & 0x3f) << 8) | next) + 1;
                        i += 2;
                    } else {
                        // VAL: up to 4 registers with a value of 1..=32.
                        let value = ((op >> 2) & 0x1f) + 1;
                        let run = usize::from(op & 0x3) + 1;
                        for r in registers.get_mut(at..at + run)? {
                            *r = value;
                        }
                        at += run;
                        i += 1;
                    }
                    if at > REGISTERS {
                        return None;
                    }
                }
                if at != REGISTERS {
                    return None;
                }
            }
            _ => return None,
        }
        Some(Hll { registers, cached })
    }

    /// Redis's dense format.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; HEADER + DENSE_BYTES];
        out[..4].copy_from_slice(b"HYLL");
        match self.cached {
            Some(c) => out[8..16].copy_from_slice(&c.to_le_bytes()),
            None => out[15] = 0x80,
        }
        let body = &mut out[HEADER..];
        for (i, &v) in self.registers.iter().enumerate() {
            let byte = i * BITS / 8;
            let fb = (i * BITS) & 7;
            let v = u16::from(v) << fb;
            body[byte] |= (v & 0xff) as u8;
            if let Some(next) = body.get_mut(byte + 1) {
                *next |= (v >> 8) as u8;
            }
        }
        out
    }

    /// Add one element; `true` if a register grew.
    fn add(&mut self, element: &[u8]) -> bool {
        let (index, rank) = register_and_rank(element);
        if self.registers[index] < rank {
            self.registers[index] = rank;
            self.cached = None;
            true
        } else {
            false
        }
    }

    fn merge(&mut self, other: &Hll) {
        for (a, b) in self.registers.iter_mut().zip(&other.registers) {
            *a = (*a).max(*b);
        }
        self.cached = None;
    }

    /// The estimate, as Redis 7 computes it.
    fn count(&self) -> u64 {
        let m = REGISTERS as f64;
        let mut histogram = [0u32; 64];
        for &r in &self.registers {
            histogram[usize::from(r)] += 1;
        }
        let mut z = m * tau((m - f64::from(histogram[Q as usize + 1])) / m);
        for j in (1..=Q as usize).rev() {
            z += f64::from(histogram[j]);
            z *= 0.5;
        }
        z += m * sigma(f64::from(histogram[0]) / m);
        (ALPHA_INF * m * m / z).round() as u64
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

/// The HyperLogLog at `key`: `Ok(None)` when missing, WRONGTYPE errors for other values.
fn load(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<Hll>, Value> {
    match super::read(ctx, key, |d| match d {
        Data::Str(s) => Some(s.clone()),
        _ => None,
    })? {
        None => Ok(None),
        Some(bytes) => Hll::parse(&bytes).map(Some).ok_or_else(not_hll),
    }
}

fn save(ctx: &mut Ctx<'_>, key: &Bytes, hll: &Hll) {
    let now = ctx.now;
    ctx.db().set_keep_ttl_as(
        key.clone(),
        Data::Str(Bytes::from(hll.to_bytes())),
        now,
        StrEnc::Raw,
    );
}

pub(crate) fn pfadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let (mut hll, created) = match load(ctx, &args[1])? {
        Some(h) => (h, false),
        None => (Hll::empty(), true),
    };
    let mut changed = created;
    for element in &args[2..] {
        changed |= hll.add(element);
    }
    if changed {
        save(ctx, &args[1], &hll);
    }
    Ok(int(u8::from(changed)))
}

pub(crate) fn pfcount(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        let Some(mut hll) = load(ctx, &args[1])? else {
            return Ok(int(0));
        };
        if let Some(c) = hll.cached {
            return Ok(int(c));
        }
        // Like Redis, remember the count in the value's header.
        let n = hll.count();
        hll.cached = Some(n);
        save(ctx, &args[1], &hll);
        return Ok(int(n));
    }
    let mut union = Hll::empty();
    for key in &args[1..] {
        if let Some(h) = load(ctx, key)? {
            union.merge(&h);
        }
    }
    Ok(int(union.count()))
}

pub(crate) fn pfmerge(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    let mut merged = load(ctx, &args[1])?.unwrap_or_else(Hll::empty);
    for key in &args[2..] {
        if let Some(h) = load(ctx, key)? {
            merged.merge(&h);
        }
    }
    merged.cached = None;
    save(ctx, &args[1], &merged);
    ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_matches_known_values() {
        // MurmurHash64A reference values (seed 0).
        assert_eq!(murmur64a(b"", 0), 0);
        assert_ne!(murmur64a(b"a", 0xadc8_3b19), murmur64a(b"b", 0xadc8_3b19));
    }

    #[test]
    fn dense_format_round_trips() {
        let mut h = Hll::empty();
        for i in 0..5000 {
            h.add(format!("e{i}").as_bytes());
        }
        let back = Hll::parse(&h.to_bytes()).unwrap();
        assert_eq!(back.registers, h.registers);
        assert_eq!(back.cached, None);
    }

    #[test]
    fn a_million_distinct_items_count_within_two_percent() {
        let mut h = Hll::empty();
        for i in 0..1_000_000u32 {
            h.add(&i.to_le_bytes());
        }
        let n = h.count() as f64;
        assert!((n - 1e6).abs() / 1e6 < 0.02, "{n}");
    }
}
