//! `settle backtest` and `settle strategy check`: run a strategy (template or JSON file) on a
//! continuous series from the store.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use settle_data::store::Store;
use settle_data::{spec, BarSize, Bars};
use settle_engine::EquityCurve;
use settle_strategies::rules::{Compiled, Strategy, ValidationError};
pub(super) use settle_strategies::run::{self, Overrides, Ran};
use settle_strategies::templates;

/// Which strategy to run, on which series and window: shared by `settle backtest` and
/// `settle sweep`.
#[derive(Debug, clap::Args)]
pub struct StrategySource {
    /// A built-in template (see `settle strategy templates`).
    #[arg(long, conflicts_with = "strategy")]
    template: Option<String>,
    /// A strategy JSON file.
    #[arg(long)]
    strategy: Option<PathBuf>,
    /// Root symbol (required with --template).
    #[arg(long)]
    symbol: Option<String>,
    /// Bar size override: 1m, 5m, 1d.
    #[arg(long)]
    bar: Option<BarSize>,
    /// Trade one contract (e.g. ESZ13) or a nearby (CL1) instead of the continuous front month.
    #[arg(long)]
    contract: Option<String>,
    /// Window: "last 1 year" (default of the strategy), "last 2 years", "since 2020", "YTD",
    /// "2022-01-01..2023-06-30", "all".
    #[arg(long)]
    window: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    source: StrategySource,
    /// Parameter override, KEY=VALUE (repeatable).
    #[arg(long = "param", value_parser = parse_kv)]
    params: Vec<(String, f64)>,
    /// Print the full result (metrics, trades, equity) as JSON, with its `manifest` (the inputs
    /// and the result's hash, for `settle rerun`).
    #[arg(long)]
    json: bool,
    /// Also draw the equity curve and drawdown to this file (.png, or .svg).
    #[arg(long, value_name = "FILE")]
    chart: Option<std::path::PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum StrategyCommand {
    /// Validate a strategy JSON file and explain every problem.
    Check { file: PathBuf },
    /// List the built-in templates.
    Templates,
}

pub(super) fn parse_kv(s: &str) -> Result<(String, f64), String> {
    let (k, v) = s.split_once('=').ok_or("expected KEY=VALUE")?;
    let v: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("`{v}` is not a number"))?;
    Ok((k.trim().to_string(), v))
}

pub(super) fn explain(errors: Vec<ValidationError>) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    anyhow!("invalid strategy:\n  {}", lines.join("\n  "))
}

/// The strategy `a` names, with its overrides and then `params` applied, compiled.
pub(super) fn load_strategy(
    a: &StrategySource,
    params: &[(String, f64)],
) -> anyhow::Result<Compiled> {
    let s: Strategy = match (&a.template, &a.strategy) {
        (Some(t), _) => {
            let symbol = a
                .symbol
                .as_deref()
                .ok_or_else(|| anyhow!("--symbol is required with --template"))?;
            spec(symbol)?;
            templates::get(t, symbol).ok_or_else(|| {
                anyhow!(
                    "unknown template `{t}`; known: {}",
                    templates::names().join(", ")
                )
            })?
        }
        (None, Some(f)) => {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not a valid strategy", f.display()))?
        }
        (None, None) => bail!("give --template NAME --symbol ROOT, or --strategy FILE"),
    };
    let overrides = Overrides {
        // A template is built for --symbol already; a file's symbol is replaced by it.
        symbol: a.strategy.as_ref().and(a.symbol.clone()),
        bar_size: a.bar.map(|b| b.to_string()),
        window: a.window.clone(),
        contract: a.contract.clone(),
        parameters: params.to_vec(),
        ..Overrides::default()
    };
    overrides.compile(s).map_err(explain)
}

/// The five metrics a trader reads first, in this order; the rest follow alphabetically.
const HEADLINE: [&str; 5] = [
    "tradeCount",
    "totalPnl",
    "winRate",
    "maxDrawdown",
    "sharpeRatio",
];

