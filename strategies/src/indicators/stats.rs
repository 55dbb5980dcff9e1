//! Window statistics: MAX, MIN, STDDEV, LINEARREG_SLOPE, and the rolling extremes that WILLR
//! and STOCH share.

use super::{check_period, check_real, with_lookback, Result};

/// Highest value over the last `period` bars, TA-Lib's `MAX`. Lookback `period - 1`; period range
/// `2..=100000`.
pub fn max(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    let mut out = with_lookback(x.len(), period - 1);
    rolling_extreme_into(&mut out, x, period, |a, b| a > b);
    Ok(out)
}

/// Lowest value over the last `period` bars, TA-Lib's `MIN`. Lookback `period - 1`; period range
/// `2..=100000`.
pub fn min(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    let mut out = with_lookback(x.len(), period - 1);
    rolling_extreme_into(&mut out, x, period, |a, b| a < b);
    Ok(out)
}

/// Compact rolling extreme over windows of `period` values in O(n), by van Herk and
/// Gil-Werman's blocks, the algorithm TA-Lib 0.8 uses: the input is cut into blocks of
/// `period` values, and a window that straddles two blocks is the better of the first block's
/// suffix extreme (from the window start to the block end) and the second block's prefix
/// extreme (from the block start to the window end). Three comparisons per value and no
/// branch on the data. `better(a, b)` is `a > b` for a maximum, `a < b` for a minimum.
pub(super) fn rolling_extreme(
    x: &[f64],
    period: usize,
    better: impl Fn(f64, f64) -> bool + Copy,
) -> Vec<f64> {
    // Full length reserved for `pad`.
    let mut out = Vec::with_capacity(x.len());
    rolling_extreme_into(&mut out, x, period, better);
    out
}

/// [`rolling_extreme`] appended to `out`: MAX and MIN write after their lookback.
fn rolling_extreme_into(
    out: &mut Vec<f64>,
    x: &[f64],
    period: usize,
    better: impl Fn(f64, f64) -> bool + Copy,
) {
    if period == 0 || x.len() < period {
        return;
    }
    let pick = move |a: f64, b: f64| if better(a, b) { a } else { b };
    let mut suffix = vec![0.0; period];
    // Windows ending in block `b` start in block `b − 1`; the window ending on a block's last
    // value starts on the block's first, where the block's own suffix is its whole extreme.
    out.push(x[..period].iter().copied().reduce(pick).unwrap_or(f64::NAN));
    for (previous, block) in x.chunks_exact(period).zip(x[period..].chunks(period)) {
        let mut acc = previous[period - 1];
        for (s, &v) in suffix.iter_mut().zip(previous).rev() {
            acc = pick(v, acc);
            *s = acc;
        }
        let mut prefix = block[0];
        out.extend(block.iter().zip(&suffix[1..]).map(|(&v, &s)| {
            prefix = pick(v, prefix);
            pick(s, prefix)
        }));
        if block.len() == period {
            out.push(pick(block[period - 1], prefix));
        }
    }
}

/// Population standard deviation over `period` bars times `nbdev`, TA-Lib's `STDDEV`: the square
/// root of TA-Lib's `VAR` times `nbdev`. Lookback `period - 1`; period range `2..=100000`.
pub fn stddev(x: &[f64], period: usize, nbdev: f64) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    check_real("nbdev", nbdev)?;
    let mut out = with_lookback(x.len(), period - 1);
    variance_into(&mut out, x, period, |v| v.sqrt() * nbdev);
    Ok(out)
}

/// Compact STDDEV.
pub(super) fn stddev_raw(x: &[f64], period: usize, nbdev: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    variance_into(&mut out, x, period, |v| v.sqrt() * nbdev);
    out
}

