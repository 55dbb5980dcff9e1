//! The parallel loop: every combination index through rayon, results placed back by index.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::grid::Grid;
use super::objective::SweepSpec;
use super::result::{Failure, Row, SweepResult};
use crate::Metrics;

/// A progress report, sent after each finished combination (from the worker thread that
/// finished it, so reports from different threads may arrive slightly out of order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Combinations finished so far (succeeded or failed).
    pub done: usize,
    /// Combinations to run (the shard's share under [`run_shard`](super::run_shard)).
    pub total: usize,
    /// Finished combinations per second of wall time since the sweep started.
    pub rate_per_sec: f64,
    /// Seconds left at the current rate; `None` until a rate is known.
    pub eta_secs: Option<f64>,
}

/// Evaluates every combination of `grid` with `eval`, in parallel on the current rayon pool.
///
/// * `eval` gets the combination as `(key, value)` pairs in grid order. An `Err` or a panic
///   marks that combination failed (with the reason) and the sweep goes on.
/// * `cancel` is read before each combination; once it is set, no new combination starts and
///   the result keeps every one already finished (`cancelled` is then true).
/// * `progress` is called after each finished combination.
///
/// The result depends only on the grid, the spec and what `eval` returns, never on the thread
/// count or scheduling (wall-clock time only reaches `progress`).
pub fn run<F>(
    grid: &Grid,
    spec: &SweepSpec,
    eval: F,
    cancel: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
) -> SweepResult
where
    F: Fn(&[(String, f64)]) -> Result<Metrics, String> + Sync,
{
    run_observed(grid, spec, eval, cancel, progress, &|_, _| {})
}

/// [`run`], also handing each finished combination (its index and outcome) to `finished`, from
/// the worker that finished it and before the sweep ends: a caller that must keep results
/// through a crash (the MCP server writes each to SQLite) need not wait for the whole grid.
pub fn run_observed<F>(
    grid: &Grid,
    spec: &SweepSpec,
    eval: F,
    cancel: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
    finished: &(dyn Fn(usize, &Result<Metrics, String>) + Sync),
) -> SweepResult
where
    F: Fn(&[(String, f64)]) -> Result<Metrics, String> + Sync,
{
    let all: Vec<usize> = (0..grid.total_combinations()).collect();
    let (rows, failures) = run_indices(grid, &all, eval, cancel, progress, finished);
    SweepResult::new(grid, spec.clone(), rows, failures)
}

/// Evaluates the combinations `indices` (ascending) of `grid` as [`run_observed`] does, returning the
/// finished rows and failures in index order. Shards use it to run their share of a grid;
/// `Progress::total` is then `indices.len()`.
pub(crate) fn run_indices<F>(
    grid: &Grid,
    indices: &[usize],
    eval: F,
    cancel: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
    finished: &(dyn Fn(usize, &Result<Metrics, String>) + Sync),
) -> (Vec<Row>, Vec<Failure>)
where
    F: Fn(&[(String, f64)]) -> Result<Metrics, String> + Sync,
{
    let total = indices.len();
    let done = AtomicUsize::new(0);
    let start = Instant::now();
    let outcomes: Vec<Option<Result<Metrics, String>>> = indices
        .par_iter()
        .map(|&index| {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            let params = grid.params(index);
            let outcome = catch_unwind(AssertUnwindSafe(|| eval(&params)))
                .unwrap_or_else(|payload| Err(format!("panicked: {}", panic_text(&*payload))));
            finished(index, &outcome);
            let done = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress(report(done, total, start));
            Some(outcome)
        })
        .collect();

    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for (&index, outcome) in indices.iter().zip(outcomes) {
        match outcome {
            Some(Ok(metrics)) => rows.push(Row {
                index,
                params: grid.combination(index),
                metrics,
            }),
            Some(Err(reason)) => failures.push(Failure {
                index,
                params: grid.combination(index),
                reason,
            }),
            None => {}
        }
    }
    (rows, failures)
}

fn report(done: usize, total: usize, start: Instant) -> Progress {
    let secs = start.elapsed().as_secs_f64();
    let rate_per_sec = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    Progress {
        done,
        total,
        rate_per_sec,
        eta_secs: (rate_per_sec > 0.0).then(|| (total - done) as f64 / rate_per_sec),
    }
}

/// The message of a panic payload (`panic!` with a literal or a formatted string).
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string())
}
