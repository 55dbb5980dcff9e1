//! The HTML report of a strategy's backtest: the one path `settle report`, `settle demo` and
//! the MCP report resource all take, so the page names the same inputs whoever asks.

use settle_engine::chart::ChartError;
use settle_engine::report::{self, Inputs, SweepSection};

use crate::manifest::{canonical, Manifest};
use crate::run::Ran;

/// The self-contained page of the backtest `ran`, with the sweep it was picked from, if any.
/// Its inputs end with the result's manifest, which `settle rerun` takes as a file.
pub fn backtest_html(ran: &Ran, sweep: Option<&SweepSection>) -> Result<String, ChartError> {
    let r = &ran.result;
    let title = format!("{} on {}", ran.strategy.name, r.series);
    let rules = serde_json::to_string_pretty(&ran.strategy).unwrap_or_default();
    let manifest = Manifest::of_backtest(ran);
    let document = serde_json::json!({ "manifest": canonical(&manifest) });
    let manifest_json = serde_json::to_string_pretty(&document).unwrap_or_default();
    report::backtest_html(
        r,
        &Inputs {
            title: &title,
            strategy_json: &rules,
            fingerprint: &manifest.series.fingerprint,
            starting_capital: ran.cfg.starting_capital,
            slippage_ticks: ran.cfg.slippage_ticks,
            version: &manifest.settle_version,
            manifest_json: &manifest_json,
        },
        sweep,
    )
}
