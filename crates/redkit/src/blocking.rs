//! Which commands block, and for how long: they get their own connection and timeout.

use std::time::Duration;

use redkit_resp::Cmd;

/// `None` for a command that does not block; `Some(None)` for one that may block forever (timeout 0);
/// `Some(Some(t))` for one that blocks up to `t`.
pub(crate) fn blocking_timeout(cmd: &Cmd) -> Option<Option<Duration>> {
    let name = cmd.name_bytes();
    // Fast path: every blocking command starts with B, X or W.
    if !matches!(name.first(), Some(b'B' | b'b' | b'X' | b'x' | b'W' | b'w')) {
        return None;
    }
    let upper = name.to_ascii_uppercase();
    let args: Vec<&[u8]> = cmd.args().skip(1).collect();
    match &upper[..] {
        b"BLPOP" | b"BRPOP" | b"BZPOPMIN" | b"BZPOPMAX" | b"BLMOVE" | b"BRPOPLPUSH" => {
            Some(seconds(args.last().copied()))
        }
        b"BLMPOP" | b"BZMPOP" => Some(seconds(args.first().copied())),
        b"XREAD" | b"XREADGROUP" => {
            let at = args.iter().position(|a| a.eq_ignore_ascii_case(b"BLOCK"))?;
            Some(millis(args.get(at + 1).copied()))
        }
        b"WAIT" => Some(millis(args.get(1).copied())),
        b"WAITAOF" => Some(millis(args.get(2).copied())),
        _ => None,
    }
}

/// A timeout in (fractional) seconds; 0 or unreadable means "forever" (the server decides).
fn seconds(arg: Option<&[u8]>) -> Option<Duration> {
    let secs: f64 = std::str::from_utf8(arg?).ok()?.parse().ok()?;
    (secs > 0.0)
        .then(|| Duration::try_from_secs_f64(secs).ok())
        .flatten()
}

fn millis(arg: Option<&[u8]>) -> Option<Duration> {
    let ms: u64 = std::str::from_utf8(arg?).ok()?.parse().ok()?;
    (ms > 0).then(|| Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_blocking_commands_and_their_timeouts() {
        let t = |cmd: Cmd| blocking_timeout(&cmd);
        assert_eq!(t(Cmd::new("GET").arg("k")), None);
        assert_eq!(t(Cmd::new("BITCOUNT").arg("k")), None);
        assert_eq!(
            t(Cmd::new("blpop").arg("a").arg("b").arg(1.5)),
            Some(Some(Duration::from_millis(1500)))
        );
        assert_eq!(t(Cmd::new("BRPOP").arg("a").arg(0)), Some(None));
        assert_eq!(
            t(Cmd::new("BLMPOP").arg(2).arg(1).arg("k").arg("LEFT")),
            Some(Some(Duration::from_secs(2)))
        );
        assert_eq!(
            t(Cmd::new("XREAD")
                .arg("COUNT")
                .arg(1)
                .arg("block")
                .arg(250)
                .arg("STREAMS")
                .arg("s")
                .arg("$")),
            Some(Some(Duration::from_millis(250)))
        );
        assert_eq!(t(Cmd::new("XREAD").arg("STREAMS").arg("s").arg("0")), None);
        assert_eq!(
            t(Cmd::new("WAIT").arg(1).arg(100)),
            Some(Some(Duration::from_millis(100)))
        );
    }
}
