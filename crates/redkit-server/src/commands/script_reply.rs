//! Scripts' conversions: a command's reply as the Lua value `redis.call` returns, a script's result as a reply,
//! `redis.call`'s arguments as bytes — and the error replies of a script that fails or does not compile. The
//! shapes are Redis's (see `scripting.rs`).

use bytes::Bytes;
use mlua::{Lua, Table, Value as LuaValue};
use redkit_resp::Value;

use super::err;

/// `{field = value}`: how Lua holds status (`ok`) and error (`err`) replies.
pub(super) fn reply_table(lua: &Lua, field: &str, value: impl mlua::IntoLua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(field, value)?;
    Ok(t)
}

/// The reply for a script that does not compile.
pub(super) fn compile_error(e: &mlua::Error) -> Value {
    let text = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    err(&format!("ERR Error compiling script (new function): {text}"))
}

/// How deep a command's reply may nest on its way into Lua (no command replies anywhere near this deep).
const TO_LUA_DEPTH: usize = 1000;

/// A reply as a Lua value.
pub(super) fn to_lua(lua: &Lua, v: &Value) -> mlua::Result<LuaValue> {
    to_lua_at(lua, v, 0)
}

fn to_lua_at(lua: &Lua, v: &Value, depth: usize) -> mlua::Result<LuaValue> {
    if depth > TO_LUA_DEPTH {
        return Err(mlua::Error::RuntimeError("reached lua stack limit".into()));
    }
    Ok(match v {
        Value::Integer(i) => LuaValue::Number(*i as f64),
        Value::BulkString(b) | Value::VerbatimString { text: b, .. } => {
            LuaValue::String(lua.create_string(b)?)
        }
        Value::SimpleString(s) => LuaValue::Table(reply_table(lua, "ok", lua.create_string(s)?)?),
        Value::Error(e) => LuaValue::Table(reply_table(lua, "err", lua.create_string(e)?)?),
        Value::Array(items) | Value::Set(items) | Value::Push(items) => {
            let t = lua.create_table()?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua_at(lua, item, depth + 1)?)?;
            }
            LuaValue::Table(t)
        }
        Value::Null => LuaValue::Boolean(false),
        // Maps, doubles, booleans…: in their RESP2 shape (maps flattened, doubles as strings), as scripts see them.
        other => to_lua_at(lua, &other.clone().into_resp2(), depth)?,
    })
}

/// A script's result as a reply, as Redis's `luaReplyToRedisReply` reads it (numbers truncated as C casts them,
/// `false` as null, `{err=…}`/`{ok=…}`/`{double=…}`/`{map=…}`/`{set=…}`, arrays up to the first nil). The Lua side
/// flattens the value into tags and values (see `crate::lua`), so no recursion here can exhaust the stack, and
/// nesting past Redis's limit becomes its `reached lua stack limit` error in place.
pub(super) fn from_lua(lua: &Lua, v: LuaValue) -> mlua::Result<Value> {
    let flatten: mlua::Function = lua.named_registry_value(crate::lua::FLATTEN_KEY)?;
    let flat: Table = flatten.call(v)?;
    let bytes = |v: LuaValue| match v {
        LuaValue::String(s) => Bytes::copy_from_slice(&s.as_bytes()),
        _ => Bytes::new(),
    };
    let number = |v: LuaValue| match v {
        LuaValue::Integer(i) => i as f64,
        LuaValue::Number(n) => n,
        _ => 0.0,
    };
    /// An aggregate being filled: its kind, the items so far, and how many it holds.
    enum Open {
        Array(Vec<Value>),
        Set(Vec<Value>),
        Map(Vec<(Value, Value)>, Option<Value>),
    }
    let mut stack: Vec<(Open, usize)> = Vec::new();
    let mut i = 0;
    let mut next = || -> mlua::Result<LuaValue> {
        i += 1;
        flat.raw_get(i)
    };
    loop {
        let tag = match next()? {
            LuaValue::String(s) => s.as_bytes().first().copied().unwrap_or(b'n'),
            _ => b'n',
        };
        let mut value = match tag {
            b'b' => Value::BulkString(bytes(next()?)),
            b'i' => Value::Integer(crate::lua::c_i64(number(next()?))),
            b'e' => Value::Error(bytes(next()?)),
            b's' => Value::SimpleString(bytes(next()?)),
            b'd' => Value::Double(number(next()?)),
            b'L' => err("ERR reached lua stack limit"),
            b'a' | b'S' | b'm' => {
                let count = number(next()?) as usize;
                let open = match tag {
                    b'a' => Open::Array(Vec::new()),
                    b'S' => Open::Set(Vec::new()),
                    _ => Open::Map(Vec::new(), None),
                };
                if count > 0 {
                    stack.push((open, count));
                    continue;
                }
                match open {
                    Open::Array(_) => Value::Array(Vec::new()),
                    Open::Set(_) => Value::Set(Vec::new()),
                    Open::Map(..) => Value::Map(Vec::new()),
                }
            }
            _ => Value::Null,
        };
        // Place the value, closing every aggregate it completes.
        loop {
            let Some((open, left)) = stack.last_mut() else {
                return Ok(value);
            };
            match open {
                Open::Array(items) | Open::Set(items) => {
                    items.push(value);
                    *left -= 1;
                }
                Open::Map(pairs, key) => match key.take() {
                    None => {
                        *key = Some(value);
                        break;
                    }
                    Some(k) => {
                        pairs.push((k, value));
                        *left -= 1;
                    }
                },
            }
            if *left > 0 {
                break;
            }
            value = match stack.pop() {
                Some((Open::Array(items), _)) => Value::Array(items),
                Some((Open::Set(items), _)) => Value::Set(items),
                Some((Open::Map(pairs, _), _)) => Value::Map(pairs),
                None => Value::Null,
            };
        }
    }
}

