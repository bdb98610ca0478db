//! [`Cmd`] and [`Pipeline`]: commands as bytes, ready to write.
//!
//! A `Cmd` keeps its arguments already encoded as RESP bulk strings in one buffer, so sending it is a single copy
//! of a header and that buffer, and no argument is ever formatted into a shared string. The arguments can still be
//! read back ([`Cmd::args`]) by executors that interpret commands themselves (the embedded server, key routing).

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::arg::{ArgWriter, ToArg};
use crate::encode::header;

/// One Redis command: a name and binary-safe arguments.
///
/// ```
/// use bytes::BytesMut;
/// use redkit_resp::Cmd;
///
/// let cmd = Cmd::new("SET").arg("greeting").arg("hello world").arg("EX").arg(60);
/// let mut wire = BytesMut::new();
/// cmd.encode(&mut wire);
/// assert_eq!(&wire[..], &b"*5\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$11\r\nhello world\r\n$2\r\nEX\r\n$2\r\n60\r\n"[..]);
/// assert_eq!(cmd.name(), "SET");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Cmd {
    /// Every argument (the name first), each as `$<len>\r\n<bytes>\r\n`.
    body: BytesMut,
    argc: usize,
}

impl Cmd {
    /// A command with its name as the first argument (`"GET"`, `"CLIENT"`, …).
    pub fn new(name: impl ToArg) -> Cmd {
        let mut cmd = Cmd {
            body: BytesMut::with_capacity(64),
            argc: 0,
        };
        name.write_args(&mut cmd);
        cmd
    }

    /// Append an argument (or several, for slices and tuples; none for `None`).
    #[must_use]
    pub fn arg(mut self, arg: impl ToArg) -> Cmd {
        arg.write_args(&mut self);
        self
    }

    /// Append every item of an iterator as arguments.
    #[must_use]
    pub fn args_from<I>(mut self, args: I) -> Cmd
    where
        I: IntoIterator,
        I::Item: ToArg,
    {
        for a in args {
            a.write_args(&mut self);
        }
        self
    }

    /// Append an argument in place (for building a command in a loop).
    pub fn push_arg(&mut self, arg: impl ToArg) -> &mut Cmd {
        arg.write_args(self);
        self
    }

    /// The number of arguments, the name included.
    pub fn arg_count(&self) -> usize {
        self.argc
    }

    /// The arguments as byte slices, the name first.
    pub fn args(&self) -> Args<'_> {
        Args {
            rest: &self.body,
            left: self.argc,
        }
    }

    /// The first argument, as written (`b"get"` stays lower case).
    pub fn name_bytes(&self) -> &[u8] {
        self.args().next().unwrap_or_default()
    }

    /// The command name in upper case, for messages and metrics (`"GET"`); invalid UTF-8 is replaced.
    pub fn name(&self) -> String {
        String::from_utf8_lossy(self.name_bytes()).to_ascii_uppercase()
    }

    /// How this command changes the connection it runs on (subscriptions, SELECT, MULTI, …); `None` for most
    /// commands. See [`connection_effect`](crate::command::connection_effect).
    pub fn connection_effect(&self) -> Option<crate::command::ConnectionEffect> {
        let mut args = self.args();
        let name = args.next()?;
        crate::command::connection_effect(name, args)
    }

    /// The encoded length in bytes.
    pub fn encoded_len(&self) -> usize {
        let mut digits = itoa::Buffer::new();
        3 + digits.format(self.argc).len() + self.body.len()
    }

    /// Append the RESP encoding (`*<argc>\r\n` then each bulk argument) to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        header(out, b'*', self.argc);
        out.put_slice(&self.body);
    }

    /// The RESP encoding as one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }
}

impl ArgWriter for Cmd {
    fn write_arg(&mut self, arg: &[u8]) {
        crate::encode::blob(&mut self.body, b'$', arg);
        self.argc += 1;
    }
}

impl fmt::Debug for Cmd {
    /// The arguments as `redis-cli` would show them: `SET "key" "va\x00lue"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for arg in self.args() {
            if !first {
                f.write_str(" ")?;
            }
            match (first, std::str::from_utf8(arg)) {
                (true, Ok(name)) => f.write_str(name)?,
                _ => write!(f, "\"{}\"", arg.escape_ascii())?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Iterator over a [`Cmd`]'s arguments.
#[derive(Debug, Clone)]
pub struct Args<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for Args<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        // The body was written by `ArgWriter for Cmd`: `$<len>\r\n<bytes>\r\n`, so each step parses what it wrote.
        let digits_end = self.rest.iter().position(|&b| b == b'\r')?;
        let len: usize = std::str::from_utf8(self.rest.get(1..digits_end)?)
            .ok()?
            .parse()
            .ok()?;
        let start = digits_end + 2;
        let arg = self.rest.get(start..start + len)?;
        self.rest = self.rest.get(start + len + 2..)?;
        self.left -= 1;
        Some(arg)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Args<'_> {}

/// Several commands sent together, their replies read back in order: one round trip.
///
/// ```
/// use bytes::BytesMut;
/// use redkit_resp::{Cmd, Pipeline};
///
/// let mut pipe = Pipeline::new();
/// pipe.add(Cmd::new("INCR").arg("hits")).add(Cmd::new("GET").arg("hits"));
/// let mut wire = BytesMut::new();
/// pipe.encode(&mut wire);
/// assert_eq!(pipe.len(), 2);
/// assert!(wire.starts_with(b"*2\r\n$4\r\nINCR\r\n"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pipeline {
    cmds: Vec<Cmd>,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Pipeline {
        Pipeline::default()
    }

    /// An empty pipeline with room for `n` commands.
    pub fn with_capacity(n: usize) -> Pipeline {
        Pipeline {
            cmds: Vec::with_capacity(n),
        }
    }

    /// Queue a command.
    pub fn add(&mut self, cmd: Cmd) -> &mut Pipeline {
        self.cmds.push(cmd);
        self
    }

    /// Queue a command, builder style.
    #[must_use]
    pub fn with(mut self, cmd: Cmd) -> Pipeline {
        self.cmds.push(cmd);
        self
    }

    /// The number of queued commands (and so of replies to expect).
    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// `true` when no command is queued.
    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// The queued commands, in order.
    pub fn cmds(&self) -> &[Cmd] {
        &self.cmds
    }

    /// Take the queued commands out.
    pub fn into_cmds(self) -> Vec<Cmd> {
        self.cmds
    }

    /// Remove every queued command, keeping the allocation.
    pub fn clear(&mut self) {
        self.cmds.clear();
    }

    /// The encoded length of all commands.
    pub fn encoded_len(&self) -> usize {
        self.cmds.iter().map(Cmd::encoded_len).sum()
    }

    /// Append every command's encoding to `out`, in one buffer.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        for cmd in &self.cmds {
            cmd.encode(out);
        }
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.cmds).finish()
    }
}

impl FromIterator<Cmd> for Pipeline {
    fn from_iter<I: IntoIterator<Item = Cmd>>(iter: I) -> Pipeline {
        Pipeline {
            cmds: iter.into_iter().collect(),
        }
    }
}

impl Extend<Cmd> for Pipeline {
    fn extend<I: IntoIterator<Item = Cmd>>(&mut self, iter: I) {
        self.cmds.extend(iter);
    }
}

impl IntoIterator for Pipeline {
    type Item = Cmd;
    type IntoIter = std::vec::IntoIter<Cmd>;

    fn into_iter(self) -> Self::IntoIter {
        self.cmds.into_iter()
    }
}
