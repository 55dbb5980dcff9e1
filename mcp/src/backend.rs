//! The seam between the MCP server and the computing crates. The server owns sessions,
//! versions, operations and persistence; a [`Backend`] owns what a strategy *means*: how a
//! definition compiles, how a backtest runs, which templates and datasets exist. The binary
//! serves [`EngineBackend`](crate::EngineBackend); [`Unwired`] stays for tests that need no engine.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use settle_engine::sweep::{Grid, SweepSpec};
pub use settle_strategies::guards::GuardPlan;

pub use crate::model::{BacktestOutput, StrategyInput};
use crate::model::{CanonicalParameter, HeadlineMetrics, OptimizationRow, RunFacts};

/// What a job running on a backend thread can ask of the server: whether `cancel_task` asked
/// it to stop, and where to report its progress. The operation manager's
/// [`JobContext`](crate::ops::JobContext) implements it; the backend needs nothing more of
/// the server (nor of its database).
pub trait Job: Sync {
    /// True once the job was asked to stop.
    fn is_cancelled(&self) -> bool;
    /// Reports `done` of `total` steps.
    fn progress(&self, done: u64, total: u64);
}

/// A definition the backend accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledStrategy {
    /// Root ticker the strategy trades, e.g. `ES`.
    pub ticker: String,
    /// Self-contained definition stored with the version and handed back to `run_backtest`.
    pub definition: Value,
    /// The strategy's tunable numbers, the keys `setup_optimization` sweeps.
    pub canonical_parameters: Vec<CanonicalParameter>,
}

/// What a finished sweep adds to its rows: its best combination and that one's Deflated
/// Sharpe Ratio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepEnd {
    /// The engine's best combination (`SweepResult::best_result`), the one the Deflated
    /// Sharpe judges; `None` when no combination ranks.
    #[serde(default)]
    pub best_combo_index: Option<u64>,
    /// The Deflated Sharpe of `best_combo_index`; `None` when it could not be computed
    /// (`deflated_sharpe_unavailable` says why).
    pub deflated_sharpe: Option<BestDeflatedSharpe>,
    /// Why `deflated_sharpe` is absent (cancelled sweep, no best, too few daily returns).
    pub deflated_sharpe_unavailable: Option<String>,
    /// What the sweep traded and its caveats (from the best combination's run).
    #[serde(default)]
    pub facts: Option<RunFacts>,
    /// Probability of Backtest Overfitting of the grid (CSCV), when computed.
    #[serde(default)]
    pub pbo: Option<f64>,
    /// The in-sample best on the held-out dates, when a holdout was asked for.
    #[serde(default)]
    pub holdout: Option<HeadlineMetrics>,
    /// The stitched out-of-sample result of the walk-forward, when one was asked for.
    #[serde(default)]
    pub walk_forward: Option<HeadlineMetrics>,
    /// The guards in words, as `settle sweep` prints them (what was not computed and why
    /// included).
    #[serde(default)]
    pub guard_lines: Vec<String>,
    /// The sweep as one document with its manifest, the bytes `settle sweep --json` prints for
    /// the same inputs; `None` for a cancelled sweep (a part is not a result to prove).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// The Deflated Sharpe Ratio (Bailey & López de Prado 2014) of a sweep's best combination:
/// the probability that its true daily Sharpe ratio beats the best that `trials` strategies
/// without skill would show, so a best picked among many tries counts for less.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestDeflatedSharpe {
    /// The combination judged (the sweep's best).
    pub combo_index: u64,
    /// DSR = PSR(SR₀), 0..1: the probability that the best's true daily Sharpe ratio is above the
    /// expected best of `trials` no-skill strategies.
    pub deflated_sharpe: f64,
    /// Finished combinations with a Sharpe ratio: the trials the best was picked from.
    pub trials: u64,
    /// The best's daily Sharpe ratio.
    pub sharpe: f64,
    /// The expected best daily Sharpe ratio of `trials` no-skill strategies.
    pub expected_max_sharpe: f64,
}

