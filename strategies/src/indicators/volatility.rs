//! Volatility: TRANGE, ATR, NATR, BBANDS and Keltner channels.

use super::ma::{ema_raw, ma_raw, sma_raw, MaType};
use super::stats::stddev_raw;
use super::{check_period, check_real, check_same_len, is_zero, pad, tail, Result};

/// Wilder's true range of one bar: the largest of high − low, |high − previous close| and
/// |low − previous close|.
pub(super) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut range = high - low;
    let up = (high - prev_close).abs();
    if up > range {
        range = up;
    }
    let down = (low - prev_close).abs();
    if down > range {
        range = down;
    }
    range
}

/// Compact true range (from bar 1; bar 0 has no previous close).
fn trange_raw(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    (1..high.len())
        .map(|t| true_range(high[t], low[t], close[t - 1]))
        .collect()
}

/// True range, TA-Lib's `TRANGE`. Lookback 1.
pub fn trange(high: &[f64], low: &[f64], close: &[f64]) -> Result<Vec<f64>> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    Ok(pad(len, trange_raw(high, low, close)))
}

/// Compact ATR: SMA of the first `period` true ranges, then Wilder smoothing
/// `atr ← (atr · (period − 1) + tr) / period`. Period 1 is the true range itself.
fn atr_raw(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let tr = trange_raw(high, low, close);
    if period == 1 {
        return tr;
    }
    let Some(&seed) = sma_raw(&tr[..tr.len().min(period)], period).first() else {
        return Vec::new();
    };
    let n = period as f64;
    let mut atr = seed;
    let mut out = Vec::with_capacity(high.len());
    out.push(atr);
    out.extend(tr[period..].iter().map(|&range| {
        atr *= n - 1.0;
        atr += range;
        atr /= n;
        atr
    }));
    out
}

/// Average true range, TA-Lib's `ATR`. Lookback `period`; period range `1..=100000`.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("period", period, 1)?;
    Ok(pad(len, atr_raw(high, low, close, period)))
}

/// Normalized ATR in percent of the close, TA-Lib's `NATR`: `atr / close · 100`, 0 on a zero
/// close. Negative closes (CL on 2020-04-20) give a negative NATR, as in TA-Lib. Lookback
/// `period`; period range `1..=100000`. Quirk kept from TA-Lib: with period 1 the result is the
/// plain true range, not normalized.
pub fn natr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("period", period, 1)?;
    let atr = atr_raw(high, low, close, period);
    if period == 1 {
        // TA-Lib's NATR hands period 1 to TRANGE and returns it unnormalized; kept for parity.
        return Ok(pad(len, atr));
    }
    let compact = atr
        .iter()
        .zip(tail(close, atr.len()))
        .map(|(&a, &c)| if is_zero(c) { 0.0 } else { (a / c) * 100.0 })
        .collect();
    Ok(pad(len, compact))
}

/// Upper, middle and lower band of a channel indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands {
    /// Middle line plus the band width.
    pub upper: Vec<f64>,
    /// The central moving average.
    pub middle: Vec<f64>,
    /// Middle line minus the band width.
    pub lower: Vec<f64>,
}

/// Bollinger bands, TA-Lib's `BBANDS` (defaults 5, 2, 2, SMA): `middle = MA(period)`,
/// `upper = middle + nbdevup · σ`, `lower = middle − nbdevdn · σ` with σ the population standard
/// deviation over `period` bars (whatever the middle line's kind, as TA-Lib does).
/// Lookback: the middle MA's. Period range `2..=100000`; deviations finite within ±3e37.
pub fn bbands(
    x: &[f64],
    period: usize,
    nbdevup: f64,
    nbdevdn: f64,
    ma_type: MaType,
) -> Result<Bands> {
    check_period("period", period, 2)?;
    check_real("nbdevup", nbdevup)?;
    check_real("nbdevdn", nbdevdn)?;
    let middle = ma_raw(x, period, ma_type);
    let sigma = stddev_raw(x, period, 1.0);
    let sigma = tail(&sigma, middle.len());
    let upper = middle
        .iter()
        .zip(sigma)
        .map(|(m, s)| m + s * nbdevup)
        .collect();
    let lower = middle
        .iter()
        .zip(sigma)
        .map(|(m, s)| m - s * nbdevdn)
        .collect();
    Ok(Bands {
        upper: pad(x.len(), upper),
        middle: pad(x.len(), middle),
        lower: pad(x.len(), lower),
    })
}

/// Keltner channels (not in TA-Lib). Definition used here, following Linda Raschke's modern
/// version on typical prices:
///
/// * `middle = EMA(typical price, ema_period)` with typical price `(high + low + close) / 3`
///   and TA-Lib's EMA (seeded with the SMA of the first `ema_period` values);
/// * `upper/lower = middle ± mult · ATR(atr_period)` with TA-Lib's ATR.
///
/// Lookback `max(ema_period − 1, atr_period)`. Periods in `1..=100000`; `mult` finite within
/// ±3e37.
pub fn keltner(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    ema_period: usize,
    atr_period: usize,
    mult: f64,
) -> Result<Bands> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("ema_period", ema_period, 1)?;
    check_period("atr_period", atr_period, 1)?;
    check_real("mult", mult)?;
    let typical: Vec<f64> = (0..len)
        .map(|i| (high[i] + low[i] + close[i]) / 3.0)
        .collect();
    let middle = ema_raw(&typical, ema_period);
    let atr = atr_raw(high, low, close, atr_period);
    let width = middle.len().min(atr.len());
    let (middle, atr) = (tail(&middle, width), tail(&atr, width));
    let upper = middle.iter().zip(atr).map(|(m, a)| m + mult * a).collect();
    let lower = middle.iter().zip(atr).map(|(m, a)| m - mult * a).collect();
    Ok(Bands {
        upper: pad(len, upper),
        middle: pad(len, middle.to_vec()),
        lower: pad(len, lower),
    })
}
