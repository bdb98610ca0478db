//! [`Config`]: where the server is and how to talk to it, from a URL or built in code.
//!
//! | URL | meaning |
//! | --- | --- |
//! | `redis://[user[:pass]@]host[:port][/db]` | plain TCP (port 6379 by default) |
//! | `rediss://…` | TLS, verified against the system's roots unless configured otherwise |
//! | `unix:///path/to.sock[?db=N]` (or `redis+unix://`) | a Unix socket |
//!
//! Query options: `protocol=resp2|resp3` (default resp3, falling back to RESP2 on servers without `HELLO`),
//! `client_name=NAME`, `db=N`, `connect_timeout=5s`, `timeout=2s` (per request; `0` for none; a bare number is in
//! seconds, `ms` and `s` suffixes are accepted), `password=…` and `user=…` (for Unix sockets), and
//! `danger_accept_invalid_certs=true` (TLS without certificate checks: tests only).
//!
//! Durations must be between 0 and [`Duration::MAX`] (about 1.8e19 seconds): a negative, NaN or infinite value,
//! or one beyond that (`timeout=1e300`), is refused with [`Error::Config`]. A value within range but beyond what
//! the clock can count from now (`timeout=18446744073709551615`) is accepted and means, in effect, no timeout:
//! deadlines are computed with checked arithmetic and one that does not fit is no deadline.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use redkit_resp::{Error, RespVersion, Result};
use url::Url;

/// The default Redis port.
pub const DEFAULT_PORT: u16 = 6379;

/// Where to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    /// TCP, optionally with TLS.
    Tcp {
        /// Host name or IP address.
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix domain socket.
    Unix(PathBuf),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Addr::Tcp { host, port } => write!(f, "{host}:{port}"),
            Addr::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Which certificates a TLS connection trusts.
#[derive(Clone, PartialEq, Eq)]
pub enum TlsRoots {
    /// The operating system's certificate store.
    System,
    /// Only these CA certificates (PEM).
    Custom(Vec<u8>),
    /// Accept any certificate. The connection is encrypted but not authenticated: for tests against servers
    /// with throwaway certificates only.
    DangerAcceptInvalidCerts,
}

impl fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsRoots::System => f.write_str("System"),
            TlsRoots::Custom(pem) => write!(f, "Custom({} bytes of PEM)", pem.len()),
            TlsRoots::DangerAcceptInvalidCerts => f.write_str("DangerAcceptInvalidCerts"),
        }
    }
}

/// TLS settings for a `rediss://` connection.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// Which certificates to trust.
    pub roots: TlsRoots,
    /// A client certificate chain and its private key (PEM), for servers that require client authentication.
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
    /// The name to verify the server's certificate against; the host name when `None`.
    pub server_name: Option<String>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            roots: TlsRoots::System,
            client_cert: None,
            server_name: None,
        }
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("roots", &self.roots)
            .field("client_cert", &self.client_cert.as_ref().map(|_| "<set>"))
            .field("server_name", &self.server_name)
            .finish()
    }
}

/// How reconnect attempts are spaced: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub initial: Duration,
    /// The largest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(20),
            max: Duration::from_secs(2),
        }
    }
}

impl Backoff {
    /// The delay before attempt `n` (0-based): a random duration up to `min(max, initial * 2^n)`.
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self.initial.saturating_mul(1u32 << attempt.min(20)).min(self.max);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(nanos / 2..=nanos.max(1)))
    }
}

