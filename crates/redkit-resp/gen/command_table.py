#!/usr/bin/env python3
"""Regenerate src/command/table.rs, redkit's one command table, from Redis's own command definitions.

Redis 7.0 compiles its command JSON files (src/commands/*.json) into the table that COMMAND INFO and COMMAND DOCS
report; this script reads those two replies from a running redis-server 7.0 (both are read-only) and writes every
command and subcommand with its arity, flags, ACL categories, key specifications, tips and docs:

    redis-server --port 7399 --save "" --appendonly no --daemonize yes
    python3 crates/redkit-resp/gen/command_table.py 7399 > crates/redkit-resp/src/command/table.rs
    redis-cli -p 7399 shutdown nosave

Two facts are redkit's own and are kept below, next to the Redis-derived ones: what a command does to the
connection it runs on (CONNECTION_EFFECTS), and which non-blocking-flagged commands still wait (WAITS). Where a
blocking command's timeout sits is read from its documented arguments.
"""
import socket
import sys

# Redis's order of command flags (addReplyCommandFlags) and ACL categories (ACLCommandCategories); the generated
# bitflags follow it so that iterating them reproduces COMMAND INFO's order. The script checks every reply.
FLAGS = [
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking", "loading", "stale",
    "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth", "may_replicate", "sentinel", "only_sentinel",
    "no_mandatory_keys", "protected", "module_getkeys", "module_no_cluster", "no_async_loading", "no_multi",
    "movablekeys", "allow_busy",
]
ACL = [
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog", "geo",
    "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting",
]
KEY_SPEC_FLAGS = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete",
                  "variable_flags"]

# What a command does to its connection (see src/command/effect.rs). SELECT's index is read at run time.
CONNECTION_EFFECTS = {
    "subscribe": "Subscribe(Subscription::Channel)",
    "psubscribe": "Subscribe(Subscription::Pattern)",
    "ssubscribe": "Subscribe(Subscription::Shard)",
    "unsubscribe": "Unsubscribe(Subscription::Channel)",
    "punsubscribe": "Unsubscribe(Subscription::Pattern)",
    "sunsubscribe": "Unsubscribe(Subscription::Shard)",
    "monitor": "Monitor",
    "client|reply": "ClientReply",
    "quit": "Quit",
    "reset": "Reset",
    "hello": "Hello",
    "auth": "Auth",
    "select": "Select(None)",
    "multi": "Multi",
    "exec": "Exec",
    "discard": "Discard",
    "watch": "Watch",
    "unwatch": "Unwatch",
    "client|tracking": "ClientTracking",
    "client|setname": "ClientSetName",
}
# Commands that wait on the server without Redis's `blocking` flag (WAIT waits for replicas).
WAITS = {"wait"}


