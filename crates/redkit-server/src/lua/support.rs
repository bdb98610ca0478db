//! What Redis's Lua libraries share: raising Lua errors with Redis's texts ([`Raise`], [`arg_error`], [`type_error`]), Lua's argument checks and number conversions, and building a library table ([`library`]).

use mlua::{Function, Lua, MultiValue, Table, Value as LuaValue};

/// The most memory a script's Lua state may hold, in bytes. Redis sets no limit of its own (its Lua heap is bounded
/// only by the machine), but an embedded server must not be taken down by `string.rep('x', 2^30)` or a table grown
/// forever: past this an allocation fails and the script ends with Lua's "not enough memory" error.
pub(crate) const MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// The deepest structure the Rust side of a library builds or walks (each level holds one `mlua` reference, and
/// those live on a Lua stack of 8000 slots).
pub(crate) const NESTING_CAP: usize = 4000;

/// A library function's failure: a Lua error to raise in the caller.
pub(crate) enum Raise {
    /// A message raised at the caller's position (`luaL_error`).
    At(String),
    /// A message raised without a position (errors from the Lua core inside a C function).
    Plain(String),
    /// An `mlua` error (out of memory, …), passed on as it is.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Raise {
    fn from(e: mlua::Error) -> Raise {
        Raise::Lua(e)
    }
}

/// What a library function returns.
pub(crate) type LibResult = Result<MultiValue, Raise>;

/// A library function, before wrapping.
pub(crate) type LibFn = Box<dyn Fn(&Lua, Vec<LuaValue>) -> LibResult + Send>;

/// The registry key of the text of the last library error (for `pcall` to give the script).
pub(crate) const LAST_ERROR_KEY: &str = "redkit.lasterror";

/// A library error on its way through `mlua`: the text (with its position) and the caller's line.
#[derive(Debug)]
pub(crate) struct LibError {
    /// The error's text, as Lua's message would read.
    pub(crate) text: String,
    /// The caller's line (0 when the caller is not Lua code).
    pub(crate) line: i32,
}

impl std::fmt::Display for LibError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for LibError {}

/// Forget the last library error (a script starts clean).
pub(crate) fn clear_last_error(lua: &Lua) {
    let _ = lua.set_named_registry_value(LAST_ERROR_KEY, LuaValue::Nil);
}

/// A Lua function running `f`, its [`Raise`] errors raised as `luaL_error` raises them (at the caller's position).
pub(crate) fn lib_function<F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, Vec<LuaValue>) -> LibResult + Send + 'static,
{
    lua.create_function(
        move |lua, args: MultiValue| match f(lua, args.into_iter().collect()) {
            Ok(v) => Ok(v),
            Err(Raise::Lua(e)) => Err(e),
            Err(raise) => {
                // The caller is still on the stack (a C function's frame stays even for a tail call).
                let (position, line) = lua.inspect_stack(1).map_or((String::new(), 0), |d| {
                    let line = d.curr_line();
                    let source = d.source().short_src.map(|s| s.into_owned());
                    match source {
                        Some(src) if line > 0 => (format!("{src}:{line}: "), line),
                        _ => (String::new(), line.max(0)),
                    }
                });
                let text = match raise {
                    Raise::At(text) => format!("{position}{text}"),
                    Raise::Plain(text) => text,
                    Raise::Lua(_) => String::new(),
                };
                lua.set_named_registry_value(LAST_ERROR_KEY, text.as_str())?;
                Err(mlua::Error::external(LibError { text, line }))
            }
        },
    )
}

/// A library table: `functions` wrapped by [`lib_function`].
pub(crate) fn library(lua: &Lua, functions: Vec<(&'static str, LibFn)>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (name, f) in functions {
        t.raw_set(name, lib_function(lua, f)?)?;
    }
    Ok(t)
}

/// The name the running library function was called by, for `bad argument` messages (`?` when unknown).
fn function_name(lua: &Lua) -> String {
    lua.inspect_stack(0)
        .and_then(|d| d.names().name.map(|n| n.into_owned()))
        .unwrap_or_else(|| "?".to_owned())
}

/// `luaL_argerror`: `bad argument #n to 'f' (msg)`.
pub(crate) fn arg_error(lua: &Lua, narg: usize, msg: &str) -> Raise {
    Raise::At(format!(
        "bad argument #{narg} to '{}' ({msg})",
        function_name(lua)
    ))
}

