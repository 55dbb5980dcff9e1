//! Crosses of simple moving averages of prices, decided on whole ticks.
//!
//! Prices live on the tick grid, so an SMA(m) of prices is `S_m / m` ticks, `S_m` the sum of the
//! last `m` prices in ticks, and the difference of SMA(m) and SMA(n) is `d / (m · n)` ticks with
//! `d = S_m · n − S_n · m` a whole number. The rule language's tie (a millionth of a tick,
//! `docs/METRICS.md`) then reads `a − b > tie` ⟺ `d > ⌊m · n / 10⁶⌋`: decided on integers, with
//! no rounding anywhere. A price is SMA(1) of itself, so `close` crossing an SMA is the same case.
//!
//! Every `S_m` comes from one prefix sum of the price column, shared by all periods. A sweep's
//! combination then reads that one column (which stays in the processor's cache from one
//! combination to the next) rather than two SMA columns from memory, and no SMA is computed
//! or kept. The arithmetic is done in f64 on whole numbers below 2^53, which is exact and
//! vectorizes; a series off the grid (a ratio back-adjustment) or whose sums could reach that
//! bound is left to the floating-point comparison, which decides the same wherever its
//! rounding stays below the tie (`strategies/tests/ties.rs` holds the two together).

use crate::indicators::{append, fused_fn};

/// Bars whose `d` [`crosses`] computes together, one bit each in a 64-bit word, before it
/// looks for a cross among them.
const BLOCK: usize = 64;

/// Ties per tick: the rule language's tie ([`TIE_TICKS`](super::eval::TIE_TICKS)) as a whole
/// number, so that the threshold `⌊m · n / 10⁶⌋` is an integer division with no rounding to
/// reason about.
const TIES_PER_TICK: u128 = 1_000_000;

/// Whole numbers up to this are exact in f64 (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// 1.5 · 2^52: adding and then subtracting it rounds an f64 below 2^51 in magnitude to the
/// nearest whole number (the sum has no bits below the units).
const ROUND: f64 = 6_755_399_441_055_744.0;

/// Running sums of one price column in ticks: `sums[i]` is the sum of the first `i` prices.
pub(crate) struct Prefix {
    sums: Vec<f64>,
    /// The largest price in ticks, in absolute value: bounds every product taken of the sums.
    largest: f64,
}

impl Prefix {
    /// The prefix sums of `prices` on a grid of `tick`; `None` when a price is not within a
    /// billionth of a tick of the grid (or not a number), or when a sum could reach 2^53.
    pub fn new(prices: &[f64], tick: f64) -> Option<Prefix> {
        if tick.is_nan() || tick <= 0.0 {
            return None;
        }
        let per_tick = 1.0 / tick;
        let mut sums = Vec::with_capacity(prices.len() + 1);
        let (mut sum, mut largest, mut on_grid) = (0_i64, 0_u64, true);
        sums.push(0.0);
        append(&mut sums, prices.len(), |i| {
            let x = prices[i] * per_tick;
            // The nearest whole number, without a call to `round` (baseline x86-64 has no
            // instruction for it); exact for |x| < 2^51, and a larger x fails the bound below.
            let ticks = (x + ROUND) - ROUND;
            // NaN and infinite prices fail this test (the difference is NaN).
            on_grid &= (x - ticks).abs() <= 1e-9;
            // `as` saturates; the sum runs in integers, one cycle a bar where f64 takes three.
            let t = ticks as i64;
            largest = largest.max(t.unsigned_abs());
            sum = sum.wrapping_add(t);
            sum as f64
        });
        // Every partial sum is at most `len · largest`: below 2^53 it neither wrapped nor lost
        // a digit in the conversion.
        let largest = largest as f64;
        (on_grid && largest * (prices.len() as f64) < EXACT).then_some(Prefix { sums, largest })
    }
}

/// SMA(`period`) of a price column, `shift` bars back; a price itself is SMA(1).
#[derive(Clone, Copy)]
pub(crate) struct Average<'p> {
    pub prefix: &'p Prefix,
    pub period: usize,
    pub shift: usize,
}

