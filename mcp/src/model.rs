//! Records as stored in SQLite and shown to clients. The JSON field names follow the AskFutures
//! tool surface (`session_id`, `artifact_id`, `canonicalParameters`, `backtestResults`, …) so its
//! recipes work unchanged.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Operation kind of `create_strategy` / `update_strategy` (the AskFutures `task` name).
pub const KIND_STRATEGY: &str = "strategy_op";
/// Operation kind of `backtest_existing_strategy`.
pub const KIND_BACKTEST: &str = "backtest";
/// Operation kind of `run_optimization`.
pub const KIND_OPTIMIZATION: &str = "optimization";
/// Operation kind of an import_data job.
pub const KIND_IMPORT: &str = "import";

/// Lifecycle of an operation. `queued` and `running` are in flight; the rest are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Accepted, not started yet.
    Queued,
    /// In progress; `progress_done` of `progress_total` units finished.
    Running,
    /// Finished; `result` holds its answer.
    Succeeded,
    /// Stopped by an error (or by a restart while it ran: `interrupted`); `error` says why.
    Failed,
    /// Stopped by `cancel_task`; a sweep keeps the rows it finished.
    Cancelled,
}

impl OpStatus {
    /// The status as stored and shown (`queued`, `running`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::Queued => "queued",
            OpStatus::Running => "running",
            OpStatus::Succeeded => "succeeded",
            OpStatus::Failed => "failed",
            OpStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `s` as [`OpStatus::as_str`] writes it; `None` for any other text.
    pub fn parse(s: &str) -> Option<OpStatus> {
        [
            OpStatus::Queued,
            OpStatus::Running,
            OpStatus::Succeeded,
            OpStatus::Failed,
            OpStatus::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// True once the operation has settled (succeeded, failed or cancelled): it will not change
    /// again.
    pub fn is_terminal(self) -> bool {
        !matches!(self, OpStatus::Queued | OpStatus::Running)
    }
}

/// A session: the workspace that owns strategies, versions, backtests and sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// `ses_` followed by 32 hex digits.
    pub session_id: String,
    /// The title the client gave (`Untitled session` when it gave none).
    pub title: String,
    /// `active` or `archived`.
    pub status: String,
    /// When it was created, RFC 3339 UTC with milliseconds.
    pub created_at: String,
    /// When it last changed, RFC 3339 UTC with milliseconds.
    pub updated_at: String,
}

/// One optimizable parameter of a strategy; `key` is what `setup_optimization` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanonicalParameter {
    /// The parameter's key in the rules, e.g. `fast`.
    pub key: String,
    /// A readable name, e.g. `fast average period`.
    pub label: String,
    /// The value the version uses.
    pub value: f64,
    /// e.g. `entry`, `exit`, `risk`, `indicator`.
    pub category: String,
    /// Smallest value a sweep may try; `None` when the backend states no bound.
    pub min: Option<f64>,
    /// Largest value a sweep may try; `None` when the backend states no bound.
    pub max: Option<f64>,
    /// Whole numbers only (periods, bar counts): a sweep of it steps by whole numbers.
    #[serde(default)]
    pub integer: bool,
}

/// The headline numbers of a backtest (AskFutures `backtestResults`, plus profit factor).
///
/// A ratio that is undefined for this run is `null`, never a made-up 0: win rate without
/// trades, Sharpe with flat daily equity, profit factor without a losing trade. A model that
/// reads 0 would compare it with real values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeadlineMetrics {
    /// Closed trades, including one closed at the end of the data.
    pub trade_count: u64,
    /// Net of commission and slippage, in dollars.
    pub total_pnl: f64,
    /// Winners / trades, 0..1; null without trades.
    pub win_rate: Option<f64>,
    /// Largest peak-to-trough drop of cumulative P&L, in dollars (positive).
    pub max_drawdown: f64,
    /// Annualised Sharpe of daily equity changes; null when they have no variance.
    pub sharpe_ratio: Option<f64>,
    /// Gross profit / gross loss; null without a losing trade.
    #[serde(default)]
    pub profit_factor: Option<f64>,
}

impl HeadlineMetrics {
    /// The headline numbers in words, as the CLI and the report say them.
    pub fn text(&self) -> String {
        settle_engine::words::headline(settle_engine::words::Headline {
            trade_count: self.trade_count,
            total_pnl: self.total_pnl,
            win_rate: self.win_rate,
            max_drawdown: self.max_drawdown,
            sharpe_ratio: self.sharpe_ratio,
        })
    }
}

