//! The command-line interface: one subcommand per module.

mod assess;
mod backtest;
mod bench;
mod data;
mod demo;
mod report;
mod rerun;
mod sweep;
mod symbols;
mod table;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Deterministic backtests of CME Group futures, served to LLM clients over MCP.
#[derive(Debug, Parser)]
#[command(name = "settle", version, about)]
pub struct Cli {
    /// Home directory for the data store and state (default: $SETTLE_HOME or ~/.settle).
    #[arg(long, global = true)]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every futures root in the contract-spec catalog.
    Symbols(symbols::SymbolsArgs),
    /// Show the contract specification of one root.
    Specs(symbols::SpecsArgs),
    /// Import and list market data in the local store.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// The main job on the sample data: import it on first run, then show what is loaded.
    Demo(demo::DemoArgs),
    /// Backtest a template or a strategy file on a continuous series from the store.
    Backtest(backtest::BacktestArgs),
    /// Write one backtest as a self-contained HTML page: pictures, metrics, trades, inputs.
    Report(report::ReportArgs),
    /// Is the edge real? A verdict (robust, fragile, likely overfit) with its reasons.
    Assess(assess::AssessArgs),
    /// Recompute a result from its manifest: "identical", or what changed.
    Rerun(rerun::RerunArgs),
    /// Sweep a strategy's parameters over a grid (or one shard of it); `sweep merge` joins shards.
    Sweep(sweep::SweepArgs),
    /// Check strategy files; list templates.
    #[command(subcommand)]
    Strategy(backtest::StrategyCommand),
    /// Serve the MCP tools over stdio (default) or streamable HTTP.
    Serve(ServeArgs),
    /// Time indicators, one backtest and a 100-combination sweep on this machine.
    Bench(bench::BenchArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Serve streamable HTTP on this address instead of stdio (e.g. 127.0.0.1:8765).
    #[arg(long)]
    http: Option<std::net::SocketAddr>,
    /// Bearer token required on every HTTP request (mandatory off loopback).
    #[arg(long, env = "SETTLE_TOKEN")]
    token: Option<String>,
    /// A browser origin allowed to call the HTTP server besides loopback ones (repeatable),
    /// e.g. `https://app.example.com`; requests from any other `Origin` get 403.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origin: Vec<String>,
    /// Tool groups to list, comma-separated: local, quantconnect (or all). Default: local,
    /// plus quantconnect when QUANTCONNECT_USER_ID and QUANTCONNECT_API_TOKEN are set.
    #[arg(long, env = "SETTLE_TOOLS", value_name = "LIST")]
    tools: Option<settle_mcp::Toolsets>,
    /// A directory the import_data tool reads files from (repeatable; default
    /// $SETTLE_HOME/inbox); it reads nothing outside them.
    #[arg(long = "data-dir", value_name = "DIR")]
    data_dirs: Vec<PathBuf>,
}

impl Cli {
    /// True for `settle serve`, which talks MCP over its standard streams.
    pub fn serves(&self) -> bool {
        matches!(self.command, Command::Serve(_))
    }
}

/// The home directory in force.
fn home(cli_home: &Option<PathBuf>) -> PathBuf {
    cli_home
        .clone()
        .unwrap_or_else(settle_data::store::default_home)
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let home = home(&cli.home);
    match cli.command {
        Command::Symbols(a) => symbols::symbols(&a),
        Command::Specs(a) => symbols::specs(&a),
        Command::Data(c) => data::run(&home, c),
        Command::Demo(a) => demo::run(&home, &a),
        Command::Backtest(a) => backtest::run(&home, &a),
        Command::Report(a) => report::run(&home, &a),
        Command::Assess(a) => assess::run(&home, &a),
        Command::Rerun(a) => rerun::run(&home, &a),
        Command::Sweep(a) => sweep::run(&home, &a),
        Command::Strategy(c) => backtest::strategy(&c),
        Command::Bench(a) => bench::run(&a),
        Command::Serve(a) => {
            let options = settle_mcp::ServeOptions {
                toolsets: a
                    .tools
                    .unwrap_or_else(settle_mcp::Toolsets::from_env_credentials),
                data_dirs: a.data_dirs.clone(),
            };
            serve(&home, &options, a)
        }
    }
}

/// `settle serve`: stdio, or streamable HTTP with `--http`.
fn serve(
    home: &std::path::Path,
    options: &settle_mcp::ServeOptions,
    a: ServeArgs,
) -> anyhow::Result<()> {
    match a.http {
        Some(addr) => settle_mcp::serve_http(
            home,
            options,
            settle_mcp::HttpOptions {
                addr,
                bearer_token: a.token,
                allowed_origins: a.allow_origin,
            },
        ),
        None => settle_mcp::serve_stdio(home, options),
    }
}

/// Prints `value` as pretty JSON on stdout.
fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
