//! The overfitting guards of a sweep: the Deflated Sharpe Ratio of the best result, the
//! Probability of Backtest Overfitting of the whole grid, an out-of-sample holdout and rolling
//! walk-forward analysis, all through `settle_engine::sweep` (formulas in docs/METRICS.md,
//! "Overfitting guards"). [`guarded_sweep`] runs a sweep with its guards; `settle sweep` and
//! the MCP optimizations both call it, so they judge a grid the same way.
//!
//! The guards judge the sweep the trader chooses from: the whole window, or with a holdout
//! its in-sample part. DSR needs the best combination's daily returns and every trial's
//! Sharpe ratio; PBO needs every combination's daily returns, which are collected while the
//! sweep runs (one backtest per combination, not two) as long as the T × N matrix fits
//! [`PBO_BUDGET`].

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use chrono::NaiveDate;
use serde::Serialize;
use settle_engine::metrics::daily_returns;
use settle_engine::sweep::dsr::{deflated_sharpe, trial_sharpes, DeflatedSharpe};
use settle_engine::sweep::pbo::{pbo, MAX_BLOCKS};
use settle_engine::sweep::walkforward::{
    walk_forward, FoldPlan, WalkForwardResult, WalkForwardSpec,
};
use settle_engine::sweep::{self, Grid, GuardError, Progress, Ranked, SweepResult, SweepSpec};
use settle_engine::{BacktestConfig, BacktestResult, EquityCurve, Metrics, Window};

use crate::run::RunError;
use crate::sweep::Evaluator;

/// Which guards a sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardPlan {
    /// Share of the window's trading dates held out at its end.
    pub holdout: Option<f64>,
    /// Rolling walk-forward folds, counted in the window's trading dates; none = no walk-forward.
    pub walk_forward: Option<FoldPlan>,
    /// S, the CSCV blocks of the PBO.
    pub pbo_blocks: usize,
}

/// A sweep and what its guards found.
#[derive(Debug)]
pub struct GuardedSweep {
    /// The sweep of the judged window (the in-sample part under a holdout).
    pub result: SweepResult,
    /// The window the sweep judged: the strategy's, or its in-sample part under a holdout.
    pub window: Window,
    /// The trading dates of the strategy's window (empty without guards).
    pub dates: Vec<NaiveDate>,
    /// `None` without guards, and for a cancelled sweep (its best is the best of a part).
    pub guards: Option<Guards>,
    /// The walk-forward run, when the plan asked for one and it could run.
    pub walk_forward: Option<WalkForwardResult>,
}

