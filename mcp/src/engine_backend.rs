//! The real [`Backend`]: strategies in the settle rule language (`settle-strategies`), bars
//! from the local store (`settle-data`), backtests by `settle-engine`.
//!
//! The stored definition is the full [`Strategy`] JSON after the client's symbol, bar size,
//! window, costs and parameter overrides are applied, so a version re-runs identically
//! without the input that built it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use settle_data::store::Store;
use settle_data::{Bars, DataError};
use settle_engine::sweep::{Grid, Param, SweepSpec};
use settle_engine::words::json_name;
use settle_engine::{BacktestConfig, EquityCurve};
use settle_strategies::guards::{guarded_sweep, GuardPlan, GuardedSweepError, Guards};
use settle_strategies::manifest::{self, AssessmentInputs, Manifest, SweepInputs};
use settle_strategies::rules::{self, Compiled, Strategy, ValidationError};
use settle_strategies::run::{self, Overrides, Ran, RunError};
use settle_strategies::sweep::Evaluator;
use settle_strategies::sweep_document;
use settle_strategies::{language, templates};

use crate::backend::{
    Backend, BackendError, BackendResult, BacktestOutput, BestDeflatedSharpe, CompiledStrategy,
    DatasetInfo, FilledDefault, Job, Pick, RowSink, StrategyInput, SweepEnd, TemplateInfo,
};
use crate::model::{
    CanonicalParameter, DailyPoint, HeadlineMetrics, OptimizationRow, ParameterValue, RunFacts,
    TradeRecord,
};

/// The engine behind the MCP tools, reading series from one store.
pub struct EngineBackend {
    store: Store,
}

impl EngineBackend {
    /// Opens the bar store under `home` (the same `$SETTLE_HOME` as `settle data import`).
    pub fn open(home: &Path) -> anyhow::Result<EngineBackend> {
        Ok(EngineBackend {
            store: Store::open(home)?,
        })
    }

    /// The continuous series `c` trades, from the store; a load failure is worded so the
    /// model knows how to get the data.
    fn series(&self, c: &Compiled) -> BackendResult<Bars> {
        let (sym, bar) = (&c.strategy.symbol, c.bar_size);
        let contract = c.strategy.contract.as_deref();
        c.series(&self.store).map_err(|e| match e {
            DataError::NotFound(_) => BackendError::MissingSeries(format!(
                "no {} {sym} {bar} series in the local data store; list_datasets shows the \
                 series there are (symbol, contract, bar size)",
                contract.unwrap_or("continuous")
            )),
            e => BackendError::Internal(format!(
                "loading the {sym} {bar} series from the local data store: {e}"
            )),
        })
    }

    /// Backtests `c` on its series with the daily curve only (the per-bar one, 16 bytes a
    /// bar, 16 MB for a million minutes, is not built); `ctx`, when given, may cancel it
    /// between its steps. The same path as `settle backtest`: [`run::backtest`].
    fn backtest(&self, c: Compiled, ctx: Option<&dyn Job>) -> BackendResult<Ran> {
        let bars = self.series(&c)?;
        let cancelled = || ctx.is_some_and(|c| c.is_cancelled());
        run::backtest(c, bars, Some(EquityCurve::Daily), &cancelled).map_err(|e| match e {
            RunError::Cancelled => {
                BackendError::Cancelled("cancelled before the backtest ran".into())
            }
            RunError::Invalid(_) => BackendError::Invalid(e.to_string()),
            RunError::Signals(_) | RunError::Engine(_) => BackendError::Run(e.to_string()),
        })
    }
}

impl Backend for EngineBackend {
    fn compile(&self, input: &StrategyInput) -> BackendResult<CompiledStrategy> {
        let base = base_strategy(input)?;
        let c = overrides(input)?
            .compile(base)
            .map_err(|e| BackendError::Invalid(invalid(&e)))?;
        Ok(CompiledStrategy {
            ticker: c.strategy.symbol.clone(),
            definition: to_json(&c.strategy),
            canonical_parameters: canonical(&c.strategy),
        })
    }

    fn run_backtest(&self, definition: &Value, ctx: &dyn Job) -> BackendResult<BacktestOutput> {
        let ran = self.backtest(compile(definition)?, Some(ctx))?;
        let manifest = Manifest::of_backtest(&ran);
        let Ran { cfg, result: r, .. } = ran;
        Ok(BacktestOutput {
            metrics: headline(&r.metrics),
            facts: RunFacts {
                manifest: Some(manifest),
                ..facts(&r, &cfg)
            },
            trades: r.trades.iter().map(trade).collect(),
            daily_equity: r
                .daily_equity
                .iter()
                .map(|d| DailyPoint {
                    date: d.date.to_string(),
                    equity: d.equity,
                })
                .collect(),
        })
    }

