//! Moving averages: SMA, EMA, WMA, DEMA, TEMA, KAMA and the `MaType` dispatcher used by
//! BBANDS, STOCH and STOCHRSI.
//!
//! The `*_raw` functions return TA-Lib's compact output (one value per bar from the lookback
//! on) so that multi-stage indicators can chain them without re-padding.

use super::{check_period, is_zero, pad, Result};

/// The moving-average kinds TA-Lib's `matype` parameter selects, with TA-Lib's numeric codes.
/// TRIMA (5), MAMA (7) and T3 (8) are not implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MaType {
    /// Simple moving average (code 0, TA-Lib's default everywhere a `matype` is taken).
    #[default]
    Sma = 0,
    /// Exponential moving average (code 1).
    Ema = 1,
    /// Linearly weighted moving average (code 2).
    Wma = 2,
    /// Double EMA (code 3).
    Dema = 3,
    /// Triple EMA (code 4).
    Tema = 4,
    /// Kaufman adaptive moving average (code 6).
    Kama = 6,
}

/// Moving average of `x` of the given kind, TA-Lib's `MA`. Period range `1..=100000`; a period of
/// 1 returns the input unchanged.
pub fn ma(x: &[f64], period: usize, kind: MaType) -> Result<Vec<f64>> {
    check_period("period", period, 1)?;
    Ok(pad(x.len(), ma_raw(x, period, kind)))
}

/// Compact MA of any kind; the caller has validated `period >= 1`.
pub(super) fn ma_raw(x: &[f64], period: usize, kind: MaType) -> Vec<f64> {
    match kind {
        MaType::Sma => sma_raw(x, period),
        MaType::Ema => ema_raw(x, period),
        MaType::Wma => wma_raw(x, period),
        MaType::Dema => dema_raw(x, period),
        MaType::Tema => tema_raw(x, period),
        MaType::Kama => kama_raw(x, period),
    }
}

/// Simple moving average, TA-Lib's `SMA`. Lookback `period - 1`; period range `1..=100000`.
pub fn sma(x: &[f64], period: usize) -> Result<Vec<f64>> {
    ma(x, period, MaType::Sma)
}

/// Exponential moving average, TA-Lib's `EMA`: `k = 2 / (period + 1)`, seeded with the SMA of the
/// first `period` values. Lookback `period - 1`; period range `1..=100000`.
pub fn ema(x: &[f64], period: usize) -> Result<Vec<f64>> {
    ma(x, period, MaType::Ema)
}

/// Weighted moving average, TA-Lib's `WMA` (weights 1..=period, newest heaviest). Lookback
/// `period - 1`; period range `1..=100000`.
pub fn wma(x: &[f64], period: usize) -> Result<Vec<f64>> {
    ma(x, period, MaType::Wma)
}

/// Double EMA, TA-Lib's `DEMA`: `2·EMA − EMA(EMA)`. Lookback `2·(period − 1)`.
pub fn dema(x: &[f64], period: usize) -> Result<Vec<f64>> {
    ma(x, period, MaType::Dema)
}

/// Triple EMA, TA-Lib's `TEMA`: `3·EMA − 3·EMA(EMA) + EMA(EMA(EMA))`. Lookback `3·(period − 1)`.
pub fn tema(x: &[f64], period: usize) -> Result<Vec<f64>> {
    ma(x, period, MaType::Tema)
}

/// Kaufman adaptive moving average, TA-Lib's `KAMA` (fast 2, slow 30 fixed, as in TA-Lib).
/// Lookback `period`; period range `1..=100000`.
pub fn kama(x: &[f64], period: usize) -> Result<Vec<f64>> {
    ma(x, period, MaType::Kama)
}

