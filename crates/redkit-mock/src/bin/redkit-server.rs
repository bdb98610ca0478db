//! `redkit-server`: the embedded Redis-compatible server as a standalone process.

use clap::Parser;
use redkit_mock::{MockServer, Persistence, Server, ServerConfig};

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
    appendfsync: redkit_mock::AppendFsync,
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
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    match runtime {
        Ok(runtime) => runtime.block_on(serve(args)),
        Err(e) => {
            eprintln!("redkit-server: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: Args) -> std::process::ExitCode {
    let config = ServerConfig {
        requirepass: args.requirepass,
    };
    let server = match &args.dir {
        None if args.appendonly => {
            eprintln!("redkit-server: --appendonly yes needs a data directory (--dir)");
            return std::process::ExitCode::FAILURE;
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
                    return std::process::ExitCode::FAILURE;
                }
            }
        }
    };
    match MockServer::serve(server.clone(), &format!("{}:{}", args.bind, args.port)).await {
        Ok(listening) => {
            eprintln!("redkit-server listening on {}", listening.addr());
            tokio::select! {
                () = listening.wait() => {}
                _ = tokio::signal::ctrl_c() => {}
                () = terminated() => {}
            }
            // A clean stop leaves everything on disk, whatever the fsync policy.
            if let Err(e) = server.flush_to_disk() {
                eprintln!("redkit-server: writing the data directory on shutdown failed: {e}");
                return std::process::ExitCode::FAILURE;
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("redkit-server: cannot listen on {}:{}: {e}", args.bind, args.port);
            std::process::ExitCode::FAILURE
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
