//! Volatility: TRANGE, ATR, NATR, BBANDS and Keltner channels.

use super::ma::{ma_raw, MaType};
use super::stats::stddev_raw;
use super::{
    append, check_period, check_real, check_same_len, is_zero, pad, tail, with_lookback, Result,
};

/// Wilder's true range of one bar: the largest of high − low, |high − previous close| and
/// |low − previous close|.
#[inline(always)]
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

/// True range of every bar, already in the padded output shape: NaN on bar 0 (no previous
/// close), then one value per bar.
fn trange_padded(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(high.len());
    out.extend(high.first().map(|_| f64::NAN));
    out.extend(
        high.iter()
            .zip(low)
            .zip(close)
            .skip(1)
            .zip(close)
            .map(|(((&h, &l), _), &prev_close)| true_range(h, l, prev_close)),
    );
    out
}

/// True range, TA-Lib's `TRANGE`. Lookback 1.
pub fn trange(high: &[f64], low: &[f64], close: &[f64]) -> Result<Vec<f64>> {
    check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    Ok(trange_padded(high, low, close))
}

/// ATR in the padded output shape (NaN for the first `period` bars), TA-Lib 0.8's operations:
/// the mean of the first `period` true ranges, then Wilder smoothing as one fused step
/// `atr ← fma(c, atr, tr · (1 − c))` with `c = (period − 1) / period`. With `per_close`, each
/// value is then turned into NATR's percentage of its bar's close. Period 1 is the true range
/// itself (also for NATR: TA-Lib's quirk).
///
/// Each true range is computed where it is smoothed, in one pass, as TA-Lib does: no vector of
/// true ranges is written and read back.
fn atr_padded(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    per_close: bool,
) -> Vec<f64> {
    if period == 1 {
        return trange_padded(high, low, close);
    }
    let len = high.len();
    if len <= period {
        return vec![f64::NAN; len];
    }
    let n = period as f64;
    let keep = (period - 1) as f64 / n;
    let take = 1.0 - keep;
    let seed = (1..=period).fold(0.0, |sum, t| {
        sum + true_range(high[t], low[t], close[t - 1])
    }) / n;
    let mut out = Vec::with_capacity(len);
    out.resize(period, f64::NAN);
    out.push(seed);
    let at = period + 1;
    let bars = Bars {
        high: &high[at..],
        low: &low[at..],
        prev_close: &close[at - 1..len - 1],
    };
    wilder(&mut out, bars, seed, keep, take);
    if per_close {
        to_percent(&mut out[period..], &close[period..]);
    }
    out
}

/// NATR's value: `atr` in percent of `close`, 0 on a zero close.
#[inline(always)]
fn percent_of(atr: f64, close: f64) -> f64 {
    if is_zero(close) {
        0.0
    } else {
        (atr / close) * 100.0
    }
}

/// The bars a Wilder pass reads: each bar's high and low and the previous bar's close.
struct Bars<'a> {
    high: &'a [f64],
    low: &'a [f64],
    prev_close: &'a [f64],
}

fused_fn! {
    /// ATR's Wilder pass: appends to `out`, per bar of `bars`, the smoothing from `atr` of its
    /// true range.
    fn wilder(out: &mut Vec<f64>, bars: Bars, atr: f64, keep: f64, take: f64) {
        let mut atr = atr;
        let Bars {
            high,
            low,
            prev_close,
        } = bars;
        let n = high.len().min(low.len()).min(prev_close.len());
        let (high, low, prev_close) = (&high[..n], &low[..n], &prev_close[..n]);
        append(out, n, |i| {
            atr = keep.mul_add(atr, true_range(high[i], low[i], prev_close[i]) * take);
            atr
        });
    }
}

fused_fn! {
    /// NATR from ATR: each value in percent of its bar's close, in a pass of its own. Inside
    /// the Wilder pass the division, one a bar, set the pace; here the divisions are
    /// independent and run several to an instruction.
    fn to_percent(atr: &mut [f64], close: &[f64]) {
        for (a, &c) in atr.iter_mut().zip(close) {
            *a = percent_of(*a, c);
        }
    }
}

/// Average true range, TA-Lib's `ATR`. Lookback `period`; period range `1..=100000`.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("period", period, 1)?;
    Ok(atr_padded(high, low, close, period, false))
}

/// Normalized ATR in percent of the close, TA-Lib's `NATR`: `atr / close · 100`, 0 on a zero
/// close. Negative closes (CL on 2020-04-20) give a negative NATR, as in TA-Lib. Lookback
/// `period`; period range `1..=100000`. Quirk kept from TA-Lib: with period 1 the result is the
/// plain true range, not normalized.
pub fn natr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("period", period, 1)?;
    // TA-Lib's NATR hands period 1 to TRANGE and returns it unnormalized; kept for parity.
    Ok(atr_padded(high, low, close, period, true))
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
    let lead = x.len() - middle.len();
    // TA-Lib 0.8 shares the product when both widths are equal and fuses the upper band's
    // multiply-add otherwise.
    let mut upper = with_lookback(x.len(), lead);
    upper.extend(middle.iter().zip(sigma).map(|(&m, &s)| {
        if nbdevup == nbdevdn {
            m + s * nbdevup
        } else {
            s.mul_add(nbdevup, m)
        }
    }));
    let mut lower = with_lookback(x.len(), lead);
    lower.extend(middle.iter().zip(sigma).map(|(m, s)| m - s * nbdevdn));
    Ok(Bands {
        upper,
        middle: pad(x.len(), middle),
        lower,
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
    let middle = ma_raw(&typical, ema_period, MaType::Ema);
    let atr = atr_padded(high, low, close, atr_period, false);
    let width = middle.len().min(len.saturating_sub(atr_period));
    let (middle, atr) = (tail(&middle, width), tail(&atr, width));
    let upper = middle.iter().zip(atr).map(|(m, a)| m + mult * a).collect();
    let lower = middle.iter().zip(atr).map(|(m, a)| m - mult * a).collect();
    Ok(Bands {
        upper: pad(len, upper),
        middle: pad(len, middle.to_vec()),
        lower: pad(len, lower),
    })
}