/// Everything needed to open and use a connection.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the server is.
    pub addr: Addr,
    /// TLS settings; `None` for plain connections.
    pub tls: Option<TlsConfig>,
    /// ACL user name (`None` for the default user).
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Database to SELECT after connecting.
    pub db: i64,
    /// Protocol to ask for with `HELLO` (RESP3 by default; servers without `HELLO` get RESP2).
    pub protocol: RespVersion,
    /// `CLIENT SETNAME` on connect.
    pub client_name: Option<String>,
    /// Limit on connecting: TCP, TLS and the handshake together.
    pub connect_timeout: Duration,
    /// Default limit on each request; `None` waits forever.
    pub request_timeout: Option<Duration>,
    /// Added to a blocking command's own timeout (BLPOP 5 waits up to 5 s + this margin).
    pub blocking_margin: Duration,
    /// Reconnect spacing.
    pub backoff: Backoff,
    /// While the connection is down, keep new requests and send them once it is back (`true`, the default), or
    /// fail them at once with an `Io` error of kind `NotConnected` — nothing sent — so that a caller that knows
    /// another node (a cluster router, a Sentinel client) can send them there instead.
    pub queue_while_disconnected: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("db", &self.db)
            .field("protocol", &self.protocol)
            .field("client_name", &self.client_name)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("blocking_margin", &self.blocking_margin)
            .field("backoff", &self.backoff)
            .field("queue_while_disconnected", &self.queue_while_disconnected)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: Addr::Tcp {
                host: "127.0.0.1".into(),
                port: DEFAULT_PORT,
            },
            tls: None,
            username: None,
            password: None,
            db: 0,
            protocol: RespVersion::Resp3,
            client_name: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Some(Duration::from_secs(30)),
            blocking_margin: Duration::from_secs(2),
            queue_while_disconnected: true,
            backoff: Backoff::default(),
        }
    }
}

fn config_error(msg: impl Into<String>) -> Error {
    Error::Config(msg.into())
}

impl Config {
    /// Parse a `redis://`, `rediss://` or `unix://` URL.
    ///
    /// ```
    /// use redkit::{Addr, Config};
    ///
    /// let c = Config::from_url("redis://app:s3cret@cache.internal:6380/2?protocol=resp2&client_name=web").unwrap();
    /// assert_eq!(c.addr, Addr::Tcp { host: "cache.internal".into(), port: 6380 });
    /// assert_eq!((c.username.as_deref(), c.password.as_deref(), c.db), (Some("app"), Some("s3cret"), 2));
    /// assert!(Config::from_url("http://nope").is_err());
    /// ```
    pub fn from_url(url: &str) -> Result<Config> {
        let parsed =
            Url::parse(url).map_err(|e| config_error(format!("invalid URL {:?}: {e}", redact(url))))?;
        let mut config = Config::default();
        match parsed.scheme() {
            "redis" | "rediss" => {
                let host = parsed
                    .host_str()
                    .filter(|h| !h.is_empty())
                    .ok_or_else(|| config_error(format!("URL {:?} has no host", redact(url))))?;
                let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
                config.addr = Addr::Tcp {
                    host,
                    port: parsed.port().unwrap_or(DEFAULT_PORT),
                };
                if parsed.scheme() == "rediss" {
                    config.tls = Some(TlsConfig::default());
                }
                let path = parsed.path().trim_start_matches('/');
                if !path.is_empty() {
                    config.db = path
                        .parse()
                        .map_err(|_| config_error(format!("database {path:?} in the URL is not a number")))?;
                }
            }
            "unix" | "redis+unix" => {
                let path = parsed.path();
                if path.is_empty() {
                    return Err(config_error("unix:// URL without a socket path"));
                }
                config.addr = Addr::Unix(PathBuf::from(decode(path)?));
            }
            other => {
                return Err(config_error(format!(
                    "unsupported URL scheme {other:?} (expected redis, rediss, unix or redis+unix)"
                )));
            }
        }
        if !parsed.username().is_empty() {
            config.username = Some(decode(parsed.username())?);
        }
        if let Some(p) = parsed.password() {
            config.password = Some(decode(p)?);
        }
        for (key, value) in parsed.query_pairs() {
            config.apply_option(&key, &value)?;
        }
        Ok(config)
    }

    /// [`Config::from_url`] on the `REDIS_URL` environment variable.
    pub fn from_env() -> Result<Config> {
        let url = std::env::var("REDIS_URL").map_err(|_| config_error("REDIS_URL is not set"))?;
        Config::from_url(&url)
    }

