//! What a parameter sweep calls: an [`Evaluator`] runs one strategy on one series for any
//! parameter values, from many threads at once.
//!
//! Everything that does not depend on the parameters is done once in [`Evaluator::new`]
//! (exchange-local times, session starts), and every indicator is computed once per distinct
//! call (indicator, input, arguments) in a cache shared by all combinations and threads: a
//! grid over `fast` x `slow` of an SMA cross computes each SMA period once, not once per cell.
//! The cache cannot change a result: an indicator is a pure function of the bars and its
//! call, so the metrics are the same whatever order the threads fill it in.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use settle_data::Bars;
use settle_engine::{BacktestConfig, BacktestResult, EquityCurve, Metrics, Signals, Window};

use crate::rules::{self, CCond, CExpr, Cache, Compiled, Context, SignalError};
use crate::run::RunError;

/// One strategy on one series, ready to be run with any parameter values. `Sync`: share it by
/// reference across rayon threads.
pub struct Evaluator<'a> {
    /// The strategy with its own parameter values, compiled once by the caller.
    compiled: Compiled,
    bars: &'a Bars,
    context: Context<'a>,
    cache: Cache,
    /// Tells this evaluator's signals apart from another's in [`LAST_SIGNALS`].
    id: u64,
}

/// Numbers the evaluators, for [`LAST_SIGNALS`].
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The signals this thread computed last, with their evaluator and compiled rules.
    /// Combinations that differ only in what the rules do not read (a stop, a target) come
    /// one after another in a grid whose last parameter is the stop, and a thread runs a run
    /// of neighbouring combinations, so they share one evaluation of the rules. One set per
    /// thread, not a cache of every set: a grid whose every cell has its own signals (an SMA
    /// cross) would otherwise hold them all, and fault fresh pages for each. A new set is
    /// written over the last one's columns once no run holds them any more.
    static LAST_SIGNALS: RefCell<Option<(u64, RulesKey, Arc<Signals>)>> = const { RefCell::new(None) };
}

/// Everything [`Context::signals`] reads of a compiled strategy: two strategies with equal
/// keys have the same signals. Compared as values (a combination's `Debug` text was about 2 %
/// of an SMA grid's time).
#[derive(PartialEq)]
struct RulesKey {
    conditions: [Option<CCond>; 4],
    atr_period: Option<usize>,
    levels: [Option<CExpr>; 2],
}

impl RulesKey {
    fn of(c: &Compiled) -> Self {
        RulesKey {
            conditions: [
                c.long_entry.clone(),
                c.long_exit.clone(),
                c.short_entry.clone(),
                c.short_exit.clone(),
            ],
            atr_period: c.atr_period,
            levels: [c.long_level.clone(), c.short_level.clone()],
        }
    }
}

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
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
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

    /// The bars the strategy with its own parameter values trades, and its engine
    /// configuration: its window resolved as its backtest would, after the same checks
    /// (its rules evaluate, its options are valid), without running it.
    pub fn resolved(&self) -> Result<(std::ops::Range<usize>, BacktestConfig), RunError> {
        let (signals, cfg) = self.prepare(&[], None)?;
        let range = settle_engine::resolve(self.bars, self.compiled.spec, &signals, &cfg)?;
        Ok((range, cfg))
    }

    /// The signals of `c`: this thread's last ones when they are of the same rules (everything
    /// [`Context::signals`] reads of the compiled strategy is in the key), else computed.
    fn signals(&self, c: &Compiled) -> Result<Arc<Signals>, SignalError> {
        let key = RulesKey::of(c);
        let hit = LAST_SIGNALS.with(|last| match &*last.borrow() {
            Some((id, k, s)) if *id == self.id && *k == key => Some(Arc::clone(s)),
            _ => None,
        });
        if let Some(s) = hit {
            return Ok(s);
        }
        // The last set's columns, when nothing else holds them, are written over.
        let spare = LAST_SIGNALS.with(|last| last.borrow_mut().take());
        let mut s = spare
            .and_then(|(_, _, s)| Arc::try_unwrap(s).ok())
            .unwrap_or_default();
        self.context.signals_into(c, &self.cache, &mut s)?;
        let s = Arc::new(s);
        LAST_SIGNALS.with(|last| *last.borrow_mut() = Some((self.id, key, Arc::clone(&s))));
        Ok(s)
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
