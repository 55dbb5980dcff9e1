//! The parameter grid: each parameter's values, and their Cartesian product.
//!
//! Ranges are expanded on an integer lattice, so a `0.1` step gives exactly the literals
//! `0.1, 0.2, ... 1.0` instead of the drifting sums `0.30000000000000004, ...`: with `d` the
//! number of decimal places of `min` and `step`, value `i` is `(min·10^d + i·step·10^d) / 10^d`,
//! an exact integer divided by an exact power of ten, which IEEE division rounds to the same
//! double as the decimal literal.

use super::SweepError;

/// Grids larger than this are refused unless the caller raises the cap.
pub const DEFAULT_MAX_COMBINATIONS: usize = 1_000_000;

/// How far (in parameter units) `max` may sit off the lattice and still be included.
const ON_GRID: f64 = 1e-9;

/// Largest integer an `f64` holds exactly; lattice points must stay below it.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// One swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// `min, min + step, ...` up to `max` (included when on the lattice, within 1e-9).
    Range {
        /// The parameter's name, as the strategy spells it.
        key: String,
        /// First value.
        min: f64,
        /// Last value, included when it lies on the lattice.
        max: f64,
        /// Distance between values, above zero.
        step: f64,
    },
    /// These values, in this order.
    List {
        /// The parameter's name, as the strategy spells it.
        key: String,
        /// The values, in order.
        values: Vec<f64>,
    },
}

/// The command-line spelling [`Param::parse`] reads: `KEY=MIN:MAX:STEP` or `KEY=V1,V2,...`.
impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Param::Range {
                key,
                min,
                max,
                step,
            } => write!(f, "{key}={min}:{max}:{step}"),
            Param::List { key, values } => {
                let values: Vec<String> = values.iter().map(f64::to_string).collect();
                write!(f, "{key}={}", values.join(","))
            }
        }
    }
}

impl Param {
    /// `Param::Range` from a key and its `min`, `max` and `step`.
    pub fn range(key: &str, min: f64, max: f64, step: f64) -> Param {
        Param::Range {
            key: key.into(),
            min,
            max,
            step,
        }
    }

    /// Parses the command-line spelling of a parameter, `KEY=MIN:MAX:STEP` or `KEY=V1,V2,...`
    /// (a single value is a one-value list).
    pub fn parse(text: &str) -> Result<Param, String> {
        let (key, spec) = text
            .split_once('=')
            .ok_or("expected KEY=MIN:MAX:STEP or KEY=V1,V2,...")?;
        let key = key.trim().to_string();
        let num = |s: &str| -> Result<f64, String> {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{key}: `{s}` is not a number"))
        };
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.as_slice() {
            [min, max, step] => Ok(Param::Range {
                min: num(min)?,
                max: num(max)?,
                step: num(step)?,
                key,
            }),
            [list] => Ok(Param::List {
                values: list.split(',').map(num).collect::<Result<_, _>>()?,
                key,
            }),
            _ => Err(format!(
                "{key}: `{spec}` is neither MIN:MAX:STEP nor a comma-separated list"
            )),
        }
    }

    fn key(&self) -> &str {
        match self {
            Param::Range { key, .. } | Param::List { key, .. } => key,
        }
    }
}

/// The expanded grid. Combination `i` takes its values in mixed radix: the **first** key varies
/// slowest and the last fastest (like nested `for` loops written in key order).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    keys: Vec<String>,
    values: Vec<Vec<f64>>,
    total: usize,
}

impl Grid {
    /// Expands `params` under the default cap of [`DEFAULT_MAX_COMBINATIONS`].
    pub fn new(params: &[Param]) -> Result<Grid, SweepError> {
        Grid::with_cap(params, DEFAULT_MAX_COMBINATIONS)
    }

