//! Pipelines across slots: split per node, sent to every node at once, the answers put back in the caller's
//! order.
//!
//! A pipeline is cut into *units*: single commands, and transactions (`MULTI` … `EXEC`/`DISCARD`), which stay
//! whole and in order on one node — their keys must share a slot, or the pipeline is refused before anything is
//! sent (`CROSSSLOT`). Units that go to one node (keys in one slot, or no keys) join that node's sub-pipeline;
//! the rest (split or fanned-out commands) run on their own, concurrently. A unit whose answer is a redirection
//! (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) is sent again alone, following it; the others keep their answers.

use std::collections::HashMap;
use std::sync::Arc;

use redkit_resp::{Cmd, Error, ErrorKind, Executor, Pipeline, Result, ServerError, Value};
use tokio::task::JoinSet;

use crate::client::Inner;
use crate::route::{Route, command_slot, cross_slot, route};
use crate::topology::NodeAddr;

/// A run of commands that travels together: one command, or a whole transaction.
struct Unit {
    /// Index of the first command in the caller's pipeline.
    start: usize,
    cmds: Vec<Cmd>,
    target: Target,
}

enum Target {
    /// One node's sub-pipeline; `slot` is `None` for commands without keys.
    Node { slot: Option<u16> },
    /// Split or fanned out: run alone.
    Alone,
}

fn is(cmd: &Cmd, name: &str) -> bool {
    cmd.name_bytes().eq_ignore_ascii_case(name.as_bytes())
}

/// Cut the pipeline into units and decide where each goes.
fn units(cmds: Vec<Cmd>) -> Result<Vec<Unit>> {
    let mut units = Vec::new();
    let mut cmds = cmds.into_iter().enumerate().peekable();
    while let Some((start, cmd)) = cmds.next() {
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
            units.push(Unit {
                start,
                cmds: block,
                target: Target::Node { slot },
            });
            continue;
        }
        let target = match route(&cmd)? {
            Route::Slot(slot) => Target::Node { slot: Some(slot) },
            Route::Any => Target::Node { slot: None },
            Route::AllPrimaries(_) | Route::AllNodes(_) | Route::Split { .. } => Target::Alone,
        };
        units.push(Unit {
            start,
            cmds: vec![cmd],
            target,
        });
    }
    Ok(units)
}

/// `true` for an answer the unit must be sent again for.
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

/// The answers of some units: (unit index, one answer per command of the unit).
type UnitReplies = Vec<(usize, Vec<Value>)>;

/// Run a pipeline over the cluster; one answer per command, in order, errors in place.
pub(crate) async fn run(inner: &Arc<Inner>, pipeline: Pipeline) -> Result<Vec<Value>> {
    let total = pipeline.len();
    let units = units(pipeline.into_cmds())?;
    let mut answers: Vec<Option<Value>> = vec![None; total];

    // Group the node-bound units by the node serving them now.
    let mut by_node: HashMap<NodeAddr, Vec<usize>> = HashMap::new();
    let mut alone = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        match unit.target {
            Target::Node { slot } => {
                let addr = match slot {
                    Some(slot) => inner.primary_for(slot)?,
                    None => inner.any_primary()?,
                };
                by_node.entry(addr).or_default().push(i);
            }
            Target::Alone => alone.push(i),
        }
    }
    let units = Arc::new(units);

    // Every node's sub-pipeline at once, and every lone unit beside them.
    let mut tasks: JoinSet<Result<UnitReplies>> = JoinSet::new();
    for (addr, members) in by_node {
        let (inner, units) = (Arc::clone(inner), Arc::clone(&units));
        tasks.spawn(async move {
            let client = match inner.client(&addr).await {
                Ok(client) => client,
                // Unreachable: nothing was sent; each unit is retried alone below.
                Err(_) => {
                    let unreached = |i: &usize| {
                        let n = units[*i].cmds.len();
                        (*i, vec![Value::Error("TRYAGAIN node unreachable".into()); n])
                    };
                    return Ok(members.iter().map(unreached).collect());
                }
            };
            let sub: Pipeline = members
                .iter()
                .flat_map(|&i| units[i].cmds.iter().cloned())
                .collect();
            let mut replies = client.execute_pipeline(sub).await?.into_iter();
            Ok(members
                .iter()
                .map(|&i| (i, replies.by_ref().take(units[i].cmds.len()).collect()))
                .collect())
        });
    }
    for i in alone {
        let (inner, units) = (Arc::clone(inner), Arc::clone(&units));
        tasks.spawn(async move {
            let reply = inner.run(units[i].cmds[0].clone()).await?;
            Ok(vec![(i, vec![reply])])
        });
    }
    let mut retry = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let done = done.map_err(|e| Error::Config(format!("a cluster pipeline task failed: {e}")))??;
        for (i, replies) in done {
            let unit = &units[i];
            if replies.len() != unit.cmds.len() || replies.iter().any(redirected) {
                retry.push(i);
                continue;
            }
            for (k, reply) in replies.into_iter().enumerate() {
                answers[unit.start + k] = Some(reply);
            }
        }
    }

    // Redirected units, each alone, following its redirections.
    let mut tasks: JoinSet<Result<(usize, Vec<Value>)>> = JoinSet::new();
    for i in retry {
        let (inner, units) = (Arc::clone(inner), Arc::clone(&units));
        tasks.spawn(async move {
            let unit = &units[i];
            let replies = match (unit.cmds.as_slice(), &unit.target) {
                ([cmd], Target::Node { slot: Some(slot) }) => {
                    vec![error_value(inner.run_slot(cmd.clone(), *slot).await)?]
                }
                ([cmd], _) => vec![inner.run(cmd.clone()).await?],
                (block, Target::Node { slot }) => inner.run_block(block, *slot).await?,
                (block, Target::Alone) => {
                    vec![Value::Error("ERR a transaction must go to one node".into()); block.len()]
                }
            };
            Ok((i, replies))
        });
    }
    while let Some(done) = tasks.join_next().await {
        let (i, replies) =
            done.map_err(|e| Error::Config(format!("a cluster pipeline task failed: {e}")))??;
        for (k, reply) in replies.into_iter().enumerate() {
            answers[units[i].start + k] = Some(reply);
        }
    }
    Ok(answers.into_iter().map(|a| a.unwrap_or(Value::Null)).collect())
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
