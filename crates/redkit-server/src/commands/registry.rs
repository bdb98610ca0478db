//! The registry: what a handler is ([`Handler`], working on a [`Ctx`]), how each family file declares its commands
//! ([`Decl`]: a name and a handler, plus the two behaviours that are the server's own), and the [`Registry`] that
//! joins the declarations with the command table (`redkit_resp::command`) into [`CommandSpec`]s. Arity, flags, key
//! positions, ACL categories and docs are the table's; no list of command facts is kept here.
//!
//! These types refer to one another (a handler takes a `Ctx`, a `Ctx` carries the registry, the registry holds
//! handlers), so they share this module; it imports nothing else of the command layer. The registry itself is
//! built once from every family's declarations by `families.rs`, and reaches handlers through [`Ctx::registry`].

use bytes::Bytes;
use redkit_resp::Value;
use redkit_resp::command::{CommandFlags, CommandInfo, command_info};

use crate::state::{Db, Session, State};

/// A handler's result: the reply, or an error reply (`Err` so `?` works in handlers).
pub(crate) type Reply = Result<Value, Value>;

/// A command handler.
pub(crate) type Handler = fn(&mut Ctx<'_>, &[Bytes]) -> Reply;

/// What a command handler works with: the server state, its session, the time, and the commands it may look up
/// or run (COMMAND, EXEC, `redis.call`).
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a mut State,
    pub(crate) session: &'a mut Session,
    pub(crate) now: i64,
    pub(crate) registry: &'static Registry,
}

impl Ctx<'_> {
    /// The session's database.
    pub(crate) fn db(&mut self) -> &mut Db {
        let i = self.session.db_index();
        &mut self.state.dbs[i]
    }
}

/// A command as its family file declares it.
pub(crate) struct Decl {
    name: &'static str,
    apply: Handler,
    immediate: bool,
    in_subscribed_mode: bool,
    runs_script: bool,
}

impl Decl {
    /// The command `name` (lower case, as the command table spells it), applied by `apply`.
    pub(crate) const fn new(name: &'static str, apply: Handler) -> Decl {
        Decl {
            name,
            apply,
            immediate: false,
            in_subscribed_mode: false,
            runs_script: false,
        }
    }

    /// Runs at once even inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET), as
    /// Redis's `processCommand` decides by handler.
    pub(crate) const fn immediate(mut self) -> Decl {
        self.immediate = true;
        self
    }

    /// Allowed in RESP2 subscribed mode (PING, the (UN)SUBSCRIBE family, QUIT, RESET).
    pub(crate) const fn in_subscribed_mode(mut self) -> Decl {
        self.in_subscribed_mode = true;
        self
    }

    /// Runs a script (EVAL, FCALL and their variants): its batch goes to a blocking thread, so the connection's
    /// task does not hold the runtime while the script holds the server lock.
    pub(crate) const fn runs_script(mut self) -> Decl {
        self.runs_script = true;
        self
    }
}

/// A registered command: its handler and server behaviours joined with its command-table entry.
pub(crate) struct CommandSpec {
    /// Lower-case name, as Redis reports it in errors.
    pub(crate) name: &'static str,
    /// What Redis's command table says about it.
    pub(crate) info: &'static CommandInfo,
    pub(crate) apply: Handler,
    /// Allowed before AUTH (Redis's `no_auth` flag).
    pub(crate) no_auth: bool,
    /// Runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET).
    pub(crate) not_queued: bool,
    /// Allowed in RESP2 subscribed mode.
    pub(crate) in_subscribed_mode: bool,
    /// Runs a script ([`Decl::runs_script`]).
    pub(crate) runs_script: bool,
    /// May keep its arguments (anything but a read-only command: writes, but also WATCH, SUBSCRIBE, CLIENT
    /// SETNAME…): a connection gives such a command a copy of its arguments rather than slices of its read buffer.
    pub(crate) stores_args: bool,
}

impl CommandSpec {
    /// `true` when `argc` words (the name included) satisfy the command's arity.
    pub(crate) fn accepts_arity(&self, argc: usize) -> bool {
        self.info.accepts_arity(argc)
    }

    /// `true` for commands Redis flags `write` (refused while the append-only store cannot be written).
    pub(crate) fn is_write(&self) -> bool {
        self.info.flags.contains(CommandFlags::WRITE)
    }

