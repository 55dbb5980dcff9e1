//! Volume indicators: OBV, MFI and session VWAP.

use super::{append, check_period, check_same_len, is_zero_scaled, with_lookback, Result};

/// On-balance volume, TA-Lib's `OBV`: starts at the first bar's volume, then adds the volume of
/// an up-close bar and subtracts that of a down-close bar. Lookback 0.
pub fn obv(close: &[f64], volume: &[f64]) -> Result<Vec<f64>> {
    check_same_len(&[("close", close), ("volume", volume)])?;
    let Some((&first_volume, _)) = volume.split_first() else {
        return Ok(Vec::new());
    };
    let mut total = first_volume;
    let mut prev_close = close[0];
    Ok(close
        .iter()
        .zip(volume)
        .map(|(&c, &v)| {
            if c > prev_close {
                total += v;
            } else if c < prev_close {
                total -= v;
            }
            prev_close = c;
            total
        })
        .collect())
}

/// Money flow index, TA-Lib's `MFI` (0.8 semantics): over `period` bars, the share of money flow
/// (`typical price · volume`) on bars whose typical price rose, in percent. A typical price that
/// moved by less than TA-Lib's scaled epsilon counts as unchanged (no flow); a window without
/// any flow gives 0. Lookback `period`; period range `2..=100000`.
pub fn mfi(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    period: usize,
) -> Result<Vec<f64>> {
    let len = check_same_len(&[
        ("high", high),
        ("low", low),
        ("close", close),
        ("volume", volume),
    ])?;
    check_period("period", period, 2)?;
    if len <= period {
        return Ok(vec![f64::NAN; len]);
    }
    // Ring buffers of each bar's positive and negative flow, so the bar leaving the window can
    // be subtracted from the running sums.
    let mut positive = vec![0.0; period];
    let mut negative = vec![0.0; period];
    let (mut pos_sum, mut neg_sum) = (0.0, 0.0);
    // Consecutive bars without flow: once a whole window has none, the sums are exactly zero
    // and TA-Lib resets them to drop add-then-subtract rounding residue.
    let mut null_run = 0;
    let mut out = with_lookback(len, period);
    // Bars are taken a chunk at a time: the typical prices and flows of a chunk in one pass
    // and the indices of its windows in another, both of which vectorize (a division a bar
    // each), around the running sums, which cannot.
    let mut flows = Flows::default();
    let mut sums = [[0.0; 2]; CHUNK];
    let mut prev = typical(high[0], low[0], close[0]);
    let mut slot = 0;
    let mut start = 1;
    while start < len {
        let end = (start + CHUNK).min(len);
        let r = start..end;
        let bars = Bars {
            high: &high[r.clone()],
            low: &low[r.clone()],
            close: &close[r.clone()],
            volume: &volume[r],
        };
        prev = flows_of(&mut flows, bars, prev);
        let mut windows = 0;
        for (i, (&pos, &neg)) in flows
            .pos
            .iter()
            .zip(&flows.neg)
            .take(end - start)
            .enumerate()
        {
            let today = start + i;
            if today > period {
                pos_sum -= positive[slot];
                neg_sum -= negative[slot];
            }
            positive[slot] = pos;
            negative[slot] = neg;
            slot = if slot + 1 == period { 0 } else { slot + 1 };
            pos_sum += pos;
            neg_sum += neg;
            // No flow: the bar's flow is zero (one of the two is the flow, the other 0).
            null_run = if pos == 0.0 && neg == 0.0 {
                null_run + 1
            } else {
                0
            };
            if null_run >= period {
                null_run = period;
                pos_sum = 0.0;
                neg_sum = 0.0;
            }
            if today >= period {
                sums[windows] = [pos_sum, neg_sum];
                windows += 1;
            }
        }
        index_into(&mut out, &sums[..windows]);
        start = end;
    }
    Ok(out)
}

/// Bars [`mfi`] takes at a time.
const CHUNK: usize = 256;

/// TA-Lib's typical price.
#[inline(always)]
fn typical(high: f64, low: f64, close: f64) -> f64 {
    (high + low + close) / 3.0
}

/// A chunk of bars for [`flows_of`].
#[derive(Clone, Copy)]
struct Bars<'a> {
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
    volume: &'a [f64],
}

