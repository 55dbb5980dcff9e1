//! The Deflated Sharpe Ratio (Bailey & López de Prado, "The Deflated Sharpe Ratio: Correcting
//! for Selection Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio
//! Management 40(5), 2014).
//!
//! The best of N backtests has a high Sharpe ratio partly by luck. The DSR is the probability
//! that its true Sharpe ratio is above the one the best of N *worthless* strategies would be
//! expected to show, given how widely the N trials' Sharpe ratios spread, how many returns there
//! are, and how skewed and fat-tailed they are. Formulas, and the returns settle feeds in, are in
//! `docs/METRICS.md` ("Overfitting guards").
//!
//! Every Sharpe ratio here is **per period** (daily, not annualised): the formulas are stated
//! for the frequency of the returns. Divide `sharpeRatio` by √252 to get one.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::moments::{check_finite, GuardError, Moments};
use super::result::SweepResult;
use crate::metrics::TRADING_DAYS;

/// The Euler–Mascheroni constant γ of the expected-maximum formula.
pub const EULER_MASCHERONI: f64 = 0.577_215_664_901_532_9;

/// What the Probabilistic Sharpe Ratio needs to know about one strategy's returns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnStats {
    /// T, the number of returns.
    pub observations: usize,
    /// Mean / sample standard deviation (n − 1), per period.
    pub sharpe: f64,
    /// Third central moment / σ³, with population moments (divided by T).
    pub skewness: f64,
    /// Fourth central moment / σ⁴, population moments; **not** excess (a normal gives 3).
    pub kurtosis: f64,
}

impl ReturnStats {
    /// The statistics of `returns` (at least two, finite, not all equal).
    pub fn from_returns(returns: &[f64]) -> Result<ReturnStats, GuardError> {
        check_finite("returns", returns)?;
        if returns.len() < 2 {
            return Err(GuardError::invalid(
                "returns",
                format!("{} values; a Sharpe ratio needs at least 2", returns.len()),
            ));
        }
        let m = Moments::of(returns);
        if m.m2 == 0.0 {
            return Err(GuardError::invalid(
                "returns",
                "every return is the same, so the Sharpe ratio is undefined",
            ));
        }
        let t = returns.len() as f64;
        let central = |k: i32| returns.iter().map(|r| (r - m.mean).powi(k)).sum::<f64>() / t;
        let var = m.m2 / t;
        Ok(ReturnStats {
            observations: returns.len(),
            sharpe: m.sharpe(),
            skewness: central(3) / var.powf(1.5),
            kurtosis: central(4) / (var * var),
        })
    }

    /// PSR(SR*): the probability that the true per-period Sharpe ratio exceeds `benchmark`,
    /// `Φ((SR − SR*)·√(T − 1) / √(1 − γ₃·SR + (γ₄ − 1)/4·SR²))`.
    pub fn probabilistic_sharpe(&self, benchmark: f64) -> f64 {
        let sr = self.sharpe;
        // Pearson's inequality γ₄ ≥ γ₃² + 1 keeps this non-negative; it is 0 only for a
        // two-valued sample, where the ratio's spread is truly 0.
        let spread = (1.0 - self.skewness * sr + (self.kurtosis - 1.0) / 4.0 * sr * sr).max(0.0);
        let z = (sr - benchmark) * ((self.observations - 1) as f64).sqrt() / spread.sqrt();
        if z.is_nan() {
            return 0.5;
        }
        Normal::standard().cdf(z)
    }
}

/// The DSR of the best strategy of a sweep, with everything it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeflatedSharpe {
    /// The best strategy's returns, summarised.
    pub best: ReturnStats,
    /// N, the number of trials.
    pub trials: usize,
    /// V, the sample variance (n − 1) of the trials' per-period Sharpe ratios (0 for one trial).
    pub trial_sharpe_variance: f64,
    /// SR₀, the expected maximum per-period Sharpe ratio of N trials with no skill.
    pub expected_max_sharpe: f64,
    /// PSR(0): the probability that the best's true Sharpe ratio is above zero, ignoring
    /// that it was selected.
    pub probabilistic_sharpe: f64,
    /// DSR = PSR(SR₀).
    pub deflated_sharpe: f64,
}

/// `E[max SR] ≈ √V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))` for N ≥ 2 trials whose Sharpe
/// ratios have variance V; 0 for a single trial (nothing was selected).
pub fn expected_max_sharpe(trials: usize, variance: f64) -> f64 {
    if trials < 2 {
        return 0.0;
    }
    let n = trials as f64;
    let z = Normal::standard();
    let g = EULER_MASCHERONI;
    variance.sqrt()
        * ((1.0 - g) * z.inverse_cdf(1.0 - 1.0 / n)
            + g * z.inverse_cdf(1.0 - 1.0 / (n * std::f64::consts::E)))
}

