//! Momentum oscillators: RSI, MACD, STOCH, STOCHRSI, CCI, ROC, MOM, WILLR.

use super::ma::{ema_k, ema_seed, ema_step, ma_raw, MaType};
use super::stats::rolling_extreme;
use super::{
    append, check_period, check_same_len, is_zero_scaled, pad, tail, with_lookback, Result,
    TA_EPSILON,
};

/// Relative strength index with Wilder smoothing, TA-Lib's `RSI`. The first average gain/loss is
/// the plain mean of the first `period` changes. Lookback `period`; period range `2..=100000`.
/// A window with neither gains nor losses gives 0, as in TA-Lib.
pub fn rsi(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    Ok(pad(x.len(), rsi_raw(x, period)))
}

/// Compact RSI, TA-Lib 0.8's operations: a change splits into `gain = max(change, 0)` and
/// `loss = gain − change`, the averages are scaled by `1 / period` (a multiplication, not a
/// division) and smoothed as `(avg · (period − 1) + today) · (1 / period)`.
fn rsi_raw(x: &[f64], period: usize) -> Vec<f64> {
    if x.len() <= period {
        return Vec::new();
    }
    let inv = 1.0 / period as f64;
    let back = (period - 1) as f64;
    let split = |w: &[f64]| {
        let change = w[1] - w[0];
        let gain = if 0.0 < change { change } else { 0.0 };
        (gain, gain - change)
    };
    let ratio = |gain: f64, loss: f64| {
        let total = loss + gain;
        if total > 0.0 {
            gain / total * 100.0
        } else {
            0.0
        }
    };
    let (gain, loss) = x[..=period]
        .windows(2)
        .map(split)
        .fold((0.0, 0.0), |(g, l), (up, down)| (g + up, l + down));
    let (mut gain, mut loss) = (gain * inv, loss * inv);
    let mut out = Vec::with_capacity(x.len());
    out.push(ratio(gain, loss));
    out.extend(x[period..].windows(2).map(move |w| {
        let (up, down) = split(w);
        gain = (gain * back + up) * inv;
        loss = (down + loss * back) * inv;
        ratio(gain, loss)
    }));
    out
}

/// MACD line, signal line and histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct Macd {
    /// Fast EMA minus slow EMA.
    pub macd: Vec<f64>,
    /// EMA of the MACD line over `signal` bars.
    pub signal: Vec<f64>,
    /// `macd - signal`.
    pub hist: Vec<f64>,
}

/// Moving average convergence/divergence, TA-Lib's `MACD` (not MACDFIX: `k = 2 / (period + 1)`
/// for both EMAs). If `slow < fast` the two are swapped, as TA-Lib does. The fast EMA is seeded
/// on the `fast` bars ending where the slow EMA's seed ends, so both start on the same bar
/// (TA-Lib's alignment, not an independent EMA). All three outputs share the lookback
/// `(slow − 1) + (signal − 1)`. Ranges: `fast`, `slow` in `2..=100000`, `signal` in `1..=100000`.
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> Result<Macd> {
    check_period("fast", fast, 2)?;
    check_period("slow", slow, 2)?;
    check_period("signal", signal, 1)?;
    let (fast, slow) = if slow < fast {
        (slow, fast)
    } else {
        (fast, slow)
    };
    Ok(macd_pass(x, fast, slow, signal))
}

