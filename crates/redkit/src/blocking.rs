//! Which commands block, and for how long: they get their own connection and timeout. Both facts are the command
//! table's ([`CommandInfo::blocking_timeout`](redkit_resp::CommandInfo::blocking_timeout)).

use std::time::Duration;

use redkit_resp::{Cmd, command_info};

/// `None` for a command that does not block; `Some(None)` for one that may block forever (timeout 0);
/// `Some(Some(t))` for one that blocks up to `t`.
pub(crate) fn blocking_timeout(cmd: &Cmd) -> Option<Option<Duration>> {
    let mut args = cmd.args();
    command_info(args.next()?)?.request_timeout(args)
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
