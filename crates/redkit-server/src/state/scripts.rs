//! The scripting engine's state ([`Scripts`]): one Lua state, the script cache by SHA1, and the FUNCTION libraries ([`Library`], [`Function`]).

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use mlua::Lua;

/// The scripting engine: one Lua state, the script cache by SHA1, and the function libraries.
pub(crate) struct Scripts {
    pub(crate) lua: Lua,
    pub(crate) cache: HashMap<String, Bytes>,
    /// FUNCTION LOAD's libraries, by name.
    pub(crate) libraries: BTreeMap<String, Library>,
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripts")
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

/// A registered function.
pub(crate) struct Function {
    pub(crate) callback: mlua::Function,
    pub(crate) flags: Vec<String>,
    pub(crate) description: Option<Bytes>,
}

/// A loaded library: its code and its functions.
pub(crate) struct Library {
    pub(crate) code: Bytes,
    pub(crate) functions: BTreeMap<String, Function>,
}
