//! settle-mcp: the MCP server that an LLM client drives settle through.
//!
//! * [`db`]: the SQLite store under `$SETTLE_HOME` (sessions, strategy versions, backtests,
//!   sweeps, operations), with migrations and crash recovery at open.
//! * [`ops`]: the operation manager (blocking jobs with progress, cancel, long-poll wait).
//! * [`backend`]: the seam to the engine and strategy language ([`Backend`]).
//! * [`tools`]: the AskFutures-compatible tool surface ([`SettleServer`]).
//! * [`toolsets`]: which tool groups are listed (local, QuantConnect's).
//! * [`http`]: streamable HTTP with loopback-by-default and bearer-token auth.
//! * [`screen`]: tool calls whose arguments are not an object, answered before rmcp.
//! * `args`, `reply`: how tools read their arguments and shape their answers.
//! * [`model`]: the records the database keeps and the tools show.
//! * [`quantconnect`]: QuantConnect's cloud API tools, under their own names.
//!
//! * [`engine_backend`]: the real [`Backend`] ([`EngineBackend`]) over the bar store.
//!
//! The binary calls [`serve_stdio`] or [`serve_http`], which serve [`EngineBackend`]; tests
//! build a [`Server`] with their own [`Backend`].

#![deny(missing_docs)]

pub mod args;
pub mod backend;
pub mod db;
pub mod engine_backend;
pub mod http;
pub mod model;
pub mod ops;
pub mod quantconnect;
mod reply;
pub mod screen;
pub mod tools;
pub mod toolsets;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rmcp::ServiceExt;

pub use args::Args;
pub use backend::{Backend, Unwired};
pub use engine_backend::EngineBackend;
pub use http::HttpOptions;
pub use tools::SettleServer;
pub use toolsets::Toolsets;

/// A server ready to run: the store is open (migrated, interrupted operations failed).
pub struct Server {
    handler: SettleServer,
}

impl Server {
    /// Opens `home/settle.db` and builds the tool handler around `backend`, listing the
    /// tools of `toolsets`; import_data reads from `data_dirs` (each created if missing).
    pub fn open(
        home: &Path,
        backend: Arc<dyn Backend>,
        toolsets: Toolsets,
        data_dirs: &[std::path::PathBuf],
    ) -> anyhow::Result<Server> {
        let store = db::Ledger::open(home)
            .with_context(|| format!("opening the settle database in {}", home.display()))?;
        for dir in data_dirs {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the data directory {}", dir.display()))?;
        }
        Ok(Server {
            handler: SettleServer::new(ops::Operations::new(store), backend, toolsets)
                .with_data_dirs(data_dirs.to_vec()),
        })
    }

    /// Serves MCP over stdin/stdout until the client disconnects. Each line from stdin
    /// passes [`screen`] first; the library and the screen's answers share stdout a whole
    /// line at a time.
    pub fn run_stdio(self) -> anyhow::Result<()> {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        runtime()?.block_on(async move {
            let (ours, library) = tokio::io::duplex(1 << 16);
            let (from_library, mut to_library) = tokio::io::split(ours);
            let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel::<String>();
            let inbound = tokio::spawn(async move {
                let mut lines = BufReader::new(tokio::io::stdin()).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(error) = screen::invalid_tool_call_line(&line) {
                        let _ = answers.send(error);
                    } else if to_library
                        .write_all(format!("{line}\n").as_bytes())
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                // End of stdin: the library sees its input close and stops.
                let _ = to_library.shutdown().await;
            });
            let outbound = tokio::spawn(async move {
                let mut stdout = tokio::io::stdout();
                let mut replies = BufReader::new(from_library).lines();
                loop {
                    let line = tokio::select! {
                        reply = replies.next_line() => match reply {
                            Ok(Some(line)) => line,
                            _ => break,
                        },
                        Some(error) = answered.recv() => error,
                    };
                    if stdout
                        .write_all(format!("{line}\n").as_bytes())
                        .await
                        .is_err()
                        || stdout.flush().await.is_err()
                    {
                        break;
                    }
                }
            });
            let running = self.handler.serve(tokio::io::split(library)).await?;
            running.waiting().await?;
            inbound.abort();
            let _ = outbound.await;
            Ok(())
        })
    }

    /// Serves MCP over streamable HTTP at `http://addr/mcp` until interrupted (Ctrl-C).
    /// A non-loopback address requires a bearer token; foreign browser origins get 403.
    pub fn run_http(self, options: HttpOptions) -> anyhow::Result<()> {
        runtime()?.block_on(http::serve(self.handler, options))
    }
}

/// What `settle serve` serves besides its transport.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Which tool groups are listed (settle's own, QuantConnect's).
    pub toolsets: Toolsets,
    /// The directories import_data reads from (none given: `$SETTLE_HOME/inbox`).
    pub data_dirs: Vec<std::path::PathBuf>,
}

impl ServeOptions {
    fn server(&self, home: &Path) -> anyhow::Result<Server> {
        check_writable(home)?;
        let data_dirs = if self.data_dirs.is_empty() {
            vec![home.join("inbox")]
        } else {
            self.data_dirs.clone()
        };
        Server::open(
            home,
            Arc::new(EngineBackend::open(home)?),
            self.toolsets,
            &data_dirs,
        )
    }
}

/// Refuses to start on a home where nothing can be written: the server keeps its sessions,
/// operations and imports there, and finding out at the first tool call would lose work.
fn check_writable(home: &Path) -> anyhow::Result<()> {
    let probe = home.join(format!(".settle-write-check-{}", std::process::id()));
    let written = std::fs::create_dir_all(home).and_then(|()| std::fs::write(&probe, b"ok"));
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| {
        anyhow::anyhow!(
            "settle home {} is not writable ({e}): the server keeps its store, sessions and \
             results there; pass --home DIR or set SETTLE_HOME to a writable directory",
            home.display()
        )
    })
}

/// `settle serve`: stdio with the real engine over the bar store under `home`.
pub fn serve_stdio(home: &Path, options: &ServeOptions) -> anyhow::Result<()> {
    options.server(home)?.run_stdio()
}

/// `settle serve --http ADDR`.
pub fn serve_http(home: &Path, options: &ServeOptions, http: HttpOptions) -> anyhow::Result<()> {
    options.server(home)?.run_http(http)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
