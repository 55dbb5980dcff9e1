//! What a parameter sweep calls: an [`Evaluator`] runs one strategy on one series for any
//! parameter values, from many threads at once.
//!
//! Everything that does not depend on the parameters is done once in [`Evaluator::new`]
//! (exchange-local times, session starts), and every indicator is computed once per distinct
//! call (indicator, input, arguments) in a cache shared by all combinations and threads: a
//! grid over `fast` x `slow` of an SMA cross computes each SMA period once, not once per cell.
//! The cache cannot change a result: an indicator is a pure function of the bars and its
//! call, so the metrics are the same whatever order the threads fill it in.

use settle_data::{Bars, ContractSpec};
use settle_engine::{BacktestConfig, BacktestResult, EquityCurve, Metrics, Signals, Window};

use crate::rules::{self, Cache, Context, Strategy};

/// One strategy on one series, ready to be run with any parameter values. `Sync`: share it by
/// reference across rayon threads.
pub struct Evaluator<'a> {
    strategy: Strategy,
    bars: &'a Bars,
    spec: &'a ContractSpec,
    context: Context<'a>,
    cache: Cache,
}

impl<'a> Evaluator<'a> {
    /// Checks that `strategy` compiles with its own parameter values and is for these bars.
    pub fn new(
        strategy: &Strategy,
        bars: &'a Bars,
        spec: &'a ContractSpec,
    ) -> Result<Evaluator<'a>, String> {
        let c = rules::compile(strategy).map_err(|e| join(&e))?;
        if bars.meta.symbol != strategy.symbol || bars.meta.bar_size != c.bar_size {
            return Err(format!(
                "strategy is for {} {} but the bars are {} {}",
                strategy.symbol, strategy.bar_size, bars.meta.symbol, bars.meta.bar_size
            ));
        }
        Ok(Evaluator {
            strategy: strategy.clone(),
            bars,
            spec,
            context: Context::new(bars, spec).map_err(|e| e.to_string())?,
            cache: Cache::default(),
        })
    }

    /// Metrics of the strategy with `params` (key, value) replacing the declared values; keys
    /// not given keep their declared value. The same as `compile`, `signals` and
    /// `settle_engine::backtest` on the modified strategy, through the engine's
    /// `backtest_metrics` (no per-bar curve is stored).
    pub fn metrics(&self, params: &[(String, f64)]) -> Result<Metrics, String> {
        self.metrics_in(params, None)
    }

    /// [`metrics`](Self::metrics) on `window` instead of the strategy's own window (`None`
    /// keeps it): what the in-sample sweep of a holdout runs.
    pub fn metrics_in(
        &self,
        params: &[(String, f64)],
        window: Option<Window>,
    ) -> Result<Metrics, String> {
        let (signals, cfg) = self.prepare(params, window)?;
        settle_engine::backtest_metrics(self.bars, self.spec, &signals, &cfg)
            .map_err(|e| e.to_string())
    }

    /// The full backtest (trades, equity) for `params`, e.g. to show a sweep's best cell.
    pub fn backtest(&self, params: &[(String, f64)]) -> Result<BacktestResult, String> {
        self.backtest_in(params, None, EquityCurve::PerBar)
    }

    /// [`backtest`](Self::backtest) on `window` instead of the strategy's own window (`None`
    /// keeps it), e.g. a holdout's or a walk-forward fold's run, keeping the per-bar equity
    /// curve or only the daily one (`curve`; the metrics are the same). Indicators still come
    /// from the whole series, so they are warmed up on the bars before the window.
    pub fn backtest_in(
        &self,
        params: &[(String, f64)],
        window: Option<Window>,
        curve: EquityCurve,
    ) -> Result<BacktestResult, String> {
        let (signals, mut cfg) = self.prepare(params, window)?;
        cfg.equity_curve = curve;
        settle_engine::backtest(self.bars, self.spec, &signals, &cfg).map_err(|e| e.to_string())
    }

    /// Signals and engine configuration of the strategy with `params`, on `window` if given.
    fn prepare(
        &self,
        params: &[(String, f64)],
        window: Option<Window>,
    ) -> Result<(Signals, BacktestConfig), String> {
        let pairs: Vec<(&str, f64)> = params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let c = rules::compile_with(&self.strategy, &pairs).map_err(|e| join(&e))?;
        let signals = self
            .context
            .signals(&c, &self.cache)
            .map_err(|e| e.to_string())?;
        let mut cfg = rules::to_config(&c);
        if let Some(w) = window {
            cfg.window = w;
        }
        Ok((signals, cfg))
    }
}

/// Validation errors as one line each.
fn join(errors: &[rules::ValidationError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