/// A metric for the eye: whole numbers as they are, dollar-sized values to the cent, small
/// ratios to four decimals, `-` for a metric that has no value (e.g. no losing trade).
fn readable(v: &serde_json::Value) -> String {
    match v.as_f64() {
        None => "-".into(),
        Some(x) if v.is_i64() || v.is_u64() => format!("{x}"),
        Some(x) if x.abs() >= 100.0 => format!("{x:.2}"),
        Some(x) => format!("{x:.4}"),
    }
}

/// Backtests the strategy `source` names, with `params` applied, on its series in `home`;
/// `curve` replaces the strategy's own equity-curve choice (`Daily` when the caller shows no
/// per-bar curve: on minute bars it costs a mark and 16 bytes per bar).
pub(super) fn run_strategy(
    home: &Path,
    source: &StrategySource,
    params: &[(String, f64)],
    curve: Option<EquityCurve>,
) -> anyhow::Result<Ran> {
    let compiled = load_strategy(source, params)?;
    let bars = series(home, &compiled)?;
    Ok(run::backtest(compiled, bars, curve, &|| false)?)
}

/// The series `compiled` trades, from the store in `home`.
pub(super) fn series(home: &Path, compiled: &Compiled) -> anyhow::Result<Bars> {
    Ok(compiled.series(&Store::open(home)?)?)
}

pub fn run(home: &Path, a: &BacktestArgs) -> anyhow::Result<()> {
    // Only `--json` prints the per-bar curve.
    let curve = (!a.json).then_some(EquityCurve::Daily);
    let ran = run_strategy(home, &a.source, &a.params, curve)?;
    let Ran {
        strategy,
        cfg,
        result,
        ..
    } = &ran;
    if let Some(path) = &a.chart {
        let svg = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
        let title = format!("{} on {}", strategy.name, result.series);
        let image =
            settle_engine::chart::backtest_chart(result, &title, cfg.starting_capital, svg)?;
        settle_data::files::write_bytes(path, &image)
            .map_err(|e| anyhow::anyhow!("--chart {}: {e}", path.display()))?;
        eprintln!("chart written to {}", path.display());
    }
    if a.json {
        println!("{}", settle_strategies::manifest::backtest_json(&ran));
        return Ok(());
    }
    let m = serde_json::to_value(&result.metrics)?;
    println!(
        "{} {} ({}) {} .. {} ({} bars{})",
        strategy.name,
        result.series,
        result.contracts.join(", "),
        serde_json::to_string(&result.first_bar)?,
        serde_json::to_string(&result.last_bar)?,
        result.bars,
        if result.close_only {
            ", close-only"
        } else {
            ""
        }
    );
    let metrics = m.as_object().into_iter().flatten();
    let (mut headline, rest): (Vec<_>, Vec<_>) =
        metrics.partition(|(k, _)| HEADLINE.contains(&k.as_str()));
    headline.sort_by_key(|(k, _)| HEADLINE.iter().position(|h| h == k));
    for (k, v) in headline.into_iter().chain(rest) {
        println!("  {k:<22} {}", readable(v));
    }
    println!(
        "  ({} trades; --json gives every trade, the equity curves and full precision)",
        result.trades.len()
    );
    for n in &result.notes {
        println!("  note: {n}");
    }
    Ok(())
}

pub fn strategy(cmd: &StrategyCommand) -> anyhow::Result<()> {
    match cmd {
        StrategyCommand::Check { file } => match settle_strategies::check_file(file) {
            Ok(summary) => {
                println!("{summary}");
                Ok(())
            }
            Err(problems) => bail!("{}:\n{problems}", file.display()),
        },
        StrategyCommand::Templates => {
            for t in templates::all() {
                println!("{:<24} {}", t.name, t.description);
            }
            Ok(())
        }
    }
}
