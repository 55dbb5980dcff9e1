//! Wilder's directional movement system: +DI, −DI and ADX.
//!
//! All three walk the bars once, computing each bar's directional movements and true range
//! against the previous bar, and smooth them the way TA-Lib does:
//! `sum ← sum − sum / period + today` after seeding with a plain sum of `period − 1` bars.

use super::volatility::true_range;
use super::{check_period, check_same_len, is_zero, with_lookback, Result};

/// One bar's raw directional movements and true range, measured against the previous bar.
#[derive(Clone, Copy)]
struct Movement {
    plus: f64,
    minus: f64,
    range: f64,
}

/// Movements for bars 1..len (bar 0 has no previous bar).
fn movements<'a>(
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
) -> impl Iterator<Item = Movement> + 'a {
    (1..high.len()).map(move |t| {
        let up = high[t] - high[t - 1];
        let down = low[t - 1] - low[t];
        Movement {
            plus: if up > 0.0 && up > down { up } else { 0.0 },
            minus: if down > 0.0 && up < down { down } else { 0.0 },
            range: true_range(high[t], low[t], close[t - 1]),
        }
    })
}

/// Wilder-smoothed +DM, −DM and TR, emitted from the `period`-th movement on (the first
/// `period − 1` movements only seed the sums).
fn smoothed<'a>(
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
    period: usize,
) -> impl Iterator<Item = Movement> + 'a {
    let n = period as f64;
    let mut sums = Movement {
        plus: 0.0,
        minus: 0.0,
        range: 0.0,
    };
    movements(high, low, close)
        .enumerate()
        .filter_map(move |(i, m)| {
            if i + 1 < period {
                sums.plus += m.plus;
                sums.minus += m.minus;
                sums.range += m.range;
                return None;
            }
            sums.plus = sums.plus - sums.plus / n + m.plus;
            sums.minus = sums.minus - sums.minus / n + m.minus;
            sums.range = sums.range - sums.range / n + m.range;
            Some(sums)
        })
}

/// `100 · dm / tr`, 0 when the true range is zero.
fn directional_index(dm: f64, tr: f64) -> f64 {
    if is_zero(tr) {
        0.0
    } else {
        100.0 * (dm / tr)
    }
}

/// Plus directional indicator, TA-Lib's `PLUS_DI`. Lookback `period`; period range
/// `1..=100000`. With period 1 there is no smoothing and TA-Lib returns the raw ratio
/// `+DM / TR` *without* the factor 100; that quirk is reproduced.
pub fn plus_di(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    di(high, low, close, period, |m| m.plus)
}

/// Minus directional indicator, TA-Lib's `MINUS_DI`. Same rules as [`plus_di`].
pub fn minus_di(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    di(high, low, close, period, |m| m.minus)
}

fn di(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    side: fn(&Movement) -> f64,
) -> Result<Vec<f64>> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("period", period, 1)?;
    // The lookback is `period` either way: one bar for the first movement, then the seed.
    let mut out = with_lookback(len, period);
    if period == 1 {
        out.extend(movements(high, low, close).map(|m| {
            let dm = side(&m);
            if dm == 0.0 || is_zero(m.range) {
                0.0
            } else {
                dm / m.range
            }
        }));
    } else {
        out.extend(
            smoothed(high, low, close, period).map(|s| directional_index(side(&s), s.range)),
        );
    }
    Ok(out)
}

/// Average directional index, TA-Lib's `ADX`: the first value is the mean of the first `period`
/// DX values, then Wilder smoothing. A bar whose DX is undefined (zero range or zero DI sum)
/// leaves the ADX unchanged, as in TA-Lib. Lookback `2·period − 1`; period range `2..=100000`.
pub fn adx(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("period", period, 2)?;
    let n = period as f64;
    let dx = |s: &Movement| {
        if is_zero(s.range) {
            return None;
        }
        let minus = 100.0 * (s.minus / s.range);
        let plus = 100.0 * (s.plus / s.range);
        let sum = minus + plus;
        (!is_zero(sum)).then(|| 100.0 * ((minus - plus).abs() / sum))
    };
    let mut compact = with_lookback(len, 2 * period - 1);
    let mut sum_dx = 0.0;
    let mut adx = 0.0;
    for (i, s) in smoothed(high, low, close, period).enumerate() {
        let value = dx(&s);
        if i < period {
            sum_dx += value.unwrap_or(0.0);
            if i + 1 == period {
                adx = sum_dx / n;
                compact.push(adx);
            }
        } else {
            if let Some(value) = value {
                adx = (adx * (n - 1.0) + value) / n;
            }
            compact.push(adx);
        }
    }
    Ok(compact)
}