/// A `redis.call` argument as bytes: strings as they are, numbers as Redis formats them.
pub(super) fn arg_bytes(v: &LuaValue) -> Option<Bytes> {
    match v {
        LuaValue::String(s) => Some(Bytes::copy_from_slice(&s.as_bytes())),
        LuaValue::Integer(i) => Some(Bytes::from(i.to_string())),
        LuaValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e17 => {
            Some(Bytes::from((*n as i64).to_string()))
        }
        LuaValue::Number(n) => Some(Bytes::from(super::zset::g17(*n))),
        _ => None,
    }
}

/// SCRIPT KILL's interruption, raised by the instruction hook at `line`.
#[derive(Debug)]
pub(super) struct Killed {
    pub(super) line: i32,
}

impl std::fmt::Display for Killed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Script killed by user with SCRIPT KILL...")
    }
}

impl std::error::Error for Killed {}

/// An error table raised by `redis.call`, carried through Lua as an external error.
#[derive(Debug)]
pub(super) struct RedisError(pub(super) Table);

impl std::fmt::Display for RedisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: String = self.0.raw_get("err").unwrap_or_default();
        f.write_str(&text)
    }
}

impl std::error::Error for RedisError {}

/// The reply for a script that failed, as Redis 7 words it: the error (a command's own, or the Lua error with its
/// `user_script:N:` position), then ` script: <sha1>, on @user_script:N.`.
pub(super) fn script_error(e: &mlua::Error, sha: &str, chunk: &str) -> Value {
    let mut inner = e;
    loop {
        match inner {
            mlua::Error::CallbackError { cause, .. } => inner = cause,
            mlua::Error::MemoryError(_) => {
                return err(&format!("ERR not enough memory script: {sha}, on @{chunk}:0."));
            }
            mlua::Error::ExternalError(ext) => {
                if let Some(l) = ext.downcast_ref::<crate::lua::LibError>() {
                    let text = l.text.lines().next().unwrap_or_default();
                    return err(&format!("ERR {text} script: {sha}, on @{chunk}:{}.", l.line));
                }
                if let Some(k) = ext.downcast_ref::<Killed>() {
                    return err(&format!("ERR {k} script: {sha}, on @{chunk}:{}.", k.line));
                }
                if let Some(r) = ext.downcast_ref::<RedisError>() {
                    let line: i64 = r.0.raw_get("line").unwrap_or(0);
                    return err(&format!("{r} script: {sha}, on @{chunk}:{line}."));
                }
                return err(&format!("ERR {ext} script: {sha}, on @{chunk}:0."));
            }
            mlua::Error::RuntimeError(msg) => {
                let msg = msg.lines().next().unwrap_or_default();
                let line = msg
                    .strip_prefix(chunk)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .and_then(|rest| rest.split(':').next())
                    .unwrap_or("0");
                return err(&format!("ERR {msg} script: {sha}, on @{chunk}:{line}."));
            }
            other => return err(&format!("ERR {other} script: {sha}, on @{chunk}:0.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{error_text, eval};
    use redkit_resp::Value;

    use crate::engine::Server;
    use crate::state::ServerConfig;

    #[test]
    fn cyclic_replies_end_in_the_stack_limit_error() {
        let server = Server::new(ServerConfig::default());
        let mut reply = eval(&server, "local t = {} t[1] = t return t");
        let mut depth = 0;
        while let Value::Array(mut items) = reply {
            assert_eq!(items.len(), 1);
            reply = items.remove(0);
            depth += 1;
        }
        assert_eq!(depth, crate::lua::REPLY_DEPTH_LIMIT);
        assert_eq!(error_text(&reply), "ERR reached lua stack limit");
        assert_eq!(eval(&server, "return 'alive'"), Value::bulk("alive"));
    }

    #[test]
    fn hostile_scripts_are_errors_not_crashes() {
        let server = Server::new(ServerConfig::default());
        let cases = [
            (
                "local function f(n) return 1 + f(n) end return f(1)",
                "ERR user_script:1: stack overflow script: ",
            ),
            (
                "return unpack({}, 1, 1e8)",
                "ERR user_script:1: too many results to unpack script: ",
            ),
            (
                "return cjson.decode(string.rep('[', 100000))",
                "ERR user_script:1: Found too many nested data structures (1001) at character 1001 script: ",
            ),
            (
                "return cmsgpack.unpack('\\221\\255\\255\\255\\255')",
                "ERR user_script:1: Missing bytes in input. script: ",
            ),
            (
                "return io.popen('id'):read('*a')",
                "ERR user_script:1: Script attempted to access nonexistent global variable 'io' script: ",
            ),
            (
                "\x1bLuaQ\x00return 1",
                "ERR Error compiling script (new function): user_script:1: unexpected symbol near 'char(27)'",
            ),
        ];
        for (script, want) in cases {
            let reply = eval(&server, script);
            assert!(error_text(&reply).starts_with(want), "{script}: {reply:?}");
        }
        assert_eq!(
            eval(&server, "local ok, e = pcall(cjson.decode, '{') return e"),
            Value::bulk("Expected object key string but found T_END at character 2")
        );
    }
}