/// Why a guarded sweep could not start. Each plan field is named as [`GuardPlan`] names it
/// (`holdout`, `walk_forward`), so a front door can name its own flag or argument instead.
#[derive(Debug, thiserror::Error)]
pub enum GuardedSweepError {
    /// The strategy's own run, which gives the window's trading dates, failed.
    #[error("{}", .0.reason())]
    Run(#[from] RunError),
    /// The holdout does not fit the window's trading dates.
    #[error("holdout: {0}")]
    Holdout(GuardError),
    /// The walk-forward's folds do not fit the window's trading dates.
    #[error("walk_forward: {0}")]
    WalkForward(GuardError),
}

/// Runs the sweep of `grid` over `evaluator`'s strategy and, with a `plan`, its guards.
/// `finished` sees every combination as it finishes (the MCP server writes them down), a
/// failed one with the reason the sweep records ([`RunError::reason`]);
/// `walk_forward_progress` follows the walk-forward's own runs. A plan the data cannot hold
/// (a holdout or folds longer than the window) is an error before anything runs.
#[allow(clippy::too_many_arguments)]
pub fn guarded_sweep(
    evaluator: &Evaluator,
    cfg: &BacktestConfig,
    grid: &Grid,
    spec: &SweepSpec,
    plan: Option<&GuardPlan>,
    cancel: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
    finished: &(dyn Fn(usize, &Result<Metrics, String>) + Sync),
    walk_forward_progress: &(dyn Fn(Progress) + Sync),
) -> Result<GuardedSweep, GuardedSweepError> {
    let (capital, rf) = (cfg.starting_capital, cfg.risk_free_rate);
    let dates: Vec<NaiveDate> = match plan {
        Some(_) => evaluator
            .backtest_in(&[], None, EquityCurve::Daily)?
            .daily_equity
            .iter()
            .map(|d| d.date)
            .collect(),
        None => Vec::new(),
    };
    let holdout = match plan.and_then(|p| p.holdout) {
        Some(share) => Some(
            FoldPlan::Holdout {
                in_sample_fraction: 1.0 - share,
            }
            .folds(&dates)
            .map_err(GuardedSweepError::Holdout)?[0],
        ),
        None => None,
    };
    if let Some(wf) = plan.and_then(|p| p.walk_forward) {
        wf.folds(&dates).map_err(GuardedSweepError::WalkForward)?;
    }
    let window = holdout.map_or(cfg.window, |f| f.in_sample);
    let collector = (plan.is_some()
        && grid.total_combinations().saturating_mul(dates.len()) <= PBO_BUDGET)
        .then(|| Collector::new(capital, rf));
    let result = match &collector {
        Some(c) => sweep::run_observed(
            grid,
            spec,
            |p| {
                evaluator
                    .backtest_in(p, Some(window), EquityCurve::Daily)
                    .map(|r| c.record(p, r))
                    .map_err(|e| e.reason())
            },
            cancel,
            progress,
            finished,
        ),
        None => sweep::run_observed(
            grid,
            spec,
            |p| {
                evaluator
                    .metrics_in(p, Some(window))
                    .map_err(|e| e.reason())
            },
            cancel,
            progress,
            finished,
        ),
    };
    let mut out = GuardedSweep {
        result,
        window,
        dates,
        guards: None,
        walk_forward: None,
    };
    let Some(plan) = plan.filter(|_| !out.result.cancelled) else {
        return Ok(out);
    };
    let mut g = Guards::judge(
        &out.result,
        window,
        collector.as_ref(),
        plan.pbo_blocks,
        |p| evaluator.backtest_in(p, Some(window), EquityCurve::Daily),
        capital,
        rf,
    );
    match (holdout, &out.result.best_result) {
        (Some(folds), Some(best)) => {
            match evaluator.backtest_in(&best.params, Some(folds.out_of_sample), EquityCurve::Daily)
            {
                Ok(r) => {
                    g.holdout = Some(Holdout {
                        in_sample: folds.in_sample,
                        out_of_sample: folds.out_of_sample,
                        chosen: best.clone(),
                        out_of_sample_metrics: r.metrics,
                    })
                }
                Err(e) => g.unavailable.push(format!("holdout: {}", e.reason())),
            }
        }
        (Some(_), None) => g
            .unavailable
            .push("holdout: no combination meets the constraints in sample".into()),
        (None, _) => {}
    }
    if let Some(wf_plan) = plan.walk_forward {
        let wf = walk_forward(
            grid,
            spec,
            &out.dates,
            &WalkForwardSpec {
                plan: wf_plan,
                starting_capital: capital,
                risk_free_rate: rf,
            },
            // The stitched curve's drawdown needs every bar.
            |p, w| {
                evaluator
                    .backtest_in(p, Some(w), EquityCurve::PerBar)
                    .map_err(|e| e.reason())
            },
            cancel,
            walk_forward_progress,
        );
        match wf {
            Ok(w) => {
                g.walk_forward = Some(WalkForward::from(&w));
                out.walk_forward = Some(w);
            }
            Err(e) => g.unavailable.push(format!("walkForward: {e}")),
        }
    }
    out.guards = Some(g);
    Ok(out)
}

/// The most daily returns (combinations × dates) kept for PBO: 25 million, 200 MB.
pub const PBO_BUDGET: usize = 25_000_000;

/// Parses `--holdout`: `20%` or `0.2`, the share of trading dates held out at the end.
pub fn parse_holdout(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.trim().strip_suffix('%') {
        Some(p) => (p, 100.0),
        None => (text.trim(), 1.0),
    };
    let share = number
        .trim()
        .parse::<f64>()
        .map(|v| v / scale)
        .map_err(|_| format!("`{text}` is not a share such as 20% or 0.2"))?;
    if !(share > 0.0 && share < 1.0) {
        return Err(format!(
            "`{text}`: the held-out share must be above 0 and below 100%"
        ));
    }
    Ok(share)
}

/// Parses `--pbo-blocks`: CSCV needs an even number of blocks, and C(16, 8) = 12,870 splits is
/// the most [`pbo`] takes.
pub fn parse_blocks(text: &str) -> Result<usize, String> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|&s| (2..=MAX_BLOCKS).contains(&s) && s % 2 == 0)
        .ok_or_else(|| format!("`{text}`: expected an even number from 2 to {MAX_BLOCKS}"))
}