    /// The key arguments of a command (`args[0]` is its name), for CLIENT TRACKING and COMMAND GETKEYS.
    pub(crate) fn keys(&self, args: &[Bytes]) -> Vec<Bytes> {
        let spec = self;
        // Keys that move with the arguments (ZUNIONSTORE's numkeys, XREAD's STREAMS, EVAL's numkeys…): by the key
        // specifications; where they do not apply (SORT's STORE, a bad count), by the legacy range, as Redis falls
        // back to its own key finders.
        if spec.info.flags.contains(CommandFlags::MOVABLEKEYS) {
            let words: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
            if let Some(positions) = spec.info.key_positions(&words) {
                return positions
                    .into_iter()
                    .filter_map(|i| args.get(i).cloned())
                    .collect();
            }
        }
        let keys = spec.info.keys;
        let (first, last, step) = (keys.first, keys.last, keys.step);
        if first <= 0 || step <= 0 || args.len() <= first as usize {
            return Vec::new();
        }
        let last = if last < 0 {
            args.len().saturating_sub(last.unsigned_abs() as usize)
        } else {
            (last as usize).min(args.len() - 1)
        };
        (first as usize..=last)
            .step_by(step as usize)
            .filter_map(|i| args.get(i).cloned())
            .collect()
    }
}

/// Every command the server implements, by name.
pub(crate) struct Registry {
    commands: Vec<CommandSpec>,
    /// Looked up once per command: a fast hash of a short name beats SipHash (and the table's binary search) here.
    index: rustc_hash::FxHashMap<&'static [u8], usize>,
    /// The lower-case first bytes of the commands that run scripts: most commands are ruled out by their first
    /// byte before any lookup (every batch asks [`Registry::runs_script`] of each of its commands).
    script_initials: [bool; 256],
}

impl Registry {
    /// Join the families' declarations with the command table. A declared name the table does not know is left
    /// out (and fails the `every_declaration_is_known` test of `families.rs`), so a typo cannot reach a user.
    pub(crate) fn new(families: &[&[Decl]]) -> Registry {
        let commands: Vec<CommandSpec> = families
            .iter()
            .flat_map(|family| family.iter())
            .filter_map(|decl| {
                let info = command_info(decl.name.as_bytes()).filter(|info| info.name == decl.name)?;
                Some(CommandSpec {
                    name: info.name,
                    info,
                    apply: decl.apply,
                    no_auth: info.flags.contains(CommandFlags::NO_AUTH),
                    not_queued: decl.immediate,
                    in_subscribed_mode: decl.in_subscribed_mode,
                    runs_script: decl.runs_script,
                    stores_args: !info.flags.contains(CommandFlags::READONLY),
                })
            })
            .collect();
        let index = commands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_bytes(), i))
            .collect();
        let mut script_initials = [false; 256];
        for spec in commands.iter().filter(|c| c.runs_script) {
            if let Some(&first) = spec.name.as_bytes().first() {
                script_initials[usize::from(first)] = true;
            }
        }
        Registry {
            commands,
            index,
            script_initials,
        }
    }

    /// The spec of a command by lower-case name.
    pub(crate) fn lookup(&self, name: &[u8]) -> Option<&CommandSpec> {
        self.index.get(name).and_then(|&i| self.commands.get(i))
    }

    /// `true` when `name` (any case) is a command that runs a script ([`Decl::runs_script`]).
    pub(crate) fn runs_script(&self, name: &[u8]) -> bool {
        let Some(&first) = name.first() else {
            return false;
        };
        if !self.script_initials[usize::from(first.to_ascii_lowercase())] {
            return false;
        }
        let mut lower = [0u8; 16];
        let Some(lower) = lower.get_mut(..name.len()) else {
            return false;
        };
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.lookup(lower).is_some_and(|spec| spec.runs_script)
    }

    /// How many commands the server knows.
    pub(crate) fn count(&self) -> usize {
        self.commands.len()
    }

    /// Every command, in registration order.
    pub(crate) fn commands(&self) -> &[CommandSpec] {
        &self.commands
    }

    /// The declared names, for the start-up check.
    #[cfg(test)]
    pub(crate) fn declared(families: &[&[Decl]]) -> impl Iterator<Item = &'static str> {
        families
            .iter()
            .flat_map(|f| f.iter())
            .map(|d| d.name)
            .collect::<Vec<_>>()
            .into_iter()
    }
}
