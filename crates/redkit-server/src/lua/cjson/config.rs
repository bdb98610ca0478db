//! The settings of a `cjson` instance, and the functions that read and change them (`encode_max_depth`,
//! `encode_sparse_array`, …), with Lua CJSON's argument checks and error texts.

use std::sync::{Arc, Mutex};

use mlua::{Lua, Value as LuaValue};

use crate::lua::support::{LibFn, Raise, arg_error, check_bytes, check_integer, results};

/// A `cjson` instance's settings.
#[derive(Debug, Clone)]
pub(super) struct Config {
    pub(super) sparse_convert: bool,
    pub(super) sparse_ratio: i64,
    pub(super) sparse_safe: i64,
    pub(super) encode_max_depth: i64,
    pub(super) decode_max_depth: i64,
    /// 0 refuses NaN and infinities, 1 encodes them (`nan`, `inf`), 2 encodes them as `null`.
    pub(super) encode_invalid_numbers: i64,
    pub(super) decode_invalid_numbers: bool,
    pub(super) keep_buffer: bool,
    pub(super) precision: usize,
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

/// An instance's settings, shared by its functions.
pub(super) type Shared = Arc<Mutex<Config>>;

/// The current settings.
pub(super) fn config(shared: &Shared) -> Config {
    shared.lock().map(|c| c.clone()).unwrap_or_default()
}

fn update(shared: &Shared, f: impl FnOnce(&mut Config)) {
    if let Ok(mut c) = shared.lock() {
        f(&mut c);
    }
}

/// The setting functions of an instance whose settings are `shared`, in the order the table gets them.
pub(super) fn functions(shared: &Shared) -> Vec<(&'static str, LibFn)> {
    let s = || shared.clone();
    vec![
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
    ]
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use crate::lua::tests::{eval, state};

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
