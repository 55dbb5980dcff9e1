//! Out-of-sample tests of a sweep: a single holdout, and rolling walk-forward analysis.
//!
//! Both cut the data's **trading dates** into folds. In each fold the whole grid is swept on the
//! in-sample dates with the sweep's objective and constraints ([`run`](super::run())), the best
//! combination is backtested once on the out-of-sample dates that follow, and the out-of-sample
//! runs are stitched into one equity curve whose metrics say what the optimisation was worth.
//!
//! * Holdout: one fold. In-sample is the first `round(n·fraction)` of the n trading dates,
//!   out-of-sample the rest.
//! * Rolling: fold k's in-sample is dates `k·step .. k·step + inSample`, its out-of-sample the
//!   next `outOfSample` dates (the last fold's is cut at the end of the data). `step` is at
//!   least `outOfSample`, so out-of-sample folds never overlap; `step == outOfSample` tiles
//!   them with no gap.
//!
//! Each fold's window is [`Window::Dates`] with its first and last trading dates. Every run is
//! a separate backtest: it starts flat, closes any position at the window's last bar
//! (`end_of_data`), and reads indicators the caller computed on the full series, which are
//! warmed up on earlier bars exactly as they would be for a live trader.
//!
//! Determinism: folds run one after another; each in-sample sweep is deterministic whatever the
//! thread count, so the result is too. Cancellation uses the sweep's flag: a fold whose sweep
//! was cancelled is dropped, and every fold finished before it is kept and stitched.

use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use settle_data::{Bars, ContractSpec};

use super::grid::Grid;
use super::moments::GuardError;
use super::objective::SweepSpec;
use super::result::{Ranked, SweepResult};
use super::run::{run, Progress};
use crate::equity::{DailyEquity, EquityPoint};
use crate::error::EngineError;
use crate::metrics::{self, Metrics};
use crate::session::{Calendar, SessionCursor};
use crate::window::Window;
use crate::BacktestResult;

/// How the trading dates are cut into folds (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum FoldPlan {
    /// `{"holdout": {"inSampleFraction": 0.7}}`: optimise on the first 70 % of the dates.
    #[serde(rename_all = "camelCase")]
    Holdout {
        /// Share of the dates in sample, a fraction strictly between 0 and 1.
        in_sample_fraction: f64,
    },
    /// `{"rolling": {"inSample": 750, "outOfSample": 250, "step": 250}}`, in trading dates.
    #[serde(rename_all = "camelCase")]
    Rolling {
        /// Trading dates in each fold's in-sample window.
        in_sample: usize,
        /// Trading dates in each fold's out-of-sample window (the last may be cut short).
        out_of_sample: usize,
        /// Trading dates between the starts of consecutive folds; at least `out_of_sample`.
        step: usize,
    },
}

/// The two windows of one fold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FoldWindows {
    /// The dates the grid is swept on.
    pub in_sample: Window,
    /// The dates the chosen combination is tested on, right after the in-sample ones.
    pub out_of_sample: Window,
}

