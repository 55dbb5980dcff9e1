//! `settle`: deterministic backtests of CME futures, on the command line and over MCP.

mod cli;

use clap::Parser;

/// mimalloc keeps freed memory for reuse: a server running backtest after backtest, or a
/// sweep's threads, reuse the pages of the last run's columns instead of asking the kernel for
/// fresh zeroed pages each time (page faults were a third of a minute-bar backtest's time
/// with the system allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SETTLE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let args = cli::Cli::parse();
    if !args.serves() {
        restore_default_sigpipe();
    }
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// A command whose output is piped into `head` stops quietly when the reader goes, as other
/// Unix tools do, instead of panicking on a failed print (Rust ignores SIGPIPE by default).
/// The MCP server keeps Rust's default: a client that leaves is an error it handles.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to its default, before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
