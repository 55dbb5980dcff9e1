//! Strategy versions and their backtests: `list_strategies`, `inspect_strategy`,
//! `create_strategy`, `update_strategy`, `delete_strategy`, `backtest_existing_strategy`,
//! `get_backtest`.

use crate::args::Args;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::SettleServer;
use crate::backend::StrategyInput;
use crate::db::NewStrategy;
use crate::model::{
    CanonicalParameter, DailyPoint, HeadlineMetrics, ParameterValue, RunFacts, StrategyRecord,
    TradeRecord, KIND_BACKTEST, KIND_STRATEGY,
};
use crate::ops::{Kickoff, StartError};
use crate::reply::{fix, input_schema, output_schema, reply, Failure, ToolResult};

/// One strategy version as list_strategies and wait_for_completion show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StrategySummary {
    /// `art_`-prefixed id of the version.
    #[serde(rename = "artifact_id")]
    pub artifact_id: String,
    /// The session that owns it.
    #[serde(rename = "session_id")]
    pub session_id: String,
    /// Its number in the chain, from 1.
    pub version: u32,
    /// The version this one was made from; `None` for the first of its chain.
    #[serde(rename = "parent_artifact_id")]
    pub parent_artifact_id: Option<String>,
    /// `creating` while an operation is in flight, otherwise `ready`.
    #[serde(rename = "lifecycle_status")]
    pub lifecycle_status: String,
    /// Root ticker the version trades, e.g. `ES`.
    pub ticker: String,
    /// What the strategy does, in the client's words.
    pub description: String,
    /// `not_tested`, `passed` or `failed`.
    pub backtest_status: String,
    /// The version's tunable numbers: the keys setup_optimization takes.
    pub canonical_parameters: Vec<CanonicalParameter>,
    /// Headline metrics of the latest passed backtest.
    pub backtest_results: Option<HeadlineMetrics>,
    /// The backtest `backtest_results` comes from, if any.
    #[serde(rename = "backtest_id")]
    pub backtest_id: Option<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListStrategiesArgs {
    pub session_id: String,
}

