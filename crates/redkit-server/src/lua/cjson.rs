//! `cjson`: Lua CJSON 2.1.0 as Redis vendors it — `encode`/`decode` with its number formatting (`%.14g`), its
//! array/object rules (an empty table is `{}`, excessively sparse arrays are an error), `cjson.null`, its escapes
//! (`/` as `\/`), its error texts, and its settings (`encode_max_depth`/`decode_max_depth` 1000 by default, …).
//!
//! Settings persist across scripts, as in Redis (they live with the Lua state). One difference: nesting deeper than
//! the structure cap of this crate (4000 levels decoding, 2000 encoding, where Redis stops at its Lua stack of 8000
//! slots) is refused with the same "too many nested" / "excessive nesting" errors even if the depth setting is
//! raised above it.

use std::sync::{Arc, Mutex};

use mlua::{LightUserData, Lua, Table, Value as LuaValue};

use super::support::{
    LibFn, LibResult, NESTING_CAP, Raise, arg_error, check_bytes, check_integer, results, type_error,
};

/// The deepest table `encode` walks, whatever `encode_max_depth` says.
const ENCODE_CAP: usize = NESTING_CAP / 2;

/// A `cjson` instance's settings.
#[derive(Debug, Clone)]
struct Config {
    sparse_convert: bool,
    sparse_ratio: i64,
    sparse_safe: i64,
    encode_max_depth: i64,
    decode_max_depth: i64,
    /// 0 refuses NaN and infinities, 1 encodes them (`nan`, `inf`), 2 encodes them as `null`.
    encode_invalid_numbers: i64,
    decode_invalid_numbers: bool,
    keep_buffer: bool,
    precision: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: true,
            keep_buffer: true,
            precision: 14,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

fn config(shared: &Shared) -> Config {
    shared.lock().map(|c| c.clone()).unwrap_or_default()
}

fn update(shared: &Shared, f: impl FnOnce(&mut Config)) {
    if let Ok(mut c) = shared.lock() {
        f(&mut c);
    }
}

/// `cjson.null`: a light userdata holding NULL, as in C.
fn null() -> LuaValue {
    LuaValue::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// The `cjson` table (`cjson.new()` makes another with its own settings).
pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let t = instance(lua)?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

fn instance(lua: &Lua) -> mlua::Result<Table> {
    let shared: Shared = Arc::new(Mutex::new(Config::default()));
    let s = || shared.clone();
    let functions: Vec<(&'static str, LibFn)> = vec![
        ("encode", {
            let shared = s();
            let encoder: mlua::Function = lua.load(ENCODER).set_name("=[C]").call(null())?;
            Box::new(move |lua, args| encode_fn(lua, &encoder, &config(&shared), &args))
        }),
        ("decode", {
            let shared = s();
            Box::new(move |lua, args| decode_fn(lua, &config(&shared), &args))
        }),
        ("encode_sparse_array", {
            let shared = s();
            Box::new(move |lua, args| {
                arg_count(lua, &args, 3)?;
                let mut c = config(&shared);
                enum_option(lua, &args, 1, &mut c.sparse_convert)?;
                integer_option(lua, &args, 2, &mut c.sparse_ratio, 0, i64::from(i32::MAX))?;
                integer_option(lua, &args, 3, &mut c.sparse_safe, 0, i64::from(i32::MAX))?;
                let out = vec![
                    LuaValue::Boolean(c.sparse_convert),
                    LuaValue::Number(c.sparse_ratio as f64),
                    LuaValue::Number(c.sparse_safe as f64),
                ];
                update(&shared, |cfg| *cfg = c);
                results(out)
            })
        }),
        ("encode_max_depth", {
            let shared = s();
            Box::new(move |lua, args| {
                arg_count(lua, &args, 1)?;
                let mut c = config(&shared);
                integer_option(lua, &args, 1, &mut c.encode_max_depth, 1, i64::from(i32::MAX))?;
                let v = c.encode_max_depth;
                update(&shared, |cfg| *cfg = c);
                results(vec![LuaValue::Number(v as f64)])
            })
        }),
        ("decode_max_depth", {
            let shared = s();
            Box::new(move |lua, args| {
                arg_count(lua, &args, 1)?;
                let mut c = config(&shared);
                integer_option(lua, &args, 1, &mut c.decode_max_depth, 1, i64::from(i32::MAX))?;
                let v = c.decode_max_depth;
                update(&shared, |cfg| *cfg = c);
                results(vec![LuaValue::Number(v as f64)])
            })
        }),
        ("encode_number_precision", {
            let shared = s();
            Box::new(move |lua, args| {
                arg_count(lua, &args, 1)?;
                let mut c = config(&shared);
                let mut p = c.precision as i64;
                integer_option(lua, &args, 1, &mut p, 1, 14)?;
                c.precision = p as usize;
                update(&shared, |cfg| *cfg = c);
                results(vec![LuaValue::Number(p as f64)])
            })
        }),
        ("encode_keep_buffer", {
            let shared = s();
            Box::new(move |lua, args| {
                arg_count(lua, &args, 1)?;
                let mut c = config(&shared);
                enum_option(lua, &args, 1, &mut c.keep_buffer)?;
                let v = c.keep_buffer;
                update(&shared, |cfg| *cfg = c);
                results(vec![LuaValue::Boolean(v)])
            })
        }),
        ("encode_invalid_numbers", {
            let shared = s();
            Box::new(move |lua, args| {
                arg_count(lua, &args, 1)?;
                let mut c = config(&shared);
                if !matches!(args.first(), None | Some(LuaValue::Nil)) {
                    c.encode_invalid_numbers = match args.first() {
                        Some(LuaValue::Boolean(b)) => i64::from(*b),
                        _ => check_option(lua, &args, 1, &["off", "on", "null"])? as i64,
                    };
                }
                let v = match c.encode_invalid_numbers {
                    0 => LuaValue::Boolean(false),
                    1 => LuaValue::Boolean(true),
                    _ => LuaValue::String(lua.create_string("null")?),
                };
                update(&shared, |cfg| *cfg = c);
                results(vec![v])
            })
        }),
        ("decode_invalid_numbers", {
            let shared = s();
            Box::new(move |lua, args| {
                arg_count(lua, &args, 1)?;
                let mut c = config(&shared);
                enum_option(lua, &args, 1, &mut c.decode_invalid_numbers)?;
                let v = c.decode_invalid_numbers;
                update(&shared, |cfg| *cfg = c);
                results(vec![LuaValue::Boolean(v)])
            })
        }),
        (
            "new",
            Box::new(|lua, _| results(vec![LuaValue::Table(instance(lua)?)])),
        ),
    ];
    let t = super::support::library(lua, functions)?;
    t.raw_set("null", null())?;
    Ok(t)
}

/// `json_arg_init`: at most `n` arguments.
fn arg_count(lua: &Lua, args: &[LuaValue], n: usize) -> Result<(), Raise> {
    if args.len() > n {
        return Err(arg_error(lua, n + 1, "found too many arguments"));
    }
    Ok(())
}

/// `luaL_checkoption`.
fn check_option(lua: &Lua, args: &[LuaValue], narg: usize, options: &[&str]) -> Result<usize, Raise> {
    let name = check_bytes(lua, args, narg)?;
    options
        .iter()
        .position(|o| o.as_bytes() == name.as_slice())
        .ok_or_else(|| {
            arg_error(
                lua,
                narg,
                &format!("invalid option '{}'", String::from_utf8_lossy(&name)),
            )
        })
}

/// `json_enum_option` for an on/off setting: a boolean, or "on"/"off".
fn enum_option(lua: &Lua, args: &[LuaValue], narg: usize, setting: &mut bool) -> Result<(), Raise> {
    match args.get(narg - 1) {
        None | Some(LuaValue::Nil) => {}
        Some(LuaValue::Boolean(b)) => *setting = *b,
        Some(_) => *setting = check_option(lua, args, narg, &["off", "on"])? == 1,
    }
    Ok(())
}

/// `json_integer_option`: an integer within `min..=max` (a bad one is reported as argument 1, as in C).
fn integer_option(
    lua: &Lua,
    args: &[LuaValue],
    narg: usize,
    setting: &mut i64,
    min: i64,
    max: i64,
) -> Result<(), Raise> {
    if matches!(args.get(narg - 1), None | Some(LuaValue::Nil)) {
        return Ok(());
    }
    let value = i64::from(check_integer(lua, args, narg)? as i32);
    if value < min || value > max {
        return Err(arg_error(
            lua,
            1,
            &format!("expected integer between {min} and {max}"),
        ));
    }
    *setting = value;
    Ok(())
}

// ===== Encoding =====

/// The encoder, in Lua: it walks tables with `next` (so keys come in Lua's order, as in C) and recurses on Lua's
/// own stack, not the machine's; numbers go through `string.format`, which is C's `%.14g`. It returns the text,
/// or nil and the error.
const ENCODER: &str = r#"
local NULL = ...
local type, next, rawget, tostring, format, gsub, concat, floor, huge, pcall, error =
    type, next, rawget, tostring, string.format, string.gsub, table.concat, math.floor, math.huge, pcall, error
local escapes = {}
for i = 0, 31 do escapes[string.char(i)] = format('\\u%04x', i) end
escapes['\b'], escapes['\t'], escapes['\n'], escapes['\f'], escapes['\r'] = '\\b', '\\t', '\\n', '\\f', '\\r'
escapes['"'], escapes['\\'], escapes['/'], escapes['\127'] = '\\"', '\\\\', '\\/', '\\u007f'
local FAIL = {}
return function(value, maxdepth, precision, invalid, ratio, safe, convert)
    local fmt = '%.' .. precision .. 'g'
    local buf, n, failure = {}, 0, nil
    local function fail(msg) failure = msg error(FAIL) end
    local function put(s) n = n + 1 buf[n] = s end
    local function str(s) return '"' .. (gsub(s, '[%c"\\/]', escapes)) .. '"' end
    local function number(v)
        if v ~= v or v == huge or v == -huge then
            if invalid == 0 then fail('Cannot serialise number: must not be NaN or Inf') end
            if invalid == 2 then return 'null' end
            if v ~= v then return 'nan' end
        end
        return format(fmt, v)
    end
    local function encode(v, depth)
        local t = type(v)
        if t == 'string' then put(str(v))
        elseif t == 'number' then put(number(v))
        elseif t == 'boolean' then put(v and 'true' or 'false')
        elseif t == 'nil' then put('null')
        elseif t == 'table' then
            depth = depth + 1
            if depth > maxdepth then fail('Cannot serialise, excessive nesting (' .. depth .. ')') end
            local max, items, array = 0, 0, true
            for k in next, v do
                if type(k) == 'number' and k ~= 0 and floor(k) == k and k >= 1 then
                    if k > max then max = k end
                    items = items + 1
                else
                    array = false
                    break
                end
            end
            if array and ratio > 0 and max > items * ratio and max > safe then
                if not convert then fail('Cannot serialise table: excessively sparse array') end
                array = false
            end
            if array and max > 0 then
                put('[')
                for i = 1, max do
                    if i > 1 then put(',') end
                    encode(rawget(v, i), depth)
                end
                put(']')
            else
                put('{')
                local comma = false
                for k, x in next, v do
                    if comma then put(',') end
                    comma = true
                    local tk = type(k)
                    if tk == 'number' then put('"' .. number(k) .. '":')
                    elseif tk == 'string' then put(str(k) .. ':')
                    else fail('Cannot serialise ' .. tk .. ': table key must be a number or string') end
                    encode(x, depth)
                end
                put('}')
            end
        elseif v == NULL then put('null')
        else fail('Cannot serialise ' .. t .. ': type not supported') end
    end
    local ok, e = pcall(encode, value, 0)
    if ok then return concat(buf) end
    if e == FAIL then return nil, failure end
    return nil, tostring(e)
end
"#;

fn encode_fn(lua: &Lua, encoder: &mlua::Function, cfg: &Config, args: &[LuaValue]) -> LibResult {
    if args.len() != 1 {
        return Err(arg_error(lua, 1, "expected 1 argument"));
    }
    let max_depth = cfg.encode_max_depth.min(ENCODE_CAP as i64);
    let (text, failure): (LuaValue, Option<String>) = encoder.call((
        args[0].clone(),
        max_depth,
        cfg.precision,
        cfg.encode_invalid_numbers,
        cfg.sparse_ratio,
        cfg.sparse_safe,
        cfg.sparse_convert,
    ))?;
    match failure {
        Some(message) => Err(Raise::At(message)),
        None => results(vec![text]),
    }
}

// ===== Decoding =====

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::Str => "T_STRING",
            Kind::Number => "T_NUMBER",
            Kind::Boolean => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: Kind,
    index: usize,
    text: Vec<u8>,
    number: f64,
    boolean: bool,
    error: &'static str,
}

struct Parser<'a> {
    data: &'a [u8],
    ptr: usize,
    cfg: &'a Config,
    depth: i64,
}

