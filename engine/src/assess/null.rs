//! The null test: could the same trades, placed at random times, have done as well?
//!
//! Each trade keeps its side, contracts, holding time and costs and is moved to a random
//! place in the window (the trades never overlap, as the strategy's did not). The p-value is
//! the share of such runs that made at least the backtest's total, counting the backtest
//! itself: (1 + beats) / (1 + runs).

use serde::Serialize;

use super::rng::SplitMix64;

/// One trade as the null test moves it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NullTrade {
    /// +1 long, −1 short.
    pub side: f64,
    /// Contracts the trade held.
    pub contracts: f64,
    /// Bars held, at least 1.
    pub bars: usize,
    /// Commission and slippage, dollars.
    pub cost: f64,
}

/// What the null test found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NullTest {
    /// (1 + beats) / (1 + runs): the chance of doing as well with the same trades at random times.
    pub p_value: f64,
    /// Runs whose total was at least the backtest's.
    pub beats: usize,
    /// Runs of the trades at random times.
    pub runs: usize,
    /// The median total of the runs (nearest rank), dollars.
    pub median_total: f64,
    /// The backtest's own total net P&L, dollars.
    pub actual_total: f64,
}

/// Runs the null test over the window's `opens` and `closes`; none when the trades do not fit
/// in the window (their bars held add up to more than its bars) or there are none.
pub fn null_test(
    trades: &[NullTrade],
    actual_total: f64,
    opens: &[f64],
    closes: &[f64],
    point_value: f64,
    runs: usize,
    seed: u64,
) -> Option<NullTest> {
    let n = opens.len().min(closes.len());
    let held: usize = trades.iter().map(|t| t.bars.max(1)).sum();
    if trades.is_empty() || runs == 0 || held > n {
        return None;
    }
    let free = n - held;
    let mut rng = SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..trades.len()).collect();
    let mut cuts = vec![0usize; trades.len()];
    let mut totals: Vec<f64> = (0..runs)
        .map(|_| {
            // Each run shuffles the trades from their entry order.
            for (i, o) in order.iter_mut().enumerate() {
                *o = i;
            }
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            for c in cuts.iter_mut() {
                *c = rng.below(free + 1);
            }
            cuts.sort_unstable();
            let (mut pos, mut last, mut total) = (0, 0, 0.0);
            for (&t, &cut) in order.iter().zip(&cuts) {
                pos += cut - last;
                last = cut;
                let trade = &trades[t];
                let exit = pos + trade.bars.max(1) - 1;
                total += trade.side * (closes[exit] - opens[pos]) * point_value * trade.contracts
                    - trade.cost;
                pos += trade.bars.max(1);
            }
            total
        })
        .collect();
    let beats = totals.iter().filter(|&&t| t >= actual_total).count();
    totals.sort_by(f64::total_cmp);
    Some(NullTest {
        p_value: (1 + beats) as f64 / (1 + runs) as f64,
        beats,
        runs,
        median_total: super::path::nearest_rank(&totals, 1, 2),
        actual_total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_exactly_full_has_one_placement() {
        // Two one-bar longs fill a two-bar window: every run earns the same.
        let t = NullTrade {
            side: 1.0,
            contracts: 1.0,
            bars: 1,
            cost: 1.0,
        };
        let r = null_test(&[t, t], 5.0, &[10.0, 20.0], &[12.0, 23.0], 1.0, 9, 3).unwrap();
        assert_eq!(r.median_total, 3.0, "(12-10)-1 + (23-20)-1");
        assert_eq!((r.beats, r.p_value), (0, 0.1));
        assert!(null_test(&[t, t, t], 5.0, &[1.0; 2], &[1.0; 2], 1.0, 9, 3).is_none());
    }
}