impl FoldPlan {
    /// The folds over `dates` (the data's trading dates, ascending; see [`trading_dates`]).
    pub fn folds(&self, dates: &[NaiveDate]) -> Result<Vec<FoldWindows>, GuardError> {
        let n = dates.len();
        // Half-open index ranges [start, end) of in-sample and out-of-sample dates.
        let ranges: Vec<(usize, usize, usize)> = match *self {
            FoldPlan::Holdout {
                in_sample_fraction: f,
            } => {
                if !(f > 0.0 && f < 1.0) {
                    return Err(GuardError::invalid(
                        "inSampleFraction",
                        format!("{f}; expected a fraction strictly between 0 and 1"),
                    ));
                }
                let k = (n as f64 * f).round() as usize;
                if k == 0 || k >= n {
                    return Err(GuardError::invalid(
                        "inSampleFraction",
                        format!("{f} of {n} trading dates leaves one side empty"),
                    ));
                }
                vec![(0, k, n)]
            }
            FoldPlan::Rolling {
                in_sample,
                out_of_sample,
                step,
            } => {
                if in_sample == 0 || out_of_sample == 0 {
                    let field = if in_sample == 0 {
                        "inSample"
                    } else {
                        "outOfSample"
                    };
                    return Err(GuardError::invalid(field, "0; expected at least 1 date"));
                }
                if step < out_of_sample {
                    return Err(GuardError::invalid(
                        "step",
                        format!(
                            "{step} is below outOfSample {out_of_sample}, so out-of-sample \
                             folds would overlap"
                        ),
                    ));
                }
                if in_sample >= n {
                    return Err(GuardError::invalid(
                        "inSample",
                        format!("{in_sample} dates leave none out of sample; the data has {n}"),
                    ));
                }
                (0..)
                    .map(|k| k * step)
                    .take_while(|start| start + in_sample < n)
                    .map(|start| {
                        let oos = start + in_sample;
                        (start, oos, (oos + out_of_sample).min(n))
                    })
                    .collect()
            }
        };
        let window = |a: usize, b: usize| Window::Dates(dates[a], dates[b - 1]);
        Ok(ranges
            .into_iter()
            .map(|(start, oos, end)| FoldWindows {
                in_sample: window(start, oos),
                out_of_sample: window(oos, end),
            })
            .collect())
    }
}

/// The trading dates of `bars` under `spec`'s session calendar, ascending and distinct: the
/// dates folds are counted in.
pub fn trading_dates(bars: &Bars, spec: &ContractSpec) -> Result<Vec<NaiveDate>, EngineError> {
    let cal = Calendar::new(spec, bars.meta.bar_size)?;
    let mut cursor = SessionCursor::new(&cal);
    let mut dates: Vec<NaiveDate> = Vec::new();
    for &t in &bars.ts {
        let date = cursor.at(t).date;
        if dates.last() != Some(&date) {
            dates.push(date);
        }
    }
    Ok(dates)
}

/// How the out-of-sample runs are stitched. Both must equal what the evaluator's backtests use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WalkForwardSpec {
    /// How the trading dates are cut into folds.
    pub plan: FoldPlan,
    /// Dollars each run starts from; the base of the stitched curve's returns.
    pub starting_capital: f64,
    /// Annual risk-free rate of the stitched curve's Sharpe and Sortino ratios.
    pub risk_free_rate: f64,
}

/// One finished fold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fold {
    /// The fold's in-sample and out-of-sample windows.
    pub windows: FoldWindows,
    /// The in-sample sweep, every combination.
    pub in_sample: SweepResult,
    /// Its best combination, the one tested out of sample.
    pub chosen: Ranked,
    /// The chosen combination's out-of-sample backtest.
    pub out_of_sample: BacktestResult,
}

/// The folds and their stitched out-of-sample curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalkForwardResult {
    /// The plan and stitching the run used.
    pub spec: WalkForwardSpec,
    /// Folds planned from the data (finished or not).
    pub planned_folds: usize,
    /// The finished folds, in date order.
    pub folds: Vec<Fold>,
    /// True when the run was cancelled before every fold finished.
    pub cancelled: bool,
    /// Out-of-sample equity, fold after fold: each fold's curve is shifted by the P&L of the
    /// folds before it, so the last point is `startingCapital` + the sum of their P&L.
    pub daily_equity: Vec<DailyEquity>,
    /// The stitched out-of-sample equity at every bar's close, shifted like `daily_equity`.
    pub equity: Vec<EquityPoint>,
    /// Metrics of the stitched curve and of every out-of-sample trade, as defined for one
    /// backtest; `None` when no fold finished.
    pub metrics: Option<Metrics>,
}

