//! The robustness verdict: is the edge real, or fitted noise?
//!
//! The statistics here are pure functions of one backtest's trades, daily equity and window
//! bars, plus the results of the reruns they ask for (other costs, neighbouring parameters),
//! which the caller makes (`settle_strategies::assess`). [`judge`] turns them into a verdict,
//! robust / fragile / likely overfit (or insufficient), with each reason a number beside its
//! threshold. Formulas and thresholds: `docs/METRICS.md`, "Robustness verdict".
//!
//! * [`rng`]: the one seeded random stream (SplitMix64), so the verdict is deterministic.
//! * [`time`]: P&L by year, by thirds, and the best days' share.
//! * [`path`]: the drawdown bootstrap and the longest losing streak.
//! * [`null`]: the same trades at random times.

pub mod null;
pub mod path;
pub mod rng;
pub mod time;

use serde::Serialize;

use crate::words::dollars;

/// Fewer trades than this give no verdict.
pub const MIN_TRADES: usize = 30;
/// Resamples of the drawdown bootstrap, and runs of the null test.
pub const RESAMPLES: usize = 1000;
/// Seed of the drawdown bootstrap's stream.
pub const BOOTSTRAP_SEED: u64 = 0x5E77_1E00_0000_0001;
/// Seed of the null test's stream.
pub const NULL_SEED: u64 = 0x5E77_1E00_0000_0002;
/// Share of neighbours that must stay profitable.
pub const STABLE_SHARE: f64 = 0.6;
/// Deflated Sharpe below which the result is likely luck (verdict likely overfit).
pub const DSR_OVERFIT: f64 = 0.5;
/// Deflated Sharpe the luck check needs to pass.
pub const DSR_ROBUST: f64 = 0.95;
/// PBO above which the sweep's pick is likely overfit (its in-sample best more often than
/// not ranks in the bottom half out of sample).
pub const PBO_OVERFIT: f64 = 0.5;
/// Null-test p-value above which chance did as well.
pub const NULL_P: f64 = 0.05;
/// The bootstrap's 95th-percentile drawdown, as a share of the starting capital, above
/// which the path is fragile.
pub const DRAWDOWN_SHARE: f64 = 0.5;

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed.
    Robust,
    /// A check other than luck failed: the edge may be real but does not survive costs, nearby
    /// parameters, time or path risk.
    Fragile,
    /// A luck check failed (Deflated Sharpe below 0.5, null-test p above 0.05, or PBO above 0.5):
    /// chance explains the result as well as skill.
    LikelyOverfit,
    /// Fewer than [`MIN_TRADES`] trades: no verdict is given.
    Insufficient,
}

impl Verdict {
    /// As the JSON says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Robust => "robust",
            Verdict::Fragile => "fragile",
            Verdict::LikelyOverfit => "likely_overfit",
            Verdict::Insufficient => "insufficient",
        }
    }
}

/// The result at other costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Costs {
    /// Total net P&L in dollars with no commission and no slippage.
    pub pnl_no_costs: f64,
    /// Total net P&L in dollars at the modeled commission and slippage (the backtest's own).
    pub pnl_modeled: f64,
    /// Total net P&L in dollars at twice the modeled commission and slippage; the costs check
    /// passes when it is above zero.
    pub pnl_double_costs: f64,
    /// Gross P&L over the modeled costs of the 1× run; none without costs.
    pub break_even_multiple: Option<f64>,
    /// Dollars per contract per side (commission and slippage) at which the P&L is zero.
    pub break_even_per_side: Option<f64>,
    /// Modeled dollars per contract per side: commission + slippage ticks × tick value.
    pub modeled_per_side: f64,
}

/// The strategy at its neighbouring parameter values.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stability {
    /// Neighbouring parameter sets that ran (each parameter at value − step, value, value + step).
    pub neighbours: usize,
    /// Neighbours whose total P&L is above zero; the check needs this share ≥ [`STABLE_SHARE`].
    pub profitable: usize,
    /// The worst and the median neighbour's total P&L (nearest rank).
    pub worst_pnl: f64,
    /// The median neighbour's total P&L in dollars (nearest rank).
    pub median_pnl: f64,
}

