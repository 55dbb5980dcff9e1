//! Ties on the tick grid are decided by exact values, not by floating-point noise: every
//! comparison and cross of the rule language agrees, bar by bar, with the same rule computed
//! in exact integer arithmetic on the prices' ticks (an SMA is a sum of ticks over a period,
//! so `sma(f) > sma(s)` is `sum_f * s > sum_s * f`).

mod common;

use serde_json::{json, Value};
use settle_data::{spec, BarSize, Bars, SeriesMeta};
use settle_strategies::indicators;
use settle_strategies::rules::{self, Strategy};

/// A strategy on `bars`' symbol and bar size with `long_entry` and `short_entry`.
fn strategy(bars: &Bars, long: Value, short: Value) -> Strategy {
    serde_json::from_value(json!({
        "name": "ties", "symbol": bars.meta.symbol, "bar_size": bars.meta.bar_size.to_string(),
        "window": "all", "long_entry": long, "short_entry": short,
    }))
    .unwrap()
}

/// Long and short entry signals of `long` and `short` on `bars`.
fn signals(bars: &Bars, long: Value, short: Value) -> (Vec<bool>, Vec<bool>) {
    let c = rules::compile(&strategy(bars, long, short)).unwrap();
    let sig = rules::signals(&c, bars, spec(&bars.meta.symbol).unwrap()).unwrap();
    (sig.long_entry, sig.short_entry)
}

fn sma(period: usize) -> Value {
    json!({"indicator": "sma", "period": period})
}

/// Each close in whole ticks (the data is on the tick grid; checked).
fn ticks(bars: &Bars) -> Vec<i64> {
    let tick = spec(&bars.meta.symbol).unwrap().tick_size;
    bars.close
        .iter()
        .map(|&c| {
            let t = (c / tick).round();
            assert!((t * tick - c).abs() < tick * 1e-9, "{c} is off the grid");
            t as i64
        })
        .collect()
}

/// `period` times the SMA of `x` at each bar (the window's exact sum); `None` before it fills.
fn sums(x: &[i64], period: usize) -> Vec<Option<i128>> {
    (0..x.len())
        .map(|t| {
            (t + 1 >= period).then(|| x[t + 1 - period..=t].iter().map(|&v| i128::from(v)).sum())
        })
        .collect()
}

/// The sign of `sma(fast) - sma(slow)` at each bar, exactly.
fn exact_sign(x: &[i64], fast: usize, slow: usize) -> Vec<Option<std::cmp::Ordering>> {
    let (f, s) = (sums(x, fast), sums(x, slow));
    f.iter()
        .zip(&s)
        .map(|(f, s)| Some((f.as_ref()? * slow as i128).cmp(&(s.as_ref()? * fast as i128))))
        .collect()
}

/// Crosses of `sma(fast)` over and under `sma(slow)` on `bars`, exactly, and how many bars
/// tie exactly while their floating-point SMAs differ (ties the noise would decide).
fn exact_crosses(bars: &Bars, fast: usize, slow: usize) -> (Vec<bool>, Vec<bool>, usize) {
    use std::cmp::Ordering::*;
    let sign = exact_sign(&ticks(bars), fast, slow);
    let n = bars.len();
    let (mut up, mut down) = (vec![false; n], vec![false; n]);
    for t in 1..n {
        if let (Some(a), Some(b)) = (sign[t - 1], sign[t]) {
            up[t] = a != Greater && b == Greater;
            down[t] = a != Less && b == Less;
        }
    }
    let (f, s) = (
        indicators::sma(&bars.close, fast).unwrap(),
        indicators::sma(&bars.close, slow).unwrap(),
    );
    let noisy = (0..n)
        .filter(|&t| sign[t] == Some(Equal) && f[t] != s[t])
        .count();
    (up, down, noisy)
}