fused_fn! {
    /// MACD in one pass, as TA-Lib 0.8 fuses it: both EMAs, the line, and from the signal's
    /// seed on the signal EMA and histogram, written straight into the padded outputs.
    fn macd_pass(x: &[f64], fast: usize, slow: usize, signal: usize) -> Macd {
        let len = x.len();
        let lookback = (slow - 1) + (signal - 1);
        if len <= lookback {
            let nan = vec![f64::NAN; len];
            return Macd {
                macd: nan.clone(),
                signal: nan.clone(),
                hist: nan,
            };
        }
        let (fast_k, slow_k) = (ema_k(fast), ema_k(slow));
        let mut fast_ema = ema_seed(x[slow - fast..slow].iter().copied(), fast);
        let mut slow_ema = ema_seed(x[..slow].iter().copied(), slow);
        let mut line = fast_ema - slow_ema;
        let mut seed = 0.0 + line;
        for &v in &x[slow..=lookback] {
            fast_ema = ema_step(fast_ema, v, fast_k);
            slow_ema = ema_step(slow_ema, v, slow_k);
            line = fast_ema - slow_ema;
            seed += line;
        }
        let signal_k = ema_k(signal);
        // A 1-bar signal EMA is the line itself (TA-Lib's EMA of period 1 copies its input).
        let mut signal_ema = if signal == 1 {
            line
        } else {
            seed / signal as f64
        };
        let padded = || {
            let mut v = Vec::with_capacity(len);
            v.resize(lookback, f64::NAN);
            v
        };
        let (mut macd, mut signal_line, mut hist) = (padded(), padded(), padded());
        macd.push(line);
        signal_line.push(signal_ema);
        hist.push(line - signal_ema);
        for &v in &x[lookback + 1..] {
            fast_ema = ema_step(fast_ema, v, fast_k);
            slow_ema = ema_step(slow_ema, v, slow_k);
            let line = fast_ema - slow_ema;
            if signal != 1 {
                signal_ema = ema_step(signal_ema, line, signal_k);
            } else {
                signal_ema = line;
            }
            macd.push(line);
            signal_line.push(signal_ema);
            hist.push(line - signal_ema);
        }
        Macd {
            macd,
            signal: signal_line,
            hist,
        }
    }
}

/// Slow stochastic %K and %D.
#[derive(Debug, Clone, PartialEq)]
pub struct Stoch {
    /// `slowk_ma` of the fast %K over `slowk_period` bars.
    pub slowk: Vec<f64>,
    /// `slowd_ma` of slow %K over `slowd_period` bars.
    pub slowd: Vec<f64>,
}

/// Parameters of [`stoch`]; `Default` gives TA-Lib's defaults (5, 3, SMA, 3, SMA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StochParams {
    /// Bars in the highest-high / lowest-low window of fast %K (`1..=100000`).
    pub fastk_period: usize,
    /// Bars averaged into slow %K (`1..=100000`).
    pub slowk_period: usize,
    /// Average used for slow %K.
    pub slowk_ma: MaType,
    /// Bars averaged into slow %D (`1..=100000`).
    pub slowd_period: usize,
    /// Average used for slow %D.
    pub slowd_ma: MaType,
}

impl Default for StochParams {
    fn default() -> Self {
        Self {
            fastk_period: 5,
            slowk_period: 3,
            slowk_ma: MaType::Sma,
            slowd_period: 3,
            slowd_ma: MaType::Sma,
        }
    }
}

/// Slow stochastic, TA-Lib's `STOCH`. Fast %K is
/// `(close − lowest low) / (highest high − lowest low) · 100`, 0 when the range is 0. Lookback
/// `(fastk − 1)` plus the lookbacks of the two averages.
pub fn stoch(high: &[f64], low: &[f64], close: &[f64], params: StochParams) -> Result<Stoch> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("fastk_period", params.fastk_period, 1)?;
    check_period("slowk_period", params.slowk_period, 1)?;
    check_period("slowd_period", params.slowd_period, 1)?;
    let fastk = fast_k(high, low, close, params.fastk_period);
    let slowk = ma_raw(&fastk, params.slowk_period, params.slowk_ma);
    let slowd = ma_raw(&slowk, params.slowd_period, params.slowd_ma);
    let slowk = tail(&slowk, slowd.len()).to_vec();
    Ok(Stoch {
        slowk: pad(len, slowk),
        slowd: pad(len, slowd),
    })
}

/// Compact fast %K: `(close − lowest) / (highest − lowest) · 100`, 0 on a range within
/// TA-Lib's scaled epsilon of zero (which catches the rounding residue of RSI inputs in
/// STOCHRSI).
fn fast_k(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let mut k = Vec::with_capacity(close.len());
    extend_over_range(&mut k, high, low, close, period, Place::FastK);
    k
}

