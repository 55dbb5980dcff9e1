//! Technical indicators with TA-Lib's exact semantics.
//!
//! Every TA-Lib function here reproduces the C library bundled with the Python `TA-Lib` 0.8.2
//! package (C version 0.8.1): the same lookback, the same operation order inside running sums
//! and Wilder smoothing, the same guards against division by zero (including 0.8's scaled
//! epsilon tests), and TA-Lib's defaults: unstable period 0, classic (non-Metastock)
//! compatibility, EMA seeded with the SMA of its first `period` inputs. The parity test
//! `strategies/tests/talib_parity.rs` checks each function against TA-Lib itself on real CL and
//! 6E bars: identical NaN positions and values within 1e-9 relative (1e-10 absolute near 0).
//! Every function but KAMA performs TA-Lib 0.8's operations in TA-Lib's order, so the values
//! are TA-Lib's bit for bit: O(n) running sums with TA-Lib's own re-summing rules (WMA, VAR,
//! LINEARREG_SLOPE), multiplications by a reciprocal where TA-Lib multiplies (RSI), and a fused
//! multiply-add (`mul_add`, C's `fma`) wherever TA-Lib calls `fma` (EMA and everything built on
//! it, ATR, the upper Bollinger band).
//!
//! # Output shape
//!
//! Each function takes plain slices and returns one `Vec<f64>` per output, **as long as the
//! input**. The first `lookback` values are NaN, exactly where TA-Lib's Python wrapper puts NaN;
//! when the input is not longer than the lookback the whole output is NaN (an empty input gives
//! an empty output). Multi-output indicators return a small struct of vectors.
//!
//! # Parameters
//!
//! Parameters are validated against TA-Lib's own ranges (for example `sma` accepts
//! `1..=100_000`, `rsi` `2..=100_000`) and a violation is an [`IndicatorError`] naming the
//! parameter; slices that must line up (high/low/close/volume) must have equal lengths. No
//! function panics on any parameter or input.
//!
//! # NaN inputs
//!
//! Inputs are expected to be finite (imported bars never contain NaN). A NaN is not rejected: it
//! flows through the arithmetic as in TA-Lib's C code, so every indicator built on a running sum
//! or a recursive smoother (SMA, EMA, RSI, ATR, ADX, OBV, ...) outputs NaN from the NaN onwards,
//! and window indicators (MAX, MIN, WILLR, STOCH, CCI) give NaN or an unspecified value for the
//! windows containing it. TA-Lib's Python wrapper additionally skips *leading* NaNs before
//! calling C; these functions do not.
//!
//! Two indicators are not in TA-Lib and are defined in their own docs: [`vwap`] (session VWAP)
//! and [`keltner`] (Keltner channels).

