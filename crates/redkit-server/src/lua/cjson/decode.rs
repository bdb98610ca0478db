//! `cjson.decode`: the parser over the tokens of `lexer.rs`, building Lua values with an explicit stack (not
//! recursion), and `cjson.null`, what JSON's `null` decodes to.

use mlua::{LightUserData, Lua, Table, Value as LuaValue};

use super::config::Config;
use super::lexer::{Kind, Parser, Token};
use crate::lua::support::{LibResult, Raise, arg_error, check_bytes, results, type_error};

/// `cjson.null`: a light userdata holding NULL, as in C.
pub(super) fn null() -> LuaValue {
    LuaValue::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// An open container while decoding.
enum Open {
    Array(Table, usize),
    Object(Table, LuaValue),
}

pub(super) fn decode_fn(lua: &Lua, cfg: &Config, args: &[LuaValue]) -> LibResult {
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
    let mut p = Parser::new(&data, cfg);
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
    use crate::lua::tests::{eval, state};

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
}
