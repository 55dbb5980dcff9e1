//! `wait_for_completion` and `cancel_task`: the two tools every async flow ends with.

use std::time::Duration;

use crate::args::Args;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, Peer, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::imports::ImportOut;
use super::strategies::StrategySummary;
use super::sweeps::OptimizationSummary;
use super::SettleServer;
use crate::model::{OperationRecord, KIND_BACKTEST, KIND_IMPORT, KIND_OPTIMIZATION, KIND_STRATEGY};
use crate::reply::{fix, input_schema, output_schema, reply, Failure, ToolResult};

/// Default long-poll, short enough for every client's request timeout.
const DEFAULT_WAIT_SECONDS: f64 = 25.0;
/// Claude Desktop gives up on a tool call after about 60 s.
const MAX_WAIT_SECONDS: f64 = 50.0;

/// The kind of job an operation id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// create_strategy / update_strategy
    StrategyOp,
    /// backtest_existing_strategy
    Backtest,
    /// run_optimization
    Optimization,
    /// import_data
    Import,
}

impl Task {
    fn kind(self) -> &'static str {
        match self {
            Task::StrategyOp => KIND_STRATEGY,
            Task::Backtest => KIND_BACKTEST,
            Task::Optimization => KIND_OPTIMIZATION,
            Task::Import => KIND_IMPORT,
        }
    }
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitArgs {
    /// The session that started the operation.
    pub session_id: String,
    pub operation_id: String,
    /// The kick-off's `task`.
    pub task: Task,
    /// How long to wait, 0 to 50 seconds (default 25).
    pub timeout_seconds: Option<f64>,
}

/// Where an operation stands after a wait.
#[derive(Debug, Serialize)]
pub struct WaitOut {
    /// The operation waited on.
    pub operation_id: String,
    /// What the operation does, as `task` names it (`strategy_op`, `backtest`, `optimization`,
    /// `import`).
    pub task: String,
    /// queued, running, succeeded, failed, cancelled, or timed_out (still running: call again).
    pub status: String,
    /// Units of work finished so far.
    pub progress_done: u64,
    /// Units of work in all; 0 until the job says.
    pub progress_total: u64,
    /// Why the operation failed, when it did.
    pub error: Option<String>,
    /// The strategy after a strategy_op or backtest, with its backtestResults.
    pub strategy: Option<StrategySummary>,
    /// The sweep after an optimization (also partial after a cancel).
    pub optimization: Option<OptimizationSummary>,
    /// The series stored by a finished import, as list_datasets shows them.
    pub imported: Option<Vec<super::reference::DatasetRow>>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelArgs {
    /// The session that started the operation.
    pub session_id: String,
    /// The operation to stop. Omit it to stop the session's running sweep.
    pub operation_id: Option<String>,
}

/// What a cancel request found.
#[derive(Debug, Serialize)]
pub struct CancelOut {
    /// The operation asked to stop.
    pub operation_id: String,
    /// The operation's status right now (a stop takes effect between units of work).
    pub status: String,
    /// False when the operation had already settled: nothing to stop.
    pub cancel_requested: bool,
}

#[tool_router(router = operation_tools, vis = "pub(super)")]
impl SettleServer {
    /// `wait_for_completion`: long-polls an operation. The client reads the `description` of the
    /// attribute below.
    #[tool(
        description = "Long-poll an operation (at most 50 s): status succeeded, failed or cancelled with the result, or timed_out (still running: call again).",
        input_schema = input_schema::<WaitArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn wait_for_completion(
        &self,
        args: Args<WaitArgs>,
        context: RequestContext<RoleServer>,
    ) -> ToolResult<WaitOut> {
        let progress = context.meta.get_progress_token().map(|token| Progress {
            token,
            peer: context.peer.clone(),
        });
        self.wait_operation(args, progress).await
    }

