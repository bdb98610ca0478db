//! The registry: each family file declares its commands ([`Decl`]: a name and a handler, and the two behaviours
//! that are the server's own), and the registry joins them with the command table (`redkit_resp::command`) once,
//! at start-up, into [`CommandSpec`]s. Arity, flags, key positions, ACL categories and docs are the table's; no
//! list of command facts is kept here.
//!
//! A declared name the table does not know is left out of the registry (and fails the `every_declaration_is_known`
//! test), so a typo cannot reach a user.

use std::sync::OnceLock;

use redkit_resp::command::{CommandFlags, CommandInfo, command_info};

use super::{FAMILIES, Handler};

/// A command as its family file declares it.
pub(crate) struct Decl {
    name: &'static str,
    apply: Handler,
    immediate: bool,
    in_subscribed_mode: bool,
}

impl Decl {
    /// The command `name` (lower case, as the command table spells it), applied by `apply`.
    pub(crate) const fn new(name: &'static str, apply: Handler) -> Decl {
        Decl {
            name,
            apply,
            immediate: false,
            in_subscribed_mode: false,
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
    /// May keep its arguments (anything but a read-only command: writes, but also WATCH, SUBSCRIBE, CLIENT
    /// SETNAME…): a connection gives such a command a copy of its arguments rather than slices of its read buffer.
    pub(crate) stores_args: bool,
}

impl CommandSpec {
    /// `true` when `argc` words (the name included) satisfy the command's arity.
    pub(crate) fn accepts_arity(&self, argc: usize) -> bool {
        self.info.accepts_arity(argc)
    }
}

struct Registry {
    commands: Vec<CommandSpec>,
    /// Looked up once per command: a fast hash of a short name beats SipHash (and the table's binary search) here.
    index: rustc_hash::FxHashMap<&'static [u8], usize>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let commands: Vec<CommandSpec> = FAMILIES
            .iter()
            .flat_map(|family| family.iter())
            .filter_map(|decl| {
                let info = command_info(decl.name.as_bytes())?;
                Some(CommandSpec {
                    name: info.name,
                    info,
                    apply: decl.apply,
                    no_auth: info.flags.contains(CommandFlags::NO_AUTH),
                    not_queued: decl.immediate,
                    in_subscribed_mode: decl.in_subscribed_mode,
                    stores_args: !info.flags.contains(CommandFlags::READONLY),
                })
            })
            .collect();
        let index = commands
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_bytes(), i))
            .collect();
        Registry { commands, index }
    })
}

/// `true` for commands Redis flags `write` (refused while the append-only store cannot be written).
pub(crate) fn is_write(spec: &CommandSpec) -> bool {
    spec.info.flags.contains(CommandFlags::WRITE)
}

/// The spec of a command by lower-case name.
pub(crate) fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let registry = registry();
    registry.index.get(name).and_then(|&i| registry.commands.get(i))
}

/// The spec of a command by lower-case name, and whether it may store its arguments
/// ([`CommandSpec::stores_args`]).
pub(crate) fn lookup_with_storage(name: &[u8]) -> Option<(&'static CommandSpec, bool)> {
    lookup(name).map(|spec| (spec, spec.stores_args))
}

/// How many commands the server knows.
pub(crate) fn count() -> usize {
    registry().commands.len()
}

/// Every command, in registration order.
pub(crate) fn table() -> &'static [CommandSpec] {
    &registry().commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declaration_is_known() {
        let mut seen = std::collections::HashSet::new();
        for decl in FAMILIES.iter().flat_map(|f| f.iter()) {
            assert!(
                command_info(decl.name.as_bytes()).is_some(),
                "{} is not in the command table",
                decl.name
            );
            assert!(
                command_info(decl.name.as_bytes()).is_some_and(|i| i.name == decl.name),
                "{}",
                decl.name
            );
            assert!(seen.insert(decl.name), "{} is declared twice", decl.name);
        }
        assert_eq!(count(), seen.len());
        assert!(lookup(b"get").is_some_and(|c| !c.stores_args && c.accepts_arity(2)));
        assert!(lookup(b"auth").is_some_and(|c| c.no_auth));
        assert!(
            lookup(b"GET").is_none(),
            "the registry is keyed by lower-case names"
        );
    }
}