/// Population variance, TA-Lib 0.8's `VAR` operation for operation. The running sums
/// are of deviations from a pivot `k` (first the window's oldest value, later a window mean),
/// which keeps `E[d²] − E[d]²` from cancelling on prices far from zero. The window is
/// re-summed around its own mean (and a variance below 1e-12 of `E[d²]` is taken as 0) when the
/// update looks unreliable: when the variance falls under 1e-6 of `E[d²]` without the leaving
/// value, when that value's squared deviation exceeds 1e6 times the remaining sum, or every
/// `32 · period` bars. Appends `finish(variance)` of each window to `out`: STDDEV takes the
/// root in the same pass, rather than in a second one over the whole output.
fn variance_into(out: &mut Vec<f64>, x: &[f64], period: usize, finish: impl Fn(f64) -> f64) {
    if period == 0 || x.len() < period {
        return;
    }
    let inv = 1.0 / period as f64;
    let resync = 32 * period;
    // Pivot and the sums of deviations and squared deviations of a whole window.
    let resum = |w: &[f64]| {
        let k = w.iter().fold(0.0, |sum, &v| sum + v) * inv;
        let (s1, s2) = w.iter().fold((0.0, 0.0), |(s1, s2), &v| {
            let d = v - k;
            (s1 + d, s2 + d * d)
        });
        (k, s1, s2)
    };
    let mut k = x[0];
    let (mut s1, mut s2) = x[..period - 1].iter().fold((0.0, 0.0), |(s1, s2), &v| {
        let d = v - k;
        (s1 + d, s2 + d * d)
    });
    let mut countdown = resync;
    out.extend(
        x[period - 1..]
            .iter()
            .zip(x)
            .enumerate()
            .map(move |(start, (&v, &old))| {
                let d = v - k;
                s1 += d;
                s2 += d * d;
                let mean = inv * s1;
                let mut variance = inv * s2 - mean * mean;
                let leaving = old - k;
                let rest = s2 - leaving * leaving;
                let unreliable =
                    inv * rest * 1e-6 > variance || leaving * leaving > rest * 1e6 || {
                        countdown -= 1;
                        countdown == 0
                    };
                if unreliable {
                    countdown = resync;
                    (k, s1, s2) = resum(&x[start..start + period]);
                    let mean = inv * s1;
                    variance = inv * s2 - mean * mean;
                    if variance < inv * s2 * 1e-12 {
                        variance = 0.0;
                    }
                    let leaving = old - k;
                    s1 -= leaving;
                    s2 -= leaving * leaving;
                } else {
                    s1 -= leaving;
                    s2 = rest;
                }
                finish(variance)
            }),
    );
}

/// Slope of the least-squares line through the last `period` values, TA-Lib's
/// `LINEARREG_SLOPE`. Lookback `period - 1`; period range `2..=100000`.
///
/// TA-Lib 0.8's algorithm, operation for operation: x counts backwards from the newest value
/// (x = 0 is today, hence a negative divisor), `Σy` and `Σxy` are updated in O(1) per bar
/// (every point's x grows by one, so `Σxy += Σy − period · leaving`), and the window is
/// re-summed every `32 · period` bars or when the leaving term `period · |leaving|` exceeds 100
/// times `Σ|y|`, the cases where the update could lose digits.
pub fn linearreg_slope(x: &[f64], period: usize) -> Result<Vec<f64>> {
    check_period("period", period, 2)?;
    if x.len() < period {
        return Ok(vec![f64::NAN; x.len()]);
    }
    let n = period as f64;
    let last_x = (period - 1) as f64;
    let sum_x = 0.5 * (last_x * n);
    let divisor = sum_x * sum_x - (((2 * period - 1) as f64 * (last_x * n)) / 6.0) * n;
    let resync = 32 * period;
    // Σy, Σ|y| and Σxy of a whole window, oldest value first (x = period − 1 down to 0).
    let resum = |w: &[f64]| {
        let mut weight = last_x;
        w.iter().fold((0.0, 0.0, 0.0), |(y, abs, xy), &v| {
            let term = v * weight;
            weight -= 1.0;
            (y + v, abs + v.abs(), xy + term)
        })
    };
    let (mut sum_y, mut sum_abs, mut sum_xy) = resum(&x[..period]);
    let slope = |sum_y: f64, sum_xy: f64| (n * sum_xy - sum_x * sum_y) / divisor;
    let mut countdown = resync;
    let mut out = with_lookback(x.len(), period - 1);
    out.push(slope(sum_y, sum_xy));
    out.extend(
        x[period..]
            .iter()
            .zip(x)
            .enumerate()
            .map(move |(oldest, (&v, &leaving))| {
                countdown -= 1;
                let mut resum_window = countdown == 0;
                if !resum_window {
                    let leaving_term = n * leaving;
                    sum_abs -= leaving.abs();
                    sum_abs += v.abs();
                    resum_window = leaving_term.abs() > sum_abs * 100.0;
                    if !resum_window {
                        sum_xy += sum_y;
                        sum_y -= leaving;
                        sum_xy -= leaving_term;
                        sum_y += v;
                    }
                }
                if resum_window {
                    countdown = resync;
                    (sum_y, sum_abs, sum_xy) = resum(&x[oldest + 1..oldest + 1 + period]);
                }
                slope(sum_y, sum_xy)
            }),
    );
    Ok(out)
}
