//! What a sweep returns: the table of finished combinations and views of it.

use serde::{Deserialize, Serialize};

use super::grid::Grid;
use super::objective::{check_metric, lookup, metric_names, metric_value, SweepSpec};
use super::SweepError;
use crate::Metrics;

/// A combination that evaluated. `params` holds one value per key of [`SweepResult::keys`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// Position in the grid's combination order.
    pub index: usize,
    /// Parameter values, one per key.
    pub params: Vec<f64>,
    /// The combination's backtest metrics.
    pub metrics: Metrics,
}

/// A combination whose evaluation returned an error or panicked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// Position in the grid's combination order.
    pub index: usize,
    /// Parameter values, one per key.
    pub params: Vec<f64>,
    /// The error message, or the panic's message.
    pub reason: String,
}

/// A result that meets the constraints, with its objective value and named parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ranked {
    /// Position in the grid's combination order.
    pub index: usize,
    /// `(key, value)` of every parameter, in grid order.
    pub params: Vec<(String, f64)>,
    /// The objective metric's value.
    pub objective: f64,
    /// The combination's backtest metrics.
    pub metrics: Metrics,
}

/// One metric over a two-parameter grid, for a heatmap: `z[iy][ix]` is the metric at
/// `(x_values[ix], y_values[iy])`; `None` where the combination failed, did not run
/// (cancelled) or the metric is `null`. Constraints are not applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Surface {
    /// The first grid key.
    pub x_key: String,
    /// The second grid key.
    pub y_key: String,
    /// The first key's values, the columns of `z`.
    pub x_values: Vec<f64>,
    /// The second key's values, the rows of `z`.
    pub y_values: Vec<f64>,
    /// `z[iy][ix]`: the metric at `(x_values[ix], y_values[iy])`.
    pub z: Vec<Vec<Option<f64>>>,
}

/// Outcome of [`run`](super::run()). Rows and failures are in combination order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepResult {
    /// Parameter keys in grid order (the first varies slowest).
    pub keys: Vec<String>,
    /// Each key's values in grid order.
    pub values: Vec<Vec<f64>>,
    /// The objective and constraints the rows were ranked by.
    pub spec: SweepSpec,
    /// Combinations in the grid.
    pub total_combinations: usize,
    /// Combinations finished, succeeded or failed (`rows.len() + failed_count`).
    pub completed: usize,
    /// Combinations whose evaluation failed (listed in `failures`).
    pub failed_count: usize,
    /// True when the sweep was cancelled before every combination finished.
    pub cancelled: bool,
    /// The best row meeting the constraints; ties go to the lowest combination index.
    pub best_result: Option<Ranked>,
    /// Every combination that evaluated, in combination order.
    pub rows: Vec<Row>,
    /// Every combination that failed, in combination order.
    pub failures: Vec<Failure>,
}

impl SweepResult {
    pub(crate) fn new(
        grid: &Grid,
        spec: SweepSpec,
        rows: Vec<Row>,
        failures: Vec<Failure>,
    ) -> SweepResult {
        let completed = rows.len() + failures.len();
        let mut out = SweepResult {
            keys: grid.keys().to_vec(),
            values: grid.values().to_vec(),
            spec,
            total_combinations: grid.total_combinations(),
            completed,
            failed_count: failures.len(),
            cancelled: completed < grid.total_combinations(),
            best_result: None,
            rows,
            failures,
        };
        out.best_result = out.top(1).into_iter().next();
        out
    }

    /// Up to `n` rows that traded, meet every constraint and have a non-null objective, best
    /// first; equal objective values keep combination order. A combination without a trade
    /// never ranks: its zero drawdown or zero P&L would beat every real strategy.
    pub fn top(&self, n: usize) -> Vec<Ranked> {
        let spec = &self.spec;
        let mut scored: Vec<(f64, &Row)> = self
            .rows
            .iter()
            .filter(|row| row.metrics.trade_count > 0)
            .filter_map(|row| {
                let m = serde_json::to_value(&row.metrics).ok()?;
                let ok = spec
                    .constraints
                    .iter()
                    .all(|c| c.holds(lookup(&m, &c.metric)));
                ok.then(|| lookup(&m, &spec.objective.metric))
                    .flatten()
                    .map(|v| (v, row))
            })
            .collect();
        scored.sort_by(|a, b| spec.objective.rank((a.0, a.1.index), (b.0, b.1.index)));
        scored
            .into_iter()
            .take(n)
            .map(|(objective, row)| Ranked {
                index: row.index,
                params: self.keys.iter().cloned().zip(row.params.clone()).collect(),
                objective,
                metrics: row.metrics.clone(),
            })
            .collect()
    }

    /// Metric `metric` over the two-parameter grid (see [`Surface`]).
    pub fn surface(&self, metric: &str) -> Result<Surface, SweepError> {
        check_metric(metric)?;
        let [x_values, y_values] = self.values.as_slice() else {
            return Err(SweepError::NotTwoParameters(self.keys.len()));
        };
        let mut z = vec![vec![None; x_values.len()]; y_values.len()];
        for row in &self.rows {
            // First key slowest: index = ix * ny + iy.
            let (ix, iy) = (row.index / y_values.len(), row.index % y_values.len());
            z[iy][ix] = metric_value(&row.metrics, metric);
        }
        Ok(Surface {
            x_key: self.keys[0].clone(),
            y_key: self.keys[1].clone(),
            x_values: x_values.clone(),
            y_values: y_values.clone(),
            z,
        })
    }

    /// Writes every finished combination as CSV, in combination order. Columns: `index`, the
    /// parameter keys, `status` (`ok` or `failed`), every metric in [`metric_names`] order, then
    /// `reason` (empty for `ok`). Numbers use the shortest form that reads back exactly;
    /// `null` metrics and failed rows' metrics are empty cells.
    pub fn write_csv<W: std::io::Write>(&self, out: W) -> Result<(), SweepError> {
        let io = |e: csv::Error| SweepError::Csv(e.to_string());
        let mut w = csv::Writer::from_writer(out);
        let mut header: Vec<&str> = vec!["index"];
        header.extend(self.keys.iter().map(String::as_str));
        header.push("status");
        header.extend(metric_names());
        header.push("reason");
        w.write_record(&header).map_err(io)?;

        let cells = |index: usize, params: &[f64], status: &str| {
            let mut r = vec![index.to_string()];
            r.extend(params.iter().map(f64::to_string));
            r.push(status.to_string());
            r
        };
        let mut records: Vec<(usize, Vec<String>)> = Vec::with_capacity(self.completed);
        for row in &self.rows {
            let m = serde_json::to_value(&row.metrics).unwrap_or_default();
            let mut r = cells(row.index, &row.params, "ok");
            r.extend(
                metric_names()
                    .iter()
                    .map(|n| lookup(&m, n).map_or_else(String::new, |v| v.to_string())),
            );
            r.push(String::new());
            records.push((row.index, r));
        }
        for fail in &self.failures {
            let mut r = cells(fail.index, &fail.params, "failed");
            r.extend(metric_names().iter().map(|_| String::new()));
            r.push(fail.reason.clone());
            records.push((fail.index, r));
        }
        records.sort_unstable_by_key(|(index, _)| *index);
        for (_, r) in &records {
            w.write_record(r).map_err(io)?;
        }
        w.flush().map_err(|e| SweepError::Csv(e.to_string()))
    }
}