/// Parses `--walk-forward train=N,test=M[,step=K]`, counts of trading dates; `step` defaults
/// to `test`, so out-of-sample folds tile the data with no gap.
pub fn parse_walk_forward(text: &str) -> Result<FoldPlan, String> {
    let (mut train, mut test, mut step) = (None, None, None);
    for part in text.split(',') {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}`: expected train=N, test=N or step=N"))?;
        let n = value
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                format!(
                    "{}: `{value}` is not a count of trading dates above 0",
                    key.trim()
                )
            })?;
        match key.trim() {
            "train" => train = Some(n),
            "test" => test = Some(n),
            "step" => step = Some(n),
            other => return Err(format!("`{other}`: expected train, test or step")),
        }
    }
    let (Some(train), Some(test)) = (train, test) else {
        return Err("both train=N and test=N are required, e.g. train=500,test=125".into());
    };
    Ok(FoldPlan::Rolling {
        in_sample: train,
        out_of_sample: test,
        step: step.unwrap_or(test),
    })
}

/// Daily returns of every combination of the judged sweep, gathered while it runs. The sweep
/// hands the evaluator parameter values, not combination indices, so they are keyed by the
/// values' bits.
struct Collector {
    starting_capital: f64,
    risk_free_rate: f64,
    returns: Mutex<HashMap<Vec<u64>, Vec<f64>>>,
}

impl Collector {
    fn new(starting_capital: f64, risk_free_rate: f64) -> Collector {
        Collector {
            starting_capital,
            risk_free_rate,
            returns: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `r`'s daily returns (the ones `sharpeRatio` is computed from) and returns its
    /// metrics.
    fn record(&self, params: &[(String, f64)], r: BacktestResult) -> Metrics {
        let key = params.iter().map(|(_, v)| v.to_bits()).collect();
        let column = self.daily_returns(&r);
        // A poisoned lock only means another combination panicked mid-insert.
        let mut map = self.returns.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(key, column);
        r.metrics
    }

    fn daily_returns(&self, r: &BacktestResult) -> Vec<f64> {
        daily_returns(&r.daily_equity, self.starting_capital, self.risk_free_rate)
    }

    /// The returns of the combination with parameter `values`, if it finished.
    fn take(&self, values: &[f64]) -> Option<Vec<f64>> {
        let key: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        let mut map = self.returns.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&key)
    }
}

/// PBO without its per-split detail (C(16, 8) = 12,870 splits would swamp the summary).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PboBrief {
    /// Share of the CSCV splits whose in-sample best ranked at or below the median out of sample,
    /// 0..1.
    pub pbo: f64,
    /// T, N, S and the number of splits C(S, S/2).
    pub periods: usize,
    /// N, the combinations compared.
    pub strategies: usize,
    /// S, the blocks the trading dates were cut into.
    pub blocks: usize,
    /// C(S, S/2), the splits evaluated.
    pub splits: usize,
}

/// The holdout: the in-sample best backtested once on the held-out dates.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holdout {
    /// The dates the sweep was judged on.
    pub in_sample: Window,
    /// The held-out dates the chosen combination was backtested on.
    pub out_of_sample: Window,
    /// The in-sample sweep's best (its metrics are in-sample).
    pub chosen: Ranked,
    /// The chosen combination's backtest on the held-out dates.
    pub out_of_sample_metrics: Metrics,
}

/// One walk-forward fold, without its in-sample table.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FoldBrief {
    /// The dates the fold's sweep ran on.
    pub in_sample: Window,
    /// The dates the fold's pick was backtested on.
    pub out_of_sample: Window,
    /// The chosen combination, `(key, value)` in grid order.
    pub params: Vec<(String, f64)>,
    /// The chosen combination's objective in sample.
    pub in_sample_objective: f64,
    /// The chosen combination's backtest on the fold's out-of-sample dates.
    pub out_of_sample_metrics: Metrics,
}

/// Rolling walk-forward: every fold and the metrics of the stitched out-of-sample curve.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalkForward {
    /// How the trading dates were cut into folds.
    pub plan: FoldPlan,
    /// Folds planned from the data, finished or not.
    pub planned_folds: usize,
    /// True when the run was cancelled before every fold finished.
    pub cancelled: bool,
    /// The finished folds, in date order.
    pub folds: Vec<FoldBrief>,
    /// `null` when no fold finished.
    pub stitched_metrics: Option<Metrics>,
}

impl From<&WalkForwardResult> for WalkForward {
    fn from(w: &WalkForwardResult) -> Self {
        WalkForward {
            plan: w.spec.plan,
            planned_folds: w.planned_folds,
            cancelled: w.cancelled,
            folds: w
                .folds
                .iter()
                .map(|f| FoldBrief {
                    in_sample: f.windows.in_sample,
                    out_of_sample: f.windows.out_of_sample,
                    params: f.chosen.params.clone(),
                    in_sample_objective: f.chosen.objective,
                    out_of_sample_metrics: f.out_of_sample.metrics.clone(),
                })
                .collect(),
            stitched_metrics: w.metrics.clone(),
        }
    }
}

/// Everything the guards found. A guard that could not be computed is `null`, with the
/// reason in `unavailable`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Guards {
    /// The window of the judged sweep.
    pub window: Option<Window>,
    /// Deflated Sharpe of the best combination, with the sweep's combinations as the trials.
    pub deflated_sharpe: Option<DeflatedSharpe>,
    /// Probability of Backtest Overfitting over every finished combination's daily returns.
    pub pbo: Option<PboBrief>,
    /// The in-sample best tested on the held-out dates, when a holdout was asked for.
    pub holdout: Option<Holdout>,
    /// The walk-forward folds and their stitched metrics, when a walk-forward was asked for.
    pub walk_forward: Option<WalkForward>,
    /// One line per guard that could not be computed, saying why.
    pub unavailable: Vec<String>,
}

impl Guards {
    /// DSR and PBO of `sweep`. `collected` holds every finished combination's returns (or is
    /// `None` when the matrix was over budget); `rerun` backtests one combination when the
    /// best's returns were not collected.
    fn judge(
        sweep: &SweepResult,
        window: Window,
        collected: Option<&Collector>,
        blocks: usize,
        rerun: impl FnOnce(&[(String, f64)]) -> Result<BacktestResult, RunError>,
        starting_capital: f64,
        risk_free_rate: f64,
    ) -> Guards {
        let mut g = Guards {
            window: Some(window),
            ..Guards::default()
        };
        let columns: Option<Vec<Vec<f64>>> = collected.map(|c| {
            sweep
                .rows
                .iter()
                .filter_map(|row| c.take(&row.params))
                .collect()
        });
        match &sweep.best_result {
            None => g
                .unavailable
                .push("deflatedSharpe: no combination meets the constraints".into()),
            Some(best) => {
                let position = sweep.rows.iter().position(|r| r.index == best.index);
                let returns = match (&columns, position) {
                    (Some(cols), Some(p)) => Ok(cols[p].clone()),
                    _ => rerun(&best.params)
                        .map(|r| daily_returns(&r.daily_equity, starting_capital, risk_free_rate))
                        .map_err(|e| e.reason()),
                };
                match returns.and_then(|r| {
                    deflated_sharpe(&r, &trial_sharpes(sweep)).map_err(|e| e.to_string())
                }) {
                    Ok(d) => g.deflated_sharpe = Some(d),
                    Err(e) => g.unavailable.push(format!("deflatedSharpe: {e}")),
                }
            }
        }
        match columns {
            None => g.unavailable.push(format!(
                "pbo: {} combinations × their trading dates are over the budget of {PBO_BUDGET} \
                 daily returns; narrow the grid or the window",
                sweep.rows.len()
            )),
            Some(cols) => match pbo(&cols, blocks) {
                Ok(p) => {
                    g.pbo = Some(PboBrief {
                        pbo: p.pbo,
                        periods: p.periods,
                        strategies: p.strategies,
                        blocks: p.blocks,
                        splits: p.splits.len(),
                    })
                }
                Err(e) => g.unavailable.push(format!("pbo: {e}")),
            },
        }
        g
    }

    /// The summary's lines (the report lists them too).
    pub fn lines(&self, objective: &str) -> Vec<String> {
        let mut out = Vec::new();
        let window = self.window.map(|w| format!(" on {w}")).unwrap_or_default();
        out.push(format!("overfitting guards{window}:"));
        if let Some(d) = &self.deflated_sharpe {
            out.push(format!(
                "  deflated Sharpe ratio {:.4}: the probability that the best's true daily Sharpe \
                 ratio ({:.4}) beats {:.4}, the best of {} no-skill trials ({:.4} before deflating)",
                d.deflated_sharpe,
                d.best.sharpe,
                d.expected_max_sharpe,
                d.trials,
                d.probabilistic_sharpe
            ));
        }
        if let Some(p) = &self.pbo {
            out.push(format!(
                "  probability of backtest overfitting {:.4}: in {:.1}% of {} CSCV splits ({} \
                 trading dates in {} blocks) the in-sample best ranked in the bottom half out of \
                 sample",
                p.pbo,
                p.pbo * 100.0,
                p.splits,
                p.periods,
                p.blocks
            ));
        }
        if let Some(h) = &self.holdout {
            out.push(format!(
                "  holdout {} (best in sample on {}: {} {objective} {:.4}): {}",
                h.out_of_sample,
                h.in_sample,
                params_text(&h.chosen.params),
                h.chosen.objective,
                metrics_text(&h.out_of_sample_metrics)
            ));
        }
        if let Some(w) = &self.walk_forward {
            out.push(format!(
                "  walk-forward: {} of {} folds{}",
                w.folds.len(),
                w.planned_folds,
                if w.cancelled { " (cancelled)" } else { "" }
            ));
            for (k, f) in w.folds.iter().enumerate() {
                out.push(format!(
                    "    {:>2}. train {} -> test {}: {} ({objective} {:.4} in sample): {}",
                    k + 1,
                    f.in_sample,
                    f.out_of_sample,
                    params_text(&f.params),
                    f.in_sample_objective,
                    metrics_text(&f.out_of_sample_metrics)
                ));
            }
            if let Some(m) = &w.stitched_metrics {
                out.push(format!("    stitched out of sample: {}", metrics_text(m)));
            }
        }
        for reason in &self.unavailable {
            out.push(format!("  not computed: {reason}"));
        }
        out
    }
}

fn params_text(params: &[(String, f64)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn metrics_text(m: &Metrics) -> String {
    format!(
        "sharpeRatio {} totalPnl {:.2} trades {} maxDrawdown {:.2}",
        m.sharpe_ratio
            .map_or_else(|| "null".to_string(), |s| format!("{s:.4}")),
        m.total_pnl,
        m.trade_count,
        m.max_drawdown
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdout_and_walk_forward_flags_parse_or_name_the_problem() {
        assert_eq!(parse_holdout("20%"), Ok(0.2));
        assert_eq!(parse_holdout("0.25"), Ok(0.25));
        assert!(parse_holdout("100%").unwrap_err().contains("below 100%"));
        assert!(parse_holdout("x%")
            .unwrap_err()
            .contains("`x%` is not a share"));
        assert_eq!(
            parse_walk_forward("train=500,test=125"),
            Ok(FoldPlan::Rolling {
                in_sample: 500,
                out_of_sample: 125,
                step: 125
            })
        );
        assert_eq!(
            parse_walk_forward("test=60, train=250, step=120"),
            Ok(FoldPlan::Rolling {
                in_sample: 250,
                out_of_sample: 60,
                step: 120
            })
        );
        for (text, want) in [
            ("train=500", "both train=N and test=N are required"),
            ("train=0,test=5", "train: `0` is not a count"),
            ("train=5,tests=5", "`tests`: expected train, test or step"),
            ("train", "`train`: expected train=N"),
        ] {
            let err = parse_walk_forward(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