/// The Deflated Sharpe of the daily returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Luck {
    /// Probability (0..1) that the true Sharpe ratio is above the best expected of `trials`
    /// strategies with no skill.
    pub deflated_sharpe: f64,
    /// Strategies tried to find this one (N of the Deflated Sharpe), at least 1.
    pub trials: usize,
    /// Daily returns it rests on.
    pub observations: usize,
}

/// Everything [`judge`] weighs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Closed trades, including one closed at the end of data.
    pub trades: usize,
    /// The backtest's total net P&L, dollars.
    pub total_pnl: f64,
    /// Dollars the backtest started from; the base of the drawdown check.
    pub starting_capital: f64,
    /// The result at 0×, 1× and 2× costs; none when the reruns were not made.
    pub costs: Option<Costs>,
    /// The neighbouring parameter sets; none when the strategy has no parameters to move.
    pub stability: Option<Stability>,
    /// P&L by calendar year, in date order.
    pub years: Vec<time::YearPnl>,
    /// Net P&L in dollars of each third of the window's trading dates, in order.
    pub thirds: [f64; 3],
    /// Trading dates in the window (daily P&L values).
    pub days: usize,
    /// How many best days the share is taken over: ⌈5% of `days`⌉, at least one.
    pub best_days: usize,
    /// Share of the total P&L (a fraction; 1.0 = all of it) made on the best `best_days` days; none
    /// when the total is not a gain.
    pub best_days_share: Option<f64>,
    /// The Deflated Sharpe of the daily returns; none when it could not be computed
    /// (`luck_unavailable` says why).
    pub luck: Option<Luck>,
    /// Why there is no Deflated Sharpe, when there is none.
    pub luck_unavailable: Option<String>,
    /// The same trades at random times; none when they do not fit in the window.
    pub null: Option<null::NullTest>,
    /// Probability of Backtest Overfitting of the sweep this strategy was picked from.
    pub pbo: Option<f64>,
    /// The drawdowns of the trades resampled in random order; none without trades.
    pub drawdowns: Option<path::DrawdownBootstrap>,
    /// Longest run of consecutive losing trades (net < 0), in entry order.
    pub losing_streak: usize,
    /// Net dollars lost over that streak (negative; 0 without a loss).
    pub losing_streak_dollars: f64,
}

/// One reason of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// `sample`, `costs`, `stability`, `time`, `luck` or `path`.
    pub check: &'static str,
    /// True when the check passed.
    pub passed: bool,
    /// Whether a failure makes the verdict likely overfit (luck) rather than fragile.
    #[serde(skip)]
    overfit: bool,
    /// The number, its threshold and what it rests on, in words.
    pub text: String,
}

fn reason(check: &'static str, passed: bool, text: String) -> Reason {
    Reason {
        check,
        passed,
        overfit: false,
        text,
    }
}

