//! Scale-out: run a deterministic share of a grid on each of N machines, then merge.
//!
//! Shard `i` of `N` (0-based) runs the combination indices `i, i + N, i + 2N, ...`. Striding
//! rather than contiguous blocks spreads slow and fast corners of the grid (long and short
//! indicator periods) evenly across machines. Each shard writes a [`ShardFile`]: its rows and
//! failures plus everything needed to check that the shards belong together (the job the
//! caller describes, the grid, the objective and constraints, the shard count). [`merge`]
//! checks that, reports missing or cancelled shards, and rebuilds the [`SweepResult`] a single
//! machine would have produced, so its exports are the same bytes.
//!
//! Numbers in a shard file are written as text in Rust's shortest exact form and read back with
//! Rust's exact parser: JSON number parsing is not guaranteed to round-trip every `f64`, and
//! byte-identical merges need exactly the values the shard computed.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use super::grid::{Grid, Param};
use super::objective::{lookup, metric_names, Constraint, Objective, SweepSpec};
use super::result::{Failure, Row, SweepResult};
use super::run::{run_indices, Progress};
use crate::Metrics;

/// Identifies shard files written by this module (and their layout version).
pub const FORMAT: &str = "settle-sweep-shard/1";

/// Which share of the grid this process runs: `index` of `count`, 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard's number, 0-based, below `count`.
    pub index: usize,
    /// Shards the grid is split into, at least 1.
    pub count: usize,
}

/// Why a shard could not be chosen, read or merged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShardError {
    /// A shard spec (`i/N`) that cannot be used.
    #[error("shard `{text}`: {problem}")]
    Spec {
        /// The spec as given.
        text: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// A file that is not a shard file of this format or settle version; says what is wrong.
    #[error("not a shard file: {0}")]
    Format(String),
    /// No shard file was given.
    #[error("no shard files to merge")]
    Empty,
    /// Two shard files from different sweeps.
    #[error("shard {shard} does not belong with shard {first}: its {what} differs; merge only shards of one sweep")]
    Mismatch {
        /// The shard that differs, as `i/N`.
        shard: String,
        /// The first shard given, as `i/N`.
        first: String,
        /// What differs, e.g. `grid` or `objective`.
        what: &'static str,
    },
    /// The same shard (named as `i/N`) is given twice.
    #[error("shard {0} is given twice")]
    Duplicate(String),
    /// Some shards of the sweep are not among the files.
    #[error("missing {} of {count} shards: {}; run them and merge again", missing.len(), list(missing))]
    Missing {
        /// Indices of the shards not given.
        missing: Vec<usize>,
        /// Shards the sweep was split into.
        count: usize,
    },
    #[error(
        "shard {shard} was cancelled after {completed} of its {share} combinations; run it again"
    )]
    /// A shard that was cancelled before its share finished.
    Incomplete {
        /// The shard, as `i/N`.
        shard: String,
        /// Combinations it finished.
        completed: usize,
        /// Combinations in its share.
        share: usize,
    },
}

fn list(indices: &[usize]) -> String {
    let v: Vec<String> = indices.iter().map(usize::to_string).collect();
    v.join(", ")
}