/// Compact SMA. The running total adds the newest value before the division and only then drops
/// the oldest, exactly as TA-Lib does, so the rounding matches.
pub(super) fn sma_raw(x: &[f64], period: usize) -> Vec<f64> {
    if x.len() < period {
        return Vec::new();
    }
    let n = period as f64;
    let mut total: f64 = x[..period - 1].iter().sum();
    // Full length reserved for `pad`; `extend` over an exact-size iterator writes without a
    // capacity check per value, which keeps `total` in a register (a `push` loop spilled it).
    let mut out = Vec::with_capacity(x.len());
    out.extend(x[period - 1..].iter().zip(x).map(|(&new, &old)| {
        total += new;
        let mean = total / n;
        total -= old;
        mean
    }));
    out
}

/// Compact EMA with TA-Lib's default seeding.
pub(super) fn ema_raw(x: &[f64], period: usize) -> Vec<f64> {
    if period == 1 {
        return x.to_vec();
    }
    if x.len() < period {
        return Vec::new();
    }
    let k = 2.0 / (period as f64 + 1.0);
    let mut prev = x[..period].iter().sum::<f64>() / period as f64;
    let mut out = Vec::with_capacity(x.len());
    out.push(prev);
    out.extend(x[period..].iter().map(|&v| {
        prev = (v - prev) * k + prev;
        prev
    }));
    out
}

/// Compact WMA. Each window is summed afresh: TA-Lib 0.8 does not drift, and the classic
/// running "sum minus sum of values" update accumulates error that grows with the series length
/// (1e-8 relative after 30,000 bars of a 0..100 oscillator).
fn wma_raw(x: &[f64], period: usize) -> Vec<f64> {
    if period == 1 {
        return x.to_vec();
    }
    let divider = (period * (period + 1) / 2) as f64;
    x.windows(period)
        .map(|w| {
            let weighted = w
                .iter()
                .zip(1..)
                .fold(0.0, |acc, (&v, weight)| acc + v * f64::from(weight));
            weighted / divider
        })
        .collect()
}

fn dema_raw(x: &[f64], period: usize) -> Vec<f64> {
    if period == 1 {
        return x.to_vec();
    }
    let e1 = ema_raw(x, period);
    let e2 = ema_raw(&e1, period);
    let e1 = super::tail(&e1, e2.len());
    e1.iter().zip(&e2).map(|(&a, &b)| 2.0 * a - b).collect()
}

fn tema_raw(x: &[f64], period: usize) -> Vec<f64> {
    if period == 1 {
        return x.to_vec();
    }
    let e1 = ema_raw(x, period);
    let e2 = ema_raw(&e1, period);
    let e3 = ema_raw(&e2, period);
    let e1 = super::tail(&e1, e3.len());
    let e2 = super::tail(&e2, e3.len());
    e3.iter()
        .zip(e1.iter().zip(e2))
        .map(|(&c, (&a, &b))| c + (3.0 * a - 3.0 * b))
        .collect()
}

/// Compact KAMA: efficiency ratio over `period` bars drives a smoothing constant between the
/// 2-bar and 30-bar EMA constants, squared (Kaufman's definition, as coded in TA-Lib).
fn kama_raw(x: &[f64], period: usize) -> Vec<f64> {
    if period == 1 {
        return x.to_vec();
    }
    if x.len() <= period {
        return Vec::new();
    }
    const SLOW: f64 = 2.0 / 31.0;
    let diff = 2.0 / 3.0 - SLOW;
    let smoothing = |change: f64, volatility: f64| {
        let er = if volatility <= change || is_zero(volatility) {
            1.0
        } else {
            (change / volatility).abs()
        };
        let sc = er * diff + SLOW;
        sc * sc
    };
    let mut volatility: f64 = x.windows(2).take(period).map(|w| (w[0] - w[1]).abs()).sum();
    let mut prev = x[period - 1];
    let mut out = Vec::with_capacity(x.len());
    let mut trailing_value = x[0];
    for today in period..x.len() {
        let now = x[today];
        let oldest = x[today - period];
        let change = now - oldest;
        if today > period {
            volatility -= (trailing_value - oldest).abs();
            volatility += (now - x[today - 1]).abs();
        }
        trailing_value = oldest;
        prev = (now - prev) * smoothing(change, volatility) + prev;
        out.push(prev);
    }
    out
}
