//! The scripting engine's state ([`Scripts`]): one Lua state, the script cache by SHA1, and the FUNCTION libraries
//! ([`Library`], [`Function`]). The engine is made by the scripting commands (its `redis.*` API calls commands,
//! which live above the state); this module keeps what it holds and answers questions about it.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use mlua::Lua;

/// The scripting engine: one Lua state, the script cache by SHA1, and the function libraries.
pub(crate) struct Scripts {
    lua: Lua,
    /// EVAL's and SCRIPT LOAD's scripts, by lower-case hex SHA1.
    cache: HashMap<String, Bytes>,
    /// FUNCTION LOAD's libraries, by name.
    libraries: BTreeMap<String, Library>,
}

impl std::fmt::Debug for Scripts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripts")
            .field("cached", &self.cache.len())
            .field("libraries", &self.libraries.len())
            .finish_non_exhaustive()
    }
}

/// A registered function.
pub(crate) struct Function {
    pub(crate) callback: mlua::Function,
    pub(crate) flags: Vec<String>,
    pub(crate) description: Option<Bytes>,
}

impl Function {
    /// `true` for a function flagged `no-writes` (FCALL_RO may call it; it may not write).
    pub(crate) fn is_read_only(&self) -> bool {
        self.flags.iter().any(|flag| flag == "no-writes")
    }
}

/// A loaded library: its code and its functions.
pub(crate) struct Library {
    pub(crate) code: Bytes,
    pub(crate) functions: BTreeMap<String, Function>,
}

impl Scripts {
    /// An engine around a prepared Lua state, with no scripts and no libraries.
    pub(crate) fn new(lua: Lua) -> Scripts {
        Scripts {
            lua,
            cache: HashMap::new(),
            libraries: BTreeMap::new(),
        }
    }

    /// The Lua state scripts run in.
    pub(crate) fn lua(&self) -> &Lua {
        &self.lua
    }

    /// Keep a script's body under its SHA1 (EVAL, SCRIPT LOAD).
    pub(crate) fn cache(&mut self, sha: String, body: Bytes) {
        self.cache.insert(sha, body);
    }

    /// A cached script's body (EVALSHA).
    pub(crate) fn cached(&self, sha: &str) -> Option<&Bytes> {
        self.cache.get(sha)
    }

    /// SCRIPT FLUSH: forget every cached script (the libraries stay).
    pub(crate) fn flush_cache(&mut self) {
        self.cache.clear();
    }

    /// `true` when a library of that name is loaded.
    pub(crate) fn has_library(&self, name: &str) -> bool {
        self.libraries.contains_key(name)
    }

    /// The library other than `except` that registers function `name`, if any (a function name is server-wide).
    pub(crate) fn function_owner(&self, name: &str, except: &str) -> Option<&str> {
        self.libraries
            .iter()
            .find(|(lib, l)| lib.as_str() != except && l.functions.contains_key(name))
            .map(|(lib, _)| lib.as_str())
    }

    /// Load (or replace) a library.
    pub(crate) fn add_library(&mut self, name: String, library: Library) {
        self.libraries.insert(name, library);
    }

    /// FUNCTION DELETE: the removed library, `None` when there was none.
    pub(crate) fn remove_library(&mut self, name: &str) -> Option<Library> {
        self.libraries.remove(name)
    }

    /// FUNCTION FLUSH: forget every library.
    pub(crate) fn clear_libraries(&mut self) {
        self.libraries.clear();
    }

    /// Every library, by name.
    pub(crate) fn libraries(&self) -> impl Iterator<Item = (&str, &Library)> {
        self.libraries.iter().map(|(name, lib)| (name.as_str(), lib))
    }

    /// A function by name, in whichever library registers it.
    pub(crate) fn function(&self, name: &str) -> Option<&Function> {
        self.libraries.values().find_map(|l| l.functions.get(name))
    }

    /// How many libraries and functions are loaded (FUNCTION STATS).
    pub(crate) fn counts(&self) -> (usize, usize) {
        (
            self.libraries.len(),
            self.libraries.values().map(|l| l.functions.len()).sum(),
        )
    }
}