/// `luaL_typerror`: `bad argument #n to 'f' (<expected> expected, got <type>)`.
pub(crate) fn type_error(lua: &Lua, args: &[LuaValue], narg: usize, expected: &str) -> Raise {
    let got = args.get(narg - 1).map_or("no value", type_name);
    arg_error(lua, narg, &format!("{expected} expected, got {got}"))
}

/// Lua's name for a value's type.
pub(crate) fn type_name(v: &LuaValue) -> &'static str {
    match v {
        LuaValue::Nil => "nil",
        LuaValue::Boolean(_) => "boolean",
        LuaValue::Integer(_) | LuaValue::Number(_) => "number",
        LuaValue::String(_) => "string",
        LuaValue::Table(_) => "table",
        LuaValue::Function(_) => "function",
        LuaValue::Thread(_) => "thread",
        _ => "userdata",
    }
}

/// `lua_tonumber`: numbers, and strings that read as one (`strtod`, hexadecimal, surrounding spaces).
pub(crate) fn to_number(v: &LuaValue) -> Option<f64> {
    match v {
        LuaValue::Integer(i) => Some(*i as f64),
        LuaValue::Number(n) => Some(*n),
        LuaValue::String(s) => str_to_number(&s.as_bytes()),
        _ => None,
    }
}

/// `luaO_str2d`.
fn str_to_number(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.trim_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    if text.is_empty() {
        return None;
    }
    let (negative, body) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let v = u64::from_str_radix(hex, 16).ok()? as f64;
        return Some(if negative { -v } else { v });
    }
    let lower = body.to_ascii_lowercase();
    if lower.starts_with("inf") || lower.starts_with("nan") {
        let v: f64 = match lower.as_str() {
            "inf" | "infinity" => f64::INFINITY,
            "nan" => f64::NAN,
            _ => return None,
        };
        return Some(if negative { -v } else { v });
    }
    if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    text.parse::<f64>().ok()
}

/// `luaL_checknumber`.
pub(crate) fn check_number(lua: &Lua, args: &[LuaValue], narg: usize) -> Result<f64, Raise> {
    args.get(narg - 1)
        .and_then(to_number)
        .ok_or_else(|| type_error(lua, args, narg, "number"))
}

/// `luaL_checkinteger` (a number truncated towards zero).
pub(crate) fn check_integer(lua: &Lua, args: &[LuaValue], narg: usize) -> Result<i64, Raise> {
    check_number(lua, args, narg).map(c_i64)
}

/// `luaL_optinteger`: absent or nil is `default`.
pub(crate) fn opt_integer(lua: &Lua, args: &[LuaValue], narg: usize, default: i64) -> Result<i64, Raise> {
    match args.get(narg - 1) {
        None | Some(LuaValue::Nil) => Ok(default),
        Some(_) => check_integer(lua, args, narg),
    }
}

/// `luaL_checklstring`: strings, and numbers as Lua prints them.
pub(crate) fn check_bytes(lua: &Lua, args: &[LuaValue], narg: usize) -> Result<Vec<u8>, Raise> {
    match args.get(narg - 1) {
        Some(LuaValue::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(LuaValue::Integer(i)) => Ok(fmt_g(*i as f64, 14).into_bytes()),
        Some(LuaValue::Number(n)) => Ok(fmt_g(*n, 14).into_bytes()),
        _ => Err(type_error(lua, args, narg, "string")),
    }
}

/// A C cast of a double to `long long` on x86-64: truncated, and out of range (or NaN) is `i64::MIN`.
pub(crate) fn c_i64(n: f64) -> i64 {
    if n.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// C's `%.<precision>g`.
pub(crate) fn fmt_g(v: f64, precision: usize) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let p = precision.max(1);
    let sci = format!("{:.*e}", p - 1, v);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if exp < -4 || exp >= p as i32 {
        format!(
            "{}e{}{:02}",
            trim(mantissa),
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        )
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{v:.decimals$}"))
    }
}

/// Results for a library function.
pub(crate) fn results(values: Vec<LuaValue>) -> LibResult {
    Ok(MultiValue::from_vec(values))
}