/// Where a close stands in its window's range, as [`extend_over_range`] gives it.
#[derive(Clone, Copy)]
enum Place {
    /// Fast %K: `(close − lowest) / range · 100`.
    FastK,
    /// Williams %R: `(highest − close) / range · −100`, clamped into `−100..=0`.
    WillR,
}

/// Appends to `out`, for each window of `period` bars, where its last close stands in the
/// range of its highest high and lowest low (`place`), or 0 when the range is within TA-Lib's
/// scaled epsilon of zero (`|range| <= 1e-14 · (|highest| + |lowest|)`): the part %K and
/// Williams %R share.
fn extend_over_range(
    out: &mut Vec<f64>,
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    place: Place,
) {
    let highest = rolling_extreme(high, period, |a, b| a > b);
    let lowest = rolling_extreme(low, period, |a, b| a < b);
    let close = tail(close, highest.len());
    place_in_range(out, &highest, &lowest, close, place);
}

fused_fn! {
    /// The last pass of [`extend_over_range`], a division a window: with no branch (the value
    /// of a zero range is computed and thrown away), so that it vectorizes, four windows to
    /// an instruction in the AVX2 clone.
    fn place_in_range(
        out: &mut Vec<f64>,
        highest: &[f64],
        lowest: &[f64],
        close: &[f64],
        place: Place,
    ) {
        let n = highest.len().min(lowest.len()).min(close.len());
        let (highest, lowest, close) = (&highest[..n], &lowest[..n], &close[..n]);
        append(out, n, |i| {
            let (hi, lo, c) = (highest[i], lowest[i], close[i]);
            let range = hi - lo;
            let value = match place {
                Place::FastK => (c - lo) / range * 100.0,
                Place::WillR => ((hi - c) / range * -100.0).clamp(-100.0, 0.0),
            };
            if is_zero_scaled(range, hi.abs() + lo.abs()) {
                0.0
            } else {
                value
            }
        });
    }
}

/// Stochastic RSI %K and %D.
#[derive(Debug, Clone, PartialEq)]
pub struct StochRsi {
    /// Fast %K of the RSI over `fastk_period` bars.
    pub fastk: Vec<f64>,
    /// `fastd_ma` of `fastk` over `fastd_period` bars.
    pub fastd: Vec<f64>,
}

/// Stochastic RSI, TA-Lib's `STOCHRSI` (defaults 14, 5, 3, SMA): TA-Lib's fast stochastic
/// (`STOCHF`) applied to `RSI(period)` as high, low and close. Lookback
/// `period + (fastk − 1) + MA lookback(fastd)`. `period` in `2..=100000`, the others in
/// `1..=100000`.
pub fn stochrsi(
    x: &[f64],
    period: usize,
    fastk_period: usize,
    fastd_period: usize,
    fastd_ma: MaType,
) -> Result<StochRsi> {
    check_period("period", period, 2)?;
    check_period("fastk_period", fastk_period, 1)?;
    check_period("fastd_period", fastd_period, 1)?;
    let rsi = rsi_raw(x, period);
    let fastk = fast_k(&rsi, &rsi, &rsi, fastk_period);
    let fastd = ma_raw(&fastk, fastd_period, fastd_ma);
    let fastk = tail(&fastk, fastd.len()).to_vec();
    Ok(StochRsi {
        fastk: pad(x.len(), fastk),
        fastd: pad(x.len(), fastd),
    })
}

