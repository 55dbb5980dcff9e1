//! Moving averages: SMA, EMA, WMA, DEMA, TEMA, KAMA and the `MaType` dispatcher used by
//! BBANDS, STOCH and STOCHRSI.
//!
//! The `*_into` functions append TA-Lib's compact output (one value per bar from the lookback
//! on): after the leading NaNs of a public result, or into a fresh vector ([`ma_raw`]) that a
//! multi-stage indicator chains into its next stage.

use super::{append, check_period, is_zero, Result};

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
    // The values are appended after the leading NaNs, in place: no shifting into position.
    let lookback = match kind {
        _ if period == 1 => 0,
        MaType::Sma | MaType::Ema | MaType::Wma => period - 1,
        MaType::Dema => 2 * (period - 1),
        MaType::Tema => 3 * (period - 1),
        MaType::Kama => period,
    };
    let mut out = Vec::with_capacity(x.len());
    out.resize(lookback.min(x.len()), f64::NAN);
    ma_into(&mut out, x, period, kind);
    out.resize(x.len(), f64::NAN);
    Ok(out)
}

/// Compact MA of any kind (one value per bar from the lookback on); the caller has validated
/// `period >= 1`.
pub(super) fn ma_raw(x: &[f64], period: usize, kind: MaType) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    ma_into(&mut out, x, period, kind);
    out
}