    fn apply_option(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "protocol" => {
                self.protocol = match value {
                    "resp2" | "2" => RespVersion::Resp2,
                    "resp3" | "3" => RespVersion::Resp3,
                    _ => {
                        return Err(config_error(format!(
                            "protocol={value:?}: expected resp2 or resp3"
                        )));
                    }
                }
            }
            "client_name" => self.client_name = Some(value.to_owned()),
            "db" => {
                self.db = value
                    .parse()
                    .map_err(|_| config_error(format!("db={value:?} is not a number")))?;
            }
            "password" => self.password = Some(value.to_owned()),
            "user" | "username" => self.username = Some(value.to_owned()),
            "connect_timeout" => self.connect_timeout = parse_duration(key, value)?,
            "timeout" => {
                let d = parse_duration(key, value)?;
                self.request_timeout = (!d.is_zero()).then_some(d);
            }
            "danger_accept_invalid_certs" => {
                let on = matches!(value, "true" | "1" | "yes");
                if let (true, Some(tls)) = (on, self.tls.as_mut()) {
                    tls.roots = TlsRoots::DangerAcceptInvalidCerts;
                } else if on {
                    return Err(config_error("danger_accept_invalid_certs needs a rediss:// URL"));
                }
            }
            other => return Err(config_error(format!("unknown URL option {other:?}"))),
        }
        Ok(())
    }

    /// Use TLS with these settings.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsConfig) -> Config {
        self.tls = Some(tls);
        self
    }

    /// Set the default per-request timeout (`None` waits forever).
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Option<Duration>) -> Config {
        self.request_timeout = timeout;
        self
    }

    /// Set the protocol to negotiate.
    #[must_use]
    pub fn with_protocol(mut self, protocol: RespVersion) -> Config {
        self.protocol = protocol;
        self
    }
}

fn decode(s: &str) -> Result<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| config_error("URL component is not valid UTF-8 after percent-decoding"))
}

