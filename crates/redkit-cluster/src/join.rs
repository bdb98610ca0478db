//! Joining the replies of several nodes into one, by the command's `response_policy` tip (or, without one, as
//! Redis's documentation says a client should: arrays concatenated, maps merged, otherwise the first reply).

use bytes::Bytes;
use redkit_resp::Value;
use redkit_resp::command::ResponsePolicy;

use crate::topology::NodeAddr;

/// Join the replies of several nodes. An error reply wins under every policy but
/// [`ResponsePolicy::OneSucceeded`] (which wants one success); `Special` replies are kept per node, as a map from
/// `host:port` to that node's reply.
pub(crate) fn join(policy: ResponsePolicy, replies: Vec<(NodeAddr, Value)>) -> Value {
    if policy == ResponsePolicy::Special {
        return Value::Map(
            replies
                .into_iter()
                .map(|(addr, v)| (Value::BulkString(Bytes::from(addr.to_string())), v))
                .collect(),
        );
    }
    let mut values: Vec<Value> = replies.into_iter().map(|(_, v)| v).collect();
    if policy == ResponsePolicy::OneSucceeded {
        let first_ok = values.iter().position(|v| !matches!(v, Value::Error(_)));
        return match first_ok {
            Some(i) => values.swap_remove(i),
            None => values.into_iter().next().unwrap_or(Value::Null),
        };
    }
    if let Some(i) = values.iter().position(|v| matches!(v, Value::Error(_))) {
        return values.swap_remove(i);
    }
    let integers = || values.iter().filter_map(as_integer);
    match policy {
        ResponsePolicy::AllSucceeded => values.into_iter().next().unwrap_or(Value::Null),
        ResponsePolicy::AggSum => Value::Integer(integers().fold(0i64, i64::saturating_add)),
        ResponsePolicy::AggMin => integers().min().map_or(Value::Null, Value::Integer),
        ResponsePolicy::AggMax => integers().max().map_or(Value::Null, Value::Integer),
        ResponsePolicy::AggLogicalAnd => logical(values, |a, b| a && b),
        ResponsePolicy::AggLogicalOr => logical(values, |a, b| a || b),
        ResponsePolicy::Default | ResponsePolicy::OneSucceeded | ResponsePolicy::Special => {
            concatenate(values)
        }
    }
}

fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Integer(n) => Some(*n),
        Value::Boolean(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// AND/OR of integer replies, element-wise for arrays of them (SCRIPT EXISTS answers one flag per script).
fn logical(values: Vec<Value>, op: fn(bool, bool) -> bool) -> Value {
    let mut values = values.into_iter();
    let Some(first) = values.next() else {
        return Value::Null;
    };
    values.fold(first, |acc, v| match (acc, v) {
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            Value::Array(a.into_iter().zip(b).map(|(x, y)| flag(op, &x, &y)).collect())
        }
        (a, b) => flag(op, &a, &b),
    })
}

fn flag(op: fn(bool, bool) -> bool, a: &Value, b: &Value) -> Value {
    let truth = |v: &Value| as_integer(v).is_some_and(|n| n != 0);
    Value::Integer(i64::from(op(truth(a), truth(b))))
}

/// Arrays and sets concatenated, maps merged; anything else: the first non-null reply.
fn concatenate(values: Vec<Value>) -> Value {
    let mut out: Option<Value> = None;
    for value in values {
        out = Some(match (out, value) {
            (None, v) => v,
            (Some(Value::Array(mut a)), Value::Array(b)) => {
                a.extend(b);
                Value::Array(a)
            }
            (Some(Value::Set(mut a)), Value::Set(b)) => {
                a.extend(b);
                Value::Set(a)
            }
            (Some(Value::Map(mut a)), Value::Map(b)) => {
                a.extend(b);
                Value::Map(a)
            }
            (Some(Value::Null), v) => v,
            (Some(kept), _) => kept,
        });
    }
    out.unwrap_or(Value::Null)
}