/// The positive and negative money flow of each bar of a chunk.
struct Flows {
    /// Typical prices, the one before the chunk first.
    typical: [f64; CHUNK + 1],
    pos: [f64; CHUNK],
    neg: [f64; CHUNK],
}

impl Default for Flows {
    fn default() -> Self {
        Flows {
            typical: [0.0; CHUNK + 1],
            pos: [0.0; CHUNK],
            neg: [0.0; CHUNK],
        }
    }
}

fused_fn! {
    /// The flows of `bars` (at most [`CHUNK`]) into `f`, `prev` the typical price of the bar
    /// before; returns the last bar's typical price. A typical price that moved by less than
    /// TA-Lib's scaled epsilon has no flow; a fall's flow is negative money flow, anything
    /// else's positive. Compiled twice: four divisions to an instruction where the CPU has
    /// AVX2.
    fn flows_of(f: &mut Flows, bars: Bars, prev: f64) -> f64 {
        let n = bars.high.len();
        let Bars {
            high,
            low,
            close,
            volume,
        } = bars;
        let (high, low, close, volume) = (&high[..n], &low[..n], &close[..n], &volume[..n]);
        f.typical[0] = prev;
        for (i, tp) in f.typical[1..=n].iter_mut().enumerate() {
            *tp = typical(high[i], low[i], close[i]);
        }
        let tps = &f.typical[..=n];
        let moves = tps.windows(2).zip(volume);
        for ((pos, neg), (pair, &bar_volume)) in f.pos.iter_mut().zip(&mut f.neg).zip(moves) {
            let (before, tp) = (pair[0], pair[1]);
            let change = tp - before;
            let flow = if is_zero_scaled(change, tp.abs() + before.abs()) {
                0.0
            } else {
                tp * bar_volume
            };
            (*pos, *neg) = if change < 0.0 { (0.0, flow) } else { (flow, 0.0) };
        }
        tps[n]
    }
}

fused_fn! {
    /// Appends the index of each window from its sums of positive and negative flow. Rounding
    /// residue can push a near-zero sum slightly negative; TA-Lib clamps the numerator into
    /// `[0, total]` so the index stays within `0..=100`.
    fn index_into(out: &mut Vec<f64>, sums: &[[f64; 2]]) {
        append(out, sums.len(), |i| {
            let [pos_sum, neg_sum] = sums[i];
            let total = pos_sum + neg_sum;
            if total <= 0.0 || pos_sum < 0.0 {
                0.0
            } else {
                100.0 * (pos_sum.min(total) / total)
            }
        });
    }
}

/// Session VWAP (not in TA-Lib): the running `Σ typical price · volume / Σ volume` since the
/// start of the bar's session, with typical price `(high + low + close) / 3`. `new_session[i]`
/// marks the first bar of a session (bar 0 always starts one; [`session_starts`] builds the
/// flags from session ids). While a session has traded no volume yet the value is NaN.
/// Lookback 0.
pub fn vwap(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    new_session: &[bool],
) -> Result<Vec<f64>> {
    let len = check_same_len(&[
        ("high", high),
        ("low", low),
        ("close", close),
        ("volume", volume),
    ])?;
    if new_session.len() != len {
        return Err(super::IndicatorError::LengthMismatch {
            name: "new_session",
            len: new_session.len(),
            reference: "high",
            expected: len,
        });
    }
    let (mut price_volume, mut total_volume) = (0.0, 0.0);
    Ok((0..len)
        .map(|i| {
            if new_session[i] {
                price_volume = 0.0;
                total_volume = 0.0;
            }
            let typical = (high[i] + low[i] + close[i]) / 3.0;
            price_volume += typical * volume[i];
            total_volume += volume[i];
            if total_volume > 0.0 {
                price_volume / total_volume
            } else {
                f64::NAN
            }
        })
        .collect())
}

/// Session-start flags for [`vwap`] from one session id per bar: a bar starts a session when it
/// is the first bar or its id differs from the previous bar's.
pub fn session_starts<T: PartialEq>(ids: &[T]) -> Vec<bool> {
    (0..ids.len())
        .map(|i| i == 0 || ids[i] != ids[i - 1])
        .collect()
}