/// `strtod` in the C locale: the length of the longest number at the start of `s`, and its value.
fn strtod(s: &[u8]) -> Option<(usize, f64)> {
    let mut i = 0;
    let negative = match s.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let rest = &s[i..];
    let lower: Vec<u8> = rest.iter().take(8).map(u8::to_ascii_lowercase).collect();
    let sign = |v: f64| if negative { -v } else { v };
    if lower.starts_with(b"infinity") {
        return Some((i + 8, sign(f64::INFINITY)));
    }
    if lower.starts_with(b"inf") {
        return Some((i + 3, sign(f64::INFINITY)));
    }
    if lower.starts_with(b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            let mut j = end + 1;
            while s.get(j).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                j += 1;
            }
            if s.get(j) == Some(&b')') {
                end = j + 1;
            }
        }
        return Some((end, sign(f64::NAN)));
    }
    if rest.len() > 2
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && (rest[2].is_ascii_hexdigit()
            || (rest[2] == b'.' && rest.get(3).is_some_and(u8::is_ascii_hexdigit)))
    {
        let mut j = 2;
        let mut value = 0f64;
        while let Some(d) = rest.get(j).and_then(|c| (*c as char).to_digit(16)) {
            value = value * 16.0 + f64::from(d);
            j += 1;
        }
        if rest.get(j) == Some(&b'.') {
            j += 1;
            let mut scale = 1.0 / 16.0;
            while let Some(d) = rest.get(j).and_then(|c| (*c as char).to_digit(16)) {
                value += f64::from(d) * scale;
                scale /= 16.0;
                j += 1;
            }
        }
        if rest.get(j).is_some_and(|c| (c | 0x20) == b'p') {
            let mut k = j + 1;
            let exp_negative = match rest.get(k) {
                Some(b'-') => {
                    k += 1;
                    true
                }
                Some(b'+') => {
                    k += 1;
                    false
                }
                _ => false,
            };
            let digits = k;
            let mut exp: i32 = 0;
            while let Some(d) = rest.get(k).filter(|c| c.is_ascii_digit()) {
                exp = exp.saturating_mul(10).saturating_add(i32::from(d - b'0'));
                k += 1;
            }
            if k > digits {
                value *= 2f64.powi(if exp_negative { -exp } else { exp });
                j = k;
            }
        }
        return Some((i + j, sign(value)));
    }
    let mut j = 0;
    let mut digits = 0;
    while rest.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
        digits += 1;
    }
    if rest.get(j) == Some(&b'.') {
        j += 1;
        while rest.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if rest.get(j).is_some_and(|c| (c | 0x20) == b'e') {
        let mut k = j + 1;
        if matches!(rest.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        if rest.get(k).is_some_and(u8::is_ascii_digit) {
            while rest.get(k).is_some_and(u8::is_ascii_digit) {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[..i + j]).ok()?;
    let text = text.strip_prefix('+').unwrap_or(text);
    text.parse::<f64>().ok().map(|v| (i + j, v))
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: Kind, index: usize) -> Token {
        Token {
            kind,
            index,
            text: Vec::new(),
            number: 0.0,
            boolean: false,
            error: "",
        }
    }

    fn error(&self, error: &'static str) -> Token {
        let mut t = self.token(Kind::Error, self.ptr);
        t.error = error;
        t
    }

    /// `json_is_invalid_number`: forms `strtod` takes but JSON does not.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        if self.at(p) == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        } else if self.at(p) <= b'9' {
            return false;
        }
        let word: Vec<u8> = (0..3).map(|k| self.at(p + k).to_ascii_lowercase()).collect();
        word == b"inf" || word == b"nan"
    }

    fn number(&mut self) -> Token {
        match strtod(&self.data[self.ptr.min(self.data.len())..]) {
            Some((len, v)) if len > 0 => {
                let mut t = self.token(Kind::Number, self.ptr);
                t.number = v;
                self.ptr += len;
                t
            }
            _ => self.error("invalid number"),
        }
    }

    fn string(&mut self) -> Token {
        let start = self.ptr;
        self.ptr += 1;
        let mut text = Vec::new();
        loop {
            let ch = self.at(self.ptr);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                return self.error("unexpected end of string");
            }
            if ch == b'\\' {
                let translated = match self.at(self.ptr + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b't' => b'\t',
                    b'n' => b'\n',
                    b'f' => 0x0c,
                    b'r' => b'\r',
                    b'u' => {
                        if self.unicode_escape(&mut text) {
                            continue;
                        }
                        return self.error("invalid unicode escape code");
                    }
                    _ => return self.error("invalid escape code"),
                };
                text.push(translated);
                self.ptr += 2;
                continue;
            }
            text.push(ch);
            self.ptr += 1;
        }
        self.ptr += 1;
        let mut t = self.token(Kind::Str, start);
        t.text = text;
        t
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for k in 0..4 {
            v = (v << 4) | (self.at(at + k) as char).to_digit(16)?;
        }
        Some(v)
    }

    /// `json_append_unicode_escape`: `\uXXXX` (or a surrogate pair) as UTF-8.
    fn unicode_escape(&mut self, text: &mut Vec<u8>) -> bool {
        let Some(mut cp) = self.hex4(self.ptr + 2) else {
            return false;
        };
        let mut len = 6;
        if cp & 0xF800 == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.ptr + 6) != b'\\' || self.at(self.ptr + 7) != b'u' {
                return false;
            }
            let Some(low) = self.hex4(self.ptr + 8) else {
                return false;
            };
            if low & 0xFC00 != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            len = 12;
        }
        match char::from_u32(cp) {
            Some(c) => {
                let mut buf = [0u8; 4];
                text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            None => {
                // A lone low surrogate: the three bytes C CJSON writes for it.
                text.push((0xE0 | (cp >> 12)) as u8);
                text.push((0x80 | ((cp >> 6) & 0x3F)) as u8);
                text.push((0x80 | (cp & 0x3F)) as u8);
            }
        }
        self.ptr += len;
        true
    }

    fn next(&mut self) -> Token {
        while matches!(self.at(self.ptr), b' ' | b'\t' | b'\n' | b'\r') {
            self.ptr += 1;
        }
        let index = self.ptr;
        let single = |kind| Some(kind);
        let kind = match self.at(index) {
            b'{' => single(Kind::ObjBegin),
            b'}' => single(Kind::ObjEnd),
            b'[' => single(Kind::ArrBegin),
            b']' => single(Kind::ArrEnd),
            b',' => single(Kind::Comma),
            b':' => single(Kind::Colon),
            0 => return self.token(Kind::End, index),
            _ => None,
        };
        if let Some(kind) = kind {
            self.ptr += 1;
            return self.token(kind, index);
        }
        let ch = self.at(index);
        let rest = &self.data[index.min(self.data.len())..];
        match ch {
            b'"' => self.string(),
            b'-' | b'0'..=b'9' => {
                if !self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                    return self.error("invalid number");
                }
                self.number()
            }
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'+' => {
                if rest.starts_with(b"true") || rest.starts_with(b"false") {
                    let value = ch == b't';
                    self.ptr += if value { 4 } else { 5 };
                    let mut t = self.token(Kind::Boolean, index);
                    t.boolean = value;
                    t
                } else if rest.starts_with(b"null") {
                    self.ptr += 4;
                    self.token(Kind::Null, index)
                } else if self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                    self.number()
                } else {
                    self.error("invalid token")
                }
            }
            _ => self.error("invalid token"),
        }
    }

    fn throw(&self, expected: &str, token: &Token) -> Raise {
        let found = if token.kind == Kind::Error {
            token.error
        } else {
            token.kind.name()
        };
        Raise::At(format!(
            "Expected {expected} but found {found} at character {}",
            token.index + 1
        ))
    }

    fn descend(&mut self) -> Result<(), Raise> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && self.depth as usize <= NESTING_CAP {
            return Ok(());
        }
        Err(Raise::At(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.ptr
        )))
    }
}

