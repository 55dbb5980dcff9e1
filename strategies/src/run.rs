//! One backtest of a strategy on its bars: the single path `settle backtest`, `settle report`,
//! `settle assess` and the MCP tools all take. A front door turns its flags or arguments into
//! [`Overrides`], [`Overrides::compile`] applies them and compiles the strategy once, and
//! [`backtest`] (or a sweep's [`Evaluator`](crate::sweep::Evaluator)) runs the [`Compiled`].

use settle_data::{Bars, ContractSpec};
use settle_engine::{BacktestConfig, BacktestResult, EngineError, EquityCurve};

use crate::rules::{self, Compiled, SignalError, Strategy, ValidationError};

/// A strategy run on its series: what a report or an assessment needs besides the result.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The strategy as compiled (its parameters filled in).
    pub strategy: Strategy,
    /// The contract spec of the strategy's symbol.
    pub spec: &'static ContractSpec,
    /// The bars the strategy ran on (the full series, not only the window).
    pub bars: Bars,
    /// The engine config the strategy compiled to.
    pub cfg: BacktestConfig,
    /// The backtest's result.
    pub result: BacktestResult,
}

/// What a front door changes on a strategy before it runs (`settle backtest`'s flags, the MCP
/// tools' arguments); `None`, or no parameters, keeps the strategy's own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Root symbol, trimmed and upper-cased.
    pub symbol: Option<String>,
    /// Bar size, e.g. `5m` or `1d`.
    pub bar_size: Option<String>,
    /// The rule language's window text (`last 2 years`, `2022-01-01..2023-06-30`).
    pub window: Option<String>,
    /// One contract (`ESZ13`) or a nearby (`CL1`), trimmed and upper-cased.
    pub contract: Option<String>,
    /// Dollars per contract per side, replacing the contract's default.
    pub commission_per_side: Option<f64>,
    /// Ticks of slippage per fill, replacing the engine's default of 1.
    pub slippage_ticks: Option<u32>,
    /// Parameter values by key, each a declared parameter within its bounds.
    pub parameters: Vec<(String, f64)>,
}

impl Overrides {
    /// `strategy` with these overrides applied, compiled: every problem with the result, each
    /// at its JSON path (an unknown parameter key at `/parameters`).
    pub fn compile(&self, mut strategy: Strategy) -> Result<Compiled, Vec<ValidationError>> {
        if let Some(symbol) = &self.symbol {
            strategy.symbol = symbol.trim().to_ascii_uppercase();
        }
        if let Some(bar_size) = &self.bar_size {
            strategy.bar_size = bar_size.clone();
        }
        if let Some(window) = &self.window {
            strategy.window = window.clone();
        }
        if let Some(contract) = &self.contract {
            strategy.contract = Some(contract.trim().to_ascii_uppercase());
        }
        if let Some(c) = self.commission_per_side {
            strategy.commission_per_side = Some(c);
        }
        if let Some(t) = self.slippage_ticks {
            strategy.slippage_ticks = Some(t);
        }
        let values: Vec<(&str, f64)> = self
            .parameters
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        rules::compile_with(&strategy, &values)
    }
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
    join(errors, "; ")
}

fn join(errors: &[ValidationError], separator: &str) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

impl RunError {
    /// The words a sweep records for a combination that failed with this error (its row's
    /// reason): each rule problem on its own line, or the signal or engine error alone.
    pub fn reason(&self) -> String {
        match self {
            RunError::Invalid(errors) => join(errors, "\n"),
            RunError::Signals(e) => e.to_string(),
            RunError::Engine(e) => e.to_string(),
            RunError::Cancelled => self.to_string(),
        }
    }
}

impl From<Vec<ValidationError>> for RunError {
    fn from(errors: Vec<ValidationError>) -> RunError {
        RunError::Invalid(errors)
    }
}

/// Backtests `compiled` on `bars` with the equity curve `curve` (`Daily` skips the per-bar
/// one); `cancelled` is asked between the steps.
pub fn backtest(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::templates;

    #[test]
    fn overrides_replace_what_they_name_and_keep_the_rest() {
        let base = templates::get("sma_cross", "CL").unwrap();
        let c = Overrides {
            symbol: Some(" es ".into()),
            window: Some("since 2020".into()),
            contract: Some(" esz13".into()),
            slippage_ticks: Some(2),
            parameters: vec![("fast".into(), 7.0)],
            ..Overrides::default()
        }
        .compile(base.clone())
        .unwrap();
        let s = &c.strategy;
        assert_eq!(
            (s.symbol.as_str(), s.window.as_str(), s.contract.as_deref()),
            ("ES", "since 2020", Some("ESZ13"))
        );
        assert_eq!((s.slippage_ticks, s.bar_size.as_str()), (Some(2), "1d"));
        let value = |key: &str| s.parameters.iter().find(|p| p.key == key).unwrap().value;
        let base_slow = base.parameters.iter().find(|p| p.key == "slow").unwrap();
        assert_eq!((value("fast"), value("slow")), (7.0, base_slow.value));
        assert_eq!(c.spec.root, "ES");

        let none = Overrides::default().compile(base.clone()).unwrap();
        assert_eq!(none.strategy, base);

        let errors = Overrides {
            parameters: vec![("fats".into(), 7.0)],
            ..Overrides::default()
        }
        .compile(base)
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "/parameters: no parameter `fats`; known: fast, slow"
        );
    }
}
