//! The Lua environment of the scripting engine, as Redis 7.0 sets it up: the sandbox (which of Lua's globals exist,
//! read-only library tables, bytecode refused) and the libraries Redis loads besides Lua's own (`cjson`,
//! `cmsgpack`, `bit`, `struct`), written to behave as Redis's C libraries do — same results, same error texts.
//!
//! The libraries are Rust functions. Their errors read as `luaL_error`'s do in C (the caller's position, then the
//! text); through `mlua` they reach Lua as userdata rather than strings, so the sandbox's `pcall` and `xpcall` hand
//! the caught text to the script instead (as a string, as in Redis).

mod bit;
mod cjson;
mod cmsgpack;
mod structs;
pub(crate) mod support;

pub(crate) use support::{LAST_ERROR_KEY, LibError, MEMORY_LIMIT, c_i64, clear_last_error};

use mlua::{Function, Lua, Value as LuaValue};

/// How deep a script's reply may nest before its converter answers `reached lua stack limit` in place of the
/// value. Redis 7.0 gets there at 7995 levels (it checks `lua_checkstack` once per level, and the Lua C stack holds
/// 8000 slots); this server stops at 1000, since encoding and dropping a reply recurse on the machine stack (and no
/// client decodes replies that deep anyway: redkit's own stops at 128).
pub(crate) const REPLY_DEPTH_LIMIT: usize = 1000;