/// Put the replies of a split command's parts back together: per-key arrays (MGET) in the caller's key order;
/// everything else by the policy.
pub(crate) fn join_split(
    policy: ResponsePolicy,
    groups: usize,
    parts: Vec<(NodeAddr, Vec<usize>, Value)>,
) -> Value {
    let per_key = policy == ResponsePolicy::Default
        && parts
            .iter()
            .all(|(_, g, v)| matches!(v, Value::Array(items) if items.len() == g.len()));
    if !per_key {
        return join(policy, parts.into_iter().map(|(addr, _, v)| (addr, v)).collect());
    }
    let mut slots: Vec<Value> = vec![Value::Null; groups];
    for (_, indices, value) in parts {
        if let Value::Array(items) = value {
            for (i, item) in indices.into_iter().zip(items) {
                if let Some(slot) = slots.get_mut(i) {
                    *slot = item;
                }
            }
        }
    }
    Value::Array(slots)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(port: u16) -> NodeAddr {
        NodeAddr {
            host: "h".into(),
            port,
        }
    }

    fn err(text: &str) -> Value {
        Value::Error(Bytes::copy_from_slice(text.as_bytes()))
    }

    #[test]
    fn policies_join_as_redis_documents() {
        let ints = |ns: &[i64]| {
            ns.iter()
                .enumerate()
                .map(|(i, n)| (at(i as u16), Value::Integer(*n)))
                .collect()
        };
        assert_eq!(join(ResponsePolicy::AggSum, ints(&[1, 2, 3])), Value::Integer(6));
        assert_eq!(join(ResponsePolicy::AggMin, ints(&[4, 2, 3])), Value::Integer(2));
        assert_eq!(join(ResponsePolicy::AggMax, ints(&[4, 2, 3])), Value::Integer(4));
        assert_eq!(
            join(ResponsePolicy::AggSum, ints(&[i64::MAX, 1])),
            Value::Integer(i64::MAX)
        );
        assert_eq!(
            join(ResponsePolicy::AggLogicalAnd, ints(&[1, 0])),
            Value::Integer(0)
        );
        assert_eq!(
            join(ResponsePolicy::AggLogicalOr, ints(&[1, 0])),
            Value::Integer(1)
        );
        let flags = |v: &[i64]| Value::Array(v.iter().map(|n| Value::Integer(*n)).collect());
        assert_eq!(
            join(
                ResponsePolicy::AggLogicalAnd,
                vec![(at(1), flags(&[1, 1])), (at(2), flags(&[1, 0]))]
            ),
            flags(&[1, 0])
        );
        let ok = Value::SimpleString(Bytes::from_static(b"OK"));
        assert_eq!(
            join(
                ResponsePolicy::AllSucceeded,
                vec![(at(1), ok.clone()), (at(2), ok.clone())]
            ),
            ok
        );
        assert_eq!(
            join(
                ResponsePolicy::AllSucceeded,
                vec![(at(1), ok.clone()), (at(2), err("ERR no"))]
            ),
            err("ERR no")
        );
        assert_eq!(
            join(
                ResponsePolicy::OneSucceeded,
                vec![(at(1), err("ERR no")), (at(2), ok.clone())]
            ),
            ok
        );
        assert_eq!(
            join(
                ResponsePolicy::Default,
                vec![(at(1), flags(&[1])), (at(2), flags(&[2]))]
            ),
            flags(&[1, 2])
        );
        let Value::Map(per_node) = join(ResponsePolicy::Special, vec![(at(1), ok.clone())]) else {
            panic!("special replies are kept per node");
        };
        assert_eq!(per_node.len(), 1);
        assert_eq!(join(ResponsePolicy::AggSum, vec![]), Value::Integer(0));
    }

    #[test]
    fn split_replies_return_in_key_order() {
        let bulk = |s: &'static str| Value::BulkString(Bytes::from_static(s.as_bytes()));
        let joined = join_split(
            ResponsePolicy::Default,
            3,
            vec![
                (at(1), vec![0, 2], Value::Array(vec![bulk("a"), bulk("c")])),
                (at(2), vec![1], Value::Array(vec![Value::Null])),
            ],
        );
        assert_eq!(joined, Value::Array(vec![bulk("a"), Value::Null, bulk("c")]));
        let summed = join_split(
            ResponsePolicy::AggSum,
            3,
            vec![
                (at(1), vec![0, 2], Value::Integer(2)),
                (at(2), vec![1], Value::Integer(0)),
            ],
        );
        assert_eq!(summed, Value::Integer(2));
    }
}