    /// `cancel_task`: asks an operation to stop. The client reads the `description` of the
    /// attribute below.
    #[tool(
        description = "Stop a running operation of this session (without operation_id: its sweep); returns at once, safe to repeat. A sweep keeps its finished rows.",
        input_schema = input_schema::<CancelArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn cancel_task(&self, Args(args): Args<CancelArgs>) -> ToolResult<CancelOut> {
        let session_id = args.session_id;
        let operation_id = match args.operation_id {
            Some(id) => id,
            None => {
                self.require_session(&session_id)?;
                self.ops
                    .running_in_session(&session_id, KIND_OPTIMIZATION)
                    .ok_or_else(|| fix("this session has no running sweep"))?
            }
        };
        // Looked up in the caller's session first: another session's job is never touched.
        self.require_operation(&session_id, &operation_id)?;
        let cancel_requested = self.ops.cancel(&operation_id);
        let op = self.require_operation(&session_id, &operation_id)?;
        let summary = if cancel_requested {
            format!("Cancel requested for {operation_id}; wait_for_completion shows when it stops.")
        } else {
            format!(
                "Operation {operation_id} already {}; nothing to stop.",
                op.status.as_str()
            )
        };
        reply(
            summary,
            CancelOut {
                operation_id,
                status: op.status.as_str().to_string(),
                cancel_requested,
            },
        )
    }
}

/// Where wait_for_completion reports progress: the client's token and connection.
pub struct Progress {
    token: ProgressToken,
    peer: Peer<RoleServer>,
}

/// How often a waiting call with a progress token reports.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

impl SettleServer {
    /// wait_for_completion itself; `progress` (when the client sent a progress token) gets a
    /// notification each second with done/total, the rate and the time left.
    pub async fn wait_operation(
        &self,
        Args(args): Args<WaitArgs>,
        progress: Option<Progress>,
    ) -> ToolResult<WaitOut> {
        let secs = args.timeout_seconds.unwrap_or(DEFAULT_WAIT_SECONDS);
        if !secs.is_finite() || secs < 0.0 {
            return Err(fix(format!(
                "timeout_seconds must be between 0 and {MAX_WAIT_SECONDS}, got {secs}"
            )));
        }
        let secs = secs.min(MAX_WAIT_SECONDS);
        // Check the kind before blocking, so a wrong `task` fails at once.
        let op = self.require_operation(&args.session_id, &args.operation_id)?;
        if op.kind != args.task.kind() {
            return Err(fix(format!(
                "operation {} is a '{}' operation: call again with task='{}'",
                op.operation_id, op.kind, op.kind
            )));
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
        let outcome = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let slice = if progress.is_some() {
                left.min(PROGRESS_EVERY)
            } else {
                left
            };
            let outcome = self
                .ops
                .wait(&args.operation_id, slice)
                .await?
                .ok_or_else(|| fix(format!("unknown operation_id '{}'", args.operation_id)))?;
            match &progress {
                Some(p) if outcome.timed_out && !left.is_zero() => {
                    p.report(&outcome.operation).await;
                }
                _ => break outcome,
            }
        };
        let op = outcome.operation;
        let status = if outcome.timed_out {
            "timed_out".to_string()
        } else {
            op.status.as_str().to_string()
        };
        let (mut strategy, mut optimization, mut imported) = (None, None, None);
        if !outcome.timed_out {
            match op.kind.as_str() {
                KIND_OPTIMIZATION => {
                    optimization = self.optimization_summary(&args.session_id, &op.subject_id)?
                }
                KIND_IMPORT => {
                    imported = op
                        .result
                        .clone()
                        .and_then(|v| serde_json::from_value::<ImportOut>(v).ok())
                }
                _ => strategy = self.strategy_summary(&op.subject_id)?,
            }
        }
        let summary = match status.as_str() {
            "timed_out" => format!(
                "Operation {} still running ({}/{}): call wait_for_completion again.",
                op.operation_id, op.progress_done, op.progress_total
            ),
            "failed" => format!(
                "Operation {} failed: {}",
                op.operation_id,
                op.error.as_deref().unwrap_or("no reason recorded")
            ),
            s => format!(
                "Operation {} {s}.{}",
                op.operation_id,
                match (&optimization, &strategy, &imported) {
                    (Some(o), _, _) => format!(" {}", o.text()),
                    (None, Some(st), _) => st
                        .backtest_results
                        .as_ref()
                        .map(|m| format!(" {}.", m.text()))
                        .unwrap_or_default(),
                    (None, None, Some(i)) => format!(" {}", i.text()),
                    (None, None, None) => String::new(),
                }
            ),
        };
        reply(
            summary,
            WaitOut {
                operation_id: op.operation_id,
                task: op.kind,
                status,
                progress_done: op.progress_done,
                progress_total: op.progress_total,
                error: op.error,
                strategy,
                optimization,
                imported: imported.map(|i| i.imported),
            },
        )
    }
}

impl SettleServer {
    /// The operation, when `session_id` (an existing session) started it.
    fn require_operation(
        &self,
        session_id: &str,
        operation_id: &str,
    ) -> Result<OperationRecord, Failure> {
        self.require_session(session_id)?;
        self.store()
            .get_operation(operation_id)?
            .filter(|op| op.session_id == session_id)
            .ok_or_else(|| {
                fix(format!(
                    "operation_id '{operation_id}' was not found in this session (an id answers \
                     only in the session that started it)"
                ))
            })
    }
}

impl Progress {
    /// One notification: `done/total`, the rate since the operation started and the time
    /// left at that rate. A client that went away is no reason to stop waiting.
    async fn report(&self, op: &OperationRecord) {
        let (done, total) = (op.progress_done as f64, op.progress_total as f64);
        let elapsed = chrono::DateTime::parse_from_rfc3339(&op.created_at)
            .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_milliseconds())
            .unwrap_or(0) as f64
            / 1000.0;
        let rate = if elapsed > 0.0 { done / elapsed } else { 0.0 };
        let mut message = format!("{done}/{total} done, {rate:.1}/s");
        if rate > 0.0 && total > done {
            message.push_str(&format!(", about {:.0} s left", (total - done) / rate));
        }
        let mut note =
            ProgressNotificationParam::new(self.token.clone(), done).with_message(message);
        if total > 0.0 {
            note = note.with_total(total);
        }
        let _ = self.peer.notify_progress(note).await;
    }
}
