//! `cjson`: Lua CJSON 2.1.0 as Redis vendors it — `encode`/`decode` with its number formatting (`%.14g`), its
//! array/object rules (an empty table is `{}`, excessively sparse arrays are an error), `cjson.null`, its escapes
//! (`/` as `\/`), its error texts, and its settings (`encode_max_depth`/`decode_max_depth` 1000 by default, …).
//!
//! Settings persist across scripts, as in Redis (they live with the Lua state). One difference: nesting deeper than
//! the structure cap of this crate (4000 levels decoding, 2000 encoding, where Redis stops at its Lua stack of 8000
//! slots) is refused with the same "too many nested" / "excessive nesting" errors even if the depth setting is
//! raised above it.

//!
//! `config.rs` holds the settings and the functions that change them, `encode.rs` the encoder (and with it the
//! number formatting), `decode.rs` the parser over the tokenizer of `lexer.rs`, `number.rs` C's `strtod`.

mod config;
mod decode;
mod encode;
mod lexer;
mod number;

use std::sync::{Arc, Mutex};

use mlua::{Lua, Table, Value as LuaValue};

use super::support::{LibFn, results};
use config::{Config, Shared, config};
use decode::null;

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
    let mut functions: Vec<(&'static str, LibFn)> = vec![
        ("encode", {
            let shared = s();
            let encoder: mlua::Function = lua.load(encode::ENCODER).set_name("=[C]").call(null())?;
            Box::new(move |lua, args| encode::encode_fn(lua, &encoder, &config(&shared), &args))
        }),
        ("decode", {
            let shared = s();
            Box::new(move |lua, args| decode::decode_fn(lua, &config(&shared), &args))
        }),
    ];
    functions.extend(config::functions(&shared));
    functions.push((
        "new",
        Box::new(|lua, _| results(vec![LuaValue::Table(instance(lua)?)])),
    ));
    let t = super::support::library(lua, functions)?;
    t.raw_set("null", null())?;
    Ok(t)
}