/// How a strategy to assess was found: the strategies tried and, for the best of a sweep, its
/// parameter values and the sweep's PBO.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pick {
    /// Strategies tried to find this one (the session's ledger), at least 1.
    pub trials: usize,
    /// The parameter values of the picked combination, `(key, value)`; empty for a plain version.
    pub parameters: Vec<(String, f64)>,
    /// PBO (0..1) of the sweep the strategy was picked from; `None` when it was not picked from one
    /// or the PBO was not computed.
    pub pbo: Option<f64>,
}

/// A strategy template (`list_templates`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateInfo {
    /// The name `create_strategy` takes as `template`, e.g. `sma_cross`.
    pub name: String,
    /// One line on what the strategy does, written for an LLM choosing a template.
    pub description: String,
    /// The template's tunable numbers with their defaults and bounds.
    pub parameters: Vec<CanonicalParameter>,
}

/// One locally imported series (`list_datasets`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Root ticker, e.g. `ES`.
    pub symbol: String,
    /// `continuous` (a front month), `contract` (one expiry) or `nearby` (unadjusted n-th
    /// nearby such as `CL1`).
    pub kind: String,
    /// The contract or nearby code (`ESZ13`, `CL1`); absent for a continuous series.
    pub contract: Option<String>,
    /// Bar size as settle writes it: `1m`, `5m`, `1h`, `1d`, ...
    pub bar_size: String,
    /// First and last bar, RFC 3339 UTC.
    pub first: String,
    /// Last bar's open time, RFC 3339 UTC.
    pub last: String,
    /// Number of bars stored.
    pub rows: u64,
    /// Closes only: stops and targets are checked on closes, "open" fills use the close.
    pub close_only: bool,
    /// Back-adjustment: `none`, `difference` or `ratio`.
    pub adjustment: String,
}

/// Why a backend call failed. The kind tells the server who can act on it (the model fixes
/// its input or imports a series, a stop was asked for, or the server and its data are at
/// fault); the text goes to the model, so it says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// The call's input cannot be used: invalid rules or arguments, an unknown template or
    /// parameter, a guard plan the window cannot hold.
    #[error("{0}")]
    Invalid(String),
    /// The series the strategy trades is not in the local data store.
    #[error("{0}")]
    MissingSeries(String),
    /// The job was asked to stop before it finished.
    #[error("{0}")]
    Cancelled(String),
    /// Valid rules that could not be run on their series: the signals or the engine refused
    /// (a window without bars, an indicator longer than the data).
    #[error("{0}")]
    Run(String),
    /// A fault of the server or its data: a store that cannot be read or written, a stored
    /// definition that no longer reads, an answer that cannot be written.
    #[error("{0}")]
    Internal(String),
    /// This build has no engine behind the strategy tools.
    #[error("{UNWIRED}")]
    Unwired,
}

/// What a backend call returns.
pub type BackendResult<T> = Result<T, BackendError>;

/// Where [`Backend::run_sweep`] hands finished rows, a batch at a time (the caller persists
/// them); an `Err` stops the sweep.
pub type RowSink<'a> = dyn FnMut(&[OptimizationRow]) -> BackendResult<()> + Send + 'a;

