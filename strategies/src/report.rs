//! The HTML report of a strategy's backtest: the one path `settle report`, `settle demo` and
//! the MCP report resource all take, so the page names the same inputs whoever asks.

use settle_data::Bars;
use settle_engine::chart::ChartError;
use settle_engine::report::{self, Inputs, SweepSection};
use settle_engine::{BacktestConfig, BacktestResult};

use crate::rules::Strategy;

/// The self-contained page of `r`, the backtest of `strategy` on `bars` under `cfg`.
pub fn backtest_html(
    strategy: &Strategy,
    bars: &Bars,
    cfg: &BacktestConfig,
    r: &BacktestResult,
    sweep: Option<&SweepSection>,
) -> Result<String, ChartError> {
    let title = format!("{} on {}", strategy.name, r.series);
    let rules = serde_json::to_string_pretty(strategy).unwrap_or_default();
    let fingerprint = settle_data::store::fingerprint(bars);
    report::backtest_html(
        r,
        &Inputs {
            title: &title,
            strategy_json: &rules,
            fingerprint: &fingerprint,
            starting_capital: cfg.starting_capital,
            slippage_ticks: cfg.slippage_ticks,
            version: env!("CARGO_PKG_VERSION"),
        },
        sweep,
    )
}
