//! One private `redis-server` process ([`RedisServer`]), the options it starts with, and the helpers the other
//! fixtures share (the binary, CI detection, free ports, TLS files).

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start accepting connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a server could not be started.
#[derive(Debug)]
pub struct StartError(pub(crate) String);

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// The `redis-server` binary: `$REDIS_SERVER`, or `redis-server` on the `PATH`.
pub fn redis_server_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("REDIS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|p| p.is_file())
}

/// `true` when running under CI (`CI` set to anything but `false`/`0`).
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| !v.is_empty() && v != "false" && v != "0")
        .unwrap_or(false)
}

/// PEM files of a test certificate authority and a server certificate for `localhost` / `127.0.0.1` it signed.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA certificate (trust this one).
    pub ca_cert: PathBuf,
    /// The server's certificate.
    pub cert: PathBuf,
    /// The server's private key.
    pub key: PathBuf,
}

/// Options for [`RedisServer::with`].
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Listen with TLS (on the server's port) instead of plain TCP.
    pub tls: bool,
    /// Also listen on a Unix socket in the server's directory.
    pub unix_socket: bool,
    /// `requirepass` for the default user.
    pub password: Option<String>,
    /// Any further `--name value` arguments.
    pub args: Vec<String>,
}

/// A `redis-server` child process, killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    options: ServerOptions,
    tls: Option<TlsFiles>,
}

impl fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("dir", &self.dir.path())
            .finish()
    }
}

impl RedisServer {
    /// Start a plain server, or return `None` after printing why the test is skipped (no `redis-server`, not in
    /// CI). Panics when the server cannot start although the binary exists, or is missing in CI.
    pub fn start_or_skip() -> Option<RedisServer> {
        RedisServer::with_or_skip(ServerOptions::default())
    }

    /// [`RedisServer::start_or_skip`] with options.
    pub fn with_or_skip(options: ServerOptions) -> Option<RedisServer> {
        start_or_skip("redis-server", || RedisServer::with(options))
    }

