//! Reading requests off a connection's input: multibulk (`*N` then N `$len` bulk strings) and inline commands, as
//! Redis's `processMultibulkBuffer`/`processInlineBuffer` read them, with Redis's limits and protocol errors.
//!
//! The parser is resumable: a request whose bytes have not all arrived keeps its progress (the arguments already
//! found, and how many bytes it needs before another look is worth it), so a large request arriving in many reads
//! is scanned once, not once per read. Counts and lengths are checked before anything is allocated; before AUTH
//! (when a password is set) a request may hold at most 10 arguments of at most 16 KiB, as in Redis.
//!
//! # Why the server does not use `redkit-resp`'s decoder
//! `redkit_resp::decode` reads replies: every RESP2/RESP3 type into a [`Value`](redkit_resp::Value) tree, and it
//! re-reads the headers of a frame that is still incomplete. A request is one shape only (an array of bulk strings, or an inline
//! line), and the server needs what a reply decoder has no reason to have: inline commands with `sdssplitargs`
//! quoting, Redis's protocol error texts (the connection answers them before closing), the pre-AUTH limits, and
//! the arguments as the `Vec<Bytes>` a command runs on, cut from the read buffer without copying. The `requests`
//! group of `cargo xtask bench resp` measures both on the same bytes: on the server's hot path, 1000 pipelined
//! `SET key value` in one read, this parser takes 340 µs and the decoder 451 µs (then its `Value::Array` would
//! still have to become arguments); for one `SET` with a 1 MiB value arriving in 64 reads of 16 KiB the decoder is
//! quicker (43 µs against 73 µs; both are far below the time the megabyte takes to arrive). So requests have
//! exactly one parser, this one, and replies exactly one decoder, `redkit-resp`'s.

use bytes::{Buf, Bytes, BytesMut};
use redkit_resp::Limits;

/// Longest inline command line, and longest `*`/`$` header line, as Redis (64 KiB).
pub const MAX_INLINE: usize = 64 * 1024;
/// Most arguments in one command, as Redis (1024 * 1024).
const MAX_MULTIBULK: i64 = 1024 * 1024;
/// Most arguments of a request before AUTH, as Redis.
const MAX_UNAUTH_MULTIBULK: i64 = 10;
/// Longest argument of a request before AUTH, as Redis.
const MAX_UNAUTH_BULK: i64 = 16 * 1024;

/// One parsed request.
#[derive(Debug, PartialEq, Eq)]
pub enum Request {
    /// A command: its name, then its arguments.
    Command(Vec<Bytes>),
    /// An empty line or `*0`: nothing to run.
    Empty,
}

/// A multibulk request not complete yet.
#[derive(Debug)]
struct Partial {
    /// Arguments the request declares.
    count: usize,
    /// Where the next `$len` line starts.
    pos: usize,
    /// Where each argument found so far lies in the buffer.
    spans: Vec<(usize, usize)>,
}

/// A request that breaks the protocol: Redis's text for it (`invalid multibulk length`, `unbalanced quotes in
/// request`, …), which the server answers as `ERR Protocol error: <text>` before it closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(String);

impl ProtocolError {
    /// Redis's text for the error.
    pub fn text(&self) -> &str {
        &self.0
    }
}

/// The request parser of one connection.
#[derive(Debug, Default)]
pub struct RequestParser {
    partial: Option<Partial>,
    /// The input is not worth another look before it holds this many bytes.
    need: usize,
}

