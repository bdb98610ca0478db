//! Pipelines across slots: split per node, sent to every node at once, the answers put back in the caller's
//! order.
//!
//! A pipeline is cut into *units*: single commands, and transactions (`MULTI` … `EXEC`/`DISCARD`), which stay
//! whole and in order on one node — their keys must share a slot, or the pipeline is refused before anything is
//! sent (`CROSSSLOT`). Every unit becomes entries in the sub-pipelines of the nodes it needs, in pipeline order: a
//! command on one slot goes to that slot's primary; a split command (MGET across slots) sends each part to its
//! slot's primary; a fanned-out one (DBSIZE) goes to every node it names. Since a key lives on one node and each
//! node's entries keep the caller's order, every command sees the effects of the commands before it on its keys,
//! as on a single server. An entry answered with a redirection (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) is sent again
//! alone, following it (a transaction: the whole block); the other answers stand.

use std::collections::HashMap;
use std::sync::Arc;

use redkit_resp::command::ResponsePolicy;
use redkit_resp::{Cmd, Error, ErrorKind, Executor, Pipeline, Result, ServerError, Value};
use tokio::task::JoinSet;

use crate::client::Inner;
use crate::join::{join, join_split};
use crate::route::{Route, command_slot, cross_slot, route};
use crate::topology::NodeAddr;

/// How a unit's entries become its answers.
enum Shape {
    /// One command, or a transaction's commands: one entry and one answer each.
    Plain,
    /// A command split by slot: one entry per part, joined into one answer.
    Split {
        policy: ResponsePolicy,
        groups: usize,
        part_groups: Vec<Vec<usize>>,
    },
    /// A command fanned out to nodes: one entry per node, joined into one answer.
    FanOut { policy: ResponsePolicy },
}

/// A run of commands that travels together, and where its answers go.
struct Unit {
    /// Index of its first answer in the caller's pipeline.
    start: usize,
    shape: Shape,
    /// A MULTI … EXEC block's entries (resent whole when redirected); `None` for any other unit.
    block: Option<Vec<Entry>>,
}

/// One command of one node's sub-pipeline.
#[derive(Clone)]
struct Entry {
    unit: usize,
    /// Which command of the unit (Plain), part (Split) or node (FanOut).
    part: usize,
    cmd: Cmd,
    /// The slot it is for, when it has one (used to resend it after a redirection).
    slot: Option<u16>,
}

fn is(cmd: &Cmd, name: &str) -> bool {
    cmd.name_bytes().eq_ignore_ascii_case(name.as_bytes())
}

/// The plan: units, and each node's entries in pipeline order.
struct Plan {
    units: Vec<Unit>,
    /// How many entries (and so answers before joining) each unit has.
    entries_of: Vec<usize>,
    by_node: HashMap<NodeAddr, Vec<Entry>>,
}