    /// Start a server with `options` on a free loopback port.
    pub fn with(options: ServerOptions) -> Result<RedisServer, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("redkit-redis-")
            .tempdir()
            .map_err(|e| StartError(format!("creating a temporary directory: {e}")))?;
        let tls = if options.tls {
            Some(generate_tls_files(dir.path())?)
        } else {
            None
        };
        let mut server = RedisServer {
            child: None,
            port: 0,
            dir,
            options,
            tls,
        };
        let mut last = StartError("not started".into());
        // A free port can be taken between probing and binding it: try a few.
        for _ in 0..5 {
            server.port = free_port()?;
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The port the server listens on (TLS when started with `tls`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT` (or `rediss://localhost:PORT` for a TLS server).
    pub fn url(&self) -> String {
        match (&self.tls, &self.options.password) {
            (Some(_), None) => format!("rediss://localhost:{}", self.port),
            (Some(_), Some(p)) => format!("rediss://:{p}@localhost:{}", self.port),
            (None, None) => format!("redis://127.0.0.1:{}", self.port),
            (None, Some(p)) => format!("redis://:{p}@127.0.0.1:{}", self.port),
        }
    }

    /// The Unix socket path, when started with `unix_socket`.
    pub fn unix_socket(&self) -> Option<PathBuf> {
        self.options
            .unix_socket
            .then(|| self.dir.path().join("redis.sock"))
    }

    /// The TLS files, when started with `tls`.
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls.as_ref()
    }

    /// The server's private directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Kill the server (as a crash would: no shutdown, no save). [`RedisServer::restart`] brings it back.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kill the server if running, then start it again on the same port and wait until it is ready.
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.kill();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                // The old socket may linger for a moment.
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Run one command through `redis-cli` against this server and return its output (for test set-up).
    pub fn cli(&self, args: &[&str]) -> Result<String, StartError> {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(files) = &self.tls {
            cmd.arg("--tls").arg("--cacert").arg(&files.ca_cert);
        }
        if let Some(p) = &self.options.password {
            cmd.args(["--no-auth-warning", "-a", p]);
        }
        let out = cmd
            .args(args)
            .output()
            .map_err(|e| StartError(format!("running redis-cli: {e}")))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }

    fn spawn(&mut self) -> Result<(), StartError> {
        let binary = redis_server_binary().ok_or_else(|| StartError("redis-server not found".into()))?;
        let dir = self.dir.path();
        let log = dir.join("redis.log");
        let _ = std::fs::remove_file(&log);
        let mut cmd = Command::new(binary);
        let port = self.port.to_string();
        cmd.args([
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]);
        cmd.args(["--protected-mode", "no", "--loglevel", "notice"]);
        cmd.arg("--dir").arg(dir).arg("--logfile").arg(&log);
        match &self.tls {
            Some(files) => {
                cmd.args(["--port", "0", "--tls-port", &port, "--tls-auth-clients", "no"]);
                cmd.arg("--tls-cert-file").arg(&files.cert);
                cmd.arg("--tls-key-file").arg(&files.key);
                cmd.arg("--tls-ca-cert-file").arg(&files.ca_cert);
            }
            None => {
                cmd.args(["--port", &port]);
            }
        }
        if self.options.unix_socket {
            cmd.arg("--unixsocket")
                .arg(dir.join("redis.sock"))
                .args(["--unixsocketperm", "700"]);
        }
        if let Some(p) = &self.options.password {
            cmd.args(["--requirepass", p]);
        }
        cmd.args(&self.options.args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .map_err(|e| StartError(format!("spawning redis-server: {e}")))?;
        self.child = Some(child);
        self.wait_ready(&log)
    }

    /// Wait until the log says the server accepts connections, and a TCP connect succeeds.
    fn wait_ready(&mut self, log: &Path) -> Result<(), StartError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                self.child = None;
                return Err(StartError(format!(
                    "redis-server exited with {status}: {}",
                    last_lines(&text)
                )));
            }
            let ready = std::fs::read_to_string(log).is_ok_and(|t| t.contains("Ready to accept connections"));
            if ready && self.tcp_answers() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                self.kill();
                return Err(StartError(format!(
                    "redis-server not ready after {START_TIMEOUT:?}: {}",
                    last_lines(&text)
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn tcp_answers(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        if self.tls.is_some() {
            return true;
        }
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 64];
        let ping = match &self.options.password {
            Some(p) => format!("AUTH {p}\r\nPING\r\n"),
            None => "PING\r\n".to_owned(),
        };
        stream.write_all(ping.as_bytes()).is_ok() && stream.read(&mut buf).is_ok_and(|n| n > 0)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// Run `start`, or return `None` after printing why the test is skipped (no `redis-server`, not in CI). Panics
/// when `start` fails although the binary exists, or when the binary is missing in CI: a broken install never
/// passes silently. `what` names the fixture in the panic message.
#[allow(clippy::panic)]
pub(crate) fn start_or_skip<T>(what: &str, start: impl FnOnce() -> Result<T, StartError>) -> Option<T> {
    if redis_server_binary().is_none() {
        if in_ci() {
            panic!("redis-server is required in CI but was not found on the PATH (or in $REDIS_SERVER)");
        }
        eprintln!("skipping: redis-server not found on the PATH (set REDIS_SERVER or install redis-server)");
        return None;
    }
    match start() {
        Ok(fixture) => Some(fixture),
        Err(e) => panic!("could not start {what}: {e}"),
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> Result<u16, StartError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| StartError(format!("probing for a free port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| StartError(format!("probing for a free port: {e}")))
}

/// Generate a CA and a server certificate for `localhost` and `127.0.0.1`, as PEM files in `dir`.
pub fn generate_tls_files(dir: &Path) -> Result<TlsFiles, StartError> {
    let err = |e: rcgen::Error| StartError(format!("generating test certificates: {e}"));
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "redkit test CA");
    let ca_key = rcgen::KeyPair::generate().map_err(err)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).map_err(err)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let key = rcgen::KeyPair::generate().map_err(err)?;
    let cert = params.signed_by(&key, &issuer).map_err(err)?;

    let files = TlsFiles {
        ca_cert: dir.join("ca.crt"),
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    let write = |path: &Path, pem: String| {
        std::fs::write(path, pem).map_err(|e| StartError(format!("writing {}: {e}", path.display())))
    };
    write(&files.ca_cert, ca_cert.pem())?;
    write(&files.cert, cert.pem())?;
    write(&files.key, key.serialize_pem())?;
    Ok(files)
}
