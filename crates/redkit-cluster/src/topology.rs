//! The cluster's shape: which node serves which slots ([`Topology`], [`Shard`], [`NodeAddr`]), read from
//! `CLUSTER SHARDS` (Redis 7) or `CLUSTER SLOTS` (older servers), and the slot table built from it.
//!
//! Parsing is strict about shape and lenient about extra fields: a reply that is not what Redis sends is a
//! [`TopologyError`], never a panic, and fields a newer server adds are ignored.

use std::fmt;

use bytes::Bytes;
use redkit_resp::Value;

use crate::slot::SLOTS;

/// A node's address, as the cluster announces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeAddr {
    /// Host name or IP address.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl NodeAddr {
    /// An address from `host:port` (the form MOVED and ASK use; an IPv6 host may contain colons, the port is after
    /// the last one).
    pub fn parse(text: &str) -> Option<NodeAddr> {
        let (host, port) = text.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        Some(NodeAddr {
            host: host.to_owned(),
            port: port.parse().ok()?,
        })
    }

    /// `redis://host:port`, for connecting.
    pub fn url(&self) -> String {
        if self.host.contains(':') {
            format!("redis://[{}]:{}", self.host, self.port)
        } else {
            format!("redis://{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// One primary with its replicas and the slot ranges it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    /// The primary.
    pub primary: NodeAddr,
    /// Its replicas that are online.
    pub replicas: Vec<NodeAddr>,
    /// Inclusive slot ranges, sorted.
    pub slots: Vec<(u16, u16)>,
}

/// Which shard serves each of the 16384 slots.
#[derive(Clone, PartialEq, Eq)]
pub struct Topology {
    shards: Vec<Shard>,
    /// Slot → index into `shards`; `u16::MAX` for a slot no shard serves.
    table: Box<[u16]>,
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Topology")
            .field("shards", &self.shards)
            .field("covered", &self.covered())
            .finish()
    }
}

const NONE: u16 = u16::MAX;

/// A topology reply that is not what Redis sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected cluster topology reply: {0}")]
pub struct TopologyError(pub String);

fn bad(what: &str) -> TopologyError {
    TopologyError(what.to_owned())
}

impl Topology {
    /// A topology from its shards. A slot claimed by two shards goes to the later one (as a table patched in
    /// order would); slots out of range are refused.
    pub fn from_shards(shards: Vec<Shard>) -> Result<Topology, TopologyError> {
        let mut table = vec![NONE; usize::from(SLOTS)].into_boxed_slice();
        for (i, shard) in shards.iter().enumerate() {
            let index = u16::try_from(i).map_err(|_| bad("more shards than slots"))?;
            for &(start, end) in &shard.slots {
                if start > end || end >= SLOTS {
                    return Err(bad(&format!("slot range {start}-{end}")));
                }
                for slot in start..=end {
                    table[usize::from(slot)] = index;
                }
            }
        }
        Ok(Topology { shards, table })
    }

    /// The same view in a canonical order (shards by primary, replicas sorted), so that two nodes' views compare
    /// equal when they agree.
    pub fn normalized(mut self) -> Topology {
        for shard in &mut self.shards {
            shard.replicas.sort();
        }
        self.shards.sort_by(|a, b| a.primary.cmp(&b.primary));
        Topology::from_shards(self.shards.clone()).unwrap_or(self)
    }

    /// The shards, in the order the server listed them.
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// The shard serving `slot`, if any.
    pub fn shard_for(&self, slot: u16) -> Option<&Shard> {
        let index = *self.table.get(usize::from(slot))?;
        self.shards.get(usize::from(index))
    }

    /// The primary serving `slot`, if any.
    pub fn primary_for(&self, slot: u16) -> Option<&NodeAddr> {
        self.shard_for(slot).map(|s| &s.primary)
    }

    /// How many slots some shard serves (16384 when the cluster is whole).
    pub fn covered(&self) -> usize {
        self.table.iter().filter(|&&i| i != NONE).count()
    }

    /// Every primary, once each.
    pub fn primaries(&self) -> impl Iterator<Item = &NodeAddr> {
        self.shards.iter().map(|s| &s.primary)
    }

    /// Every node: primaries and replicas.
    pub fn nodes(&self) -> impl Iterator<Item = &NodeAddr> {
        self.shards
            .iter()
            .flat_map(|s| std::iter::once(&s.primary).chain(s.replicas.iter()))
    }

    /// Point `slot` at `primary` (after a MOVED): the shard of that primary when one is known, else a new shard
    /// holding that slot only. The next refresh replaces the patch with the cluster's own view.
    pub fn patch(&mut self, slot: u16, primary: &NodeAddr) {
        if slot >= SLOTS {
            return;
        }
        let index = match self.shards.iter().position(|s| &s.primary == primary) {
            Some(i) => i,
            None => {
                self.shards.push(Shard {
                    primary: primary.clone(),
                    replicas: Vec::new(),
                    slots: Vec::new(),
                });
                self.shards.len() - 1
            }
        };
        if let Ok(index) = u16::try_from(index) {
            self.table[usize::from(slot)] = index;
        }
    }

    /// Parse a `CLUSTER SHARDS` reply (RESP2 arrays of name/value pairs or RESP3 maps). `asked` is the node the
    /// reply came from: a node that does not know its own address announces an empty endpoint, meaning "the
    /// address you reached me at".
    pub fn from_cluster_shards(reply: &Value, asked: &NodeAddr) -> Result<Topology, TopologyError> {
        let Value::Array(shards) = reply else {
            return Err(bad("CLUSTER SHARDS did not answer an array"));
        };
        let mut out = Vec::new();
        for shard in shards {
            let fields = pairs(shard).ok_or_else(|| bad("a shard is not a map"))?;
            let slots = field(&fields, "slots").ok_or_else(|| bad("a shard has no slots"))?;
            let Value::Array(bounds) = slots else {
                return Err(bad("a shard's slots are not an array"));
            };
            if bounds.len() % 2 != 0 {
                return Err(bad("a shard's slots are not pairs"));
            }
            let mut ranges = Vec::new();
            for pair in bounds.chunks(2) {
                ranges.push((slot_number(&pair[0])?, slot_number(&pair[1])?));
            }
            let Some(Value::Array(nodes)) = field(&fields, "nodes") else {
                return Err(bad("a shard has no nodes"));
            };
            let (mut primary, mut replicas) = (None, Vec::new());
            for node in nodes {
                let node = pairs(node).ok_or_else(|| bad("a node is not a map"))?;
                let text = |name: &str| field(&node, name).and_then(value_text);
                let host = match text("endpoint").filter(|e| !e.is_empty() && e != "?") {
                    Some(endpoint) => endpoint,
                    None => match text("ip").filter(|ip| !ip.is_empty()) {
                        Some(ip) => ip,
                        None => asked.host.clone(),
                    },
                };
                let port = field(&node, "port")
                    .or_else(|| field(&node, "tls-port"))
                    .and_then(integer)
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| bad("a node has no port"))?;
                let addr = NodeAddr { host, port };
                let online = text("health").is_none_or(|h| h == "online");
                match text("role").as_deref() {
                    // After a failover the old primary may still be listed as `master` while it is down: an
                    // online primary wins over one that is not.
                    Some("master") if online || primary.is_none() => primary = Some(addr),
                    Some("master") => {}
                    _ if online => replicas.push(addr),
                    _ => {}
                }
            }
            // A shard without slots (a primary being added, or a replica group whose primary failed and has
            // not been replaced yet) serves nothing: leave it out.
            if let Some(primary) = primary
                && !ranges.is_empty()
            {
                ranges.sort_unstable();
                out.push(Shard {
                    primary,
                    replicas,
                    slots: ranges,
                });
            }
        }
        Topology::from_shards(out)
    }

    /// Parse a `CLUSTER SLOTS` reply: `[start, end, [host, port, id, …], replica…]` per range.
    pub fn from_cluster_slots(reply: &Value, asked: &NodeAddr) -> Result<Topology, TopologyError> {
        let Value::Array(ranges) = reply else {
            return Err(bad("CLUSTER SLOTS did not answer an array"));
        };
        let mut shards: Vec<Shard> = Vec::new();
        for range in ranges {
            let Value::Array(parts) = range else {
                return Err(bad("a slot range is not an array"));
            };
            let [start, end, nodes @ ..] = parts.as_slice() else {
                return Err(bad("a slot range is too short"));
            };
            let (start, end) = (slot_number(start)?, slot_number(end)?);
            let mut addrs = Vec::new();
            for node in nodes {
                let Value::Array(node) = node else {
                    return Err(bad("a slot range's node is not an array"));
                };
                let host = node
                    .first()
                    .and_then(value_text)
                    .filter(|h| !h.is_empty() && h != "?");
                let port = node
                    .get(1)
                    .and_then(integer)
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| bad("a node has no port"))?;
                addrs.push(NodeAddr {
                    host: host.unwrap_or_else(|| asked.host.clone()),
                    port,
                });
            }
            let mut addrs = addrs.into_iter();
            let Some(primary) = addrs.next() else {
                return Err(bad("a slot range has no primary"));
            };
            match shards.iter_mut().find(|s| s.primary == primary) {
                Some(shard) => shard.slots.push((start, end)),
                None => shards.push(Shard {
                    primary,
                    replicas: addrs.collect(),
                    slots: vec![(start, end)],
                }),
            }
        }
        for shard in &mut shards {
            shard.slots.sort_unstable();
        }
        Topology::from_shards(shards)
    }
}

