//! `struct`: Roberto Ierusalimschy's struct library (0.2) as Redis vendors it — `pack`, `unpack` and `size` of
//! binary records on a 64-bit little-endian machine (`long` and `size_t` of 8 bytes, `int` of 4, alignment up to 8).

use mlua::{Lua, Table, Value as LuaValue};

use super::support::{
    LibResult, Raise, arg_error, check_bytes, check_number, opt_integer, results, to_number,
};

const MAXINTSIZE: usize = 32;
const MAXALIGN: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endian {
    Big,
    Little,
}

struct Header {
    endian: Endian,
    align: usize,
}

impl Header {
    fn new() -> Header {
        Header {
            endian: Endian::Little,
            align: 1,
        }
    }
}

/// A format string being read.
struct Format<'a> {
    fmt: &'a [u8],
    at: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = self.fmt.get(self.at).copied()?;
        if c == 0 {
            return None;
        }
        self.at += 1;
        Some(c)
    }

    /// `getnum`: a decimal count after an option, or `default`.
    fn number(&mut self, default: usize) -> Result<usize, Raise> {
        if !self.fmt.get(self.at).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i64 = 0;
        while let Some(d) = self.fmt.get(self.at).filter(|c| c.is_ascii_digit()) {
            let d = i64::from(d - b'0');
            if a > i64::from(i32::MAX) / 10 || a * 10 > i64::from(i32::MAX) - d {
                return Err(Raise::At("integral size overflow".into()));
            }
            a = a * 10 + d;
            self.at += 1;
        }
        Ok(a as usize)
    }

    /// `optsize`: the size of option `opt` (reading its count).
    fn size(&mut self, opt: u8) -> Result<usize, Raise> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' | b'x' => {
                if opt == b'f' {
                    4
                } else {
                    1
                }
            }
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let size = self.number(4)?;
                if size > MAXINTSIZE {
                    return Err(Raise::At(format!(
                        "integral size {size} is larger than limit of {MAXINTSIZE}"
                    )));
                }
                size
            }
            _ => 0,
        })
    }

    /// `controloptions`: endianness, alignment and spaces; anything else is an invalid option.
    fn control(&mut self, lua: &Lua, opt: u8, h: &mut Header) -> Result<(), Raise> {
        match opt {
            b' ' => {}
            b'>' => h.endian = Endian::Big,
            b'<' => h.endian = Endian::Little,
            b'!' => {
                let a = self.number(MAXALIGN)?;
                if !a.is_power_of_two() {
                    return Err(Raise::At(format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            other => {
                return Err(arg_error(
                    lua,
                    1,
                    &format!("invalid format option '{}'", other as char),
                ));
            }
        }
        Ok(())
    }
}

/// `gettoalign`: padding before an item of `size` at `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn is_integer_option(opt: u8) -> bool {
    matches!(opt, b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I')
}

fn pack(lua: &Lua, args: Vec<LuaValue>) -> LibResult {
    let fmt = check_bytes(lua, &args, 1)?;
    let mut f = Format { fmt: &fmt, at: 0 };
    let mut h = Header::new();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            o if is_integer_option(o) => {
                let n = check_number(lua, &args, arg)?;
                arg += 1;
                let mut value: u64 = if n < 0.0 {
                    super::support::c_i64(n) as u64
                } else if n >= 18_446_744_073_709_551_616.0 || n.is_nan() {
                    0
                } else {
                    n as u64
                };
                let mut bytes = vec![0u8; size];
                for b in bytes.iter_mut() {
                    *b = (value & 0xff) as u8;
                    value = value.checked_shr(8).unwrap_or(0);
                }
                if h.endian == Endian::Big {
                    bytes.reverse();
                }
                out.extend_from_slice(&bytes);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = check_number(lua, &args, arg)? as f32;
                arg += 1;
                out.extend_from_slice(&match h.endian {
                    Endian::Big => v.to_be_bytes(),
                    Endian::Little => v.to_le_bytes(),
                });
            }
            b'd' => {
                let v = check_number(lua, &args, arg)?;
                arg += 1;
                out.extend_from_slice(&match h.endian {
                    Endian::Big => v.to_be_bytes(),
                    Endian::Little => v.to_le_bytes(),
                });
            }
            b'c' | b's' => {
                let s = check_bytes(lua, &args, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(arg_error(lua, arg, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            _ => f.control(lua, opt, &mut h)?,
        }
    }
    results(vec![LuaValue::String(lua.create_string(&out)?)])
}

/// `getinteger`: `size` bytes as a number, sign-extended for the signed options.
fn get_integer(bytes: &[u8], endian: Endian, signed: bool) -> f64 {
    let mut l: u64 = 0;
    let mut push = |b: u8| {
        l = l.wrapping_shl(8) | u64::from(b);
    };
    match endian {
        Endian::Big => bytes.iter().for_each(|&b| push(b)),
        Endian::Little => bytes.iter().rev().for_each(|&b| push(b)),
    }
    if !signed {
        return l as f64;
    }
    let shift = (bytes.len() * 8).wrapping_sub(1) as u32;
    let mask = u64::MAX.wrapping_shl(shift);
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn unpack(lua: &Lua, args: Vec<LuaValue>) -> LibResult {
    let fmt = check_bytes(lua, &args, 1)?;
    let data = check_bytes(lua, &args, 2)?;
    let start = opt_integer(lua, &args, 3, 1)?;
    if start <= 0 {
        return Err(arg_error(lua, 3, "offset must be 1 or greater"));
    }
    let ld = data.len();
    let mut pos = (start - 1) as usize;
    let mut f = Format { fmt: &fmt, at: 0 };
    let mut h = Header::new();
    let mut out: Vec<LuaValue> = Vec::new();
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos = pos.saturating_add(to_align(pos, &h, opt, size));
        let short = |size: usize, pos: usize| size > ld || pos > ld - size;
        if short(size, pos) {
            return Err(arg_error(lua, 2, "data string too short"));
        }
        if out.len() > super::support::NESTING_CAP {
            return Err(Raise::At("stack overflow (too many results)".into()));
        }
        match opt {
            o if is_integer_option(o) => {
                let signed = o.is_ascii_lowercase();
                out.push(LuaValue::Number(get_integer(
                    &data[pos..pos + size],
                    h.endian,
                    signed,
                )));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                let v = match h.endian {
                    Endian::Big => f32::from_be_bytes(b),
                    Endian::Little => f32::from_le_bytes(b),
                };
                out.push(LuaValue::Number(f64::from(v)));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                let v = match h.endian {
                    Endian::Big => f64::from_be_bytes(b),
                    Endian::Little => f64::from_le_bytes(b),
                };
                out.push(LuaValue::Number(v));
            }
            b'c' => {
                if size == 0 {
                    let previous = out.last().and_then(to_number);
                    let Some(n) = previous else {
                        return Err(Raise::At("format 'c0' needs a previous size".into()));
                    };
                    out.pop();
                    size = if n <= 0.0 { 0 } else { n as usize };
                    if short(size, pos) {
                        return Err(arg_error(lua, 2, "data string too short"));
                    }
                }
                out.push(LuaValue::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(end) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(Raise::At("unfinished string in data".into()));
                };
                out.push(LuaValue::String(lua.create_string(&data[pos..pos + end])?));
                size = end + 1;
            }
            _ => f.control(lua, opt, &mut h)?,
        }
        pos += size;
    }
    out.push(LuaValue::Number((pos + 1) as f64));
    results(out)
}

fn size(lua: &Lua, args: Vec<LuaValue>) -> LibResult {
    let fmt = check_bytes(lua, &args, 1)?;
    let mut f = Format { fmt: &fmt, at: 0 };
    let mut h = Header::new();
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(arg_error(lua, 1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control(lua, opt, &mut h)?;
        }
        pos += size;
    }
    results(vec![LuaValue::Number(pos as f64)])
}

/// The `struct` table.
pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    super::support::library(
        lua,
        vec![
            ("pack", Box::new(pack) as super::support::LibFn),
            ("unpack", Box::new(unpack)),
            ("size", Box::new(size)),
        ],
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{eval, state};

    #[test]
    fn struct_matches_redis() {
        let lua = state();
        let cases = [
            ("struct.size('!8bd')", "16"),
            ("struct.size('bd')", "9"),
            ("struct.size('i16')", "16"),
            ("struct.size('z')", "0"),
            ("table.concat({struct.unpack('>i2', '\\255\\254')}, ',')", "-2,3"),
            ("table.concat({struct.unpack('bc0', '\\3abc')}, ',')", "abc,5"),
            ("(struct.unpack('>d', struct.pack('>d', 1.5)))", "1.5"),
            (
                "(string.gsub(struct.pack('>!4bi<hs', 1, 2, 3, 'xy'), '.', function(c) return string.format('%02x', c:byte()) end))",
                "01000000000000020300787900",
            ),
            ("(struct.unpack('<I', struct.pack('<i', -1)))", "4294967295"),
            ("(struct.unpack('<l', struct.pack('<l', -5)))", "-5"),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, &format!("return {code}")), want, "{code}");
        }
        let errors = [
            (
                "struct.size('s')",
                "bad argument #1 to 'size' (option 's' has no fixed size)",
            ),
            (
                "struct.pack('z')",
                "bad argument #1 to 'pack' (invalid format option 'z')",
            ),
            ("struct.pack('!3i')", "alignment 3 is not a power of 2"),
            (
                "struct.pack('i33')",
                "integral size 33 is larger than limit of 32",
            ),
            ("struct.pack('i99999999999', 1)", "integral size overflow"),
            (
                "struct.pack('c5', 'ab')",
                "bad argument #3 to 'pack' (string too short)",
            ),
            (
                "struct.unpack('c0', '\\3abc')",
                "format 'c0' needs a previous size",
            ),
            ("struct.unpack('s', 'abc')", "unfinished string in data"),
            (
                "struct.unpack('i', 'ab')",
                "bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "struct.unpack('b', 'ab', 0)",
                "bad argument #3 to 'unpack' (offset must be 1 or greater)",
            ),
            (
                "struct.pack('>i', 'x')",
                "bad argument #2 to 'pack' (number expected, got string)",
            ),
        ];
        for (code, want) in errors {
            assert_eq!(
                eval(&lua, &format!("return {code}")),
                format!("error: user_script:1: {want}"),
                "{code}"
            );
        }
    }
}