/// The DSR of the strategy whose per-period returns are `best_returns`, selected among trials
/// whose per-period Sharpe ratios are `trial_sharpes` (the best's own included).
pub fn deflated_sharpe(
    best_returns: &[f64],
    trial_sharpes: &[f64],
) -> Result<DeflatedSharpe, GuardError> {
    check_finite("trialSharpes", trial_sharpes)?;
    if trial_sharpes.is_empty() {
        return Err(GuardError::invalid(
            "trialSharpes",
            "no trials; the best of nothing has no Sharpe ratio",
        ));
    }
    let best = ReturnStats::from_returns(best_returns)?;
    let trials = trial_sharpes.len();
    let variance = if trials < 2 {
        0.0
    } else {
        Moments::of(trial_sharpes).m2 / (trials - 1) as f64
    };
    let expected = expected_max_sharpe(trials, variance);
    Ok(DeflatedSharpe {
        best,
        trials,
        trial_sharpe_variance: variance,
        expected_max_sharpe: expected,
        probabilistic_sharpe: best.probabilistic_sharpe(0.0),
        deflated_sharpe: best.probabilistic_sharpe(expected),
    })
}

/// The per-period Sharpe ratio of every finished combination with a non-null `sharpeRatio`
/// (`sharpeRatio / √252`), in combination order: the trials of [`deflated_sharpe`]. Failed
/// combinations have no Sharpe ratio and are not counted; constraints are not applied, since
/// a combination that was tried and rejected was still a trial.
pub fn trial_sharpes(sweep: &SweepResult) -> Vec<f64> {
    sweep
        .rows
        .iter()
        .filter_map(|row| row.metrics.sharpe_ratio)
        .map(|s| s / TRADING_DAYS.sqrt())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numerical example of Bailey & López de Prado (2014), section 5: 100 trials, best
    /// annualised SR 2.5 and trial variance 1/2 (annualised, 250 days a year), five years of
    /// daily returns with skewness −3 and kurtosis 10. The paper gets E[max SR] ≈ 0.1132 and
    /// DSR ≈ 0.9004.
    #[test]
    fn reproduces_the_papers_example() {
        let best = ReturnStats {
            observations: 1250,
            sharpe: 2.5 / 250f64.sqrt(),
            skewness: -3.0,
            kurtosis: 10.0,
        };
        let sr0 = expected_max_sharpe(100, 0.5 / 250.0);
        assert!((sr0 - 0.1132).abs() < 5e-5, "{sr0}");
        let dsr = best.probabilistic_sharpe(sr0);
        assert!((dsr - 0.9004).abs() < 5e-5, "{dsr}");
    }

    #[test]
    fn moments_of_a_small_sample_by_hand() {
        // 1, 2, 3, 6: mean 3, deviations -2 -1 0 3; Σd² 14, Σd³ 18, Σd⁴ 98.
        let s = ReturnStats::from_returns(&[1.0, 2.0, 3.0, 6.0]).unwrap();
        assert_eq!(s.observations, 4);
        assert!((s.sharpe - 3.0 / (14.0f64 / 3.0).sqrt()).abs() < 1e-15);
        let var = 14.0 / 4.0;
        assert!((s.skewness - 18.0 / 4.0 / f64::powf(var, 1.5)).abs() < 1e-15);
        assert!((s.kurtosis - 98.0 / 4.0 / (var * var)).abs() < 1e-15);
        // Benchmark equal to the estimate: exactly even odds.
        assert_eq!(s.probabilistic_sharpe(s.sharpe), 0.5);
    }

    #[test]
    fn one_trial_is_not_deflated_and_bad_inputs_name_the_field() {
        let r = [0.01, -0.005, 0.002, 0.007, -0.001];
        let d = deflated_sharpe(&r, &[0.3]).unwrap();
        assert_eq!(d.expected_max_sharpe, 0.0);
        assert_eq!(d.deflated_sharpe, d.probabilistic_sharpe);
        for (returns, trials, field) in [
            (&r[..1], &[0.1][..], "`returns`"),
            (&[0.01, 0.01][..], &[0.1][..], "`returns`"),
            (&[0.01, f64::NAN][..], &[0.1][..], "`returns`"),
            (&r[..], &[][..], "`trialSharpes`"),
            (&r[..], &[0.1, f64::INFINITY][..], "`trialSharpes`"),
        ] {
            let msg = deflated_sharpe(returns, trials).unwrap_err().to_string();
            assert!(msg.starts_with(field), "{msg}");
        }
    }
}
