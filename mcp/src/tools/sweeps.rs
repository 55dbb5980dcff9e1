//! Parameter sweeps: `setup_optimization` (nothing runs), `run_optimization`,
//! `get_optimization`. Every finished combination is written as it finishes.

use crate::args::Args;
use crate::backend::{BackendError, GuardPlan, SweepEnd};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use settle_engine::sweep::walkforward::FoldPlan;
use settle_engine::sweep::{Direction, Grid, Objective, Param, SweepError, SweepSpec};
use settle_strategies::{guards, rules};

use super::strategies::{kickoff_reply, start_failure, KickoffOut};
use super::SettleServer;
use crate::model::{
    CanonicalParameter, HeadlineMetrics, OptimizationRecord, OptimizationRow, RunFacts,
    KIND_OPTIMIZATION,
};
use crate::ops::Kickoff;
use crate::reply::{fix, input_schema, output_schema, reply, Failure, ToolResult};

/// Largest grid one MCP sweep may hold: below the engine's default cap because every row is
/// stored in SQLite and re-read by each get_optimization. (setup_optimization's description
/// states it too.)
const MAX_COMBINATIONS: usize = 10_000;
/// Points per parameter when no step is given.
const DEFAULT_POINTS: u32 = 5;

#[allow(missing_docs)]
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamRange {
    /// A `key` from the strategy's canonicalParameters.
    pub key: String,
    pub min: f64,
    pub max: f64,
    /// Exact decimal step, max included when on it. Default: 1 for whole-number parameters,
    /// else 5 even points.
    pub step: Option<f64>,
}

/// What the best combination maximises (max_drawdown: the smallest drawdown wins).
#[allow(missing_docs)]
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
    /// The ranked metric of a stored row, as the engine's objective reads it; `None` when it
    /// is undefined (no trades, flat equity). avgPnlPerTrade is not stored: it is the
    /// engine's total P&L over the trade count.
    fn value(self, m: &HeadlineMetrics) -> Option<f64> {
        match self {
            RankBy::TotalPnl => Some(m.total_pnl),
            RankBy::AvgPnlPerTrade => {
                (m.trade_count > 0).then(|| m.total_pnl / m.trade_count as f64)
            }
            RankBy::WinRate => m.win_rate,
            RankBy::SharpeRatio => m.sharpe_ratio,
            RankBy::MaxDrawdown => Some(m.max_drawdown),
        }
        .filter(|v| v.is_finite())
    }

    /// The objective value of `row` when it ranks: it traded and its metric is defined (the
    /// engine's rule: a combination without a trade never ranks).
    fn ranked_value(self, row: &OptimizationRow) -> Option<f64> {
        row.metrics
            .as_ref()
            .filter(|m| m.trade_count > 0)
            .and_then(|m| self.value(m))
    }

    /// The snake_case name, as setup_optimization takes it.
    fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The engine's objective for the same ranking, which picks the best the sweep judges.
    fn spec(self) -> SweepSpec {
        let (metric, direction) = match self {
            RankBy::TotalPnl => ("totalPnl", Direction::Max),
            RankBy::AvgPnlPerTrade => ("avgPnlPerTrade", Direction::Max),
            RankBy::WinRate => ("winRate", Direction::Max),
            RankBy::SharpeRatio => ("sharpeRatio", Direction::Max),
            RankBy::MaxDrawdown => ("maxDrawdown", Direction::Min),
        };
        SweepSpec {
            objective: Objective {
                metric: metric.into(),
                direction,
            },
            constraints: Vec::new(),
        }
    }
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupArgs {
    pub session_id: String,
    pub artifact_id: String,
    /// One range per swept parameter; the grid is their Cartesian product.
    pub parameters: Vec<ParamRange>,
    /// Metric that picks best_result.
    #[serde(default)]
    pub rank_by: RankBy,
    /// Hold out the window's last share, e.g. "20%": sweep in sample, run the best on the rest.
    pub holdout: Option<String>,
    /// Rolling walk-forward in trading dates, "train=500,test=125[,step=125]".
    pub walk_forward: Option<String>,
}

/// Stored as the optimization's config.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SweepConfig {
    rank_by: RankBy,
    grid: Vec<SweptParameter>,
    #[serde(default)]
    holdout: Option<f64>,
    #[serde(default)]
    walk_forward: Option<FoldPlan>,
}