/// One closed trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Stamp of the bar the entry filled in (its open time), RFC 3339 UTC.
    pub entry_time: String,
    /// Stamp of the bar the exit filled in, RFC 3339 UTC.
    pub exit_time: String,
    /// `long` or `short`.
    pub side: String,
    /// Contracts held (a whole number).
    pub quantity: f64,
    /// Contract held at entry (`ESZ13`); empty when the series names none.
    #[serde(default)]
    pub contract: String,
    /// Contract rolls while the trade was open.
    #[serde(default)]
    pub rolls: u32,
    /// Market prices before slippage.
    pub entry_price: f64,
    /// Market price of the exit before slippage, in the contract's price units.
    pub exit_price: f64,
    /// Commission of the round trip, dollars.
    #[serde(default)]
    pub commission: f64,
    /// Slippage of the round trip, dollars.
    #[serde(default)]
    pub slippage: f64,
    /// Net P&L in dollars, after commission and slippage.
    pub pnl: f64,
    /// stop, target, trailing_stop, time, session_close, signal, reverse, end_of_data.
    pub exit_reason: String,
}

/// What a backtest ran on, and every caveat that changes a number's meaning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunFacts {
    /// Store key of the series traded, e.g. `ES/continuous/1d` or `ES/ESZ13/1m`.
    pub series: String,
    /// Contracts the traded bars came from, in the order held.
    pub contracts: Vec<String>,
    /// The window as asked for, e.g. `last 1 year`.
    pub window: String,
    /// Stamps of the first and last bar traded (the resolved window), and the bar count.
    pub first_bar: String,
    /// Stamp of the last bar traded.
    pub last_bar: String,
    /// Bars in the resolved window.
    pub bars: u64,
    /// Daily returns the Sharpe rests on: one per trading date in the window.
    #[serde(default)]
    pub return_days: u64,
    /// True when the series has closes only: stops, targets and stop entries were checked
    /// against closes, and fills "at the open" used the close.
    pub close_only: bool,
    /// Back-adjustment of the series: `none` (P&L across a roll includes the price gap),
    /// `difference` or `ratio`.
    pub adjustment: String,
    /// Account equity before the first bar.
    #[serde(default)]
    pub starting_capital: f64,
    /// Dollars per contract per side charged, and ticks of slippage per fill.
    pub commission_per_side: f64,
    /// Ticks of slippage charged per fill.
    pub slippage_ticks: u32,
    /// Entry signals not taken (risk sizing gave zero contracts, or no ATR value yet).
    pub skipped_entries: u32,
    /// Every caveat in words: close-only fills, unadjusted rolls, a clamped window.
    pub notes: Vec<String>,
    /// What the run was computed from (series fingerprint, the strategy's canonical JSON,
    /// costs, engine options) and the hash of its full result: `settle rerun` proves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<settle_strategies::manifest::Manifest>,
}

impl RunFacts {
    /// The caveats as one sentence for a summary line; empty without any.
    pub fn caveat_text(&self) -> String {
        if self.notes.is_empty() {
            String::new()
        } else {
            format!(" Caveats: {}.", self.notes.join("; "))
        }
    }

    /// The series and window in words: `ES/continuous/1d, 2022-09-01..2023-08-31 (251 bars)`.
    pub fn window_text(&self) -> String {
        let day = |s: &str| s.get(..10).unwrap_or(s).to_string();
        format!(
            "{}, {}..{} ({} bars)",
            self.series,
            day(&self.first_bar),
            day(&self.last_bar),
            self.bars
        )
    }
}

/// Account equity at the end of one trading date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyPoint {
    /// The trading date, `YYYY-MM-DD`.
    pub date: String,
    /// Account equity in dollars at the close of the date's last bar.
    pub equity: f64,
}

/// One strategy version as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyRecord {
    /// `art_`-prefixed id of this version.
    pub artifact_id: String,
    /// The session that owns it.
    pub session_id: String,
    /// `artifact_id` of version 1 of this chain.
    pub lineage_id: String,
    /// The version this one was made from; `None` for the first of its chain.
    pub parent_artifact_id: Option<String>,
    /// Its number in the chain: 1 for the first, one more than the chain's highest for each update.
    pub version: u32,
    /// `creating` while an operation is in flight, otherwise `ready`.
    pub lifecycle_status: String,
    /// `not_tested`, `passed` or `failed`.
    pub backtest_status: String,
    /// Root ticker the version trades, e.g. `ES`.
    pub ticker: String,
    /// What the strategy does, in the client's words.
    pub description: String,
    /// What the client sent; `update_strategy` applies its changes on top of it.
    pub input: StrategyInput,
    /// The strategy definition as the strategy language reads it.
    pub definition: Value,
    /// The version's tunable numbers, the keys a sweep takes.
    pub canonical_parameters: Vec<CanonicalParameter>,
    /// The most recent backtest of the version, if it has one.
    pub latest_backtest_id: Option<String>,
    /// When the version was created, RFC 3339 UTC with milliseconds.
    pub created_at: String,
}