/// Commodity channel index, TA-Lib's `CCI`: `(tp − mean) / (0.015 · mean absolute deviation)`
/// over `period` typical prices `(h + l + c) / 3`; 0 when the distance to the mean or the mean
/// deviation is within 1e-14 of the mean's magnitude (TA-Lib 0.8's scaled test). Lookback
/// `period − 1`; period range `2..=100000`.
pub fn cci(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("period", period, 2)?;
    let mut out = vec![f64::NAN; len];
    if len < period {
        return Ok(out);
    }
    let mut typical = Vec::with_capacity(len);
    typical.extend(
        high.iter()
            .zip(low)
            .zip(close)
            .map(|((&h, &l), &c)| (h + l + c) / 3.0),
    );
    // TA-Lib re-sums every window (twice: mean, then mean deviation), one addition after the
    // other, so each window is a chain of dependent additions. Windows `period` bars apart
    // share the slot order, so LANES of them are summed side by side: the same additions in
    // the same order per window, with LANES independent chains for the CPU to overlap.
    const LANES: usize = 4;
    let windows = len - period + 1;
    let block = LANES * period;
    let whole_blocks = windows / block * block;
    for base in (0..whole_blocks).step_by(block) {
        for first in base..base + period {
            let starts = std::array::from_fn(|lane| first + lane * period);
            let values = cci_windows::<LANES>(&typical, period, starts);
            for (start, value) in starts.into_iter().zip(values) {
                out[start + period - 1] = value;
            }
        }
    }
    for start in whole_blocks..windows {
        out[start + period - 1] = cci_windows::<1>(&typical, period, [start])[0];
    }
    Ok(out)
}

/// CCI of the `K` windows of `period` typical prices starting at `starts`, which must lie a
/// multiple of `period` apart. TA-Lib keeps the window in a ring buffer indexed by
/// `bar % period` and sums it in slot order, not in time order (from the bar whose index is a
/// multiple of `period`, wrapping around), so these sums do the same to round the same way.
fn cci_windows<const K: usize>(typical: &[f64], period: usize, starts: [usize; K]) -> [f64; K] {
    let n = period as f64;
    let first_slot = (period - starts[0] % period) % period;
    let slot_order = (first_slot..period).chain(0..first_slot);
    let windows = starts.map(|start| &typical[start..start + period]);
    let mut sums = [0.0; K];
    for j in slot_order.clone() {
        for (sum, w) in sums.iter_mut().zip(&windows) {
            *sum += w[j];
        }
    }
    let means = sums.map(|sum| sum / n);
    let mut deviations = [0.0; K];
    for j in slot_order {
        for ((deviation, w), &mean) in deviations.iter_mut().zip(&windows).zip(&means) {
            *deviation += (w[j] - mean).abs();
        }
    }
    std::array::from_fn(|k| {
        let mean = means[k];
        let distance = windows[k][period - 1] - mean;
        let tiny = mean.abs() * TA_EPSILON;
        let deviation = deviations[k] / n;
        if tiny >= distance.abs() || tiny >= deviation.abs() {
            return 0.0;
        }
        let denominator = deviation * 0.015;
        if denominator == 0.0 {
            0.0
        } else {
            distance / denominator
        }
    })
}

/// Rate of change in percent, TA-Lib's `ROC`: `(x / x[−period] − 1) · 100`, 0 when the old value
/// is 0. Lookback `period`; period range `1..=100000`.
pub fn roc(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 1)?;
    Ok(lagged(x, period, |now, then| {
        if then != 0.0 {
            (now / then - 1.0) * 100.0
        } else {
            0.0
        }
    }))
}

/// Momentum, TA-Lib's `MOM`: `x − x[−period]`. Lookback `period`; period range `1..=100000`.
pub fn mom(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 1)?;
    Ok(lagged(x, period, |now, then| now - then))
}

/// Applies `f(x[i], x[i − lag])` from bar `lag` on, after `lag` NaNs.
fn lagged(x: &[f64], lag: usize, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    out.extend(std::iter::repeat_n(f64::NAN, lag.min(x.len())));
    out.extend(x.iter().skip(lag).zip(x).map(|(&now, &then)| f(now, then)));
    out
}

/// Williams %R, TA-Lib's `WILLR`: `(highest high − close) / (highest − lowest) · −100`, clamped
/// into `−100..=0`, and 0 when the range is within TA-Lib's scaled epsilon of zero. Lookback
/// `period − 1`; period range `2..=100000`.
pub fn willr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Result<Vec<f64>> {
    let len = check_same_len(&[("high", high), ("low", low), ("close", close)])?;
    check_period("period", period, 2)?;
    let mut out = with_lookback(len, period - 1);
    extend_over_range(&mut out, high, low, close, period, Place::WillR);
    Ok(out)
}
