//! `redkit-server`: the embedded Redis-compatible server as a standalone process.

use clap::Parser;
use redkit_server::{Persistence, Server, ServerConfig, TcpServer};

/// An embedded Redis-compatible server (a test stand-in, not a production database).
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// TCP port to listen on.
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// Address to bind (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Require this password for the default user.
    #[arg(long)]
    requirepass: Option<String>,
    /// Refuse connections past this many (`ERR max number of clients reached`).
    #[arg(long, default_value_t = 10_000)]
    maxclients: u64,
    /// Close clients idle for this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    timeout: u64,
    /// Without a password, accept only loopback peers (`yes`, the default) or any (`no`).
    #[arg(long, default_value = "yes", value_parser = yes_no, action = clap::ArgAction::Set)]
    protected_mode: bool,
    /// Worker threads. With 1 (the default) the server runs on one thread, as Redis does: commands take the
    /// server lock in turn anyway, and a single thread saves the cross-thread wake-ups.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Data directory. With it the server loads what the directory holds on start, and keeps its data there:
    /// every write with `--appendonly yes`, on SAVE/BGSAVE otherwise.
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Persist every write as it happens (`yes`) or only on SAVE/BGSAVE (`no`). Needs `--dir`.
    #[arg(long, default_value = "no", value_parser = yes_no, action = clap::ArgAction::Set)]
    appendonly: bool,
    /// When appended writes reach the disk: `always` (before the reply), `everysec` or `no` (the OS decides).
    #[arg(long, default_value = "everysec")]
    appendfsync: redkit_server::AppendFsync,
    /// Start even if the data directory is damaged: drop what cannot be read, and say what was dropped.
    #[arg(long)]
    repair: bool,
}

fn yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err(format!("expected yes or no, not '{s}'")),
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // Warnings (a client closed at a limit, a security warning) go to stderr, as Redis's log does.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    match runtime {
        // Exit without waiting for the runtime's blocking threads: a stopped script may still be unwinding.
        Ok(runtime) => std::process::exit(match runtime.block_on(serve(args)) {
            Ok(()) => 0,
            Err(()) => 1,
        }),
        Err(e) => {
            eprintln!("redkit-server: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How long a shutdown may wait for a running script to stop before exiting without saving.
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_millis(1500);

async fn serve(args: Args) -> Result<(), ()> {
    let config = ServerConfig {
        requirepass: args.requirepass,
        maxclients: args.maxclients,
        timeout: (args.timeout > 0).then(|| std::time::Duration::from_secs(args.timeout)),
        protected_mode: args.protected_mode,
    };
    let server = match &args.dir {
        None if args.appendonly => {
            eprintln!("redkit-server: --appendonly yes needs a data directory (--dir)");
            return Err(());
        }
        None => Server::new(config),
        Some(dir) => {
            let persistence = Persistence {
                dir: dir.clone(),
                appendonly: args.appendonly,
                appendfsync: args.appendfsync,
                repair: args.repair,
            };
            match Server::open(config, &persistence) {
                Ok((server, report)) => {
                    eprintln!("redkit-server: loaded {}: {report}", dir.display());
                    server
                }
                Err(e) => {
                    eprintln!("redkit-server: {e}");
                    return Err(());
                }
            }
        }
    };
    match TcpServer::serve(server.clone(), &format!("{}:{}", args.bind, args.port)).await {
        Ok(listening) => {
            eprintln!("redkit-server listening on {}", listening.addr());
            tokio::select! {
                () = listening.wait() => {}
                _ = tokio::signal::ctrl_c() => {}
                () = terminated() => {}
            }
            // A clean stop leaves everything on disk, whatever the fsync policy (SHUTDOWN NOSAVE: what is
            // written already). A running script is stopped first; if it does not stop in time, or it had
            // written (its batch half done), nothing more is saved.
            let save = server.shutdown_requested().save().unwrap_or(true);
            eprintln!("redkit-server: shutting down");
            drop(listening);
            match tokio::task::spawn_blocking(move || server.shutdown(save, SHUTDOWN_LIMIT)).await {
                Ok(Ok(true)) => Ok(()),
                Ok(Ok(false)) => {
                    eprintln!("redkit-server: a running script did not stop in time; exiting without saving");
                    Ok(())
                }
                Ok(Err(e)) => {
                    eprintln!("redkit-server: writing the data directory on shutdown failed: {e}");
                    Err(())
                }
                Err(e) => {
                    eprintln!("redkit-server: shutdown failed: {e}");
                    Err(())
                }
            }
        }
        Err(e) => {
            eprintln!("redkit-server: cannot listen on {}:{}: {e}", args.bind, args.port);
            Err(())
        }
    }
}

/// Resolves on SIGTERM (never elsewhere).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
}