fn plan(inner: &Inner, cmds: Vec<Cmd>) -> Result<Plan> {
    let mut plan = Plan {
        units: Vec::new(),
        entries_of: Vec::new(),
        by_node: HashMap::new(),
    };
    let node_of = |slot: Option<u16>| match slot {
        Some(slot) => inner.primary_for(slot),
        None => inner.any_primary(),
    };
    let mut cmds = cmds.into_iter().enumerate().peekable();
    while let Some((start, cmd)) = cmds.next() {
        let unit = plan.units.len();
        if is(&cmd, "MULTI") {
            let mut block = vec![cmd];
            let mut slot = None;
            for (_, next) in cmds.by_ref() {
                let end = is(&next, "EXEC") || is(&next, "DISCARD");
                if let Some(s) = command_slot(&next)? {
                    if slot.is_some_and(|prev| prev != s) {
                        return Err(cross_slot("MULTI"));
                    }
                    slot = Some(s);
                }
                block.push(next);
                if end {
                    break;
                }
            }
            let node = node_of(slot)?;
            plan.entries_of.push(block.len());
            let entries: Vec<Entry> = block
                .into_iter()
                .enumerate()
                .map(|(part, cmd)| Entry {
                    unit,
                    part,
                    cmd,
                    slot,
                })
                .collect();
            plan.by_node
                .entry(node)
                .or_default()
                .extend(entries.iter().cloned());
            plan.units.push(Unit {
                start,
                shape: Shape::Plain,
                block: Some(entries),
            });
            continue;
        }
        let shape = match route(&cmd)? {
            Route::Slot(slot) => {
                plan.by_node.entry(node_of(Some(slot))?).or_default().push(Entry {
                    unit,
                    part: 0,
                    cmd,
                    slot: Some(slot),
                });
                plan.entries_of.push(1);
                Shape::Plain
            }
            Route::Any => {
                plan.by_node.entry(node_of(None)?).or_default().push(Entry {
                    unit,
                    part: 0,
                    cmd,
                    slot: None,
                });
                plan.entries_of.push(1);
                Shape::Plain
            }
            Route::Split {
                parts,
                policy,
                groups,
            } => {
                plan.entries_of.push(parts.len());
                let mut part_groups = Vec::with_capacity(parts.len());
                for (i, part) in parts.into_iter().enumerate() {
                    plan.by_node
                        .entry(node_of(Some(part.slot))?)
                        .or_default()
                        .push(Entry {
                            unit,
                            part: i,
                            cmd: part.cmd,
                            slot: Some(part.slot),
                        });
                    part_groups.push(part.groups);
                }
                Shape::Split {
                    policy,
                    groups,
                    part_groups,
                }
            }
            Route::AllPrimaries(policy) | Route::AllNodes(policy) => {
                let topology = inner.current();
                let targets: Vec<NodeAddr> = if matches!(route(&cmd)?, Route::AllNodes(_)) {
                    topology.nodes().cloned().collect()
                } else {
                    topology.primaries().cloned().collect()
                };
                plan.entries_of.push(targets.len());
                for (i, node) in targets.into_iter().enumerate() {
                    plan.by_node.entry(node).or_default().push(Entry {
                        unit,
                        part: i,
                        cmd: cmd.clone(),
                        slot: None,
                    });
                }
                Shape::FanOut { policy }
            }
        };
        plan.units.push(Unit {
            start,
            shape,
            block: None,
        });
    }
    Ok(plan)
}

/// `true` for an answer that must be sent again.
fn redirected(value: &Value) -> bool {
    let Value::Error(text) = value else {
        return false;
    };
    matches!(
        ServerError::from_bytes(text).kind(),
        ErrorKind::Moved { .. } | ErrorKind::Ask { .. } | ErrorKind::TryAgain | ErrorKind::ClusterDown
    )
}

fn error_value(result: Result<Value>) -> Result<Value> {
    match result {
        Err(Error::Server { error, .. }) => Ok(Value::Error(error.text().to_owned().into())),
        other => other,
    }
}

/// The answers of one node's sub-pipeline, with the node they came from.
type NodeAnswers = (NodeAddr, Vec<(Entry, Value)>);

