//! Reductions written so that they vectorize.
//!
//! A fold like `xs.iter().fold(m, max)` is one chain of dependent steps: the compiler may not
//! reorder floating-point operations, so it runs one element at a time. A max or a min does
//! not depend on the order it sees its elements in, so [`pick`] keeps four independent
//! running picks (one SIMD register pair) and merges them at the end.

/// `xs.iter().fold(init, |m, &x| pick(m, x))`, for a `pick` that returns one of its two
/// arguments and whose result does not depend on the order it is applied in (a max or a
/// min that ignores NaN, say). Four lanes, merged at the end.
#[inline]
pub(crate) fn pick(xs: &[f64], init: f64, pick: impl Fn(f64, f64) -> f64) -> f64 {
    let chunks = xs.chunks_exact(4);
    let rest = chunks.remainder().iter().fold(init, |m, &x| pick(m, x));
    let mut lanes = [rest; 4];
    for c in chunks {
        for (m, &x) in lanes.iter_mut().zip(c) {
            *m = pick(*m, x);
        }
    }
    lanes.into_iter().fold(rest, pick)
}

/// What one pass over a run of bars finds: the highest high, lowest low, highest close and
/// lowest close, and whether every one of those prices is a finite number (without which
/// the extremes mean nothing: the caller then takes the slower path that handles NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Extremes {
    pub high: f64,
    pub low: f64,
    pub close_max: f64,
    pub close_min: f64,
    pub finite: bool,
}

impl Extremes {
    /// The extremes of `high`, `low` and `close` (equally long, not empty), in one pass of
    /// four lanes: four reductions from one loop, where separate [`pick`]s would read the
    /// run three times and end four loops. A running sum of all three prices, in lanes, is
    /// NaN or infinite exactly when one of them is (or when it overflows, which only makes
    /// the answer cautious).
    pub fn of(high: &[f64], low: &[f64], close: &[f64]) -> Extremes {
        let (mut hi, mut lo) = ([high[0]; 4], [low[0]; 4]);
        let (mut cmax, mut cmin, mut sum) = ([close[0]; 4], [close[0]; 4], [0.0; 4]);
        let n = close.len().min(high.len()).min(low.len());
        let whole = n / 4 * 4;
        let lanes = high[..whole]
            .chunks_exact(4)
            .zip(low[..whole].chunks_exact(4))
            .zip(close[..whole].chunks_exact(4));
        for ((h, l), c) in lanes {
            for j in 0..4 {
                hi[j] = max(hi[j], h[j]);
                lo[j] = min(lo[j], l[j]);
                cmax[j] = max(cmax[j], c[j]);
                cmin[j] = min(cmin[j], c[j]);
                sum[j] += h[j] + l[j] + c[j];
            }
        }
        for k in whole..n {
            hi[0] = max(hi[0], high[k]);
            lo[0] = min(lo[0], low[k]);
            cmax[0] = max(cmax[0], close[k]);
            cmin[0] = min(cmin[0], close[k]);
            sum[0] += high[k] + low[k] + close[k];
        }
        let fold = |l: [f64; 4], f: fn(f64, f64) -> f64| l.into_iter().fold(l[0], f);
        Extremes {
            high: fold(hi, max),
            low: fold(lo, min),
            close_max: fold(cmax, max),
            close_min: fold(cmin, min),
            finite: sum.iter().sum::<f64>().is_finite(),
        }
    }
}

/// The larger of `m` and `x`; `m` when they are equal or `x` is NaN.
#[inline]
pub(crate) fn max(m: f64, x: f64) -> f64 {
    if x > m {
        x
    } else {
        m
    }
}

/// The smaller of `m` and `x`; `m` when they are equal or `x` is NaN.
#[inline]
pub(crate) fn min(m: f64, x: f64) -> f64 {
    if x < m {
        x
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_what_a_sequential_fold_picks() {
        let xs: Vec<f64> = (0..23).map(|i| ((i * 7919) % 31) as f64 - 15.0).collect();
        for n in 0..xs.len() {
            let xs = &xs[..n];
            assert_eq!(pick(xs, 0.5, max), xs.iter().copied().fold(0.5, max));
            assert_eq!(pick(xs, 0.5, min), xs.iter().copied().fold(0.5, min));
        }
        assert_eq!(pick(&[1.0, f64::NAN, 3.0, 2.0, f64::NAN], 0.0, max), 3.0);
    }

    #[test]
    fn extremes_are_the_folds_of_each_column() {
        let col = |k: usize| -> Vec<f64> {
            (0..23)
                .map(|i| (((i + k) * 7919) % 31) as f64 - 15.0)
                .collect()
        };
        let (h, l, c) = (col(1), col(2), col(3));
        let fold = |v: &[f64], f: fn(f64, f64) -> f64| v.iter().copied().fold(v[0], f);
        for n in 1..h.len() {
            let x = Extremes::of(&h[..n], &l[..n], &c[..n]);
            assert_eq!(x.high, fold(&h[..n], max));
            assert_eq!(x.low, fold(&l[..n], min));
            assert_eq!(x.close_max, fold(&c[..n], max));
            assert_eq!(x.close_min, fold(&c[..n], min));
            assert!(x.finite);
        }
        for (at, bad) in [
            (0, f64::NAN),
            (6, f64::NAN),
            (9, f64::INFINITY),
            (22, f64::NAN),
        ] {
            for column in 0..3 {
                let mut v = [h.clone(), l.clone(), c.clone()];
                v[column][at] = bad;
                assert!(!Extremes::of(&v[0], &v[1], &v[2]).finite, "{column} {at}");
            }
        }
    }
}