/// Appends the compact MA of any kind to `out`.
fn ma_into(out: &mut Vec<f64>, x: &[f64], period: usize, kind: MaType) {
    match kind {
        MaType::Sma => sma_into(out, x, period),
        MaType::Ema => ema_into(out, x, period),
        MaType::Wma => wma_into(out, x, period),
        MaType::Dema => dema_into(out, x, period),
        MaType::Tema => tema_into(out, x, period),
        MaType::Kama => kama_into(out, x, period),
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
fn sma_into(out: &mut Vec<f64>, x: &[f64], period: usize) {
    if x.len() < period {
        return;
    }
    let n = period as f64;
    let mut total: f64 = x[..period - 1].iter().sum();
    // `extend` over an exact-size iterator writes without a capacity check per value, which
    // keeps `total` in a register (a `push` loop spilled it).
    out.extend(x[period - 1..].iter().zip(x).map(move |(&new, &old)| {
        total += new;
        let mean = total / n;
        total -= old;
        mean
    }));
}

/// One EMA step as TA-Lib 0.8 codes it: `fma(value − prev, k, prev)`, one rounding for the
/// multiply-add (C's `fma`, which `mul_add` is on every platform).
#[inline(always)]
pub(super) fn ema_step(prev: f64, value: f64, k: f64) -> f64 {
    (value - prev).mul_add(k, prev)
}

/// The EMA's smoothing factor `2 / (period + 1)`.
pub(super) fn ema_k(period: usize) -> f64 {
    2.0 / (period as f64 + 1.0)
}

/// TA-Lib's EMA seed: the sum of the first `period` values from 0, in order, divided by
/// `period`.
pub(super) fn ema_seed(values: impl Iterator<Item = f64>, period: usize) -> f64 {
    values.fold(0.0, |sum, v| sum + v) / period as f64
}

fused_fn! {
    /// Compact EMA with TA-Lib's default seeding.
    fn ema_into(out: &mut Vec<f64>, x: &[f64], period: usize) {
        if period == 1 {
            out.extend_from_slice(x);
            return;
        }
        if x.len() < period {
            return;
        }
        let k = ema_k(period);
        let mut prev = ema_seed(x[..period].iter().copied(), period);
        let rest = &x[period..];
        out.reserve(1 + rest.len());
        out.push(prev);
        append(out, rest.len(), |i| {
            prev = ema_step(prev, rest[i], k);
            prev
        });
    }
}

/// Compact WMA, TA-Lib 0.8's way: a running weighted sum (`sum += v · period`, then
/// `sum −= plain sum` after each output) that is re-summed from the window every `8 · period`
/// bars, so rounding never accumulates beyond that stretch and the bits are TA-Lib's.
fn wma_into(out: &mut Vec<f64>, x: &[f64], period: usize) {
    if period == 1 {
        out.extend_from_slice(x);
        return;
    }
    if x.len() < period {
        return;
    }
    let n = period as f64;
    let divider = n * (n + 1.0) * 0.5;
    let resync = 8 * period;
    // The weighted sum of a whole window (weights 1..=period, oldest first) and its plain sum.
    let window_sums = |w: &[f64]| {
        w.iter()
            .zip(1..)
            .fold((0.0, 0.0), |(weighted, plain), (&v, weight)| {
                (weighted + v * f64::from(weight), plain + v)
            })
    };
    let (mut weighted, mut plain) = window_sums(&x[..period - 1]);
    let mut trailing = 0.0;
    let mut countdown = resync;
    out.extend(x[period - 1..].iter().enumerate().map(move |(start, &v)| {
        countdown -= 1;
        if countdown == 0 {
            countdown = resync;
            (weighted, plain) = window_sums(&x[start..start + period]);
        } else {
            plain += v;
            plain -= trailing;
            weighted += v * n;
        }
        trailing = x[start];
        let value = weighted / divider;
        weighted -= plain;
        value
    }));
}

/// The EMA chain of DEMA and TEMA in one pass: `depth` EMAs, each fed the previous one's
/// values and seeded, as TA-Lib does, with the mean of that input's first `period` values.
/// `combine` turns the `depth` current values into the output. TA-Lib 0.8 fuses the chain
/// the same way, so no intermediate series is materialized. The stages are independent chains
/// of dependent steps, one bar apart, so the CPU runs them side by side.
#[inline(always)]
fn ema_chain<const DEPTH: usize>(
    out: &mut Vec<f64>,
    x: &[f64],
    period: usize,
    combine: impl Fn([f64; DEPTH]) -> f64,
) {
    let lookback = DEPTH * (period - 1);
    if x.len() <= lookback {
        return;
    }
    let k = ema_k(period);
    let mut emas = [0.0; DEPTH];
    // Warm-up: stage `d` starts from the seed of the first `period` values stage `d − 1`
    // produced; `feed` advances stages `0..stages` by one input bar.
    #[inline(always)]
    fn feed<const DEPTH: usize>(emas: &mut [f64; DEPTH], stages: usize, v: f64, k: f64) -> f64 {
        let mut input = v;
        for e in &mut emas[..stages] {
            *e = ema_step(*e, input, k);
            input = *e;
        }
        input
    }
    let mut at = period;
    emas[0] = ema_seed(x[..period].iter().copied(), period);
    for stage in 1..DEPTH {
        let mut sum = 0.0 + emas[stage - 1];
        for &v in &x[at..at + period - 1] {
            sum += feed(&mut emas, stage, v, k);
        }
        at += period - 1;
        emas[stage] = sum / period as f64;
    }
    out.reserve(x.len() - at + 1);
    out.push(combine(emas));
    for &v in &x[at..] {
        feed(&mut emas, DEPTH, v, k);
        out.push(combine(emas));
    }
}

fused_fn! {
    fn dema_into(out: &mut Vec<f64>, x: &[f64], period: usize) {
        if period == 1 {
            out.extend_from_slice(x);
            return;
        }
        ema_chain(out, x, period, |[e1, e2]| (e1 + e1) - e2)
    }
}

fused_fn! {
    fn tema_into(out: &mut Vec<f64>, x: &[f64], period: usize) {
        if period == 1 {
            out.extend_from_slice(x);
            return;
        }
        ema_chain(out, x, period, |[e1, e2, e3]| (3.0 * e1 - 3.0 * e2) + e3)
    }
}

fused_fn! {
    /// Compact KAMA: efficiency ratio over `period` bars drives a smoothing constant between the
    /// 2-bar and 30-bar EMA constants, squared (Kaufman's definition, as coded in TA-Lib). The
    /// constant and the step are fused multiply-adds, as TA-Lib 0.8 computes them: the same
    /// bits, and one dependent `vfmadd` per bar instead of a multiply and an add. A move as
    /// large as the path's length (up to rounding residue in the running sum) is efficiency 1,
    /// also when it is downward, as in TA-Lib 0.8.
    fn kama_into(out: &mut Vec<f64>, x: &[f64], period: usize) {
        if period == 1 {
            out.extend_from_slice(x);
            return;
        }
        if x.len() <= period {
            return;
        }
        const SLOW: f64 = 2.0 / 31.0;
        let diff = 2.0 / 3.0 - SLOW;
        let smoothing = |change: f64, volatility: f64| {
            let er = if volatility <= change.abs() || is_zero(volatility) {
                1.0
            } else {
                (change / volatility).abs()
            };
            let sc = er.mul_add(diff, SLOW);
            sc * sc
        };
        let mut volatility: f64 = x.windows(2).take(period).map(|w| (w[0] - w[1]).abs()).sum();
        let mut prev = x[period - 1];
        let mut trailing_value = x[0];
        append(out, x.len() - period, |i| {
            let today = period + i;
            let now = x[today];
            let oldest = x[today - period];
            let change = now - oldest;
            if today > period {
                volatility -= (trailing_value - oldest).abs();
                volatility += (now - x[today - 1]).abs();
            }
            trailing_value = oldest;
            prev = ema_step(prev, now, smoothing(change, volatility));
            prev
        });
    }
}