    /// The CLI's sweep and guards (`settle sweep`): bars loaded once, indicators shared by
    /// every combination through the [`Evaluator`], combinations spread over rayon by
    /// [`settle_strategies::guards::guarded_sweep`]. The workers only send finished rows down
    /// a channel; this thread stays the single writer, handing them to `on_rows` in batches while it also turns
    /// `cancel_task` into the sweep's stop flag.
    fn run_sweep(
        &self,
        definition: &Value,
        grid: &Grid,
        spec: &SweepSpec,
        plan: &GuardPlan,
        ctx: &dyn Job,
        on_rows: &mut RowSink<'_>,
    ) -> BackendResult<SweepEnd> {
        let c = compile(definition)?;
        let bars = self.series(&c)?;
        let cfg = rules::to_config(&c);
        let evaluator = Evaluator::new(c, &bars)
            .map_err(|e| BackendError::Run(format!("preparing the sweep: {}", e.reason())))?;
        let inputs = SweepInputs {
            grid: grid
                .keys()
                .iter()
                .zip(grid.values())
                .map(|(key, values)| {
                    let p = Param::List {
                        key: key.clone(),
                        values: values.clone(),
                    };
                    p.to_string()
                })
                .collect(),
            objective: spec.objective.to_string(),
            constraints: spec.constraints.iter().map(ToString::to_string).collect(),
            guards: Some(*plan),
            top: sweep_document::DEFAULT_TOP,
        };
        let manifest = sweep_document::manifest(&evaluator, &bars, &cfg, inputs)
            .map_err(|e| BackendError::Run(format!("preparing the sweep: {}", e.reason())))?;
        let stop = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|scope| {
            let writer = scope.spawn(|| write_rows(rx, grid, ctx, &stop, on_rows));
            // The sweep runs on this thread, so a caller's `ThreadPool::install` picks the pool.
            let swept = guarded_sweep(
                &evaluator,
                &cfg,
                grid,
                spec,
                Some(plan),
                &stop,
                &|_| {},
                // A send fails only once the writer gave up on an error it will return.
                &|index, outcome| drop(tx.send((index, outcome.clone()))),
                &|_| {},
            );
            drop(tx);
            writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            let swept = swept.map_err(|e| match e {
                GuardedSweepError::Holdout(_) | GuardedSweepError::WalkForward(_) => {
                    BackendError::Invalid(e.to_string())
                }
                GuardedSweepError::Run(_) => BackendError::Run(e.to_string()),
            })?;
            let result = &swept.result;
            // The best combination's run (or the first's, when none ranks) says what the sweep
            // traded and its caveats.
            let best = result.best_result.as_ref();
            let params = best.map_or_else(|| grid.params(0), |b| b.params.clone());
            let run = evaluator.backtest_in(&params, Some(swept.window), EquityCurve::Daily);
            let facts = run.as_ref().ok().map(|r| facts(r, &cfg));
            let mut end = SweepEnd {
                best_combo_index: best.map(|b| b.index as u64),
                facts,
                document: (!result.cancelled)
                    .then(|| sweep_document::document(result, swept.guards.as_ref(), &manifest)),
                ..SweepEnd::default()
            };
            match (&swept.guards, best) {
                (None, _) => {
                    end.deflated_sharpe_unavailable = Some(
                        "the sweep was cancelled; only a complete grid's best is judged".into(),
                    )
                }
                (Some(g), best) => {
                    end.deflated_sharpe =
                        g.deflated_sharpe
                            .as_ref()
                            .zip(best)
                            .map(|(d, b)| BestDeflatedSharpe {
                                combo_index: b.index as u64,
                                deflated_sharpe: d.deflated_sharpe,
                                trials: d.trials as u64,
                                sharpe: d.best.sharpe,
                                expected_max_sharpe: d.expected_max_sharpe,
                            });
                    end.deflated_sharpe_unavailable = end
                        .deflated_sharpe
                        .is_none()
                        .then(|| unavailable(g, "deflatedSharpe"));
                    end.pbo = g.pbo.as_ref().map(|p| p.pbo);
                    end.holdout = g
                        .holdout
                        .as_ref()
                        .map(|h| headline(&h.out_of_sample_metrics));
                    end.walk_forward = g
                        .walk_forward
                        .as_ref()
                        .and_then(|w| w.stitched_metrics.as_ref())
                        .map(headline);
                    end.guard_lines = g.lines(&spec.objective.metric);
                }
            }
            Ok(end)
        })
    }

    fn report(&self, definition: &Value) -> BackendResult<(String, HeadlineMetrics)> {
        let ran = self.backtest(compile(definition)?, None)?;
        let page = settle_strategies::report::backtest_html(&ran, None)
            .map_err(|e| BackendError::Internal(format!("the report: {e}")))?;
        Ok((page, headline(&ran.result.metrics)))
    }

    fn assess(&self, definition: &Value, pick: &Pick) -> BackendResult<Value> {
        let c = if pick.parameters.is_empty() {
            compile(definition)?
        } else {
            let kv: Vec<(&str, f64)> = pick
                .parameters
                .iter()
                .map(|(k, v)| (k.as_str(), *v))
                .collect();
            rules::compile_with(&from_definition(definition)?, &kv).map_err(|e| {
                BackendError::Invalid(format!(
                    "the sweep's best: {}",
                    e.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
            })?
        };
        let ran = self.backtest(c, None)?;
        let assessment = settle_strategies::assess::assess(&ran, pick.trials, pick.pbo, &|| false)
            .map_err(|e| BackendError::Run(e.to_string()))?;
        let inputs = AssessmentInputs {
            trials: pick.trials,
            pbo: pick.pbo,
        };
        serde_json::from_str(&manifest::assessment_json(&ran, &assessment, inputs))
            .map_err(|e| BackendError::Internal(format!("the assessment: {e}")))
    }

    fn templates(&self) -> Vec<TemplateInfo> {
        templates::all()
            .into_iter()
            .map(|t| TemplateInfo {
                name: t.name.to_string(),
                description: t.description.to_string(),
                parameters: canonical(&t.strategy),
            })
            .collect()
    }

    fn filled_defaults(&self, input: &StrategyInput, definition: &Value) -> Vec<FilledDefault> {
        let Ok(s) = from_definition(definition) else {
            return Vec::new();
        };
        // What the client wrote: its rules, or the template it named (a whole strategy).
        let raw = match (&input.rules, &input.rules_json, &input.template) {
            (Some(v), _, _) => v.clone(),
            (None, Some(text), _) => language::json_text(text).unwrap_or_default(),
            (None, None, Some(name)) => templates::get(name, &input.symbol)
                .map(|t| to_json(&t))
                .unwrap_or_default(),
            (None, None, None) => Value::Null,
        };
        language::filled_defaults(&raw, &s)
            .into_iter()
            .map(|d| FilledDefault {
                path: d.path,
                value: d.value,
                why: d.why,
            })
            .collect()
    }

    fn import(
        &self,
        file: &Path,
        columns: Option<&settle_data::import::CsvOptions>,
    ) -> BackendResult<Vec<DatasetInfo>> {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let bars = settle_data::import::read_file(file, columns)
            .map_err(|e| BackendError::Invalid(e.to_string()))?;
        let entries = self
            .store
            .import(&bars)
            .map_err(|e| BackendError::Internal(format!("storing {name}: {e}")))?;
        Ok(entries.into_iter().map(dataset_info).collect())
    }

    fn datasets(&self) -> BackendResult<Vec<DatasetInfo>> {
        let entries = self
            .store
            .list()
            .map_err(|e| BackendError::Internal(format!("reading the local data store: {e}")))?;
        Ok(entries.into_iter().map(dataset_info).collect())
    }
}

/// A store entry as the tools show it.
fn dataset_info(e: settle_data::store::Entry) -> DatasetInfo {
    DatasetInfo {
        symbol: e.symbol,
        kind: e.kind,
        contract: e.contract,
        bar_size: e.bar_size.to_string(),
        first: e.first,
        last: e.last,
        rows: e.rows as u64,
        close_only: e.close_only,
        adjustment: e.adjustment,
    }
}

/// How often the row writer looks at `cancel_task` while no row arrives.
const CANCEL_POLL: Duration = Duration::from_millis(20);
/// Most rows written in one batch (one SQLite transaction).
const MAX_BATCH: usize = 512;

/// The writer's side of [`EngineBackend::run_sweep`]: until the workers are done, hands each
/// batch of finished rows (all that arrived while the previous one was written) to `on_rows`,
/// reports progress, and sets `stop` once the operation is cancelled or `on_rows` fails.
fn write_rows(
    rx: mpsc::Receiver<(usize, Result<settle_engine::Metrics, String>)>,
    grid: &Grid,
    ctx: &dyn Job,
    stop: &AtomicBool,
    on_rows: &mut RowSink<'_>,
) -> BackendResult<()> {
    let total = grid.total_combinations() as u64;
    let mut done = 0u64;
    let mut failure = None;
    loop {
        let first = match rx.recv_timeout(CANCEL_POLL) {
            Ok(finished) => Some(finished),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        if ctx.is_cancelled() {
            stop.store(true, Ordering::Relaxed);
        }
        let Some(first) = first else { continue };
        let batch: Vec<OptimizationRow> = std::iter::once(first)
            .chain(rx.try_iter().take(MAX_BATCH - 1))
            .map(|(index, outcome)| sweep_row(grid, index, outcome))
            .collect();
        if failure.is_some() {
            continue;
        }
        match on_rows(&batch) {
            Ok(()) => {
                done += batch.len() as u64;
                ctx.progress(done, total);
            }
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                failure = Some(e);
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

/// Why guard `name` was not computed, from the guards' own list.
fn unavailable(g: &Guards, name: &str) -> String {
    g.unavailable
        .iter()
        .find_map(|u| u.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
        .unwrap_or("not computed")
        .to_string()
}

/// Combination `index` of `grid` and its outcome, as the server stores it.
fn sweep_row(
    grid: &Grid,
    index: usize,
    outcome: Result<settle_engine::Metrics, String>,
) -> OptimizationRow {
    OptimizationRow {
        combo_index: index as u64,
        parameters: grid
            .params(index)
            .into_iter()
            .map(|(key, value)| ParameterValue { key, value })
            .collect(),
        metrics: outcome.as_ref().ok().map(headline),
        error: outcome.err(),
    }
}

/// The strategy the client started from: its rules (an object or JSON text, read as
/// `settle strategy check` reads files, with the call's symbol and bar size filled in or held
/// against the rules'), or a template.
fn base_strategy(input: &StrategyInput) -> BackendResult<Strategy> {
    let (argument, rules) = match (&input.rules, &input.rules_json, &input.template) {
        (Some(v), _, _) => ("rules", v.clone()),
        (None, Some(text), _) => (
            "rules_json",
            language::json_text(text)
                .map_err(|e| BackendError::Invalid(invalid_in("rules_json", &e)))?,
        ),
        (None, None, Some(name)) => {
            return templates::get(name, &input.symbol).ok_or_else(|| {
                BackendError::Invalid(format!(
                    "template: no template `{name}`; valid: {} (see list_templates)",
                    templates::names().join(", ")
                ))
            })
        }
        (None, None, None) => {
            return Err(BackendError::Invalid(
                "give rules (a strategy object: describe_rule_language shows how), \
                 rules_json (the same as text) or template (a name from list_templates)"
                    .into(),
            ))
        }
    };
    let stated = |key: &str| rules.get(key).is_some();
    let bar_size = match (input.bar_size.is_empty(), stated("bar_size")) {
        (false, _) => Some(input.bar_size.clone()),
        (true, true) => None,
        (true, false) => Some("1d".to_string()),
    };
    let context = language::Context {
        // A strategy needs a name; the call has none to hold it against.
        name: (!stated("name")).then(|| format!("{} rules", input.symbol.trim())),
        symbol: Some(input.symbol.clone()),
        bar_size,
    };
    language::parse_rules(&rules, &context)
        .map_err(|e| BackendError::Invalid(invalid_in(argument, &e)))
}

/// Rule problems as lines of `argument/json/pointer: message`, so the model knows which
/// argument and which place in it to fix.
fn invalid_in(argument: &str, errors: &[ValidationError]) -> String {
    let lines: Vec<String> = errors
        .iter()
        .map(|e| format!("  {argument}{}: {}", e.path, e.message))
        .collect();
    format!(
        "the strategy is invalid; fix these and call again:\n{}",
        lines.join("\n")
    )
}

/// The call's symbol, bar size, window, contract, costs and parameter values as the
/// library's [`Overrides`]. The window and the slippage are checked here, so a bad one fails
/// the call at once, naming the argument, rather than the operation later.
fn overrides(input: &StrategyInput) -> BackendResult<Overrides> {
    let slippage_ticks = match input.slippage_ticks {
        Some(t) if !(t.is_finite() && t >= 0.0 && t.fract() == 0.0 && t <= f64::from(u32::MAX)) => {
            return Err(BackendError::Invalid(format!(
                "slippage_ticks: {t} is not valid; expected a whole number of ticks, 0 or more"
            )))
        }
        t => t.map(|t| t as u32),
    };
    Ok(Overrides {
        symbol: Some(input.symbol.clone()),
        bar_size: (!input.bar_size.is_empty()).then(|| input.bar_size.clone()),
        window: window(input)?,
        contract: input.contract.clone(),
        commission_per_side: input.commission_per_side,
        slippage_ticks,
        parameters: input
            .parameters
            .iter()
            .map(|p| (p.key.clone(), p.value))
            .collect(),
    })
}

/// The rule-language window for the tool's `window` words or `start`/`end` dates; `None`
/// keeps the strategy's own.
fn window(input: &StrategyInput) -> BackendResult<Option<String>> {
    let (start, end) = (input.start.as_deref(), input.end.as_deref());
    let text = match (&input.window, start, end) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(BackendError::Invalid(
                "window: give either window or start/end, not both".into(),
            ))
        }
        (Some(w), None, None) => w.clone(),
        (None, None, None) => return Ok(None),
        (None, Some(s), None) => format!("since {s}"),
        // The engine's date window needs a first date; one before any data means "from the start".
        (None, s, Some(e)) => format!("{}..{e}", s.unwrap_or("1900-01-01")),
    };
    let argument = if input.window.is_some() {
        "window"
    } else {
        "start/end"
    };
    let parsed: settle_engine::Window = text
        .parse()
        .map_err(|e| BackendError::Invalid(format!("{argument}: {e}")))?;
    Ok(Some(parsed.to_string()))
}

/// The stored `definition`, compiled.
fn compile(definition: &Value) -> BackendResult<Compiled> {
    rules::compile(&from_definition(definition)?).map_err(|e| BackendError::Invalid(invalid(&e)))
}

/// Every validation problem on its own line, as `JSON path: message`, so the model can fix
/// them all in one retry.
fn invalid(errors: &[ValidationError]) -> String {
    let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    format!(
        "the strategy is invalid; fix these and call again:\n{}",
        lines.join("\n")
    )
}

fn from_definition(definition: &Value) -> BackendResult<Strategy> {
    serde_json::from_value(definition.clone()).map_err(|e| {
        BackendError::Internal(format!(
            "stored definition is not a valid settle strategy: {e}"
        ))
    })
}

/// A `Strategy` is plain data (strings, numbers, enums), so writing it as JSON cannot fail.
fn to_json(s: &Strategy) -> Value {
    serde_json::to_value(s).unwrap_or_default()
}

fn canonical(s: &Strategy) -> Vec<CanonicalParameter> {
    s.parameters
        .iter()
        .map(|p| CanonicalParameter {
            key: p.key.clone(),
            label: p.label.clone(),
            value: p.value,
            category: json_name(&p.category),
            min: Some(p.min),
            max: Some(p.max),
            integer: p.integer,
        })
        .collect()
}

/// The AskFutures headline numbers; the engine's undefined ratios stay `None` (null).
fn headline(m: &settle_engine::Metrics) -> HeadlineMetrics {
    HeadlineMetrics {
        trade_count: u64::from(m.trade_count),
        total_pnl: unsigned_zero(m.total_pnl),
        win_rate: m.win_rate.map(unsigned_zero),
        max_drawdown: unsigned_zero(m.max_drawdown),
        sharpe_ratio: m.sharpe_ratio.map(unsigned_zero),
        profit_factor: m.profit_factor.map(unsigned_zero),
    }
}

/// `x`, with -0.0 written as 0.0: "-0" in an answer reads as a loss that is not there.
fn unsigned_zero(x: f64) -> f64 {
    x + 0.0
}

/// What the run traded and its caveats, from the engine's result.
fn facts(r: &settle_engine::BacktestResult, cfg: &BacktestConfig) -> RunFacts {
    RunFacts {
        series: r.series.clone(),
        contracts: r.contracts.clone(),
        window: r.window.to_string(),
        first_bar: json_name(&r.first_bar),
        last_bar: json_name(&r.last_bar),
        bars: r.bars as u64,
        return_days: u64::from(r.metrics.return_days),
        close_only: r.close_only,
        adjustment: r.adjustment.clone(),
        starting_capital: cfg.starting_capital,
        commission_per_side: r.commission_per_side,
        slippage_ticks: cfg.slippage_ticks,
        skipped_entries: r.skipped_entries,
        notes: r.notes.clone(),
        manifest: None,
    }
}

fn trade(t: &settle_engine::Trade) -> TradeRecord {
    TradeRecord {
        entry_time: json_name(&t.entry_time),
        exit_time: json_name(&t.exit_time),
        side: json_name(&t.side),
        quantity: t.contracts as f64,
        contract: t.contract.to_string(),
        rolls: t.rolls,
        entry_price: t.entry_price,
        exit_price: t.exit_price,
        commission: t.commission,
        slippage: t.slippage,
        pnl: unsigned_zero(t.net_pnl),
        exit_reason: json_name(&t.exit_reason),
    }
}
