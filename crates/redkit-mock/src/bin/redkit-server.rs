//! `redkit-server`: the embedded Redis-compatible server as a standalone process.

use clap::Parser;
use redkit_mock::{MockServer, ServerConfig};

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
    match MockServer::start_with(config, &format!("{}:{}", args.bind, args.port)).await {
        Ok(server) => {
            eprintln!("redkit-server listening on {}", server.addr());
            tokio::select! {
                () = server.wait() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("redkit-server: cannot listen on {}:{}: {e}", args.bind, args.port);
            std::process::ExitCode::FAILURE
        }
    }
}
