//! settle-engine: turns bars and strategy signals into trades, equity and metrics.
//!
//! One entry point, [`backtest`] (and [`backtest_metrics`], its lean twin for sweeps, and
//! [`backtest_reference`], the same simulation without its fast paths, for checking). It is
//! a pure function: the same bars, spec, signals and config always give the same
//! [`BacktestResult`], down to the bytes of its JSON
//! ([`BacktestResult::to_json`]), whatever thread runs it.
//!
//! * [`config`]: [`Signals`] (what the strategy decided, bar by bar) and [`BacktestConfig`]
//!   (fills, costs, exits, sizing, window).
//! * [`window`]: which dates are traded.
//! * `sim`: the bar loop (fills on the tick grid, stops, targets, rolls, session flattening).
//! * `session`: trading dates and session closes, from each spec's exchange hours.
//! * [`trade`], [`equity`], [`metrics`]: what comes out. `docs/METRICS.md` defines each number.
//! * [`error`]: [`EngineError`], naming the field of bad input.
//! * `lanes`: reductions written so that they vectorize.
//!
//! * [`chart`]: the pictures: equity and drawdown, heatmaps, monthly P&L, the P&L histogram.
//! * [`report`]: one self-contained HTML page of a backtest (and its sweep) for the browser.
//! * [`words`]: dollars and the headline metrics in words.
//! * [`thin`]: long equity curves cut to a few hundred points, drawdowns kept.
//! * [`sweep`]: parameter sweeps, many evaluations of a grid in parallel over rayon.
//! * [`assess`]: the robustness verdict's statistics (costs, stability, time, luck, path).

#![deny(missing_docs)]

pub mod assess;
pub mod chart;
pub mod config;
pub mod equity;
pub mod error;
mod lanes;
pub mod metrics;
pub mod report;
mod session;
mod sim;
pub mod sweep;
pub mod thin;
pub mod trade;
pub mod window;
pub mod words;

use serde::{Deserialize, Serialize};
use settle_data::{BarSize, Bars, ContractSpec};

pub use config::{BacktestConfig, EquityCurve, ExitLevel, FillMode, Signals, Sizing};
pub use equity::{DailyEquity, EquityPoint};
pub use error::EngineError;
pub use metrics::Metrics;
pub use trade::{ExitReason, Side, Stamp, Trade};
pub use window::Window;

/// Everything one backtest produces. Field order is fixed, so the JSON is too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BacktestResult {
    /// Root symbol of the series traded, e.g. `ES`.
    pub symbol: String,
    /// The store key of the series traded, e.g. `ES/continuous/1m` or `ES/ESZ13/1d`.
    pub series: String,
    /// The contracts the traded bars came from, in the order they were held.
    pub contracts: Vec<String>,
    /// Length of one bar of the series.
    pub bar_size: BarSize,
    /// The window as asked for, e.g. `last 1 year`.
    pub window: Window,
    /// Back-adjustment of the series: `none`, `difference` or `ratio`.
    pub adjustment: String,
    /// Stamp of the first and last bar traded, and how many bars that is.
    pub first_bar: Stamp,
    /// Stamp of the last bar traded.
    pub last_bar: Stamp,
    /// Bars in the window, all of which were traded.
    pub bars: usize,
    /// True when the series has closes only: stops, targets and stop/limit entries were
    /// checked against closes, and "open" fills used the close.
    pub close_only: bool,
    /// Dollars per contract per side actually charged.
    pub commission_per_side: f64,
    /// Entry signals not taken: risk sizing gave zero contracts, or an ATR exit had no ATR.
    pub skipped_entries: u32,
    /// Plain-language caveats about this run (close-only data, unadjusted rolls...).
    pub notes: Vec<String>,
    /// Summary statistics; `docs/METRICS.md` defines each one.
    pub metrics: Metrics,
    /// Every closed trade in entry order, including one closed at the end of data.
    pub trades: Vec<Trade>,
    /// Account equity at the end of each trading date in the window.
    pub daily_equity: Vec<DailyEquity>,
    /// One point per bar; empty when `equityCurve` is `daily`.
    pub equity: Vec<EquityPoint>,
}

