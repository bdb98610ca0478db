//! Every family's commands, joined once into the server's [`Registry`] — the one place that lists the families.

use std::sync::OnceLock;

use super::registry::{Decl, Registry};
use super::{
    bitmap, blocking, client, connection, function, geo, hash, hyperloglog, key, list, pubsub, scan,
    scripting, server, set, sort, stream, stream_claim, stream_group, stream_info, string, transaction, zset,
    zset_algebra, zset_pop, zset_range,
};

/// Every family's commands, in registration order (COMMAND lists them in this order).
static FAMILIES: &[&[Decl]] = &[
    string::COMMANDS,
    stream::COMMANDS,
    stream_group::COMMANDS,
    stream_claim::COMMANDS,
    stream_info::COMMANDS,
    scripting::COMMANDS,
    function::COMMANDS,
    sort::COMMANDS,
    geo::COMMANDS,
    hyperloglog::COMMANDS,
    bitmap::COMMANDS,
    key::COMMANDS,
    list::COMMANDS,
    blocking::COMMANDS,
    set::COMMANDS,
    scan::COMMANDS,
    hash::COMMANDS,
    zset::COMMANDS,
    zset_range::COMMANDS,
    zset_pop::COMMANDS,
    zset_algebra::COMMANDS,
    transaction::COMMANDS,
    connection::COMMANDS,
    pubsub::COMMANDS,
    client::COMMANDS,
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