/// An open container while decoding.
enum Open {
    Array(Table, usize),
    Object(Table, LuaValue),
}

fn decode_fn(lua: &Lua, cfg: &Config, args: &[LuaValue]) -> LibResult {
    if args.len() != 1 {
        return Err(arg_error(lua, 1, "expected 1 argument"));
    }
    let data = match &args[0] {
        LuaValue::String(_) | LuaValue::Integer(_) | LuaValue::Number(_) => check_bytes(lua, args, 1)?,
        _ => return Err(type_error(lua, args, 1, "string")),
    };
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return Err(Raise::At("JSON parser does not support UTF-16 or UTF-32".into()));
    }
    let mut p = Parser {
        data: &data,
        ptr: 0,
        cfg,
        depth: 0,
    };
    let value = decode(lua, &mut p)?;
    results(vec![value])
}

/// The key of an object member: a string token, then a colon.
fn member_key(lua: &Lua, p: &mut Parser<'_>, token: Token) -> Result<LuaValue, Raise> {
    if token.kind != Kind::Str {
        return Err(p.throw("object key string", &token));
    }
    let key = LuaValue::String(lua.create_string(&token.text)?);
    let colon = p.next();
    if colon.kind != Kind::Colon {
        return Err(p.throw("colon", &colon));
    }
    Ok(key)
}