impl BacktestResult {
    /// Compact JSON; byte-identical for identical inputs.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of numbers and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Runs one backtest of `signals` on the bars of `bars` inside `cfg.window`.
///
/// Indicators and signals are computed by the caller on the full series (so the window's
/// first bars have warmed-up values); the engine trades only bars inside the window and
/// never carries an order into it from before.
pub fn backtest(
    bars: &Bars,
    spec: &ContractSpec,
    signals: &Signals,
    cfg: &BacktestConfig,
) -> Result<BacktestResult, EngineError> {
    result(bars, spec, signals, cfg, true)
}

/// [`backtest`] with every bar taken through the simulation's full event path, none skipped
/// as quiet: the same result, bit for bit, several times slower. It is the reference the
/// tests hold the fast paths to, and a cross-check anyone can run.
pub fn backtest_reference(
    bars: &Bars,
    spec: &ContractSpec,
    signals: &Signals,
    cfg: &BacktestConfig,
) -> Result<BacktestResult, EngineError> {
    result(bars, spec, signals, cfg, false)
}

/// [`backtest`], with or without quiet runs.
fn result(
    bars: &Bars,
    spec: &ContractSpec,
    signals: &Signals,
    cfg: &BacktestConfig,
    quiet_runs: bool,
) -> Result<BacktestResult, EngineError> {
    let run = Run::new(
        bars,
        spec,
        signals,
        cfg,
        sim::Mode {
            per_bar: cfg.equity_curve == EquityCurve::PerBar,
            quiet_runs,
            trades: Vec::new(),
        },
    )?;
    let range = run.range;
    let mut notes = Vec::new();
    if bars.meta.close_only {
        notes.push(
            "close-only data: fills 'at the open' use the close, and stops, targets and \
             stop/limit entries are checked against closes only"
                .to_string(),
        );
    }
    // Any contract but the first one: blocks of plain comparisons, which vectorize.
    let held = &bars.contract[range.clone()];
    let rolls = || {
        held.chunks(256)
            .any(|c| c.iter().fold(false, |a, &x| a | (x != held[0])))
    };
    if bars.meta.adjustment == "none" && rolls() {
        notes.push(
            "the series changes contract but is not back-adjusted: P&L of positions held \
             across a roll includes the price gap between contracts"
                .to_string(),
        );
    }
    let mut contracts: Vec<String> = Vec::new();
    for i in range.clone() {
        if i == range.start || bars.contract[i] != bars.contract[i - 1] {
            let name = bars.contract_name(i);
            if !name.is_empty() && contracts.last().is_none_or(|c| c != name) {
                contracts.push(name.to_string());
            }
        }
    }
    // The data's caveats first (they change every number), then what the window meant.
    notes.extend(cfg.window.notes(&bars.ts, &run.cal, &range));
    let out = run.out;
    if out.skipped_entries > 0 {
        notes.push(format!(
            "{} entry signals skipped (zero contracts from risk sizing, or no ATR value)",
            out.skipped_entries
        ));
    }
    Ok(BacktestResult {
        symbol: bars.meta.symbol.clone(),
        series: bars.meta.key(),
        contracts,
        bar_size: bars.meta.bar_size,
        window: cfg.window,
        adjustment: bars.meta.adjustment.clone(),
        first_bar: Stamp(bars.ts[range.start]),
        last_bar: Stamp(bars.ts[range.end - 1]),
        bars: range.len(),
        close_only: bars.meta.close_only,
        commission_per_side: cfg.commission(spec),
        skipped_entries: out.skipped_entries,
        notes,
        metrics: run.metrics,
        trades: out.trades,
        daily_equity: out.curves.daily,
        equity: out.curves.per_bar,
    })
}

/// The metrics of [`backtest`] alone, for sweeps that evaluate many parameter sets: the same
/// simulation, but no per-bar equity curve is stored and no result is assembled. The
/// metrics are bit-identical to `backtest(..)?.metrics` for any `cfg.equity_curve`.
pub fn backtest_metrics(
    bars: &Bars,
    spec: &ContractSpec,
    signals: &Signals,
    cfg: &BacktestConfig,
) -> Result<Metrics, EngineError> {
    let mode = sim::Mode {
        per_bar: false,
        quiet_runs: true,
        trades: SPARE_TRADES.take(),
    };
    let mut run = Run::new(bars, spec, signals, cfg, mode)?;
    let trades = std::mem::take(&mut run.out.trades);
    if trades.capacity() <= SPARE_TRADES_MAX {
        SPARE_TRADES.set(trades);
    }
    Ok(run.metrics)
}

thread_local! {
    /// The trades vector of this thread's last [`backtest_metrics`], for the next one: a
    /// sweep runs thousands, and each would otherwise grow a fresh vector by copies onto
    /// newly faulted pages.
    static SPARE_TRADES: std::cell::Cell<Vec<Trade>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The most trades [`SPARE_TRADES`] keeps room for between runs (about 16 MB): a run with
/// more gives its memory back.
const SPARE_TRADES_MAX: usize = 100_000;

/// One validated, simulated and measured run: what [`backtest`] and [`backtest_metrics`]
/// share.
struct Run {
    range: std::ops::Range<usize>,
    out: sim::SimOutput,
    metrics: Metrics,
    /// The session calendar the run was resolved on.
    cal: session::Calendar,
}

impl Run {
    fn new(
        bars: &Bars,
        spec: &ContractSpec,
        signals: &Signals,
        cfg: &BacktestConfig,
        mode: sim::Mode,
    ) -> Result<Self, EngineError> {
        let (cal, range) = checked(bars, spec, signals, cfg)?;
        let out = sim::simulate(bars, spec, signals, cfg, range.clone(), &cal, mode);
        let metrics = metrics::from_summary(&metrics::Summary {
            trades: &out.trades,
            daily: &out.curves.daily,
            drawdown: out.curves.drawdown,
            bars: out.curves.bars,
            starting_capital: cfg.starting_capital,
            risk_free_rate: cfg.risk_free_rate,
        });
        Ok(Run {
            cal,
            range,
            out,
            metrics,
        })
    }
}

/// The bars of `bars` that `cfg.window` selects, after the checks of the inputs
/// [`backtest`] makes before its first bar, and with the same errors: what a backtest would
/// trade, without running it (a sweep's manifest records the window of the strategy's own
/// backtest).
pub fn resolve(
    bars: &Bars,
    spec: &ContractSpec,
    signals: &Signals,
    cfg: &BacktestConfig,
) -> Result<std::ops::Range<usize>, EngineError> {
    checked(bars, spec, signals, cfg).map(|(_, range)| range)
}

/// The inputs checked, the spec's session calendar, and the window's bars.
fn checked(
    bars: &Bars,
    spec: &ContractSpec,
    signals: &Signals,
    cfg: &BacktestConfig,
) -> Result<(session::Calendar, std::ops::Range<usize>), EngineError> {
    cfg.validate(bars, spec, signals)?;
    let cal = session::Calendar::new(spec, bars.meta.bar_size)?;
    let range = cfg.window.resolve(&bars.ts, &cal)?;
    Ok((cal, range))
}