/// Defines a function whose body is compiled twice: as written for baseline x86-64, and in a
/// clone built with the CPU's fused multiply-add and AVX2 instructions, which runs when the CPU
/// has them (AVX2 widens the loops that vectorize, e.g. NATR's divisions, four values to an
/// instruction; vector or scalar, each operation rounds the same).
/// TA-Lib 0.8 computes EMA, DEMA, TEMA, MACD and ATR steps with C's `fma`, and settle's
/// `mul_add` gives the same bits; but a baseline build turns each `mul_add` into a call through
/// a runtime dispatch (43 % of TEMA's time), where TA-Lib's library uses one inline
/// instruction. The result is the same either way: `fma` rounds once, in hardware or not.
///
/// Passes of one division a value (MFI's flows and index, WILLR's and %K's last pass) and the
/// exact crosses of the rule language (`rules::exact`) use it for the AVX2 width alone.
///
/// The body becomes an `#[inline(always)]` function that the clone calls, so all of it is
/// compiled with the feature. Keep iterator adapters out of the hot loop: a closure that LLVM
/// chooses not to inline (a large `Map::fold`) is compiled without it and calls `fma` again.
macro_rules! fused_fn {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                fn with_fma($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has the `avx2` and `fma` features, checked just above.
                    return unsafe { with_fma($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use fused_fn;

mod ma;
mod momentum;
mod stats;
mod trend;
mod volatility;
mod volume;

pub use ma::{dema, ema, kama, ma, sma, tema, wma, MaType};
pub use momentum::{
    cci, macd, mom, roc, rsi, stoch, stochrsi, willr, Macd, Stoch, StochParams, StochRsi,
};
pub use stats::{linearreg_slope, max, min, stddev};
pub use trend::{adx, minus_di, plus_di};
pub use volatility::{atr, bbands, keltner, natr, trange, Bands};
pub use volume::{mfi, obv, session_starts, vwap};

/// Why an indicator could not be computed. Every variant names the offending parameter or input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndicatorError {
    /// An integer parameter (a period) is outside TA-Lib's accepted range.
    #[error("{name} must be between {min} and {max}, got {value}")]
    PeriodOutOfRange {
        /// The parameter, e.g. `period`.
        name: &'static str,
        /// The value given.
        value: usize,
        /// Smallest value accepted.
        min: usize,
        /// Largest value accepted.
        max: usize,
    },
    /// A real parameter (a band width or multiplier) is NaN, infinite or beyond TA-Lib's ±3e37.
    #[error("{name} must be a finite number within ±3e37, got {value}")]
    InvalidReal {
        /// The parameter, e.g. `nbdev`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// Two inputs that describe the same bars have different lengths.
    #[error("input {name} has {len} values but {reference} has {expected}")]
    LengthMismatch {
        /// The input whose length differs, e.g. `high`.
        name: &'static str,
        /// Its length.
        len: usize,
        /// The input it is compared with.
        reference: &'static str,
        /// That input's length.
        expected: usize,
    },
}

/// Result of an indicator computation.
pub type Result<T> = std::result::Result<T, IndicatorError>;

/// TA-Lib's upper bound for every period parameter.
const MAX_PERIOD: usize = 100_000;

/// TA-Lib's `TA_IS_ZERO`: the band inside which a denominator is treated as zero.
fn is_zero(v: f64) -> bool {
    -TA_EPSILON < v && v < TA_EPSILON
}

/// TA-Lib's `TA_IS_ZERO_SCALED`: `v` is a difference of two numbers whose magnitudes sum to
/// `scale`, and counts as zero within a relative epsilon of that scale.
fn is_zero_scaled(v: f64, scale: f64) -> bool {
    v.abs() <= TA_EPSILON * scale
}

/// TA-Lib's `TA_EPSILON` (0.8.x; older releases used 1e-8).
const TA_EPSILON: f64 = 1e-14;

/// Checks `value` is within `min..=MAX_PERIOD`.
fn check_period(name: &'static str, value: usize, min: usize) -> Result<()> {
    if (min..=MAX_PERIOD).contains(&value) {
        Ok(())
    } else {
        Err(IndicatorError::PeriodOutOfRange {
            name,
            value,
            min,
            max: MAX_PERIOD,
        })
    }
}

/// Checks a real parameter the way TA-Lib does (finite, within ±3e37).
fn check_real(name: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value.abs() <= 3e37 {
        Ok(())
    } else {
        Err(IndicatorError::InvalidReal { name, value })
    }
}

/// Checks that every named slice has the length of the first one, and returns that length.
fn check_same_len(inputs: &[(&'static str, &[f64])]) -> Result<usize> {
    let Some(&(reference, first)) = inputs.first() else {
        return Ok(0);
    };
    for &(name, x) in &inputs[1..] {
        if x.len() != first.len() {
            return Err(IndicatorError::LengthMismatch {
                name,
                len: x.len(),
                reference,
                expected: first.len(),
            });
        }
    }
    Ok(first.len())
}

/// Turns TA-Lib's compact output (values for the last `compact.len()` bars only) into a vector
/// of `len` values with the leading NaNs TA-Lib's Python wrapper shows.
///
/// In place: the values move up inside the same allocation. Building a second vector instead
/// cost more than most indicators themselves (a fresh 8 MB per million bars, page faults
/// included), which is why the `*_raw` functions reserve the full length up front.
fn pad(len: usize, mut compact: Vec<f64>) -> Vec<f64> {
    let values = compact.len();
    let lead = len.saturating_sub(values);
    if lead > 0 {
        compact.resize(len, f64::NAN);
        compact.copy_within(0..values, lead);
        compact[..lead].fill(f64::NAN);
    }
    compact
}

/// An output of `len` values that starts with `lead` NaNs (the indicator's lookback), reserved
/// whole, for the values to be written after them: the indicator writes each value once, where
/// a compact vector would be grown and then moved up by [`pad`] (8 MB a million bars, and a
/// second allocation when the compact vector was collected to its own length).
fn with_lookback(len: usize, lead: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(len);
    out.resize(lead.min(len), f64::NAN);
    out
}

/// Appends `n` values to `out`, the `i`th being `next(i)`, in order. A loop of `push`es
/// writes the vector's length back to memory every value and reads it again for the next
/// (its header is behind a `&mut`), a chain through memory beside the indicator's own
/// recursion; here the slots are written and the length set once at the end.
#[inline(always)]
pub(crate) fn append(out: &mut Vec<f64>, n: usize, mut next: impl FnMut(usize) -> f64) {
    out.reserve(n);
    let len = out.len();
    for (i, slot) in out.spare_capacity_mut()[..n].iter_mut().enumerate() {
        slot.write(next(i));
    }
    // SAFETY: `reserve` made room for `n` more values and the loop wrote each of the `n`
    // slots after the old length (a panic in `next` leaves the length as it was).
    unsafe { out.set_len(len + n) };
}

/// Drops the first values of a compact output so it ends up `len` long, aligning an earlier
/// stage of a multi-stage indicator with its last stage.
fn tail(x: &[f64], len: usize) -> &[f64] {
    &x[x.len().saturating_sub(len)..]
}

#[cfg(test)]
mod tests;