fn decode(lua: &Lua, p: &mut Parser<'_>) -> Result<LuaValue, Raise> {
    let mut stack: Vec<Open> = Vec::new();
    let mut token = p.next();
    loop {
        // A value starts at `token`.
        let mut value = match token.kind {
            Kind::Str => LuaValue::String(lua.create_string(&token.text)?),
            Kind::Number => LuaValue::Number(token.number),
            Kind::Boolean => LuaValue::Boolean(token.boolean),
            Kind::Null => null(),
            Kind::ObjBegin => {
                p.descend()?;
                let t = lua.create_table()?;
                let first = p.next();
                if first.kind == Kind::ObjEnd {
                    p.depth -= 1;
                    LuaValue::Table(t)
                } else {
                    let key = member_key(lua, p, first)?;
                    stack.push(Open::Object(t, key));
                    token = p.next();
                    continue;
                }
            }
            Kind::ArrBegin => {
                p.descend()?;
                let t = lua.create_table()?;
                let first = p.next();
                if first.kind == Kind::ArrEnd {
                    p.depth -= 1;
                    LuaValue::Table(t)
                } else {
                    stack.push(Open::Array(t, 1));
                    token = first;
                    continue;
                }
            }
            _ => return Err(p.throw("value", &token)),
        };
        // The value is complete: store it in its container, and close the containers that end here.
        loop {
            match stack.last_mut() {
                None => {
                    let end = p.next();
                    if end.kind != Kind::End {
                        return Err(p.throw("the end", &end));
                    }
                    return Ok(value);
                }
                Some(Open::Array(t, i)) => {
                    t.raw_set(*i, value)?;
                    *i += 1;
                    let next = p.next();
                    match next.kind {
                        Kind::ArrEnd => {}
                        Kind::Comma => {
                            token = p.next();
                            break;
                        }
                        _ => return Err(p.throw("comma or array end", &next)),
                    }
                }
                Some(Open::Object(t, key)) => {
                    t.raw_set(std::mem::replace(key, LuaValue::Nil), value)?;
                    let next = p.next();
                    match next.kind {
                        Kind::ObjEnd => {}
                        Kind::Comma => {
                            let first = p.next();
                            *key = member_key(lua, p, first)?;
                            token = p.next();
                            break;
                        }
                        _ => return Err(p.throw("comma or object end", &next)),
                    }
                }
            }
            // The container on top ended.
            p.depth -= 1;
            value = match stack.pop() {
                Some(Open::Array(t, _)) | Some(Open::Object(t, _)) => LuaValue::Table(t),
                None => LuaValue::Nil,
            };
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{eval, state};

    #[test]
    fn encode_matches_redis() {
        let lua = state();
        let cases = [
            ("cjson.encode({1, 2, 3, nil, 5})", "[1,2,3,null,5]"),
            ("cjson.encode({})", "{}"),
            ("cjson.encode({a = 'x/y'})", r#"{"a":"x\/y"}"#),
            ("cjson.encode(1/3)", "0.33333333333333"),
            ("cjson.encode(1e300)", "1e+300"),
            ("cjson.encode({-0.0})", "[-0]"),
            ("cjson.encode(100000000000000)", "1e+14"),
            ("cjson.encode(12345678901234567)", "1.2345678901235e+16"),
            ("cjson.encode(cjson.null)", "null"),
            ("cjson.encode('\\1\\127\"\\\\')", r#""\u0001\u007f\"\\""#),
            ("cjson.encode({[1] = 1, [2] = 2, [4] = 4})", "[1,2,null,4]"),
            ("cjson.encode({[0] = 1})", r#"{"0":1}"#),
            ("cjson.encode(true)", "true"),
            ("cjson.encode(cjson.decode('[1,{},[]]'))", "[1,{},{}]"),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, &format!("return {code}")), want, "{code}");
        }
        let errors = [
            (
                "cjson.encode({[1] = 1, [20] = 2})",
                "Cannot serialise table: excessively sparse array",
            ),
            (
                "cjson.encode(0/0)",
                "Cannot serialise number: must not be NaN or Inf",
            ),
            (
                "cjson.encode(function() end)",
                "Cannot serialise function: type not supported",
            ),
            (
                "cjson.encode({[true] = 1})",
                "Cannot serialise boolean: table key must be a number or string",
            ),
            (
                "cjson.encode()",
                "bad argument #1 to 'encode' (expected 1 argument)",
            ),
            (
                "cjson.encode(1, 2)",
                "bad argument #1 to 'encode' (expected 1 argument)",
            ),
        ];
        for (code, want) in errors {
            assert_eq!(
                eval(&lua, &format!("return {code}")),
                format!("error: user_script:1: {want}"),
                "{code}"
            );
        }
        assert_eq!(
            eval(&lua, "local t = {} t[1] = t return cjson.encode(t)"),
            "error: user_script:1: Cannot serialise, excessive nesting (1001)"
        );
    }

    #[test]
    fn decode_matches_redis() {
        let lua = state();
        let cases = [
            ("cjson.decode('[1,2]')[2]", "2"),
            ("cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')", "é😀"),
            ("tostring(cjson.decode('null'))", "userdata: (nil)"),
            ("cjson.decode('null') == cjson.null", "true"),
            ("cjson.decode(' 0x10 ')", "16"),
            ("tostring(cjson.decode('-Infinity'))", "-inf"),
            ("cjson.decode('01')", "1"),
            ("cjson.decode('\"a\\tb\"')", "a\tb"),
            ("cjson.decode('{\"a\":{\"b\":[true,false]}}').a.b[2]", "false"),
            ("cjson.decode('[1]\\0garbage')[1]", "1"),
            ("cjson.decode('1e2')", "100"),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, &format!("return {code}")), want, "{code}");
        }
        let errors = [
            (
                "cjson.decode('x')",
                "Expected value but found invalid token at character 1",
            ),
            (
                "cjson.decode('{\"a\":1,}')",
                "Expected object key string but found T_OBJ_END at character 8",
            ),
            (
                "cjson.decode('[1] x')",
                "Expected the end but found invalid token at character 5",
            ),
            (
                "cjson.decode('\"abc')",
                "Expected value but found unexpected end of string at character 5",
            ),
            (
                "cjson.decode('\"\\\\q\"')",
                "Expected value but found invalid escape code at character 2",
            ),
            (
                "cjson.decode('\"\\\\u12\"')",
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "cjson.decode('{1:2}')",
                "Expected object key string but found T_NUMBER at character 2",
            ),
            (
                "cjson.decode('')",
                "Expected value but found T_END at character 1",
            ),
            (
                "cjson.decode('a\\0b')",
                "JSON parser does not support UTF-16 or UTF-32",
            ),
            (
                "cjson.decode('tru')",
                "Expected value but found invalid token at character 1",
            ),
            (
                "cjson.decode('[1,')",
                "Expected value but found T_END at character 4",
            ),
            (
                "cjson.decode()",
                "bad argument #1 to 'decode' (expected 1 argument)",
            ),
            (
                "cjson.decode(string.rep('[', 100000))",
                "Found too many nested data structures (1001) at character 1001",
            ),
        ];
        for (code, want) in errors {
            assert_eq!(
                eval(&lua, &format!("return {code}")),
                format!("error: user_script:1: {want}"),
                "{code}"
            );
        }
        assert_eq!(
            eval(&lua, "local ok, e = pcall(cjson.decode, '[1,') return e"),
            "Expected value but found T_END at character 4"
        );
        assert_eq!(
            eval(
                &lua,
                "return #cjson.encode(cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)))"
            ),
            "2000"
        );
    }

    #[test]
    fn settings_match_redis() {
        let lua = state();
        assert_eq!(eval(&lua, "return cjson.decode_max_depth()"), "1000");
        assert_eq!(eval(&lua, "return cjson.encode_max_depth()"), "1000");
        assert_eq!(eval(&lua, "return cjson.encode_number_precision()"), "14");
        assert_eq!(eval(&lua, "return cjson.encode_keep_buffer()"), "true");
        assert_eq!(eval(&lua, "return cjson.encode_invalid_numbers()"), "false");
        assert_eq!(eval(&lua, "return cjson.decode_invalid_numbers()"), "true");
        assert_eq!(
            eval(
                &lua,
                "local a, b, c = cjson.encode_sparse_array() return tostring(a) .. b .. c"
            ),
            "false210"
        );
        assert_eq!(
            eval(
                &lua,
                "local c = cjson.new() c.encode_number_precision(3) return c.encode(1/3)"
            ),
            "0.333"
        );
        assert_eq!(eval(&lua, "return cjson.encode(1/3)"), "0.33333333333333");
        assert_eq!(
            eval(&lua, "return cjson.encode_number_precision(15)"),
            "error: user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"
        );
    }
}
