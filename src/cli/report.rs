//! `settle report`: one backtest as a self-contained HTML page (pictures, metrics, trades and
//! the exact inputs), readable offline in any browser.

use std::path::{Path, PathBuf};

use anyhow::Context;
use settle_engine::chart::{self, Heatmap};
use settle_engine::report::SweepSection;
use settle_engine::sweep::SweepResult;
use settle_engine::EquityCurve;

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
    // The page draws the daily curve only.
    let ran = run_strategy(home, &a.source, &a.params, Some(EquityCurve::Daily))?;
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
    let page = settle_strategies::report::backtest_html(ran, sweep)?;
    settle_data::files::write_bytes_in_place(path, page.as_bytes())
        .with_context(|| format!("writing {} (nothing was written)", path.display()))
}

/// `best: fast=25, slow=120 (sharpeRatio 0.53)`, when the sweep has a best.
pub(super) fn best_line(result: &SweepResult) -> Option<String> {
    let best = result.best_result.as_ref()?;
    let params: Vec<String> = best
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Some(format!(
        "best: {} ({} {})",
        params.join(", "),
        result.spec.objective.metric,
        best.objective
    ))
}

/// The sweep's objective over its first two parameters (PNG), the best cell outlined.
pub(super) fn sweep_heatmap(result: &SweepResult, title: &str) -> anyhow::Result<Vec<u8>> {
    let metric = &result.spec.objective.metric;
    let surface = result.surface(metric)?;
    let best_cell = result.best_result.as_ref().and_then(|best| {
        let at = |values: &[f64], key: &str| {
            let v = best.params.iter().find(|(k, _)| k == key)?.1;
            values.iter().position(|x| *x == v)
        };
        at(&surface.x_values, &surface.x_key).zip(at(&surface.y_values, &surface.y_key))
    });
    let (w, h) = chart::SIZE;
    Ok(chart::heatmap_png(
        &Heatmap {
            title,
            x_key: &surface.x_key,
            y_key: &surface.y_key,
            x_labels: &chart::heatmap::value_labels(&surface.x_values),
            y_labels: &chart::heatmap::value_labels(&surface.y_values),
            z: &surface.z,
            best: best_cell,
        },
        w,
        h,
    )?
    .image)
}