/// Walk-forward (or holdout) analysis of `grid` under `sweep`'s objective and constraints.
///
/// `eval(params, window)` backtests one combination on one window; it is called in parallel
/// for the in-sample sweeps. `dates` are the data's trading dates ([`trading_dates`]).
/// `progress` counts combinations over all folds (`total` = folds × grid size).
pub fn walk_forward<F>(
    grid: &Grid,
    sweep: &SweepSpec,
    dates: &[NaiveDate],
    spec: &WalkForwardSpec,
    eval: F,
    cancel: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<WalkForwardResult, GuardError>
where
    F: Fn(&[(String, f64)], Window) -> Result<BacktestResult, String> + Sync,
{
    if !(spec.starting_capital.is_finite() && spec.starting_capital > 0.0) {
        return Err(GuardError::invalid(
            "startingCapital",
            format!("{}; expected dollars above 0", spec.starting_capital),
        ));
    }
    let plan = spec.plan.folds(dates)?;
    let per_fold = grid.total_combinations();
    let total = plan.len() * per_fold;
    let mut folds = Vec::with_capacity(plan.len());
    for (index, windows) in plan.iter().enumerate() {
        let base = index * per_fold;
        let overall = |p: Progress| {
            let done = base + p.done;
            progress(Progress {
                done,
                total,
                rate_per_sec: p.rate_per_sec,
                eta_secs: (p.rate_per_sec > 0.0).then(|| (total - done) as f64 / p.rate_per_sec),
            })
        };
        let in_sample = run(
            grid,
            sweep,
            |p| eval(p, windows.in_sample).map(|r| r.metrics),
            cancel,
            &overall,
        );
        if in_sample.cancelled {
            break;
        }
        let chosen = in_sample
            .best_result
            .clone()
            .ok_or(GuardError::NothingChosen {
                fold: index,
                window: windows.in_sample,
            })?;
        let out_of_sample = eval(&chosen.params, windows.out_of_sample).map_err(|reason| {
            GuardError::Evaluation {
                fold: index,
                window: windows.out_of_sample,
                reason,
            }
        })?;
        folds.push(Fold {
            windows: *windows,
            in_sample,
            chosen,
            out_of_sample,
        });
    }
    let stitched = stitch(&folds, spec)?;
    Ok(WalkForwardResult {
        spec: *spec,
        planned_folds: plan.len(),
        cancelled: folds.len() < plan.len(),
        folds,
        daily_equity: stitched.daily,
        equity: stitched.equity,
        metrics: stitched.metrics,
    })
}

struct Stitched {
    daily: Vec<DailyEquity>,
    equity: Vec<EquityPoint>,
    metrics: Option<Metrics>,
}

/// Joins the folds' out-of-sample curves, each shifted by the P&L of the folds before it.
fn stitch(folds: &[Fold], spec: &WalkForwardSpec) -> Result<Stitched, GuardError> {
    let capital = spec.starting_capital;
    let (mut daily, mut equity, mut trades) = (Vec::new(), Vec::new(), Vec::new());
    let mut offset = 0.0;
    for (index, fold) in folds.iter().enumerate() {
        let r = &fold.out_of_sample;
        let last = r.daily_equity.last().map_or(capital, |d| d.equity);
        // Every run ends flat, so its last equity is its start plus its total P&L.
        let start = last - r.metrics.total_pnl;
        if (start - capital).abs() > 1e-6 * capital {
            return Err(GuardError::invalid(
                "startingCapital",
                format!(
                    "{capital}, but fold {index}'s out-of-sample backtest started from {start}; \
                     use the evaluator's starting capital"
                ),
            ));
        }
        daily.extend(r.daily_equity.iter().map(|d| DailyEquity {
            date: d.date,
            equity: d.equity + offset,
        }));
        equity.extend(r.equity.iter().map(|e| EquityPoint {
            time: e.time,
            equity: e.equity + offset,
        }));
        trades.extend(r.trades.iter().cloned());
        offset += last - capital;
    }
    let per_bar: Vec<f64> = equity.iter().map(|e| e.equity).collect();
    let metrics = (!folds.is_empty()).then(|| {
        metrics::compute(&metrics::Inputs {
            trades: &trades,
            equity: &per_bar,
            daily: &daily,
            starting_capital: capital,
            risk_free_rate: spec.risk_free_rate,
        })
    });
    Ok(Stitched {
        daily,
        equity,
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(n: usize) -> Vec<NaiveDate> {
        let d0 = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        (0..n)
            .map(|k| d0 + chrono::Duration::days(k as i64))
            .collect()
    }

    fn spans(plan: FoldPlan, n: usize) -> Vec<String> {
        plan.folds(&dates(n))
            .unwrap()
            .iter()
            .map(|f| format!("{} | {}", f.in_sample, f.out_of_sample))
            .collect()
    }

    #[test]
    fn rolling_folds_tile_the_dates_and_cut_the_last_one() {
        let plan = FoldPlan::Rolling {
            in_sample: 4,
            out_of_sample: 2,
            step: 2,
        };
        // 9 dates (Jan 1..9): IS 1-4 OOS 5-6; IS 3-6 OOS 7-8; IS 5-8 OOS 9 (cut).
        assert_eq!(
            spans(plan, 9),
            [
                "2024-01-01..2024-01-04 | 2024-01-05..2024-01-06",
                "2024-01-03..2024-01-06 | 2024-01-07..2024-01-08",
                "2024-01-05..2024-01-08 | 2024-01-09..2024-01-09",
            ]
        );
        // A step longer than the out-of-sample length leaves gaps.
        let gappy = FoldPlan::Rolling {
            in_sample: 2,
            out_of_sample: 1,
            step: 3,
        };
        assert_eq!(
            spans(gappy, 7),
            [
                "2024-01-01..2024-01-02 | 2024-01-03..2024-01-03",
                "2024-01-04..2024-01-05 | 2024-01-06..2024-01-06",
            ]
        );
    }

    #[test]
    fn holdout_rounds_to_the_nearest_date() {
        let plan = FoldPlan::Holdout {
            in_sample_fraction: 0.7,
        };
        // 0.7 × 10 = 7 dates in sample; 0.7 × 5 = 3.5 rounds to 4.
        assert_eq!(
            spans(plan, 10),
            ["2024-01-01..2024-01-07 | 2024-01-08..2024-01-10"]
        );
        assert_eq!(
            spans(plan, 5),
            ["2024-01-01..2024-01-04 | 2024-01-05..2024-01-05"]
        );
    }

    #[test]
    fn bad_plans_name_the_field() {
        let cases = [
            (
                FoldPlan::Holdout {
                    in_sample_fraction: 1.0,
                },
                "`inSampleFraction`",
            ),
            (
                FoldPlan::Holdout {
                    in_sample_fraction: 0.01,
                },
                "`inSampleFraction`",
            ),
            (
                FoldPlan::Rolling {
                    in_sample: 0,
                    out_of_sample: 1,
                    step: 1,
                },
                "`inSample`",
            ),
            (
                FoldPlan::Rolling {
                    in_sample: 3,
                    out_of_sample: 0,
                    step: 1,
                },
                "`outOfSample`",
            ),
            (
                FoldPlan::Rolling {
                    in_sample: 3,
                    out_of_sample: 2,
                    step: 1,
                },
                "`step`",
            ),
            (
                FoldPlan::Rolling {
                    in_sample: 10,
                    out_of_sample: 2,
                    step: 2,
                },
                "`inSample`",
            ),
        ];
        for (plan, field) in cases {
            let msg = plan.folds(&dates(10)).unwrap_err().to_string();
            assert!(msg.starts_with(field), "{msg}");
        }
    }

    #[test]
    fn plans_read_from_json() {
        let p: FoldPlan =
            serde_json::from_str(r#"{"rolling":{"inSample":750,"outOfSample":250,"step":250}}"#)
                .unwrap();
        assert_eq!(
            p,
            FoldPlan::Rolling {
                in_sample: 750,
                out_of_sample: 250,
                step: 250
            }
        );
        let h: FoldPlan = serde_json::from_str(r#"{"holdout":{"inSampleFraction":0.7}}"#).unwrap();
        assert_eq!(
            h,
            FoldPlan::Holdout {
                in_sample_fraction: 0.7
            }
        );
    }
}