impl RequestParser {
    /// Parse one request from the front of `buf`: `Ok(None)` for "need more bytes"; `Err` carries Redis's protocol
    /// error text (the connection is then closed). `unauthenticated` applies the limits for clients that have not
    /// authenticated although a password is set.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        unauthenticated: bool,
    ) -> Result<Option<Request>, ProtocolError> {
        if buf.is_empty() || buf.len() < self.need {
            return Ok(None);
        }
        let parsed = if buf[0] == b'*' {
            self.multibulk(buf, unauthenticated)
        } else {
            self.inline(buf)
        };
        if !matches!(parsed, Ok(None)) {
            self.need = 0;
            self.partial = None;
        }
        parsed.map_err(ProtocolError)
    }

    fn inline(&mut self, buf: &mut BytesMut) -> Result<Option<Request>, String> {
        // Bytes before `need - 1` were scanned already: none of them is a newline.
        let from = self.need.saturating_sub(1).min(buf.len());
        let Some(end) = buf[from..].iter().position(|&b| b == b'\n').map(|p| p + from) else {
            if buf.len() > MAX_INLINE {
                return Err("too big inline request".into());
            }
            self.need = buf.len() + 1;
            return Ok(None);
        };
        let line = buf.split_to(end + 1);
        let text = &line[..line.len() - 1];
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        match split_args(text) {
            Some(args) if args.is_empty() => Ok(Some(Request::Empty)),
            Some(args) => Ok(Some(Request::Command(args))),
            None => Err("unbalanced quotes in request".into()),
        }
    }

    fn multibulk(&mut self, buf: &mut BytesMut, unauthenticated: bool) -> Result<Option<Request>, String> {
        let mut partial = match self.partial.take() {
            Some(p) => p,
            None => {
                let Some((n, pos)) =
                    line_int(buf, 1, "too big mbulk count string", "invalid multibulk length")?
                else {
                    self.need = buf.len() + 1;
                    return Ok(None);
                };
                if n > MAX_MULTIBULK {
                    return Err("invalid multibulk length".into());
                }
                if n > MAX_UNAUTH_MULTIBULK && unauthenticated {
                    return Err("unauthenticated multibulk length".into());
                }
                if n <= 0 {
                    buf.advance(pos);
                    return Ok(Some(Request::Empty));
                }
                let count = usize::try_from(n).map_err(|_| "invalid multibulk length".to_owned())?;
                Partial {
                    count,
                    pos,
                    spans: Vec::with_capacity(count.min(1024)),
                }
            }
        };
        while partial.spans.len() < partial.count {
            let pos = partial.pos;
            let Some(&marker) = buf.get(pos) else {
                self.need = pos + 1;
                self.partial = Some(partial);
                return Ok(None);
            };
            if marker != b'$' {
                return Err(format!("expected '$', got '{}'", marker as char));
            }
            let Some((len, start)) =
                line_int(buf, pos + 1, "too big bulk count string", "invalid bulk length")?
            else {
                self.need = buf.len() + 1;
                self.partial = Some(partial);
                return Ok(None);
            };
            if !(0..=Limits::DEFAULT_MAX_BULK_LEN as i64).contains(&len) {
                return Err("invalid bulk length".into());
            }
            if len > MAX_UNAUTH_BULK && unauthenticated {
                return Err("unauthenticated bulk length".into());
            }
            let end = start + len as usize;
            if buf.len() < end + 2 {
                self.need = end + 2;
                self.partial = Some(partial);
                return Ok(None);
            }
            partial.spans.push((start, end));
            partial.pos = end + 2;
        }
        let (spans, pos) = (partial.spans, partial.pos);
        // A command that may store its arguments gets them in one fresh copy of the request, so stored data never
        // holds the read buffer alive; a read-only one gets slices of the buffer itself.
        let (name_start, name_end) = spans[0];
        let stores = name_end - name_start > 32 || {
            let mut lower = [0u8; 32];
            let lower = &mut lower[..name_end - name_start];
            lower.copy_from_slice(&buf[name_start..name_end]);
            lower.make_ascii_lowercase();
            crate::commands::families::registry()
                .lookup(lower)
                .is_none_or(|spec| spec.stores_args)
        };
        let (frame, base) = if stores {
            let frame = Bytes::copy_from_slice(&buf[name_start..pos]);
            buf.advance(pos);
            (frame, name_start)
        } else {
            (buf.split_to(pos).freeze(), 0)
        };
        Ok(Some(Request::Command(
            spans
                .into_iter()
                .map(|(start, end)| frame.slice(start - base..end - base))
                .collect(),
        )))
    }
}

/// The integer on the line starting at `from` (after a `*` or `$`), and where the next line starts; `Ok(None)` if
/// the line is not complete yet.
fn line_int(buf: &[u8], from: usize, too_big: &str, invalid: &str) -> Result<Option<(i64, usize)>, String> {
    let Some(nl) = buf[from..].iter().position(|&b| b == b'\n') else {
        return if buf.len() - from > MAX_INLINE {
            Err(too_big.into())
        } else {
            Ok(None)
        };
    };
    let end = from + nl;
    let digits = buf[from..end].strip_suffix(b"\r").unwrap_or(&buf[from..end]);
    let n = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<i64>().ok())
        .ok_or_else(|| invalid.to_owned())?;
    Ok(Some((n, end + 1)))
}