impl SweepConfig {
    /// The guards its sweep runs: DSR and PBO always, holdout and walk-forward as set up.
    fn guards(&self) -> GuardPlan {
        GuardPlan {
            holdout: self.holdout,
            walk_forward: self.walk_forward,
            pbo_blocks: PBO_BLOCKS,
        }
    }
}

/// CSCV blocks of the PBO, as `settle sweep`'s default.
const PBO_BLOCKS: usize = 16;

/// One swept parameter and the values the grid gives it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SweptParameter {
    /// The parameter's key, from the strategy's canonicalParameters.
    pub key: String,
    /// Its values, in grid order.
    pub values: Vec<f64>,
}

/// A configured sweep, ready for run_optimization.
#[derive(Debug, Serialize)]
pub struct SetupOut {
    /// `opt_`-prefixed id of the sweep.
    pub optimization_id: String,
    /// Combinations in the grid (the product of the value counts).
    pub total_combinations: u64,
    /// Every swept parameter with its values, the first varying slowest.
    pub grid: Vec<SweptParameter>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunArgs {
    pub session_id: String,
    pub optimization_id: String,
    pub idempotency_key: Option<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOptimizationArgs {
    pub session_id: String,
    pub optimization_id: String,
    /// First row to return (default 0).
    pub offset: Option<u32>,
    /// Rows per page, 0 to 500 (default 10).
    pub limit: Option<u32>,
    /// `rank` (best first; default) or `combination` (grid order).
    pub order: Option<RowOrder>,
}

/// How get_optimization orders its rows.
#[allow(missing_docs)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowOrder {
    #[default]
    Rank,
    Combination,
}

/// Rows in one get_optimization answer unless asked otherwise.
const DEFAULT_ROWS: u32 = 10;

/// A sweep's state, as wait_for_completion and get_optimization report it.
#[derive(Debug, Serialize)]
pub struct OptimizationSummary {
    /// `opt_`-prefixed id of the sweep.
    pub optimization_id: String,
    /// The strategy version it sweeps.
    pub artifact_id: String,
    /// configured, running, succeeded, failed or cancelled.
    pub status: String,
    /// Combinations in the grid.
    pub total_combinations: u64,
    /// Finished combinations (including failed ones).
    pub completed: u64,
    /// Finished combinations whose run failed.
    pub failed_count: u64,
    /// The best finished combination by the sweep's `rank_by`; `None` while none ranks.
    pub best_result: Option<OptimizationRow>,
    /// Deflated Sharpe Ratio of best_result (Bailey & López de Prado): the probability, 0 to
    /// 1, that its true daily Sharpe ratio beats the best of as many no-skill trials as the
    /// sweep ran; null until the sweep completes, after a cancel, or when it cannot be
    /// computed (the summary text says why).
    pub deflated_sharpe_ratio: Option<f64>,
    /// Finished combinations with a Sharpe ratio, the trials deflated_sharpe_ratio counts.
    pub deflated_sharpe_trials: Option<u64>,
    /// Probability of Backtest Overfitting of the grid (CSCV, 16 blocks): the share of splits
    /// where the in-sample best ranks in the bottom half out of sample; null until complete.
    pub pbo: Option<f64>,
    /// The in-sample best on the held-out dates (setup_optimization holdout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdout_out_of_sample: Option<crate::model::HeadlineMetrics>,
    /// The stitched out-of-sample result of the walk-forward (setup_optimization walk_forward).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walk_forward_out_of_sample: Option<crate::model::HeadlineMetrics>,
    /// Guards that could not be computed, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guards_not_computed: Vec<String>,
    /// Finished combinations without a single trade (never best_result).
    pub no_trade_count: u64,
    /// What the sweep traded (series, resolved window, costs) and every caveat, from its
    /// best combination's run; absent until the sweep finishes.
    #[serde(flatten)]
    pub facts: Option<RunFacts>,
    #[serde(skip)]
    deflated_sharpe_note: Option<String>,
}

impl OptimizationSummary {
    /// The sweep in words: progress, the best, its judgement and the caveats.
    pub(super) fn text(&self) -> String {
        let best = match &self.best_result {
            Some(b) => format!(
                " Best: combination {} ({}): {}.",
                b.combo_index,
                b.parameters
                    .iter()
                    .map(|p| format!("{}={}", p.key, p.value))
                    .collect::<Vec<_>>()
                    .join(", "),
                b.metrics
                    .as_ref()
                    .map(crate::model::HeadlineMetrics::text)
                    .unwrap_or_default()
            ),
            None if self.completed > 0
                && self.no_trade_count + self.failed_count == self.completed =>
            {
                " No best: no finished combination made a trade.".to_string()
            }
            None => String::new(),
        };
        format!(
            "Optimization {} {}: {}/{} done, {} failed, {} without trades{}.{best}{}{}{}",
            self.optimization_id,
            self.status,
            self.completed,
            self.total_combinations,
            self.failed_count,
            self.no_trade_count,
            self.facts
                .as_ref()
                .map(|f| format!(" on {}", f.window_text()))
                .unwrap_or_default(),
            self.deflated_sharpe_text(),
            self.guards_text(),
            self.facts
                .as_ref()
                .map(RunFacts::caveat_text)
                .unwrap_or_default()
        )
    }

