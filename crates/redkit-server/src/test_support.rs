//! What the crate's unit tests share: running words as a command on a session, and reading error replies.

use bytes::Bytes;
use redkit_resp::Value;

use crate::engine::Server;
use crate::state::Session;

/// Run `words` (the command name first) on `session`.
pub(crate) fn run<S: AsRef<[u8]>>(server: &Server, session: &mut Session, words: &[S]) -> Value {
    let args: Vec<Bytes> = words.iter().map(|w| Bytes::copy_from_slice(w.as_ref())).collect();
    server.execute(session, &args)
}

/// `EVAL script 0` on a fresh authenticated session.
pub(crate) fn eval(server: &Server, script: &str) -> Value {
    let mut session = server.session();
    session.set_authenticated(true);
    run(server, &mut session, &["EVAL", script, "0"])
}

/// An error reply's text; anything else shown as what it is, which no expected error text matches.
pub(crate) fn error_text(v: &Value) -> String {
    match v {
        Value::Error(e) => String::from_utf8_lossy(e).into_owned(),
        other => format!("expected an error, got {other:?}"),
    }
}
