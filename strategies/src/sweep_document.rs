//! A sweep as one JSON document: its summary (counts, best, top N), its overfitting guards and
//! its manifest. `settle sweep --json` prints it, the MCP server serves it at
//! `settle://optimizations/{id}/manifest`, and [`recompute`] rebuilds it for `settle rerun`, so
//! all three agree to the byte on the same inputs.

use std::sync::atomic::AtomicBool;

use serde::Serialize;

use settle_data::Bars;
use settle_engine::sweep::{Constraint, Grid, Objective, Param, Summary, SweepResult, SweepSpec};
use settle_engine::{BacktestConfig, Stamp};

use crate::guards::{guarded_sweep, Guards};
use crate::manifest::{self, Manifest, ResolvedWindow, Run, SweepInputs};
use crate::rules::{self, Compiled};
use crate::run::RunError;
use crate::sweep::Evaluator;

/// How many of the best combinations a document lists unless told otherwise.
pub const DEFAULT_TOP: usize = 10;

/// The document's body, before its manifest.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    overfitting: Option<&'a Guards>,
}

/// The manifest of a sweep of `evaluator`'s strategy over `inputs`: the strategy with its
/// own parameter values, its window as its backtest resolves it (checked as the backtest
/// would be, not run: the window is all the manifest records of it), and the grid,
/// objective, constraints, guards and top count. Its result hash is filled in by
/// [`document`].
pub fn manifest(
    evaluator: &Evaluator,
    bars: &Bars,
    cfg: &BacktestConfig,
    inputs: SweepInputs,
) -> Result<Manifest, RunError> {
    let c = evaluator.compiled();
    let (range, own) = evaluator.resolved()?;
    let run = Run {
        strategy: &c.strategy,
        spec: c.spec,
        bars,
        cfg,
        window: ResolvedWindow {
            asked: own.window.to_string(),
            first_bar: Stamp(bars.ts[range.start]),
            last_bar: Stamp(bars.ts[range.end - 1]),
            bars: range.len(),
        },
        commission_per_side: own.commission(c.spec),
    };
    Ok(Manifest::of_sweep(&run, inputs))
}

/// The body of the document (no manifest): the summary of the `top` best and the guards.
pub fn body(result: &SweepResult, guards: Option<&Guards>, top: usize) -> String {
    serde_json::to_string_pretty(&Report {
        summary: &result.summary(top),
        overfitting: guards,
    })
    .unwrap_or_default()
}

/// The whole document: [`body`] with `manifest` attached, its result hash that of the body.
pub fn document(result: &SweepResult, guards: Option<&Guards>, manifest: &Manifest) -> String {
    let top = manifest.sweep.as_ref().map_or(DEFAULT_TOP, |s| s.top);
    manifest::sweep_json(&body(result, guards, top), manifest)
}

/// Runs again the sweep `inputs` records, of the strategy `compiled` on `bars`: its body and
/// its manifest as computed now.
pub fn recompute(
    compiled: Compiled,
    bars: &Bars,
    inputs: &SweepInputs,
) -> Result<(String, Manifest), String> {
    let params = inputs
        .grid
        .iter()
        .map(|p| Param::parse(p).map_err(|e| format!("grid `{p}`: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    // The sweep ran once under its own cap; a rerun does not refuse it for its size.
    let grid = Grid::with_cap(&params, usize::MAX).map_err(|e| format!("grid: {e}"))?;
    let spec = SweepSpec {
        objective: Objective::parse(&inputs.objective).map_err(|e| e.to_string())?,
        constraints: inputs
            .constraints
            .iter()
            .map(|c| Constraint::parse(c).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?,
    };
    let cfg = rules::to_config(&compiled);
    let evaluator = Evaluator::new(compiled, bars).map_err(|e| e.to_string())?;
    let swept = guarded_sweep(
        &evaluator,
        &cfg,
        &grid,
        &spec,
        inputs.guards.as_ref(),
        &AtomicBool::new(false),
        &|_| {},
        &|_, _| {},
        &|_| {},
    )
    .map_err(|e| e.to_string())?;
    let body = body(&swept.result, swept.guards.as_ref(), inputs.top);
    let mut now = manifest(&evaluator, bars, &cfg, inputs.clone()).map_err(|e| e.to_string())?;
    now.result_hash = manifest::hash_hex(body.as_bytes());
    Ok((body, now))
}