impl Shard {
    /// Parses `i/N` with `0 <= i < N`.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = |problem: &str| ShardError::Spec {
            text: text.to_string(),
            problem: problem.to_string(),
        };
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected INDEX/COUNT, e.g. 0/4 (indices are 0-based)"))?;
        let index = i
            .trim()
            .parse()
            .map_err(|_| bad(&format!("index `{i}` is not a whole number")))?;
        let count = n
            .trim()
            .parse()
            .map_err(|_| bad(&format!("count `{n}` is not a whole number")))?;
        Shard::new(index, count).map_err(|e| match e {
            ShardError::Spec { problem, .. } => bad(&problem),
            other => other,
        })
    }

    /// Checks `0 <= index < count`.
    pub fn new(index: usize, count: usize) -> Result<Shard, ShardError> {
        let bad = |problem: String| ShardError::Spec {
            text: format!("{index}/{count}"),
            problem,
        };
        if count == 0 {
            return Err(bad("the shard count must be at least 1".into()));
        }
        if index >= count {
            return Err(bad(format!(
                "index {index} is not below the count {count} (indices are 0-based: 0..{})",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// The shard of a batch-array task, for `count` shards: Kubernetes Indexed Jobs set
    /// `JOB_COMPLETION_INDEX`, Slurm arrays `SLURM_ARRAY_TASK_ID`; either is the shard index,
    /// 0-based. The Slurm task id is taken as it is, not relative to the array's first id, so
    /// that `sbatch --array=3` reruns shard 3 alone (and `--array=3,5` two of them); an array
    /// whose `SLURM_ARRAY_TASK_MAX` is not below `count` (numbered from 1, or longer than the
    /// shards) is refused in every task, before any of them runs a share. `env` looks a
    /// variable up (pass `|k| std::env::var(k).ok()`).
    pub fn from_env(
        count: usize,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Shard, ShardError> {
        let number = |var: &str| -> Result<Option<usize>, ShardError> {
            env(var)
                .map(|v| {
                    v.trim().parse().map_err(|_| ShardError::Spec {
                        text: format!("{var}={v}"),
                        problem: "not a whole number".into(),
                    })
                })
                .transpose()
        };
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            return Shard::new(index, count);
        }
        if let Some(index) = number("SLURM_ARRAY_TASK_ID")? {
            if let Some(max) = number("SLURM_ARRAY_TASK_MAX")? {
                // A count of 0 is Shard::new's to refuse.
                if count > 0 && max >= count {
                    return Err(ShardError::Spec {
                        text: format!("SLURM_ARRAY_TASK_MAX={max}"),
                        problem: format!(
                            "array task ids are the shard indices, 0-based: submit \
                             --array=0-{} for --shards {count} (or some of those ids, to rerun them)",
                            count - 1
                        ),
                    });
                }
            }
            return Shard::new(index, count);
        }
        Err(ShardError::Spec {
            text: format!("--shards {count}"),
            problem: "neither JOB_COMPLETION_INDEX (Kubernetes Indexed Job) nor \
                      SLURM_ARRAY_TASK_ID (Slurm array) is set; give --shard INDEX/COUNT"
                .into(),
        })
    }

    /// The combination indices of this shard in a grid of `total`, ascending.
    pub fn indices(&self, total: usize) -> Vec<usize> {
        (self.index..total).step_by(self.count).collect()
    }
}

/// One shard's results and the facts that tie it to its sweep. Written as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// What was swept, as the caller describes it (strategy, symbol, data); shards merge only
    /// when it is the same text.
    pub job: String,
    /// This shard's number, 0-based.
    pub shard: usize,
    /// Shards the sweep was split into.
    pub shards: usize,
    /// Parameter keys in grid order.
    pub keys: Vec<String>,
    /// Each key's values, as exact number text.
    pub values: Vec<Vec<String>>,
    /// [`Objective`] as `metric:max|min`.
    pub objective: String,
    /// Each [`Constraint`] as `metric op value`.
    pub constraints: Vec<String>,
    /// Combinations in the whole grid (not only this shard's share).
    pub total_combinations: usize,
    /// Metric names, the column order of [`ShardRow::metrics`].
    pub metrics: Vec<String>,
    /// False when the shard was cancelled before its share finished.
    pub complete: bool,
    /// Every combination of the share that evaluated, in combination order.
    pub rows: Vec<ShardRow>,
    /// Every combination of the share that failed, in combination order.
    pub failures: Vec<ShardFailure>,
}

/// A finished combination; numbers as exact text, `null` for undefined metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRow {
    /// Position in the whole grid's combination order.
    pub index: usize,
    /// Parameter values as exact number text, one per key.
    pub params: Vec<String>,
    /// Metric values as exact number text, in [`ShardFile::metrics`] order.
    pub metrics: Vec<Option<String>>,
}

/// A failed combination and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardFailure {
    /// Position in the whole grid's combination order.
    pub index: usize,
    /// Parameter values as exact number text, one per key.
    pub params: Vec<String>,
    /// The error message, or the panic's message.
    pub reason: String,
}

/// Runs `shard`'s share of `grid` as [`run`](super::run()) runs the whole grid (same `eval`,
/// cancellation and failure rules; `Progress::total` is the share). `job` describes what is
/// swept (see [`ShardFile::job`]).
pub fn run_shard<F>(
    grid: &Grid,
    spec: &SweepSpec,
    shard: Shard,
    job: &str,
    eval: F,
    cancel: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
) -> ShardFile
where
    F: Fn(&[(String, f64)]) -> Result<Metrics, String> + Sync,
{
    let share = shard.indices(grid.total_combinations());
    let (rows, failures) = run_indices(grid, &share, eval, cancel, progress, &|_, _| {});
    ShardFile {
        format: FORMAT.to_string(),
        job: job.to_string(),
        shard: shard.index,
        shards: shard.count,
        keys: grid.keys().to_vec(),
        values: grid.values().iter().map(|v| texts(v)).collect(),
        objective: spec.objective.to_string(),
        constraints: spec.constraints.iter().map(|c| c.to_string()).collect(),
        total_combinations: grid.total_combinations(),
        metrics: metric_names().iter().map(|s| s.to_string()).collect(),
        complete: rows.len() + failures.len() == share.len(),
        rows: rows.iter().map(shard_row).collect(),
        failures: failures
            .into_iter()
            .map(|f| ShardFailure {
                index: f.index,
                params: texts(&f.params),
                reason: f.reason,
            })
            .collect(),
    }
}

impl ShardFile {
    /// Reads a shard file's JSON, checking its format marker.
    pub fn from_json(text: &str) -> Result<ShardFile, ShardError> {
        let file: ShardFile =
            serde_json::from_str(text).map_err(|e| ShardError::Format(e.to_string()))?;
        if file.format != FORMAT {
            return Err(ShardError::Format(format!(
                "format `{}`, expected `{FORMAT}`",
                file.format
            )));
        }
        Ok(file)
    }

    fn label(&self) -> String {
        format!("{}/{}", self.shard, self.shards)
    }
}

/// Joins the shard files of one sweep into the result a single machine would have produced.
/// Refuses shards of different sweeps (job, grid, objective, constraints, shard count or
/// metric set), duplicates, cancelled shards, and an incomplete set (naming what is missing).
pub fn merge(shards: &[ShardFile]) -> Result<SweepResult, ShardError> {
    let first = shards.first().ok_or(ShardError::Empty)?;
    let mut seen = BTreeMap::new();
    for s in shards {
        let mismatch = |what| ShardError::Mismatch {
            shard: s.label(),
            first: first.label(),
            what,
        };
        let checks = [
            (s.job == first.job, "job (strategy or data)"),
            (s.keys == first.keys && s.values == first.values, "grid"),
            (
                s.total_combinations == first.total_combinations,
                "grid size",
            ),
            (s.objective == first.objective, "objective"),
            (s.constraints == first.constraints, "constraints"),
            (s.shards == first.shards, "shard count"),
            (s.metrics == first.metrics, "metric list (settle version)"),
        ];
        if let Some((_, what)) = checks.iter().find(|(same, _)| !same) {
            return Err(mismatch(*what));
        }
        Shard::new(s.shard, s.shards)?;
        if seen.insert(s.shard, s).is_some() {
            return Err(ShardError::Duplicate(s.label()));
        }
    }
    let missing: Vec<usize> = (0..first.shards)
        .filter(|i| !seen.contains_key(i))
        .collect();
    if !missing.is_empty() {
        return Err(ShardError::Missing {
            missing,
            count: first.shards,
        });
    }
    if first.metrics != metric_names() {
        return Err(ShardError::Format(
            "its metric list is not this settle version's; merge with the version that ran it"
                .into(),
        ));
    }

    let grid = rebuild_grid(first)?;
    let spec = rebuild_spec(first)?;
    let mut rows = Vec::with_capacity(grid.total_combinations());
    let mut failures = Vec::new();
    for s in seen.values() {
        let share = Shard::new(s.shard, s.shards)?.indices(grid.total_combinations());
        if !s.complete || s.rows.len() + s.failures.len() != share.len() {
            return Err(ShardError::Incomplete {
                shard: s.label(),
                completed: s.rows.len() + s.failures.len(),
                share: share.len(),
            });
        }
        for r in &s.rows {
            rows.push(Row {
                index: r.index,
                params: numbers(&r.params)?,
                metrics: metrics_from(&s.metrics, &r.metrics)?,
            });
        }
        for f in &s.failures {
            failures.push(Failure {
                index: f.index,
                params: numbers(&f.params)?,
                reason: f.reason.clone(),
            });
        }
    }
    rows.sort_by_key(|r| r.index);
    failures.sort_by_key(|f| f.index);
    Ok(SweepResult::new(&grid, spec, rows, failures))
}

fn shard_row(row: &Row) -> ShardRow {
    let m = serde_json::to_value(&row.metrics).unwrap_or_default();
    ShardRow {
        index: row.index,
        params: texts(&row.params),
        metrics: metric_names()
            .iter()
            .map(|n| lookup(&m, n).map(|x| x.to_string()))
            .collect(),
    }
}

/// Shortest text that parses back to exactly `x`.
fn texts(xs: &[f64]) -> Vec<String> {
    xs.iter().map(f64::to_string).collect()
}

fn number(text: &str) -> Result<f64, ShardError> {
    text.parse()
        .map_err(|_| ShardError::Format(format!("`{text}` is not a number")))
}

fn numbers(texts: &[String]) -> Result<Vec<f64>, ShardError> {
    texts.iter().map(|t| number(t)).collect()
}

/// Rebuilds [`Metrics`] from named values. Whole numbers go in as JSON integers so count
/// fields (`tradeCount`, ...) deserialize; dollar fields accept them as exact floats.
fn metrics_from(names: &[String], values: &[Option<String>]) -> Result<Metrics, ShardError> {
    let mut map = serde_json::Map::new();
    for (name, value) in names.iter().zip(values) {
        let json = match value {
            None => serde_json::Value::Null,
            Some(t) => {
                let x = number(t)?;
                if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
                    serde_json::Value::from(x as i64)
                } else {
                    serde_json::Value::from(x)
                }
            }
        };
        map.insert(name.clone(), json);
    }
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| ShardError::Format(format!("metrics: {e}")))
}

fn rebuild_grid(s: &ShardFile) -> Result<Grid, ShardError> {
    let params = s
        .keys
        .iter()
        .zip(&s.values)
        .map(|(key, values)| {
            Ok(Param::List {
                key: key.clone(),
                values: numbers(values)?,
            })
        })
        .collect::<Result<Vec<_>, ShardError>>()?;
    let grid = Grid::with_cap(&params, usize::MAX)
        .map_err(|e| ShardError::Format(format!("grid: {e}")))?;
    if grid.total_combinations() != s.total_combinations {
        return Err(ShardError::Format(format!(
            "the grid has {} combinations but the file says {}",
            grid.total_combinations(),
            s.total_combinations
        )));
    }
    Ok(grid)
}

fn rebuild_spec(s: &ShardFile) -> Result<SweepSpec, ShardError> {
    let bad = |e: super::SweepError| ShardError::Format(e.to_string());
    Ok(SweepSpec {
        objective: Objective::parse(&s.objective).map_err(bad)?,
        constraints: s
            .constraints
            .iter()
            .map(|c| Constraint::parse(c))
            .collect::<Result<_, _>>()
            .map_err(bad)?,
    })
}