    /// Expands `params`, refusing grids of more than `cap` combinations (before allocating them).
    pub fn with_cap(params: &[Param], cap: usize) -> Result<Grid, SweepError> {
        let mut keys: Vec<String> = Vec::with_capacity(params.len());
        let mut count: u128 = 1;
        for p in params {
            let key = p.key();
            if key.trim().is_empty() {
                return Err(param_error(key, "the key is empty"));
            }
            if keys.iter().any(|k| k == key) {
                return Err(param_error(key, "the key appears more than once"));
            }
            let n = match p {
                Param::Range { min, max, step, .. } => range_len(key, *min, *max, *step)?,
                Param::List { values, .. } => check_list(key, values)?,
            };
            count = count.saturating_mul(n);
            keys.push(key.to_string());
        }
        if count > cap as u128 {
            return Err(SweepError::TooManyCombinations { count, cap });
        }
        let values = params
            .iter()
            .map(|p| match p {
                Param::Range {
                    key,
                    min,
                    max,
                    step,
                } => expand(key, *min, *max, *step),
                Param::List { values, .. } => Ok(values.clone()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let total = values.iter().map(Vec::len).product();
        Ok(Grid {
            keys,
            values,
            total,
        })
    }

    /// Parameter keys in grid order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Each parameter's values, in grid order.
    pub fn values(&self) -> &[Vec<f64>] {
        &self.values
    }

    /// Number of combinations (the product of the value counts; 1 for an empty grid).
    pub fn total_combinations(&self) -> usize {
        self.total
    }

    /// Values of combination `index` (`< total_combinations()`), one per key.
    pub fn combination(&self, index: usize) -> Vec<f64> {
        let mut out = vec![0.0; self.values.len()];
        let mut rest = index;
        for (slot, vals) in out.iter_mut().zip(&self.values).rev() {
            *slot = vals[rest % vals.len()];
            rest /= vals.len();
        }
        out
    }

    /// Combination `index` as `(key, value)` pairs in key order.
    pub fn params(&self, index: usize) -> Vec<(String, f64)> {
        self.keys
            .iter()
            .cloned()
            .zip(self.combination(index))
            .collect()
    }
}

fn param_error(key: &str, problem: impl Into<String>) -> SweepError {
    SweepError::Param {
        key: key.to_string(),
        problem: problem.into(),
    }
}

/// Number of values of a range, after checking it.
fn range_len(key: &str, min: f64, max: f64, step: f64) -> Result<u128, SweepError> {
    for (name, v) in [("min", min), ("max", max), ("step", step)] {
        if !v.is_finite() {
            return Err(param_error(
                key,
                format!("{name} is {v}; expected a number"),
            ));
        }
    }
    if step <= 0.0 {
        return Err(param_error(key, format!("step {step} must be above 0")));
    }
    if min > max {
        return Err(param_error(key, format!("min {min} is above max {max}")));
    }
    // `as` saturates, so an absurd span still gives a (huge) count for the cap check. The
    // division may round up across a lattice point when `max` sits just below it: step back.
    let n = (((max - min + ON_GRID) / step).floor() as u128).saturating_add(1);
    let overshoots = n > 1 && min + (n - 1) as f64 * step > max + ON_GRID;
    Ok(if overshoots { n - 1 } else { n })
}

fn check_list(key: &str, values: &[f64]) -> Result<u128, SweepError> {
    if values.is_empty() {
        return Err(param_error(key, "the value list is empty"));
    }
    if let Some(v) = values.iter().find(|v| !v.is_finite()) {
        return Err(param_error(key, format!("value {v} is not a number")));
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(param_error(key, format!("value {v} is listed twice")));
        }
    }
    Ok(values.len() as u128)
}

/// Decimal places in the shortest round-trip form of `x` (`0.1` → 1, `25` → 0).
fn decimals(x: f64) -> i32 {
    let s = x.abs().to_string();
    s.split_once('.').map_or(0, |(_, frac)| frac.len() as i32)
}

/// The range's values on the exact decimal lattice (see the module docs).
fn expand(key: &str, min: f64, max: f64, step: f64) -> Result<Vec<f64>, SweepError> {
    let n = range_len(key, min, max, step)? as usize;
    let scale = 10f64.powi(decimals(min).max(decimals(step)));
    let (min_k, step_k) = ((min * scale).round(), (step * scale).round());
    let last_k = min_k + (n - 1) as f64 * step_k;
    if scale > 1e15 || min_k.abs() >= EXACT_INT || last_k.abs() >= EXACT_INT {
        return Err(param_error(
            key,
            "min and step have too many significant digits to step exactly; give a value list",
        ));
    }
    Ok((0..n)
        .map(|i| (min_k + i as f64 * step_k) / scale)
        .collect())
}