/// The strategy versions of a session.
#[derive(Debug, Serialize)]
pub struct StrategyList {
    /// Every version, oldest first.
    pub strategies: Vec<StrategySummary>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactArgs {
    pub session_id: String,
    pub artifact_id: String,
}

/// One version of a strategy's chain.
#[derive(Debug, Serialize)]
pub struct VersionRef {
    /// The version's id.
    pub artifact_id: String,
    /// Its number in the chain, from 1.
    pub version: u32,
}

/// One strategy version in full.
#[derive(Debug, Serialize)]
pub struct StrategyDetail {
    /// The version as list_strategies shows it.
    pub strategy: StrategySummary,
    /// The full definition (entry and exit rules, parameters) in the strategy language.
    pub definition: Value,
    /// The symbol, bar size, window and costs the version was built with.
    pub symbol: String,
    /// Bar size, e.g. `1d`.
    pub bar_size: String,
    /// The test window in words, when it was given as one.
    pub window: Option<String>,
    /// First date of the test window, when it was given as dates.
    pub start: Option<String>,
    /// Last date of the test window (inclusive), when it was given as dates.
    pub end: Option<String>,
    /// The contract or nearby traded instead of the front month, if any.
    pub contract: Option<String>,
    /// Every version of this strategy's chain, oldest first.
    pub versions: Vec<VersionRef>,
    /// Values the definition got by default, not from the rules (ATR period, window, ...).
    pub filled_defaults: Vec<crate::backend::FilledDefault>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStrategyArgs {
    pub session_id: String,
    /// What the strategy does, in plain words.
    pub description: String,
    /// Root ticker to trade, e.g. `ES` (see list_symbols).
    pub symbol: String,
    /// Bar size: `1m`, `5m`, `1h` or `1d` (default: the rules' or template's, else `1d`).
    pub bar_size: Option<String>,
    /// Trade one contract (`ESZ13`) or nearby (`CL1`) instead of the continuous front month.
    pub contract: Option<String>,
    /// The strategy as a JSON object (describe_rule_language). Or rules_json, or template.
    pub rules: Option<serde_json::Map<String, Value>>,
    /// The same rules as JSON text.
    pub rules_json: Option<String>,
    /// Template name from list_templates. Give this or rules_json.
    pub template: Option<String>,
    /// Parameter values overriding the template's or rules' defaults.
    pub parameters: Option<Vec<ParameterValue>>,
    /// Test window: `last 2 years`, `since 2020`, `ytd`, `all`, `2022-01-01..2023-06-30`
    /// (default `last 1 year`, counted back from the last bar). Or give start/end.
    pub window: Option<String>,
    /// First date, `YYYY-MM-DD`.
    pub start: Option<String>,
    /// Last date, `YYYY-MM-DD`.
    pub end: Option<String>,
    /// Dollars per contract per side (default $2.50, micros $1.00).
    pub commission_per_side: Option<f64>,
    /// Slippage per fill in ticks (default 1).
    pub slippage_ticks: Option<f64>,
    /// Backtest after building (default true).
    pub backtest: Option<bool>,
    /// A retry with the same key returns the first operation.
    pub idempotency_key: Option<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStrategyArgs {
    pub session_id: String,
    pub artifact_id: String,
    /// What changed (the new version's description).
    pub description: Option<String>,
    pub symbol: Option<String>,
    pub bar_size: Option<String>,
    pub contract: Option<String>,
    pub rules: Option<serde_json::Map<String, Value>>,
    pub rules_json: Option<String>,
    pub template: Option<String>,
    /// Values to change; the others are kept.
    pub parameters: Option<Vec<ParameterValue>>,
    pub window: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub commission_per_side: Option<f64>,
    pub slippage_ticks: Option<f64>,
    pub backtest: Option<bool>,
    pub idempotency_key: Option<String>,
}

/// What an asynchronous tool started: the operation to wait for.
#[derive(Debug, Serialize)]
pub struct KickoffOut {
    /// The session the operation belongs to (wait_for_completion and cancel_task take it).
    pub session_id: String,
    /// The operation started (or found again by its idempotency key).
    pub operation_id: String,
    /// What to pass as `task` to wait_for_completion.
    pub task: String,
    /// The operation's status when the call returned.
    pub status: String,
    /// The strategy version the operation works on, if it works on one.
    pub artifact_id: Option<String>,
    /// The sweep the operation runs, if it runs one.
    pub optimization_id: Option<String>,
    /// False when an idempotency_key matched an earlier call: this is that call's operation.
    pub created: bool,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteArgs {
    pub session_id: String,
    pub artifact_id: String,
    /// Must be true: deleting removes the version with its backtests and sweeps.
    pub confirm: bool,
}

/// What a delete did.
#[derive(Debug, Serialize)]
pub struct DeleteOut {
    /// The version deleted.
    pub artifact_id: String,
    /// True when the version was found and deleted.
    pub deleted: bool,
    /// Later versions that pointed at the deleted one; each now points at its parent.
    pub reparented: Vec<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BacktestArgs {
    pub session_id: String,
    pub artifact_id: String,
    pub idempotency_key: Option<String>,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetBacktestArgs {
    pub session_id: String,
    /// The strategy version whose latest backtest to read.
    pub artifact_id: String,
    /// First trade to return (default 0).
    pub trades_offset: Option<u32>,
    /// Trades per page, 0 to 500 (default 10).
    pub trades_limit: Option<u32>,
    /// Add the daily equity curve, at most 250 points keeping the max drawdown (the whole
    /// curve is equity_uri).
    pub include_equity: Option<bool>,
}

/// Trades in one get_backtest answer unless asked otherwise: with the headline and caveats,
/// an answer stays a few KB.
const DEFAULT_TRADES: u32 = 10;
/// Most equity points in one answer.
const EQUITY_POINTS: usize = 250;

/// A version's latest backtest, one page of its trades.
#[derive(Debug, Serialize)]
pub struct BacktestOut {
    /// The backtest's id.
    pub backtest_id: String,
    /// The strategy version it ran.
    pub artifact_id: String,
    /// running, passed, failed or cancelled.
    pub status: String,
    /// Headline numbers of the run; `None` while it runs or after it failed.
    #[serde(rename = "backtestResults")]
    pub backtest_results: Option<HeadlineMetrics>,
    /// What was traded (series, contracts, resolved window, costs) and every caveat.
    #[serde(flatten)]
    pub facts: RunFacts,
    /// Why the run failed, when it did.
    pub error: Option<String>,
    /// Closed trades of the run in all.
    pub trades_total: u64,
    /// Index of the first trade of this page.
    pub trades_offset: u64,
    /// Pass as trades_offset for the next page; absent on the last page.
    pub next_trades_offset: Option<u64>,
    /// This page's trades, in entry order.
    pub trades: Vec<TradeRecord>,
    /// Daily equity when include_equity, at most 250 points (see equity_points_total).
    pub daily_equity: Vec<DailyPoint>,
    /// Points of the whole daily curve (equity_uri has them all).
    pub equity_points_total: u64,
    /// MCP resource with every trade at once (resources/read).
    pub trades_uri: String,
    /// MCP resource with the whole daily equity curve.
    pub equity_uri: String,
    /// The fingerprints that prove the result; the whole manifest is at its `uri`.
    pub manifest: Option<ManifestRef>,
}

/// A result's manifest in brief: the hashes that identify its inputs and the result. The
/// whole manifest (canonical rules, costs, engine options) is in the resource at `uri`, a
/// document `settle rerun` recomputes and compares.
#[derive(Debug, Serialize)]
pub struct ManifestRef {
    /// The settle version that computed the result.
    pub settle_version: String,
    /// Store key and content fingerprint of the series traded.
    pub series: String,
    /// Content fingerprint of the series (see `settle data list`).
    pub series_fingerprint: String,
    /// Hashes of the contract spec, the canonical rules and the full result.
    pub spec_hash: String,
    /// Hash of the canonical rules the strategy ran with.
    pub strategy_hash: String,
    /// Hash of the full result: a rerun that gives the same result gives the same hash.
    pub result_hash: String,
    /// The MCP resource holding the whole manifest.
    pub uri: String,
}

impl ManifestRef {
    /// The brief of `m`, whose whole is the resource `uri`.
    pub(super) fn of(m: &settle_strategies::manifest::Manifest, uri: String) -> ManifestRef {
        ManifestRef {
            settle_version: m.settle_version.clone(),
            series: m.series.key.clone(),
            series_fingerprint: m.series.fingerprint.clone(),
            spec_hash: m.spec_hash.clone(),
            strategy_hash: m.strategy_hash.clone(),
            result_hash: m.result_hash.clone(),
            uri,
        }
    }
}

/// The [`Settings`] of a create_strategy or update_strategy call: both argument structs name
/// the fields alike, so one list serves both (create passes its required symbol separately).
macro_rules! settings_of {
    ($a:ident, symbol: $symbol:expr) => {
        Settings {
            symbol: $symbol,
            bar_size: $a.bar_size,
            contract: $a.contract,
            rules: $a.rules.map(Value::Object),
            rules_json: $a.rules_json,
            template: $a.template,
            parameters: $a.parameters,
            window: $a.window,
            start: $a.start,
            end: $a.end,
            commission_per_side: $a.commission_per_side,
            slippage_ticks: $a.slippage_ticks,
        }
    };
}

#[tool_router(router = strategy_tools, vis = "pub(super)")]
impl SettleServer {
    /// `list_strategies`: the versions of a session. The client reads the `description` of the
    /// attribute below.
    #[tool(
        description = "List the strategy versions of a session with their canonicalParameters (the keys setup_optimization takes) and backtestResults.",
        input_schema = input_schema::<ListStrategiesArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn list_strategies(
        &self,
        Args(args): Args<ListStrategiesArgs>,
    ) -> ToolResult<StrategyList> {
        self.require_session(&args.session_id)?;
        let strategies = self
            .store()
            .list_strategies(&args.session_id)?
            .into_iter()
            .map(|s| self.strategy_summary_from(s))
            .collect::<Result<Vec<_>, _>>()?;
        reply(
            format!("{} strategy version(s).", strategies.len()),
            StrategyList { strategies },
        )
    }

    /// `inspect_strategy`: one version in full. The client reads the `description` of the attribute
    /// below.
    #[tool(
        description = "One strategy version in full: definition (rules, parameters), window, backtest status and its version chain.",
        input_schema = input_schema::<ArtifactArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn inspect_strategy(
        &self,
        Args(args): Args<ArtifactArgs>,
    ) -> ToolResult<StrategyDetail> {
        let s = self.require_strategy(&args.session_id, &args.artifact_id)?;
        let versions = self
            .store()
            .list_strategies(&s.session_id)?
            .into_iter()
            .filter(|v| v.lineage_id == s.lineage_id)
            .map(|v| VersionRef {
                artifact_id: v.artifact_id,
                version: v.version,
            })
            .collect();
        let detail = StrategyDetail {
            filled_defaults: self.backend.filled_defaults(&s.input, &s.definition),
            contract: s.input.contract.clone(),
            definition: s.definition.clone(),
            symbol: s.input.symbol.clone(),
            bar_size: s.input.bar_size.clone(),
            window: s.input.window.clone(),
            start: s.input.start.clone(),
            end: s.input.end.clone(),
            versions,
            strategy: self.strategy_summary_from(s)?,
        };
        reply(
            format!(
                "{} v{} on {} ({}).",
                detail.strategy.artifact_id,
                detail.strategy.version,
                detail.strategy.ticker,
                detail.strategy.backtest_status
            ),
            detail,
        )
    }

    /// `create_strategy`: builds a strategy version, as an operation. The client reads the
    /// `description` of the attribute below.
    #[tool(
        description = "Build a strategy from rules (see describe_rule_language) or a template + parameters, for one symbol, bar size, window and costs; backtests by default. Async: then wait_for_completion.",
        input_schema = input_schema::<CreateStrategyArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn create_strategy(
        &self,
        Args(a): Args<CreateStrategyArgs>,
    ) -> ToolResult<KickoffOut> {
        self.require_session(&a.session_id)?;
        let blank = StrategyInput {
            symbol: a.symbol,
            ..StrategyInput::default()
        };
        let settings = settings_of!(a, symbol: None);
        self.build_version(
            &a.session_id,
            None,
            &a.description,
            settings.apply(blank)?,
            a.backtest.unwrap_or(true),
            a.idempotency_key.as_deref(),
        )
    }

    /// `update_strategy`: saves a new version with some fields changed, as an operation. The client
    /// reads the `description` of the attribute below.
    #[tool(
        description = "Change a strategy: saves a NEW version with the given fields (as create_strategy) changed, the rest kept. Async, like create_strategy.",
        input_schema = input_schema::<UpdateStrategyArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn update_strategy(
        &self,
        Args(a): Args<UpdateStrategyArgs>,
    ) -> ToolResult<KickoffOut> {
        let parent = self.require_strategy(&a.session_id, &a.artifact_id)?;
        let settings = settings_of!(a, symbol: a.symbol);
        let input = settings.apply(parent.input.clone())?;
        let description = a.description.unwrap_or_else(|| parent.description.clone());
        self.build_version(
            &a.session_id,
            Some(&parent),
            &description,
            input,
            a.backtest.unwrap_or(true),
            a.idempotency_key.as_deref(),
        )
    }

    /// `delete_strategy`: deletes one version with its backtests and sweeps. The client reads the
    /// `description` of the attribute below.
    #[tool(
        description = "Delete one strategy version with its backtests and sweeps. Requires confirm: true.",
        input_schema = input_schema::<DeleteArgs>(),
        output_schema = output_schema(),
        // Not idempotent: a repeat answers "not found", it does not succeed again.
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn delete_strategy(&self, Args(a): Args<DeleteArgs>) -> ToolResult<DeleteOut> {
        if !a.confirm {
            return Err(fix(
                "delete_strategy needs confirm: true (ask the user first)",
            ));
        }
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        if s.lifecycle_status == "creating" {
            return Err(fix(format!(
                "{} is still being built: wait_for_completion first, or cancel_task",
                s.artifact_id
            )));
        }
        let (deleted, reparented) = self.store().delete_strategy(&s.artifact_id)?;
        let moved = match (reparented.len(), &s.parent_artifact_id) {
            (0, _) => String::new(),
            (_, Some(p)) => format!(
                " Version(s) {} now descend from {p}, its parent.",
                reparented.join(", ")
            ),
            (_, None) => format!(
                " Version(s) {} now start their chain (it was version 1).",
                reparented.join(", ")
            ),
        };
        reply(
            format!("Deleted {}.{moved}", s.artifact_id),
            DeleteOut {
                artifact_id: s.artifact_id,
                deleted,
                reparented,
            },
        )
    }

    /// `backtest_existing_strategy`: runs a version's backtest again, as an operation. The client
    /// reads the `description` of the attribute below.
    #[tool(
        description = "Re-run one version's backtest in place (no new version). Async: then wait_for_completion(task='backtest').",
        input_schema = input_schema::<BacktestArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    pub async fn backtest_existing_strategy(
        &self,
        Args(a): Args<BacktestArgs>,
    ) -> ToolResult<KickoffOut> {
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        if s.lifecycle_status == "creating" {
            return Err(fix(format!(
                "{} is still being built: wait_for_completion(task='strategy_op') first",
                s.artifact_id
            )));
        }
        self.start_strategy_op(KIND_BACKTEST, s, true, a.idempotency_key.as_deref())
    }

    /// `get_backtest`: a version's latest backtest, one page of trades. The client reads the
    /// `description` of the attribute below.
    #[tool(
        description = "A version's latest backtest: backtestResults, what was traded (series, firstBar..lastBar, costs), every caveat (closeOnly, adjustment, notes: tell the user), the first 10 trades (paged), equity on request.",
        input_schema = input_schema::<GetBacktestArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn get_backtest(&self, Args(a): Args<GetBacktestArgs>) -> ToolResult<BacktestOut> {
        let s = self.require_strategy(&a.session_id, &a.artifact_id)?;
        let limit = a.trades_limit.unwrap_or(DEFAULT_TRADES);
        if limit > 500 {
            return Err(fix(format!(
                "trades_limit must be at most 500, got {limit}"
            )));
        }
        let bt = self.latest_backtest(&s)?;
        let total = bt.trades.len() as u64;
        let offset = u64::from(a.trades_offset.unwrap_or(0)).min(total);
        let end = (offset + u64::from(limit)).min(total);
        let equity_points_total = bt.daily_equity.len() as u64;
        let daily_equity = if a.include_equity.unwrap_or(false) {
            thinned(&bt.daily_equity)
        } else {
            Vec::new()
        };
        let mut facts = bt.facts.unwrap_or_else(|| RunFacts {
            notes: vec![format!(
                "this backtest {} without recording what it traded",
                bt.status
            )],
            ..RunFacts::default()
        });
        let manifest = facts
            .manifest
            .take()
            .map(|m| ManifestRef::of(&m, super::resources::manifest_uri(&bt.backtest_id)));
        let out = BacktestOut {
            manifest,
            trades_uri: super::resources::trades_uri(&bt.backtest_id),
            equity_uri: super::resources::equity_uri(&bt.backtest_id),
            backtest_id: bt.backtest_id,
            artifact_id: bt.artifact_id,
            status: bt.status,
            backtest_results: bt.metrics,
            facts,
            error: bt.error,
            trades_total: total,
            trades_offset: offset,
            next_trades_offset: (end < total).then_some(end),
            trades: bt.trades[offset as usize..end as usize].to_vec(),
            daily_equity,
            equity_points_total,
        };
        let summary = match &out.backtest_results {
            Some(m) => format!(
                "Backtest {} {} on {}: {}.{}",
                out.backtest_id,
                out.status,
                out.facts.window_text(),
                m.text(),
                out.facts.caveat_text()
            ),
            None => format!("Backtest {} {}.", out.backtest_id, out.status),
        };
        reply(summary, out)
    }
}

/// The daily curve cut to [`EQUITY_POINTS`], keeping its maximum drawdown.
fn thinned(curve: &[DailyPoint]) -> Vec<DailyPoint> {
    let values: Vec<f64> = curve.iter().map(|p| p.equity).collect();
    settle_engine::thin::drawdown_preserving(&values, EQUITY_POINTS)
        .into_iter()
        .map(|i| curve[i].clone())
        .collect()
}

impl SettleServer {
    /// The latest backtest of a version, or a tool error saying there is none.
    pub(super) fn latest_backtest(
        &self,
        s: &StrategyRecord,
    ) -> Result<crate::model::BacktestRecord, Failure> {
        let id = s.latest_backtest_id.clone().ok_or_else(|| {
            fix(format!(
                "{} has no backtest yet: call backtest_existing_strategy",
                s.artifact_id
            ))
        })?;
        self.store()
            .get_backtest(&id)?
            .ok_or_else(|| fix(format!("backtest {id} no longer exists")))
    }

    /// The summary shape of one version, with its latest passed metrics.
    pub(super) fn strategy_summary_from(
        &self,
        s: StrategyRecord,
    ) -> Result<StrategySummary, Failure> {
        let backtest_results = match &s.latest_backtest_id {
            Some(id) => self.store().get_backtest(id)?.and_then(|b| b.metrics),
            None => None,
        };
        Ok(StrategySummary {
            artifact_id: s.artifact_id,
            session_id: s.session_id,
            version: s.version,
            parent_artifact_id: s.parent_artifact_id,
            lifecycle_status: s.lifecycle_status,
            ticker: s.ticker,
            description: s.description,
            backtest_status: s.backtest_status,
            canonical_parameters: s.canonical_parameters,
            backtest_results,
            backtest_id: s.latest_backtest_id,
        })
    }

    pub(super) fn strategy_summary(
        &self,
        artifact_id: &str,
    ) -> Result<Option<StrategySummary>, Failure> {
        self.store()
            .get_strategy(artifact_id)?
            .map(|s| self.strategy_summary_from(s))
            .transpose()
    }

    /// Compiles `input` (quick, so errors come back at once), stores the new version as
    /// `creating`, and starts the operation that optionally backtests it.
    fn build_version(
        &self,
        session_id: &str,
        parent: Option<&StrategyRecord>,
        description: &str,
        input: StrategyInput,
        backtest: bool,
        idempotency_key: Option<&str>,
    ) -> ToolResult<KickoffOut> {
        if let Some(key) = idempotency_key {
            if let Some(first) =
                self.store()
                    .find_operation_by_key(session_id, KIND_STRATEGY, key)?
            {
                // The same key is the same request: a retry. Other arguments are a new
                // request that reused the key by mistake, and get no one else's operation.
                let same = self
                    .store()
                    .get_strategy(&first.subject_id)?
                    .is_some_and(|v| {
                        v.input == input
                            && v.description == description
                            && v.parent_artifact_id.as_deref()
                                == parent.map(|p| p.artifact_id.as_str())
                    });
                if !same {
                    return Err(reused_key(key));
                }
                let artifact = Some(first.subject_id.clone());
                return kickoff_reply(first, false, artifact, None);
            }
        }
        let compiled = self.backend.compile(&input)?;
        let artifact = self.store().insert_strategy(
            session_id,
            parent,
            NewStrategy {
                ticker: &compiled.ticker,
                description,
                input: &input,
                definition: &compiled.definition,
                parameters: &compiled.canonical_parameters,
            },
        )?;
        self.start_strategy_op(KIND_STRATEGY, artifact, backtest, idempotency_key)
    }

    /// Starts the `kind` operation on one version: its backtest, or (`backtest` false, a build
    /// only) nothing more than settling the version `ready`. Shared by create_strategy,
    /// update_strategy and backtest_existing_strategy.
    fn start_strategy_op(
        &self,
        kind: &str,
        artifact: StrategyRecord,
        backtest: bool,
        idempotency_key: Option<&str>,
    ) -> ToolResult<KickoffOut> {
        let backend = self.backend.clone();
        let (session_id, artifact_id) = (artifact.session_id.clone(), artifact.artifact_id.clone());
        let (op, created) = self
            .ops
            .start(
                Kickoff {
                    session_id: &session_id,
                    kind,
                    subject_id: &artifact_id,
                    idempotency_key,
                    exclusive: false,
                },
                move |ctx| {
                    if backtest {
                        run_backtest_job(&*backend, ctx, &artifact)
                    } else {
                        Ok(json!({ "artifact_id": artifact.artifact_id }))
                    }
                },
            )
            .map_err(start_failure)?;
        kickoff_reply(op, created, Some(artifact_id), None)
    }
}

/// The settings create_strategy and update_strategy share, as changes to a [`StrategyInput`]:
/// create applies them to a blank input, update to its parent's. One merge for both, so the
/// two tools never read an argument differently.
struct Settings {
    symbol: Option<String>,
    bar_size: Option<String>,
    contract: Option<String>,
    rules: Option<Value>,
    rules_json: Option<String>,
    template: Option<String>,
    parameters: Option<Vec<ParameterValue>>,
    window: Option<String>,
    start: Option<String>,
    end: Option<String>,
    commission_per_side: Option<f64>,
    slippage_ticks: Option<f64>,
}

impl Settings {
    /// `input` with these settings applied. Two ways of saying one thing in the same call
    /// (rules and a template; a window and dates) are an error naming both, never a silent pick.
    fn apply(self, mut input: StrategyInput) -> Result<StrategyInput, Failure> {
        let given: Vec<&str> = [
            (self.rules.is_some(), "rules"),
            (self.rules_json.is_some(), "rules_json"),
            (self.template.is_some(), "template"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if given.len() > 1 {
            return Err(fix(format!(
                "{}: give one of them, not both (rules and rules_json are a whole strategy, as \
                 an object or as text; template a name from list_templates)",
                given.join(", ")
            )));
        }
        if self.window.is_some() && (self.start.is_some() || self.end.is_some()) {
            return Err(fix("window: give either window or start/end, not both"));
        }
        if let Some(v) = self.symbol {
            input.symbol = v;
        }
        if let Some(v) = self.bar_size {
            input.bar_size = v;
        }
        if let Some(c) = self.contract {
            input.contract = Some(c);
        }
        // New rules or a template replace whatever the strategy was built from.
        if self.rules.is_some() || self.rules_json.is_some() || self.template.is_some() {
            (input.rules, input.rules_json, input.template) =
                (self.rules, self.rules_json, self.template);
        }
        // A parameter given again replaces its earlier value; the others keep theirs.
        for p in self.parameters.unwrap_or_default() {
            input.parameters.retain(|q| q.key != p.key);
            input.parameters.push(p);
        }
        // A new window replaces the old dates and new dates replace the old window, so the
        // two ways of saying it never conflict in one version.
        if self.window.is_some() {
            (input.window, input.start, input.end) = (self.window, None, None);
        } else if self.start.is_some() || self.end.is_some() {
            input.window = None;
            input.start = self.start.or(input.start);
            input.end = self.end.or(input.end);
        }
        input.commission_per_side = self.commission_per_side.or(input.commission_per_side);
        input.slippage_ticks = self.slippage_ticks.or(input.slippage_ticks);
        Ok(input)
    }
}

/// The body of every backtest operation: record a running backtest, run it, store it.
fn run_backtest_job(
    backend: &dyn crate::backend::Backend,
    ctx: &crate::ops::JobContext,
    artifact: &StrategyRecord,
) -> crate::ops::JobResult {
    let store = ctx.store();
    let backtest_id = store
        .start_backtest(artifact, ctx.operation_id())
        .map_err(|e| e.to_string())?;
    let output = backend
        .run_backtest(&artifact.definition, ctx)
        .map_err(|e| e.to_string())?;
    store
        .complete_backtest(&backtest_id, &output)
        .map_err(|e| e.to_string())?;
    Ok(json!({ "artifact_id": artifact.artifact_id, "backtest_id": backtest_id }))
}

/// The answer to an idempotency_key sent again with different arguments.
pub(super) fn reused_key(key: &str) -> Failure {
    fix(format!(
        "idempotency_key: '{key}' was first sent with other arguments; a retry must repeat the \
         call exactly, and a new request needs a new key"
    ))
}

pub(super) fn start_failure(e: StartError) -> Failure {
    match e {
        StartError::Busy(id) => fix(format!(
            "operation {id} is already running in this session: wait_for_completion or cancel_task it first"
        )),
        StartError::KeyReused(key) => reused_key(&key),
        StartError::Db(e) => e.into(),
    }
}

pub(super) fn kickoff_reply(
    op: crate::model::OperationRecord,
    created: bool,
    artifact_id: Option<String>,
    optimization_id: Option<String>,
) -> ToolResult<KickoffOut> {
    let summary = format!(
        "{} operation {} ({}). Next: wait_for_completion(session_id='{}', operation_id='{}', \
         task='{}').",
        if created {
            "Started"
        } else {
            "Already started:"
        },
        op.operation_id,
        op.status.as_str(),
        op.session_id,
        op.operation_id,
        op.kind
    );
    reply(
        summary,
        KickoffOut {
            session_id: op.session_id,
            operation_id: op.operation_id,
            task: op.kind,
            status: op.status.as_str().to_string(),
            artifact_id,
            optimization_id,
            created,
        },
    )
}