/// Run a pipeline over the cluster; one answer per command, in order, errors in place.
pub(crate) async fn run(inner: &Arc<Inner>, pipeline: Pipeline) -> Result<Vec<Value>> {
    let total = pipeline.len();
    let Plan {
        units,
        entries_of,
        by_node,
    } = plan(inner, pipeline.into_cmds())?;

    // Every node's sub-pipeline at once.
    let mut tasks: JoinSet<Result<NodeAnswers>> = JoinSet::new();
    for (addr, entries) in by_node {
        let inner = Arc::clone(inner);
        tasks.spawn(async move {
            let replies = match inner.client(&addr).await {
                Ok(client) => {
                    let sub: Pipeline = entries.iter().map(|e| e.cmd.clone()).collect();
                    match client.execute_pipeline(sub).await {
                        Ok(replies) => replies,
                        // The connection was down: nothing was sent; each entry is sent again alone below.
                        Err(e) if crate::client::unsent(&e) => {
                            vec![Value::Error("TRYAGAIN node unreachable".into()); entries.len()]
                        }
                        Err(e) => return Err(e),
                    }
                }
                // Unreachable: nothing was sent; each entry is sent again alone below.
                Err(_) => vec![Value::Error("TRYAGAIN node unreachable".into()); entries.len()],
            };
            Ok((addr, entries.into_iter().zip(replies).collect()))
        });
    }
    let mut answers: Vec<Vec<Option<(NodeAddr, Value)>>> =
        entries_of.iter().map(|&n| vec![None; n]).collect();
    let mut again: Vec<(NodeAddr, Entry)> = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (addr, replies) =
            done.map_err(|e| Error::Config(format!("a cluster pipeline task failed: {e}")))??;
        for (entry, reply) in replies {
            if redirected(&reply) {
                again.push((addr.clone(), entry));
            } else if let Some(slot) = answers.get_mut(entry.unit).and_then(|a| a.get_mut(entry.part)) {
                *slot = Some((addr.clone(), reply));
            }
        }
    }

    // Redirected entries, each alone (a transaction: its whole block, once), following their redirections.
    let mut tasks: JoinSet<Result<Vec<(Entry, NodeAddr, Value)>>> = JoinSet::new();
    let mut blocks_sent = std::collections::HashSet::new();
    for (addr, entry) in again {
        let inner = Arc::clone(inner);
        if let Some(block) = &units[entry.unit].block {
            if !blocks_sent.insert(entry.unit) {
                continue;
            }
            let block = block.clone();
            tasks.spawn(async move {
                let cmds: Vec<Cmd> = block.iter().map(|e| e.cmd.clone()).collect();
                let replies = inner.run_block(&cmds, entry.slot).await?;
                Ok(block
                    .into_iter()
                    .zip(replies)
                    .map(|(e, v)| (e, addr.clone(), v))
                    .collect())
            });
            continue;
        }
        tasks.spawn(async move {
            let reply = match entry.slot {
                Some(slot) => error_value(inner.run_slot(entry.cmd.clone(), slot).await)?,
                None => error_value(inner.client(&addr).await?.execute(entry.cmd.clone()).await)?,
            };
            Ok(vec![(entry, addr, reply)])
        });
    }
    while let Some(done) = tasks.join_next().await {
        let replies = done.map_err(|e| Error::Config(format!("a cluster pipeline task failed: {e}")))??;
        for (entry, addr, reply) in replies {
            if let Some(slot) = answers.get_mut(entry.unit).and_then(|a| a.get_mut(entry.part)) {
                *slot = Some((addr, reply));
            }
        }
    }

    // Back in the caller's order, split and fanned-out answers joined.
    let mut out = vec![Value::Null; total];
    for (unit, parts) in units.iter().zip(answers) {
        match &unit.shape {
            Shape::Plain => {
                for (k, part) in parts.into_iter().enumerate() {
                    if let Some(place) = out.get_mut(unit.start + k) {
                        *place = part.map_or(Value::Null, |(_, v)| v);
                    }
                }
            }
            Shape::Split {
                policy,
                groups,
                part_groups,
            } => {
                let joined = parts
                    .into_iter()
                    .zip(part_groups.iter().cloned())
                    .filter_map(|(part, g)| part.map(|(addr, v)| (addr, g, v)))
                    .collect();
                if let Some(place) = out.get_mut(unit.start) {
                    *place = join_split(*policy, *groups, joined);
                }
            }
            Shape::FanOut { policy } => {
                let replies = parts.into_iter().flatten().collect();
                if let Some(place) = out.get_mut(unit.start) {
                    *place = join(*policy, replies);
                }
            }
        }
    }
    Ok(out)
}
impl Inner {
    /// Run a transaction block alone on its slot's primary, sending it again (whole) while it is redirected.
    pub(crate) async fn run_block(self: &Arc<Self>, block: &[Cmd], slot: Option<u16>) -> Result<Vec<Value>> {
        let mut last = Vec::new();
        for _ in 0..=self.config.max_redirects {
            let addr = match slot {
                Some(slot) => self.primary_for(slot)?,
                None => self.any_primary()?,
            };
            let client = self.client(&addr).await?;
            let replies = client.execute_pipeline(block.iter().cloned().collect()).await?;
            let moved = replies.iter().find_map(|v| match v {
                Value::Error(text) => match ServerError::from_bytes(text).kind() {
                    ErrorKind::Moved { slot, addr } => Some((*slot, addr.to_string())),
                    _ => None,
                },
                _ => None,
            });
            let Some((moved_slot, to)) = moved else {
                if !replies.iter().any(redirected) {
                    return Ok(replies);
                }
                last = replies;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            };
            if let Some(to) = NodeAddr::parse(&to) {
                self.patch(moved_slot, &to);
                self.schedule_refresh();
            }
            last = replies;
        }
        Ok(last)
    }
}
