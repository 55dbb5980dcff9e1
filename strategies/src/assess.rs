//! The robustness verdict of one strategy: the reruns it needs (other costs, the neighbouring
//! parameter values) made here, the statistics and the judgement in `settle_engine::assess`.
//! `settle assess` and the MCP tool `assess_strategy` both call [`assess()`], so they give the
//! same verdict to the byte.

use serde::Serialize;
use settle_engine::assess::{
    self, null::NullTrade, path, time, Costs, Evidence, Luck, Reason, Stability, Verdict,
};
use settle_engine::metrics::daily_returns;
use settle_engine::sweep::dsr::{expected_max_sharpe, ReturnStats};
use settle_engine::{BacktestResult, EquityCurve, Side};

use crate::rules::{self, Strategy};
use crate::run::{run_on, Ran, RunError};

/// Parameters perturbed together, at most; beyond, one at a time.
const JOINT_PARAMETERS: usize = 4;
/// A non-integer parameter's step: this share of its value.
const RELATIVE_STEP: f64 = 0.1;

/// The verdict, its reasons and the evidence behind them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    /// The strategy's name.
    pub strategy: String,
    /// Store key of the series it ran on, e.g. `ES/continuous/1d`.
    pub series: String,
    /// Robust, fragile, likely overfit, or insufficient (too few trades to judge).
    pub verdict: Verdict,
    /// Each check's outcome in words, its number beside its threshold; failed checks first.
    pub reasons: Vec<Reason>,
    /// The numbers the verdict was judged on.
    pub evidence: Evidence,
}

/// Assesses the backtest `ran`; `trials` is how many strategies were tried to find this one
/// (the session's ledger over MCP, `--trials` on the command line), at least 1; `pbo` is the
/// PBO of the sweep it was picked from, when it was.
pub fn assess(
    ran: &Ran,
    trials: usize,
    pbo: Option<f64>,
    cancelled: &dyn Fn() -> bool,
) -> Result<Assessment, RunError> {
    let r = &ran.result;
    let capital = ran.cfg.starting_capital;
    let net: Vec<f64> = r.trades.iter().map(|t| t.net_pnl).collect();
    let daily = time::daily_pnl(&r.daily_equity, capital);
    let (best_days, best_days_share) = time::best_days_share(&daily);
    let (losing_streak, losing_streak_dollars) = path::losing_streak(&net);
    let costs = costs(ran, cancelled)?;
    let neighbours = neighbours(ran, cancelled)?;
    let (luck, luck_unavailable) = match luck(ran, &neighbours, trials.max(1)) {
        Ok(l) => (Some(l), None),
        Err(why) => (None, Some(why)),
    };
    let evidence = Evidence {
        trades: r.trades.len(),
        total_pnl: r.metrics.total_pnl,
        starting_capital: capital,
        costs: Some(costs),
        stability: stability(&neighbours),
        years: time::by_year(&r.daily_equity, &daily),
        thirds: time::thirds(&daily),
        days: daily.len(),
        best_days,
        best_days_share,
        luck,
        luck_unavailable,
        null: null_test(ran),
        pbo,
        drawdowns: path::drawdown_bootstrap(
            &net,
            capital,
            assess::RESAMPLES,
            assess::BOOTSTRAP_SEED,
        ),
        losing_streak,
        losing_streak_dollars,
    };
    let (verdict, reasons) = assess::judge(&evidence);
    Ok(Assessment {
        strategy: ran.strategy.name.clone(),
        series: r.series.clone(),
        verdict,
        reasons,
        evidence,
    })
}

/// The result at no costs and at twice the modeled ones, and the break-even.
fn costs(ran: &Ran, cancelled: &dyn Fn() -> bool) -> Result<Costs, RunError> {
    let r = &ran.result;
    let ticks = ran.cfg.slippage_ticks;
    let at = |commission: f64, slippage: u32| -> Result<f64, RunError> {
        let mut s = ran.strategy.clone();
        s.commission_per_side = Some(commission);
        s.slippage_ticks = Some(slippage);
        let c = rules::compile(&s)?;
        Ok(run_on(&c, &ran.bars, Some(EquityCurve::Daily), cancelled)?
            .1
            .metrics
            .total_pnl)
    };
    let gross: f64 = r.trades.iter().map(|t| t.gross_pnl).sum();
    let paid: f64 = r.trades.iter().map(|t| t.commission + t.slippage).sum();
    let modeled_per_side = r.commission_per_side + f64::from(ticks) * ran.spec.tick_value;
    let multiple = (paid > 0.0).then(|| gross / paid);
    Ok(Costs {
        pnl_no_costs: at(0.0, 0)?,
        pnl_modeled: r.metrics.total_pnl,
        pnl_double_costs: at(2.0 * r.commission_per_side, 2 * ticks)?,
        break_even_multiple: multiple,
        break_even_per_side: multiple.map(|k| k * modeled_per_side),
        modeled_per_side,
    })
}

/// One neighbour's total P&L and per-period Sharpe ratio (none without two daily returns).
struct Neighbour {
    pnl: f64,
    sharpe: Option<f64>,
}

