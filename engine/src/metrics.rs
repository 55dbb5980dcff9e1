//! Summary statistics. Definitions, and where they differ from backtesting.py and vectorbt,
//! are in `docs/METRICS.md`. Rule for undefined values: a ratio whose denominator is zero (or
//! a mean of nothing) is `None` (JSON `null`); sums and counts are 0. No NaN ever escapes.

use serde::{Deserialize, Serialize};
use statrs::statistics::Statistics;

use crate::equity::{DailyEquity, Drawdown};
use crate::trade::Trade;

/// Trading days per year used to annualise daily Sharpe and Sortino ratios.
pub const TRADING_DAYS: f64 = 252.0;

/// All metrics of one backtest; money in dollars, net of commission and slippage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// Closed trades, including the one closed at the end of data.
    pub trade_count: u32,
    /// Sum of every trade's net P&L, dollars.
    pub total_pnl: f64,
    /// Winners (net P&L > 0) / closed trades, a fraction in 0..=1.
    pub win_rate: Option<f64>,
    /// Largest fall of equity (marked at bar closes) from its running peak, dollars, >= 0.
    pub max_drawdown: f64,
    /// Annualised Sharpe ratio of the daily returns (equity change ÷ starting capital, less the
    /// daily risk-free rate): mean ÷ sample std × √252. `None` with fewer than 2 days or no spread.
    pub sharpe_ratio: Option<f64>,
    /// `totalPnl` ÷ `tradeCount`, dollars.
    pub avg_pnl_per_trade: Option<f64>,
    /// Gross profit / |gross loss|.
    pub profit_factor: Option<f64>,
    /// Sum of winning trades' net P&L (>= 0).
    pub gross_profit: f64,
    /// Sum of losing trades' net P&L (<= 0).
    pub gross_loss: f64,
    /// Mean net P&L of winning trades, dollars.
    pub avg_win: Option<f64>,
    /// Mean net P&L of losing trades (negative).
    pub avg_loss: Option<f64>,
    /// Best net P&L of a trade, dollars.
    pub largest_win: Option<f64>,
    /// Most negative net P&L of a trade.
    pub largest_loss: Option<f64>,
    /// Longest run of winning trades in entry order; a break-even trade ends the run.
    pub max_consecutive_wins: u32,
    /// Longest run of losing trades in entry order; a break-even trade ends the run.
    pub max_consecutive_losses: u32,
    /// Average trade in units of the average loss: avgPnlPerTrade / |avgLoss|.
    pub expectancy: Option<f64>,
    /// maxDrawdown as a percent (0..100) of the peak it fell from.
    pub max_drawdown_pct: f64,
    /// Like `sharpeRatio`, with the downside deviation √(Σ min(x, 0)² ÷ n) in place of the standard
    /// deviation.
    pub sortino_ratio: Option<f64>,
    /// Compound annual growth of equity over the window's calendar span.
    pub cagr: Option<f64>,
    /// cagr / (maxDrawdownPct / 100).
    pub calmar: Option<f64>,
    /// Bars with an open position / bars in the window, a fraction in 0..=1.
    pub exposure: f64,
    /// Mean bars held per trade.
    pub avg_bars_held: Option<f64>,
    /// Commission over every fill of every trade, dollars.
    pub total_commission: f64,
    /// Slippage over every fill of every trade, dollars.
    pub total_slippage: f64,
    /// Daily returns `sharpeRatio` and `sortinoRatio` rest on: one per trading date in the
    /// window. The dates are exchange sessions (a daily bar stamped on a day no session
    /// closed is merged into the next session on import), so √252 annualizes them honestly.
    pub return_days: u32,
}

/// A finished run's per-bar equity curve and what else the metrics are computed from; used
/// where the per-bar curve is at hand (e.g. stitched walk-forward folds).
pub(crate) struct Inputs<'a> {
    pub trades: &'a [Trade],
    /// Equity at every window bar's close.
    pub equity: &'a [f64],
    pub daily: &'a [DailyEquity],
    pub starting_capital: f64,
    pub risk_free_rate: f64,
}

/// What the metrics are computed from, with the per-bar curve reduced to the two numbers
/// they need: its drawdown and its length (the bar loop records these as it goes).
pub(crate) struct Summary<'a> {
    pub trades: &'a [Trade],
    pub daily: &'a [DailyEquity],
    pub drawdown: Drawdown,
    /// Bars in the window.
    pub bars: usize,
    pub starting_capital: f64,
    pub risk_free_rate: f64,
}

/// `Some(x)` when `x` is a finite number.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// `num / den`, or `None` when `den` is zero.
fn ratio(num: f64, den: f64) -> Option<f64> {
    if den == 0.0 {
        None
    } else {
        finite(num / den)
    }
}

