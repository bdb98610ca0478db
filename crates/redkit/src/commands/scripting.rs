//! Lua scripts and functions. For scripts you call repeatedly, [`Script`](crate::Script) handles EVALSHA and the
//! NOSCRIPT fallback for you.

use redkit_resp::{Cmd, ToArg};

use super::commands;

/// `numkeys key… arg…`.
fn keys_args(cmd: Cmd, keys: &[impl ToArg], args: impl ToArg) -> Cmd {
    cmd.arg(keys.len()).arg(keys).arg(args)
}

commands! {
    /// Scripting and function commands.
    pub trait ScriptingCommands {
        /// EVAL: run a Lua script.
        fn eval<V>(script: impl ToArg, keys: &[impl ToArg], args: impl ToArg) -> V {
            keys_args(Cmd::new("EVAL").arg(script), keys, args)
        }
        /// EVALSHA: run a loaded script by SHA1 (NOSCRIPT if not loaded).
        fn evalsha<V>(sha1: impl ToArg, keys: &[impl ToArg], args: impl ToArg) -> V {
            keys_args(Cmd::new("EVALSHA").arg(sha1), keys, args)
        }
        /// EVAL_RO: run a read-only script (writes are refused).
        fn eval_ro<V>(script: impl ToArg, keys: &[impl ToArg], args: impl ToArg) -> V {
            keys_args(Cmd::new("EVAL_RO").arg(script), keys, args)
        }
        /// EVALSHA_RO: run a loaded read-only script.
        fn evalsha_ro<V>(sha1: impl ToArg, keys: &[impl ToArg], args: impl ToArg) -> V {
            keys_args(Cmd::new("EVALSHA_RO").arg(sha1), keys, args)
        }
        /// SCRIPT LOAD: load a script; its SHA1.
        fn script_load(script: impl ToArg) -> String { Cmd::new("SCRIPT").arg("LOAD").arg(script) }
        /// SCRIPT EXISTS: whether each SHA1 is loaded.
        fn script_exists(sha1s: impl ToArg) -> Vec<bool> { Cmd::new("SCRIPT").arg("EXISTS").arg(sha1s) }
        /// SCRIPT FLUSH: unload every script.
        fn script_flush() -> () { Cmd::new("SCRIPT").arg("FLUSH") }
        /// SCRIPT KILL: stop the running script (if it has not written).
        fn script_kill() -> () { Cmd::new("SCRIPT").arg("KILL") }
        /// FUNCTION LOAD: load a library (`#!lua name=…`); its name.
        fn function_load(code: impl ToArg, replace: bool) -> String {
            Cmd::new("FUNCTION").arg("LOAD").arg(replace.then_some("REPLACE")).arg(code)
        }
        /// FUNCTION LIST: the libraries, optionally filtered by a name pattern, as raw descriptions.
        fn function_list(pattern: Option<&str>) -> redkit_resp::Value {
            Cmd::new("FUNCTION").arg("LIST").arg(pattern.map(|p| ("LIBRARYNAME", p)))
        }
        /// FUNCTION DELETE: delete a library.
        fn function_delete(library: impl ToArg) -> () { Cmd::new("FUNCTION").arg("DELETE").arg(library) }
        /// FUNCTION FLUSH: delete every library.
        fn function_flush() -> () { Cmd::new("FUNCTION").arg("FLUSH") }
        /// FCALL: call a function.
        fn fcall<V>(function: impl ToArg, keys: &[impl ToArg], args: impl ToArg) -> V {
            keys_args(Cmd::new("FCALL").arg(function), keys, args)
        }
        /// FCALL_RO: call a read-only function.
        fn fcall_ro<V>(function: impl ToArg, keys: &[impl ToArg], args: impl ToArg) -> V {
            keys_args(Cmd::new("FCALL_RO").arg(function), keys, args)
        }
    }
}
