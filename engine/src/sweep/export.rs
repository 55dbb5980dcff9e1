//! Exports of a [`SweepResult`]: the full table as Parquet (or CSV, by file extension) and a
//! small JSON summary (counts, best, top N) for terminals and scripts.
//!
//! Both are functions of the result alone (no wall-clock time, no thread count), so a sharded
//! sweep merged with [`merge`](super::shard::merge) exports the same bytes as a one-machine run.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use super::objective::{lookup, metric_names};
use super::result::{Failure, Ranked, SweepResult};
use super::SweepError;
use settle_data::files::write_atomic;

/// A failed write of an export file (the path is added where it is known).
impl From<std::io::Error> for SweepError {
    fn from(e: std::io::Error) -> SweepError {
        SweepError::Export(e.to_string())
    }
}

/// What `settle sweep --json` prints: counts, the objective and constraints in their text
/// form, the best result and the top N. The full table goes to an export file instead.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Parameter keys in grid order.
    pub keys: Vec<String>,
    /// Combinations in the grid.
    pub total_combinations: usize,
    /// Combinations finished, succeeded or failed.
    pub completed: usize,
    /// Combinations whose evaluation failed.
    pub failed_count: usize,
    /// True when the sweep was cancelled before every combination finished.
    pub cancelled: bool,
    /// `metric:max` or `metric:min`.
    pub objective: String,
    /// Each as `metric>=value`.
    pub constraints: Vec<String>,
    /// The best combination meeting the constraints; none when no combination does.
    pub best_result: Option<Ranked>,
    /// The best combinations meeting the constraints, best first (at most the N asked for).
    pub top: Vec<Ranked>,
    /// The failure with the lowest combination index, so a sweep that fails everywhere says why.
    pub first_failure: Option<Failure>,
}

/// The table formats [`SweepResult::export`] writes, chosen by file extension.
const FORMATS: &str = ".csv or .parquet";

impl SweepResult {
    /// The summary with the `top` best results meeting the constraints.
    pub fn summary(&self, top: usize) -> Summary {
        Summary {
            keys: self.keys.clone(),
            total_combinations: self.total_combinations,
            completed: self.completed,
            failed_count: self.failed_count,
            cancelled: self.cancelled,
            objective: self.spec.objective.to_string(),
            constraints: self
                .spec
                .constraints
                .iter()
                .map(|c| c.to_string())
                .collect(),
            best_result: self.best_result.clone(),
            top: self.top(top),
            first_failure: self.failures.first().cloned(),
        }
    }

    /// Writes the full table to `path`: CSV ([`write_csv`](SweepResult::write_csv)) for a
    /// `.csv` name, Parquet ([`write_parquet`](SweepResult::write_parquet)) for `.parquet`.
    pub fn export(&self, path: &Path) -> Result<(), SweepError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let named = |e: SweepError| match e {
            SweepError::Export(why) | SweepError::Csv(why) => {
                SweepError::Export(format!("{}: {why} (nothing was written)", path.display()))
            }
            e => e,
        };
        match ext.as_deref() {
            Some("csv") => write_atomic(path, |out| self.write_csv(out)).map_err(named),
            Some("parquet") => write_atomic(path, |out| self.write_parquet(out)).map_err(named),
            _ => Err(SweepError::Export(format!(
                "{}: unknown table format; the file name must end in {FORMATS}",
                path.display()
            ))),
        }
    }

    /// Writes every finished combination as Parquet, in combination order, with the columns of
    /// the CSV: `index` (UInt64), one Float64 column per parameter key, `status` (`ok` or
    /// `failed`), one Float64 column per metric in [`metric_names`] order (null when the
    /// metric is undefined or the row failed; counts are exact integers), and `reason` (null
    /// for `ok` rows).
    pub fn write_parquet<W: std::io::Write>(&self, out: W) -> Result<(), SweepError> {
        let err = |e: PolarsError| SweepError::Export(format!("Parquet: {e}"));
        let mut df = self.frame().map_err(err)?;
        ParquetWriter::new(out).finish(&mut df).map_err(err)?;
        Ok(())
    }

    /// The table as a polars frame, rows and failures interleaved by combination index.
    fn frame(&self) -> PolarsResult<DataFrame> {
        let mut table: Vec<TableRow> = Vec::with_capacity(self.completed);
        for row in &self.rows {
            let m = serde_json::to_value(&row.metrics).unwrap_or_default();
            table.push(TableRow {
                index: row.index,
                params: &row.params,
                metrics: metric_names().iter().map(|n| lookup(&m, n)).collect(),
                reason: None,
            });
        }
        for fail in &self.failures {
            table.push(TableRow {
                index: fail.index,
                params: &fail.params,
                metrics: vec![None; metric_names().len()],
                reason: Some(&fail.reason),
            });
        }
        table.sort_unstable_by_key(|r| r.index);

        let height = table.len();
        let mut columns = vec![Column::new(
            "index".into(),
            table.iter().map(|r| r.index as u64).collect::<Vec<u64>>(),
        )];
        for (k, key) in self.keys.iter().enumerate() {
            let values: Vec<f64> = table.iter().map(|r| r.params[k]).collect();
            columns.push(Column::new(key.as_str().into(), values));
        }
        let status: Vec<&str> = table
            .iter()
            .map(|r| if r.reason.is_none() { "ok" } else { "failed" })
            .collect();
        columns.push(Column::new("status".into(), status));
        for (j, name) in metric_names().iter().enumerate() {
            let values: Vec<Option<f64>> = table.iter().map(|r| r.metrics[j]).collect();
            columns.push(Column::new((*name).into(), values));
        }
        let reasons: Vec<Option<&str>> = table.iter().map(|r| r.reason).collect();
        columns.push(Column::new("reason".into(), reasons));
        DataFrame::new(height, columns)
    }
}

/// One line of the exported table, borrowed from a row or a failure.
struct TableRow<'a> {
    index: usize,
    params: &'a [f64],
    metrics: Vec<Option<f64>>,
    reason: Option<&'a str>,
}