/// Real CL daily closes (tick $0.01, not a power of two: sums round) and 6E minutes (tick
/// 0.00005): every SMA cross over a grid of periods fires on exactly the bars the integer
/// arithmetic says, including the bars where the two averages tie exactly but their
/// floating-point values differ; the same whether a cross is evaluated alone or together
/// with its opposite (the one pass an always-in-market cross takes), and the same whether the
/// SMAs are compared on whole ticks (as SMAs of prices are) or in floating point within the
/// tie (as any other series is).
#[test]
fn sma_crosses_on_real_data_follow_exact_tick_arithmetic() {
    let mut noisy_ties = 0;
    for bars in [common::cl_daily(), common::six_e_minutes()] {
        for fast in [2, 3, 4, 5, 6, 8, 10] {
            for slow in [4, 6, 9, 12, 20, 30] {
                if fast >= slow {
                    continue;
                }
                let cross = |op: &str| json!({"op": op, "left": sma(fast), "right": sma(slow)});
                // Both columns from one pass (opposite crosses of one pair), and each on its
                // own beside a rule that is no cross; SMAs of prices are compared on whole
                // ticks. `sma + 0` is the same value to the floating-point comparison.
                let (up, down) = signals(&bars, cross("crosses_above"), cross("crosses_below"));
                let other = json!({"op": "gt", "left": "close", "right": sma(slow)});
                let (up_alone, _) = signals(&bars, cross("crosses_above"), other.clone());
                let (_, down_alone) = signals(&bars, other, cross("crosses_below"));
                assert!(up == up_alone && down == down_alone, "{fast}/{slow}");
                let float = |op: &str| {
                    let plus_zero = json!({"add": [sma(fast), 0]});
                    json!({"op": op, "left": plus_zero, "right": sma(slow)})
                };
                let floating = signals(&bars, float("crosses_above"), float("crosses_below"));
                assert!(
                    floating == (up.clone(), down.clone()),
                    "{fast}/{slow} float"
                );
                let (want_up, want_down, noisy) = exact_crosses(&bars, fast, slow);
                let at = |a: &[bool], b: &[bool]| (0..a.len()).find(|&t| a[t] != b[t]);
                assert_eq!(
                    at(&up, &want_up),
                    None,
                    "{} {fast}/{slow} above",
                    bars.meta.symbol
                );
                assert_eq!(
                    at(&down, &want_down),
                    None,
                    "{} {fast}/{slow} below",
                    bars.meta.symbol
                );
                noisy_ties += noisy;
            }
        }
    }
    // The data holds ties that floating point alone would have decided.
    assert!(
        noisy_ties > 0,
        "no noisy tie in the data: the test would prove nothing"
    );
}

/// Closes built so that the close equals SMA(2) exactly at chosen bars (a repeated close),
/// on a tick grid where TA-Lib's running sum leaves rounding: at those bars `close > sma(2)`
/// and `close < sma(2)` are both false, and `ge`/`le` both true, whatever the noise.
#[test]
fn chosen_exact_ties_are_equal_in_every_comparison() {
    let chosen = [40, 41, 97, 150, 151, 152, 233];
    let mut ticks = Vec::new();
    let mut bars = Bars::empty(SeriesMeta::new("CL", None, BarSize::Daily, "test"));
    let mut x: i64 = 6_507; // $65.07 in cents
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for t in 0..300usize {
        if !chosen.contains(&t) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            x += (seed % 7) as i64 - 3;
        }
        ticks.push(x);
        let c = x as f64 / 100.0;
        bars.push(t as i64 * 86_400, c, c + 0.05, c - 0.05, c, 1.0, 0);
    }
    let close_vs = |op: &str| json!({"op": op, "left": "close", "right": sma(2)});
    let (gt, lt) = signals(&bars, close_vs("gt"), close_vs("lt"));
    let (ge, le) = signals(&bars, close_vs("ge"), close_vs("le"));
    let m = indicators::sma(&bars.close, 2).unwrap();
    let mut noisy = 0;
    for t in 1..300 {
        // close vs (close + previous close) / 2 is the sign of this bar's move, in ticks.
        let step = ticks[t] - ticks[t - 1];
        if chosen.contains(&t) {
            assert_eq!(step, 0);
            noisy += usize::from(m[t] != bars.close[t]);
        }
        let want = (step > 0, step < 0, step >= 0, step <= 0);
        assert_eq!((gt[t], lt[t], ge[t], le[t]), want, "bar {t}");
    }
    assert!(
        noisy > 0,
        "no chosen tie carries rounding: the test would prove nothing"
    );
}
