//! `bit`: LuaBitOp 1.0 as Redis vendors it — 32-bit operations on Lua numbers, results as signed 32-bit numbers.

use mlua::{Lua, Table, Value as LuaValue};

use super::support::{LibResult, Raise, results, to_number, type_error};

/// LuaBitOp's `barg`: the number's low 32 bits after rounding (the 2^52+2^51 trick); a non-number is a type
/// error, except that a value reading as 0 must really be a number.
fn barg(lua: &Lua, args: &[LuaValue], narg: usize) -> Result<u32, Raise> {
    let value = args.get(narg - 1);
    let n = value.and_then(to_number);
    let b = (n.unwrap_or(0.0) + 6_755_399_441_055_744.0).to_bits() as u32;
    if b == 0 && n.is_none() {
        return Err(type_error(lua, args, narg, "number"));
    }
    Ok(b)
}

fn ret(b: u32) -> LibResult {
    results(vec![LuaValue::Number(f64::from(b as i32))])
}

type Op = fn(u32, u32) -> u32;

/// `band`/`bor`/`bxor`: the first argument, then the others from the last down (LuaBitOp's order of checks).
fn fold(op: Op) -> impl Fn(&Lua, Vec<LuaValue>) -> LibResult + Send + 'static {
    move |lua, args| {
        let mut b = barg(lua, &args, 1)?;
        for i in (2..=args.len()).rev() {
            b = op(b, barg(lua, &args, i)?);
        }
        ret(b)
    }
}

/// `lshift`/`rshift`/`arshift`/`rol`/`ror`: the count is taken modulo 32.
fn shift(op: Op) -> impl Fn(&Lua, Vec<LuaValue>) -> LibResult + Send + 'static {
    move |lua, args| {
        let b = barg(lua, &args, 1)?;
        let n = barg(lua, &args, 2)? & 31;
        ret(op(b, n))
    }
}

/// The `bit` table.
pub(super) fn library(lua: &Lua) -> mlua::Result<Table> {
    let functions: Vec<(&'static str, super::support::LibFn)> = vec![
        ("tobit", Box::new(|lua, args| ret(barg(lua, &args, 1)?))),
        ("bnot", Box::new(|lua, args| ret(!barg(lua, &args, 1)?))),
        ("band", Box::new(fold(|a, b| a & b))),
        ("bor", Box::new(fold(|a, b| a | b))),
        ("bxor", Box::new(fold(|a, b| a ^ b))),
        ("lshift", Box::new(shift(|b, n| b << n))),
        ("rshift", Box::new(shift(|b, n| b >> n))),
        ("arshift", Box::new(shift(|b, n| ((b as i32) >> n) as u32))),
        ("rol", Box::new(shift(u32::rotate_left))),
        ("ror", Box::new(shift(u32::rotate_right))),
        (
            "bswap",
            Box::new(|lua, args| ret(barg(lua, &args, 1)?.swap_bytes())),
        ),
        (
            "tohex",
            Box::new(|lua, args| {
                let mut b = barg(lua, &args, 1)?;
                let mut n: i64 = if args.len() < 2 {
                    8
                } else {
                    i64::from(barg(lua, &args, 2)? as i32)
                };
                let mut digits: &[u8; 16] = b"0123456789abcdef";
                if n < 0 {
                    n = -n;
                    digits = b"0123456789ABCDEF";
                }
                let n = n.min(8) as usize;
                let mut buf = vec![0u8; n];
                for slot in buf.iter_mut().rev() {
                    *slot = digits[(b & 15) as usize];
                    b >>= 4;
                }
                results(vec![LuaValue::String(lua.create_string(&buf)?)])
            }),
        ),
    ];
    super::support::library(lua, functions)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::tests::{eval, state};

    #[test]
    fn bit_operations_match_luabitop() {
        let lua = state();
        let cases = [
            ("bit.tobit(2^32 + 5)", "5"),
            ("bit.tohex(-1)", "ffffffff"),
            ("bit.tohex(255, -4)", "00FF"),
            ("bit.tohex(1, 100)", "00000001"),
            ("bit.tohex(1, 0)", ""),
            ("bit.bor(1, 2, 4)", "7"),
            ("bit.lshift(1, 31)", "-2147483648"),
            ("bit.rshift(-1, 28)", "15"),
            ("bit.arshift(-256, 4)", "-16"),
            ("bit.rol(1, 33)", "2"),
            ("bit.bswap(0x12345678)", "2018915346"),
            ("bit.tobit(1.5)", "2"),
            ("bit.tobit(2.5)", "2"),
            ("bit.tobit('7')", "7"),
            ("bit.bnot(0)", "-1"),
            ("bit.ror(1, 1)", "-2147483648"),
            ("bit.bxor(5, 3)", "6"),
            ("bit.band(0xff, 0x0f, 0x3)", "3"),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, &format!("return {code}")), want, "{code}");
        }
        assert_eq!(
            eval(&lua, "return bit.band()"),
            "error: user_script:1: bad argument #1 to 'band' (number expected, got no value)"
        );
        assert_eq!(
            eval(&lua, "return bit.band(1, 2, 'x', 'y')"),
            "error: user_script:1: bad argument #4 to 'band' (number expected, got string)"
        );
    }
}