/// One backtest of a strategy version as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestRecord {
    /// `bt_`-prefixed id of the backtest.
    pub backtest_id: String,
    /// The strategy version it ran.
    pub artifact_id: String,
    /// The session that owns it.
    pub session_id: String,
    /// The operation that ran it.
    pub operation_id: String,
    /// `running`, `passed`, `failed` or `cancelled`.
    pub status: String,
    /// Headline numbers of the run; `None` while it runs or after it failed.
    pub metrics: Option<HeadlineMetrics>,
    /// What the run traded and its caveats; `None` while it runs or after it failed.
    pub facts: Option<RunFacts>,
    /// Every closed trade, in entry order.
    pub trades: Vec<TradeRecord>,
    /// Account equity at the end of each trading date of the window.
    pub daily_equity: Vec<DailyPoint>,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    /// When it was started, RFC 3339 UTC with milliseconds.
    pub created_at: String,
}

/// One parameter sweep of a strategy version as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizationRecord {
    /// `opt_`-prefixed id of the sweep.
    pub optimization_id: String,
    /// The session that owns it.
    pub session_id: String,
    /// The strategy version it sweeps.
    pub artifact_id: String,
    /// The sweep as set up (ranges, ranking metric), see `tools::SetupOptimizationArgs`.
    pub config: Value,
    /// `configured`, then the status of its run operation.
    pub status: String,
    /// Combinations in the grid.
    pub total_combinations: u64,
    /// The operation that runs (or ran) it; `None` until `run_optimization`.
    pub operation_id: Option<String>,
    /// When it was set up, RFC 3339 UTC with milliseconds.
    pub created_at: String,
    /// When it last changed, RFC 3339 UTC with milliseconds.
    pub updated_at: String,
}

/// One finished combination of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizationRow {
    /// Position in the grid's combination order, 0-based.
    pub combo_index: u64,
    /// The combination's parameter values, in grid order.
    pub parameters: Vec<ParameterValue>,
    /// Headline numbers of its run; `None` when it failed.
    pub metrics: Option<HeadlineMetrics>,
    /// Why the combination failed; absent when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A parameter key with the value one run used.
// Part of create_strategy's arguments: its docs are sent in tools/list (see `crate::tools`).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParameterValue {
    pub key: String,
    pub value: f64,
}

/// A job the server runs in the background (strategy build, backtest, sweep, import).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationRecord {
    /// `op_`-prefixed id of the operation.
    pub operation_id: String,
    /// The session that owns it.
    pub session_id: String,
    /// What it does: one of the `KIND_*` constants, e.g. [`KIND_BACKTEST`].
    pub kind: String,
    /// The artifact or optimization this operation works on.
    pub subject_id: String,
    /// Where it is in its lifecycle.
    pub status: OpStatus,
    /// Units of work finished so far (combinations of a sweep, steps of others).
    pub progress_done: u64,
    /// Units of work in all; 0 until the job says.
    pub progress_total: u64,
    /// The job's answer once it succeeded (or the partial answer of a cancelled sweep).
    pub result: Option<Value>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The key a kick-off was given, so a retried call finds this operation.
    pub idempotency_key: Option<String>,
    /// When it was started, RFC 3339 UTC with milliseconds.
    pub created_at: String,
    /// When it last changed, RFC 3339 UTC with milliseconds.
    pub updated_at: String,
}

/// What a client sent to define a strategy (the flat fields of `create_strategy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StrategyInput {
    /// Root ticker to trade, e.g. `ES`.
    pub symbol: String,
    /// Empty when the call gave none: the rules' or template's own, else `1d`.
    pub bar_size: String,
    /// One contract (`ESZ13`) or nearby (`CL1`) to trade instead of the continuous series.
    #[serde(default)]
    pub contract: Option<String>,
    /// Rules document of the strategy language, as a JSON object.
    #[serde(default)]
    pub rules: Option<Value>,
    /// Rules document of the strategy language, as JSON text.
    pub rules_json: Option<String>,
    /// Template name, used when `rules_json` is absent.
    pub template: Option<String>,
    /// Parameter values that override the rules' or template's defaults.
    pub parameters: Vec<ParameterValue>,
    /// Test window in words (`last 2 years`, `since 2020`, `ytd`, `2022-01-01..2023-06-30`);
    /// exclusive with `start`/`end`.
    #[serde(default)]
    pub window: Option<String>,
    /// First date of the test window, `YYYY-MM-DD`; with `end`, instead of `window`.
    pub start: Option<String>,
    /// Last date of the test window, `YYYY-MM-DD` (inclusive).
    pub end: Option<String>,
    /// Dollars per contract per side; `None` = the contract's default.
    pub commission_per_side: Option<f64>,
    /// Ticks of slippage per fill; `None` = the engine's default of 1.
    pub slippage_ticks: Option<f64>,
}

/// A finished backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestOutput {
    /// The run's headline numbers.
    pub metrics: HeadlineMetrics,
    /// What the run traded and every caveat.
    pub facts: RunFacts,
    /// Every closed trade, in entry order.
    pub trades: Vec<TradeRecord>,
    /// Account equity at the end of each trading date of the window.
    pub daily_equity: Vec<DailyPoint>,
}
