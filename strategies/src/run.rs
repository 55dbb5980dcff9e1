//! One backtest of a strategy on its bars: the single path `settle backtest`, `settle report`,
//! `settle assess` and the MCP tools all take, compiling the strategy once.

use settle_data::{Bars, ContractSpec};
use settle_engine::{BacktestConfig, BacktestResult, EngineError, EquityCurve};

use crate::rules::{self, Compiled, SignalError, Strategy, ValidationError};

/// A strategy run on its series: what a report or an assessment needs besides the result.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The strategy as compiled (its parameters filled in).
    pub strategy: Strategy,
    pub spec: &'static ContractSpec,
    pub bars: Bars,
    pub cfg: BacktestConfig,
    pub result: BacktestResult,
}

/// Why a run gave no result, so a caller can tell a bad strategy from bad data from a stop.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The strategy does not compile: every problem, with its JSON path.
    #[error("invalid strategy: {}", list(.0))]
    Invalid(Vec<ValidationError>),
    /// Its signals cannot be computed on these bars.
    #[error("computing the strategy's signals: {0}")]
    Signals(#[from] SignalError),
    /// The engine refused the run (a bad config field, a window with no bars).
    #[error("backtest: {0}")]
    Engine(#[from] EngineError),
    /// The caller asked to stop.
    #[error("cancelled")]
    Cancelled,
}

fn list(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<Vec<ValidationError>> for RunError {
    fn from(errors: Vec<ValidationError>) -> RunError {
        RunError::Invalid(errors)
    }
}

/// Backtests `strategy` on `bars` with the equity curve `curve` (`Daily` skips the per-bar
/// one); `cancelled` is asked between the steps.
pub fn backtest(
    strategy: Strategy,
    bars: Bars,
    curve: Option<EquityCurve>,
    cancelled: &dyn Fn() -> bool,
) -> Result<Ran, RunError> {
    let compiled = rules::compile(&strategy)?;
    backtest_compiled(compiled, bars, curve, cancelled)
}

/// [`backtest`] of a strategy already compiled.
pub fn backtest_compiled(
    compiled: Compiled,
    bars: Bars,
    curve: Option<EquityCurve>,
    cancelled: &dyn Fn() -> bool,
) -> Result<Ran, RunError> {
    let (cfg, result) = run_on(&compiled, &bars, curve, cancelled)?;
    Ok(Ran {
        spec: compiled.spec,
        strategy: compiled.strategy,
        bars,
        cfg,
        result,
    })
}

/// The config and result of `compiled` on `bars`, which stay the caller's (the reruns of an
/// assessment share one series).
pub(crate) fn run_on(
    compiled: &Compiled,
    bars: &Bars,
    curve: Option<EquityCurve>,
    cancelled: &dyn Fn() -> bool,
) -> Result<(BacktestConfig, BacktestResult), RunError> {
    if cancelled() {
        return Err(RunError::Cancelled);
    }
    let signals = rules::signals(compiled, bars, compiled.spec)?;
    if cancelled() {
        return Err(RunError::Cancelled);
    }
    let mut cfg = rules::to_config(compiled);
    if let Some(curve) = curve {
        cfg.equity_curve = curve;
    }
    let result = settle_engine::backtest(bars, compiled.spec, &signals, &cfg)?;
    Ok((cfg, result))
}