def read_reply(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        return f.read(n + 2)[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise ValueError(f"unexpected reply {line!r}")


def call(sock, f, *args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    sock.sendall(out)
    return read_reply(f)


def pairs(flat):
    return dict(zip(flat[0::2], flat[1::2])) if flat else {}


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bits(kind, names, order, prefix=""):
    positions = [order.index(n) for n in names]
    if positions != sorted(positions):
        raise SystemExit(f"{kind} {names} are not in Redis's order: update the order list")
    if not names:
        return f"{kind}::empty()"
    # `union` is const, `|` is not: the table is a static.
    first, *rest = [f"{kind}::{prefix}{n.upper()}" for n in names]
    return first + "".join(f".union({r})" for r in rest)


def key_spec(spec):
    spec = pairs(spec)
    flags = bits("KeySpecFlags", spec.get("flags") or [], KEY_SPEC_FLAGS)
    bs = pairs(spec["begin_search"])
    bs_spec = pairs(bs.get("spec"))
    if bs["type"] == "index":
        begin = f"BeginSearch::Index({bs_spec['index']})"
    elif bs["type"] == "keyword":
        begin = f"BeginSearch::Keyword {{ keyword: {rust_str(bs_spec['keyword'])}, start_from: {bs_spec['startfrom']} }}"
    else:
        begin = "BeginSearch::Unknown"
    fk = pairs(spec["find_keys"])
    fk_spec = pairs(fk.get("spec"))
    if fk["type"] == "range":
        find = (f"FindKeys::Range {{ last_key: {fk_spec['lastkey']}, step: {fk_spec['keystep']}, "
                f"limit: {fk_spec['limit']} }}")
    elif fk["type"] == "keynum":
        find = (f"FindKeys::KeyNum {{ key_num_index: {fk_spec['keynumidx']}, first_key: {fk_spec['firstkey']}, "
                f"step: {fk_spec['keystep']} }}")
    else:
        find = "FindKeys::Unknown"
    return f"KeySpec {{ flags: {flags}, begin_search: {begin}, find_keys: {find} }}"


def policies(tips):
    request, response = "RequestPolicy::Default", "ResponsePolicy::Default"
    for tip in tips:
        if tip.startswith("request_policy:"):
            request = "RequestPolicy::" + "".join(w.title() for w in tip.split(":")[1].split("_"))
        elif tip.startswith("response_policy:"):
            response = "ResponsePolicy::" + "".join(w.title() for w in tip.split(":")[1].split("_"))
    return request, response


def timeout_of(name, flags, arguments):
    """Where a blocking command's timeout sits, from its documented top-level arguments."""
    if "blocking" not in flags and name not in WAITS:
        return "None"
    args = [pairs(a) for a in arguments or []]
    for i, a in enumerate(args):
        arg_flags = a.get("flags") or []
        if a.get("token", "").upper() == "BLOCK":
            return f'Some(BlockingTimeout {{ unit: TimeoutUnit::Milliseconds, at: ArgPosition::AfterToken("BLOCK") }})'
        if a.get("name") != "timeout":
            continue
        unit = "TimeoutUnit::Seconds" if a.get("type") == "double" else "TimeoutUnit::Milliseconds"
        fixed_before = all(not (p.get("flags") or []) for p in args[:i])
        if fixed_before:
            at = f"ArgPosition::Index({i})"
        elif i == len(args) - 1 and not arg_flags:
            at = "ArgPosition::Last"
        else:
            raise SystemExit(f"{name}: cannot place the timeout argument")
        return f"Some(BlockingTimeout {{ unit: {unit}, at: {at} }})"
    raise SystemExit(f"{name} blocks but documents no timeout")


def entry(info, doc, container, indent):
    name, arity, flags, first, last, step, acl, tips, specs, subs = info[:10]
    tips = tips or []
    acl = [a.lstrip("@") for a in acl]
    request, response = policies(tips)
    doc = pairs(doc) if isinstance(doc, list) else (doc or {})
    effect = CONNECTION_EFFECTS.get(name)
    pad = " " * indent
    out = [f"{pad}CommandInfo {{"]
    out.append(f"{pad}    name: {rust_str(name)},")
    out.append(f"{pad}    container: {('Some(' + rust_str(container) + ')') if container else 'None'},")
    out.append(f"{pad}    arity: {arity},")
    out.append(f"{pad}    flags: {bits('CommandFlags', flags, FLAGS)},")
    out.append(f"{pad}    acl_categories: {bits('AclCategories', acl, ACL)},")
    out.append(f"{pad}    keys: LegacyKeyRange {{ first: {first}, last: {last}, step: {step} }},")
    out.append(f"{pad}    key_specs: &[{', '.join(key_spec(s) for s in specs or [])}],")
    out.append(f"{pad}    tips: &[{', '.join(rust_str(t) for t in tips)}],")
    out.append(f"{pad}    request_policy: {request},")
    out.append(f"{pad}    response_policy: {response},")
    out.append(f"{pad}    blocking_timeout: {timeout_of(name, flags, doc.get('arguments'))},")
    out.append(f"{pad}    connection_effect: {('Some(ConnectionEffect::' + effect + ')') if effect else 'None'},")
    out.append(f"{pad}    group: {rust_str(doc.get('group', ''))},")
    out.append(f"{pad}    since: {rust_str(doc.get('since', ''))},")
    out.append(f"{pad}    summary: {rust_str(doc.get('summary', ''))},")
    out.append(f"{pad}    complexity: {rust_str(doc.get('complexity', ''))},")
    sub_docs = pairs(doc.get("subcommands"))
    if subs:
        out.append(f"{pad}    subcommands: &[")
        for sub in sorted(subs, key=lambda s: s[0]):
            sd = sub_docs.get(sub[0])
            out.extend(entry(sub, sd, name, indent + 8))
        out.append(f"{pad}    ],")
    else:
        out.append(f"{pad}    subcommands: &[],")
    out.append(f"{pad}}},")
    return out


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 6379
    sock = socket.create_connection(("127.0.0.1", port))
    f = sock.makefile("rb")
    version = pairs(call(sock, f, "HELLO", "2"))["version"]
    if not version.startswith("7.0."):
        raise SystemExit(f"expected a Redis 7.0 server, found {version}")
    infos = sorted(call(sock, f, "COMMAND", "INFO") or call(sock, f, "COMMAND"), key=lambda i: i[0])
    docs = pairs(call(sock, f, "COMMAND", "DOCS"))
    seen = set(CONNECTION_EFFECTS) | WAITS
    names = {i[0] for i in infos} | {s[0] for i in infos for s in (i[9] or [])}
    if not seen <= names:
        raise SystemExit(f"unknown commands in the overlays: {seen - names}")
    longest = max(len(n) for n in names)
    print(f"//! Generated by `gen/command_table.py` from redis-server {version}'s COMMAND INFO and COMMAND DOCS. Do not")
    print("//! edit by hand: regenerate.")
    print()
    print("use super::effect::{ConnectionEffect, Subscription};")
    print("use super::info::*;")
    print()
    print("/// The longest command or subcommand name.")
    print(f"pub(super) const LONGEST_NAME: usize = {longest};")
    print()
    print("/// Every command, sorted by name (subcommands sorted within their container).")
    print("pub(super) static COMMANDS: &[CommandInfo] = &[")
    for info in infos:
        print("\n".join(entry(info, docs.get(info[0]), None, 4)))
    print("];")


if __name__ == "__main__":
    main()
