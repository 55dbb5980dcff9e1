//! What the overfitting guards ([`dsr`](super::dsr), [`pbo`](super::pbo),
//! [`walkforward`](super::walkforward)) share: their error type and the sample moments of a
//! return series.

use crate::window::Window;

/// Why an overfitting guard could not be computed. Input problems name the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GuardError {
    /// An input the guard cannot use, e.g. too few returns or an odd number of blocks.
    #[error("`{field}`: {problem}")]
    Invalid {
        /// The input, as the caller names it.
        field: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// No combination met the constraints with a non-null objective in a fold's in-sample
    /// window, so nothing can be tested out of sample.
    #[error("fold {fold}: no combination met the constraints in the in-sample window {window}")]
    NothingChosen {
        /// The fold, 0-based.
        fold: usize,
        /// Its in-sample window.
        window: Window,
    },
    /// The evaluator failed on a fold's out-of-sample window.
    #[error("fold {fold}: the out-of-sample backtest on {window} failed: {reason}")]
    Evaluation {
        /// The fold, 0-based.
        fold: usize,
        /// Its out-of-sample window.
        window: Window,
        /// The evaluator's error.
        reason: String,
    },
}

impl GuardError {
    pub(crate) fn invalid(field: &str, problem: impl Into<String>) -> Self {
        GuardError::Invalid {
            field: field.to_string(),
            problem: problem.into(),
        }
    }
}

/// Count, mean and sum of squared deviations (`M2`) of a sample. Two samples merge exactly
/// enough for ranking (Chan, Golub & LeVeque 1979), so a union of blocks never needs a pass
/// over the raw values again.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Moments {
    pub n: usize,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    /// Two-pass moments of `x` (mean first, then squared deviations from it).
    pub fn of(x: &[f64]) -> Moments {
        let n = x.len();
        let mean = x.iter().sum::<f64>() / n as f64;
        let m2 = x.iter().map(|v| (v - mean).powi(2)).sum();
        Moments { n, mean, m2 }
    }

    /// Moments of the union of the two samples.
    pub fn merge(self, other: Moments) -> Moments {
        if self.n == 0 {
            return other;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        let share = other.n as f64 / n as f64;
        Moments {
            n,
            mean: self.mean + delta * share,
            m2: self.m2 + other.m2 + delta * delta * self.n as f64 * share,
        }
    }

    /// Non-annualised Sharpe ratio: mean / sample standard deviation (n − 1). A sample with no
    /// spread has ratio 0 when its mean is 0 and ±∞ otherwise, so ranks stay defined.
    pub fn sharpe(self) -> f64 {
        let sd = (self.m2 / (self.n as f64 - 1.0)).sqrt();
        if sd > 0.0 {
            self.mean / sd
        } else if self.mean == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(self.mean)
        }
    }
}

/// Checks that `values` are all finite, naming the first bad one.
pub(crate) fn check_finite(field: &str, values: &[f64]) -> Result<(), GuardError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(GuardError::invalid(
            field,
            format!("value {i} is {}; expected a finite number", values[i]),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_moments_equal_the_moments_of_the_union() {
        let (a, b) = ([1.0, 4.0, -2.0], [3.0, 0.5]);
        let m = Moments::of(&a).merge(Moments::of(&b));
        // Union 1, 4, -2, 3, 0.5: mean 6.5 / 5 = 1.3; squared deviations sum to 21.8.
        assert_eq!(m.n, 5);
        assert!((m.mean - 1.3).abs() < 1e-15);
        assert!((m.m2 - 21.8).abs() < 1e-12);
        assert!((m.sharpe() - 1.3 / (21.8f64 / 4.0).sqrt()).abs() < 1e-14);
        assert_eq!(Moments::of(&[0.0, 0.0]).sharpe(), 0.0);
        assert_eq!(Moments::of(&[-1.0, -1.0]).sharpe(), f64::NEG_INFINITY);
    }
}