/// The computation behind the strategy tools. Calls to `compile`, `templates` and `datasets`
/// are quick; `run_backtest` and `run_sweep` run on a blocking thread and check
/// `ctx.is_cancelled()` between units of work.
pub trait Backend: Send + Sync + 'static {
    /// Validates client input into a stored definition with its canonical parameters.
    fn compile(&self, input: &StrategyInput) -> BackendResult<CompiledStrategy>;

    /// Runs one deterministic backtest of a stored definition.
    fn run_backtest(&self, definition: &Value, ctx: &dyn Job) -> BackendResult<BacktestOutput>;

    /// Sweeps `definition` over `grid`: every combination backtested (in parallel, on the
    /// current rayon pool), each finished one handed to `on_rows` with its `combo_index`, in
    /// batches, from one thread at a time and before the sweep ends, so the caller can persist
    /// rows as they finish. Batches come in finishing order, not combination order.
    ///
    /// Once `ctx.is_cancelled()`, no new combination starts; every combination that finished
    /// is still handed over. A combination that fails is a row with its `error`. An `Err`
    /// from `on_rows` stops the sweep and is returned; `Err` before any row means the sweep
    /// could not start (bad definition, missing data).
    ///
    /// `spec` picks the best combination, which a sweep that ran to the end judges with the
    /// Deflated Sharpe Ratio ([`SweepEnd`]).
    #[allow(clippy::too_many_arguments)]
    fn run_sweep(
        &self,
        definition: &Value,
        grid: &Grid,
        spec: &SweepSpec,
        guards: &GuardPlan,
        ctx: &dyn Job,
        on_rows: &mut RowSink<'_>,
    ) -> BackendResult<SweepEnd>;

    /// Every built-in strategy template, in catalog order (`list_templates`).
    fn templates(&self) -> Vec<TemplateInfo>;

    /// Every series in the local bar store (`list_datasets`); fails when the store cannot be read.
    fn datasets(&self) -> BackendResult<Vec<DatasetInfo>>;

    /// Reads `file` (DBN, or CSV/Parquet described by `columns`) into the bar store; the
    /// series stored.
    fn import(
        &self,
        _file: &std::path::Path,
        _columns: Option<&settle_data::import::CsvOptions>,
    ) -> BackendResult<Vec<DatasetInfo>> {
        Err(BackendError::Internal(
            "this server has no bar store to import into".into(),
        ))
    }

    /// The self-contained HTML report of a backtest of `definition`, run again (backtests
    /// are deterministic: the same definition on the same data gives the same result), with
    /// the headline metrics of that run.
    fn report(&self, _definition: &Value) -> BackendResult<(String, HeadlineMetrics)> {
        Err(BackendError::Unwired)
    }

    /// The robustness verdict of a backtest of `definition` (`settle_strategies::assess`), as
    /// its JSON.
    fn assess(&self, _definition: &Value, _pick: &Pick) -> BackendResult<Value> {
        Err(BackendError::Unwired)
    }

    /// Every default the language filled into `definition` that `input`'s rules did not
    /// state (inspect_strategy shows them). None by default.
    fn filled_defaults(&self, _input: &StrategyInput, _definition: &Value) -> Vec<FilledDefault> {
        Vec::new()
    }
}

/// A value a strategy got without asking for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilledDefault {
    /// JSON pointer into the definition, e.g. `/atr_period`.
    pub path: String,
    /// The value the strategy got, as its JSON would state it.
    pub value: Value,
    /// Where the value comes from, in words (e.g. the contract's default commission).
    pub why: String,
}

/// A backend without the engine (for tests of the server alone): every computing call says so.
pub struct Unwired;

const UNWIRED: &str =
    "the backtest engine is not wired into this build of settle yet; sessions, symbols and \
     contract specs work, strategies and backtests do not";

impl Backend for Unwired {
    fn compile(&self, _: &StrategyInput) -> BackendResult<CompiledStrategy> {
        Err(BackendError::Unwired)
    }
    fn run_backtest(&self, _: &Value, _: &dyn Job) -> BackendResult<BacktestOutput> {
        Err(BackendError::Unwired)
    }
    fn run_sweep(
        &self,
        _: &Value,
        _: &Grid,
        _: &SweepSpec,
        _: &GuardPlan,
        _: &dyn Job,
        _: &mut RowSink<'_>,
    ) -> BackendResult<SweepEnd> {
        Err(BackendError::Unwired)
    }
    fn templates(&self) -> Vec<TemplateInfo> {
        Vec::new()
    }
    fn datasets(&self) -> BackendResult<Vec<DatasetInfo>> {
        Err(BackendError::Unwired)
    }
}