    /// PBO and the out-of-sample results in words.
    fn guards_text(&self) -> String {
        let mut out = String::new();
        if let Some(p) = self.pbo {
            out.push_str(&format!(" PBO {p:.3}."));
        }
        for (name, m) in [
            (
                "Holdout (the in-sample best on the held-out dates)",
                &self.holdout_out_of_sample,
            ),
            (
                "Walk-forward, stitched out of sample",
                &self.walk_forward_out_of_sample,
            ),
        ] {
            if let Some(m) = m {
                out.push_str(&format!(" {name}: {}.", m.text()));
            }
        }
        out
    }

    /// One line on the best's Deflated Sharpe Ratio, or why there is none.
    pub(super) fn deflated_sharpe_text(&self) -> String {
        match (self.deflated_sharpe_ratio, self.deflated_sharpe_trials) {
            (Some(dsr), Some(trials)) => format!(
                " Deflated Sharpe ratio of the best: {dsr:.3} (the probability that its true \
                 Sharpe ratio beats the best of {trials} no-skill trials)."
            ),
            _ => self
                .deflated_sharpe_note
                .as_ref()
                .map(|why| format!(" No deflated Sharpe ratio: {why}."))
                .unwrap_or_default(),
        }
    }
}

/// A sweep's state and one page of its rows.
#[derive(Debug, Serialize)]
pub struct OptimizationOut {
    /// The sweep's state.
    #[serde(flatten)]
    pub summary: OptimizationSummary,
    /// Index of the first row of this page.
    pub offset: u64,
    /// Pass as offset for the next page; absent on the last page.
    pub next_offset: Option<u64>,
    /// This page's rows, in the order asked for.
    pub rows: Vec<OptimizationRow>,
    /// MCP resource with every finished row at once (resources/read).
    pub rows_uri: String,
}

#[tool_router(router = sweep_tools, vis = "pub(super)")]
impl SettleServer {
    /// `setup_optimization`: configures a parameter sweep of a version. The client reads the
    /// `description` of the attribute below.
    #[tool(
        description = "Set up a parameter sweep of one strategy version: per parameter {key, min, max, step?} (keys from list_strategies canonicalParameters); at most 10,000 combinations. Nothing runs yet; returns optimization_id and the grid size.",
        input_schema = input_schema::<SetupArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn setup_optimization(&self, Args(a): Args<SetupArgs>) -> ToolResult<SetupOut> {
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        if a.parameters.is_empty() {
            return Err(fix(
                "parameters is empty: give at least one {key, min, max}",
            ));
        }
        let params = a
            .parameters
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let keys = s.canonical_parameters.iter().map(|p| p.key.as_str());
                let at = rules::parameter_position(&r.key, keys).map_err(|e| {
                    fix(format!(
                        "parameters[{i}].key: unknown parameter key '{}'; this strategy's keys \
                         are: {}",
                        e.key,
                        e.known.join(", ")
                    ))
                })?;
                r.checked(&s.canonical_parameters[at])
                    .map_err(|e| fix(format!("parameters[{i}]: {e}")))?
                    .to_param()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let expanded = engine_grid(&params)?;
        let total = expanded.total_combinations() as u64;
        let grid: Vec<SweptParameter> = expanded
            .keys()
            .iter()
            .zip(expanded.values())
            .map(|(key, values)| SweptParameter {
                key: key.clone(),
                values: values.clone(),
            })
            .collect();
        if a.holdout.is_some() && a.walk_forward.is_some() {
            return Err(fix(
                "holdout and walk_forward are two plans: give one (a holdout judges one \
                 in-sample pick; a walk-forward re-picks on every fold)",
            ));
        }
        let config = SweepConfig {
            rank_by: a.rank_by,
            grid: grid.clone(),
            holdout: a
                .holdout
                .as_deref()
                .map(guards::parse_holdout)
                .transpose()
                .map_err(|e| fix(format!("holdout: {e}")))?,
            walk_forward: a
                .walk_forward
                .as_deref()
                .map(guards::parse_walk_forward)
                .transpose()
                .map_err(|e| fix(format!("walk_forward: {e}")))?,
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

    /// `run_optimization`: starts a configured sweep, as an operation. The client reads the
    /// `description` of the attribute below.
    #[tool(
        description = "Start a configured sweep. Async: returns operation_id; then wait_for_completion(task='optimization') and get_optimization. One running sweep per session.",
        input_schema = input_schema::<RunArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn run_optimization(&self, Args(a): Args<RunArgs>) -> ToolResult<KickoffOut> {
        self.require_session(&a.session_id)?;
        let opt = self
            .store()
            .get_optimization(&a.optimization_id)?
            .filter(|o| o.session_id == a.session_id)
            .ok_or_else(|| not_found(&a.optimization_id))?;
        if let Some(key) = a.idempotency_key.as_deref() {
            if let Some(first) =
                self.store()
                    .find_operation_by_key(&a.session_id, KIND_OPTIMIZATION, key)?
            {
                if first.subject_id != opt.optimization_id {
                    return Err(super::strategies::reused_key(key));
                }
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
        let grid = engine_grid(&config.params())?;
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
                    let mut failed = 0u64;
                    let end = backend
                        .run_sweep(
                            &artifact.definition,
                            &grid,
                            &config.rank_by.spec(),
                            &config.guards(),
                            ctx,
                            &mut |rows| {
                                failed += rows.iter().filter(|r| r.error.is_some()).count() as u64;
                                store
                                    .record_optimization_rows(&opt_id, rows)
                                    .map_err(|e| BackendError::Internal(e.to_string()))
                            },
                        )
                        .map_err(|e| e.to_string())?;
                    Ok(json!({
                        "optimization_id": opt_id,
                        "best_combo_index": end.best_combo_index,
                        "failed_count": failed,
                        "deflated_sharpe": end.deflated_sharpe,
                        "deflated_sharpe_unavailable": end.deflated_sharpe_unavailable,
                        "facts": end.facts,
                        "pbo": end.pbo,
                        "holdout": end.holdout,
                        "walk_forward": end.walk_forward,
                        "guard_lines": end.guard_lines,
                        "document": end.document,
                    }))
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

    /// `get_optimization`: a sweep's state and a page of its rows. The client reads the
    /// `description` of the attribute below.
    #[tool(
        description = "Read a sweep: progress, best_result, its deflated Sharpe ratio, the caveats of the data, and the top 10 finished rows by rank (page with offset/limit, or order='combination'). Works while it runs and after a cancel.",
        input_schema = input_schema::<GetOptimizationArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_optimization(
        &self,
        Args(a): Args<GetOptimizationArgs>,
    ) -> ToolResult<OptimizationOut> {
        self.require_session(&a.session_id)?;
        let limit = a.limit.unwrap_or(DEFAULT_ROWS);
        if limit > 500 {
            return Err(fix(format!("limit must be at most 500, got {limit}")));
        }
        let (opt, mut rows) = self
            .sweep_of(&a.session_id, &a.optimization_id)?
            .ok_or_else(|| not_found(&a.optimization_id))?;
        let rank_by = rank_by_of(&opt.config);
        let summary = self.summarize_sweep(opt, &rows)?;
        if a.order.unwrap_or_default() == RowOrder::Rank {
            let spec = rank_by.spec();
            rows.sort_by(|x, y| rank_order(rank_by, &spec, x, y));
        }
        let total = rows.len() as u64;
        let offset = u64::from(a.offset.unwrap_or(0)).min(total);
        let end = (offset + u64::from(limit)).min(total);
        let text = summary.text();
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
    /// The sweep `optimization_id` of `session_id`; `None` when it is not this session's.
    pub(super) fn optimization_summary(
        &self,
        session_id: &str,
        optimization_id: &str,
    ) -> Result<Option<OptimizationSummary>, Failure> {
        self.sweep_of(session_id, optimization_id)?
            .map(|(opt, rows)| self.summarize_sweep(opt, &rows))
            .transpose()
    }

    /// The sweep and its finished rows, read once; `None` when it is not this session's.
    fn sweep_of(
        &self,
        session_id: &str,
        optimization_id: &str,
    ) -> Result<Option<(OptimizationRecord, Vec<OptimizationRow>)>, Failure> {
        let Some(opt) = self
            .store()
            .get_optimization(optimization_id)?
            .filter(|o| o.session_id == session_id)
        else {
            return Ok(None);
        };
        let rows = self.store().optimization_rows(optimization_id)?;
        Ok(Some((opt, rows)))
    }

    /// How sweep `opt` ended (its best, guards and document); `None` until it ends.
    pub(super) fn sweep_end(&self, opt: &OptimizationRecord) -> Result<Option<SweepEnd>, Failure> {
        Ok(match &opt.operation_id {
            Some(id) => self
                .store()
                .get_operation(id)?
                .and_then(|op| op.result)
                .and_then(|r| serde_json::from_value::<SweepEnd>(r).ok()),
            None => None,
        })
    }

    /// The summary of `opt` with its finished `rows`.
    fn summarize_sweep(
        &self,
        opt: OptimizationRecord,
        rows: &[OptimizationRow],
    ) -> Result<OptimizationSummary, Failure> {
        let end = self.sweep_end(&opt)?;
        // A sweep that ended names the engine's best, the one its Deflated Sharpe judges;
        // until then the best so far is ranked in the engine's order.
        let best_result = match &end {
            Some(end) => end
                .best_combo_index
                .and_then(|i| rows.iter().find(|r| r.combo_index == i)),
            None => {
                let rank_by = rank_by_of(&opt.config);
                let spec = rank_by.spec();
                rows.iter()
                    .filter(|r| rank_by.ranked_value(r).is_some())
                    .min_by(|x, y| rank_order(rank_by, &spec, x, y))
            }
        }
        .cloned();
        let end = end.unwrap_or_default();
        // Why there is no Deflated Sharpe, when there is none.
        let (judged, note) = (end.deflated_sharpe, end.deflated_sharpe_unavailable);
        Ok(OptimizationSummary {
            no_trade_count: rows
                .iter()
                .filter(|r| r.metrics.as_ref().is_some_and(|m| m.trade_count == 0))
                .count() as u64,
            facts: end.facts,
            pbo: end.pbo,
            holdout_out_of_sample: end.holdout,
            walk_forward_out_of_sample: end.walk_forward,
            guards_not_computed: end
                .guard_lines
                .iter()
                .filter_map(|l| l.trim().strip_prefix("not computed: "))
                .map(str::to_string)
                .collect(),
            deflated_sharpe_ratio: judged.as_ref().map(|d| d.deflated_sharpe),
            deflated_sharpe_trials: judged.as_ref().map(|d| d.trials),
            deflated_sharpe_note: note,
            optimization_id: opt.optimization_id,
            artifact_id: opt.artifact_id,
            status: opt.status,
            total_combinations: opt.total_combinations,
            completed: rows.len() as u64,
            failed_count: rows.iter().filter(|r| r.error.is_some()).count() as u64,
            best_result,
        })
    }
}

/// A sweep's metric over two of its parameters, the others held at the best combination's
/// values: what get_optimization_chart draws.
pub(super) struct Surface {
    pub x_key: String,
    pub y_key: String,
    pub x_values: Vec<f64>,
    pub y_values: Vec<f64>,
    pub z: Vec<Vec<Option<f64>>>,
    pub best: Option<(usize, usize)>,
    /// The rank_by metric drawn (a drawdown as a negative number, so deeper is redder).
    pub metric: String,
    /// `key=value` of the parameters held fixed.
    pub held: Vec<String>,
}

impl SettleServer {
    /// The surface of sweep `optimization_id` of `session_id` over `x` and `y` (default: its
    /// first two parameters; a one-parameter sweep is one row).
    pub(super) fn sweep_surface(
        &self,
        session_id: &str,
        optimization_id: &str,
        x: Option<&str>,
        y: Option<&str>,
    ) -> Result<(OptimizationSummary, Surface), Failure> {
        let (opt, rows) = self
            .sweep_of(session_id, optimization_id)?
            .ok_or_else(|| not_found(optimization_id))?;
        let config: SweepConfig = serde_json::from_value(opt.config.clone())
            .map_err(|e| fix(format!("stored sweep is unreadable: {e}")))?;
        let summary = self.summarize_sweep(opt, &rows)?;
        let keys: Vec<&str> = config.grid.iter().map(|p| p.key.as_str()).collect();
        let pick =
            |want: Option<&str>, default: usize, arg: &str| -> Result<Option<usize>, Failure> {
                match want {
                    Some(k) => keys.iter().position(|x| *x == k).map(Some).ok_or_else(|| {
                        fix(format!(
                            "{arg}: `{k}` is not swept here; the keys are {}",
                            keys.join(", ")
                        ))
                    }),
                    None => Ok((default < keys.len()).then_some(default)),
                }
            };
        let ix = pick(x, 0, "x")?.unwrap_or(0);
        let iy = pick(y, if ix == 1 { 0 } else { 1 }, "y")?;
        if Some(ix) == iy {
            return Err(fix("x, y: pick two different parameters"));
        }
        let best = summary.best_result.clone();
        let best_value = |k: &str| {
            best.as_ref()
                .and_then(|b| b.parameters.iter().find(|p| p.key == k))
                .map(|p| p.value)
        };
        let held: Vec<(usize, f64)> = (0..keys.len())
            .filter(|&k| k != ix && Some(k) != iy)
            .map(|k| (k, best_value(keys[k]).unwrap_or(config.grid[k].values[0])))
            .collect();
        let x_values = config.grid[ix].values.clone();
        let y_values = iy.map_or_else(|| vec![0.0], |k| config.grid[k].values.clone());
        let mut z = vec![vec![None; x_values.len()]; y_values.len()];
        let direction = config.rank_by.spec().objective.direction;
        let mut best_cell = None;
        for row in &rows {
            let value = |k: usize| {
                row.parameters
                    .iter()
                    .find(|p| p.key == keys[k])
                    .map(|p| p.value)
            };
            if held.iter().any(|&(k, v)| value(k) != Some(v)) {
                continue;
            }
            let cx = value(ix).and_then(|v| x_values.iter().position(|x| *x == v));
            let cy = match iy {
                Some(k) => value(k).and_then(|v| y_values.iter().position(|y| *y == v)),
                None => Some(0),
            };
            let (Some(cx), Some(cy)) = (cx, cy) else {
                continue;
            };
            // Drawn so that higher is better: a drawdown as a negative number.
            z[cy][cx] = config.rank_by.ranked_value(row).map(|v| match direction {
                Direction::Max => v,
                Direction::Min => -v,
            });
            if best
                .as_ref()
                .is_some_and(|b| b.combo_index == row.combo_index)
            {
                best_cell = Some((cx, cy));
            }
        }
        Ok((
            summary,
            Surface {
                x_key: keys[ix].to_string(),
                y_key: iy.map_or_else(String::new, |k| keys[k].to_string()),
                x_values,
                y_values,
                z,
                best: best_cell,
                metric: config.rank_by.name(),
                held: held
                    .iter()
                    .map(|&(k, v)| format!("{}={v}", keys[k]))
                    .collect(),
            },
        ))
    }
}

fn rank_by_of(config: &serde_json::Value) -> RankBy {
    serde_json::from_value::<SweepConfig>(config.clone())
        .map(|c| c.rank_by)
        .unwrap_or_default()
}

/// Best first: the rows that rank in the engine's order ([`Objective::rank`], the order of
/// the sweep's own best); after them, in combination order, the rows that traded without a
/// defined metric, then those without a trade, then the failed ones.
fn rank_order(
    rank_by: RankBy,
    spec: &SweepSpec,
    x: &OptimizationRow,
    y: &OptimizationRow,
) -> std::cmp::Ordering {
    let (vx, vy) = (rank_by.ranked_value(x), rank_by.ranked_value(y));
    if let (Some(a), Some(b)) = (vx, vy) {
        return spec
            .objective
            .rank((a, x.combo_index as usize), (b, y.combo_index as usize));
    }
    let tier = |r: &OptimizationRow, ranked: bool| match &r.metrics {
        _ if ranked => 0,
        Some(m) if m.trade_count > 0 => 1,
        Some(_) => 2,
        None => 3,
    };
    tier(x, vx.is_some())
        .cmp(&tier(y, vy.is_some()))
        .then(x.combo_index.cmp(&y.combo_index))
}

/// The answer for an optimization id this session does not hold.
fn not_found(optimization_id: &str) -> Failure {
    fix(format!(
        "optimization_id '{optimization_id}' was not found in this session (an id answers only \
         in the session that made it)"
    ))
}

impl ParamRange {
    /// This range checked against the parameter it sweeps: inside its bounds, and on whole
    /// numbers for an integer parameter, whose missing step means 1. Checked at setup so a
    /// grid never fails combination by combination later.
    fn checked(&self, p: &CanonicalParameter) -> Result<ParamRange, String> {
        let key = &self.key;
        let (lo, hi) = (
            p.min.unwrap_or(f64::NEG_INFINITY),
            p.max.unwrap_or(f64::INFINITY),
        );
        for (name, v) in [("min", self.min), ("max", self.max)] {
            if !v.is_finite() {
                return Err(format!("`{key}` {name} must be a number, got {v}"));
            }
            if v < lo || v > hi {
                return Err(format!(
                    "`{key}` {name} {v} is outside the parameter's bounds {lo}..{hi}"
                ));
            }
        }
        if !p.integer {
            return Ok(self.clone());
        }
        let step = self.step.unwrap_or(1.0);
        for (name, v) in [("min", self.min), ("max", self.max), ("step", step)] {
            if v.fract() != 0.0 {
                return Err(format!(
                    "`{key}` takes whole numbers only (a period or a bar count): {name} {v} is \
                     not one"
                ));
            }
        }
        Ok(ParamRange {
            step: Some(step),
            ..self.clone()
        })
    }

    /// The engine's parameter: a range on its exact decimal lattice when a step is given,
    /// else [`DEFAULT_POINTS`] evenly spaced values (one when min = max).
    fn to_param(&self) -> Result<Param, Failure> {
        let key = self.key.clone();
        let (min, max) = (self.min, self.max);
        Ok(match self.step {
            Some(step) => Param::Range {
                key,
                min,
                max,
                step,
            },
            None if min == max => Param::List {
                key,
                values: vec![min],
            },
            None if min < max => {
                let n = f64::from(DEFAULT_POINTS - 1);
                Param::List {
                    key,
                    values: (0..DEFAULT_POINTS)
                        .map(|i| min + (max - min) * f64::from(i) / n)
                        .collect(),
                }
            }
            None => {
                return Err(fix(format!(
                    "parameters: parameter `{key}`: min {min} is above max {max}"
                )))
            }
        })
    }
}

impl SweepConfig {
    /// The stored grid as the engine's parameters (value lists, already expanded).
    fn params(&self) -> Vec<Param> {
        self.grid
            .iter()
            .map(|p| Param::List {
                key: p.key.clone(),
                values: p.values.clone(),
            })
            .collect()
    }
}

/// The engine's grid of `params` under this server's cap; a problem is a tool error naming
/// the parameter or the count.
fn engine_grid(params: &[Param]) -> Result<Grid, Failure> {
    Grid::with_cap(params, MAX_COMBINATIONS).map_err(|e| match e {
        SweepError::TooManyCombinations { count, cap } => fix(format!(
            "parameters: the grid has {count} combinations, over this server's cap of {cap}; \
             use larger steps, narrower ranges or fewer parameters"
        )),
        e => fix(format!("parameters: {e}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(key: &str, min: f64, max: f64, step: Option<f64>) -> ParamRange {
        ParamRange {
            key: key.into(),
            min,
            max,
            step,
        }
    }

    fn grid(ranges: &[ParamRange]) -> Result<Grid, String> {
        let params = ranges
            .iter()
            .map(ParamRange::to_param)
            .collect::<Result<Vec<_>, _>>();
        params
            .and_then(|p| engine_grid(&p))
            .map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn ranges_are_inclusive_exact_and_validated() {
        let g = grid(&[range("k", 10.0, 20.0, Some(5.0))]).unwrap();
        assert_eq!(g.values(), [vec![10.0, 15.0, 20.0]]);
        // Decimal steps land on the literals, not on drifting sums (0.1 + 0.2 = 0.30000000000000004).
        let g = grid(&[range("k", 0.1, 0.5, Some(0.1))]).unwrap();
        assert_eq!(g.values(), [vec![0.1, 0.2, 0.3, 0.4, 0.5]]);
        let g = grid(&[range("k", 0.0, 1.0, None)]).unwrap();
        assert_eq!(g.values(), [vec![0.0, 0.25, 0.5, 0.75, 1.0]]);
        assert_eq!(
            grid(&[range("k", 3.0, 3.0, None)]).unwrap().values(),
            [vec![3.0]]
        );
        for (r, want) in [
            (range("k", 2.0, 1.0, None), "min 2 is above max 1"),
            (range("k", 2.0, 1.0, Some(1.0)), "min 2 is above max 1"),
            (range("k", 0.0, 1.0, Some(0.0)), "step 0 must be above 0"),
        ] {
            let e = grid(&[r]).unwrap_err();
            assert!(
                e.contains("parameters: parameter `k`") && e.contains(want),
                "{e}"
            );
        }
    }

    /// A stored row: `trades` and `sharpe` as given, total P&L 10 × index, drawdown
    /// 100 − index; `None` metrics for a failed one.
    fn row(index: u64, trades: Option<u64>, sharpe: Option<f64>) -> OptimizationRow {
        OptimizationRow {
            combo_index: index,
            parameters: vec![],
            metrics: trades.map(|trade_count| HeadlineMetrics {
                trade_count,
                total_pnl: 10.0 * index as f64,
                win_rate: None,
                max_drawdown: 100.0 - index as f64,
                sharpe_ratio: sharpe,
                profit_factor: None,
            }),
            error: trades.is_none().then(|| "failed".to_string()),
        }
    }

    #[test]
    fn ranked_pages_follow_the_engine_order_then_the_rows_that_do_not_rank() {
        let rows = [
            row(0, None, None),
            row(1, Some(0), Some(2.0)),
            row(2, Some(3), None),
            row(3, Some(3), Some(0.5)),
            row(4, Some(3), Some(1.5)),
            row(5, Some(3), Some(0.5)),
            row(6, Some(3), None),
        ];
        let order = |rank_by: RankBy| {
            let spec = rank_by.spec();
            let mut sorted = rows.to_vec();
            sorted.sort_by(|x, y| rank_order(rank_by, &spec, x, y));
            sorted.iter().map(|r| r.combo_index).collect::<Vec<_>>()
        };
        // By Sharpe: 1.5, then the tie of 0.5 in combination order; then the rows that traded
        // without a Sharpe, the one without a trade, the failed one.
        assert_eq!(order(RankBy::SharpeRatio), [4, 3, 5, 2, 6, 1, 0]);
        // The smallest drawdown (the highest index) first; no trade and failed last.
        assert_eq!(order(RankBy::MaxDrawdown), [6, 5, 4, 3, 2, 1, 0]);
    }

    #[test]
    fn grid_is_the_cartesian_product_first_key_slowest() {
        // "a 5-value stop sweep crossed with a 4-value target sweep is 20 backtests"
        let g = grid(&[
            range("stop", 1.0, 5.0, Some(1.0)),
            range("target", 1.0, 4.0, Some(1.0)),
        ])
        .unwrap();
        assert_eq!(g.total_combinations(), 20);
        assert_eq!(g.combination(1), [1.0, 2.0]);
        assert_eq!(g.combination(19), [5.0, 4.0]);
    }

    #[test]
    fn a_grid_over_the_cap_names_its_size_and_the_cap() {
        let e = grid(&[
            range("a", 1.0, 101.0, Some(1.0)),
            range("b", 1.0, 100.0, Some(1.0)),
        ])
        .unwrap_err();
        assert!(
            e.contains("the grid has 10100 combinations, over this server's cap of 10000"),
            "{e}"
        );
    }
}
