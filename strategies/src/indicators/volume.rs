//! Volume indicators: OBV, MFI and session VWAP.

use super::{check_period, check_same_len, is_zero_scaled, with_lookback, Result};

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
    let typical = |i: usize| (high[i] + low[i] + close[i]) / 3.0;
    // Ring buffers of each bar's positive and negative flow, so the bar leaving the window can
    // be subtracted from the running sums.
    let mut positive = vec![0.0; period];
    let mut negative = vec![0.0; period];
    let (mut pos_sum, mut neg_sum) = (0.0, 0.0);
    // Consecutive bars without flow: once a whole window has none, the sums are exactly zero
    // and TA-Lib resets them to drop add-then-subtract rounding residue.
    let mut null_run = 0;
    let mut prev = typical(0);
    let mut out = with_lookback(len, period);
    for (today, &bar_volume) in volume.iter().enumerate().skip(1) {
        let slot = (today - 1) % period;
        if today > period {
            pos_sum -= positive[slot];
            neg_sum -= negative[slot];
        }
        let tp = typical(today);
        let change = tp - prev;
        let scale = tp.abs() + prev.abs();
        prev = tp;
        let flow = if is_zero_scaled(change, scale) {
            0.0
        } else {
            tp * bar_volume
        };
        let (pos, neg) = if change < 0.0 {
            (0.0, flow)
        } else {
            (flow, 0.0)
        };
        positive[slot] = pos;
        negative[slot] = neg;
        pos_sum += pos;
        neg_sum += neg;
        null_run = if flow == 0.0 { null_run + 1 } else { 0 };
        if null_run >= period {
            null_run = period;
            pos_sum = 0.0;
            neg_sum = 0.0;
        }
        if today >= period {
            // Rounding residue can push a near-zero sum slightly negative; TA-Lib clamps the
            // numerator into [0, total] so the index stays within 0..=100.
            let total = pos_sum + neg_sum;
            out.push(if total <= 0.0 || pos_sum < 0.0 {
                0.0
            } else {
                100.0 * (pos_sum.min(total) / total)
            });
        }
    }
    Ok(out)
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
