//! A long equity curve cut to a few hundred points that still draws true.
//!
//! An LLM's context (and a chart's width) holds a few hundred points, not the 3,000 daily
//! marks of a twelve-year backtest. Taking every n-th point would miss the very days a trader
//! asks about: the top before the worst drawdown and its bottom. So the curve is cut into
//! buckets and each bucket keeps its highest and its lowest point, and the first point, the
//! last, and the peak and trough of the maximum drawdown are always kept: the thinned curve
//! has the same maximum drawdown, the same end, and every bucket's range.

/// Indices into `values` (ascending, at most `max_points`, at least the first and last
/// when `values` has any) of a thinned curve. With `max_points` of 8 or more, the deepest
/// peak-to-trough fall of the kept points equals that of the whole curve. Every index is
/// kept when `values` already fits.
pub fn drawdown_preserving(values: &[f64], max_points: usize) -> Vec<usize> {
    let n = values.len();
    if n <= max_points {
        return (0..n).collect();
    }
    let (peak, trough) = max_drawdown_span(values);
    let mut keep = vec![0, n - 1, peak, trough];
    // Two points a bucket, leaving room for the four kept above.
    let buckets = (max_points.saturating_sub(4) / 2).max(1);
    for b in 0..buckets {
        let (lo, hi) = (b * n / buckets, (b + 1) * n / buckets);
        if lo >= hi {
            continue;
        }
        let bucket = &values[lo..hi];
        // First of equal values, so the choice never depends on anything but the values.
        let arg = |better: fn(f64, f64) -> bool| {
            (1..bucket.len()).fold(0, |best, i| {
                if better(bucket[i], bucket[best]) {
                    i
                } else {
                    best
                }
            }) + lo
        };
        keep.push(arg(|a, b| a > b));
        keep.push(arg(|a, b| a < b));
    }
    keep.sort_unstable();
    keep.dedup();
    keep
}

/// Indices of the peak and the trough of the deepest fall of `values` (the first such fall;
/// both 0 when the curve never falls).
fn max_drawdown_span(values: &[f64]) -> (usize, usize) {
    let (mut peak, mut best) = (0, (0, 0));
    let mut deepest = 0.0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[peak] {
            peak = i;
        }
        let fall = values[peak] - v;
        if fall > deepest {
            deepest = fall;
            best = (peak, i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_dd(v: &[f64]) -> f64 {
        let (p, t) = max_drawdown_span(v);
        v[p] - v[t]
    }

    #[test]
    fn short_curves_are_kept_whole() {
        assert_eq!(drawdown_preserving(&[1.0, 2.0, 0.5], 250), [0, 1, 2]);
        assert!(drawdown_preserving(&[], 250).is_empty());
    }

    #[test]
    fn a_long_curve_keeps_its_end_and_its_max_drawdown() {
        // A deterministic zig-zag with one deep fall in the middle, 3,000 points.
        let mut v: Vec<f64> = (0..3000)
            .map(|i| 100_000.0 + 10.0 * i as f64 + if i % 7 < 3 { 250.0 } else { -120.0 })
            .collect();
        for (k, x) in v[1500..1620].iter_mut().enumerate() {
            *x -= 40.0 * k as f64;
        }
        let keep = drawdown_preserving(&v, 250);
        assert!(keep.len() <= 250, "{}", keep.len());
        assert!(keep.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((keep[0], *keep.last().unwrap()), (0, 2999));
        let thin: Vec<f64> = keep.iter().map(|&i| v[i]).collect();
        assert_eq!(max_dd(&thin), max_dd(&v));
        // The fall is the hand-built one (index 1500 on), not a zig-zag's 370.
        let (p, t) = max_drawdown_span(&v);
        assert!(keep.contains(&p) && keep.contains(&t));
        assert!((1500..1620).contains(&t) && v[p] - v[t] > 3000.0);
    }
}
