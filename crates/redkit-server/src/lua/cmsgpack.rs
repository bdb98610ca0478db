//! `cmsgpack`: lua-cmsgpack 0.4.0 as Redis vendors it — `pack`, `unpack`, `unpack_one`, `unpack_limit`, with its
//! choices (integral numbers as the smallest integer, others as a float when exact else a double, tables as arrays
//! when their keys are exactly 1..n, nesting past 16 levels packed as nil) and its refusals (truncated input is
//! "Missing bytes in input.", unknown types "Bad data format in input."). Declared lengths are never allocated up
//! front: a huge one simply runs out of input.

use mlua::{Lua, Table, Value as LuaValue};

use super::support::{
    LibFn, LibResult, NESTING_CAP, Raise, arg_error, c_i64, check_bytes, check_integer, opt_integer, results,
};

/// lua-cmsgpack's `LUACMSGPACK_MAX_NESTING`.
const MAX_NESTING: usize = 16;

/// The most values one call may return (Redis's Lua stack holds 8000 slots).
const MAX_RESULTS: usize = 7990;

fn encode_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_number(out: &mut Vec<u8>, n: f64) {
    if !n.is_infinite() && !n.is_nan() && c_i64(n) as f64 == n {
        encode_int(out, c_i64(n));
    } else if f64::from(n as f32) == n {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn header(out: &mut Vec<u8>, n: usize, fix: u8, fix_max: usize, c16: u8, c32: u8) {
    if n <= fix_max {
        out.push(fix | n as u8);
    } else if n <= 0xffff {
        out.push(c16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(c32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn encode_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// `table_is_an_array`: every key a positive integer (fitting an `int`), and the largest equal to their count.
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0f64, 0f64);
    for pair in t.pairs::<LuaValue, LuaValue>() {
        let (k, _) = pair?;
        let n = match k {
            LuaValue::Integer(i) => i as f64,
            LuaValue::Number(n) => n,
            _ => return Ok(false),
        };
        if n <= 0.0 || n.is_infinite() || n.is_nan() || n > f64::from(i32::MAX) || n.trunc() != n {
            return Ok(false);
        }
        max = f64::max(max, n);
        count += 1.0;
    }
    Ok(max == count)
}

/// Bounds on one `cmsgpack.pack` call, which runs outside the Lua allocator's limit and out of reach of the
/// instruction hook (SCRIPT KILL cannot stop it): the output's length, and the values visited — a table holding
/// itself 64 times would otherwise expand to 64^16 nodes (Redis packs it until the end of time).
const MAX_PACKED: usize = super::support::MEMORY_LIMIT;
const MAX_PACKED_VALUES: usize = 1 << 22;

/// What one pack may still spend.
struct Budget {
    values: usize,
}

fn encode(out: &mut Vec<u8>, v: &LuaValue, level: usize, budget: &mut Budget) -> mlua::Result<()> {
    budget.values = budget.values.saturating_sub(1);
    if out.len() > MAX_PACKED || budget.values == 0 {
        return Err(mlua::Error::MemoryError("not enough memory".into()));
    }
    match v {
        LuaValue::String(s) => encode_bytes(out, &s.as_bytes()),
        LuaValue::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        LuaValue::Integer(i) => encode_number(out, *i as f64),
        LuaValue::Number(n) => encode_number(out, *n),
        LuaValue::Table(t) if level < MAX_NESTING => {
            if is_array(t)? {
                let len = t.raw_len();
                header(out, len, 0x90, 15, 0xdc, 0xdd);
                for i in 1..=len {
                    let item: LuaValue = t.raw_get(i)?;
                    encode(out, &item, level + 1, budget)?;
                }
            } else {
                let len = t.pairs::<LuaValue, LuaValue>().count();
                header(out, len, 0x80, 15, 0xde, 0xdf);
                for pair in t.pairs::<LuaValue, LuaValue>() {
                    let (k, item) = pair?;
                    encode(out, &k, level + 1, budget)?;
                    encode(out, &item, level + 1, budget)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

fn pack(lua: &Lua, args: Vec<LuaValue>) -> LibResult {
    if args.is_empty() {
        return Err(arg_error(lua, 0, "MessagePack pack needs input."));
    }
    let mut out = Vec::new();
    let mut budget = Budget {
        values: MAX_PACKED_VALUES,
    };
    for v in &args {
        encode(&mut out, v, 0, &mut budget)?;
    }
    results(vec![LuaValue::String(lua.create_string(&out)?)])
}

/// Why decoding stopped.
enum Fail {
    Eof,
    BadFormat,
    Raise(Raise),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Fail {
        Fail::Raise(Raise::Lua(e))
    }
}

/// What one msgpack item starts.
enum Item {
    Value(LuaValue),
    Array(usize),
    Map(usize),
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.at
    }

    fn need(&self, n: usize) -> Result<&[u8], Fail> {
        if self.left() < n {
            return Err(Fail::Eof);
        }
        Ok(&self.data[self.at..self.at + n])
    }

    fn be(&self, offset: usize, n: usize) -> Result<u64, Fail> {
        let bytes = self.need(offset + n)?;
        Ok(bytes[offset..]
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn item(&mut self, lua: &Lua) -> Result<Item, Fail> {
        let first = self.need(1)?[0];
        let num = |v: f64| Item::Value(LuaValue::Number(v));
        let (item, used) = match first {
            0xcc => (num(self.be(1, 1)? as f64), 2),
            0xd0 => (num(f64::from(self.be(1, 1)? as u8 as i8)), 2),
            0xcd => (num(self.be(1, 2)? as f64), 3),
            0xd1 => (num(f64::from(self.be(1, 2)? as u16 as i16)), 3),
            0xce => (num(self.be(1, 4)? as f64), 5),
            0xd2 => (num(f64::from(self.be(1, 4)? as u32 as i32)), 5),
            0xcf => (num(self.be(1, 8)? as f64), 9),
            0xd3 => (num(self.be(1, 8)? as i64 as f64), 9),
            0xc0 => (Item::Value(LuaValue::Nil), 1),
            0xc3 => (Item::Value(LuaValue::Boolean(true)), 1),
            0xc2 => (Item::Value(LuaValue::Boolean(false)), 1),
            0xca => (num(f64::from(f32::from_bits(self.be(1, 4)? as u32))), 5),
            0xcb => (num(f64::from_bits(self.be(1, 8)?)), 9),
            0xd9..=0xdb => {
                let width = match first {
                    0xd9 => 1,
                    0xda => 2,
                    _ => 4,
                };
                let len = self.be(1, width)? as usize;
                let bytes = self.need((1 + width).saturating_add(len))?;
                let s = lua.create_string(&bytes[1 + width..])?;
                (Item::Value(LuaValue::String(s)), 1 + width + len)
            }
            0xdc => (Item::Array(self.be(1, 2)? as usize), 3),
            0xdd => (Item::Array(self.be(1, 4)? as usize), 5),
            0xde => (Item::Map(self.be(1, 2)? as usize), 3),
            0xdf => (Item::Map(self.be(1, 4)? as usize), 5),
            b if b & 0x80 == 0 => (num(f64::from(b)), 1),
            b if b & 0xe0 == 0xe0 => (num(f64::from(b as i8)), 1),
            b if b & 0xe0 == 0xa0 => {
                let len = usize::from(b & 0x1f);
                let bytes = self.need(1 + len)?;
                let s = lua.create_string(&bytes[1..])?;
                (Item::Value(LuaValue::String(s)), 1 + len)
            }
            b if b & 0xf0 == 0x90 => (Item::Array(usize::from(b & 0xf)), 1),
            b if b & 0xf0 == 0x80 => (Item::Map(usize::from(b & 0xf)), 1),
            _ => return Err(Fail::BadFormat),
        };
        self.at += used;
        Ok(item)
    }
}

/// An open container while decoding: the table, how many items remain, and (arrays) the next index or (maps)
/// the key waiting for its value.
enum Open {
    Array(Table, usize, usize),
    Map(Table, usize, Option<LuaValue>),
}

/// `lua_settable` on a fresh table: a nil or NaN key is Lua's error.
fn set(t: &Table, key: LuaValue, value: LuaValue) -> Result<(), Fail> {
    match &key {
        LuaValue::Nil => return Err(Fail::Raise(Raise::Plain("table index is nil".into()))),
        LuaValue::Number(n) if n.is_nan() => {
            return Err(Fail::Raise(Raise::Plain("table index is NaN".into())));
        }
        _ => {}
    }
    t.raw_set(key, value)?;
    Ok(())
}

/// One top-level value.
fn decode(lua: &Lua, c: &mut Cursor<'_>) -> Result<LuaValue, Fail> {
    let mut stack: Vec<Open> = Vec::new();
    loop {
        if stack.len() >= NESTING_CAP {
            let what = match stack.last() {
                Some(Open::Array(..)) => "in function mp_decode_to_lua_array",
                _ => "too many return values at once; use unpack_one or unpack_limit instead.",
            };
            return Err(Fail::Raise(Raise::At(format!("stack overflow ({what})"))));
        }
        let mut value = match c.item(lua)? {
            Item::Value(v) => v,
            Item::Array(0) | Item::Map(0) => LuaValue::Table(lua.create_table()?),
            Item::Array(n) => {
                stack.push(Open::Array(lua.create_table()?, 1, n));
                continue;
            }
            Item::Map(n) => {
                stack.push(Open::Map(lua.create_table()?, n, None));
                continue;
            }
        };
        loop {
            match stack.last_mut() {
                None => return Ok(value),
                Some(Open::Array(t, index, left)) => {
                    set(t, LuaValue::Number(*index as f64), value)?;
                    *index += 1;
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                }
                Some(Open::Map(t, left, key)) => match key.take() {
                    None => {
                        *key = Some(value);
                        break;
                    }
                    Some(k) => {
                        set(t, k, value)?;
                        *left -= 1;
                        if *left > 0 {
                            break;
                        }
                    }
                },
            }
            value = match stack.pop() {
                Some(Open::Array(t, ..)) | Some(Open::Map(t, ..)) => LuaValue::Table(t),
                None => LuaValue::Nil,
            };
        }
    }
}

/// `mp_unpack_full`: up to `limit` values from `offset` (both 0: all of them, without the offset result).
fn unpack_full(lua: &Lua, data: &[u8], limit: i64, offset: i64) -> LibResult {
    let decode_all = limit == 0 && offset == 0;
    let len = data.len() as i64;
    if offset < 0 || limit < 0 {
        return Err(Raise::At(format!(
            "Invalid request to unpack with offset of {offset} and limit of {len}."
        )));
    } else if offset > len {
        return Err(Raise::At(format!(
            "Start offset {offset} greater than input length {len}."
        )));
    }
    let limit = if decode_all { i64::from(i32::MAX) } else { limit };
    let mut c = Cursor {
        data,
        at: offset as usize,
    };
    let mut out = Vec::new();
    let mut count = 0;
    while c.left() > 0 && count < limit {
        if out.len() >= MAX_RESULTS {
            return Err(Raise::At(
                "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
                    .into(),
            ));
        }
        match decode(lua, &mut c) {
            Ok(v) => out.push(v),
            Err(Fail::Eof) => return Err(Raise::At("Missing bytes in input.".into())),
            Err(Fail::BadFormat) => return Err(Raise::At("Bad data format in input.".into())),
            Err(Fail::Raise(r)) => return Err(r),
        }
        count += 1;
    }
    if !decode_all {
        let next = if c.left() == 0 { -1 } else { c.at as i64 };
        out.insert(0, LuaValue::Number(next as f64));
    }
    results(out)
}

/// The `cmsgpack` table.
pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let functions: Vec<(&'static str, LibFn)> = vec![
        ("pack", Box::new(pack)),
        (
            "unpack",
            Box::new(|lua, args| {
                let data = check_bytes(lua, &args, 1)?;
                unpack_full(lua, &data, 0, 0)
            }),
        ),
        (
            "unpack_one",
            Box::new(|lua, args| {
                let offset = i64::from(opt_integer(lua, &args, 2, 0)? as i32);
                let data = check_bytes(lua, &args, 1)?;
                unpack_full(lua, &data, 1, offset)
            }),
        ),
        (
            "unpack_limit",
            Box::new(|lua, args| {
                let limit = i64::from(check_integer(lua, &args, 2)? as i32);
                let offset = i64::from(opt_integer(lua, &args, 3, 0)? as i32);
                let data = check_bytes(lua, &args, 1)?;
                unpack_full(lua, &data, limit, offset)
            }),
        ),
    ];
    let t = super::support::library(lua, functions)?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{eval, state};

    const HEX: &str = "local function hex(s) return (string.gsub(s, '.', function(c) return string.format('%02x', c:byte()) end)) end ";

    #[test]
    fn pack_matches_redis() {
        let lua = state();
        assert_eq!(
            eval(
                &lua,
                &format!(
                    "{HEX} return hex(cmsgpack.pack({{1,2,{{a=1}}}}, 1.5, 0.1, -1, -33, 300, 2^40, -2^40, 'x', true, nil, function() end))"
                )
            ),
            [
                "930102",
                "81a16101",
                "ca3fc00000",
                "cb3fb999999999999a",
                "ff",
                "d0df",
                "cd012c",
                "cf0000010000000000",
                "d3ffffff0000000000",
                "a178",
                "c3",
                "c0",
                "c0",
            ]
            .concat()
        );
        assert_eq!(
            eval(
                &lua,
                &format!("{HEX} local t = {{}} t[1] = t return hex(cmsgpack.pack(t))")
            ),
            format!("{}c0", "91".repeat(16))
        );
        assert_eq!(
            eval(
                &lua,
                &format!("{HEX} return hex(cmsgpack.pack(string.rep('a', 40))):sub(1, 4)")
            ),
            "d928"
        );
        assert_eq!(
            eval(&lua, "return cmsgpack.pack()"),
            "error: user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"
        );
    }

    #[test]
    fn unpack_matches_redis() {
        let lua = state();
        let cases = [
            (
                "table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}, ',')",
                "1,1",
            ),
            (
                "table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}, ',')",
                "2,2",
            ),
            (
                "table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}, ',')",
                "2,1,2",
            ),
            (
                "table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}, ',')",
                "-1",
            ),
            ("select('#', cmsgpack.unpack(''))", "0"),
            ("cmsgpack.unpack(cmsgpack.pack({a = {1, 2, 'x'}})).a[3]", "x"),
            ("cmsgpack.unpack(cmsgpack.pack(-2^40))", "-1099511627776"),
            ("cmsgpack.unpack(cmsgpack.pack(0.1))", "0.1"),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, &format!("return {code}")), want, "{code}");
        }
        let errors = [
            (
                "cmsgpack.unpack('\\221\\255\\255\\255\\255')",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "cmsgpack.unpack('\\219\\255\\255\\255\\255abc')",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "cmsgpack.unpack('\\223\\255\\255\\255\\255')",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "cmsgpack.unpack('\\193')",
                "user_script:1: Bad data format in input.",
            ),
            (
                "cmsgpack.unpack('\\196\\2ab')",
                "user_script:1: Bad data format in input.",
            ),
            ("cmsgpack.unpack('\\129\\192\\1')", "table index is nil"),
            (
                "cmsgpack.unpack(string.rep('\\145', 10000))",
                "user_script:1: stack overflow (in function mp_decode_to_lua_array)",
            ),
            (
                "cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 99)",
                "user_script:1: Start offset 99 greater than input length 3.",
            ),
            (
                "cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)",
                "user_script:1: Invalid request to unpack with offset of 0 and limit of 3.",
            ),
            (
                "cmsgpack.unpack()",
                "user_script:1: bad argument #1 to 'unpack' (string expected, got no value)",
            ),
        ];
        for (code, want) in errors {
            assert_eq!(
                eval(&lua, &format!("return {code}")),
                format!("error: {want}"),
                "{code}"
            );
        }
    }
}
