//! What a parameter sweep calls: an [`Evaluator`] runs one strategy on one series for any
//! parameter values, from many threads at once.
//!
//! Everything that does not depend on the parameters is done once in [`Evaluator::new`]
//! (exchange-local times, session starts), and every indicator is computed once per distinct
//! call (indicator, input, arguments) in a cache shared by all combinations and threads: a
//! grid over `fast` x `slow` of an SMA cross computes each SMA period once, not once per cell.
//! The cache cannot change a result: an indicator is a pure function of the bars and its
//! call, so the metrics are the same whatever order the threads fill it in.

use std::sync::Arc;

use settle_data::Bars;
use settle_engine::{BacktestConfig, BacktestResult, EquityCurve, Metrics, Signals, Window};

use crate::rules::{self, Cache, Compiled, Context, SignalError};
use crate::run::RunError;

/// One strategy on one series, ready to be run with any parameter values. `Sync`: share it by
/// reference across rayon threads.
pub struct Evaluator<'a> {
    /// The strategy with its own parameter values, compiled once by the caller.
    compiled: Compiled,
    bars: &'a Bars,
    context: Context<'a>,
    cache: Cache,
    /// Signals by compiled rules: combinations that differ only in what the rules do not read
    /// (a stop, a target, a commission) share one evaluation of the rules.
    signals: Cache<Signals>,
}

/// What the signal cache keeps at most: 256 MiB, 64 signal sets of a million bars.
const SIGNALS_LIMIT: usize = 256 << 20;

impl<'a> Evaluator<'a> {
    /// Prepares `compiled` (the strategy with its own parameter values) on `bars`, which must
    /// be its series.
    pub fn new(compiled: Compiled, bars: &'a Bars) -> Result<Evaluator<'a>, RunError> {
        if bars.meta.symbol != compiled.strategy.symbol || bars.meta.bar_size != compiled.bar_size {
            return Err(SignalError::WrongSeries {
                want: format!("{} {}", compiled.strategy.symbol, compiled.bar_size),
                got: format!("{} {}", bars.meta.symbol, bars.meta.bar_size),
            }
            .into());
        }
        Ok(Evaluator {
            context: Context::new(bars, compiled.spec)?,
            compiled,
            bars,
            cache: Cache::default(),
            signals: Cache::with_limit(SIGNALS_LIMIT),
        })
    }

    /// The strategy as compiled with its own parameter values.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Metrics of the strategy with `params` (key, value) replacing the declared values; keys
    /// not given keep their declared value. The same as `compile`, `signals` and
    /// `settle_engine::backtest` on the modified strategy, through the engine's
    /// `backtest_metrics` (no per-bar curve is stored).
    pub fn metrics(&self, params: &[(String, f64)]) -> Result<Metrics, RunError> {
        self.metrics_in(params, None)
    }

    /// [`metrics`](Self::metrics) on `window` instead of the strategy's own window (`None`
    /// keeps it): what the in-sample sweep of a holdout runs.
    pub fn metrics_in(
        &self,
        params: &[(String, f64)],
        window: Option<Window>,
    ) -> Result<Metrics, RunError> {
        let (signals, cfg) = self.prepare(params, window)?;
        Ok(settle_engine::backtest_metrics(
            self.bars,
            self.compiled.spec,
            &signals,
            &cfg,
        )?)
    }

    /// The full backtest (trades, equity) for `params`, e.g. to show a sweep's best cell.
    pub fn backtest(&self, params: &[(String, f64)]) -> Result<BacktestResult, RunError> {
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
    ) -> Result<BacktestResult, RunError> {
        let (signals, mut cfg) = self.prepare(params, window)?;
        cfg.equity_curve = curve;
        Ok(settle_engine::backtest(
            self.bars,
            self.compiled.spec,
            &signals,
            &cfg,
        )?)
    }

    /// The signals of `c`, from the signal cache: everything [`Context::signals`] reads of
    /// the compiled strategy is in the key.
    fn signals(&self, c: &Compiled) -> Result<Arc<Signals>, SignalError> {
        let key = format!(
            "{:?}",
            (
                &c.long_entry,
                &c.long_exit,
                &c.short_entry,
                &c.short_exit,
                c.atr_period,
                &c.long_level,
                &c.short_level
            )
        );
        let n = self.bars.len();
        let numbers = usize::from(c.atr_period.is_some())
            + usize::from(c.long_level.is_some() || c.short_level.is_some());
        let bytes = 4 * n + numbers * n * std::mem::size_of::<f64>();
        self.signals
            .get(key, bytes, || self.context.signals(c, &self.cache))
    }

    /// Signals and engine configuration of the strategy with `params`, on `window` if given.
    /// Without `params` the strategy as compiled runs; with them it is compiled again.
    fn prepare(
        &self,
        params: &[(String, f64)],
        window: Option<Window>,
    ) -> Result<(Arc<Signals>, BacktestConfig), RunError> {
        let varied;
        let c = if params.is_empty() {
            &self.compiled
        } else {
            let pairs: Vec<(&str, f64)> = params.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            varied = rules::compile_with(&self.compiled.strategy, &pairs)?;
            &varied
        };
        let signals = self.signals(c)?;
        let mut cfg = rules::to_config(c);
        if let Some(w) = window {
            cfg.window = w;
        }
        Ok((signals, cfg))
    }
}