impl Average<'_> {
    /// The first bar with a value.
    fn first(&self) -> usize {
        self.period - 1 + self.shift
    }

    /// `S` at bars `from..from + len`: the sums ending at each bar (`hi`) and the ones the
    /// window leaves out (`lo`), whose difference is the window's sum.
    fn sums(&self, from: usize, len: usize) -> (&[f64], &[f64]) {
        let end = from + 1 - self.shift;
        let s = &self.prefix.sums;
        (
            &s[end..end + len],
            &s[end - self.period..end - self.period + len],
        )
    }
}

fused_fn! {
/// Where `a` crosses above `b` into `up` and, when given, where it crosses below into `down`,
/// one flag per bar of `bars`; the flags the floating-point comparison gives, decided exactly.
/// Returns false, writing nothing, when the products could leave f64's exact range.
pub(crate) fn crosses(
    a: Average,
    b: Average,
    bars: usize,
    up: &mut Vec<bool>,
    down: Option<&mut Vec<bool>>,
) -> bool {
    let (m, n) = (a.period as f64, b.period as f64);
    // |S_m · n| ≤ m · largest · n, and the same for the other term: their difference is exact.
    let largest = a.prefix.largest.max(b.prefix.largest);
    let whole = |x: &Average| x.prefix.sums.len() == bars + 1;
    if 2.0 * m * n * largest >= EXACT || !whole(&a) || !whole(&b) {
        return false;
    }
    // `a − b > tie` ⟺ `d > ⌊m · n / 10⁶⌋`, `d` a whole number.
    let k = ((a.period as u128 * b.period as u128) / TIES_PER_TICK) as f64;
    reset(up, bars);
    let mut down = down.map(|d| {
        reset(d, bars);
        &mut d[..]
    });
    // A cross at bar t compares t − 1 with t: both need a value.
    let first = a.first().max(b.first());
    if first + 1 >= bars {
        return true;
    }
    let len = bars - first;
    let ((a_hi, a_lo), (b_hi, b_lo)) = (a.sums(first, len), b.sums(first, len));
    let sums = Sums {
        a_hi,
        a_lo,
        b_hi,
        b_lo,
        m,
        n,
        k,
    };
    // Bars above the tie band and below it, one bit each, a block at a time; a cross above
    // is a bar above whose bar before is not (the same below). The bar before the first
    // block is `first`, which only serves as the "before" of the next one.
    let (mut above, mut below) = sums.sides(0, 1);
    let mut j = 1;
    while j < len {
        let width = (len - j).min(BLOCK);
        let (now_above, now_below) = sums.sides(j, width);
        let rises = |now: u64, before: u64| now & !((now << 1) | before);
        let set = |bits: u64, flags: &mut [bool]| {
            let mut bits = bits;
            while bits != 0 {
                flags[first + j + bits.trailing_zeros() as usize] = true;
                bits &= bits - 1;
            }
        };
        set(rises(now_above, above), up);
        if let Some(down) = down.as_deref_mut() {
            set(rises(now_below, below), down);
        }
        // The last bar of this block is the bar before the next one.
        (above, below) = (now_above >> (width - 1), now_below >> (width - 1));
        j += width;
    }
    true
}
}

/// `flags` made `bars` long and all false, keeping its memory (a sweep's signal columns are
/// written over from one combination to the next).
pub(crate) fn reset(flags: &mut Vec<bool>, bars: usize) {
    flags.clear();
    flags.resize(bars, false);
}

/// What `d = S_a · n − S_b · m` is computed from, bar by bar, and the tie band's edge `k`.
struct Sums<'s> {
    a_hi: &'s [f64],
    a_lo: &'s [f64],
    b_hi: &'s [f64],
    b_lo: &'s [f64],
    m: f64,
    n: f64,
    k: f64,
}

