//! Path risk: how deep the drawdown of the same trades could have been in another order, and
//! the longest losing streak the backtest did see.

use serde::Serialize;

use super::rng::SplitMix64;

/// The bootstrap's drawdown distribution, in dollars.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrawdownBootstrap {
    /// Median maximum drawdown of the resamples, dollars (nearest rank).
    pub median: f64,
    /// 95th-percentile maximum drawdown of the resamples, dollars (nearest rank); the path check
    /// compares it with the starting capital.
    pub p95: f64,
    /// Resamples drawn.
    pub resamples: usize,
    /// Trades each resample draws (the backtest's count).
    pub trades: usize,
}

/// R resamples of the trades' net P&L with replacement (index = draw(N)), each a cumulative
/// P&L from `capital`; the median and 95th percentile of their maximum drawdowns by nearest
/// rank. None without trades or resamples.
pub fn drawdown_bootstrap(
    net: &[f64],
    capital: f64,
    resamples: usize,
    seed: u64,
) -> Option<DrawdownBootstrap> {
    if net.is_empty() || resamples == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut drawdowns: Vec<f64> = (0..resamples)
        .map(|_| {
            let (mut equity, mut peak, mut worst) = (capital, capital, 0.0f64);
            for _ in 0..net.len() {
                equity += net[rng.below(net.len())];
                peak = peak.max(equity);
                worst = worst.max(peak - equity);
            }
            worst
        })
        .collect();
    drawdowns.sort_by(f64::total_cmp);
    Some(DrawdownBootstrap {
        median: nearest_rank(&drawdowns, 1, 2),
        p95: nearest_rank(&drawdowns, 95, 100),
        resamples,
        trades: net.len(),
    })
}

/// The q = num/den quantile of sorted values by nearest rank: sorted[⌈q·R⌉ − 1].
pub fn nearest_rank(sorted: &[f64], num: usize, den: usize) -> f64 {
    let rank = (num * sorted.len()).div_ceil(den).max(1);
    sorted[rank - 1]
}

/// The longest run of consecutive losing trades (net < 0), in entry order, and its dollars;
/// the first such run on ties. (0, 0.0) without a loss.
pub fn losing_streak(net: &[f64]) -> (usize, f64) {
    let (mut best, mut best_dollars) = (0, 0.0);
    let (mut run, mut dollars) = (0, 0.0);
    for &x in net {
        if x < 0.0 {
            run += 1;
            dollars += x;
            if run > best {
                (best, best_dollars) = (run, dollars);
            }
        } else {
            (run, dollars) = (0, 0.0);
        }
    }
    (best, best_dollars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaks_by_hand() {
        assert_eq!(
            losing_streak(&[1.0, -2.0, -3.0, 4.0, -1.0, -1.0]),
            (2, -5.0)
        );
        assert_eq!(losing_streak(&[1.0, 0.0]), (0, 0.0));
    }

    #[test]
    fn a_single_losing_trade_always_draws_the_same_path() {
        let b = drawdown_bootstrap(&[-10.0], 100.0, 5, 7).unwrap();
        assert_eq!((b.median, b.p95), (10.0, 10.0));
        assert!(drawdown_bootstrap(&[], 100.0, 5, 7).is_none());
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0, 4.0], 1, 2), 2.0);
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0, 4.0], 95, 100), 4.0);
    }
}
