//! Every family's commands, joined once into the server's [`Registry`] — the one place that lists the families.

use std::sync::OnceLock;

use super::registry::{Decl, Registry};
use super::{
    bitmaps, blocking, clients, connection, functions, geo, groups, hashes, hyperloglog, keys, lists, pubsub,
    scan, scripting, server, sets, sort, streams, strings, transactions, zsets,
};

/// Every family's commands, in registration order (COMMAND lists them in this order).
static FAMILIES: &[&[Decl]] = &[
    strings::COMMANDS,
    streams::COMMANDS,
    groups::COMMANDS,
    scripting::COMMANDS,
    functions::COMMANDS,
    sort::COMMANDS,
    geo::COMMANDS,
    hyperloglog::COMMANDS,
    bitmaps::COMMANDS,
    keys::COMMANDS,
    lists::COMMANDS,
    blocking::COMMANDS,
    sets::COMMANDS,
    scan::COMMANDS,
    hashes::COMMANDS,
    zsets::COMMANDS,
    transactions::COMMANDS,
    connection::COMMANDS,
    pubsub::COMMANDS,
    clients::COMMANDS,
    server::COMMANDS,
];

/// The server's commands, built on first use.
pub(crate) fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::new(FAMILIES))
}

#[cfg(test)]
mod tests {
    use redkit_resp::command::command_info;

    use super::*;

    #[test]
    fn every_declaration_is_known() {
        let mut seen = std::collections::HashSet::new();
        for name in Registry::declared(FAMILIES) {
            assert!(
                command_info(name.as_bytes()).is_some_and(|i| i.name == name),
                "{name} is not in the command table"
            );
            assert!(seen.insert(name), "{name} is declared twice");
        }
        let registry = registry();
        assert_eq!(registry.count(), seen.len());
        assert!(
            registry
                .lookup(b"get")
                .is_some_and(|c| !c.stores_args && c.accepts_arity(2))
        );
        assert!(registry.lookup(b"auth").is_some_and(|c| c.no_auth));
        assert!(
            registry.lookup(b"GET").is_none(),
            "the registry is keyed by lower-case names"
        );
    }
}
