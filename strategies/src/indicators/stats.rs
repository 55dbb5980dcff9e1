//! Window statistics: MAX, MIN, STDDEV, LINEARREG_SLOPE, and the rolling extremes that WILLR
//! and STOCH share.

use std::collections::VecDeque;

use super::{check_period, check_real, is_zero_or_neg, pad, Result};

/// Highest value over the last `period` bars, TA-Lib's `MAX`. Lookback `period - 1`; period range
/// `2..=100000`.
pub fn max(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    Ok(pad(x.len(), rolling_extreme(x, period, |a, b| a >= b)))
}

/// Lowest value over the last `period` bars, TA-Lib's `MIN`. Lookback `period - 1`; period range
/// `2..=100000`.
pub fn min(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    Ok(pad(x.len(), rolling_extreme(x, period, |a, b| a <= b)))
}

/// Compact rolling extreme over windows of `period` values, in O(n) with a monotonic deque of
/// indices. `dominates(a, b)` says `a` makes `b` irrelevant (`>=` for a maximum, `<=` for a
/// minimum). The value is the same as TA-Lib's rescanning loop whatever the ties.
pub(super) fn rolling_extreme(
    x: &[f64],
    period: usize,
    dominates: impl Fn(f64, f64) -> bool,
) -> Vec<f64> {
    if period == 0 || x.len() < period {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(x.len());
    let mut window: VecDeque<usize> = VecDeque::with_capacity(period + 1);
    for (i, &v) in x.iter().enumerate() {
        while window.back().is_some_and(|&j| dominates(v, x[j])) {
            window.pop_back();
        }
        window.push_back(i);
        if window.front().is_some_and(|&j| j + period <= i) {
            window.pop_front();
        }
        if i + 1 >= period {
            out.push(window.front().map_or(f64::NAN, |&j| x[j]));
        }
    }
    out
}

/// Population standard deviation over `period` bars times `nbdev`, TA-Lib's `STDDEV`. Lookback
/// `period - 1`; period range `2..=100000`. A variance below TA-Lib's epsilon (including the
/// slightly negative values rounding can produce) gives 0.
pub fn stddev(x: &[f64], period: usize, nbdev: f64) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    check_real("nbdev", nbdev)?;
    Ok(pad(x.len(), stddev_raw(x, period, nbdev)))
}

/// Compact STDDEV.
pub(super) fn stddev_raw(x: &[f64], period: usize, nbdev: f64) -> Vec<f64> {
    variance_raw(x, period)
        .into_iter()
        .map(|v| {
            if is_zero_or_neg(v) {
                0.0
            } else {
                v.sqrt() * nbdev
            }
        })
        .collect()
}

/// Compact population variance. TA-Lib 0.8 computes it per window as the mean squared deviation
/// from the window mean (two passes), not as `E[x²] − E[x]²`, which cancels catastrophically on
/// minute bars (σ ≈ 1e-4 on prices ≈ 1.1) and reports a spurious σ on flat windows.
fn variance_raw(x: &[f64], period: usize) -> Vec<f64> {
    if period == 0 || x.len() < period {
        return Vec::new();
    }
    let n = period as f64;
    x.windows(period)
        .map(|w| {
            let mean = w.iter().fold(0.0, |acc, &v| acc + v) / n;
            let squares = w.iter().fold(0.0, |acc, &v| acc + (v - mean) * (v - mean));
            squares / n
        })
        .collect()
}

/// Slope of the least-squares line through the last `period` values (x = 0, 1, ...), TA-Lib's
/// `LINEARREG_SLOPE`. Lookback `period - 1`; period range `2..=100000`. Like TA-Lib it re-sums
/// each window, which keeps the result free of running-sum drift.
pub fn linearreg_slope(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    if x.len() < period {
        return Ok(vec![f64::NAN; x.len()]);
    }
    let n = period as f64;
    let sum_x = n * (n - 1.0) * 0.5;
    let sum_x_sq = ((period * (period - 1) * (2 * period - 1)) / 6) as f64;
    let divisor = sum_x * sum_x - n * sum_x_sq;
    let compact = x
        .windows(period)
        .map(|w| {
            // TA-Lib counts x backwards from the newest value (x = 0 is today), hence the
            // negative divisor.
            let (mut sum_xy, mut sum_y) = (0.0, 0.0);
            for (back, &y) in w.iter().enumerate() {
                let i = (period - 1 - back) as f64;
                sum_y += y;
                sum_xy += i * y;
            }
            (n * sum_xy - sum_x * sum_y) / divisor
        })
        .collect();
    Ok(pad(x.len(), compact))
}