/// The registry key of the function that flattens a script's reply (see [`REPLY_DEPTH_LIMIT`]).
pub(crate) const FLATTEN_KEY: &str = "redkit.flatten";
/// The registry key of the function that wraps a table in a read-only proxy.
pub(crate) const READONLY_KEY: &str = "redkit.readonly";
/// Install the sandbox and the libraries into `lua`'s globals (created with the base, table, string and math
/// libraries only): afterwards the globals are read-only and undefined ones are an error, as in Redis.
pub(crate) fn install(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.raw_set("cjson", cjson::library(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::library(lua)?)?;
    globals.raw_set("bit", bit::library(lua)?)?;
    globals.raw_set("struct", structs::library(lua)?)?;
    let take_last = lua.create_function(|lua, ()| {
        let last: LuaValue = lua.named_registry_value(LAST_ERROR_KEY)?;
        lua.set_named_registry_value(LAST_ERROR_KEY, LuaValue::Nil)?;
        Ok(last)
    })?;
    // `raise(text, level)`: an error without a position, reported at the line of the function `level` up.
    let raise = lua.create_function(|lua, (text, level): (String, usize)| -> mlua::Result<()> {
        let line = lua.inspect_stack(level).map_or(0, |d| d.curr_line().max(0));
        lua.set_named_registry_value(LAST_ERROR_KEY, text.as_str())?;
        Err(mlua::Error::external(LibError { text, line }))
    })?;
    let (flatten, readonly): (Function, Function) =
        lua.load(SANDBOX)
            .set_name("=[C]")
            .call((REPLY_DEPTH_LIMIT, take_last, raise))?;
    lua.set_named_registry_value(FLATTEN_KEY, flatten)?;
    lua.set_named_registry_value(READONLY_KEY, readonly)?;
    Ok(())
}

/// The sandbox, run once on the fresh state. It returns the reply flattener and the read-only proxy maker.
const SANDBOX: &str = r#"
local LIMIT, takelast, raise = ...
local G = _G
local unpack = unpack
local error, type, select, tostring, rawget, rawset, next, pcall =
    error, type, select, tostring, rawget, rawset, next, pcall
local getmetatable, setmetatable, loadstring, load = getmetatable, setmetatable, loadstring, load
local sub, byte, match = string.sub, string.byte, string.match

-- What Redis 7.0 removes from Lua's base library (and what it never loads).
for _, name in next, {'dofile', 'loadfile', 'print', 'getfenv', 'setfenv', 'newproxy', 'module', 'require',
                      'io', 'os', 'package', 'debug'} do
    rawset(G, name, nil)
end

-- Read-only tables, as Redis 7.0's patched Lua has them: a proxy reads through to the table and refuses writes.
local readonly = setmetatable({}, {__mode = 'k'})
-- What getmetatable shows for a metatable made here (NOTHING: no metatable at all).
local shown = setmetatable({}, {__mode = 'k'})
local NOTHING = {}
local READONLY = "Attempt to modify a readonly table"
local function deny() error(READONLY, 2) end
local function proxy(t)
    local p, mt = {}, {__index = t, __newindex = deny}
    setmetatable(p, mt)
    readonly[p] = true
    shown[mt] = NOTHING
    return p
end
local function shownproxy(mt)
    local p = proxy(mt)
    shown[mt] = p
    return p
end

for _, name in next, {'string', 'table', 'math', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct'} do
    rawset(G, name, proxy(rawget(G, name)))
end
local strmt = getmetatable('')
rawset(strmt, '__index', rawget(G, 'string'))
shownproxy(strmt)

local function typename(v, given)
    if not given then return 'no value' end
    return type(v)
end

rawset(G, 'getmetatable', function(...)
    if select('#', ...) == 0 then error("bad argument #1 to 'getmetatable' (value expected)", 2) end
    local m = getmetatable((...))
    local s = shown[m]
    if s == NOTHING then return nil end
    if s ~= nil then return s end
    return m
end)

rawset(G, 'setmetatable', function(...)
    local n, t, m = select('#', ...), ...
    if type(t) ~= 'table' then
        error("bad argument #1 to 'setmetatable' (table expected, got " .. typename(t, n >= 1) .. ")", 2)
    end
    if m ~= nil and type(m) ~= 'table' then
        error("bad argument #2 to 'setmetatable' (nil or table expected)", 2)
    end
    if readonly[t] then raise(READONLY, 2) end
    local ok = pcall(setmetatable, t, m)
    if not ok then error("cannot change a protected metatable", 2) end
    return t
end)

rawset(G, 'rawset', function(...)
    local n, t, k, v = select('#', ...), ...
    if type(t) ~= 'table' then
        error("bad argument #1 to 'rawset' (table expected, got " .. typename(t, n >= 1) .. ")", 2)
    end
    if n < 2 then error("bad argument #2 to 'rawset' (value expected)", 2) end
    if n < 3 then error("bad argument #3 to 'rawset' (value expected)", 2) end
    if readonly[t] then raise(READONLY, 2) end
    local ok, e = pcall(rawset, t, k, v)
    if not ok then raise(e, 2) end
    return t
end)

-- A library error caught by pcall/xpcall reaches the script as its text, as in Redis.
local function pack(...) return select('#', ...), {...} end
local function text(e)
    if type(e) == 'userdata' then
        local m = takelast()
        if m ~= nil then return m end
    end
    return e
end
rawset(G, 'pcall', function(...)
    local n, r = pack(pcall(...))
    if not r[1] then r[2] = text(r[2]) end
    return unpack(r, 1, n)
end)
local xpcall = xpcall
rawset(G, 'xpcall', function(f, handler, ...)
    if type(handler) ~= 'function' then return xpcall(f, handler, ...) end
    return xpcall(f, function(e) return handler(text(e)) end, ...)
end)

-- luaO_chunkid: how Lua names a chunk in its messages.
local function chunkid(source)
    source = match(source, '^[^%z]*')
    local c = sub(source, 1, 1)
    if c == '=' then return sub(source, 2, 60) end
    if c == '@' then
        source = sub(source, 2)
        if #source > 52 then return '...' .. sub(source, -52) end
        return source
    end
    local line = match(source, '^[^\n\r]*')
    local len = #line
    if len > 43 then len = 43 end
    if len < #source then return '[string "' .. sub(source, 1, len) .. '..."]' end
    return '[string "' .. source .. '"]'
end
-- Redis's Lua has no loader for precompiled chunks (CVE-2015-4335): one is parsed as text, and fails there.
local function bytecode(name)
    return nil, chunkid(name) .. ":1: unexpected symbol near 'char(27)'"
end

rawset(G, 'loadstring', function(...)
    local n, s, name = select('#', ...), ...
    local ts = type(s)
    if ts ~= 'string' and ts ~= 'number' then
        error("bad argument #1 to 'loadstring' (string expected, got " .. typename(s, n >= 1) .. ")", 2)
    end
    local tn = type(name)
    if name ~= nil and tn ~= 'string' and tn ~= 'number' then
        error("bad argument #2 to 'loadstring' (string expected, got " .. tn .. ")", 2)
    end
    if ts == 'string' and byte(s, 1) == 27 then return bytecode(tostring(name or s)) end
    local f, e = loadstring(s, name)
    return f, e
end)

rawset(G, 'load', function(...)
    local n, reader, name = select('#', ...), ...
    if type(reader) ~= 'function' then
        error("bad argument #1 to 'load' (function expected, got " .. typename(reader, n >= 1) .. ")", 2)
    end
    local tn = type(name)
    if name ~= nil and tn ~= 'string' and tn ~= 'number' then
        error("bad argument #2 to 'load' (string expected, got " .. tn .. ")", 2)
    end
    local first, binary = true, false
    local f, e = load(function()
        local piece = reader()
        if first then
            first = false
            if type(piece) == 'string' and byte(piece, 1) == 27 then
                binary = true
                return nil
            end
        end
        return piece
    end, name)
    if binary then return bytecode(tostring(name or '=(load)')) end
    return f, e
end)

-- The globals: undefined names are an error, and so is creating one.
local gmt = {
    __index = function(t, n)
        error("Script attempted to access nonexistent global variable '" .. tostring(n) .. "'", 2)
    end,
    __newindex = function(t, n, v) error(READONLY, 2) end,
}
setmetatable(G, gmt)
readonly[G] = true
shownproxy(gmt)

-- A script's reply, flattened into tags and values for the Rust side (so converting it needs no recursion
-- there): as Redis's luaReplyToRedisReply reads it, with its "reached lua stack limit" past LIMIT levels.
local out, n = nil, 0
local function conv(v, depth)
    if depth >= LIMIT then n = n + 1 out[n] = 'L' return end
    local t = type(v)
    if t == 'string' then
        out[n + 1], out[n + 2], n = 'b', v, n + 2
    elseif t == 'number' then
        out[n + 1], out[n + 2], n = 'i', v, n + 2
    elseif t == 'boolean' then
        if v then out[n + 1], out[n + 2], n = 'i', 1, n + 2 else n = n + 1 out[n] = 'n' end
    elseif t == 'table' then
        local e = rawget(v, 'err')
        if type(e) == 'string' then out[n + 1], out[n + 2], n = 'e', e, n + 2 return end
        local s = rawget(v, 'ok')
        if type(s) == 'string' then out[n + 1], out[n + 2], n = 's', s, n + 2 return end
        local d = rawget(v, 'double')
        if type(d) == 'number' then out[n + 1], out[n + 2], n = 'd', d, n + 2 return end
        local m = rawget(v, 'map')
        if type(m) == 'table' then
            out[n + 1], n = 'm', n + 2
            local at, count = n, 0
            for k, x in next, m do conv(k, depth + 1) conv(x, depth + 1) count = count + 1 end
            out[at] = count
            return
        end
        local set = rawget(v, 'set')
        if type(set) == 'table' then
            out[n + 1], n = 'S', n + 2
            local at, count = n, 0
            for k in next, set do conv(k, depth + 1) count = count + 1 end
            out[at] = count
            return
        end
        out[n + 1], n = 'a', n + 2
        local at, j = n, 1
        while true do
            local x = rawget(v, j)
            if x == nil then break end
            conv(x, depth + 1)
            j = j + 1
        end
        out[at] = j - 1
    else
        n = n + 1 out[n] = 'n'
    end
end
local function flatten(v)
    out, n = {}, 0
    conv(v, 0)
    local r = out
    out = nil
    return r
end

return flatten, proxy
"#;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::support::fmt_g;
    use super::*;

    /// A state set up as the scripting engine sets it up.
    pub(crate) fn state() -> Lua {
        let lua = Lua::new_with(
            mlua::StdLib::TABLE | mlua::StdLib::STRING | mlua::StdLib::MATH,
            mlua::LuaOptions::default(),
        )
        .unwrap();
        install(&lua).unwrap();
        lua
    }

    /// Run `code`, and the value it returns as a string (`tostring`), or the error's first line.
    pub(crate) fn eval(lua: &Lua, code: &str) -> String {
        match lua.load(code).set_name("@user_script").eval::<LuaValue>() {
            Ok(LuaValue::String(s)) => s.to_string_lossy(),
            Ok(LuaValue::Integer(i)) => i.to_string(),
            Ok(LuaValue::Number(n)) => fmt_g(n, 14),
            Ok(LuaValue::Boolean(b)) => b.to_string(),
            Ok(LuaValue::Nil) => "nil".to_owned(),
            Ok(other) => other.type_name().to_owned(),
            Err(e) => format!("error: {}", first_line(&e)),
        }
    }

    fn first_line(e: &mlua::Error) -> String {
        match e {
            mlua::Error::CallbackError { cause, .. } => first_line(cause),
            mlua::Error::RuntimeError(m) => m.lines().next().unwrap_or_default().to_owned(),
            mlua::Error::ExternalError(ext) => ext.to_string(),
            other => other.to_string(),
        }
    }

    #[test]
    fn g_format_is_c_like() {
        assert_eq!(fmt_g(1.0 / 3.0, 14), "0.33333333333333");
        assert_eq!(fmt_g(1e300, 14), "1e+300");
        assert_eq!(fmt_g(1e14, 14), "1e+14");
        assert_eq!(fmt_g(123456789012345.0, 14), "1.2345678901234e+14");
        assert_eq!(fmt_g(12345678901234567.0, 14), "1.2345678901235e+16");
        assert_eq!(fmt_g(-0.0, 14), "-0");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(100.0, 14), "100");
        assert_eq!(fmt_g(1.5, 14), "1.5");
    }

    #[test]
    fn the_sandbox_has_redis_globals_only() {
        let lua = state();
        for absent in [
            "dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy", "module", "require", "io", "os",
            "package", "debug",
        ] {
            assert_eq!(
                eval(&lua, &format!("return type(rawget(_G, '{absent}'))")),
                "nil",
                "{absent}"
            );
        }
        assert!(eval(&lua, "return io").contains("nonexistent global variable 'io'"));
        for present in [
            "cjson",
            "cmsgpack",
            "bit",
            "struct",
            "coroutine",
            "string",
            "gcinfo",
        ] {
            assert_ne!(eval(&lua, &format!("return type({present})")), "nil");
        }
        assert_eq!(
            eval(&lua, "return x"),
            "error: user_script:1: Script attempted to access nonexistent global variable 'x'"
        );
    }

    #[test]
    fn tables_are_read_only() {
        let lua = state();
        assert_eq!(
            eval(&lua, "x = 1"),
            "error: user_script:1: Attempt to modify a readonly table"
        );
        assert_eq!(
            eval(&lua, "setmetatable(_G, nil)"),
            "error: Attempt to modify a readonly table"
        );
        assert_eq!(
            eval(&lua, "rawset(_G, 'x', 1)"),
            "error: Attempt to modify a readonly table"
        );
        assert_eq!(
            eval(&lua, "getmetatable(_G).__index = nil"),
            "error: user_script:1: Attempt to modify a readonly table"
        );
        assert_eq!(
            eval(&lua, "getmetatable('').__index = {}"),
            "error: user_script:1: Attempt to modify a readonly table"
        );
        assert_eq!(
            eval(&lua, "getmetatable('').__index.upper = nil"),
            "error: user_script:1: Attempt to modify a readonly table"
        );
        assert_eq!(
            eval(&lua, "string.upper = nil"),
            "error: user_script:1: Attempt to modify a readonly table"
        );
        assert_eq!(
            eval(&lua, "cjson.encode = nil"),
            "error: user_script:1: Attempt to modify a readonly table"
        );
        assert_eq!(eval(&lua, "return ('abc'):upper()"), "ABC");
        assert_eq!(eval(&lua, "return getmetatable(string)"), "nil");
        assert_eq!(
            eval(
                &lua,
                "local t = setmetatable({}, {}) return type(getmetatable(t))"
            ),
            "table"
        );
    }

    #[test]
    fn bytecode_is_refused() {
        let lua = state();
        assert_eq!(
            eval(
                &lua,
                "local f, e = loadstring(string.dump(function() return 1 end)) return e"
            ),
            "[string \"\u{1b}LuaQ\"]:1: unexpected symbol near 'char(27)'"
        );
        assert_eq!(
            eval(&lua, "local f, e = loadstring('\\27xyz') return e"),
            "[string \"\u{1b}xyz\"]:1: unexpected symbol near 'char(27)'"
        );
        assert_eq!(
            eval(
                &lua,
                "local i = 0 local f, e = load(function() i = i + 1 if i == 1 then return '\\27Lua' end end) return e"
            ),
            "(load):1: unexpected symbol near 'char(27)'"
        );
        assert_eq!(eval(&lua, "return loadstring('return 5')()"), "5");
        assert_eq!(
            eval(&lua, "local f = load('x') return f"),
            "error: user_script:1: bad argument #1 to 'load' (function expected, got string)"
        );
    }

    #[test]
    fn memory_is_bounded_and_the_state_survives() {
        let lua = state();
        lua.set_memory_limit(32 * 1024 * 1024).unwrap();
        assert!(eval(&lua, "return #string.rep('x', 2^30)").contains("not enough memory"));
        assert!(eval(&lua, "local t = {} for i = 1, 1e8 do t[i] = i end").contains("not enough memory"));
        lua.gc_collect().unwrap();
        assert_eq!(eval(&lua, "return 1 + 1"), "2");
        assert_eq!(eval(&lua, "return #string.rep('x', 2^31)"), "0");
    }

    #[test]
    fn runaway_recursion_is_an_error() {
        let lua = state();
        assert_eq!(
            eval(&lua, "local function f(n) return 1 + f(n) end return f(1)"),
            "error: user_script:1: stack overflow"
        );
        assert_eq!(
            eval(&lua, "return unpack({}, 1, 1e8)"),
            "error: user_script:1: too many results to unpack"
        );
    }
}