pub(crate) fn compute(x: &Inputs) -> Metrics {
    from_summary(&Summary {
        trades: x.trades,
        daily: x.daily,
        drawdown: Drawdown::of(x.starting_capital, x.equity),
        bars: x.equity.len(),
        starting_capital: x.starting_capital,
        risk_free_rate: x.risk_free_rate,
    })
}

pub(crate) fn from_summary(x: &Summary) -> Metrics {
    let pnl: Vec<f64> = x.trades.iter().map(|t| t.net_pnl).collect();
    let n = pnl.len() as f64;
    let wins: Vec<f64> = pnl.iter().copied().filter(|&p| p > 0.0).collect();
    let losses: Vec<f64> = pnl.iter().copied().filter(|&p| p < 0.0).collect();
    let total: f64 = pnl.iter().sum();
    let gross_profit: f64 = wins.iter().sum();
    let gross_loss: f64 = losses.iter().sum();
    let avg_loss = ratio(gross_loss, losses.len() as f64);
    let avg_pnl = ratio(total, n);
    let (mut streak_w, mut streak_l, mut max_w, mut max_l) = (0, 0, 0, 0);
    for &p in &pnl {
        // A break-even trade ends both streaks.
        (streak_w, streak_l) = if p > 0.0 {
            (streak_w + 1, 0)
        } else if p < 0.0 {
            (0, streak_l + 1)
        } else {
            (0, 0)
        };
        max_w = max_w.max(streak_w);
        max_l = max_l.max(streak_l);
    }
    let (dd, dd_pct) = x.drawdown.get();
    let (sharpe, sortino) = daily_ratios(x);
    let cagr = cagr(x);
    let bars_held: u32 = x.trades.iter().map(|t| t.bars_held).sum();
    Metrics {
        trade_count: x.trades.len() as u32,
        total_pnl: total,
        win_rate: ratio(wins.len() as f64, n),
        max_drawdown: dd,
        sharpe_ratio: sharpe,
        avg_pnl_per_trade: avg_pnl,
        profit_factor: ratio(gross_profit, -gross_loss),
        gross_profit,
        gross_loss,
        avg_win: ratio(gross_profit, wins.len() as f64),
        avg_loss,
        largest_win: wins.iter().copied().reduce(f64::max),
        largest_loss: losses.iter().copied().reduce(f64::min),
        max_consecutive_wins: max_w,
        max_consecutive_losses: max_l,
        expectancy: avg_pnl.zip(avg_loss).and_then(|(a, l)| ratio(a, -l)),
        max_drawdown_pct: dd_pct,
        sortino_ratio: sortino,
        cagr,
        calmar: cagr.and_then(|c| ratio(c, dd_pct / 100.0)),
        exposure: ratio(f64::from(bars_held), x.bars as f64).unwrap_or(0.0),
        avg_bars_held: ratio(f64::from(bars_held), n),
        total_commission: x.trades.iter().map(|t| t.commission).sum(),
        total_slippage: x.trades.iter().map(|t| t.slippage).sum(),
        return_days: x.daily.len() as u32,
    }
}

/// The daily excess returns behind `sharpeRatio` and `sortinoRatio`: each day's equity change
/// (the day before the first is `starting_capital`) divided by `starting_capital`, minus the
/// daily risk-free rate (annual / 252). Public so the overfitting guards use the same series.
pub fn daily_returns(
    daily: &[DailyEquity],
    starting_capital: f64,
    risk_free_rate: f64,
) -> Vec<f64> {
    let rf = risk_free_rate / TRADING_DAYS;
    let mut prev = starting_capital;
    daily
        .iter()
        .map(|d| {
            let r = (d.equity - prev) / starting_capital - rf;
            prev = d.equity;
            r
        })
        .collect()
}

/// Sharpe and Sortino from [`daily_returns`], annualised by sqrt(252).
fn daily_ratios(x: &Summary) -> (Option<f64>, Option<f64>) {
    let excess = daily_returns(x.daily, x.starting_capital, x.risk_free_rate);
    if excess.len() < 2 {
        return (None, None);
    }
    let mean = excess.iter().mean();
    let sd = excess.iter().std_dev();
    let downside =
        (excess.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / excess.len() as f64).sqrt();
    let annual = TRADING_DAYS.sqrt();
    (
        ratio(mean, sd).map(|s| s * annual),
        ratio(mean, downside).map(|s| s * annual),
    )
}

/// `(final / start)^(1 / years) - 1`, years = calendar days between the first and last
/// trading dates / 365.25. `None` for a single-day window or a non-positive final equity.
fn cagr(x: &Summary) -> Option<f64> {
    let (first, last) = (x.daily.first()?, x.daily.last()?);
    let years = (last.date - first.date).num_days() as f64 / 365.25;
    let growth = last.equity / x.starting_capital;
    if years <= 0.0 || growth <= 0.0 {
        return None;
    }
    finite(growth.powf(1.0 / years) - 1.0)
}
