//! `cjson.encode`: the encoder, written in Lua so that it walks tables in Lua's order and formats numbers with
//! C's `%.14g` (`string.format`), as Lua CJSON does; and the Rust function that runs it with the settings.

use mlua::{Lua, Value as LuaValue};

use super::config::Config;
use crate::lua::support::{LibResult, NESTING_CAP, Raise, arg_error, results};

/// The deepest table `encode` walks, whatever `encode_max_depth` says.
const ENCODE_CAP: usize = NESTING_CAP / 2;

/// The encoder, in Lua: it walks tables with `next` (so keys come in Lua's order, as in C) and recurses on Lua's
/// own stack, not the machine's; numbers go through `string.format`, which is C's `%.14g`. It returns the text,
/// or nil and the error.
pub(super) const ENCODER: &str = r#"
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

pub(super) fn encode_fn(lua: &Lua, encoder: &mlua::Function, cfg: &Config, args: &[LuaValue]) -> LibResult {
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::lua::tests::{eval, state};

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
}