/// `250ms`, `2s`, `1.5` (seconds); whole numbers are read exactly (up to `u64::MAX` seconds or milliseconds).
/// Negative, NaN and infinite values, and values beyond [`Duration::MAX`] (about 584 billion years, e.g. `1e300`
/// or `18446744073709551616`), are refused with [`Error::Config`] rather than saturated: no clock can honour
/// them, they are typos far more often than intent, and `timeout=0` already means "no timeout". Large values
/// that are representable are kept; the client treats a deadline beyond what the clock can represent as none.
fn parse_duration(key: &str, value: &str) -> Result<Duration> {
    let bad = |why: &str| config_error(format!("{key}={value:?}: {why}"));
    let (number, scale) = if let Some(n) = value.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1.0)
    } else {
        (value, 1.0)
    };
    let number = number.trim();
    // Whole numbers exactly, so every `u64` of seconds or milliseconds is accepted as written.
    if let Ok(whole) = number.parse::<u64>() {
        return Ok(if scale < 1.0 {
            Duration::from_millis(whole)
        } else {
            Duration::from_secs(whole)
        });
    }
    let secs: f64 = number
        .parse()
        .map_err(|_| bad("expected a duration like 500ms, 2s or 1.5"))?;
    let secs = secs * scale;
    if secs.is_nan() {
        return Err(bad("expected a duration like 500ms, 2s or 1.5, not NaN"));
    }
    if secs < 0.0 {
        return Err(bad("a duration cannot be negative"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| {
        bad(&format!(
            "out of range: at most {} seconds (use 0 for no timeout)",
            Duration::MAX.as_secs()
        ))
    })
}

/// The URL with any password replaced, for error messages.
fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("<redacted>"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_url_form() {
        let c = Config::from_url("redis://localhost").unwrap();
        assert_eq!(
            c.addr,
            Addr::Tcp {
                host: "localhost".into(),
                port: 6379
            }
        );
        assert_eq!((c.db, c.protocol, c.tls.is_none()), (0, RespVersion::Resp3, true));

        let c = Config::from_url("rediss://:p%40ss@[::1]:7000/3?timeout=250ms&connect_timeout=2").unwrap();
        assert_eq!(
            c.addr,
            Addr::Tcp {
                host: "::1".into(),
                port: 7000
            }
        );
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert_eq!(c.username, None);
        assert_eq!(c.db, 3);
        assert_eq!(c.request_timeout, Some(Duration::from_millis(250)));
        assert_eq!(c.connect_timeout, Duration::from_secs(2));
        assert_eq!(c.tls, Some(TlsConfig::default()));

        let c = Config::from_url("unix:///tmp/redis.sock?db=4&password=x").unwrap();
        assert_eq!(c.addr, Addr::Unix("/tmp/redis.sock".into()));
        assert_eq!((c.db, c.password.as_deref()), (4, Some("x")));

        let c = Config::from_url("rediss://h?danger_accept_invalid_certs=true&timeout=0").unwrap();
        assert_eq!(c.tls.map(|t| t.roots), Some(TlsRoots::DangerAcceptInvalidCerts));
        assert_eq!(c.request_timeout, None);
    }

    #[test]
    fn rejects_bad_urls_with_clear_messages() {
        let msg = |u: &str| Config::from_url(u).unwrap_err().to_string();
        assert!(msg("ftp://x").contains("unsupported URL scheme \"ftp\""));
        assert!(msg("redis://h/abc").contains("database \"abc\""));
        assert!(msg("redis://h?protocol=4").contains("expected resp2 or resp3"));
        assert!(msg("redis://h?bogus=1").contains("unknown URL option \"bogus\""));
        assert!(msg("redis://h?timeout=fast").contains("expected a duration"));
        assert!(msg("redis://h?danger_accept_invalid_certs=true").contains("needs a rediss://"));
        assert!(!msg("redis://:secret@h/x").contains("secret"));
    }

    #[test]
    fn durations_out_of_range_are_refused_and_huge_ones_kept() {
        let msg = |u: &str| Config::from_url(u).unwrap_err().to_string();
        for bad in ["1e300", "1e300ms", "inf", "1e20s"] {
            let m = msg(&format!("redis://h?timeout={bad}"));
            assert!(
                m.contains("out of range") && m.contains("use 0 for no timeout"),
                "{bad}: {m}"
            );
        }
        assert!(msg("redis://h?timeout=18446744073709551616").contains("out of range"));
        assert!(msg("redis://h?timeout=-1").contains("cannot be negative"));
        assert!(msg("redis://h?timeout=-0.5s").contains("cannot be negative"));
        assert!(msg("redis://h?timeout=-inf").contains("cannot be negative"));
        assert!(msg("redis://h?timeout=NaN").contains("not NaN"));
        assert!(msg("redis://h?connect_timeout=1e300").contains("connect_timeout=\"1e300\": out of range"));
        assert!(matches!(
            Config::from_url("redis://h?timeout=1e300"),
            Err(Error::Config(_))
        ));

        let c =
            Config::from_url("redis://h?timeout=18446744073709551615&connect_timeout=18446744073709551615ms")
                .unwrap();
        assert_eq!(c.request_timeout, Some(Duration::from_secs(u64::MAX)));
        assert_eq!(c.connect_timeout, Duration::from_millis(u64::MAX));
        let c = Config::from_url("redis://h?timeout=1e19").unwrap();
        assert_eq!(
            c.request_timeout,
            Some(Duration::from_secs(10_000_000_000_000_000_000))
        );
        let c = Config::from_url("redis://h?timeout=1.5&connect_timeout=750ms").unwrap();
        assert_eq!(c.request_timeout, Some(Duration::from_millis(1500)));
        assert_eq!(c.connect_timeout, Duration::from_millis(750));
        assert_eq!(
            Config::from_url("redis://h?timeout=0ms").unwrap().request_timeout,
            None
        );
    }

    #[test]
    fn debug_output_hides_the_password() {
        let c = Config::from_url("redis://:hunter2@h").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn backoff_grows_and_stays_capped() {
        let b = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
        };
        for attempt in 0..40 {
            let d = b.delay(attempt);
            assert!(d <= Duration::from_millis(100), "{d:?}");
        }
        assert!(b.delay(0) <= Duration::from_millis(10));
    }
}