/// Split an inline command like Redis's `sdssplitargs`: spaces separate, "double" and 'single' quotes group,
/// `\n`-style escapes and `\xHH` inside double quotes. `None` for unbalanced quotes.
pub(crate) fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    let mut args = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        let mut cur = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            if in_dq {
                let c = *line.get(i)?;
                if c == b'\\'
                    && i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && line[i + 2].is_ascii_hexdigit()
                    && line[i + 3].is_ascii_hexdigit()
                {
                    let hex = std::str::from_utf8(&line[i + 2..i + 4]).ok()?;
                    cur.push(u8::from_str_radix(hex, 16).ok()?);
                    i += 3;
                } else if c == b'\\' && i + 1 < line.len() {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    // A closing quote must be followed by a space or the end.
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    in_dq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                let c = *line.get(i)?;
                if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < line.len() && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    in_sq = false;
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                match line.get(i) {
                    None => break,
                    Some(c) if c.is_ascii_whitespace() => break,
                    Some(b'"') => in_dq = true,
                    Some(b'\'') => in_sq = true,
                    Some(c) => cur.push(*c),
                }
            }
            i += 1;
        }
        if in_dq || in_sq {
            return None;
        }
        args.push(Bytes::from(cur));
    }
    Some(args)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| {
            v.iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect()
        })
    }

    fn command(args: &[&str]) -> Request {
        Request::Command(
            args.iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect(),
        )
    }

    #[test]
    fn inline_arguments_split_like_redis() {
        assert_eq!(split("set a b"), Some(vec!["set".into(), "a".into(), "b".into()]));
        assert_eq!(
            split("  set   \"a b\"  'c d' "),
            Some(vec!["set".into(), "a b".into(), "c d".into()])
        );
        assert_eq!(
            split("set k \"\\x41\\n\""),
            Some(vec!["set".into(), "k".into(), "A\n".into()])
        );
        assert_eq!(split("set \"unbalanced"), None);
        assert_eq!(split("set \"a\"b"), None);
        assert_eq!(split(""), Some(vec![]));
    }

    #[test]
    fn a_request_arriving_byte_by_byte_is_parsed_once_complete() {
        let wire = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\nPING\r\n";
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for &b in wire.iter() {
            buf.extend_from_slice(&[b]);
            while let Some(r) = parser.next(&mut buf, false).unwrap() {
                got.push(r);
            }
        }
        assert_eq!(got, vec![command(&["SET", "k", "hello"]), command(&["PING"])]);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_large_request_is_scanned_once() {
        // 100k arguments arriving in 1 KiB reads: each read looks only at its own bytes.
        let mut wire = format!("*{}\r\n", 100_001).into_bytes();
        wire.extend_from_slice(b"$5\r\nRPUSH\r\n");
        for _ in 0..100_000 {
            wire.extend_from_slice(b"$1\r\nx\r\n");
        }
        let mut parser = RequestParser::default();
        let mut buf = BytesMut::new();
        let mut got = None;
        for chunk in wire.chunks(1024) {
            buf.extend_from_slice(chunk);
            if let Some(r) = parser.next(&mut buf, false).unwrap() {
                got = Some(r);
            }
        }
        match got {
            Some(Request::Command(args)) => assert_eq!(args.len(), 100_001),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_are_redis_limits() {
        let mut p = RequestParser::default();
        let err = |p: &mut RequestParser, wire: &[u8], unauth: bool| {
            p.next(&mut BytesMut::from(wire), unauth)
                .unwrap_err()
                .text()
                .to_owned()
        };
        assert_eq!(err(&mut p, b"*1048577\r\n", false), "invalid multibulk length");
        assert_eq!(err(&mut p, b"*11\r\n", true), "unauthenticated multibulk length");
        assert_eq!(
            err(&mut p, b"*1\r\n$16385\r\n", true),
            "unauthenticated bulk length"
        );
        assert_eq!(err(&mut p, b"*1\r\n$536870913\r\n", false), "invalid bulk length");
        assert_eq!(err(&mut p, b"*1\r\n$-1\r\n", false), "invalid bulk length");
        assert_eq!(err(&mut p, b"*1\r\n+x\r\n", false), "expected '$', got '+'");
        assert_eq!(err(&mut p, b"*x\r\n", false), "invalid multibulk length");
        assert_eq!(
            err(&mut p, &vec![b'a'; MAX_INLINE + 1], false),
            "too big inline request"
        );
        // Within the limits before AUTH, and past them once authenticated.
        assert!(
            p.next(&mut BytesMut::from(&b"*11\r\n"[..]), false)
                .unwrap()
                .is_none()
        );
        let mut p = RequestParser::default();
        assert_eq!(
            p.next(
                &mut BytesMut::from(&b"*2\r\n$4\r\nAUTH\r\n$3\r\npwd\r\n"[..]),
                true
            )
            .unwrap(),
            Some(command(&["AUTH", "pwd"]))
        );
    }
}