impl Sums<'_> {
    /// Which of the `len` (at most 64) bars from `from` on lie above the tie band (`d > k`)
    /// and which below it (`d < −k`), bit `i` for bar `from + i`: comparisons and shifts
    /// that vectorize, where a branch per bar would not. Inlined, so that it is compiled
    /// into [`crosses`]' AVX2 clone, four bars to an instruction.
    #[inline(always)]
    fn sides(&self, from: usize, len: usize) -> (u64, u64) {
        let r = from..from + len;
        let (mut above, mut below) = (0, 0);
        let sums = self.a_hi[r.clone()]
            .iter()
            .zip(&self.a_lo[r.clone()])
            .zip(&self.b_hi[r.clone()])
            .zip(&self.b_lo[r]);
        for (i, (((&ah, &al), &bh), &bl)) in sums.enumerate() {
            let d = (ah - al) * self.n - (bh - bl) * self.m;
            above |= u64::from(d > self.k) << i;
            below |= u64::from(d < -self.k) << i;
        }
        (above, below)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_tick_rule_uses_the_languages_tie() {
        assert_eq!(super::super::eval::TIE_TICKS, 1.0 / TIES_PER_TICK as f64);
    }

    #[test]
    fn prices_off_the_grid_or_too_large_have_no_prefix() {
        assert!(Prefix::new(&[1.25, 1.5, 1.75], 0.25).is_some());
        assert!(Prefix::new(&[1.25, 1.3, 1.75], 0.25).is_none());
        assert!(Prefix::new(&[1.25, f64::NAN], 0.25).is_none());
        assert!(Prefix::new(&[1.25, f64::INFINITY], 0.25).is_none());
        assert!(Prefix::new(&[1e15, 1e15, 1e15, 1e15], 0.25).is_none());
        let p = Prefix::new(&[65.07, 65.08, 64.99], 0.01).unwrap();
        assert_eq!(p.sums, [0.0, 6507.0, 13015.0, 19514.0]);
        assert_eq!(p.largest, 6508.0);
        // CL settled at −$37.63 on 2020-04-20; half a tick is off the grid.
        let p = Prefix::new(&[-37.63, 10.01], 0.01).unwrap();
        assert_eq!((p.sums, p.largest), (vec![0.0, -3763.0, -2762.0], 3763.0));
        assert!(Prefix::new(&[10.005], 0.01).is_none());
    }

    #[test]
    fn the_tie_threshold_counts_whole_steps_of_a_tick_over_both_periods() {
        // SMA(1000) and SMA(1001) of a flat series with one bar raised by `s` ticks: while
        // both windows hold it, the averages differ by s / (1000 · 1001) ticks, a tie (at
        // most a millionth of a tick) for s = 1 and a cross above for s = 2. Once the short
        // window has dropped it, SMA(1000) is below by 1000 · s such steps: a cross below.
        let bars = 3000;
        for (s, ups) in [(1.0, 0), (2.0, 1)] {
            let mut prices = vec![100.0; bars];
            prices[1200] += s;
            let prefix = Prefix::new(&prices, 1.0).unwrap();
            let avg = |period| Average {
                prefix: &prefix,
                period,
                shift: 0,
            };
            let (mut up, mut down) = (Vec::new(), Vec::new());
            assert!(crosses(
                avg(1000),
                avg(1001),
                bars,
                &mut up,
                Some(&mut down)
            ));
            let at = |f: &[bool]| (0..bars).filter(|&t| f[t]).collect::<Vec<_>>();
            assert_eq!(at(&up), [1200; 1][..ups], "s = {s}");
            assert_eq!(at(&down), [2200], "s = {s}");
            // Alone, the cross above is the same.
            let mut alone = Vec::new();
            assert!(crosses(avg(1000), avg(1001), bars, &mut alone, None));
            assert_eq!(alone, up);
        }
    }

    #[test]
    fn shifted_averages_and_short_series() {
        // close crossing above its own SMA(2) one bar back: close vs (c[t-1] + c[t-2]) / 2.
        let prices = [10.0, 10.0, 10.0, 11.0, 10.0, 10.0, 12.0];
        let prefix = Prefix::new(&prices, 1.0).unwrap();
        let close = Average {
            prefix: &prefix,
            period: 1,
            shift: 0,
        };
        let lagged = Average {
            period: 2,
            shift: 1,
            ..close
        };
        let mut up = Vec::new();
        assert!(crosses(close, lagged, prices.len(), &mut up, None));
        // The lagged SMA from bar 2 on: 10, 10, 10.5, 10.5, 10.
        assert_eq!(up, [false, false, false, true, false, false, true]);
        // Too short for one comparison of two bars with values: all false, full length.
        let short = Prefix::new(&prices[..3], 1.0).unwrap();
        let (close, lagged) = (
            Average {
                prefix: &short,
                ..close
            },
            Average {
                prefix: &short,
                ..lagged
            },
        );
        let mut up = vec![true; 9];
        assert!(crosses(close, lagged, 3, &mut up, None));
        assert_eq!(up, [false; 3]);
    }
}