/// The strategy at each neighbouring parameter set (docs/METRICS.md, "Robustness verdict").
fn neighbours(ran: &Ran, cancelled: &dyn Fn() -> bool) -> Result<Vec<Neighbour>, RunError> {
    let moves = parameter_moves(&ran.strategy);
    let mut out = Vec::new();
    for values in moves {
        let kv: Vec<(&str, f64)> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        // A neighbour the rules refuse (a slow average no longer slower) is not a strategy.
        let Ok(c) = rules::compile_with(&ran.strategy, &kv) else {
            continue;
        };
        let (cfg, result) = run_on(&c, &ran.bars, Some(EquityCurve::Daily), cancelled)?;
        out.push(Neighbour {
            pnl: result.metrics.total_pnl,
            sharpe: per_period_sharpe(&result, cfg.starting_capital, cfg.risk_free_rate),
        });
    }
    Ok(out)
}

/// The parameter sets one step away: every combination of −1, 0, +1 step for up to
/// [`JOINT_PARAMETERS`] parameters (the centre left out), else each parameter alone; values
/// outside a parameter's bounds are skipped.
fn parameter_moves(s: &Strategy) -> Vec<Vec<(String, f64)>> {
    let axes: Vec<(String, Vec<f64>)> = s
        .parameters
        .iter()
        .filter_map(|p| {
            let step = if p.integer {
                1.0
            } else {
                (p.value * RELATIVE_STEP).abs()
            };
            (step > 0.0).then(|| {
                let values = [p.value - step, p.value, p.value + step]
                    .into_iter()
                    .filter(|v| *v >= p.min && *v <= p.max)
                    .collect();
                (p.key.clone(), values)
            })
        })
        .collect();
    let centre: Vec<(String, f64)> = s
        .parameters
        .iter()
        .map(|p| (p.key.clone(), p.value))
        .collect();
    let mut sets: Vec<Vec<(String, f64)>> = Vec::new();
    if axes.len() <= JOINT_PARAMETERS {
        let mut all: Vec<Vec<(String, f64)>> = vec![Vec::new()];
        for (key, values) in &axes {
            all = all
                .into_iter()
                .flat_map(|set| {
                    values.iter().map(move |v| {
                        let mut next = set.clone();
                        next.push((key.clone(), *v));
                        next
                    })
                })
                .collect();
        }
        sets.extend(all);
    } else {
        for (key, values) in &axes {
            sets.extend(values.iter().map(|v| vec![(key.clone(), *v)]));
        }
    }
    sets.retain(|set| {
        set.iter()
            .any(|(k, v)| centre.iter().any(|(ck, cv)| ck == k && cv != v))
    });
    sets
}

fn per_period_sharpe(r: &BacktestResult, capital: f64, rf: f64) -> Option<f64> {
    ReturnStats::from_returns(&daily_returns(&r.daily_equity, capital, rf))
        .ok()
        .map(|s| s.sharpe)
}

fn stability(neighbours: &[Neighbour]) -> Option<Stability> {
    if neighbours.is_empty() {
        return None;
    }
    let mut pnl: Vec<f64> = neighbours.iter().map(|n| n.pnl).collect();
    pnl.sort_by(f64::total_cmp);
    Some(Stability {
        neighbours: pnl.len(),
        profitable: pnl.iter().filter(|p| **p > 0.0).count(),
        worst_pnl: pnl[0],
        median_pnl: path::nearest_rank(&pnl, 1, 2),
    })
}

/// The Deflated Sharpe of the daily returns, with N = `trials` and V the variance of the
/// per-period Sharpe ratios of the strategy and its neighbours.
fn luck(ran: &Ran, neighbours: &[Neighbour], trials: usize) -> Result<Luck, String> {
    let returns = daily_returns(
        &ran.result.daily_equity,
        ran.cfg.starting_capital,
        ran.cfg.risk_free_rate,
    );
    let stats = ReturnStats::from_returns(&returns).map_err(|e| e.to_string())?;
    let sharpes: Vec<f64> = std::iter::once(stats.sharpe)
        .chain(neighbours.iter().filter_map(|n| n.sharpe))
        .collect();
    let variance = if sharpes.len() < 2 {
        0.0
    } else {
        let mean = sharpes.iter().sum::<f64>() / sharpes.len() as f64;
        sharpes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (sharpes.len() - 1) as f64
    };
    Ok(Luck {
        deflated_sharpe: stats.probabilistic_sharpe(expected_max_sharpe(trials, variance)),
        trials,
        observations: stats.observations,
    })
}

/// The null test over the window's bars.
fn null_test(ran: &Ran) -> Option<assess::null::NullTest> {
    let r = &ran.result;
    let first = ran.bars.ts.binary_search(&r.first_bar.0).ok()?;
    let last = ran.bars.ts.binary_search(&r.last_bar.0).ok()?;
    let trades: Vec<NullTrade> = r
        .trades
        .iter()
        .map(|t| NullTrade {
            side: if t.side == Side::Long { 1.0 } else { -1.0 },
            contracts: t.contracts as f64,
            bars: t.bars_held.max(1) as usize,
            cost: t.commission + t.slippage,
        })
        .collect();
    assess::null::null_test(
        &trades,
        r.metrics.total_pnl,
        &ran.bars.open[first..=last],
        &ran.bars.close[first..=last],
        ran.spec.multiplier,
        assess::RESAMPLES,
        assess::NULL_SEED,
    )
}
