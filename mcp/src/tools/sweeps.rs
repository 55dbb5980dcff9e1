//! Parameter sweeps: `setup_optimization` (nothing runs), `run_optimization`,
//! `get_optimization`. Every finished combination is written as it finishes.

use crate::args::Args;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::strategies::{kickoff_reply, start_failure, KickoffOut};
use super::SettleServer;
use crate::model::{Metrics, OptimizationRow, ParameterValue, KIND_OPTIMIZATION};
use crate::ops::Kickoff;
use crate::reply::{fix, input_schema, output_schema, reply, Failure, ToolResult};

/// Largest grid one sweep may hold.
const MAX_COMBINATIONS: u64 = 10_000;
/// Points per parameter when no step is given.
const DEFAULT_POINTS: u32 = 5;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamRange {
    /// A `key` from the strategy's canonicalParameters.
    pub key: String,
    pub min: f64,
    pub max: f64,
    /// Distance between values; without it, 5 evenly spaced points from min to max.
    pub step: Option<f64>,
}

/// What the best combination maximises (max_drawdown: the smallest drawdown wins).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    #[default]
    TotalPnl,
    AvgPnlPerTrade,
    WinRate,
    SharpeRatio,
    MaxDrawdown,
}

impl RankBy {
    /// Higher is better; an undefined ratio (no trades, flat equity) ranks below every
    /// defined one.
    fn score(self, m: &Metrics) -> f64 {
        match self {
            RankBy::TotalPnl => m.total_pnl,
            RankBy::AvgPnlPerTrade if m.trade_count == 0 => f64::NEG_INFINITY,
            RankBy::AvgPnlPerTrade => m.total_pnl / m.trade_count as f64,
            RankBy::WinRate => m.win_rate.unwrap_or(f64::NEG_INFINITY),
            RankBy::SharpeRatio => m.sharpe_ratio.unwrap_or(f64::NEG_INFINITY),
            RankBy::MaxDrawdown => -m.max_drawdown,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupArgs {
    pub session_id: String,
    pub artifact_id: String,
    /// One range per swept parameter; the grid is their Cartesian product.
    pub parameters: Vec<ParamRange>,
    /// Metric that picks best_result (default total_pnl).
    #[serde(default)]
    pub rank_by: RankBy,
}

/// Stored as the optimization's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SweepConfig {
    rank_by: RankBy,
    grid: Vec<SweptParameter>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SweptParameter {
    pub key: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SetupOut {
    pub optimization_id: String,
    pub total_combinations: u64,
    pub grid: Vec<SweptParameter>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunArgs {
    pub session_id: String,
    pub optimization_id: String,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOptimizationArgs {
    pub session_id: String,
    pub optimization_id: String,
    /// First row to return, in combination order (default 0).
    pub offset: Option<u32>,
    /// Rows per page, 0 to 500 (default 50).
    pub limit: Option<u32>,
}

/// A sweep's state, as wait_for_completion and get_optimization report it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OptimizationSummary {
    pub optimization_id: String,
    pub artifact_id: String,
    /// configured, running, succeeded, failed or cancelled.
    pub status: String,
    pub total_combinations: u64,
    /// Finished combinations (including failed ones).
    pub completed: u64,
    pub failed_count: u64,
    pub best_result: Option<OptimizationRow>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OptimizationOut {
    #[serde(flatten)]
    pub summary: OptimizationSummary,
    pub offset: u64,
    /// Pass as offset for the next page; absent on the last page.
    pub next_offset: Option<u64>,
    pub rows: Vec<OptimizationRow>,
    /// MCP resource with every finished row at once (resources/read).
    pub rows_uri: String,
}

#[tool_router(router = sweep_tools, vis = "pub(super)")]
impl SettleServer {
    #[tool(
        description = "Set up a parameter sweep of one strategy version: per parameter {key, min, max, step?} (keys from list_strategies canonicalParameters). Nothing runs yet; returns optimization_id and the grid size.",
        input_schema = input_schema::<SetupArgs>(),
        output_schema = output_schema::<SetupOut>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn setup_optimization(&self, Args(a): Args<SetupArgs>) -> ToolResult<SetupOut> {
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        if a.parameters.is_empty() {
            return Err(fix(
                "parameters is empty: give at least one {key, min, max}",
            ));
        }
        let mut grid = Vec::new();
        for r in &a.parameters {
            if !s.canonical_parameters.iter().any(|p| p.key == r.key) {
                let keys: Vec<&str> = s
                    .canonical_parameters
                    .iter()
                    .map(|p| p.key.as_str())
                    .collect();
                return Err(fix(format!(
                    "unknown parameter key '{}'; this strategy's keys are: {}",
                    r.key,
                    keys.join(", ")
                )));
            }
            grid.push(SweptParameter {
                key: r.key.clone(),
                values: range_values(r).map_err(fix)?,
            });
        }
        let total = grid
            .iter()
            .try_fold(1u64, |acc, p| acc.checked_mul(p.values.len() as u64))
            .filter(|t| *t <= MAX_COMBINATIONS)
            .ok_or_else(|| {
                fix(format!(
                    "the grid exceeds {MAX_COMBINATIONS} combinations: use larger steps"
                ))
            })?;
        let config = SweepConfig {
            rank_by: a.rank_by,
            grid: grid.clone(),
        };
        let id = self.store().create_optimization(
            &s,
            &serde_json::to_value(&config).map_err(|e| fix(e.to_string()))?,
            total,
        )?;
        reply(
            format!("Optimization {id}: {total} combination(s). Next: run_optimization."),
            SetupOut {
                optimization_id: id,
                total_combinations: total,
                grid,
            },
        )
    }

    #[tool(
        description = "Start a configured sweep. Async: returns operation_id; then wait_for_completion(task='optimization') and get_optimization. One running sweep per session.",
        input_schema = input_schema::<RunArgs>(),
        output_schema = output_schema::<KickoffOut>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn run_optimization(&self, Args(a): Args<RunArgs>) -> ToolResult<KickoffOut> {
        self.require_session(&a.session_id)?;
        let opt = self
            .store()
            .get_optimization(&a.optimization_id)?
            .filter(|o| o.session_id == a.session_id)
            .ok_or_else(|| {
                fix(format!(
                    "unknown optimization_id '{}' in this session",
                    a.optimization_id
                ))
            })?;
        if let Some(key) = a.idempotency_key.as_deref() {
            if let Some(first) =
                self.store()
                    .find_operation_by_key(&a.session_id, KIND_OPTIMIZATION, key)?
            {
                return kickoff_reply(
                    first,
                    false,
                    Some(opt.artifact_id),
                    Some(opt.optimization_id),
                );
            }
        }
        if opt.status != "configured" {
            return Err(fix(format!(
                "optimization {} already ran ({}): set up a new one to sweep again",
                opt.optimization_id, opt.status
            )));
        }
        let artifact = self.require_strategy(&a.session_id, &opt.artifact_id)?;
        let config: SweepConfig = serde_json::from_value(opt.config.clone())
            .map_err(|e| fix(format!("stored sweep is unreadable: {e}")))?;
        let backend = self.backend.clone();
        let opt_id = opt.optimization_id.clone();
        let (op, created) = self
            .ops
            .start(
                Kickoff {
                    session_id: &a.session_id,
                    kind: KIND_OPTIMIZATION,
                    subject_id: &opt.optimization_id,
                    idempotency_key: a.idempotency_key.as_deref(),
                    exclusive: true,
                },
                move |ctx| {
                    let store = ctx.store();
                    store
                        .attach_optimization_run(&opt_id, ctx.operation_id())
                        .map_err(|e| e.to_string())?;
                    let combos = combinations(&config.grid);
                    let total = combos.len() as u64;
                    let mut failed = 0u64;
                    for (i, values) in combos.into_iter().enumerate() {
                        if ctx.is_cancelled() {
                            break;
                        }
                        let run = backend
                            .with_parameters(&artifact.definition, &values)
                            .and_then(|def| backend.run_backtest(&def, ctx));
                        // A combination cut short by cancel_task did not run: it is neither a
                        // result nor a failure, so it is not recorded.
                        if run.is_err() && ctx.is_cancelled() {
                            break;
                        }
                        let row = OptimizationRow {
                            combo_index: i as u64,
                            parameters: values,
                            metrics: run.as_ref().ok().map(|o| o.metrics.clone()),
                            error: run.err(),
                        };
                        failed += u64::from(row.error.is_some());
                        store
                            .record_optimization_row(&opt_id, &row)
                            .map_err(|e| e.to_string())?;
                        ctx.progress(i as u64 + 1, total);
                    }
                    Ok(json!({ "optimization_id": opt_id, "failed_count": failed }))
                },
            )
            .map_err(start_failure)?;
        kickoff_reply(
            op,
            created,
            Some(opt.artifact_id),
            Some(opt.optimization_id),
        )
    }

    #[tool(
        description = "Read a sweep: total_combinations, completed, failed_count, best_result and the finished rows (paged by offset/limit). Works while it runs and after a cancel.",
        input_schema = input_schema::<GetOptimizationArgs>(),
        output_schema = output_schema::<OptimizationOut>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_optimization(
        &self,
        Args(a): Args<GetOptimizationArgs>,
    ) -> ToolResult<OptimizationOut> {
        self.require_session(&a.session_id)?;
        let limit = a.limit.unwrap_or(50);
        if limit > 500 {
            return Err(fix(format!("limit must be at most 500, got {limit}")));
        }
        let summary = self
            .optimization_summary(&a.optimization_id)?
            .ok_or_else(|| fix(format!("unknown optimization_id '{}'", a.optimization_id)))?;
        let rows = self.store().optimization_rows(&a.optimization_id)?;
        let total = rows.len() as u64;
        let offset = u64::from(a.offset.unwrap_or(0)).min(total);
        let end = (offset + u64::from(limit)).min(total);
        let text = format!(
            "Optimization {} {}: {}/{} done, {} failed.",
            summary.optimization_id,
            summary.status,
            summary.completed,
            summary.total_combinations,
            summary.failed_count
        );
        reply(
            text,
            OptimizationOut {
                rows_uri: super::resources::rows_uri(&summary.optimization_id),
                summary,
                offset,
                next_offset: (end < total).then_some(end),
                rows: rows[offset as usize..end as usize].to_vec(),
            },
        )
    }
}

impl SettleServer {
    pub(super) fn optimization_summary(
        &self,
        optimization_id: &str,
    ) -> Result<Option<OptimizationSummary>, Failure> {
        let Some(opt) = self.store().get_optimization(optimization_id)? else {
            return Ok(None);
        };
        let rank_by = serde_json::from_value::<SweepConfig>(opt.config.clone())
            .map(|c| c.rank_by)
            .unwrap_or_default();
        let rows = self.store().optimization_rows(optimization_id)?;
        let best_result = rows
            .iter()
            .filter_map(|r| r.metrics.as_ref().map(|m| (rank_by.score(m), r)))
            .filter(|(s, _)| !s.is_nan())
            // Ties keep the earliest combination, so the winner is deterministic.
            .fold(None::<(f64, &OptimizationRow)>, |best, (s, r)| match best {
                Some((b, _)) if b >= s => best,
                _ => Some((s, r)),
            })
            .map(|(_, r)| r.clone());
        Ok(Some(OptimizationSummary {
            optimization_id: opt.optimization_id,
            artifact_id: opt.artifact_id,
            status: opt.status,
            total_combinations: opt.total_combinations,
            completed: rows.len() as u64,
            failed_count: rows.iter().filter(|r| r.error.is_some()).count() as u64,
            best_result,
        }))
    }
}

/// The values one range sweeps, min to max inclusive.
fn range_values(r: &ParamRange) -> Result<Vec<f64>, String> {
    if !(r.min.is_finite() && r.max.is_finite()) || r.min > r.max {
        return Err(format!("parameter '{}': need finite min <= max", r.key));
    }
    match r.step {
        Some(step) if !(step.is_finite() && step > 0.0) => {
            Err(format!("parameter '{}': step must be positive", r.key))
        }
        Some(step) => {
            let n = ((r.max - r.min) / step + 1e-9).floor() as u64 + 1;
            if n > MAX_COMBINATIONS {
                return Err(format!("parameter '{}': step too small", r.key));
            }
            Ok((0..n).map(|i| r.min + step * i as f64).collect())
        }
        None if r.min == r.max => Ok(vec![r.min]),
        None => {
            let n = DEFAULT_POINTS;
            Ok((0..n)
                .map(|i| r.min + (r.max - r.min) * f64::from(i) / f64::from(n - 1))
                .collect())
        }
    }
}

/// The Cartesian product in a fixed order (last parameter varies fastest).
fn combinations(grid: &[SweptParameter]) -> Vec<Vec<ParameterValue>> {
    grid.iter().fold(vec![Vec::new()], |acc, p| {
        acc.iter()
            .flat_map(|prefix| {
                p.values.iter().map(move |v| {
                    let mut next = prefix.clone();
                    next.push(ParameterValue {
                        key: p.key.clone(),
                        value: *v,
                    });
                    next
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(min: f64, max: f64, step: Option<f64>) -> ParamRange {
        ParamRange {
            key: "k".into(),
            min,
            max,
            step,
        }
    }

    #[test]
    fn ranges_are_inclusive_and_validated() {
        assert_eq!(
            range_values(&range(10.0, 20.0, Some(5.0))).unwrap(),
            vec![10.0, 15.0, 20.0]
        );
        assert_eq!(
            range_values(&range(0.0, 1.0, None)).unwrap(),
            vec![0.0, 0.25, 0.5, 0.75, 1.0]
        );
        assert!(range_values(&range(2.0, 1.0, None)).is_err());
        assert!(range_values(&range(0.0, 1.0, Some(0.0))).is_err());
    }

    #[test]
    fn grid_is_the_cartesian_product() {
        // "a 5-value stop sweep crossed with a 4-value target sweep is 20 backtests"
        let grid = vec![
            SweptParameter {
                key: "stop".into(),
                values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
            },
            SweptParameter {
                key: "target".into(),
                values: vec![1.0, 2.0, 3.0, 4.0],
            },
        ];
        let c = combinations(&grid);
        assert_eq!(c.len(), 20);
        assert_eq!(c[1][0].value, 1.0);
        assert_eq!(c[1][1].value, 2.0);
        assert_eq!(c[19][0].value, 5.0);
        assert_eq!(c[19][1].value, 4.0);
    }
}
