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
}