/// A map's entries, from a RESP3 map or a RESP2 flat array of names and values.
fn pairs(value: &Value) -> Option<Vec<(&Value, &Value)>> {
    match value {
        Value::Map(entries) => Some(entries.iter().map(|(k, v)| (k, v)).collect()),
        Value::Array(flat) if flat.len() % 2 == 0 => Some(flat.chunks(2).map(|p| (&p[0], &p[1])).collect()),
        _ => None,
    }
}

fn field<'a>(fields: &[(&Value, &'a Value)], name: &str) -> Option<&'a Value> {
    fields
        .iter()
        .find(|(k, _)| value_text(k).is_some_and(|k| k == name))
        .map(|(_, v)| *v)
}

fn value_text(value: &Value) -> Option<String> {
    let bytes: &Bytes = match value {
        Value::BulkString(b) | Value::SimpleString(b) | Value::VerbatimString { text: b, .. } => b,
        _ => return None,
    };
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(n) => Some(*n),
        other => value_text(other)?.parse().ok(),
    }
}

fn slot_number(value: &Value) -> Result<u16, TopologyError> {
    integer(value)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| *n < SLOTS)
        .ok_or_else(|| bad("a slot number out of range"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn b(s: &str) -> Value {
        Value::BulkString(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn node(port: i64, role: &str, health: &str) -> Value {
        Value::Array(vec![
            b("id"),
            b("abc"),
            b("port"),
            Value::Integer(port),
            b("ip"),
            b("127.0.0.1"),
            b("endpoint"),
            b("127.0.0.1"),
            b("role"),
            b(role),
            b("replication-offset"),
            Value::Integer(0),
            b("health"),
            b(health),
        ])
    }

    fn shard(slots: &[i64], nodes: Vec<Value>) -> Value {
        Value::Array(vec![
            b("slots"),
            Value::Array(slots.iter().map(|s| Value::Integer(*s)).collect()),
            b("nodes"),
            Value::Array(nodes),
        ])
    }

    fn asked() -> NodeAddr {
        NodeAddr::parse("10.0.0.1:7000").unwrap()
    }

    #[test]
    fn parses_cluster_shards() {
        let reply = Value::Array(vec![
            shard(
                &[0, 5460, 10000, 10001],
                vec![node(7000, "master", "online"), node(7003, "replica", "online")],
            ),
            shard(
                &[5461, 9999, 10002, 16383],
                vec![node(7001, "master", "online"), node(7004, "replica", "failed")],
            ),
            // A shard with no slots serves nothing.
            shard(&[], vec![node(7009, "master", "online")]),
        ]);
        let topology = Topology::from_cluster_shards(&reply, &asked()).unwrap();
        assert_eq!(topology.covered(), 16384);
        assert_eq!(topology.shards().len(), 2);
        assert_eq!(topology.primary_for(0).unwrap().port, 7000);
        assert_eq!(topology.primary_for(10001).unwrap().port, 7000);
        assert_eq!(topology.primary_for(10002).unwrap().port, 7001);
        assert_eq!(topology.shard_for(0).unwrap().replicas.len(), 1);
        assert!(
            topology.shard_for(6000).unwrap().replicas.is_empty(),
            "failed replicas are left out"
        );
        assert_eq!(topology.nodes().count(), 3);
    }

    #[test]
    fn an_empty_endpoint_is_the_node_asked() {
        let lonely = Value::Array(vec![
            b("port"),
            Value::Integer(7399),
            b("ip"),
            b(""),
            b("endpoint"),
            b(""),
            b("role"),
            b("master"),
        ]);
        let reply = Value::Array(vec![shard(&[0, 16383], vec![lonely])]);
        let topology = Topology::from_cluster_shards(&reply, &asked()).unwrap();
        assert_eq!(topology.primary_for(42).unwrap().to_string(), "10.0.0.1:7399");
    }

    #[test]
    fn parses_cluster_slots() {
        let range = |start, end, ports: &[i64]| {
            let mut v = vec![Value::Integer(start), Value::Integer(end)];
            for p in ports {
                v.push(Value::Array(vec![b("127.0.0.1"), Value::Integer(*p), b("id")]));
            }
            Value::Array(v)
        };
        let reply = Value::Array(vec![
            range(0, 100, &[7000, 7003]),
            range(101, 16383, &[7001]),
            range(50, 60, &[7000]),
        ]);
        let topology = Topology::from_cluster_slots(&reply, &asked()).unwrap();
        assert_eq!(topology.covered(), 16384);
        assert_eq!(topology.shards().len(), 2);
        assert_eq!(topology.shards()[0].slots, vec![(0, 100), (50, 60)]);
        assert_eq!(topology.primary_for(55).unwrap().port, 7000);
    }

    #[test]
    fn hostile_replies_are_errors() {
        let a = asked();
        for reply in [
            Value::Integer(1),
            Value::Array(vec![Value::Integer(1)]),
            Value::Array(vec![shard(&[0], vec![node(7000, "master", "online")])]),
            Value::Array(vec![shard(&[0, 16384], vec![node(7000, "master", "online")])]),
            Value::Array(vec![shard(&[-1, 5], vec![node(7000, "master", "online")])]),
            Value::Array(vec![shard(&[10, 5], vec![node(7000, "master", "online")])]),
            Value::Array(vec![shard(&[0, 5], vec![node(70000, "master", "online")])]),
        ] {
            assert!(Topology::from_cluster_shards(&reply, &a).is_err(), "{reply:?}");
        }
        for reply in [
            Value::Null,
            Value::Array(vec![Value::Array(vec![Value::Integer(0)])]),
            Value::Array(vec![Value::Array(vec![Value::Integer(0), Value::Integer(5)])]),
            Value::Array(vec![Value::Array(vec![
                Value::Integer(0),
                Value::Integer(5),
                Value::Array(vec![b("h")]),
            ])]),
        ] {
            assert!(Topology::from_cluster_slots(&reply, &a).is_err(), "{reply:?}");
        }
    }

    #[test]
    fn patches_and_addresses() {
        let mut topology = Topology::from_shards(vec![Shard {
            primary: NodeAddr::parse("h:1").unwrap(),
            replicas: vec![],
            slots: vec![(0, 16383)],
        }])
        .unwrap();
        let other = NodeAddr::parse("h:2").unwrap();
        topology.patch(7, &other);
        topology.patch(SLOTS, &other);
        assert_eq!(topology.primary_for(7), Some(&other));
        assert_eq!(topology.primary_for(8).unwrap().port, 1);
        assert_eq!(NodeAddr::parse("[::1]:7000").unwrap().url(), "redis://[::1]:7000");
        assert_eq!(NodeAddr::parse("::1:7000").unwrap().host, "::1");
        assert!(NodeAddr::parse("nohost").is_none() && NodeAddr::parse("h:99999").is_none());
    }
}
