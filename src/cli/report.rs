//! `settle report`: one backtest as a self-contained HTML page (pictures, metrics, trades and
//! the exact inputs), readable offline in any browser.

use std::path::{Path, PathBuf};

use anyhow::Context;
use settle_engine::report::SweepSection;

use super::backtest::{parse_kv, run_strategy, Ran, StrategySource};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    source: StrategySource,
    /// Parameter override, KEY=VALUE (repeatable).
    #[arg(long = "param", value_parser = parse_kv)]
    params: Vec<(String, f64)>,
    /// Where to write the page (default: $SETTLE_HOME/reports/NAME.html).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(home: &Path, a: &ReportArgs) -> anyhow::Result<()> {
    let ran = run_strategy(home, &a.source, &a.params)?;
    let path = a
        .out
        .clone()
        .unwrap_or_else(|| default_path(home, &ran.strategy.name));
    write(&ran, None, &path)?;
    println!(
        "{}",
        settle_engine::words::metrics_text(&ran.result.metrics)
    );
    for n in &ran.result.notes {
        println!("note: {n}");
    }
    println!("report: {}", path.display());
    Ok(())
}

/// `$SETTLE_HOME/reports/NAME.html`, the name cut to letters, digits, `-` and `_`.
pub(super) fn default_path(home: &Path, name: &str) -> PathBuf {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    home.join("reports").join(format!("{safe}.html"))
}

/// Writes the page of `ran` (with its sweep, if any) to `path`, making its directory.
pub(super) fn write(ran: &Ran, sweep: Option<&SweepSection>, path: &Path) -> anyhow::Result<()> {
    let page = settle_strategies::report::backtest_html(
        &ran.strategy,
        &ran.bars,
        &ran.cfg,
        &ran.result,
        sweep,
    )?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))
}