/// The verdict and its reasons, failed checks first (in check order), then passed ones.
pub fn judge(e: &Evidence) -> (Verdict, Vec<Reason>) {
    if e.trades < MIN_TRADES {
        let text = format!(
            "{} trades: a verdict needs at least {MIN_TRADES}; widen the window or loosen the \
             entry rules",
            e.trades
        );
        return (Verdict::Insufficient, vec![reason("sample", false, text)]);
    }
    let mut reasons = Vec::new();
    if let Some(c) = &e.costs {
        let mut text = format!(
            "P&L {} at no costs, {} as modeled, {} at 2× costs (needs > 0)",
            dollars(c.pnl_no_costs),
            dollars(c.pnl_modeled),
            dollars(c.pnl_double_costs)
        );
        if let (Some(k), Some(side)) = (c.break_even_multiple, c.break_even_per_side) {
            text.push_str(&format!(
                "; break-even at {k:.2}× the modeled costs, {} per contract per side (modeled {})",
                dollars(side),
                dollars(c.modeled_per_side)
            ));
        }
        reasons.push(reason("costs", c.pnl_double_costs > 0.0, text));
    }
    if let Some(s) = e.stability.as_ref().filter(|s| s.neighbours > 0) {
        let share = s.profitable as f64 / s.neighbours as f64;
        reasons.push(reason(
            "stability",
            share >= STABLE_SHARE,
            format!(
                "{} of {} neighbouring parameter sets profitable ({:.0}%, needs ≥ {:.0}%); \
                 worst {}, median {}",
                s.profitable,
                s.neighbours,
                share * 100.0,
                STABLE_SHARE * 100.0,
                dollars(s.worst_pnl),
                dollars(s.median_pnl)
            ),
        ));
    }
    let good_thirds = e.thirds.iter().filter(|p| **p > 0.0).count();
    let good_years = e.years.iter().filter(|y| y.pnl > 0.0).count();
    reasons.push(reason(
        "time",
        good_thirds >= 2,
        format!(
            "{good_thirds} of 3 thirds of the window profitable (needs ≥ 2): {}, {}, {}; \
             {good_years} of {} calendar years profitable ({} days)",
            dollars(e.thirds[0]),
            dollars(e.thirds[1]),
            dollars(e.thirds[2]),
            e.years.len(),
            e.days
        ),
    ));
    match e.best_days_share {
        Some(share) => reasons.push(reason(
            "time",
            share <= 1.0,
            format!(
                "the best {} of {} days made {:.0}% of the P&L (needs ≤ 100%: without them it \
                 must still make money)",
                e.best_days,
                e.days,
                share * 100.0
            ),
        )),
        None => reasons.push(reason(
            "time",
            false,
            format!("total P&L {} is not a gain", dollars(e.total_pnl)),
        )),
    }
    match &e.luck {
        Some(l) => reasons.push(Reason {
            overfit: l.deflated_sharpe < DSR_OVERFIT,
            ..reason(
                "luck",
                l.deflated_sharpe >= DSR_ROBUST,
                format!(
                    "Deflated Sharpe {:.3} over {} trial{} and {} daily returns (needs ≥ \
                     {DSR_ROBUST}; below {DSR_OVERFIT}: likely luck)",
                    l.deflated_sharpe,
                    l.trials,
                    if l.trials == 1 { "" } else { "s" },
                    l.observations
                ),
            )
        }),
        None => {
            let why = e.luck_unavailable.as_deref().unwrap_or("not computed");
            reasons.push(reason("luck", false, format!("no Deflated Sharpe: {why}")));
        }
    }
    if let Some(n) = &e.null {
        reasons.push(Reason {
            overfit: n.p_value > NULL_P,
            ..reason(
                "luck",
                n.p_value <= NULL_P,
                format!(
                    "null test p = {:.3} (needs ≤ {NULL_P}): {} of {} runs of the same trades at \
                     random times made at least {} (their median {})",
                    n.p_value,
                    n.beats,
                    n.runs,
                    dollars(n.actual_total),
                    dollars(n.median_total)
                ),
            )
        });
    }
    if let Some(p) = e.pbo {
        reasons.push(Reason {
            overfit: p > PBO_OVERFIT,
            ..reason(
                "luck",
                p <= PBO_OVERFIT,
                format!(
                    "PBO {p:.3} of the sweep it was picked from (needs ≤ {PBO_OVERFIT}: above, \
                     the in-sample best ranks in the bottom half out of sample more often than not)"
                ),
            )
        });
    }
    if let Some(d) = &e.drawdowns {
        let share = d.p95 / e.starting_capital;
        reasons.push(reason(
            "path",
            share <= DRAWDOWN_SHARE,
            format!(
                "bootstrap drawdown median {}, 95th percentile {} ({:.0}% of the starting \
                 capital, needs ≤ {:.0}%; {} resamples of {} trades); longest losing streak {} \
                 trades, {}",
                dollars(d.median),
                dollars(d.p95),
                share * 100.0,
                DRAWDOWN_SHARE * 100.0,
                d.resamples,
                d.trades,
                e.losing_streak,
                dollars(e.losing_streak_dollars)
            ),
        ));
    }
    let verdict = if reasons.iter().any(|r| !r.passed && r.overfit) {
        Verdict::LikelyOverfit
    } else if reasons.iter().any(|r| !r.passed) {
        Verdict::Fragile
    } else {
        Verdict::Robust
    };
    reasons.sort_by_key(|r| r.passed);
    (verdict, reasons)
}
